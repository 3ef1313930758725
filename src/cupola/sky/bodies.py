"""The Sun, the Moon and the bright planets seen from the station.

Positions: JPL DE421 (``skyfield-data``) barycentric vectors read through skyfield's kernel
reader. Directions are *apparent* in the sense of skyfield's ``observe().apparent()``:
- light time: the body is taken at t - tau, tau = |body(t - tau) - station(t)| / c, iterated
  (tau is 1.3 s for the Moon, minutes for the planets; leaving it out moves the Moon by ~0.7"
  and the planets by up to ~35");
- aberration: relativistic, from the station's barycentric velocity (Earth's from DE421 plus
  the orbital velocity), ~20" + ~5";
- not applied: gravitational light deflection by the Sun (< 0.05" for a planet more than 10 deg
  from the Sun) and by the planets.
Then GCRS -> TEME with skyfield's TEME rotation (evaluated at each instant).

Earth blocking: the WGS84 ellipsoid grown by the same opaque atmosphere as the stars
(:data:`cupola.sky.stars.ATMOSPHERE_KM`), tested at the body's centre with
:func:`cupola.view.earth_blocks`; `limb_margin_deg` is the centre's angular height above that
limb (compare it with `radius_deg` for discs half set).

Magnitudes: planets from Mallama & Hilton (2018, "Computing apparent planetary magnitudes for
The Astronomical Almanac", Astronomy and Computing 25, 10; eqs. 2-12, Saturn with its rings,
Mars without the rotation/orbit corrections of +/-0.06 mag) with the true Sun (skyfield places
the Sun at the barycentre, which shifts Mercury by up to ~0.05 mag); the Sun as
V = -26.74 + 5 log10(d / 1 au) (Allen's Astrophysical Quantities); the Moon as
V = -12.73 + 0.026 |i| + 4e-9 i^4 at its mean distance (Allen 1976; i = phase angle in
degrees), plus 5 log10(d / 384,400 km).

The Moon's orientation (`frame_teme`, the Moon only): the IAU WGCCRE 2009 rotation model
(Archinal et al. 2011, Celest. Mech. Dyn. Astr. 109, 101, table 2: the pole's RA/Dec and the prime
meridian W with the 13 nutation/libration terms E1-E13), which gives the mean-Earth/polar-axis frame
(the frame of the lunar maps, x toward the mean sub-Earth point) to ~0.01 deg, so the face turned to
the station carries the optical libration (+-7.9 deg in longitude, +-6.9 deg in latitude) and the
physical libration (~0.03 deg) as well as the position angle of the axis. The small parallax of
the station (up to ~1 deg from the Earth's centre) is in the viewing geometry, not in this frame.
"""

from __future__ import annotations

import functools
import io
import math
from dataclasses import dataclass

import numpy as np

from .._index import shaped as instant_shaped
from ..constants import AU_KM, C_AU_DAY
from ..frames import unit
from ..photometry import moon_vmag, sun_vmag
from ..timebase import timescale
from ..view import azel_deg, earth_blocks
from .stars import (
    ATMOSPHERE_KM,
    _observer_bary,
    _skyfield_frame,
    aberrate,
    limb_margin_deg,
    observer_frame,
)

# name -> DE421 target
BODY_KEYS = {
    "sun": "sun",
    "moon": "moon",
    "mercury": "mercury",
    "venus": "venus",
    "mars": "mars",
    "jupiter": "jupiter barycenter",
    "saturn": "saturn barycenter",
}

# B-V colour indices: planets from Allen's Astrophysical Quantities, 4th ed., Table 12.19 and
# Mallama 2018; the Sun 0.65 (Ramirez et al. 2012), the Moon 0.92 (Allen, Table 12.12).
BODY_BV = {"sun": 0.65, "moon": 0.92, "mercury": 0.93, "venus": 0.82, "mars": 1.36, "jupiter": 0.83, "saturn": 1.04}

# Mean (Sun, Moon: IAU 2015 B3 nominal / IAU WGCCRE 2009 mean) or equatorial radii, km.
RADIUS_KM = {
    "sun": 695_700.0, "moon": 1_737.4, "mercury": 2_440.53, "venus": 6_051.8,
    "mars": 3_396.19, "jupiter": 71_492.0, "saturn": 60_268.0,
}

MOON_PHASES = (
    "new", "waxing crescent", "first quarter", "waxing gibbous",
    "full", "waning gibbous", "last quarter", "waning crescent",
)

# Saturn's north pole, IAU WGCCRE 2009: RA 40.589 deg, Dec 83.537 deg (ICRS).
_SAT_RA, _SAT_DEC = math.radians(40.589), math.radians(83.537)
SATURN_POLE_ICRS = np.array([
    math.cos(_SAT_DEC) * math.cos(_SAT_RA), math.cos(_SAT_DEC) * math.sin(_SAT_RA), math.sin(_SAT_DEC),
])
# Ecliptic north pole in ICRS, obliquity at J2000 84381.406" (IAU 2006).
_EPS = math.radians(84381.406 / 3600.0)
ECLIPTIC_POLE_ICRS = np.array([0.0, -math.sin(_EPS), math.cos(_EPS)])


@dataclass(frozen=True, eq=False)
class Body:
    """One body seen from the station; arrays shaped like the state's instants.

    `illuminated_fraction`/`phase_angle_deg` are NaN for the Sun; `phase_name` is set for the
    Moon only (a str for one instant, an object array otherwise).
    """

    name: str
    kind: str  # 'sun', 'moon' or 'planet'
    bv: float  # B-V colour index (the body's colour when drawn)
    dir_teme: np.ndarray  # apparent unit vector (..., 3)
    distance_km: np.ndarray  # light-time corrected
    az_deg: np.ndarray
    el_deg: np.ndarray
    above_limb: np.ndarray  # bool: centre not hidden by Earth + atmosphere
    limb_margin_deg: np.ndarray  # centre above (+) or behind (-) the limb
    radius_deg: np.ndarray  # apparent angular radius
    vmag: np.ndarray
    phase_angle_deg: np.ndarray
    illuminated_fraction: np.ndarray
    phase_name: object = None
    frame_teme: np.ndarray | None = None  # the Moon only: rows x, y, z of its body frame in TEME (..., 3, 3)


# -- magnitudes (Mallama & Hilton 2018) ---------------------------------------------------------
def _poly(x, coeffs):
    out = np.zeros_like(x)
    for c in coeffs[::-1]:
        out = out * x + c
    return out


def planet_vmag(name: str, r_au, delta_au, phase_deg, saturn_sub_lat_deg=None) -> np.ndarray:
    """Return the V magnitude of a planet (Mallama & Hilton 2018, Astronomy and Computing 25, 10).

    Args:
        name: 'mercury', 'venus', 'mars', 'jupiter' or 'saturn'.
        r_au: Sun-planet distance; delta_au: observer-planet distance; phase_deg: phase angle.
        saturn_sub_lat_deg: for Saturn, the geometric mean of the saturnicentric latitudes of
            the Sun and the observer (0 when their signs differ).
    Returns:
        V (NaN outside the published phase-angle range for Saturn, beyond 6.5 deg).
    """
    r, d, a = (np.asarray(x, float) for x in (r_au, delta_au, phase_deg))
    dist = 5.0 * np.log10(r * d)
    if name == "mercury":  # eq. 2
        return -0.613 + dist + _poly(a, [0.0, 6.3280e-02, -1.6336e-03, 3.3644e-05, -3.4265e-07,
                                        1.6893e-09, -3.0334e-12])
    if name == "venus":  # eqs. 3, 4
        low = _poly(a, [0.0, -1.044e-03, 3.687e-04, -2.814e-06, 8.938e-09])
        high = _poly(a, [236.05828 + 4.384, -2.81914e00, 8.39034e-03])
        return -4.384 + dist + np.where(a < 163.7, low, high)
    if name == "mars":  # eqs. 6, 7
        low = -1.601 + 2.267e-02 * a - 1.302e-04 * a * a
        high = -0.367 - 0.02573 * a + 0.0003445 * a * a
        return dist + np.where(a <= 50.0, low, high)
    if name == "jupiter":  # eqs. 8, 9
        low = -9.395 - 3.7e-04 * a + 6.16e-04 * a * a
        x = a / 180.0
        high = -9.428 - 2.5 * np.log10(_poly(x, [1.0, -1.507, -0.363, -0.062, 2.809, -1.876]))
        return dist + np.where(a <= 12.0, low, high)
    if name == "saturn":  # eq. 10, globe and rings
        beta = np.radians(np.asarray(saturn_sub_lat_deg, float))
        v = -8.914 - 1.825 * np.sin(beta) + 0.026 * a - 0.378 * np.sin(beta) * np.exp(-2.25 * a)
        ok = (a <= 6.5) & (np.degrees(beta) <= 27.0)
        return np.where(ok, v + dist, np.nan)
    raise ValueError(f"no magnitude formula for {name!r}; use one of mercury, venus, mars, jupiter, saturn")


def _saturn_sub_lat(sun_to_planet, obs_to_planet):
    def lat(v):
        return 90.0 - np.degrees(np.arccos(np.clip(unit(v) @ SATURN_POLE_ICRS, -1.0, 1.0)))

    p = lat(sun_to_planet) * lat(obs_to_planet)
    return np.where(p >= 0.0, np.sqrt(np.abs(p)), 0.0)


# Named phases are moments; a name is given within these illuminated-fraction margins of them
# (about a day either side), otherwise crescent or gibbous.
MOON_NEW_FULL_MARGIN = 0.03
MOON_QUARTER_MARGIN = 0.05


def moon_phase_name(phase_angle_deg, waxing) -> np.ndarray:
    """Return the Moon's phase name from the phase angle (deg) and whether it is waxing.

    'new' and 'full' within 3 % of illumination of 0 and 1, 'first/last quarter' within 5 % of
    half lit (about a day around each moment); otherwise 'waxing/waning crescent/gibbous'.
    """
    i = np.asarray(phase_angle_deg, float)
    wax = np.asarray(waxing, bool)
    frac = 0.5 * (1.0 + np.cos(np.radians(i)))
    side = np.where(wax, "waxing", "waning")
    shape = np.where(frac < 0.5, "crescent", "gibbous")
    name = np.char.add(np.char.add(side, " "), shape).astype(object)
    name = np.where(np.abs(frac - 0.5) < MOON_QUARTER_MARGIN, np.where(wax, "first quarter", "last quarter"), name)
    name = np.where(frac < MOON_NEW_FULL_MARGIN, "new", name)
    name = np.where(frac > 1.0 - MOON_NEW_FULL_MARGIN, "full", name)
    return np.where(np.isfinite(i), name, "").astype(object)


_MOON_E = np.array([  # E1..E13: (deg at J2000, deg/day), Archinal et al. 2011, table 2
    (125.045, -0.0529921), (250.089, -0.1059842), (260.008, 13.0120009), (176.625, 13.3407154),
    (357.529, 0.9856003), (311.589, 26.4057084), (134.963, 13.0649930), (276.617, 0.3287146),
    (34.226, 1.7484877), (15.134, -0.1589763), (119.743, 0.0036096), (239.961, 0.1643573),
    (25.053, 12.9590088),
])
_MOON_RA_SIN = np.array([-3.8787, -0.1204, 0.0700, -0.0172, 0.0, 0.0072, 0.0, 0.0, 0.0, -0.0052, 0.0, 0.0, 0.0043])
_MOON_DEC_COS = np.array([1.5419, 0.0239, -0.0278, 0.0068, 0.0, -0.0029, 0.0009, 0.0, 0.0, 0.0008, 0.0, 0.0, -0.0009])
_MOON_W_SIN = np.array([3.5610, 0.1208, -0.0642, 0.0158, 0.0252, -0.0066, -0.0047, -0.0046, 0.0028, 0.0052,
                        0.0040, 0.0019, -0.0044])


def moon_orientation(tdb_days_from_j2000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the Moon's north pole (RA, Dec, deg, ICRS) and prime meridian angle W (deg) at TDB
    days `d` from J2000 (IAU WGCCRE 2009: Archinal et al. 2011, table 2; module docstring)."""
    d = np.asarray(tdb_days_from_j2000, float)
    t = d / 36525.0
    e = np.radians(_MOON_E[:, 0] + _MOON_E[:, 1] * d[..., None])
    # Sums per instant (not matrix products, whose summation order depends on how many instants there
    # are): a series and its single instants agree to the last bit.
    ra = 269.9949 + 0.0031 * t + (np.sin(e) * _MOON_RA_SIN).sum(-1)
    dec = 66.5392 + 0.0130 * t + (np.cos(e) * _MOON_DEC_COS).sum(-1)
    w = 38.3213 + 13.17635815 * d - 1.4e-12 * d * d + (np.sin(e) * _MOON_W_SIN).sum(-1)
    return ra, dec, w


def moon_frame_icrs(tdb_days_from_j2000) -> np.ndarray:
    """Return the rows x (toward the prime meridian on the equator), y (90 deg east) and z (the north
    pole) of the Moon's mean-Earth/polar-axis frame in ICRS, shape d.shape + (3, 3)."""
    ra, dec, w = (np.radians(x) for x in moon_orientation(tdb_days_from_j2000))
    pole = np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], axis=-1)
    node = np.stack([-np.sin(ra), np.cos(ra), np.zeros_like(ra)], axis=-1)  # the equator's ascending node on the ICRS equator
    across = np.cross(pole, node)
    x = np.cos(w)[..., None] * node + np.sin(w)[..., None] * across
    y = np.cross(pole, x)
    return np.stack([x, y, pole], axis=-2)


MOON_ALBEDO_SHAPE = (512, 1024)


@functools.cache
def moon_albedo() -> np.ndarray:
    """Return the Moon's normal albedo map, relative to its brightest texels (float32 (512, 1024),
    equirectangular: row 0 at 90 N, column 0 at 180 W, in the mean-Earth/polar-axis frame; LRO WAC
    via NASA SVS's CGI Moon Kit, ``tools/build_moon_albedo.py``)."""
    from ..bundled import load

    def parse(raw: bytes):
        with np.load(io.BytesIO(raw)) as z:
            code, scale = z["albedo"], float(z["scale"])
        if code.shape != MOON_ALBEDO_SHAPE or code.dtype != np.uint8:
            raise ValueError(f"albedo table of shape {code.shape} {code.dtype}")
        return (code.astype(np.float32) * np.float32(scale / 255.0))

    out = load("moon_albedo.npz", "lunar albedo map", parse,
               "npm pack globe.gl@2.46.2 && python tools/build_moon_albedo.py --globe-gl package")
    out.setflags(write=False)
    return out


def _angle_deg(u, v):
    u, v = unit(u), unit(v)
    return np.degrees(np.arctan2(np.linalg.norm(np.cross(u, v), axis=-1), np.sum(u * v, axis=-1)))


def bodies(state, atmosphere_km: float = ATMOSPHERE_KM, names=tuple(BODY_KEYS)) -> list[Body]:
    """Return the Sun, Moon, Mercury, Venus, Mars, Jupiter and Saturn seen from the station.

    Args:
        state: a :class:`cupola.orbit.State` (any shape; arrays in each Body have its shape).
        atmosphere_km: opaque shell above the WGS84 ellipsoid for the limb test.
        names: which bodies (keys of ``BODY_KEYS``), in the order returned.
    Returns:
        list of :class:`Body`.
    """
    unknown = [n for n in names if n not in BODY_KEYS]
    if unknown:
        from ..errors import InputError

        raise InputError(f"unknown body {unknown[0]!r}; choose from {', '.join(BODY_KEYS)}")
    inst = state.instants
    rot, epos, evel = _skyfield_frame(np.asarray(inst.jd_whole, float).ravel(),
                                      np.asarray(inst.tt_fraction, float).ravel())
    return _bodies_in_frame(state, rot, epos, evel, atmosphere_km, names)


def _bodies_in_frame(state, rot, epos, evel, atmosphere_km, names) -> list[Body]:
    """Return :func:`bodies` with the GCRS->TEME rotation `rot` (n, 3, 3) and the Earth's
    barycentric position (au) and velocity (au/day) (n, 3) given for the n flat instants."""
    from ..ephemeris import kernel

    inst = state.instants
    shape = inst.shape
    jdw = np.asarray(inst.jd_whole, float).ravel()
    ttf = np.asarray(inst.tt_fraction, float).ravel()
    n = jdw.size
    r_teme = np.asarray(state.r_teme_km, float).reshape(-1, 3)
    obs, obs_v = _observer_bary(state, rot, epos, evel)
    beta = obs_v / C_AU_DAY
    ts = timescale()
    t = ts.tt_jd(jdw, ttf)
    whole, tdb_f = t.whole, t.tdb_fraction
    eph = kernel()
    sun_seg = eph["sun"]

    def at(target, tau_days):
        return np.asarray(target.at(ts.tdb_jd(whole, tdb_f - tau_days)).position.au).T

    out = []
    for name in names:
        target = eph[BODY_KEYS[name]]
        tau = np.zeros(n)
        for _ in range(3):  # tau_0 = 0; tau_2 is good to ~1e-8 of the light time (< 1 m)
            p = at(target, tau)
            tau = np.nan_to_num(np.linalg.norm(p - obs, axis=-1) / C_AU_DAY)  # failed rows: 0
        vec = p - obs  # astrometric, GCRS axes, au
        dist_au = np.linalg.norm(vec, axis=-1)
        app = aberrate(unit(vec), beta)
        d_teme = np.einsum("nij,nj->ni", rot, app)
        az, el = azel_deg(r_teme, d_teme)
        blocked = earth_blocks(r_teme, d_teme, atmosphere_km)
        margin = limb_margin_deg(r_teme, d_teme, atmosphere_km)
        radius = np.degrees(np.arcsin(np.minimum(RADIUS_KM[name] / (dist_au * AU_KM), 1.0)))
        if name == "sun":
            phase = np.full(n, np.nan)
            frac = np.full(n, np.nan)
            vmag = sun_vmag(dist_au)
        else:
            sun_p = at(sun_seg, tau)
            sun_to_body = p - sun_p
            phase = _angle_deg(sun_to_body, vec)
            frac = 0.5 * (1.0 + np.cos(np.radians(phase)))
            if name == "moon":
                vmag = moon_vmag(phase, dist_au * AU_KM)
            else:
                sub = _saturn_sub_lat(sun_to_body, vec) if name == "saturn" else None
                vmag = planet_vmag(name, np.linalg.norm(sun_to_body, axis=-1), dist_au, phase, sub)
        phase_name = None
        frame = None
        if name == "moon":
            f_icrs = moon_frame_icrs((whole - 2451545.0) + tdb_f)
            frame = (f_icrs[:, :, None, :] * rot[:, None, :, :]).sum(-1)  # rows in TEME, per instant
            sun_dir = unit(at(sun_seg, np.zeros(n)) - obs)
            waxing = np.cross(sun_dir, unit(vec)) @ ECLIPTIC_POLE_ICRS > 0.0
            names_arr = moon_phase_name(phase, waxing).reshape(shape)
            phase_name = str(names_arr) if shape == () else names_arr
        bad = np.asarray(state.error).ravel() != 0

        def shaped(a, fill=np.nan):
            a = np.where(bad.reshape((-1,) + (1,) * (a.ndim - 1)), fill, a) if bad.any() else a
            return instant_shaped(a, shape)

        out.append(Body(
            name=name,
            kind=name if name in ("sun", "moon") else "planet",
            bv=BODY_BV[name],
            dir_teme=shaped(d_teme),
            distance_km=shaped(dist_au * AU_KM),
            az_deg=shaped(az),
            el_deg=shaped(el),
            above_limb=shaped(~blocked, False),
            limb_margin_deg=shaped(margin),
            radius_deg=shaped(radius),
            vmag=shaped(vmag),
            phase_angle_deg=shaped(phase),
            illuminated_fraction=shaped(frac),
            phase_name=phase_name,
            frame_teme=None if frame is None else shaped(frame),
        ))
    return out


# Half-width (deg) of the band around the limb inside which moon_above_limb recomputes a row with the
# exact frame: the hourly interpolated rotation moves the Moon by < 1e-4" (stars.observer_frame),
# 36,000 times less.
MOON_LIMB_EXACT_DEG = 1e-3


def moon_above_limb(state, atmosphere_km: float = ATMOSPHERE_KM) -> np.ndarray:
    """Return whether the Moon's centre is above the limb at each instant of `state`, exactly as
    ``bodies(state)`` says (``above_limb`` of the Moon), at a fifth of its cost for many instants.

    The GCRS->TEME rotation (skyfield's IAU 2000A nutation, most of the cost) is interpolated
    between hourly nodes (:func:`cupola.sky.stars.observer_frame`) and the Earth's barycentric
    position and velocity read at each instant; rows whose Moon then stands within
    ``MOON_LIMB_EXACT_DEG`` of the limb (or is not finite) are recomputed with the exact frame, so
    every answer is the exact one. Shaped like the instants (False where the state failed).
    """
    from ..ephemeris import kernel

    inst = state.instants
    shape = inst.shape
    jdw = np.asarray(inst.jd_whole, float).ravel()
    ttf = np.asarray(inst.tt_fraction, float).ravel()
    if jdw.size <= 16:  # observer_frame is exact there anyway
        return np.asarray(bodies(state, atmosphere_km, ("moon",))[0].above_limb, bool)
    rot, _, _ = observer_frame(inst)
    earth = kernel()["earth"].at(timescale().tt_jd(jdw, ttf))
    epos, evel = np.asarray(earth.position.au).T, np.asarray(earth.velocity.au_per_d).T
    moon = _bodies_in_frame(state, rot, epos, evel, atmosphere_km, ("moon",))[0]
    above = np.asarray(moon.above_limb, bool).ravel().copy()
    margin = np.asarray(moon.limb_margin_deg, float).ravel()
    redo = np.flatnonzero(~(np.abs(margin) > MOON_LIMB_EXACT_DEG) | (above != (margin > 0.0)))
    if redo.size:
        above[redo] = np.asarray(bodies(state[redo], atmosphere_km, ("moon",))[0].above_limb, bool)
    return instant_shaped(above, shape)


__all__ = ["BODY_BV", "BODY_KEYS", "Body", "MOON_PHASES", "RADIUS_KM", "bodies", "moon_albedo", "moon_frame_icrs",
           "moon_orientation", "moon_phase_name", "planet_vmag", "moon_above_limb", "MOON_LIMB_EXACT_DEG"]

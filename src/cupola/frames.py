"""Frames: TEME -> ITRS -> WGS84 geodetic, and rotation helpers. Vectorised, vectors on axis -1.

TEME -> ITRS follows AIAA 2006-6753 (Vallado et al., "Revisiting Spacetrack Report #3"),
Appendix C: a rotation about z by GMST (IAU 1982 formula) evaluated at UT1, without polar motion,
exactly as skyfield's ``TEME`` and ``itrs`` frames compose when no polar-motion table is loaded.
"""

from __future__ import annotations

import numpy as np

from .constants import WGS84_A_KM, WGS84_B_KM, WGS84_E2  # noqa: F401  (also read from here)
from .timebase import Instants

TAU = 2.0 * np.pi
DAY_S = 86_400.0
J2000_JD = 2451545.0


def gmst82(inst: Instants) -> tuple[np.ndarray, np.ndarray]:
    """Return GMST (IAU 1982) in radians and its rate in rad/s, shaped like `inst`.

    Formula from AIAA 2006-6753 Appendix C; the whole/fraction split keeps ~1e-11 rad precision.
    """
    t = (inst.jd_whole - J2000_JD + inst.ut1_fraction) / 36525.0
    g = 67310.54841 + (8640184.812866 + (0.093104 + (-6.2e-6) * t) * t) * t
    dg = 8640184.812866 + (0.093104 * 2.0 + (-6.2e-6 * 3.0) * t) * t
    theta = (inst.jd_whole % 1.0 + inst.ut1_fraction + (g / DAY_S) % 1.0) % 1.0 * TAU
    theta_dot = (1.0 + dg / (DAY_S * 36525.0)) * TAU / DAY_S
    return theta, theta_dot


def rotate_z(vec: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Return `vec` (..., 3) expressed in a frame rotated by `angle` (rad) about z (passive)."""
    c, s = np.cos(angle), np.sin(angle)
    x, y, z = vec[..., 0], vec[..., 1], vec[..., 2]
    return np.stack([c * x + s * y, -s * x + c * y, z], axis=-1)


def teme_to_itrs(r_teme_km, v_teme_km_s, inst: Instants):
    """Return (r_itrs_km, v_itrs_km_s) for TEME vectors (..., 3) at `inst` (shape ...).

    The velocity includes the Earth-rotation term -omega x r.
    """
    theta, theta_dot = gmst82(inst)
    r = rotate_z(r_teme_km, theta)
    v = rotate_z(v_teme_km_s, theta)
    # v_itrs = R v_teme - omega x r_itrs, with omega = (0, 0, theta_dot)
    w = np.asarray(theta_dot)[..., None]
    v = v + w * np.stack([r[..., 1], -r[..., 0], np.zeros_like(r[..., 2])], axis=-1)
    return r, v


def itrs_to_teme(r_itrs_km, inst: Instants) -> np.ndarray:
    """Return TEME positions for ITRS positions (..., 3) at `inst`."""
    theta, _ = gmst82(inst)
    return rotate_z(r_itrs_km, -theta)


def geodetic(r_itrs_km: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return WGS84 (lat_deg, lon_deg, alt_km) for ITRS positions (..., 3).

    Bowring's iteration (3 rounds): converged to < 1 micrometre for heights from the ground to
    GEO. Longitude in (-180, 180].
    """
    x, y, z = r_itrs_km[..., 0], r_itrs_km[..., 1], r_itrs_km[..., 2]
    p = np.hypot(x, y)
    lat = np.arctan2(z, p * (1.0 - WGS84_E2))
    for _ in range(3):
        s = np.sin(lat)
        n = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * s * s)
        lat = np.arctan2(z + WGS84_E2 * n * s, p)
    s, c = np.sin(lat), np.cos(lat)
    # Height: projection formula that stays accurate at all latitudes.
    alt = p * c + z * s - WGS84_A_KM * np.sqrt(1.0 - WGS84_E2 * s * s)
    lon = np.arctan2(y, x)
    return np.degrees(lat), np.degrees(lon), alt


def geodetic_to_itrs(lat_deg, lon_deg, alt_km=0.0) -> np.ndarray:
    """Return ITRS positions (..., 3) in km for WGS84 geodetic coordinates (broadcasting)."""
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    s = np.sin(lat)
    n = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * s * s)
    h = np.asarray(alt_km, dtype=np.float64)
    x = (n + h) * np.cos(lat) * np.cos(lon)
    y = (n + h) * np.cos(lat) * np.sin(lon)
    z = (n * (1.0 - WGS84_E2) + h) * s
    return np.stack(np.broadcast_arrays(x, y, z), axis=-1)


def enu_basis(lat_deg, lon_deg) -> np.ndarray:
    """Return the local east/north/up unit vectors in ITRS, shape (..., 3, 3) with rows E, N, U."""
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    sl, cl, so, co = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
    e = np.stack([-so, co, np.zeros_like(so)], axis=-1)
    n = np.stack([-sl * co, -sl * so, cl], axis=-1)
    u = np.stack([cl * co, cl * so, sl], axis=-1)
    return np.stack([e, n, u], axis=-2)


def unit(v: np.ndarray) -> np.ndarray:
    """Return `v` (..., 3) normalised along the last axis."""
    return v / np.linalg.norm(v, axis=-1, keepdims=True)

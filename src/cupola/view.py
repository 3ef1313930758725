"""Camera-free geometry of the view from the station: horizons, the limb, footprints, ray/shell
intersections and directions in the station's local horizontal frame and in LVLH.

Closed forms on a spherical Earth of mean radius R (6371.0088 km, IUGG) unless stated; the ray
intersections also take the WGS84 ellipsoid (grown by a shell height). Vectors on axis -1, any
Earth-centred frame whose z is the Earth's axis (TEME or ITRS), km.
"""

from __future__ import annotations

import numpy as np

from .constants import R_EARTH_KM, WGS84_A_KM, WGS84_B_KM
from .frames import unit


def horizon_dip_deg(alt_km, shell_km=0.0, r_earth_km: float = R_EARTH_KM):
    """Return how far below the station's local horizontal a shell's limb lies (deg, positive).

    The tangent point of a shell of height `shell_km` seen from height `alt_km`; the hard limb
    from 420 km lies 20.26 deg down. NaN where the shell is above the station.
    """
    ratio = (r_earth_km + np.asarray(shell_km, float)) / (r_earth_km + np.asarray(alt_km, float))
    return np.degrees(np.arccos(np.where(ratio <= 1.0, ratio, np.nan)))


def limb_height_above_hard_limb_deg(alt_km, shell_km, r_earth_km: float = R_EARTH_KM):
    """Return the angle (deg) by which a thin shell's limb stands above the hard Earth's limb.

    From 420 km: 87/92/97/250 km shells at 2.24/2.38/2.51/7.41 deg (design note section 8).
    """
    return horizon_dip_deg(alt_km, 0.0, r_earth_km) - horizon_dip_deg(alt_km, shell_km, r_earth_km)


def horizon_arc_deg(alt_km, r_earth_km: float = R_EARTH_KM):
    """Return the Earth-central angle (deg) from the sub-station point to the geometric horizon."""
    return np.degrees(np.arccos(r_earth_km / (r_earth_km + np.asarray(alt_km, float))))


def footprint_radius_km(alt_km, r_earth_km: float = R_EARTH_KM):
    """Return the ground distance (km) from the sub-station point to the horizon (2,252 km from 420 km)."""
    return np.radians(horizon_arc_deg(alt_km, r_earth_km)) * r_earth_km


def shell_visible_arc_deg(alt_km, shell_km, r_earth_km: float = R_EARTH_KM):
    """Return the largest central angle (deg) at which a point at `shell_km` is still above the
    hard Earth's horizon seen from `alt_km` (tangent rays grazing the ground).

    From 420 km a 110 km aurora stays in view out to ~30.8 deg of arc (~3,430 km).
    """
    r = r_earth_km
    return np.degrees(np.arccos(r / (r + np.asarray(alt_km, float))) + np.arccos(r / (r + np.asarray(shell_km, float))))


def ray_sphere(origin_km, dir_unit, radius_km):
    """Return (near, far) distances along unit rays to a centred sphere; NaN where they miss.

    Distances may be negative (behind the origin).
    """
    o = np.asarray(origin_km, float)
    d = np.asarray(dir_unit, float)
    b = np.sum(o * d, axis=-1)
    c = np.sum(o * o, axis=-1) - np.asarray(radius_km, float) ** 2
    disc = b * b - c
    root = np.sqrt(np.where(disc >= 0.0, disc, np.nan))
    return -b - root, -b + root


def ray_ellipsoid(origin_km, dir_unit, shell_km=0.0):
    """Return (near, far) distances along unit rays to the WGS84 ellipsoid grown by `shell_km`.

    Scaling z by a/b turns the (grown) ellipsoid into a sphere of radius a; the distances are
    rescaled back to true kilometres. NaN where the ray misses.
    """
    a = WGS84_A_KM + np.asarray(shell_km, float)
    b = WGS84_B_KM + np.asarray(shell_km, float)
    k = a / b
    o = np.array(origin_km, dtype=float, copy=True)
    d = np.array(dir_unit, dtype=float, copy=True)
    o[..., 2] *= k
    d[..., 2] *= k
    scale = np.linalg.norm(d, axis=-1)
    near, far = ray_sphere(o, d / scale[..., None], a)
    return near / scale, far / scale


def earth_blocks(origin_km, dir_unit, shell_km=0.0):
    """Return True where a ray from `origin_km` toward `dir_unit` hits the Earth (ellipsoid grown
    by `shell_km`, e.g. ~20 km of opaque atmosphere for stars) in front of the origin."""
    near, far = ray_ellipsoid(origin_km, dir_unit, shell_km)
    return np.isfinite(near) & (far > 0.0)


def scaled_shell(shell_km: float):
    """Return (a', z scale (3,)): the WGS84 ellipsoid grown by `shell_km` becomes a sphere of
    radius a' when z is multiplied by a'/b' (lines stay lines, so ray tests stay exact)."""
    a = WGS84_A_KM + shell_km
    b = WGS84_B_KM + shell_km
    return a, np.array([1.0, 1.0, a / b])


def limb_margin_deg(r_km, dir_unit, shell_km: float = 0.0) -> np.ndarray:
    """Return how far (deg) directions `dir_unit` stand above the limb of the WGS84 ellipsoid grown
    by `shell_km`, seen from `r_km` (same Earth-centred frame; broadcasting on axis -1).

    Positive: above the limb (in view); negative: behind the Earth. Evaluated in the space where
    the grown ellipsoid is a sphere (z scaled by a'/b'), so its sign agrees exactly with
    :func:`earth_blocks`; the angle itself is distorted by < 0.4 %.
    """
    a, s = scaled_shell(shell_km)
    o = np.asarray(r_km, float) * s
    d = unit(np.asarray(dir_unit, float) * s)
    ro = np.linalg.norm(o, axis=-1)
    cos_nadir = -np.sum(o * d, axis=-1) / ro
    nadir_angle = np.degrees(np.arccos(np.clip(cos_nadir, -1.0, 1.0)))
    limb = np.degrees(np.arcsin(np.clip(a / ro, -1.0, 1.0)))
    return nadir_angle - limb


def local_horizontal_basis(r_km):
    """Return the station's local horizontal frame: rows east, north, up (radial), shape (..., 3, 3).

    'Up' is the geocentric radial direction, the natural vertical for horizon geometry; north is
    the Earth's axis projected on the horizontal plane.
    """
    up = unit(np.asarray(r_km, float))
    z = np.zeros_like(up)
    z[..., 2] = 1.0
    east = unit(np.cross(z, up))
    north = np.cross(up, east)
    return np.stack([east, north, up], axis=-2)


def azel_deg(r_km, dir_vec):
    """Return (azimuth_deg from north through east in [0, 360), elevation_deg) of directions
    `dir_vec` (..., 3) in the station's local horizontal frame (same frame as `r_km`)."""
    basis = local_horizontal_basis(r_km)
    d = unit(np.asarray(dir_vec, float))
    e = np.sum(basis[..., 0, :] * d, axis=-1)
    n = np.sum(basis[..., 1, :] * d, axis=-1)
    u = np.sum(basis[..., 2, :] * d, axis=-1)
    az = np.degrees(np.arctan2(e, n)) % 360.0
    el = np.degrees(np.arcsin(np.clip(u, -1.0, 1.0)))
    return az, el


def lvlh_basis(r_km, v_km_s):
    """Return the LVLH frame rows (x, y, z), shape (..., 3, 3): z to nadir, y opposite the orbit
    normal, x completing the triad (along the velocity for a circular orbit). This is the ISS's
    usual attitude reference (+X ahead, +Z down)."""
    r = np.asarray(r_km, float)
    z = -unit(r)
    y = -unit(np.cross(r, np.asarray(v_km_s, float)))
    x = np.cross(y, z)
    return np.stack([x, y, z], axis=-2)


def to_frame(basis, vec):
    """Return `vec` (..., 3) expressed in `basis` (..., 3, 3) rows."""
    return np.einsum("...ij,...j->...i", basis, np.asarray(vec, float))

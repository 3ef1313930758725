"""Refraction and extinction of the light of stars, planets, the Moon and the Sun seen through the limb.

Seen from orbit, a source just above the Earth's limb sends its light along a ray that grazes the
atmosphere at a tangent height h: the ray is bent toward the Earth (the source appears lifted)
and dimmed and reddened by the air it crosses edge-on.

Model
-----
- Bending. Refractivity nu = n - 1 proportional to the air density, exponential with the scale
  height of ``phenomena.extinction`` (:data:`~cupola.phenomena.extinction.RAYLEIGH_SCALE_HEIGHT_KM`)
  and :data:`REFRACTIVITY_SEA_LEVEL` at the ground (Edlen 1966, Metrologia 2, 71: standard air,
  15 C, 101.325 kPa, 550 nm). A ray of impact parameter a = n r sin z (Bouguer's invariant; a - R
  is the tangent height of the straight apparent line) turns at r0 = a / n(r0) and is bent, both
  halves of the limb path together, by

      alpha = nu(r0) sqrt(2 pi r0 / H) / sqrt(1 - r0 nu(r0) / H)

  the thin-atmosphere closed form of Baum & Code (1953, AJ 58, 108: the occultation of a star by a
  planet's exponential atmosphere; the Chapman grazing factor of the extinction's column) with the
  first-order correction for the ray's own curvature (r0 nu / H = 0.22 at the ground), which
  matches a numerical ray trace of the same atmosphere to 3.5 % at the ground and 1 % above 10 km
  (``tests/test_refraction.py``). The ray that grazes the ground (r0 = R, a - R = nu0 R = 1.8 km)
  is bent 1.28 deg (the ray trace: 1.25); 0.74 deg at 5 km, 0.36 deg at 10 km, 0.095 deg at 20 km,
  0.008 deg at 40 km. Half the grazing value, 38', is a ground observer's horizontal refraction in
  this isothermal atmosphere, against the almanacs' 34-35' for the real one, whose temperature lapse
  makes the density scale height near the ground ~10 km instead of 8: within a few km of the
  ground the lift is ~10 % too large.
- Where the source appears. In the plane of the station's position and the source, a ray leaving
  the station at nadir angle theta_a (its straight-line tangent height h_a = |r| sin theta_a - R)
  reaches the source's true direction theta_g = theta_a - alpha(h_a): the source is seen
  lifted by alpha. :func:`apparent_directions` inverts this by Newton's method (d theta_g /
  d theta_a = 1 + alpha |r| cos theta_a / H > 1, so the inverse is unique); a source whose true
  direction lies below the refracted hard limb (theta_g < theta_limb - alpha(0)) is hidden.
  The tangent height is taken over the sphere of mean radius (as ``camera.geometry``'s
  ``tangent_km``) and is that of the straight apparent line: the refracted ray's own tangent
  point lies up to 1.8 km lower, so rays drawn at apparent tangent heights below 1.8 km (where the
  straight-ray camera geometry still sees sky) are in truth on the ground; they are dark (the
  transmission there is < 1e-8).
- Differential refraction flattens a disc: its vertical extent is compressed by
  d theta_a / d theta_g = 1 / (1 + alpha(h) |r| cos theta_a / H) (0.4 at h = 10 km from 420 km).
- Extinction: the transmission of the whole limb path, Rayleigh and boundary-layer aerosol
  (``phenomena.extinction.limb_optical_depth``), per camera channel for a solar spectrum
  (:func:`limb_optics`): exp(-tau(lambda, h)) averaged over a 5,778 K black body through the
  camera's spectral sensitivities (``colour.camera_model``), so red gets through first.

Left out: the dispersion of refraction (the blue image is lifted ~1.5 % more than the red: a
thin green-blue rim), the temperature structure of the real atmosphere (inversions, ducting and
mirages near the ground, where the transmission is already < 1e-6), the Earth's oblateness (the
mean sphere), ozone and clouds (which block rays below their tops, 5-12 km), and refraction's
change across a long exposure (each source is refracted at the Scene's instant).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from ..constants import R_EARTH_KM
from .extinction import RAYLEIGH_SCALE_HEIGHT_KM, limb_optical_depth

REFRACTIVITY_SEA_LEVEL = 2.778e-4  # n - 1 of standard air at 550 nm (Edlen 1966)
TABLE_TOP_KM = 120.0  # above this the ray is straight (alpha < 1e-7 rad) and clear
TABLE_STEP_KM = 0.125
SUN_TEMPERATURE_K = 5778.0
MIN_TRANSMISSION = 1e-6  # a star seen through less than this (15 mag of extinction) is dropped
NEWTON_STEPS = 6
STRAIGHT_ABOVE_KM = 60.0  # rays tangent higher are bent < 1.1e-5 rad (2.3"): taken straight, still dimmed by the table


def turning_radius_km(impact_km, r_earth_km: float = R_EARTH_KM) -> np.ndarray:
    """Return the radius r0 (km) where a ray of impact parameter `impact_km` turns: n(r0) r0 = a."""
    a = np.asarray(impact_km, float)
    r0 = a.copy()
    for _ in range(4):  # a contraction by r0 nu / H < 0.25: 1e-6 km after 4 steps
        r0 = a / (1.0 + REFRACTIVITY_SEA_LEVEL * np.exp(-(r0 - r_earth_km) / RAYLEIGH_SCALE_HEIGHT_KM))
    return r0


GRAZING_KM = REFRACTIVITY_SEA_LEVEL * R_EARTH_KM  # the tangent height (a - R) of the ray that grazes the ground


def bending_rad(tangent_height_km, r_earth_km: float = R_EARTH_KM) -> np.ndarray:
    """Return the total bending (rad) of a ray whose straight apparent line is tangent at
    `tangent_height_km` (its impact parameter's height above a sphere of `r_earth_km`; module
    docstring): 0.0223 rad (1.28 deg) for the ray grazing the ground."""
    a = r_earth_km + np.asarray(tangent_height_km, float)
    r0 = turning_radius_km(a, r_earth_km)
    h_s = RAYLEIGH_SCALE_HEIGHT_KM
    nu = REFRACTIVITY_SEA_LEVEL * np.exp(-(r0 - r_earth_km) / h_s)
    return nu * np.sqrt(2.0 * math.pi * r0 / h_s) / np.sqrt(1.0 - r0 * nu / h_s)


def transmission_rgb(tangent_height_km) -> np.ndarray:
    """Return the transmission of the whole limb path at `tangent_height_km` in each of the camera's
    linear RGB channels, for sunlight (shape h.shape + (3,)): exp(-tau(lambda, h)) weighted by a
    5,778 K black body through the camera's sensitivities."""
    from ..colour import camera_rgb, planck_spd

    lam = np.arange(380.0, 781.0, 5.0)
    sun = planck_spd(lam, SUN_TEMPERATURE_K)
    h = np.asarray(tangent_height_km, float)
    tau = limb_optical_depth(h[..., None], lam)
    through = camera_rgb(lam, sun * np.exp(-tau))
    # The colour matrix can push a channel of deep-red light below 0: no channel transmits less than nothing.
    return np.clip(through / camera_rgb(lam, sun), 0.0, 1.0)


@dataclass(frozen=True, eq=False)
class LimbOptics:
    """Refraction and transmission tabulated by tangent height (the renderer's per-pixel look-up).

    Row k is at ``height_km[k] = k * step_km``; above the last row rays are straight and clear,
    below 0 they take row 0."""

    step_km: float
    height_km: np.ndarray  # (N,)
    bending_rad: np.ndarray  # (N,) total bending of the ray tangent there
    transmission_rgb: np.ndarray  # (N, 3) per camera channel
    scale_height_km: float  # of the refractivity, for the flattening d theta_a / d theta_g


@functools.cache
def limb_optics() -> LimbOptics:
    """Return the :class:`LimbOptics` table (0 to :data:`TABLE_TOP_KM` every :data:`TABLE_STEP_KM`)."""
    h = np.arange(0.0, TABLE_TOP_KM + 0.5 * TABLE_STEP_KM, TABLE_STEP_KM)
    t = np.ascontiguousarray(transmission_rgb(h))
    a = np.ascontiguousarray(bending_rad(h))
    for x in (h, t, a):
        x.setflags(write=False)
    return LimbOptics(TABLE_STEP_KM, h, a, t, RAYLEIGH_SCALE_HEIGHT_KM)


def _interp(table: LimbOptics, values: np.ndarray, h_km) -> np.ndarray:
    x = np.clip(np.asarray(h_km, float) / table.step_km, 0.0, table.height_km.size - 1.0)
    k = np.minimum(x.astype(np.int64), table.height_km.size - 2)
    f = x - k
    if values.ndim == 2:
        f = f[..., None]
    return values[k] * (1.0 - f) + values[k + 1] * f


def table_bending_rad(h_km, table: LimbOptics | None = None) -> np.ndarray:
    """Return the bending (rad) at tangent heights `h_km` from the table (0 above its top)."""
    table = table or limb_optics()
    h = np.asarray(h_km, float)
    return np.where(h > table.height_km[-1], 0.0, _interp(table, table.bending_rad, h))


def table_transmission_rgb(h_km, table: LimbOptics | None = None) -> np.ndarray:
    """Return the per-channel transmission at tangent heights `h_km` from the table (1 above its top)."""
    table = table or limb_optics()
    h = np.asarray(h_km, float)
    return np.where((h > table.height_km[-1])[..., None], 1.0, _interp(table, table.transmission_rgb, h))


@dataclass(frozen=True, eq=False)
class Refracted:
    """Point sources seen through the limb: (N,) or (N, 3) arrays."""

    dir_teme: np.ndarray  # apparent unit directions (the true ones where hidden)
    tangent_km: np.ndarray  # straight-line tangent height of the apparent direction (NaN if hidden;
    # the station's height for rays that go outward)
    bending_rad: np.ndarray  # lift (0 where hidden)
    transmission_rgb: np.ndarray  # per camera channel (0 where hidden)
    visible: np.ndarray  # bool: above the refracted hard limb and seen through >= MIN_TRANSMISSION


def apparent_directions(r_km, dirs, table: LimbOptics | None = None,
                        r_earth_km: float = R_EARTH_KM) -> Refracted:
    """Return where the sources in true directions `dirs` (N, 3, unit, same frame as `r_km`) appear
    from the station at `r_km` (3,), and through how much air (module docstring).

    The inverse of theta_g = theta_a - alpha(h_a) by Newton's method in each source's vertical plane
    (:data:`NEWTON_STEPS` steps from theta_g with the table's own slope: converged to < 1e-10 rad) for
    rays tangent below :data:`STRAIGHT_ABOVE_KM`; higher rays are straight and only dimmed."""
    table = table or limb_optics()
    o = np.asarray(r_km, float).reshape(3)
    d = np.asarray(dirs, float).reshape(-1, 3)
    ro = float(np.linalg.norm(o))
    nadir = -o / ro
    c = d @ nadir
    theta_limb = math.asin(min((r_earth_km + GRAZING_KM) / ro, 1.0))  # the ray grazing the ground
    lowest = theta_limb - float(table_bending_rad(GRAZING_KM, table))  # the ground, refracted
    top = table.height_km[-1]
    theta_top = math.asin(min((r_earth_km + top) / ro, 1.0))  # above this (inward) rays are straight and clear
    # Most sources are far from the limb: straight, clear, their tangent height that of their own line.
    app = d.copy()
    tangent = np.where(c > 0.0, ro * np.sqrt(np.clip(1.0 - c * c, 0.0, 1.0)) - r_earth_km, ro - r_earth_km)
    bending = np.zeros(d.shape[0])
    trans = np.ones((d.shape[0], 3))
    visible = np.ones(d.shape[0], bool)
    high = np.flatnonzero((c > math.cos(theta_top)) & (tangent >= STRAIGHT_ABOVE_KM))
    trans[high] = table_transmission_rgb(tangent[high], table)
    hidden = np.flatnonzero(c > math.cos(lowest))  # below the refracted ground
    tangent[hidden] = np.nan
    trans[hidden] = 0.0
    visible[hidden] = False
    near = np.flatnonzero((c > 0.0) & (c <= math.cos(lowest)) & (tangent < STRAIGHT_ABOVE_KM))
    if near.size:
        dn, cn = d[near], np.clip(c[near], -1.0, 1.0)
        theta_g = np.arccos(cn)
        # The unit vector across the vertical plane, away from nadir (any one where d is nadir itself).
        side = dn - cn[:, None] * nadir
        sn = np.linalg.norm(side, axis=-1)
        fallback = np.cross(nadir, [1.0, 0.0, 0.0] if abs(nadir[0]) < 0.9 else [0.0, 1.0, 0.0])
        side = np.where(sn[:, None] > 1e-12, side / np.maximum(sn, 1e-300)[:, None],
                        fallback / np.linalg.norm(fallback))
        bend = table.bending_rad
        t = np.maximum(theta_g, theta_limb)
        for _ in range(NEWTON_STEPS):
            h = ro * np.sin(t) - r_earth_km
            a = table_bending_rad(h, table)
            k = np.clip((h / table.step_km).astype(np.int64), 0, bend.size - 2)
            slope = (bend[k + 1] - bend[k]) / table.step_km  # d alpha / d h of the table (< 0)
            t = np.clip(t - (t - a - theta_g) / (1.0 - slope * ro * np.cos(t)), theta_limb, 0.5 * math.pi)
        h = ro * np.sin(t) - r_earth_km
        tr = table_transmission_rgb(h, table)
        app[near] = np.cos(t)[:, None] * nadir + np.sin(t)[:, None] * side
        tangent[near] = h
        bending[near] = table_bending_rad(h, table)
        trans[near] = tr
        visible[near] = np.max(tr, axis=-1) >= MIN_TRANSMISSION
    return Refracted(app, tangent, bending, trans, visible)


def flattening(tangent_height_km, alt_km: float, r_earth_km: float = R_EARTH_KM) -> np.ndarray:
    """Return the ratio of a small disc's vertical to horizontal diameter seen through the limb at
    `tangent_height_km` from a station at `alt_km`: d theta_a / d theta_g = 1 / (1 + alpha(h)
    D / H), D = sqrt((R + alt)^2 - (R + h)^2) the distance to the tangent point."""
    h = np.asarray(tangent_height_km, float)
    dist = np.sqrt((r_earth_km + alt_km) ** 2 - (r_earth_km + h) ** 2)
    return 1.0 / (1.0 + bending_rad(h, r_earth_km) * dist / RAYLEIGH_SCALE_HEIGHT_KM)


__all__ = ["REFRACTIVITY_SEA_LEVEL", "MIN_TRANSMISSION", "GRAZING_KM", "turning_radius_km", "LimbOptics", "Refracted", "bending_rad",
           "transmission_rgb", "limb_optics", "table_bending_rad", "table_transmission_rgb",
           "apparent_directions", "flattening"]

"""Extinction of light crossing the lower atmosphere edge-on: why the airglow has a dark gap under it.

Seen from orbit, a ray aimed a little above the hard limb crosses each airglow shell twice: once
between the station and its tangent point (the *near* side) and once beyond it (the *far* side).
Light from the near side reaches the camera through nothing but the thin air above the shell;
light from the far side comes back through the tangent region, where the ray grazes the dense
lower atmosphere. For tangent heights below ~20 km that path is opaque or nearly so, so the band
just above the limb shows only its near side (half the brightness, or less) and real photographs
show a thin bright line lifted off the Earth by a darker band (issue 13, item 4).

Model
-----
- Rayleigh scattering: the sea-level vertical optical depth of the US Standard Atmosphere 1962
  from Bucholtz (1995, Appl. Opt. 34, 2765, table 5 fit: tau = A lambda^-(B + C lambda + D /
  lambda), lambda in um; its two wavelength ranges, 0.2-0.5 um and above 0.5 um, meet to 0.1 % at
  500 nm), an exponential profile of scale height :data:`RAYLEIGH_SCALE_HEIGHT_KM`.
- Aerosol: a boundary-layer aerosol of vertical optical depth :data:`AEROSOL_TAU_550` at 550 nm
  with Angstrom exponent :data:`AEROSOL_ANGSTROM` and scale height
  :data:`AEROSOL_SCALE_HEIGHT_KM` (continental background; e.g. Hess et al. 1998, BAMS 79, 831,
  "continental average", and the 1-2 km aerosol scale heights there).
- Along a straight line tangent at height h to a sphere of radius R, an exponential atmosphere of
  scale height H has the column n(h) sqrt(2 pi (R + h) H) (the Chapman grazing-incidence limit,
  exact to O(H / R)); the optical depth of the whole line is the vertical optical depth times
  exp(-h / H) sqrt(2 pi (R + h) / H).
- The far side's light crosses the whole line (both halves of the tangent region lie between it
  and the camera); the airglow shells (87-250 km) are far above the extinguishing air, so one
  transmission per ray, taken at its tangent height, weights the whole far branch.

Left out: ozone (Chappuis band, ~0.03 vertical at 600 nm: a few percent on the far side at
tangent heights above 15 km, where the transmission already rises), stratospheric aerosol
(~0.005), clouds (their tops, 5-12 km, block low limb rays entirely: a darker gap still, which the
cloud layer of the renderer may add), refraction of the airglow rays (taken straight here; ``phenomena.refraction``
bends the rays of the point sources and discs, ~1.3 deg for a ray grazing the ground) and
scattering into the ray (the far side is dimmed, not replaced by scattered light). The same
transmission dims and reddens the stars, planets, Moon and Sun seen through the limb, and
``phenomena.refraction`` bends their rays.
"""

from __future__ import annotations

import math

import numpy as np

from ..constants import R_EARTH_KM

# Bucholtz (1995) table 5, US Standard Atmosphere 1962, for wavelengths above 0.5 um.
BUCHOLTZ_A, BUCHOLTZ_B, BUCHOLTZ_C, BUCHOLTZ_D = 8.64627e-3, 3.99668, 1.10298e-3, 2.71393e-2
RAYLEIGH_SCALE_HEIGHT_KM = 8.0  # density scale height of the lower atmosphere (US Standard 1976 ~ 7-8.5 km)
AEROSOL_TAU_550 = 0.1  # vertical aerosol optical depth at 550 nm, continental background
AEROSOL_ANGSTROM = 1.3  # tau_a ~ lambda^-1.3
AEROSOL_SCALE_HEIGHT_KM = 1.5  # boundary-layer aerosol
MIN_WAVELENGTH_NM = 500.0  # where the fit of Bucholtz table 5 starts (the airglow lines: 557.7-772 nm)
# Bucholtz (1995) table 5, the same atmosphere, 0.2-0.5 um (the blue end of a camera's band).
BUCHOLTZ_SHORT_A, BUCHOLTZ_SHORT_B, BUCHOLTZ_SHORT_C, BUCHOLTZ_SHORT_D = 6.50362e-3, 3.55212, 1.35579, 0.11563
SHORT_MIN_WAVELENGTH_NM = 200.0


def rayleigh_vertical_tau(wavelength_nm) -> np.ndarray:
    """Return the sea-level vertical Rayleigh optical depth at `wavelength_nm` (>= 500 nm)."""
    lam = np.asarray(wavelength_nm, float) / 1000.0
    if np.any(lam * 1000.0 < MIN_WAVELENGTH_NM):
        raise ValueError(f"the Rayleigh fit holds from {MIN_WAVELENGTH_NM:.0f} nm; got {np.min(lam) * 1000:.1f} nm")
    return BUCHOLTZ_A * lam ** -(BUCHOLTZ_B + BUCHOLTZ_C * lam + BUCHOLTZ_D / lam)


def rayleigh_vertical_tau_broad(wavelength_nm) -> np.ndarray:
    """Return the sea-level vertical Rayleigh optical depth at `wavelength_nm` (>= 200 nm): Bucholtz's
    fit for 0.2-0.5 um below 500 nm, :func:`rayleigh_vertical_tau` above."""
    lam_nm = np.asarray(wavelength_nm, float)
    if np.any(lam_nm < SHORT_MIN_WAVELENGTH_NM):
        raise ValueError(f"the Rayleigh fit holds from {SHORT_MIN_WAVELENGTH_NM:.0f} nm; got {np.min(lam_nm):.1f} nm")
    lam = lam_nm / 1000.0
    short = BUCHOLTZ_SHORT_A * lam ** -(BUCHOLTZ_SHORT_B + BUCHOLTZ_SHORT_C * lam + BUCHOLTZ_SHORT_D / lam)
    return np.where(lam_nm < MIN_WAVELENGTH_NM, short, rayleigh_vertical_tau(np.maximum(lam_nm, MIN_WAVELENGTH_NM)))


def aerosol_vertical_tau(wavelength_nm) -> np.ndarray:
    """Return the vertical aerosol optical depth at `wavelength_nm`."""
    return AEROSOL_TAU_550 * (np.asarray(wavelength_nm, float) / 550.0) ** -AEROSOL_ANGSTROM


def grazing_factor(tangent_height_km, scale_height_km: float, r_earth_km: float = R_EARTH_KM) -> np.ndarray:
    """Return the optical depth of a whole line tangent at `tangent_height_km`, per unit vertical
    optical depth of an exponential layer of scale height `scale_height_km` starting at the ground:
    exp(-h / H) sqrt(2 pi (R + h) / H)."""
    h = np.maximum(np.asarray(tangent_height_km, float), 0.0)
    return np.exp(-h / scale_height_km) * np.sqrt(2.0 * math.pi * (r_earth_km + h) / scale_height_km)


def limb_optical_depth(tangent_height_km, wavelength_nm, r_earth_km: float = R_EARTH_KM) -> np.ndarray:
    """Return the optical depth (Rayleigh + aerosol) of a whole line of sight tangent at
    `tangent_height_km` (km above a sphere of radius `r_earth_km`), at `wavelength_nm` (>= 200 nm);
    broadcast over both."""
    h = np.asarray(tangent_height_km, float)
    lam = np.asarray(wavelength_nm, float)
    return (rayleigh_vertical_tau_broad(lam) * grazing_factor(h, RAYLEIGH_SCALE_HEIGHT_KM, r_earth_km)
            + aerosol_vertical_tau(lam) * grazing_factor(h, AEROSOL_SCALE_HEIGHT_KM, r_earth_km))


def limb_transmission(tangent_height_km, wavelengths_nm, weights=None, r_earth_km: float = R_EARTH_KM) -> np.ndarray:
    """Return the transmission of a whole limb line of sight at each tangent height, averaged over
    the lines `wavelengths_nm` with `weights` (e.g. their rayleighs; equal if None). Shape of
    `tangent_height_km`."""
    lam = np.atleast_1d(np.asarray(wavelengths_nm, float))
    w = np.ones_like(lam) if weights is None else np.atleast_1d(np.asarray(weights, float))
    w = w / w.sum()
    h = np.asarray(tangent_height_km, float)
    tau = limb_optical_depth(h[..., None], lam, r_earth_km)
    return np.sum(w * np.exp(-tau), axis=-1)


__all__ = ["rayleigh_vertical_tau", "rayleigh_vertical_tau_broad", "aerosol_vertical_tau", "grazing_factor", "limb_optical_depth",
           "limb_transmission", "RAYLEIGH_SCALE_HEIGHT_KM", "AEROSOL_TAU_550", "AEROSOL_ANGSTROM",
           "AEROSOL_SCALE_HEIGHT_KM"]

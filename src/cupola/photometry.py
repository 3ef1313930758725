"""Photometry: magnitudes to illuminance, line emission (rayleigh) to luminance, the Sun and Moon.

* A V = 0 source gives an illuminance of 2.54e-6 lux outside the atmosphere (Allen's
  Astrophysical Quantities, 4th ed., Cox 2000, section 15.1: m_V = -13.98 - 2.5 log10 E).
* 1 R (rayleigh) is 1e10 / (4 pi) photons s^-1 m^-2 sr^-1 (Hunten, Roach & Chamberlain 1956,
  J. Atmos. Terr. Phys. 8, 345); a column brightness B (R) of a line at lambda has the luminance
  L_v = B 1e10 / (4 pi) (h c / lambda) 683 lm/W V(lambda) cd/m^2, with V the CIE 1924 photopic
  luminous efficiency tabulated every 5 nm (CIE 015:2004, Table T.4; the CIE 1931 2-degree
  y-bar). At 557.7 nm, 1 R = 1.93e-7 cd/m^2.
* The Sun: V = -26.74 at 1 au (Allen's Astrophysical Quantities); mean disc luminance
  1.6e9 cd/m^2 (e.g. CIE; Schlyter, "Radiometry and photometry in astronomy"); illuminance at the
  top of the atmosphere 128,000 lx (the solar constant 1361 W/m^2 times ~94 lm/W).
* The Moon: V = -12.73 + 0.026 |i| + 4e-9 i^4 at its mean distance (Allen 1976; i the phase
  angle in degrees), plus 5 log10(d / 384,400 km); mean luminance of the full Moon's disc
  ~2,500 cd/m^2 (Schlyter, op. cit.; CIE 1987), the same phase law spread over the lit fraction
  away from full.
"""

from __future__ import annotations

import math

import numpy as np

from .constants import MOON_MEAN_DISTANCE_KM

LUX_V0 = 2.54e-6  # lux from a V = 0 source (Allen's Astrophysical Quantities, 4th ed., 15.1)

PLANCK_J_S = 6.62607015e-34
LIGHT_M_S = 299_792_458.0
KM_PER_LM_W = 683.0  # maximum luminous efficacy (lm/W) at 555 nm (540 THz), SI definition of the candela
PHOTONS_PER_RAYLEIGH = 1e10 / (4.0 * math.pi)  # photons s^-1 m^-2 sr^-1 per rayleigh

SUN_V_1AU = -26.74
SUN_CD_M2 = 1.6e9  # mean luminance of the solar disc
E_SUN_LUX = 128_000.0  # solar illuminance at the top of the atmosphere
MOON_V_FULL = -12.73  # at the mean distance, phase angle 0
MOON_FULL_CD_M2 = 2500.0  # mean luminance of the full Moon's disc

# CIE 1924 photopic luminous efficiency V(lambda), 380-780 nm every 5 nm (CIE 015:2004 T.4,
# identical to the CIE 1931 2-degree y-bar).
_V_NM0, _V_STEP = 380.0, 5.0
_V_TABLE = np.array([
    0.000039, 0.000064, 0.00012, 0.000217, 0.000396, 0.00064, 0.00121, 0.00218, 0.004, 0.0073,
    0.0116, 0.01684, 0.023, 0.0298, 0.038, 0.048, 0.06, 0.0739, 0.09098, 0.1126,
    0.13902, 0.1693, 0.20802, 0.2586, 0.323, 0.4073, 0.503, 0.6082, 0.71, 0.7932,
    0.862, 0.91485, 0.954, 0.9803, 0.99495, 1.0, 0.995, 0.9786, 0.952, 0.9154,
    0.87, 0.8163, 0.757, 0.6949, 0.631, 0.5668, 0.503, 0.4412, 0.381, 0.321,
    0.265, 0.217, 0.175, 0.1382, 0.107, 0.0816, 0.061, 0.04458, 0.032, 0.0232,
    0.017, 0.01192, 0.00821, 0.005723, 0.004102, 0.002929, 0.002091, 0.001484, 0.001047, 0.00074,
    0.00052, 0.0003611, 0.0002492, 0.0001719, 0.00012, 0.0000848, 0.00006, 0.0000424, 0.00003, 0.0000212,
    0.00001499,
])


def vmag_to_lux(vmag) -> np.ndarray:
    """Return the illuminance (lux) of a source of visual magnitude `vmag` (2.54e-6 at V = 0)."""
    return LUX_V0 * 10.0 ** (-0.4 * np.asarray(vmag, float))


def luminous_efficiency(wavelength_nm) -> np.ndarray:
    """Return the CIE photopic V(lambda) at `wavelength_nm` (linear in the 5 nm table, 0 outside)."""
    lam = np.asarray(wavelength_nm, float)
    grid = _V_NM0 + _V_STEP * np.arange(_V_TABLE.size)
    return np.interp(lam, grid, _V_TABLE, left=0.0, right=0.0)


def rayleigh_to_cd_m2(wavelength_nm) -> np.ndarray:
    """Return the luminance (cd/m^2) of 1 R of a line at `wavelength_nm` (1.93e-7 at 557.7 nm)."""
    lam_m = np.asarray(wavelength_nm, float) * 1e-9
    return PHOTONS_PER_RAYLEIGH * PLANCK_J_S * LIGHT_M_S / lam_m * KM_PER_LM_W * luminous_efficiency(wavelength_nm)


def lines_cd_m2_per_rayleigh(lines_nm, lines_rayleigh) -> float:
    """Return the luminance (cd/m^2) of 1 R of an emission made of lines `lines_nm`, each weighted
    by its share `lines_rayleigh` of the rayleighs."""
    w = np.asarray(lines_rayleigh, float)
    return float(np.sum(w * rayleigh_to_cd_m2(np.asarray(lines_nm, float))) / w.sum())


def sun_vmag(distance_au) -> np.ndarray:
    """Return the Sun's V magnitude at `distance_au` from it."""
    return SUN_V_1AU + 5.0 * np.log10(np.asarray(distance_au, float))


def moon_phase_dimming_mag(phase_angle_deg) -> np.ndarray:
    """Return how much fainter (mag) the whole Moon is at phase angle `phase_angle_deg` than at
    full: 0.026 |i| + 4e-9 i^4 (Allen 1976)."""
    i = np.abs(np.asarray(phase_angle_deg, float))
    return 0.026 * i + 4e-9 * i**4


def moon_vmag(phase_angle_deg, distance_km) -> np.ndarray:
    """Return the Moon's V magnitude at a phase angle (deg) and distance (km) from the observer."""
    return (MOON_V_FULL + moon_phase_dimming_mag(phase_angle_deg)
            + 5.0 * np.log10(np.asarray(distance_km, float) / MOON_MEAN_DISTANCE_KM))


def moon_luminance_cd_m2(phase_angle_deg: float) -> float:
    """Return the mean luminance (cd/m^2) of the Moon's lit surface at phase angle `phase_angle_deg`:
    2,500 at full, the whole-disc flux following Allen's phase law spread over the lit fraction
    k = (1 + cos i) / 2 (held above 0.02)."""
    a = abs(float(phase_angle_deg))
    k = max((1.0 + math.cos(math.radians(a))) / 2.0, 0.02)
    return MOON_FULL_CD_M2 * 10.0 ** (-0.4 * float(moon_phase_dimming_mag(a))) / k


__all__ = [
    "LUX_V0", "PLANCK_J_S", "LIGHT_M_S", "KM_PER_LM_W", "PHOTONS_PER_RAYLEIGH", "SUN_V_1AU",
    "SUN_CD_M2", "E_SUN_LUX", "MOON_V_FULL", "MOON_FULL_CD_M2", "vmag_to_lux", "luminous_efficiency",
    "rayleigh_to_cd_m2", "lines_cd_m2_per_rayleigh", "sun_vmag", "moon_phase_dimming_mag", "moon_vmag",
    "moon_luminance_cd_m2",
]

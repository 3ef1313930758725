"""Extinction of light crossing the lower atmosphere edge-on: why the airglow has a dark gap under it,
and the sunlit limb's colours (Rayleigh, ozone and aerosol single scattering, issue 14; the
section "the sunlit limb" below).

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

Left out of this airglow transmission (the sunlit limb below has them): ozone (Chappuis band,
~0.04 vertical at 600 nm: a few percent on the far side at tangent heights above 15 km, where the
transmission already rises), stratospheric aerosol (~0.005), clouds (their tops, 5-12 km, block low
limb rays entirely: a darker gap still, which the cloud layer of the renderer may add), refraction
of the airglow rays (taken straight here; ``phenomena.refraction`` bends the rays of the point
sources and discs, ~1.3 deg for a ray grazing the ground) and scattering into the ray (the far side
is dimmed, not replaced by scattered light). The same transmission dims and reddens the stars,
planets, Moon and Sun seen through the limb.
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
           "AEROSOL_SCALE_HEIGHT_KM",
           # the sunlit limb and the twilit ground (below)
           "rayleigh_vertical_tau_visible", "ozone_cross_section_cm2", "ozone_vertical_tau", "ozone_density_cm3",
           "constituent_shapes", "vertical_taus", "rayleigh_phase", "aerosol_phase", "path_columns", "refraction_rad",
           "sun_path_table", "sunlight_transmission", "limb_line_radiance", "ground_path_radiance", "limb_table_grids",
           "CONSTITUENTS", "OZONE_COLUMN_DU", "SPECTRUM_NM", "AEROSOL_G", "AEROSOL_SSA"]


# -- the sunlit limb and the twilight ground: Rayleigh + ozone + aerosol (issue 14) ---------------
# Single scattering of sunlight in a spherical atmosphere of four constituents, integrated along
# limb lines of sight and the views of the ground, spectrally (10 nm bins, 380-780 nm), for the
# bundled table ``limb_radiance.npz`` (``tools/build_limb_radiance.py``) that the renderer reads.
#
# * Rayleigh: Bucholtz (1995) table 5, both fits (0.2-0.5 um and 0.5-2.2 um), scale height
#   :data:`RAYLEIGH_SCALE_HEIGHT_KM`.
# * Ozone: Chappuis band cross-sections of Serdyuchenko et al. (2014, Atmos. Meas. Tech. 7, 625;
#   the IUP Bremen 2011 data set) averaged over 10 nm bins (the bin averages of the 233 K set
#   tabulated by Bruneton 2017, "A qualitative and quantitative evaluation of 8 clear sky
#   models", IEEE TVCG 23, 2641; the Chappuis band changes by ~1 % between 233 and 293 K), a
#   column of :data:`OZONE_COLUMN_DU` Dobson units (1 DU = 2.687e16 molecules cm^-2) in the profile
#   of Green (1964, Appl. Opt. 3, 203): column above z = Omega (1 + e^(-b/c)) / (1 + e^((z - b)/c)),
#   b = :data:`OZONE_PEAK_KM`, c = :data:`OZONE_WIDTH_KM` (peak ~4.5e12 cm^-3 near 22 km, as in the
#   US Standard Atmosphere 1976 ozone profile). Vertical optical depth at 600 nm: 0.039.
# * Aerosol: the boundary-layer aerosol above (:data:`AEROSOL_TAU_550`, Angstrom
#   :data:`AEROSOL_ANGSTROM`, scale height :data:`AEROSOL_SCALE_HEIGHT_KM`) and a background
#   stratospheric (Junge) layer of optical depth :data:`STRAT_AEROSOL_TAU_550` (SAGE II
#   background 2000-2005, ~0.004-0.006 at 525 nm: Thomason et al. 2008, Atmos. Chem. Phys. 8, 7243),
#   a Gaussian of centre :data:`STRAT_AEROSOL_KM` and width :data:`STRAT_AEROSOL_WIDTH_KM`, Angstrom
#   :data:`STRAT_AEROSOL_ANGSTROM`. Both scatter with the Henyey-Greenstein phase function of
#   asymmetry :data:`AEROSOL_G` and single-scattering albedo :data:`AEROSOL_SSA`.
# * The sunlight reaching each scattering point crosses the atmosphere along its own slant path
#   (blocked where it meets the ground), averaged over :data:`SUN_DISC_SAMPLES` points across the
#   Sun's disc (radius :data:`SUN_RADIUS_DEG`), so the Earth's shadow has a soft edge; refraction
#   raises the Sun seen from inside the shadow by the bending of its grazing ray, twice the 35'
#   horizontal refraction (Explanatory Supplement to the Astronomical Almanac 1992, 3.28) times the
#   air density at the ray's tangent height, and dims it by the refractive flattening 1 / (1 + D
#   dbend/dh) (D the distance from the ray's tangent point; Link 1969, "Eclipse phenomena").
# Left out: multiple scattering (which fills the shadow a little), clouds on the limb (their tops
# make the hard limb ragged), NO2 and water vapour absorption, polarisation.

BUCHOLTZ_SHORT = (6.50362e-3, 3.55212, 1.35579, 0.11563)  # table 5, 0.2-0.5 um
OZONE_COLUMN_DU = 300.0
DOBSON_CM2 = 2.687e16  # molecules cm^-2 per Dobson unit
OZONE_PEAK_KM = 22.0
OZONE_WIDTH_KM = 4.5
# Serdyuchenko et al. (2014) ozone cross-sections (cm^2), means over the 10 nm bins 380-390 ...
# 770-780 nm (Bruneton 2017's tabulation of the 233 K set), at the bin centres SPECTRUM_NM.
SPECTRUM_NM = np.arange(385.0, 780.0, 10.0)
OZONE_CROSS_SECTION_CM2 = np.array([
    2.818e-24, 6.636e-24, 1.527e-23, 2.763e-23, 5.52e-23, 8.451e-23, 1.582e-22, 2.316e-22, 3.669e-22, 4.924e-22,
    7.752e-22, 9.016e-22, 1.48e-21, 1.602e-21, 2.139e-21, 2.755e-21, 3.091e-21, 3.5e-21, 4.266e-21, 4.672e-21,
    4.398e-21, 4.701e-21, 5.019e-21, 4.305e-21, 3.74e-21, 3.215e-21, 2.662e-21, 2.238e-21, 1.852e-21, 1.473e-21,
    1.209e-21, 9.423e-22, 7.455e-22, 6.566e-22, 5.105e-22, 4.15e-22, 4.228e-22, 3.237e-22, 2.451e-22, 2.801e-22])
STRAT_AEROSOL_TAU_550 = 0.005
STRAT_AEROSOL_KM = 20.0
STRAT_AEROSOL_WIDTH_KM = 6.0
STRAT_AEROSOL_ANGSTROM = 1.5
AEROSOL_G = 0.7  # Henyey-Greenstein asymmetry of continental and sulphate aerosol at 550 nm
AEROSOL_SSA = 0.95
ATMOSPHERE_TOP_KM = 120.0
SUN_RADIUS_DEG = 0.2666  # the Sun's angular radius at 1 au
SUN_DISC_SAMPLES = 7
REFRACTION_GRAZING_RAD = 2.0 * math.radians(35.0 / 60.0)  # bending of a ray grazing the ground
CONSTITUENTS = ("rayleigh", "ozone", "aerosol", "strat_aerosol")
BLOCKED_COLUMN = 1.0e4  # columns of a ray that meets the ground: opaque at every wavelength


def rayleigh_vertical_tau_visible(wavelength_nm) -> np.ndarray:
    """Return the sea-level vertical Rayleigh optical depth at `wavelength_nm` (200-2200 nm): both
    fits of Bucholtz (1995) table 5 (they meet at 500 nm to 1e-3)."""
    lam = np.asarray(wavelength_nm, float) / 1000.0
    a, b, c, d = BUCHOLTZ_SHORT
    short = a * lam ** -(b + c * lam + d / lam)
    return np.where(lam < 0.5, short, BUCHOLTZ_A * lam ** -(BUCHOLTZ_B + BUCHOLTZ_C * lam + BUCHOLTZ_D / lam))


def ozone_cross_section_cm2(wavelength_nm) -> np.ndarray:
    """Return the ozone absorption cross-section (cm^2) at `wavelength_nm` (380-780 nm), linear
    between the bin centres of :data:`OZONE_CROSS_SECTION_CM2`."""
    return np.interp(np.asarray(wavelength_nm, float), SPECTRUM_NM, OZONE_CROSS_SECTION_CM2)


def ozone_vertical_tau(wavelength_nm, column_du: float = OZONE_COLUMN_DU) -> np.ndarray:
    """Return the vertical ozone optical depth of `column_du` Dobson units at `wavelength_nm`."""
    return ozone_cross_section_cm2(wavelength_nm) * column_du * DOBSON_CM2


def ozone_density_cm3(z_km, column_du: float = OZONE_COLUMN_DU) -> np.ndarray:
    """Return the ozone number density (cm^-3) at height `z_km` (Green 1964; module notes)."""
    b, c = OZONE_PEAK_KM, OZONE_WIDTH_KM
    x = np.exp((np.asarray(z_km, float) - b) / c)
    per_km = column_du * (1.0 + math.exp(-b / c)) * x / (c * (1.0 + x) ** 2)  # DU per km
    return per_km * DOBSON_CM2 / 1.0e5


def constituent_shapes(z_km) -> np.ndarray:
    """Return each constituent's extinction profile per km per unit vertical optical depth,
    shape z.shape + (4,) in the order of :data:`CONSTITUENTS` (each integrates to 1 over z >= 0)."""
    z = np.maximum(np.asarray(z_km, float), 0.0)
    ray = np.exp(-z / RAYLEIGH_SCALE_HEIGHT_KM) / RAYLEIGH_SCALE_HEIGHT_KM
    oz = ozone_density_cm3(z) * 1.0e5 / (OZONE_COLUMN_DU * DOBSON_CM2)
    aer = np.exp(-z / AEROSOL_SCALE_HEIGHT_KM) / AEROSOL_SCALE_HEIGHT_KM
    w = STRAT_AEROSOL_WIDTH_KM
    norm = w * math.sqrt(math.pi / 2.0) * (1.0 + math.erf(STRAT_AEROSOL_KM / (w * math.sqrt(2.0))))
    strat = np.exp(-0.5 * ((z - STRAT_AEROSOL_KM) / w) ** 2) / norm
    return np.stack([ray, oz, aer, strat], axis=-1)


def vertical_taus(wavelength_nm) -> np.ndarray:
    """Return the vertical optical depth of each constituent at `wavelength_nm`, shape lam.shape + (4,)."""
    lam = np.asarray(wavelength_nm, float)
    return np.stack([rayleigh_vertical_tau_visible(lam), ozone_vertical_tau(lam),
                     AEROSOL_TAU_550 * (lam / 550.0) ** -AEROSOL_ANGSTROM,
                     STRAT_AEROSOL_TAU_550 * (lam / 550.0) ** -STRAT_AEROSOL_ANGSTROM], axis=-1)


def rayleigh_phase(cos_theta) -> np.ndarray:
    """Return the Rayleigh phase function 3/4 (1 + cos^2), normalised to 4 pi over the sphere."""
    c = np.asarray(cos_theta, float)
    return 0.75 * (1.0 + c * c)


def aerosol_phase(cos_theta, g: float = AEROSOL_G) -> np.ndarray:
    """Return the Henyey-Greenstein phase function of asymmetry `g`, normalised to 4 pi."""
    c = np.asarray(cos_theta, float)
    return (1.0 - g * g) / (1.0 + g * g - 2.0 * g * c) ** 1.5


_GL_X, _GL_W = np.polynomial.legendre.leggauss(48)


def path_columns(z_km, sin_elev, top_km: float = ATMOSPHERE_TOP_KM, r_earth_km: float = R_EARTH_KM) -> np.ndarray:
    """Return the vertical-column multiples of each constituent along a straight ray from height
    `z_km` at elevation arcsin(`sin_elev`) out to `top_km`, shape broadcast + (4,);
    :data:`BLOCKED_COLUMN` where the ray meets the ground (Gauss-Legendre in the distance from the
    ray's tangent point, squared spacing toward it)."""
    z, mu = np.broadcast_arrays(np.asarray(z_km, float), np.asarray(sin_elev, float))
    r0 = r_earth_km + np.minimum(z, top_km)
    rt = r0 * np.sqrt(np.maximum(1.0 - mu * mu, 0.0))
    rtop = r_earth_km + top_km
    t0 = r0 * mu  # the start's distance past the tangent point (negative: the tangent is ahead)
    t1 = np.sqrt(np.maximum(rtop * rtop - rt * rt, 0.0))
    x = 0.5 * (_GL_X + 1.0)
    w = 0.5 * _GL_W

    def seg(a, b):  # integral of the shapes over t in [a, b] with t = a + (b - a) u^2
        u = x
        t = a[..., None] + (b - a)[..., None] * u * u
        dt = 2.0 * (b - a)[..., None] * u * w
        h = np.sqrt(rt[..., None] ** 2 + t * t) - r_earth_km
        return np.einsum("...n,...nc->...c", dt, constituent_shapes(h))

    # Rising rays: from the start out, nodes crowded at the start; falling rays: down to the
    # tangent point and out again, nodes crowded at the tangent point.
    zero = np.zeros_like(t0)
    up = t0 >= 0.0
    col = np.where(up[..., None], seg(np.where(up, t0, zero), t1),
                   seg(zero, np.where(up, zero, -t0)) + seg(zero, t1))
    blocked = (t0 < 0.0) & (rt < r_earth_km)
    return np.where(blocked[..., None], BLOCKED_COLUMN, col)


def refraction_rad(tangent_km) -> np.ndarray:
    """Return the total bending (rad) of a ray whose tangent point is at `tangent_km`."""
    return REFRACTION_GRAZING_RAD * np.exp(-np.maximum(np.asarray(tangent_km, float), 0.0) / RAYLEIGH_SCALE_HEIGHT_KM)


# Sun-path table: columns of each constituent from height z toward the Sun at elevation e (refracted
# as above), and the refractive dilution, on a grid fine enough (0.05 deg) for the shadow's edge.
SUN_Z_KM = np.arange(0.0, ATMOSPHERE_TOP_KM + 0.25, 0.5)
SUN_ELEV_DEG = np.concatenate([np.arange(-25.0, 12.0, 0.05), np.arange(12.0, 90.01, 1.0)])


def _refracted_tangent_km(z_km, elev_rad, r_earth_km: float = R_EARTH_KM):
    """Return (tangent height of the refracted sunlight ray reaching height `z_km` from the Sun at
    geometric elevation `elev_rad` (< 0), bending (rad); NaN where even the bent ray meets the ground)."""
    r = r_earth_km + z_km

    def f(zt):  # decreasing in zt; its root is the refracted ray's tangent height
        return r * np.cos(np.minimum(elev_rad + refraction_rad(zt), 0.0)) - r_earth_km - zt

    lo = np.zeros_like(z_km)
    hi = np.asarray(z_km, float).copy()
    ok = f(lo) >= 0.0
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        up = f(mid) >= 0.0
        lo = np.where(up, mid, lo)
        hi = np.where(up, hi, mid)
    zt = np.where(ok, 0.5 * (lo + hi), np.nan)
    return zt, refraction_rad(np.where(ok, zt, 0.0))


def sun_path_table(z_km=SUN_Z_KM, elev_deg=SUN_ELEV_DEG, refraction: bool = True):
    """Return (columns (nz, ne, 4), dilution (nz, ne)) of the sunlight reaching height `z_km` from
    the Sun's centre at geometric elevation `elev_deg` (the module notes: refracted, flattened)."""
    z, e = np.meshgrid(np.asarray(z_km, float), np.radians(np.asarray(elev_deg, float)), indexing="ij")
    sin_e = np.sin(e)
    dil = np.ones_like(z)
    if refraction:
        below = e < 0.0
        zt, bend = _refracted_tangent_km(z, np.where(below, e, -1e-9))
        r = R_EARTH_KM + z
        # The straight ray with the refracted ray's tangent height (cos e' = (R + zt) / (R + z)).
        e_ref = -np.arccos(np.clip((R_EARTH_KM + np.nan_to_num(zt, nan=-1.0)) / r, -1.0, 1.0))
        sin_ref = np.where(np.isfinite(zt), np.sin(e_ref), -1.0)
        sin_e = np.where(below, np.maximum(sin_e, sin_ref), sin_e)
        dist = r * np.sqrt(np.maximum(1.0 - (np.cos(e_ref)) ** 2, 0.0))  # from the tangent point
        dil = np.where(below & np.isfinite(zt), 1.0 / (1.0 + dist * bend / RAYLEIGH_SCALE_HEIGHT_KM), dil)
    cols = path_columns(z, sin_e)
    return cols, dil


def _interp_axis(grid, x):
    """Return (i0, f) so that values interpolate as v[i0] (1 - f) + v[i0 + 1] f (clamped)."""
    i = np.clip(np.searchsorted(grid, x, side="right") - 1, 0, len(grid) - 2)
    f = np.clip((x - grid[i]) / (grid[i + 1] - grid[i]), 0.0, 1.0)
    return i, f


def sunlight_transmission(z_km, sin_elev, taus, table=None) -> np.ndarray:
    """Return the transmission of sunlight reaching height `z_km` where the Sun's centre stands at
    elevation arcsin(`sin_elev`), averaged over the Sun's disc, at the wavelengths of `taus`
    ((n_lambda, 4) vertical optical depths); shape broadcast + (n_lambda,)."""
    cols, dil = sun_path_table() if table is None else table
    z, s = np.broadcast_arrays(np.asarray(z_km, float), np.asarray(sin_elev, float))
    e = np.degrees(np.arcsin(np.clip(s, -1.0, 1.0)))
    iz, fz = _interp_axis(SUN_Z_KM, z)
    u = (np.arange(SUN_DISC_SAMPLES) + 0.5) / SUN_DISC_SAMPLES * 2.0 - 1.0  # across the disc
    wts = np.sqrt(1.0 - u * u)
    wts /= wts.sum()
    out = 0.0
    for uk, wk in zip(u, wts):
        ie, fe = _interp_axis(SUN_ELEV_DEG, e + uk * SUN_RADIUS_DEG)
        c = 0.0
        d = 0.0
        for a, wa in ((0, 1.0 - fz), (1, fz)):
            for b, wb in ((0, 1.0 - fe), (1, fe)):
                w = (wa * wb)[..., None]
                c = c + w * cols[iz + a, ie + b]
                d = d + w[..., 0] * dil[iz + a, ie + b]
        out = out + wk * d[..., None] * np.exp(-np.minimum(c @ taus.T, 700.0))
    return out


def scattering_taus(taus) -> np.ndarray:
    """Return the scattering (not absorbing) vertical optical depths (n_lambda, 2): Rayleigh, and
    the two aerosols times their single-scattering albedo."""
    return np.stack([taus[:, 0], AEROSOL_SSA * (taus[:, 2] + taus[:, 3])], axis=-1)


def _line_nodes(half_km, n):
    """Return (t nodes (2n+1,), trapezoid weights) over [-half, half], crowded at 0 (t ~ u^2)."""
    u = np.linspace(-1.0, 1.0, 2 * n + 1)
    t = half_km * np.sign(u) * u * u
    w = np.gradient(t)  # trapezoid-like weights on the non-uniform nodes
    w[0] *= 0.5
    w[-1] *= 0.5
    return t, w


def limb_line_radiance(tangent_km, sun_elev_deg, sun_az_deg, lam_nm=SPECTRUM_NM, n_half: int = 96,
                       table=None) -> np.ndarray:
    """Return the single-scattered radiance of limb lines of sight per unit solar irradiance
    (sr^-1), without the phase functions: shape broadcast + (n_lambda, 2) for Rayleigh and aerosol.

    A line tangent at `tangent_km`, seen from outside the atmosphere (the station), with the Sun at
    elevation `sun_elev_deg` at the tangent point and azimuth `sun_az_deg` from the line's direction
    (0: looking toward the Sun). L = (1 / 4 pi) integral beta_c(z) T_sun T_view dt, T_view the
    transmission back toward the camera along the line, T_sun :func:`sunlight_transmission`."""
    taus = vertical_taus(lam_nm)
    scat = scattering_taus(taus)
    table = sun_path_table() if table is None else table
    h, el, az = np.broadcast_arrays(*(np.asarray(v, float) for v in (tangent_km, sun_elev_deg, sun_az_deg)))
    hf, ef, af = h.ravel(), np.radians(el.ravel()), np.radians(az.ravel())
    out = np.zeros((hf.size, len(taus), 2))
    for hu in np.unique(hf):  # the lines at one tangent height share their nodes and view path
        sel = np.nonzero(hf == hu)[0]
        rt = R_EARTH_KM + hu
        half = math.sqrt(max((R_EARTH_KM + ATMOSPHERE_TOP_KM) ** 2 - rt * rt, 0.0))
        t, w = _line_nodes(half, n_half)
        r = np.sqrt(rt * rt + t * t)
        z = r - R_EARTH_KM
        shapes = constituent_shapes(z)  # (n, 4)
        cum = np.concatenate([[np.zeros(4)], np.cumsum(0.5 * (shapes[1:] + shapes[:-1]) * np.diff(t)[:, None], axis=0)])
        t_view = np.exp(-cum @ taus.T)  # from the camera's end (t = -half) to each node
        beta_r = shapes[:, 0:1] * scat[None, :, 0]
        beta_a = (shapes[:, 2:3] * taus[None, :, 2] + shapes[:, 3:4] * taus[None, :, 3]) * AEROSOL_SSA
        wv = w[:, None] * t_view / (4.0 * math.pi)
        for part in np.array_split(sel, max(1, sel.size // 64)):
            # The Sun's elevation at each node: the tangent point's local vertical turns along the line.
            sin_x = (rt * np.sin(ef[part])[:, None] + t[None, :] * (np.cos(ef[part]) * np.cos(af[part]))[:, None]) / r
            t_sun = sunlight_transmission(np.broadcast_to(z, sin_x.shape), sin_x, taus, table)  # (m, n, lam)
            g = t_sun * wv[None]
            out[part, :, 0] = np.einsum("mnl,nl->ml", g, beta_r)
            out[part, :, 1] = np.einsum("mnl,nl->ml", g, beta_a)
    return out.reshape(h.shape + (len(taus), 2))


def ground_path_radiance(sun_elev_deg, cos_view_zenith, sun_az_deg=90.0, lam_nm=SPECTRUM_NM, n: int = 160,
                         table=None) -> np.ndarray:
    """Return the single-scattered path radiance between a ground point and space per unit solar
    irradiance (sr^-1), without the phase functions, shape broadcast + (n_lambda, 2): the Sun at
    elevation `sun_elev_deg` at the point and azimuth `sun_az_deg` from the camera's horizontal
    direction of view there (0: the camera looks toward the Sun, so the path back to it runs away
    from the Sun, into the shadow), seen from above at view zenith cosine `cos_view_zenith`."""
    taus = vertical_taus(lam_nm)
    scat = scattering_taus(taus)
    table = sun_path_table() if table is None else table
    el, mv, az = np.broadcast_arrays(*(np.asarray(v, float) for v in (sun_elev_deg, cos_view_zenith, sun_az_deg)))
    ef, mf, af = np.radians(el.ravel()), np.clip(mv.ravel(), 0.0, 1.0), np.radians(az.ravel())
    out = np.zeros((ef.size, len(taus), 2))
    rtop = R_EARTH_KM + ATMOSPHERE_TOP_KM
    for mu in np.unique(mf):  # the paths at one view zenith share their nodes and view transmission
        sel = np.nonzero(mf == mu)[0]
        length = -R_EARTH_KM * mu + math.sqrt((R_EARTH_KM * mu) ** 2 + rtop * rtop - R_EARTH_KM ** 2)
        u = np.linspace(0.0, 1.0, n + 1)
        s_km = length * u * u
        w = np.gradient(s_km)
        w[0] *= 0.5
        w[-1] *= 0.5
        r = np.sqrt(R_EARTH_KM ** 2 + s_km * s_km + 2.0 * R_EARTH_KM * mu * s_km)
        z = r - R_EARTH_KM
        shapes = constituent_shapes(z)
        cum = np.concatenate([[np.zeros(4)], np.cumsum(0.5 * (shapes[1:] + shapes[:-1]) * np.diff(s_km)[:, None], axis=0)])
        t_view = np.exp(-(cum[-1] - cum) @ taus.T)  # from each node up to space
        beta_r = shapes[:, 0:1] * scat[None, :, 0]
        beta_a = (shapes[:, 2:3] * taus[None, :, 2] + shapes[:, 3:4] * taus[None, :, 3]) * AEROSOL_SSA
        wv = w[:, None] * t_view / (4.0 * math.pi)
        sm = math.sqrt(max(1.0 - mu * mu, 0.0))
        for part in np.array_split(sel, max(1, sel.size // 64)):
            se, ce, ca = np.sin(ef[part])[:, None], np.cos(ef[part])[:, None], np.cos(af[part])[:, None]
            sin_x = (se * (R_EARTH_KM + s_km[None, :] * mu) - s_km[None, :] * sm * ca * ce) / r[None, :]
            t_sun = sunlight_transmission(np.broadcast_to(z, sin_x.shape), sin_x, taus, table)
            g = t_sun * wv[None]
            out[part, :, 0] = np.einsum("mnl,nl->ml", g, beta_r)
            out[part, :, 1] = np.einsum("mnl,nl->ml", g, beta_a)
    return out.reshape(el.shape + (len(taus), 2))


# The grids of the bundled table (``tools/build_limb_radiance.py``); the renderer's lookups
# (``cupola.render.earth``) index them in closed form, so their spacings are fixed here. The Sun's
# elevation and azimuth enter as their sine and cosine, which the renderer has per pixel without
# an inverse trigonometric function (the Sun's height along a line is linear in both).
LIMB_H_STEPS_KM = (40.0, 1.0, 2.0, 100.0)  # 0..40 km by 1 km, then 2 km steps to 100 km
LIMB_SIN_ELEV_STEPS = (-0.424, 0.2, 0.008, 0.05, 1.0)  # -25..11.5 deg by ~0.46 deg, then by 0.05 in sine
LIMB_COS_AZ_N = 13  # cosine of the Sun's azimuth from the line, -1..1
GROUND_SIN_ELEV_RANGE = (-0.34, 0.07, 0.005)  # the Sun -19.9..4.0 deg by ~0.29 deg
GROUND_MU_N = 21  # sqrt(mu) uniform over 0..1
GROUND_COS_AZ_N = 7


def limb_table_grids() -> dict:
    """Return the axes of the bundled limb and ground tables (arrays by name)."""
    hb, h1, h2, htop = LIMB_H_STEPS_KM
    e0, eb, e1, e2, etop = LIMB_SIN_ELEV_STEPS
    g0, g1, gs = GROUND_SIN_ELEV_RANGE
    return {
        "limb_h_km": np.concatenate([np.arange(0.0, hb, h1), np.arange(hb, htop + 1e-9, h2)]),
        "limb_sin_elev": np.concatenate([e0 + e1 * np.arange(round((eb - e0) / e1)),
                                         eb + e2 * np.arange(round((etop - eb) / e2) + 1)]),
        "limb_cos_az": np.linspace(-1.0, 1.0, LIMB_COS_AZ_N),
        "ground_sin_elev": g0 + gs * np.arange(round((g1 - g0) / gs) + 1),
        "ground_mu": np.linspace(0.0, 1.0, GROUND_MU_N) ** 2,
        "ground_cos_az": np.linspace(-1.0, 1.0, GROUND_COS_AZ_N),
    }

"""Aurora seen from the station: the statistical auroral oval for the Kp of the moment, placed
on the globe in magnetic coordinates, and which part of it stands above the station's horizon
over dark ground.

Model
-----
* **Oval boundaries** - Feldstein-Starkov model: Starkov, G. V. (1994), "Mathematical model of
  the auroral boundaries", Geomagnetism and Aeronomy 34(3), 331-336; as used for forecasts by
  Sigernes, F. et al. (2011), "Two methods to forecast auroral displays", J. Space Weather Space
  Clim. 1, A03 (doi:10.1051/swsc/2011003), section 2 and Table 1. Three boundaries in corrected
  geomagnetic colatitude:

      theta(MLT) = A0 + A1 cos(15(MLT + a1)) + A2 cos(15(2 MLT + a2)) + A3 cos(15(3 MLT + a3))  [deg]

  each coefficient cubic in x = log10|AL|:  Ai = b0 + b1 x + b2 x^2 + b3 x^3, with the AL index
  estimated from Kp by Starkov (1994b), Geomagn. Aeron. 34(1), 101-103, as used by Sigernes:
  |AL| = 18 - 12.3 Kp + 27.2 Kp^2 - 2 Kp^3 nT. (That cubic peaks at Kp ~8.8, so Kp 9 gives the
  oval of Kp ~8.8: the model saturates in the largest storms.)
  The boundaries are: 'poleward' (poleward edge of the discrete oval), 'equatorward' (its
  equatorward edge) and 'diffuse' (equatorward edge of the diffuse aurora, usually sub-visual).
  At magnetic midnight the diffuse edge follows Gussenhoven et al. (1983, JGR 88, 5692)
  66.1 - 1.99 Kp deg within 1.2 deg for Kp 0-6, 2 deg at Kp 7 (tests/test_aurora.py).
* **Magnetic coordinates** - AACGM-v2 (Shepherd 2014, JGR 119, 7501) through the ``aacgmv2``
  package (coefficients bundled, IGRF-based, valid 1900-2030 and heights <= 2000 km; it returns
  NaN near the magnetic equator where field lines do not reach the height). Where aacgmv2
  cannot answer (dates outside 1900-2030, or NaN) a **centred dipole** stands in: the dipole
  axis from the IGRF-13 first-degree Gauss coefficients g10, g11, h11 (tabulated below for
  1900-2020, linear in time between epochs, extrapolated with the IGRF-13 2020-25 secular
  variation and frozen after 2030), e.g. the boreal pole at 80.6 N, 72.7 W for 2020.0. Heights
  map along dipole field lines to the ground footprint (cos^2 lat_ground = cos^2 lat_h * R/(R+h)),
  as AACGM does, and MLT is the magnetic longitude difference from the subsolar point
  (MLT = 12 h + (mlon - mlon_sun)/15). Against aacgmv2 the dipole is a few degrees off (the
  field's non-dipole part, largest over North America and Siberia; see tests).
* **Emission heights** - green OI 557.7 nm mostly 100-200 km (110 km typical), red OI 630.0 nm
  above ~200 km (250 km), blue/violet N2+ 427.8 nm at the lower border, below ~100 km (95 km).
* **Seen from the station** - an oval point is *in view* when the straight line to it clears
  the WGS84 ellipsoid (so points beneath the station count, and points behind the limb do
  not); it *shows* when the ground below it is dark (Sun below -12 deg there, nautical
  twilight's end: the aurora outshines a darker sky only). ``visible`` means some point of the
  discrete oval band (poleward edge to equatorward edge) is both in view and over dark ground.
* **Intensity** - an honest proxy only: |AL| estimated from Kp (nT, the westward auroral
  electrojet strength that drives the oval) and the NOAA G-scale storm level. A statistical oval
  says where aurora is likely for this Kp, not how bright it is or whether it is there now.
"""

from __future__ import annotations

import datetime as _dt
import functools
import logging
import math
from dataclasses import dataclass

import numba as nb
import numpy as np

from .._index import check_index, shaped, take_instant
from ..constants import NAUTICAL_DARK_SUN_ELEV_DEG, R_EARTH_KM, WGS84_A_KM, WGS84_B_KM, WGS84_E2
from ..errors import DataMissingError, InputError
from ..frames import enu_basis, geodetic, geodetic_to_itrs, gmst82, rotate_z, unit
from ..jit import inline, kernel, use_twins
from ..view import azel_deg, ray_ellipsoid
from .kp import kp_at, kp_missing_message, kp_symbol

log = logging.getLogger(__name__)

# -- Feldstein-Starkov coefficients -----------------------------------------------------------
# Starkov (1994), Geomagn. Aeron. 34(3), 331-336, Table; reproduced in Sigernes et al. (2011),
# J. Space Weather Space Clim. 1, A03, Table 1. Rows: A0, A1, alpha1, A2, alpha2, A3, alpha3;
# columns: b0, b1, b2, b3 of the cubic in x = log10|AL|. A in degrees of colatitude, alpha in
# hours of MLT. Transcribed (data, not code); cross-checked against the midnight Gussenhoven
# rule and the independent transcription in ocbpy (Burrell et al., zenodo 1179230).
STARKOV_COEFFS: dict[str, np.ndarray] = {
    "poleward": np.array([
        [-0.07, 24.54, -12.53, 2.15],    # A0
        [-10.06, 19.83, -9.33, 1.24],    # A1
        [-6.61, 10.17, -5.80, 1.19],     # alpha1
        [-4.44, 7.47, -3.01, 0.25],      # A2
        [6.37, -1.10, 0.34, -0.38],      # alpha2
        [-3.77, 7.90, -4.73, 0.91],      # A3
        [-4.48, 10.16, -5.87, 0.98],     # alpha3
    ]),
    "equatorward": np.array([
        [1.16, 23.21, -10.97, 2.03],
        [-9.59, 17.78, -7.20, 0.96],
        [-2.22, 1.50, -0.58, 0.08],
        [-12.07, 17.49, -7.96, 1.15],
        [-23.98, 42.79, -26.96, 5.56],
        [-6.56, 11.44, -6.73, 1.31],
        [-20.07, 36.67, -24.20, 5.11],
    ]),
    "diffuse": np.array([
        [3.44, 29.77, -16.38, 3.35],
        [-2.41, 7.89, -4.32, 0.87],
        [-1.68, -2.48, 1.58, -0.28],
        [-0.74, 3.94, -3.09, 0.72],
        [8.69, -20.73, 13.03, -2.14],
        [-2.12, 3.24, -1.67, 0.31],
        [8.61, -5.34, -1.36, 0.76],
    ]),
}
BOUNDARIES = ("poleward", "equatorward", "diffuse")

# Kinds of sampled oval points (``AuroraView.points_kind``).
KIND_NAMES = ("poleward", "equatorward", "diffuse", "inside")
_INSIDE_FRACTIONS = (0.25, 0.5, 0.75)  # points across the band, from the equatorward edge



@dataclass(frozen=True)
class AuroraLine:
    """One auroral emission: where it glows and how bright it is against the green line.

    The vertical volume-emission profile is an asymmetric Gaussian in height (sigma below and
    above the peak) with a unit vertical column; the oval's points are placed at the peak.
    """

    name: str  # 'oi_green', 'oi_red', 'n2p_blue'
    line: str  # emitter: 'OI', 'N2+'
    wavelength_nm: float
    peak_km: float
    sigma_below_km: float
    sigma_above_km: float
    column_ratio: float  # vertical column relative to the 557.7 nm line
    range_km: tuple[float, float]  # where most of it glows
    colour: str


# Heights: green OI 557.7 nm mostly 100-200 km peaking near 110 km; red OI 630.0 nm 200-400 km
# peaking near 250 km; N2+ 427.8 nm at the lower border, ~90-100 km (design note section 8;
# Chamberlain 1961, "Physics of the aurora and airglow", ch. 4). Column ratios for ordinary
# (type-C) aurora: I(630)/I(557.7) ~ 0.1-0.3, I(427.8)/I(557.7) ~ 0.2-0.3 (Rees & Luckey 1974,
# JGR 79, 5181; Omholt 1971, "The optical aurora").
AURORA_LINES: tuple[AuroraLine, ...] = (
    AuroraLine("oi_green", "OI", 557.7, 110.0, 8.0, 30.0, 1.0, (100.0, 200.0), "green"),
    AuroraLine("oi_red", "OI", 630.0, 250.0, 30.0, 60.0, 0.25, (200.0, 400.0), "red"),
    AuroraLine("n2p_blue", "N2+", 427.8, 95.0, 4.0, 6.0, 0.3, (85.0, 100.0), "blue-violet"),
)
GREEN = 0  # index of the 557.7 nm line, whose height places the oval

DARK_SUN_ELEV_DEG = NAUTICAL_DARK_SUN_ELEV_DEG  # the aurora shows over ground darker than nautical twilight
N_MLT = 96

# -- IGRF-13 first-degree Gauss coefficients (nT) for the centred-dipole fallback ---------------
# Alken et al. (2021), "International Geomagnetic Reference Field: the thirteenth generation",
# Earth Planets Space 73:49, Table (DGRF 1900-2015, IGRF 2020, SV 2020-25).
_IGRF_EPOCHS = np.array([1900.0, 1950.0, 1980.0, 2000.0, 2010.0, 2015.0, 2020.0])
_IGRF_G10 = np.array([-31543.0, -30554.0, -29992.0, -29619.4, -29496.57, -29441.46, -29404.8])
_IGRF_G11 = np.array([-2298.0, -2250.0, -1956.0, -1728.2, -1586.42, -1501.77, -1450.9])
_IGRF_H11 = np.array([5922.0, 5815.0, 5604.0, 5186.1, 4944.26, 4795.99, 4652.5])
_IGRF_SV_2020 = np.array([5.7, 7.4, -25.9])  # d(g10, g11, h11)/dt nT/yr, 2020-2025
IGRF_REF_RADIUS_KM = 6371.2

AACGM_VALID_UTC = (np.datetime64("1900-01-01", "ns"), np.datetime64("2030-01-01", "ns"))
MAGNETIC_MODELS = ("auto", "aacgmv2", "dipole")


# -- oval boundaries ---------------------------------------------------------------------------
def kp_to_al_nt(kp) -> np.ndarray:
    """Return |AL| (nT) estimated from Kp: 18 - 12.3 Kp + 27.2 Kp^2 - 2 Kp^3 (Starkov 1994b)."""
    k = np.asarray(kp, dtype=float)
    return 18.0 - 12.3 * k + 27.2 * k**2 - 2.0 * k**3


def oval_colatitude_deg(mlt_h, kp, boundary: str = "equatorward") -> np.ndarray:
    """Return the Feldstein-Starkov boundary in corrected geomagnetic colatitude (deg).

    Args:
        mlt_h: magnetic local time, hours (any shape; broadcasts with `kp`).
        kp: Kp index, 0-9 (thirds or any float).
        boundary: 'poleward', 'equatorward' or 'diffuse'.
    """
    if boundary not in STARKOV_COEFFS:
        raise InputError(f"unknown oval boundary {boundary!r}; use one of {', '.join(BOUNDARIES)}")
    x = np.log10(np.abs(kp_to_al_nt(kp)))
    b = STARKOV_COEFFS[boundary]
    # coefficient i: b0 + b1 x + b2 x^2 + b3 x^3
    c = [b[i, 0] + x * (b[i, 1] + x * (b[i, 2] + x * b[i, 3])) for i in range(7)]
    a0, a1, al1, a2, al2, a3, al3 = c
    m = np.asarray(mlt_h, dtype=float)
    deg = np.pi / 180.0
    theta = (a0 + a1 * np.cos(15.0 * deg * (m + al1)) + a2 * np.cos(15.0 * deg * (2.0 * m + al2))
             + a3 * np.cos(15.0 * deg * (3.0 * m + al3)))
    return np.maximum(theta, 0.0)


def oval_mlat_deg(mlt_h, kp, boundary: str = "equatorward", hemisphere: str = "north") -> np.ndarray:
    """Return a Feldstein-Starkov boundary as magnetic latitude (deg; negative in the south).

    The southern oval mirrors the northern one in magnetic latitude at the same MLT.
    """
    sign = _hemisphere_sign(hemisphere)
    return sign * (90.0 - oval_colatitude_deg(mlt_h, kp, boundary))


def _hemisphere_sign(hemisphere: str) -> float:
    if hemisphere not in ("north", "south"):
        raise InputError(f"unknown hemisphere {hemisphere!r}; use 'north' or 'south'")
    return 1.0 if hemisphere == "north" else -1.0


# -- magnetic coordinates ------------------------------------------------------------------------
def _decimal_year(t64: np.datetime64) -> float:
    t = np.datetime64(t64, "ns")
    y = t.astype("datetime64[Y]")
    start = y.astype("datetime64[ns]")
    end = (y + 1).astype("datetime64[ns]")
    return 1970.0 + y.astype(int) + float((t - start) / (end - start))


def dipole_pole(t) -> tuple[float, float]:
    """Return (lat_deg, lon_deg) of the boreal geomagnetic (centred-dipole) pole at `t`.

    From the IGRF-13 g10, g11, h11 (interpolated between epochs; 2020-25 secular variation
    after 2020, frozen after 2030; the 1900 values before 1900). 2020.0: 80.6 N, 72.7 W.
    """
    from ..timebase import to_utc64

    year = _decimal_year(to_utc64(t))
    if year <= _IGRF_EPOCHS[-1]:
        g10, g11, h11 = (np.interp(year, _IGRF_EPOCHS, c) for c in (_IGRF_G10, _IGRF_G11, _IGRF_H11))
    else:
        dt = min(year, 2030.0) - _IGRF_EPOCHS[-1]
        g10, g11, h11 = np.array([_IGRF_G10[-1], _IGRF_G11[-1], _IGRF_H11[-1]]) + dt * _IGRF_SV_2020
    # The dipole moment points along (g11, h11, g10) in Earth-fixed axes; the boreal pole lies
    # along its opposite.
    b0 = np.sqrt(g10**2 + g11**2 + h11**2)
    return float(np.degrees(np.arcsin(-g10 / b0))), float(np.degrees(np.arctan2(-h11, -g11)))


def _dipole_basis(t) -> np.ndarray:
    """Return rows (e1, e2, p): p the boreal dipole axis, e1 toward the geographic north pole's
    meridian, e2 = p x e1 (ITRS unit vectors)."""
    plat, plon = dipole_pole(t)  # geocentric (spherical) coordinates of the axis
    p = np.array([np.cos(np.radians(plat)) * np.cos(np.radians(plon)),
                  np.cos(np.radians(plat)) * np.sin(np.radians(plon)), np.sin(np.radians(plat))])
    z = np.array([0.0, 0.0, 1.0])
    e1 = unit(z - np.dot(z, p) * p)
    e2 = np.cross(p, e1)
    return np.stack([e1, e2, p])


def _subsolar_dir_itrs(sun_teme_km, inst) -> np.ndarray:
    theta, _ = gmst82(inst)
    return unit(rotate_z(np.asarray(sun_teme_km, float), theta))


def _dipole_mlon_deg(u_itrs: np.ndarray, basis: np.ndarray) -> np.ndarray:
    return np.degrees(np.arctan2(u_itrs @ basis[1], u_itrs @ basis[0]))


def _dipole_to_geographic(mlat_deg, mlt_h, height_km, t, sun_dir_itrs):
    """Centred dipole: ground-footprint magnetic latitude + MLT -> geodetic (lat, lon) of the
    point at `height_km` on the same field line. NaN where the field line stays below it."""
    basis = _dipole_basis(t)
    mlon_sun = _dipole_mlon_deg(sun_dir_itrs, basis)
    return _dipole_mlon_to_geographic(mlat_deg, mlon_sun + (np.asarray(mlt_h, float) - 12.0) * 15.0, height_km, basis)


def _dipole_mlon_to_geographic(mlat_deg, mlon_deg, height_km, basis):
    """Centred dipole (axes `basis`, see :func:`_dipole_basis`): ground-footprint magnetic
    latitude and dipole longitude -> geodetic (lat, lon) at `height_km` on the same field line."""
    mlon = np.radians(np.asarray(mlon_deg, float))
    lam0 = np.radians(np.asarray(mlat_deg, float))
    h = np.asarray(height_km, float)
    c2 = np.cos(lam0) ** 2 * (IGRF_REF_RADIUS_KM + h) / IGRF_REF_RADIUS_KM
    lam = np.sign(lam0) * np.arccos(np.sqrt(np.where(c2 <= 1.0, c2, np.nan)))
    u = (np.cos(lam)[..., None] * (np.cos(mlon)[..., None] * basis[0] + np.sin(mlon)[..., None] * basis[1])
         + np.sin(lam)[..., None] * basis[2])
    # Put the point on the ellipsoid's radius along u (geocentric), plus the height.
    s = u[..., 2]
    r_surf = WGS84_A_KM * WGS84_B_KM / np.sqrt((WGS84_B_KM**2) * (1.0 - s * s) + (WGS84_A_KM**2) * s * s)
    lat, lon, _ = geodetic(u * (r_surf + h)[..., None])
    return lat, lon


def _dipole_to_magnetic(lat_deg, lon_deg, height_km, t, sun_dir_itrs):
    basis = _dipole_basis(t)
    r = geodetic_to_itrs(lat_deg, lon_deg, height_km)
    rn = np.linalg.norm(r, axis=-1)
    u = r / rn[..., None]
    lam = np.arcsin(np.clip(u @ basis[2], -1.0, 1.0))
    # Ground footprint of the field line: cos^2(lam0) = cos^2(lam) * R / r.
    lam0 = np.sign(lam) * np.arccos(np.sqrt(np.cos(lam) ** 2 * IGRF_REF_RADIUS_KM / rn))
    mlon = _dipole_mlon_deg(u, basis)
    mlt = (12.0 + (mlon - _dipole_mlon_deg(sun_dir_itrs, basis)) / 15.0) % 24.0
    return np.degrees(lam0), mlt


def _py_datetime(t64) -> _dt.datetime:
    return np.datetime64(t64, "us").item()


def _aacgm_ok(t64, model: str) -> bool:
    if model not in MAGNETIC_MODELS:
        raise InputError(f"unknown magnetic model {model!r}; use one of {', '.join(MAGNETIC_MODELS)}")
    if model == "dipole":
        return False
    inside = AACGM_VALID_UTC[0] <= np.datetime64(t64, "ns") < AACGM_VALID_UTC[1]
    if not inside and model == "aacgmv2":
        raise InputError(
            f"aacgmv2 covers 1900-2030 only, not {np.datetime_as_string(np.datetime64(t64, 's'))}Z; "
            "use magnetic_model='auto' or 'dipole'"
        )
    return bool(inside)


def _mlon_at_midnight(dtime: _dt.datetime) -> float:
    """Return the AACGM longitude at 0 h MLT. AACGM-v2 MLT is linear in magnetic longitude,
    MLT = (mlon - mlon_subsolar) / 15 + 12, so one conversion serves every point (aacgmv2's
    per-point ``convert_mlt`` costs ~15 us each)."""
    import aacgmv2

    return float(np.asarray(aacgmv2.convert_mlt(np.array([0.0]), dtime, m2a=True), float)[0])


def magnetic_to_geographic(mlat_deg, mlt_h, height_km, t, sun_teme_km, inst, model: str = "auto"):
    """Return (lat_deg, lon_deg, used_dipole) for magnetic latitude/MLT points at one instant.

    Args:
        mlat_deg, mlt_h, height_km: arrays (broadcasting) of AACGM latitude (ground-referenced),
            magnetic local time (h) and the height of the point (km).
        t: the instant (datetime64 UTC); sun_teme_km, inst: the Sun vector and Instants of
            that instant (``state.sun_teme_km``, ``state.instants``) for the dipole MLT.
        model: 'auto' (aacgmv2, dipole where it cannot answer), 'aacgmv2' or 'dipole'.
    Returns:
        geodetic lat/lon (deg) of each point and a bool array, True where the dipole was used.
    """
    mlat, mlt, h = np.broadcast_arrays(*(np.asarray(a, float) for a in (mlat_deg, mlt_h, height_km)))
    lat = np.full(mlat.shape, np.nan)
    lon = np.full(mlat.shape, np.nan)
    if _aacgm_ok(t, model):
        import aacgmv2

        dtime = _py_datetime(t)
        mlon = (_mlon_at_midnight(dtime) + 15.0 * mlt.ravel() + 180.0) % 360.0 - 180.0
        la, lo, _ = aacgmv2.convert_latlon_arr(mlat.ravel(), mlon, h.ravel(), dtime, "A2G")
        lat, lon = np.asarray(la, float).reshape(mlat.shape), np.asarray(lo, float).reshape(mlat.shape)
    dip = ~np.isfinite(lat)
    if model == "aacgmv2":
        dip[:] = False
    elif dip.any():
        sun_dir = _subsolar_dir_itrs(sun_teme_km, inst)
        la, lo = _dipole_to_geographic(mlat[dip], mlt[dip], h[dip], t, sun_dir)
        lat[dip], lon[dip] = la, lo
    return lat, lon, dip


def geographic_to_magnetic(lat_deg, lon_deg, height_km, t, sun_teme_km, inst, model: str = "auto"):
    """Return (mlat_deg, mlt_h, used_dipole) for geodetic points at one instant (see
    :func:`magnetic_to_geographic` for the arguments)."""
    lat, lon, h = np.broadcast_arrays(*(np.asarray(a, float) for a in (lat_deg, lon_deg, height_km)))
    mlat = np.full(lat.shape, np.nan)
    mlt = np.full(lat.shape, np.nan)
    if _aacgm_ok(t, model):
        import aacgmv2

        dtime = _py_datetime(t)
        ma, mo, _ = aacgmv2.convert_latlon_arr(lat.ravel(), lon.ravel(), h.ravel(), dtime, "G2A")
        mlat = np.asarray(ma, float).reshape(lat.shape)
        ok = np.isfinite(mlat)
        if ok.any():
            mo_ok = np.asarray(mo, float).reshape(lat.shape)[ok]
            mlt_ok = ((mo_ok - _mlon_at_midnight(dtime)) / 15.0) % 24.0
            mlt[ok] = mlt_ok
    dip = ~np.isfinite(mlat) | ~np.isfinite(mlt)
    if model == "aacgmv2":
        dip[:] = False
    elif dip.any():
        sun_dir = _subsolar_dir_itrs(sun_teme_km, inst)
        ma, mt = _dipole_to_magnetic(lat[dip], lon[dip], h[dip], t, sun_dir)
        mlat[dip], mlt[dip] = ma, mt
    return mlat, mlt, dip


# -- magnetic -> geographic, tabulated per day -----------------------------------------------------
# AACGM-v2 conversions cost ~0.5 us a point and its coefficients change over years, not hours, so
# each UTC day gets one table: the geographic position (ITRS unit vector and radius) of every
# (|magnetic latitude|, magnetic longitude) node, for both hemispheres and each emission height,
# converted at noon of that day. An oval point at an instant is a bilinear look-up in that table
# (unit vector renormalised): within 0.7 km of a direct aacgmv2 conversion (tests/test_aurora.py),
# against an oval whose boundaries are statistical to ~1 deg. The oval never reaches below
# |mlat| ~ 47 deg (Kp 9, diffuse edge), so the table starts at 40.
TABLE_MLAT_MIN_DEG = 40.0
TABLE_MLAT_STEP_DEG = 0.5
TABLE_MLON_STEP_DEG = 2.0
_N_TABLE_MLAT = int(round((90.0 - TABLE_MLAT_MIN_DEG) / TABLE_MLAT_STEP_DEG)) + 1
_N_TABLE_MLON = int(round(360.0 / TABLE_MLON_STEP_DEG)) + 1  # -180 .. +180 (the seam repeated)
_NS_PER_DAY = 86_400 * 1_000_000_000


@dataclass(frozen=True, eq=False)
class MagneticTable:
    """Geographic positions of a (hemisphere, height, |mlat|, mlon) grid on one UTC day."""

    day_utc: np.datetime64
    model: str  # 'aacgmv2' or 'dipole'
    heights_km: np.ndarray  # (H,)
    unit_itrs: np.ndarray  # (2, H, n_mlat, n_mlon, 3); hemisphere 0 north, 1 south
    radius_km: np.ndarray  # (2, H, n_mlat, n_mlon)
    dipole: np.ndarray  # bool, same shape as radius_km: nodes aacgmv2 left undefined, filled by the dipole


def _table_model(day_ns: int, model: str) -> str:
    if model not in MAGNETIC_MODELS:
        raise InputError(f"unknown magnetic model {model!r}; use one of {', '.join(MAGNETIC_MODELS)}")
    if model == "dipole":
        return "dipole"
    inside = AACGM_VALID_UTC[0] <= np.datetime64(day_ns, "ns") < AACGM_VALID_UTC[1]
    if not inside and model == "aacgmv2":
        raise InputError(
            f"aacgmv2 covers 1900-2030 only, not {np.datetime_as_string(np.datetime64(day_ns, 'ns'), unit='D')}; "
            "use magnetic_model='auto' or 'dipole'"
        )
    return "aacgmv2" if inside else "dipole"


@functools.lru_cache(maxsize=16)
def magnetic_table(day_ns: int, model: str = "auto") -> MagneticTable:
    """Return the :class:`MagneticTable` of the UTC day starting at `day_ns` (ns since 1970)."""
    kind = _table_model(day_ns, model)
    noon = np.datetime64(day_ns + _NS_PER_DAY // 2, "ns")
    heights = np.array([line.peak_km for line in AURORA_LINES])
    mlat = TABLE_MLAT_MIN_DEG + TABLE_MLAT_STEP_DEG * np.arange(_N_TABLE_MLAT)
    mlon = -180.0 + TABLE_MLON_STEP_DEG * np.arange(_N_TABLE_MLON)
    sign = np.array([1.0, -1.0])
    shape = (2, heights.size, mlat.size, mlon.size)
    m_lat = (sign[:, None, None, None] * mlat[None, None, :, None]) * np.ones(shape)
    m_lon = np.broadcast_to(mlon[None, None, None, :], shape)
    h = np.broadcast_to(heights[None, :, None, None], shape)
    lat = np.full(shape, np.nan)
    lon = np.full(shape, np.nan)
    if kind == "aacgmv2":
        import aacgmv2

        la, lo, _ = aacgmv2.convert_latlon_arr(m_lat.ravel(), m_lon.ravel(), h.ravel(), _py_datetime(noon), "A2G")
        lat, lon = np.asarray(la, float).reshape(shape), np.asarray(lo, float).reshape(shape)
    dip = ~np.isfinite(lat)
    if model == "aacgmv2":
        dip[:] = False
    elif dip.any():
        la, lo = _dipole_mlon_to_geographic(m_lat[dip], m_lon[dip], h[dip], _dipole_basis(noon))
        lat[dip], lon[dip] = la, lo
    p = geodetic_to_itrs(lat, lon, h)
    r = np.linalg.norm(p, axis=-1)
    for a in (p, r, dip):
        a.setflags(write=False)
    return MagneticTable(np.datetime64(day_ns, "ns"), kind, heights, p / r[..., None], r, dip)


def _mlon_at_midnight_deg(t64: np.ndarray, tables: list[MagneticTable], day_index: np.ndarray,
                          sun_dir_itrs: np.ndarray) -> np.ndarray:
    """Return the magnetic longitude (deg) at 0 h MLT for each instant (flat arrays): one
    vectorised aacgmv2 call (AACGM-v2 MLT is linear in magnetic longitude, MLT = (mlon -
    mlon_subsolar) / 15 + 12; aacgmv2 reads whole seconds), or the dipole's subsolar longitude."""
    out = np.full(t64.shape, np.nan)
    for k, table in enumerate(tables):
        sel = np.flatnonzero(day_index == k)
        if table.model == "aacgmv2":
            import aacgmv2

            # aacgmv2's MLT conversion reads coefficients left set by the previous conversion
            # (~2e-5 deg of magnetic longitude apart, depending on what ran before): one
            # conversion at the table's reference time first makes the answer reproducible.
            noon = _py_datetime(table.day_utc + np.timedelta64(_NS_PER_DAY // 2, "ns"))
            aacgmv2.convert_latlon_arr(np.array([60.0]), np.array([0.0]), np.array([110.0]), noon, "G2A")
            times = t64[sel].astype("datetime64[us]").tolist()
            out[sel] = np.asarray(aacgmv2.convert_mlt(np.zeros(sel.size), times, m2a=True), float)
        else:
            basis = _dipole_basis(table.day_utc + np.timedelta64(_NS_PER_DAY // 2, "ns"))
            out[sel] = _dipole_mlon_deg(sun_dir_itrs[sel], basis) - 180.0
    return out


def _days(t64: np.ndarray, model: str):
    """Return (tables, index of each instant's table) for the UTC days of `t64` (flat)."""
    day_ns = np.floor_divide(t64.astype(np.int64), _NS_PER_DAY) * _NS_PER_DAY
    uniq, inv = np.unique(day_ns, return_inverse=True)
    return [magnetic_table(int(d), model) for d in uniq], inv.reshape(t64.shape)


# -- the oval's sampled points -------------------------------------------------------------------
def _band_mlat(kp: np.ndarray, n_mlt: int) -> np.ndarray:
    """Return the magnetic latitudes (deg, northern) of the sampled oval rows (T, kinds, n_mlt):
    the three boundaries, then points across the discrete band (``_INSIDE_FRACTIONS``)."""
    mlt = np.arange(n_mlt) * (24.0 / n_mlt)
    # Once per distinct Kp (the history's 3-hour values: a few dozen among thousands of instants).
    k, inv = np.unique(np.asarray(kp, float), return_inverse=True)
    colat = {b: oval_colatitude_deg(mlt[None, :], k[:, None], b) for b in BOUNDARIES}
    eq, pole = 90.0 - colat["equatorward"], 90.0 - colat["poleward"]
    rows = [pole, eq, 90.0 - colat["diffuse"]] + [eq + f * (pole - eq) for f in _INSIDE_FRACTIONS]
    return np.stack(rows, axis=1)[inv.reshape(-1)]


_KINDS = np.array([0, 1, 2] + [3] * len(_INSIDE_FRACTIONS), np.int8)  # KIND_NAMES index per row


def _lookup(table: MagneticTable, hemi, h_idx, abs_mlat, mlon):
    """Bilinear table look-up (broadcasting): ITRS positions (..., 3) km and whether a dipole node
    was used."""
    fi = np.clip((abs_mlat - TABLE_MLAT_MIN_DEG) / TABLE_MLAT_STEP_DEG, 0.0, _N_TABLE_MLAT - 1.0)
    i0 = np.minimum(fi.astype(np.int64), _N_TABLE_MLAT - 2)
    fi = fi - i0
    x = mlon + 180.0
    fj = (x - 360.0 * np.floor(x / 360.0)) / TABLE_MLON_STEP_DEG
    j0 = np.minimum(fj.astype(np.int64), _N_TABLE_MLON - 2)
    fj = fj - j0
    idx = [(i0, j0, (1 - fi) * (1 - fj)), (i0, j0 + 1, (1 - fi) * fj), (i0 + 1, j0, fi * (1 - fj)),
           (i0 + 1, j0 + 1, fi * fj)]
    u = sum(w[..., None] * table.unit_itrs[hemi, h_idx, i, j] for i, j, w in idx)
    r = sum(w * table.radius_km[hemi, h_idx, i, j] for i, j, w in idx)
    dip = np.zeros(np.shape(r), bool)
    for i, j, _ in idx:
        dip |= table.dipole[hemi, h_idx, i, j]
    return u / np.linalg.norm(u, axis=-1, keepdims=True) * r[..., None], dip


def _point_layout(n_mlt: int):
    """Return per point (hemisphere index, kind row, MLT index, height index) of the flat layout
    (hemisphere, kind row, MLT, height) used by every oval array."""
    shape = (2, _KINDS.size, n_mlt, len(AURORA_LINES))
    return [a.ravel() for a in np.indices(shape)]


def _oval_points_numpy(table, band, mlon_mid, r_itrs, sun_itrs, n_mlt, dark_deg):
    """Return the oval points of instants sharing one table (numpy; the reference of
    :func:`_oval_kernel`): dict of (T, P) arrays (P = 2 x rows x n_mlt x heights)."""
    hemi, row, j, hk = _point_layout(n_mlt)
    mlt = j * (24.0 / n_mlt)
    abs_mlat = band[:, row, j]  # (T, P)
    mlon = mlon_mid[:, None] + 15.0 * mlt[None, :]
    p, dip = _lookup(table, hemi[None, :], hk[None, :], abs_mlat, mlon)
    ok = np.all(np.isfinite(p), axis=-1)
    pz = np.where(ok[..., None], p, 0.0)
    lat, lon, _ = geodetic(pz)
    d = pz - r_itrs[:, None, :]
    dist = np.linalg.norm(d, axis=-1)
    u = d / np.where(dist > 0, dist, 1.0)[..., None]
    near, _ = ray_ellipsoid(np.broadcast_to(r_itrs[:, None, :], u.shape), u, 0.0)
    blocked = np.isfinite(near) & (near > 0.0) & (near < dist)
    ground = geodetic_to_itrs(lat, lon, 0.0)
    up = enu_basis(lat, lon)[..., 2, :]
    s = unit(sun_itrs[:, None, :] - ground)
    sun_el = np.degrees(np.arcsin(np.clip(np.sum(s * up, axis=-1), -1.0, 1.0)))
    cosang = np.clip(np.sum(unit(pz) * unit(r_itrs)[:, None, :], axis=-1), -1.0, 1.0)
    return {
        "p_itrs": p, "lat": np.where(ok, lat, np.nan), "lon": np.where(ok, lon, np.nan),
        "mlat": (1.0 - 2.0 * hemi)[None, :] * abs_mlat, "mlt": np.broadcast_to(mlt, abs_mlat.shape),
        "hemi": hemi, "kind": _KINDS[row], "h_idx": hk, "ok": ok, "dipole": dip & ok,
        "in_view": ok & ~blocked, "dark": ok & (sun_el < dark_deg), "d": d,
        "ground_km": np.where(ok, np.arccos(cosang) * R_EARTH_KM, np.inf),
    }


def _summary_numpy(pts):
    """Reduce :func:`_oval_points_numpy` per instant: (visible, best point, vector to it, nearest
    green discrete distance, line in view (T, H), dipole used)."""
    discrete = pts["kind"] != KIND_NAMES.index("diffuse")
    vis = pts["in_view"] & pts["dark"] & discrete[None, :]
    best = np.argmin(np.where(vis, pts["ground_km"], np.inf), axis=1)
    any_vis = vis.any(axis=1)
    rows = np.arange(vis.shape[0])
    green = discrete & (pts["h_idx"] == GREEN)
    min_green = np.min(np.where(green[None, :], pts["ground_km"], np.inf), axis=1)
    em = np.stack([(vis & (pts["h_idx"] == k)[None, :]).any(axis=1) for k in range(len(AURORA_LINES))], axis=1)
    return (any_vis, np.where(any_vis, best, -1), pts["d"][rows, best], min_green, em,
            (pts["dipole"]).any(axis=1))


@inline
def _bilinear_point(unit_t, radius_t, dip_t, hemi, hk, abs_mlat, mlon, out):  # pragma: no cover - jit
    """Kernel twin of :func:`_lookup` for one point: writes the ITRS position into `out` and
    returns whether a dipole node was used."""
    fi = (abs_mlat - TABLE_MLAT_MIN_DEG) / TABLE_MLAT_STEP_DEG
    fi = min(max(fi, 0.0), _N_TABLE_MLAT - 1.0)
    i0 = min(int(fi), _N_TABLE_MLAT - 2)
    fi -= i0
    x = mlon + 180.0
    x = x - 360.0 * math.floor(x / 360.0)
    fj = x / TABLE_MLON_STEP_DEG
    j0 = min(int(fj), _N_TABLE_MLON - 2)
    fj -= j0
    w00, w01, w10, w11 = (1 - fi) * (1 - fj), (1 - fi) * fj, fi * (1 - fj), fi * fj
    un = 0.0
    for c in range(3):
        out[c] = (w00 * unit_t[hemi, hk, i0, j0, c] + w01 * unit_t[hemi, hk, i0, j0 + 1, c]
                  + w10 * unit_t[hemi, hk, i0 + 1, j0, c] + w11 * unit_t[hemi, hk, i0 + 1, j0 + 1, c])
        un += out[c] * out[c]
    r = (w00 * radius_t[hemi, hk, i0, j0] + w01 * radius_t[hemi, hk, i0, j0 + 1]
         + w10 * radius_t[hemi, hk, i0 + 1, j0] + w11 * radius_t[hemi, hk, i0 + 1, j0 + 1])
    f = r / math.sqrt(un)
    for c in range(3):
        out[c] *= f
    return (dip_t[hemi, hk, i0, j0] or dip_t[hemi, hk, i0, j0 + 1] or dip_t[hemi, hk, i0 + 1, j0]
            or dip_t[hemi, hk, i0 + 1, j0 + 1])


@inline
def _geodetic_latlon(x, y, z, a, e2):  # pragma: no cover - jit
    """frames.geodetic (Bowring's iteration, 3 rounds) for one point: (lat, lon) in radians."""
    p = math.sqrt(x * x + y * y)
    lat = math.atan2(z, p * (1.0 - e2))
    for _ in range(3):
        s = math.sin(lat)
        n = a / math.sqrt(1.0 - e2 * s * s)
        lat = math.atan2(z + e2 * n * s, p)
    return lat, math.atan2(y, x)


# Exact pruning in the kernel (`prune`, used when a table has no dipole node and no NaN): a point
# whose green-line twin (same row and MLT) lies farther from the station than the sight line over
# a sphere of the polar radius b reaches (arccos(b/r_station) + arccos(b/r_highest point of its
# line)), plus the largest angle between a point and its twin (1.6 x the table's largest chord
# between heights, ~1 deg) and this margin, cannot be in view and is not looked up. An
# in-view point whose Sun stands this much above the darkness threshold, measured from the
# geocentric direction (within 0.2 deg of the geodetic normal's), skips the geodetic foot.
# Neither skip changes an answer (a test runs the kernel both ways).
_PRUNE_MARGIN_RAD = math.radians(0.5)
_LIT_MARGIN_DEG = 0.5


@kernel(parallel=True)
def _oval_kernel(band, kinds, mlon_mid, r_itrs, sun_itrs, unit_t, radius_t, dip_t, n_heights, a, b, e2, r_mean,
                 dark_deg, diffuse_kind, green, prune, sep_rad, r_top, vis_any, best_k, best_d, min_green, em_vis,
                 dip_used):  # pragma: no cover - jit
    """Per instant: every oval point (hemisphere x kind row x MLT x height) looked up in the table,
    tested for a clear line of sight over the WGS84 ellipsoid and dark ground below, then reduced
    as :func:`_summary_numpy` does. The green-line points of the discrete rows are looked up first
    (their nearest distance is every instant's answer); with `prune` (a table without dipole nodes
    or NaN) the points that cannot be in view or dark are skipped (``_PRUNE_MARGIN_RAD``)."""
    nt, nrow, nmlt = band.shape
    kz = a / b
    sin_lit = math.sin(math.radians(dark_deg + _LIT_MARGIN_DEG))
    for i in nb.prange(nt):
        ox, oy, oz = r_itrs[i, 0], r_itrs[i, 1], r_itrs[i, 2]
        ro = math.sqrt(ox * ox + oy * oy + oz * oz)
        sn_ = math.sqrt(sun_itrs[i, 0] ** 2 + sun_itrs[i, 1] ** 2 + sun_itrs[i, 2] ** 2)
        sux, suy, suz = sun_itrs[i, 0] / sn_, sun_itrs[i, 1] / sn_, sun_itrs[i, 2] / sn_
        reach = np.empty(n_heights)  # beyond this angle from the station a point of line hk is hidden
        for hk in range(n_heights):
            reach[hk] = math.acos(min(b / ro, 1.0)) + math.acos(min(b / r_top[hk], 1.0)) if ro > b else math.inf
        p = np.empty(3)
        gp = np.empty((nrow, nmlt, 3))  # the green-line points of the discrete rows, looked up once
        gdip = np.zeros((nrow, nmlt), np.bool_)
        gang = np.full((nrow, nmlt), np.nan)  # their angle from the station (rad)
        mlon_j = np.empty(nmlt)
        for j in range(nmlt):
            mlon_j[j] = mlon_mid[i] + 15.0 * (j * (24.0 / nmlt))
        best = math.inf
        vis_any[i] = False
        best_k[i] = -1
        min_green[i] = math.inf
        dip_used[i] = False
        for hk in range(n_heights):
            em_vis[i, hk] = False
        k = -1
        for hemi in range(2):
            for row in range(nrow):
                if kinds[row] == diffuse_kind:
                    continue
                for j in range(nmlt):
                    q = gp[row, j]
                    gdip[row, j] = _bilinear_point(unit_t, radius_t, dip_t, hemi, green, band[i, row, j], mlon_j[j], q)
                    qn = math.sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2])
                    gang[row, j] = math.acos(min(max((q[0] * ox + q[1] * oy + q[2] * oz) / (qn * ro), -1.0), 1.0))
            for row in range(nrow):
                discrete = kinds[row] != diffuse_kind
                for j in range(nmlt):
                    for hk in range(n_heights):
                        k += 1
                        is_green = discrete and hk == green
                        # (NaN angles never compare greater: no pruning there)
                        far = prune and discrete and gang[row, j] - sep_rad[hemi] - _PRUNE_MARGIN_RAD > reach[hk]
                        if prune and not is_green and (far or not discrete):
                            continue  # nothing to add: not in view, no dipole node, no NaN
                        if is_green:
                            p[0], p[1], p[2] = gp[row, j, 0], gp[row, j, 1], gp[row, j, 2]
                            dip = gdip[row, j]
                        else:
                            dip = _bilinear_point(unit_t, radius_t, dip_t, hemi, hk, band[i, row, j], mlon_j[j], p)
                        if not (math.isfinite(p[0]) and math.isfinite(p[1]) and math.isfinite(p[2])):
                            continue
                        if dip:
                            dip_used[i] = True
                        pn = math.sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2])
                        if is_green:
                            ground_km = gang[row, j] * r_mean
                        else:
                            c = (p[0] * ox + p[1] * oy + p[2] * oz) / (pn * ro)
                            ground_km = math.acos(min(max(c, -1.0), 1.0)) * r_mean
                        if is_green and ground_km < min_green[i]:
                            min_green[i] = ground_km
                        if not discrete or far:
                            continue
                        # Line of sight: does the ray meet the ellipsoid before the point?
                        dx, dy, dz = p[0] - ox, p[1] - oy, p[2] - oz
                        dist = math.sqrt(dx * dx + dy * dy + dz * dz)
                        ux, uy, uz = dx / dist, dy / dist, dz / dist * kz
                        sn = math.sqrt(ux * ux + uy * uy + uz * uz)
                        bq = (ox * ux + oy * uy + oz * kz * uz) / sn
                        cq = ox * ox + oy * oy + (oz * kz) ** 2 - a * a
                        disc = bq * bq - cq
                        if disc >= 0.0:
                            near = (-bq - math.sqrt(disc)) / sn
                            if near > 0.0 and near < dist:
                                continue
                        if prune and (p[0] * sux + p[1] * suy + p[2] * suz) / pn > sin_lit:
                            continue  # sunlit ground: clearly above the threshold
                        # Dark ground below: Sun elevation at the point's geodetic foot.
                        lat, lon = _geodetic_latlon(p[0], p[1], p[2], a, e2)
                        sl, cl = math.sin(lat), math.cos(lat)
                        so, co = math.sin(lon), math.cos(lon)
                        nn = a / math.sqrt(1.0 - e2 * sl * sl)
                        gx, gy, gz = nn * cl * co, nn * cl * so, nn * (1.0 - e2) * sl
                        sx, sy, sz = sun_itrs[i, 0] - gx, sun_itrs[i, 1] - gy, sun_itrs[i, 2] - gz
                        s_el = (sx * cl * co + sy * cl * so + sz * sl) / math.sqrt(sx * sx + sy * sy + sz * sz)
                        if not math.degrees(math.asin(min(max(s_el, -1.0), 1.0))) < dark_deg:
                            continue
                        vis_any[i] = True
                        em_vis[i, hk] = True
                        if ground_km < best:
                            best = ground_km
                            best_k[i] = k
                            best_d[i, 0], best_d[i, 1], best_d[i, 2] = dx, dy, dz


def _prune_bounds(table) -> tuple[bool, np.ndarray, float]:
    """Return (whether the kernel may prune with `table`: no dipole node, no NaN; per hemisphere
    the bound on the angle between a point and its green-line twin, rad; per line the largest
    radius, km)."""
    u, r = table.unit_itrs, table.radius_km
    if table.dipole.any() or not (np.isfinite(u).all() and np.isfinite(r).all()):
        return False, np.zeros(2), np.full(len(AURORA_LINES), np.inf)
    chord = np.linalg.norm(u - u[:, GREEN:GREEN + 1], axis=-1).reshape(2, -1).max(axis=1)
    return True, 1.6 * chord, r.max(axis=(0, 2, 3))


def _summary(table, band, mlon_mid, r_itrs, sun_itrs, n_mlt, dark_deg, prune: bool = True):
    """Run :func:`_oval_kernel` (or its numpy reference: :func:`cupola.jit.use_twins`); `prune`
    False runs the kernel over every point (the tests' check of the pruning)."""
    t = band.shape[0]
    nh = len(AURORA_LINES)
    if use_twins(t):
        outs = [_summary_numpy(_oval_points_numpy(table, band[a:a + 64], mlon_mid[a:a + 64], r_itrs[a:a + 64],
                                                  sun_itrs[a:a + 64], n_mlt, dark_deg)) for a in range(0, t, 64)]
        return tuple(np.concatenate([o[k] for o in outs]) for k in range(6))
    vis_any, best_k = np.empty(t, bool), np.empty(t, np.int64)
    best_d, min_green = np.full((t, 3), np.nan), np.empty(t)
    em, dip = np.empty((t, nh), bool), np.empty(t, bool)
    can, sep, r_top = _prune_bounds(table)
    _oval_kernel(np.ascontiguousarray(band), _KINDS, np.ascontiguousarray(mlon_mid), np.ascontiguousarray(r_itrs),
                 np.ascontiguousarray(sun_itrs), table.unit_itrs, table.radius_km, table.dipole, nh,
                 WGS84_A_KM, WGS84_B_KM, WGS84_E2, R_EARTH_KM, float(dark_deg), KIND_NAMES.index("diffuse"),
                 GREEN, bool(prune and can), sep, r_top, vis_any, best_k, best_d, min_green, em, dip)
    return vis_any, best_k, best_d, min_green, em, dip


# -- the view ------------------------------------------------------------------------------------
def storm_scale(kp) -> np.ndarray:
    """Return the NOAA space-weather G-scale level for Kp: 'G0' below 5, 'G1' (Kp 5) ... 'G5' (Kp 9)
    ('' where Kp is NaN); an array shaped like `kp` (a str for a scalar)."""
    k = np.asarray(kp, float)
    level = np.floor(np.where(np.isfinite(k), k, 0.0) + 1e-9).astype(int)
    out = np.where(level < 5, "G0", np.char.add("G", (np.minimum(level, 9) - 4).astype(str)))
    out = np.where(np.isfinite(k), out, "").astype(object)
    return str(out) if out.ndim == 0 else out


@dataclass(frozen=True, eq=False)
class AuroraView:
    """The statistical auroral oval seen from the station.

    Shape rule (every ``*View``): each per-instant field is an array shaped like the instants
    (a numpy scalar for one instant), with trailing axes for per-instant lists; ``lines`` is
    constant metadata. Instants with no Kp hold NaN / '' / False (the Scene says why).
    """

    t_utc: np.ndarray
    kp: np.ndarray
    kp_symbol: np.ndarray  # '3o', '5-' ... ('' without Kp)
    kp_is_prediction: np.ndarray
    kp_source: np.ndarray  # 'observed', 'predicted' (file forecast) or 'given' (caller's value)
    kp_interval_start_utc: np.ndarray  # NaT for a given Kp
    visible: np.ndarray  # part of the discrete oval is above the horizon over dark ground
    hemisphere: np.ndarray  # 'north' / 'south' of the nearest visible oval point ('' when none)
    azimuth_deg: np.ndarray  # of the nearest visible oval point (NaN when none), from the station
    elevation_deg: np.ndarray  # negative = below the local horizontal (the ISS looks down on it)
    distance_km: np.ndarray  # ground distance sub-station point -> nearest oval point (0 inside)
    iss_mlat_deg: np.ndarray  # magnetic latitude / MLT of the sub-station point at 110 km
    iss_mlt_h: np.ndarray
    lines_in_view: np.ndarray  # bool, trailing axis over ``lines``
    intensity: np.ndarray  # |AL| estimated from Kp, nT (activity proxy, not a radiance)
    storm_scale: np.ndarray  # NOAA G-scale: 'G0' (no storm) .. 'G5'
    magnetic_model: np.ndarray  # 'aacgmv2', 'dipole' or 'aacgmv2+dipole'
    note: np.ndarray
    lines: tuple[AuroraLine, ...] = AURORA_LINES

    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.kp)

    @property
    def emissions(self) -> list[dict]:
        """Return, for one instant, each line with its heights, colour and whether it is in view."""
        if self.shape != ():
            raise InputError("emissions lists one instant; index the series first, e.g. scenes[i].aurora")
        return [{"line": ln.line, "wavelength_nm": ln.wavelength_nm, "height_km": ln.peak_km,
                 "height_range_km": ln.range_km, "colour": ln.colour, "in_view": bool(self.lines_in_view[k])}
                for k, ln in enumerate(self.lines)]

    def __getitem__(self, i) -> "AuroraView":
        """Return the view of instant `i` (flat index) of a series."""
        if self.shape == ():
            raise InputError("this view holds one instant; there is nothing to index")
        return take_instant(self, check_index(i, int(np.prod(self.shape))), self.shape)


def _kp_values(t64, kp, kp_path):
    """Return (kp, is_prediction, source, interval start) for flat instants (NaN without Kp)."""
    n = t64.size
    if kp is None:
        kv = kp_at(t64, kp_path, missing="nan")
        known = np.isfinite(kv.kp)
        source = np.where(known, np.where(kv.is_prediction, "predicted", "observed"), "").astype(object)
        return kv.kp, kv.is_prediction, source, kv.interval_start_utc
    try:
        value = float(kp)
    except (TypeError, ValueError):
        value = math.nan
    if not 0.0 <= value <= 9.0:
        raise InputError(f"kp must lie in 0..9, got {kp!r}", param="kp")
    return (np.full(n, value), np.zeros(n, bool), np.full(n, "given", dtype=object),
            np.full(n, np.datetime64("NaT", "ns")))


def aurora_in_view(state, kp: float | None = None, n_mlt: int = N_MLT,
                   dark_sun_elev_deg: float = DARK_SUN_ELEV_DEG, magnetic_model: str = "auto",
                   kp_path=None, missing: str = "raise") -> AuroraView:
    """Return the auroral oval as seen from the station at each instant of `state`.

    The Feldstein-Starkov oval of each instant's Kp is sampled (three boundaries and points
    across the discrete band, every 24/`n_mlt` h of MLT, both hemispheres, each line's peak
    height), placed on the globe through the day's :class:`MagneticTable`, and tested from the
    station: in view over the WGS84 ellipsoid, dark ground below. One numba pass over instants
    x points (numpy twin under ``CUPOLA_NO_JIT=1``); no Python loop per instant.

    Args:
        state: a :class:`cupola.orbit.State` of any shape.
        kp: Kp to use at every instant (0-9); default the bundled history's value at each instant
            (observed, or a flagged prediction).
        n_mlt: MLT samples per boundary and hemisphere (96: one every 15 min of MLT).
        dark_sun_elev_deg: the ground beneath an oval point counts as dark below this Sun elevation.
        magnetic_model: 'auto' (AACGM-v2, centred dipole outside 1900-2030 or where AACGM is
            undefined), 'aacgmv2', or 'dipole'.
        kp_path: an alternative CelesTrak SW-All.txt for the Kp history.
        missing: 'raise' (DataMissingError when an instant has no Kp) or 'nan' (those instants
            hold NaN).
    Returns:
        AuroraView shaped like the state (angles in deg from the station's local horizontal
        frame, distances in km).
    """
    if n_mlt < 8:
        raise InputError(f"n_mlt must be at least 8, got {n_mlt}")
    if missing not in ("raise", "nan"):
        raise InputError(f"missing must be 'raise' or 'nan', got {missing!r}")
    shape = np.shape(state.t_utc)
    t64 = np.asarray(state.t_utc, "datetime64[ns]").ravel()
    n = t64.size
    kp_v, is_pred, source, interval = _kp_values(t64, kp, kp_path)
    known = np.isfinite(kp_v)
    if missing == "raise" and not known.all():
        raise DataMissingError(kp_missing_message(t64[~known][0], kp_path))
    r_itrs = np.asarray(state.r_itrs_km, float).reshape(-1, 3)
    inst = state.instants
    sun_itrs = rotate_z(np.asarray(state.sun_teme_km, float).reshape(-1, 3), gmst82(inst)[0].ravel())
    good = known & np.all(np.isfinite(r_itrs), axis=-1)

    vis = np.zeros(n, bool)
    az = np.full(n, np.nan)
    el = np.full(n, np.nan)
    hemi = np.full(n, "", dtype=object)
    min_green = np.full(n, np.nan)
    em = np.zeros((n, len(AURORA_LINES)), bool)
    dip_used = np.zeros(n, bool)
    iss_mlat = np.full(n, np.nan)
    iss_mlt = np.full(n, np.nan)
    iss_dip = np.zeros(n, bool)
    model_name = np.full(n, "", dtype=object)
    if good.any():
        gi = np.flatnonzero(good)
        tables, day_idx = _days(t64[gi], magnetic_model)
        mlon_mid = _mlon_at_midnight_deg(t64[gi], tables, day_idx, unit(sun_itrs[gi]))
        band = _band_mlat(kp_v[gi], n_mlt)
        for k, table in enumerate(tables):
            sel = np.flatnonzero(day_idx == k)
            out = _summary(table, band[sel], mlon_mid[sel], r_itrs[gi[sel]], sun_itrs[gi[sel]], n_mlt,
                           dark_sun_elev_deg)
            v, best_k, best_d, mg, e, dp = out
            idx = gi[sel]
            vis[idx], min_green[idx], em[idx], dip_used[idx] = v, mg, e, dp
            a, b = azel_deg(r_itrs[idx], best_d)
            az[idx] = np.where(v, a, np.nan)
            el[idx] = np.where(v, b, np.nan)
            per_hemisphere = _KINDS.size * n_mlt * len(AURORA_LINES)
            hemi[idx] = np.where(v, np.where(best_k < per_hemisphere, "north", "south"), "")
            m_lat, m_lt, m_dip = _iss_magnetic(state, idx, table, mlon_mid[sel], magnetic_model == "aacgmv2")
            iss_mlat[idx], iss_mlt[idx], iss_dip[idx] = m_lat, m_lt, m_dip
        a_iss = np.abs(iss_mlat[gi])
        inside = ((oval_mlat_deg(iss_mlt[gi], kp_v[gi], "equatorward") <= a_iss)
                  & (a_iss <= oval_mlat_deg(iss_mlt[gi], kp_v[gi], "poleward")))
        min_green[gi] = np.where(inside, 0.0, min_green[gi])
        used_dip = dip_used[gi] | iss_dip[gi]
        table_dip = np.array([t.model == "dipole" for t in tables])[day_idx]
        model_name[gi] = np.where(table_dip, "dipole", np.where(used_dip, "aacgmv2+dipole", "aacgmv2"))

    al = np.where(known, kp_to_al_nt(np.where(known, kp_v, 0.0)), np.nan)
    sym = np.where(known, np.asarray(kp_symbol(np.where(known, kp_v, 0.0))), "").astype(object)
    scale = np.asarray(storm_scale(kp_v), dtype=object).reshape(n)
    note = _notes(sym, source, interval, scale, al, model_name, dark_sun_elev_deg, known)

    def r(a):
        return shaped(a, shape)

    return AuroraView(
        t_utc=r(t64), kp=r(kp_v), kp_symbol=r(sym), kp_is_prediction=r(is_pred.astype(bool)), kp_source=r(source),
        kp_interval_start_utc=r(interval), visible=r(vis), hemisphere=r(hemi), azimuth_deg=r(az),
        elevation_deg=r(el), distance_km=r(min_green), iss_mlat_deg=r(iss_mlat), iss_mlt_h=r(iss_mlt),
        lines_in_view=r(em), intensity=r(al), storm_scale=r(scale), magnetic_model=r(model_name), note=r(note),
    )


def _iss_magnetic(state, flat_idx, table: MagneticTable, mlon_mid, strict: bool):
    """Return (mlat, MLT, used dipole) of the sub-station points at the green line's height
    (`strict`: no dipole where aacgmv2 is undefined, NaN instead)."""
    lat = np.asarray(state.lat_deg, float).ravel()[flat_idx]
    lon = np.asarray(state.lon_deg, float).ravel()[flat_idx]
    h = np.full(lat.shape, AURORA_LINES[GREEN].peak_km)
    mlat = np.full(lat.shape, np.nan)
    mlon = np.full(lat.shape, np.nan)
    noon = table.day_utc + np.timedelta64(_NS_PER_DAY // 2, "ns")
    if table.model == "aacgmv2":
        import aacgmv2

        ma, mo, _ = aacgmv2.convert_latlon_arr(lat, lon, h, _py_datetime(noon), "G2A")
        mlat, mlon = np.asarray(ma, float), np.asarray(mo, float)
    dip = ~(np.isfinite(mlat) & np.isfinite(mlon)) & (not strict)
    if dip.any():
        basis = _dipole_basis(noon)
        r = geodetic_to_itrs(lat[dip], lon[dip], h[dip])
        rn = np.linalg.norm(r, axis=-1)
        u = r / rn[..., None]
        lam = np.arcsin(np.clip(u @ basis[2], -1.0, 1.0))
        lam0 = np.sign(lam) * np.arccos(np.sqrt(np.cos(lam) ** 2 * IGRF_REF_RADIUS_KM / rn))
        mlat[dip] = np.degrees(lam0)
        mlon[dip] = _dipole_mlon_deg(u, basis)
        if table.model == "aacgmv2":
            # The MLT origin of an aacgmv2 table is AACGM's; the dipole's own is needed here.
            sun = np.asarray(state.sun_teme_km, float).reshape(-1, 3)[flat_idx][dip]
            theta = gmst82(state.instants)[0].ravel()[flat_idx][dip]
            mlon_mid = mlon_mid.copy()
            mlon_mid[dip] = _dipole_mlon_deg(unit(rotate_z(sun, theta)), basis) - 180.0
    return mlat, np.mod((mlon - mlon_mid) / 15.0, 24.0), dip & (table.model == "aacgmv2")


def _notes(sym, source, interval, scale, al, model_name, dark_deg, known) -> np.ndarray:
    """Return the note of each instant, built once per distinct (Kp, interval, model): no Python
    call per instant."""
    out = np.full(sym.shape, "", dtype=object)
    rows = np.flatnonzero(known)
    if rows.size == 0:
        return out
    # One integer code per instant from the codes of each part of the key.
    code = np.zeros(rows.size, np.int64)
    for part in (sym[rows].astype(str), source[rows].astype(str), interval[rows].astype(np.int64),
                 model_name[rows].astype(str)):
        uniq, inv = np.unique(part, return_inverse=True)
        code = code * uniq.size + inv.reshape(-1)
    _, first, inv = np.unique(code, return_index=True, return_inverse=True)
    notes = np.array([_note(sym[k], source[k], interval[k], scale[k], float(al[k]), model_name[k], dark_deg)
                      for k in rows[first]], dtype=object)
    out[rows] = notes[inv.reshape(-1)]
    return out


def _note(sym, source, interval, scale, al, model_name, dark_deg) -> str:
    from ..timebase import iso_utc

    if source == "given":
        kp_txt = f"Kp {sym} (given by the caller)"
    else:
        start = iso_utc(interval)
        kp_txt = f"Kp {sym} ({source}, 3-hour interval from {start})"
        if source == "predicted":
            kp_txt += (": a PREDICTION (CelesTrak/NOAA SWPC daily forecast after the observed "
                       "record), not a measurement")
    storm = "no geomagnetic storm" if scale == "G0" else f"NOAA storm level {scale}"
    return (
        f"{kp_txt}; {storm}. Oval: Feldstein-Starkov statistical boundaries for this Kp "
        f"(Starkov 1994), placed with {model_name} magnetic coordinates. 'visible' means part of "
        f"the discrete oval is above the station's horizon over ground where the Sun is below "
        f"{dark_deg:g} deg; it says where aurora is likely, not that it is bright now. "
        f"intensity = |AL| ~{al:.0f} nT estimated from Kp (Starkov 1994b): an activity level, "
        "not a radiance."
    )


# -- the oval for drawing (one instant) --------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class AuroraOval:
    """The sampled oval at one instant, for drawing: flat arrays, one entry per point (both
    hemispheres, every kind of point (``KIND_NAMES``) and every line's peak height)."""

    t_utc: np.datetime64
    kp: float
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    height_km: np.ndarray
    mlat_deg: np.ndarray
    mlt_h: np.ndarray
    hemisphere: np.ndarray  # int8: +1 north, -1 south
    kind: np.ndarray  # int8 index into KIND_NAMES
    in_view: np.ndarray  # above the station's horizon
    dark: np.ndarray  # Sun below the darkness threshold beneath it
    visible: np.ndarray  # in view, dark, and on the discrete oval


def aurora_oval(state, kp: float | None = None, n_mlt: int = N_MLT,
                dark_sun_elev_deg: float = DARK_SUN_ELEV_DEG, magnetic_model: str = "auto",
                kp_path=None) -> AuroraOval:
    """Return the oval's sampled points at the single instant of `state` (the same points
    :func:`aurora_in_view` reduces). Raises DataMissingError without a Kp."""
    if np.size(state.t_utc) != 1:
        raise InputError(f"aurora_oval takes one instant, got a state of shape {np.shape(state.t_utc)}; "
                         "index it first, e.g. state[i]")
    t64 = np.asarray(state.t_utc, "datetime64[ns]").reshape(1)
    kp_v, *_ = _kp_values(t64, kp, kp_path)
    if not np.isfinite(kp_v[0]):
        raise DataMissingError(kp_missing_message(t64[0], kp_path))
    r_itrs = np.asarray(state.r_itrs_km, float).reshape(1, 3)
    sun_itrs = rotate_z(np.asarray(state.sun_teme_km, float).reshape(1, 3), gmst82(state.instants)[0].ravel())
    tables, day_idx = _days(t64, magnetic_model)
    mlon_mid = _mlon_at_midnight_deg(t64, tables, day_idx, unit(sun_itrs))
    pts = _oval_points_numpy(tables[0], _band_mlat(kp_v, n_mlt), mlon_mid, r_itrs, sun_itrs, n_mlt,
                             dark_sun_elev_deg)
    heights = np.array([ln.peak_km for ln in AURORA_LINES])
    discrete = pts["kind"] != KIND_NAMES.index("diffuse")
    return AuroraOval(
        t_utc=t64[0], kp=float(kp_v[0]), lat_deg=pts["lat"][0], lon_deg=pts["lon"][0],
        height_km=heights[pts["h_idx"]], mlat_deg=pts["mlat"][0], mlt_h=np.array(pts["mlt"][0]),
        hemisphere=np.where(pts["hemi"] == 0, 1, -1).astype(np.int8), kind=pts["kind"].astype(np.int8),
        in_view=pts["in_view"][0], dark=pts["dark"][0], visible=(pts["in_view"] & pts["dark"])[0] & discrete,
    )


__all__ = [
    "AuroraLine", "AuroraOval", "AuroraView", "MagneticTable", "aurora_in_view", "aurora_oval",
    "magnetic_table", "oval_colatitude_deg", "oval_mlat_deg", "kp_to_al_nt", "magnetic_to_geographic",
    "geographic_to_magnetic", "dipole_pole", "storm_scale", "STARKOV_COEFFS", "BOUNDARIES", "KIND_NAMES",
    "AURORA_LINES", "DARK_SUN_ELEV_DEG",
]

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

import dataclasses
import datetime as _dt
import logging
from dataclasses import dataclass, field

import numpy as np

from ..constants import NAUTICAL_DARK_SUN_ELEV_DEG
from ..errors import InputError
from ..frames import WGS84_A_KM, WGS84_B_KM, geodetic, geodetic_to_itrs, gmst82, rotate_z, unit
from ..lighting import sun_elevation_deg
from ..view import R_EARTH_KM, azel_deg, ray_ellipsoid
from .kp import kp_at, kp_symbol

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

# Emission lines: (line, wavelength_nm, height_km used, (bottom, top) km, colour).
EMISSIONS = (
    ("OI", 557.7, 110.0, (100.0, 200.0), "green"),
    ("OI", 630.0, 250.0, (200.0, 400.0), "red"),
    ("N2+", 427.8, 95.0, (85.0, 100.0), "blue-violet"),
)

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
    mlon = np.radians(mlon_sun + (np.asarray(mlt_h, float) - 12.0) * 15.0)
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


# -- the view ------------------------------------------------------------------------------------
def storm_scale(kp: float) -> str:
    """Return the NOAA space-weather G-scale level for Kp: 'G0' below 5, 'G1' (Kp 5) ... 'G5' (Kp 9)."""
    k = int(np.floor(float(kp) + 1e-9))
    return "G0" if k < 5 else f"G{min(k, 9) - 4}"


@dataclass(frozen=True, eq=False)
class AuroraView:
    """What the statistical auroral oval looks like from the station at one instant.

    Scalars describe the answer; ``points_*`` arrays (flat, one entry per sampled oval point)
    hold the oval for drawing: both hemispheres, every kind of point (see ``KIND_NAMES``), and
    every emission height (see ``emissions``).
    """

    t_utc: np.datetime64
    kp: float
    kp_symbol: str  # '3o', '5-' ...
    kp_is_prediction: bool
    kp_source: str  # 'observed', 'predicted' (file forecast) or 'given' (caller's value)
    kp_interval_start_utc: np.datetime64 | None
    visible: bool  # part of the discrete oval is above the horizon over dark ground
    hemisphere: str | None  # hemisphere of the nearest visible oval point
    azimuth_deg: float  # of the nearest visible oval point (NaN when none), from the station
    elevation_deg: float  # negative = below the local horizontal (the ISS looks down on it)
    distance_km: float  # ground distance sub-station point -> nearest oval point (0 inside)
    iss_mlat_deg: float  # magnetic latitude / MLT of the sub-station point at 110 km
    iss_mlt_h: float
    emissions: list[dict]
    intensity: float  # |AL| estimated from Kp, nT (activity proxy, not a radiance)
    storm_scale: str  # NOAA G-scale: 'G0' (no storm) .. 'G5'
    magnetic_model: str  # 'aacgmv2', 'dipole' or 'aacgmv2+dipole'
    note: str
    points_lat_deg: np.ndarray = field(repr=False)
    points_lon_deg: np.ndarray = field(repr=False)
    points_height_km: np.ndarray = field(repr=False)
    points_mlat_deg: np.ndarray = field(repr=False)
    points_mlt_h: np.ndarray = field(repr=False)
    points_hemisphere: np.ndarray = field(repr=False)  # int8: +1 north, -1 south
    points_kind: np.ndarray = field(repr=False)  # int8 index into KIND_NAMES
    points_in_view: np.ndarray = field(repr=False)  # above the station's horizon
    points_dark: np.ndarray = field(repr=False)  # Sun below the darkness threshold beneath it
    points_visible: np.ndarray = field(repr=False)  # in view, dark, and on the discrete oval


def _scalar_state_check(state):
    if state.t_utc.size != 1:
        raise InputError(
            f"aurora_in_view takes one instant, got a State of shape {state.t_utc.shape}; "
            "call it once per instant, e.g. sat.at(t_i) for each t_i"
        )


def aurora_in_view(state, kp: float | None = None, n_mlt: int = N_MLT,
                   dark_sun_elev_deg: float = DARK_SUN_ELEV_DEG, magnetic_model: str = "auto",
                   kp_path=None) -> AuroraView:
    """Return the auroral oval as seen from the station at one instant.

    Args:
        state: a :class:`cupola.orbit.State` of one instant (``sat.at(t)`` with scalar t).
        kp: Kp to use; default the bundled history's value for the instant (observed, or a
            flagged prediction), raising DataMissingError outside the file.
        n_mlt: MLT samples per boundary and hemisphere (96: one every 15 min of MLT, 1.5-3 deg
            of longitude along the oval).
        dark_sun_elev_deg: the ground beneath an oval point counts as dark below this Sun
            elevation (deg).
        magnetic_model: 'auto' (AACGM-v2, centred dipole where it cannot answer), 'aacgmv2',
            or 'dipole'.
        kp_path: an alternative CelesTrak SW-All.txt for the Kp history.
    Returns:
        AuroraView (angles in deg from the station's local horizontal frame, distances in km).
    """
    _scalar_state_check(state)
    t = np.asarray(state.t_utc).reshape(-1)[0]
    # A one-instant State may hold shape-(1,) arrays: work with 0-d times throughout.
    inst = dataclasses.replace(state.instants, **{
        f.name: np.asarray(getattr(state.instants, f.name)).reshape(())
        for f in dataclasses.fields(state.instants)})
    sun_teme = np.asarray(state.sun_teme_km, float).reshape(3)
    r_itrs = np.asarray(state.r_itrs_km, float).reshape(3)
    iss_lat = float(np.asarray(state.lat_deg).reshape(-1)[0])
    iss_lon = float(np.asarray(state.lon_deg).reshape(-1)[0])

    if kp is None:
        kv = kp_at(t, kp_path)
        kp_val = float(kv.kp)
        is_pred = bool(kv.is_prediction)
        source = "predicted" if is_pred else "observed"
        interval = np.datetime64(kv.interval_start_utc, "ns")
    else:
        kp_val = float(kp)
        if not 0.0 <= kp_val <= 9.0:
            raise InputError(f"kp must lie in 0..9, got {kp!r}")
        is_pred, source, interval = False, "given", None
    if n_mlt < 8:
        raise InputError(f"n_mlt must be at least 8, got {n_mlt}")

    # Sample the oval: per MLT the three boundaries and points across the discrete band.
    mlt = np.arange(n_mlt) * (24.0 / n_mlt)
    colat = {b: oval_colatitude_deg(mlt, kp_val, b) for b in BOUNDARIES}
    eq, pole = 90.0 - colat["equatorward"], 90.0 - colat["poleward"]
    band = [90.0 - colat["poleward"], eq, 90.0 - colat["diffuse"]]
    band += [eq + f * (pole - eq) for f in _INSIDE_FRACTIONS]
    kinds = np.array([0, 1, 2] + [3] * len(_INSIDE_FRACTIONS), np.int8)
    mlat_n = np.stack(band)  # (n_kind, n_mlt)
    heights = np.array([e[2] for e in EMISSIONS])
    hemi = np.array([1, -1], np.int8)
    shape = (hemi.size, kinds.size, n_mlt, heights.size)
    p_mlat = (hemi[:, None, None, None] * mlat_n[None, :, :, None]) * np.ones(shape)
    p_mlt = np.broadcast_to(mlt[None, None, :, None], shape).ravel()
    p_h = np.broadcast_to(heights[None, None, None, :], shape).ravel()
    p_hemi = np.broadcast_to(hemi[:, None, None, None], shape).ravel()
    p_kind = np.broadcast_to(kinds[None, :, None, None], shape).ravel()
    p_mlat = p_mlat.ravel()

    lat, lon, dip = magnetic_to_geographic(p_mlat, p_mlt, p_h, t, sun_teme, inst, magnetic_model)
    ok = np.isfinite(lat) & np.isfinite(lon)

    # Line of sight from the station: clear of the WGS84 ellipsoid up to the point.
    pts = geodetic_to_itrs(np.where(ok, lat, 0.0), np.where(ok, lon, 0.0), p_h)
    d = pts - r_itrs
    dist = np.linalg.norm(d, axis=-1)
    u = d / dist[:, None]
    near, _ = ray_ellipsoid(np.broadcast_to(r_itrs, u.shape), u, 0.0)
    blocked = np.isfinite(near) & (near > 0.0) & (near < dist)
    in_view = ok & ~blocked
    sun_el = sun_elevation_deg(np.where(ok, lat, 0.0), np.where(ok, lon, 0.0), sun_teme, inst)
    dark = ok & (sun_el < dark_sun_elev_deg)
    discrete = p_kind != 2
    vis = in_view & dark & discrete

    # Ground distances (central angle on the mean sphere) from the sub-station point.
    up_iss = unit(r_itrs)
    cosang = np.clip(unit(pts) @ up_iss, -1.0, 1.0)
    ground_km = np.where(ok, np.arccos(cosang) * R_EARTH_KM, np.inf)

    iss_mlat, iss_mlt, iss_dip = geographic_to_magnetic(iss_lat, iss_lon, EMISSIONS[0][2], t, sun_teme,
                                                        inst, magnetic_model)
    iss_mlat, iss_mlt = float(iss_mlat), float(iss_mlt)
    a = abs(iss_mlat)
    inside = (oval_mlat_deg(iss_mlt, kp_val, "equatorward") <= a <= oval_mlat_deg(iss_mlt, kp_val, "poleward"))
    green = p_h == EMISSIONS[0][2]
    distance = 0.0 if inside else float(np.min(ground_km[discrete & green]))

    if vis.any():
        i = int(np.argmin(np.where(vis, ground_km, np.inf)))
        az, el = azel_deg(r_itrs, d[i])
        az, el = float(az), float(el)
        hemisphere = "north" if p_hemi[i] > 0 else "south"
    else:
        az = el = float("nan")
        hemisphere = None

    emissions = []
    for j, (line, wl, h, rng, colour) in enumerate(EMISSIONS):
        sel = p_h == h
        emissions.append({
            "line": line, "wavelength_nm": wl, "height_km": h, "height_range_km": rng,
            "colour": colour, "in_view": bool(vis[sel].any()),
        })

    used_dip = bool(dip[ok].any() or bool(np.asarray(iss_dip).any()))
    used_aacgm = bool((~dip[ok]).any())
    model_name = "+".join(n for n, f in (("aacgmv2", used_aacgm), ("dipole", used_dip)) if f) or "none"
    al = float(kp_to_al_nt(kp_val))
    sym = str(kp_symbol(kp_val))
    scale = storm_scale(kp_val)
    note = _note(sym, source, interval, scale, al, model_name, dark_sun_elev_deg)

    return AuroraView(
        t_utc=np.datetime64(t, "ns"), kp=kp_val, kp_symbol=sym, kp_is_prediction=is_pred,
        kp_source=source, kp_interval_start_utc=interval, visible=bool(vis.any()),
        hemisphere=hemisphere, azimuth_deg=az, elevation_deg=el, distance_km=distance,
        iss_mlat_deg=iss_mlat, iss_mlt_h=iss_mlt, emissions=emissions, intensity=al,
        storm_scale=scale, magnetic_model=model_name, note=note,
        points_lat_deg=lat, points_lon_deg=lon, points_height_km=p_h.copy(), points_mlat_deg=p_mlat,
        points_mlt_h=p_mlt.copy(), points_hemisphere=p_hemi.copy(), points_kind=p_kind.copy(),
        points_in_view=in_view, points_dark=dark, points_visible=vis,
    )


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


__all__ = [
    "AuroraView", "aurora_in_view", "oval_colatitude_deg", "oval_mlat_deg", "kp_to_al_nt",
    "magnetic_to_geographic", "geographic_to_magnetic", "dipole_pole", "storm_scale",
    "STARKOV_COEFFS", "BOUNDARIES", "KIND_NAMES", "EMISSIONS", "DARK_SUN_ELEV_DEG",
]

"""The Earth's surface and the sunlit atmosphere (limb, twilight and haze) as a render layer.

`earth_layer(scene, geom, out, settings)` adds float32 (H, W, 3) luminance in cd/m^2, linear sRGB/Rec.709
primaries (Y = 0.2126 R + 0.7152 G + 0.0722 B); sunlight is taken as white (R = G = B), i.e. the
camera is white-balanced for daylight.

Ground (rays that hit the WGS84 ellipsoid)
------------------------------------------
- Reflectance rho (per channel): NASA Blue Marble Next Generation (bundled ``earth_day.jpg``,
  see ``tools/build_earth_textures.py``), sRGB-decoded (IEC 61966-2-1) and multiplied by
  :data:`ALBEDO_SCALE` = 0.85, so the Sahara comes out at Y ~ 0.35, Greenland's ice ~ 0.8 and the
  open ocean ~ 0.005 (water-leaving reflectance is a few per cent; the ocean's blue from space is
  mostly the Rayleigh path radiance below). BMNG is a cloud-free composite; the clouds are a
  layer of their own (below). Sampled bilinearly at the hit point's geodetic lat/lon.
- Direct sunlight: L = E_sun rho cos(theta_s) / pi (Lambertian), E_sun = :data:`E_SUN_LUX`
  (128,000 lx: solar illuminance at the top of the atmosphere, the solar constant 1361 W/m^2
  times ~94 lm/W). With the atmosphere on, the sunlight and the reflected light are attenuated by
  Rayleigh extinction exp(-tau_c m) along both paths (air mass m from :func:`_airmass`).
- Rayleigh path radiance (aerial perspective, the blue haze that grows toward the limb): single
  scattering in a plane-parallel layer, with air masses that stay finite at grazing incidence:
  L = E_sun P(Theta)/(4 pi) m_v/(m_s + m_v) (1 - exp(-tau_c (m_s + m_v))) (Chandrasekhar 1960,
  the single-scattering term of the reflected radiance; thin limit E P tau / (4 pi mu_v)),
  P = 3/4 (1 + cos^2 Theta). Past the terminator only the air above the Earth's shadow scatters:
  tau is replaced by tau exp(-h_shadow / H), h_shadow the height of the shadow above the point.
- Twilight (Sun zenith 90..108 deg): diffuse sky light, horizontal illuminance 400 lx at sunset
  falling log-linearly to 3.4 lx at the end of civil twilight (96 deg), 0.008 lx at 102 deg and
  6e-4 lx at 108 deg (the AMS Glossary of Meteorology's clear-sky figures), in the colour of the
  twilight sky (:func:`twilight_rgb`: the table's zenith path radiance with the Sun 3 deg down,
  blue; the Rayleigh-only model used a reddish :data:`TWILIGHT_RGB`).
- Twilit ground's path radiance (the Sun below 4 deg at the ground point): from the bundled table
  (below) by the Sun's elevation there, the view zenith and the Sun's azimuth from the view, which
  replaces the plane-parallel formula (its light above the shadow was unreddened sunlight: a milky
  wash of 49 cd/m^2 at -5.2 deg and 460 at -2.5 deg, now 2.1 and 32 cd/m^2 seen straight down, of
  the order of the twilight sky's mean luminance E / pi from below), blended into it between 0 and
  4 deg.
- Night: E = :data:`NIGHT_FLOOR_LUX` (2e-3 lx, airglow + starlight on a moonless night) plus the
  Moon's illuminance times the cosine of its zenith angle at the ground point. The Moon's
  illuminance comes from its V magnitude in the scene (E = 2.54e-6 lx 10^(-0.4 V), Allen's
  Astrophysical Quantities; full Moon V = -12.7 -> 0.31 lx at the top of the atmosphere), which
  carries the phase law better than scaling by the illuminated fraction (a half Moon gives ~1/10
  of a full one, not 1/2); the illuminated fraction times 0.25 lx is the fallback when V is NaN.
  The Moon's direction is the one seen from the station (``scene.body('Moon').dir_teme``): the
  parallax between the station and a ground point is under 1.1 deg, negligible for lighting.
  No coastline is drawn: at night land and sea differ only by what lights them (the old
  night-only coastline outline was an artefact no camera records; coasts now read from their
  city lights, ``render.lights``, and from moonlit ground).
- Clouds (``settings.clouds``): the opacity map ``scene.clouds`` (Natural Earth III fair-weather
  clouds, ``phenomena.clouds``) lies on a shell ``settings.cloud_top_km`` (6 km) above the
  ellipsoid. Each ray meets the shell first (so clouds shift toward the station near the limb and
  stand above it as a silhouette, for rays that graze the ground), samples the cloud's optical
  depth there (``scene.clouds.tau_lut``, bilinear in optical depth) and sees it through its slant
  path: alpha_v = 1 - exp(-tau / mu_v), mu_v the view zenith cosine at the cloud top (at most 10
  layer thicknesses), so alpha_v = alpha face-on and clouds close up toward the limb. The cloud top is a
  Lambertian reflector of albedo ``settings.cloud_albedo`` (0.7, grey) lit by the same terms as
  the ground, evaluated at the cloud top: direct sunlight, twilight, moonlight and the night
  floor (airglow and starlight), with the air mass above the cloud top (exp(-h / H) of the
  column). The pixel is (1 - alpha_v) ground + alpha_v cloud; the path radiance in front of a
  cloud is that of the column above it (the ground's times 1 - alpha_v + alpha_v exp(-h / H)).
  Left out: cloud shadows on the ground, cloud heights (one shell), the clouds' own brightness
  structure (sunlit sides, shading), and any weather of the instant (the map is a composite).
- The ground does not smear in this layer: it is rendered at the frame's instant whatever the
  exposure time (ground motion blur, if any, belongs to the compositor).

Limb (rays that miss the Earth, tangent height 0..100 km)
--------------------------------------------------------
Single Rayleigh scattering along the tangent path, exponential atmosphere with scale height
H = :data:`SCALE_HEIGHT_KM`: the column along a tangent path at height h is the vertical column
times exp(-h/H) sqrt(2 pi R / H) (the Chapman grazing function, Ch(90 deg) = sqrt(pi R / (2 H)) per
half path), so the optical depth is tau_los = tau_c exp(-h/H) sqrt(2 pi R / H) and

    L = E_sun T_sun P(Theta) / (4 pi) (1 - exp(-tau_los)),

which is proportional to exp(-h/H) sqrt(2 pi R H) where the path is thin (h > ~40 km) and saturates
at E_sun P / (4 pi) (~7,600-15,000 cd/m^2) in the thick bottom ~20 km: the bright blue band seen
from the station, whiter at its base. T_sun is the Rayleigh transmission of the sunlight reaching
the tangent point (for an optically thick line of sight, the point one optical depth in, where the
light seen comes from). Where that point is inside the Earth's geometric shadow (a cylinder of radius
R behind the Earth) only the air above the shadow's height h_sh scatters: the lit column is the
tangent column times erfc(sqrt((h_sh - h)/H)), lit by sunlight that grazed the Earth (reddened); deep
in the shadow (h_sh - h >> H) that is nothing. The glow fades to zero between 80 and 100 km.

The sunlit limb by table (``settings.limb_ozone_aerosol``, the default)
--------------------------------------------------------------------
The closed form above is Rayleigh only: toward the Sun its bottom 45 km rendered pure yellow
(issue 14's measurement), with no ozone to make the blue band and a hard shadow edge. The default reads instead the bundled ``limb_radiance.npz``
(``tools/build_limb_radiance.py``; the model, its constituents and sources:
:mod:`cupola.phenomena.extinction`): single scattering integrated along each line of sight and
along the sunlight's own path to each point, through Rayleigh scattering, Chappuis-band ozone
absorption (Serdyuchenko et al. 2014, 300 DU) and a tropospheric plus a stratospheric aerosol
(Henyey-Greenstein), the Earth's shadow softened by the Sun's disc and refraction; spectra turned
into the camera's RGB relative to sunlight (``colour.sunlight_ratio_rgb``). A limb pixel looks up
(tangent height, sine of the Sun's elevation at the tangent point, cosine of its azimuth from the
line) trilinearly and applies the Rayleigh and aerosol phase functions of its own scattering
angle. What that gives toward the rising Sun, from the ground up: orange-red (sunlight that crossed
the troposphere edge-on), a white-yellow band near 15 km, blue above (Rayleigh light whose orange
ozone took out: the "halo bleu"), fading to black by 100 km; in the shadow, nothing.

Rayleigh optical depth per channel (:data:`TAU_RAYLEIGH_RGB`): tau(550 nm) = 0.097 at sea level
(Bucholtz 1995, Appl. Opt. 34, 2765) with tau proportional to lambda^-4.08; the effective value
for each sRGB channel is the channel of the lambda^-4.08-weighted solar spectrum (5,778 K black
body through the CIE 1931 functions and the sRGB matrix) over the same channel of the unweighted
spectrum, computed once at import (about 0.06, 0.10, 0.19).
"""

from __future__ import annotations

import functools
import io
import math

import numba as nb
import numpy as np

from ..colour import LUMA, SUN_TEMPERATURE_K, XYZ_TO_SRGB, cmf, planck_spd, srgb_decode
from ..constants import R_EARTH_KM, WGS84_A_KM, WGS84_B_KM
from ..camera.geometry import _fast_atan2, fast_atan2_np
from ..errors import DataMissingError, InputError
from ..jit import inline, kernel, use_twins
from ..photometry import E_SUN_LUX, vmag_to_lux
from ..raster import bilinear as _bilinear_np
from ..view import ray_ellipsoid
from .settings import DEFAULT_SETTINGS

ALBEDO_SCALE = 0.85  # linear BMNG value -> reflectance
NIGHT_FLOOR_LUX = 2.0e-3  # airglow + starlight illuminance on a moonless night
FULL_MOON_LUX = 0.25  # fallback when the Moon's V magnitude is unknown
MAX_CLOUD_LAYERS = 10.0  # a slant path crosses at most this many cloud-layer thicknesses
# exp(-x) tabulated for the clouds' slant opacity (relative error < 4e-5 over 0..EXP_MAX).
EXP_N = 4096
EXP_MAX = 64.0
_EXP_TABLE = np.exp(-np.linspace(0.0, EXP_MAX, EXP_N))
SCALE_HEIGHT_KM = 8.0
TAU_550 = 0.097
RAYLEIGH_EXPONENT = 4.08
LIMB_TOP_KM = 100.0
LIMB_FADE_KM = 80.0
TWILIGHT_SUNSET_LUX = 400.0  # diffuse illuminance at sunset
TWILIGHT_CIVIL_LUX = 3.4  # ... at the end of civil twilight (Sun zenith 96 deg)
TWILIGHT_END_DEG = 108.0
# ... at the ends of nautical (Sun zenith 102 deg) and astronomical twilight (108 deg): the AMS
# Glossary of Meteorology ("civil twilight", "astronomical twilight": horizontal illuminance under
# clear skies ~410-585 lx at sunset, ~3.5-2 lx at -6 deg, ~0.008 lx at -12 deg, ~6e-4 lx at -18 deg).
TWILIGHT_NAUTICAL_LUX = 0.008
TWILIGHT_ASTRONOMICAL_LUX = 6.0e-4
# The Moon lights the ground only where the Sun is below ~3 deg (elsewhere it is < 1e-5 of the Sun).
NIGHT_MU = 0.05
# Twilight sky light on the ground, as seen from above through the limb: reddish; normalised Y = 1.
_TW = np.array([1.0, 0.55, 0.35])
TWILIGHT_RGB = (_TW / (_TW @ LUMA)).astype(np.float64)
TWILIGHT_COLOUR_SUN_DEG = -3.0  # the middle of civil twilight: where the table takes the sky's colour
# Air mass at grazing incidence for half a tangent path: Ch(90 deg) = sqrt(pi R / (2 H)).
CH90 = math.sqrt(math.pi * R_EARTH_KM / (2.0 * SCALE_HEIGHT_KM))
# Air column (in vertical columns) crossed by sunlight that grazes the Earth's surface: the light
# that reaches the air just above the Earth's shadow (deep red); the same limit as a lit tangent
# point at the shadow's edge, so the glow is continuous across it.
SHADOW_EDGE_COLUMN = 2.0 * CH90

_REBUILD = "pip install -e '.[tools]' && python tools/build_earth_textures.py"


def rayleigh_tau_rgb(tau_550: float = TAU_550, exponent: float = RAYLEIGH_EXPONENT,
                     temperature_k: float = SUN_TEMPERATURE_K) -> np.ndarray:
    """Return the effective Rayleigh vertical optical depth of each linear sRGB channel, shape (3,)."""
    lam = np.arange(380.0, 781.0, 1.0)
    sun = planck_spd(lam, temperature_k)
    xyz_bar = cmf(lam)
    rgb_sun = (sun @ xyz_bar) @ XYZ_TO_SRGB.T
    rgb_scat = ((sun * (lam / 550.0) ** -exponent) @ xyz_bar) @ XYZ_TO_SRGB.T
    return tau_550 * rgb_scat / rgb_sun


TAU_RAYLEIGH_RGB = rayleigh_tau_rgb()
# exp(-tau_c m) tabulated over air masses 0..TRANS_MAX (>= 2 CH90, the longest path used): the
# kernel interpolates it linearly (relative error < 5e-5) instead of calling exp 6 times a pixel.
TRANS_N = 4096
TRANS_MAX = 72.0
_TRANS_TABLE = np.exp(-TAU_RAYLEIGH_RGB[:, None] * np.linspace(0.0, TRANS_MAX, TRANS_N)[None, :])


# -- textures -----------------------------------------------------------------------------------
def _data_bytes(name: str) -> bytes:
    from ..bundled import read_bytes

    return read_bytes(name, "Earth texture", _REBUILD)


@functools.cache
def _textures():
    """Return (day uint8 (H, W, 3), reflectance LUT float32 (256,), mask uint8 (h, w)), cached."""
    from PIL import Image

    from ..bundled import parsing

    with parsing("earth_day.jpg", "Earth texture", _REBUILD), Image.open(io.BytesIO(_data_bytes("earth_day.jpg"))) as im:
        day = np.ascontiguousarray(np.asarray(im.convert("RGB"), dtype=np.uint8))
    with parsing("earth_mask.npz", "Earth texture", _REBUILD), np.load(io.BytesIO(_data_bytes("earth_mask.npz"))) as z:
        mask = np.ascontiguousarray(z["mask"], dtype=np.uint8)
    code = np.arange(256) / 255.0
    lut = (ALBEDO_SCALE * srgb_decode(code)).astype(np.float32)
    return day, lut, mask


def reflectance_at(lat_deg, lon_deg) -> np.ndarray:
    """Return the calibrated linear reflectance (..., 3) of the day texture at geodetic lat/lon (deg)."""
    day, lut, _ = _textures()
    return _reflectance_np(day, lut, lat_deg, lon_deg)


def _reflectance_np(day, lut, lat_deg, lon_deg):
    # Bilinear in linear reflectance (decode the four taps, then interpolate), like the kernel.
    h, w = day.shape[:2]
    x = (np.asarray(lon_deg, float) + 180.0) / 360.0 * w - 0.5
    y = np.clip((90.0 - np.asarray(lat_deg, float)) / 180.0 * h - 0.5, 0.0, h - 1.0)
    x0 = np.floor(x)
    y0 = np.minimum(np.floor(y), h - 2)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    x0 = x0.astype(np.int64) % w
    x1 = (x0 + 1) % w
    y0 = y0.astype(np.int64)
    y1 = y0 + 1
    return ((1 - fy) * ((1 - fx) * lut[day[y0, x0]] + fx * lut[day[y0, x1]])
            + fy * ((1 - fx) * lut[day[y1, x0]] + fx * lut[day[y1, x1]]))


def land_fraction_at(lat_deg, lon_deg) -> np.ndarray:
    """Return the bilinear land fraction (0 sea .. 1 land) of the Natural Earth 10m mask at lat/lon."""
    _, _, mask = _textures()
    return _bilinear_np((mask & 1).astype(np.float32), lat_deg, lon_deg)


def coast_fraction_at(lat_deg, lon_deg) -> np.ndarray:
    """Return the bilinear coastline weight (0..1) of the Natural Earth 10m coastline raster."""
    _, _, mask = _textures()
    return _bilinear_np(((mask >> 1) & 1).astype(np.float32), lat_deg, lon_deg)


# -- photometric pieces (scalar, shared by the kernel; numpy versions below) --------------------
@inline
def _airmass(mu):  # pragma: no cover - jit
    """Air mass of a path leaving the ground at zenith cosine mu: 1/mu overhead, CH90 at grazing."""
    mu = max(mu, 0.0)
    return 1.0 / (mu + 1.0 / CH90)


def airmass_np(mu) -> np.ndarray:
    """Return the air mass of paths leaving the ground at zenith cosines `mu` (as :func:`_airmass`)."""
    return 1.0 / (np.maximum(mu, 0.0) + 1.0 / CH90)


def twilight_lux(cos_sun_zenith) -> np.ndarray:
    """Return the diffuse twilight illuminance (lx) on the ground for the Sun's zenith cosine.

    400 lx up to sunset, then log-linear in the Sun's depression through 3.4 lx at zenith 96 deg
    (end of civil twilight), 0.008 lx at 102 deg and 6e-4 lx at 108 deg (the AMS Glossary's
    clear-sky figures, above), 0 beyond (below the night floor). The atmosphere's scattered light only.
    """
    z = np.degrees(np.arccos(np.clip(np.asarray(cos_sun_zenith, float), -1.0, 1.0)))
    nodes = np.array([90.0, 96.0, 102.0, TWILIGHT_END_DEG])
    lux = np.log([TWILIGHT_SUNSET_LUX, TWILIGHT_CIVIL_LUX, TWILIGHT_NAUTICAL_LUX, TWILIGHT_ASTRONOMICAL_LUX])
    return np.where(z > TWILIGHT_END_DEG, 0.0, np.exp(np.interp(z, nodes, lux)))


def shadow_fade(cos_sun_zenith) -> np.ndarray:
    """Return exp(-h_shadow / H): the fraction of the air column above the Earth's shadow (1 by day)."""
    mu = np.minimum(np.asarray(cos_sun_zenith, float), 0.0)
    h_shadow = R_EARTH_KM * (1.0 / np.sqrt(np.maximum(1.0 - mu * mu, 1e-12)) - 1.0)
    return np.exp(-h_shadow / SCALE_HEIGHT_KM)


# Twilight illuminance and shadow fade tabulated over the Sun's zenith cosine MU_NIGHT_MIN..0
# (both are 1e-20 or 0 beyond), for the kernel.
NIGHT_N = 4096
MU_NIGHT_MIN = -0.35
_MU_GRID = np.linspace(MU_NIGHT_MIN, 0.0, NIGHT_N)
_NIGHT_TABLE = np.stack([twilight_lux(_MU_GRID), shadow_fade(_MU_GRID)])


@inline
def _night_terms(nt, mus):  # pragma: no cover - jit
    """Return (twilight lx, shadow fade) interpolated from the table `nt`."""
    if mus >= 0.0:
        return TWILIGHT_SUNSET_LUX, 1.0
    if mus <= MU_NIGHT_MIN:
        return 0.0, 0.0
    x = (mus - MU_NIGHT_MIN) * ((NIGHT_N - 1) / -MU_NIGHT_MIN)
    i = min(int(x), NIGHT_N - 2)
    f = x - i
    return nt[0, i] + f * (nt[0, i + 1] - nt[0, i]), nt[1, i] + f * (nt[1, i + 1] - nt[1, i])


@inline
def _cell(lat, lon, h, w):  # pragma: no cover - jit
    """Return the bilinear cell (y0, x0, x1, fy, fx) of an equirectangular image, wrapping in longitude."""
    x = (lon + 180.0) * (w / 360.0) - 0.5
    y = (90.0 - lat) * (h / 180.0) - 0.5
    y = min(max(y, 0.0), h - 1.0)
    x0f = math.floor(x)
    y0f = min(math.floor(y), h - 2.0)
    x0 = int(x0f)
    if x0 < 0:
        x0 += w
    elif x0 >= w:
        x0 -= w
    x1 = x0 + 1
    if x1 >= w:
        x1 -= w
    return int(y0f), x0, x1, y - y0f, x - x0f


@inline
def _rho_tap(day, lut, lat, lon, out_rho):  # pragma: no cover - jit
    """Bilinear calibrated linear reflectance into out_rho (3,)."""
    y0, x0, x1, fy, fx = _cell(lat, lon, day.shape[0], day.shape[1])
    w00, w01, w10, w11 = (1 - fy) * (1 - fx), (1 - fy) * fx, fy * (1 - fx), fy * fx
    for c in range(3):
        out_rho[c] = (w00 * lut[day[y0, x0, c]] + w01 * lut[day[y0, x1, c]]
                      + w10 * lut[day[y0 + 1, x0, c]] + w11 * lut[day[y0 + 1, x1, c]])


@inline
def _trans(tl, k, m):  # pragma: no cover - jit
    """Return exp(-tau_k m) from the table `tl` (linear interpolation; m in air masses)."""
    x = m * (TRANS_N - 1) / TRANS_MAX
    if x >= TRANS_N - 1:
        return tl[k, TRANS_N - 1]
    i = int(x)
    f = x - i
    return tl[k, i] + f * (tl[k, i + 1] - tl[k, i])


@inline
def _shell_hit(o, dx, dy, dz, a_s, b_s):  # pragma: no cover - jit
    """Return the distance along a unit ray to the ellipsoid (a_s, a_s, b_s) (-1 if it misses or
    is behind): z scaled by a_s / b_s makes it a sphere of radius a_s."""
    k = a_s / b_s
    sx, sy, sz = dx, dy, dz * k
    sn = math.sqrt(sx * sx + sy * sy + sz * sz)
    ox, oy, oz = o[0], o[1], o[2] * k
    bq = (ox * sx + oy * sy + oz * sz) / sn
    cq = ox * ox + oy * oy + oz * oz - a_s * a_s
    disc = bq * bq - cq
    if disc < 0.0:
        return -1.0
    t = -bq - math.sqrt(disc)
    return t / sn if t > 0.0 else -1.0


@inline
def _cloud_tap(cloud, cloud_lut, lat, lon):  # pragma: no cover - jit
    """Bilinear interpolation of the cloud map through the lookup table `cloud_lut` (code ->
    optical depth)."""
    y0, x0, x1, fy, fx = _cell(lat, lon, cloud.shape[0], cloud.shape[1])
    return ((1 - fy) * ((1 - fx) * cloud_lut[cloud[y0, x0]] + fx * cloud_lut[cloud[y0, x1]])
            + fy * ((1 - fx) * cloud_lut[cloud[y0 + 1, x0]] + fx * cloud_lut[cloud[y0 + 1, x1]]))


@inline
def _exp_neg(et, x):  # pragma: no cover - jit
    """Return exp(-x) for x >= 0 from the table `et` (linear interpolation, 0 beyond EXP_MAX)."""
    u = x * ((EXP_N - 1) / EXP_MAX)
    if u >= EXP_N - 1:
        return 0.0
    i = int(u)
    f = u - i
    return et[i] + f * (et[i + 1] - et[i])


# -- the sunlit limb and the twilit ground by table (Rayleigh + ozone + aerosol; issue 14) ----------
_LIMB_REBUILD = "python tools/build_limb_radiance.py"


@functools.cache
def _limb_tables():
    """Return (limb (n_h, n_e, n_az, 2, 3), ground (n_e, n_mu, n_az, 2, 3), grid parameters (16,),
    twilight colour (3,)) from the bundled ``limb_radiance.npz`` (``tools/build_limb_radiance.py``),
    float64, cached."""
    from ..bundled import load

    def parse(raw: bytes):
        with np.load(io.BytesIO(raw)) as z:
            t = {k: np.asarray(z[k]) for k in z.files}
        h, se, ca, gse, gmu, gca = (t[k] for k in ("limb_h_km", "limb_sin_elev", "limb_cos_az", "ground_sin_elev",
                                                  "ground_mu", "ground_cos_az"))
        dh, de = np.diff(h), np.diff(se)
        hb, eb = int(np.argmax(~np.isclose(dh, dh[0]))), int(np.argmax(~np.isclose(de, de[0])))  # spacing changes
        g = float(t["aerosol_g"])
        # The ground table is used between its bottom (the path radiance is ~0 there) and its top.
        grid = np.array([h[hb], dh[0], dh[-1], hb, se[0], se[eb], de[0], de[-1], eb, ca[1] - ca[0], g,
                         gse[0], gse[1] - gse[0], gca[1] - gca[0], gse[0], gse[-1]], float)
        if gmu.size != t["ground"].shape[1] or not np.allclose(np.sqrt(gmu), np.linspace(0.0, 1.0, gmu.size)):
            raise ValueError("ground_mu is not sqrt-spaced")
        # The twilight sky's colour: the zenith path radiance (the same as the nadir one seen from
        # above for a thin atmosphere) with the Sun TWILIGHT_COLOUR_SUN_DEG down, across the view.
        zen = t["ground"][int(np.argmin(np.abs(gse - math.sin(math.radians(TWILIGHT_COLOUR_SUN_DEG))))), -1,
                          int(np.argmin(np.abs(gca)))].astype(np.float64)
        sky = 0.75 * zen[0] + (1.0 - g * g) / (1.0 + g * g) ** 1.5 * zen[1]
        return (np.ascontiguousarray(t["limb"], np.float64), np.ascontiguousarray(t["ground"], np.float64), grid,
                sky / (sky @ LUMA))

    return load("limb_radiance.npz", "limb radiance table", parse, _LIMB_REBUILD)


def _no_limb_tables():
    return np.zeros((1, 1, 1, 2, 3)), np.zeros((1, 1, 1, 2, 3)), np.zeros(16), TWILIGHT_RGB


def twilight_rgb(settings=None) -> np.ndarray:
    """Return the colour (linear RGB, Y = 1) of the diffuse twilight light on the ground with
    `settings`: the twilight sky's from the bundled table, or :data:`TWILIGHT_RGB` without it."""
    settings = DEFAULT_SETTINGS if settings is None else settings
    return (_limb_tables() if settings.limb_ozone_aerosol else _no_limb_tables())[3]


def _axis2_np(x, x0, xb, s1, s2, nb, n):
    u = np.where(x < xb, (x - x0) / s1, nb + (x - xb) / s2)
    u = np.clip(u, 0.0, n - 1.000001)
    i = u.astype(np.int64)
    return i, u - i


def _phases_np(cos_sr, g):
    return 0.75 * (1.0 + cos_sr * cos_sr), (1.0 - g * g) / (1.0 + g * g - 2.0 * g * cos_sr) ** 1.5


def _trilinear_np(t, i0, f0, i1, f1, i2, f2, pr, pa):
    """Return the phase-weighted (Rayleigh pr, aerosol pa) trilinear interpolation of the table t
    (n0, n1, n2, 2, 3) at cells (i, f) of its three axes, shape (..., 3)."""
    out = 0.0
    for d0 in range(2):
        for d1 in range(2):
            for d2 in range(2):
                w = ((f0 if d0 else 1.0 - f0) * (f1 if d1 else 1.0 - f1) * (f2 if d2 else 1.0 - f2))[..., None]
                v = t[i0 + d0, i1 + d1, i2 + d2]
                out = out + w * (pr[..., None] * v[..., 0, :] + pa[..., None] * v[..., 1, :])
    return out


def limb_rgb_np(lt, lg, ht, sin_e, cos_sr) -> np.ndarray:
    """Return what :func:`_limb_rgb` gives, for arrays (..., 3) (the kernel's numpy twin)."""
    ih, fh = _axis2_np(ht, 0.0, lg[0], lg[1], lg[2], lg[3], lt.shape[0])
    ie, fe = _axis2_np(sin_e, lg[4], lg[5], lg[6], lg[7], lg[8], lt.shape[1])
    ce = np.sqrt(np.maximum(1.0 - sin_e * sin_e, 1e-12))
    a = np.minimum((np.clip(cos_sr / ce, -1.0, 1.0) + 1.0) / lg[9], lt.shape[2] - 1.000001)
    ia = a.astype(np.int64)
    fa = a - ia
    return _trilinear_np(lt, ih, fh, ie, fe, ia, fa, *_phases_np(cos_sr, lg[10]))


def ground_rgb_np(gt, lg, mus, muv, cos_sr):
    """Return (path radiance (..., 3), weight (...)) as :func:`_ground_rgb` (its numpy twin; the
    weight is 0 outside the table, where the kernel does not call it)."""
    x = np.clip((mus - lg[11]) / lg[12], 0.0, gt.shape[0] - 1.000001)
    ie = x.astype(np.int64)
    fe = x - ie
    u = np.minimum(np.sqrt(np.maximum(muv, 0.0)) * (gt.shape[1] - 1), gt.shape[1] - 1.000001)
    iu = u.astype(np.int64)
    fu = u - iu
    den = np.sqrt(np.maximum((1.0 - muv * muv) * (1.0 - mus * mus), 1e-12))
    a = np.minimum((np.clip((cos_sr + muv * mus) / den, -1.0, 1.0) + 1.0) / lg[13], gt.shape[2] - 1.000001)
    ia = a.astype(np.int64)
    fa = a - ia
    out = _trilinear_np(gt, ie, fe, iu, fu, ia, fa, *_phases_np(cos_sr, lg[10]))
    weight = np.where((mus <= lg[14]) | (mus >= lg[15]), 0.0, np.where(mus <= 0.0, 1.0, 1.0 - mus / lg[15]))
    return out, weight


@inline
def _axis2(x, x0, xb, s1, s2, nb, n):  # pragma: no cover - jit
    """Return (i, f) on an axis spaced s1 from x0 to xb (index nb), then s2, clamped to n nodes."""
    u = (x - x0) / s1 if x < xb else nb + (x - xb) / s2
    u = min(max(u, 0.0), n - 1.000001)
    i = int(u)
    return i, u - i


@inline
def _phases(cos_sr, g):  # pragma: no cover - jit
    """Return the Rayleigh and Henyey-Greenstein phase functions (4 pi normalised) at cos_sr."""
    return 0.75 * (1.0 + cos_sr * cos_sr), (1.0 - g * g) / (1.0 + g * g - 2.0 * g * cos_sr) ** 1.5


@inline
def _trilinear(t, i0, f0, i1, f1, i2, f2, pr, pa, rgb):  # pragma: no cover - jit
    """Phase-weighted (Rayleigh pr, aerosol pa) trilinear interpolation of the table t
    (n0, n1, n2, 2, 3) at cells (i, f) of its three axes, into rgb (3,)."""
    for k in range(3):
        rgb[k] = 0.0
    for d0 in range(2):
        w0 = f0 if d0 else 1.0 - f0
        for d1 in range(2):
            w1 = w0 * (f1 if d1 else 1.0 - f1)
            for d2 in range(2):
                w = w1 * (f2 if d2 else 1.0 - f2)
                for k in range(3):
                    rgb[k] += w * (pr * t[i0 + d0, i1 + d1, i2 + d2, 0, k] + pa * t[i0 + d0, i1 + d1, i2 + d2, 1, k])


@inline
def _limb_rgb(lt, lg, ht, sin_e, cos_sr, rgb):  # pragma: no cover - jit
    """Radiance per unit solar illuminance (3,) into rgb of a limb line tangent at ht km, the Sun at
    elevation arcsin(sin_e) at the tangent point and at cos_sr from the line: trilinear in the table."""
    ih, fh = _axis2(ht, 0.0, lg[0], lg[1], lg[2], lg[3], lt.shape[0])
    ie, fe = _axis2(sin_e, lg[4], lg[5], lg[6], lg[7], lg[8], lt.shape[1])
    ce = math.sqrt(max(1.0 - sin_e * sin_e, 1e-12))
    a = min((min(max(cos_sr / ce, -1.0), 1.0) + 1.0) / lg[9], lt.shape[2] - 1.000001)
    ia = int(a)
    fa = a - ia
    pr, pa = _phases(cos_sr, lg[10])
    _trilinear(lt, ih, fh, ie, fe, ia, fa, pr, pa, rgb)


@inline
def _ground_cos_az(mus, muv, cos_sr):  # pragma: no cover - jit
    """Return the cosine of the Sun's azimuth from the camera's horizontal direction of view at a
    ground point: d.s = cos(az) sin(theta_v) sin(theta_s) - mu_v mu_s for a downward ray d."""
    den = math.sqrt(max((1.0 - muv * muv) * (1.0 - mus * mus), 1e-12))
    return min(max((cos_sr + muv * mus) / den, -1.0), 1.0)


@inline
def _ground_rgb(gt, lg, mus, muv, cos_sr, rgb):  # pragma: no cover - jit
    """Path radiance per unit solar illuminance (3,) into rgb over ground where the Sun's zenith
    cosine is mus (within the table: lg[14] < mus < lg[15]), seen at view zenith cosine muv:
    trilinear in the table; return the table's weight against the plane-parallel day formula (1
    below the horizon, falling to 0 at the table's top)."""
    x = min(max((mus - lg[11]) / lg[12], 0.0), gt.shape[0] - 1.000001)
    ie = int(x)
    fe = x - ie
    u = min(math.sqrt(max(muv, 0.0)) * (gt.shape[1] - 1), gt.shape[1] - 1.000001)
    iu = int(u)
    fu = u - iu
    a = min((_ground_cos_az(mus, muv, cos_sr) + 1.0) / lg[13], gt.shape[2] - 1.000001)
    ia = int(a)
    fa = a - ia
    pr, pa = _phases(cos_sr, lg[10])
    _trilinear(gt, ie, fe, iu, fu, ia, fa, pr, pa, rgb)
    return 1.0 if mus <= 0.0 else 1.0 - mus / lg[15]


@kernel(parallel=True)
def _earth_kernel(hit, hit_km, lat, lon, cos_sz, cos_vz, tangent, cos_sr, dirs, o, s, moon,
                  e_sun, e_moon, e_floor, tau, tw_rgb, theta, cloud_rho, cloud_km, clouds, atmos,
                  day, lut, cloud, cloud_lut, et, tl, nt, lt, gt, lg, out):  # pragma: no cover - jit
    h, w = hit.shape
    inv_a2 = 1.0 / (WGS84_A_KM * WGS84_A_KM)
    inv_b2 = 1.0 / (WGS84_B_KM * WGS84_B_KM)
    a_c = WGS84_A_KM + cloud_km
    b_c = WGS84_B_KM + cloud_km
    inv_ac2 = 1.0 / (a_c * a_c)
    inv_bc2 = 1.0 / (b_c * b_c)
    above = math.exp(-cloud_km / SCALE_HEIGHT_KM)  # share of the air column above the cloud tops
    ct, st = math.cos(theta), math.sin(theta)
    inv4pi = 1.0 / (4.0 * math.pi)
    inv_pi = 1.0 / math.pi
    r_e = R_EARTH_KM
    sh = SCALE_HEIGHT_KM
    for i in nb.prange(h):
        rho = np.empty(3)
        lc = np.zeros(3)
        lv = np.empty(3)  # the limb's or the twilit ground path's radiance per unit sunlight
        for j in range(w):
            mu_sr = cos_sr[i, j]
            phase = 0.75 * (1.0 + mu_sr * mu_sr)
            dx, dy, dz = dirs[i, j, 0], dirs[i, j, 1], dirs[i, j, 2]
            # Clouds: the first meeting of the ray with the cloud-top shell.
            alpha = 0.0
            if clouds and (hit[i, j] or tangent[i, j] < cloud_km + 30.0):
                tc = _shell_hit(o, dx, dy, dz, a_c, b_c)
                if tc > 0.0:
                    px, py, pz = o[0] + tc * dx, o[1] + tc * dy, o[2] + tc * dz
                    nx, ny, nz = px * inv_ac2, py * inv_ac2, pz * inv_bc2
                    inv = 1.0 / math.sqrt(nx * nx + ny * ny + nz * nz)
                    nx *= inv
                    ny *= inv
                    nz *= inv
                    c_lat = math.degrees(_fast_atan2(nz, math.sqrt(nx * nx + ny * ny)))
                    c_lon = math.degrees(_fast_atan2(-st * px + ct * py, ct * px + st * py))
                    tau_c = _cloud_tap(cloud, cloud_lut, c_lat, c_lon)  # the cloud's optical depth
                    if tau_c > 0.0:
                        muv_c = max(-(nx * dx + ny * dy + nz * dz), 0.0)
                        alpha = 1.0 - _exp_neg(et, tau_c * min(1.0 / max(muv_c, 1e-6), MAX_CLOUD_LAYERS))
                        mus_c = nx * s[0] + ny * s[1] + nz * s[2]
                        e_c = e_floor
                        if e_moon > 0.0 and mus_c < NIGHT_MU:
                            e_c += e_moon * max(nx * moon[0] + ny * moon[1] + nz * moon[2], 0.0)
                        e_tw_c, _ = _night_terms(nt, mus_c)
                        if not atmos:
                            e_tw_c = 0.0
                        m_s_c = _airmass(mus_c) * above
                        m_v_c = _airmass(muv_c) * above
                        for k in range(3):
                            t_v = _trans(tl, k, m_v_c) if atmos else 1.0
                            v = (e_tw_c * tw_rgb[k] + e_c) * t_v
                            if mus_c > 0.0:
                                v += e_sun * mus_c * t_v * (_trans(tl, k, m_s_c) if atmos else 1.0)
                            lc[k] = alpha * cloud_rho * v * inv_pi
            if hit[i, j]:
                la, lo = lat[i, j], lon[i, j]
                _rho_tap(day, lut, la, lo, rho)
                mus = cos_sz[i, j]
                muv = max(cos_vz[i, j], 0.0)
                e_night = e_floor
                if e_moon > 0.0 and mus < NIGHT_MU:
                    # Ellipsoid normal (TEME) at the hit point, for the Moon's zenith angle.
                    tk = hit_km[i, j]
                    nx = (o[0] + tk * dx) * inv_a2
                    ny = (o[1] + tk * dy) * inv_a2
                    nz = (o[2] + tk * dz) * inv_b2
                    mum = (nx * moon[0] + ny * moon[1] + nz * moon[2]) / math.sqrt(nx * nx + ny * ny + nz * nz)
                    e_night += e_moon * max(mum, 0.0)
                e_tw, fade = _night_terms(nt, mus)
                if not atmos:
                    e_tw = 0.0
                m_s = _airmass(mus)
                m_v = _airmass(muv)
                gw = _ground_rgb(gt, lg, mus, muv, mu_sr, lv) if atmos and lg[14] < mus < lg[15] else 0.0
                for k in range(3):
                    t_v = 1.0
                    t_s = 1.0
                    if atmos:
                        t_v = _trans(tl, k, m_v)
                        t_s = _trans(tl, k, m_s)
                    val = (e_tw * tw_rgb[k] + e_night) * rho[k] * t_v * inv_pi
                    if mus > 0.0:
                        val += e_sun * mus * t_s * t_v * rho[k] * inv_pi
                    val = (1.0 - alpha) * val
                    if alpha > 0.0:
                        val += lc[k]
                    if atmos and fade > 1e-12 and gw < 1.0:
                        # Path radiance of the sunlit air above the shadow (all of it by day, where
                        # exp(-tau (m_s + m_v)) = t_s t_v); over a cloud, of the air above it.
                        ext = t_s * t_v if fade == 1.0 else _trans(tl, k, fade * (m_s + m_v))
                        val += ((1.0 - gw) * e_sun * phase * inv4pi * m_v / (m_s + m_v) * (1.0 - ext)
                                * (1.0 - alpha + alpha * above))
                    if gw > 0.0:  # the twilit path (sunlight through the limb to each height): by table
                        val += gw * e_sun * lv[k] * (1.0 - alpha + alpha * above)
                    out[i, j, k] += val
                continue
            if alpha > 0.0:  # a cloud top standing above the limb
                for k in range(3):
                    out[i, j, k] += lc[k]
            if atmos:
                ht = tangent[i, j]
                if ht >= LIMB_TOP_KM:
                    continue
                ht = max(ht, 0.0)
                t = -(o[0] * dx + o[1] * dy + o[2] * dz)
                if t <= 0.0:
                    continue
                px, py, pz = o[0] + t * dx, o[1] + t * dy, o[2] + t * dz
                rp = math.sqrt(px * px + py * py + pz * pz)
                ps = px * s[0] + py * s[1] + pz * s[2]
                cx = py * s[2] - pz * s[1]
                cy = pz * s[0] - px * s[2]
                cz = px * s[1] - py * s[0]
                dperp = math.sqrt(cx * cx + cy * cy + cz * cz)  # distance of the sun ray's axis
                rho_h = math.exp(-ht / sh)
                taper = 1.0
                if ht > LIMB_FADE_KM:
                    taper = (LIMB_TOP_KM - ht) / (LIMB_TOP_KM - LIMB_FADE_KM)
                if lt.shape[0] > 1:  # Rayleigh + ozone + aerosol along the line and the sunlight, by table
                    _limb_rgb(lt, lg, ht, ps / rp, mu_sr, lv)
                    for k in range(3):
                        out[i, j, k] += e_sun * taper * lv[k]
                    continue
                for k in range(3):
                    tau_los = tau[k] * 2.0 * CH90 * rho_h
                    # An optically thick line of sight shows its outer layer, where tau_los ~ 1:
                    # take the sunlight there (h_eff), not at the tangent point.
                    h_eff = max(ht, sh * math.log(max(tau[k] * 2.0 * CH90, 1.0)))
                    f = (r_e + h_eff) / rp
                    if ps < 0.0 and dperp * f < r_e:
                        # The tangent point is inside the Earth's shadow cylinder; only the part of
                        # the path above the shadow's height h_sh there is lit, by sunlight that
                        # grazed the Earth: column above h_sh of a
                        # tangent path = column * erfc(sqrt((h_sh - h) / H)).
                        h_sh = r_e * rp / max(dperp, 1e-9) - r_e
                        tau_up = tau_los * math.erfc(math.sqrt(max(h_sh - ht, 0.0) / sh))
                        out[i, j, k] += (e_sun * phase * inv4pi * taper * math.exp(-tau[k] * SHADOW_EDGE_COLUMN)
                                        * (1.0 - math.exp(-tau_up)))
                        continue
                    rho_e = math.exp(-(h_eff - ht) / sh) * rho_h
                    if ps < 0.0:
                        # Sunlight grazes down to h_s before reaching the point: one full tangent
                        # column at h_s less the half column beyond the point.
                        col_sun = CH90 * (2.0 * math.exp(-(dperp * f - r_e) / sh) - rho_e)
                    else:
                        col_sun = rho_e * _airmass(ps / rp)
                    out[i, j, k] += (e_sun * phase * inv4pi * taper * math.exp(-tau[k] * col_sun)
                                    * (1.0 - math.exp(-tau_los)))


def _moon_terms(scene):
    """Return (Moon unit direction (3,), its illuminance at the top of the atmosphere in lx)."""
    try:
        moon = scene.body("Moon")
    except (InputError, AttributeError):  # no Moon in this scene
        return np.array([0.0, 0.0, 1.0]), 0.0
    d = np.asarray(moon.dir_teme, float).reshape(3)
    vmag = float(np.asarray(moon.vmag, float).reshape(()))
    if math.isfinite(vmag):
        e = float(vmag_to_lux(vmag))
    else:
        e = FULL_MOON_LUX * float(np.nan_to_num(np.asarray(moon.illuminated_fraction, float).reshape(())))
    return d / np.linalg.norm(d), e


def _args(scene, geom, settings):
    moon, e_moon = _moon_terms(scene)
    lt, gt, lg, tw_rgb = _limb_tables() if settings.limb_ozone_aerosol else _no_limb_tables()
    day, lut, _ = _textures()
    cloud_map = getattr(scene, "clouds", None) if settings.clouds else None
    clouds = cloud_map is not None
    cloud = cloud_map.opacity if clouds else np.zeros((2, 2), np.uint8)
    cloud_tau = cloud_map.tau_lut if clouds else np.zeros(256)
    return (geom.hit, geom.hit_km, geom.lat_deg, geom.lon_deg, geom.cos_sun_zenith, geom.cos_view_zenith, geom.tangent_km,
            geom.cos_sun_ray, geom.dirs_teme, np.asarray(geom.origin_teme_km, float),
            np.asarray(geom.sun_dir_teme, float), moon, E_SUN_LUX, e_moon,
            NIGHT_FLOOR_LUX, TAU_RAYLEIGH_RGB.astype(np.float64), tw_rgb, float(geom.theta_gmst),
            float(settings.cloud_albedo), float(settings.cloud_top_km), clouds), \
        (day, lut, cloud, cloud_tau, _EXP_TABLE, _TRANS_TABLE, _NIGHT_TABLE,
         lt, gt, lg)


def earth_layer(scene, geom, out: np.ndarray | None = None, settings=None, *,
                atmosphere: bool | None = None) -> np.ndarray:
    """Add the Earth's surface, its clouds and the Rayleigh atmosphere into `out` (H, W, 3)
    float32 luminance, cd/m^2.

    Args:
        scene: the :class:`cupola.scene.Scene` (the Moon, direction and V magnitude, and the
            cloud map ``scene.clouds`` are read).
        geom: the frame's :class:`cupola.camera.geometry.RayGeometry`.
        settings: the :class:`~cupola.render.settings.RenderSettings` (``atmosphere``, ``clouds``,
            ``cloud_albedo``, ``cloud_top_km``); default :data:`DEFAULT_SETTINGS`.
        atmosphere: overrides ``settings.atmosphere``; False gives the bare ground (no
            extinction, path radiance, twilight or limb glow): reflected sunlight
            E_sun rho cos(theta_s) / pi plus the night illumination (and the clouds, lit alike).
    Returns:
        `out`, linear sRGB primaries, cd/m^2. Independent of the exposure time: the ground is
        drawn at the frame's instant, without smear.
    """
    settings = DEFAULT_SETTINGS if settings is None else settings
    if atmosphere is None:
        atmosphere = bool(settings.atmosphere)
    out = np.zeros(geom.hit.shape + (3,), np.float32) if out is None else out  # the layer adds into it
    if use_twins():
        out += earth_layer_numpy(scene, geom, settings, atmosphere=atmosphere)
        return out
    args, tex = _args(scene, geom, settings)
    _earth_kernel(*args, bool(atmosphere), *tex, out)
    return out


_erfc = np.vectorize(math.erfc, otypes=[float])


def _clouds_numpy(args, tex, atmosphere: bool):
    """Return the cloud opacity seen along each ray alpha_v (H, W) and the cloud tops' luminance
    alpha_v L_cloud (H, W, 3), with numpy (the kernel's cloud terms)."""
    (hit, _, _, _, _, _, tangent, _, dirs, o, s, moon, e_sun, e_moon, e_floor, tau, tw_rgb, theta, cloud_rho,
     cloud_km, clouds), (_, _, cloud, cloud_tau, *_) = args, tex
    alpha = np.zeros(hit.shape)
    lc = np.zeros(hit.shape + (3,))
    if not clouds:
        return alpha, lc
    sel = hit | (tangent < cloud_km + 30.0)
    d = dirs[sel].astype(float)
    near, _ = ray_ellipsoid(np.broadcast_to(o, d.shape), d, cloud_km)
    ok = np.isfinite(near) & (near > 0.0)
    p = o + np.where(ok, near, 0.0)[:, None] * d
    n = p / np.array([(WGS84_A_KM + cloud_km) ** 2] * 2 + [(WGS84_B_KM + cloud_km) ** 2])
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    c, sn = math.cos(theta), math.sin(theta)
    c_lat = np.degrees(fast_atan2_np(n[:, 2], np.hypot(n[:, 0], n[:, 1])))
    c_lon = np.degrees(fast_atan2_np(-sn * p[:, 0] + c * p[:, 1], c * p[:, 0] + sn * p[:, 1]))
    tau_c = np.where(ok, _bilinear_np(cloud_tau[cloud], c_lat, c_lon), 0.0)
    muv = np.maximum(-np.sum(n * d, axis=-1), 0.0)
    layers = np.minimum(1.0 / np.maximum(muv, 1e-6), MAX_CLOUD_LAYERS)
    av = 1.0 - np.exp(-tau_c * layers)
    mus = n @ s
    e_c = e_floor + np.where(mus < NIGHT_MU, e_moon * np.maximum(n @ moon, 0.0), 0.0)
    above = math.exp(-cloud_km / SCALE_HEIGHT_KM)
    t_v = np.exp(-tau * airmass_np(muv)[:, None] * above) if atmosphere else 1.0
    t_s = np.exp(-tau * airmass_np(mus)[:, None] * above) if atmosphere else 1.0
    e_tw = twilight_lux(mus)[:, None] * tw_rgb if atmosphere else 0.0
    v = (e_tw + e_c[:, None]) * t_v + e_sun * np.maximum(mus, 0.0)[:, None] * t_v * t_s
    alpha[sel] = av
    lc[sel] = av[:, None] * cloud_rho * v / np.pi
    return alpha, lc


def earth_layer_numpy(scene, geom, settings=None, *, atmosphere: bool = True) -> np.ndarray:
    """Return the same as :func:`earth_layer`, computed with numpy only (the reference path)."""
    settings = DEFAULT_SETTINGS if settings is None else settings
    args, tex = _args(scene, geom, settings)
    (hit, hit_km, lat, lon, cos_sz, cos_vz, tangent, cos_sr, dirs, o, s, moon, e_sun, e_moon, e_floor,
     tau, tw_rgb, _, _, cloud_km, _), (day, lut, _, _, _, _, _, lt, gt, lg) = args, tex
    alpha_all, lc_all = _clouds_numpy(args, tex, atmosphere)
    out = np.zeros(hit.shape + (3,), np.float64)
    phase = 0.75 * (1.0 + cos_sr.astype(float) ** 2)
    airmass = airmass_np

    # Ground.
    la, lo = lat[hit].astype(float), lon[hit].astype(float)
    rho = _reflectance_np(day, lut, la, lo)
    mus = cos_sz[hit].astype(float)
    muv = np.maximum(cos_vz[hit].astype(float), 0.0)
    hp = o + hit_km[hit].astype(float)[:, None] * dirs[hit].astype(float)
    nrm = hp / np.array([WGS84_A_KM**2, WGS84_A_KM**2, WGS84_B_KM**2])
    mum = (nrm @ moon) / np.linalg.norm(nrm, axis=-1)
    e_night = (e_floor + np.where(mus < NIGHT_MU, e_moon * np.maximum(mum, 0.0), 0.0))[:, None]
    m_s, m_v = airmass(mus)[:, None], airmass(muv)[:, None]
    t_v = np.exp(-tau * m_v) if atmosphere else 1.0
    t_s = np.exp(-tau * m_s) if atmosphere else 1.0
    alpha = alpha_all[hit][:, None]
    g = e_sun * np.maximum(mus, 0.0)[:, None] * t_s * t_v * rho / np.pi
    if atmosphere:
        g += twilight_lux(mus)[:, None] * tw_rgb * rho * t_v / np.pi
    g += e_night * rho * t_v / np.pi
    g = (1.0 - alpha) * g + lc_all[hit]
    if atmosphere:
        fade = shadow_fade(mus)[:, None]
        gv, gw = ground_rgb_np(gt, lg, mus, muv, cos_sr[hit].astype(float)) if gt.shape[0] > 1 else (0.0, np.zeros_like(mus))
        gw = gw[:, None]
        g += ((1.0 - gw) * e_sun * phase[hit][:, None] / (4 * np.pi) * m_v / (m_s + m_v)
              * (1.0 - np.exp(-tau * fade * (m_s + m_v))) * (1.0 - alpha + alpha * math.exp(-cloud_km / SCALE_HEIGHT_KM)))
        g += gw * e_sun * gv * (1.0 - alpha + alpha * math.exp(-cloud_km / SCALE_HEIGHT_KM))
    out[hit] = g
    if atmosphere:
        miss = ~hit & (tangent < LIMB_TOP_KM)
        d = dirs[miss].astype(float)
        t = -(d @ o)
        ht = np.maximum(tangent[miss].astype(float), 0.0)
        p = o + t[:, None] * d
        rp = np.linalg.norm(p, axis=-1)[:, None]
        ps = (p @ s)[:, None]
        dperp = np.linalg.norm(np.cross(p, s), axis=-1)[:, None]
        rho_h = np.exp(-ht / SCALE_HEIGHT_KM)[:, None]
        h_eff = np.maximum(ht[:, None], SCALE_HEIGHT_KM * np.log(np.maximum(tau * 2.0 * CH90, 1.0)))
        f = (R_EARTH_KM + h_eff) / rp
        rho_e = np.exp(-h_eff / SCALE_HEIGHT_KM)
        with np.errstate(over="ignore", invalid="ignore"):
            col_sun = np.where(ps < 0.0, CH90 * (2.0 * np.exp(-(dperp * f - R_EARTH_KM) / SCALE_HEIGHT_KM) - rho_e),
                               rho_e * airmass(ps / rp))
            shadow = (ps < 0.0) & (dperp * f < R_EARTH_KM)
            taper = np.clip((LIMB_TOP_KM - ht) / (LIMB_TOP_KM - LIMB_FADE_KM), 0.0, 1.0)[:, None]
            tau_los = tau * 2.0 * CH90 * rho_h
            glow = (e_sun * phase[miss][:, None] / (4 * np.pi) * taper * np.exp(-tau * col_sun)
                    * (1.0 - np.exp(-tau_los)))
            h_sh = R_EARTH_KM * rp / np.maximum(dperp, 1e-9) - R_EARTH_KM
            tau_up = tau_los * _erfc(np.sqrt(np.maximum(h_sh - ht[:, None], 0.0) / SCALE_HEIGHT_KM))
            glow_up = (e_sun * phase[miss][:, None] / (4 * np.pi) * taper * np.exp(-tau * SHADOW_EDGE_COLUMN)
                       * (1.0 - np.exp(-tau_up)))
        if lt.shape[0] > 1:  # the table (Rayleigh + ozone + aerosol), as the kernel
            glow = e_sun * taper * limb_rgb_np(lt, lg, ht, (ps / rp)[:, 0], cos_sr[miss].astype(float))
            shadow = np.zeros_like(shadow)
        out[miss] = np.where(t[:, None] > 0.0, np.where(shadow, glow_up, glow), 0.0)
    out[~hit] += lc_all[~hit]
    return out.astype(np.float32)

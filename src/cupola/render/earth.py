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
- Sun- and moonglint (``settings.glint``): open water (the land mask's bit 0, bilinear) reflects
  the Sun and the Moon specularly off wave facets with Cox & Munk's (1954, J. Opt. Soc. Am. 44,
  838) isotropic slope density p = exp(-tan^2(beta) / sigma^2) / (pi sigma^2), sigma^2 = 0.003 +
  5.12e-3 U (U = ``settings.glint_wind_m_s`` at 12.5 m), Fresnel reflectance rho(omega) of water
  (n = 1.34) at the facet's incidence omega: L = E rho p / (4 cos^4(beta) cos(theta_v)) (the form of
  Zhang & Wang 2010, Opt. Express 18, 12356, eq. 1), beta the tilt of the facet normal that mirrors
  the source into the ray, E the Sun's or the Moon's illuminance; dimmed by the same Rayleigh
  extinction along both paths and by the cloud above (1 - alpha_v). Left out: whitecaps, sea ice,
  the slopes' anisotropy with the wind direction, shadowing of facets at grazing view.
- Texture filtering (``settings.texture_filter``): the reflectance comes from a mip pyramid of
  the texture (box means of the linear reflectance, ``_mips``) at the level of the pixel's
  footprint delta r / cos(theta_v)^(3/4) / sqrt(cos(lat)) (see FOOT_MIN_MU), trilinear; bilinear
  at full resolution where a pixel is smaller than a texel.
- The hard limb's edge (``settings.limb_antialias``): pixels it crosses get their exact coverage
  (``limb_edges``) and mix this layer's value at their centre with its value at a ray across the
  edge. The clouds' silhouette above the limb is not smoothed.
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
from ..constants import R_EARTH_KM, WATER_REFRACTIVE_INDEX, WGS84_A_KM, WGS84_B_KM
from ..camera.geometry import RayGeometry, _fast_atan2, camera_ray, fast_atan2_np
from ..errors import DataMissingError, InputError
from ..jit import inline, kernel, spread_row, use_twins
from ..photometry import E_SUN_LUX, vmag_to_lux
from ..raster import bilinear as _bilinear_np, box_levels, mip_factors
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
# Sea-surface slopes (Cox & Munk 1954, J. Opt. Soc. Am. 44, 838; isotropic fit, clean sea): the
# mean-square slope sigma^2 = COX_MUNK_A + COX_MUNK_B U, U the wind 12.5 m above the sea (m/s).
COX_MUNK_A = 0.003
COX_MUNK_B = 5.12e-3
GLINT_CUT = 9.0  # tan^2(beta) / sigma^2 past which a facet's glint (< 1.3e-4 of the peak, < 1 cd/m^2) is skipped
GLINT_MIN_MU = 0.05  # the 1 / cos(theta_v) of the glint formula held below this view zenith cosine
# A pixel's footprint on the ground is delta r across the view and delta r / cos(theta_v) along it
# (delta its angular size, r the range); an isotropic (trilinear) filter takes the level of
# delta r / cos(theta_v)^(3/4), between the two axes' sizes: the major axis (exponent 1) blurred a
# 14 mm oblique frame's texture to 0.86 of a 4 x 4 supersampled frame's high-frequency energy,
# 3/4 gives 1.04 with a 10 % smaller rms error, 1/2 leaves 1.22 (aliasing). Equirectangular
# texels narrow as cos(latitude) in longitude: the footprint is also divided by sqrt(cos(lat)).
FOOT_MIN_MU = 0.02  # the footprint's stretch held at this view zenith cosine (87 deg; haze hides more)
FOOT_MIN_COS = 0.05  # ... and its latitude stretch at this cos(latitude) (87 deg)

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


def glint_sigma2(wind_m_s: float) -> float:
    """Return Cox & Munk's (1954) isotropic mean-square slope of the sea for a wind at 12.5 m (m/s)."""
    return COX_MUNK_A + COX_MUNK_B * float(wind_m_s)


def fresnel_water_np(cos_i, n: float = WATER_REFRACTIVE_INDEX) -> np.ndarray:
    """Return the Fresnel reflectance of unpolarised light on water (index `n`) at incidence cosines."""
    ci = np.clip(np.asarray(cos_i, float), 0.0, 1.0)
    ct = np.sqrt(1.0 - (1.0 - ci * ci) / (n * n))
    rs = (ci - n * ct) / (ci + n * ct)
    rp = (n * ci - ct) / (n * ci + ct)
    return 0.5 * (rs * rs + rp * rp)


@functools.cache
def _mips():
    """Return the day texture's mip levels after the first (uint8 sRGB codes of the linear-reflectance
    means, packed as rows of one (N, 3) array), their (offset, h, w) (L, 3) with level 0 the texture
    itself, and each level's texel size in level-0 texels (L,); cached."""
    day, lut, _ = _textures()
    h, w = day.shape[:2]
    factors = mip_factors(h, w)
    # Means of the linear reflectance, not of the codes; the first reduction in bands of rows so the
    # decoded texture (175 MB as float32) never exists whole.
    f0 = factors[0] if factors else 1
    band = f0 * 90
    first = np.concatenate([box_levels(lut[day[r:r + band]], factors[:1])[0] for r in range(0, h, band)]) \
        if factors else None
    levels = ([first] + box_levels(first, factors[1:])) if factors else []
    # Back to the nearest code through a fine inverse table (65,536 bins over 0..ALBEDO_SCALE,
    # each far narrower than a code step, 2.6e-4 at the darkest).
    grid = np.linspace(0.0, float(lut[-1]), INVERSE_N)
    mid = 0.5 * (lut[1:] + lut[:-1])  # lut is increasing: the nearest code by bisection
    inverse = np.searchsorted(mid, grid).astype(np.uint8)
    codes = [inverse[np.clip(np.rint(lv * ((INVERSE_N - 1) / float(lut[-1]))), 0, INVERSE_N - 1).astype(np.int64)]
             .reshape(-1, 3) for lv in levels]
    dims = [(0, h, w)]
    off = 0
    for lv in levels:
        dims.append((off, lv.shape[0], lv.shape[1]))
        off += lv.shape[0] * lv.shape[1]
    scale = np.cumprod((1.0,) + factors)
    packed = np.ascontiguousarray(np.concatenate(codes)) if codes else np.zeros((1, 3), np.uint8)
    return packed, np.asarray(dims, np.int64), scale


INVERSE_N = 65536


def texel_km() -> float:
    """Return the day texture's texel size (km) along a meridian (pi R / rows)."""
    day, _, _ = _textures()
    return math.pi * R_EARTH_KM / day.shape[0]


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
def _trans_cell(m):  # pragma: no cover - jit
    """Return (i0, i1, f) of air mass `m` in the transmission table (clamped at TRANS_MAX): found
    once, read for the three channels by :func:`_trans_at`."""
    x = m * (TRANS_N - 1) / TRANS_MAX
    if x >= TRANS_N - 1:
        return TRANS_N - 1, TRANS_N - 1, 0.0
    i = int(x)
    return i, i + 1, x - i


@inline
def _trans_at(tl, k, cell):  # pragma: no cover - jit
    i0, i1, f = cell
    return tl[k, i0] + f * (tl[k, i1] - tl[k, i0])


@inline
def _trans(tl, k, m):  # pragma: no cover - jit
    """Return exp(-tau_k m) from the table `tl` (linear interpolation; m in air masses)."""
    return _trans_at(tl, k, _trans_cell(m))


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


@inline
def _level_tap(day, mips, dims, lv, lut, lat, lon, wgt, rho):  # pragma: no cover - jit
    """Add `wgt` times the bilinear reflectance of mip level `lv` (0: the texture) into rho (3,)."""
    off, h, w = dims[lv, 0], dims[lv, 1], dims[lv, 2]
    y0, x0, x1, fy, fx = _cell(lat, lon, h, w)
    w00, w01, w10, w11 = (1 - fy) * (1 - fx), (1 - fy) * fx, fy * (1 - fx), fy * fx
    r0 = off + y0 * w
    r1 = r0 + w
    for c in range(3):
        if lv == 0:
            v = (w00 * lut[day[y0, x0, c]] + w01 * lut[day[y0, x1, c]]
                 + w10 * lut[day[y0 + 1, x0, c]] + w11 * lut[day[y0 + 1, x1, c]])
        else:
            v = (w00 * lut[mips[r0 + x0, c]] + w01 * lut[mips[r0 + x1, c]]
                 + w10 * lut[mips[r1 + x0, c]] + w11 * lut[mips[r1 + x1, c]])
        rho[c] += wgt * v


@inline
def _rho_filtered(day, lut, mips, dims, scale, lat, lon, foot, muv, rho):  # pragma: no cover - jit
    """Reflectance into rho (3,) filtered to the pixel's footprint: `foot` is the pixel's width on
    the ground seen face-on, in level-0 texels (0: no filtering); trilinear between mip levels
    (the blend linear in the footprint between the two levels' texel sizes)."""
    mu = max(muv, FOOT_MIN_MU)
    f2 = foot * foot / FOOT_MIN_COS  # (foot times the largest latitude stretch)^2
    if f2 * f2 <= mu * mu * mu:  # foot / mu^(3/4) / sqrt(cos(lat)) <= 1 whatever the latitude
        _rho_tap(day, lut, lat, lon, rho)
        return
    f = foot / (math.sqrt(mu) * math.sqrt(math.sqrt(mu)) * math.sqrt(max(math.cos(math.radians(lat)), FOOT_MIN_COS)))
    if f <= 1.0:
        _rho_tap(day, lut, lat, lon, rho)
        return
    n = scale.shape[0]
    lv = 0
    while lv + 1 < n and scale[lv + 1] <= f:
        lv += 1
    rho[0] = 0.0
    rho[1] = 0.0
    rho[2] = 0.0
    if lv + 1 >= n:
        _level_tap(day, mips, dims, lv, lut, lat, lon, 1.0, rho)
        return
    t = (f - scale[lv]) / (scale[lv + 1] - scale[lv])
    _level_tap(day, mips, dims, lv, lut, lat, lon, 1.0 - t, rho)
    _level_tap(day, mips, dims, lv + 1, lut, lat, lon, t, rho)


@inline
def _fresnel(ci, n):  # pragma: no cover - jit
    """Fresnel reflectance of unpolarised light on water of index n at incidence cosine ci."""
    ci = min(max(ci, 0.0), 1.0)
    ct = math.sqrt(1.0 - (1.0 - ci * ci) / (n * n))
    rs = (ci - n * ct) / (ci + n * ct)
    rp = (n * ci - ct) / (n * ci + ct)
    return 0.5 * (rs * rs + rp * rp)


@inline
def _glint_facet(nx, ny, nz, nn, vx, vy, vz, lx, ly, lz, muv, s2, n_w, et):  # pragma: no cover - jit
    """Return rho(omega) p(beta) / (4 cos^4(beta) cos(theta_v)): the glint radiance per unit
    illuminance of a source in direction l seen from direction v (Cox & Munk 1954), for the
    surface normal (nx, ny, nz) of squared length nn (not normalised: the test of the facet's tilt
    against GLINT_CUT, which rejects most pixels, then needs no square root)."""
    hx, hy, hz = lx + vx, ly + vy, lz + vz
    hh = hx * hx + hy * hy + hz * hz
    hd = hx * nx + hy * ny + hz * nz
    if hd <= 0.0 or hh < 1e-18:
        return 0.0
    t2 = hh * nn / (hd * hd) - 1.0  # tan^2(beta), beta the facet normal's tilt
    x = max(t2, 0.0) / s2
    if x > GLINT_CUT:
        return 0.0
    c2 = 1.0 / (1.0 + t2)  # cos^2(beta)
    ci = (lx * hx + ly * hy + lz * hz) / math.sqrt(hh)  # cos(omega): the incidence on the facet
    return _fresnel(ci, n_w) * _exp_neg(et, x) / (4.0 * math.pi * s2 * c2 * c2 * max(muv, GLINT_MIN_MU))


@inline
def _sea_tap(mask, lat, lon):  # pragma: no cover - jit
    """Return the bilinear water fraction (1 - land bit) of the land mask at lat/lon."""
    y0, x0, x1, fy, fx = _cell(lat, lon, mask.shape[0], mask.shape[1])
    land = ((1 - fy) * ((1 - fx) * (mask[y0, x0] & 1) + fx * (mask[y0, x1] & 1))
            + fy * ((1 - fx) * (mask[y0 + 1, x0] & 1) + fx * (mask[y0 + 1, x1] & 1)))
    return 1.0 - land


@inline
def _glint_rgb(mask, o, tk, dx, dy, dz, lat, lon, s, moon, e_sun, e_moon, mus, muv, s2, n_w, tl, et, atmos,
               gl):  # pragma: no cover - jit
    """Return the sunglint (cd/m^2) at a ground hit before extinction (the kernel applies its own
    t_s t_v), and put the moonglint, extinction included, into gl (3,)."""
    gl[0] = 0.0
    gl[1] = 0.0
    gl[2] = 0.0
    moon_on = e_moon > 0.0 and mus < NIGHT_MU
    if s2 <= 0.0 or not (mus > 0.0 or moon_on):
        return 0.0
    nx = (o[0] + tk * dx) * (1.0 / (WGS84_A_KM * WGS84_A_KM))
    ny = (o[1] + tk * dy) * (1.0 / (WGS84_A_KM * WGS84_A_KM))
    nz = (o[2] + tk * dz) * (1.0 / (WGS84_B_KM * WGS84_B_KM))
    nn = nx * nx + ny * ny + nz * nz
    g_s = 0.0
    if mus > 0.0:
        g_s = e_sun * _glint_facet(nx, ny, nz, nn, -dx, -dy, -dz, s[0], s[1], s[2], muv, s2, n_w, et)
    g_m = 0.0
    if moon_on:
        mum = (nx * moon[0] + ny * moon[1] + nz * moon[2]) / math.sqrt(nn)
        if mum > 0.0:
            g_m = e_moon * _glint_facet(nx, ny, nz, nn, -dx, -dy, -dz, moon[0], moon[1], moon[2], muv, s2, n_w, et)
    if g_s == 0.0 and g_m == 0.0:
        return 0.0
    sea = _sea_tap(mask, lat, lon)
    if sea <= 0.0:
        return 0.0
    if g_m > 0.0:
        m_v, m_m = _airmass(muv), _airmass(mum)
        for k in range(3):
            gl[k] = sea * g_m * (_trans(tl, k, m_v) * _trans(tl, k, m_m) if atmos else 1.0)
    return sea * g_s

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
                  day, lut, cloud, cloud_lut, et, tl, nt, lt, gt, lg, mask, glint_s2, n_water, mips, mip_dims,
                  mip_scale, mip_px, out):  # pragma: no cover - jit
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
    for k_row in nb.prange(h):
        i = spread_row(k_row, h)
        rho = np.empty(3)
        lc = np.zeros(3)
        gl = np.zeros(3)
        g_sun = 0.0
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
                        cv = _trans_cell(_airmass(muv_c) * above)
                        cs = _trans_cell(_airmass(mus_c) * above)
                        for k in range(3):
                            t_v = _trans_at(tl, k, cv) if atmos else 1.0
                            v = (e_tw_c * tw_rgb[k] + e_c) * t_v
                            if mus_c > 0.0:
                                v += e_sun * mus_c * t_v * (_trans_at(tl, k, cs) if atmos else 1.0)
                            lc[k] = alpha * cloud_rho * v * inv_pi
            if hit[i, j]:
                la, lo = lat[i, j], lon[i, j]
                _rho_filtered(day, lut, mips, mip_dims, mip_scale, la, lo, mip_px * hit_km[i, j], cos_vz[i, j], rho)
                mus = cos_sz[i, j]
                muv = max(cos_vz[i, j], 0.0)
                g_sun = _glint_rgb(mask, o, hit_km[i, j], dx, dy, dz, la, lo, s, moon, e_sun, e_moon, mus, muv,
                                   glint_s2, n_water, tl, et, atmos, gl)
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
                cv = _trans_cell(m_v)
                cs = _trans_cell(m_s)
                ce = _trans_cell(fade * (m_s + m_v))
                for k in range(3):
                    t_v = 1.0
                    t_s = 1.0
                    if atmos:
                        t_v = _trans_at(tl, k, cv)
                        t_s = _trans_at(tl, k, cs)
                    val = (e_tw * tw_rgb[k] + e_night) * rho[k] * t_v * inv_pi
                    if mus > 0.0:
                        val += e_sun * mus * t_s * t_v * rho[k] * inv_pi
                    val += g_sun * t_s * t_v + gl[k]
                    val = (1.0 - alpha) * val
                    if alpha > 0.0:
                        val += lc[k]
                    if atmos and fade > 1e-12 and gw < 1.0:
                        # Path radiance of the sunlit air above the shadow (all of it by day, where
                        # exp(-tau (m_s + m_v)) = t_s t_v); over a cloud, of the air above it.
                        ext = t_s * t_v if fade == 1.0 else _trans_at(tl, k, ce)
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
    _earth_kernel(*args, bool(atmosphere), *tex, *_surface_args(geom, settings), out)
    return _antialias_limb(scene, geom, settings, atmosphere, out, twin=False)


def _surface_args(geom, settings):
    """Return the kernel's arguments for the sea's glint and the texture's filtering: (land mask,
    sigma^2 (0: no glint), water index, mip levels, their dims and texel scales, level-0 texels
    per km of range across a face-on pixel (0: no filtering))."""
    _, _, mask = _textures()
    mips, dims, scale = _mips()
    s2 = glint_sigma2(settings.glint_wind_m_s) if settings.glint else 0.0
    mip_px = 1.0 / (float(geom.camera.focal_px) * texel_km()) if settings.texture_filter else 0.0
    return mask, s2, WATER_REFRACTIVE_INDEX, mips, dims, scale, mip_px


# -- the hard limb's edge ---------------------------------------------------------------------------
@inline
def _limb_disc(o, a, k, dx, dy, dz):  # pragma: no cover - jit
    """Return a^2 - (closest approach)^2 of the ray to the ellipsoid scaled to a sphere (z times k):
    > 0 where the line meets the Earth; smooth across the limb, so it can be linearised there."""
    sx, sy, sz = dx, dy, dz * k
    inv = 1.0 / math.sqrt(sx * sx + sy * sy + sz * sz)
    ox, oy, oz = o[0], o[1], o[2] * k
    b = (ox * sx + oy * sy + oz * sz) * inv
    return a * a - (ox * ox + oy * oy + oz * oz - b * b)


@inline
def _halfplane_area(nx, ny, t):  # pragma: no cover - jit
    """Return the area of the unit pixel [-1/2, 1/2]^2 where nx u + ny v <= t, for a unit (nx, ny)."""
    p = max(abs(nx), abs(ny))
    q = min(abs(nx), abs(ny))
    u = t + 0.5 * (p + q)  # distance from the pixel's lowest corner
    if u <= 0.0:
        return 0.0
    if u >= p + q:
        return 1.0
    if u < q:
        return u * u / (2.0 * p * q)
    if u <= p:
        return (u - 0.5 * q) / p
    r = p + q - u
    return 1.0 - r * r / (2.0 * p * q)


@kernel()
def _limb_edges_kernel(hit, dirs, o, a, k, basis, f, cx, cy, rows, cols, cov, sub):  # pragma: no cover - jit
    """Find the hard limb's edge pixels (a 4-neighbour disagrees about hitting the Earth), their
    coverage and a ray on the other side of the edge; return how many (may exceed the arrays)."""
    h, w = hit.shape
    n = 0
    for i in range(h):
        # A cheap row test first (vectorised): most rows have no edge at all.
        edge_row = False
        for j in range(w - 1):
            edge_row |= hit[i, j] != hit[i, j + 1]
        if i > 0:
            for j in range(w):
                edge_row |= hit[i, j] != hit[i - 1, j]
        if i + 1 < h:
            for j in range(w):
                edge_row |= hit[i, j] != hit[i + 1, j]
        if not edge_row:
            continue
        for j in range(w):
            c = hit[i, j]
            if not ((j > 0 and hit[i, j - 1] != c) or (j + 1 < w and hit[i, j + 1] != c)
                    or (i > 0 and hit[i - 1, j] != c) or (i + 1 < h and hit[i + 1, j] != c)):
                continue
            # Linearise the discriminant over the pixel (central differences where both exist).
            f0 = _limb_disc(o, a, k, dirs[i, j, 0], dirs[i, j, 1], dirs[i, j, 2])
            jl, jr = max(j - 1, 0), min(j + 1, w - 1)
            it, ib = max(i - 1, 0), min(i + 1, h - 1)
            gx = (_limb_disc(o, a, k, dirs[i, jr, 0], dirs[i, jr, 1], dirs[i, jr, 2])
                  - _limb_disc(o, a, k, dirs[i, jl, 0], dirs[i, jl, 1], dirs[i, jl, 2])) / (jr - jl)
            gy = (_limb_disc(o, a, k, dirs[ib, j, 0], dirs[ib, j, 1], dirs[ib, j, 2])
                  - _limb_disc(o, a, k, dirs[it, j, 0], dirs[it, j, 1], dirs[it, j, 2])) / (ib - it)
            g = math.sqrt(gx * gx + gy * gy)
            if g <= 0.0:
                continue
            nx, ny = gx / g, gy / g
            d = f0 / g  # the centre's signed distance (px) from the edge, > 0 on the Earth's side
            covered = 1.0 - _halfplane_area(nx, ny, -d)
            if covered <= 0.0 or covered >= 1.0:
                continue
            # A ray in the middle of the part of the pixel across the edge from the centre.
            reach = 0.5 * (abs(nx) + abs(ny))
            t_o = 0.5 * (-d - reach) if c else 0.5 * (-d + reach)
            u = min(max(t_o * nx, -0.5), 0.5)
            v = min(max(t_o * ny, -0.5), 0.5)
            if n < rows.shape[0]:
                rows[n] = i
                cols[n] = j
                cov[n] = covered
                sx, sy, sz = camera_ray(basis, (j + u - cx) / f, (i + v - cy) / f)
                sub[n, 0] = sx
                sub[n, 1] = sy
                sub[n, 2] = sz
            n += 1
    return n


def _limb_edges_numpy(hit, dirs, o, a, k, basis, f, cx, cy):
    """Return :func:`_limb_edges_kernel`'s (rows, cols, coverage, other-side rays) with numpy."""
    h, w = hit.shape
    edge = np.zeros_like(hit)
    edge[:, 1:] |= hit[:, 1:] != hit[:, :-1]
    edge[:, :-1] |= hit[:, :-1] != hit[:, 1:]
    edge[1:] |= hit[1:] != hit[:-1]
    edge[:-1] |= hit[:-1] != hit[1:]
    ii, jj = np.nonzero(edge)

    def disc(r, c):
        sd = dirs[r, c].astype(float) * np.array([1.0, 1.0, k])
        sd /= np.linalg.norm(sd, axis=-1, keepdims=True)
        os_ = o * np.array([1.0, 1.0, k])
        return a * a - (os_ @ os_ - (sd @ os_) ** 2)

    jl, jr = np.maximum(jj - 1, 0), np.minimum(jj + 1, w - 1)
    it, ib = np.maximum(ii - 1, 0), np.minimum(ii + 1, h - 1)
    gx = (disc(ii, jr) - disc(ii, jl)) / (jr - jl)
    gy = (disc(ib, jj) - disc(it, jj)) / (ib - it)
    g = np.hypot(gx, gy)
    with np.errstate(divide="ignore", invalid="ignore"):
        nx, ny, d = gx / g, gy / g, disc(ii, jj) / g
        p, q = np.maximum(abs(nx), abs(ny)), np.minimum(abs(nx), abs(ny))
        u = -d + 0.5 * (p + q)
        area = np.where(u < q, u * u / (2 * p * q), np.where(u <= p, (u - 0.5 * q) / p,
                                                             1.0 - (p + q - u) ** 2 / (2 * p * q)))
    area = np.where(u <= 0.0, 0.0, np.where(u >= p + q, 1.0, area))
    cov = 1.0 - area
    keep = (g > 0.0) & (cov > 0.0) & (cov < 1.0)
    ii, jj, cov, nx, ny, d = ii[keep], jj[keep], cov[keep], nx[keep], ny[keep], d[keep]
    reach = 0.5 * (abs(nx) + abs(ny))
    t_o = np.where(hit[ii, jj], 0.5 * (-d - reach), 0.5 * (-d + reach))
    us, vs = np.clip(t_o * nx, -0.5, 0.5), np.clip(t_o * ny, -0.5, 0.5)
    ray = (((jj + us - cx) / f)[:, None] * basis[0] + ((ii + vs - cy) / f)[:, None] * basis[1] + basis[2])
    return ii, jj, cov, ray / np.linalg.norm(ray, axis=-1, keepdims=True)


def limb_edges(geom, twin: bool | None = None):
    """Return the hard limb's edge pixels of `geom` (pixels a 4-neighbour of which disagrees about
    hitting the Earth) as (rows, cols, coverage, rays): the fraction of each pixel inside the
    Earth's outline, and a unit TEME ray through the part of the pixel across the edge from its
    centre (on the Earth where the centre misses it, in the sky where it hits).

    The coverage is exact for a straight edge: the ray's discriminant against the WGS84 ellipsoid
    (a^2 minus the squared closest approach, z scaled by a/b) is linearised over the pixel from its
    neighbours' rays and the pixel square cut by that line; the limb bends by well under a
    thousandth of a pixel across one pixel (its radius is ~1,000 px and more). `twin`: use the
    numpy twin (default: as :func:`cupola.jit.use_twins` says).
    """
    cam = geom.camera
    cx, cy = cam.principal_point
    args = (geom.hit, geom.dirs_teme, np.asarray(geom.origin_teme_km, float), WGS84_A_KM, WGS84_A_KM / WGS84_B_KM,
            np.ascontiguousarray(geom.basis_teme, float), float(cam.focal_px), float(cx), float(cy))
    if use_twins() if twin is None else twin:
        return _limb_edges_numpy(*args)
    cap = 4 * (geom.hit.shape[0] + geom.hit.shape[1]) + 64
    while True:
        rows, cols = np.empty(cap, np.int64), np.empty(cap, np.int64)
        cov, sub = np.empty(cap), np.empty((cap, 3))
        n = _limb_edges_kernel(*args, rows, cols, cov, sub)
        if n <= cap:
            return rows[:n], cols[:n], cov[:n], sub[:n]
        cap = n


def _rays_geometry(geom, dirs) -> RayGeometry:
    """Return a (1, N) RayGeometry of unit TEME rays `dirs` (N, 3) from `geom`'s station, computed
    as :func:`cupola.camera.geometry.ray_geometry` computes a pixel's."""
    o = np.asarray(geom.origin_teme_km, float)
    d = np.asarray(dirs, float)
    near, _ = ray_ellipsoid(np.broadcast_to(o, d.shape), d, 0.0)
    hit = np.isfinite(near) & (near > 0.0)
    t = np.where(hit, near, np.nan)
    p = o + t[:, None] * d
    nrm = p / np.array([WGS84_A_KM**2, WGS84_A_KM**2, WGS84_B_KM**2])
    nrm /= np.linalg.norm(nrm, axis=-1, keepdims=True)
    c, sn = math.cos(geom.theta_gmst), math.sin(geom.theta_gmst)
    tca = np.maximum(-(d @ o), 0.0)
    tangent = np.where(hit, -1.0, np.linalg.norm(o + tca[:, None] * d, axis=-1) - R_EARTH_KM)
    f32 = lambda x: np.asarray(x, np.float32).reshape(1, -1)  # noqa: E731
    with np.errstate(invalid="ignore"):
        lat = np.degrees(fast_atan2_np(nrm[:, 2], np.hypot(nrm[:, 0], nrm[:, 1])))
        lon = np.degrees(fast_atan2_np(-sn * p[:, 0] + c * p[:, 1], c * p[:, 0] + sn * p[:, 1]))
    s = np.asarray(geom.sun_dir_teme, float)
    return RayGeometry(camera=geom.camera, attitude=geom.attitude, basis_teme=geom.basis_teme, origin_teme_km=o,
                       sun_dir_teme=s, theta_gmst=geom.theta_gmst, dirs_teme=f32(d).reshape(1, -1, 3),
                       hit=hit.reshape(1, -1), hit_km=f32(t), lat_deg=f32(np.where(hit, lat, np.nan)),
                       lon_deg=f32(np.where(hit, lon, np.nan)), cos_sun_zenith=f32(np.where(hit, nrm @ s, np.nan)),
                       cos_view_zenith=f32(np.where(hit, -np.sum(nrm * d, axis=-1), np.nan)), tangent_km=f32(tangent),
                       cos_sun_ray=f32(d @ s))


def _concat_geometry(a, b) -> RayGeometry:
    """Return the (1, Na + Nb) RayGeometry of two (1, N) ones of the same frame, side by side."""
    return RayGeometry(camera=a.camera, attitude=a.attitude, basis_teme=a.basis_teme, origin_teme_km=a.origin_teme_km,
                       sun_dir_teme=a.sun_dir_teme, theta_gmst=a.theta_gmst,
                       **{name: np.concatenate([getattr(a, name), getattr(b, name)], axis=1) for name in
                          ("dirs_teme", "hit", "hit_km", "lat_deg", "lon_deg", "cos_sun_zenith", "cos_view_zenith",
                           "tangent_km", "cos_sun_ray")})


def _antialias_limb(scene, geom, settings, atmosphere, out, twin):
    """Give the hard limb's edge pixels in `out` their coverage-weighted mean of the Earth and the
    sky: the layer's own value at the centre (what it added there) and at the ray across the edge
    (:func:`limb_edges`), each shaded as a pixel of its own by this layer (its numpy twin if `twin`)."""
    if not settings.limb_antialias or not geom.hit.any():
        return out
    rows, cols, cov, sub = limb_edges(geom, twin)
    if len(rows) == 0:
        return out
    centre = RayGeometry(camera=geom.camera, attitude=geom.attitude, basis_teme=geom.basis_teme,
                         origin_teme_km=geom.origin_teme_km, sun_dir_teme=geom.sun_dir_teme,
                         theta_gmst=geom.theta_gmst, dirs_teme=geom.dirs_teme[rows, cols][None],
                         **{name: getattr(geom, name)[rows, cols][None] for name in
                            ("hit", "hit_km", "lat_deg", "lon_deg", "cos_sun_zenith", "cos_view_zenith",
                             "tangent_km", "cos_sun_ray")})
    plain = settings.replace(limb_antialias=False)
    if twin:
        shade = lambda g: earth_layer_numpy(scene, g, plain, atmosphere=atmosphere)  # noqa: E731
    else:
        shade = lambda g: earth_layer(scene, g, None, plain, atmosphere=atmosphere)  # noqa: E731
    both = shade(_concat_geometry(centre, _rays_geometry(geom, sub)))[0].astype(float)
    at_centre, across = both[:len(rows)], both[len(rows):]
    w_centre = np.where(geom.hit[rows, cols], cov, 1.0 - cov)[:, None]
    out[rows, cols] += ((w_centre - 1.0) * at_centre + (1.0 - w_centre) * across).astype(out.dtype)
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


def _reflectance_filtered_np(day, lut, mips, dims, scale, lat, lon, foot, muv):
    """Return :func:`_rho_filtered` of arrays: the reflectance (N, 3) filtered to each footprint."""
    f = foot / np.maximum(muv, FOOT_MIN_MU) ** 0.75 / np.sqrt(np.maximum(np.cos(np.radians(lat)), FOOT_MIN_COS))
    out = _reflectance_np(day, lut, lat, lon)
    big = f > 1.0
    if not big.any():
        return out
    n = len(scale)
    lv = np.clip(np.searchsorted(scale, f[big], side="right") - 1, 0, n - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(lv + 1 < n, (f[big] - scale[lv]) / (scale[np.minimum(lv + 1, n - 1)] - scale[lv]), 0.0)
    acc = np.zeros((int(big.sum()), 3))
    la, lo = lat[big], lon[big]

    def level(k):
        if k == 0:
            return day
        off, h, w = dims[k]
        return mips[off:off + h * w].reshape(h, w, 3)

    for k in np.unique(lv):
        sel = lv == k
        acc[sel] += (1.0 - t[sel])[:, None] * _reflectance_np(level(k), lut, la[sel], lo[sel])
        up = sel & (k + 1 < n)
        if up.any():
            acc[up] += t[up][:, None] * _reflectance_np(level(k + 1), lut, la[up], lo[up])
    out[big] = acc
    return out


def _sea_np(mask, lat, lon):
    """Return the bilinear water fraction of the land mask's bit 0 at lat/lon (as :func:`_sea_tap`)."""
    h, w = mask.shape
    x = (lon + 180.0) / 360.0 * w - 0.5
    y = np.clip((90.0 - lat) / 180.0 * h - 0.5, 0.0, h - 1.0)
    x0, y0 = np.floor(x), np.minimum(np.floor(y), h - 2)
    fx, fy = x - x0, y - y0
    x0 = x0.astype(np.int64) % w
    x1 = (x0 + 1) % w
    y0 = y0.astype(np.int64)
    land = ((1 - fy) * ((1 - fx) * (mask[y0, x0] & 1) + fx * (mask[y0, x1] & 1))
            + fy * ((1 - fx) * (mask[y0 + 1, x0] & 1) + fx * (mask[y0 + 1, x1] & 1)))
    return 1.0 - land


def _glint_np(mask, lat, lon, nrm, v, s, moon, e_sun, e_moon, mus, muv, s2, n_w, tau, atmosphere):
    """Return the sun- and moonglint (N, 3) cd/m^2 at ground hits (as :func:`_glint_rgb`): unit
    normals `nrm` (N, 3), unit directions to the station `v` (N, 3)."""
    out = np.zeros((len(lat), 3))
    if s2 <= 0.0 or len(lat) == 0:
        return out

    def facet(light):
        h = light + v
        hn = np.maximum(np.linalg.norm(h, axis=-1), 1e-30)
        cb = np.sum(h * nrm, axis=-1) / hn
        c2 = np.maximum(cb * cb, 1e-30)
        x = (1.0 - c2) / (c2 * s2)
        ci = (h @ light) / hn
        val = fresnel_water_np(ci, n_w) * np.exp(-np.minimum(x, GLINT_CUT)) / (
            4.0 * math.pi * s2 * c2 * c2 * np.maximum(muv, GLINT_MIN_MU))
        return np.where((cb > 0.0) & (x <= GLINT_CUT) & (hn > 1e-9), val, 0.0)

    mum = nrm @ moon
    g_s = np.where(mus > 0.0, e_sun * facet(s), 0.0)
    g_m = np.where((e_moon > 0.0) & (mus < NIGHT_MU) & (mum > 0.0), e_moon * facet(moon), 0.0)
    sea = _sea_np(mask, lat, lon)[:, None]
    if not atmosphere:
        return sea * (g_s + g_m)[:, None]
    m_v, m_s, m_m = airmass_np(muv)[:, None], airmass_np(mus)[:, None], airmass_np(mum)[:, None]
    return sea * np.exp(-tau * m_v) * (g_s[:, None] * np.exp(-tau * m_s) + g_m[:, None] * np.exp(-tau * m_m))


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
    mask, s2, n_w, mips, dims, scale, mip_px = _surface_args(geom, settings)
    rho = _reflectance_filtered_np(day, lut, mips, dims, scale, la, lo, mip_px * hit_km[hit].astype(float),
                                   cos_vz[hit].astype(float))
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
    g += _glint_np(mask, la, lo, nrm / np.linalg.norm(nrm, axis=-1, keepdims=True), -dirs[hit].astype(float), s,
                   moon, e_sun, e_moon, mus, muv, s2, n_w, tau, atmosphere)
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
    return _antialias_limb(scene, geom, settings, atmosphere, out.astype(np.float32), twin=True)

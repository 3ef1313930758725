"""City lights sampled on the ground from the night-lights radiance raster, smeared by the exposure.

`city_lights_layer(scene, geom, out, settings)` adds float32 (H, W, 3) luminance (cd/m^2, linear
sRGB primaries) at every pixel whose ray meets the ground, from ``scene.night_lights``
(:class:`cupola.phenomena.lights.NightLights`: VIIRS Day/Night Band radiance from NASA's Black
Marble map, ~9.8 km texels, with the lamp mix of each country turned into luminance and colour
below the Scene). Because the raster is sampled where each ray meets the surface, the lights
take the ground's own geometry: they foreshorten toward the limb (a patch seen at emission
angle e covers cos(e) of the solid angle it covers face-on at the same range), follow the
coasts, valleys and roads the map shows, and hide behind the limb.

- Radiance is isotropic (the surface is Lambertian for its lights): the pixel's luminance is the
  ground's, L = L_v(lat, lon), bilinear between texels (the texel radiances, not their codes).
  At 50 mm from ~420 km a texel is ~60 px at nadir but squashed to ~1-2 px in the range
  direction near the limb: finer structure than ~10 km does not exist in the data.
- Sodium against LED: each texel's light is (1 - f) sodium + f LED by the LED share f of its
  country (``NightLights.led``), each with its own luminance per unit DNB radiance and colour.
- Lights are on where the Sun is below the horizon, fading in linearly from sunset to the end of
  civil twilight (Sun 6 deg down, ``constants.CIVIL_DARK_SUN_ELEV_DEG``): a sketch of switch-on;
  by day the term is zero.
- Rayleigh extinction along the line of sight (the same air mass and table as the ground's,
  ``render.earth``) when ``settings.atmosphere``; clouds over a light pass 1 - k alpha of it
  (alpha the cloud opacity at the light, k = ``settings.cloud_light_block``) when
  ``settings.clouds``. The light clouds scatter back up (a lit glow over cities) is left out.

Exposure smear
--------------
The ground moves under the camera during the exposure (station motion, Earth rotation and, for
an untracked camera, the turn of the LVLH frame; :meth:`cupola.camera.Attitude.during`,
``scene.motion``). A pixel integrates the ground points its ray meets over the exposure: the
ray's ground point is computed at the start, middle and end of the exposure on a coarse grid of
pixels (every :data:`GRID_PX` px, numpy ray/ellipsoid) and interpolated bilinearly between grid
nodes; the pixel's light is the mean of the raster along that two-segment path, sampled at one
tap per texel of path or less (at most ``settings.lights_max_taps``). Exposures under 0.02 s (1/20 px of
motion at 7 km/s) take one instant. Near the limb, a grid node whose ray misses the Earth at
the start or end of the exposure gives its pixels no smear.

Every kernel has its numpy twin (``use_twins``). The kernel skips a tap whose block of 4 x 4
texels and its neighbours are dark, and a pixel whose whole path stays that far from any lit
block (``NightLights.lit_distance``); neither changes the result.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ..constants import CIVIL_DARK_SUN_ELEV_DEG, R_EARTH_KM, WGS84_A_KM, WGS84_B_KM
from ..jit import inline, kernel, spread_row, use_twins
from ..view import ray_ellipsoid
from ..raster import bilinear as _bilinear_np
from ..raster import tile_at as _tile_at_np
from .earth import _TRANS_TABLE, TAU_RAYLEIGH_RGB, _airmass, _cell, _trans, airmass_np
from .points import exposure_times
from .settings import DEFAULT_SETTINGS, RenderSettings

GRID_PX = 32  # spacing (px) of the grid on which the ground's motion across the exposure is computed
SMEAR_MIN_S = 0.02  # shorter exposures take one instant
# Lights fade in from sunset to the end of civil twilight: full at this Sun zenith cosine.
LIGHTS_ON_MU = math.sin(math.radians(-CIVIL_DARK_SUN_ELEV_DEG))
LIT_BLOCK = 4  # texels per block of NightLights.lit_distance
# A smear tap stands for a stretch of path (a texel) but samples the pattern at one point: its
# contrast is kept as if it averaged a quarter of that stretch, so streaks keep some texture.
SMEAR_DETAIL_AVERAGE = 0.25
KM_PER_DEG = math.pi * R_EARTH_KM / 180.0  # a degree of latitude on the mean sphere (the pattern's cell size)


def ground_latlon(scene, camera, attitude, x_px, y_px, t_s) -> tuple[np.ndarray, np.ndarray]:
    """Return the geodetic lat/lon (deg; NaN where the ray misses) of the ground seen through
    pixel coordinates (`x_px`, `y_px`) at `t_s` seconds from the scene's instant (the camera
    turning as :meth:`~cupola.camera.Attitude.during`, the station and Earth moving as
    ``scene.motion``); `t_s` a number, or a sequence of T times (results (T, ...) then)."""
    times = np.atleast_1d(np.asarray(t_s, float))
    bases = attitude.during(scene.state, times, camera.tracked)
    motion = scene.motion(times)
    cx, cy = camera.principal_point
    f = camera.focal_px
    xu = (np.asarray(x_px, float) - cx) / f
    yv = (np.asarray(y_px, float) - cy) / f
    out = []
    for basis, o, theta in zip(bases, np.asarray(motion.r_teme_km, float), np.asarray(motion.earth_angle_rad, float)):
        d = xu[..., None] * basis[0] + yv[..., None] * basis[1] + basis[2]
        d /= np.linalg.norm(d, axis=-1, keepdims=True)
        near, _ = ray_ellipsoid(np.broadcast_to(o, d.shape), d)
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(near) & (near > 0.0)
        p = o + np.where(ok, near, 0.0)[..., None] * d
        c, s = math.cos(theta), math.sin(theta)
        xi, yi = c * p[..., 0] + s * p[..., 1], -s * p[..., 0] + c * p[..., 1]
        lat = np.degrees(np.arctan2(p[..., 2] / WGS84_B_KM**2, np.hypot(xi, yi) / WGS84_A_KM**2))
        lon = np.degrees(np.arctan2(yi, xi))
        out.append((np.where(ok, lat, np.nan), np.where(ok, lon, np.nan)))
    if np.ndim(t_s) == 0:
        return out[0]
    return np.stack([o[0] for o in out]), np.stack([o[1] for o in out])


def smear_grid(scene, geom) -> np.ndarray | None:
    """Return the ground's motion across the exposure on the grid of every GRID_PX-th pixel:
    (rows, cols, 4) float64 = (dlat, dlon) from the middle of the exposure to its start, then to
    its end (deg; 0 where a ray misses at one of the three times); None for a short exposure."""
    cam = geom.camera
    if cam.exposure_s < SMEAR_MIN_S:
        return None
    h, w = geom.hit.shape
    ys = np.arange((h - 1) // GRID_PX + 2) * float(GRID_PX)
    xs = np.arange((w - 1) // GRID_PX + 2) * float(GRID_PX)
    yy, xx = np.meshgrid(ys, xs, indexing="ij")
    t0, t1 = exposure_times(cam, 2)
    lat, lon = ground_latlon(scene, cam, geom.attitude, xx, yy, [t0, 0.0, t1])  # one propagation
    out = np.zeros(yy.shape + (4,))
    for k, i in enumerate((0, 2)):
        out[..., 2 * k] = lat[i] - lat[1]
        out[..., 2 * k + 1] = (lon[i] - lon[1] + 180.0) % 360.0 - 180.0
    bad = ~np.isfinite(out).all(axis=-1)
    out[bad] = 0.0
    return out


_TABLES: dict = {}


def light_tables(night_lights, clouds, block: float):
    """Return (packed uint16 (H, W), lut float64 (256,)) for the raster `night_lights` under the
    cloud map `clouds` (None: no clouds), an opaque cloud taking `block` of the light: each
    texel's high byte is a log-radiance code after the clouds (``lut`` gives nW cm^-2 sr^-1), its
    low byte the texel's LED share (``NightLights.led_texel``). One 16 MB texture the kernel taps
    instead of three. Without clouds the codes are the raster's own; with them they are coded
    again over [lo (1 - block), hi] (steps of 2.5 %, rounding within 1.3 %). Cached for the last
    two combinations."""
    key = (id(night_lights), id(clouds), float(block))
    if key not in _TABLES:
        code, lut = night_lights.code, night_lights.lut_nw
        if clouds is not None:
            h, w = code.shape
            op = clouds.opacity / 255.0
            if op.shape != code.shape:  # resample the cloud map at the texel centres
                lat = 90.0 - (np.arange(h) + 0.5) * 180.0 / h
                lon = -180.0 + (np.arange(w) + 0.5) * 360.0 / w
                op = clouds.opacity_at(lat[:, None], lon[None, :])
            rad = lut[code] * (1.0 - block * op)
            lo, hi = lut[1] * (1.0 - block), lut[255]
            with np.errstate(divide="ignore"):
                c = 1.0 + np.round(254.0 * np.log(rad / lo) / math.log(hi / lo))
            code = np.where(rad > 0.0, np.clip(c, 1, 255), 0).astype(np.uint8)
            lut = np.where(np.arange(256) > 0, lo * (hi / lo) ** ((np.arange(256) - 1) / 254.0), 0.0)
        packed = (code.astype(np.uint16) << 8) | night_lights.led_texel
        while len(_TABLES) >= 2:
            _TABLES.pop(next(iter(_TABLES)))
        _TABLES[key] = (packed, lut)
    return _TABLES[key]


@inline
def _nearest(img, lat, lon):  # pragma: no cover - jit
    """The value of the equirectangular cell that contains lat/lon."""
    h, w = img.shape
    i = min(max(int((90.0 - lat) * (h / 180.0)), 0), h - 1)
    j = int(math.floor((lon + 180.0) * (w / 360.0))) % w
    return img[i, j]


@inline
def _detail(lat, lon, tile, sy, sx):  # pragma: no cover - jit
    """The sub-texel pattern at lat/lon (raster.tile_at), `sy`/`sx` its cells per degree."""
    n = tile.shape[0]
    u = (90.0 - lat) * sy - 0.5
    v = (lon + 180.0) * sx - 0.5
    u0, v0 = math.floor(u), math.floor(v)
    fu, fv = u - u0, v - v0
    i0, j0 = int(u0) % n, int(v0) % n
    i1, j1 = (i0 + 1) % n, (j0 + 1) % n
    return ((1 - fu) * ((1 - fv) * tile[i0, j0] + fv * tile[i0, j1])
            + fu * ((1 - fv) * tile[i1, j0] + fv * tile[i1, j1]))


@inline
def _light_tap(lat, lon, packed, lut, blocks, tile, sy, sx, keep, acc):  # pragma: no cover - jit
    """Add the sodium and LED radiance at lat/lon (bilinear over texels, after the clouds, times the
    sub-texel pattern) into acc[0] and acc[1]."""
    if _nearest(blocks, lat, lon) > 1:  # it and its neighbouring blocks are dark
        return
    hp, wp = packed.shape[0], packed.shape[1]
    y0, x0, x1, fy, fx = _cell(lat, lon, hp, wp)
    rs = 0.0
    fs = 0.0
    for v, wt in ((packed[y0, x0], (1 - fy) * (1 - fx)), (packed[y0, x1], (1 - fy) * fx),
                  (packed[y0 + 1, x0], fy * (1 - fx)), (packed[y0 + 1, x1], fy * fx)):
        r = lut[v >> 8] * wt
        rs += r
        fs += r * ((v & 255) * (1.0 / 255.0))
    if rs == 0.0:
        return
    m = 1.0 + keep * (_detail(lat, lon, tile, sy, sx) - 1.0)
    acc[0] += (rs - fs) * m
    acc[1] += fs * m


@kernel(parallel=True)
def _lights_kernel(hit, hit_km, lat, lon, cos_sz, cos_vz, packed, lut, rgbs, blocks, tile, sy, sx, corr, foot,
                   grid, smear, step, max_taps, atmos, tl, out):  # pragma: no cover - jit
    h, w = hit.shape
    tex_y = packed.shape[0] / 180.0
    tex_x = packed.shape[1] / 360.0
    sub = sy / tex_y  # pattern cells per texel
    gw = grid.shape[1]
    for k_row in nb.prange(h):
        i = spread_row(k_row, h)
        acc = np.empty(2)
        row = np.empty((gw, 4))  # the motion grid interpolated to this row, at every grid column
        if smear:
            gi = i / step
            i0 = int(gi)
            fi = gi - i0
            for q in range(gw):
                for c in range(4):
                    row[q, c] = (1 - fi) * grid[i0, q, c] + fi * grid[i0 + 1, q, c]
        for j in range(w):
            if not hit[i, j]:
                continue
            mus = cos_sz[i, j]
            if mus >= 0.0:
                continue
            on = min(-mus / LIGHTS_ON_MU, 1.0)
            la, lo = lat[i, j], lon[i, j]
            acc[0] = 0.0
            acc[1] = 0.0
            cells = hit_km[i, j] * foot / math.sqrt(max(cos_vz[i, j], 0.05))  # the pixel's footprint
            d0 = d1 = d2 = d3 = 0.0  # no smear: one tap at the pixel's ground point
            if smear:
                gj = j / step
                j0 = int(gj)
                fj = gj - j0
                d0 = (1 - fj) * row[j0, 0] + fj * row[j0 + 1, 0]
                d1 = (1 - fj) * row[j0, 1] + fj * row[j0 + 1, 1]
                d2 = (1 - fj) * row[j0, 2] + fj * row[j0 + 1, 2]
                d3 = (1 - fj) * row[j0, 3] + fj * row[j0 + 1, 3]
            l0 = math.sqrt((d0 * tex_y) ** 2 + (d1 * tex_x) ** 2)
            l1 = math.sqrt((d2 * tex_y) ** 2 + (d3 * tex_x) ** 2)
            # No tap can reach a lit block: the path stays within max(l0, l1) texels.
            if _nearest(blocks, la, lo) > max(l0, l1) * (1.0 / LIT_BLOCK) + 2.0:
                continue
            n = max(1, min(max_taps, int(math.ceil(l0 + l1))))
            keep = math.sqrt(corr / (corr + cells + SMEAR_DETAIL_AVERAGE * (l0 + l1) * sub / n))
            if n == 1:  # the middle of the path: the pixel's own ground point
                _light_tap(la, lo, packed, lut, blocks, tile, sy, sx, keep, acc)
            else:
                for k in range(n):
                    u = 2.0 * (k + 0.5) / n
                    if u < 1.0:
                        t_la, t_lo = la + (1.0 - u) * d0, lo + (1.0 - u) * d1
                    else:
                        t_la, t_lo = la + (u - 1.0) * d2, lo + (u - 1.0) * d3
                    _light_tap(t_la, t_lo, packed, lut, blocks, tile, sy, sx, keep, acc)
            if acc[0] == 0.0 and acc[1] == 0.0:
                continue
            m_v = _airmass(max(cos_vz[i, j], 0.0))
            scale = on / n
            for c in range(3):
                t_v = _trans(tl, c, m_v) if atmos else 1.0
                out[i, j, c] += (acc[0] * rgbs[0, c] + acc[1] * rgbs[1, c]) * scale * t_v


def _args(scene, geom, settings):
    nl = scene.night_lights
    packed, lut = light_tables(nl, scene.clouds if settings.clouds else None, settings.cloud_light_block)
    grid = smear_grid(scene, geom)
    smear = grid is not None
    grid = grid if smear else np.zeros((2, 2, 4))
    sy, sx = nl.detail_cells_per_deg()
    foot = sy / (KM_PER_DEG * geom.camera.focal_px)  # pattern cells per km of range, per pixel
    corr = float(nl.detail_corr_cells) if settings.light_detail else 0.0  # 0: no pattern
    return (geom.hit, geom.hit_km, geom.lat_deg, geom.lon_deg, geom.cos_sun_zenith, geom.cos_view_zenith, packed, lut,
            nl.rgb_per_nw, nl.lit_distance, nl.detail, sy, sx, corr, foot, grid, smear,
            GRID_PX, int(settings.lights_max_taps),
            bool(settings.atmosphere), _TRANS_TABLE)


def city_lights_layer(scene, geom, out: np.ndarray | None = None,
                      settings: RenderSettings = DEFAULT_SETTINGS) -> np.ndarray:
    """Add the night lights seen on the ground into `out` (H, W, 3) float32 cd/m^2 (module docstring)."""
    out = np.zeros(geom.hit.shape + (3,), np.float32) if out is None else out  # the layer adds into it
    if use_twins():
        out += city_lights_numpy(scene, geom, settings)
        return out
    _lights_kernel(*_args(scene, geom, settings), out)
    return out


def city_lights_numpy(scene, geom, settings: RenderSettings = DEFAULT_SETTINGS) -> np.ndarray:
    """Return the same as :func:`city_lights_layer`, computed with numpy only (the reference path)."""
    (hit, hit_km, lat, lon, cos_sz, cos_vz, packed, lut, rgbs, _, tile, sy, sx, corr, foot, grid, smear, step,
     max_taps, atmos, _) = _args(scene, geom, settings)
    out = np.zeros(hit.shape + (3,), np.float64)
    mus = cos_sz.astype(float)
    sel = hit & (mus < 0.0)
    ii, jj = np.nonzero(sel)
    la, lo = lat[sel].astype(float), lon[sel].astype(float)
    ht, wt = packed.shape
    rad = lut[packed >> 8]
    share = (packed & 255) / 255.0
    sodium_img, led_img = rad * (1.0 - share), rad * share

    cells = hit_km[sel].astype(float) * foot / np.sqrt(np.maximum(cos_vz[sel].astype(float), 0.05))

    def tap(tla, tlo, keep):
        m = 1.0 + keep[:, None] * (_tile_at_np(tile, tla, tlo, sy, sx)[:, None] - 1.0)
        return (_bilinear_np(sodium_img, tla, tlo)[:, None] * rgbs[0] + _bilinear_np(led_img, tla, tlo)[:, None] * rgbs[1]) * m

    if smear:
        gi, gj = ii / step, jj / step
        i0, j0 = gi.astype(np.int64), gj.astype(np.int64)
        fi, fj = (gi - i0)[:, None], (gj - j0)[:, None]
        d = ((1 - fi) * ((1 - fj) * grid[i0, j0] + fj * grid[i0, j0 + 1])
             + fi * ((1 - fj) * grid[i0 + 1, j0] + fj * grid[i0 + 1, j0 + 1]))
        tex_y, tex_x = ht / 180.0, wt / 360.0
        length = np.hypot(d[:, 0] * tex_y, d[:, 1] * tex_x) + np.hypot(d[:, 2] * tex_y, d[:, 3] * tex_x)
        n = np.maximum(1, np.minimum(max_taps, np.ceil(length).astype(np.int64)))
        keep = np.sqrt(corr / (corr + cells + SMEAR_DETAIL_AVERAGE * length * (sy / tex_y) / n))
        acc = np.zeros((la.size, 3))
        for k in range(int(n.max(initial=1))):
            use = k < n
            u = 2.0 * (k + 0.5) / n[use]
            first = u < 1.0
            a = np.where(first, 1.0 - u, u - 1.0)
            dla = np.where(first, d[use, 0], d[use, 2])
            dlo = np.where(first, d[use, 1], d[use, 3])
            acc[use] += tap(la[use] + a * dla, lo[use] + a * dlo, keep[use])
        acc /= n[:, None]
    else:
        acc = tap(la, lo, np.sqrt(corr / (corr + cells)))
    on = np.minimum(-mus[sel] / LIGHTS_ON_MU, 1.0)[:, None]
    t_v = np.exp(-TAU_RAYLEIGH_RGB * airmass_np(np.maximum(cos_vz[sel].astype(float), 0.0))[:, None]) if atmos else 1.0
    out[sel] = acc * on * t_v
    return out.astype(np.float32)


__all__ = ["city_lights_layer", "city_lights_numpy", "ground_latlon", "smear_grid", "GRID_PX", "LIGHTS_ON_MU"]

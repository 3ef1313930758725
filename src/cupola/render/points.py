"""Point sources and discs: stars and planets (with trails), the Moon, the Sun and its glare.

Every layer follows the render contract ``layer(scene, geom, out, settings)``: it adds linear
luminance (cd/m^2, linear sRGB primaries) into `out` (H, W, 3) float32 and returns it. Every
source comes from the Scene: the stars above the limb and the bodies. (City lights are sampled
on the ground from a radiance raster, ``render.lights``.) Calibration constants are fields of
:class:`~cupola.render.settings.RenderSettings`.

Photometry
----------
* Stars and planets: a V = 0 source gives an illuminance of 2.54e-6 lux outside the atmosphere
  (Allen's Astrophysical Quantities, 4th ed., Cox 2000, section 15.1: m_V = -13.98 - 2.5 log10 E),
  so E = 2.54e-6 * 10**(-0.4 V) lux. A point source spread by the point-spread function w over a
  pixel of solid angle Omega (1 / f_px**2 sr on axis, times cos^3 of the off-axis angle) has the
  luminance E w / Omega: lux / sr = cd/m^2. The PSF's core is a Gaussian
  normalised over its window, so each source's energy is kept exactly; its sigma is the lens's
  (diffraction, defocus and the pixel, ``render.optics.star_sigma_px``; ``settings.psf_sigma_px``
  overrides it). The PSF's wide wing is added to the whole frame by ``render.optics.bloom``.
* Moon: its face is the albedo map ``scene.moon_albedo`` (LRO WAC, relative) in the orientation
  ``scene.body('Moon').frame_teme`` (IAU 2009), shaded by the Lommel-Seeliger law A mu0 / (mu0 + mu),
  the whole scaled so that the lit disc's illuminance is the Moon's V magnitude's (Allen's phase law
  and distance; :func:`moon_layer`); the night side gets earthshine of ~1e-4 of full
  (``settings.earthshine_cd_m2`` x (1 - k), times the relative albedo). A sample is lit where the Moon's
  surface normal under it faces the Sun (exact ray/sphere geometry).
* Sun: mean luminance of the disc 1.6e9 cd/m^2 (e.g. CIE; Schlyter, "Radiometry and photometry in
  astronomy"). Glare: the lens's PSF wing (``render.optics``) around the Sun, eta E w(theta) with E
  the illuminance of the visible part of the disc (``scene.lighting.sun_fraction``) times cos of its
  angle off the optical axis (none from behind the lens), at every pixel whether the Sun is in the
  frame or not: no cut-off; the disc keeps the core's share, 1 - eta (bloom does not spread it
  again). For a disc seen through the limb the glare is centred on where it is seen and dimmed by
  the limb path.
* Through the limb (``scene.refract``, ``scene.limb_optics``; ``phenomena.refraction``): stars, planets,
  the Moon and the Sun are lifted by refraction and dimmed and reddened per camera channel by the limb
  path's transmission; the discs pixel by pixel, so they flatten.

Trails
------
An untracked camera is fixed in the station's LVLH frame (``Attitude.during``), which turns
about the orbit normal at omega = |r x v| / |r|^2 (one turn per orbit, ~3.9 deg/min): over the
exposure the sky turns the other way in the camera, so a star at angle psi from the orbit
normal draws an arc of omega * exposure * sin(psi). A tracked camera (sidereal drive) keeps stars
round. Each source is drawn at K sub-steps along its path (K from the path length: at least one
step per pixel), each with 1/K of its light. The splatting itself is a serial numba loop over
sources (a few thousand sources x K steps x a 7x7 window: ~ms); per-pixel work (the Sun's disc)
is parallel.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ..camera.geometry import project
from ..colour import LUMA, camera_star_rgb
from ..jit import inline, kernel, spread_row, twin
from ..photometry import SUN_CD_M2, vmag_to_lux
from .optics import SPIKE_MAX_VMAG, add_glare, add_spikes, glare_obliquity, spikes_for, star_sigma_px
from .settings import DEFAULT_SETTINGS, RenderSettings

def star_positions(scene, camera, attitude, times_s, dirs_teme=None):
    """Return pixel (x, y) and an in-front mask, each (T, N), of the scene's stars (or of the
    fixed TEME directions `dirs_teme` (N, 3)) at offsets `times_s` (s) from the scene's instant.

    The directions are fixed on the sky; the camera turns with the station (untracked) or not
    (tracked), see :meth:`cupola.camera.Attitude.during`.
    """
    d = np.asarray(scene.stars.dir_teme if dirs_teme is None else dirs_teme, float).reshape(-1, 3)
    return project(camera, attitude.during(scene.state, times_s, camera.tracked), d[None])


def exposure_times(camera, n: int) -> np.ndarray:
    """Return `n` times (s) spanning the exposure, centred on the scene's instant."""
    e = float(camera.exposure_s)
    return np.linspace(-0.5 * e, 0.5 * e, n)


# -- splatting -----------------------------------------------------------------------------------------
@kernel()
def _splat_kernel(xs, ys, ok, flux, rgb, sigma, hit, mask_mode, f_px, cx, cy, radius_sigma, max_k,
                  faint_flux, out):  # pragma: no cover - jit
    """Draw each source along its polyline (N, T) at K sub-steps with a normalised Gaussian.

    mask_mode 1: skip sub-steps whose pixel's ray hits the Earth (sky sources). Sources fainter
    than `faint_flux` are drawn on a 3 x 3 window (normalised: the flux is kept; their wings are
    below the noise)."""
    h, w = out.shape[0], out.shape[1]
    n, nt = xs.shape
    for s in range(n):
        sg = sigma[s]
        length = 0.0
        good = True
        for t in range(nt):
            if not ok[s, t]:
                good = False
        if not good or flux[s] <= 0.0:
            continue
        for t in range(nt - 1):
            length += math.hypot(xs[s, t + 1] - xs[s, t], ys[s, t + 1] - ys[s, t])
        step = max(0.75, 0.5 * sg)
        k_steps = int(math.ceil(length / step)) if nt > 1 else 1
        if k_steps < 1:
            k_steps = 1
        if k_steps > max_k:
            k_steps = max_k
        rad = 1 if flux[s] < faint_flux else int(math.ceil(radius_sigma * sg))
        margin = rad + 1.0
        fk = flux[s] / k_steps
        inv2s2 = 1.0 / (2.0 * sg * sg)
        gx = np.empty(2 * rad + 1)
        gy = np.empty(2 * rad + 1)
        for k in range(k_steps):
            if nt > 1:
                u = (k + 0.5) / k_steps * (nt - 1)
                t0 = min(int(u), nt - 2)
                fu = u - t0
                x = xs[s, t0] * (1.0 - fu) + xs[s, t0 + 1] * fu
                y = ys[s, t0] * (1.0 - fu) + ys[s, t0 + 1] * fu
            else:
                x = xs[s, 0]
                y = ys[s, 0]
            if x < -margin or y < -margin or x > w - 1 + margin or y > h - 1 + margin:
                continue
            ic = int(math.floor(y + 0.5))
            jc = int(math.floor(x + 0.5))
            if mask_mode == 1 and 0 <= ic < h and 0 <= jc < w and hit[ic, jc]:
                continue
            # Pixel solid angle off axis: cos^3 of the angle from the optical axis over f^2.
            rx = (x - cx) / f_px
            ry = (y - cy) / f_px
            cos_t = 1.0 / math.sqrt(1.0 + rx * rx + ry * ry)
            inv_omega = f_px * f_px / (cos_t * cos_t * cos_t)
            # Separable Gaussian: 2 (2 rad + 1) exponentials per sub-step.
            tx = 0.0
            ty = 0.0
            for d in range(-rad, rad + 1):
                gx[d + rad] = math.exp(-((jc + d - x) ** 2) * inv2s2)
                gy[d + rad] = math.exp(-((ic + d - y) ** 2) * inv2s2)
                tx += gx[d + rad]
                ty += gy[d + rad]
            scale = fk * inv_omega / (tx * ty)
            for di in range(-rad, rad + 1):
                i = ic + di
                if i < 0 or i >= h:
                    continue
                vy = scale * gy[di + rad]
                for dj in range(-rad, rad + 1):
                    j = jc + dj
                    if j < 0 or j >= w:
                        continue
                    v = vy * gx[dj + rad]
                    out[i, j, 0] += v * rgb[s, 0]
                    out[i, j, 1] += v * rgb[s, 1]
                    out[i, j, 2] += v * rgb[s, 2]


def splat(out, geom, xs, ys, ok, lux, rgb_unit, sigma_px, mask_sky: bool,
          settings: RenderSettings = DEFAULT_SETTINGS, faint_lux: float = 0.0) -> np.ndarray:
    """Add sources (polylines xs, ys (N, T), illuminance `lux` (N,), unit-luminance linear colour
    (N, 3), Gaussian sigma (N,) px) to `out` (H, W, 3) float32 as luminance; return `out`.
    Sources fainter than `faint_lux` get a 3 x 3 window."""
    xs = np.ascontiguousarray(np.atleast_2d(xs), float)
    n = xs.shape[0]
    cam = geom.camera
    cx, cy = cam.principal_point
    _splat_kernel(xs, np.ascontiguousarray(np.atleast_2d(ys), float), np.ascontiguousarray(np.atleast_2d(ok)),
                  np.ascontiguousarray(np.broadcast_to(lux, (n,)), float),
                  np.ascontiguousarray(np.broadcast_to(rgb_unit, (n, 3)), float),
                  np.ascontiguousarray(np.broadcast_to(sigma_px, (n,)), float), geom.hit, 1 if mask_sky else 0,
                  float(cam.focal_px), float(cx), float(cy), float(settings.psf_radius_sigma),
                  int(settings.max_substeps), float(faint_lux), out)
    return out


# -- stars and planets ---------------------------------------------------------------------------------
def _planets(scene):
    """Return the planets (with a magnitude): names, true directions (K, 3), V magnitudes, B-V colours.
    Those behind the refracted limb are dropped with the stars (:func:`stars_layer`)."""
    names, dirs, vmag, bv = [], [], [], []
    for b in scene.bodies:
        if b.kind == "planet" and np.isfinite(float(b.vmag)):
            names.append(b.name)
            dirs.append(np.asarray(b.dir_teme, float).reshape(3))
            vmag.append(float(b.vmag))
            bv.append(b.bv)
    return names, np.array(dirs).reshape(-1, 3), np.array(vmag), np.array(bv)


STAR_SNR = 2.0  # a star is recorded when its peak pixel stands this many read-noise sigmas above black
STAR_THRESHOLD_V = 0.0025  # without noise: ~2 code values above black (the tone curve's toe)
FAINT_WINDOW_MAG = 1.5  # stars this close to the limit are drawn on 3 x 3 windows


def _frame_rate_rad_s(scene, attitude) -> float:
    """Return how fast the stars cross an untracked camera's optical axis (rad/s): the LVLH rate
    |r x v| / |r|^2 times the sine of the axis's angle to the orbit normal."""
    r = np.asarray(scene.state.r_teme_km, float).reshape(3)
    v = np.asarray(scene.state.v_teme_km_s, float).reshape(3)
    hvec = np.cross(r, v)
    rate = float(np.linalg.norm(hvec) / (r @ r))
    axis = np.asarray(attitude.matrix, float)[2]
    return rate * float(np.linalg.norm(np.cross(hvec / np.linalg.norm(hvec), axis)))


def peak_share_1d(sigma_px: float) -> float:
    """Return the share of a Gaussian of `sigma_px` centred on a pixel that the splat puts in that pixel's
    row (or column): 1 / sum_d exp(-d^2 / (2 s^2))."""
    d = np.arange(-int(math.ceil(6.0 * sigma_px)) - 1, int(math.ceil(6.0 * sigma_px)) + 2)
    return float(1.0 / np.exp(-d * d / (2.0 * sigma_px * sigma_px)).sum())


def limiting_vmag(camera, settings: RenderSettings = DEFAULT_SETTINGS, rate_rad_s: float = 0.0) -> float:
    """Return the faintest V the `camera` records on the optical axis: where a star's peak pixel
    reaches :data:`STAR_SNR` read-noise sigmas (or :data:`STAR_THRESHOLD_V` without noise).

    A star of illuminance E (lux, :func:`cupola.photometry.vmag_to_lux`) drawn with the Gaussian
    PSF core of sigma s px (:func:`cupola.render.optics.star_sigma_px`) centred on a pixel puts
    g = g1^2 of it in that pixel, g1 = 1 / sum_d exp(-d^2 / (2 s^2)) over whole pixel offsets d (the
    splat's normalisation; 1 / (sqrt(2 pi) s) for a wide core), less the wing's share eta when bloom
    is on (a trail of T px, the sky moving at `rate_rad_s` for the exposure: g = g1 / max(T, 1 / g1)),
    so the peak's sensor value is E f^2 g k, with f the focal length in px and k the exposure scale
    (:func:`cupola.render.response.exposure_scale`)."""
    from .response import V_SAT, exposure_scale

    if settings.noise:
        e_per_v = float(settings.full_well_e) * 100.0 / float(camera.iso) / V_SAT
        v_th = STAR_SNR * float(settings.read_noise_e) / e_per_v
    else:
        v_th = STAR_THRESHOLD_V
    f = float(camera.focal_px)
    trail = float(rate_rad_s) * float(camera.exposure_s) * f
    g1 = peak_share_1d(star_sigma_px(camera, settings))
    g = g1 * (1.0 / max(trail, 1.0 / g1))
    if settings.bloom:
        g *= 1.0 - float(settings.psf_wing_fraction)
    e_lim = v_th / (exposure_scale(camera) * f * f * g)
    return float(-2.5 * math.log10(e_lim / float(vmag_to_lux(0.0))))


def stars_layer(scene, geom, out: np.ndarray | None = None,
                settings: RenderSettings = DEFAULT_SETTINGS) -> np.ndarray:
    """Add the stars the exposure records (``scene.star_field`` to :func:`limiting_vmag`) and the
    planets as PSF splats into `out` (H, W, 3) float32 cd/m^2.

    Untracked exposures draw trails (module docstring); nothing is drawn where the pixel's ray
    meets the Earth.
    """
    cam = geom.camera
    h, w = geom.dirs_teme.shape[:2]
    out = np.zeros((h, w, 3), np.float32) if out is None else out  # splats add into it
    pn, pd, pv, pbv = _planets(scene)
    rate = _frame_rate_rad_s(scene, geom.attitude)
    limit = limiting_vmag(cam, settings, 0.0 if cam.tracked else rate)
    axis = np.asarray(geom.attitude.matrix, float)[2]
    half_diag = math.degrees(math.atan(0.5 * math.hypot(cam.width_px, cam.height_px) / cam.focal_px))
    radius = half_diag + (0.0 if cam.tracked else math.degrees(rate * cam.exposure_s)) + 0.5
    sd, sv, sbv = scene.star_field(limit, axis, radius)
    dirs = np.concatenate([np.asarray(sd, float).reshape(-1, 3), pd])
    vmag = np.concatenate([np.asarray(sv, float), pv])
    bv = np.concatenate([np.asarray(sbv, float).reshape(-1), np.asarray(pbv, float).reshape(-1)])
    # Seen through the limb: lifted by refraction, dimmed and reddened by the air (scene.refract); those
    # behind the refracted limb or seen through less than refraction.MIN_TRANSMISSION are dropped.
    ref = scene.refract(dirs)
    keep = np.flatnonzero(ref.visible)
    dirs, vmag, bv = ref.dir_teme[keep], vmag[keep], bv[keep]
    if dirs.shape[0] == 0:
        return out
    times = exposure_times(cam, settings.path_samples) if not cam.tracked else np.zeros(1)
    x, y, front = star_positions(scene, cam, geom.attitude, times, dirs_teme=dirs)
    # Colours as the camera records them (black bodies at the B-V temperature through its
    # sensitivities), per unit of the eye's illuminance, times the limb path's transmission.
    colour = np.maximum(camera_star_rgb(bv), 0.0) * ref.transmission_rgb[keep]
    lux = vmag_to_lux(vmag)
    bright = np.flatnonzero(vmag <= SPIKE_MAX_VMAG)
    spikes = spikes_for(cam, settings, np.zeros(bright.size)) if bright.size else None
    if spikes is not None:  # the aperture's spikes at the middle of each exposure, their light from the core
        mid = x.shape[0] // 2
        ok = front[mid, bright]
        add_spikes(out, spikes, np.where(ok, x[mid, bright], np.nan), y[mid, bright],
                   lux[bright, None] * colour[bright], cam)
        lux[bright] *= 1.0 - spikes.share_luma()  # vmag_to_lux gave a fresh array
    # Stars within 1.5 mag of the limit: their PSF wings are below the noise (3 x 3 windows).
    return splat(out, geom, x.T, y.T, front.T, lux, colour, star_sigma_px(cam, settings), True,
                 settings, faint_lux=float(vmag_to_lux(limit - FAINT_WINDOW_MAG)))


@inline
def _bilinear_wrapped(grid, u, v):  # pragma: no cover - jit
    """Bilinear value of `grid` (rows, columns) at row coordinate `u` (in 0..rows - 1) and column
    coordinate `v` (any: the columns wrap around, as longitudes and right ascensions do)."""
    nr, nc = grid.shape
    r0 = min(int(u), nr - 2)
    fu = u - r0
    c0 = int(math.floor(v))
    fv = v - c0
    c1 = (c0 + 1) % nc
    c0 = c0 % nc
    return ((grid[r0, c0] * (1.0 - fv) + grid[r0, c1] * fv) * (1.0 - fu)
            + (grid[r0 + 1, c0] * (1.0 - fv) + grid[r0 + 1, c1] * fv) * fu)


MILKY_WAY_STEP_PX = 8  # the map (1-degree cells, 3-degree smoothing) is sampled every 8th pixel
MILKY_WAY_BV = 0.75  # the star clouds' colour: the typical star's (sky.milkyway)


@kernel(parallel=True)
def _milky_way_kernel(dirs, hit, rot, grid, step, rgb, out):  # pragma: no cover - jit
    """Add the map's luminance (bilinear in RA/Dec, sampled at every `step`-th pixel and bilinear
    between) to the sky pixels."""
    h, w = dirs.shape[0], dirs.shape[1]
    nr, nc = grid.shape
    gh = (h - 1) // step + 2
    gw = (w - 1) // step + 2
    node = np.empty((gh, gw))
    for gi in nb.prange(gh):
        i = min(gi * step, h - 1)
        for gj in range(gw):
            j = min(gj * step, w - 1)
            x = rot[0, 0] * dirs[i, j, 0] + rot[0, 1] * dirs[i, j, 1] + rot[0, 2] * dirs[i, j, 2]
            y = rot[1, 0] * dirs[i, j, 0] + rot[1, 1] * dirs[i, j, 1] + rot[1, 2] * dirs[i, j, 2]
            z = rot[2, 0] * dirs[i, j, 0] + rot[2, 1] * dirs[i, j, 1] + rot[2, 2] * dirs[i, j, 2]
            ra = math.degrees(math.atan2(y, x)) % 360.0
            dec = math.degrees(math.asin(min(max(z / math.sqrt(x * x + y * y + z * z), -1.0), 1.0)))
            node[gi, gj] = _bilinear_wrapped(grid, min(max(dec + 90.0 - 0.5, 0.0), nr - 1.0), ra - 0.5)
    for k_row in nb.prange(h):
        i = spread_row(k_row, h)
        a = i / step
        a0 = min(int(a), gh - 2)
        fa = a - a0
        for j in range(w):
            if hit[i, j]:
                continue
            b = j / step
            b0 = min(int(b), gw - 2)
            fb = b - b0
            val = ((node[a0, b0] * (1.0 - fb) + node[a0, b0 + 1] * fb) * (1.0 - fa)
                   + (node[a0 + 1, b0] * (1.0 - fb) + node[a0 + 1, b0 + 1] * fb) * fa)
            out[i, j, 0] += val * rgb[0]
            out[i, j, 1] += val * rgb[1]
            out[i, j, 2] += val * rgb[2]


def milky_way_layer(scene, geom, out: np.ndarray | None = None,
                    settings: RenderSettings = DEFAULT_SETTINGS) -> np.ndarray:
    """Add the diffuse Milky Way (``scene.milky_way_cd_m2``) to the sky pixels of `out` (H, W, 3)
    float32 cd/m^2, coloured as the camera records its stars."""
    h, w = geom.dirs_teme.shape[:2]
    out = np.zeros((h, w, 3), np.float32) if out is None else out
    rot = np.ascontiguousarray(np.asarray(scene.icrs_to_teme, float).reshape(3, 3).T)  # TEME -> ICRS
    rgb = np.maximum(camera_star_rgb(MILKY_WAY_BV), 0.0)
    _milky_way_kernel(geom.dirs_teme, geom.hit, rot, np.asarray(scene.milky_way_cd_m2, np.float64),
                      MILKY_WAY_STEP_PX, np.ascontiguousarray(rgb, float), out)
    return out


# -- Moon and Sun ----------------------------------------------------------------------------------------
# Each disc pixel is refracted before it is tested against the disc: its ray, tangent at height h
# (``geom.tangent_km``), reaches the true sky lowered by the bending alpha(h) (``scene.limb_optics``,
# ``phenomena.refraction``), d_true = cos(alpha) d - sin(alpha) u, u the unit vector from the Earth's centre
# to the ray's tangent point; its light is dimmed by the limb path's transmission per channel. So a disc
# near the limb is lifted, flattened (alpha changes across it) and reddened.
@inline
def _lookup(step, table, h, c):  # pragma: no cover - jit
    """Linear look-up of column `c` of `table` (N, K) at height `h` (row k at k * step; clamped)."""
    n = table.shape[0]
    x = h / step
    if x <= 0.0:
        return table[0, c]
    if x >= n - 1.0:
        return table[n - 1, c]
    k = int(x)
    f = x - k
    return table[k, c] * (1.0 - f) + table[k + 1, c] * f


@inline
def _refract_ray(dx, dy, dz, o, alpha):  # pragma: no cover - jit
    """Return the true direction of the ray `d` from the station `o`, bent by `alpha` at its tangent point."""
    t = -(o[0] * dx + o[1] * dy + o[2] * dz)
    if alpha <= 0.0 or t <= 0.0:
        return dx, dy, dz
    ux, uy, uz = o[0] + t * dx, o[1] + t * dy, o[2] + t * dz
    un = math.sqrt(ux * ux + uy * uy + uz * uz)
    ca, sa = math.cos(alpha), math.sin(alpha) / un
    return ca * dx - sa * ux, ca * dy - sa * uy, ca * dz - sa * uz


@inline
def _seen_ray(dirs, i, j, o, step, bend, h):  # pragma: no cover - jit
    """Return pixel (i, j)'s ray turned back by the limb's bending at its tangent height `h`."""
    return _refract_ray(dirs[i, j, 0], dirs[i, j, 1], dirs[i, j, 2], o, _lookup(step, bend, h, 0))


def _refract_rays_numpy(d, o, alpha):
    """numpy twin of :func:`_refract_ray` for rays `d` (..., 3)."""
    t = -(d @ o)
    u = o + t[..., None] * d
    u /= np.linalg.norm(u, axis=-1, keepdims=True)
    a = np.where(t > 0.0, alpha, 0.0)[..., None]
    return np.cos(a) * d - np.sin(a) * u


def _lookup_numpy(step, table, h):
    x = np.clip(np.asarray(h, float) / step, 0.0, table.shape[0] - 1.0)
    k = np.minimum(x.astype(np.int64), table.shape[0] - 2)
    f = (x - k)[..., None]
    return table[k] * (1.0 - f) + table[k + 1] * f


@inline
def _albedo_at(albedo, bx, by, bz):  # pragma: no cover - jit
    """Bilinear look-up of the equirectangular map (row 0 at 90 N, column 0 at 180 W) at the body-frame unit
    vector b."""
    nr, nc = albedo.shape
    lat = math.asin(min(max(bz, -1.0), 1.0))
    lon = math.atan2(by, bx)
    return _bilinear_wrapped(albedo, min(max((0.5 * math.pi - lat) / math.pi * nr - 0.5, 0.0), nr - 1.0),
                             (lon + math.pi) / (2.0 * math.pi) * nc - 0.5)


def _albedo_numpy(albedo, b):
    nr, nc = albedo.shape
    lat = np.arcsin(np.clip(b[..., 2], -1.0, 1.0))
    lon = np.arctan2(b[..., 1], b[..., 0])
    u = np.clip((0.5 * np.pi - lat) / np.pi * nr - 0.5, 0.0, nr - 1.0)
    v = (lon + np.pi) / (2.0 * np.pi) * nc - 0.5
    r0 = np.minimum(u.astype(np.int64), nr - 2)
    fu = u - r0
    c0 = np.floor(v).astype(np.int64)
    fv = v - c0
    c1 = (c0 + 1) % nc
    c0 = c0 % nc
    a = albedo.astype(float)
    return ((a[r0, c0] * (1.0 - fv) + a[r0, c1] * fv) * (1.0 - fu) + (a[r0 + 1, c0] * (1.0 - fv) + a[r0 + 1, c1] * fv) * fu)


def _moon_numpy(dirs, hit, tangent, i0, i1, j0, j1, o, step, bend, trans, m_dir, m_dist, m_rad, sun_from_moon, frame,
                albedo, lit_scale, dark_cd, px_rad, sub, out):
    """numpy twin of :func:`_moon_kernel`."""
    d = dirs[i0:i1, j0:j1].astype(float)
    h = tangent[i0:i1, j0:j1].astype(float)
    d = _refract_rays_numpy(d, o, _lookup_numpy(step, bend, h)[..., 0])
    a = np.cross(m_dir, d)
    a /= np.linalg.norm(a, axis=-1, keepdims=True)
    b = np.cross(d, a)
    acc = np.zeros(d.shape[:2])
    for si in range(sub):
        for sj in range(sub):
            u = ((si + 0.5) / sub - 0.5) * px_rad
            v = ((sj + 0.5) / sub - 0.5) * px_rad
            r = d + u * a + v * b
            r /= np.linalg.norm(r, axis=-1, keepdims=True)
            tc = m_dist * (r @ m_dir)
            d2 = m_dist * m_dist - tc * tc
            on = d2 <= m_rad * m_rad
            t = tc - np.sqrt(np.where(on, m_rad * m_rad - d2, 0.0))
            n = (t[..., None] * r - m_dist * m_dir) / m_rad
            mu0 = n @ sun_from_moon
            mu = -np.sum(n * r, axis=-1)
            alb = _albedo_numpy(albedo, n @ frame.T)
            lit = lit_scale * alb * mu0 / np.maximum(mu0 + mu, 1e-12)
            acc += np.where(on, np.where(mu0 > 0.0, lit, dark_cd * alb), 0.0)
    val = acc / (sub * sub)
    val = np.where(hit[i0:i1, j0:j1], 0.0, val)
    out[i0:i1, j0:j1] += (val[..., None] * _lookup_numpy(step, trans, h)).astype(out.dtype)


@twin(_moon_numpy)
@kernel(parallel=True)
def _moon_kernel(dirs, hit, tangent, i0, i1, j0, j1, o, step, bend, trans, m_dir, m_dist, m_rad, sun_from_moon, frame,
                 albedo, lit_scale, dark_cd, px_rad, sub, out):  # pragma: no cover - jit
    """Moon disc in the pixel box [i0, i1) x [j0, j1): each pixel's ray refracted (module section), then
    sub x sub samples (offsets of fractions of the pixel's angular size) met with the Moon's sphere; a lit
    sample is lit_scale x albedo x the Lommel-Seeliger factor mu0 / (mu0 + mu), a dark one earthshine x
    albedo; the sum dimmed by the limb path's transmission per channel."""
    for i in nb.prange(i0, i1):
        for j in range(j0, j1):
            if hit[i, j]:
                continue
            h = tangent[i, j]
            dx, dy, dz = _seen_ray(dirs, i, j, o, step, bend, h)
            # Two unit vectors across the pixel (perpendicular to the ray).
            ax, ay, az = m_dir[1] * dz - m_dir[2] * dy, m_dir[2] * dx - m_dir[0] * dz, m_dir[0] * dy - m_dir[1] * dx
            an = math.sqrt(ax * ax + ay * ay + az * az)
            if an < 1e-12:
                ax, ay, az = 1.0, 0.0, 0.0
                if abs(dx) > 0.9:
                    ax, ay, az = 0.0, 1.0, 0.0
                t = ax * dx + ay * dy + az * dz
                ax, ay, az = ax - t * dx, ay - t * dy, az - t * dz
                an = math.sqrt(ax * ax + ay * ay + az * az)
            ax, ay, az = ax / an, ay / an, az / an
            bx, by, bz = dy * az - dz * ay, dz * ax - dx * az, dx * ay - dy * ax
            acc = 0.0
            for si in range(sub):
                for sj in range(sub):
                    u = ((si + 0.5) / sub - 0.5) * px_rad
                    v = ((sj + 0.5) / sub - 0.5) * px_rad
                    rx, ry, rz = dx + u * ax + v * bx, dy + u * ay + v * by, dz + u * az + v * bz
                    rn = math.sqrt(rx * rx + ry * ry + rz * rz)
                    rx, ry, rz = rx / rn, ry / rn, rz / rn
                    # Ray / sphere (Moon centre at m_dist along m_dir).
                    tc = m_dist * (rx * m_dir[0] + ry * m_dir[1] + rz * m_dir[2])
                    d2 = m_dist * m_dist - tc * tc
                    if d2 > m_rad * m_rad:
                        continue
                    t = tc - math.sqrt(m_rad * m_rad - d2)
                    nx = (t * rx - m_dist * m_dir[0]) / m_rad
                    ny = (t * ry - m_dist * m_dir[1]) / m_rad
                    nz = (t * rz - m_dist * m_dir[2]) / m_rad
                    alb = _albedo_at(albedo, frame[0, 0] * nx + frame[0, 1] * ny + frame[0, 2] * nz,
                                     frame[1, 0] * nx + frame[1, 1] * ny + frame[1, 2] * nz,
                                     frame[2, 0] * nx + frame[2, 1] * ny + frame[2, 2] * nz)
                    mu0 = nx * sun_from_moon[0] + ny * sun_from_moon[1] + nz * sun_from_moon[2]
                    if mu0 > 0.0:
                        mu = -(nx * rx + ny * ry + nz * rz)
                        acc += lit_scale * alb * mu0 / max(mu0 + mu, 1e-12)
                    else:
                        acc += dark_cd * alb
            val = acc / (sub * sub)
            for c in range(3):
                out[i, j, c] += val * _lookup(step, trans, h, c)


def _pixel_box(cam, basis, direction, radius_rad, pad_px):
    x, y, front = project(cam, basis, np.asarray(direction, float))
    x, y = float(x), float(y)
    if not bool(front) or not (np.isfinite(x) and np.isfinite(y)):
        return None
    r_px = cam.focal_px * math.tan(radius_rad) * (1.0 + ((x - cam.principal_point[0]) ** 2 +
                                                      (y - cam.principal_point[1]) ** 2) / cam.focal_px**2) + pad_px
    i0, i1 = max(int(math.floor(y - r_px)), 0), min(int(math.ceil(y + r_px)) + 1, cam.height_px)
    j0, j1 = max(int(math.floor(x - r_px)), 0), min(int(math.ceil(x + r_px)) + 1, cam.width_px)
    if i0 >= i1 or j0 >= j1:
        return None
    return i0, i1, j0, j1


def _in_frame_cone(geom, direction, margin_rad) -> bool:
    """Return False when `direction` is more than `margin_rad` outside the cone of the frame's corners."""
    corners = geom.dirs_teme[[0, 0, -1, -1], [0, -1, 0, -1]].astype(float)
    fwd = np.asarray(geom.basis_teme, float)[2]
    half_diag = math.acos(float(np.clip(np.min(corners @ fwd), -1.0, 1.0)))
    return math.acos(float(np.clip(direction @ fwd, -1.0, 1.0))) <= half_diag + margin_rad


def _disc_box(scene, geom, direction, radius_rad, pad_px):
    """Return the pixel box of a disc of angular radius `radius_rad` whose centre is in the true TEME
    direction `direction`, seen refracted: around its apparent centre, or, when the centre is below the
    refracted limb, around its top's apparent direction (what shows is within one radius of it); None when
    the whole disc is hidden or out of the frame."""
    c = np.asarray(direction, float).reshape(3)
    if not _in_frame_cone(geom, c, radius_rad + float(np.max(scene.limb_optics.bending_rad))):
        return None
    o = np.asarray(scene.state.r_teme_km, float).reshape(3)
    up = o - (o @ c) * c  # toward the local zenith, across the line of sight
    top = math.cos(radius_rad) * c + math.sin(radius_rad) * up / max(float(np.linalg.norm(up)), 1e-300)
    ref = scene.refract(np.stack([c, top]))
    shown = np.isfinite(ref.tangent_km)
    if not shown[1]:
        return None
    return _pixel_box(geom.camera, geom.basis_teme, ref.dir_teme[0] if shown[0] else ref.dir_teme[1], radius_rad,
                      pad_px)


MOON_NORM_GRID = 96  # samples across the disc for the flux normalisation (moon_layer)


def _moon_pattern_sum(m_dir, sun_from_moon, frame, albedo, n: int = MOON_NORM_GRID):
    """Return (sum over a regular n x n grid of the disc's face of albedo x mu0 / (mu0 + mu) where lit,
    samples on the disc, mean albedo on the disc): each sample stands for the same solid angle
    (orthographic projection of the sphere seen from afar)."""
    e1 = np.cross(m_dir, [0.0, 0.0, 1.0] if abs(m_dir[2]) < 0.9 else [1.0, 0.0, 0.0])
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(m_dir, e1)
    g = (np.arange(n) + 0.5) / n * 2.0 - 1.0
    u, v = np.meshgrid(g, g, indexing="ij")
    inside = u * u + v * v < 1.0
    u, v = u[inside], v[inside]
    w = np.sqrt(1.0 - u * u - v * v)
    nrm = -w[:, None] * m_dir + u[:, None] * e1 + v[:, None] * e2
    mu = w
    mu0 = nrm @ sun_from_moon
    alb = _albedo_numpy(albedo, nrm @ frame.T)
    lit = np.where(mu0 > 0.0, alb * mu0 / np.maximum(mu0 + mu, 1e-12), 0.0)
    return float(lit.sum()), int(u.size), float(alb.mean())


def moon_layer(scene, geom, out: np.ndarray | None = None,
               settings: RenderSettings = DEFAULT_SETTINGS) -> np.ndarray:
    """Add the Moon's disc into `out` (H, W, 3) float32 cd/m^2: its face (``scene.moon_albedo`` in the
    orientation ``frame_teme`` of the Scene's Moon) lit by the Lommel-Seeliger law, the night side by
    earthshine, the whole scaled so that the lit disc's illuminance is the Moon's V magnitude's
    (``vmag_to_lux(moon.vmag)``, Allen's phase law and distance); refracted, flattened and reddened near
    the limb; nothing where the Earth is in front.

    Photometry: the Lommel-Seeliger law (single scattering by a dark, porous surface: radiance proportional
    to A mu0 / (mu0 + mu), mu0 and mu the cosines of the incidence and emission angles; Hapke 2012, "Theory
    of Reflectance and Emittance Spectroscopy", 2nd ed., sec. 8.6) gives the Moon its flat full disc (no
    limb darkening) and the shading toward the terminator; its phase dependence (opposition surge,
    shadow hiding) is left to the magnitude's phase law, which sets the total."""
    cam = geom.camera
    h, w = geom.dirs_teme.shape[:2]
    moon = scene.body("Moon")
    sun = scene.body("Sun")
    rgb = np.zeros((h, w, 3), np.float32) if out is None else out
    vmag = float(moon.vmag)
    frame = getattr(moon, "frame_teme", None)
    if not np.isfinite(vmag) or frame is None:
        return rgb
    m_dir = np.asarray(moon.dir_teme, float).reshape(3)
    m_dist = float(moon.distance_km)
    rad = math.radians(float(moon.radius_deg))
    box = _disc_box(scene, geom, m_dir, rad, 2.0)
    if box is None:
        return rgb
    frame = np.ascontiguousarray(np.asarray(frame, float).reshape(3, 3))
    albedo = np.asarray(scene.moon_albedo, np.float32)
    s_pos = np.asarray(sun.dir_teme, float).reshape(3) * float(np.asarray(sun.distance_km))
    sfm = s_pos - m_dir * m_dist
    sfm /= np.linalg.norm(sfm)
    m_rad_km = m_dist * math.sin(rad)
    # The scale that gives the lit disc the magnitude's illuminance: E = sum L dOmega over the disc.
    pattern, n_disc, mean_alb = _moon_pattern_sum(m_dir, sfm, frame, albedo)
    omega = 2.0 * math.pi * (1.0 - math.cos(rad))
    lit_scale = float(vmag_to_lux(vmag)) / (pattern * omega / n_disc) if pattern > 0.0 else 0.0
    k = float(moon.illuminated_fraction)
    dark = settings.earthshine_cd_m2 * (1.0 - k) / max(mean_alb, 1e-6)
    spikes = spikes_for(cam, settings, [rad * cam.focal_px])
    if spikes is not None:  # the aperture's spikes, their light taken from the disc's
        keep = 1.0 - float(spikes.share_luma()[0])
        lit_scale, dark = lit_scale * keep, dark * keep
        seen = scene.refract(m_dir[None])
        if seen.visible[0]:
            _spikes_at(rgb, spikes, geom, seen.dir_teme[:1],
                       float(vmag_to_lux(vmag)) * np.asarray(seen.transmission_rgb[:1], float))
    optics = scene.limb_optics
    _moon_kernel(geom.dirs_teme, geom.hit, geom.tangent_km, *box, np.asarray(scene.state.r_teme_km, float).reshape(3),
                 float(optics.step_km), np.ascontiguousarray(optics.bending_rad, float).reshape(-1, 1),
                 np.ascontiguousarray(optics.transmission_rgb, float), m_dir, m_dist, m_rad_km, sfm, frame, albedo,
                 lit_scale, dark, 1.0 / cam.focal_px, int(settings.moon_subsamples), rgb)
    # The Moon's colour is close to the Sun's (albedo slightly redder): drawn neutral (D65 white) outside
    # the atmosphere.
    return rgb


def _sun_disc_numpy(dirs, hit, tangent, i0, i1, j0, j1, o, step, bend, trans, s_dir, r_sun, disc_cd, px_rad, out):
    """numpy twin of :func:`_sun_disc_kernel`."""
    d = dirs[i0:i1, j0:j1].astype(float)
    h = tangent[i0:i1, j0:j1].astype(float)
    d = _refract_rays_numpy(d, o, _lookup_numpy(step, bend, h)[..., 0])
    th = np.arctan2(np.linalg.norm(np.cross(d, s_dir), axis=-1), d @ s_dir)
    cover = np.clip((r_sun - th) / px_rad + 0.5, 0.0, 1.0)
    val = np.where(hit[i0:i1, j0:j1], 0.0, disc_cd * cover)
    out[i0:i1, j0:j1] += (val[..., None] * _lookup_numpy(step, trans, h)).astype(out.dtype)


@twin(_sun_disc_numpy)
@kernel(parallel=True)
def _sun_disc_kernel(dirs, hit, tangent, i0, i1, j0, j1, o, step, bend, trans, s_dir, r_sun, disc_cd, px_rad,
                     out):  # pragma: no cover - jit
    """The Sun's disc in the pixel box: each pixel's ray refracted (module section), an area-coverage ramp
    across the edge pixel, dimmed by the limb path's transmission per channel."""
    for i in nb.prange(i0, i1):
        for j in range(j0, j1):
            if hit[i, j]:
                continue
            h = tangent[i, j]
            dx, dy, dz = _seen_ray(dirs, i, j, o, step, bend, h)
            cx = dy * s_dir[2] - dz * s_dir[1]
            cy = dz * s_dir[0] - dx * s_dir[2]
            cz = dx * s_dir[1] - dy * s_dir[0]
            th = math.atan2(math.sqrt(cx * cx + cy * cy + cz * cz), dx * s_dir[0] + dy * s_dir[1] + dz * s_dir[2])
            cover = (r_sun - th) / px_rad + 0.5  # area-coverage ramp across the edge pixel
            if cover > 0.0:
                v = disc_cd * min(cover, 1.0)
                for c in range(3):
                    out[i, j, c] += v * _lookup(step, trans, h, c)


def _cos_to_numpy(dirs, d, out):
    """numpy twin of :func:`_cos_to`."""
    out[...] = dirs[..., 0] * d[0] + dirs[..., 1] * d[1] + dirs[..., 2] * d[2]


@twin(_cos_to_numpy)
@kernel(parallel=True)
def _cos_to(dirs, d, out):  # pragma: no cover - jit
    """out = the cosine between each pixel's ray `dirs` (H, W, 3) and the unit vector `d`."""
    for i in nb.prange(dirs.shape[0]):
        for j in range(dirs.shape[1]):
            out[i, j] = dirs[i, j, 0] * d[0] + dirs[i, j, 1] * d[1] + dirs[i, j, 2] * d[2]


def _spikes_at(out, spikes, geom, dirs_teme, illuminance_rgb):
    """Add the spikes of sources seen in directions `dirs_teme` (n, 3) with `illuminance_rgb` (n, 3) lux;
    none for a source behind the camera."""
    x, y, front = project(geom.camera, geom.basis_teme, np.asarray(dirs_teme, float))
    add_spikes(out, spikes, np.where(front, x, np.nan), y, illuminance_rgb, geom.camera)


def sun_layer(scene, geom, out: np.ndarray | None = None,
              settings: RenderSettings = DEFAULT_SETTINGS) -> np.ndarray:
    """Add the Sun's disc (1.6e9 cd/m^2 outside the atmosphere x the PSF core's share; refracted,
    flattened and reddened near the limb; nothing where the Earth is in front) and its glare, the PSF
    wing around the visible part of the disc (module docstring), into `out` (H, W, 3) float32 cd/m^2;
    nothing when the Sun is behind the refracted limb, no glare when it is behind the lens."""
    cam = geom.camera
    h, w = geom.dirs_teme.shape[:2]
    sun = scene.body("Sun")
    frac = float(scene.lighting.sun_fraction)
    s_dir = np.asarray(sun.dir_teme, float).reshape(3)
    r_sun = math.radians(float(sun.radius_deg))
    rgb = np.zeros((h, w, 3), np.float32) if out is None else out
    fwd = np.asarray(geom.basis_teme, float)[2]
    core = 1.0 - float(settings.psf_wing_fraction)  # the wing's share is the glare below
    # The glare follows the disc where it is seen: through the limb, around its lifted centre, dimmed by
    # the limb path (the whole lifted disc is above the ground); elsewhere the visible fraction weights it.
    cos_sr, weight, seen_dir = geom.cos_sun_ray, frac, s_dir
    seen = scene.refract(s_dir[None])
    if np.isfinite(seen.tangent_km[0]) and float(seen.bending_rad[0]) > 0.0:
        seen_dir = np.ascontiguousarray(seen.dir_teme[0], float)
        cos_sr = np.empty(geom.cos_sun_ray.shape, np.float32)
        _cos_to(geom.dirs_teme, seen_dir, cos_sr)
        weight = float(seen.transmission_rgb[0] @ LUMA)
    # The glare: the wing around the visible part of the disc (E = L Omega_sun), wherever the Sun is.
    e_disc = SUN_CD_M2 * 2.0 * math.pi * (1.0 - math.cos(r_sun))  # the whole disc's illuminance, lx
    e_sun = e_disc * weight * glare_obliquity(float(seen_dir @ fwd))
    if e_sun > 0.0:
        add_glare(rgb, cos_sr, e_sun, settings)
    spikes = spikes_for(cam, settings, [r_sun * cam.focal_px])
    if spikes is not None:  # the aperture's spikes, their light taken from the disc's
        core -= float(spikes.share_luma()[0])
        trans = seen.transmission_rgb[0] if seen.visible[0] else np.zeros(3)
        _spikes_at(rgb, spikes, geom, seen_dir[None], e_disc * frac * np.asarray(trans, float)[None])
    box = _disc_box(scene, geom, s_dir, r_sun, 2.0)
    if box is not None:  # the disc, refracted
        optics = scene.limb_optics
        # The Sun's colour outside the atmosphere is near the D65 white point; the limb path reddens it.
        _sun_disc_kernel(geom.dirs_teme, geom.hit, geom.tangent_km, *box,
                         np.asarray(scene.state.r_teme_km, float).reshape(3), float(optics.step_km),
                         np.ascontiguousarray(optics.bending_rad, float).reshape(-1, 1),
                         np.ascontiguousarray(optics.transmission_rgb, float), s_dir, r_sun, SUN_CD_M2 * core,
                         1.0 / cam.focal_px, rgb)
    return rgb


def bodies_layer(scene, geom, out: np.ndarray | None = None,
                 settings: RenderSettings = DEFAULT_SETTINGS) -> np.ndarray:
    """Add the Moon and the Sun (:func:`moon_layer` + :func:`sun_layer`) into `out`."""
    out = moon_layer(scene, geom, out, settings)
    return sun_layer(scene, geom, out, settings)


__all__ = [
    "stars_layer", "moon_layer", "sun_layer", "bodies_layer", "star_positions", "exposure_times", "splat",
]

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
* Moon: mean luminance of the full Moon's disc ~2,500 cd/m^2 (e.g. Schlyter, "Radiometry and
  photometry in astronomy"; CIE 1987). Away from full, the whole-disc flux follows Allen's phase
  law m(alpha) - m(0) = 0.026 |alpha| + 4e-9 alpha^4 (alpha in deg), spread over the lit part
  (fraction k = (1 + cos alpha) / 2), so the lit surface has 2500 * 10**(-0.4 dm) / k cd/m^2;
  the night side gets earthshine of ~1e-4 of full (0.25 cd/m^2 x (1 - k)). A pixel is lit where
  the Moon's surface normal under it faces the Sun (exact ray/sphere geometry).
* Sun: mean luminance of the disc 1.6e9 cd/m^2 (e.g. CIE; Schlyter, op. cit.). Glare: the
  lens's PSF wing (``render.optics``) around the Sun, eta E w(theta) with E the illuminance of the
  visible part of the disc (``scene.lighting.sun_fraction``) times cos of its angle off the optical
  axis (none from behind the lens), at every pixel whether the Sun is in the frame or not: no
  cut-off; the disc keeps the core's share, 1 - eta (bloom does not spread it again).

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
from ..colour import camera_star_rgb
from ..jit import kernel
from ..photometry import SUN_CD_M2, moon_luminance_cd_m2, vmag_to_lux
from .optics import add_glare, glare_obliquity, star_sigma_px
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
    """Return the planets above the limb: names, directions (K, 3), V magnitudes, B-V colours."""
    names, dirs, vmag, bv = [], [], [], []
    for b in scene.bodies:
        if b.kind == "planet" and bool(b.above_limb) and np.isfinite(float(b.vmag)):
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
    if dirs.shape[0] == 0:
        return out
    times = exposure_times(cam, settings.path_samples) if not cam.tracked else np.zeros(1)
    x, y, front = star_positions(scene, cam, geom.attitude, times, dirs_teme=dirs)
    # Colours as the camera records them (black bodies at the B-V temperature through its
    # sensitivities), per unit of the eye's illuminance.
    colour = np.maximum(camera_star_rgb(bv), 0.0)
    # Stars within 1.5 mag of the limit: their PSF wings are below the noise (3 x 3 windows).
    return splat(out, geom, x.T, y.T, front.T, vmag_to_lux(vmag), colour, star_sigma_px(cam, settings), True,
                 settings, faint_lux=float(vmag_to_lux(limit - FAINT_WINDOW_MAG)))


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
            u = min(max(dec + 90.0 - 0.5, 0.0), nr - 1.0)
            v = ra - 0.5
            r0 = min(int(u), nr - 2)
            fu = u - r0
            c0 = int(math.floor(v))
            fv = v - c0
            c1 = (c0 + 1) % nc
            c0 = c0 % nc
            node[gi, gj] = ((grid[r0, c0] * (1.0 - fv) + grid[r0, c1] * fv) * (1.0 - fu)
                            + (grid[r0 + 1, c0] * (1.0 - fv) + grid[r0 + 1, c1] * fv) * fu)
    for i in nb.prange(h):
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
@kernel(parallel=True)
def _moon_kernel(dirs, hit, i0, i1, j0, j1, m_dir, m_dist, m_rad, sun_from_moon, lit_cd, dark_cd, px_rad,
                 sub, out):  # pragma: no cover - jit
    """Moon disc in the pixel box [i0, i1) x [j0, j1): sub x sub samples per pixel (nearest pixel
    rays offset by fractions of the pixel's angular size), lit where the normal faces the Sun."""
    for i in nb.prange(i0, i1):
        for j in range(j0, j1):
            if hit[i, j]:
                continue
            dx, dy, dz = dirs[i, j, 0], dirs[i, j, 1], dirs[i, j, 2]
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
                    if nx * sun_from_moon[0] + ny * sun_from_moon[1] + nz * sun_from_moon[2] > 0.0:
                        acc += lit_cd
                    else:
                        acc += dark_cd
            out[i, j] += acc / (sub * sub)


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


def moon_layer(scene, geom, out: np.ndarray | None = None,
               settings: RenderSettings = DEFAULT_SETTINGS) -> np.ndarray:
    """Add the Moon's disc (phase, terminator, earthshine) into `out` (H, W, 3) float32 cd/m^2;
    nothing where the Earth is in front."""
    cam = geom.camera
    h, w = geom.dirs_teme.shape[:2]
    moon = scene.body("Moon")
    sun = scene.body("Sun")
    m_dir = np.asarray(moon.dir_teme, float).reshape(3)
    m_dist = float(moon.distance_km)
    rad = math.radians(float(moon.radius_deg))
    box = _pixel_box(cam, geom.basis_teme, m_dir, rad, 2.0)
    rgb = np.zeros((h, w, 3), np.float32) if out is None else out
    if box is None:
        return rgb
    disc = np.zeros((h, w), np.float32)
    s_pos = np.asarray(sun.dir_teme, float).reshape(3) * float(np.asarray(sun.distance_km))
    sfm = s_pos - m_dir * m_dist
    sfm /= np.linalg.norm(sfm)
    m_rad_km = m_dist * math.sin(rad)
    alpha = float(moon.phase_angle_deg)
    k = float(moon.illuminated_fraction)
    _moon_kernel(geom.dirs_teme, geom.hit, *box, m_dir, m_dist, m_rad_km, sfm, moon_luminance_cd_m2(alpha),
                 settings.earthshine_cd_m2 * (1.0 - k), 1.0 / cam.focal_px, int(settings.moon_subsamples), disc)
    # The Moon's colour is close to the Sun's (albedo slightly redder): drawn neutral (D65 white).
    i0, i1, j0, j1 = box
    rgb[i0:i1, j0:j1] += disc[i0:i1, j0:j1, None]
    return rgb


@kernel(parallel=True)
def _sun_kernel(dirs, hit, s_dir, r_sun, disc_cd, px_rad, out):  # pragma: no cover - jit
    """The Sun's disc (its glare: :func:`cupola.render.optics.add_glare`)."""
    h, w = dirs.shape[0], dirs.shape[1]
    for i in nb.prange(h):
        for j in range(w):
            v = 0.0
            if not hit[i, j]:
                dx, dy, dz = dirs[i, j, 0], dirs[i, j, 1], dirs[i, j, 2]
                cx = dy * s_dir[2] - dz * s_dir[1]
                cy = dz * s_dir[0] - dx * s_dir[2]
                cz = dx * s_dir[1] - dy * s_dir[0]
                th = math.atan2(math.sqrt(cx * cx + cy * cy + cz * cz), dx * s_dir[0] + dy * s_dir[1] + dz * s_dir[2])
                cover = (r_sun - th) / px_rad + 0.5  # area-coverage ramp across the edge pixel
                if cover > 0.0:
                    v += disc_cd * min(cover, 1.0)
            out[i, j] = v


def sun_layer(scene, geom, out: np.ndarray | None = None,
              settings: RenderSettings = DEFAULT_SETTINGS) -> np.ndarray:
    """Add the Sun's disc (1.6e9 cd/m^2 x the PSF core's share, nothing where the Earth is in front)
    and its glare, the PSF wing around the visible part of the disc (module docstring), into `out`
    (H, W, 3) float32 cd/m^2; nothing when the Sun is behind the Earth, no glare when it is behind
    the lens."""
    cam = geom.camera
    h, w = geom.dirs_teme.shape[:2]
    sun = scene.body("Sun")
    frac = float(scene.lighting.sun_fraction)
    s_dir = np.asarray(sun.dir_teme, float).reshape(3)
    r_sun = math.radians(float(sun.radius_deg))
    rgb = np.zeros((h, w, 3), np.float32) if out is None else out
    if frac <= 0.0 and not bool(sun.above_limb):
        return rgb
    # Angle from the Sun to the frame: the frame's corner rays bound it.
    corners = geom.dirs_teme[[0, 0, -1, -1], [0, -1, 0, -1]].astype(float)
    fwd = np.asarray(geom.basis_teme, float)[2]
    half_diag = math.acos(float(np.min(corners @ fwd)))
    off = math.acos(float(np.clip(s_dir @ fwd, -1.0, 1.0)))
    core = 1.0 - float(settings.psf_wing_fraction)  # the wing's share is the glare below
    if off < half_diag + 2.0 * r_sun:
        disc = np.zeros((h, w), np.float32)
        _sun_kernel(geom.dirs_teme, geom.hit, s_dir, r_sun, SUN_CD_M2 * core, 1.0 / cam.focal_px, disc)
        rgb += disc[..., None]  # the Sun's colour outside the atmosphere is near the D65 white point
    # The glare: the wing around the visible part of the disc (E = L Omega_sun), wherever the Sun is.
    e_sun = SUN_CD_M2 * 2.0 * math.pi * (1.0 - math.cos(r_sun)) * frac * glare_obliquity(float(s_dir @ fwd))
    if e_sun > 0.0:
        add_glare(rgb, geom.cos_sun_ray, e_sun, settings)
    return rgb


def bodies_layer(scene, geom, out: np.ndarray | None = None,
                 settings: RenderSettings = DEFAULT_SETTINGS) -> np.ndarray:
    """Add the Moon and the Sun (:func:`moon_layer` + :func:`sun_layer`) into `out`."""
    out = moon_layer(scene, geom, out, settings)
    return sun_layer(scene, geom, out, settings)


__all__ = [
    "stars_layer", "moon_layer", "sun_layer", "bodies_layer", "star_positions", "exposure_times", "splat",
]

"""Exposure smear of the Earth, airglow and aurora layers along each pixel's motion (issue 14).

Over a long exposure the scene moves across the sensor: the station flies on (7.7 km/s), the
Earth turns under it and an untracked camera turns with the station's LVLH frame
(:meth:`cupola.camera.Attitude.during`, ``scene.motion``). The night lights (``render.lights``)
and the stars (``render.points``) already follow that motion; this module gives the same motion
to the layers that draw the ground and the glows: ``earth``, ``airglow`` and ``aurora``
(:data:`SMEARED_LAYERS`), which the renderer draws at the scene's instant (mid-exposure) into a
second buffer, smeared here and added into the accumulator.

The model
---------
A pixel p records, at each time t of the exposure, the scene point its ray meets then. That point
is drawn in the mid-exposure image at q(p, t), so the pixel's value over the exposure is the mean
of the mid-exposure image along the path q(p, t) (a line-integral convolution, exact for a scene
that does not change during the exposure). The scene point is:

* for a ray that meets the ground, its hit on the WGS84 ellipsoid, fixed on the turning Earth
  (the ground, the clouds at 6 km and the lights under them move together);
* for a ray that misses (the limb, the airglow and the aurora seen edge-on), the ray's point of
  closest approach to the Earth's centre (its tangent point), where a limb glow's column is
  centred, fixed on the turning Earth. At the limb the two agree (a grazing ray's hit is its
  tangent point), so the field is continuous there. Rays whose tangent point lies higher than
  :data:`SHELL_TOP_KM` (or behind the station) take the point at the distance of a ray grazing
  that height: nothing the three layers draw lies there, and the field stays finite.

Approximations: airglow and aurora seen against the ground move with the ground under them, not
at their own height (their parallax: at nadir a 100 km shell moves ~30 % faster than the
ground below it, a 250 km one ~2.5 x; the emission there is faint and smooth); the Earth's
rotation is GMST's, the same as the lights'. A tracked limb moves at the LVLH rate v / r in the
orbit plane (0.65 deg per 10 s): the tangent point's direction from a station moving at v turns
at v sin(dip) / (r sin(dip)) = v / r.

The field and the filter
------------------------
q(p, t) - p is computed at the start and the end of the exposure (q(p, 0) = p) on a grid of every
``settings.smear_grid_px``-th pixel (ray/ellipsoid per node, both instants from one propagation)
and interpolated bilinearly; each pixel is then the mean of the image along the two segments
start -> p -> end, at taps evenly spaced in time, one per pixel of path or fewer (at most
``settings.smear_max_taps``): the same path and tap rule as the lights' own.

The mean is taken on the image reduced by a factor s (a box average over s x s blocks, then the
path average there with the field divided by s, then bilinear back to full resolution): s = 1
under 2 px of smear (the frame's longest path), 2 under 8 px, 4 under :data:`EIGHTFOLD_FROM_PX`,
else 8 (at most ``settings.smear_max_scale``). At 8 the paths shorter than 32 px (a tracked
limb, 15 px in 10 s at 24 mm, under a ground moving 130 px) keep the 4-times image, blended
into the 8-times one up to 48 px (:data:`FOURFOLD_BELOW_PX`). A path average at full resolution
costs ~0.5 s of CPU for a 1920 x 1080 frame with 150 px paths; reduced, 16-22 ms (one thread).
The price is a blur of ~s px across the motion, where the smear itself spreads the image by
4 s px or more along it (s = 8: 0.4 % of a 1920 px frame's width). The result is written over the image: the
renderer draws the smeared layers first into its accumulator, smears it in place and lets the
other layers add after (the same sum as a second buffer, without one).

Nothing is done (and the frame keeps its bytes) where an upper bound of the smear
(:func:`smear_bound_px`), then the field's own longest path, is under ``settings.smear_min_px``.

:func:`motion_field` and :func:`smear_in_place` run numba kernels; ``_field_numpy`` and
:func:`smear_numpy` are their numpy twins (``use_twins``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np

from ..camera.geometry import camera_ray, ray_ellipsoid_near_far
from ..constants import EARTH_ROTATION_RAD_S, WGS84_A_KM, WGS84_B_KM
from ..jit import inline, kernel, spread_row, use_twins
from .points import exposure_times

SMEARED_LAYERS = ("earth", "airglow", "aurora")  # drawn at mid-exposure, smeared here
EIGHTFOLD_FROM_PX = 96.0  # a frame whose longest path is this long is averaged on the image reduced 8 times,
FOURFOLD_BELOW_PX = (32.0, 48.0)  # but 4 times where paths are under 32 px, blending the two up to 48 px
SHELL_TOP_KM = 300.0  # highest tangent point taken as the scene point of a ray that misses (module docstring)


@dataclass(frozen=True, eq=False)
class MotionField:
    """Where the scene point a pixel sees at the start and the end of the exposure is drawn in the
    mid-exposure image, relative to the pixel: ``field`` (rows, cols, 4) float64 = (dx, dy) at the
    start, then at the end (px), on the grid of every ``step``-th pixel (node (i, j) at pixel
    (j step, i step))."""

    field: np.ndarray
    step: int

    @property
    def max_px(self) -> float:
        """Return the longest path on the grid (px)."""
        f = self.field
        return float(np.max(np.hypot(f[..., 0], f[..., 1]) + np.hypot(f[..., 2], f[..., 3]), initial=0.0))

    def at(self, x_px, y_px) -> np.ndarray:
        """Return the field interpolated bilinearly at pixel coordinates (..., 4)."""
        gi = np.clip(np.asarray(y_px, float) / self.step, 0.0, self.field.shape[0] - 1.000001)
        gj = np.clip(np.asarray(x_px, float) / self.step, 0.0, self.field.shape[1] - 1.000001)
        i0, j0 = gi.astype(np.int64), gj.astype(np.int64)
        fi, fj = (gi - i0)[..., None], (gj - j0)[..., None]
        f = self.field
        return ((1 - fi) * ((1 - fj) * f[i0, j0] + fj * f[i0, j0 + 1])
                + fi * ((1 - fj) * f[i0 + 1, j0] + fj * f[i0 + 1, j0 + 1]))


def smear_bound_px(scene, camera) -> float:
    """Return an upper bound of any scene point's smear (px) over `camera`'s exposure: its
    apparent rate is at most (|v| + omega_E |r|) / (|r| - a) (a point no nearer than the ground
    below, moving at most at the station's speed plus the Earth's turn at the station's radius)
    plus the LVLH rate |v| / |r| of an untracked camera, and a pixel subtends at most
    1 + (half diagonal / f)^2 times the axis' pixel scale."""
    r = np.asarray(scene.state.r_teme_km, float).reshape(3)
    v = np.asarray(scene.state.v_teme_km_s, float).reshape(3)
    rn, vn = float(np.linalg.norm(r)), float(np.linalg.norm(v))
    rate = (vn + EARTH_ROTATION_RAD_S * rn) / max(rn - WGS84_A_KM, 1.0)
    if not camera.tracked:
        rate += vn / rn
    f = float(camera.focal_px)
    corner = 1.0 + (0.5 * math.hypot(camera.width_px, camera.height_px) / f) ** 2
    return rate * float(camera.exposure_s) * f * corner


def _scene_points(o, d):
    """Return the scene point (N, 3) TEME of rays from `o` (3,) along unit `d` (N, 3) (module
    docstring): the ellipsoid hit, else the tangent point, no nearer than a ray grazing SHELL_TOP_KM."""
    k = WGS84_A_KM / WGS84_B_KM
    ok = np.array([o[0], o[1], o[2] * k])
    s = d * np.array([1.0, 1.0, k])
    sn = np.linalg.norm(s, axis=-1)
    s /= sn[:, None]
    bq = s @ ok
    disc = bq * bq - (ok @ ok - WGS84_A_KM**2)
    with np.errstate(invalid="ignore"):
        near = (-bq - np.sqrt(disc)) / sn
    hit = (disc >= 0.0) & (near > 0.0)
    rn = float(np.linalg.norm(o))
    floor = math.sqrt(max(rn * rn - (WGS84_A_KM + SHELL_TOP_KM) ** 2, 1.0))
    dist = np.where(hit, near, np.maximum(-(d @ o), floor))
    return o + dist[:, None] * d


def motion_field(scene, geom, settings) -> MotionField | None:
    """Return the :class:`MotionField` of the frame `geom` (a RayGeometry at the scene's instant),
    or None when ``settings.smear`` is off or the smear stays under ``settings.smear_min_px``."""
    cam = geom.camera
    if not settings.smear or smear_bound_px(scene, cam) < settings.smear_min_px:
        return None
    step = int(settings.smear_grid_px)
    h, w = geom.hit.shape
    ys = np.arange((h - 1) // step + 2) * float(step)
    xs = np.arange((w - 1) // step + 2) * float(step)
    yy, xx = np.meshgrid(ys, xs, indexing="ij")
    cx, cy = cam.principal_point
    f = float(cam.focal_px)
    times = exposure_times(cam, 3)[[0, 2]]
    bases = geom.attitude.during(scene.state, times, cam.tracked)
    motion = scene.motion(times)
    o0 = np.ascontiguousarray(geom.origin_teme_km, float)
    b0 = np.ascontiguousarray(geom.basis_teme, float)
    theta0 = float(geom.theta_gmst)
    args = (np.ascontiguousarray(bases, float), np.ascontiguousarray(motion.r_teme_km, float),
            theta0 - np.asarray(motion.earth_angle_rad, float), o0, b0, f, float(cx), float(cy))
    if use_twins():
        out = _field_numpy(xx, yy, *args)
    else:
        out = np.empty(yy.shape + (4,))
        _field_kernel(xx, yy, *args, WGS84_A_KM, WGS84_A_KM / WGS84_B_KM, SHELL_TOP_KM, out)
    field = MotionField(out, step)
    return field if field.max_px >= settings.smear_min_px else None


def _field_numpy(xx, yy, bases, origins, turns, o0, b0, f, cx, cy) -> np.ndarray:
    """The numpy twin of :func:`_field_kernel`: (rows, cols, 4) for grid pixels `xx`, `yy`."""
    xu, yv = ((xx - cx) / f).reshape(-1), ((yy - cy) / f).reshape(-1)
    out = np.empty(xx.shape + (4,))
    for k in range(2):
        b = bases[k]
        d = xu[:, None] * b[0] + yv[:, None] * b[1] + b[2]
        d /= np.linalg.norm(d, axis=-1, keepdims=True)
        p = _scene_points(origins[k], d)
        # Fixed on the Earth: where the point was at the scene's instant (TEME turned back by the
        # Earth's rotation over t), then projected by the mid-exposure camera.
        c, s = math.cos(turns[k]), math.sin(turns[k])
        p0 = np.stack([c * p[:, 0] - s * p[:, 1], s * p[:, 0] + c * p[:, 1], p[:, 2]], axis=-1)
        q = (p0 - o0) @ b0.T
        front = q[:, 2] > 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            dx = np.where(front, cx + f * q[:, 0] / q[:, 2] - xx.reshape(-1), 0.0)
            dy = np.where(front, cy + f * q[:, 1] / q[:, 2] - yy.reshape(-1), 0.0)
        out[..., 2 * k] = dx.reshape(xx.shape)
        out[..., 2 * k + 1] = dy.reshape(xx.shape)
    out[~np.isfinite(out).all(axis=-1)] = 0.0
    return out


@kernel(parallel=True)
def _field_kernel(xx, yy, bases, origins, turns, o0, b0, f, cx, cy, a, k, top_km, out):  # pragma: no cover - jit
    rows, cols = xx.shape
    for i in nb.prange(rows):
        for j in range(cols):
            for t in range(2):
                ox, oy, oz = origins[t, 0], origins[t, 1], origins[t, 2]
                dx, dy, dz = camera_ray(bases[t], (xx[i, j] - cx) / f, (yy[i, j] - cy) / f)
                near, _ = ray_ellipsoid_near_far(ox, oy, oz * k, dx, dy, dz, a, k)
                if near > 0.0:
                    dist = near
                else:
                    rn2 = ox * ox + oy * oy + oz * oz
                    floor = math.sqrt(max(rn2 - (a + top_km) ** 2, 1.0))
                    dist = max(-(ox * dx + oy * dy + oz * dz), floor)
                px, py, pz = ox + dist * dx, oy + dist * dy, oz + dist * dz
                c, s = math.cos(turns[t]), math.sin(turns[t])
                qx, qy, qz = c * px - s * py - o0[0], s * px + c * py - o0[1], pz - o0[2]
                cz = b0[2, 0] * qx + b0[2, 1] * qy + b0[2, 2] * qz
                ux, uy = 0.0, 0.0
                if cz > 0.0:
                    ux = cx + f * (b0[0, 0] * qx + b0[0, 1] * qy + b0[0, 2] * qz) / cz - xx[i, j]
                    uy = cy + f * (b0[1, 0] * qx + b0[1, 1] * qy + b0[1, 2] * qz) / cz - yy[i, j]
                if not (math.isfinite(ux) and math.isfinite(uy)):
                    ux, uy = 0.0, 0.0
                out[i, j, 2 * t] = ux
                out[i, j, 2 * t + 1] = uy


# -- the filter: box down by `scale`, the path average there, bilinear up -------------------------------
def smear_scale(field: MotionField, settings) -> int:
    """Return the factor (a power of two, at most ``settings.smear_max_scale``) by which the image is
    reduced for the path average: 1 under 2 px of smear (the frame's longest path), then 2, 4 and 8
    from 2, 8 and :data:`EIGHTFOLD_FROM_PX` px (module docstring)."""
    m = field.max_px
    s = 1 if m < 2.0 else 2 if m < 8.0 else 4 if m < EIGHTFOLD_FROM_PX else 8
    return int(min(s, max(1, int(settings.smear_max_scale))))


def _levels(field: MotionField, settings) -> tuple[int, int]:
    """Return (fine, coarse) reductions: the same but at 8, where paths shorter than
    :data:`EIGHTFOLD_FROM_PX` are averaged on the image reduced 4 times (module docstring)."""
    s = smear_scale(field, settings)
    return (s // 2 if s >= 8 else s), s


@kernel(parallel=True)
def _down_kernel(src, s, low):  # pragma: no cover - jit
    """Box-average `src` over s x s blocks (the frame's last blocks over the pixels they hold)."""
    h, w = src.shape[0], src.shape[1]
    flat = src.reshape(h, w * 3)
    for i in nb.prange(low.shape[0]):
        i1 = min(i * s + s, h)
        row = np.zeros(w * 3, np.float32)
        for y in range(i * s, i1):  # the block's rows summed first: contiguous, vectorised
            for x in range(w * 3):
                row[x] += flat[y, x]
        for j in range(low.shape[1]):
            j1 = min(j * s + s, w)
            inv = np.float32(1.0 / ((i1 - i * s) * (j1 - j * s)))
            for c in range(3):
                acc = np.float32(0.0)
                for x in range(j * s, j1):
                    acc += row[3 * x + c]
                low[i, j, c] = acc * inv


def _down_numpy(src, s):
    h, w = src.shape[:2]
    hl, wl = -(-h // s), -(-w // s)
    pad = np.zeros((hl * s, wl * s, 3))
    pad[:h, :w] = src
    cnt = np.zeros((hl * s, wl * s))
    cnt[:h, :w] = 1.0
    tot = pad.reshape(hl, s, wl, s, 3).sum(axis=(1, 3))
    return tot / cnt.reshape(hl, s, wl, s).sum(axis=(1, 3))[..., None]


@inline
def _tap(src, x, y, acc):  # pragma: no cover - jit
    """Add the bilinear sample of `src` (H, W, 3) at (x, y), clamped to the frame, into acc (3,)."""
    h, w = src.shape[0], src.shape[1]
    x = min(max(x, 0.0), w - 1.0)
    y = min(max(y, 0.0), h - 1.0)
    j0 = min(int(x), max(w - 2, 0))
    i0 = min(int(y), max(h - 2, 0))
    j1 = min(j0 + 1, w - 1)
    i1 = min(i0 + 1, h - 1)
    fx = x - j0
    fy = y - i0
    w00 = (1.0 - fy) * (1.0 - fx)
    w01 = (1.0 - fy) * fx
    w10 = fy * (1.0 - fx)
    w11 = fy * fx
    for c in range(3):
        acc[c] += w00 * src[i0, j0, c] + w01 * src[i0, j1, c] + w10 * src[i1, j0, c] + w11 * src[i1, j1, c]


@kernel(parallel=True)
def _lic_kernel(low, grid, step, s, max_taps, coarse, ratio, w0, w1, lic):  # pragma: no cover - jit
    """Average `low` (the image reduced by `s`) along each pixel's path: the field (full-resolution
    px, grid of every `step`-th pixel) at the pixel's centre, divided by `s`. A pixel whose path is
    longer than `w0` full-resolution px takes, in a share rising to 1 at `w1`, the already smeared
    `coarse` (reduced `ratio` times more) instead, bilinear at its centre."""
    hl, wl = low.shape[0], low.shape[1]
    rows, cols = grid.shape[0], grid.shape[1]
    gmax_i, gmax_j = rows - 1.000001, cols - 1.000001
    inv_s = 1.0 / s
    # Each column's grid cell and weight, shared by every row.
    cj = np.empty(wl, np.int64)
    cf = np.empty(wl)
    for j in range(wl):
        gj = min(max(((j + 0.5) * s - 0.5) / step, 0.0), gmax_j)
        cj[j] = int(gj)
        cf[j] = gj - cj[j]
    for i in nb.prange(hl):
        acc = np.empty(3)
        far = np.empty(3)
        gi = min(max(((i + 0.5) * s - 0.5) / step, 0.0), gmax_i)
        i0 = int(gi)
        fi = gi - i0
        g = np.empty((cols, 4))  # the grid interpolated to this row, in reduced px
        for jj in range(cols):
            for c in range(4):
                g[jj, c] = ((1.0 - fi) * grid[i0, jj, c] + fi * grid[i0 + 1, jj, c]) * inv_s
        for j in range(wl):
            j0 = cj[j]
            fj = cf[j]
            d0 = g[j0, 0] + fj * (g[j0 + 1, 0] - g[j0, 0])
            d1 = g[j0, 1] + fj * (g[j0 + 1, 1] - g[j0, 1])
            d2 = g[j0, 2] + fj * (g[j0 + 1, 2] - g[j0, 2])
            d3 = g[j0, 3] + fj * (g[j0 + 1, 3] - g[j0, 3])
            length = math.sqrt(d0 * d0 + d1 * d1) + math.sqrt(d2 * d2 + d3 * d3)
            wc = 0.0
            if length * s > w0:
                wc = min((length * s - w0) / (w1 - w0), 1.0)
            far[0] = 0.0
            far[1] = 0.0
            far[2] = 0.0
            if wc > 0.0:
                _tap(coarse, (j + 0.5) / ratio - 0.5, (i + 0.5) / ratio - 0.5, far)
            acc[0] = 0.0
            acc[1] = 0.0
            acc[2] = 0.0
            n = max(1, min(max_taps, int(math.ceil(length))))
            if wc >= 1.0:
                pass
            elif n == 1:  # the one tap is the pixel itself (the middle of the exposure)
                for c in range(3):
                    acc[c] = low[i, j, c]
            else:
                for k in range(n):
                    u = 2.0 * (k + 0.5) / n
                    if u < 1.0:
                        _tap(low, j + (1.0 - u) * d0, i + (1.0 - u) * d1, acc)
                    else:
                        _tap(low, j + (u - 1.0) * d2, i + (u - 1.0) * d3, acc)
                for c in range(3):
                    acc[c] /= n
            for c in range(3):
                lic[i, j, c] = (1.0 - wc) * acc[c] + wc * far[c]


def _lic_numpy(low, field: MotionField, s, max_taps, coarse=None, ratio=1.0, w0=math.inf, w1=math.inf):
    hl, wl = low.shape[:2]
    yy, xx = np.mgrid[0:hl, 0:wl].astype(float)
    d = field.at((xx + 0.5) * s - 0.5, (yy + 0.5) * s - 0.5) / s
    length = np.hypot(d[..., 0], d[..., 1]) + np.hypot(d[..., 2], d[..., 3])
    n = np.maximum(1, np.minimum(int(max_taps), np.ceil(length).astype(np.int64)))
    acc = np.zeros((hl, wl, 3))
    for k in range(int(n.max(initial=1))):
        use = k < n
        u = 2.0 * (k + 0.5) / n[use]
        first = u < 1.0
        a = np.where(first, 1.0 - u, u - 1.0)
        du = d[use]
        x = np.clip(xx[use] + a * np.where(first, du[:, 0], du[:, 2]), 0.0, wl - 1.0)
        y = np.clip(yy[use] + a * np.where(first, du[:, 1], du[:, 3]), 0.0, hl - 1.0)
        acc[use] += _bilinear(low, x, y)
    single = n == 1
    acc[single] = low[single]  # one tap: the pixel itself, as the kernel
    acc /= np.where(single, 1, n)[..., None]
    if coarse is None:
        return acc
    wc = np.clip((length * s - w0) / (w1 - w0), 0.0, 1.0)[..., None]
    hc, wcols = coarse.shape[:2]
    far = _bilinear(coarse, np.clip((xx + 0.5) / ratio - 0.5, 0.0, wcols - 1.0),
                    np.clip((yy + 0.5) / ratio - 0.5, 0.0, hc - 1.0))
    return (1.0 - wc) * acc + wc * far


def _bilinear(img, x, y):
    h, w = img.shape[:2]
    j0 = np.minimum(x.astype(np.int64), max(w - 2, 0))
    i0 = np.minimum(y.astype(np.int64), max(h - 2, 0))
    j1, i1 = np.minimum(j0 + 1, w - 1), np.minimum(i0 + 1, h - 1)
    fx, fy = (x - j0)[..., None], (y - i0)[..., None]
    return (1 - fy) * ((1 - fx) * img[i0, j0] + fx * img[i0, j1]) + fy * ((1 - fx) * img[i1, j0] + fx * img[i1, j1])


@kernel(parallel=True)
def _up_kernel(lic, s, out):  # pragma: no cover - jit
    """Write `lic` (reduced by `s`) into `out` at full resolution, bilinear between block centres."""
    h, w = out.shape[0], out.shape[1]
    hl, wl = lic.shape[0], lic.shape[1]
    inv = 1.0 / s
    cj0 = np.empty(w, np.int64)
    cj1 = np.empty(w, np.int64)
    cfx = np.empty(w, np.float32)
    for j in range(w):
        x = min(max((j + 0.5) * inv - 0.5, 0.0), wl - 1.0)
        cj0[j] = min(int(x), max(wl - 2, 0))
        cj1[j] = min(cj0[j] + 1, wl - 1)
        cfx[j] = x - cj0[j]
    for k_row in nb.prange(h):
        i = spread_row(k_row, h)
        y = min(max((i + 0.5) * inv - 0.5, 0.0), hl - 1.0)
        i0 = min(int(y), max(hl - 2, 0))
        i1 = min(i0 + 1, hl - 1)
        fy = np.float32(y - i0)
        row = np.empty((wl, 3), np.float32)
        for j in range(wl):
            for c in range(3):
                row[j, c] = lic[i0, j, c] + fy * (lic[i1, j, c] - lic[i0, j, c])
        for j in range(w):
            j0, j1, fx = cj0[j], cj1[j], cfx[j]
            out[i, j, 0] = row[j0, 0] + fx * (row[j1, 0] - row[j0, 0])
            out[i, j, 1] = row[j0, 1] + fx * (row[j1, 1] - row[j0, 1])
            out[i, j, 2] = row[j0, 2] + fx * (row[j1, 2] - row[j0, 2])


def _up_numpy(lic, s, h, w):
    hl, wl = lic.shape[:2]
    y = np.clip((np.arange(h) + 0.5) / s - 0.5, 0.0, hl - 1.0)
    x = np.clip((np.arange(w) + 0.5) / s - 0.5, 0.0, wl - 1.0)
    return _bilinear(lic, x[None, :] + 0 * y[:, None], y[:, None] + 0 * x[None, :])


def smear_numpy(img: np.ndarray, field: MotionField, settings) -> np.ndarray:
    """Return `img` (H, W, 3) smeared along `field` as float32, with numpy only (the reference
    path of :func:`smear_in_place`)."""
    h, w = img.shape[:2]
    sf, sc = _levels(field, settings)
    low = _down_numpy(img.astype(np.float32), sf).astype(np.float32)
    taps = settings.smear_max_taps
    if sc > sf:
        coarse = _lic_numpy(_down_numpy(low, sc // sf), field, sc, taps)
        lic = _lic_numpy(low, field, sf, taps, coarse, sc / sf, *FOURFOLD_BELOW_PX)
    else:
        lic = _lic_numpy(low, field, sf, taps)
    return (_up_numpy(lic, sf, h, w) if sf > 1 else lic).astype(np.float32)


def smear_in_place(img: np.ndarray, field: MotionField, settings, pool=None) -> np.ndarray:
    """Smear `img` (H, W, 3) float32 along `field` in place (module docstring); return it.
    `pool` (a :class:`~cupola.camera.FramePool`) holds the reduced images between frames."""
    if use_twins():
        img[...] = smear_numpy(img, field, settings)
        return img
    h, w = img.shape[:2]
    sf, sc = _levels(field, settings)
    alloc = pool.get if pool is not None else (lambda name, sh, dt: np.empty(sh, dt))
    shape = (-(-h // sf), -(-w // sf), 3)
    low, lic = alloc("smear_low", shape, np.float32), alloc("smear_lic", shape, np.float32)
    grid, taps = np.ascontiguousarray(field.field), int(settings.smear_max_taps)
    _down_kernel(img, sf, low)
    if sc > sf:
        r = sc // sf
        cshape = (-(-shape[0] // r), -(-shape[1] // r), 3)
        low_c, coarse = alloc("smear_low_c", cshape, np.float32), alloc("smear_lic_c", cshape, np.float32)
        _down_kernel(low, r, low_c)
        _lic_kernel(low_c, grid, float(field.step), float(sc), taps, low_c, 1.0, math.inf, math.inf, coarse)
        _lic_kernel(low, grid, float(field.step), float(sf), taps, coarse, float(r),
                    *FOURFOLD_BELOW_PX, lic if sf > 1 else img)
    else:
        _lic_kernel(low, grid, float(field.step), float(sf), taps, low, 1.0, math.inf, math.inf, lic if sf > 1 else img)
    if sf > 1:
        _up_kernel(lic, float(sf), img)
    return img


__all__ = ["MotionField", "SMEARED_LAYERS", "SHELL_TOP_KM", "motion_field", "smear_bound_px", "smear_in_place",
           "smear_numpy", "smear_scale"]

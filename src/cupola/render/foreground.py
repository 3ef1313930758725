"""The Cupola's window frame as a dark foreground: an optional silhouette in camera coordinates.

The Cupola (ESA, built by Thales Alenia Space, on the ISS since February 2010) is a dome of seven
windows: a central circular window 80 cm (31 in) across, the largest flown, and six trapezoidal
side windows around it; the dome is 2.95 m across and 1.5 m tall (ESA, "Cupola: a window over the
Earth"; NASA ISS reference guide; Guinness World Records, "Largest window in space").
``render(..., settings=RenderSettings(window_frame=True))`` multiplies the frame's luminance by
:func:`window_mask`, the fraction of each pixel's view that passes the windows, for a camera on
the central window's axis looking straight out of it, its entrance pupil
``settings.window_distance_m`` behind the pane.

Geometry (Cupola frame: z out of the central window, the camera at z = -d on the axis):

* the central window: a clear disc of radius :data:`CENTRAL_RADIUS_M` (0.40 m, published) in the
  plane z = 0, inside an opaque ring out to :data:`RING_RADIUS_M`;
* the side windows: six trapezoids on a conical band from that ring (z = 0) down to radius
  :data:`BAND_BASE_RADIUS_M` at z = -:data:`BAND_DEPTH_M`, each spanning 60 deg of azimuth less a
  mullion of :data:`MULLION_M`, with :data:`SILL_M` of frame along its top and bottom edges (one
  side window centred at the top of the image, ``settings.window_roll_deg`` turns them);
* everything else (below the band) is the cabin: opaque.

Only the central window's diameter and the dome's size are published; the ring, the band, the
mullions and the sills are assumed values scaled from NASA's photographs of the Cupola, so the
side windows are a sketch of the real ones. The camera is focused at infinity, so the frame, a
fraction of a metre away, is far out of focus: its blur disc spans (focal length / f-number) / d
of angle (a 24 mm f/1.4 lens 0.5 m behind the window: ~2 deg, 44 px across on a 1920 px frame). The
mask is traced on a grid of every :data:`MASK_STEP_PX`-th pixel, blurred by that disc there and
interpolated bilinearly; it is cached per camera and settings. The frame is drawn dark: the
cabin lights and the Earth's light on the frame's inside are left out.
"""

from __future__ import annotations

import functools
import math

import numpy as np

CENTRAL_RADIUS_M = 0.40  # published: the central window is 80 cm across
RING_RADIUS_M = 0.50  # assumed: the opaque ring around it
BAND_BASE_RADIUS_M = 1.10  # assumed: the side windows' band ends here (the dome is 2.95 m across)...
BAND_DEPTH_M = 0.50  # ...this far below the central window's plane (the dome is 1.5 m tall)
MULLION_M = 0.10  # assumed: the frame between two side windows
SILL_M = 0.06  # assumed: the frame along a side window's top and bottom edges
MASK_STEP_PX = 2


def clear_fraction(u, v, distance_m: float, roll_deg: float = 0.0) -> np.ndarray:
    """Return 1 where the ray of normalised image coordinates (`u`, `v`) = ((x - cx) / f,
    (y - cy) / f) from a camera `distance_m` behind the central window passes a window, else 0
    (module docstring; no defocus)."""
    u, v = np.asarray(u, float), np.asarray(v, float)
    q = np.hypot(u, v)  # tan of the angle off the axis
    d = float(distance_m)
    clear = q * d < CENTRAL_RADIUS_M  # reaches the central window's plane inside its disc
    # Otherwise the ray meets the conical band (r = r1 + k (-z)) at z = -d + t, r = t q.
    k = (BAND_BASE_RADIUS_M - RING_RADIUS_M) / BAND_DEPTH_M
    t = (RING_RADIUS_M + k * d) / (q + k)
    z = t - d
    on_band = (z <= 0.0) & (z >= -BAND_DEPTH_M)
    s = -z / BAND_DEPTH_M  # 0 at the ring, 1 at the band's base
    r = RING_RADIUS_M + k * (-z)
    slant = BAND_DEPTH_M * math.hypot(1.0, k)  # the band's length along the cone
    sill_ok = (s * slant > SILL_M) & ((1.0 - s) * slant > SILL_M)
    # Azimuth from the image's top (v < 0), turned by the roll; side windows centred every 60 deg.
    phi = np.arctan2(u, -v) - math.radians(roll_deg)
    off = np.abs((phi + math.pi / 6.0) % (math.pi / 3.0) - math.pi / 6.0)  # from a window's centre
    with np.errstate(divide="ignore", invalid="ignore"):
        mullion_ok = off < math.pi / 6.0 - 0.5 * MULLION_M / r
    side = on_band & sill_ok & mullion_ok & ~(q * d < RING_RADIUS_M)
    return (clear | side).astype(np.float32)


def blur_radius_px(focal_px: float, focal_mm: float, f_number: float, distance_m: float) -> float:
    """Return the radius (px) of the blur disc of a point `distance_m` away through a lens focused at
    infinity: half its aperture (focal length / f-number) over the distance, times `focal_px`."""
    return 0.5 * float(focal_px) * (float(focal_mm) / float(f_number) / 1000.0) / float(distance_m)


def _disc_blur(img: np.ndarray, radius: float) -> np.ndarray:
    """Return `img` (2-D) convolved with a normalised disc of `radius` px (edges held)."""
    r = int(math.ceil(radius))
    if r < 1:
        return img
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    kern = (xx * xx + yy * yy <= radius * radius).astype(float)
    kern /= kern.sum()
    pad = np.pad(img, r, mode="edge")
    f = np.fft.rfft2(pad)
    kp = np.zeros_like(pad)
    kp[:kern.shape[0], :kern.shape[1]] = kern
    kp = np.roll(kp, (-r, -r), axis=(0, 1))
    return np.fft.irfft2(f * np.fft.rfft2(kp), s=pad.shape)[r:-r, r:-r]


@functools.lru_cache(maxsize=4)
def _mask(width_px, height_px, focal_px, cx, cy, focal_mm, f_number, distance_m, roll_deg) -> np.ndarray:
    step = MASK_STEP_PX
    ys = np.arange(-(-height_px // step) + 1) * float(step)
    xs = np.arange(-(-width_px // step) + 1) * float(step)
    grid = clear_fraction((xs[None, :] - cx) / focal_px, (ys[:, None] - cy) / focal_px, distance_m, roll_deg)
    radius = blur_radius_px(focal_px, focal_mm, f_number, distance_m) / step
    grid = np.clip(_disc_blur(grid.astype(float), radius), 0.0, 1.0)
    gy, gx = np.arange(height_px) / step, np.arange(width_px) / step
    i0, j0 = np.minimum(gy.astype(int), grid.shape[0] - 2), np.minimum(gx.astype(int), grid.shape[1] - 2)
    fy, fx = (gy - i0)[:, None], (gx - j0)[None, :]
    top = grid[i0][:, j0] * (1 - fx) + grid[i0][:, j0 + 1] * fx
    bot = grid[i0 + 1][:, j0] * (1 - fx) + grid[i0 + 1][:, j0 + 1] * fx
    out = (top * (1 - fy) + bot * fy).astype(np.float32)
    out.setflags(write=False)
    return out


def window_mask(camera, settings) -> np.ndarray:
    """Return the (H, W) float32 fraction of each pixel's light that passes the Cupola's windows
    (module docstring), defocused; read-only and cached."""
    cx, cy = camera.principal_point
    return _mask(int(camera.width_px), int(camera.height_px), float(camera.focal_px), float(cx), float(cy),
                 float(camera.effective_focal_mm), float(camera.f_number), float(settings.window_distance_m),
                 float(settings.window_roll_deg))


__all__ = ["window_mask", "clear_fraction", "blur_radius_px", "CENTRAL_RADIUS_M", "RING_RADIUS_M"]

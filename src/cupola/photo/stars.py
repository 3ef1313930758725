"""Stars in a photograph: which pixels may show sky, and the star images found there.

Model and method
----------------
- **Brightness** is the photograph's luma Y' = 0.299 R' + 0.587 G' + 0.114 B' (ITU-R BT.601 on
  the stored sRGB code values): the Y channel a JPEG keeps at full resolution (its chroma is
  subsampled), in code values (DN, 0-255). Detection works on Y' smoothed by the 3x3 binomial
  kernel ([1, 2, 1] / 4 in each direction), a cheap matched filter for star images of 1-3 px
  that also spreads single-pixel noise.
- **Background and noise** per block of :data:`BLOCK_PX` pixels: the median of the smoothed
  luma and 1.4826 x its median absolute deviation (both over every second pixel in each
  direction), bilinearly interpolated between block centres. Heavily compressed JPEGs have flat
  8x8 blocks (a deviation of 0), so the noise has a floor (:data:`NOISE_FLOOR_DN`) and the
  thresholds a floor in DN.
- **The sky mask** (:func:`sky_mask`) marks the blocks that cannot show stars: bright ones
  (median more than :data:`SKY_EXCESS_DN` above the darkest sky, or above :data:`SKY_MAX_DN`),
  textured ones (noise above :data:`TEXTURE_DN` or four times the dark sky's): the Earth, the
  aurora, station structure, solar arrays, window reflections. Isolated single flagged blocks (a
  planet, a very bright star) are given back, the flagged area is grown by one block (edges,
  glow, compression ringing), and sky pieces smaller than :data:`MIN_SKY_FRACTION` of the frame
  (gaps in the structure) are dropped. A model Earth mask (where the Earth and limb are, from the
  orbit and attitude) is added when given.
- **Detection** (:func:`detect_stars`) with a high threshold and hysteresis: a source is a
  connected region (8-neighbours) of smoothed residual above the low threshold (max(K_LOW
  sigma, LOW_FLOOR_DN)) holding at least one pixel above the high threshold (max(K_HIGH sigma,
  HIGH_FLOOR_DN)); real JPEGs give thousands of false detections at 5 sigma. Regions are found
  by run-length labelling with union-find (one numba pass; scipy.ndimage.label in the numpy
  twin). Rejected: regions touching non-sky pixels, fewer than ``min_pixels`` pixels, a peak
  sharper than ``max_sharpness`` ((peak - mean of its 8 neighbours) / peak: hot pixels, single
  pixels of noise), more than ``max_pixels``, and saturated blobs wider than
  ``max_saturated_width_px`` (lights, reflections, the Moon).
- **Measures** from the unsmoothed residual Y' - background: the flux (sum over the core), the
  centroid weighted by (residual - half the peak) over the core (the pixels above half the
  peak; a trail's centroid is its middle: the mid-exposure position) and the FWHM across,
  ``width_px``, from that core's minor-axis variance (:data:`CORE_FWHM`); the trail from the
  whole region's residual-weighted second moments, eigenvalues l1 >= l2 and the major axis'
  direction: a segment of length L blurred by any PSF has variance L^2 / 12 + s^2 along it and
  s^2 across, so L = sqrt(12 (l1 - l2)) (the core's moments would shorten it: its ends taper
  below half the peak). ``length_px`` is L + width, so a round star has length == width.

What it leaves out: colour (stars and noise are told apart by shape, not hue), deblending of
close pairs (a merged pair is one source at their mean), PSF fitting (moments are within ~0.1 px
of a fit for isolated stars and robust to JPEG blocking), and the non-linearity of the sRGB
curve and of the camera's tone curve (fluxes rank stars; they are not photometry).

Kernels follow :mod:`cupola.jit` with numpy twins (``CUPOLA_NO_JIT=1``). Memory: one float32
frame of smoothed luma, one uint8 code frame and the block grids; a 24 MP frame takes ~120 MB.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numba as nb
import numpy as np

from ..errors import InputError
from ..jit import inline, kernel, twin

LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601: JPEG's Y' channel
BLOCK_PX = 32  # background/noise block
NOISE_FLOOR_DN = 0.5  # noise floor of the smoothed luma (flat JPEG blocks give a deviation of 0)
# Detection thresholds on the smoothed residual (sigma of the smoothed luma, DN floors).
K_HIGH = 8.0
HIGH_FLOOR_DN = 10.0
K_LOW = 3.0
LOW_FLOOR_DN = 4.0
SATURATED_DN = 250  # a channel at or above this is taken as clipped
# A round Gaussian star's FWHM from the per-axis variance v of its core weighted by (value - half
# the peak): v = 0.21717 sigma^2 (integrating (exp(-r^2/2) - 1/2) r^2 over r < sqrt(2 ln 2)), so
# FWHM = 2.3548 sigma = 5.053 sqrt(v).
CORE_FWHM = 2.0 * math.sqrt(2.0 * math.log(2.0)) / math.sqrt(
    0.5 * 2.0 * ((0.5 - 0.5 * math.log(2.0)) - 0.25 * math.log(2.0) ** 2) / (0.5 - 0.5 * math.log(2.0)))
# Sky mask (block statistics of the smoothed luma, DN).
SKY_EXCESS_DN = 40.0  # brighter than the darkest sky by more than this: not sky
SKY_MAX_DN = 80.0  # brighter than this: not sky, however dark the rest
TEXTURE_DN = 4.0  # noisier than this (and than 4x the dark sky's noise): structure, clouds
MIN_SKY_FRACTION = 0.002  # sky pieces smaller than this share of the frame are dropped
CODE_LOW, CODE_HIGH, CODE_MASKED = 1, 2, 4  # bits of the per-pixel detection code


@dataclass(frozen=True, eq=False)
class Sources:
    """Detected star images, brightest (largest flux) first; arrays of equal length.

    Pixel convention: array index (row y, column x), pixel centres at integers. ``angle_deg``
    is the major axis' direction from +x toward +y (image down), in [0, 180).
    """

    x_px: np.ndarray  # flux-weighted centroid (a trail's middle: mid-exposure)
    y_px: np.ndarray
    flux: np.ndarray  # sum of luma above the background (DN)
    peak: np.ndarray  # highest luma above the background (DN)
    length_px: np.ndarray  # major-axis extent: trail length + width
    width_px: np.ndarray  # FWHM across the major axis
    angle_deg: np.ndarray
    npix: np.ndarray  # pixels in the region
    saturated: np.ndarray  # bool: a channel clipped in the region
    sharpness: np.ndarray  # (peak - mean of the 8 neighbours) / peak
    background_dn: np.ndarray  # local background luma
    noise_dn: np.ndarray  # local noise (sigma) of the smoothed luma
    width_image_px: int = 0
    height_image_px: int = 0

    def __len__(self) -> int:
        return int(self.x_px.size)

    @property
    def trail_px(self) -> np.ndarray:
        """Return the trail length (px): length - width (0 for a round star)."""
        return self.length_px - self.width_px

    def subset(self, index) -> "Sources":
        """Return the sources selected by `index` (integer indices or a boolean mask)."""
        kw = {f.name: getattr(self, f.name) for f in fields(self)}
        for k, v in kw.items():
            if isinstance(v, np.ndarray):
                kw[k] = v[index]
        return Sources(**kw)


# -- luma, smoothed ------------------------------------------------------------------------------
def _smoothed_luma_numpy(rgb, out):
    """numpy twin of :func:`_smoothed_luma`: rows in chunks, edges clamped."""
    h = rgb.shape[0]
    w0, w1, w2 = LUMA
    chunk = 512
    for a in range(0, h, chunk):
        b = min(h, a + chunk)
        lo, hi = max(0, a - 1), min(h, b + 1)
        y = rgb[lo:hi, :, 0] * np.float32(w0) + rgb[lo:hi, :, 1] * np.float32(w1) + rgb[lo:hi, :, 2] * np.float32(w2)
        y = y.astype(np.float32)
        top = y[:1] if a == 0 else np.empty((0, y.shape[1]), np.float32)
        bot = y[-1:] if b == h else np.empty((0, y.shape[1]), np.float32)
        y = np.concatenate([top, y, bot])  # one clamped row each side
        v = (y[:-2] + 2.0 * y[1:-1] + y[2:]) * np.float32(0.25)
        v = np.concatenate([v[:, :1], v, v[:, -1:]], axis=1)
        out[a:b] = (v[:, :-2] + 2.0 * v[:, 1:-1] + v[:, 2:]) * np.float32(0.25)


@twin(_smoothed_luma_numpy)
@kernel(parallel=True)
def _smoothed_luma(rgb, out):  # pragma: no cover - jit
    """out = the BT.601 luma of `rgb` (H, W, 3) uint8 smoothed by the 3x3 binomial kernel."""
    h, w = rgb.shape[0], rgb.shape[1]
    w0, w1, w2 = np.float32(LUMA[0]), np.float32(LUMA[1]), np.float32(LUMA[2])
    for i in nb.prange(h):
        v = np.empty(w, np.float32)
        i0 = max(i - 1, 0)
        i2 = min(i + 1, h - 1)
        for j in range(w):
            a = rgb[i0, j, 0] * w0 + rgb[i0, j, 1] * w1 + rgb[i0, j, 2] * w2
            b = rgb[i, j, 0] * w0 + rgb[i, j, 1] * w1 + rgb[i, j, 2] * w2
            c = rgb[i2, j, 0] * w0 + rgb[i2, j, 1] * w1 + rgb[i2, j, 2] * w2
            v[j] = (a + 2.0 * b + c) * np.float32(0.25)
        for j in range(w):
            left = v[max(j - 1, 0)]
            right = v[min(j + 1, w - 1)]
            out[i, j] = (left + 2.0 * v[j] + right) * np.float32(0.25)


def smoothed_luma(rgb) -> np.ndarray:
    """Return the smoothed BT.601 luma (H, W) float32 of an (H, W, 3) uint8 image (module docstring)."""
    rgb = _check_rgb(rgb)
    out = np.empty(rgb.shape[:2], np.float32)
    _smoothed_luma(rgb, out)
    return out


# -- block statistics ----------------------------------------------------------------------------
def _block_stats_numpy(img, bs, med, sig):
    """numpy twin of :func:`_block_stats` (median and 1.4826 MAD of every second pixel)."""
    nby, nbx = med.shape
    for by in range(nby):
        for bx in range(nbx):
            v = img[by * bs:(by + 1) * bs:2, bx * bs:(bx + 1) * bs:2].astype(np.float64).ravel()
            m = np.median(v)
            med[by, bx] = m
            sig[by, bx] = 1.4826 * np.median(np.abs(v - m))


@twin(_block_stats_numpy)
@kernel(parallel=True)
def _block_stats(img, bs, med, sig):  # pragma: no cover - jit
    """med, sig (nby, nbx) = median and 1.4826 x median absolute deviation of `img` over each
    block of bs x bs pixels (every second pixel in each direction; edge blocks are partial)."""
    h, w = img.shape
    nby, nbx = med.shape
    for by in nb.prange(nby):
        y0 = by * bs
        y1 = min(y0 + bs, h)
        buf = np.empty(((bs + 1) // 2) ** 2, np.float64)
        for bx in range(nbx):
            x0 = bx * bs
            x1 = min(x0 + bs, w)
            n = 0
            for i in range(y0, y1, 2):
                for j in range(x0, x1, 2):
                    buf[n] = img[i, j]
                    n += 1
            m = np.median(buf[:n])
            for k in range(n):
                buf[k] = abs(buf[k] - m)
            med[by, bx] = m
            sig[by, bx] = 1.4826 * np.median(buf[:n])


def block_stats(img, block_px: int = BLOCK_PX) -> tuple[np.ndarray, np.ndarray]:
    """Return (median, sigma) of `img` (H, W) over blocks of `block_px` (module docstring)."""
    h, w = img.shape
    nby, nbx = -(-h // block_px), -(-w // block_px)
    med = np.empty((nby, nbx), np.float64)
    sig = np.empty((nby, nbx), np.float64)
    _block_stats(np.ascontiguousarray(img), int(block_px), med, sig)
    return med, sig


# -- thresholds and codes ------------------------------------------------------------------------
def _grid_coords(n_px: int, bs: int, nb_: int):
    """Return, for pixel coordinates 0..n_px-1, the lower block index and the weight of the
    next one for bilinear interpolation between block centres (clamped at the edges)."""
    u = (np.arange(n_px) - (bs - 1) / 2.0) / bs
    u = np.clip(u, 0.0, nb_ - 1.0)
    i0 = np.minimum(np.floor(u).astype(np.int64), max(nb_ - 2, 0))
    return i0, (u - i0).astype(np.float64)


def _interp_rows(grid, i0, fy):
    nb_ = grid.shape[0]
    i1 = np.minimum(i0 + 1, nb_ - 1)
    return grid[i0] * (1.0 - fy)[:, None] + grid[i1] * fy[:, None]


def _classify_numpy(img, thr_lo, thr_hi, bg, bs, mask, code, runs):
    """numpy twin of :func:`_classify`."""
    h, w = img.shape
    nby, nbx = bg.shape
    iy, fy = _grid_coords(h, bs, nby)
    ix, fx = _grid_coords(w, bs, nbx)
    for a in range(0, h, 256):
        b = min(h, a + 256)

        def full(g):
            rows = _interp_rows(g, iy[a:b], fy[a:b])
            j1 = np.minimum(ix + 1, nbx - 1)
            return rows[:, ix] * (1.0 - fx) + rows[:, j1] * fx

        r = img[a:b] - full(bg)
        lo = r > full(thr_lo)
        hi = r > full(thr_hi)
        c = np.where(lo, CODE_LOW, 0) | np.where(lo & hi, CODE_HIGH, 0) | np.where(lo & ~mask[a:b], CODE_MASKED, 0)
        code[a:b] = c
        nz = c != 0
        starts = nz & ~np.concatenate([np.zeros((b - a, 1), bool), nz[:, :-1]], axis=1)
        runs[a:b] = starts.sum(axis=1)


@twin(_classify_numpy)
@kernel(parallel=True)
def _classify(img, thr_lo, thr_hi, bg, bs, mask, code, runs):  # pragma: no cover - jit
    """code (H, W) uint8: CODE_LOW where img - background > the low threshold, + CODE_HIGH
    above the high one, + CODE_MASKED where such a pixel is off the sky mask; runs[i] = the
    number of runs of non-zero code in row i. Grids are bilinear between block centres."""
    h, w = img.shape
    nby, nbx = bg.shape
    for i in nb.prange(h):
        u = (i - (bs - 1) / 2.0) / bs
        u = min(max(u, 0.0), nby - 1.0)
        y0 = min(int(math.floor(u)), max(nby - 2, 0))
        fy = u - y0
        y1 = min(y0 + 1, nby - 1)
        n_runs = 0
        prev = False
        for j in range(w):
            v = (j - (bs - 1) / 2.0) / bs
            v = min(max(v, 0.0), nbx - 1.0)
            x0 = min(int(math.floor(v)), max(nbx - 2, 0))
            fx = v - x0
            x1 = min(x0 + 1, nbx - 1)
            w00 = (1.0 - fy) * (1.0 - fx)
            w01 = (1.0 - fy) * fx
            w10 = fy * (1.0 - fx)
            w11 = fy * fx
            b = w00 * bg[y0, x0] + w01 * bg[y0, x1] + w10 * bg[y1, x0] + w11 * bg[y1, x1]
            r = img[i, j] - b
            tl = w00 * thr_lo[y0, x0] + w01 * thr_lo[y0, x1] + w10 * thr_lo[y1, x0] + w11 * thr_lo[y1, x1]
            c = 0
            if r > tl:
                c = CODE_LOW
                th = w00 * thr_hi[y0, x0] + w01 * thr_hi[y0, x1] + w10 * thr_hi[y1, x0] + w11 * thr_hi[y1, x1]
                if r > th:
                    c |= CODE_HIGH
                if not mask[i, j]:
                    c |= CODE_MASKED
            code[i, j] = c
            nz = c != 0
            if nz and not prev:
                n_runs += 1
            prev = nz
        runs[i] = n_runs


# -- connected regions and their moments --------------------------------------------------------
# Per-region sums, one row per region (columns of the `acc` array): over the whole region the
# pixel count, flux, peak and its place, flags; over its core (residual above half the peak) the
# moments weighted by (residual - half the peak).
_N, _FLUX, _PEAK, _PX, _PY, _HIGH, _MASKED, _SAT, _CW, _CX, _CY, _CXX, _CYY, _CXY, _CF = range(15)
_FX, _FY, _FXX, _FYY, _FXY = range(15, 20)  # the whole region's moments weighted by the (positive) residual
_NACC = 20


@inline
def _find(parent, k):  # pragma: no cover - jit
    while parent[k] != k:
        parent[k] = parent[parent[k]]
        k = parent[k]
    return k


@inline
def _grid_weights(t, bs, n_blocks):  # pragma: no cover - jit
    """Return (lower block, upper block, weight of the upper) for pixel coordinate `t`:
    bilinear between block centres, clamped at the edges (as :func:`_grid_coords`)."""
    u = (t - (bs - 1) / 2.0) / bs
    u = min(max(u, 0.0), n_blocks - 1.0)
    i0 = min(int(math.floor(u)), max(n_blocks - 2, 0))
    return i0, min(i0 + 1, n_blocks - 1), u - i0


@kernel()
def _regions(code, rgb, bg, bs, starts):  # pragma: no cover - jit
    """Return (acc (n, _NACC), n) of the 8-connected regions of non-zero `code`: run-length
    labelling with union-find, then two passes over the runs' pixels (the region's sums, then
    its core's moments) of the unsmoothed residual luma - background (bilinear). `starts`
    (H + 1) are the offsets of each row's runs (a cumulative sum of the per-row run counts)."""
    h, w = code.shape
    nby, nbx = bg.shape
    n_runs = starts[h]
    r0 = np.empty(n_runs, np.int64)
    r1 = np.empty(n_runs, np.int64)
    parent = np.arange(n_runs)
    for i in range(h):
        k = starts[i]
        j = 0
        while j < w:
            if code[i, j] != 0:
                a = j
                while j < w and code[i, j] != 0:
                    j += 1
                r0[k] = a
                r1[k] = j - 1
                k += 1
            else:
                j += 1
        if i > 0:  # join with the previous row's runs that touch (8-connectivity)
            p = starts[i - 1]
            pe = starts[i]
            for q in range(starts[i], starts[i + 1]):
                while p < pe and r1[p] < r0[q] - 1:
                    p += 1
                t = p
                while t < pe and r0[t] <= r1[q] + 1:
                    ra = _find(parent, q)
                    rb = _find(parent, t)
                    if ra < rb:
                        parent[rb] = ra
                    elif rb < ra:
                        parent[ra] = rb
                    t += 1
    label = np.full(n_runs, -1, np.int64)
    n = 0
    for k in range(n_runs):  # a root is its region's first run: regions numbered in raster order
        root = _find(parent, k)
        if label[root] < 0:
            label[root] = n
            n += 1
        label[k] = label[root]
    acc = np.zeros((n, _NACC), np.float64)
    for c in range(n):
        acc[c, _PEAK] = -1e30
    w0, w1, w2 = LUMA
    for second in (False, True):
        for i in range(h):
            y0, y1, fy = _grid_weights(i, bs, nby)
            for k in range(starts[i], starts[i + 1]):
                c = label[k]
                half = 0.5 * acc[c, _PEAK]
                for j in range(r0[k], r1[k] + 1):
                    x0, x1, fx = _grid_weights(j, bs, nbx)
                    b = ((1.0 - fy) * ((1.0 - fx) * bg[y0, x0] + fx * bg[y0, x1])
                         + fy * ((1.0 - fx) * bg[y1, x0] + fx * bg[y1, x1]))
                    rr, gg, bb = rgb[i, j, 0], rgb[i, j, 1], rgb[i, j, 2]
                    r = rr * w0 + gg * w1 + bb * w2 - b
                    if second:
                        if r > half:
                            wt = r - half
                            acc[c, _CF] += r
                            acc[c, _CW] += wt
                            acc[c, _CX] += wt * j
                            acc[c, _CY] += wt * i
                            acc[c, _CXX] += wt * j * j
                            acc[c, _CYY] += wt * i * i
                            acc[c, _CXY] += wt * i * j
                        continue
                    acc[c, _N] += 1.0
                    if r > 0.0:
                        acc[c, _FLUX] += r
                        acc[c, _FX] += r * j
                        acc[c, _FY] += r * i
                        acc[c, _FXX] += r * j * j
                        acc[c, _FYY] += r * i * i
                        acc[c, _FXY] += r * i * j
                    if r > acc[c, _PEAK]:
                        acc[c, _PEAK] = r
                        acc[c, _PX] = j
                        acc[c, _PY] = i
                    cc = code[i, j]
                    if cc & CODE_HIGH:
                        acc[c, _HIGH] = 1.0
                    if cc & CODE_MASKED:
                        acc[c, _MASKED] = 1.0
                    if rr >= SATURATED_DN or gg >= SATURATED_DN or bb >= SATURATED_DN:
                        acc[c, _SAT] = 1.0
    return acc, n


def _regions_numpy(code, rgb, bg, bs, starts):
    """numpy twin of :func:`_regions`: scipy.ndimage.label (8-connectivity) and bincounts over
    the labelled pixels."""
    from scipy import ndimage as ndi

    lab, n = ndi.label(code != 0, structure=np.ones((3, 3), bool))
    flat = np.flatnonzero(lab)
    h, w = code.shape
    ys, xs = np.divmod(flat, w)
    ids = lab.ravel()[flat] - 1
    # Regions numbered in raster order of their first pixel, as the kernel does.
    first = np.full(n, flat.size, np.int64)
    np.minimum.at(first, ids, np.arange(flat.size))
    rank = np.empty(n, np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(n)
    ids = rank[ids]
    r = rgb.reshape(-1, 3)[flat].astype(np.float64) @ np.array(LUMA) - _bilinear_at(bg, bs, xs, ys)
    acc = np.zeros((n, _NACC))
    acc[:, _N] = np.bincount(ids, minlength=n)
    rp = np.maximum(r, 0.0)
    acc[:, _FLUX] = np.bincount(ids, rp, n)
    for col, val in ((_FX, rp * xs), (_FY, rp * ys), (_FXX, rp * xs * xs), (_FYY, rp * ys * ys), (_FXY, rp * ys * xs)):
        acc[:, col] = np.bincount(ids, val, n)
    # The peak: the first pixel (raster order) with the region's largest residual.
    order = np.lexsort((np.arange(flat.size), -r, ids))
    top = order[np.r_[True, ids[order][1:] != ids[order][:-1]]] if flat.size else order
    acc[ids[top], _PEAK] = r[top]
    acc[ids[top], _PX] = xs[top]
    acc[ids[top], _PY] = ys[top]
    core = r > 0.5 * acc[ids, _PEAK]
    wt = np.where(core, r - 0.5 * acc[ids, _PEAK], 0.0)
    acc[:, _CF] = np.bincount(ids, np.where(core, r, 0.0), n)
    for col, val in ((_CW, wt), (_CX, wt * xs), (_CY, wt * ys), (_CXX, wt * xs * xs), (_CYY, wt * ys * ys),
                     (_CXY, wt * ys * xs)):
        acc[:, col] = np.bincount(ids, val, n)
    c = code.ravel()[flat]
    sat = (rgb.reshape(-1, 3)[flat] >= SATURATED_DN).any(axis=1)
    for col, flag in ((_HIGH, (c & CODE_HIGH) != 0), (_MASKED, (c & CODE_MASKED) != 0), (_SAT, sat)):
        acc[:, col] = np.bincount(ids, flag, n) > 0
    return acc, n


_regions_call = twin(_regions_numpy)(_regions)


def _axes(sums: np.ndarray):
    """Return (x, y, l1, l2, angle_deg) of weighted pixel sums (n, 6): weight, x, y, xx, yy, xy.
    l1 >= l2 are the variances along the major and minor axes; the angle is the major axis'
    direction from +x toward +y in [0, 180)."""
    sw = np.where(sums[:, 0] > 0, sums[:, 0], np.nan)
    x = sums[:, 1] / sw
    y = sums[:, 2] / sw
    vxx = np.maximum(sums[:, 3] / sw - x * x, 0.0)
    vyy = np.maximum(sums[:, 4] / sw - y * y, 0.0)
    vxy = sums[:, 5] / sw - x * y
    half = 0.5 * (vxx + vyy)
    d = np.sqrt((0.5 * (vxx - vyy)) ** 2 + vxy ** 2)
    angle = (0.5 * np.degrees(np.arctan2(2.0 * vxy, vxx - vyy))) % 180.0
    return x, y, half + d, np.maximum(half - d, 0.0), angle


def _sharpness(rgb, bg_at_peak, px, py) -> np.ndarray:
    """Return (peak - mean of its 8 neighbours) / peak of the unsmoothed luma residual at
    pixels (px, py); 0 where the peak is not positive. Edges are clamped."""
    h, w = rgb.shape[:2]
    luma = np.array(LUMA)
    dy, dx = np.mgrid[-1:2, -1:2]
    yy = np.clip(py[:, None] + dy.ravel()[None], 0, h - 1)
    xx = np.clip(px[:, None] + dx.ravel()[None], 0, w - 1)
    vals = rgb[yy, xx].astype(np.float64) @ luma - bg_at_peak[:, None]  # (n, 9), centre at 4
    peak = vals[:, 4]
    around = (vals.sum(axis=1) - peak) / 8.0
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(peak > 0, (peak - around) / peak, 0.0)
    return s


def _bilinear_at(grid, bs, x, y) -> np.ndarray:
    """Return `grid` (block values) interpolated at pixel coordinates (x, y) (integer arrays)."""
    nby, nbx = grid.shape
    iy, fy = _grid_coords(int(y.max()) + 1 if y.size else 1, bs, nby)
    ix, fx = _grid_coords(int(x.max()) + 1 if x.size else 1, bs, nbx)
    gy, gx, wy, wx = iy[y], ix[x], fy[y], fx[x]
    y1, x1 = np.minimum(gy + 1, nby - 1), np.minimum(gx + 1, nbx - 1)
    return ((1 - wy) * ((1 - wx) * grid[gy, gx] + wx * grid[gy, x1])
            + wy * ((1 - wx) * grid[y1, gx] + wx * grid[y1, x1]))


def _check_rgb(rgb) -> np.ndarray:
    a = np.asarray(rgb)
    if a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8 or a.shape[0] < 8 or a.shape[1] < 8:
        raise InputError(f"a photograph's pixels are an (H, W, 3) uint8 array of at least 8x8, got "
                         f"{a.dtype} {a.shape}; read one with cupola.photo.metadata.load_pixels(path)", param="rgb")
    return np.ascontiguousarray(a)


def _check_mask(mask, shape, what: str) -> np.ndarray:
    m = np.asarray(mask)
    if m.shape != shape:
        raise InputError(f"{what} must be a boolean array shaped like the image {shape}, got {m.shape}",
                         param=what.split()[0])
    return np.ascontiguousarray(m.astype(bool, copy=False))


# -- the sky mask --------------------------------------------------------------------------------
def _grow(flags: np.ndarray, n: int = 1) -> np.ndarray:
    """Return `flags` (2-D bool) grown by `n` cells (8-neighbours)."""
    from scipy import ndimage as ndi

    return ndi.binary_dilation(flags, structure=np.ones((3, 3), bool), iterations=n) if n > 0 else flags


def frame_stats(rgb, block_px: int = BLOCK_PX) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (smoothed luma (H, W) float32, block median, block sigma) of `rgb`: what
    :func:`sky_mask` and :func:`detect_stars` both start from, so a caller running both computes it
    once (their `stats` argument)."""
    s = smoothed_luma(rgb)
    med, sig = block_stats(s, block_px)
    return s, med, sig


def _stats_for(rgb, stats, block_px: int):
    if stats is None:
        return frame_stats(rgb, block_px)
    s, med, sig = stats
    nb_ = (-(-rgb.shape[0] // block_px), -(-rgb.shape[1] // block_px))
    if s.shape != rgb.shape[:2] or med.shape != nb_ or sig.shape != nb_:
        raise InputError(f"stats are not those of this image with {block_px} px blocks (luma {s.shape}, blocks "
                         f"{med.shape}); make them with frame_stats(rgb, block_px)", param="stats")
    return s, med, sig


def sky_mask(rgb, *, earth_mask=None, block_px: int = BLOCK_PX, margin_blocks: int = 1, stats=None) -> np.ndarray:
    """Return the pixels that may show stars: bool (H, W), True on open sky.

    Image analysis by blocks of `block_px` (module docstring): bright or textured blocks (the
    Earth, aurora, station structure, solar arrays, reflections) are not sky, grown by
    `margin_blocks`; sky pieces smaller than :data:`MIN_SKY_FRACTION` of the frame are dropped.

    Args:
        rgb: the photograph (H, W, 3) uint8.
        earth_mask: optional bool (H, W), True where the model puts the Earth and its limb glow
            (from the orbit and the attitude); those pixels and their blocks' neighbours are
            never sky.
        block_px: block size (px).
        margin_blocks: how many blocks the flagged area grows by.
        stats: :func:`frame_stats` of `rgb`, when already computed.
    """
    rgb = _check_rgb(rgb)
    h, w = rgb.shape[:2]
    _, med, sig = _stats_for(rgb, stats, block_px)
    flagged = _bright_or_textured(med, sig)
    if earth_mask is not None:
        e = _check_mask(earth_mask, (h, w), "earth_mask")
        nby, nbx = med.shape
        pad = np.zeros((nby * block_px, nbx * block_px), bool)
        pad[:h, :w] = e
        flagged |= pad.reshape(nby, block_px, nbx, block_px).any(axis=(1, 3))
    flagged = _grow(flagged, margin_blocks)
    sky = _drop_small(~flagged, MIN_SKY_FRACTION * flagged.size)
    return np.repeat(np.repeat(sky, block_px, axis=0), block_px, axis=1)[:h, :w]


def _bright_or_textured(med: np.ndarray, sig: np.ndarray) -> np.ndarray:
    """Return the blocks that cannot be sky: bright or textured, less isolated single blocks."""
    from scipy import ndimage as ndi

    dark = med <= np.percentile(med, 10.0)
    sky_level = float(np.median(med[dark]))
    sky_noise = float(np.median(sig[dark]))
    flagged = (med > sky_level + SKY_EXCESS_DN) | (med > SKY_MAX_DN) | (sig > max(TEXTURE_DN, 4.0 * sky_noise))
    # A lone flagged block among sky is a bright star or planet, not structure.
    neighbours = ndi.convolve(flagged.astype(np.int32), np.ones((3, 3), np.int32), mode="constant") - flagged
    return flagged & ~((neighbours == 0) & flagged)


def _drop_small(sky: np.ndarray, min_blocks: float) -> np.ndarray:
    from scipy import ndimage as ndi

    lab, n = ndi.label(sky)
    if n == 0:
        return sky
    sizes = np.bincount(lab.ravel(), minlength=n + 1)
    keep = sizes >= min_blocks
    keep[0] = False
    return keep[lab]


# -- detection -----------------------------------------------------------------------------------
def detect_stars(rgb, mask=None, *, block_px: int = BLOCK_PX, k_high: float = K_HIGH,
                 high_floor_dn: float = HIGH_FLOOR_DN, k_low: float = K_LOW, low_floor_dn: float = LOW_FLOOR_DN,
                 min_pixels: int = 3, max_pixels: int = 20_000, max_sharpness: float = 0.7,
                 max_width_px: float = 6.0, max_saturated_width_px: float = 12.0,
                 max_sources: int | None = None, stats=None) -> Sources:
    """Return the star images in `rgb` where `mask` is True, brightest first (module docstring).

    Args:
        rgb: the photograph (H, W, 3) uint8.
        mask: bool (H, W), True where stars may be (:func:`sky_mask`); None: everywhere.
        block_px: background/noise block size (px).
        k_high, high_floor_dn: the high (detection) threshold: max(k_high sigma, floor) above the
            background of the smoothed luma.
        k_low, low_floor_dn: the low threshold that outlines each source.
        min_pixels, max_pixels: bounds of a source's area (px).
        max_sharpness: sources with a sharper peak are hot pixels or noise.
        max_width_px: unsaturated sources wider than this across (FWHM) are flat JPEG blocks,
            merged faint groups or nebulae.
        max_saturated_width_px: saturated sources wider than this (FWHM) are lights, not stars.
        max_sources: keep at most this many (the brightest).
        stats: :func:`frame_stats` of `rgb`, when already computed.
    """
    rgb = _check_rgb(rgb)
    h, w = rgb.shape[:2]
    m = np.ones((h, w), bool) if mask is None else _check_mask(mask, (h, w), "mask")
    s, bg, sig = _stats_for(rgb, stats, block_px)
    sig = np.maximum(sig, NOISE_FLOOR_DN)
    thr_hi = np.maximum(k_high * sig, high_floor_dn)
    thr_lo = np.maximum(k_low * sig, low_floor_dn)
    code = np.empty((h, w), np.uint8)
    runs = np.empty(h, np.int64)
    _classify(s, thr_lo, thr_hi, bg, int(block_px), m, code, runs)
    del s
    starts = np.zeros(h + 1, np.int64)
    np.cumsum(runs, out=starts[1:])
    acc, n = _regions_call(code, rgb, bg, int(block_px), starts)
    acc = acc[:n]
    keep = (acc[:, _HIGH] > 0) & (acc[:, _MASKED] == 0) & (acc[:, _CW] > 0)
    keep &= (acc[:, _N] >= min_pixels) & (acc[:, _N] <= max_pixels)
    acc = acc[keep]
    x, y, c1, c2, _ = _axes(acc[:, [_CW, _CX, _CY, _CXX, _CYY, _CXY]])
    _, _, l1, l2, angle = _axes(acc[:, [_FLUX, _FX, _FY, _FXX, _FYY, _FXY]])
    width = CORE_FWHM * np.sqrt(c2)
    length = np.sqrt(12.0 * np.maximum(l1 - l2, 0.0)) + width
    px = acc[:, _PX].astype(np.int64)
    py = acc[:, _PY].astype(np.int64)
    bg_pk = _bilinear_at(bg, block_px, px, py)
    sharp = _sharpness(rgb, bg_pk, px, py)
    sat = acc[:, _SAT] > 0
    ok = (sharp <= max_sharpness) & np.where(sat, width <= max_saturated_width_px, width <= max_width_px)
    flux = acc[:, _CF]
    order = np.flatnonzero(ok)[np.argsort(-flux[ok], kind="stable")]
    if max_sources is not None:
        order = order[:max(0, int(max_sources))]
    noise = _bilinear_at(sig, block_px, px, py)
    return Sources(x_px=x[order], y_px=y[order], flux=flux[order], peak=acc[order, _PEAK], length_px=length[order],
                   width_px=width[order], angle_deg=angle[order], npix=acc[order, _N].astype(np.int64),
                   saturated=sat[order], sharpness=sharp[order], background_dn=bg_pk[order], noise_dn=noise[order],
                   width_image_px=w, height_image_px=h)


__all__ = ["Sources", "sky_mask", "detect_stars", "frame_stats", "smoothed_luma", "block_stats", "BLOCK_PX"]

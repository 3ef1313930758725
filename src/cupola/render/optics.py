"""The lens: its point-spread function (a sharp core and a wide wing), bloom, and vignetting.

The point-spread function (PSF) of a camera lens is modelled as two parts that share a source's light:

* **The core** (a fraction ``1 - eta`` of the light): a Gaussian, the sum in quadrature of
  - diffraction: the Airy pattern of a circular aperture, first dark ring at 1.22 lambda N, whose best-fitting
    Gaussian has sigma = 0.42 lambda N (Zhang, Zerubia & Olivo-Marin 2007, "Gaussian approximations of
    fluorescence microscope point-spread function models", Applied Optics 46, 1819, Table 1: 0.21 lambda / NA,
    NA = 1 / (2N)), per colour channel at the channels' effective wavelengths :data:`WAVELENGTHS_NM`;
  - defocus and residual aberrations: a focus error dz (``RenderSettings.lens_defocus_um``, 80 um: a focus set
    by hand on stars through the cupola's window, plus the field curvature and spherical aberration of a fast
    lens wide open and the window's panes) blurs a point into a disc of diameter dz / N, whose sigma is a
    quarter of it (a uniform disc of radius R has sigma R / 2). Calibrated on the real photograph
    ISS030-E-130515 (NIKON D3S, 24 mm f/1.4, 8.46 um pixels): its unsaturated stars have a median second-moment
    sigma of 2.0 px, ~1.8 px once its ~3 px trail is taken out, 15 um, which 80 um / 1.4 / 4 = 14.3 um and the
    pixel give (a test measures it). Stopped down it shrinks as 1 / N while diffraction grows as N;
  - the pixel: integrating over a square pixel of pitch p adds p^2 / 12 (a box's variance). The pitch is the
    rendered image's (the sensor width over the image width), since a frame is what a camera records scaled to
    that size.
  Stars and planets are splatted with the green channel's sigma (:func:`star_sigma_px`; the channels differ by
  < 3 % at the rendered pitches), unless ``RenderSettings.psf_sigma_px`` overrides it.

* **The wing** (a fraction ``eta`` = ``RenderSettings.psf_wing_fraction``, 3 %): veiling glare, light scattered
  by the lens's surfaces, coatings, dust and the barrel. It falls as a power law of the angle theta from the
  source, the form of camera-lens glare spread functions (CIE 146:2002 glare spread function: theta^-2 to
  theta^-3; measured camera PSF wings, Talvala et al. 2007, "Veiling glare in high dynamic range imaging", ACM
  Trans. Graph. 26(3) 37, and McCann & Rizzi 2007, J. SID 15, 709: veiling glare indices of a few %) and of the
  Harvey / ABg surface-scatter model with a shoulder at small angles:

      w(theta) = (beta - 2) a^(beta - 2) / (2 pi) * (theta^2 + a^2)^(-beta / 2)      (per steradian)

  with beta = ``psf_wing_slope`` (2.5) and a = ``psf_wing_core_deg`` (0.02 deg). It integrates to exactly 1
  over the (flat) sky; the share within theta is F(theta) = 1 - (1 + theta^2 / a^2)^(-(beta - 2) / 2), so half
  the wing lies within 3.9 a (0.08 deg) and 10 % beyond 100 a (2 deg); a frame keeps what falls on it.

The Sun's glare is this wing around the Sun's disc (``render.points.sun_layer``, computed per pixel from the
true angle, the Sun in the frame or not, weighted by the light the front element receives, E cos(alpha), none
from behind it). Everything else gets its wing by bloom (:func:`bloom_halo`, :func:`apply_lens`): the frame's
luminance (each pixel clipped at ``BLOOM_CLIP_CD_M2``, so the Sun's disc, drawn with its own wing, is not spread
twice) summed over 6 x 6 pixel blocks, convolved with the wing by FFT (float32, on a grid 1.5 times the blocks'
so that the wing from one edge folds onto the other only past half a frame, where it is < 1e-5 of what it is
a few blocks from its source), and added back bilinearly between the block centres as
``L - eta min(L, clip) + eta (w * B)``: light is moved, not made. The wing's first few pixels are smoothed over
a block (its share within a block's radius lands in the block); beyond four blocks the halo follows w to ~10 %.

Vignetting (:func:`vignetting_for`, applied with the bloom in the same pass, :func:`apply_lens`): the relative
illumination V of the lens at each pixel. For the lenses of ``cupola/data/lens_vignetting.json`` (lensfun's
calibrations of Nikon lenses, ``tools/build_lens_vignetting.py``): V = 1 + k1 r^2 + k2 r^4 + k3 r^6, r the
distance from the centre over the calibration frame's half-diagonal, k interpolated linearly in stops between
the calibrated apertures (held at the ends: a lens opened wider than it goes is at its widest). Other focal
lengths: the natural vignetting of an ideal lens, cos^4 of the field angle (e.g. Ray, Applied Photographic
Optics, 3rd ed., section 2.3).

Diffraction spikes (:func:`spikes_for`, :func:`add_spikes`; ``RenderSettings.aperture_blades``, off by default):
an aperture stopped down to a regular polygon of N straight blades diffracts light perpendicular to each edge.
The far field of an aperture of area A is U(q) = int exp(-i q.x) d^2x, q = 2 pi theta / lambda, and the PSF per
steradian is |U|^2 / (lambda^2 A) (peak A / lambda^2, unit integral). Along the normal of an edge of length L the
divergence theorem leaves that edge's term, |U| = L / q, and across it sinc(q_perp L / 2); integrated across,
the spike carries, per radian along it,

    S(theta) = m L lambda / (4 pi^2 A theta^2),     L = D sin(pi / N),  A = N D^2 sin(2 pi / N) / 8,

with m = 2 where two parallel edges share a spike (N even: N spikes) and m = 1 otherwise (N odd: 2N spikes),
D = f / N_f the entrance pupil and lambda the channel's wavelength (so spikes are longer in red). Drawn at full
resolution along each spike's line: S(theta) with its onset softened as 1 / (theta^2 + theta0^2), theta0 the
larger of 2 lambda / D (where the asymptotic form starts to hold), the source's radius and two core sigmas,
and across it a Gaussian of the core's sigma and the source's (a disc of radius r: sigma r / 2). Its share of
the source's light, m L lambda / (4 pi^2 A) * pi / (2 theta0) per spike, is taken from the source's core: light
is moved, not made. Drawn for the Sun, the Moon and the planets and stars of V <= :data:`SPIKE_MAX_VMAG` (a
moving source at the middle of its exposure); angles are pixel distances over the focal length (the pinhole's
tangent plane). A lens wide open has a round aperture (the barrel, not the blades): leave the blades at 0.

Left out: ghosts (reflections between elements), rounded blades (weaker spikes), the wing's colour, the core's
growth off axis (coma, astigmatism), the window's own scatter, spikes from city lights and glints.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass

import numba as nb
import numpy as np

from .. import bundled
from ..jit import kernel, spread_row, use_twins

WAVELENGTHS_NM = (600.0, 530.0, 460.0)  # effective wavelengths of a camera's R, G, B channels
AIRY_SIGMA_PER_LAMBDA_N = 0.42  # best-fitting Gaussian of the Airy pattern (Zhang et al. 2007)
AIRY_FIRST_ZERO = 1.22  # first dark ring at 1.22 lambda N
BLOOM_STEP = 6  # bloom works on 6 x 6 pixel blocks (even: the lens pass interpolates between block centres)
BLOOM_PAD = 1.5  # FFT grid / frame per axis (the wing beyond half a frame folds over: < 1e-5 of a source there)
BLOOM_CLIP_CD_M2 = 1.0e6  # luminance above which a pixel's light is not spread by bloom (the Sun's disc)
SPIKE_ONSET_LAMBDA_D = 2.0  # spikes start (softly) at 2 lambda / D, where |U| ~ L / q holds
SPIKE_SIGMAS = 4.0  # a spike is drawn to 4 sigma across
SPIKE_MAX_VMAG = 1.0  # stars and planets at least this bright get spikes
VIGNETTING_TABLE = "lens_vignetting.json"
REBUILD = "python tools/build_lens_vignetting.py"


# -- the core -----------------------------------------------------------------------------------------------
def pixel_pitch_um(camera) -> float:
    """Return the rendered image's pixel pitch (um): the focal length over the focal length in pixels."""
    return 1000.0 * float(camera.effective_focal_mm) / float(camera.focal_px)


def airy_first_zero_um(camera) -> np.ndarray:
    """Return the radius of the Airy pattern's first dark ring (um), 1.22 lambda N, per channel (R, G, B)."""
    return AIRY_FIRST_ZERO * np.asarray(WAVELENGTHS_NM) * 1e-3 * float(camera.f_number)


def lens_sigma_um(camera, settings) -> np.ndarray:
    """Return the lens's core sigma (um, per channel R, G, B): diffraction and defocus in quadrature."""
    n = float(camera.f_number)
    diffraction = AIRY_SIGMA_PER_LAMBDA_N * np.asarray(WAVELENGTHS_NM) * 1e-3 * n
    defocus = float(settings.lens_defocus_um) / n / 4.0
    return np.sqrt(diffraction ** 2 + defocus ** 2)


def core_sigma_px(camera, settings) -> np.ndarray:
    """Return the PSF core's sigma in pixels per channel (R, G, B): the lens's and the pixel's box."""
    return np.sqrt((lens_sigma_um(camera, settings) / pixel_pitch_um(camera)) ** 2 + 1.0 / 12.0)


def star_sigma_px(camera, settings) -> float:
    """Return the sigma (px) stars and planets are drawn with: ``settings.psf_sigma_px`` when set, else the
    core's green channel."""
    if settings.psf_sigma_px is not None:
        return float(settings.psf_sigma_px)
    return float(core_sigma_px(camera, settings)[1])


# -- the wing -----------------------------------------------------------------------------------------------
def _wing_params(settings):
    return float(settings.psf_wing_slope), math.radians(float(settings.psf_wing_core_deg))


def _wing_norm(beta: float, a: float) -> float:
    return (beta - 2.0) * a ** (beta - 2.0) / (2.0 * math.pi)


def _wing(theta, beta: float, a: float) -> np.ndarray:
    t = np.asarray(theta, float)
    return _wing_norm(beta, a) * (t * t + a * a) ** (-0.5 * beta)


def _wing_within(theta, beta: float, a: float) -> np.ndarray:
    t = np.asarray(theta, float)
    return 1.0 - (1.0 + (t / a) ** 2) ** (-0.5 * (beta - 2.0))


def wing(theta_rad, settings) -> np.ndarray:
    """Return the wing's density w(theta) (per steradian; it integrates to 1 over the flat sky) at angles
    `theta_rad` from the source."""
    return _wing(theta_rad, *_wing_params(settings))


def wing_within(theta_rad, settings) -> np.ndarray:
    """Return the share of the wing's light within `theta_rad` of the source, F(theta)."""
    return _wing_within(theta_rad, *_wing_params(settings))


def glare_obliquity(cos_off_axis: float) -> float:
    """Return the weight of a source's wing at `cos_off_axis` from the optical axis: the front element
    receives E cos(alpha); nothing from behind it."""
    return max(float(cos_off_axis), 0.0)


def add_glare(out, cos_source_ray, illuminance_lux: float, settings) -> np.ndarray:
    """Add the PSF wing of a source of `illuminance_lux` (already weighted by :func:`glare_obliquity`) to
    `out` (H, W, 3) float32 cd/m^2: eta E w(theta), theta from each pixel's ray to the source (its cosine
    `cos_source_ray`, (H, W)). Return `out`.

    The wing is evaluated at the centres of the bloom's blocks (the mean cosine of their four central pixels)
    and added bilinearly between them in the lens pass's kernel: a 36th of the per-pixel transcendental work
    (~60 ms CPU a 1920x1080 frame per pixel); it differs from w at the pixel by < 1 % beyond four blocks
    from the source, and near the source it is smoothed over a block (the Sun's disc itself is exact)."""
    beta, a = _wing_params(settings)
    amp = float(settings.psf_wing_fraction) * float(illuminance_lux) * _wing_norm(beta, a)
    if amp <= 0.0:
        return out
    c = np.asarray(cos_source_ray)
    h, w = c.shape
    hs, ws = -(-h // BLOOM_STEP), -(-w // BLOOM_STEP)
    i = np.minimum(BLOOM_STEP * np.arange(hs) + BLOOM_STEP // 2 - 1, max(h - 2, 0))
    j = np.minimum(BLOOM_STEP * np.arange(ws) + BLOOM_STEP // 2 - 1, max(w - 2, 0))
    i1, j1 = np.minimum(i + 1, h - 1), np.minimum(j + 1, w - 1)
    cc = 0.25 * (c[i][:, j].astype(float) + c[i1][:, j] + c[i][:, j1] + c[i1][:, j1])
    th = np.arccos(np.clip(cc, -1.0, 1.0))
    g = (amp * (th * th + a * a) ** (-0.5 * beta)).astype(np.float32)
    return add_halo(out, Halo(np.ascontiguousarray(np.broadcast_to(g, (3, hs, ws))), 0.0, BLOOM_CLIP_CD_M2, w))


# -- diffraction spikes -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Spikes:
    """The diffraction spikes of one camera's aperture (module docstring) for sources of given radii."""

    cos_a: np.ndarray  # (R,) each spike's direction in the image (x right, y down)
    sin_a: np.ndarray
    k_rad: np.ndarray  # (3,) m L lambda / (4 pi^2 A) per channel (rad)
    onset_px: np.ndarray  # (n,) theta0 of each source, px
    sigma_px: np.ndarray  # (n,) the spike's Gaussian sigma across, px
    share: np.ndarray  # (n, 3) each source's light in its spikes, per channel

    def share_luma(self) -> np.ndarray:
        """Return (n,) the share of each source's light its spikes carry, the luminance-weighted mean of the
        channels' (their spread is under 1 % of the light): what its core gives up."""
        from ..colour import LUMA

        return self.share @ np.asarray(LUMA, float)


def spike_directions(blades: int, rotation_deg: float = 0.0) -> tuple[np.ndarray, int]:
    """Return (angles (R,) rad, m) of the spikes of a regular `blades`-gon: the edges' outward normals and
    their opposites, R = N for N even (m = 2 parallel edges per spike), 2N for N odd (m = 1)."""
    n = int(blades)
    normals = math.radians(float(rotation_deg)) + (2.0 * np.arange(n) + 1.0) * math.pi / n
    if n % 2 == 0:
        return normals, 2
    return np.concatenate([normals, normals + math.pi]), 1


def spike_constant_rad(camera, blades: int) -> np.ndarray:
    """Return m L lambda / (4 pi^2 A) (rad) per channel R, G, B for `camera`'s entrance pupil as a regular
    `blades`-gon of diameter D = f / N."""
    n = int(blades)
    _, m = spike_directions(n)
    d_mm = float(camera.effective_focal_mm) / float(camera.f_number)
    edge = d_mm * math.sin(math.pi / n)
    area = n * d_mm * d_mm * math.sin(2.0 * math.pi / n) / 8.0
    lam_mm = np.asarray(WAVELENGTHS_NM) * 1e-6
    return m * edge * lam_mm / (4.0 * math.pi ** 2 * area)


def spikes_for(camera, settings, radius_px) -> Spikes | None:
    """Return the :class:`Spikes` of sources of angular radii `radius_px` (n,) px seen by `camera`, or None
    when ``settings.aperture_blades`` is 0 (a round aperture)."""
    blades = int(settings.aperture_blades)
    if blades == 0:
        return None
    ang, _ = spike_directions(blades, settings.aperture_rotation_deg)
    k = spike_constant_rad(camera, blades)
    f = float(camera.focal_px)
    r = np.atleast_1d(np.asarray(radius_px, float))
    core = float(core_sigma_px(camera, settings)[1])
    d_um = 1000.0 * float(camera.effective_focal_mm) / float(camera.f_number)
    start = SPIKE_ONSET_LAMBDA_D * WAVELENGTHS_NM[1] * 1e-3 / d_um * f  # 2 lambda / D in px
    onset = np.maximum(np.maximum(start, r), 2.0 * core)
    sigma = np.sqrt(core * core + (0.5 * r) ** 2)
    share = ang.size * k[None, :] * f * math.pi / (2.0 * onset[:, None])
    return Spikes(np.cos(ang), np.sin(ang), k, onset, sigma, share)  # at most R m / (4 pi N cos(pi / N)), ~0.2


@kernel()
def _spike_kernel(xs, ys, amp, sigma, onset, cos_a, sin_a, reach, out):  # pragma: no cover - jit
    """Add amp[s, c] exp(-v^2 / 2 sigma^2) / (sigma (u^2 + u0^2)) along each spike of each source, u along the
    spike from the source at (xs, ys) and v across it (px), to `reach` sigmas across. Serial: spikes cross."""
    h, w = out.shape[0], out.shape[1]
    for s in range(xs.shape[0]):
        sg = sigma[s]
        inv2 = 0.5 / (sg * sg)
        q0 = onset[s] * onset[s]
        half = reach * sg
        x0, y0 = xs[s], ys[s]
        for r in range(cos_a.shape[0]):
            c, sn = cos_a[r], sin_a[r]
            along_x = abs(c) >= abs(sn)
            n_major = w if along_x else h
            n_minor = h if along_x else w
            for a in range(n_major):
                # The spike's centre line at this column (row): its minor coordinate, then the band across.
                if along_x:
                    t = (a - x0) / c
                    mid = y0 + t * sn
                    band = half / abs(c)
                else:
                    t = (a - y0) / sn
                    mid = x0 + t * c
                    band = half / abs(sn)
                if t < -band:
                    continue
                b0 = max(int(math.ceil(mid - band)), 0)
                b1 = min(int(math.floor(mid + band)), n_minor - 1)
                for b in range(b0, b1 + 1):
                    j, i = (a, b) if along_x else (b, a)
                    dx, dy = j - x0, i - y0
                    u = dx * c + dy * sn
                    if u <= 0.0:
                        continue
                    v = dy * c - dx * sn
                    g = math.exp(-v * v * inv2) / (sg * (u * u + q0))
                    for k in range(3):
                        out[i, j, k] += amp[s, k] * g


def add_spikes(out, spikes: Spikes, x, y, illuminance_rgb, camera) -> np.ndarray:
    """Add the spikes of sources at pixels (`x`, `y`) (n,) of illuminance `illuminance_rgb` (n, 3) lux (the
    light reaching the lens, per channel) to `out` (H, W, 3) float32 cd/m^2; return `out`. Sources off the
    frame by more than a frame's size are skipped (their spikes there are faint and the tangent plane poor)."""
    x = np.atleast_1d(np.asarray(x, float))
    y = np.atleast_1d(np.asarray(y, float))
    e = np.atleast_2d(np.asarray(illuminance_rgb, float))
    h, w = out.shape[:2]
    keep = (np.isfinite(x) & np.isfinite(y) & (x > -w) & (x < 2 * w) & (y > -h) & (y < 2 * h)
            & (e.max(axis=1) > 0.0))
    if not keep.any():
        return out
    f = float(camera.focal_px)
    # S(theta) g(v) per steradian with theta = u / f, g = f exp(-v^2 / 2 sigma^2) / (sqrt(2 pi) sigma):
    # E k f^3 / sqrt(2 pi) times exp(...) / (sigma (u^2 + u0^2)) in px.
    amp = e[keep] * spikes.k_rad[None, :] * f ** 3 / math.sqrt(2.0 * math.pi)
    _spike_kernel(np.ascontiguousarray(x[keep]), np.ascontiguousarray(y[keep]), np.ascontiguousarray(amp),
                  np.ascontiguousarray(spikes.sigma_px[keep]), np.ascontiguousarray(spikes.onset_px[keep]),
                  spikes.cos_a, spikes.sin_a, SPIKE_SIGMAS, out)
    return out


# -- bloom ----------------------------------------------------------------------------------------------------
@kernel(parallel=True)
def _block_sum_kernel(lum, clip, small):  # pragma: no cover - jit
    """small[c, bi, bj] = sum over the BLOOM_STEP x BLOOM_STEP block of min(lum, clip) (edge blocks hold
    fewer pixels); float32 throughout (`clip` float32), which keeps it a few ms a frame."""
    h, w = lum.shape[0], lum.shape[1]
    hs, ws = small.shape[1], small.shape[2]
    for bi in nb.prange(hs):
        i_end = min(bi * BLOOM_STEP + BLOOM_STEP, h)
        for bj in range(ws):
            j_end = min(bj * BLOOM_STEP + BLOOM_STEP, w)
            a0 = np.float32(0.0)
            a1 = np.float32(0.0)
            a2 = np.float32(0.0)
            for i in range(bi * BLOOM_STEP, i_end):
                for j in range(bj * BLOOM_STEP, j_end):
                    a0 += min(lum[i, j, 0], clip)
                    a1 += min(lum[i, j, 1], clip)
                    a2 += min(lum[i, j, 2], clip)
            small[0, bi, bj] = a0
            small[1, bi, bj] = a1
            small[2, bi, bj] = a2


def _bilinear_axis(n: int, m: int):
    """Return, for `n` pixels over `m` blocks, each pixel's two blocks and the weight of the second."""
    u = np.clip((np.arange(n) + 0.5) / BLOOM_STEP - 0.5, 0.0, m - 1.0)
    i0 = np.minimum(u.astype(np.int64), max(m - 2, 0))
    return i0, np.minimum(i0 + 1, m - 1), u - i0


def _block_sum_numpy(lum, clip):
    h, w = lum.shape[:2]
    step = BLOOM_STEP
    hs, ws = -(-h // step), -(-w // step)
    pad = np.zeros((hs * step, ws * step, 3), np.float64)
    pad[:h, :w] = np.minimum(lum, clip)
    return pad.reshape(hs, step, ws, step, 3).sum(axis=(1, 3)).transpose(2, 0, 1).astype(np.float32)


@functools.lru_cache(maxsize=16)
def _wing_kernel_fft(shape: tuple, cell_rad: float, beta: float, a: float):
    """The FFT of the wing on the bloom grid `shape` (circular, centred on cell (0, 0)), each cell holding
    the wing's share over it: w(theta) times the cell's solid angle, averaged over 8 x 8 points per cell
    within 8 cells of the centre (the power law is steep there); the centre cell F(r) of the circle of the
    cell's area."""
    import scipy.fft as sf

    p, q = shape
    di = np.minimum(np.arange(p), p - np.arange(p))
    dj = np.minimum(np.arange(q), q - np.arange(q))
    theta = cell_rad * np.hypot(di[:, None], dj[None, :])
    k = _wing(theta, beta, a) * cell_rad ** 2
    n, sub = min(8, p // 2, q // 2), 8
    off = (np.arange(sub) + 0.5) / sub - 0.5
    for i in range(-n, n + 1):
        for j in range(-n, n + 1):
            t = cell_rad * np.hypot(i + off[:, None], j + off[None, :])
            k[i % p, j % q] = float(_wing(t, beta, a).mean()) * cell_rad ** 2
    k[0, 0] = float(_wing_within(cell_rad / math.sqrt(math.pi), beta, a))
    return sf.rfft2(k).astype(np.complex64)  # single precision, as the frame's


@dataclass(frozen=True, eq=False)
class Halo:
    """The PSF wing's light over a frame, on BLOOM_STEP x BLOOM_STEP blocks: `blocks` (3, Hb, Wb) float32
    cd/m^2 to add at each block's centre (bilinear between centres) of a frame `width` pixels wide, after
    each pixel gives up `eta` of its light up to `clip` cd/m^2."""

    blocks: np.ndarray
    eta: float
    clip: float
    width: int


def bloom_halo(lum: np.ndarray, camera, settings) -> Halo | None:
    """Return the :class:`Halo` of `lum` (H, W, 3) float32 cd/m^2: a share ``settings.psf_wing_fraction``
    of each pixel's light (up to ``BLOOM_CLIP_CD_M2``) convolved with the PSF wing on BLOOM_STEP x
    BLOOM_STEP blocks by FFT; None when bloom is off. :func:`apply_lens` adds it."""
    eta = float(settings.psf_wing_fraction)
    if not settings.bloom or eta <= 0.0:
        return None
    import scipy.fft as sf

    h, w = lum.shape[:2]
    step = BLOOM_STEP
    hs, ws = -(-h // step), -(-w // step)
    grid = (sf.next_fast_len(int(math.ceil(BLOOM_PAD * hs)), real=True),
            sf.next_fast_len(int(math.ceil(BLOOM_PAD * ws)), real=True))
    kf = _wing_kernel_fft(grid, step / float(camera.focal_px), *_wing_params(settings))
    if use_twins():
        small = _block_sum_numpy(lum, BLOOM_CLIP_CD_M2)
    else:
        small = np.empty((3, hs, ws), np.float32)
        _block_sum_kernel(np.ascontiguousarray(lum, np.float32), np.float32(BLOOM_CLIP_CD_M2), small)
    spread = sf.irfft2(sf.rfft2(small, s=grid, axes=(1, 2)) * kf[None], s=grid, axes=(1, 2))[:, :hs, :ws]
    # Per pixel: the block's light over its pixels, the wing's share; FFT round-off below zero dropped.
    blocks = np.ascontiguousarray(np.maximum(spread, 0.0) * (eta / step ** 2), np.float32)
    return Halo(blocks, eta, BLOOM_CLIP_CD_M2, w)


# -- vignetting ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Vignetting:
    """The relative illumination V over a frame: V = 1 + k1 r^2 + k2 r^4 + k3 r^6 with r = (pixel distance
    from the principal point) x `r_per_px` (lensfun's 'pa' model), or, when `cos4`, cos^4 of the field angle
    (r_per_px is then 1 / focal_px, r = tan of the angle). `lens` names the calibrated lens ('' for cos^4)."""

    k: tuple[float, float, float]
    r_per_px: float
    cos4: bool
    lens: str = ""

    def at(self, r_px) -> np.ndarray:
        """Return V at distances `r_px` (pixels) from the principal point."""
        r = np.asarray(r_px, float) * self.r_per_px
        if self.cos4:
            return 1.0 / (1.0 + r * r) ** 2
        r2 = r * r
        return np.clip(1.0 + r2 * (self.k[0] + r2 * (self.k[1] + r2 * self.k[2])), 0.0, 1.0)

    def args(self) -> tuple:
        """The kernel's arguments: (mode 1 pa / 2 cos^4, k1, k2, k3, r_per_px)."""
        return (2 if self.cos4 else 1, float(self.k[0]), float(self.k[1]), float(self.k[2]), float(self.r_per_px))


def _parse_table(raw: bytes) -> dict:
    table = json.loads(raw)
    out = {}
    for lens in table["lenses"]:
        n = np.asarray(lens["f_numbers"], float)
        k = np.asarray(lens["k"], float).reshape(len(n), 3)
        if not (len(n) and np.all(np.diff(n) > 0) and np.all(np.isfinite(k)) and lens["half_diagonal_mm"] > 0):
            raise ValueError(f"bad vignetting entry {lens['lens']!r}")
        out[float(lens["focal_mm"])] = (str(lens["lens"]), float(lens["half_diagonal_mm"]), n, k)
    return out


@functools.lru_cache(maxsize=1)
def vignetting_table() -> dict:
    """Return the bundled lensfun calibrations: focal (mm) -> (lens, half-diagonal mm, f-numbers, k (n, 3))."""
    return bundled.load(VIGNETTING_TABLE, "lens vignetting table", _parse_table, REBUILD)


def vignetting_for(camera, settings=None) -> Vignetting | None:
    """Return the :class:`Vignetting` of `camera`'s lens (None when ``settings.vignetting`` is off): the
    bundled calibration of its focal length (within 0.5 mm) at its f-number, else cos^4."""
    if settings is not None and not settings.vignetting:
        return None
    focal = float(camera.effective_focal_mm)
    table = vignetting_table()
    near = min(table, key=lambda f: abs(f - focal))
    if abs(near - focal) > 0.5:
        return Vignetting((0.0, 0.0, 0.0), 1.0 / float(camera.focal_px), True)
    name, half_diag_mm, n, k = table[near]
    stops = np.log2(n)
    s = min(max(math.log2(float(camera.f_number)), stops[0]), stops[-1])
    kk = tuple(float(np.interp(s, stops, k[:, c])) for c in range(3))
    return Vignetting(kk, pixel_pitch_um(camera) * 1e-3 / half_diag_mm, False, name)


# -- the lens on the frame ----------------------------------------------------------------------------------
@kernel(parallel=True)
def _lens_kernel(lum, bloom, halo, keep, eta, clip, vmode, vk1, vk2, vk3, vr, out):  # pragma: no cover - jit
    """out = V (keep L + eta max(L - clip, 0) + halo) (`out` may be `lum`), row by row: V (lensfun 'pa' for vmode 1,
    cos^4 for 2, 1 for 0) and the halo (bilinear between block centres, held beyond the first and last)
    along the row first, then one flat loop over the row's values (which the compiler vectorises)."""
    h, w = lum.shape[0], lum.shape[1]
    hs, ws = halo.shape[1], halo.shape[2]
    cx = 0.5 * (w - 1)
    cy = 0.5 * (h - 1)
    one = np.float32(1.0)
    zero = np.float32(0.0)
    half = BLOOM_STEP // 2
    for k_row in nb.prange(h):
        i = spread_row(k_row, h)
        flat = lum[i].reshape(3 * w)
        dest = out[i].reshape(3 * w)
        v3 = np.empty(3 * w, np.float32)  # V per value of the row (each pixel's three)
        if vmode != 0:
            ry2 = ((i - cy) * vr) ** 2
            for j in range(w):
                rr = ry2 + ((j - cx) * vr) ** 2
                if vmode == 1:
                    v = min(max(1.0 + rr * (vk1 + rr * (vk2 + rr * vk3)), 0.0), 1.0)
                else:
                    v = 1.0 / ((1.0 + rr) * (1.0 + rr))
                v3[3 * j] = v
                v3[3 * j + 1] = v
                v3[3 * j + 2] = v
        else:
            v3[:] = one
        if not bloom:
            for k in range(3 * w):
                dest[k] = flat[k] * v3[k]
            continue
        u = min(max((i + 0.5) / BLOOM_STEP - 0.5, 0.0), hs - 1.0)
        i0 = min(int(u), max(hs - 2, 0))
        i1 = min(i0 + 1, hs - 1)
        fu = np.float32(u - i0)
        row = np.empty((ws, 3), np.float32)
        for bj in range(ws):
            for c in range(3):
                row[bj, c] = halo[c, i0, bj] * (one - fu) + halo[c, i1, bj] * fu
        # Between the centres of blocks bj and bj + 1 (pixels s bj + s/2 .. s bj + 3s/2 - 1, s the step) the
        # weights repeat.
        line = np.empty(3 * w, np.float32)
        for j in range(min(half, w)):
            for c in range(3):
                line[3 * j + c] = row[0, c]
        for bj in range(ws - 1):
            for t in range(BLOOM_STEP):
                j = bj * BLOOM_STEP + half + t
                if j < w:
                    f = np.float32((t + 0.5) / BLOOM_STEP)
                    for c in range(3):
                        line[3 * j + c] = row[bj, c] * (one - f) + row[bj + 1, c] * f
        for j in range((ws - 1) * BLOOM_STEP + half, w):
            for c in range(3):
                line[3 * j + c] = row[ws - 1, c]
        for k in range(3 * w):
            x = flat[k]
            dest[k] = v3[k] * (keep * x + eta * max(x - clip, zero) + line[k])


def _lens_numpy(lum, halo: Halo | None, vig: "Vignetting | None") -> np.ndarray:
    h, w = lum.shape[:2]
    x = np.asarray(lum, np.float64)
    if halo is not None:
        hs, ws = halo.blocks.shape[1:]
        i0, i1, fu = _bilinear_axis(h, hs)
        j0, j1, fv = _bilinear_axis(w, ws)
        hv = halo.blocks.astype(np.float64)
        rows = hv[:, i0] * (1.0 - fu)[None, :, None] + hv[:, i1] * fu[None, :, None]
        line = (rows[:, :, j0] * (1.0 - fv) + rows[:, :, j1] * fv).transpose(1, 2, 0)
        x = x - halo.eta * np.minimum(x, halo.clip) + line
    if vig is not None:
        i, j = np.indices((h, w))
        x = x * vig.at(np.hypot(j - 0.5 * (w - 1), i - 0.5 * (h - 1)))[..., None]
    return x.astype(np.float32)


def apply_lens(lum: np.ndarray, camera, settings, out: np.ndarray | None = None) -> np.ndarray:
    """Return the light the lens puts on the sensor from the frame `lum` (H, W, 3) float32 cd/m^2, written
    into `out` (a new array when None; `lum` itself for in place; `lum` is returned as it is when the lens
    does nothing): the PSF wing
    (:func:`bloom_halo`: each pixel gives up the wing's share ``settings.psf_wing_fraction`` of its light up
    to ``BLOOM_CLIP_CD_M2`` and gets the halo), then the relative illumination (:func:`vignetting_for`).
    One pass (numba, or its numpy twin); nothing when both are off.

    Light is moved, not made: the wing's light falls inside the frame but for what it carries past the
    frame's edges (as in a camera); vignetting then takes the corners' share."""
    halo = bloom_halo(lum, camera, settings)
    vig = vignetting_for(camera, settings)
    if halo is None and vig is None:
        return lum
    out = np.empty(lum.shape, np.float32) if out is None else out
    if use_twins() or not (lum.dtype == np.float32 and lum.flags.c_contiguous and out.flags.c_contiguous):
        out[...] = _lens_numpy(lum, halo, vig)
        return out
    eta = 0.0 if halo is None else halo.eta
    blocks = np.zeros((3, 1, 1), np.float32) if halo is None else halo.blocks
    vargs = (0, 0.0, 0.0, 0.0, 0.0) if vig is None else vig.args()
    _lens_kernel(lum, halo is not None, blocks, np.float32(1.0 - eta), np.float32(eta),
                 np.float32(BLOOM_CLIP_CD_M2), *vargs, out)
    return out


def add_halo(lum: np.ndarray, halo: Halo) -> np.ndarray:
    """Add `halo`'s blocks (bilinear between their centres) to `lum` (H, W, 3) float32, in place (its `eta`
    taken from each pixel first); return `lum`."""
    if use_twins() or not (lum.dtype == np.float32 and lum.flags.c_contiguous):
        lum[...] = _lens_numpy(lum, halo, None)
        return lum
    _lens_kernel(lum, True, halo.blocks, np.float32(1.0 - halo.eta), np.float32(halo.eta), np.float32(halo.clip),
                 0, 0.0, 0.0, 0.0, 0.0, lum)
    return lum


def bloom(lum: np.ndarray, camera, settings) -> np.ndarray:
    """Return a copy of `lum` (H, W, 3) float32 cd/m^2 with the PSF wing spread (:func:`apply_lens` without
    vignetting)."""
    return apply_lens(np.asarray(lum, np.float32), camera, settings.replace(vignetting=False))


__all__ = ["WAVELENGTHS_NM", "BLOOM_CLIP_CD_M2", "pixel_pitch_um", "airy_first_zero_um", "lens_sigma_um",
           "core_sigma_px", "star_sigma_px", "wing", "wing_within", "glare_obliquity", "add_glare", "bloom",
           "bloom_halo", "Halo", "apply_lens", "add_halo",
           "Vignetting", "vignetting_table", "vignetting_for"]

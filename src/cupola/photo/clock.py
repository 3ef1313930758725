"""The camera clock's error, measured on the Earth's limb.

A plate solve fixes the camera's attitude on the sky, whatever the time. The Earth's limb on the
frame, though, depends on where the station was: at 7.66 km/s its nadir turns ~0.064 deg/s, so a
clock that is 13 s off (~100 km along the track) moves a limb seen ahead or behind by ~0.8 deg,
~60 px at 24 mm on a 24 MP frame. :func:`fit_clock_offset` finds the offset dt for which the limb
predicted from the station's state at t + dt (attitude held fixed on the sky) lies on the limb
photographed.

The offset is what to ADD to the photo's time to get the instant its limb shows (a camera clock
running 13 s fast gives -13 s).

Method
------
1. **Coarse search.** On a copy of the image reduced to <= ~1.5 MP (block means), for offsets
   every ~1 reduced pixel of limb motion over +-`search_s`, the predicted limb is sampled every
   ~2 px and scored by the mean, over its points, of an edge response: the brightness (luma of
   the code values) on the Earth's side minus the median over a few pixels outside. The Earth's
   side is the darker of two medians, over [1 px, 2.5 deg] and over [2.5, 5 deg] inward. That is
   what makes the search prefer the Earth's own edge to the top of an airglow or aurora band
   (2.2-2.9 deg above the hard limb): a band above a dark gap fails on the near window, a band
   over dark ground on the far one; cloud edges follow no limb's curve at any offset.
2. **Edge points.** At the best offset, along each predicted point's normal on the full image,
   within a few pixels plus the coarse step, the steepest bright-to-dark fall (luma averaged
   over three profiles 1 px apart along the curve, smoothed across it), located to a fraction of
   a pixel by a parabola; points whose fall is weaker than :data:`MIN_EDGE_DN` or whose sides
   differ by less than :data:`MIN_CONTRAST_DN` are dropped, and so are points on `ignore`.
3. **Fit.** The offset and the limb's height minimising the distance (px) between those points
   and the limb predicted at t + dt, by Gauss-Newton with numerical derivatives of the limb
   margin of each point's ray (:func:`cupola.view.limb_margin_deg`), dropping points beyond 3
   robust sigmas; then the points again at the fitted limb (three rounds). The height is kept
   only where the frame separates it from the time (a height change widens the limb's circle, a
   time change turns it about the orbit normal: an arc that is long or oblique on the frame tells
   them apart) to :data:`MAX_HEIGHT_SIGMA_KM`; otherwise the fit holds it at the start value and
   says so. `uncertainty_s` is the larger of the formal sigma and a jackknife over eight pieces of
   the arc (the points' errors are correlated along it: the edge's height changes with the
   light), so it includes the height's trade-off with the time when the height is fitted.

Which limb a photograph shows
-----------------------------
The edge found is the outermost strong fall of brightness, and its height depends on the light.
At night by moonlight it is the hard Earth: ground and clouds end at the ellipsoid within a few
km (cloud tops 10-15 km at most), with the dark air below the airglow above them (as in
ISS030-E-130515 and in the synthetic night photos): :data:`NIGHT_LIMB_KM` = 0 to start with. In
daylight the disc is wrapped in the bright Rayleigh limb (the blue band of every day photograph)
and the fall is where that band fades: on cupola's rendered frames at ~22 km at 1/500 s f/8
ISO 200 and ~33 km at four times that exposure (the fitted heights; the points' own tangent
heights at the true time lie within +-2 km of them), so it depends on the exposure:
:data:`DAY_LIMB_KM` = 25 km to start with. An over-exposed night frame can show the airglow
brighter than the moonlit ground, lying on the limb: its top (~100 km) is then the edge, and
the fit finds that height (and says which kind of edge it is). A height wrong by 10 km moves
the limb ~0.25 deg, ~4 s of clock for a limb ahead or behind: every fit reports
`offset_per_km_s`. A moonless night shows no bright-to-dark limb (the ground is darker than the
airglow above it): the fit then says so in `reason`.

Left out: refraction. Light from the ground at the tangent point is bent by up to ~0.5 deg on
its way out (~0.15 deg from 10 km, < 0.05 deg above 20 km), which raises the apparent edge like
a higher limb would: a fitted height absorbs it (the height is an effective one); a held height
turns it into a clock error of `offset_per_km_s` times its equivalent (~6 km at cloud tops).
Also left out: the attitude's drift during the exposure (the stars fix it at the middle) and
limbs smeared by long untracked exposures (the edge found is then the smear's outer side).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..constants import WGS84_A_KM
from ..errors import InputError
from ..timebase import add_seconds, instants, to_utc64
from ..view import limb_margin_deg
from .geolocate import attitude_from_icrs, lens_k1, limb_directions, limb_psi, project_px, undistort

NIGHT_LIMB_KM = 0.0  # the hard Earth (module docstring)
DAY_LIMB_KM = 25.0  # where the sunlit Rayleigh limb fades in cupola's renderer: 22-33 km by exposure
HEIGHT_BOUNDS_KM = (-5.0, 120.0)  # a fitted limb height outside this is not a limb: keep the start
MAX_SEARCH_S = 1800.0  # a third of an orbit: a clock that far off is not a drift
COARSE_MAX_PIXELS = 1_500_000
INNER_WINDOW_DEG = 2.5  # the coarse edge response's two inner windows: [1 px, 2.5 deg], [2.5, 5 deg]
OUTER_WINDOW_PX = 3.0
MIN_EDGE_DN = 4.0  # steepest fall (code values per pixel) for an edge point to count
MIN_CONTRAST_DN = 10.0  # Earth side minus sky side (code values) for an edge point to count
MIN_POINTS = 20
MIN_SENSITIVITY_PX_S = 0.05  # below this the limb barely moves with time: the clock cannot be read
MAX_HEIGHT_SIGMA_KM = 5.0  # the joint fit's height is kept only when known this well
ROUNDS = 3
LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)  # Rec. 709 weights on the code values


@dataclass(frozen=True, eq=False)
class ClockFit:
    """The camera-clock offset measured on the limb.

    `offset_s` is what to ADD to the photo's time to get the instant its limb shows: a camera
    clock that runs 13 s fast gives -13. NaN with a `reason` when the limb is in the frame but
    could not be fitted.
    """

    offset_s: float
    rms_px: float  # of the edge points about the fitted limb
    n_points: int  # edge points used
    reason: str | None  # why there is no offset (None when fitted)
    sensitivity_px_s: float = math.nan  # how far the limb moves on the frame per second of offset (rms)
    uncertainty_s: float = math.nan  # formal 1-sigma of the offset from the points' scatter
    height_km: float = math.nan  # the limb height used (fitted or given)
    height_fitted: bool = False
    offset_per_km_s: float = math.nan  # change of the offset per km of limb height (the systematic)
    contrast_dn: float = math.nan  # median Earth-minus-sky contrast at the edge points
    search_s: float = math.nan
    notes: tuple = ()
    x_px: np.ndarray = field(default_factory=lambda: np.zeros(0))  # the edge points used
    y_px: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def fitted(self) -> bool:
        return self.reason is None


# -- image sampling ------------------------------------------------------------------------------------
def _luma_reduced(rgb: np.ndarray, factor: int) -> np.ndarray:
    """Return the luma (float32) of `rgb` averaged over factor x factor blocks (cropped to whole blocks)."""
    h, w = (rgb.shape[0] // factor) * factor, (rgb.shape[1] // factor) * factor
    out = np.empty((h // factor, w // factor), np.float32)
    rows = max(1, (1 << 22) // max(1, w * factor))  # blocks of ~4 M pixels of the original at a time
    for r0 in range(0, h // factor, rows):
        r1 = min(h // factor, r0 + rows)
        block = rgb[r0 * factor:r1 * factor, :w].astype(np.float32) @ LUMA
        out[r0:r1] = block.reshape(r1 - r0, factor, w // factor, factor).mean(axis=(1, 3))
    return out


def _bilinear(img: np.ndarray, x, y) -> np.ndarray:
    """Return `img` (H, W) or (H, W, 3) sampled bilinearly at (x, y), NaN outside; for (H, W, 3)
    uint8 images the luma."""
    h, w = img.shape[:2]
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    ok = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
    xc = np.clip(np.nan_to_num(x), 0, w - 1.000001)
    yc = np.clip(np.nan_to_num(y), 0, h - 1.000001)
    x0 = xc.astype(np.intp)
    y0 = yc.astype(np.intp)
    fx = (xc - x0).astype(np.float32)
    fy = (yc - y0).astype(np.float32)

    def at(yy, xx):
        v = img[yy, xx]
        return v.astype(np.float32) @ LUMA if img.ndim == 3 else v

    v = (at(y0, x0) * (1 - fx) * (1 - fy) + at(y0, x0 + 1) * fx * (1 - fy) + at(y0 + 1, x0) * (1 - fx) * fy
         + at(y0 + 1, x0 + 1) * fx * fy)
    return np.where(ok, v, np.nan)


# -- the predicted limb as sample points with normals ----------------------------------------------------------
class _Limb:
    """The limb predicted on the frame at given station positions, sampled at fixed angles psi
    around the nadir, with the image's outward (Earth -> sky) normal at each point."""

    def __init__(self, camera, basis, k1):
        self.camera, self.basis, self.k1 = camera, basis, k1

    def points(self, r_km, height_km, psi):
        d = limb_directions(r_km, height_km, psi)
        x, y, front = project_px(self.camera, self.basis, d, self.k1)
        # Outward: the direction a little further from the nadir, in the plane of the nadir and d.
        nadir = -np.asarray(r_km, float).reshape(3)
        nadir = nadir / np.linalg.norm(nadir)
        out3 = d * np.sum(d * nadir, axis=-1, keepdims=True) - nadir
        out3 /= np.linalg.norm(out3, axis=-1, keepdims=True)
        d2 = d + 1e-5 * out3
        x2, y2, _ = project_px(self.camera, self.basis, d2 / np.linalg.norm(d2, axis=-1, keepdims=True), self.k1)
        nx, ny = x2 - x, y2 - y
        n = np.hypot(nx, ny)
        with np.errstate(invalid="ignore", divide="ignore"):
            return x, y, nx / n, ny / n, front


def _psi_range(limb: _Limb, r_set, height_km, camera):
    """Return angles psi (rad, increasing) covering the limb's part inside the frame at any of the
    positions `r_set` (N, 3), or None when it never enters the frame."""
    psi = np.linspace(0.0, 2.0 * np.pi, 1440, endpoint=False)
    inside = np.zeros(psi.size, bool)
    for r in r_set:
        x, y, _, _, front = limb.points(r, height_km, psi)
        inside |= front & (x >= 0) & (x <= camera.width_px - 1) & (y >= 0) & (y <= camera.height_px - 1)
    if not inside.any():
        return None
    if inside.all():
        return 0.0, 2.0 * np.pi
    # The covered arcs, unwrapped from the first angle outside: one interval [lo, hi].
    start = int(np.argmin(inside))
    order = (np.arange(psi.size) + start) % psi.size
    idx = np.flatnonzero(inside[order])
    step = 2.0 * np.pi / psi.size
    lo = psi[start] + (idx[0] - 1) * step
    hi = psi[start] + (idx[-1] + 1) * step
    return lo, hi


# -- the fit -----------------------------------------------------------------------------------------------
def _check(rgb, camera, search_s, ignore):
    a = np.asarray(rgb)
    if a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8:
        raise InputError(f"rgb must be an (H, W, 3) uint8 image, got shape {a.shape} of {a.dtype}", param="rgb")
    if a.shape[:2] != (camera.height_px, camera.width_px):
        raise InputError(f"the image is {a.shape[1]}x{a.shape[0]} but the camera is "
                         f"{camera.width_px}x{camera.height_px}; pass the camera of this photo", param="camera")
    try:
        s = float(search_s)
    except (TypeError, ValueError):
        s = math.nan
    if not (math.isfinite(s) and 0.0 < s <= MAX_SEARCH_S):
        raise InputError(f"search_s must be a number of seconds from 0 to {MAX_SEARCH_S:g}, got {search_s!r}; "
                         "e.g. 120", param="search_s")
    if ignore is not None:
        m = np.asarray(ignore)
        if m.shape != a.shape[:2] or m.dtype != bool:
            raise InputError(f"ignore must be a bool (H, W) mask of the image's size, got {m.shape} of {m.dtype}",
                             param="ignore")
    return a, s


def _tangent_sunlit(r_km, sun_km, d, height_km) -> np.ndarray:
    """Return whether the limb rays' tangent points, 30 km above the limb height, see the Sun
    (outside the Earth's shadow cylinder)."""
    t = -np.sum(d * r_km, axis=-1, keepdims=True)
    p = r_km + t * d
    s = sun_km / np.linalg.norm(sun_km)
    along = p @ s
    perp = np.linalg.norm(p - along[..., None] * s, axis=-1)
    return (along > 0.0) | (perp > WGS84_A_KM + height_km + 30.0)


def fit_clock_offset(rgb, sat, time_utc, camera, rows_icrs, *, search_s: float = 120.0,
                     limb_height_km: float | None = None, fit_height: bool = True, k1: float | None = None,
                     ignore=None) -> ClockFit | None:
    """Return the camera clock's offset measured by fitting the predicted limb to the photographed
    one, or None when the Earth's limb is not in the frame at any offset within +-`search_s`.

    Args:
        rgb: the photograph's pixels, (H, W, 3) uint8 (``metadata.load_pixels``).
        sat: the :class:`cupola.orbit.Satellite` (its element sets near the photo's time).
        time_utc: the photo's time (the exposure's middle) by the camera's clock.
        camera: the photo's :class:`cupola.camera.Camera` (size, focal length; its ``k1`` if any).
        rows_icrs: (3, 3) camera axes right, down, forward in ICRS from the plate solve: the
            attitude held fixed while the time is searched. It must come from the stars: an
            attitude from a Look turns with the station, and the limb would not move at all.
        search_s: search offsets within +- this many seconds.
        limb_height_km: the height of the edge the photo shows, to start with (module
            docstring); default :data:`NIGHT_LIMB_KM` where the limb is in the dark and
            :data:`DAY_LIMB_KM` in sunlight.
        fit_height: fit that height with the offset where the frame separates the two (else
            held, and said in `notes`); False holds it.
        k1: the lens's radial term (default the camera's ``k1`` or 0).
        ignore: bool (H, W), True on pixels that are neither Earth nor sky (station structure).
    """
    img, search_s = _check(rgb, camera, search_s, ignore)
    k1 = lens_k1(camera, k1)
    t0 = to_utc64(time_utc)
    if t0.size != 1:
        raise InputError(f"a photo has one time, got {t0.size}", param="time_utc")
    t0 = t0.reshape(())
    limb = _Limb(camera, np.asarray(attitude_from_icrs(rows_icrs, instants(t0)).matrix, float), k1)
    st0 = sat.at(t0)
    r0 = np.asarray(st0.r_teme_km, float).reshape(3)
    if not np.all(np.isfinite(r0)):
        raise InputError("the station's position is not known at the photo's time (SGP4 failed); "
                         "pass element sets closer to that time", param="sat")
    h = NIGHT_LIMB_KM if limb_height_km is None else _limb_height(limb_height_km)
    # Which angles around the nadir reach the frame at some offset: none, no limb to fit.
    probe_r = np.asarray(sat.at(add_seconds(t0, np.linspace(-search_s, search_s, 25))).r_teme_km, float)
    span = _psi_range(limb, probe_r, h, camera)
    if span is None:
        return None
    psi_coarse = np.linspace(span[0], span[1], 720)
    notes = []
    if limb_height_km is None:
        h, day = _start_height(limb, st0, psi_coarse)
        notes.append(f"the limb is {'sunlit' if day else 'in the dark'} there: its edge is taken at {h:g} km "
                     "to start with")
    coarse = _coarse_search(limb, img, ignore, sat, t0, h, span, psi_coarse, search_s)
    if isinstance(coarse, str):
        return _failed(coarse, search_s, h, notes)
    dt, window_px = coarse
    # Edge points on the full image and the fit; then the points again at the fitted limb.
    psi_fine = np.arange(span[0], span[1], _psi_spacing(limb, r0, h, psi_coarse, 3.0))
    for _ in range(ROUNDS):
        r_dt = np.asarray(sat.at(add_seconds(t0, dt)).r_teme_km, float).reshape(3)
        pts = _edge_points(limb, img, ignore, r_dt, h, psi_fine, window_px)
        if pts is None or pts[0].size < MIN_POINTS:
            n = 0 if pts is None else pts[0].size
            return _failed(f"only {n} points of the limb show a sharp bright-to-dark edge "
                           f"(at least {MIN_POINTS} are needed)", search_s, h, notes)
        fit = _fit(limb, sat, t0, pts, dt, h, fit_height)
        dt, h, window_px = fit.dt, fit.h, 3.0
    if abs(dt) > search_s:
        return _failed(f"the fitted offset {dt:+.1f} s lies outside the search range; search wider (search_s)",
                       search_s, h, notes)
    if fit_height and not fit.height_fitted:
        notes.append(f"the limb's arc on this frame does not separate its height from the clock (height "
                     f"uncertain by {fit.sigma_h:.0f} km): the height was held at {h:g} km")
    if fit.height_fitted:
        notes.append(f"the edge fitted lies {h:.1f} +- {fit.sigma_h:.1f} km above the ellipsoid: "
                     f"{_what_edge(h)}")
    if fit.sensitivity < MIN_SENSITIVITY_PX_S:
        return _failed(f"the limb moves only {fit.sensitivity:.3f} px per second of clock on this frame "
                       "(it lies along the direction of flight): the clock cannot be read from it",
                       search_s, h, notes)
    return ClockFit(offset_s=dt, rms_px=fit.rms, n_points=fit.n, reason=None, sensitivity_px_s=fit.sensitivity,
                    uncertainty_s=fit.sigma_dt, height_km=h, height_fitted=fit.height_fitted,
                    offset_per_km_s=fit.dt_per_km, contrast_dn=fit.contrast, search_s=search_s, notes=tuple(notes),
                    x_px=fit.x, y_px=fit.y)


def _start_height(limb, state, psi) -> tuple[float, bool]:
    """Return (the limb height to start with, whether the limb is sunlit) for the limb's part in
    the frame at the photo's time (all of it when none is)."""
    cam = limb.camera
    r = np.asarray(state.r_teme_km, float).reshape(3)
    x, y, _, _, front = limb.points(r, NIGHT_LIMB_KM, psi)
    inframe = front & (x >= 0) & (x <= cam.width_px - 1) & (y >= 0) & (y <= cam.height_px - 1)
    lit = _tangent_sunlit(r, np.asarray(state.sun_teme_km, float).reshape(3),
                          limb_directions(r, NIGHT_LIMB_KM, psi), NIGHT_LIMB_KM)
    day = bool(lit[inframe].mean() > 0.5) if inframe.any() else bool(lit.mean() > 0.5)
    return (DAY_LIMB_KM if day else NIGHT_LIMB_KM), day


def _coarse_search(limb, img, ignore, sat, t0, h, span, psi_coarse, search_s):
    """Return (the best offset on the reduced image, the window (px) to look for edges in around
    its limb), or the reason there is none."""
    cam = limb.camera
    factor = max(1, math.ceil(math.sqrt(cam.width_px * cam.height_px / COARSE_MAX_PIXELS)))
    small = _luma_reduced(img, factor)
    ign_small = None
    if ignore is not None:
        hh, ww = small.shape
        ign_small = np.asarray(ignore)[:hh * factor, :ww * factor].reshape(hh, factor, ww, factor).any(axis=(1, 3))
    speed = _limb_speed(limb, sat, t0, h, psi_coarse)
    step_s = min(2.0, max(1e-3, factor / max(speed, 1e-9)))  # ~1 reduced pixel of motion
    n_dt = int(min(20_001, 2 * math.ceil(search_s / step_s) + 1))
    dts = np.linspace(-search_s, search_s, n_dt)
    rs = np.asarray(sat.at(add_seconds(t0, dts)).r_teme_km, float)
    r0 = np.asarray(sat.at(t0).r_teme_km, float).reshape(3)
    psi = np.arange(span[0], span[1], _psi_spacing(limb, r0, h, psi_coarse, 2.0 * factor))
    inner_px = INNER_WINDOW_DEG * math.pi / 180.0 * cam.focal_px / factor
    scores = _coarse_scores(limb, small, ign_small, factor, rs, h, psi, inner_px)
    if not np.isfinite(scores).any():
        return f"the limb is in the frame only as a sliver (fewer than {MIN_POINTS} points) within +-{search_s:g} s"
    best = int(np.nanargmax(scores))
    if scores[best] < MIN_CONTRAST_DN:
        return (f"the limb is in the frame but shows no bright-to-dark edge at any offset within +-{search_s:g} s "
                f"(best contrast {scores[best]:.1f} code values): a moonless night shows the ground darker than "
                "the sky; if the clock may be further off, search wider (search_s)")
    if best in (0, n_dt - 1):
        return f"the limb fits best at the end of the search range ({dts[best]:+.0f} s); search wider (search_s)"
    return float(dts[best]), 3.0 + 2.0 * step_s * speed


EDGE_KINDS = ((20.0, "the hard Earth and its cloud tops"), (70.0, "the top of the bright limb haze (day)"),
              (math.inf, "the top of an airglow or aurora layer, not the Earth itself"))


def _what_edge(h_km: float) -> str:
    return next(text for top, text in EDGE_KINDS if h_km < top)


def _limb_height(value) -> float:
    try:
        h = float(value)
    except (TypeError, ValueError):
        h = math.nan
    if not (math.isfinite(h) and HEIGHT_BOUNDS_KM[0] <= h <= HEIGHT_BOUNDS_KM[1]):
        raise InputError(f"limb_height_km must be from {HEIGHT_BOUNDS_KM[0]:g} to {HEIGHT_BOUNDS_KM[1]:g} km, "
                         f"got {value!r}; e.g. 0 at night, 35 by day", param="limb_height_km")
    return h


def _failed(reason, search_s, h, notes) -> ClockFit:
    return ClockFit(offset_s=math.nan, rms_px=math.nan, n_points=0, reason=reason, height_km=h, search_s=search_s,
                    notes=tuple(notes))


def _limb_speed(limb, sat, t0, h, psi) -> float:
    """Return the fastest motion (px/s) of the limb's points in the frame with the clock offset."""
    cam = limb.camera
    rr = np.asarray(sat.at(add_seconds(t0, np.array([-0.5, 0.5]))).r_teme_km, float)
    xa, ya, _, _, fa = limb.points(rr[0], h, psi)
    xb, yb, _, _, fb = limb.points(rr[1], h, psi)
    ok = fa & fb & (xa >= 0) & (xa <= cam.width_px - 1) & (ya >= 0) & (ya <= cam.height_px - 1)
    if not ok.any():
        ok = fa & fb
    return float(np.nanmax(np.hypot(xb - xa, yb - ya)[ok])) if ok.any() else 1.0


def _psi_spacing(limb, r, h, psi, px) -> float:
    """Return the angle step (rad) that puts limb samples ~`px` pixels apart on the frame."""
    x, y, _, _, front = limb.points(r, h, psi)
    seg = np.hypot(np.diff(x), np.diff(y))
    seg = seg[front[1:] & front[:-1] & np.isfinite(seg)]
    dpsi = psi[1] - psi[0]
    per_rad = float(np.median(seg)) / dpsi if seg.size else 1000.0
    return float(np.clip(px / max(per_rad, 1e-9), (psi[-1] - psi[0]) / 20000.0, (psi[-1] - psi[0]) / 50.0))


def _coarse_scores(limb, small, ign_small, factor, rs, h, psi, inner_px) -> np.ndarray:
    """Return, for each station position, the mean edge response along the predicted limb."""
    hs, ws = small.shape
    near = -np.geomspace(1.0, max(2.0, inner_px), 12)  # denser near the edge
    far = -np.linspace(max(2.0, inner_px), max(4.0, 2.0 * inner_px), 8)
    outer = np.linspace(1.0, OUTER_WINDOW_PX, 3)
    scores = np.full(rs.shape[0], np.nan)
    for i, r in enumerate(rs):
        x, y, nx, ny, front = limb.points(r, h, psi)
        # to reduced-image coordinates: pixel centres of block k sit at k * factor + (factor - 1) / 2
        xs = (x - (factor - 1) / 2.0) / factor
        ys = (y - (factor - 1) / 2.0) / factor
        ok = front & (xs >= 0) & (xs <= ws - 1) & (ys >= 0) & (ys <= hs - 1)
        if ok.sum() < MIN_POINTS:
            continue
        xs, ys, nx, ny = xs[ok], ys[ok], nx[ok], ny[ok]
        def along(offsets):
            return _bilinear(small, xs[:, None] + offsets[None, :] * nx[:, None],
                             ys[:, None] + offsets[None, :] * ny[:, None])

        vnear, vfar, vout = along(near), along(far), along(outer)
        if ign_small is not None:
            bad = ign_small[np.rint(ys).astype(int), np.rint(xs).astype(int)]
            vnear[bad] = np.nan
        # The Earth side is the darker of the two inner windows (a far window off the frame does
        # not count): an airglow band over dark ground fails on the far one, a band above a dark
        # gap on the near one.
        vfar[~np.isfinite(vfar).any(axis=1)] = np.inf
        seen = np.isfinite(vnear).any(axis=1) & np.isfinite(vout).any(axis=1)
        inside = np.minimum(np.nanmedian(vnear[seen], axis=1), np.nanmedian(vfar[seen], axis=1))
        resp = inside - np.nanmedian(vout[seen], axis=1)
        if resp.size >= MIN_POINTS:
            scores[i] = float(np.mean(resp))
    return scores


def _edge_points(limb, img, ignore, r, h, psi, window_px):
    """Return (x, y) of the steepest bright-to-dark falls along the predicted limb's normals
    within +-`window_px`, and their contrasts; None when the limb is not in the frame."""
    cam = limb.camera
    x, y, nx, ny, front = limb.points(r, h, psi)
    margin = window_px + 8.0
    ok = front & (x >= margin) & (x <= cam.width_px - 1 - margin) & (y >= margin) & (y <= cam.height_px - 1 - margin)
    if not ok.any():
        return None
    x, y, nx, ny = x[ok], y[ok], nx[ok], ny[ok]
    tx, ty = -ny, nx
    s = np.arange(-window_px - 4.0, window_px + 4.0 + 1e-9, 0.5)
    prof = np.zeros((x.size, s.size), np.float32)
    for a in (-1.0, 0.0, 1.0):  # three parallel profiles, 1 px apart along the curve
        prof += _bilinear(img, x[:, None] + s[None, :] * nx[:, None] + a * tx[:, None],
                          y[:, None] + s[None, :] * ny[:, None] + a * ty[:, None])
    prof /= 3.0
    # Smooth along the normal (Gaussian, sigma 0.75 px) and take the fall per pixel outward.
    k = np.exp(-0.5 * (np.arange(-3, 4) * 0.5 / 0.75) ** 2)
    k /= k.sum()
    sm = np.apply_along_axis(lambda p: np.convolve(p, k, mode="same"), 1, prof)
    fall = (sm[:, :-2] - sm[:, 2:]) / 1.0  # over 1 px (two half-pixel steps)
    sc = s[1:-1]
    search = np.abs(sc) <= window_px
    fs = np.where(search[None, :], fall, -np.inf)
    j = np.argmax(fs, axis=1)
    peak = fs[np.arange(x.size), j]
    jj = np.clip(j, 1, sc.size - 2)
    f_m, f_0, f_p = fall[np.arange(x.size), jj - 1], fall[np.arange(x.size), jj], fall[np.arange(x.size), jj + 1]
    den = f_m - 2.0 * f_0 + f_p
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(den < 0.0, 0.5 * (f_m - f_p) / den, 0.0)
    pos = sc[jj] + 0.5 * np.clip(frac, -1.0, 1.0)
    # Contrast: the profile 1.5-3.5 px inside against 1.5-3.5 px outside the edge.
    inside = np.array([np.interp(p - np.array([1.5, 2.5, 3.5]), s, row).mean() for p, row in zip(pos, sm)])
    outside = np.array([np.interp(p + np.array([1.5, 2.5, 3.5]), s, row).mean() for p, row in zip(pos, sm)])
    contrast = inside - outside
    good = (peak >= MIN_EDGE_DN) & (contrast >= MIN_CONTRAST_DN)
    ex, ey = x + pos * nx, y + pos * ny
    if ignore is not None:
        good &= ~np.asarray(ignore)[np.clip(np.rint(ey).astype(int), 0, cam.height_px - 1),
                                    np.clip(np.rint(ex).astype(int), 0, cam.width_px - 1)]
    return ex[good], ey[good], contrast[good]


def _rays(limb, x, y):
    """Return unit TEME rays through pixel positions (x, y) (distortion undone)."""
    cam = limb.camera
    cx, cy = cam.principal_point
    xu, yu = undistort((np.asarray(x) - cx) / cam.focal_px, (np.asarray(y) - cy) / cam.focal_px, limb.k1)
    v = np.stack([xu, yu, np.ones_like(xu)], axis=-1) @ limb.basis
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


@dataclass(frozen=True, eq=False)
class _Fitted:
    dt: float
    h: float
    height_fitted: bool
    sigma_h: float
    rms: float
    n: int
    sensitivity: float
    sigma_dt: float
    dt_per_km: float
    contrast: float
    x: np.ndarray
    y: np.ndarray


def _fit(limb, sat, t0, pts, dt0, h0, fit_height) -> _Fitted:
    """Fit the offset (and the height, where the points separate the two) to edge points by
    Gauss-Newton on their distances (px) outside the predicted limb."""
    ex, ey, contrast = pts
    d = _rays(limb, ex, ey)

    def r_at(t):
        return np.asarray(sat.at(add_seconds(t0, t)).r_teme_km, float).reshape(3)

    # Pixel scale: how much a point's limb margin changes one pixel outward across the limb.
    r = r_at(dt0)
    _, _, nx, ny, _ = limb.points(r, h0, limb_psi(r, h0, d))
    dpx = limb_margin_deg(r, _rays(limb, ex + nx, ey + ny), h0) - limb_margin_deg(r, d, h0)
    base = np.isfinite(dpx) & (np.abs(dpx) > 1e-12)
    dpx = np.where(base, dpx, np.nan)

    def model(dt, h):
        r_now, r_next = r_at(dt), r_at(dt + 0.5)
        res = limb_margin_deg(r_now, d, h) / dpx  # px outside the predicted limb
        jt = (limb_margin_deg(r_next, d, h) / dpx - res) / 0.5  # px per s
        jh = limb_margin_deg(r_now, d, h + 1.0) / dpx - res  # px per km
        return res, jt, jh

    def robust(res):
        med = np.median(res[base])
        mad = 1.4826 * np.median(np.abs(res[base] - med))
        return base & (np.abs(res - med) <= max(3.0 * mad, 0.3))

    def run(joint):
        dt, h = dt0, h0
        for _ in range(10):
            res, jt, jh = model(dt, h)
            keep = robust(res)
            a = np.stack([jt, jh], axis=1)[keep] if joint else jt[keep, None]
            step = np.linalg.lstsq(a, -res[keep], rcond=None)[0]
            dt += float(step[0])
            h += float(step[1]) if joint else 0.0
            if abs(step[0]) < 1e-3 and (not joint or abs(step[1]) < 1e-2):
                break
        res, jt, jh = model(dt, h)
        keep = robust(res)
        a = np.stack([jt, jh], axis=1)[keep] if joint else jt[keep, None]
        n = int(keep.sum())
        s2 = float(np.sum(res[keep] ** 2) / max(1, n - a.shape[1]))
        cov = np.linalg.inv(a.T @ a) * s2
        return dt, h, res, jt, jh, keep, cov

    joint = bool(fit_height)
    dt, h, res, jt, jh, keep, cov = run(joint)
    sigma_h = math.sqrt(cov[1, 1]) if joint else math.nan
    if joint and not (sigma_h <= MAX_HEIGHT_SIGMA_KM and HEIGHT_BOUNDS_KM[0] <= h <= HEIGHT_BOUNDS_KM[1]):
        joint = False
        dt, h, res, jt, jh, keep, cov = run(False)
    n = int(keep.sum())
    jt_k, jh_k, res_k = jt[keep], jh[keep], res[keep]
    sigma_dt = math.sqrt(cov[0, 0])
    # The points' errors are correlated along the arc (the edge's height changes with the light):
    # a jackknife over contiguous pieces of the arc sees that, the formal sigma does not.
    order = np.argsort(limb_psi(r_at(dt), h, d[keep]))
    pieces = np.array_split(order, min(8, max(2, n // 10)))
    a = np.stack([jt_k, jh_k], axis=1) if joint else jt_k[:, None]
    leave_out = []
    for piece in pieces:
        m = np.ones(n, bool)
        m[piece] = False
        leave_out.append(float(np.linalg.lstsq(a[m], -res_k[m], rcond=None)[0][0]))
    leave_out = np.array(leave_out)
    jack = math.sqrt((len(pieces) - 1) / len(pieces) * np.sum((leave_out - leave_out.mean()) ** 2))
    return _Fitted(dt=dt, h=h, height_fitted=joint, sigma_h=sigma_h, rms=float(np.sqrt(np.mean(res_k ** 2))), n=n,
                   sensitivity=float(np.sqrt(np.mean(jt_k ** 2))), sigma_dt=max(sigma_dt, jack),
                   dt_per_km=float(-np.sum(jt_k * jh_k) / np.sum(jt_k ** 2)), contrast=float(np.median(contrast[keep])),
                   x=ex[keep], y=ey[keep])


__all__ = ["ClockFit", "fit_clock_offset", "NIGHT_LIMB_KM", "DAY_LIMB_KM"]

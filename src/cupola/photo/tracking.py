"""Did a star tracker keep the stars round? The measured trails against the station's rotation.

Model: the ISS flies in LVLH attitude, a frame that turns about the orbit normal at
omega = |r x v| / |r|^2 (one turn per orbit, ~3.9 deg/min; :func:`cupola.camera.attitude.orbit_rate`).
A camera bracketed to the station turns with it, so during an exposure of t seconds a star at an
angle psi from the orbit normal trails over omega t sin(psi) (radians, times the focal length in
pixels near the image centre); a sidereal drive ("star tracker") cancels that and keeps stars
round. With the station's state and the plate solution, the trail of every matched star is
predicted exactly (its direction projected at the exposure's start and end with
:meth:`cupola.camera.attitude.Attitude.during`); without a state only an upper bound is known
(omega of the station's lowest orbits, :data:`LVLH_RATE_MAX_RAD_S`, psi = 90 deg, and the
pinhole's stretch off the axis: up to sqrt((1 + rho^2)^2 + rho^2) at rho = radius / focal length,
the median over the stars measured) and no direction.

Measured: each matched star's trail (``Sources.trail_px``: length - width, from the moments of its
core) and axis; the common axis is the mean of the doubled angles (weighted by length) and the
common trail the square root of the median of trail^2 cos(2 (angle - common axis)): noise
elongates round stars by ~1 px in random directions, which cancels, and a few blended pairs do
not count.

Verdict:
- "too short to tell" when the predicted trail (or its bound) is shorter than
  :data:`MIN_TRAIL_PX` or than half the stars' width (JPEG blocks and the PSF hide it), or when
  fewer than :data:`MIN_STARS` stars could be measured;
- "untracked" when the common trail is at least half the predicted one (and longer than the noise
  floor :data:`NOISE_TRAIL_PX`); with only a bound, when it is longer than the noise floor;
- "tracked" otherwise: the stars are rounder than an untracked camera allows. Without a state
  this is a weaker statement (a camera pointed near the orbit normal also keeps them round),
  which the reason says.

What it leaves out: camera shake and the station's own attitude jitter (both smear stars
without a direction the model predicts: reported as what they measure), trails longer than the
detection's blobs can hold (a 30 s untracked trail on a long lens breaks into pieces), and
trackers that follow the ground (NightPod) rather than the stars.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .solve import Solution, project_pixels, unit_radec
from .stars import Sources

# The station's LVLH rate is at most one turn per 91 minutes (its lowest orbits, ~330 km).
LVLH_RATE_MAX_RAD_S = 2.0 * math.pi / (91.0 * 60.0)
MIN_TRAIL_PX = 2.0  # shorter predicted trails cannot be told from round stars
NOISE_TRAIL_PX = 1.0  # measured trails below this are round within the measurement
UNTRACKED_FRACTION = 0.5  # measured / predicted above this: untracked
MIN_STARS = 3
MAX_STARS = 200


@dataclass(frozen=True)
class Tracking:
    """The tracking verdict and its numbers (pixels, degrees from +x toward +y in [0, 180))."""

    verdict: str  # "tracked", "untracked" or "too short to tell"
    measured_trail_px: float
    predicted_trail_px: float  # exact with a state, else an upper bound
    measured_angle_deg: float
    predicted_angle_deg: float  # NaN when unknown (no state or no solution)
    n_stars: int
    reason: str
    predicted_is_bound: bool = False
    exposure_s: float = math.nan
    detail: dict | None = None  # the numbers the reason is written from (answers.text.tracking_note)


def _axial_mean_deg(angle_deg, weight) -> float:
    """Return the weighted mean of axial directions (deg, modulo 180) by doubling the angles."""
    a = np.radians(2.0 * np.asarray(angle_deg, float))
    wt = np.asarray(weight, float)
    if wt.size == 0 or not np.any(wt > 0):
        return math.nan
    return float(np.degrees(0.5 * math.atan2(np.sum(wt * np.sin(a)), np.sum(wt * np.cos(a)))) % 180.0)


def _coherence(angle_deg, weight) -> float:
    """Return how well axial directions agree, 0 (random) to 1 (all alike): the length of the
    weighted mean of the doubled angles' unit vectors."""
    a = np.radians(2.0 * np.asarray(angle_deg, float))
    wt = np.asarray(weight, float)
    total = float(np.sum(wt))
    if wt.size == 0 or not total > 0:
        return 0.0
    return float(math.hypot(np.sum(wt * np.sin(a)), np.sum(wt * np.cos(a))) / total)


def _coherent_trail(trail_px, angle_deg, mean_deg: float) -> float:
    """Return the trail common to the stars (px): sqrt of the median of trail^2 cos(2 (angle -
    mean)), the elongation (l1 - l2 = trail^2 / 12) projected on the mean axis. Noise elongates
    round stars by ~1 px in random directions, which this cancels; a real trail is common."""
    if not math.isfinite(mean_deg):
        return 0.0
    proj = np.asarray(trail_px, float) ** 2 * np.cos(np.radians(2.0 * (np.asarray(angle_deg, float) - mean_deg)))
    return float(math.sqrt(max(float(np.median(proj)), 0.0)))


def _off_axis_factor(sources: Sources, idx, focal_px: float) -> float:
    """Return the median over the stars `idx` of sqrt((1 + rho^2)^2 + rho^2), rho = distance from
    the principal point / focal length: on a pinhole image a rotation at rate omega about any axis
    moves a point at rho by at most omega f times that (f omega (1 + rho^2) for an axis across the
    view, f omega rho about the optical axis), so rate x t x f x this bounds the stars' median trail."""
    if idx.size == 0 or not (focal_px > 0) or not sources.width_image_px:
        return 1.0
    cx, cy = (sources.width_image_px - 1) / 2.0, (sources.height_image_px - 1) / 2.0
    rho2 = ((np.asarray(sources.x_px)[idx] - cx) ** 2 + (np.asarray(sources.y_px)[idx] - cy) ** 2) / focal_px ** 2
    return float(np.median(np.sqrt((1.0 + rho2) ** 2 + rho2)))


def _axial_diff_deg(a: float, b: float) -> float:
    d = abs((a - b) % 180.0)
    return min(d, 180.0 - d)


def _measured(sources: Sources, solution: Solution | None) -> np.ndarray:
    """Return the indices of the sources to measure: the matched stars, unsaturated first."""
    if solution is not None and solution.solved and "source_index" in solution.matches:
        idx = np.asarray(solution.matches["source_index"], np.int64)
    else:
        idx = np.arange(min(len(sources), MAX_STARS))
    if idx.size == 0:
        return idx
    unsat = idx[~np.asarray(sources.saturated)[idx]]
    return (unsat if unsat.size >= MIN_STARS else idx)[:MAX_STARS]


def _predicted(solution: Solution, state, exposure_s: float, focal_px: float):
    """Return (trail px, axis angle deg) predicted for the matched stars of `solution` from the
    station's LVLH rotation during the exposure, medians over the stars."""
    from ..camera.attitude import Attitude
    from ..sky.stars import icrs_to_teme

    rot = icrs_to_teme(state.instants)  # ICRS -> TEME
    att = Attitude(np.asarray(solution.rows_icrs, float) @ rot.T)
    ends = att.during(state, [-0.5 * exposure_s, 0.5 * exposure_s], tracked=False)  # (2, 3, 3) TEME rows
    d = unit_radec(solution.matches["ra_deg"], solution.matches["dec_deg"]) @ rot.T
    w, h = solution.width_px, solution.height_px
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    x0, y0, _ = project_pixels(ends[0], d, focal_px, solution.k1, cx, cy)
    x1, y1, _ = project_pixels(ends[1], d, focal_px, solution.k1, cx, cy)
    dx, dy = x1 - x0, y1 - y0
    length = np.hypot(dx, dy)
    return float(np.median(length)), _axial_mean_deg(np.degrees(np.arctan2(dy, dx)), length)


def tracking_verdict(sources: Sources, solution: Solution | None, exposure_s: float, *, state=None,
                     focal_px: float | None = None) -> Tracking:
    """Return whether the stars were kept round (module docstring), with the numbers.

    Args:
        sources: the detected stars.
        solution: the plate solution (its matched stars are measured and their trails predicted);
            None or unsolved: the brightest sources are measured and only a bound is predicted.
        exposure_s: the exposure time (s); None or NaN when unknown (no trail can be predicted).
        state: the station's single-instant State at mid-exposure (exact prediction), or None.
        focal_px: the focal length in pixels (default the solution's).
    """
    e = float(exposure_s) if exposure_s is not None else math.nan
    solved = solution is not None and solution.solved
    f = float(focal_px) if focal_px is not None else (solution.focal_px if solved else math.nan)
    idx = _measured(sources, solution)
    n = int(idx.size)
    trail = np.asarray(sources.trail_px, float)[idx]
    angle = np.asarray(sources.angle_deg, float)[idx]
    m_angle = _axial_mean_deg(angle, trail) if n else math.nan
    measured = _coherent_trail(trail, angle, m_angle) if n else math.nan
    width = float(np.median(np.asarray(sources.width_px)[idx])) if n else math.nan
    if state is not None and solved:
        from ..camera.attitude import orbit_rate

        predicted, p_angle = _predicted(solution, state, e, f)
        bound = False
        rate = orbit_rate(state)[1]
    else:
        rate = LVLH_RATE_MAX_RAD_S
        if state is not None:
            from ..camera.attitude import orbit_rate

            rate = orbit_rate(state)[1]
        predicted, p_angle, bound = rate * e * f * _off_axis_factor(sources, idx, f), math.nan, True
    base = dict(measured_trail_px=measured, predicted_trail_px=predicted, measured_angle_deg=m_angle,
                predicted_angle_deg=p_angle, n_stars=n, predicted_is_bound=bound, exposure_s=e)
    detail = dict(exposure_s=e, predicted_px=predicted, measured_px=measured, n_stars=n, bound=bound,
                  rate_deg_min=math.degrees(rate) * 60.0, measured_angle_deg=m_angle, predicted_angle_deg=p_angle,
                  width_px=width, limit_px=math.nan, off_deg=math.nan, elongated=False, min_stars=MIN_STARS)

    def verdict(word: str, code: str, **more) -> Tracking:
        from ..answers.text import tracking_note

        d = {**detail, **more, "code": code}
        return Tracking(word, reason=tracking_note(d, "en"), detail=d, **base)

    if not math.isfinite(predicted):
        return verdict("too short to tell", "unknown_exposure" if not (math.isfinite(e) and e > 0) else "unknown_focal")
    limit = max(MIN_TRAIL_PX, 0.5 * width) if math.isfinite(width) else MIN_TRAIL_PX
    if predicted < limit:
        return verdict("too short to tell", "short", limit_px=limit,
                       elongated=bool(n >= MIN_STARS and measured > predicted + NOISE_TRAIL_PX))
    if n < MIN_STARS:
        return verdict("too short to tell", "few_stars")
    # With the state the trail is predicted: half of it at least means untracked. With a bound
    # only, any common trail above the noise does (stars near the orbit normal trail less).
    needed = NOISE_TRAIL_PX if bound else max(UNTRACKED_FRACTION * predicted, NOISE_TRAIL_PX)
    if measured >= needed:
        return verdict("untracked", "untracked", off_deg=math.nan if bound else _axial_diff_deg(m_angle, p_angle))
    return verdict("tracked", "tracked")

__all__ = ["Tracking", "tracking_verdict", "LVLH_RATE_MAX_RAD_S"]

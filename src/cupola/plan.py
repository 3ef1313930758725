"""Plan: when the view from the station holds what you want, over days or months.

Conditions
----------
A :class:`Condition` is a vectorised test of instants: a function of a SceneSeries (computed with
``compute_scene(t, parts=...)`` for only the fields it reads, so a search pays for those alone)
or of plain instants, the sampling step that cannot skip one of its windows, a name, a fit in
0..1 that says which instant of a window is its peak (the smallest distance, the highest
elevation), and a relative cost. ``a & b``, ``a | b`` and ``~a`` combine them: a combination
samples at the smallest step of its operands and evaluates the cheaper operand first and the
dearer one only where it can still change the answer, so ``over('Canada') & aurora_in_view()``
computes the auroral oval only over Canada. The fit of ``a & b`` is the mean of its operands'
fits, that of ``a | b`` the fit of the first operand that holds (cheapest first), ``~a`` has
none (its windows peak in their middle).

Built in: :func:`over` (a sea or ocean, a country, a first-level region, a GeoNames place or
lat/lon within a radius; with ``ground='dark'|'lit'|'twilight'``), :func:`at_sea_near` (the sea
a caption places "northeast of" or "off the coast of" a country), :func:`ground`,
:func:`night`, :func:`day`, :func:`aurora_in_view`, :func:`near_sun_event`, :func:`sky_visible`,
:func:`target_in_view`.

Windows
-------
:func:`windows` samples the span at the condition's step in chunks of ``CHUNK`` instants
(bounded memory: never a month of Scenes at once), finds every change between two samples,
refines them all at once with :func:`cupola.search.find_edges_in_spans` (tick-aligned
bisection, to `tol_s`), and gives each window its peak: the best-fitting sample, refined by a
hill climb to an eighth of the step. Instants scattered over a long span are evaluated in
blocks of ``BLOCK_DAYS`` so per-day caches (the aurora's magnetic tables) are reused. A window
shorter than the step can be missed (a grazing crossing of a small area), and a gap shorter
than it can join two windows; ``min_duration_s`` below the step lowers the step to it, so that
no window longer than ``min_duration_s`` is missed.

Passes
------
:func:`passes` lists ground passes of the station seen from observers, like Heavens-Above:
topocentric elevation from ``State.r_itrs_km`` (WGS84 observer, geodetic horizon, no refraction,
as skyfield's ``find_events``) sampled every ``PASS_STEP_S``; culminations where the elevation
stops rising (its rate, from the ITRS velocity, changes sign), rise and set where it crosses
the threshold on each monotone side of a culmination; all refined at once, every observer and
pass together, by regula falsi (Illinois) on those continuous functions, to ``PASS_TOL_S``.
Magnitude (the ISS only): the standard magnitude -1.8 at 1,000 km and phase angle 90 deg
(McCants' convention), a diffusely reflecting (Lambert) sphere's
phase function F = sin(p) + (pi - p) cos(p) (F(90 deg) = 1; p is the Sun-station-observer
angle), no atmospheric extinction: m = -1.8 + 5 log10(range / 1000 km) - 2.5 log10(F).
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .constants import ATMOSPHERE_KM, CIVIL_DARK_SUN_ELEV_DEG, ISS_NORAD_ID, R_EARTH_KM, WGS84_A_KM, WGS84_B_KM
from .errors import InputError
from .frames import enu_basis, geodetic_to_itrs, gmst82, rotate_z, unit
from .scene import SCENE_PARTS, compute_scene
from .search import Predicate, find_edges_in_spans
from .timebase import NS_PER_S, iso_utc, shown, to_utc64

MAX_SPAN_DAYS = 366  # the longest span one search takes (a year and a day)
CHUNK = 20_000  # instants evaluated at once (a SceneSeries of this many instants, only the parts read)
SUN_UP_DEG = 0.0  # the Sun's centre on the geometric horizon: 'lit' ground from here up
GROUND_STATES = ("dark", "lit", "twilight")
_GROUND_RANGES = {"dark": (-math.inf, CIVIL_DARK_SUN_ELEV_DEG), "twilight": (CIVIL_DARK_SUN_ELEV_DEG, SUN_UP_DEG),
                  "lit": (SUN_UP_DEG, math.inf)}
SUN_EVENT_KINDS = ("sunrise", "sunset", "either")

# Sampling steps (s). The station's ground point moves ~7 km/s: a 20 s step skips only crossings
# of a sea or country shorter than ~140 km; the Sun's elevation below changes ~4 deg/min, so the
# 6 deg twilight band lasts ~1.5 min; the oval and the stars rise and set over minutes. A window's
# peak is located to PEAK_STEP_FRACTION of the step (or tol_s if larger).
AREA_STEP_S = 20.0
GROUND_STEP_S = 30.0
AURORA_STEP_S = 120.0  # at a 20 s step the shortest aurora window in 6 days (2017-02, 2024-01) lasted 159 s
SKY_STEP_S = 60.0
TARGET_STEP_S = 30.0
SUN_EVENT_STEP_S = 60.0
PEAK_STEP_FRACTION = 1.0 / 8.0
PLACE_RADIUS_KM = 300.0  # default radius around a named place or a lat/lon
GROUND_SPEED_KM_S = 7.5  # the ISS's ground point, for the steps of small areas

# Relative costs per instant (measured on 20,000 instants: state 2 us, places 7 us, lighting
# 4 us, one body 14 us, aurora 160 us), to evaluate the operands of & and | cheapest first.
COST_STATE, COST_PLACES, COST_LIGHTING, COST_SKY, COST_AURORA = 1.0, 4.0, 3.0, 8.0, 80.0

# Fits (0..1): where a window peaks.
AURORA_FIT_KM = 3500.0  # nearest discrete oval point at this ground distance or more: fit 0
LIMB_FIT_DEG = 110.0  # a sky object at the zenith stands ~110 deg above the limb seen from 420 km

# A ground observer's passes.
PASS_STEP_S = 60.0  # elevation extrema of a LEO station are ~45 min apart
PASS_MARGIN_S = 3600.0  # sampled beyond the span so every culmination inside has both neighbouring minima
PASS_TOL_S = 0.001
ISS_STANDARD_MAG = -1.8  # at 1,000 km and phase angle 90 deg (McCants' standard magnitude)
VISIBLE_PASS_SUN_DEG = CIVIL_DARK_SUN_ELEV_DEG  # a sunlit pass is visible where the observer's Sun is below this

_NS = NS_PER_S


# -- what a condition is evaluated on ----------------------------------------------------------------
@dataclass(frozen=True)
class _Env:
    sat: object
    kp: float | None
    allow_stale: bool


class _Samples:
    """Instants a condition is evaluated at, and the Scene fields computed there (once per set of parts)."""

    def __init__(self, t: np.ndarray, env: _Env):
        self.t = np.asarray(t, "datetime64[ns]").reshape(-1)
        self.env = env
        self._series: dict[frozenset, object] = {}

    def series(self, parts: frozenset):
        for have, s in self._series.items():
            if parts <= have:
                return s
        s = compute_scene(self.t, sat=self.env.sat, kp=self.env.kp, allow_stale=self.env.allow_stale, parts=parts)
        self._series[parts] = s
        return s

    def subset(self, idx: np.ndarray) -> "_Samples":
        return _Samples(self.t[idx], self.env)


BLOCK_DAYS = 8  # scattered instants are evaluated in blocks of this many UTC days (per-day tables stay cached)


def _eval_blocked(cond: "Condition", env: _Env, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return cond's (holds, fit) at instants `t` scattered over a long span, evaluated block by block
    of ``BLOCK_DAYS`` in time order, so per-day caches (the aurora's magnetic tables) are reused."""
    t = np.asarray(t, "datetime64[ns]").reshape(-1)
    block = np.floor_divide(t.astype(np.int64), BLOCK_DAYS * 86_400 * NS_PER_S)
    order = np.argsort(block, kind="stable")
    ok = np.zeros(t.size, bool)
    fit = np.full(t.size, np.nan)
    bounds = np.flatnonzero(np.diff(block[order])) + 1
    for idx in np.split(order, bounds):
        if idx.size:
            ok[idx], fit[idx] = cond._eval(_Samples(t[idx], env))
    return ok, fit


def _env(sat, kp, allow_stale) -> _Env:
    from .orbit import Satellite

    return _Env(sat if sat is not None else Satellite.from_archive(), kp, bool(allow_stale))


def _check_parts(parts) -> frozenset | None:
    if parts is None:
        return None
    names = frozenset((parts,) if isinstance(parts, str) else parts)
    bad = sorted(names - set(SCENE_PARTS))
    if bad:
        raise InputError(f"unknown scene part {bad[0]!r}; use any of {', '.join(SCENE_PARTS)}", param="parts")
    return names


@dataclass(frozen=True, eq=False)
class Condition:
    """A condition of time: where it holds, sampled at `step_s`, with a fit in 0..1.

    Args:
        fn: maps a SceneSeries (computed with ``parts``) to a bool array shaped like its
            instants; with ``parts=None`` it maps a 1-D datetime64[ns] array instead.
        step_s: sampling step: the condition must not hold (or fail) for less than this between
            two samples, or that window may be missed.
        name: words for messages and tables.
        parts: the SceneSeries fields `fn` reads (``cupola.scene.SCENE_PARTS``); the state and
            the Satellite (``series.sat``) are always there. None: `fn` takes instants.
        score: optional, same argument as `fn`: the fit (clipped to 0..1, 1 best) that decides
            a window's peak; without it every instant fits 1.
        cost: relative cost per instant (see ``COST_*``), to evaluate the operands of & and |
            cheapest first.
    """

    fn: Callable | None
    step_s: float
    name: str = "condition"
    parts: frozenset | None = frozenset()
    score: Callable | None = None
    cost: float = 1.0
    op: str = "leaf"
    operands: tuple = ()

    def __post_init__(self):
        step = self.step_s
        if not (isinstance(step, (int, float, np.floating, np.integer)) and math.isfinite(step) and step > 0):
            raise InputError(f"the sampling step must be a positive number of seconds, got {step!r}", param="step_s")
        object.__setattr__(self, "step_s", float(step))
        object.__setattr__(self, "parts", _check_parts(self.parts))

    def __and__(self, other: "Condition") -> "Condition":
        return _combine("and", self, other)

    def __or__(self, other: "Condition") -> "Condition":
        return _combine("or", self, other)

    def __invert__(self) -> "Condition":
        return Condition(None, self.step_s, f"not ({self.name})", parts=frozenset(), cost=self.cost, op="not",
                         operands=(self,))

    def named(self, name: str) -> "Condition":
        """Return the same condition under another name."""
        return dataclasses.replace(self, name=name)

    def with_step(self, step_s: float) -> "Condition":
        """Return the same condition sampled every `step_s` seconds."""
        return dataclasses.replace(self, step_s=step_s)

    @property
    def scored(self) -> bool:
        """Return True when some operand has a fit of its own (else windows peak in their middle)."""
        if self.op == "leaf":
            return self.score is not None
        return self.op != "not" and any(c.scored for c in self.operands)

    def evaluate(self, t, sat=None, kp=None, allow_stale: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Return (holds, fit) at the instants `t`, arrays shaped like `t` (fit NaN where it does not hold)."""
        t64 = to_utc64(t)
        ok, fit = self._eval(_Samples(t64, _env(sat, kp, allow_stale)))
        return ok.reshape(t64.shape), fit.reshape(t64.shape)

    def holds(self, t, sat=None, kp=None, allow_stale: bool = False) -> np.ndarray:
        """Return where the condition holds at the instants `t` (bool array shaped like `t`)."""
        return self.evaluate(t, sat, kp, allow_stale)[0]

    def _eval(self, s: _Samples) -> tuple[np.ndarray, np.ndarray]:
        n = s.t.size
        if n == 0:
            return np.zeros(0, bool), np.zeros(0)
        if self.op == "leaf":
            arg = s.t if self.parts is None else s.series(self.parts)
            ok = np.asarray(self.fn(arg), bool).reshape(n)
            fit = np.ones(n) if self.score is None else np.asarray(self.score(arg), float).reshape(n)
            return ok, np.where(ok, np.clip(np.nan_to_num(fit, nan=0.0), 0.0, 1.0), np.nan)
        if self.op == "not":
            ok = ~self.operands[0]._eval(s)[0]
            return ok, np.where(ok, 1.0, np.nan)
        order = sorted(self.operands, key=lambda c: c.cost)
        is_and = self.op == "and"
        ok = np.full(n, is_and)
        total = np.zeros(n)
        for c in order:
            idx = np.flatnonzero(ok if is_and else ~ok)
            if idx.size == 0:
                break
            c_ok, c_fit = c._eval(s if idx.size == n else s.subset(idx))
            ok[idx] = c_ok
            total[idx] += np.where(c_ok, c_fit, 0.0)
        fit = total / len(order) if is_and else total
        return ok, np.where(ok, fit, np.nan)


def _combine(op: str, a: Condition, b: Condition) -> Condition:
    """Return a & b or a | b; an unnamed combination of the same kind is flattened into it (a named
    one, such as aurora_in_view's own test-then-oval, stays one operand with one fit)."""
    if not isinstance(b, Condition):
        return NotImplemented
    word = " and " if op == "and" else " or "
    operands = []
    for c in (a, b):
        flat = c.op == op and c.name == word.join(x.name for x in c.operands)
        operands.extend(c.operands if flat else (c,))
    return Condition(None, min(c.step_s for c in operands), word.join(c.name for c in operands), parts=frozenset(),
                     cost=sum(c.cost for c in operands), op=op, operands=tuple(operands))


# -- windows -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    """One interval where a condition holds, with its best instant."""

    start_utc: np.datetime64
    end_utc: np.datetime64
    peak_utc: np.datetime64  # the best fit (the middle for conditions without a fit)
    duration_s: float
    score: float  # the fit at the peak, 0..1
    caption: str  # the station's caption at the peak
    clipped_start: bool = False  # the condition already held at the search's start
    clipped_end: bool = False  # and still held at its end

    def as_dict(self) -> dict:
        """Return the window as JSON-ready values (times ISO UTC to the second in which they fall)."""
        return {"start_utc": iso_utc(self.start_utc), "end_utc": iso_utc(self.end_utc),
                "peak_utc": iso_utc(self.peak_utc), "duration_s": round(self.duration_s, 1),
                "score": round(self.score, 4), "caption": self.caption, "clipped_start": self.clipped_start,
                "clipped_end": self.clipped_end}


def check_span(start, end, max_days: float = MAX_SPAN_DAYS) -> tuple[np.datetime64, np.datetime64]:
    """Return (start, end) as datetime64[ns] after checking end > start and the span's length."""
    t0, t1 = to_utc64(start), to_utc64(end)
    if t0.ndim or t1.ndim:
        raise InputError("a search takes one start and one end instant, not arrays", param="start")
    if t1 <= t0:
        raise InputError(f"the search end {iso_utc(t1)} is not after its start {iso_utc(t0)}", param="end",
                         fix="give an end later than the start")
    days = (t1 - t0).astype(np.int64) / (86_400 * _NS)
    if days > max_days:
        raise InputError(f"the search from {iso_utc(t0)} to {iso_utc(t1)} spans {days:,.1f} days, more than the "
                         f"{max_days:g} days one search covers", param="end",
                         fix="split it into searches of at most that length")
    return t0[()], t1[()]


def _check_number(value, name: str, lo: float, hi: float, unit: str = "", param: str | None = None) -> float:
    """Return `value` as a float after checking it is finite and within [lo, hi]."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if not (math.isfinite(v) and lo <= v <= hi):
        raise InputError(f"{name} must be a number from {lo:g} to {hi:g}{unit}, got {shown(value)}", param=param or name)
    return v


class _Runs:
    """Runs of samples where a condition holds, collected chunk by chunk (only the runs are kept)."""

    def __init__(self):
        self.done: list[dict] = []
        self.open: dict | None = None

    def add(self, g: np.ndarray, ok: np.ndarray, fit: np.ndarray, has_prefix: bool) -> None:
        """Add one chunk: times `g` (int ns), values, fits; `has_prefix`: g[0] is the previous chunk's last sample."""
        d = np.diff(ok.astype(np.int8))
        starts = list(np.flatnonzero(d == 1) + 1)
        ends = list(np.flatnonzero(d == -1))
        if ok[0]:
            starts.insert(0, 0)
        if ok[-1]:
            ends.append(ok.size - 1)
        f = np.where(ok, fit, -np.inf)
        for a, b in zip(starts, ends):
            seg = f[a:b + 1]
            best = float(seg.max())
            at = np.flatnonzero(seg >= best - 1e-12)
            run = {"lo": None if a == 0 else int(g[a - 1]), "first": int(g[a]), "best": best,
                   "best_first": int(g[a + at[0]]), "best_last": int(g[a + at[-1]]), "last": int(g[b]),
                   "hi": None if b == ok.size - 1 else int(g[b + 1])}
            if a == 0 and has_prefix and self.open is not None:
                run = self._merge(self.open, run)
            self.open = None
            if run["hi"] is None:
                self.open = run
            else:
                self.done.append(run)

    @staticmethod
    def _merge(old: dict, new: dict) -> dict:
        out = dict(new, lo=old["lo"], first=old["first"])
        if old["best"] > new["best"] + 1e-12:
            out.update(best=old["best"], best_first=old["best_first"], best_last=old["best_last"])
        elif old["best"] >= new["best"] - 1e-12:
            out.update(best_first=old["best_first"])
        return out

    def close(self) -> list[dict]:
        if self.open is not None:
            self.done.append(self.open)
            self.open = None
        return self.done


def _grid(t0: int, t1: int, step_ns: int, k0: int, k1: int) -> np.ndarray:
    """Return samples k0..k1-1 of the grid t0, t0 + step, ..., with t1 as the last sample."""
    g = t0 + np.arange(k0, k1, dtype=np.int64) * step_ns
    return np.minimum(g, t1)


def _edges(cond: Condition, env: _Env, brackets: list[tuple[int, int, bool]], step_s: float, tol_s: float) -> list:
    """Return the refined time (int ns) of the single change inside each (lo, hi, rising) bracket.

    The brackets' ends were evaluated already: find_edges_in_spans samples them again (on a grid
    that starts on whole ticks, the same instants when the search started on one), so their
    values are looked up instead of computed."""
    if not brackets:
        return []
    ends = np.array([x for a, b, r in brackets for x in (a, b)], np.int64)
    vals = np.array([v for a, b, r in brackets for v in (not r, r)], bool)
    order = np.argsort(ends, kind="stable")
    known_t, known_v = ends[order], vals[order]

    def holds(t):
        t_ns = np.asarray(t, "datetime64[ns]").astype(np.int64)
        k = np.clip(np.searchsorted(known_t, t_ns), 0, known_t.size - 1)
        hit = known_t[k] == t_ns
        out = np.empty(t_ns.size, bool)
        out[hit] = known_v[k[hit]]
        if not hit.all():
            out[~hit] = _eval_blocked(cond, env, t_ns[~hit].astype("datetime64[ns]"))[0]
        return out

    pred = Predicate(holds, step_s, cond.name)
    lo = np.array([b[0] for b in brackets], np.int64)
    hi = np.array([b[1] for b in brackets], np.int64)
    ed = find_edges_in_spans(pred, lo.astype("datetime64[ns]"), hi.astype("datetime64[ns]"), tol_s)
    et = ed.t_utc.astype(np.int64)
    tol_ns = max(int(round(tol_s * _NS)), 1)
    out = []
    for (a, b, rising) in brackets:
        i0 = np.searchsorted(et, (a // tol_ns) * tol_ns, side="left")
        i1 = np.searchsorted(et, -(-b // tol_ns) * tol_ns, side="right")
        hits = [int(et[i]) for i in range(i0, i1) if bool(ed.rising[i]) == rising]
        # One change per bracket; a condition that flickers inside one keeps its outermost change.
        out.append((hits[0] if rising else hits[-1]) if hits else a + (b - a) // 2)
    return out


def _refine_peaks(cond: Condition, env: _Env, runs: list[dict], start: np.ndarray, end: np.ndarray,
                  step_s: float, tol_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Return (peak ns, fit) of each window: the best coarse sample, then a hill climb on halving
    steps (the best of it and its two neighbours at +-step/2, +-step/4, ... down to
    ``PEAK_STEP_FRACTION`` of the step, or `tol_s` if larger)."""
    n = len(runs)
    first = np.array([r["best_first"] for r in runs], np.int64)
    last = np.array([r["best_last"] for r in runs], np.int64)
    fit = np.array([r["best"] for r in runs])
    # A plateau of equal fits peaks in its middle when that instant fits as well.
    mid = first + (last - first) // 2
    ok_m, fit_m = _eval_blocked(cond, env, mid.astype("datetime64[ns]"))
    use_mid = ok_m & (fit_m >= fit - 1e-9)
    peak = np.clip(np.where(use_mid, mid, first), start, end)
    spacing = step_s * _NS / 2.0
    rows = np.arange(n)
    finest = max(tol_s, step_s * PEAK_STEP_FRACTION) * _NS
    while spacing >= finest * (1.0 - 1e-9) and n:
        cand = np.clip(peak[:, None] + np.array([-1, 1]) * int(round(spacing)), start[:, None], end[:, None])
        ok_c, fit_c = _eval_blocked(cond, env, cand.ravel().astype("datetime64[ns]"))
        f = np.where(ok_c, fit_c, -np.inf).reshape(cand.shape)
        k = np.argmax(f, axis=1)
        better = f[rows, k] > fit + 1e-12
        peak = np.where(better, cand[rows, k], peak)
        fit = np.where(better, f[rows, k], fit)
        spacing /= 2.0
    return peak, fit


def windows(condition: Condition, start, end, min_duration_s: float = 0.0, tol_s: float = 1.0, sat=None,
            kp: float | None = None, allow_stale: bool = False, lang: str = "en",
            max_span_days: float = MAX_SPAN_DAYS) -> list[Window]:
    """Return the windows between `start` and `end` where `condition` holds, in time order.

    Args:
        condition: a :class:`Condition` (or a combination).
        start, end: the span (ISO text with a zone, aware datetimes, datetime64 UTC); at most
            `max_span_days` long.
        min_duration_s: drop windows shorter than this; when it is below the condition's step it
            becomes the step, so no window longer than it is missed.
        tol_s: edges are located to this (0 < tol_s <= 60), on ticks counted from 1970.
        sat: the Satellite (default: the ISS with the bundled element sets).
        kp: a Kp for the aurora at every instant (default: the bundled history).
        allow_stale: search where the element sets are too far from the instants to be trusted
            (see :func:`cupola.scene.compute_scene`).
        lang: the language of the captions at the peaks ('en' or 'fr').
    Returns:
        list of :class:`Window`; a window that holds at `start` or `end` is clipped there (and says so).
    Raises:
        InputError: end not after start, a span too long, a bad duration or tolerance; and what
            ``compute_scene`` refuses (element sets too far from the instants, before launch).
    """
    from .answers import check_lang

    check_lang(lang)
    if not isinstance(condition, Condition):
        raise InputError(f"windows needs a Condition (e.g. over('Canada') & night()), got {type(condition).__name__}",
                         param="condition")
    t0, t1 = check_span(start, end, max_span_days)
    min_dur = _check_number(min_duration_s, "the minimum duration", 0.0, 86_400.0, " s", "min_duration_s")
    tol = _check_number(tol_s, "the tolerance", 1e-3, 60.0, " s", "tol_s")
    env = _env(sat, kp, allow_stale)
    step = condition.step_s
    if 0.0 < min_dur < step:
        step = max(min_dur, tol)
    a, b = int(t0.astype(np.int64)), int(t1.astype(np.int64))
    step_ns = max(int(round(step * _NS)), 1)
    n = (b - a + step_ns - 1) // step_ns + 1
    runs = _Runs()
    prev = None
    for k0 in range(0, n, CHUNK):
        g = _grid(a, b, step_ns, k0, min(k0 + CHUNK, n))
        ok, fit = condition._eval(_Samples(g.astype("datetime64[ns]"), env))
        if prev is not None:
            g, ok, fit = (np.concatenate([[p], x]) for p, x in zip(prev, (g, ok, fit)))
        runs.add(g, ok, fit, prev is not None)
        prev = (g[-1], ok[-1], fit[-1])
    found = runs.close()
    if not found:
        return []
    brackets = [(r["lo"], r["first"], True) for r in found if r["lo"] is not None]
    brackets += [(r["last"], r["hi"], False) for r in found if r["hi"] is not None]
    refined = dict(zip([(x[0], x[2]) for x in brackets], _edges(condition, env, brackets, step, tol)))
    s_ns = np.array([a if r["lo"] is None else refined[(r["lo"], True)] for r in found], np.int64)
    e_ns = np.array([b if r["hi"] is None else refined[(r["last"], False)] for r in found], np.int64)
    keep = [i for i in range(len(found)) if (e_ns[i] - s_ns[i]) / _NS >= min_dur]
    found = [found[i] for i in keep]
    s_ns, e_ns = s_ns[keep], e_ns[keep]
    if not found:
        return []
    if condition.scored:
        peak, fit = _refine_peaks(condition, env, found, s_ns, e_ns, step, tol)
    else:
        peak, fit = s_ns + (e_ns - s_ns) // 2, np.ones(len(found))
    peak64 = peak.astype("datetime64[ns]")
    captions = np.atleast_1d(compute_scene(peak64, sat=env.sat, kp=env.kp, allow_stale=env.allow_stale,
                                           parts=("places", "lighting")).caption(lang))
    return [Window(np.datetime64(int(s), "ns"), np.datetime64(int(e), "ns"), peak64[i], (int(e) - int(s)) / _NS,
                   float(fit[i]), str(captions[i]), r["lo"] is None, r["hi"] is None)
            for i, (s, e, r) in enumerate(zip(s_ns, e_ns, found))]


# -- names of areas ------------------------------------------------------------------------------------
_AREA_ALIASES = {"usa": "United States", "us": "United States", "united states of america": "United States",
                 "america": "United States", "uk": "United Kingdom", "great britain": "United Kingdom",
                 "britain": "United Kingdom", "png": "Papua New Guinea", "pacific": "Pacific Ocean",
                 "atlantic": "Atlantic Ocean", "indian": "Indian Ocean", "mediterranean": "Mediterranean Sea"}
_SEPARATORS = re.compile(r"[\s\-\u2010\u2011\u2013.,'\u2018\u2019`]+")


_ARTICLES = ("the ", "l ", "la ", "le ", "les ")


def name_key(text: str) -> str:
    """Return the key names are matched by: folded (case and accents), separators made one space,
    a leading article dropped ('The  Pacific-Ocean' -> 'pacific ocean', "l'océan Pacifique" ->
    'ocean pacifique')."""
    from .inputs import fold

    key = _SEPARATORS.sub(" ", fold(str(text))).strip()
    for article in _ARTICLES:
        if key.startswith(article):
            return key[len(article):]
    return key


@dataclass(frozen=True)
class Area:
    """A named area of the globe as the captions name them: kind 'sea', 'country' or 'region'."""

    kind: str
    name: str
    ids: tuple[int, ...]  # indices into the places tables (sea_id, country_id or region_id)


def _area_index() -> dict[str, Area]:
    from .geo.caption import sea_fr
    from .geo.places import region_names, tables

    tab = tables()  # the names the places raster and the captions use (English and French)
    out: dict[str, Area] = {}
    regions: dict[str, list[int]] = {}
    for i, name in enumerate(region_names()):
        if name:
            regions.setdefault(str(name), []).append(i)
    for name, ids in regions.items():
        out.setdefault(name_key(name), Area("region", name, tuple(ids)))
    for i, (en, fr) in enumerate(zip(tab.country_en[:-1], tab.country_fr[:-1])):
        for n in (fr, en):  # English wins where both name something
            out[name_key(n)] = Area("country", str(en), (i,))
    for i, name in enumerate(tab.sea_en[:-1]):
        out.setdefault(name_key(sea_fr(name)), Area("sea", str(name), (i,)))
    for i, name in enumerate(tab.sea_en[:-1]):
        out[name_key(name)] = Area("sea", str(name), (i,))
    return out


_AREAS: dict[str, Area] | None = None


def find_area(text: str) -> Area | None:
    """Return the sea or ocean, country or first-level region called `text` (case, accents and
    separators do not matter; 'the' may lead), or None."""
    global _AREAS
    if _AREAS is None:
        _AREAS = _area_index()
    key = name_key(text)
    key = name_key(_AREA_ALIASES.get(key, key))
    return _AREAS.get(key)


def _unknown_area(text: str, what: str, param: str, place_error: InputError | None = None) -> InputError:
    find_area("")  # load the index
    close = difflib.get_close_matches(name_key(text), list(_AREAS), n=3, cutoff=0.75)
    names = [_AREAS[c].name for c in close]
    hint = f"; did you mean {', '.join(repr(n) for n in dict.fromkeys(names))}?" if names else ""
    if not hint and place_error is not None and "did you mean" in str(place_error):
        hint = "; did you mean" + str(place_error).split("did you mean", 1)[1].split("?")[0] + "?"
    return InputError(f"no {what} called {shown(text)}{hint}", param=param,
                      fix="name a sea or ocean, a country, a region or a GeoNames place, or give lat_deg and lon_deg")


def _latlon(lat, lon, param: str) -> tuple[float, float]:
    la = _check_number(lat, "the latitude", -90.0, 90.0, " deg", param)
    lo = _check_number(lon, "the longitude", -180.0, 360.0, " deg", param)
    return la, (lo if lo < 180.0 else lo - 360.0)


def _looks_like_latlon(text: str) -> bool:
    from .camera import looks_numeric

    return looks_numeric(text) or not re.search(r"[^\W\d_]", text)


def _resolve_point(target, lat_deg, lon_deg, param: str, what: str):
    """Return (lat, lon, name) of a place name, 'LAT,LON' text, a (lat, lon) pair or lat_deg/lon_deg."""
    from .inputs import place

    if target is None:
        if lat_deg is None or lon_deg is None:
            raise InputError(f"name a {what} or give both lat_deg and lon_deg", param=param)
        target = (lat_deg, lon_deg)
    if isinstance(target, str) and _looks_like_latlon(target.strip()):
        parts = [x.strip() for x in target.split(",")]
        try:
            if len(parts) != 2:
                raise ValueError
            target = (float(parts[0]), float(parts[1]))
        except ValueError:
            raise InputError(f"cannot read {target!r} as LAT,LON; write degrees, e.g. 48.85,2.35", param=param) from None
    if isinstance(target, (tuple, list, np.ndarray)) and len(target) == 2:
        la, lo = _latlon(target[0], target[1], param)
        return la, lo, f"{la:.3f}, {lo:.3f}"
    try:
        la, lo, name = place(str(target))
    except InputError as exc:
        raise _unknown_area(str(target), what, param, exc) from None
    return la, lo, name


def _great_circle_km(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2, float) - lon1)
    c = np.sin(p1) * np.sin(p2) + np.cos(p1) * np.cos(p2) * np.cos(dl)
    return R_EARTH_KM * np.arccos(np.clip(c, -1.0, 1.0))


# -- conditions ------------------------------------------------------------------------------------------
def _check_ground(kind) -> None:
    if kind not in GROUND_STATES:
        raise InputError(f"unknown ground state {shown(kind)}; use one of {', '.join(GROUND_STATES)}", param="ground")


def ground(kind: str) -> Condition:
    """Return the condition: the ground below the station is 'dark' (Sun below -6 deg there, the
    end of civil twilight), in 'twilight' (-6 to 0 deg) or 'lit' (the Sun above the horizon)."""
    _check_ground(kind)
    lo, hi = _GROUND_RANGES[kind]

    def fn(s):
        e = np.asarray(s.lighting.sun_elevation_below_deg, float)
        return (e >= lo) & (e < hi)

    return Condition(fn, GROUND_STEP_S, f"ground {kind}", parts={"lighting"}, cost=COST_LIGHTING)


def night() -> Condition:
    """Return the condition: the station in the Earth's shadow over dark ground (Sun below -6 deg)."""
    def fn(s):
        return ~np.asarray(s.state.sunlit, bool) & (s.lighting.sun_elevation_below_deg < CIVIL_DARK_SUN_ELEV_DEG)

    return Condition(fn, GROUND_STEP_S, "night", parts={"lighting"}, cost=COST_LIGHTING)


def day() -> Condition:
    """Return the condition: the station in sunlight over ground that is not dark (Sun above -6 deg)."""
    def fn(s):
        return np.asarray(s.state.sunlit, bool) & (s.lighting.sun_elevation_below_deg >= CIVIL_DARK_SUN_ELEV_DEG)

    return Condition(fn, GROUND_STEP_S, "day", parts={"lighting"}, cost=COST_LIGHTING)


def _with_ground(cond: Condition, ground_kind) -> Condition:
    if ground_kind is None:
        return cond
    return (cond & ground(ground_kind)).named(f"{cond.name}, ground {ground_kind}")


def _area_condition(area: Area) -> Condition:
    field = {"sea": "sea_id", "country": "country_id", "region": "region_id"}[area.kind]
    ids = np.array(area.ids)
    label = f"the {area.name}" if area.kind == "sea" else area.name

    def fn(s):
        return np.isin(np.asarray(getattr(s.places, field)), ids)

    return Condition(fn, AREA_STEP_S, f"over {label}", parts={"places"}, cost=COST_PLACES)


def _near_point(lat: float, lon: float, radius_km: float, label: str) -> Condition:
    def dist(s):
        return _great_circle_km(lat, lon, s.state.lat_deg, s.state.lon_deg)

    step = float(np.clip(radius_km / (2.0 * GROUND_SPEED_KM_S), 1.0, AREA_STEP_S))
    return Condition(lambda s: dist(s) <= radius_km, step, f"within {radius_km:,.0f} km of {label}",
                     score=lambda s: 1.0 - dist(s) / radius_km, cost=COST_STATE)


def over(region=None, *, lat_deg=None, lon_deg=None, radius_km: float | None = None, ground: str | None = None) -> Condition:
    """Return the condition: the station over a region.

    Args:
        region: a sea or ocean ('Pacific Ocean', 'the Coral Sea'), a country ('Canada',
            'Papouasie-Nouvelle-Guinée'), a first-level region ('Quebec', 'Texas') -- the names
            the captions use, matched without regard to case, accents or a leading 'the' -- or
            a GeoNames place ('Paris'), 'LAT,LON' text or a (lat, lon) pair, with `radius_km`.
            A region's name with `radius_km` is a place ('New York' alone is the state, with a
            radius the city); a sea or a country takes no radius.
        lat_deg, lon_deg: a point instead of `region`, with `radius_km`.
        radius_km: around a place or point (default ``PLACE_RADIUS_KM``, 1-5,000 km); the fit
            is 1 - distance / radius (1 straight above).
        ground: also require the ground below to be 'dark', 'lit' or 'twilight' (see :func:`ground`).
    Raises:
        InputError: an unknown name (with close names), coordinates or a radius out of range.
    """
    if ground is not None:
        _check_ground(ground)
    area = None
    if isinstance(region, str):
        if not region.strip():
            raise InputError("the region is empty; name a sea, a country, a region or a place", param="region")
        area = None if _looks_like_latlon(region.strip()) else find_area(region)
        if area is not None and (radius_km is None or area.kind != "region"):
            if radius_km is not None:
                raise InputError(f"a radius applies to a place or a point, not to the {area.kind} {area.name}",
                                 param="radius_km", fix="leave radius_km out for a sea, a country or a region")
            return _with_ground(_area_condition(area), ground)
    radius = PLACE_RADIUS_KM if radius_km is None else _check_number(radius_km, "the radius", 1.0, 5000.0, " km", "radius_km")
    try:
        lat, lon, name = _resolve_point(region, lat_deg, lon_deg, "region", "sea, ocean, country, region or place")
    except InputError:
        if isinstance(region, str) and area is not None:  # a radius, but no place of that name
            raise InputError(f"a radius applies to a place or a point, not to the {area.kind} {area.name}",
                             param="radius_km", fix="leave radius_km out for a sea, a country or a region") from None
        raise
    return _with_ground(_near_point(lat, lon, radius, name), ground)


def at_sea_near(country: str, bearing: str | None = None, coast: bool | None = None) -> Condition:
    """Return the condition: the station over the sea with `country` the nearest notable land, as
    the captions say it: ``coast=True`` 'off the coast of' (within ``OFF_COAST_KM``), a compass
    `bearing` ('NE': "northeast of", beyond OFF_COAST_KM), or either within ``FAR_KM``."""
    from .answers.i18n import COMPASS_CODES
    from .geo.caption import FAR_KM, OFF_COAST_KM

    area = find_area(country)
    if area is None or area.kind != "country":
        raise _unknown_area(country, "country", "region")
    if bearing is not None and bearing not in COMPASS_CODES:
        raise InputError(f"unknown bearing {bearing!r}; use one of {', '.join(COMPASS_CODES)}", param="bearing")
    cid = area.ids[0]

    def fn(s):
        p = s.places
        d = np.asarray(p.near_distance_km, float)
        ok = ~np.asarray(p.over_land, bool) & (np.asarray(p.sea_id) >= 0) & (np.asarray(p.near_id) == cid)
        with np.errstate(invalid="ignore"):
            if coast:
                return ok & (d <= OFF_COAST_KM)
            if bearing is not None:
                return ok & (np.asarray(p.near_bearing) == bearing) & (d > OFF_COAST_KM) & (d <= FAR_KM)
            return ok & (d <= FAR_KM)

    what = "off the coast of" if coast else (f"{bearing} of" if bearing else "near")
    return Condition(fn, AREA_STEP_S, f"at sea {what} {area.name}", parts={"places"}, cost=COST_PLACES)


def _aurora_sun_limit_deg(alt_km) -> np.ndarray:
    """Return the Sun elevation below the station above which no aurora can be visible: an oval
    point in view lies within the station's horizon arc plus the arc from the highest emission
    (an arc over which the Sun's elevation changes by at most the arc), and must be over ground
    where the Sun is below the oval's darkness threshold. Polar radius: the largest arcs."""
    from .phenomena.aurora import AURORA_LINES, DARK_SUN_ELEV_DEG

    top = max(line.peak_km for line in AURORA_LINES)
    a = np.asarray(alt_km, float)
    arc = np.degrees(np.arccos(WGS84_B_KM / (WGS84_A_KM + a)) + np.arccos(WGS84_B_KM / (WGS84_A_KM + top)))
    return DARK_SUN_ELEV_DEG + arc + 1.0


def aurora_in_view(dark_station: bool = False, hemisphere: str | None = None) -> Condition:
    """Return the condition: part of the statistical auroral oval (the Kp of the moment, see
    :mod:`cupola.phenomena.aurora`) is above the station's horizon over dark ground
    (``aurora.visible``); optionally with the station in the Earth's shadow and the nearest
    visible oval point in one `hemisphere` ('north' or 'south'). Fit: 1 over the oval, falling
    to 0 at ``AURORA_FIT_KM``. A cheap test (the Sun below the station too high for any oval
    point in view to be dark) runs first, so the oval is computed only where it can show."""
    if hemisphere not in (None, "north", "south"):
        raise InputError(f"hemisphere must be 'north' or 'south', got {shown(hemisphere)}", param="hemisphere")

    def possible(s):
        return np.asarray(s.lighting.sun_elevation_below_deg, float) < _aurora_sun_limit_deg(s.state.alt_km)

    def fn(s):
        a = s.aurora
        ok = np.asarray(a.visible, bool)
        if dark_station:
            ok &= ~np.asarray(s.state.sunlit, bool)
        if hemisphere:
            ok &= np.asarray(a.hemisphere) == hemisphere
        return ok

    def fit(s):
        return 1.0 - np.nan_to_num(np.asarray(s.aurora.distance_km, float), nan=AURORA_FIT_KM) / AURORA_FIT_KM

    name = "aurora in view" + (" from the station in shadow" if dark_station else "") + (
        f" ({hemisphere})" if hemisphere else "")
    pre = Condition(possible, AURORA_STEP_S, "aurora possible", parts={"lighting"}, cost=COST_LIGHTING)
    oval = Condition(fn, AURORA_STEP_S, name, parts={"aurora"}, score=fit, cost=COST_AURORA)
    return (pre & oval).named(name)


def near_sun_event(kind: str = "sunrise", within_min: float = 5.0) -> Condition:
    """Return the condition: an orbital sunrise (or sunset, or either) within `within_min` minutes
    (before or after) of the instant: the station's sunlight edges of
    :func:`cupola.lighting.next_sun_events`, the same instants a Scene reports. Fit: 1 at the
    event, 0 at `within_min` from it."""
    from .lighting import next_sun_events

    if kind not in SUN_EVENT_KINDS:
        raise InputError(f"unknown orbital event {shown(kind)}; use one of {', '.join(SUN_EVENT_KINDS)}", param="kind")
    n_min = _check_number(within_min, "the time from the orbital event", 0.05, 45.0, " min", "within_min")
    half = np.timedelta64(int(round(n_min * 60 * _NS)), "ns")

    def gap_s(s):
        t = np.asarray(s.t_utc, "datetime64[ns]").reshape(-1)
        rise, sset = next_sun_events(s.sat, t - half)
        gaps = []
        for ev, want in ((rise, kind != "sunset"), (sset, kind != "sunrise")):
            g = np.abs((ev - t).astype(np.int64)) / _NS
            gaps.append(np.where(want & ~np.isnat(ev) & (ev <= t + half), g, np.inf))
        return np.minimum(*gaps)

    label = "sunrise or sunset" if kind == "either" else kind
    return Condition(lambda s: gap_s(s) <= n_min * 60.0, min(SUN_EVENT_STEP_S, n_min * 60.0),
                     f"orbital {label} within {n_min:g} min", score=lambda s: 1.0 - gap_s(s) / (n_min * 60.0),
                     cost=COST_LIGHTING)


GALACTIC_CENTRE_RA_DEG, GALACTIC_CENTRE_DEC_DEG = 266.405, -28.936  # ICRS (Reid & Brunthaler 2004, Sgr A*)
_MILKY_WAY = {"milky way", "milky way core", "milky way centre", "milky way center", "galactic centre",
              "galactic center", "galactic core", "sgr a", "sagittarius a"}


def _sky_target(name: str):
    """Return ('body', key, label) or ('star', one-row StarCatalog, label) for a sky name."""
    from .inputs import fold, sky_object
    from .sky.bodies import BODY_KEYS
    from .sky.stars import NAMES, catalog

    key = name_key(name)
    if key in _MILKY_WAY:
        return "star", _fixed_point(GALACTIC_CENTRE_RA_DEG, GALACTIC_CENTRE_DEC_DEG, "Milky Way core"), \
            "the Milky Way core"
    try:
        look = sky_object(name)
    except InputError:
        words = list(BODY_KEYS) + sorted(NAMES.values()) + ["Milky Way core"]
        close = difflib.get_close_matches(fold(name), [fold(w) for w in words], n=3, cutoff=0.7)
        hint = f"; did you mean {', '.join(repr(w) for w in words if fold(w) in close)}?" if close else ""
        raise InputError(f"unknown sky object {shown(name)}{hint}", param="sky_name",
                         fix=f"name a body ({', '.join(BODY_KEYS)}), a bright star (Sirius, Vega, ...) or the Milky Way core") from None
    if look.body:
        return "body", look.body, look.name
    cat = catalog()
    k = int(np.flatnonzero((np.abs(cat.ra_deg - look.ra_deg) < 1e-9) & (np.abs(cat.dec_deg - look.dec_deg) < 1e-9))[0])
    return "star", cat.subset([k]), look.name


def _fixed_point(ra_deg: float, dec_deg: float, name: str):
    """Return a one-row StarCatalog of a fixed ICRS direction (no motion, no parallax)."""
    from .sky.stars import StarCatalog

    return StarCatalog(hip=np.array([0], np.int32), ra_deg=np.array([float(ra_deg)]),
                       dec_deg=np.array([float(dec_deg)]), parallax_mas=np.zeros(1), pm_ra_mas_yr=np.zeros(1),
                       pm_dec_mas_yr=np.zeros(1), hpmag=np.full(1, np.nan), bv=np.full(1, np.nan),
                       vmag=np.full(1, np.nan), name=np.array([name], object))


def sky_visible(name: str, ground_dark: bool = True) -> Condition:
    """Return the condition: a named star (IAU name, Hipparcos position with proper motion,
    parallax and aberration), the Sun, the Moon, a planet or the Milky Way core (the galactic
    centre, RA 266.405 deg, Dec -28.936 deg ICRS) above the Earth's limb seen from the station
    (the WGS84 ellipsoid grown by ``cupola.constants.ATMOSPHERE_KM``, as the Scene's sky), with
    the ground below dark unless ``ground_dark=False``. Fit: the height above the limb / 110 deg.

    A body's direction is geometric, from the station's state and the bundled ephemeris at hourly
    nodes (``cupola.ephemeris.body_teme_km``): without the light time and aberration of the Scene's
    ``bodies`` field (< 40 arcsec, ~0.2 s at the limb, which the station sweeps at ~4 deg/min), at a
    tenth of the cost over days of instants."""
    return _sky_condition(*_sky_target(name), ground_dark)


def _sky_condition(kind: str, what, label: str, ground_dark: bool) -> Condition:
    """Return sky_visible's condition for a ('body', key) or ('star', one-row StarCatalog) target."""
    from .ephemeris import body_teme_km
    from .sky.bodies import BODY_KEYS
    from .sky.stars import apparent_directions_teme
    from .view import limb_margin_deg

    def margin(s):
        r = np.asarray(s.state.r_teme_km, float).reshape(-1, 3)
        if kind == "body":
            d = unit(np.reshape(body_teme_km(BODY_KEYS[what], s.state.instants), (-1, 3)) - r)
            return np.asarray(limb_margin_deg(r, d, ATMOSPHERE_KM), float).reshape(-1)
        d = apparent_directions_teme(what, s.state)[..., 0, :]
        return np.asarray(limb_margin_deg(s.state.r_teme_km, d, ATMOSPHERE_KM), float).reshape(-1)

    cond = Condition(lambda s: margin(s) > 0.0, SKY_STEP_S, f"{label} above the limb",
                     score=lambda s: margin(s) / LIMB_FIT_DEG, cost=COST_SKY)
    return _with_ground(cond, "dark" if ground_dark else None)


def _observer_frame(lat, lon, height_km):
    """Return (ITRS position (m, 3), east, north, up (m, 3)) of WGS84 observers."""
    p = geodetic_to_itrs(lat, lon, height_km)
    b = enu_basis(lat, lon)
    return p.reshape(-1, 3), b[..., 0, :].reshape(-1, 3), b[..., 1, :].reshape(-1, 3), b[..., 2, :].reshape(-1, 3)


def _elevation_deg(r_itrs, p, up):
    """Return the station's elevation (deg) seen from observer `p` (geodetic horizon, no refraction)."""
    rho = np.asarray(r_itrs, float) - p
    return np.degrees(np.arcsin(np.clip(np.sum(rho * up, axis=-1) / np.linalg.norm(rho, axis=-1), -1.0, 1.0)))


def target_in_view(target=None, *, lat_deg=None, lon_deg=None, max_slant_km: float | None = None,
                   max_off_nadir_deg: float | None = None, min_elevation_deg: float = 0.0,
                   ground: str | None = None) -> Condition:
    """Return the condition: a ground place in view of the station -- the station above the
    place's horizon (or `min_elevation_deg` above it), optionally within a slant range
    `max_slant_km` and within `max_off_nadir_deg` of the station's (geodetic) nadir -- with,
    optionally, the `ground` at the place 'dark', 'lit' or 'twilight'.

    `target`: a GeoNames place name or a (lat, lon) pair (or lat_deg/lon_deg). Fit: the
    station's elevation seen from the place / 90 deg (1 straight overhead)."""
    from .lighting import sun_elevation_deg

    if ground is not None:
        _check_ground(ground)
    lat, lon, label = _resolve_point(target, lat_deg, lon_deg, "target", "place")
    min_el = _check_number(min_elevation_deg, "the minimum elevation", 0.0, 89.0, " deg", "min_elevation_deg")
    slant = None if max_slant_km is None else _check_number(max_slant_km, "the slant range", 1.0, 50_000.0, " km", "max_slant_km")
    nadir = None if max_off_nadir_deg is None else _check_number(max_off_nadir_deg, "the off-nadir angle", 0.01, 90.0,
                                                                 " deg", "max_off_nadir_deg")
    p, _e, _n, up = _observer_frame(lat, lon, 0.0)
    p, up = p[0], up[0]

    def el(s):
        return _elevation_deg(np.asarray(s.state.r_itrs_km, float).reshape(-1, 3), p, up)

    def fn(s):
        r = np.asarray(s.state.r_itrs_km, float).reshape(-1, 3)
        ok = el(s) >= min_el
        if slant is not None:
            ok &= np.linalg.norm(r - p, axis=-1) <= slant
        if nadir is not None:
            down = -enu_basis(np.asarray(s.state.lat_deg).reshape(-1), np.asarray(s.state.lon_deg).reshape(-1))[..., 2, :]
            cosang = np.sum(unit(p - r) * down, axis=-1)
            ok &= np.degrees(np.arccos(np.clip(cosang, -1.0, 1.0))) <= nadir
        if ground is not None:
            lo, hi = _GROUND_RANGES[ground]
            e = sun_elevation_deg(lat, lon, np.asarray(s.state.sun_teme_km, float).reshape(-1, 3), s.state.instants)
            ok &= (np.reshape(e, -1) >= lo) & (np.reshape(e, -1) < hi)
        return ok

    # Ground radius of the tightest limit, for the step: the station crosses it at ~7.5 km/s.
    radius = 2000.0
    if nadir is not None:
        radius = min(radius, 420.0 * math.tan(math.radians(min(nadir, 80.0))))
    if slant is not None:
        radius = min(radius, math.sqrt(max(slant**2 - 400.0**2, 1.0)))
    step = float(np.clip(radius / (2.0 * GROUND_SPEED_KM_S), 1.0, TARGET_STEP_S))
    words = [f"{label} in view"] + ([f"within {slant:,.0f} km"] if slant else []) + (
        [f"within {nadir:g} deg of nadir"] if nadir else []) + ([f"ground {ground}"] if ground else [])
    return Condition(fn, step, ", ".join(words), score=lambda s: el(s) / 90.0, cost=COST_STATE)


# -- when a camera's target is next in view ---------------------------------------------------------
NEXT_VIEW_SPANS_DAYS = (0.125, 1.0, 3.0)  # searched in turn: the next orbit, the next day, three days


def look_in_view(look) -> Condition | None:
    """Return the condition that what a camera :class:`~cupola.camera.Look` names is in the
    station's view, as a render checks it (``cupola.camera.attitude.why_not_in_view``): a ground
    target above the station's horizon, a body or sky direction above the Earth's limb and its
    ``ATMOSPHERE_KM`` of air; None for a nadir or horizon look, which always sees something."""
    if look.mode == "target":
        return target_in_view(lat_deg=look.lat_deg, lon_deg=look.lon_deg).named(f"{look.name or look.text} in view")
    if look.mode != "sky":
        return None
    label = look.name or look.text
    if look.body:
        return _sky_condition("body", look.body, label, ground_dark=False)
    return _sky_condition("star", _fixed_point(look.ra_deg, look.dec_deg, label), label, ground_dark=False)


def next_in_view(look, after, *, sat=None, kp: float | None = None, allow_stale: bool = False) -> Window | None:
    """Return the first :class:`Window` after `after` in which `look`'s target is in view (see
    :func:`look_in_view`), searched over the next orbit, then day, then three days (edges to 1 s);
    None when it is not in view within three days, for a look that always is, or where the
    element sets stop being usable before a window is found."""
    from .errors import CupolaError

    cond = look_in_view(look)
    if cond is None:
        return None
    t0 = to_utc64(after)
    for days in NEXT_VIEW_SPANS_DAYS:
        try:
            found = windows(cond, t0, t0 + np.timedelta64(int(days * 86_400 * _NS), "ns"), sat=sat, kp=kp,
                            allow_stale=allow_stale)
        except CupolaError:
            return None
        later = [w for w in found if not w.clipped_start]
        if later:
            return later[0]
    return None


def next_view_text(look, after, **kw) -> str:
    """Return when `look`'s target is next in view after `after`, as words for a refusal:
    'next in view from 2024-01-22T14:37:12Z to 2024-01-22T14:44:04Z (in 4 h 37 min, for 6 min;
    best at 2024-01-22T14:40:37Z)' (target:Paris after 10:00), or that it is not in view in the
    three days after it. The start is a whole second inside the window, so rendering then works."""
    w = next_in_view(look, after, **kw)
    if w is None:
        days = NEXT_VIEW_SPANS_DAYS[-1]
        return f"not in view in the {days:g} days after it"
    # The first whole second past the edge and one more: the edge is found to 1 s, and a body's
    # geometric direction here differs from the Scene's apparent one by up to ~0.2 s at the limb.
    start = np.datetime64(-(-int(w.start_utc.astype("datetime64[ns]").astype(np.int64)) // _NS) + 1, "s")
    wait_s = (start - to_utc64(after)).astype("timedelta64[ns]").astype(np.int64) / _NS
    return (f"next in view from {iso_utc(start)} to {iso_utc(w.end_utc)} (in {_duration_words(wait_s)}, "
            f"for {_duration_words(w.duration_s)}; best at {iso_utc(w.peak_utc)})")


@contextlib.contextmanager
def saying_when_in_view(look, after, *, sat=None, kp: float | None = None, allow_stale: bool = False,
                        applies: bool = True):
    """Add to a refusal of a Look out of view (an InputError with param 'force') raised inside the
    block when its target is next in view after `after` (:func:`next_view_text`); the command line
    and the web wrap their renders in it."""
    try:
        yield
    except InputError as exc:
        if exc.param != "force" or not applies:
            raise
        when = next_view_text(look, after, sat=sat, kp=kp, allow_stale=allow_stale)
        raise InputError(f"{exc.detail}; {when}", param="force", fix=exc.fix) from None


def _duration_words(seconds: float) -> str:
    s = round(float(seconds))
    d, s = divmod(s, 86_400)
    h, s = divmod(s, 3_600)
    m, s = divmod(s, 60)
    parts = [f"{d} d"] * bool(d) + [f"{h} h"] * bool(h) + [f"{m} min"] * bool(m)
    return " ".join(parts[:2]) if parts else f"{s} s"


# -- ground passes ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pass:
    """One pass of the station over an observer's sky (times UTC, angles deg, range km)."""

    rise_utc: np.datetime64  # the station climbs through the minimum elevation
    culmination_utc: np.datetime64
    set_utc: np.datetime64
    max_elevation_deg: float
    rise_azimuth_deg: float
    culmination_azimuth_deg: float
    set_azimuth_deg: float
    range_km: float  # at culmination
    sunlit: bool  # the station in sunlight at culmination (geometric shadow, as State.sunlit)
    observer_sun_elevation_deg: float  # the Sun seen from the observer at culmination
    visible: bool  # sunlit over an observer whose Sun is below VISIBLE_PASS_SUN_DEG
    magnitude: float  # at culmination (see the module docstring); NaN in shadow or for another satellite

    @property
    def duration_s(self) -> float:
        return float((self.set_utc - self.rise_utc).astype("timedelta64[ns]").astype(np.int64)) / _NS

    def as_dict(self) -> dict:
        """Return the pass as JSON-ready values."""
        mag = None if not math.isfinite(self.magnitude) else round(self.magnitude, 1)
        return {"rise_utc": iso_utc(self.rise_utc), "culmination_utc": iso_utc(self.culmination_utc),
                "set_utc": iso_utc(self.set_utc), "max_elevation_deg": round(self.max_elevation_deg, 2),
                "rise_azimuth_deg": round(self.rise_azimuth_deg, 1),
                "culmination_azimuth_deg": round(self.culmination_azimuth_deg, 1),
                "set_azimuth_deg": round(self.set_azimuth_deg, 1), "range_km": round(self.range_km, 1),
                "duration_s": round(self.duration_s, 1), "sunlit": self.sunlit,
                "observer_sun_elevation_deg": round(self.observer_sun_elevation_deg, 2), "visible": self.visible,
                "magnitude": mag}


def _topo(st, p, up, rows, repeat: int = 1):
    """Return (sin elevation, its rate per second) of the station's states `st` seen from observers
    `rows` (one row per state; with `repeat` m, the states are taken for each of m observers in turn).
    The rate is d/dt (rho.up / |rho|) with the observer fixed in ITRS: its sign is the elevation's."""
    r = np.tile(np.asarray(st.r_itrs_km, float).reshape(-1, 3), (repeat, 1))
    v = np.tile(np.asarray(st.v_itrs_km_s, float).reshape(-1, 3), (repeat, 1))
    rho = r - p[rows]
    u = up[rows]
    d = np.linalg.norm(rho, axis=-1)
    s = np.sum(rho * u, axis=-1)
    return s / d, np.sum(v * u, axis=-1) / d - s * np.sum(rho * v, axis=-1) / d**3


def _roots_rows(lo, hi, g_lo, g_hi, g, rows, tol_ns):
    """Return, for each bracket (lo, hi) of ns times where the continuous g(t_ns, rows) changes
    sign, its root to `tol_ns`: regula falsi with the Illinois step (the end that stays is halved),
    all brackets at once; it converges superlinearly, in ~5 evaluations from a minute to a
    millisecond, where bisection needs 16."""
    lo, hi = lo.astype(float), hi.astype(float)
    g_lo, g_hi = g_lo.astype(float), g_hi.astype(float)
    t = 0.5 * (lo + hi)
    side = np.zeros(lo.size, np.int8)
    active = np.ones(lo.size, bool)
    for _ in range(60):
        k = np.flatnonzero(active)
        if k.size == 0:
            break
        new = hi[k] - g_hi[k] * (hi[k] - lo[k]) / (g_hi[k] - g_lo[k])
        new = np.where(np.isfinite(new) & (new > lo[k]) & (new < hi[k]), new, 0.5 * (lo[k] + hi[k]))
        gn = g(np.rint(new).astype(np.int64), rows[k])
        with_hi = np.sign(gn) == np.sign(g_hi[k])
        kh, kl = k[with_hi], k[~with_hi]
        hi[kh], g_hi[kh] = new[with_hi], gn[with_hi]
        g_lo[kh] *= np.where(side[kh] == 1, 0.5, 1.0)
        side[kh] = 1
        lo[kl], g_lo[kl] = new[~with_hi], gn[~with_hi]
        g_hi[kl] *= np.where(side[kl] == -1, 0.5, 1.0)
        side[kl] = -1
        done = (np.abs(new - t[k]) < tol_ns / 2.0) | (hi[k] - lo[k] < tol_ns) | (gn == 0.0)
        t[k] = new
        active[k[done]] = False
    return np.rint(t).astype(np.int64)


def _states(t_ns: np.ndarray, env: _Env):
    return compute_scene(np.asarray(t_ns, np.int64).astype("datetime64[ns]"), sat=env.sat,
                         allow_stale=env.allow_stale, parts=()).state


def passes(observer_lat, observer_lon, start, end, min_elevation_deg: float = 10.0, observer_height_km=0.0,
           sat=None, allow_stale: bool = False, max_span_days: float = MAX_SPAN_DAYS):
    """Return the passes of the station seen from an observer (or from each of many), in time order.

    Args:
        observer_lat, observer_lon: WGS84 geodetic degrees; scalars, or arrays (one per observer).
        start, end: the span; a pass belongs to it when its culmination does.
        min_elevation_deg: a pass must climb this high (0-89 deg); rise and set are where the
            station crosses it.
        observer_height_km: above the WGS84 ellipsoid (-0.5 to 9 km).
        sat: the Satellite (default: the ISS with the bundled element sets).
        allow_stale: answer where the element sets are too far from the instants to be trusted.
    Returns:
        list of :class:`Pass` for one observer; a list of such lists for arrays of observers.
        Times are located to ``PASS_TOL_S``. See the module docstring for the model.
    """
    t0, t1 = check_span(start, end, max_span_days)
    scalar = np.ndim(observer_lat) == 0 and np.ndim(observer_lon) == 0
    lat = np.atleast_1d(np.asarray(observer_lat, float)).ravel()
    lon = np.atleast_1d(np.asarray(observer_lon, float)).ravel()
    if lat.size != lon.size:
        raise InputError(f"{lat.size} observer latitudes but {lon.size} longitudes; give one longitude per latitude",
                         param="observer")
    if not lat.size:
        return []
    for la, lo in zip(lat, lon):
        if not (math.isfinite(la) and math.isfinite(lo) and -90.0 <= la <= 90.0 and -180.0 <= lo <= 360.0):
            raise InputError(f"an observer must be at latitude -90..90 and longitude -180..360 deg, got {float(la)!r}, "
                             f"{float(lo)!r}", param="observer")
    min_el = _check_number(min_elevation_deg, "the minimum elevation", 0.0, 89.0, " deg", "min_elevation_deg")
    try:
        height = np.broadcast_to(np.asarray(observer_height_km, float), lat.shape)
    except (TypeError, ValueError):  # text that is no number, or a shape that is not the observers'
        height = np.full(lat.shape, np.nan)
    if not (np.all(np.isfinite(height)) and np.all((height >= -0.5) & (height <= 9.0))):
        raise InputError(f"the observer's height must be -0.5 to 9 km, got {observer_height_km!r}",
                         param="observer_height_km")
    env = _env(sat, None, allow_stale)
    p, east, north, up = _observer_frame(lat, lon, height)
    m = lat.size
    step = int(PASS_STEP_S * _NS)
    a = int(t0.astype(np.int64)) - int(PASS_MARGIN_S * _NS)
    b = int(t1.astype(np.int64)) + int(PASS_MARGIN_S * _NS)
    n = (b - a + step - 1) // step + 1
    tol = int(PASS_TOL_S * _NS)
    # 1. Coarse samples, in chunks: brackets of maxima and of minima of each observer's elevation.
    max_lo, max_row, min_t, min_row = [], [], [], []
    prev = None
    per = max(5 * CHUNK // m, 256)  # instants a chunk (x observers: ~100,000 rows)
    for k0 in range(0, n, per):
        g = _grid(a, b, step, k0, min(k0 + per, n))
        st = _states(g, env)
        rows = np.repeat(np.arange(m), g.size)
        rising = (_topo(st, p, up, rows, repeat=m)[1] > 0.0).reshape(m, g.size)
        if prev is not None:
            g = np.concatenate([[prev[0]], g])
            rising = np.concatenate([prev[1][:, None], rising], axis=1)
        oi, ti = np.nonzero(rising[:, :-1] & ~rising[:, 1:])
        max_lo.append(g[ti])
        max_row.append(oi)
        oi, ti = np.nonzero(~rising[:, :-1] & rising[:, 1:])
        min_t.append(g[ti + 1])  # the first rising sample after a minimum
        min_row.append(oi)
        prev = (g[-1], rising[:, -1])
    max_lo, max_row = np.concatenate(max_lo), np.concatenate(max_row)
    min_t, min_row = np.concatenate(min_t), np.concatenate(min_row)

    sin_min = math.sin(math.radians(min_el))

    def rate_at(t, rows):
        return _topo(_states(t, env), p, up, rows)[1]

    def above_at(t, rows):
        return _topo(_states(t, env), p, up, rows)[0] - sin_min

    # 2. Culminations (the rate's roots), then those high enough and inside the span.
    if max_lo.size == 0:
        return [] if scalar else [[] for _ in range(m)]
    max_hi = np.minimum(max_lo + step, b)
    tc = _roots_rows(max_lo, max_hi, rate_at(max_lo, max_row), rate_at(max_hi, max_row), rate_at, max_row, tol)
    el_c = _topo(_states(tc, env), p, up, max_row)[0]
    keep = (el_c >= sin_min) & (tc >= int(t0.astype(np.int64))) & (tc <= int(t1.astype(np.int64)))
    tc, rows = tc[keep], max_row[keep]
    # 3. Rise and set, each on a monotone side: from the minimum before to the culmination, and
    # from the culmination to the minimum after (the grid's ends where a minimum lies beyond).
    # Keys in whole seconds, observer-major: row * span + seconds from the grid's start.
    span_s = (b - a) // _NS + 2
    key_min = np.sort(min_row.astype(np.int64) * span_s + (min_t - a) // _NS)
    key_c = rows.astype(np.int64) * span_s + (tc - a) // _NS
    first = rows.astype(np.int64) * span_s
    j = np.searchsorted(key_min, key_c)
    if key_min.size:
        prev_k, next_k = key_min[np.maximum(j - 1, 0)], key_min[np.minimum(j, key_min.size - 1)]
        before = np.where((j > 0) & (prev_k >= first), a + (prev_k - first) * _NS, a)
        after = np.where((j < key_min.size) & (next_k < first + span_s), a + (next_k - first) * _NS - step, b)
    else:
        before, after = np.full(tc.size, a), np.full(tc.size, b)
    after = np.maximum(after, tc + tol)
    g_before, g_after, g_c = np.split(above_at(np.concatenate([before, after, tc]), np.tile(rows, 3)), 3)
    ok_rise, ok_set = g_before < 0.0, g_after < 0.0
    rise = np.where(ok_rise, _roots_rows(before, tc, g_before, g_c, above_at, rows, tol), 0)
    sets = np.where(ok_set, _roots_rows(tc, after, g_c, g_after, above_at, rows, tol), 0)
    return _passes_out(env, p, east, north, up, rows, rise, tc, sets, ok_rise, ok_set, lat, lon, m, scalar)


def _azimuth_deg(rho, east, north):
    return np.degrees(np.arctan2(np.sum(rho * east, axis=-1), np.sum(rho * north, axis=-1))) % 360.0


def _passes_out(env, p, east, north, up, rows, rise, tc, sets, ok_rise, ok_set, lat, lon, m, scalar):
    from .lighting import sun_elevation_deg

    k = rows.size
    if k == 0:
        return [] if scalar else [[] for _ in range(m)]
    t_all = np.concatenate([np.where(ok_rise, rise, tc), tc, np.where(ok_set, sets, tc)])
    st = _states(t_all, env)
    r = np.asarray(st.r_itrs_km, float).reshape(-1, 3)
    rr = np.concatenate([rows, rows, rows])
    rho = r - p[rr]
    el = np.degrees(np.arcsin(np.clip(np.sum(rho * up[rr], axis=-1) / np.linalg.norm(rho, axis=-1), -1.0, 1.0)))
    az = _azimuth_deg(rho, east[rr], north[rr])
    c = slice(k, 2 * k)
    rng = np.linalg.norm(rho[c], axis=-1)
    sunlit = np.asarray(st.sunlit, bool).reshape(-1)[c]
    sun_teme = np.asarray(st.sun_teme_km, float).reshape(-1, 3)[c]
    inst_c = st.instants[np.arange(k, 2 * k)]
    obs_sun = np.reshape(sun_elevation_deg(lat[rows], lon[rows], sun_teme, inst_c), -1)
    sun_itrs = rotate_z(sun_teme, np.reshape(gmst82(inst_c)[0], -1))
    phase = np.arccos(np.clip(np.sum(unit(sun_itrs - r[c]) * unit(-rho[c]), axis=-1), -1.0, 1.0))
    f = np.sin(phase) + (np.pi - phase) * np.cos(phase)
    is_iss = int(env.sat.archive.sets[0].satnum) == ISS_NORAD_ID
    mag = ISS_STANDARD_MAG + 5.0 * np.log10(rng / 1000.0) - 2.5 * np.log10(np.maximum(f, 1e-6))
    mag = np.where(sunlit & is_iss, mag, np.nan)
    nat = np.datetime64("NaT", "ns")
    out: list[list[Pass]] = [[] for _ in range(m)]
    order = np.lexsort((tc, rows))
    for i in order:
        out[rows[i]].append(Pass(
            rise_utc=np.datetime64(int(rise[i]), "ns") if ok_rise[i] else nat,
            culmination_utc=np.datetime64(int(tc[i]), "ns"),
            set_utc=np.datetime64(int(sets[i]), "ns") if ok_set[i] else nat,
            max_elevation_deg=float(el[k + i]), rise_azimuth_deg=float(az[i]) if ok_rise[i] else math.nan,
            culmination_azimuth_deg=float(az[k + i]), set_azimuth_deg=float(az[2 * k + i]) if ok_set[i] else math.nan,
            range_km=float(rng[i]), sunlit=bool(sunlit[i]), observer_sun_elevation_deg=float(obs_sun[i]),
            visible=bool(sunlit[i] and obs_sun[i] < VISIBLE_PASS_SUN_DEG), magnitude=float(mag[i])))
    return out[0] if scalar else out


# -- text for the command line and other front ends ------------------------------------------------------
def parse_observer(text: str) -> tuple[float, float, str]:
    """Return (lat_deg, lon_deg, name) from 'LAT,LON' ('48.85,2.35') or a GeoNames place name."""
    return _resolve_point(str(text).strip(), None, None, "observer", "place")


def _hms(seconds: float) -> str:
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    mi, sec = divmod(rem, 60)
    return f"{h}:{mi:02d}:{sec:02d}" if h else f"{mi}:{sec:02d}"


PLAN_KINDS = ("passes", "aurora", "over", "sunrise", "sunset", "sky")


def search(kind: str, start, end, *, where=None, min_elevation_deg: float = 10.0, observer_height_km: float = 0.0,
           hemisphere: str | None = None, region=None, radius_km: float | None = None, ground: str | None = None,
           within_min: float = 5.0, sky_name=None, ground_dark: bool = True, at_night: bool = False,
           min_duration_s: float = 0.0, sat=None, kp: float | None = None, allow_stale: bool = False,
           lang: str = "en") -> tuple[str, list]:
    """Return (what was searched, in words; the :class:`Pass` or :class:`Window` list) for one kind
    of plan, from the options the command line and the web take alike.

    Args:
        kind: one of :data:`PLAN_KINDS`: 'passes' (over the observer `where`, 'LAT,LON' or a place,
            above `min_elevation_deg`), 'aurora' (the oval in view, optionally one `hemisphere`), 'over'
            (`region`, within `radius_km`, over `ground`), 'sunrise'/'sunset' (within `within_min`
            minutes of one), 'sky' (`sky_name` above the limb, over dark ground if `ground_dark`).
        at_night: windows only with the station in shadow over dark ground (not for 'passes').
        the rest: as for :func:`windows` and :func:`passes`.
    Raises:
        InputError: (param 'kind') an unknown kind, and whatever the makers and searches refuse.
    """
    if kind not in PLAN_KINDS:
        raise InputError(f"unknown plan {shown(kind)}; use one of {', '.join(PLAN_KINDS)}", param="kind")
    if kind == "passes":
        if where is None:
            raise InputError("passes need an observer: a place or LAT,LON", param="observer")
        lat, lon, name = parse_observer(where)
        found = passes(lat, lon, start, end, min_elevation_deg=min_elevation_deg,
                       observer_height_km=observer_height_km, sat=sat, allow_stale=allow_stale)
        return f"passes above {min_elevation_deg:g} deg seen from {name}", found
    if kind == "aurora":
        cond = aurora_in_view(hemisphere=hemisphere)
    elif kind == "over":
        if region is None:
            raise InputError("'over' needs a sea, country, region, place or LAT,LON", param="region")
        cond = over(region, radius_km=radius_km, ground=ground)
    elif kind in ("sunrise", "sunset"):
        cond = near_sun_event(kind, within_min)
    else:
        if sky_name is None:
            raise InputError("'sky' needs a star, planet, the Moon or 'Milky Way core'", param="sky_name")
        cond = sky_visible(sky_name, ground_dark=ground_dark)
    if at_night:
        cond = cond & night()
    found = windows(cond, start, end, min_duration_s=min_duration_s, sat=sat, kp=kp, allow_stale=allow_stale,
                    lang=lang)
    return cond.name, found


def windows_table(found: list[Window]) -> list[str]:
    """Return text lines: one window a line (start, end, peak, duration, caption at the peak)."""
    lines = [f"{'start (UTC)':20}  {'end (UTC)':20}  {'peak (UTC)':20}  {'duration':>8}  caption at peak"]
    for w in found:
        lines.append(f"{iso_utc(w.start_utc):20}  {iso_utc(w.end_utc):20}  {iso_utc(w.peak_utc):20}  "
                     f"{_hms(w.duration_s):>8}  {w.caption}")
    return lines


def passes_table(found: list[Pass]) -> list[str]:
    """Return text lines: one pass a line (rise, culmination, set, max elevation, light, magnitude)."""
    lines = [f"{'rise (UTC)':20} {'az':>4}  {'culmination (UTC)':20} {'max el':>6} {'az':>4}  {'set (UTC)':20} "
             f"{'az':>4}  {'sunlit':6} {'visible':7} {'mag':>5}"]

    def t(x):
        return "-" if np.isnat(x) else iso_utc(x)

    def az(x):
        return "-" if not math.isfinite(x) else f"{x:.0f}"

    for ps in found:
        mag = f"{ps.magnitude:.1f}" if math.isfinite(ps.magnitude) else "-"
        lines.append(f"{t(ps.rise_utc):20} {az(ps.rise_azimuth_deg):>4}  {t(ps.culmination_utc):20} "
                     f"{ps.max_elevation_deg:6.1f} {az(ps.culmination_azimuth_deg):>4}  {t(ps.set_utc):20} "
                     f"{az(ps.set_azimuth_deg):>4}  {'yes' if ps.sunlit else 'no':6} {'yes' if ps.visible else 'no':7} "
                     f"{mag:>5}")
    return lines


__all__ = [
    "Condition", "Window", "Pass", "Area", "windows", "passes", "check_span", "find_area", "name_key",
    "over", "at_sea_near", "ground", "night", "day", "aurora_in_view", "near_sun_event", "sky_visible",
    "target_in_view", "windows_table", "passes_table", "search", "PLAN_KINDS", "saying_when_in_view", "MAX_SPAN_DAYS", "CHUNK", "GROUND_STATES",
    "SUN_EVENT_KINDS", "GALACTIC_CENTRE_RA_DEG", "GALACTIC_CENTRE_DEC_DEG", "ISS_STANDARD_MAG",
]

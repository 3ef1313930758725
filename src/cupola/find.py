"""Find: the instants a caption-like description could be about, ranked by how well they fit.

A description is the kind of words NASA puts under a photograph ("258 miles above the Pacific
Ocean northeast of Papua New Guinea", "over Quebec", "off the coast of Chile", "at night", "just
before orbital sunrise", "aurora", "city lights below"), optionally with flags (night or day,
aurora, sunrise or sunset). :func:`parse_description` reads it into what cupola can search: a sea
or ocean, a country or first-level region (the names the captions use), its relation (over it,
a compass bearing from it, off its coast), a GeoNames place after 'over'/'above', the light
(night, day, orbital sunrise or sunset nearby), aurora (and its hemisphere: borealis/australis),
city lights and an altitude.

:func:`find` turns that into a *relaxed* :mod:`cupola.plan` condition -- the sea and the nearest
land, without the bearing; the light; the aurora -- searches its windows, and scores instants
along each window (its caption read up to ``FINE_SAMPLES`` times, at most every second) by how
well the station's caption there says what the description says; the instants where it says
the most are scored in full (up to ``CANDIDATES_PER_WINDOW`` of them). One candidate per window
(its best instant), best first. The score, 0..1, is a weighted mean of:

* words (``W_WORDS``): the share of the description's caption words -- names of seas, countries
  and regions, compass words, 'coast', the light's words -- that the generated caption has;
* the fit of the conditions there (``W_FIT``, see :class:`cupola.plan.Condition`);
* extent (``W_EXTENT``): how long the caption says that much in the window, full at
  ``EXTENT_FULL_S`` -- a photograph is likelier to fall in a minute that fits than in 4 s that do;
* city lights (``W_LIGHTS``, when the description mentions them): B / (B + ``LIGHTS_HALF``) with B
  the sum of population / slant range^2 of the lit cities in view (the Scene's ``cities``);
* altitude (``W_ALTITUDE``, when it gives one): exp(-|difference| / ``ALTITUDE_SCALE_KM``).

So an exact caption match outranks any near miss, and among exact matches the conditions' fits
(nearest the oval, nearest the sunrise, brightest lights) decide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from . import plan
from .constants import KM_PER_MILE
from .errors import InputError
from .scene import compute_scene
from .timebase import iso_utc

SUN_EVENT_MIN = 10.0  # "at sunrise": an orbital sunrise within this many minutes
CANDIDATES_PER_WINDOW = 30  # instants of a window scored in full (the best-worded ones)
FINE_SAMPLES = 300  # a window's caption is read at most this many times (every second at most)
W_WORDS, W_FIT, W_EXTENT, W_LIGHTS, W_ALTITUDE = 0.6, 0.25, 0.1, 0.15, 0.1
EXTENT_FULL_S = 60.0  # a description that holds this long around a candidate gets the full extent term
LIGHTS_HALF = 10.0  # people / km^2 of lit cities in view (sum of population / slant^2) that fit 0.5
ALTITUDE_SCALE_KM = 10.0
MAX_CANDIDATES = 10

_COMPASS = {"north": "N", "northeast": "NE", "east": "E", "southeast": "SE", "south": "S", "southwest": "SW",
            "west": "W", "northwest": "NW"}
_COMPASS_FR = {"nord": "N", "nord est": "NE", "est": "E", "sud est": "SE", "sud": "S", "sud ouest": "SW",
               "ouest": "W", "nord ouest": "NW"}
_PHASE_WORDS = {"night": "night", "nighttime": "night", "nuit": "night", "daylight": "day", "day": "day",
                "daytime": "day", "jour": "day", "sunrise": "sunrise", "dawn": "sunrise", "lever": "sunrise",
                "sunset": "sunset", "dusk": "sunset", "coucher": "sunset"}
# The words each light puts into a generated caption (geo.caption's phase phrases).
_FLAG_WORDS = {"night": {"night"}, "day": {"daylight"}, "sunrise": {"sunrise"}, "sunset": {"sunset"}}
_AURORA_NORTH = {"borealis", "boreale", "boreales", "northern lights"}
_AURORA_SOUTH = {"australis", "australe", "australes", "southern lights"}
_AURORA = {"aurora", "auroras", "aurorae", "aurore", "aurores"} | _AURORA_NORTH | _AURORA_SOUTH
_LIGHTS = {"city lights", "lights", "cities", "lumieres", "eclairages", "villes"}
_OVER = ("over", "above", "across", "au dessus de", "au dessus du", "au dessus des", "sur")
_END_WORDS = {"at", "with", "during", "just", "in", "while", "as", "and", "before", "after", "near", "under",
              "de", "du", "la", "le", "pendant", "avec"}


def _tokens(text: str) -> list[str]:
    """Return the folded words of `text`, with 'north east' and 'north-east' made 'northeast'."""
    words = plan.name_key(text).split() if text else []
    out: list[str] = []
    for w in words:
        if out and out[-1] in ("north", "south") and w in ("east", "west"):
            out[-1] += w
        else:
            out.append(w)
    return out


@dataclass(frozen=True)
class Description:
    """What a caption-like description asks for, as :func:`find` searches it."""

    text: str
    sea: plan.Area | None = None
    land: plan.Area | None = None
    relation: str | None = None  # 'over', 'bearing' or 'coast' (for `land`)
    bearing: str | None = None  # compass code of the station from `land` ('NE')
    place: str | None = None  # a GeoNames place after 'over' or 'above'
    light: frozenset = frozenset()  # of 'night', 'day', 'sunrise', 'sunset'
    aurora: bool = False
    hemisphere: str | None = None
    lights: bool = False
    altitude_km: float | None = None
    words: frozenset = field(default_factory=frozenset)  # the caption words expected

    def conditions(self) -> list[plan.Condition]:
        """Return the relaxed search conditions (their & is searched)."""
        out = []
        if self.sea is not None:
            out.append(plan.over(self.sea.name))
        if self.land is not None:
            if self.relation in ("bearing", "coast"):
                out.append(plan.at_sea_near(self.land.name))
            else:
                out.append(plan.over(self.land.name))
        if self.place is not None:
            out.append(plan.over(self.place))
        if "night" in self.light:
            out.append(plan.night())
        if "day" in self.light:
            out.append(plan.day())
        events = self.light & {"sunrise", "sunset"}
        if events:
            out.append(plan.near_sun_event("either" if len(events) == 2 else next(iter(events)), SUN_EVENT_MIN))
        if self.aurora:
            out.append(plan.aurora_in_view(hemisphere=self.hemisphere))
        return out


def _find_names(text: str):
    """Return [(start, end, Area)] of the sea, country and (after 'over'/'above') region names in
    the folded `text`, longest first, not overlapping."""
    plan.find_area("")
    hits = []
    padded = f" {text} "
    for key, area in plan._AREAS.items():
        if len(key) < 3:
            continue
        for m in re.finditer(rf"(?<= ){re.escape(key)}(?= )", padded):
            a, b = m.start() - 1, m.end() - 1
            before = text[:a].rstrip()
            if area.kind == "region" and not any(before.endswith(w) for w in _OVER):
                continue
            hits.append((a, b, area))
    hits.sort(key=lambda h: (-(h[1] - h[0]), h[0]))
    taken: list[tuple[int, int, plan.Area]] = []
    for h in hits:
        if all(h[1] <= t[0] or h[0] >= t[1] for t in taken):
            taken.append(h)
    return sorted(taken, key=lambda h: h[0])


def _named_after_its_city(area) -> bool:
    """Return True when a region bears the name of a city inside it (Paris, Berlin, Vienna): the
    words then mean the city, searched as a place with its radius, not the region's boundary."""
    from .geo.places import locate
    from .inputs import place

    try:
        lat, lon, _name = place(area.name)
    except InputError:
        return False
    return int(locate(lat, lon).region_id) in area.ids


def parse_description(text: str, night: bool = False, day: bool = False, aurora: bool = False,
                      sunrise: bool = False, sunset: bool = False) -> Description:
    """Return the :class:`Description` of a caption-like `text` and the flags given with it.

    Raises:
        InputError: (param 'description') an empty text, or one that names nothing cupola can
            search (no sea, country, region or place, no light, no aurora); night and day together.
    """
    if night and day:
        raise InputError("night and day exclude each other; give one", param="night")
    raw = str(text or "").strip()
    folded = " ".join(_tokens(raw))
    if not folded and not (night or day or aurora or sunrise or sunset):
        raise InputError("the description is empty; describe the photograph, e.g. 'over Quebec at night'",
                         param="description")
    words = set(folded.split())
    light = {_PHASE_WORDS[w] for w in words if w in _PHASE_WORDS}
    light |= {k for k, flag in (("night", night), ("day", day), ("sunrise", sunrise), ("sunset", sunset)) if flag}
    if {"night", "day"} <= light:
        light.discard("night" if day else "day")
    padded = f" {folded} "

    def has(phrases) -> bool:
        return any(f" {p} " in padded for p in phrases)

    want_aurora = aurora or has(_AURORA)
    hemisphere = "north" if has(_AURORA_NORTH) else ("south" if has(_AURORA_SOUTH) else None)
    lights = has(_LIGHTS)
    alt = None
    m = re.search(r"(\d[\d,]*(?:\.\d+)?)\s*(miles|mile|mi|km|kilometers|kilometres|kilometre)\b", raw.lower())
    if m:
        v = float(m.group(1).replace(",", ""))
        alt = v * KM_PER_MILE if m.group(2).startswith("mi") else v
    sea = land = None
    relation = bearing = None
    for a, b, area in _find_names(folded):
        before = folded[:a].split()
        while before and before[-1] in ("the", "la", "le", "les", "l"):
            before.pop()
        if area.kind == "sea" and sea is None:
            sea = area
            continue
        if area.kind == "sea" or land is not None:
            continue
        if area.kind == "region" and _named_after_its_city(area):
            continue  # 'over Paris': the city (and what is around it), not the departement
        land = area
        if before[-4:] == ["off", "the", "coast", "of"] or before[-1:] == ["off"] or before[-2:] == ["au", "large"] \
                or before[-3:] in (["au", "large", "de"], ["au", "large", "du"], ["au", "large", "des"]):
            relation = "coast"
        elif len(before) >= 2 and before[-1] == "of" and before[-2] in _COMPASS:
            relation, bearing = "bearing", _COMPASS[before[-2]]
        elif before[-1:] and before[-1] in ("de", "du", "des", "d") and (
                " ".join(before[-3:-1]) in _COMPASS_FR or " ".join(before[-2:-1]) in _COMPASS_FR):
            two = " ".join(before[-3:-1])
            relation, bearing = "bearing", _COMPASS_FR[two if two in _COMPASS_FR else before[-2]]
        else:
            relation = "over"
    place = None
    if sea is None and land is None:
        m = re.search(r"\b(?:over|above|across)\s+(.+)$", folded)
        if m:
            cut = []
            for w in m.group(1).split():
                if w in _END_WORDS or w in _PHASE_WORDS:
                    break
                cut.append(w)
            if cut:
                place = " ".join(cut)
                plan.over(place)  # refuses an unknown place with close names
    if sea is None and land is None and place is None and not light and not want_aurora:
        raise InputError(f"the description {raw!r} names no sea, country, region or place, no light (night, day, "
                         "sunrise, sunset) and no aurora to search for", param="description",
                         fix="e.g. 'above the Pacific Ocean northeast of Papua New Guinea at night'")
    # The words a caption would use for what was understood (English names, whatever the language).
    expected = set()
    for area in (sea, land):
        if area is not None:
            expected.update(_tokens(area.name))
    if relation == "coast":
        expected.add("coast")
    if bearing is not None:
        expected.add(next(w for w, c in _COMPASS.items() if c == bearing))
    for k in light:
        expected |= _FLAG_WORDS[k]
    expected -= {"the", "of", "and"}
    return Description(raw, sea, land, relation, bearing, place, frozenset(light), bool(want_aurora), hemisphere,
                       lights, alt, frozenset(expected))


@dataclass(frozen=True)
class Candidate:
    """One instant that may be the one described, with its caption and score."""

    time_utc: np.datetime64
    caption: str
    score: float
    window_start_utc: np.datetime64
    window_end_utc: np.datetime64
    words_matched: float  # share of the description's caption words in the caption
    extent_s: float  # how long, in its window, the caption says as much as at the candidate

    def as_dict(self) -> dict:
        """Return the candidate as JSON-ready values."""
        return {"time_utc": iso_utc(self.time_utc), "caption": self.caption, "score": round(self.score, 4),
                "window_start_utc": iso_utc(self.window_start_utc), "window_end_utc": iso_utc(self.window_end_utc),
                "words_matched": round(self.words_matched, 3), "extent_s": round(self.extent_s, 1)}


def _fine_times(found: list[plan.Window]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (instants, window index, spacing s): each window sampled at least every ``SAMPLE_S``
    ... at most ``FINE_SAMPLES`` times (and never closer than 1 s), with its peak."""
    times, owner, spacing = [], [], []
    for i, w in enumerate(found):
        span = int((w.end_utc - w.start_utc).astype("timedelta64[ns]").astype(np.int64))
        dt = int(max(1e9, span / FINE_SAMPLES))
        grid = np.datetime64(w.start_utc, "ns") + (np.arange(span // dt + 1) * dt).astype("timedelta64[ns]")
        t = np.unique(np.concatenate([grid, [np.datetime64(w.peak_utc, "ns")]]))
        times.append(t)
        owner.append(np.full(t.size, i))
        spacing.append(dt / 1e9)
    return np.concatenate(times), np.concatenate(owner), np.array(spacing)


def find(text: str, start, end, night: bool = False, day: bool = False, aurora: bool = False,
         sunrise: bool = False, sunset: bool = False, sat=None, kp: float | None = None, allow_stale: bool = False,
         lang: str = "en", limit: int = MAX_CANDIDATES) -> list[Candidate]:
    """Return up to `limit` candidate instants for a caption-like description, best first.

    Args:
        text: the description ("258 miles above the Pacific Ocean northeast of Papua New Guinea").
        start, end: the span searched (at most ``cupola.plan.MAX_SPAN_DAYS``).
        night, day, aurora, sunrise, sunset: what the photograph shows besides the words.
        sat, kp, allow_stale: as for :func:`cupola.plan.windows`.
        lang: the language of the captions returned (the words are matched in English).
        limit: how many candidates at most (1-1000).
    """
    from .answers import check_lang

    check_lang(lang)
    if not (isinstance(limit, (int, np.integer)) and not isinstance(limit, bool) and 1 <= limit <= 1000):
        raise InputError(f"the number of candidates must be a whole number from 1 to 1000, got {limit!r}",
                         param="limit")
    desc = parse_description(text, night, day, aurora, sunrise, sunset)
    conds = desc.conditions()
    cond = conds[0]
    for c in conds[1:]:
        cond = cond & c
    env_sat = plan._env(sat, kp, allow_stale).sat  # one Satellite for every step
    found = plan.windows(cond, start, end, tol_s=1.0, sat=env_sat, kp=kp, allow_stale=allow_stale, lang=lang)
    if not found:
        return []
    kw = dict(sat=env_sat, kp=kp, allow_stale=allow_stale)
    # 1. Words: the caption along each window; where it says the most, and for how long.
    t, owner, spacing = _fine_times(found)
    captions_en = np.atleast_1d(compute_scene(t, parts=("places", "lighting"), **kw).caption("en"))
    uniq, inv = np.unique(captions_en.astype(str), return_inverse=True)
    share = np.array([len(desc.words & set(_tokens(c))) / len(desc.words) if desc.words else 1.0 for c in uniq])[inv]
    best = np.full(len(found), -1.0)
    np.maximum.at(best, owner, share)
    top = share >= best[owner] - 1e-9
    extent_s = np.bincount(owner, weights=top.astype(float), minlength=len(found)) * spacing
    # 2. The rest of the score, at up to CANDIDATES_PER_WINDOW of those best-worded instants.
    pick = []
    for i in range(len(found)):
        idx = np.flatnonzero((owner == i) & top)
        pick.append(idx[np.unique(np.linspace(0, idx.size - 1, min(idx.size, CANDIDATES_PER_WINDOW)).astype(int))])
    pick = np.concatenate(pick)
    tc, oc = t[pick], owner[pick]
    ok, fit = cond.evaluate(tc, **kw)
    series = compute_scene(tc, parts=("places", "lighting") + (("cities",) if desc.lights else ()), **kw)
    terms = [(W_FIT, np.nan_to_num(fit, nan=0.0)), (W_EXTENT, np.minimum(extent_s[oc] / EXTENT_FULL_S, 1.0))]
    if desc.words:
        terms.append((W_WORDS, share[pick]))
    if desc.lights:
        names = np.asarray(series.cities.name).reshape(tc.size, -1)
        bright = np.asarray(series.cities.brightness, float).reshape(tc.size, -1)
        b = np.nansum(np.where(names != "", bright, 0.0), axis=-1)
        terms.append((W_LIGHTS, b / (b + LIGHTS_HALF)))
    if desc.altitude_km is not None:
        alt = np.asarray(series.state.alt_km, float)
        terms.append((W_ALTITUDE, np.exp(-np.abs(alt - desc.altitude_km) / ALTITUDE_SCALE_KM)))
    score = sum(w * v for w, v in terms) / sum(w for w, _ in terms)
    score = np.where(ok, score, -1.0)
    captions = np.atleast_1d(series.caption(lang))
    out = []
    for i, w in enumerate(found):
        idx = np.flatnonzero(oc == i)
        if idx.size == 0:
            continue
        k = idx[np.argmax(score[idx])]
        if score[k] < 0:
            continue
        out.append(Candidate(tc[k], str(captions[k]), float(score[k]), w.start_utc, w.end_utc,
                             float(share[pick][k]), float(extent_s[i])))
    out.sort(key=lambda c: (-round(c.score, 9), c.time_utc))
    return out[:limit]


def candidates_table(found: list[Candidate]) -> list[str]:
    """Return text lines: one candidate a line (rank, time, score, caption)."""
    lines = [f"{'#':>3}  {'time (UTC)':20}  {'score':>5}  caption"]
    for k, c in enumerate(found, 1):
        lines.append(f"{k:>3}  {iso_utc(c.time_utc):20}  {c.score:5.3f}  {c.caption}")
    return lines


__all__ = ["Description", "Candidate", "parse_description", "find", "candidates_table", "SUN_EVENT_MIN"]

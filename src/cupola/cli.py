"""The `cupola` command. Errors print one line and exit 2; `--debug` shows the traceback."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from . import __version__
from .errors import CupolaError

LABELS = {
    "en": {
        "position": "position",
        "altitude": "altitude",
        "lighting": "lighting",
        "sunlit": "station in sunlight",
        "shadow": "station in the Earth's shadow (orbital night)",
        "ground_sun": "Sun at the ground point below: {elev}°",
        "next": "next",
        "sunrise": "orbital sunrise {t} (in {d})",
        "sunset": "orbital sunset {t} (in {d})",
        "elements": "elements",
        "epoch": "{name}, epoch {epoch} ({age})",
        "age_before": "{d} days before",
        "age_after": "{d} days after",
        "warning": "warning",
    },
    "fr": {
        "position": "position",
        "altitude": "altitude",
        "lighting": "éclairage",
        "sunlit": "station au soleil",
        "shadow": "station dans l'ombre de la Terre (nuit orbitale)",
        "ground_sun": "Soleil au point au sol : {elev}°",
        "next": "prochain",
        "sunrise": "lever de soleil orbital {t} (dans {d})",
        "sunset": "coucher de soleil orbital {t} (dans {d})",
        "elements": "éléments",
        "epoch": "{name}, époque {epoch} ({age})",
        "age_before": "{d} {jour} avant",
        "age_after": "{d} {jour} après",
        "warning": "attention",
    },
}


def _num(x: float, spec: str, lang: str) -> str:
    """Format a number; French uses the decimal comma."""
    text = format(x, spec)
    return text.replace(".", ",") if lang == "fr" else text


def _duration(seconds: float) -> str:
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h} h {m:02d} min {s:02d} s" if h else f"{m} min {s:02d} s"


def _latlon(lat: float, lon: float, lang: str) -> str:
    ns = ("N" if lat >= 0 else "S")
    ew = ("E" if lon >= 0 else ("W" if lang == "en" else "O"))
    return f"{_num(abs(lat), '.2f', lang)}°{ns} {_num(abs(lon), '.2f', lang)}°{ew}"


def format_where(w, lang: str) -> str:
    """Return the short human block for a `Where` answer."""
    from .where import seconds_until

    L = LABELS[lang]
    sep = " ; " if lang == "fr" else "; "
    lines = [f"{w.time_utc}  {w.satellite}", f"  {w.caption}"]
    alt = f"{_num(w.alt_km, '.1f', lang)} km ({_num(w.alt_mi, '.1f', lang)} {'mi' if lang == 'en' else 'milles'})"
    lines.append(f"  {L['position']:<12} {_latlon(w.lat_deg, w.lon_deg, lang)}, {L['altitude']} {alt}")
    light = L["sunlit"] if w.sunlit else L["shadow"]
    elev = _num(w.sun_elevation_deg, "+.1f", lang)
    lines.append(f"  {L['lighting']:<12} {light}{sep}{L['ground_sun'].format(elev=elev)}")
    nxt = []
    for key, t in (("sunrise", w.next_orbital_sunrise_utc), ("sunset", w.next_orbital_sunset_utc)):
        if t:
            nxt.append((seconds_until(t, w.time_utc), L[key].format(t=t, d=_duration(seconds_until(t, w.time_utc)))))
    if nxt:
        lines.append(f"  {L['next']:<12} " + sep.join(text for _, text in sorted(nxt)))
    if w.in_view:
        from .report import in_view_lines

        for label, text in in_view_lines(w.in_view, lang):
            lines.append(f"  {label:<12} {text}")
    d = _num(abs(w.tle_age_days), ".2f", lang)
    # French takes the singular below 2 ("0,47 jour", "1,5 jour", "3 jours").
    jour = "jour" if abs(w.tle_age_days) < 2 else "jours"
    age = L["age_before" if w.tle_age_days >= 0 else "age_after"].format(d=d, jour=jour)
    lines.append(f"  {L['elements']:<12} " + L["epoch"].format(name=w.satellite, epoch=w.tle_epoch_utc, age=age))
    for msg in w.warnings:
        lines.append(f"  {L['warning']}: {msg}")
    return "\n".join(lines)


def _satellite(tle_path):
    import os

    from .errors import InputError
    from .orbit import Satellite

    if tle_path and not os.path.isfile(tle_path):
        raise InputError(f"no element-set file at {tle_path!r}; check the path given to --tle")
    return Satellite.from_file(tle_path) if tle_path else Satellite.from_archive()


def cmd_where(args) -> int:
    from .where import check_lang, where

    check_lang(args.lang)
    sat = _satellite(args.tle)
    w = where(sat, args.time, lang=args.lang)
    if args.json:
        print(json.dumps(w.to_json(), ensure_ascii=False, indent=2))
    else:
        print(format_where(w, args.lang))
    return 0


def cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(lang=args.lang, out=sys.stdout)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cupola",
        description="The view from the International Space Station at any instant.",
    )
    p.add_argument("--version", action="version", version=f"cupola {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = p.add_subparsers(dest="command", required=True)

    w = sub.add_parser("where", help="where the ISS was, NASA-style, with lighting and next sunrise")
    w.add_argument("time", help="ISO-8601 time with a zone, e.g. 2024-01-22T13:05:00Z")
    w.add_argument("--tle", metavar="FILE", help="element sets (TLE 2/3-line or OMM JSON/XML/CSV); the nearest set is used")
    w.add_argument("--lang", default="en", help="en or fr")
    w.add_argument("--json", action="store_true", help="print one JSON object")
    w.set_defaults(func=cmd_where)

    d = sub.add_parser("demo", help="the two seed stories on the bundled element sets")
    d.add_argument("--lang", default="en", help="en or fr")
    d.set_defaults(func=cmd_demo)
    return p


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    # Library warnings (e.g. a stale element set) reach the user inside the answer itself.
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.ERROR,
                        format="%(levelname)s: %(message)s")
    try:
        return args.func(args)
    except CupolaError as exc:
        if args.debug:
            raise
        print(f"cupola: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cupola: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

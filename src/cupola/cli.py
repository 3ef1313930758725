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
    w = where(sat, args.time, lang=args.lang, kp=args.kp)
    if args.json:
        print(json.dumps(w.to_json(), ensure_ascii=False, indent=2))
    else:
        print(format_where(w, args.lang))
    return 0


def parse_exposure(text: str) -> float:
    """Return seconds from '10', '0.5' or '1/320'."""
    from .errors import InputError

    t = str(text).strip()
    try:
        if "/" in t:
            num, den = t.split("/", 1)
            value = float(num) / float(den)
        else:
            value = float(t)
    except (ValueError, ZeroDivisionError):
        raise InputError(f"cannot read the exposure {text!r}; write seconds such as 10, 0.5 or 1/320") from None
    if not value > 0:
        raise InputError(f"the exposure must be positive, got {text!r}; e.g. --exposure 10 or 1/320")
    return value


def parse_size(text: str) -> tuple[int, int]:
    """Return (width, height) from '1920x1080'."""
    from .errors import InputError

    w, sep, h = str(text).lower().partition("x")
    try:
        if not sep:
            raise ValueError
        return int(w), int(h)
    except ValueError:
        raise InputError(f"cannot read the image size {text!r}; write WIDTHxHEIGHT, e.g. --size 1920x1080") from None


def camera_from_args(args):
    """Return the Camera described by the render options."""
    from .camera import Camera, parse_look

    w, h = parse_size(args.size)
    return Camera(
        model=args.camera, focal_mm=args.lens, fov_deg=args.fov, width_px=w, height_px=h,
        look=parse_look(args.look), roll_deg=args.roll, exposure_s=parse_exposure(args.exposure),
        iso=args.iso, f_number=args.f_number, tracked=args.tracked,
    )


def cmd_render(args) -> int:
    from .render import render
    from .render.output import save_frame
    from .scene import compute_scene
    from .where import check_lang

    check_lang(args.lang)
    camera = camera_from_args(args)
    layers = tuple(args.layers.split(",")) if args.layers else None
    sat = _satellite(args.tle)
    scene = compute_scene(args.time, camera=camera, sat=sat, kp=args.kp)
    frame = render(scene, camera, **({"layers": layers} if layers else {}))
    path = save_frame(frame, args.output, caption=args.caption, lang=args.lang)
    took = sum(frame.timings_s.values())
    print(f"wrote {path} ({camera.width_px}x{camera.height_px}, {camera.camera_name} {camera.focal_mm:g} mm, "
          f"{camera.look.text}, rendered in {took:.2f} s)")
    print(f"  {scene.caption(args.lang)}")
    return 0


def cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(lang=args.lang, out=sys.stdout, images=None if args.no_images else args.out)


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
    w.add_argument("--kp", type=float, default=None, help="Kp index to use for the aurora (default: bundled history)")
    w.set_defaults(func=cmd_where)

    r = sub.add_parser("render", help="render what a camera on the ISS would record, as PNG or JPEG")
    r.add_argument("time", help="ISO-8601 time with a zone")
    r.add_argument("-o", "--output", required=True, help="output file, .png or .jpg")
    r.add_argument("--tle", metavar="FILE", help="element sets; the nearest set is used")
    r.add_argument("--camera", default="D5", help="sensor preset: D4, D5, Z9 or FF (default D5)")
    r.add_argument("--lens", type=float, default=24.0, help="focal length in mm (default 24)")
    r.add_argument("--fov", type=float, default=None, help="horizontal field of view in degrees (overrides --lens)")
    r.add_argument("--look", default="horizon:ahead",
                   help="nadir, horizon:AZ|north|ahead|behind|port|starboard[,PITCH], target:LAT,LON|PLACE, "
                        "sky:RA,DEC|STAR|moon|planet")
    r.add_argument("--roll", type=float, default=0.0, help="camera roll about its axis, degrees")
    r.add_argument("--exposure", default="1/60", help="exposure time in s, e.g. 10 or 1/320 (default 1/60)")
    r.add_argument("--iso", type=float, default=1600.0, help="ISO sensitivity (default 1600)")
    r.add_argument("--f-number", type=float, default=1.4, help="aperture f-number (default 1.4)")
    r.add_argument("--tracked", action="store_true", help="sidereal tracking: stars stay round")
    r.add_argument("--size", default="1920x1080", help="image size WIDTHxHEIGHT (default 1920x1080)")
    r.add_argument("--caption", action="store_true", help="write time, caption and element-set epoch on the image")
    r.add_argument("--lang", default="en", help="caption language: en or fr")
    r.add_argument("--layers", default=None, help="comma-separated subset of layers to draw (default all)")
    r.add_argument("--kp", type=float, default=None, help="Kp index to use for the aurora (default: bundled history)")
    r.set_defaults(func=cmd_render)

    d = sub.add_parser("demo", help="the two seed stories on the bundled element sets")
    d.add_argument("--lang", default="en", help="en or fr")
    d.add_argument("--out", default="out", help="folder for the seed gallery images (default out/)")
    d.add_argument("--no-images", action="store_true", help="print the answers only")
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

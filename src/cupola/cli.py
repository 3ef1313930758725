"""The `cupola` command. Errors print one line and exit 2; `--debug` shows the traceback.

The command parses its options, calls the same functions as the Python API (compute_scene,
render, the answers) and prints their results; library errors name the API parameter they are
about (``CupolaError.param``) and the command adds its own option for it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys

from . import __version__
from .errors import CupolaError

# The option that sets each API parameter a library error can name.
OPTION_FOR_PARAM = {
    "kp": "--kp N", "lang": "--lang en|fr", "sat": "--tle FILE / --sat NAME|NORAD_ID", "look": "--look", "exposure": "--exposure",
    "size": "--size WIDTHxHEIGHT", "model": "--camera", "focal_mm": "--lens", "fov_deg": "--fov", "iso": "--iso",
    "layers": "--layers", "camera": "the camera options", "allow_stale": "--tle FILE with sets nearer that time, or --allow-stale",
    "force": "--force", "t": "TIME", "roll_deg": "--roll", "f_number": "--f-number",
    "out": "--out DIR", "output": "-o FILE", "lat_deg": "LAT", "lon_deg": "LON",
}
# What the command line adds after an answer's warnings (by warning code).
HINTS = {"stale_elements": "pass --tle FILE", "kp_unknown": "pass --kp N"}

# Characters never written raw to a terminal: C0/C1 controls (but newline and tab), DEL, and the
# Unicode bidirectional controls that can make a line read differently from what it holds.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean(text: str) -> str:
    """Return `text` with control and bidirectional-override characters escaped (\\x1b, \\u202e)."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                       text)


def out(text: str) -> None:
    """Print `text` to standard output, cleaned (see :func:`clean`)."""
    print(clean(text))


def error_line(exc: CupolaError) -> str:
    """Return the one-line message of `exc` for the command line (with the option to use)."""
    option = OPTION_FOR_PARAM.get(getattr(exc, "param", None) or "")
    text = exc.detail if (option and getattr(exc, "fix", None)) else str(exc)
    return clean(f"cupola: error: {text}" + (f" (option {option})" if option else ""))


def _satellite(args):
    """Return the Satellite of --tle FILE (or '-' for standard input) and --sat NAME|NORAD_ID."""
    from .orbit import Satellite

    select = getattr(args, "sat", None)
    return Satellite.from_file(args.tle, select=select) if args.tle else Satellite.from_archive(select=select)


def cmd_where(args) -> int:
    from .answers import check_lang, where_json, where_text
    from .scene import compute_scene

    check_lang(args.lang)
    scene = compute_scene(args.time, sat=_satellite(args), kp=args.kp, allow_stale=args.allow_stale)
    answer = where_json(scene, args.lang)
    if args.json:
        out(json.dumps(answer, ensure_ascii=False, indent=2))
    else:
        out(where_text(answer, args.lang, HINTS))
    return 0


def cmd_place(args) -> int:
    from .answers import check_lang
    from .geo.caption import near_city_text, place_json

    check_lang(args.lang)
    answer = place_json(args.lat, args.lon, args.lang)
    if args.json:
        out(json.dumps(answer, ensure_ascii=False, indent=2))
    else:
        city = answer["near_city"]
        out(answer["phrase"] + (f" ({near_city_text(city, args.lang)})" if city else ""))
    return 0


def cmd_render(args) -> int:
    from .answers import check_lang
    from .answers.json import warnings_json
    from .inputs import camera_from_text
    from .render import RenderSettings, render
    from .render.output import check_output_path, save_frame
    from .scene import compute_scene

    check_lang(args.lang)
    check_output_path(args.output)  # before any work: a bad -o is refused at once, nothing is written
    camera = camera_from_text(model=args.camera, lens=args.lens, fov=args.fov, size=args.size, look=args.look,
                              roll=args.roll, exposure=args.exposure, iso=args.iso, f_number=args.f_number,
                              tracked=args.tracked)
    settings = RenderSettings(layers=tuple(s.strip() for s in args.layers.split(","))) if args.layers else RenderSettings()
    scene = compute_scene(args.time, camera=camera, sat=_satellite(args), kp=args.kp,
                          allow_stale=args.allow_stale)
    frame = render(scene, camera, settings, force=args.force)
    path = save_frame(frame, args.output, caption=args.caption, lang=args.lang)
    took = sum(frame.timings_s.values())
    out(f"wrote {path} ({camera.width_px}x{camera.height_px}, {camera.camera_name} {camera.effective_focal_mm:.4g} mm, "
        f"{camera.look.text}, rendered in {took:.2f} s)")
    out(f"  {scene.caption(args.lang)}")
    for w in warnings_json(scene):  # the same warnings as `where` (a stale set, a predicted Kp)
        hint = HINTS.get(w["code"])
        out(f"  warning: {w['message']}" + (f" ({hint})" if hint else ""))
    return 0


def cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(lang=args.lang, out=sys.stdout, images=None if args.no_images else args.out, hints=HINTS)


def cmd_warmup(args) -> int:
    from .warmup import warmup

    report = warmup()
    out(f"compiled and cached {report['kernels']} kernel signatures in {report['seconds']:.1f} s "
          f"(numba cache: {report['cache_dir']})")
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors that point to --help (exit 2, as every cupola error)."""

    def error(self, message):
        self.exit(2, clean(f"cupola: error: {message} (see '{self.prog} --help')") + "\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="cupola",
        description="The view from the International Space Station at any instant.",
    )
    p.add_argument("--version", action="version", version=f"cupola {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    # --debug is accepted after the command too (`cupola where T --debug`); SUPPRESS keeps an
    # absent one from overwriting the top-level value.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks and debug logs")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    w = sub.add_parser("where", parents=[common], help="where the ISS was, NASA-style, with lighting and next sunrise")
    w.add_argument("time", help="ISO-8601 time with a zone, e.g. 2024-01-22T13:05:00Z")
    w.add_argument("--tle", metavar="FILE", help="element sets (TLE 2/3-line or OMM JSON/XML/CSV; '-' reads standard "
                   "input); the nearest set is used")
    w.add_argument("--sat", metavar="NAME|NORAD_ID", help="the satellite, when the file holds several")
    w.add_argument("--lang", default="en", help="en or fr")
    w.add_argument("--json", action="store_true", help="print one JSON object")
    w.add_argument("--kp", type=float, default=None, help="Kp index to use for the aurora (default: bundled history)")
    w.add_argument("--allow-stale", action="store_true",
                   help="answer even when the nearest element set is so far away that the position is uncertain by > 100 km")
    w.set_defaults(func=cmd_where)

    pl = sub.add_parser("place", parents=[common], help="the NASA-style phrase for a point (what lies below it)")
    pl.add_argument("lat", type=str, metavar="LAT", help="latitude in degrees, north positive (e.g. 46.8)")
    pl.add_argument("lon", type=str, metavar="LON", help="longitude in degrees, east positive (e.g. -71.2)")
    pl.add_argument("--lang", default="en", help="en or fr")
    pl.add_argument("--json", action="store_true", help="print one JSON object")
    pl.set_defaults(func=cmd_place)

    r = sub.add_parser("render", parents=[common], help="render what a camera on the ISS would record, as PNG or JPEG")
    r.add_argument("time", help="ISO-8601 time with a zone")
    r.add_argument("-o", "--output", required=True, help="output file, .png or .jpg")
    r.add_argument("--tle", metavar="FILE", help="element sets ('-' reads standard input); the nearest set is used")
    r.add_argument("--sat", metavar="NAME|NORAD_ID", help="the satellite, when the file holds several")
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
    r.add_argument("--layers", default=None, help="comma-separated subset of layers to draw (default all), in any order")
    r.add_argument("--kp", type=float, default=None, help="Kp index to use for the aurora (default: bundled history)")
    r.add_argument("--allow-stale", action="store_true",
                   help="render even when the nearest element set is so far away that the position is uncertain by > 100 km")
    r.add_argument("--force", action="store_true", help="render even when the --look target is not in view")
    r.set_defaults(func=cmd_render)

    d = sub.add_parser("demo", parents=[common], help="the two seed stories on the bundled element sets")
    d.add_argument("--lang", default="en", help="en or fr")
    d.add_argument("--out", default="out", help="folder for the seed gallery images (default out/)")
    d.add_argument("--no-images", action="store_true", help="print the answers only")
    d.set_defaults(func=cmd_demo)

    k = sub.add_parser("warmup", parents=[common], help="compile every numba kernel once and cache it (about a minute)")
    k.add_argument("--cache-dir", default=None,
                   help="where numba caches the compiled kernels (sets NUMBA_CACHE_DIR for this run; "
                        "default: next to the sources, or numba's user cache folder where that is read-only)")
    k.set_defaults(func=cmd_warmup)
    return p


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "cache_dir", None):
        # numba reads NUMBA_CACHE_DIR when it is first imported, which the commands do lazily.
        if "numba" in sys.modules:
            print("cupola: error: --cache-dir must be given before numba is loaded; set NUMBA_CACHE_DIR instead",
                  file=sys.stderr)
            return 2
        os.environ["NUMBA_CACHE_DIR"] = os.path.abspath(args.cache_dir)
    # Library warnings (e.g. a stale element set) reach the user inside the answer itself.
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.ERROR,
                        format="%(levelname)s: %(message)s")
    try:
        return args.func(args)
    except CupolaError as exc:
        if args.debug:
            raise
        print(error_line(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cupola: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (e.g. `cupola demo | head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

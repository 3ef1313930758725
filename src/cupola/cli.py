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
from .errors import CupolaError, InputError

# The option that sets each API parameter a library error can name.
OPTION_FOR_PARAM = {
    "kp": "--kp N", "lang": "--lang en|fr", "sat": "--tle FILE / --sat NAME|NORAD_ID", "look": "--look", "exposure": "--exposure",
    "size": "--size WIDTHxHEIGHT", "model": "--camera", "focal_mm": "--lens", "fov_deg": "--fov", "iso": "--iso",
    "layers": "--layers", "camera": "the camera options", "allow_stale": "--tle FILE with sets nearer that time, or --allow-stale",
    "force": "--force", "t": "TIME", "roll_deg": "--roll", "f_number": "--f-number", "aperture_blades": "--blades",
    "out": "--out DIR", "output": "-o FILE", "lat_deg": "LAT", "lon_deg": "LON",
    "start": "START", "end": "END", "step_s": "--step", "fps": "--fps", "pointing": "--pointing station|look",
    "min_duration_s": "--min-duration S", "region": "PLACE",
    "radius_km": "--radius KM", "ground": "--ground dark|lit|twilight", "sky_name": "NAME", "within_min": "--within MIN",
    "observer": "--where LAT,LON", "min_elevation_deg": "--min-elevation DEG", "observer_height_km": "--height KM",
    "hemisphere": "--hemisphere north|south", "description": "TEXT", "night": "--night or --day", "limit": "--limit N",
    "input": "INPUT", "time_column": "--time-column NAME", "columns": "--columns", "partitions": "--partitions N",
    "scheduler": "--scheduler ADDRESS", "workers": "--workers N",
    "path": "PHOTO", "time": "--time ISO", "lens": "--lens MM", "clock_offset_s": "--clock-offset SECONDS",
    "overlay": "-o FILE", "side_by_side": "--side-by-side FILE", "wcs": "--wcs FILE", "lonlat": "--lonlat FILE",
    "height_km": "--lonlat-height KM", "lonlat_height_km": "--lonlat-height KM",
}
# Where a command spells a parameter differently (plan and find take the span as --from/--to).
OPTION_FOR_COMMAND = {cmd: {"start": "--from T0", "end": "--to T1"} for cmd in ("plan", "find")}
OPTION_FOR_COMMAND["batch"] = {"output": "-o OUTPUT", "resume": "--resume"}
OPTION_FOR_COMMAND["annotate"] = {"camera": "--camera BODY", "look": "--look (a fallback pointing)"}
# What the command line adds after an answer's warnings (by warning code).
HINTS = {"stale_elements": "pass --tle FILE", "kp_unknown": "pass --kp N", "no_elements": "pass --tle FILE",
         "no_time": "pass --time ISO", "not_solved": "pass --look for a fallback pointing"}

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


def error_line(exc: CupolaError, command: str | None = None) -> str:
    """Return the one-line message of `exc` for the command line (with the option to use)."""
    param = getattr(exc, "param", None) or ""
    option = OPTION_FOR_COMMAND.get(command, {}).get(param) or OPTION_FOR_PARAM.get(param)
    text = exc.detail if (option and getattr(exc, "fix", None)) else str(exc)
    return clean(f"cupola: error: {text}" + (f" (option {option})" if option else ""))


def _satellite(args):
    """Return the Satellite of --tle FILE (or '-' for standard input) and --sat NAME|NORAD_ID."""
    from .orbit import Satellite

    select = getattr(args, "sat", None)
    return Satellite.from_file(args.tle, select=select) if args.tle else Satellite.from_archive(select=select)


def _shot(args):
    """Return the (Camera, RenderSettings) of the camera options render and timelapse share."""
    from .inputs import shot_from_text

    return shot_from_text(model=args.camera, lens=args.lens, fov=args.fov, size=args.size, look=args.look,
                          roll=args.roll, exposure=args.exposure, iso=args.iso, f_number=args.f_number,
                          tracked=args.tracked, layers=args.layers, blades=args.blades)


def _saying_when_in_view(look, after, sat, args, applies: bool = True):
    """Add to a refusal of a Look out of view when its target is next in view (plan.saying_when_in_view)."""
    from .plan import saying_when_in_view

    return saying_when_in_view(look, after, sat=sat, kp=args.kp, allow_stale=args.allow_stale, applies=applies)


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
    from .answers.json import place_json
    from .geo.caption import near_city_text, near_water_text

    check_lang(args.lang)
    answer = place_json(args.lat, args.lon, args.lang)
    if args.json:
        out(json.dumps(answer, ensure_ascii=False, indent=2))
    else:
        water, city = answer["near_water"], answer["near_city"]
        out(answer["phrase"] + (f", {near_water_text(water, args.lang)}" if water else "")
            + (f" ({near_city_text(city, args.lang)})" if city else ""))
    return 0


def cmd_render(args) -> int:
    from .answers import check_lang
    from .answers.json import warnings_json
    from .render import render
    from .render.output import check_output_path, save_frame
    from .scene import compute_scene

    check_lang(args.lang)
    check_output_path(args.output)  # before any work: a bad -o is refused at once, nothing is written
    camera, settings = _shot(args)
    sat = _satellite(args)
    scene = compute_scene(args.time, camera=camera, sat=sat, kp=args.kp, allow_stale=args.allow_stale)
    with _saying_when_in_view(camera.look, args.time, sat, args):
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


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.0f} kB"


def cmd_timelapse(args) -> int:
    from .answers import check_lang
    from .inputs import parse_size, parse_step
    from .video import check_timelapse_output, frame_times, timelapse

    check_lang(args.lang)
    step = parse_step(args.step)
    # Before any work: the output (name, folder, an even size for MP4) and the frame count.
    check_timelapse_output(args.output, *parse_size(args.size))
    frame_times(args.start, args.end, step)
    camera, settings = _shot(args)
    sat = _satellite(args)
    # A station-fixed camera is refused at its first frame only, so that is when to say it is next in view.
    with _saying_when_in_view(camera.look, args.start, sat, args, args.pointing == "station"):
        r = timelapse(args.start, args.end, step, camera, args.output, fps=args.fps, sat=sat, kp=args.kp,
                      settings=settings, caption=args.caption, lang=args.lang, progress=not args.no_progress,
                      allow_stale=args.allow_stale, force=args.force, pointing=args.pointing)
    what = {"mp4": "H.264 MP4", "gif": "GIF", "png": "PNG frames"}[r.kind]
    out(f"wrote {r.path} ({what}): {r.frames} frames {r.width}x{r.height}, {r.duration_s:.1f} s at {r.fps:g} frames/s, "
        f"{_megabytes(r.size_bytes)}; rendered {r.render_fps:.1f} frames/s, encoded {r.encode_fps:.0f} frames/s, "
        f"{r.total_s:.1f} s in all")
    return 0


def cmd_plan(args) -> int:
    from . import plan
    from .answers import check_lang

    check_lang(args.lang)
    what, found = plan.search(
        args.plan_kind, args.start, args.end, where=getattr(args, "where", None),
        min_elevation_deg=getattr(args, "min_elevation", 10.0), observer_height_km=getattr(args, "height", 0.0),
        hemisphere=getattr(args, "hemisphere", None), region=getattr(args, "place", None),
        radius_km=getattr(args, "radius", None), ground=getattr(args, "ground", None),
        within_min=getattr(args, "within", 5.0), sky_name=getattr(args, "name", None),
        ground_dark=not getattr(args, "any_ground", False), at_night=getattr(args, "night", False),
        min_duration_s=getattr(args, "min_duration", 0.0), sat=_satellite(args), kp=args.kp,
        allow_stale=args.allow_stale, lang=args.lang)
    lines = plan.passes_table(found) if args.plan_kind == "passes" else plan.windows_table(found)
    if args.json:
        out(json.dumps([f.as_dict() for f in found], ensure_ascii=False, indent=2))
        return 0
    span = f"between {plan.iso_utc(plan.to_utc64(args.start))} and {plan.iso_utc(plan.to_utc64(args.end))}"
    out(f"{len(found)} {'pass' if args.plan_kind == 'passes' else 'window'}{'' if len(found) == 1 else 'es' if args.plan_kind == 'passes' else 's'} "
        f"{span}: {what}")
    if found:
        out("\n".join(lines))
    return 0


def cmd_find(args) -> int:
    from .answers import check_lang
    from .find import candidates_table, find

    check_lang(args.lang)
    found = find(args.text, args.start, args.end, night=args.night, day=args.day, aurora=args.aurora,
                 sunrise=args.sunrise, sunset=args.sunset, sat=_satellite(args), kp=args.kp,
                 allow_stale=args.allow_stale, lang=args.lang, limit=args.limit)
    if args.json:
        out(json.dumps([c.as_dict() for c in found], ensure_ascii=False, indent=2))
    elif not found:
        out("no candidate: nothing in that span fits the description")
    else:
        out("\n".join(candidates_table(found)))
    return 0


def cmd_batch(args) -> int:
    from .answers import check_lang
    from .batch import run_batch

    check_lang(args.lang)
    if not args.debug:  # Dask's own lines (cluster start, workers; a part's "Compute Failed", which run_batch
        # raises again as one error) are not cupola's answer
        import distributed  # noqa: F401  (configures its loggers, each with its own level)

        for name in [n for n in logging.root.manager.loggerDict if n.split(".")[0] == "distributed"] + ["distributed"]:
            logging.getLogger(name).setLevel(logging.CRITICAL)
    r = run_batch(args.input, args.output, sat=_satellite(args) if (args.tle or args.sat) else None,
                  time_column=args.time_column, columns=args.columns, lang=args.lang, kp=args.kp,
                  allow_stale=args.allow_stale, scheduler=args.scheduler, workers=args.workers,
                  partitions=args.partitions, resume=args.resume, progress=not args.no_progress)
    kept = f", {r.skipped} kept from the earlier run" if r.skipped else ""
    out(f"wrote {r.output}: {r.rows:,} rows in {r.partitions} part{'s' if r.partitions != 1 else ''} "
        f"({r.written} written{kept}), "
        f"{r.errors:,} with an error (see its error column)")
    out(f"  {r.computed_rows:,} rows computed in {r.seconds:.1f} s: {r.rows_per_s:,.0f} rows/s"
        + (f" on {r.workers} worker{'s' if r.workers != 1 else ''} (after {r.warmup_s:.1f} s loading cupola there)"
           if r.workers else ""))
    return 0


def cmd_annotate(args) -> int:
    from .answers import check_lang
    from .answers.json import annotate_json
    from .answers.text import annotate_text
    from .photo.annotate import annotate

    check_lang(args.lang)
    sat = _satellite(args) if (args.tle or args.sat) else None
    a = annotate(args.photo, time=args.time, lens=args.lens, camera=args.camera, clock_offset_s=args.clock_offset,
                 look=args.look, sat=sat, kp=args.kp, allow_stale=args.allow_stale, lang=args.lang,
                 overlay=args.overlay, side_by_side=args.side_by_side, wcs=args.wcs, lonlat=args.lonlat,
                 lonlat_height_km=args.lonlat_height, fit_clock=not args.no_clock_fit)
    answer = annotate_json(a, args.lang)
    out(json.dumps(answer, ensure_ascii=False, indent=2) if args.json else annotate_text(answer, args.lang, HINTS))
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


# What reads as a negative number, so that it is taken as an option's value or a positional (argparse's own
# pattern takes '-45' and '-0.5' only: '--where -33.9,18.4', 'place 10 -1e-3' and '--kp -inf' were refused as
# unknown options, with messages that did not name them).
_NUMBER = r"(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|inf(?:inity)?|nan"
_NEGATIVE_NUMBER = re.compile(rf"^-(?:{_NUMBER})(?:\s*,\s*[-+]?(?:{_NUMBER}))?$", re.IGNORECASE)


def cmd_serve(args) -> int:
    from .errors import DataMissingError

    try:
        import uvicorn  # noqa: F401 (refused here, in one line, when the web extra is missing)

        from .web import serve
    except ImportError as exc:
        raise DataMissingError(f"cupola serve needs the web packages ({exc.name} is missing): "
                               "pip install 'cupola[web]'") from None
    out(f"cupola {__version__}: serving http://{args.host}:{args.port}/ (Ctrl-C stops)")
    serve(args.host, args.port)
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors that point to --help (exit 2, as every cupola error)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _NEGATIVE_NUMBER

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
    # Where the station's orbit and the aurora come from, and the language: every command that
    # computes Scenes takes them.
    source = argparse.ArgumentParser(add_help=False)
    source.add_argument("--tle", metavar="FILE", help="element sets (TLE 2/3-line or OMM JSON/XML/CSV; '-' reads "
                        "standard input); the nearest set is used at each instant")
    source.add_argument("--sat", metavar="NAME|NORAD_ID", help="the satellite, when the file holds several")
    source.add_argument("--lang", default="en", help="language of answers and captions: en or fr")
    source.add_argument("--kp", type=float, default=None,
                        help="Kp index to use for the aurora (default: bundled history)")
    source.add_argument("--allow-stale", action="store_true",
                        help="go on even where the nearest element set is so far away that the position is "
                             "uncertain by > 100 km")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    w = sub.add_parser("where", parents=[common, source], help="where the ISS was, NASA-style, with lighting and next sunrise")
    w.add_argument("time", help="ISO-8601 time with a zone, e.g. 2024-01-22T13:05:00Z")
    w.add_argument("--json", action="store_true", help="print one JSON object")
    w.set_defaults(func=cmd_where)

    pc = sub.add_parser("place", parents=[common], help="the NASA-style phrase for a point (what lies below it)")
    pc.add_argument("lat", type=str, metavar="LAT", help="latitude in degrees, north positive (e.g. 46.8)")
    pc.add_argument("lon", type=str, metavar="LON", help="longitude in degrees, east positive (e.g. -71.2)")
    pc.add_argument("--lang", default="en", help="en or fr")
    pc.add_argument("--json", action="store_true", help="print one JSON object")
    pc.set_defaults(func=cmd_place)

    # The camera and scene options that render and timelapse share.
    shot = argparse.ArgumentParser(add_help=False)
    shot.add_argument("--camera", default="D5", help="sensor preset: D4, D5, Z9 or FF (default D5)")
    shot.add_argument("--lens", type=float, default=24.0, help="focal length in mm (default 24)")
    shot.add_argument("--fov", type=float, default=None, help="horizontal field of view in degrees (overrides --lens)")
    shot.add_argument("--look", default="horizon:ahead",
                      help="nadir, horizon:AZ|north|ahead|behind|port|starboard[,PITCH], target:LAT,LON|PLACE, "
                           "sky:RA,DEC|STAR|moon|planet (default horizon:ahead)")
    shot.add_argument("--roll", type=float, default=0.0, help="camera roll about its axis, degrees")
    shot.add_argument("--exposure", default="1/60", help="exposure time in s, e.g. 10 or 1/320 (default 1/60)")
    shot.add_argument("--iso", type=float, default=1600.0, help="ISO sensitivity (default 1600)")
    shot.add_argument("--f-number", type=float, default=1.4, help="aperture f-number (default 1.4)")
    shot.add_argument("--tracked", action="store_true", help="sidereal tracking: stars stay round and in place")
    shot.add_argument("--blades", type=int, default=0,
                      help="aperture blades (3-24) for diffraction spikes on the Sun, Moon and bright stars "
                           "(default 0: a round aperture, as a lens wide open)")
    shot.add_argument("--caption", action="store_true",
                      help="write time, caption and element-set epoch on the image (a strip on every frame)")
    shot.add_argument("--layers", default=None, help="comma-separated subset of layers to draw (default all), in any order")
    shot.add_argument("--force", action="store_true", help="render even when the --look target is not in view")

    r = sub.add_parser("render", parents=[common, source, shot], help="render what a camera on the ISS would record, as PNG or JPEG")
    r.add_argument("time", help="ISO-8601 time with a zone")
    r.add_argument("-o", "--output", required=True, help="output file, .png or .jpg")
    r.add_argument("--size", default="1920x1080", help="image size WIDTHxHEIGHT (default 1920x1080)")
    r.set_defaults(func=cmd_render)

    v = sub.add_parser("timelapse", parents=[common, source, shot],
                       help="render a timelapse from the ISS: an H.264 .mp4, a .gif or PNG frames")
    v.add_argument("start", help="first instant, ISO-8601 with a zone, e.g. 2021-05-02T06:53:00Z")
    v.add_argument("end", help="last instant (included when it falls on a step)")
    v.add_argument("-o", "--output", required=True,
                   help="pass.mp4 (H.264), pass.gif, a folder/ for PNG frames, or frames/pass_%%05d.png")
    v.add_argument("--step", default="10s", help="time between frames: 2 or 2s, 500ms, 1m (default 10s)")
    v.add_argument("--fps", type=float, default=30.0, help="frames per second of the clip (default 30; GIF <= 50)")
    v.add_argument("--size", default="1280x720", help="frame size WIDTHxHEIGHT, even for .mp4 (default 1280x720)")
    v.add_argument("--pointing", default="station", choices=("station", "look"),
                   help="station: the camera fixed to the station (or to the sky with --tracked) from its --look "
                        "at the first frame, as a crew timelapse (default); look: --look re-aimed at every frame")
    v.add_argument("--no-progress", action="store_true", help="no progress bar on standard error")
    v.set_defaults(func=cmd_timelapse)

    # Options every `plan` and `find` search takes.
    span = argparse.ArgumentParser(add_help=False)
    span.add_argument("--from", dest="start", required=True, metavar="T0", help="start, ISO-8601 with a zone")
    span.add_argument("--to", dest="end", required=True, metavar="T1",
                      help="end, ISO-8601 with a zone (at most 366 days after the start)")
    span.add_argument("--json", action="store_true", help="print a list of JSON objects")
    pl = sub.add_parser("plan", parents=[common], help="when the view holds something: windows and ground passes")
    plan_sub = pl.add_subparsers(dest="plan_kind", required=True, parser_class=_Parser)
    pp = plan_sub.add_parser("passes", parents=[common, source, span], help="passes of the station over an observer's sky")
    pp.add_argument("--where", required=True, metavar="LAT,LON", help="the observer: LAT,LON in degrees, or a place")
    pp.add_argument("--min-elevation", type=float, default=10.0, metavar="DEG",
                    help="lowest culmination counted, and where rise and set are (default 10)")
    pp.add_argument("--height", type=float, default=0.0, metavar="KM", help="observer's height above WGS84, km (default 0)")
    windows_opts = argparse.ArgumentParser(add_help=False)
    windows_opts.add_argument("--night", action="store_true",
                              help="only with the station in the Earth's shadow over dark ground")
    windows_opts.add_argument("--min-duration", type=float, default=0.0, metavar="S",
                              help="drop windows shorter than S seconds (none longer is missed)")
    pa = plan_sub.add_parser("aurora", parents=[common, source, span, windows_opts], help="the auroral oval in view")
    pa.add_argument("--hemisphere", choices=("north", "south"), default=None, help="only this hemisphere's oval")
    po = plan_sub.add_parser("over", parents=[common, source, span, windows_opts],
                             help="the station over a sea, country, region, place or LAT,LON")
    po.add_argument("place", metavar="PLACE", help="'Pacific Ocean', 'Canada', 'Quebec', 'Paris' or LAT,LON")
    po.add_argument("--radius", type=float, default=None, metavar="KM", help="around a place or LAT,LON (default 300)")
    po.add_argument("--ground", choices=("dark", "lit", "twilight"), default=None, help="the ground below")
    for kind in ("sunrise", "sunset"):
        ps = plan_sub.add_parser(kind, parents=[common, source, span, windows_opts], help=f"an orbital {kind} nearby")
        ps.add_argument("--within", type=float, default=5.0, metavar="MIN", help=f"minutes from the {kind} (default 5)")
    pk = plan_sub.add_parser("sky", parents=[common, source, span, windows_opts],
                             help="a star, planet, the Moon or the Milky Way core above the limb over dark ground")
    pk.add_argument("name", metavar="NAME", help="'Sirius', 'Jupiter', 'Moon', 'Milky Way core'")
    pk.add_argument("--any-ground", action="store_true", help="also over lit ground")
    pl.set_defaults(func=cmd_plan)

    f = sub.add_parser("find", parents=[common, source, span], help="instants a caption-like description could be about")
    f.add_argument("text", metavar="TEXT", help="e.g. '258 miles above the Pacific Ocean northeast of Papua New Guinea'")
    light = f.add_mutually_exclusive_group()
    light.add_argument("--night", action="store_true", help="the station in shadow over dark ground")
    light.add_argument("--day", action="store_true", help="the station in sunlight over lit ground")
    f.add_argument("--aurora", action="store_true", help="aurora in view")
    event = f.add_mutually_exclusive_group()
    event.add_argument("--sunrise", action="store_true", help="an orbital sunrise within 10 minutes")
    event.add_argument("--sunset", action="store_true", help="an orbital sunset within 10 minutes")
    f.add_argument("--limit", type=int, default=10, metavar="N", help="how many candidates (default 10)")
    f.set_defaults(func=cmd_find)

    b = sub.add_parser("batch", parents=[common, source],
                       help="annotate a catalogue of photo times (CSV or Parquet) on Dask: where, captions, in view")
    b.add_argument("input", metavar="INPUT", help="a .csv or .parquet file (or folder) with a time column: ISO-8601 "
                   "with a zone or epoch seconds; optional tle_line1/tle_line2 or omm columns give a row's element set")
    b.add_argument("-o", "--output", required=True, metavar="OUTPUT",
                   help="folder of parts to write: NAME.parquet (default format) or NAME.csv")
    b.add_argument("--time-column", default="time_utc", metavar="NAME", help="the column of times (default time_utc)")
    b.add_argument("--columns", default="where,in_view",
                   help="output columns: groups where, in_view, all and/or single names, comma-separated "
                        "(default where,in_view; where alone is ~5x faster)")
    b.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="a Dask scheduler, e.g. tcp://host:8786, or 'threads' (one process); default: a local "
                        "cluster, one worker process per core")
    b.add_argument("--workers", type=int, default=None, metavar="N", help="workers of the local cluster (default: cores)")
    b.add_argument("--partitions", type=int, default=None, metavar="N",
                   help="number of output parts (default: 4 MB of CSV or 100,000 Parquet rows each; 1 MB or 20,000 "
                        "rows with in_view columns)")
    b.add_argument("--resume", action="store_true", help="keep the parts a killed run completed and compute the rest")
    b.add_argument("--no-progress", action="store_true", help="no progress bar on standard error")
    b.set_defaults(func=cmd_batch)

    an = sub.add_parser("annotate", parents=[common, source],
                        help="explain a photograph taken from the ISS: its time, the view, its pointing from the stars")
    an.add_argument("photo", metavar="PHOTO", help="the photograph: JPEG, TIFF or PNG (NEF: metadata only)")
    an.add_argument("--time", metavar="ISO", default=None,
                    help="capture time (the exposure's start, as EXIF records it), ISO-8601 with a zone; replaces "
                         "the EXIF time")
    an.add_argument("--lens", metavar="MM", default=None, help="focal length in mm; replaces the EXIF FocalLength")
    an.add_argument("--camera", metavar="BODY", default=None,
                    help="camera body, e.g. D3S, D4, D5, Z9, D2XS, DCS760 (the sensor size); replaces the EXIF model")
    an.add_argument("--clock-offset", type=float, default=0.0, metavar="SECONDS",
                    help="seconds added to the EXIF time to correct a drifting camera clock (a clock 13 s fast: "
                         "-13; the limb fit reports this value)")
    an.add_argument("--look", default=None,
                    help="fallback pointing when the stars cannot be solved (nadir, horizon:AZ[,PITCH], "
                         "target:LAT,LON, sky:RA,DEC); the answer says it was used")
    an.add_argument("--json", action="store_true", help="print one JSON object")
    an.add_argument("-o", "--overlay", metavar="FILE", default=None,
                    help="write the annotated overlay (.png or .jpg): graticule, coasts, names, limb, shells, stars")
    an.add_argument("--side-by-side", metavar="FILE", default=None,
                    help="write the photo beside cupola's render at the solved pointing (.png or .jpg)")
    an.add_argument("--wcs", metavar="FILE", default=None,
                    help="write the plate solution as a FITS WCS header (.wcs or .fits), as astrometry.net does")
    an.add_argument("--lonlat", metavar="FILE", default=None,
                    help="write each pixel's latitude/longitude: .npz (arrays lat_deg, lon_deg) or .tif (two float32 "
                         "bands); NaN off the Earth")
    an.add_argument("--lonlat-height", type=float, default=0.0, metavar="KM",
                    help="height above WGS84 the --lonlat rays are cut at (default 0; 110 for an aurora map)")
    an.add_argument("--no-clock-fit", action="store_true", help="do not fit the camera clock on the limb")
    an.set_defaults(func=cmd_annotate)

    d = sub.add_parser("demo", parents=[common], help="the two seed stories on the bundled element sets")
    d.add_argument("--lang", default="en", help="en or fr")
    d.add_argument("--out", default="out", help="folder for the seed gallery images (default out/)")
    d.add_argument("--no-images", action="store_true", help="print the answers only")
    d.set_defaults(func=cmd_demo)

    sv = sub.add_parser("serve", parents=[common], help="the web page and JSON API (http://127.0.0.1:8000/)")
    sv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    sv.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    sv.set_defaults(func=cmd_serve)

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
    # SIGTERM (a service manager, `kill`) stops a command as Ctrl-C does: the exception unwinds, so a file being
    # written is removed rather than left half-written; the exit code is 143 (128 + 15).
    from .interrupt import SIGTERM_EXIT, sigterm_as_exit

    try:
        with sigterm_as_exit():
            return args.func(args)
    except SystemExit as exc:
        if exc.code == SIGTERM_EXIT:
            print("cupola: stopped (SIGTERM)", file=sys.stderr)
        raise
    except CupolaError as exc:
        if args.debug:
            raise
        print(error_line(exc, args.command), file=sys.stderr)
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

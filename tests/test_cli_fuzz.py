"""Property tests of every command-line input of the commands on main, driven through ``cupola.cli.main`` in the
test process, and of the same inputs through the Python API.

For each option (and positional) of ``where``, ``place``, ``render``, ``timelapse``, ``plan``, ``find`` and
``demo``, hypothesis draws hostile text (any Unicode, control and bidirectional characters, lone surrogates as
``sys.argv`` holds for bytes that are not UTF-8, NUL, numbers written every way Python's float() reads and
some it does not, huge digit strings, separators) and runs the command with that value and otherwise good
options. Whatever comes in:

- the exit code is 0 (the answer printed) or 2 (refused), never 1 or a traceback: an unexpected exception
  escapes ``main`` and fails the test with its input;
- a refusal is ONE line on standard error, ``cupola: error: ...``, with no raw control character, that names the
  value (as typed, quoted, escaped, or the number it was read as) or the option it came in; element-file
  messages (``--tle``, ``--sat``) may add their listing and ``fix:`` lines, as documented in the README;
- the same value through the Python API (``to_utc64``, ``compute_scene``, ``camera_from_text``, ``place_json``,
  ``plan.*``, ``find``, ``Satellite.*``, the output checks) returns or raises a ``cupola.errors`` type only.

A value the API accepts and that would make the command do much work (a timelapse of many frames, a search of
weeks, a large image) is checked through the API only. Examples are derandomized (the same on every run) and no
example database is written.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
from pathlib import Path

import pytest
from hostile_values import TEXT, fuzz
from hypothesis import given
from hypothesis import strategies as st
from test_timebase import assert_clean

from cupola.cli import clean, main
from cupola.errors import CupolaError
from cupola.timebase import escaped, shown

T = "2024-01-22T13:05:00Z"  # inside the bundled 2024 sets
T_END = "2024-01-22T13:05:10Z"
SPAN = ["--from", "2024-01-20T00:00:00Z", "--to", "2024-01-20T00:30:00Z"]

# Examples per test: hostile_values.EXAMPLES; where a value the command accepts costs a search (plan, find), fewer.
SEARCH_EXAMPLES = 60


def run(argv: list[str]) -> tuple[int, str, str]:
    """Return (exit code, stdout, stderr) of ``cupola argv`` run in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as exc:  # argparse's own refusals and --help
            rc = exc.code
    return rc, out.getvalue(), err.getvalue()


def _spellings(value: str) -> list[str]:
    """Return the ways a message may show `value`: as typed, quoted or escaped, or as the number read from it."""
    forms = [value, value.strip(), clean(value), repr(value), escaped(repr(value)), shown(value), shown(value.strip())]
    try:
        x = float(value)
    except (ValueError, OverflowError):
        pass
    else:
        forms += [repr(x), f"{x:g}", str(x)]
        if math.isfinite(x) and x == int(x):
            forms.append(str(int(x)))
    # A long value is shown cut: its start is enough.
    return [f[:24] for f in forms if f.strip(" '\"")]


def check_cli(argv: list[str], value: str, option: str, multi_line: bool = False) -> int:
    """Run `argv`; assert the exit code is 0 or 2 and a refusal reads as one clean line naming `value` or `option`."""
    rc, out, err = run(argv)
    assert rc in (0, 2), f"exit {rc} for {argv!r}: {err[-2000:]}"
    assert "Traceback" not in err, err
    if rc == 0:
        assert out.strip(), argv
        return rc
    lines = err.splitlines()
    assert err.endswith("\n") and lines and lines[0].startswith("cupola: error: "), err
    if not multi_line:
        assert len(lines) == 1, err
    assert len(lines) <= 16, err
    for line in lines:
        assert_clean(line)
    message = " ".join(lines)
    named = option in message or any(s in message for s in _spellings(value))
    blank = not value.strip() and ("''" in message or "empty" in message or "blank" in message or "required" in message)
    assert named or blank, f"the refusal of {option}={value!r} does not name it: {message}"
    return rc


def api_only_cupola_errors(call, *args, **kwargs):
    """Call the API; return its value, or None when it raised a cupola error (any other exception fails)."""
    try:
        return call(*args, **kwargs)
    except CupolaError as exc:
        assert str(exc).strip(), repr(exc)
        assert_clean(str(exc).replace("\n", " "))
        return None


def _float_or_text(value: str):
    """Return `value` as argparse's type=float gives it to the API, or the text itself when float() refuses it."""
    try:
        return float(value)
    except ValueError:
        return value


# ---------------------------------------------------------------------------------------------------------
# where

@functools.cache
def _scene():
    from cupola.scene import compute_scene

    return compute_scene(T)


@fuzz
@given(TEXT)
def test_where_time(value):
    from cupola.scene import compute_scene

    api_only_cupola_errors(compute_scene, value)
    check_cli(["where", "--", value], value, "TIME")


@fuzz
@given(TEXT)
def test_where_kp(value):
    from cupola.scene import compute_scene

    api_only_cupola_errors(compute_scene, T, kp=_float_or_text(value))
    check_cli(["where", T, f"--kp={value}"], value, "--kp")
    check_cli(["where", T, "--kp", value], value, "--kp")  # as two words: '-1e-3' is a value, not an option


@fuzz
@given(TEXT)
def test_where_lang(value):
    from cupola.answers import check_lang, where_json

    api_only_cupola_errors(check_lang, value)
    api_only_cupola_errors(where_json, _scene(), value)
    check_cli(["where", T, f"--lang={value}"], value, "--lang")


@fuzz
@given(TEXT)
def test_where_sat(value):
    from cupola.orbit import Satellite

    api_only_cupola_errors(Satellite.from_archive, select=value)
    check_cli(["where", T, f"--sat={value}"], value, "--sat", multi_line=True)


_DATA = Path(__file__).parent / "data" / "elements"
PATHS = st.one_of(
    TEXT,
    st.sampled_from(["/", "/etc/passwd", "/dev/null", "/dev/zero", "/proc/self/status", "/nonexistent/x.tle",
                     str(_DATA), str(_DATA / "iss_omm.json"), str(_DATA / "README.md"),
                     str(Path(__file__).parent / "golden"), str(Path(__file__))]),
)


@fuzz
@given(PATHS)
def test_where_tle_path(value):
    from cupola.orbit import Satellite

    if value == "-":
        return  # standard input: tests/test_elements.py reads it
    api_only_cupola_errors(Satellite.from_file, value)
    check_cli(["where", T, f"--tle={value}"], value, "--tle", multi_line=True)


# ---------------------------------------------------------------------------------------------------------
# place

@fuzz
@given(TEXT, st.booleans())
def test_place_lat_lon(value, as_lat):
    from cupola.answers.json import place_json

    lat, lon = (value, "10") if as_lat else ("10", value)
    api_only_cupola_errors(place_json, _float_or_text(lat), _float_or_text(lon))
    check_cli(["place", "--", lat, lon], value, "LAT" if as_lat else "LON")


@fuzz
@given(TEXT)
def test_place_lang(value):
    from cupola.answers.json import place_json

    api_only_cupola_errors(place_json, 10.0, 10.0, value)
    check_cli(["place", "10", "10", f"--lang={value}"], value, "--lang")


# ---------------------------------------------------------------------------------------------------------
# render: camera options, size and output path (a 16x16 nadir frame where the value is accepted)

_CAMERA_OPTIONS = {"--lens": "lens", "--fov": "fov", "--look": "look", "--roll": "roll", "--exposure": "exposure",
                   "--iso": "iso", "--f-number": "f_number", "--camera": "model", "--size": "size"}


@fuzz
@given(st.sampled_from(sorted(_CAMERA_OPTIONS) + ["--layers"]), TEXT)
def test_render_camera_options(tmp_path_factory, option, value):
    from cupola.inputs import camera_from_text, parse_size
    from cupola.render import RenderSettings

    if option == "--layers":
        layers = tuple(s.strip() for s in value.split(","))
        api_only_cupola_errors(RenderSettings, layers=layers)
    else:
        kwargs = {"size": "16x16", "look": "nadir", _CAMERA_OPTIONS[option]: value}
        api_only_cupola_errors(camera_from_text, **kwargs)
        if option == "--size":
            size = api_only_cupola_errors(parse_size, value)
            if size and size[0] * size[1] > 64 * 64:
                return  # a large frame: the API's acceptance is what is checked
    folder = tmp_path_factory.mktemp("render")
    argv = ["render", T, "-o", str(folder / "x.png"), "--size", "16x16", "--look", "nadir", f"{option}={value}"]
    if check_cli(argv, value, option) == 2:
        assert not list(folder.iterdir()), "a refused render left a file"


OUTPUTS = st.one_of(TEXT, st.sampled_from(["x.png", "x.PNG", "x.jpg", "x.jpeg", "x.gif", "x.tiff", "x", "x.png/",
                                           "sub/x.png", "", ".", "..", ".png", "x.mp4", "frames/", "f_%05d.png",
                                           "f_%d_%d.png", "f_{}.png", "a" * 300 + ".png", "x\x00.png"]))


@fuzz
@given(OUTPUTS)
def test_render_output_path(tmp_path_factory, value):
    from cupola.render.output import check_output_path

    folder = tmp_path_factory.mktemp("out")
    target = str(folder / value) if not value.startswith("/") else value
    accepted = api_only_cupola_errors(check_output_path, target)
    if accepted is not None and Path(target).parent != folder:
        return  # only writes into the test's own folder
    rc = check_cli(["render", T, "-o", target, "--size", "16x16", "--look", "nadir"], value, "-o")
    left = sorted(p.name for p in folder.rglob("*"))
    assert not [n for n in left if n.startswith(".cupola-")], left  # no temporary file left, either way
    if rc == 2:
        assert not left, left


# ---------------------------------------------------------------------------------------------------------
# timelapse: span, step, frame rate, output (a 16x16 GIF of at most 4 frames where the value is accepted)

_MAX_CLI_FRAMES = 4


@fuzz
@given(st.sampled_from(["start", "end", "--step", "--fps", "-o"]), st.one_of(TEXT, OUTPUTS))
def test_timelapse_options(tmp_path_factory, option, value):
    from cupola.video import check_timelapse_output, frame_times

    folder = tmp_path_factory.mktemp("tl")
    start, end, step, fps, output = T, T_END, "10s", "30", str(folder / "x.gif")
    if option == "start":
        start = value
    elif option == "end":
        end = value
    elif option == "--step":
        step = value
    elif option == "--fps":
        fps = value
    else:
        output = str(folder / value)
        if api_only_cupola_errors(check_timelapse_output, output, 16, 16) is not None and \
                Path(output.rstrip("/")).resolve().parent != folder.resolve():
            return  # only writes into the test's own folder
    from cupola.inputs import parse_step

    step_s = api_only_cupola_errors(parse_step, step)
    times = api_only_cupola_errors(frame_times, start, end, step_s) if step_s else None
    if times is not None and times.size > _MAX_CLI_FRAMES:
        return  # many frames: the API's acceptance is what is checked
    argv = ["timelapse", "--no-progress", "--size", "16x16", "--look", "nadir", "-o", output, f"--step={step}",
            f"--fps={fps}", "--", start, end]
    rc = check_cli(argv, value, "START" if option == "start" else "END" if option == "end" else option)
    left = sorted(p.name for p in folder.rglob("*"))
    assert not [n for n in left if n.startswith(".cupola-")], left
    if rc == 2:
        assert not left, left


# ---------------------------------------------------------------------------------------------------------
# plan and find (half-hour spans where the value is accepted)

_ONE_HOUR_S = 3_600.0


@fuzz(examples=SEARCH_EXAMPLES)
@given(st.sampled_from(["--from", "--to"]), TEXT)
def test_plan_and_find_span(option, value):
    from cupola.plan import over
    from cupola.plan import windows as plan_windows
    from cupola.timebase import seconds_between, to_utc64

    start, end = (value, SPAN[3]) if option == "--from" else (SPAN[1], value)
    t = [api_only_cupola_errors(to_utc64, x) for x in (start, end)]
    if all(x is not None for x in t) and abs(float(seconds_between(t[0], t[1]))) > _ONE_HOUR_S:
        return  # a long search: tests/test_plan.py covers the limits of the span
    api_only_cupola_errors(plan_windows, over("Paris"), start, end)
    span = ["--from", start, "--to", end]
    check_cli(["plan", "over", "Paris", *span], value, option)
    check_cli(["find", "over Paris", *span], value, option)


@fuzz(examples=SEARCH_EXAMPLES)
@given(st.sampled_from(["--where", "--min-elevation", "--height"]), TEXT)
def test_plan_passes_options(option, value):
    from cupola import plan

    if option == "--where":
        api_only_cupola_errors(plan.parse_observer, value)
        check_cli(["plan", "passes", *SPAN, "--where", value], value, option)  # '-33.9,18.4' as two words
        argv = ["plan", "passes", *SPAN, f"--where={value}"]
    else:
        key = {"--min-elevation": "min_elevation_deg", "--height": "observer_height_km"}[option]
        api_only_cupola_errors(plan.passes, 45.0, 0.0, SPAN[1], SPAN[3], **{key: _float_or_text(value)})
        argv = ["plan", "passes", *SPAN, "--where=45,0", f"{option}={value}"]
    check_cli(argv, value, option)


@fuzz(examples=SEARCH_EXAMPLES)
@given(st.sampled_from(["PLACE", "--radius", "--within", "NAME", "--min-duration"]), TEXT)
def test_plan_window_options(option, value):
    from cupola import plan

    if option == "PLACE":
        api_only_cupola_errors(plan.over, value)
        argv = ["plan", "over", *SPAN, "--", value]
    elif option == "--radius":
        api_only_cupola_errors(plan.over, "Paris", radius_km=_float_or_text(value))
        argv = ["plan", "over", "Paris", *SPAN, f"--radius={value}"]
    elif option == "--within":
        api_only_cupola_errors(plan.near_sun_event, "sunrise", _float_or_text(value))
        argv = ["plan", "sunrise", *SPAN, f"--within={value}"]
    elif option == "NAME":
        api_only_cupola_errors(plan.sky_visible, value)
        argv = ["plan", "sky", *SPAN, "--", value]
    else:
        api_only_cupola_errors(plan.windows, plan.aurora_in_view(), SPAN[1], SPAN[3],
                               min_duration_s=_float_or_text(value))
        argv = ["plan", "aurora", *SPAN, f"--min-duration={value}"]
    check_cli(argv, value, option)


@fuzz(examples=SEARCH_EXAMPLES)
@given(st.sampled_from(["TEXT", "--limit", "--lang"]), TEXT)
def test_find_options(option, value):
    from cupola.find import find

    text, limit, lang = "over Paris at night", "3", "en"
    if option == "TEXT":
        text = value
    elif option == "--limit":
        limit = value
    else:
        lang = value
    try:
        api_limit = int(limit)
    except ValueError:
        api_limit = limit
    api_only_cupola_errors(find, text, SPAN[1], SPAN[3], limit=api_limit, lang=lang)
    check_cli(["find", *SPAN, f"--limit={limit}", f"--lang={lang}", "--", text], value, option)


@fuzz
@given(TEXT)
def test_demo_lang(value):
    check_cli(["demo", "--no-images", f"--lang={value}"], value, "--lang")


@fuzz
@given(OUTPUTS)
def test_demo_out(tmp_path_factory, value):
    """A gallery folder that is refused is refused before the searches (an accepted one would render two 1080p
    frames: the API's acceptance is what is checked then)."""
    from cupola.demo import gallery_folder

    if ".." in Path(value).parts:
        return  # gallery_folder creates the folder: only inside the test's own
    folder = tmp_path_factory.mktemp("gallery")
    target = str(folder / value.lstrip("/"))
    if api_only_cupola_errors(gallery_folder, target) is None:
        check_cli(["demo", f"--out={target}"], value, "--out")


def test_the_checks_can_fail():
    """check_cli passes a clean refusal that names its value, and fails one that names neither value nor option."""
    assert check_cli(["where", "not a time"], "not a time", "TIME") == 2
    with pytest.raises(AssertionError, match="does not name it"):
        check_cli(["where", "not a time"], "something else", "--nothing")

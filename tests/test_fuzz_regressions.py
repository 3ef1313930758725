"""The inputs the fuzzers (tests/test_cli_fuzz.py, fuzz/fuzz_elements.py) found crashing, each now refused with
a cupola error naming it (exit 2 and one line on the command line)."""

from __future__ import annotations

import pytest
from test_cli_fuzz import check_cli, run

from cupola.errors import ElementSetError, InputError
from cupola.inputs import camera_from_text

T = "2024-01-22T13:05:00Z"


def test_an_element_file_path_with_a_nul_is_refused_not_a_valueerror():
    from cupola.orbit import Satellite

    with pytest.raises(ElementSetError, match=r"'a\\x00b' cannot be opened: a path never holds a NUL") as info:
        Satellite.from_file("a\x00b")
    assert info.value.param == "sat"
    check_cli(["where", T, "--tle=a\x00b"], "a\x00b", "--tle", multi_line=True)


@pytest.mark.parametrize("name", ["x\x00.png", "a" * 300 + ".png", " "])
def test_an_output_name_the_file_system_refuses_is_refused_before_rendering(tmp_path, name):
    from cupola.render.output import check_output_path
    from cupola.video import check_timelapse_output

    target = str(tmp_path / name) if name.strip() else name
    with pytest.raises(InputError, match="cannot name a file") as info:
        check_output_path(target)
    assert info.value.param == "output"
    with pytest.raises(InputError, match="cannot name a file"):
        check_timelapse_output(target.replace(".png", ".gif"), 16, 16)
    rc, _out, err = run(["render", T, "-o", target, "--size", "16x16"])
    assert rc == 2 and err.count("\n") == 1 and "(option -o FILE)" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fps", ["1e-9", "0.0004"])
def test_a_frame_rate_that_rounds_to_zero_is_refused_not_a_zerodivisionerror(tmp_path, fps):
    from cupola.video import MIN_FPS, check_fps

    with pytest.raises(InputError, match=f"at least {MIN_FPS:g} and at most 50 frames/s for a GIF, got '{fps}'"):
        check_fps(fps, "gif")
    assert check_fps(MIN_FPS, "gif") > 0
    check_cli(["timelapse", T, "2024-01-22T13:05:10Z", "-o", str(tmp_path / "x.gif"), f"--fps={fps}"], fps, "--fps")


@pytest.mark.parametrize(("key", "param"), [("fov", "fov_deg"), ("lens", "focal_mm"), ("iso", "iso"),
                                            ("f_number", "f_number"), ("roll", "roll_deg")])
def test_camera_text_that_is_no_number_is_an_input_error_not_a_valueerror(key, param):
    with pytest.raises(InputError, match="got ''") as info:
        camera_from_text(**{key: ""})
    assert info.value.param == param


def test_an_observer_height_that_is_no_number_is_an_input_error():
    from cupola.plan import passes

    with pytest.raises(InputError, match="height must be -0.5 to 9 km, got ''") as info:
        passes(45.0, 0.0, "2024-01-20T00:00:00Z", "2024-01-20T00:30:00Z", observer_height_km="")
    assert info.value.param == "observer_height_km"


def test_demo_refuses_an_unknown_language_before_searching(monkeypatch):
    import cupola.demo

    def no_search(*_a, **_k):
        raise AssertionError("searched before checking the language")

    monkeypatch.setattr(cupola.demo, "windows", no_search)
    rc, _out, err = run(["demo", "--no-images", "--lang=de"])
    assert rc == 2 and err == "cupola: error: unknown language 'de'; use one of: en, fr (option --lang en|fr)\n"


@pytest.mark.parametrize(("argv", "expect"), [
    (["plan", "passes", "--from", "2024-01-20T00:00:00Z", "--to", "2024-01-20T03:00:00Z", "--where", "-33.9,18.4"],
     "seen from -33.900, 18.400"),
    (["plan", "over", "--from", "2024-01-20T00:00:00Z", "--to", "2024-01-20T03:00:00Z", "-33.9,18.4"],
     "within 300 km of -33.900, 18.400"),
    (["place", "-1e-3", "10"], "Gabon"),
    (["place", "10", "-1E-3"], "Ghana"),
])
def test_negative_numbers_with_exponents_or_pairs_are_values_not_options(argv, expect):
    """argparse took '-33.9,18.4' and '-1e-3' for unknown options: 'expected one argument', naming neither."""
    rc, out, err = run(argv)
    assert rc == 0 and expect in out, err


@pytest.mark.parametrize("value", ["-inf", "-1e-3", "-NaN"])
def test_a_negative_kp_of_any_spelling_is_refused_by_name(value):
    rc, _out, err = run(["where", T, "--kp", value])
    assert rc == 2 and err.startswith("cupola: error: Kp must be between 0 and 9, got ") and "(option --kp N)" in err


@pytest.mark.parametrize("name", ["g\x00", "a" * 300])
def test_a_gallery_folder_the_file_system_refuses_is_an_input_error(tmp_path, name):
    from cupola.demo import gallery_folder

    with pytest.raises(InputError, match="gallery folder") as info:
        gallery_folder(tmp_path / name)
    assert info.value.param == "out"
    rc, _out, err = run(["demo", f"--out={tmp_path / name}"])
    assert rc == 2 and err.count("\n") == 1 and "(option --out DIR)" in err, err

"""The `cupola` command: output, JSON keys, errors and exit codes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cupola.cli import main

DATA = Path(__file__).parent / "data" / "elements"
REF = json.loads((Path(__file__).parent / "reference" / "orbit_skyfield.json").read_text())
JSON_KEYS = {
    "time_utc", "tle_epoch_utc", "tle_age_days", "lat_deg", "lon_deg", "alt_km", "alt_mi",
    "r_teme_km", "sunlit", "sun_elevation_deg", "phase", "caption",
}


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_where_json_has_the_documented_keys_and_true_values(capsys):
    # A reference instant from skyfield: the 2024-01-22 08:53 set, 0.013 day after its epoch.
    row = next(r for r in REF["states"] if " 24022.37051078  .00025408" in r["line1"] and r["t_utc"].startswith("2024-01-22T09:12"))
    code, out, _ = run(capsys, "where", row["t_utc"], "--json")
    assert code == 0
    got = json.loads(out)
    assert JSON_KEYS <= set(got)
    # The archive picks the nearest set: here the 08:53 one (both fits share the epoch; the
    # archive keeps the first), so the answer equals skyfield's for that set.
    assert got["lat_deg"] == pytest.approx(row["lat_deg"], abs=1e-4)
    assert got["lon_deg"] == pytest.approx(row["lon_deg"], abs=1e-4)
    assert got["alt_km"] == pytest.approx(row["alt_km"], abs=0.002)
    assert got["alt_mi"] == pytest.approx(row["alt_km"] / 1.609344, abs=0.002)
    assert np.allclose(got["r_teme_km"], row["r_teme_km"], atol=0.001)
    assert got["sunlit"] is row["sunlit"]
    assert got["sun_elevation_deg"] == pytest.approx(row["sun_elevation_deg"], abs=0.01)
    assert got["tle_epoch_utc"].startswith("2024-01-22T08:53:32")
    assert got["tle_age_days"] == pytest.approx(0.013, abs=1e-6)


def test_where_seed_one_in_english_and_french(capsys):
    code, out, _ = run(capsys, "where", "2024-01-19T16:02:54Z")
    assert code == 0
    assert "The ISS was 260 miles (418 km) above the Pacific Ocean, northeast of Papua New Guinea, at night." in out
    assert "orbital sunrise 2024-01-19T16:10:1" in out
    code, out, _ = run(capsys, "where", "2024-01-19T16:02:54Z", "--lang", "fr", "--json")
    got = json.loads(out)
    assert got["caption"] == (
        "L'ISS se trouvait à 418 km (260 milles) au-dessus de l'océan Pacifique, "
        "au nord-est de la Papouasie-Nouvelle-Guinée, de nuit."
    )
    assert got["phase"] == "night" and got["sunlit"] is False


def test_where_with_an_omm_file_uses_its_nearest_set(capsys):
    code, out, _ = run(capsys, "where", "2021-05-01T13:00:00Z", "--tle", str(DATA / "iss_omm.json"), "--json")
    assert code == 0
    got = json.loads(out)
    assert got["tle_epoch_utc"].startswith("2021-05-01T12:37")
    assert got["warnings"] == []


def test_where_warns_about_a_stale_set_and_refuses_a_much_older_one(capsys):
    # The last bundled set of January 2024 has epoch 2024-01-23T01:46Z: 3.4 days before this time.
    code, out, _ = run(capsys, "where", "2024-01-26T12:00:00Z")
    assert code == 0
    assert "more than 3" in out and "(pass --tle FILE)" in out
    assert "the position is good only to ~" in out and "position good to ~" in out
    # 11.4 days after the last set of June 2017: the estimate is ~850 km, past the 100 km limit.
    code, out, err = run(capsys, "where", "2017-07-10T00:00:00Z")
    assert code == 2 and out == ""
    assert "is 11.4 days before it: its position then is good only to ~" in err and "(more than 100 km)" in err
    assert "--allow-stale" in err and err.count("\n") == 1
    code, out, _ = run(capsys, "where", "2017-07-10T00:00:00Z", "--allow-stale", "--json")
    got = json.loads(out)
    assert code == 0 and got["position_uncertainty_km"] > 100.0
    assert [w["code"] for w in got["warnings"]] == ["stale_elements"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["where", "2024-01-22T10:00:00"], "has no time zone; add 'Z'"),
        (["where", "soon"], "cannot read the time 'soon'"),
        (["where", "2024-01-22T10:00:00Z", "--lang", "de"], "unknown language 'de'"),
    ],
)
def test_errors_print_one_line_and_exit_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_element_file_errors_name_the_file_and_say_the_fix(capsys):
    # Element-set errors keep their house style: the message, then a `fix:` line (design note 6).
    code, out, err = run(capsys, "where", "2024-01-22T10:00:00Z", "--tle", "/nonexistent/tles.txt")
    assert code == 2 and out == "" and "Traceback" not in err
    first, fix = err.rstrip("\n").split("\n")
    assert first == "cupola: error: the element file '/nonexistent/tles.txt' does not exist."
    assert fix.startswith("fix: check the path") and fix.endswith("(option --tle FILE / --sat NAME|NORAD_ID)")


def test_bad_tle_file_reports_checksum(tmp_path, capsys):
    bad = tmp_path / "bad.tle"
    bad.write_text(
        "ISS (ZARYA)\n"
        "1 25544U 98067A   24022.37051078  .00025408  00000-0  45565-3 0  9997\n"
        "2 25544  51.6435 322.8411 0004875 117.1497  28.5107 15.49747298435787\n"
    )
    code, out, err = run(capsys, "where", "2024-01-22T10:00:00Z", "--tle", str(bad))
    assert code == 2
    assert "checksum" in err and "Traceback" not in err


def test_console_script_exit_codes_and_debug_traceback():
    exe = [sys.executable, "-m", "cupola.cli"]
    ok = subprocess.run(exe + ["where", "2021-05-02T06:45:00Z"], capture_output=True, text=True)
    assert ok.returncode == 0 and "The ISS was" in ok.stdout
    bad = subprocess.run(exe + ["where", "2021-05-02T06:45"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("cupola: error:")
    dbg = subprocess.run(exe + ["--debug", "where", "2021-05-02T06:45"], capture_output=True, text=True)
    assert dbg.returncode != 0 and "Traceback" in dbg.stderr
    usage = subprocess.run(exe + ["where"], capture_output=True, text=True)
    assert usage.returncode == 2


def test_demo_answers_both_seed_stories(capsys):
    code, out, _ = run(capsys, "demo", "--no-images")
    assert code == 0
    assert "northeast of Papua New Guinea, at night." in out
    assert "2021-05-02T06:56:00Z" in out and "just before orbital sunrise" in out


def test_french_block_uses_french_typography(capsys):
    code, out, _ = run(capsys, "where", "2021-05-02T06:56:00Z", "--lang", "fr")
    assert code == 0
    assert "au-dessus de l'océan Atlantique au large des États-Unis, juste avant le lever de soleil orbital." in out
    assert "423,9 km (263,4 milles)" in out and "71,67°O" in out
    assert "(nuit orbitale)\u202f; Soleil au point au sol\u202f: -25,8°" in out
    assert "(0,47 jour après\u202f; position exacte à ~1,5 km près)" in out
    # A narrow no-break space, never a plain one, before ; and % and a word's colon (not a time's).
    assert re.search(r" [;:%]", out) is None
    assert re.search(r"[^\u202f\d][;%]|[^\u202f\d]:", out) is None


def test_render_command_writes_a_photo_like_file(tmp_path, capsys):
    from cupola.render.output import read_metadata

    out = tmp_path / "view.jpg"
    code, text, _ = run(capsys, "render", "2021-05-02T06:56:00Z", "--camera", "D5", "--lens", "14",
                        "--look", "horizon:345,4", "--exposure", "1", "--iso", "12800", "--size", "160x90",
                        "--caption", "-o", str(out))
    assert code == 0 and out.is_file()
    assert "wrote" in text and "just before orbital sunrise" in text
    meta = read_metadata(out)
    assert meta["size"] == (160, 90) and meta["iso"] == 12800 and meta["exposure_s"] == 1.0


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--look", "sideways"], "unknown pointing 'sideways'"),
        (["--exposure", "fast"], "cannot read the exposure 'fast'"),
        (["--size", "big"], "WIDTHxHEIGHT"),
        (["--camera", "D700"], "unknown camera 'D700'"),
        (["--layers", "earth,fog"], "unknown render layer 'fog'"),
    ],
)
def test_render_errors_exit_2_and_write_nothing(tmp_path, capsys, extra, message):
    out = tmp_path / "view.png"
    code, _, err = run(capsys, "render", "2021-05-02T06:56:00Z", "--size", "160x90", "-o", str(out), *extra)
    assert code == 2 and message in err and "Traceback" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_library_errors_get_the_option_that_sets_them(capsys, tmp_path):
    code, _, err = run(capsys, "where", "2021-05-02T06:56:00Z", "--kp", "12")
    assert code == 2 and "Kp must be between 0 and 9, got 12.0 (option --kp N)" in err
    code, _, err = run(capsys, "where", "2021-05-02T06:56:00Z", "--lang", "de")
    assert code == 2 and err.rstrip().endswith("(option --lang en|fr)")
    code, _, err = run(capsys, "render", "2021-05-02T06:56:00Z", "-o", str(tmp_path / "x.png"),
                       "--look", "target:Xyzzyvillq")
    assert code == 2 and "no place called 'Xyzzyvillq'" in err and "(option --look)" in err
    assert list(tmp_path.iterdir()) == []


def test_warmup_compiles_every_kernel(capsys):
    code, out, _ = run(capsys, "warmup")
    assert code == 0 and "kernel signatures" in out
    from cupola.warmup import _dispatchers

    # Every kernel that cupola calls has at least one compiled signature after the warm-up.
    kernels = list(_dispatchers())
    assert len(kernels) >= 19 and all(len(d.signatures) > 0 for d in kernels)


def test_command_line_hygiene(capsys, tmp_path):
    # --debug after the command, as users type it: the traceback, not the one-line error.
    with pytest.raises(Exception, match="has no time zone"):
        main(["where", "2024-01-22T10:00:00", "--debug"])
    # argparse's own errors: one line, exit 2, and where to look.
    with pytest.raises(SystemExit) as info:
        main(["where"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.count("\n") == 1
    assert err.startswith("cupola: error: the following arguments are required: time") and "'cupola where --help'" in err
    # Control characters and bidirectional overrides in what the user typed come back escaped.
    code, out, err = run(capsys, "where", "a\x1b[31mred\x07\u202eX")
    assert code == 2 and "\x1b" not in err and "\x07" not in err and "\u202e" not in err
    assert "a\\x1b[31mred\\x07\\u202eX" in err


def test_piped_output_and_the_callers_directory(tmp_path):
    import shutil

    root = Path(__file__).resolve().parents[1]
    # A reader that stops early: no BrokenPipeError traceback.
    p = subprocess.run(f"{sys.executable} -m cupola.cli demo --no-images | head -1", shell=True,
                       capture_output=True, text=True, cwd=tmp_path)
    assert p.stdout.startswith("== Seed 1") and "Traceback" not in p.stderr
    # ./run.sh keeps the caller's working directory: a relative --tle path is the caller's.
    shutil.copy(DATA / "iss_omm.json", tmp_path / "mine.json")
    p = subprocess.run(["bash", str(root / "run.sh"), "where", "2021-05-01T13:00:00Z", "--tle", "mine.json", "--json"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["tle_epoch_utc"].startswith("2021-05-01T12:37")


def test_demo_refuses_a_gallery_folder_that_is_a_file(capsys, tmp_path):
    f = tmp_path / "not_a_folder"
    f.write_text("x")
    code, out, err = run(capsys, "demo", "--out", str(f))
    assert code == 2 and out == "" and "is a file; name a folder" in err and "(option --out DIR)" in err


def test_captions_say_the_satellite_for_other_satellites():
    from cupola.orbit import Satellite
    from cupola.scene import compute_scene

    def ck(line):
        return line[:68] + str(sum(int(c) if c.isdigit() else (1 if c == "-" else 0) for c in line[:68]) % 10)

    l1 = "1 25544U 98067A   24022.37051078  .00025408  00000-0  45565-3 0  9998"
    l2 = "2 25544  51.6435 322.8411 0004875 117.1497  28.5107 15.49747298435787"
    other = Satellite.from_tle(ck(l1.replace("25544U", "43013U")), ck(l2.replace("25544 ", "43013 ")), name="NOAA 20")
    sc = compute_scene("2024-01-22T10:00:00Z", sat=other)
    assert sc.caption().startswith("The satellite was ") and sc.caption("fr").startswith("Le satellite se trouvait")
    assert compute_scene("2024-01-22T10:00:00Z").caption().startswith("The ISS was ")


@pytest.mark.parametrize("name, message", [
    ("", "is a folder; pass a file name inside it"),
    ("view.tiff", "the file name ends in '.tiff'"),
    ("missing/view.png", "does not exist; create it first"),
])
def test_render_checks_the_output_before_working(capsys, tmp_path, name, message):
    import time

    t0 = time.perf_counter()
    code, out, err = run(capsys, "render", "2021-05-02T06:56:00Z", "-o", str(tmp_path / name) if name else str(tmp_path))
    assert code == 2 and message in err and "(option -o FILE)" in err and out == ""
    assert time.perf_counter() - t0 < 1.0  # refused before the Scene is computed
    assert list(tmp_path.iterdir()) == []


def test_render_summary_names_the_focal_length_of_the_field(capsys, tmp_path):
    code, out, _ = run(capsys, "render", "2024-01-19T16:02:54Z", "--size", "64x36", "--fov", "5", "--camera", "D5",
                       "-o", str(tmp_path / "f.png"))
    # 5 deg across 64 px of a 35.9 mm-wide sensor cropped to 16:9 (width-limited): f = 17.95 / tan(2.5 deg).
    assert code == 0 and f"NIKON D5 {17.95 / np.tan(np.radians(2.5)):.4g} mm" in out


def test_element_sets_from_standard_input_and_a_group_file(capsys, monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO((DATA / "iss_omm_source.tle").read_bytes())))
    code, out, _ = run(capsys, "where", "2021-05-01T13:00:00Z", "--tle", "-", "--json")
    assert code == 0 and json.loads(out)["tle_epoch_utc"].startswith("2021-05-01T12:37")
    group = str(DATA / "derived_group.tle")
    code, out, err = run(capsys, "where", "2024-01-22T10:00:00Z", "--tle", group)
    assert code == 2 and "5 satellites are in the element file" in err and "90003  'DERIVED BETA'" in err
    assert "--sat NAME|NORAD_ID" in err
    code, out, _ = run(capsys, "where", "2024-01-22T10:00:00Z", "--tle", group, "--sat", "zarya", "--json")
    assert code == 0 and json.loads(out)["satellite"] == "ISS (ZARYA)"


def test_render_gives_the_same_warnings_and_refusals_as_where(capsys, tmp_path):
    code, out, _ = run(capsys, "render", "2024-01-26T12:00:00Z", "--size", "64x36", "--look", "nadir",
                       "-o", str(tmp_path / "w.png"))
    assert code == 0 and "warning: the nearest element set is 3.4 days before this time" in out
    assert "(pass --tle FILE)" in out
    code, out, err = run(capsys, "render", "2017-07-10T00:00:00Z", "--size", "64x36", "-o", str(tmp_path / "x.png"))
    assert code == 2 and "good only to ~" in err and not (tmp_path / "x.png").exists()

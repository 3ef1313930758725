"""cupola batch: per-row answers equal the single-instant API's, bad rows, Dask runs and resume.

The truth is the single-instant API: ``where_json(compute_scene(t))`` for the row's instant and
element set, and the exceptions ``compute_scene`` raises for a bad one.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cupola.answers.json import where_json
from cupola.batch import annotate_dask, annotate_frame, output_columns, parse_times, read_output, run_batch
from cupola.cli import main
from cupola.errors import CupolaError, InputError
from cupola.orbit import Satellite
from cupola.scene import compute_scene
from cupola.timebase import to_utc64

SRC = str(Path(__file__).resolve().parents[1] / "src")
TLE_FILE = Path(__file__).parent / "data" / "elements" / "iss_omm_source.tle"
SPANS = (("2024-01-18T00:00:00", 6 * 86400), ("2021-05-01T00:00:00", 2 * 86400))


def catalogue(n: int, seed: int = 0, fraction_digits: int = 0) -> pd.DataFrame:
    """Return n synthetic photo records with ISO times inside the bundled element sets' spans."""
    rng = np.random.default_rng(seed)
    span = rng.integers(0, len(SPANS), n)
    start = np.array([np.datetime64(SPANS[k][0], "ns") for k in span])
    length = np.array([SPANS[k][1] for k in span], float)
    t = start + (rng.random(n) * length * 1e9).astype("timedelta64[ns]")
    unit = {0: "s", 3: "ms"}[fraction_digits]
    text = np.char.add(np.datetime_as_string(t.astype(f"datetime64[{unit}]")), "Z")
    return pd.DataFrame({"photo_id": [f"ISS{k:07d}" for k in range(n)], "time_utc": text})


def _catalogue_csv(tmp_path, n: int, seed: int) -> tuple[pd.DataFrame, Path]:
    """Return (catalogue(n, seed), the CSV file in `tmp_path` holding it)."""
    df = catalogue(n, seed=seed)
    src = tmp_path / "photos.csv"
    df.to_csv(src, index=False)
    return df, src


def _same(value, truth) -> bool:
    if truth is None:
        return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))
    return value == truth and type(truth)(value) == truth


def _check_row(row, answer):
    for key in ("time_utc", "satellite", "tle_epoch_utc", "tle_age_days", "position_uncertainty_km", "lat_deg",
                "lon_deg", "alt_km", "alt_mi", "sunlit", "sun_elevation_deg", "phase", "caption",
                "next_orbital_sunrise_utc", "next_orbital_sunset_utc", "sgp4_error"):
        assert _same(row[key], answer[key]), (key, row[key], answer[key])
    assert [row[f"r_teme_{a}_km"] for a in "xyz"] == answer["r_teme_km"]
    assert row["warnings"] == ",".join(w["code"] for w in answer["warnings"])
    assert pd.isna(row["error"])


def _check_in_view(row, iv):
    assert row["stars_visible"] == iv["stars_visible"]
    assert row["moon_visible"] == iv["moon"]["visible"]
    assert row["airglow_visible"] == any(a["visible"] for a in iv["airglow"])
    assert _same(row["aurora_visible"], iv["aurora"]["visible"])
    assert _same(row["aurora_kp"], iv["aurora"]["kp"])
    assert _same(row["aurora_distance_km"], iv["aurora"]["distance_km"])
    if iv["cities"]:
        near = min(c["distance_km"] for c in iv["cities"])
        first = next(c for c in iv["cities"] if c["distance_km"] == near)
        assert (row["city_name"], row["city_country"], row["city_distance_km"]) == (first["name"], first["country"], near)
    else:
        assert row["city_name"] == "" and np.isnan(row["city_distance_km"])


@pytest.fixture(scope="module")
def annotated():
    df = catalogue(1500, seed=1, fraction_digits=3)
    return df, annotate_frame(df, columns="all"), annotate_frame(df, columns="where", lang="fr")


def test_rows_equal_the_single_instant_answer_exactly(annotated):
    df, out, out_fr = annotated
    assert list(out["photo_id"]) == list(df["photo_id"]) and list(out["input_time_utc"]) == list(df["time_utc"])
    sat = Satellite.from_archive()
    rng = np.random.default_rng(7)
    for k in rng.choice(len(df), 12, replace=False):
        scene = compute_scene(df["time_utc"].iloc[k], sat=sat)
        _check_row(out.iloc[k], where_json(scene))
        _check_in_view(out.iloc[k], where_json(scene)["in_view"])
        _check_row(out_fr.iloc[k], where_json(scene, "fr"))
    assert out["error"].isna().all()
    # The sample covers both spans and both lights.
    assert out["time_utc"].str.startswith("2021").any() and out["time_utc"].str.startswith("2024").any()
    assert out["sunlit"].any() and not out["sunlit"].all()


def test_rows_equal_the_one_instant_answers_of_the_default_kernel_policy(annotated, monkeypatch):
    # Unset, CUPOLA_NO_JIT lets a one-instant answer run the numpy twins (cupola.jit.TWIN_BELOW)
    # while the batch's chunks run the compiled kernels: they must still agree to the last digit.
    df, out, _ = annotated
    monkeypatch.setenv("CUPOLA_NO_JIT", "")
    sat = Satellite.from_archive()
    for k in np.random.default_rng(11).choice(len(df), 12, replace=False):
        answer = where_json(compute_scene(df["time_utc"].iloc[k], sat=sat))
        _check_row(out.iloc[k], answer)
        _check_in_view(out.iloc[k], answer["in_view"])


def test_one_instant_and_series_paths_agree_far_below_the_printed_digits(monkeypatch):
    # The default policy runs a one-instant state through the numpy twins and a series through the
    # compiled kernels; the where fields print latitudes to 1e-6 deg, so they must agree to ~1e-11.
    monkeypatch.setenv("CUPOLA_NO_JIT", "")
    sat = Satellite.from_archive()
    t = to_utc64(list(catalogue(300, seed=12)["time_utc"]))
    series = sat.at(t, exact=True)
    ones = [sat.at(t[k:k + 1]) for k in range(0, 300, 10)]
    for name, tol in (("lat_deg", 1e-11), ("lon_deg", 1e-11), ("alt_km", 1e-9)):
        got = np.array([float(getattr(o, name)[0]) for o in ones])
        np.testing.assert_allclose(got, getattr(series, name)[::10], rtol=0, atol=tol, err_msg=name)


def test_where_only_runs_compute_the_same_columns(annotated):
    df, out, _ = annotated
    where = annotate_frame(df.iloc[:300], columns="where")
    for col in where.columns:
        if col != "warnings":  # without the aurora, the Kp warnings are not told
            pd.testing.assert_series_equal(where[col], out[col].iloc[:300], check_names=True)
    assert "stars_visible" not in where.columns


def test_iso_text_and_epoch_seconds_read_as_to_utc64_reads_them():
    texts = ["2024-01-22T13:05:00Z", "2024-01-22T13:05:00.123456789Z", "2024-01-22 13:05:00+02:00",
             "2024-01-22T13:05:00.5-05:30", "2024-01-22t13:05:00z", "2024-01-22T13:05:00,25Z",
             "2016-12-31T23:59:60Z", "2024-01-22 13:05:00 UTC", "1700000000", "1700000000.25"]
    t, err = parse_times(pd.Series(texts, name="time_utc"))
    assert all(e is None for e in err)
    truth = [to_utc64(x) for x in texts[:8]]
    assert list(t[:8]) == truth
    assert t[8] == np.datetime64(1_700_000_000, "s") and t[9] == np.datetime64(1_700_000_000_250, "ms")
    t2, err2 = parse_times(pd.Series([1_700_000_000, 1_700_000_000], name="t"))
    assert list(t2) == [np.datetime64(1_700_000_000, "s")] * 2 and all(e is None for e in err2)
    t3, _ = parse_times(pd.Series(pd.to_datetime(["2024-01-22T13:05:00+01:00"], utc=True)))
    assert t3[0] == np.datetime64("2024-01-22T12:05:00", "ns")


def _message(t, **kw):
    with pytest.raises(CupolaError) as exc:
        compute_scene(t, **kw)
    return str(exc.value)


def test_bad_rows_get_the_single_instant_refusal_and_never_stop_the_job():
    bad = ["not a time", "2024-01-22T13:05:00", "", "1990-01-01T00:00:00Z", "2060-01-01T00:00:00Z",
           "2021-05-12T00:00:00Z"]
    df = pd.DataFrame({"photo_id": range(len(bad) + 1), "time_utc": bad + ["2024-01-22T13:05:00Z"]})
    out = annotate_frame(df, columns="where")
    err = list(out["error"])
    assert err[0] == _message("not a time") and err[1] == _message("2024-01-22T13:05:00")
    assert err[2] == "no time in column 'time_utc'"
    for k in (3, 4, 5):  # before launch, outside the ephemeris, element set 10 days away
        assert err[k] == _message(bad[k]), k
    assert pd.isna(err[-1]) and out["lat_deg"].iloc[:-1].isna().all() and out["sunlit"].iloc[:-1].isna().all()
    assert out["caption"].iloc[:-1].isna().all() and out["sgp4_error"].iloc[:-1].isna().all()
    stale = annotate_frame(df.iloc[[5]], columns="where", allow_stale=True).iloc[0]
    _check_row(stale, where_json(compute_scene(bad[5], allow_stale=True)))
    assert stale["warnings"] == "stale_elements"


def test_per_row_element_sets_are_grouped_and_a_bad_one_is_that_row_s_error():
    lines = TLE_FILE.read_text().splitlines()
    sets = [(lines[i + 1], lines[i + 2]) for i in range(1, len(lines) - 2, 3) if lines[i + 1].startswith("1 ")]
    (a1, a2), (b1, b2) = sets[0], sets[1]
    times = ["2017-01-24T00:00:00Z", "2021-05-01T13:00:00Z", "2017-01-24T02:00:00Z", "2024-01-22T13:05:00Z",
             "2017-01-24T03:00:00Z"]
    broken = a1[:-1] + str((int(a1[-1]) + 1) % 10)  # checksum wrong
    df = pd.DataFrame({"photo_id": range(5), "time_utc": times, "tle_line1": [a1, b1, a1, None, broken],
                       "tle_line2": [a2, b2, a2, None, a2]})
    out = annotate_frame(df, columns="where")
    for k, (l1, l2) in ((0, (a1, a2)), (1, (b1, b2)), (2, (a1, a2))):
        _check_row(out.iloc[k], where_json(compute_scene(times[k], sat=Satellite.from_tle(l1, l2))))
    _check_row(out.iloc[3], where_json(compute_scene(times[3])))  # no set on the row: the default one
    assert out["error"].iloc[4].startswith("this row's element set cannot be used: ") and "checksum" in out["error"].iloc[4]
    assert list(out["input_tle_line1"] if "input_tle_line1" in out else out["tle_line1"])[0] == a1


def test_options_are_checked_before_any_work():
    df = catalogue(3)
    with pytest.raises(InputError, match="no time column 'when'"):
        annotate_frame(df, time_column="when")
    with pytest.raises(InputError, match="no output column or group named 'latitude'"):
        annotate_frame(df, columns="where,latitude")
    with pytest.raises(InputError, match="lang"):
        annotate_frame(df, lang="de")
    assert output_columns("lat_deg,caption") == ("lat_deg", "caption", "error")
    empty = annotate_frame(df.iloc[:0])
    assert len(empty) == 0 and list(empty.columns) == list(annotate_frame(df).columns)


def test_annotate_dask_equals_annotate_frame():
    import dask
    import dask.dataframe as dd

    df = catalogue(400, seed=3)
    ddf = dd.from_pandas(df, npartitions=3)
    lazy = annotate_dask(ddf, columns="where")
    with dask.config.set(scheduler="threads"):
        got = lazy.compute()
    pd.testing.assert_frame_equal(got.reset_index(drop=True), annotate_frame(df, columns="where"),
                                  check_dtype=False)


def test_run_batch_writes_fixed_parts_and_resume_redoes_only_what_is_missing(tmp_path):
    df = catalogue(600, seed=4)
    src = tmp_path / "photos.csv"
    df.to_csv(src, index=False)
    out = tmp_path / "annotated.parquet"
    r = run_batch(src, out, columns="where", scheduler="threads", workers=2, partitions=4)
    assert (r.rows, r.written, r.skipped, r.errors) == (600, 4, 0, 0) and r.rows_per_s > 0
    names = sorted(p.name for p in out.iterdir() if p.is_file())
    assert names == ["_job.json", "_manifest.json"] + [f"part-0000{i}.parquet" for i in range(4)]
    first = read_output(out)
    assert list(first["photo_id"]) == list(df["photo_id"])
    # A part lost (as if its worker died before the rename) and a half-written temporary left behind.
    (out / "part-00002.parquet").unlink()
    (out / ".part-00001.parquet.tmp-0123456789ab").write_bytes(b"half")
    with pytest.raises(InputError, match="is not empty"):
        run_batch(src, out, columns="where", scheduler="threads", partitions=4)
    with pytest.raises(InputError, match="another job"):
        run_batch(src, out, columns="where", scheduler="threads", partitions=5, resume=True)
    r2 = run_batch(src, out, columns="where", scheduler="threads", workers=1, partitions=4, resume=True)
    assert (r2.rows, r2.written, r2.skipped, r2.computed_rows) == (600, 1, 3, r2.parts[2]["rows"])
    again = read_output(out)
    pd.testing.assert_frame_equal(again, first)
    assert not list(out.glob(".part-*"))
    # pandas reads the folder as one dataset (the sidecars and the manifest start with '_').
    assert sorted(pd.read_parquet(out)["photo_id"]) == sorted(df["photo_id"])


def test_cli_batch_writes_csv_parts_and_reports_rows_per_second(tmp_path, capsys):
    df = catalogue(50, seed=5)
    df.loc[7, "time_utc"] = "yesterday"
    src = tmp_path / "photos.parquet"
    df.to_parquet(src)
    out = tmp_path / "annotated.csv"
    code = main(["batch", str(src), "-o", str(out), "--columns", "lat_deg,lon_deg,caption", "--scheduler", "threads",
                 "--workers", "1", "--partitions", "2", "--lang", "fr", "--no-progress"])
    text = capsys.readouterr().out
    assert code == 0 and "50 rows in 2 parts" in text and "1 with an error" in text and "rows/s" in text
    got = read_output(out)
    assert list(got.columns) == ["photo_id", "time_utc", "lat_deg", "lon_deg", "caption",
                                 "error"]
    assert got["caption"].dropna().str.startswith("L'ISS").all() and "yesterday" in got["error"].iloc[7]


@pytest.mark.parametrize("argv, message", [
    (["batch", "missing.csv", "-o", "x.parquet"], "no input file 'missing.csv'"),
    (["batch", "{src}", "-o", "x.parquet", "--time-column", "when"], "no time column 'when'"),
    (["batch", "{src}", "-o", "x.parquet", "--columns", "latitude"], "(option --columns)"),
    (["batch", "{src}", "-o", "{src}"], "is a file"),
])
def test_cli_batch_errors_are_one_line_exit_2(tmp_path, capsys, argv, message, monkeypatch):
    monkeypatch.chdir(tmp_path)
    src = tmp_path / "p.csv"
    catalogue(3).to_csv(src, index=False)
    assert main([a.format(src=src) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("cupola: error: ") and message in err and "\n" not in err


# -- real processes ----------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _dask_exe() -> str:
    exe = Path(sys.executable).with_name("dask")
    if not exe.exists():
        pytest.skip("the dask command is not installed next to this Python")
    return str(exe)


def _cupola(*args) -> list[str]:
    return [sys.executable, "-c", "import sys; from cupola.cli import main; sys.exit(main())", *args]


def _stop(procs):
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@pytest.mark.slow
def test_a_real_scheduler_and_workers_on_loopback_survive_a_killed_worker(tmp_path):
    """`dask scheduler` and two `dask worker` processes; one worker is killed mid-run (the
    scheduler moves its task to the other); the output is complete and duplicate-free."""
    df = catalogue(3000, seed=6)
    src = tmp_path / "photos.csv"
    df.to_csv(src, index=False)
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    exe = _dask_exe()
    procs = [subprocess.Popen([exe, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        # --no-nanny: the worker process is the one killed (a nanny would restart it at once).
        workers = [subprocess.Popen([exe, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                                     "--host", "127.0.0.1"], env=_env(), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL) for _ in range(2)]
        procs += workers
        from distributed import Client

        with Client(address, timeout="30s") as c:
            c.wait_for_workers(2, timeout=60)
        out = tmp_path / "annotated.parquet"
        job = subprocess.Popen(_cupola("batch", str(src), "-o", str(out), "--columns", "where", "--scheduler", address,
                                       "--partitions", "12", "--no-progress"), env=_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        procs.append(job)
        deadline = time.monotonic() + 120
        while not list(out.glob("part-*.parquet")) and time.monotonic() < deadline and job.poll() is None:
            time.sleep(0.05)
        assert job.poll() is None, "the job ended before a worker could be killed"
        workers[0].kill()
        stdout, stderr = job.communicate(timeout=300)
        assert job.returncode == 0, stderr
        assert "3,000 rows in 12 parts" in stdout
        got = read_output(out)
        assert len(got) == 3000 and got["photo_id"].is_unique and set(got["photo_id"]) == set(df["photo_id"])
        assert got["error"].isna().all()
    finally:
        _stop(procs)


@pytest.mark.slow
def test_a_killed_batch_job_resumes_to_every_row_once(tmp_path):
    df, src = _catalogue_csv(tmp_path, 4000, 8)
    out = tmp_path / "annotated.parquet"
    args = ("batch", str(src), "-o", str(out), "--columns", "where", "--workers", "1", "--partitions", "16",
            "--no-progress")
    job = subprocess.Popen(_cupola(*args), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while len(list(out.glob("part-*.parquet"))) < 3 and time.monotonic() < deadline and job.poll() is None:
            time.sleep(0.05)
        assert job.poll() is None, "the job ended before it could be killed"
        os.killpg(job.pid, signal.SIGKILL)  # the command, its cluster and its worker: nothing cleans up
        job.wait()
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
    landed = len(list(out.glob("part-*.parquet")))
    assert 3 <= landed < 16 and not (out / "_manifest.json").exists()
    done = subprocess.run(_cupola(*args, "--resume"), env=_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "kept from the earlier run" in done.stdout
    man = json.loads((out / "_manifest.json").read_text())
    assert man["rows"] == 4000 and len(man["parts"]) == 16
    got = read_output(out)
    assert len(got) == 4000 and got["photo_id"].is_unique and list(got["photo_id"]) == list(df["photo_id"])


# -- the vectorised parts the in_view summary uses, against their single-instant counterparts ----
def _varied_instants(n: int, seed: int) -> np.ndarray:
    """Return n random instants in the bundled element sets' spans plus instants within a minute of
    UTC midnight (a new magnetic table, a new star hour) and over the antimeridian, both
    hemispheres (checked)."""
    rng = np.random.default_rng(seed)
    t = to_utc64(list(catalogue(n, seed=seed, fraction_digits=3)["time_utc"]))
    days = np.array(["2024-01-19", "2024-01-22", "2021-05-02"], "datetime64[ns]")
    midnight = rng.choice(days, 40) + (rng.integers(-60_000, 60_000, 40) * 1_000_000).astype("timedelta64[ns]")
    dense = np.datetime64("2024-01-20T00:00:00", "ns") + np.arange(0, 86400, 7).astype("timedelta64[s]")
    lon = Satellite.from_archive().at(dense).lon_deg
    seam = dense[np.abs(lon) > 178.0][:: 5]
    out = np.concatenate([t, midnight, seam])
    lat = Satellite.from_archive().at(out).lat_deg
    assert seam.size >= 20 and (lat > 30).any() and (lat < -30).any()
    return out


def test_moon_above_limb_equals_the_bodies_answer_exactly(monkeypatch):
    import importlib

    from cupola.sky.bodies import bodies, moon_above_limb

    bodies_module = importlib.import_module("cupola.sky.bodies")  # cupola.sky.bodies is also a function

    sat = Satellite.from_archive()
    t = _varied_instants(1500, seed=21)
    series = sat.at(t, exact=True)
    got = moon_above_limb(series)
    assert got.shape == t.shape and got.any() and not got.all()
    for k in np.random.default_rng(2).choice(t.size, 25, replace=False):  # the single-instant Scene's answer
        assert bool(got[k]) == bool(compute_scene(t[k], sat=sat).body("Moon").above_limb), k
    assert np.array_equal(got, np.asarray(bodies(series, names=("moon",))[0].above_limb))
    # Rows near the limb take the exact frame: widen the band so that many do, the answer is the same.
    monkeypatch.setattr(bodies_module, "MOON_LIMB_EXACT_DEG", 40.0)
    assert np.array_equal(moon_above_limb(series), got)
    failed = sat.at(np.array(["2024-01-20T00:00:00", "1990-01-01T00:00:00"] * 20, "datetime64[ns]"), exact=True)
    assert not moon_above_limb(failed)[1::2].any()


def test_star_counts_of_a_scattered_series_equal_each_instant_s(monkeypatch):
    from cupola.sky.stars import visible_stars

    sat = Satellite.from_archive()
    t = _varied_instants(400, seed=22)
    for policy in ("0", ""):  # compiled everywhere; the default (one instant runs the numpy twin)
        monkeypatch.setenv("CUPOLA_NO_JIT", policy)
        counts = visible_stars(sat.at(t, exact=True)).count
        for k in np.random.default_rng(3).choice(t.size, 30, replace=False):
            assert counts[k] == int(visible_stars(sat.at(t[k])).count), (policy, k)


@pytest.mark.parametrize("kp", [None, 0.0, 5.0, 9.0])
def test_the_oval_kernel_s_pruning_changes_no_answer(monkeypatch, kp):
    import functools

    from cupola.phenomena import aurora

    monkeypatch.setenv("CUPOLA_NO_JIT", "0")
    sat = Satellite.from_archive()
    st = sat.at(_varied_instants(1200, seed=23 + int(kp or 0)), exact=True)
    pruned = aurora.aurora_in_view(st, kp=kp, missing="nan")
    monkeypatch.setattr(aurora, "_summary", functools.partial(aurora._summary, prune=False))
    full = aurora.aurora_in_view(st, kp=kp, missing="nan")
    for name in ("visible", "hemisphere", "azimuth_deg", "elevation_deg", "distance_km", "lines_in_view",
                 "iss_mlat_deg", "magnetic_model", "note"):
        a, b = np.asarray(getattr(pruned, name)), np.asarray(getattr(full, name))
        assert a.shape == b.shape and (np.array_equal(a, b, equal_nan=True) if a.dtype.kind == "f"
                                       else np.array_equal(a, b)), name
    vis = np.asarray(full.visible, bool)
    assert vis.any() and not vis.all()
    if kp != 0.0:
        assert {"north", "south"} <= set(np.asarray(full.hemisphere)[vis])


# -- a full disk (issue 17) ----------------------------------------------------------------------
def _consistent(out: Path) -> list[str]:
    """Assert no temporary or manifest is left and every part has a matching sidecar; return the parts."""
    assert not list(out.glob(".*tmp-*")) and not list((out / "_parts").glob(".*tmp-*"))
    assert not (out / "_manifest.json").exists()
    parts = sorted(p.name for p in out.glob("part-*"))
    for name in parts:
        side = json.loads((out / "_parts" / (name.split(".")[0] + ".json")).read_text())
        import hashlib

        assert side["sha256"] == hashlib.sha256((out / name).read_bytes()).hexdigest(), name
    return parts


def test_a_disk_that_fills_mid_batch_says_so_once_and_resume_finishes_every_row_once(tmp_path, monkeypatch, capsys):
    import errno

    from cupola.errors import OutputError

    df, src = _catalogue_csv(tmp_path, 480, 9)
    out = tmp_path / "annotated.parquet"
    real = pd.DataFrame.to_parquet
    room = {"parts": 2}

    def filling(self, path, *a, **kw):  # two parts fit; the third is cut short by a full disk
        if room["parts"] == 0:
            Path(path).write_bytes(b"PAR1 half a part")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        room["parts"] -= 1
        return real(self, path, *a, **kw)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", filling)
    argv = ["batch", str(src), "-o", str(out), "--columns", "where", "--scheduler", "threads", "--workers", "1",
            "--partitions", "6", "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"cupola: error: cannot write the batch output {str(out)!r}: "
                                                   "No space left on device (writing part-0000"), err
    assert "no part is left half-written" in err and "free some disk space, then resume the run (option --resume)" in err
    assert _consistent(out) and len(_consistent(out)) == 2
    with pytest.raises(OutputError, match=r"resume=True\) computes only the missing parts$") as info:
        run_batch(src, out, columns="where", scheduler="threads", workers=1, partitions=6, resume=True)
    assert info.value.errno == errno.ENOSPC and isinstance(info.value, OSError) and len(_consistent(out)) == 2
    room["parts"] = 10**6  # space freed
    r = run_batch(src, out, columns="where", scheduler="threads", workers=1, partitions=6, resume=True)
    assert (r.rows, r.skipped, r.written) == (480, 2, 4)
    got = read_output(out)
    assert list(got["photo_id"]) == list(df["photo_id"])
    fresh = run_batch(src, tmp_path / "fresh.parquet", columns="where", scheduler="threads", partitions=6)
    pd.testing.assert_frame_equal(got, read_output(fresh.output))


@pytest.mark.slow
def test_a_file_size_limit_stops_a_batch_with_one_line_and_nothing_half_written(tmp_path):
    # A real write that the kernel refuses (RLIMIT_FSIZE: EFBIG, as a full disk), in a subprocess.
    df, src = _catalogue_csv(tmp_path, 400, 10)
    out = tmp_path / "annotated.csv"
    args = ["batch", str(src), "-o", str(out), "--columns", "where", "--scheduler", "threads", "--workers", "1",
            "--partitions", "4", "--no-progress"]
    # The kernels are compiled (and numba's cache written) before the limit is set.
    limited = ("import resource, signal, sys; import pandas as pd; from cupola.batch import annotate_frame; "
               "from cupola.cli import main; annotate_frame(pd.DataFrame({'time_utc': ['2024-01-22T13:05:00Z'] * 300}), "
               "columns='where'); signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
               "resource.setrlimit(resource.RLIMIT_FSIZE, (8000, 8000)); sys.exit(main())")
    done = subprocess.run([sys.executable, "-c", limited, *args], env=_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(
        f"cupola: error: cannot write the batch output {str(out)!r}: File too large (writing part-0000"), done.stderr
    assert _consistent(out) == []
    again = subprocess.run(_cupola(*args, "--resume"), env=_env(), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    got = read_output(out)
    assert len(got) == 400 and list(got["photo_id"]) == list(df["photo_id"]) and got["error"].isna().all()

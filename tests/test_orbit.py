"""Orbit: positions against skyfield reference values (tools/build_reference_orbit.py)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from cupola.api import Satellite, TimeInputError, to_utc64
from cupola.timebase import instants

# Kernels with a numpy twin: CI reruns this module with CUPOLA_NO_JIT=1 (cupola.jit).
pytestmark = pytest.mark.numpy_twin

REF = json.loads((Path(__file__).parent / "reference" / "orbit_skyfield.json").read_text())
ONE_METER_KM = 0.001
ONE_CM_KM = 1e-5
GEODETIC_DEG = 1e-4
L1 = "1 25544U 98067A   24022.37051078  .00025408  00000-0  45565-3 0  9998"
L2 = "2 25544  51.6435 322.8411 0004875 117.1497  28.5107 15.49747298435787"


def _groups():
    g = defaultdict(list)
    for row in REF["states"]:
        g[(row["line1"], row["line2"])].append(row)
    return g


GROUPS = _groups()


def test_reference_covers_every_bundled_set():
    assert len(GROUPS) == 187  # every set in the file, the duplicate epoch's two fits included
    assert REF["provenance"]["skyfield"]


@pytest.mark.parametrize("key", list(GROUPS), ids=[k[0][18:32] for k in GROUPS])
def test_state_matches_skyfield(key):
    rows = GROUPS[key]
    sat = Satellite.from_tle(*key)
    st = sat.at([r["t_utc"] for r in rows])
    want_r = np.array([r["r_teme_km"] for r in rows])
    assert np.abs(st.r_teme_km - want_r).max() < ONE_METER_KM
    assert np.abs(st.lat_deg - [r["lat_deg"] for r in rows]).max() < GEODETIC_DEG
    dlon = (st.lon_deg - np.array([r["lon_deg"] for r in rows]) + 180.0) % 360.0 - 180.0
    assert np.abs(dlon).max() < GEODETIC_DEG
    assert np.abs(st.alt_km - [r["alt_km"] for r in rows]).max() < ONE_METER_KM
    assert (st.sunlit == np.array([r["sunlit"] for r in rows])).all()
    assert (st.error == 0).all()


def test_archive_uses_nearest_set_and_reports_its_age():
    sat = Satellite.from_archive()
    # 2024-01-22T12:00Z lies between the epochs 24022.37051078 (08:53:32) and 24022.67711117
    # (16:14): 3.1 h after the first, 4.25 h before the second.
    st = sat.at("2024-01-22T12:00:00Z")
    assert np.datetime_as_string(st.tle_epoch_utc).startswith("2024-01-22T08:53:32")
    assert st.tle_age_days == pytest.approx(0.5 - 0.37051078, abs=1e-8)
    st = sat.at("2024-01-22T13:00:00Z")  # now 4.1 h after and 3.25 h before: the later set
    assert st.tle_age_days == pytest.approx(13.0 / 24.0 - 0.67711117, abs=1e-8)


def test_shapes_broadcast():
    sat = Satellite.from_tle(L1, L2)
    base = np.datetime64("2024-01-22T10:00:00", "ns")
    t2 = base + np.arange(12).reshape(3, 4).astype("timedelta64[m]")
    st = sat.at(t2)
    assert st.lat_deg.shape == (3, 4) and st.r_teme_km.shape == (3, 4, 3) and st.sunlit.shape == (3, 4)
    s0 = sat.at("2024-01-22T10:00:00Z")
    assert s0.lat_deg.shape == () and s0.r_teme_km.shape == (3,)
    assert s0.lat_deg == pytest.approx(st.lat_deg[0, 0], abs=1e-12)
    empty = sat.at(np.array([], dtype="datetime64[ns]"))
    assert empty.alt_km.shape == (0,)


def test_dense_interpolation_matches_direct_sgp4():
    sat = Satellite.from_tle(L1, L2)
    t = np.datetime64("2024-01-22T00:00:00", "ns") + (np.arange(50_000) * 1_700_000_000).astype("timedelta64[ns]")
    fast, exact = sat.at(t), sat.at(t, exact=True)
    assert np.abs(fast.r_teme_km - exact.r_teme_km).max() < 2 * ONE_CM_KM
    assert np.abs(fast.v_teme_km_s - exact.v_teme_km_s).max() < 3e-5  # 3 cm/s: SGP4's own v vs dr/dt
    assert (fast.sunlit == exact.sunlit).mean() > 0.9999


def test_datetime_inputs_agree():
    sat = Satellite.from_tle(L1, L2)
    a = sat.at("2024-01-22T10:00:00Z").r_teme_km
    b = sat.at(dt.datetime(2024, 1, 22, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))).r_teme_km
    c = sat.at(np.datetime64("2024-01-22T10:00:00")).r_teme_km
    d = sat.at("2024-01-22T11:00:00+01:00").r_teme_km
    assert np.array_equal(a, b) and np.array_equal(a, c) and np.array_equal(a, d)


def test_decayed_propagation_gives_nan_rows_not_exceptions():
    sat = Satellite.from_tle(L1, L2)
    st = sat.at(np.array(["2024-01-22T00:00", "2026-06-01T00:00"], dtype="datetime64[ns]"))
    assert st.error[0] == 0 and st.error[1] == 6
    assert np.isnan(st.lat_deg[1]) and np.isnan(st.r_teme_km[1]).all() and not st.sunlit[1]
    assert np.isfinite(st.lat_deg[0])
    assert st.error_message[1] == "orbit radius is less than 1.0 Earth radii, which indicates the satellite has decayed"
    assert st.error_message[0] == ""


def test_sgp4_error_table_names_every_code_of_the_library():
    from sgp4.api import SGP4_ERRORS as library

    from cupola import orbit
    from cupola.elements import base

    assert base.SGP4_ERRORS is orbit.SGP4_ERRORS
    assert set(orbit.SGP4_ERRORS) == {0, *library} and orbit.SGP4_ERRORS[0] == ""
    assert all(orbit.SGP4_ERRORS[k] for k in library)


def test_stale_element_set_is_logged(caplog):
    sat = Satellite.from_tle(L1, L2)
    with caplog.at_level(logging.WARNING, logger="cupola.orbit"):
        st = sat.at("2024-01-27T00:00:00Z")
    assert st.tle_age_days == pytest.approx(4.6295, abs=1e-3)
    assert "more than 3 days" in caplog.text


@pytest.mark.parametrize(
    "bad, match",
    [
        (dt.datetime(2024, 1, 22, 10), "naive"),
        ("2024-01-22T10:00:00", "no time zone; add 'Z'"),
        ("yesterday", "cannot read the time 'yesterday'"),
        (dt.date(2024, 1, 22), "date without a time"),
        (3.5, "cannot use 3.5"),
        (np.array(["2024-01-22", "NaT"], dtype="datetime64[ns]"), "NaT"),
    ],
)
def test_bad_times_are_refused_with_the_fix(bad, match):
    with pytest.raises(TimeInputError, match=match):
        to_utc64(bad)


def test_ut1_and_tt_match_skyfield_timescale():
    from skyfield.api import load

    ts = load.timescale(builtin=True)
    t = to_utc64(["2017-01-01T00:00:00.5Z", "2021-05-02T06:45:00Z", "2024-01-22T13:05:07Z"])
    inst = instants(t)
    sk = ts.utc(2017, 1, 1, 0, 0, 0.5), ts.utc(2021, 5, 2, 6, 45, 0), ts.utc(2024, 1, 22, 13, 5, 7)
    for k, s in enumerate(sk):
        assert (inst.jd_whole[k] + inst.tt_fraction[k]) == pytest.approx(s.tt, abs=1e-9 / 86400 * 1e3)
        assert (inst.jd_whole[k] + inst.ut1_fraction[k]) == pytest.approx(s.ut1, abs=1e-4 / 86400)


def test_itrs_velocity_is_the_derivative_of_the_itrs_position():
    # Central difference over +-0.5 s of the Earth-fixed position (SGP4's own velocity differs
    # from its position's derivative by ~3 cm/s, so the check is at 1e-4 km/s).
    from cupola.frames import teme_to_itrs

    sat = Satellite.from_tle(L1, L2)
    t0 = np.datetime64("2024-01-22T10:00:00", "ns")
    dt = np.array([-500_000_000, 0, 500_000_000], dtype="timedelta64[ns]")
    st = sat.at(t0 + dt, exact=True)
    fd = (st.r_itrs_km[2] - st.r_itrs_km[0]) / 1.0
    assert np.abs(st.v_itrs_km_s[1] - fd).max() < 1e-4
    # The fused kernel and the numpy transform agree.
    r, v = teme_to_itrs(st.r_teme_km, st.v_teme_km_s, st.instants)
    assert np.abs(r - st.r_itrs_km).max() < 1e-9 and np.abs(v - st.v_itrs_km_s).max() < 1e-12


def test_kernels_match_their_numpy_twins(monkeypatch):
    # Dense instants take the Hermite fill, the fused TEME -> ITRS -> geodetic chain and the
    # hourly Sun interpolation: each against its numpy twin (CUPOLA_NO_JIT=1).
    sat = Satellite.from_archive()
    t = np.datetime64("2024-01-19T12:00:00", "ns") + np.arange(0, 7200, 3).astype("timedelta64[s]")
    monkeypatch.setenv("CUPOLA_NO_JIT", "0")
    a = sat.at(t)
    monkeypatch.setenv("CUPOLA_NO_JIT", "1")
    b = sat.at(t)
    one_mm_km = 1e-6
    np.testing.assert_allclose(a.r_teme_km, b.r_teme_km, atol=one_mm_km)
    np.testing.assert_allclose(a.v_teme_km_s, b.v_teme_km_s, atol=one_mm_km)
    np.testing.assert_allclose(a.sun_teme_km, b.sun_teme_km, atol=one_mm_km)
    np.testing.assert_allclose(a.r_itrs_km, b.r_itrs_km, atol=one_mm_km)
    np.testing.assert_allclose(a.lat_deg, b.lat_deg, atol=1e-7)  # Bowring's one step vs the iteration
    assert (a.lat_deg != b.lat_deg).any()  # ... so the twin really ran
    np.testing.assert_allclose(a.alt_km, b.alt_km, atol=one_mm_km)
    assert (a.sunlit == b.sunlit).all()


def test_twin_dispatch_follows_the_environment(monkeypatch):
    from cupola.jit import twin

    @twin(lambda x: "numpy")
    def f(x):
        return "compiled"

    monkeypatch.setenv("CUPOLA_NO_JIT", "0")
    assert f(1) == "compiled"
    monkeypatch.setenv("CUPOLA_NO_JIT", "1")
    assert f(1) == "numpy"
    monkeypatch.setenv("CUPOLA_NO_JIT", "0")
    assert f(1) == "compiled"

"""Lighting: sunlight and orbital sunrise/sunset against skyfield, shadow geometry in closed form."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cupola.api import InputError, Predicate, Satellite, find_edges, next_sun_events, orbital_sun_events
from cupola.lighting import phases, shadow_status, sun_elevation_deg, sun_fraction
from cupola.timebase import add_seconds, to_utc64

REF = json.loads((Path(__file__).parent / "reference" / "orbit_skyfield.json").read_text())
EDGE_TOLERANCE_S = 2.0  # the requirement; measured agreement is ~4 ms
L1 = "1 25544U 98067A   24022.37051078  .00025408  00000-0  45565-3 0  9998"
L2 = "2 25544  51.6435 322.8411 0004875 117.1497  28.5107 15.49747298435787"


@pytest.mark.parametrize("case", REF["sun_events"], ids=lambda c: c["start_utc"][:10])
def test_orbital_sunrise_sunset_match_skyfield(case):
    sat = Satellite.from_tle(case["line1"], case["line2"])
    got = orbital_sun_events(sat, case["start_utc"], case["end_utc"])
    want = to_utc64(case["t_utc"])
    assert len(got) == len(want)
    assert (got.rising == np.array(case["sunrise"])).all()
    err_s = np.abs((got.t_utc - want).astype(np.int64)) / 1e9
    assert err_s.max() < EDGE_TOLERANCE_S
    assert err_s.max() < 0.05  # and in practice far tighter


def test_sun_elevation_at_ground_point_matches_skyfield():
    rows = REF["states"][::7]
    lat = np.array([r["lat_deg"] for r in rows])
    lon = np.array([r["lon_deg"] for r in rows])
    sat = Satellite.from_tle(L1, L2)  # only used for the Sun vector at those times
    st = sat.at([r["t_utc"] for r in rows])
    elev = sun_elevation_deg(lat, lon, st.sun_teme_km, st.instants)
    want = np.array([r["sun_elevation_deg"] for r in rows])
    # skyfield's value is the apparent Sun (aberration ~20"); ours is geometric.
    assert np.abs(elev - want).max() < 0.01


def _station_and_sun(angle_deg, r_km=6800.0):
    """Station on the x axis, Sun 1 au away in the equatorial plane at `angle_deg` from the
    direction to the Earth's centre (as seen from the station)."""
    r = np.array([r_km, 0.0, 0.0])
    a = np.radians(angle_deg)
    sun = r + 1.495978707e8 * np.array([-np.cos(a), np.sin(a), 0.0])
    return r, sun


def test_cone_model_closed_form():
    r_km = 6800.0
    alpha_e = np.degrees(np.arcsin(6378.137 / r_km))  # Earth's angular radius from the station
    alpha_s = np.degrees(np.arcsin(695_700.0 / 1.495978707e8))
    eps = 1e-4
    cases = {
        alpha_e + alpha_s + eps: 1.0,  # disc just clear of the limb
        alpha_e - alpha_s - eps: 0.0,  # disc just hidden
        90.0: 1.0,
        0.0: 0.0,
    }
    for angle, want in cases.items():
        r, sun = _station_and_sun(angle, r_km)
        assert float(sun_fraction(r, sun, "cone")) == pytest.approx(want, abs=1e-9)
    # Sun's centre on the limb: half the disc shows (the limb's curvature over 0.27 deg is tiny).
    r, sun = _station_and_sun(alpha_e, r_km)
    assert float(sun_fraction(r, sun, "cone")) == pytest.approx(0.5, abs=0.01)
    assert str(shadow_status(sun_fraction(r, sun, "cone"))) == "penumbra"
    # The geometric model uses skyfield's 6378.1366 km sphere on the line to the Sun's centre.
    for angle, lit in ((np.degrees(np.arcsin(6378.1366 / r_km)) + 1e-4, True),
                       (np.degrees(np.arcsin(6378.1366 / r_km)) - 1e-4, False)):
        r, sun = _station_and_sun(angle, r_km)
        assert bool(sun_fraction(r, sun, "geometric")) is lit


def test_penumbra_duration_and_atmosphere_effect():
    sat = Satellite.from_tle(L1, L2)
    span = ("2024-01-22T00:00:00Z", "2024-01-22T06:00:00Z")
    geo = orbital_sun_events(sat, *span)
    cone0 = orbital_sun_events(sat, *span, model="cone")
    cone30 = orbital_sun_events(sat, *span, model="cone", atmosphere_km=30.0)
    shift = (cone30.t_utc - cone0.t_utc).astype(np.int64) / 1e9
    # A thicker absorbing Earth: sunrise later, sunset earlier, by ~3.8 s per 10 km.
    assert np.all(shift[cone0.rising] > 8.0) and np.all(shift[cone0.rising] < 14.0)
    assert np.all(shift[~cone0.rising] < -8.0) and np.all(shift[~cone0.rising] > -14.0)
    assert np.all(np.abs((cone0.t_utc - geo.t_utc).astype(np.int64) / 1e9) < 6.0)
    # Penumbra: from first light to full disc at the first sunrise lasts several seconds.
    t_rise = geo.t_utc[geo.rising][0]
    t = t_rise + (np.arange(-30_000, 30_000, 100) * 1_000_000).astype("timedelta64[ns]")
    f = sat.sunlit_at(t, model="cone")
    partial = (f > 0) & (f < 1)
    assert 5.0 < partial.sum() * 0.1 < 15.0
    assert np.all(np.diff(f) >= -1e-12)  # monotonic through sunrise


def test_phase_codes_around_sunrise_and_sunset():
    sat = Satellite.from_tle(L1, L2)
    geo = orbital_sun_events(sat, "2024-01-22T00:00:00Z", "2024-01-22T04:00:00Z")
    rise = geo.t_utc[geo.rising][0]
    sset = geo.t_utc[~geo.rising][0]
    t = np.array([add_seconds(rise, -60), add_seconds(rise, -20 * 60), add_seconds(sset, 60)])
    got = phases(sat, sat.at(t))
    assert list(got) == ["before_sunrise", "night", "after_sunset"]
    after = phases(sat, sat.at(add_seconds(rise, 600)))
    assert str(after) in ("day", "sunlit_over_night")


def test_next_sun_events_follow_the_instant():
    sat = Satellite.from_tle(L1, L2)
    t = to_utc64("2024-01-22T10:00:00Z")
    rise, sset = next_sun_events(sat, t)
    assert rise > t and sset > t
    # Within one ~92.6 min orbit, and one of each.
    assert abs((rise - sset).astype(np.int64) / 1e9) < 93 * 60
    assert max(rise, sset) - t < np.timedelta64(93 * 60, "s")


def test_search_rejects_bad_spans():
    pred = Predicate(lambda t: np.zeros(t.shape, bool), 60.0)
    with pytest.raises(InputError, match="is not after its start"):
        find_edges(pred, "2024-01-22T10:00:00Z", "2024-01-22T09:00:00Z")
    with pytest.raises(InputError, match="step must be positive"):
        find_edges(Predicate(pred.fn, 0.0), "2024-01-22T09:00:00Z", "2024-01-22T10:00:00Z")
    with pytest.raises(InputError, match="unknown shadow model 'fuzzy'"):
        sun_fraction(np.ones(3), np.ones(3) * 2, "fuzzy")


def test_search_finds_a_closed_form_square_wave():
    # True during the first 17 s of every minute: edges at :00 and :17 exactly.
    def pred(t):
        s = (t.astype(np.int64) // 1_000_000) % 60_000
        return s < 17_000

    edges = find_edges(Predicate(pred, 5.0), "2024-01-22T00:00:30Z", "2024-01-22T00:03:30Z", tol_s=0.001)
    secs = (edges.t_utc - to_utc64("2024-01-22T00:00:00Z")).astype(np.int64) / 1e9
    assert np.allclose(secs, [60, 77, 120, 137, 180, 197], atol=0.002)
    assert list(edges.rising) == [True, False] * 3

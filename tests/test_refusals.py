"""Refusals instead of confident wrong answers: stale element sets (with the measured estimate of
their uncertainty), instants before launch or outside the ephemeris, impossible heights, and
pointing at what the station cannot see."""

from __future__ import annotations

import numpy as np
import pytest
from sgp4.api import Satrec

from cupola.camera import Camera, Look
from cupola.elements.validity import age_for_uncertainty_days, launched_utc, position_uncertainty_km
from cupola.errors import InputError, TimeInputError
from cupola.inputs import parse_look
from cupola.orbit import IMPLAUSIBLE_HEIGHT, Satellite
from cupola.render import render
from cupola.scene import compute_scene

L1 = "1 25544U 98067A   24022.37051078  .00025408  00000-0  45565-3 0  9998"
L2 = "2 25544  51.6435 322.8411 0004875 117.1497  28.5107 15.49747298435787"


def _checksum(line: str) -> str:
    return str(sum(int(c) if c.isdigit() else (1 if c == "-" else 0) for c in line[:68]) % 10)


def _with_epoch(line1: str, epoch: str) -> str:
    body = line1[:18] + epoch + line1[32:68]
    return body + _checksum(body)


# -- the uncertainty estimate against SGP4 itself --------------------------------------------------
def test_estimate_bounds_nine_in_ten_predictions_of_the_bundled_history():
    # Independent of cupola's orbit code: python-sgp4 on the bundled lines, every pair of the
    # first 60 days of 2017 (daily sets), each set's prediction at another's epoch vs that set.
    text = Satellite.from_archive().archive.sets
    sets = [s for s in text if s.line1 and s.line1[18:20] == "17"][:60]
    recs = [Satrec.twoline2rv(s.line1, s.line2) for s in sets]
    ages, errs = [], []
    for rj in recs:
        _, truth, _ = rj.sgp4(rj.jdsatepoch, rj.jdsatepochF)
        for ri in recs:
            age = (rj.jdsatepoch + rj.jdsatepochF) - (ri.jdsatepoch + ri.jdsatepochF)
            if ri is rj or abs(age) > 20:
                continue
            _, r, _ = ri.sgp4(rj.jdsatepoch, rj.jdsatepochF)
            ages.append(age)
            errs.append(np.linalg.norm(np.subtract(r, truth)))
    within = np.asarray(errs) <= position_uncertainty_km(np.asarray(ages))
    assert len(errs) > 1500 and 0.85 <= within.mean() <= 0.97  # the estimate is a 90th percentile


def test_estimate_shape_and_the_limits_it_sets():
    a = np.array([0.0, 0.5, 1.0, 2.0, 4.0, 6.0, 12.0, 60.0, 1000.0])
    s = position_uncertainty_km(a)
    assert s[0] == pytest.approx(1.0) and np.all(np.diff(s) >= 0)  # ~1 km at epoch, growing
    assert position_uncertainty_km(-2.0) == position_uncertainty_km(2.0)  # either side of the epoch
    assert s[-1] <= 2 * (6378.137 + 420.0) + 1e-6  # never more than the orbit's diameter
    assert np.isnan(position_uncertainty_km(np.nan))
    assert 3.0 < age_for_uncertainty_days(100.0) < 7.0  # the refusal age


# -- launch, ephemeris, staleness -----------------------------------------------------------------
def test_before_launch_is_refused():
    with pytest.raises(InputError, match=r"ISS \(ZARYA\) was launched on 1998-11-20: 1990-06-01T00:00:00Z is before it") as e:
        compute_scene("1990-06-01T00:00:00Z")
    assert e.value.param == "t"
    assert launched_utc(Satellite.from_archive().archive.sets) == np.datetime64("1998-11-20T06:40:00", "ns")
    # Another satellite: the launch year from its international designator ('98067A' -> 1998).
    other = Satellite.from_tle(L1.replace("25544U", "99999U")[:68] + _checksum(L1.replace("25544U", "99999U")),
                               L2.replace("25544 ", "99999 ")[:68] + _checksum(L2.replace("25544 ", "99999 ")))
    assert other.launched_utc == np.datetime64("1998-01-01T00:00:00", "ns")


def test_outside_the_ephemeris_is_refused_with_its_span():
    with pytest.raises(TimeInputError, match=r"2060-01-01T00:00:00Z is outside the span .* DE421 .* \(1899-07-30 to 2053-10-08\)"):
        Satellite.from_archive().at("2060-01-01T00:00:00Z")


def test_stale_sets_are_refused_unless_allowed():
    with pytest.raises(InputError, match=r"is 700.5 days after it: its position then is good only to ~13,596 km") as e:
        compute_scene("2019-06-01T00:00:00Z")
    assert e.value.param == "allow_stale" and "allow_stale=True" in str(e.value)
    scene = compute_scene("2019-06-01T00:00:00Z", allow_stale=True)
    assert float(scene.state.position_uncertainty_km) > 13_000
    # A series is refused as a whole, naming how many instants are too far.
    t = np.array(["2024-01-22T00:00", "2024-02-10T00:00"], dtype="datetime64[ns]")
    with pytest.raises(InputError, match="1 of 2 instants"):
        compute_scene(t)


# -- impossible heights ---------------------------------------------------------------------------
def test_an_impossible_height_is_an_error_code_and_a_refusal():
    # The epoch typed as 2056 instead of 2024: SGP4 answers ~8.6e8 km, which cannot be an orbit.
    sat = Satellite.from_tle(_with_epoch(L1, "56022.37051078"), L2)
    st = sat.at(np.array(["2024-01-22T10:00", "2024-01-22T10:01"], dtype="datetime64[ns]"))
    assert (st.error == IMPLAUSIBLE_HEIGHT).all() and np.isnan(st.alt_km).all() and not st.sunlit.any()
    assert "height is outside 80..100,000 km" in st.error_message[0]
    with pytest.raises(InputError, match=r"cannot give a position at 2024-01-22T10:00:00Z \(error 7: the height is outside") as e:
        compute_scene("2024-01-22T10:00:00Z", sat=sat, allow_stale=True)
    assert e.value.param == "sat"


# -- pointing at what cannot be seen ----------------------------------------------------------------
def test_a_target_beyond_the_horizon_is_refused_with_where_it_is():
    cam = Camera(width_px=64, height_px=36, look=parse_look("target:Paris"))
    scene = compute_scene("2024-01-22T10:00:00Z", camera=cam)
    with pytest.raises(InputError, match=r"Paris is [\d,]+ km from the point below the station, beyond its 2,2\d\d km horizon") as e:
        render(scene)
    assert e.value.param == "force" and e.value.fix == "force=True renders anyway"
    assert render(scene, force=True).rgb.shape == (36, 64, 3)


def test_a_body_behind_the_earth_is_refused_and_one_in_view_is_drawn():
    scene = compute_scene("2024-01-19T16:02:54Z")
    moon = scene.body("moon")
    assert not moon.above_limb
    with pytest.raises(InputError, match=rf"the Moon is {-float(moon.limb_margin_deg):.1f} deg below the Earth's limb"):
        render(scene, Camera(width_px=64, height_px=36, look=Look("sky", name="Moon", body="moon")))
    venus = scene.body("venus")
    assert venus.above_limb
    assert render(scene, Camera(width_px=64, height_px=36, look=parse_look("sky:venus"))).rgb.any()
    # Nadir and horizon looks always show the Earth.
    render(scene, Camera(width_px=64, height_px=36, look=Look("nadir")))


def _hidden(look, t):
    """Why the renderer refuses `look` at instant `t` (None when it draws it)."""
    from cupola.camera.attitude import why_not_in_view

    return why_not_in_view(look, compute_scene(t))


@pytest.mark.parametrize("spec, after", [
    ("target:Paris", "2024-01-22T10:00:00Z"),  # the case: beyond the horizon
    ("sky:moon", "2024-01-19T16:02:54Z"),  # behind the Earth (the test above)
    ("sky:sun", "2024-01-22T10:40:00Z"),
    ("sky:10,-80", "2024-01-22T10:00:00Z"),
])
def test_next_in_view_is_when_the_renderer_stops_refusing(spec, after):
    # The search (plan conditions: the station's elevation from the target, a geometric body
    # direction) against the renderer's own check (a dot product, the Scene's apparent body).
    from cupola.plan import next_in_view, next_view_text
    from cupola.timebase import iso_utc, to_utc64

    look = parse_look(spec)
    assert _hidden(look, after), f"{spec} is in view at {after}: choose another instant"
    w = next_in_view(look, after)
    assert w is not None and not w.clipped_start and to_utc64(after) < w.start_utc
    sec = np.timedelta64(1, "s")
    assert _hidden(look, w.start_utc - 3 * sec)
    text = next_view_text(look, after)
    start = text.split("from ")[1].split(" ")[0]
    assert np.timedelta64(0, "s") < to_utc64(start) - w.start_utc <= 2 * sec
    assert _hidden(look, start) is None, f"told {start}, but the renderer refuses then"
    assert _hidden(look, w.peak_utc) is None and _hidden(look, w.end_utc - sec) is None
    if not w.clipped_end:
        assert _hidden(look, w.end_utc + 3 * sec)
    assert f"to {iso_utc(w.end_utc)}" in text and f"best at {iso_utc(w.peak_utc)}" in text


def test_a_target_never_in_view_says_so_and_looks_that_always_see_need_no_search():
    from cupola.plan import look_in_view, next_in_view, next_view_text

    # 80 deg N is more than a horizon (~20 deg of arc) beyond the orbit's 51.6 deg inclination.
    assert next_view_text(parse_look("target:80,0"), "2024-01-22T10:00:00Z") == "not in view in the 3 days after it"
    assert look_in_view(Look("nadir")) is None and next_in_view(Look("horizon"), "2024-01-22T10:00:00Z") is None


def test_cli_refusal_says_when_the_target_is_next_in_view_and_that_instant_renders(tmp_path, capsys):
    from cupola.cli import main
    from cupola.plan import next_in_view
    from cupola.timebase import iso_utc

    w = next_in_view(parse_look("target:Paris"), "2024-01-22T10:00:00Z")
    out = tmp_path / "paris.png"
    args = ["--look", "target:Paris", "--size", "64x36", "-o", str(out)]
    assert main(["render", "2024-01-22T10:00:00Z", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "beyond its" in err and err.rstrip().endswith("(option --force)")
    start = err.split("next in view from ")[1].split(" ")[0]
    assert f"to {iso_utc(w.end_utc)}" in err and not out.exists()
    assert main(["timelapse", "2024-01-22T10:00:00Z", "2024-01-22T10:01:00Z", *args[:4], "-o",
                 str(tmp_path / "p.gif"), "--no-progress"]) == 2
    assert f"at the first frame: it would not be in the frame; next in view from {start}" in capsys.readouterr().err
    assert main(["render", start, *args]) == 0 and out.exists()


def test_emission_tables_are_never_sized_from_an_impossible_origin():
    from cupola.phenomena.emission import MAX_ORIGIN_RADIUS_KM, airglow_emission

    em = airglow_emission()
    # 256 coarse nodes, then one every 0.25 km from 200 km below the ground up to the station (~620 km).
    assert em.ray_table([6798.0, 0.0, 0.0]).inward.shape[1] == 256 + int(np.ceil((6798.0 - (6378.137 - 200.0)) / 0.25)) + 1
    for r in (8.6e8, np.nan, 10.0, MAX_ORIGIN_RADIUS_KM + 1.0):
        with pytest.raises(InputError, match="distance from the Earth's centre") as info:
            em.ray_table([r, 0.0, 0.0])
        assert info.value.param == "sat"

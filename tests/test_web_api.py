"""The web API through FastAPI's test client: every endpoint, every error path, the GeoJSON against
closed forms and skyfield, the bounds (render size, body size, rate, the worker queue)."""

from __future__ import annotations

import datetime
import io
import json
import os
import threading
import time

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from cupola.web import WebLimits, create_app  # noqa: E402
from cupola.web.limits import Busy, LruStore, TokenBuckets, WorkerPool  # noqa: E402

SEED1 = "2024-01-19T16:02:54Z"
SEED2 = "2021-05-02T06:56:00Z"
SEED1_CAPTION_END = "above the Pacific Ocean, northeast of Papua New Guinea, at night."
TLE_2024 = ("ISS (ZARYA)",
            "1 25544U 98067A   24018.43698023  .00021385  00000+0  38757-3 0  9991",
            "2 25544  51.6427 342.3169 0004949 101.3994  45.6784 15.49554946435174")
R_EARTH_KM = 6371.0088  # the sphere of the map's closed forms (IUGG mean radius)
HALF_KM = 0.5


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as c:
        yield c


def check_error(r, status, param=None, kind=None, match=None):
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error", "detail", "param", "fix"}
    if param is not None:
        assert body["param"] == param, body
    if kind is not None:
        assert body["error"] == kind
    if match is not None:
        assert match in body["detail"], body["detail"]
    return body


def central_angle_deg(lat1, lon1, lat2, lon2):
    """Great-circle angle by the haversine formula (independent of cupola.geo.geojson)."""
    p1, p2, dl = np.radians(lat1), np.radians(lat2), np.radians(np.asarray(lon2) - lon1)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.degrees(2 * np.arcsin(np.sqrt(h)))


def inside(ring, x, y) -> bool:
    """Even-odd ray casting: is (x, y) inside the planar ring (N, 2)?"""
    x0, y0, x1, y1 = ring[:-1, 0], ring[:-1, 1], ring[1:, 0], ring[1:, 1]
    crosses = (y0 > y) != (y1 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        xs = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
    return bool(np.count_nonzero(crosses & (xs > x)) % 2)


# -- the schema and the page ------------------------------------------------------------------------
def test_openapi_lists_every_endpoint(client):
    paths = client.get("/openapi.json").json()["paths"]
    for p in ("/api/where", "/api/render", "/api/track", "/api/plan", "/api/elements", "/api/timelapse",
              "/api/jobs/{job_id}", "/api/jobs/{job_id}/clip", "/api/presets", "/api/annotate",
              "/api/annotations/{token}/overlay.png"):
        assert p in paths, p


def test_page_and_its_files_are_served_from_here_only(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    import re

    for name in ("/", "/static/app.js", "/static/app.css"):
        text = client.get(name).text
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text.replace("http://www.w3.org", "")), name
    for asset in ("/static/vendor/leaflet/leaflet.js", "/static/vendor/leaflet/leaflet.css",
                  "/static/vendor/countries-110m.geojson", "/static/vendor/leaflet/LICENSE"):
        assert client.get(asset).status_code == 200, asset


def test_country_outlines_are_planar():
    """The vendored outlines never jump across the map (cut at the antimeridian, poles closed)."""
    from importlib.resources import files

    gj = json.loads((files("cupola") / "web" / "static" / "vendor" / "countries-110m.geojson").read_text())
    assert len(gj["features"]) > 170
    for f in gj["features"]:
        for poly in f["geometry"]["coordinates"]:
            ring = np.array(poly[0])
            assert ring[:, 0].min() >= -180 and ring[:, 0].max() <= 180
            jumps = np.abs(np.diff(ring[:, 0])) > 180
            assert not np.any(jumps & (np.abs(ring[1:, 1]) < 89.9)), f["properties"]["name"]


def test_unknown_api_path_is_a_json_error(client):
    check_error(client.get("/api/nothing"), 404, kind="HTTPError")


# -- where --------------------------------------------------------------------------------------------
def test_where_is_the_cli_json_object(client, capsys):
    from cupola.cli import main

    assert main(["where", SEED1, "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    web = client.get("/api/where", params={"t": SEED1}).json()
    assert web == cli
    assert "Papua New Guinea" in web["caption"]


def test_where_french_and_lines(client):
    from cupola.answers import in_view_lines

    a = client.get("/api/where", params={"t": SEED2, "lang": "fr", "lines": "true"}).json()
    assert a["lang"] == "fr" and "Atlantique" in a["caption"]
    assert a["in_view_lines"] == [list(x) for x in in_view_lines(a["in_view"], "fr")]
    assert a["in_view_lines"][0][0] == "ciel"


def test_where_cached_answer_is_the_same(client):
    a = client.get("/api/where", params={"t": SEED2})
    b = client.get("/api/where", params={"t": SEED2})
    assert a.content == b.content


def test_where_errors(client):
    check_error(client.get("/api/where", params={"t": "2024-01-19T16:02:54"}), 422, "t", "TimeInputError",
                "no time zone")
    check_error(client.get("/api/where", params={"t": "yesterday"}), 422, "t")
    check_error(client.get("/api/where", params={"t": SEED1, "lang": "de"}), 422, "lang")
    check_error(client.get("/api/where", params={"t": SEED1, "kp": "12"}), 422, "kp", "InputError")
    check_error(client.get("/api/where", params={"t": SEED1, "kp": "x"}), 422, "kp")
    stale = check_error(client.get("/api/where", params={"t": "2026-01-19T16:02:54Z"}), 422, "allow_stale",
                        match="days before it")
    assert "allow_stale" in stale["fix"]
    ok = client.get("/api/where", params={"t": "2026-01-19T16:02:54Z", "allow_stale": "true"})
    assert ok.status_code == 200
    assert [w["code"] for w in ok.json()["warnings"]][0] == "stale_elements"


# -- render -------------------------------------------------------------------------------------------
def test_render_png_and_jpeg(client, tmp_path):
    from PIL import Image

    from cupola.render.output import read_metadata

    q = {"t": SEED1, "w": 320, "h": 180, "look": "horizon:ahead,6", "exposure": "10", "iso": 6400,
         "tracked": "true", "camera": "Z9"}
    r = client.get("/api/render", params=q)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    img = Image.open(io.BytesIO(r.content))
    assert img.size == (320, 180)
    px = np.asarray(img.convert("RGB"), float)
    assert px.std() > 10  # stars, airglow and the night Earth: not a blank frame
    (tmp_path / "v.png").write_bytes(r.content)
    meta = read_metadata(tmp_path / "v.png")
    assert meta["cupola"]["time_utc"] == "2024-01-19T16:02:54.000Z"
    assert meta["model"] == "NIKON Z 9" and meta["exposure_s"] == 10.0 and meta["cupola"]["tracked"] is True
    j = client.get("/api/render", params={**q, "format": "jpeg"})
    assert j.headers["content-type"] == "image/jpeg" and j.content[:2] == b"\xff\xd8"


def test_render_errors(client):
    q = {"t": SEED1, "w": 320, "h": 180}
    check_error(client.get("/api/render", params={**q, "w": 1920, "h": 1200}), 422, "w,h", match="2,304,000 pixels")
    check_error(client.get("/api/render", params={**q, "w": "wide"}), 422, "w")
    check_error(client.get("/api/render", params={**q, "w": 8}), 422, "w")
    check_error(client.get("/api/render", params={**q, "look": "sideways"}), 422, "look")
    check_error(client.get("/api/render", params={**q, "exposure": "fast"}), 422, "exposure")
    check_error(client.get("/api/render", params={**q, "format": "gif"}), 422, "format")
    check_error(client.get("/api/render", params={**q, "camera": "Leica"}), 422, "camera")
    hidden = check_error(client.get("/api/render", params={**q, "look": "target:Paris"}), 422, "force",
                         match="next in view from")
    assert "force=True" in hidden["fix"]
    assert client.get("/api/render", params={**q, "look": "target:Paris", "force": "true"}).status_code == 200


# -- track --------------------------------------------------------------------------------------------
def _features(gj, kind):
    return [f for f in gj["features"] if f["properties"]["kind"] == kind]


def _lines(feature):
    return [np.array(c) for c in feature["geometry"]["coordinates"]]


def test_track_geojson_against_closed_forms(client):
    from cupola.api import Satellite, compute_scene
    from cupola.view import footprint_radius_km

    gj = client.get("/api/track", params={"t": SEED1, "step": "60s"}).json()
    assert gj["type"] == "FeatureCollection"
    kinds = {f["properties"]["kind"] for f in gj["features"]}
    assert kinds == {"ground_track", "station", "footprint", "terminator", "night", "subsolar", "aurora_oval"}
    for f in gj["features"]:
        assert f["type"] == "Feature" and f["geometry"]["type"] in ("Point", "MultiLineString", "Polygon")
        if f["geometry"]["type"] == "MultiLineString":
            for line in _lines(f):
                assert np.all(np.abs(line[:, 0]) <= 180) and np.all(np.abs(line[:, 1]) <= 90)
                assert np.all(np.abs(np.diff(line[:, 0])) < 180)  # cut at the antimeridian
    # The ground track: the station's sub-points every 60 s from t - 50 min to t + 50 min.
    track = _features(gj, "ground_track")[0]
    assert track["properties"]["points"] == 101
    pts = np.vstack(_lines(track))
    t = np.datetime64(SEED1[:-1], "ns") + np.arange(-3000, 3001, 60).astype("timedelta64[s]")
    st = Satellite.from_archive().at(t)
    on_track = central_angle_deg(st.lat_deg[:, None], st.lon_deg[:, None], pts[None, :, 1], pts[None, :, 0])
    assert np.all(on_track.min(axis=1) < 1e-3)  # every sub-point is a vertex
    # The footprint: every vertex at the horizon's ground distance from the station's sub-point.
    scene = compute_scene(SEED1)
    lat, lon, alt = float(scene.state.lat_deg), float(scene.state.lon_deg), float(scene.state.alt_km)
    foot = _features(gj, "footprint")[0]
    assert foot["properties"]["radius_km"] == pytest.approx(float(footprint_radius_km(alt)), abs=0.1)
    for line in _lines(foot):
        d_km = np.radians(central_angle_deg(lat, lon, line[:, 1], line[:, 0])) * R_EARTH_KM
        assert np.all(np.abs(d_km - footprint_radius_km(alt)) < HALF_KM)
    station = _features(gj, "station")[0]["geometry"]["coordinates"]
    assert station == pytest.approx([lon, lat], abs=1e-4)


def test_terminator_is_90_deg_from_the_sun_of_skyfield(client):
    from skyfield.api import Loader, load
    from skyfield.framelib import itrs
    from skyfield_data import get_skyfield_data_path

    gj = client.get("/api/track", params={"t": SEED1}).json()
    ts = load.timescale(builtin=True)
    eph = Loader(get_skyfield_data_path(), verbose=False)("de421.bsp")
    t = ts.from_datetime(datetime.datetime(2024, 1, 19, 16, 2, 54, tzinfo=datetime.timezone.utc))
    x, y, z = (eph["sun"] - eph["earth"]).at(t).frame_xyz(itrs).km
    sun_lat, sun_lon = np.degrees(np.arctan2(z, np.hypot(x, y))), np.degrees(np.arctan2(y, x))
    sub = _features(gj, "subsolar")[0]["geometry"]["coordinates"]
    assert central_angle_deg(sun_lat, sun_lon, sub[1], sub[0]) < 0.02
    for line in _lines(_features(gj, "terminator")[0]):
        assert np.all(np.abs(central_angle_deg(sun_lat, sun_lon, line[:, 1], line[:, 0]) - 90.0) < 0.02)
    # The night polygon is closed, holds the anti-solar point and the north pole (polar night in
    # January), not the sub-solar point.
    ring = np.array(_features(gj, "night")[0]["geometry"]["coordinates"][0])
    assert ring[0].tolist() == ring[-1].tolist() and ring[:, 1].max() == 90.0
    anti = (sun_lon + 360.0) % 360.0 - 180.0, -sun_lat
    assert inside(ring, *anti) and inside(ring, 0.0, 89.0) and not inside(ring, sun_lon, sun_lat)


def test_track_aurora_oval(client):
    from cupola.api import compute_scene
    from cupola.phenomena.aurora import KIND_NAMES

    gj = client.get("/api/track", params={"t": SEED2}).json()
    ovals = _features(gj, "aurora_oval")
    assert {(f["properties"]["hemisphere"], f["properties"]["boundary"]) for f in ovals} == {
        ("north", "poleward"), ("north", "equatorward"), ("south", "poleward"), ("south", "equatorward")}
    oval = compute_scene(SEED2).aurora_oval
    m = (oval.hemisphere == 1) & (oval.kind == KIND_NAMES.index("equatorward")) & (oval.height_km == 95.0)
    north_eq = next(f for f in ovals if f["properties"]["hemisphere"] == "north"
                    and f["properties"]["boundary"] == "equatorward")
    pts = np.vstack(_lines(north_eq))
    assert north_eq["properties"]["height_km"] == 95.0
    # every oval point is on the line (the cut adds only points at +-180 deg)
    d = central_angle_deg(oval.lat_deg[m][:, None], oval.lon_deg[m][:, None], pts[None, :, 1], pts[None, :, 0])
    assert np.all(d.min(axis=1) < 1e-3)
    # Seed 2: the aurora is in view over Quebec (the where answer says so too)
    assert north_eq["properties"]["visible_points"] > 0 or any(f["properties"]["visible_points"] for f in ovals)


def test_track_errors(client):
    check_error(client.get("/api/track", params={"t": SEED1, "step": "1ms"}), 422, "step", match="points")
    check_error(client.get("/api/track", params={"t": SEED1, "step": "often"}), 422, "step")
    check_error(client.get("/api/track", params={"from": "2024-01-18T00:00:00Z", "to": "2024-01-22T00:00:00Z",
                                                 "t": SEED1}), 422, "to", match="days")
    check_error(client.get("/api/track", params={"from": "2024-01-19T17:00:00Z", "to": "2024-01-19T16:00:00Z",
                                                 "t": SEED1}), 422, "to")
    check_error(client.get("/api/track", params={"t": "2024-01-19"}), 422, "t")


def test_split_antimeridian_closed_form():
    from cupola.geo.geojson import split_antimeridian

    # From (170 E, 10 N) to (170 W, 20 N): the crossing is half way in longitude, at 15 N.
    parts = split_antimeridian([170.0, -170.0], [10.0, 20.0])
    assert [p.tolist() for p in parts] == [[[170.0, 10.0], [180.0, 15.0]], [[-180.0, 15.0], [-170.0, 20.0]]]
    # Westward the other way; NaN points cut the line too.
    parts = split_antimeridian([-175.0, 175.0, np.nan, 0.0, 1.0], [0.0, 10.0, 0.0, 0.0, 1.0])
    assert [p.tolist() for p in parts] == [[[-175.0, 0.0], [-180.0, 5.0]], [[180.0, 5.0], [175.0, 10.0]],
                                           [[0.0, 0.0], [1.0, 1.0]]]


# -- plan ---------------------------------------------------------------------------------------------
def test_plan_sunrise_windows_hold_each_orbital_sunrise(client):
    """Each window spans 2 min either side of an orbital sunrise: skyfield (from the same TLE, the
    set nearest that day) has the station in shadow at its start and in sunlight at its end."""
    from skyfield.api import EarthSatellite, Loader, load
    from skyfield_data import get_skyfield_data_path

    q = {"kind": "sunrise", "from": "2024-01-19T12:00:00Z", "to": "2024-01-19T18:00:00Z", "within": 2}
    a = client.get("/api/plan", params=q).json()
    assert a["kind"] == "sunrise" and a["count"] == len(a["items"]) >= 3
    ts = load.timescale(builtin=True)
    eph = Loader(get_skyfield_data_path(), verbose=False)("de421.bsp")
    iss = EarthSatellite(TLE_2024[1], TLE_2024[2], TLE_2024[0], ts)
    for w in a["items"]:
        if w["clipped_start"] or w["clipped_end"]:
            continue
        t0, t1 = (ts.from_datetime(datetime.datetime.fromisoformat(w[k].replace("Z", "+00:00")))
                  for k in ("start_utc", "end_utc"))
        assert not iss.at(t0).is_sunlit(eph) and iss.at(t1).is_sunlit(eph)
        assert 238 <= w["duration_s"] <= 242


def test_plan_passes(client):
    a = client.get("/api/plan", params={"kind": "passes", "from": "2024-01-19T00:00:00Z",
                                        "to": "2024-01-20T00:00:00Z", "where": "48.85,2.35"}).json()
    assert a["kind"] == "passes" and "seen from" in a["condition"]
    for p in a["items"]:
        assert p["max_elevation_deg"] >= 10.0


def test_plan_errors(client):
    span = {"from": "2024-01-19T00:00:00Z", "to": "2024-01-20T00:00:00Z"}
    check_error(client.get("/api/plan", params={"kind": "picnic", **span}), 422, "kind")
    check_error(client.get("/api/plan", params={"kind": "passes", **span}), 422, "where")
    check_error(client.get("/api/plan", params={"kind": "over", "place": "Qwxzyland", **span}), 422, "place")
    check_error(client.get("/api/plan", params={"kind": "sky", **span}), 422, "name")
    check_error(client.get("/api/plan", params={"kind": "aurora", "from": span["from"],
                                                "to": "2024-02-19T00:00:00Z"}), 422, "to", match="days")
    check_error(client.get("/api/plan", params={"kind": "aurora"}), 422, "from")


# -- the session's element sets -------------------------------------------------------------------------
def test_elements_session(client):
    from cupola.api import Satellite

    with TestClient(create_app()) as mine:
        r = mine.post("/api/elements", content="\n".join(TLE_2024), headers={"content-type": "text/plain"})
        assert r.status_code == 200, r.text
        assert r.json()["sets"] == 1 and r.json()["norad_id"] == 25544
        assert "cupola_session" in r.cookies
        a = mine.get("/api/where", params={"t": SEED1}).json()
        assert a["tle_epoch_utc"].startswith("2024-01-18T10:29:15.09")  # day 18.43698023
        assert mine.get("/api/elements").json()["source"] == "session"
        # the same answer as the Python API with that one set
        sat = Satellite.from_tle(*TLE_2024[1:], name=TLE_2024[0])
        from cupola.api import compute_scene, where_json

        assert a == json.loads(json.dumps(where_json(compute_scene(SEED1, sat=sat))))
        # two years later that one set is refused, with the fix
        stale = check_error(mine.get("/api/where", params={"t": "2026-01-19T16:02:54Z"}), 422, "allow_stale")
        assert stale["fix"]
        # another browser (no cookie) still has the bundled history
        other = TestClient(mine.app)
        assert other.get("/api/elements").json()["source"] == "bundled"
        assert mine.delete("/api/elements").status_code == 204
        mine.cookies.clear()
        assert mine.get("/api/elements").json()["source"] == "bundled"


def test_elements_omm_json(client):
    omm = [{"OBJECT_NAME": "ISS (ZARYA)", "OBJECT_ID": "1998-067A", "EPOCH": "2024-01-18T10:29:15.092064",
            "MEAN_MOTION": 15.49554946, "ECCENTRICITY": 0.0004949, "INCLINATION": 51.6427,
            "RA_OF_ASC_NODE": 342.3169, "ARG_OF_PERICENTER": 101.3994, "MEAN_ANOMALY": 45.6784,
            "EPHEMERIS_TYPE": 0, "CLASSIFICATION_TYPE": "U", "NORAD_CAT_ID": 25544, "ELEMENT_SET_NO": 999,
            "REV_AT_EPOCH": 43517, "BSTAR": 0.00038757, "MEAN_MOTION_DOT": 0.00021385, "MEAN_MOTION_DDOT": 0}]
    with TestClient(create_app()) as mine:
        r = mine.post("/api/elements", json={"text": json.dumps(omm)})
        assert r.status_code == 200, r.text
        assert r.json()["first_epoch_utc"].startswith("2024-01-18T10:29:15")


def test_elements_errors(client):
    bad = TLE_2024[1][:-1] + "0"  # a wrong checksum
    body = check_error(client.post("/api/elements", content="\n".join([bad, TLE_2024[2]])), 422, "elements",
                       "ElementSetError", match="checksum")
    assert body["detail"]
    check_error(client.post("/api/elements", content="   "), 422, "body")
    big = "x" * 1_000_001
    check_error(client.post("/api/elements", content=big), 413, "body")
    assert client.get("/api/elements").json()["source"] == "bundled"


# -- timelapse (queued) ---------------------------------------------------------------------------------
def test_timelapse_job_gives_a_clip(client):
    from PIL import Image

    q = {"from": "2021-05-02T06:55:00Z", "to": "2021-05-02T06:55:20Z", "step": "10s", "w": 160, "h": 90,
         "look": "horizon:345,4", "exposure": "1", "iso": 12800, "lens": 14, "fps": 5}
    r = client.post("/api/timelapse", params=q)
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] in ("queued", "running", "done") and job["frames"] == 3
    deadline = time.monotonic() + 120
    while job["status"] not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.2)
        job = client.get(job["status_url"]).json()
    assert job["status"] == "done", job
    clip = client.get(job["result_url"])
    assert clip.headers["content-type"] == "image/gif"
    gif = Image.open(io.BytesIO(clip.content))
    assert gif.size == (160, 90) and gif.n_frames == 3


def test_timelapse_errors(client):
    q = {"from": "2021-05-02T06:55:00Z", "to": "2021-05-02T06:58:00Z", "w": 160, "h": 90}
    check_error(client.get("/api/timelapse", params={**q, "step": "1s"}), 422, "step", match="frames")
    check_error(client.get("/api/timelapse", params={**q, "w": 1280, "h": 720}), 422, "w,h")
    check_error(client.get("/api/timelapse", params={**q, "format": "avi"}), 422, "format")
    check_error(client.get("/api/timelapse", params={**q, "format": "mp4", "w": 161}), 422, "w,h",
                match="even")
    check_error(client.get("/api/timelapse", params={**q, "look": "up"}), 422, "look")
    check_error(client.get("/api/jobs/feedbeef"), 404, "job_id")
    check_error(client.get("/api/jobs/feedbeef/clip"), 404, "job_id")


# -- presets ----------------------------------------------------------------------------------------------
def test_presets(client):
    en = client.get("/api/presets").json()
    fr = client.get("/api/presets", params={"lang": "fr"}).json()
    assert [p["title"] for p in en] == ["Airglow over the Pacific, Jan 2024", "Aurora at sunrise, 2 May 2021"]
    assert fr[1]["title"].startswith("Aurore")
    assert client.get("/api/where", params={"t": en[0]["t"]}).json()["caption"].endswith(
        "above the Pacific Ocean, northeast of Papua New Guinea, at night.")
    check_error(client.get("/api/presets", params={"lang": "xx"}), 422, "lang")


# -- the bounds -------------------------------------------------------------------------------------------
def test_rate_limit_answers_429_with_retry_after():
    with TestClient(create_app(WebLimits(rate_per_s=0.5, burst=2))) as c:
        assert c.get("/api/presets").status_code == 200
        assert c.get("/api/presets").status_code == 200
        r = c.get("/api/presets")
        check_error(r, 429, kind="Busy")
        assert int(r.headers["retry-after"]) >= 1


def test_full_worker_queue_answers_503():
    with TestClient(create_app(WebLimits(workers=1, queue=0))) as c:
        gate = threading.Event()
        c.app.state.pool.submit(gate.wait, 30)  # the only worker is busy, no queue
        try:
            r = c.get("/api/where", params={"t": "2024-01-19T16:03:00Z"})
            check_error(r, 503, kind="Busy", match="busy")
            assert r.headers["retry-after"] == "2"
        finally:
            gate.set()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            r = c.get("/api/where", params={"t": "2024-01-19T16:03:00Z"})
            if r.status_code == 200:
                break
            time.sleep(0.05)
        assert r.status_code == 200


def test_worker_pool_bounds():
    async def main():
        pool = WorkerPool(workers=1, queue=1)
        gate = threading.Event()
        a = pool.submit(gate.wait, 5)
        b = pool.submit(lambda: 42)
        with pytest.raises(Busy) as exc:
            pool.submit(lambda: 0)
        assert exc.value.status == 503
        gate.set()
        a.result(5)
        assert b.result(5) == 42
        assert await pool.run(lambda x: x + 1, 1) == 2
        pool.shutdown()

    import asyncio

    asyncio.run(main())


def test_token_bucket_refills():
    b = TokenBuckets(rate_per_s=100.0, burst=2)
    b.take("a")
    b.take("a")
    with pytest.raises(Busy) as exc:
        b.take("a")
    assert exc.value.status == 429 and 0 < exc.value.retry_after_s <= 0.011
    b.take("b")  # another client has its own bucket
    time.sleep(0.03)
    b.take("a")


def test_lru_store_evicts_and_expires():
    gone = []
    s = LruStore(2, ttl_s=0.05, on_evict=gone.append)
    s.put("a", 1)
    s.put("b", 2)
    assert s.get("a") == 1  # a is now the most recent
    s.put("c", 3)
    assert gone == [2] and s.get("b") is None and len(s) == 2
    time.sleep(0.06)
    assert s.get("a") is None and gone == [2, 1]


def test_serve_command_is_registered():
    from cupola.cli import build_parser

    args = build_parser().parse_args(["serve", "--port", "8123"])
    assert args.host == "127.0.0.1" and args.port == 8123 and args.func.__name__ == "cmd_serve"


def test_where_requests_arriving_together_are_answered_as_alone():
    """Requests queued while the worker is busy are answered from one SceneSeries: each answer is
    the one its instant gets alone (and a refused instant gets its own error)."""
    from cupola.api import compute_scene, where_json

    times = [f"2024-01-19T1{h}:0{m}:00Z" for h in range(4) for m in (1, 7)]
    with TestClient(create_app()) as c:
        gate = threading.Event()
        c.app.state.pool.submit(gate.wait, 30)  # hold the worker so the requests gather
        results = {}

        def ask(t):
            results[t] = c.get("/api/where", params={"t": t})

        threads = [threading.Thread(target=ask, args=(t,)) for t in times + ["2026-01-19T10:00:00Z"]]
        for th in threads:
            th.start()
        time.sleep(0.5)
        gate.set()
        for th in threads:
            th.join(60)
        batch = c.app.state.where_batch
        # all nine in one series call (or two, had one request come in after the first drain)
        assert batch.items == len(threads) and batch.calls <= 2
    for t in times:
        assert results[t].status_code == 200
        assert results[t].json() == json.loads(json.dumps(where_json(compute_scene(t)))), t
    check_error(results["2026-01-19T10:00:00Z"], 422, "allow_stale")


def test_cupola_serve_answers(tmp_path):
    """`cupola serve --port P` starts uvicorn: the page and the API answer on 127.0.0.1."""
    import os
    import socket
    import subprocess
    import sys

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = "import sys; from cupola.cli import main; sys.exit(main())"
    proc = subprocess.Popen([sys.executable, "-c", code, "serve", "--port", str(port)], env=os.environ.copy(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline, r = time.monotonic() + 60, None
        while time.monotonic() < deadline and r is None:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/presets", timeout=2)
            except httpx.HTTPError:
                time.sleep(0.2)
        assert r is not None and r.status_code == 200 and len(r.json()) == 2
        assert httpx.get(f"http://127.0.0.1:{port}/").text.startswith("<!doctype html>")
    finally:
        proc.terminate()
        out, _err = proc.communicate(timeout=20)
    assert f"serving http://127.0.0.1:{port}/" in out


# -- annotate -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    """A synthetic night photo at seed 1's instant with a known pointing (tests/photo_synth.py)."""
    from photo_synth import synth_photo

    return synth_photo(tmp_path_factory.mktemp("web-photo") / "synth.jpg", width_px=768, height_px=512,
                       look="horizon:ahead,8", structure=True)


def test_annotate_a_synthetic_photo(client, synth):
    from PIL import Image

    r = client.post("/api/annotate", params={"name": "my night/../synth.jpg"}, content=synth.path.read_bytes(),
                    headers={"content-type": "image/jpeg"})
    assert r.status_code == 200, r.text
    a = r.json()
    p = a["pointing"]
    assert p["solved"] and p["source"] == "stars"
    assert central_angle_deg(p["dec_deg"], p["ra_deg"], synth.dec_deg, synth.ra_deg) < 0.05  # the truth
    assert a["caption"].endswith(SEED1_CAPTION_END)
    assert a["text"].splitlines()[0].startswith("synth.jpg  NIKON D5 24 mm")  # the name as given, no folder
    assert a["outputs"] == {} and "/tmp" not in a["text"] and "cupola-web" not in r.text  # no server path
    overlay = client.get(a["overlay_url"])
    assert overlay.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(overlay.content)).size == (768, 512)
    fr = client.post("/api/annotate", params={"lang": "fr", "name": "x.jpg"}, content=synth.path.read_bytes())
    assert fr.status_code == 200 and "Papouasie" in fr.json()["caption"]
    # the same as a form upload (curl -F photo=@synth.jpg)
    form = client.post("/api/annotate", files={"photo": ("synth.jpg", synth.path.read_bytes(), "image/jpeg")})
    assert form.status_code == 200, form.text
    assert form.json()["pointing"]["ra_deg"] == p["ra_deg"] and form.json()["photo"]["path"] == "synth.jpg"


def test_annotate_errors(client, synth):
    data = synth.path.read_bytes()
    check_error(client.post("/api/annotate", content=data, headers={"content-type": "application/pdf"}), 422,
                "body", match="format")
    check_error(client.post("/api/annotate", content=b"", headers={"content-type": "image/jpeg"}), 422, "body")
    bad = check_error(client.post("/api/annotate", content=os.urandom(4096), headers={"content-type": "image/jpeg"}),
                      422)
    assert bad["detail"]
    check_error(client.post("/api/annotate", content=data, headers={"content-type": "image/jpeg"},
                            params={"lang": "de"}), 422, "lang")
    check_error(client.get("/api/annotations/feedbeef/overlay.png"), 404, "token")
    check_error(client.post("/api/annotate", files={"note": ("a.txt", b"hello", "text/plain")}), 422, "body",
                match="format")
    check_error(client.post("/api/annotate", files={"photo": (None, "not a file")}), 422, "body", match="no file")
    with TestClient(create_app(WebLimits(max_upload_bytes=10_000))) as small:
        check_error(small.post("/api/annotate", content=data, headers={"content-type": "image/jpeg"}), 413, "body",
                    match="10,000 bytes")
        check_error(small.post("/api/annotate", files={"photo": ("s.jpg", data, "image/jpeg")}), 413, "body",
                    match="Content-Length")


def test_render_from_the_cached_scene_is_the_fresh_one():
    """A render after where at the same instant (its Scene from the cache) has the same pixels as
    one computed afresh."""
    from PIL import Image

    q = {"t": SEED2, "w": 320, "h": 180, "look": "horizon:345,4", "exposure": "1", "iso": 12800, "lens": 14}
    with TestClient(create_app()) as fresh:
        a = np.asarray(Image.open(io.BytesIO(fresh.get("/api/render", params=q).content)))
    with TestClient(create_app()) as warm:
        assert warm.get("/api/where", params={"t": SEED2}).status_code == 200
        assert warm.get("/api/track", params={"t": SEED2}).status_code == 200
        b = np.asarray(Image.open(io.BytesIO(warm.get("/api/render", params=q).content)))
    assert a.std() > 5 and np.array_equal(a, b)


def test_cupola_serve_on_a_port_in_use_is_one_line():
    """An address already taken: exit 2 and one line naming it (uvicorn alone logs and exits 1 or 3)."""
    import socket
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = "import sys; from cupola.cli import main; sys.exit(main())"
        p = subprocess.run([sys.executable, "-c", code, "serve", "--port", str(port)], capture_output=True,
                           text=True, timeout=60, env=os.environ.copy())
    assert p.returncode == 2, p.stderr
    assert p.stderr == f"cupola: error: cannot serve on 127.0.0.1:{port} (Address already in use); choose another " \
                       "port, or stop what listens there\n"


def test_worker_pool_abandon_answers_the_waiting_requests():
    """`abandon` (the server stopping) turns a wait on a job still running into Busy 503 at once; the job
    goes on and ends."""
    import asyncio

    async def main():
        pool = WorkerPool(workers=1, queue=1)
        gate = threading.Event()
        waiting = asyncio.ensure_future(pool.run(gate.wait, 30))
        await asyncio.sleep(0.05)
        t = time.monotonic()
        pool.abandon()
        with pytest.raises(Busy, match="stopping") as exc:
            await waiting
        assert exc.value.status == 503 and time.monotonic() - t < 1.0
        gate.set()
        assert pool.shutdown(wait_s=5)  # the job itself ran to its end

    asyncio.run(main())

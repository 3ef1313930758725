"""The seam between computing and drawing: a SceneSeries is its per-instant Scenes, the renderer
reads only the Scene (its own Satellite, layers that add), pickling, the oval's NaN guard, the
per-day magnetic table, and tick-aligned edge searches.

Every check compares against an independent truth (a per-instant computation, closed-form
geometry, aacgmv2 called directly, a brute-force scan), never against stored outputs.
"""

from __future__ import annotations

import ast
import dataclasses
import pathlib
import pickle
from collections.abc import Mapping

import numpy as np
import pytest

from cupola.camera import Camera, Look
from cupola.errors import InputError
from cupola.frames import geodetic_to_itrs, itrs_to_teme, rotate_z
from cupola.lighting import next_sun_events, orbital_sun_events
from cupola.orbit import Satellite
from cupola.render import render
from cupola.render.settings import LAYER_NAMES, RenderSettings
from cupola.scene import Scene, SceneSeries, compute_scene
from cupola.search import Predicate, find_edges, find_edges_in_spans
from cupola.timebase import add_seconds

# -- tolerances, in physical units ---------------------------------------------------------------
FIVE_CM_KM = 5e-5  # dense series interpolate SGP4 (cubic Hermite, ~2 cm): positions within 5 cm
FIVE_CM_S_KM_S = 5e-5  # velocities within 5 cm/s
TEN_CM_KM = 1e-4
MICRO_DEG = 1e-6  # 5 cm seen from the Earth's centre (6,371 km) is 4.5e-7 deg
MICRO_HOUR = 1e-7  # magnetic local time, h (1e-7 h = 1.5e-6 deg of magnetic longitude)
UNIT_VECTOR_TOL = 1e-9  # direction cosines (1e-9 rad = 0.2 mas)
FRACTION_TOL = 1e-5  # fractions: the solar disc goes 0..1 in ~8 s of penumbra, so 1e-5 is ~0.1 ms (~20 cm)
MAG_TOL = 1e-9  # magnitudes (a 5 cm change of a 384,000 km distance: 3e-13 mag)
ONE_KM = 1.0

SEED_START = np.datetime64("2021-05-02T06:00:00", "ns")
N_INSTANTS = 50
STEP_S = 97.0  # 50 x 97 s = 80 min: day, sunset, night, aurora over New England (~06:56), sunrise

SEEN_FROM_STATION_DEG = float(np.degrees(FIVE_CM_KM / 400.0))  # 5 cm across the shortest slant (~400 km)


def _azimuth_tol(distance_field: str):
    """Azimuth of a point `distance_km` from the sub-station point: 5 cm of the station's
    position turns it by 5 cm / distance (ill-conditioned straight below the station)."""
    def tol(view):
        d = np.asarray(getattr(view, distance_field), float)
        return np.degrees(FIVE_CM_KM / np.maximum(np.where(np.isfinite(d), d, 1.0), 1.0)) + MICRO_DEG
    return tol


def _sky_azimuth_tol(view):
    """Azimuth of a direction at elevation `el_deg`: a 1e-6 deg turn of the local frame moves
    it by 1e-6 / cos(el) deg."""
    el = np.radians(np.asarray(view.el_deg, float))
    return MICRO_DEG / np.maximum(np.cos(el), 1e-3)


# Per-field float tolerances, keyed by the field's dotted path ('[]' for tuple items): an absolute
# tolerance in the field's unit, ('relative', r), or a function of the enclosing dataclass giving
# absolute tolerances. Every float field not listed here must agree exactly.
TOLERANCES = {
    "state.r_teme_km": FIVE_CM_KM,
    "state.r_itrs_km": FIVE_CM_KM,
    "state.v_teme_km_s": FIVE_CM_S_KM_S,
    "state.v_itrs_km_s": FIVE_CM_S_KM_S,
    "state.lat_deg": MICRO_DEG,
    "state.lon_deg": MICRO_DEG,
    "state.alt_km": FIVE_CM_KM,
    "lighting.sun_fraction": FRACTION_TOL,
    "lighting.sun_elevation_below_deg": MICRO_DEG,
    "places.near_distance_km": FIVE_CM_KM,
    "stars.dir_teme": UNIT_VECTOR_TOL,
    "stars.az_deg": _sky_azimuth_tol,
    "stars.el_deg": MICRO_DEG,
    "bodies[].dir_teme": UNIT_VECTOR_TOL,
    "bodies[].distance_km": FIVE_CM_KM,
    "bodies[].az_deg": _sky_azimuth_tol,
    "bodies[].el_deg": MICRO_DEG,
    "bodies[].limb_margin_deg": MICRO_DEG,
    "bodies[].radius_deg": MICRO_DEG,
    "bodies[].vmag": MAG_TOL,
    "bodies[].phase_angle_deg": MICRO_DEG,
    "bodies[].illuminated_fraction": FRACTION_TOL,
    "airglow[].dark_fraction": FRACTION_TOL,
    "airglow[].limb_elevation_deg": MICRO_DEG,
    "airglow[].elevation_deg": MICRO_DEG,
    "aurora.azimuth_deg": _azimuth_tol("distance_km"),
    "aurora.elevation_deg": SEEN_FROM_STATION_DEG,
    "aurora.distance_km": TEN_CM_KM,
    "aurora.iss_mlat_deg": MICRO_DEG,
    "aurora.iss_mlt_h": MICRO_HOUR,
    "cities.azimuth_deg": _azimuth_tol("distance_km"),
    "cities.elevation_deg": SEEN_FROM_STATION_DEG,
    "cities.distance_km": FIVE_CM_KM,
    "cities.slant_km": FIVE_CM_KM,
    # population / slant**2: a 5 cm change of a >= 400 km slant changes it by 2.5e-7 of itself.
    "cities.brightness": ("relative", 2.5e-7),
}


# -- a generic comparer over dataclass fields --------------------------------------------------------
def _is_array_like(x) -> bool:
    return isinstance(x, (np.ndarray, np.generic, bool, int, float, complex, str, bytes))


def assert_same(a, b, path: str = "", tolerances: Mapping | None = None, seen: set | None = None, parent=None):
    """Assert `a` and `b` (dataclasses, tuples, arrays, scalars) agree field by field.

    Floats use ``tolerances[path]`` (see TOLERANCES; `parent` is the dataclass holding the value)
    or must match exactly (NaN
    equals NaN); everything else (bool, int, str, datetime64) must match exactly. Every dotted
    path compared is added to `seen`.
    """
    tolerances = {} if tolerances is None else tolerances
    seen = set() if seen is None else seen
    if path:
        seen.add(path)
    where = path or "<root>"
    if a is None or b is None:
        assert a is None and b is None, f"{where}: {a!r} vs {b!r}"
        return seen
    if isinstance(a, Satellite) or isinstance(b, Satellite):
        assert isinstance(a, Satellite) and isinstance(b, Satellite), where
        assert a.name == b.name, f"{where}.name: {a.name!r} vs {b.name!r}"
        assert_same(a.archive, b.archive, f"{path}.archive", tolerances, seen)
        return seen
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
        for f in dataclasses.fields(a):
            if not f.compare:  # caches (Scene._cache, ElementArchive._epochs_ns)
                continue
            sub = f"{path}.{f.name}" if path else f.name
            assert_same(getattr(a, f.name), getattr(b, f.name), sub, tolerances, seen, parent=a)
        return seen
    if isinstance(a, (tuple, list)):
        assert isinstance(b, (tuple, list)) and len(a) == len(b), f"{where}: lengths {len(a)} vs {len(b)}"
        for x, y in zip(a, b):
            assert_same(x, y, f"{path}[]", tolerances, seen, parent=parent)
        return seen
    if isinstance(a, Mapping):
        assert isinstance(b, Mapping) and dict(a) == dict(b), where
        return seen
    if _is_array_like(a):
        assert _is_array_like(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
        # The shape rule: a single instant holds numpy scalars (or Python values), not 0-d arrays.
        assert isinstance(a, np.ndarray) == isinstance(b, np.ndarray), \
            f"{where}: {type(a).__name__} vs {type(b).__name__}"
        x, y = np.asarray(a), np.asarray(b)
        assert x.shape == y.shape, f"{where}: shapes {x.shape} vs {y.shape}"
        if x.dtype.kind == "M" or y.dtype.kind == "M":
            assert x.dtype.kind == y.dtype.kind == "M", f"{where}: {x.dtype} vs {y.dtype}"
            np.testing.assert_array_equal(x.astype("datetime64[ns]").view(np.int64),
                                          y.astype("datetime64[ns]").view(np.int64), err_msg=where)
        elif x.dtype.kind in "fc" or y.dtype.kind in "fc":
            assert x.dtype.kind in "fc" and y.dtype.kind in "fc", f"{where}: {x.dtype} vs {y.dtype}"
            tol = tolerances.get(path, 0.0)
            np.testing.assert_array_equal(np.isnan(x), np.isnan(y), err_msg=f"{where}: NaN pattern")
            if callable(tol):
                atol = np.broadcast_to(tol(parent), x.shape)
                bad = np.abs(x - y) > atol
                assert not bad.any(), f"{where}: {x[bad]} vs {y[bad]} (tolerance {atol[bad]})"
            elif isinstance(tol, tuple):
                np.testing.assert_allclose(x, y, rtol=tol[1], atol=0.0, equal_nan=True, err_msg=where)
            elif tol:
                np.testing.assert_allclose(x, y, rtol=0.0, atol=tol, equal_nan=True, err_msg=where)
            else:
                np.testing.assert_array_equal(x, y, err_msg=where)
        else:
            assert x.dtype.kind == y.dtype.kind or {x.dtype.kind, y.dtype.kind} <= set("USO"), \
                f"{where}: {x.dtype} vs {y.dtype}"
            assert x.shape == () and a == b or np.array_equal(x, y), f"{where}: {a!r} vs {b!r}"
        return seen
    assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
    assert a == b, f"{where}: {a!r} vs {b!r}"
    return seen


def _scene_field_names() -> set[str]:
    return {f.name for f in dataclasses.fields(Scene) if f.compare}


def _all_paths(cls_or_obj, path: str = "") -> set[str]:
    """Return every dotted path of compared dataclass fields reachable from a Scene's value."""
    out = set()
    obj = cls_or_obj
    for f in dataclasses.fields(obj):
        if not f.compare:
            continue
        sub = f"{path}.{f.name}" if path else f.name
        out.add(sub)
        v = getattr(obj, f.name)
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            out |= _all_paths(v, sub)
        elif isinstance(v, tuple) and v and dataclasses.is_dataclass(v[0]):
            out.add(f"{sub}[]")
            out |= _all_paths(v[0], f"{sub}[]")
    return out


# -- fixtures -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def seed_times():
    return add_seconds(SEED_START, STEP_S * np.arange(N_INSTANTS))


@pytest.fixture(scope="module")
def seed_series(seed_times):
    return compute_scene(seed_times)


@pytest.fixture(scope="module")
def seed_singles(seed_times):
    return [compute_scene(t) for t in seed_times]


@pytest.fixture(scope="module")
def night_scene():
    # 06:30 UTC: the station over the dark Pacific, stars above the limb, no Sun.
    return compute_scene("2021-05-02T06:30:00Z")


# -- 1. a series is its per-instant Scenes ----------------------------------------------------------
def test_the_seed_span_covers_day_night_twilight_and_aurora(seed_series):
    # The comparison below is only as strong as the span is varied.
    phases = set(seed_series.lighting.phase.tolist())
    assert {"day", "night", "after_sunset", "before_sunrise"} <= phases
    assert seed_series.aurora.visible.any() and not seed_series.aurora.visible.all()
    assert (seed_series.cities.count > 0).any() and (seed_series.cities.count == 0).any()
    assert np.isfinite(seed_series.lighting.next_orbital_sunrise_utc.view(np.int64)).all()


def test_series_equals_per_instant_scenes_field_by_field(seed_series, seed_singles):
    assert isinstance(seed_series, SceneSeries)
    assert len(seed_series) == N_INSTANTS
    seen: set[str] = set()
    for i, single in enumerate(seed_singles):
        assert isinstance(single, Scene)
        assert_same(seed_series[i], single, tolerances=TOLERANCES, seen=seen)
    # Every field of a Scene (and of everything inside it) was compared: a new field cannot be
    # skipped silently, and no tolerance names a field that no longer exists.
    top = {p.split(".")[0].split("[")[0] for p in seen}
    assert top == _scene_field_names()
    assert _all_paths(seed_singles[30]) <= seen
    assert set(TOLERANCES) <= seen
    # The per-star lists (hip numbers, order, directions) were compared, not only the counts.
    assert seed_singles[20].stars.hip is not None and len(seed_singles[20].stars.hip) > 1000
    # The sunrise/sunset search is tick-aligned: a series and a single instant give the same ns.
    for i, s in enumerate(seed_singles):
        assert s.lighting.next_orbital_sunrise_utc == seed_series.lighting.next_orbital_sunrise_utc[i]
        assert s.lighting.next_orbital_sunset_utc == seed_series.lighting.next_orbital_sunset_utc[i]


def test_iterating_and_indexing_a_series(seed_series):
    scenes = list(seed_series)
    assert len(scenes) == N_INSTANTS
    for i in (0, 7, 31, 49):
        assert_same(scenes[i], seed_series[i])
    assert_same(seed_series[-1], seed_series[N_INSTANTS - 1])
    with pytest.raises(IndexError):
        seed_series[N_INSTANTS]


def test_dense_series_interpolates_sgp4_within_centimetres():
    # 40 instants 1.5 s apart around the 06:56 aurora: dense enough for the Hermite path
    # (more than 4 instants per 10 s node), against exact per-instant scenes.
    ts = add_seconds(np.datetime64("2021-05-02T06:55:30", "ns"), 1.5 * np.arange(40))
    series = compute_scene(ts)
    exact = Satellite.from_archive().at(ts, exact=True)
    err_cm = np.linalg.norm(series.state.r_teme_km - exact.r_teme_km, axis=-1) / 1e-5
    assert err_cm.max() < FIVE_CM_KM / 1e-5
    seen: set[str] = set()
    for i in range(0, 40, 3):
        assert_same(series[i], compute_scene(ts[i]), tolerances=TOLERANCES, seen=seen)
    assert {p.split(".")[0].split("[")[0] for p in seen} == _scene_field_names()


def test_a_two_dimensional_series_is_its_flat_instants():
    ts = add_seconds(np.datetime64("2021-05-02T06:40:00", "ns"), 300.0 * np.arange(6)).reshape(2, 3)
    series = compute_scene(ts)
    assert series.shape == (2, 3) and len(series) == 6
    assert series.cities.name.shape == (2, 3, 10) and series.aurora.lines_in_view.shape == (2, 3, 3)
    for i, t in enumerate(ts.ravel()):
        assert_same(series[i], compute_scene(t), tolerances=TOLERANCES)


# -- 2. layers add: their order never matters ---------------------------------------------------------
def _horizon_camera(**kw):
    base = dict(width_px=160, height_px=90, focal_mm=14.0, look=Look("horizon", "north", 5.0), exposure_s=2.0)
    base.update(kw)
    return Camera(**base)


def test_layer_order_never_changes_the_frame(night_scene):
    cam = _horizon_camera()
    ref = render(night_scene, cam, RenderSettings(layers=LAYER_NAMES)).luminance.copy()
    assert ref.max() > 0
    rng = np.random.default_rng(3)
    orders = [LAYER_NAMES[::-1]] + [tuple(rng.permutation(LAYER_NAMES)) for _ in range(2)]
    for order in orders:
        lum = render(night_scene, cam, RenderSettings(layers=order)).luminance
        # Sums in another order: equal to rounding (camera colours have slightly negative channels,
        # so values near zero are differences, whose rounding is relative to the frame's scale).
        np.testing.assert_allclose(lum, ref, rtol=1e-6, atol=1e-6 * float(np.abs(ref).max()), err_msg=str(order))
    # The frame is the sum of its layers drawn alone (float32 rounding only).
    total = sum(render(night_scene, cam, RenderSettings(layers=(name,))).luminance.astype(np.float64)
                for name in LAYER_NAMES)
    np.testing.assert_allclose(ref, total, rtol=1e-6, atol=1e-6 * float(np.abs(ref).max()))


def test_stars_drawn_before_the_earth_survive(night_scene):
    # The old bug: the earth layer overwrote the accumulator, so ('stars', 'earth') lost the stars.
    cam = _horizon_camera()
    earth = render(night_scene, cam, RenderSettings(layers=("earth",)))
    stars_first = render(night_scene, cam, RenderSettings(layers=("stars", "earth"))).luminance
    earth_first = render(night_scene, cam, RenderSettings(layers=("earth", "stars"))).luminance
    np.testing.assert_allclose(stars_first, earth_first, rtol=1e-6, atol=0.0)
    dark_sky = ~earth.geometry.hit & (earth.luminance.max(axis=-1) == 0.0)
    assert dark_sky.sum() > 1000  # above the limb, the night-side earth layer draws nothing
    assert (stars_first[dark_sky].max(axis=-1) > 0.0).sum() > 100  # ... but the stars are there


# -- 3. the renderer uses the Scene's own satellite ------------------------------------------------
def _tle_checksum(line: str) -> int:
    """Modulo-10 sum of the digits of the first 68 columns, '-' counting 1."""
    return sum(int(c) if c.isdigit() else (1 if c == "-" else 0) for c in line[:68]) % 10


RAAN_SHIFT_DEG = 40.0


@pytest.fixture(scope="module")
def user_station():
    """A user's element set: the bundled ISS set nearest 06:56 with its RAAN turned by 40 deg
    (a different orbit plane at the same instant: the ground track moves by ~3,000 km)."""
    bundled = Satellite.from_archive()
    t = np.datetime64("2021-05-02T06:56:00", "ns")
    es = bundled.archive.sets[int(bundled.archive.nearest(t))]
    l2 = es.line2
    raan = (float(l2[17:25]) + RAAN_SHIFT_DEG) % 360.0
    body = l2[:17] + f"{raan:8.4f}" + l2[25:68]
    line2 = body + str(_tle_checksum(body))
    assert len(line2) == 69 and _tle_checksum(es.line1) == int(es.line1[68])
    return Satellite.from_tle(es.line1, line2, name="USER STATION"), es.line1, line2


def test_user_element_set_lights_land_where_that_station_sees_them(user_station):
    from sgp4.api import WGS72, Satrec

    sat, line1, line2 = user_station
    # A few instants around 06:56: the one where that station sees the brightest lit city.
    ts = add_seconds(np.datetime64("2021-05-02T06:56:00", "ns"), 60.0 * np.arange(-40, 41))
    series = compute_scene(ts, sat=sat)
    k = int(np.nanargmax(np.where(series.cities.count > 0, series.cities.brightness[:, 0], np.nan)))
    t = ts[k]
    scene = compute_scene(t, sat=sat)
    assert scene.sat is sat and scene.cities.count > 0
    city_lat, city_lon = float(scene.cities.lat_deg[0]), float(scene.cities.lon_deg[0])

    # The station's position straight from sgp4 (the independent truth for where it is).
    rec = Satrec.twoline2rv(line1, line2, WGS72)
    err, r_sgp4, _ = rec.sgp4(float(scene.state.instants.jd_whole), float(scene.state.instants.utc_fraction))
    assert err == 0
    r_station = np.asarray(r_sgp4)
    assert np.linalg.norm(r_station - scene.state.r_teme_km) < 0.001  # 1 m
    bundled_here = compute_scene(t)
    assert np.linalg.norm(bundled_here.state.r_teme_km - r_station) > 1000.0  # really another orbit

    # Point a little off the city so that it lands off-centre, and project it independently.
    look = Look("target", lat_deg=city_lat + 0.15, lon_deg=city_lon - 0.12)
    cam = Camera(width_px=160, height_px=90, fov_deg=16.0, look=look, exposure_s=0.1)
    settings = RenderSettings(layers=("city_lights",), clouds=False, atmosphere=False, light_detail=False)
    frame = render(scene, cam, settings)
    city_teme = itrs_to_teme(geodetic_to_itrs(city_lat, city_lon, 0.0), scene.state.instants).reshape(3)
    los = city_teme - r_station
    slant_km = float(np.linalg.norm(los))
    c = frame.attitude.matrix @ (los / slant_km)
    assert c[2] > 0
    cx, cy = cam.principal_point
    x_true, y_true = cx + cam.focal_px * c[0] / c[2], cy + cam.focal_px * c[1] / c[2]
    assert 10 < x_true < cam.width_px - 10 and 10 < y_true < cam.height_px - 10
    assert np.hypot(x_true - cx, y_true - cy) > 10  # off-centre: the pointing alone cannot place it

    # The light at that pixel is the night-lights raster's at the city (sampled on the ground
    # that station sees; no clouds or extinction here, a 0.1 s exposure smears < 1 px).
    lum = frame.luminance.astype(np.float64) @ np.array([0.2126, 0.7152, 0.0722])
    expect = float(scene.night_lights.luminance_cd_m2(city_lat, city_lon, keep=0.0))  # the texels' mean
    assert expect > 0.01  # the brightest city in view is lit in the raster
    j0, i0 = int(np.floor(x_true)), int(np.floor(y_true))
    fx, fy = x_true - j0, y_true - i0
    got = ((1 - fy) * ((1 - fx) * lum[i0, j0] + fx * lum[i0, j0 + 1])
           + fy * ((1 - fx) * lum[i0 + 1, j0] + fx * lum[i0 + 1, j0 + 1]))
    assert got == pytest.approx(expect, rel=0.1)

    # The bundled ISS at the same instant cannot see that ground: asked to point there, the
    # renderer refuses; forced, that pixel shows other ground (or none at all).
    with pytest.raises(InputError, match="beyond its .* km horizon") as info:
        render(bundled_here, cam, settings)
    assert info.value.param == "force"
    other = render(bundled_here, cam, settings, force=True).geometry
    if other.hit[i0, j0]:
        la, lo = np.radians(float(other.lat_deg[i0, j0])), np.radians(float(other.lon_deg[i0, j0]))
        cos_arc = (np.sin(la) * np.sin(np.radians(city_lat))
                   + np.cos(la) * np.cos(np.radians(city_lat)) * np.cos(lo - np.radians(city_lon)))
        assert np.degrees(np.arccos(np.clip(cos_arc, -1, 1))) > 5.0


# -- 4. pickling -------------------------------------------------------------------------------------
def test_satellite_pickles_before_and_after_propagation():
    t = np.datetime64("2021-05-02T06:56:00", "ns")
    ts = add_seconds(t, np.array([0.0, 30.0, 600.0]))
    sat = Satellite.from_archive()
    fresh = pickle.loads(pickle.dumps(sat))
    st = sat.at(ts)
    assert sat._satrecs  # a Satrec cache now exists (and does not pickle)
    used = pickle.loads(pickle.dumps(sat))
    for copy in (fresh, used):
        assert copy.name == sat.name and copy.archive == sat.archive
        np.testing.assert_array_equal(copy.at(ts).r_teme_km, st.r_teme_km)
        np.testing.assert_array_equal(copy.at(ts).v_teme_km_s, st.v_teme_km_s)


def test_scene_and_series_pickle(seed_series, seed_singles):
    one = seed_singles[35]
    one.aurora_oval  # fill the cache: cached values pickle too
    back = pickle.loads(pickle.dumps(one))
    assert isinstance(back, Scene)
    assert_same(back, one)
    series_back = pickle.loads(pickle.dumps(seed_series))
    assert isinstance(series_back, SceneSeries) and len(series_back) == len(seed_series)
    assert_same(series_back, seed_series)
    assert_same(series_back[35], one, tolerances=TOLERANCES)


def test_errors_pickle_with_their_parameter():
    err = pickle.loads(pickle.dumps(InputError("x", param="kp")))
    assert isinstance(err, InputError) and str(err) == "x" and err.param == "kp"


# -- 5. the oval's NaN guard -------------------------------------------------------------------------
def test_a_hemisphere_without_an_oval_stays_dark():
    from cupola.phenomena.emission import oval_grid, oval_rings

    scene = compute_scene("2021-05-02T06:56:00Z")
    oval = scene.aurora_oval
    south = oval.hemisphere == -1
    assert south.any() and (~south).any()
    sun = rotate_z(np.asarray(scene.state.sun_teme_km, float).reshape(3), scene.earth_angle_rad)
    sun_dir = sun / np.linalg.norm(sun)
    step = 1.0
    lat_rows = -90.0 + (np.arange(int(180 / step)) + 0.5) * step
    full = oval_grid(*oval_rings(oval), sun_dir, step_deg=step)
    assert (full[lat_rows < 0] > 0).any()  # with its points, the southern oval glows somewhere

    no_south = dataclasses.replace(oval, lat_deg=np.where(south, np.nan, oval.lat_deg),
                                   lon_deg=np.where(south, np.nan, oval.lon_deg))
    frames, rings = oval_rings(no_south)
    assert np.isnan(rings[1]).all() and np.isfinite(rings[0]).all()
    grid = oval_grid(frames, rings, sun_dir, step_deg=step)
    assert np.all(grid[lat_rows < 0] == 0.0)  # exactly zero, no NaN
    assert (grid[lat_rows > 0] > 0).any()
    np.testing.assert_array_equal(grid[lat_rows > 0], full[lat_rows > 0])  # the north is untouched


# -- 6. seam purity ----------------------------------------------------------------------------------
FORBIDDEN = ("cupola.orbit", "cupola.sky", "cupola.phenomena", "cupola.geo", "cupola.lighting",
             "cupola.ephemeris", "skyfield")
RENDER_DIR = pathlib.Path(__file__).resolve().parents[1] / "src" / "cupola" / "render"


def _imported_modules(path: pathlib.Path) -> set[str]:
    package = ["cupola", "render"]  # every file of src/cupola/render is in package cupola.render
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1])
                mod = f"{base}.{node.module}" if node.module else base
            else:
                mod = node.module
            out.add(mod)
            out |= {f"{mod}.{a.name}" for a in node.names}  # 'from .. import sky' imports cupola.sky
    return out


def test_the_parser_resolves_relative_imports(tmp_path):
    f = tmp_path / "x.py"
    f.write_text("from ..sky import stars\nfrom .. import orbit\nfrom . import earth\nimport skyfield.api\n")
    mods = _imported_modules(f)
    assert {"cupola.sky", "cupola.orbit", "cupola.render.earth", "skyfield.api"} <= mods


def test_the_renderer_imports_no_physics():
    files = sorted(RENDER_DIR.glob("*.py"))
    assert len(files) >= 5
    for path in files:
        bad = sorted(m for m in _imported_modules(path)
                     if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))
        assert not bad, f"{path.name} imports {bad}"


# -- 7. the per-day magnetic table -------------------------------------------------------------------
def test_magnetic_table_lookup_matches_aacgmv2_within_a_kilometre():
    import aacgmv2

    from cupola.phenomena.aurora import _lookup, magnetic_table

    day_ns = int(np.datetime64("2021-05-02", "ns").astype(np.int64))
    table = magnetic_table(day_ns)
    assert table.model == "aacgmv2"
    noon = (table.day_utc + np.timedelta64(12, "h")).astype("datetime64[us]").item()
    rng = np.random.default_rng(11)
    n = 400
    hemi = rng.integers(0, 2, n)
    h_idx = rng.integers(0, table.heights_km.size, n)
    abs_mlat = rng.uniform(45.0, 85.0, n)
    mlon = rng.uniform(-180.0, 180.0, n)
    p, dip = _lookup(table, hemi, h_idx, abs_mlat, mlon)
    h = table.heights_km[h_idx]
    lat, lon, _ = aacgmv2.convert_latlon_arr(np.where(hemi == 0, abs_mlat, -abs_mlat), mlon, h, noon, "A2G")
    truth = geodetic_to_itrs(np.asarray(lat, float), np.asarray(lon, float), h)
    assert np.isfinite(truth).all() and not dip.any()
    err_km = np.linalg.norm(p - truth, axis=-1)
    assert err_km.max() < ONE_KM, f"worst {err_km.max():.3f} km at |mlat| {abs_mlat[np.argmax(err_km)]:.1f}"


def test_the_oval_never_leaves_the_table():
    from cupola.phenomena.aurora import TABLE_MLAT_MIN_DEG, _band_mlat

    kp = np.linspace(0.0, 9.0, 91)
    band = _band_mlat(kp, 24 * 12)  # every 5 min of MLT
    assert np.isfinite(band).all()
    assert band.min() >= TABLE_MLAT_MIN_DEG + 2.0
    assert band.max() <= 90.0


# -- 8. tick-aligned edges ---------------------------------------------------------------------------
EDGE_START = np.datetime64("2021-05-02T05:00:00", "ns")
EDGE_SPAN_S = 3 * 3600.0
TOL_S = 0.01


@pytest.fixture(scope="module")
def sunlit_predicate():
    sat = Satellite.from_archive()
    return sat, Predicate(lambda t: sat.sunlit_at(t) > 0.5, 60.0, "sunlit")


def test_edges_do_not_depend_on_where_the_search_starts(sunlit_predicate):
    _, pred = sunlit_predicate
    runs = []
    for off in (0.0, 7.3, 41.0):
        e = find_edges(pred, add_seconds(EDGE_START, off), add_seconds(EDGE_START, off + EDGE_SPAN_S), TOL_S)
        runs.append(e)
    lo, hi = add_seconds(EDGE_START, 41.0), add_seconds(EDGE_START, EDGE_SPAN_S)
    common = [e.t_utc[(e.t_utc > lo) & (e.t_utc < hi)] for e in runs]
    assert common[0].size >= 3  # a 3-hour span holds about two sunrises and two sunsets
    for c in common[1:]:
        np.testing.assert_array_equal(c.view(np.int64), common[0].view(np.int64))  # to the nanosecond


def test_overlapping_spans_are_merged(sunlit_predicate):
    _, pred = sunlit_predicate
    whole = find_edges(pred, EDGE_START, add_seconds(EDGE_START, EDGE_SPAN_S), TOL_S)
    starts = add_seconds(EDGE_START, np.array([3600.0, 0.0, 1800.0]))
    ends = add_seconds(EDGE_START, np.array([EDGE_SPAN_S, 7200.0, 5400.0]))
    merged = find_edges_in_spans(pred, starts, ends, TOL_S)
    assert np.all(np.diff(merged.t_utc.view(np.int64)) > 0)  # sorted, each edge once
    np.testing.assert_array_equal(merged.t_utc.view(np.int64), whole.t_utc.view(np.int64))
    np.testing.assert_array_equal(merged.rising, whole.rising)
    # Disjoint spans find only their own edges, and each the same instant.
    part = find_edges_in_spans(pred, EDGE_START.reshape(1), add_seconds(EDGE_START, np.array([5000.0])), TOL_S)
    inside = whole.t_utc < add_seconds(EDGE_START, 5000.0)
    np.testing.assert_array_equal(part.t_utc.view(np.int64), whole.t_utc[inside].view(np.int64))


def test_edges_agree_with_a_millisecond_scan(sunlit_predicate):
    sat, pred = sunlit_predicate
    edges = find_edges(pred, EDGE_START, add_seconds(EDGE_START, EDGE_SPAN_S), TOL_S)
    assert len(edges) >= 3
    ms = np.timedelta64(1_000_000, "ns")
    tick = np.timedelta64(int(TOL_S * 1e9), "ns")
    for t_edge, rising in zip(edges.t_utc, edges.rising):
        grid = t_edge.astype("datetime64[ms]").astype("datetime64[ns]") + ms * np.arange(-30, 31)
        # One instant per call: exactly the SGP4 the sparse search evaluated (no interpolation).
        values = np.array([bool(sat.sunlit_at(g.reshape(1))[0] > 0.5) for g in grid])
        assert values[0] != rising and values[-1] == rising
        first_after = grid[np.argmax(values == rising)]
        assert np.all(values[grid < first_after] != rising)  # a single change within the scan
        # The true change lies in (first_after - 1 ms, first_after]: within one tick of the report.
        assert abs(first_after - t_edge) <= tick
        assert np.all(values[grid <= t_edge - tick // 2] != rising)
        assert np.all(values[grid >= t_edge + tick // 2] == rising)


# -- 9. next sunrise and sunset over arrays ---------------------------------------------------------
def test_next_sun_events_for_an_array_equal_the_scalar_calls_and_the_span_search():
    sat = Satellite.from_archive()
    offsets = np.array([0.0, 13.37, 611.0, 1999.9, 2400.0, 3333.3, 4100.0, 5555.5, 7020.0, 9000.01])
    ts = add_seconds(EDGE_START, offsets)
    rise, sset = next_sun_events(sat, ts)
    assert rise.shape == sset.shape == ts.shape
    assert not np.isnat(rise).any() and not np.isnat(sset).any()
    for k, t in enumerate(ts):
        r1, s1 = next_sun_events(sat, t)
        assert r1.shape == () and s1.shape == ()
        assert r1 == rise[k] and s1 == sset[k]  # exactly, to the nanosecond
    edges = orbital_sun_events(sat, ts.min(), add_seconds(ts.max(), 4 * 3600.0))
    for k, t in enumerate(ts):
        after = edges.t_utc > t
        assert rise[k] == edges.t_utc[after & edges.rising][0]
        assert sset[k] == edges.t_utc[after & ~edges.rising][0]
        assert t < rise[k] <= add_seconds(t, 4 * 3600.0)


@pytest.fixture(scope="module")
def instant_inside_an_edge_tick():
    """An instant t before a reported sunrise/sunset E (the middle of its 10 ms tick) at which the
    station already has the light that follows the edge: the true change lies in (tick start, t]."""
    sat = Satellite.from_archive()
    edges = orbital_sun_events(sat, EDGE_START, add_seconds(EDGE_START, EDGE_SPAN_S))
    quarter_ms = np.timedelta64(250_000, "ns")
    half_tick = np.timedelta64(int(TOL_S * 1e9) // 2, "ns")
    for e, rising in zip(edges.t_utc, edges.rising):
        grid = e - half_tick + quarter_ms * np.arange(20)  # [E - 5 ms, E)
        after = [g for g in grid if bool(sat.sunlit_at(g.reshape(1))[0] > 0.5) == bool(rising)]
        if after:
            return sat, after[0], e, bool(rising)
    return sat, None, None, None


def test_there_is_an_instant_inside_an_edge_tick(instant_inside_an_edge_tick):
    sat, t, e, rising = instant_inside_an_edge_tick
    assert t is not None, "no edge of the span changes in the first half of its tick"
    assert e - np.timedelta64(5_000_000, "ns") <= t < e
    assert bool(sat.sunlit_at(t.reshape(1))[0] > 0.5) == rising


def test_next_sun_events_inside_an_edge_tick_do_not_depend_on_the_series(instant_inside_an_edge_tick):
    sat, t, e, rising = instant_inside_an_edge_tick
    if t is None:
        pytest.fail("no instant inside an edge tick (see test_there_is_an_instant_inside_an_edge_tick)")
    alone = next_sun_events(sat, t)
    in_series = next_sun_events(sat, np.array([add_seconds(t, -3000.0), t]))
    assert alone[0] == in_series[0][1] and alone[1] == in_series[1][1], (
        f"t = {t}: alone {alone[0]} / {alone[1]}, in a series {in_series[0][1]} / {in_series[1][1]}")

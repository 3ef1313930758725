"""Auroral oval (Feldstein-Starkov), magnetic coordinates, and what the station sees of it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cupola.errors import DataMissingError, InputError
from cupola.frames import geodetic_to_itrs, itrs_to_teme
from cupola.lighting import sun_elevation_deg, sun_teme_km
from cupola.orbit import Satellite, State
from cupola.phenomena.aurora import (
    KIND_NAMES,
    aurora_in_view,
    aurora_oval,
    dipole_pole,
    geographic_to_magnetic,
    kp_to_al_nt,
    magnetic_to_geographic,
    oval_colatitude_deg,
    oval_mlat_deg,
    storm_scale,
)
from cupola.timebase import instants, to_utc64
from cupola.view import R_EARTH_KM, shell_visible_arc_deg

# Kernels with a numpy twin: CI reruns this module with CUPOLA_NO_JIT=1 (cupola.jit).
pytestmark = pytest.mark.numpy_twin

MODEL_MATCH_DEG = 1e-9  # our code vs the formula recomputed by hand: same arithmetic
RULE_OF_THUMB_DEG = 1.5  # Starkov's diffuse edge vs Gussenhoven's fit, Kp 0-6
RULE_OF_THUMB_KP7_DEG = 2.5

# Starkov (1994) Table as printed in Sigernes et al. (2011) Table 1: rows A0, A1, a1, A2, a2,
# A3, a3; columns b0..b3. Typed again here from the paper for an independent recomputation.
TABLE = {
    "poleward": [(-0.07, 24.54, -12.53, 2.15), (-10.06, 19.83, -9.33, 1.24), (-6.61, 10.17, -5.80, 1.19),
                 (-4.44, 7.47, -3.01, 0.25), (6.37, -1.10, 0.34, -0.38), (-3.77, 7.90, -4.73, 0.91),
                 (-4.48, 10.16, -5.87, 0.98)],
    "equatorward": [(1.16, 23.21, -10.97, 2.03), (-9.59, 17.78, -7.20, 0.96), (-2.22, 1.50, -0.58, 0.08),
                    (-12.07, 17.49, -7.96, 1.15), (-23.98, 42.79, -26.96, 5.56), (-6.56, 11.44, -6.73, 1.31),
                    (-20.07, 36.67, -24.20, 5.11)],
    "diffuse": [(3.44, 29.77, -16.38, 3.35), (-2.41, 7.89, -4.32, 0.87), (-1.68, -2.48, 1.58, -0.28),
                (-0.74, 3.94, -3.09, 0.72), (8.69, -20.73, 13.03, -2.14), (-2.12, 3.24, -1.67, 0.31),
                (8.61, -5.34, -1.36, 0.76)],
}


def _by_hand(mlt: float, kp: float, boundary: str) -> float:
    """Colatitude from the published formula, scalar math only."""
    al = 18 - 12.3 * kp + 27.2 * kp**2 - 2 * kp**3
    x = math.log10(abs(al))
    a0, a1, al1, a2, al2, a3, al3 = (b0 + b1 * x + b2 * x * x + b3 * x**3 for b0, b1, b2, b3 in TABLE[boundary])
    r = math.radians
    return (a0 + a1 * math.cos(r(15 * (mlt + al1))) + a2 * math.cos(r(15 * (2 * mlt + al2)))
            + a3 * math.cos(r(15 * (3 * mlt + al3))))


@pytest.mark.parametrize("kp", [1.0, 3.0, 5.0, 7.0])
@pytest.mark.parametrize("mlt", [0.0, 12.0])
@pytest.mark.parametrize("boundary", ["poleward", "equatorward", "diffuse"])
def test_boundaries_reproduce_the_published_model(kp, mlt, boundary):
    got = oval_colatitude_deg(mlt, kp, boundary)
    assert got == pytest.approx(_by_hand(mlt, kp, boundary), abs=MODEL_MATCH_DEG)


def test_boundary_values_pinned():
    # Values computed once from the table (magnetic latitude, deg), kept to catch edits.
    pinned = {  # (kp, mlt, boundary): mlat
        (3.0, 0.0, "equatorward"): 64.2, (3.0, 12.0, "equatorward"): 73.8,
        (3.0, 0.0, "poleward"): 71.9, (5.0, 0.0, "diffuse"): 57.1, (7.0, 12.0, "poleward"): 74.7,
    }
    for (kp, mlt, b), want in pinned.items():
        assert oval_mlat_deg(mlt, kp, b) == pytest.approx(want, abs=0.05)


def test_al_from_kp():
    assert kp_to_al_nt(0.0) == pytest.approx(18.0)
    assert kp_to_al_nt(3.0) == pytest.approx(18 - 36.9 + 244.8 - 54)


def test_gussenhoven_rule_of_thumb_at_midnight():
    # Gussenhoven et al. (1983): diffuse equatorward edge at 0 MLT = 66.1 - 1.99 Kp (deg).
    for kp in range(0, 7):
        assert oval_mlat_deg(0.0, kp, "diffuse") == pytest.approx(66.1 - 1.99 * kp, abs=RULE_OF_THUMB_DEG)
    assert oval_mlat_deg(0.0, 7, "diffuse") == pytest.approx(66.1 - 1.99 * 7, abs=RULE_OF_THUMB_KP7_DEG)
    # ~2 deg lower per Kp step (Kp 1 -> 5).
    step = (oval_mlat_deg(0.0, 1, "equatorward") - oval_mlat_deg(0.0, 5, "equatorward")) / 4
    assert 1.0 < step < 2.5


def test_boundaries_are_ordered_and_mirrored():
    mlt = np.linspace(0, 24, 97)
    for kp in np.arange(0, 9.01, 1 / 3):
        p, e, d = (oval_mlat_deg(mlt, kp, b) for b in ("poleward", "equatorward", "diffuse"))
        assert (p > e).all() and (e >= d - 1e-9).all() and (d > 45).all()
        assert np.allclose(oval_mlat_deg(mlt, kp, "equatorward", "south"), -e)
    assert oval_colatitude_deg(np.zeros((2, 3)), 3.0).shape == (2, 3)


def test_storm_scale():
    assert [storm_scale(k) for k in (0, 4.667, 5, 6.333, 7, 8.667, 9)] == ["G0", "G0", "G1", "G2", "G3", "G4", "G5"]


# -- magnetic coordinates ------------------------------------------------------------------------
T_SEED = "2021-05-02T06:56:00Z"


def _inst_sun(t):
    inst = instants(t)
    return to_utc64(t), sun_teme_km(inst), inst


def test_dipole_pole_matches_igrf():
    # IGRF-13 geomagnetic (dipole) north pole, 2020.0: 80.65 N, 72.68 W (BGS/NOAA tables).
    lat, lon = dipole_pole("2020-01-01T00:00:00Z")
    assert lat == pytest.approx(80.65, abs=0.1) and lon == pytest.approx(-72.68, abs=0.1)
    lat, lon = dipole_pole("1990-01-01T00:00:00Z")  # between epochs: 79.2 N, 71.1 W
    assert lat == pytest.approx(79.2, abs=0.2) and lon == pytest.approx(-71.1, abs=0.3)


def test_dipole_fallback_close_to_aacgm_at_mid_and_high_latitudes():
    t, sun, inst = _inst_sun(T_SEED)
    lat = np.concatenate([np.arange(50, 71, 5.0), -np.arange(50, 71, 5.0)])
    la, lo = np.meshgrid(lat, np.arange(-180, 180, 10.0))
    a_mlat, a_mlt, a_dip = geographic_to_magnetic(la, lo, 110.0, t, sun, inst, "aacgmv2")
    d_mlat, d_mlt, d_dip = geographic_to_magnetic(la, lo, 110.0, t, sun, inst, "dipole")
    assert not a_dip.any() and d_dip.all()
    dm = np.abs(a_mlat - d_mlat)
    dt = np.abs((a_mlt - d_mlt + 12) % 24 - 12)
    # The centred dipole ignores the non-dipole field: ~2-3 deg typical, up to ~8 deg; MLT
    # ~0.4 h typical, up to ~3 h near the (offset) southern magnetic pole.
    assert np.median(dm) < 3.0 and dm.max() < 8.0
    assert np.median(dt) < 0.6 and dt.max() < 3.0


def test_round_trip_and_fallbacks():
    t, sun, inst = _inst_sun(T_SEED)
    mlat, mlt = np.array([60.0, 65.0, 70.0, -65.0]), np.array([0.5, 6.0, 12.0, 22.0])
    for model in ("auto", "dipole"):
        lat, lon, _ = magnetic_to_geographic(mlat, mlt, 110.0, t, sun, inst, model)
        back, back_mlt, _ = geographic_to_magnetic(lat, lon, 110.0, t, sun, inst, model)
        assert np.allclose(back, mlat, atol=0.05) and np.allclose(back_mlt, mlt, atol=0.01)
    # AACGM has no answer at the magnetic equator: the dipole fills in.
    m, _, dip = geographic_to_magnetic(np.array([0.0, 65.0]), np.array([0.0, 10.0]), 110.0, t, sun, inst)
    assert np.isfinite(m).all() and list(dip) == [True, False]
    # Outside aacgmv2's 1900-2030: dipole everywhere with 'auto', a clear error with 'aacgmv2'.
    t2, sun2, inst2 = _inst_sun("2035-06-01T00:00:00Z")
    lat, lon, dip = magnetic_to_geographic(mlat, mlt, 110.0, t2, sun2, inst2)
    assert dip.all() and np.isfinite(lat).all()
    with pytest.raises(InputError, match="aacgmv2 covers 1900-2030 only"):
        magnetic_to_geographic(mlat, mlt, 110.0, t2, sun2, inst2, "aacgmv2")
    with pytest.raises(InputError, match="unknown magnetic model 'igrf'"):
        magnetic_to_geographic(mlat, mlt, 110.0, t, sun, inst, "igrf")


# -- what the station sees -----------------------------------------------------------------------
def fake_state(t, lat_deg, lon_deg, alt_km=420.0) -> State:
    """A one-instant State at a chosen geodetic point (velocity irrelevant here)."""
    inst = instants(t)
    r_itrs = geodetic_to_itrs(lat_deg, lon_deg, alt_km)
    zero3 = np.zeros(3)
    return State(
        t_utc=inst.utc, r_teme_km=itrs_to_teme(r_itrs, inst), v_teme_km_s=zero3, r_itrs_km=r_itrs,
        v_itrs_km_s=zero3, lat_deg=np.asarray(float(lat_deg)), lon_deg=np.asarray(float(lon_deg)),
        alt_km=np.asarray(alt_km), sun_teme_km=sun_teme_km(inst), sunlit=np.asarray(False),
        error=np.asarray(0, np.int8), set_index=np.asarray(0), tle_epoch_utc=inst.utc,
        tle_age_days=np.asarray(0.0), instants=inst,
    )


def test_visible_arc_for_110_km_from_420_km():
    arc = float(shell_visible_arc_deg(420.0, 110.0))
    assert arc == pytest.approx(30.8, abs=0.05)
    assert np.radians(arc) * R_EARTH_KM == pytest.approx(3430, abs=15)


def test_right_above_the_oval_at_night_sees_aurora_below():
    t = "2021-01-15T06:00:00Z"  # northern winter: ground dark around magnetic midnight
    tt, sun, inst = _inst_sun(t)
    mid = 0.5 * (oval_mlat_deg(0.0, 3.0, "equatorward") + oval_mlat_deg(0.0, 3.0, "poleward"))
    lat, lon, _ = magnetic_to_geographic(mid, 0.0, 0.0, tt, sun, inst)
    st = fake_state(t, float(lat), float(lon))
    v = aurora_in_view(st, kp=3.0)
    assert v.visible and v.hemisphere == "north"
    assert v.distance_km == 0.0  # the station is over the oval band
    # The nearest auroral point lies almost straight down: steeply below the local horizontal.
    assert v.elevation_deg < -60.0
    assert float(sun_elevation_deg(lat, lon, sun, inst)) < -12.0
    assert v.kp_source == "given" and not v.kp_is_prediction


def test_over_the_magnetic_equator_sees_none_at_kp_2():
    t = "2021-01-15T00:00:00Z"
    tt, sun, inst = _inst_sun(t)
    lats = np.linspace(-20, 20, 401)
    m, _, _ = geographic_to_magnetic(lats, 100.0, 0.0, tt, sun, inst, "dipole")
    lat0 = float(lats[np.argmin(np.abs(m))])
    v = aurora_in_view(fake_state(t, lat0, 100.0), kp=2.0)
    assert not v.visible and v.hemisphere == "" and math.isnan(v.elevation_deg)
    assert not aurora_oval(fake_state(t, lat0, 100.0), kp=2.0).in_view.any()
    # AACGM latitude at 110 km cannot be below ~10 deg (field lines that low never reach it).
    assert abs(v.iss_mlat_deg) < 12.0
    assert v.distance_km > 5000.0


def test_in_view_agrees_with_the_visible_arc():
    st = Satellite.from_archive().at(T_SEED)
    v = aurora_oval(st)
    up = geodetic_to_itrs(float(st.lat_deg), float(st.lon_deg), 0.0)
    pts = geodetic_to_itrs(v.lat_deg, v.lon_deg, v.height_km)
    cosang = pts @ up / (np.linalg.norm(pts, axis=1) * np.linalg.norm(up))
    ang = np.degrees(np.arccos(np.clip(cosang, -1, 1)))
    arc = shell_visible_arc_deg(float(st.alt_km), v.height_km)
    margin_deg = 1.0  # sphere (closed form) vs WGS84 ellipsoid (our ray test)
    assert v.in_view[ang < arc - margin_deg].all()
    assert not v.in_view[ang > arc + margin_deg].any()


def test_seed_case_2021_05_02_over_new_england():
    # 2021-05-02 06:56 UTC, ISS over 40.9 N 71.7 W (~2:10 local time), Kp 3o observed.
    # The ISS sits at ~49 deg AACGM latitude, MLT ~2.6 h; the Kp-3 oval's equatorward edge at
    # that MLT is ~64.5 deg, ~15 deg of magnetic latitude (~1,700 km) to the north, over
    # northern Quebec / Hudson Bay, well inside the ~3,430 km (110 km) and ~4,000 km (250 km)
    # visible ranges, and the ground there is dark (Sun ~-15 deg at 02 local time in early May
    # at ~56 N). So the model says: aurora in view, low to the north (about 13 deg below the
    # station's horizontal, i.e. ~7 deg above the hard limb, which lies 20.3 deg down).
    st = Satellite.from_archive().at(T_SEED)
    assert float(st.lat_deg) == pytest.approx(40.9, abs=0.1)
    assert float(st.lon_deg) == pytest.approx(-71.7, abs=0.1)
    v = aurora_in_view(st)
    assert v.kp == 3.0 and v.kp_symbol == "3o" and not v.kp_is_prediction and v.kp_source == "observed"
    assert "observed" in v.note and "PREDICTION" not in v.note
    assert v.visible and v.hemisphere == "north"
    assert v.azimuth_deg > 330.0 or v.azimuth_deg < 30.0  # northward
    assert -20.3 < v.elevation_deg < -5.0  # below the horizontal, above the hard limb
    assert 1200.0 < v.distance_km < 2300.0
    assert 47.0 < v.iss_mlat_deg < 52.0 and 1.5 < v.iss_mlt_h < 3.5
    assert v.magnetic_model == "aacgmv2"
    oval = aurora_oval(st)
    nearest = np.argmin(np.where(oval.visible, np.hypot(oval.lat_deg - 56, oval.lon_deg + 75), np.inf))
    assert 50.0 < oval.lat_deg[nearest] < 62.0  # Quebec / Hudson Bay latitudes
    assert [e["colour"] for e in v.emissions] == ["green", "red", "blue-violet"]
    assert all(e["in_view"] for e in v.emissions)
    assert v.storm_scale == "G0" and v.intensity == pytest.approx(171.9)
    # A State of shape (1,) is one instant too.
    v1 = aurora_in_view(Satellite.from_archive().at([T_SEED]))
    assert v1.visible and v1.azimuth_deg == pytest.approx(v.azimuth_deg)
    # The dipole fallback tells the same story.
    vd = aurora_in_view(st, magnetic_model="dipole")
    assert vd.visible and vd.hemisphere == "north" and vd.magnetic_model == "dipole"
    assert abs(vd.distance_km - v.distance_km) < 400.0


def test_points_arrays_for_drawing():
    v = aurora_oval(Satellite.from_archive().at(T_SEED), n_mlt=48)
    n = 2 * len(KIND_NAMES[:3]) * 48 * 3 + 2 * 3 * 48 * 3  # 3 boundaries + 3 inside rows
    for a in (v.lat_deg, v.lon_deg, v.height_km, v.mlat_deg, v.mlt_h, v.hemisphere, v.kind, v.in_view, v.dark,
              v.visible):
        assert a.shape == (n,)
    assert set(np.unique(v.height_km)) == {95.0, 110.0, 250.0}
    assert set(np.unique(v.hemisphere)) == {-1, 1}
    assert (v.visible <= (v.in_view & v.dark)).all()
    assert not v.visible[v.kind == KIND_NAMES.index("diffuse")].any()
    south = v.hemisphere < 0
    assert (v.lat_deg[south] < 0).all() and (v.lat_deg[~south] > 0).all()


def test_predicted_kp_is_stated():
    from cupola.phenomena.kp import last_observed_utc

    t = last_observed_utc() + np.timedelta64(2, "D")
    v = aurora_in_view(fake_state(t, 60.0, -100.0))
    assert v.kp_is_prediction and v.kp_source == "predicted"
    assert "PREDICTION" in v.note


def test_errors():
    st = Satellite.from_archive().at(T_SEED)
    with pytest.raises(InputError, match=r"kp must lie in 0\.\.9, got 12"):
        aurora_in_view(st, kp=12)
    with pytest.raises(InputError, match=r"aurora_oval takes one instant, got a state of shape \(2,\)"):
        aurora_oval(Satellite.from_archive().at([T_SEED, T_SEED]))
    with pytest.raises(InputError, match="unknown oval boundary 'outer'"):
        oval_colatitude_deg(0.0, 3.0, "outer")
    with pytest.raises(InputError, match="unknown hemisphere 'east'"):
        oval_mlat_deg(0.0, 3.0, hemisphere="east")
    with pytest.raises(DataMissingError, match="no Kp for 2035"):
        aurora_in_view(fake_state("2035-06-01T00:00:00Z", 60.0, -100.0))


def test_series_kernel_matches_its_numpy_twin(monkeypatch):
    # One numba pass over instants x oval points (the default) against the numpy reference of the
    # same maths (CUPOLA_NO_JIT=1), over a day of instants and three activity levels.
    sat = Satellite.from_archive()
    t = np.datetime64("2021-05-02T00:00:00", "ns") + np.arange(0, 86400, 900).astype("timedelta64[s]")
    st = sat.at(t)
    for kp in (None, 0.0, 7.0):
        monkeypatch.setenv("CUPOLA_NO_JIT", "0")
        a = aurora_in_view(st, kp=kp)
        monkeypatch.setenv("CUPOLA_NO_JIT", "1")
        b = aurora_in_view(st, kp=kp)
        for f in ("visible", "hemisphere", "lines_in_view", "magnetic_model", "note"):
            assert (getattr(a, f) == getattr(b, f)).all(), f
        np.testing.assert_allclose(a.distance_km, b.distance_km, atol=1e-9, rtol=0, equal_nan=True)
        # Points tied to ~1e-12 km for "nearest" may be picked differently: angles to 0.001 deg.
        for f in ("azimuth_deg", "elevation_deg"):
            np.testing.assert_allclose(getattr(a, f), getattr(b, f), atol=1e-3, equal_nan=True)
        assert a.visible.any() and not a.visible.all()


def test_series_equals_each_instant_and_the_oval_points():
    # The vectorised view of a series reduces exactly the points aurora_oval gives one instant.
    sat = Satellite.from_archive()
    t = np.datetime64("2021-05-02T06:40:00", "ns") + np.arange(0, 1200, 120).astype("timedelta64[s]")
    series = aurora_in_view(sat.at(t))
    for i in range(t.size):
        st = sat.at(t[i])
        one, oval = aurora_in_view(st), aurora_oval(st)
        assert bool(series.visible[i]) == bool(one.visible) == bool(oval.visible.any())
        assert series.hemisphere[i] == one.hemisphere
        assert series.distance_km[i] == pytest.approx(float(one.distance_km), abs=0.01)

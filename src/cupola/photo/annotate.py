"""Annotate a photograph from the station: what, where and when it shows (issue 11).

The pipeline joins the photo package's pieces, each a stage with its own timing:

1. **metadata** (:func:`cupola.photo.metadata.read_photo`): capture time at mid-exposure, body,
   lens, exposure; the output paths are checked before it, so a bad path costs nothing;
2. **scene** (:func:`cupola.scene.compute_scene` at that instant): caption, phase, what is in
   view, the element set's age and uncertainty. Without an element set near the date (the
   bundled history covers 2017, 2021 and 2024; the shared photo is from 2012) there is no Scene:
   the answer says so and why, and the pointing still comes from the stars (`sat` supplies sets);
3. **pixels, sky mask, stars** (:mod:`cupola.photo.stars`), **plate solve**
   (:func:`cupola.photo.solve.solve_field`: RA/Dec/roll/field of the optical axis, in ICRS, no
   station needed; with a Scene, aberration by the station's velocity too). With a Scene the
   model's Earth and limb up to :data:`EARTH_MASK_KM` at that first solution join the sky mask,
   and the stars are solved again (tracking mode) when that took any sky away. Then the
   **tracking** verdict (:func:`cupola.photo.tracking.tracking_verdict`) and the second check
   (:func:`cupola.photo.solve.check_bright_stars`);
4. **attitude** (:func:`cupola.photo.geolocate.attitude_from_icrs`, TEME at the instant) when
   solved and a Scene exists; otherwise a `look` given by the user is the fallback pointing, and
   said to be one;
5. **clock** (:func:`cupola.photo.clock.fit_clock_offset`): the camera clock's offset fitted on
   the limb when it is in the frame;
6. **outputs** (:mod:`cupola.photo.outputs`): the overlay, the side-by-side with cupola's render at
   the solved pointing (at most :data:`~cupola.photo.outputs.SIDE_MAX_PX`), the WCS header and the
   per-pixel lat/lon. Every output is computed before the first is written; an output that
   cannot be made (no solution for a WCS, no Scene for a side-by-side) is refused before any
   pixel is read when that is already known, else before anything is written.

What it leaves out: lens distortion beyond the solve's one radial term, refraction near the
limb, and any pointing but a rigid camera (no rolling shutter).
"""

from __future__ import annotations

import math
import time as _time
from dataclasses import dataclass, field

import numpy as np

from ..answers.i18n import ANNOTATE_LABELS, check_lang
from ..errors import CupolaError, InputError, TimeInputError
from .metadata import PhotoMeta, camera_for, load_pixels, read_photo
from .outputs import (AIRGLOW_KM, AURORA_KM, check_outputs, overlay as draw_overlay, side_by_side as draw_side_by_side,
                      write_image, write_latlon, write_wcs)

NEEDS_SCENE = ("side_by_side", "lonlat")  # outputs that need the station's position


@dataclass(frozen=True, eq=False)
class Annotation:
    """What `annotate` found about a photograph (see :func:`cupola.answers.json.annotate_json`).

    Attributes:
        meta: the photo's metadata.
        scene: the Scene at the mid-exposure instant, or None (`scene_note` says why).
        solution: the plate solution (``solved`` False with a reason when the stars failed).
        tracking: the tracked/untracked verdict, or None when there were no stars to judge.
        pointing: 'stars' (solved), 'look' (the user's fallback) or 'none'; pointing_note why.
        camera: the camera at the photo's size with the solved (else recorded) focal length.
        attitude: the camera's TEME attitude, when both a pointing and a Scene exist.
        look: the user's fallback look (a :class:`cupola.camera.Look`) or None.
        clock: the camera-clock fit on the limb, or None (clock_note why).
        centre_latlon: (lat_deg, lon_deg) where the optical axis meets the ground, or None.
        n_sources: star images detected.
        star_check: the solution's second check: where the bright Hipparcos stars fall
            (:class:`cupola.photo.solve.StarCheck`), or None when not solved.
        outputs: {name: path written}.
        notes: what was assumed or left out, in words.
        timings_s: seconds per stage.
    """

    meta: PhotoMeta
    scene: object | None
    scene_note: str
    solution: object | None
    tracking: object | None
    pointing: str
    pointing_note: str
    camera: object | None
    attitude: object | None
    look: object | None
    clock: object | None
    clock_note: str
    centre_latlon: tuple[float, float] | None
    n_sources: int
    k1: float
    outputs: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    timings_s: dict = field(default_factory=dict)
    lang: str = "en"
    star_check: object | None = None
    clock_code: str = ""  # why there is no clock fit: 'no_limb', 'not_solved', 'no_position' ('' when fitted or not asked)


class _Stages:
    """Times each stage of the pipeline (perf_counter seconds, in order)."""

    def __init__(self):
        self.timings: dict[str, float] = {}
        self._t = _time.perf_counter()

    def done(self, name: str) -> None:
        now = _time.perf_counter()
        self.timings[name] = self.timings.get(name, 0.0) + (now - self._t)
        self._t = now


def _scene_at(meta: PhotoMeta, sat, kp, allow_stale: bool):
    """Return (Scene or None, note): no Scene when the time is unknown or no element set serves it."""
    from ..scene import compute_scene
    from ..timebase import iso_utc

    if meta.time_utc is None:
        return None, ("no capture time, so no station position or view: give the capture time (time=ISO-8601 "
                      "with a zone)")
    try:
        return compute_scene(meta.time_utc, sat=sat, kp=kp, allow_stale=allow_stale), ""
    except (InputError, TimeInputError) as exc:
        if exc.param not in ("allow_stale", "sat", "t"):
            raise
        day = iso_utc(meta.time_utc)[:10]
        return None, (f"no element set near {day}: {exc.detail}; give element sets for that date "
                      "(sat=Satellite.from_file(path))")


EARTH_MASK_KM = 120.0  # the model Earth mask reaches this high: the airglow and aurora band of the limb


def _model_earth(scene, meta: PhotoMeta, solution) -> np.ndarray:
    """Return bool (H, W): where the model puts the Earth and its limb up to :data:`EARTH_MASK_KM`
    with the plate solution's attitude (every 4th pixel, repeated)."""
    from .geolocate import attitude_from_icrs, pixel_latlon

    cam = camera_for(meta, focal_px=float(solution.focal_px))
    att = attitude_from_icrs(solution.rows_icrs, scene.state.instants)
    lat, _ = pixel_latlon(scene.state, cam, att, height_km=EARTH_MASK_KM, step=4, k1=float(solution.k1))
    full = np.repeat(np.repeat(np.isfinite(lat), 4, axis=0), 4, axis=1)
    return full[:meta.height_px, :meta.width_px]


def _parse_look(look):
    if look is None:
        return None
    from ..camera import Look
    from ..inputs import parse_look

    return look if isinstance(look, Look) else parse_look(str(look))


def _centre_latlon(scene, attitude) -> tuple[float, float] | None:
    """Return where the optical axis meets the WGS84 ground, or None (it points at the sky)."""
    from ..frames import geodetic, teme_to_itrs
    from ..view import ray_ellipsoid

    st = scene.state
    r = np.asarray(st.r_teme_km, float).reshape(3)
    d = np.asarray(attitude.forward, float)
    near, far = ray_ellipsoid(r, d)
    if not (np.isfinite(near) and near > 0.0):
        return None
    p_itrs, _ = teme_to_itrs((r + float(near) * d)[None, :], np.zeros((1, 3)), st.instants)
    lat, lon, _h = geodetic(p_itrs)
    return float(np.asarray(lat).reshape(-1)[0]), float(np.asarray(lon).reshape(-1)[0])


def _cities(scene) -> list[tuple[str, float, float]]:
    if scene is None or scene.cities is None:
        return []
    return [(c.name, float(c.lat_deg), float(c.lon_deg)) for c in scene.cities_list]


def legend_lines(a: "Annotation", lang: str) -> list[str]:
    """Return the overlay's legend text: time and body, the caption or why there is none, the pointing."""
    from ..answers.json import annotate_json
    from ..answers.text import annotate_summary

    return annotate_summary(annotate_json(a, lang), lang)


def annotate(path, *, time=None, lens=None, camera=None, clock_offset_s: float = 0.0, look=None, sat=None,
             kp: float | None = None, allow_stale: bool = False, lang: str = "en", overlay=None,
             side_by_side=None, wcs=None, lonlat=None, lonlat_height_km: float = 0.0, fit_clock: bool = True,
             progress=None) -> Annotation:
    """Return the :class:`Annotation` of the photograph at `path`, writing the outputs asked for.

    Args:
        path: the photograph (JPEG, TIFF or PNG; NEF metadata only).
        time, lens, camera, clock_offset_s: what the file lacks or gets wrong
            (:func:`cupola.photo.metadata.read_photo`).
        look: fallback pointing when the stars cannot be solved (Look or text such as
            'horizon:ahead,5'); the answer says when it was used.
        sat, kp, allow_stale: the station's element sets (default the bundled history), the Kp,
            and whether a stale set may answer (:func:`cupola.scene.compute_scene`).
        lang: 'en' or 'fr' for the caption and the overlay's words.
        overlay: write the annotated overlay here (.png/.jpg).
        side_by_side: write the photo beside cupola's render at the solved pointing (.png/.jpg).
        wcs: write the plate solution as a FITS WCS header (.wcs/.fits).
        lonlat: write the per-pixel latitude/longitude (.npz or .tif), on the WGS84 ellipsoid grown
            by `lonlat_height_km` (110 for an aurora map).
        fit_clock: fit the camera clock's offset on the limb when it is in the frame.
        progress: optional callable(stage name) told as each stage starts.

    Raises:
        InputError: a bad path or option (param names it); an output that cannot be made.
    """
    check_lang(lang)
    tell = progress or (lambda _name: None)
    stages = _Stages()
    outs = check_outputs(photo=path, overlay=overlay, side_by_side=side_by_side, wcs=wcs, lonlat=lonlat)
    fallback = _parse_look(look)
    tell("metadata")
    meta = read_photo(path, time=time, lens=lens, camera=camera, clock_offset_s=clock_offset_s)
    if meta.focal_px is None:
        camera_for(meta)  # refuses with the parameter to give (lens or camera)
    stages.done("metadata")
    tell("scene")
    scene, scene_note = _scene_at(meta, sat, kp, allow_stale)
    stages.done("scene")
    if scene is None:
        for name in NEEDS_SCENE:
            if name in outs:
                raise InputError(f"cannot write the {name.replace('_', '-')} output: it needs the station's position "
                                 f"at the photo's time, and there is none ({scene_note})",
                                 param="sat" if meta.time_utc is not None else "time")
    notes = list(meta.notes)
    tell("pixels")
    rgb = load_pixels(meta.path)
    stages.done("pixels")
    from .solve import check_bright_stars, solve_field
    from .stars import detect_stars, frame_stats, sky_mask
    from .tracking import tracking_verdict

    tell("stars")
    stats = frame_stats(rgb)
    mask = sky_mask(rgb, stats=stats)
    stages.done("sky_mask")
    sources = detect_stars(rgb, mask, stats=stats)
    stages.done("detect")
    tell("solve")
    state = scene.state if scene is not None else None
    solution = solve_field(sources, meta.width_px, meta.height_px, meta.focal_px, time_utc=meta.time_utc,
                           state=state)
    stages.done("solve")
    if solution.solved and scene is not None:
        # With the orbit, the model says where the Earth and its limb glow are: leave them out too,
        # and solve again from the first solution (tracking mode) if that took any sky away.
        earth = _model_earth(scene, meta, solution)
        mask2 = sky_mask(rgb, earth_mask=earth, stats=stats)
        if (mask & ~mask2).any():
            sources2 = detect_stars(rgb, mask2, stats=stats)
            again = solve_field(sources2, meta.width_px, meta.height_px, meta.focal_px, time_utc=meta.time_utc,
                                state=state, hint_rows_icrs=solution.rows_icrs)
            if again.solved:
                mask, sources, solution = mask2, sources2, again
                notes.append(f"the sky mask also leaves out the Earth and the limb up to {EARTH_MASK_KM:g} km where "
                             "the first solution puts them; the stars were solved again")
        stages.done("model_mask")
    del stats
    star_check = check_bright_stars(solution, sources, mask, time_utc=meta.time_utc)
    if math.isfinite(solution.database_built_s):
        notes.append(f"built the star-pattern database for this field of view once, in "
                     f"{solution.database_built_s:.1f} s (cached in {solution.database})")
    focal = float(solution.focal_px) if solution.solved else float(meta.focal_px)
    tracking = None
    if solution.solved:
        tracking = tracking_verdict(sources, solution, meta.exposure_s, state=state, focal_px=focal)
    stages.done("tracking")
    tracked = bool(tracking is not None and tracking.verdict == "tracked")
    cam = camera_for(meta, fallback, focal_px=focal, tracked=tracked)
    k1 = float(solution.k1) if solution.solved else 0.0
    attitude = None
    if solution.solved:
        pointing = "stars"
        pointing_note = (f"plate solve of {int(solution.matched_stars)} stars" +
                         ("" if fallback is None else f"; the look {fallback.text!r} was not needed"))
        if scene is not None:
            from .geolocate import attitude_from_icrs

            attitude = attitude_from_icrs(solution.rows_icrs, state.instants)
    elif fallback is not None and scene is not None:
        from ..camera import Attitude

        attitude = Attitude.from_look(fallback, scene, cam.roll_deg)
        pointing = "look"
        pointing_note = (f"no star solution ({solution.reason}): the pointing is the given look {fallback.text!r}, "
                         "not measured")
    else:
        pointing = "none"
        pointing_note = (f"no star solution ({solution.reason})" +
                         ("; a look needs the station's position, which is unknown" if fallback is not None else
                          "; give a fallback pointing (look='horizon:ahead,5', ...)"))
    stages.done("attitude")
    clock, clock_code = None, ""
    if fit_clock and solution.solved and scene is not None:
        tell("clock")
        from .clock import fit_clock_offset

        clock = fit_clock_offset(rgb, scene.sat, meta.time_utc, cam, solution.rows_icrs)
        if clock is None:
            clock_code = "no_limb"
        stages.done("clock")
    elif not solution.solved:
        clock_code = "not_solved"
    elif scene is None:
        clock_code = "no_position"
    clock_note = ANNOTATE_LABELS["en"]["clock_notes"][clock_code] if clock_code else ""
    centre = _centre_latlon(scene, attitude) if attitude is not None else None
    # Every output is made before the first is written.
    missing = [n for n in ("wcs",) if n in outs and not solution.solved]
    missing += [n for n in NEEDS_SCENE if n in outs and attitude is None]
    if missing:
        name = missing[0]
        why = f"no star solution ({solution.reason})" if name == "wcs" or fallback is None else scene_note
        raise InputError(f"cannot write the {name.replace('_', '-')} output: {why}", param="look" if name != "wcs"
                         else "wcs")
    partial = Annotation(meta=meta, scene=scene, scene_note=scene_note, solution=solution, tracking=tracking,
                         pointing=pointing, pointing_note=pointing_note, camera=cam, attitude=attitude, look=fallback,
                         clock=clock, clock_note=clock_note, clock_code=clock_code, centre_latlon=centre, n_sources=int(len(sources.x_px)),
                         k1=k1, notes=tuple(notes), lang=lang, star_check=star_check)
    made: dict = {}
    if "lonlat" in outs:
        tell("lonlat")
        from .geolocate import pixel_latlon

        made["lonlat"] = pixel_latlon(state, cam, attitude, height_km=lonlat_height_km, k1=k1)
        stages.done("lonlat")
    if "overlay" in outs:
        tell("overlay")
        made["overlay"], _drawn = draw_overlay(rgb, solution=solution, camera=cam, attitude=attitude, state=state,
                                               k1=k1, cities=_cities(scene), legend=legend_lines(partial, lang),
                                               lang=lang)
        stages.done("overlay")
    if "side_by_side" in outs:
        tell("render")
        made["side_by_side"] = _side_by_side(rgb, scene, cam, attitude, lang)
        stages.done("render")
    tell("write")
    written = {}
    for name, p in outs.items():
        if name == "wcs":
            written[name] = str(write_wcs(p, solution, meta.width_px, meta.height_px, time_utc=meta.time_utc))
        elif name == "lonlat":
            lat, lon = made["lonlat"]
            written[name] = str(write_latlon(p, lat, lon, height_km=lonlat_height_km,
                                             description={"photo": meta.path, "pointing": pointing}))
        else:
            written[name] = str(write_image(p, made[name]))
    stages.done("write")
    return Annotation(**{**partial.__dict__, "outputs": written, "timings_s": stages.timings})


def _side_by_side(rgb, scene, cam, attitude, lang: str) -> np.ndarray:
    """Return the photo beside cupola's render of the same camera and attitude (preview size)."""
    from ..render import render
    from .outputs import SIDE_MAX_PX, preview

    small, s = preview(rgb, SIDE_MAX_PX)
    h, w = small.shape[:2]
    view = cam.replace(width_px=int(w), height_px=int(h), fov_deg=cam.fov_h_deg)
    frame = render(scene, view, attitude=attitude, force=True)
    words = {"en": ("photograph", "cupola at the solved pointing"), "fr": ("photographie", "cupola au pointage résolu")}
    return draw_side_by_side(small, frame.rgb, labels=words.get(lang, words["en"]))


__all__ = ["Annotation", "annotate", "legend_lines", "AIRGLOW_KM", "AURORA_KM"]

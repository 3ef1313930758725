"""The main job on the bundled defaults: the two seed stories, answered with `cupola where`."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .answers import check_lang, where_json, where_text
from .constants import CIVIL_DARK_SUN_ELEV_DEG
from .errors import InputError
from .geo.caption import FAR_KM, OFF_COAST_KM
from .geo.places import locate
from .lighting import sun_elevation_deg
from .orbit import Satellite
from .scene import compute_scene
from .search import Predicate, windows
from .timebase import iso_utc

# Seed 1: "258 miles above the Pacific Ocean northeast of Papua New Guinea" (posted 2024-02,
# bundled sets 2024-01-18..23). Seed 2: Thomas Pesquet's aurora at orbital sunrise while
# Crew-1 re-entered, 2021-05-02 06:30-06:56 UTC.
SEED1_SPAN = ("2024-01-18T00:00:00Z", "2024-01-24T00:00:00Z")
SEED2_SPAN = ("2021-05-02T06:30:00Z", "2021-05-02T06:56:00Z")


def night_northeast_of_png(sat: Satellite) -> Predicate:
    """Return a predicate: the ISS over the sea north-east of Papua New Guinea (as the caption
    would say it), in the Earth's shadow, with the ground below dark."""

    def pred(t):
        st = sat.at(t)
        elev = sun_elevation_deg(st.lat_deg, st.lon_deg, st.sun_teme_km, st.instants)
        pl = locate(st.lat_deg, st.lon_deg)
        # What the caption would phrase as "..., northeast of Papua New Guinea".
        where_ok = (~pl.over_land & (pl.near_land == "Papua New Guinea") & (pl.near_bearing == "NE")
                    & (pl.near_distance_km > OFF_COAST_KM) & (pl.near_distance_km < FAR_KM))
        return where_ok & ~st.sunlit & (elev < CIVIL_DARK_SUN_ELEV_DEG)

    # The ISS crosses that sea in a few minutes: a 20 s step cannot skip a pass.
    return Predicate(pred, 20.0, "ISS at night north-east of Papua New Guinea")


# The seed gallery: camera settings after the NASA captions (design note section 8).
SEED1_CAMERA = dict(model="Z9", focal_mm=24.0, look="horizon:ahead,6", exposure_s=10.0, iso=6400.0,
                    f_number=1.4, tracked=True)
SEED2_TIME = "2021-05-02T06:56:00Z"
SEED2_CAMERA = dict(model="D5", focal_mm=14.0, look="horizon:345,4", exposure_s=1.0, iso=12800.0,
                    f_number=1.4, tracked=False)

# An instant of seed 1's night passes (README, `cupola render`): airglow over the Pacific north-east
# of Papua New Guinea.
SEED1_TIME = "2024-01-19T16:02:54Z"


def _preset_camera(cam: dict) -> dict:
    """Return a seed camera in the web's request terms (camera, lens, look, exposure, iso, fnumber, tracked)."""
    return {"camera": cam["model"], "lens": cam["focal_mm"], "look": cam["look"], "exposure": f"{cam['exposure_s']:g}",
            "iso": cam["iso"], "fnumber": cam["f_number"], "tracked": cam["tracked"]}


# The seed stories as presets of the web page (titles in English and French).
PRESETS = (
    {"id": "seed1", "t": SEED1_TIME, "camera": _preset_camera(SEED1_CAMERA),
     "title": {"en": "Airglow over the Pacific, Jan 2024", "fr": "Lueur atmosphérique sur le Pacifique, janv. 2024"}},
    {"id": "seed2", "t": SEED2_TIME, "camera": _preset_camera(SEED2_CAMERA),
     "title": {"en": "Aurora at sunrise, 2 May 2021", "fr": "Aurore au lever du Soleil, 2 mai 2021"}},
)

# Seed 2 as a crew timelapse (Thomas Pesquet's 2017 one: "from an intense aurora to a glowing
# sunrise"): the same camera fixed to the station, from the aurora over Quebec growing as the
# station comes up the US east coast, to the sunlit ground and limb of the 06:57:35 orbital
# sunrise. It stops at 06:57:24, before the Sun's disc reaches the limb (06:57:26 with its
# penumbra): at this night exposure its glare saturates out to the 30 deg where the renderer's
# halo ends, a hard-edged white disc over a third of the frame.
SEED2_TIMELAPSE = dict(start="2021-05-02T06:52:00Z", end="2021-05-02T06:57:24Z", step_s=2.0, fps=25.0,
                       size=(960, 540))


def seed_cameras(size=(1920, 1080)):
    """Return the two gallery cameras (seed 1 airglow, seed 2 aurora at sunrise)."""
    from .camera import Camera
    from .inputs import parse_look

    def cam(spec):
        kw = dict(spec)
        kw["look"] = parse_look(kw["look"])
        return Camera(width_px=size[0], height_px=size[1], **kw)

    return cam(SEED1_CAMERA), cam(SEED2_CAMERA)


def gallery_folder(folder) -> Path:
    """Return the gallery folder `folder`, created if needed; refuse a file or an unwritable one."""
    folder = Path(folder)
    try:
        if folder.exists() and not folder.is_dir():
            raise InputError(f"the gallery folder {str(folder)!r} is a file; name a folder (it is created if needed)",
                             param="out")
        folder.mkdir(parents=True, exist_ok=True)
    except InputError:
        raise
    except ValueError:  # a NUL character, which no path holds
        raise InputError(f"the gallery folder {str(folder)!r} cannot be a folder's name (it holds a NUL "
                         "character); name a folder such as 'out'", param="out") from None
    except OSError as exc:  # a name too long, a file on the way, no permission
        raise InputError(f"cannot create the gallery folder {str(folder)!r}: {exc.strerror}", param="out") from None
    if not os.access(folder, os.W_OK):
        raise InputError(f"the gallery folder {str(folder)!r} is not writable; name another", param="out")
    return folder


def render_gallery(folder, t_seed1, sat: Satellite, lang: str = "en", size=(1920, 1080), log=None):
    """Render the two seed scenes into `folder`; return the written paths."""
    from .render import render
    from .render.output import save_frame

    folder = gallery_folder(folder)
    cam1, cam2 = seed_cameras(size)
    paths = []
    for name, t, cam in (("seed1_airglow.png", t_seed1, cam1), ("seed2_aurora_sunrise.png", SEED2_TIME, cam2)):
        frame = render(compute_scene(t, camera=cam, sat=sat), cam)
        paths.append(save_frame(frame, folder / name, caption=True, lang=lang))
        if log:
            print(f"  wrote {paths[-1]} ({sum(frame.timings_s.values()):.2f} s)", file=log)
    paths.append(render_seed2_timelapse(folder / "seed2_timelapse.mp4", sat, lang, log=log))
    return paths


def render_seed2_timelapse(path, sat: Satellite, lang: str = "en", log=None, settings=None, **override):
    """Render seed 2's timelapse (:data:`SEED2_TIMELAPSE`, any of its keys overridden) to `path`
    (.mp4, .gif or PNG frames) with `settings` (default: the renderer's); return the path."""
    from .video import timelapse

    spec = {**SEED2_TIMELAPSE, **override}
    _, cam = seed_cameras(spec["size"])
    r = timelapse(spec["start"], spec["end"], spec["step_s"], cam, path, fps=spec["fps"], sat=sat, caption=True,
                  lang=lang, settings=settings)
    if log:
        print(f"  wrote {r.path} ({r.frames} frames, a {r.duration_s:.1f} s clip at {r.fps:g} frames/s, "
              f"{r.total_s:.1f} s)", file=log)
    return r.path


def run_demo(lang: str = "en", out=None, images: str | None = "out", hints: dict | None = None) -> int:
    """Answer both seed stories (and render their gallery into `images`), printing to `out`;
    `hints` are the front end's additions to warnings (see :func:`cupola.answers.where_text`)."""
    import sys

    out = out or sys.stdout
    check_lang(lang)  # before the searches, not at the first answer

    def answer(t):
        return where_text(where_json(compute_scene(t, sat=sat), lang), lang, hints)

    if images:
        gallery_folder(images)  # checked before the searching and answering, not after
    sat = Satellite.from_archive()
    print("== Seed 1: airglow over the Pacific north-east of Papua New Guinea (January 2024) ==", file=out)
    found = windows(night_northeast_of_png(sat), *SEED1_SPAN, tol_s=1.0)
    print(f"{len(found)} night passes over that sea between {SEED1_SPAN[0]} and {SEED1_SPAN[1]}:", file=out)
    for a, b in found:
        print(f"  {iso_utc(a)} .. {iso_utc(b)}", file=out)
    if found:
        a, b = found[0]
        mid = a + (b - a) // 2
        mid = mid.astype("datetime64[s]").astype("datetime64[ns]")
        print(answer(mid), file=out)
    print(file=out)
    print("== Seed 2: aurora and orbital sunrise as Crew-1 re-entered (2021-05-02) ==", file=out)
    t0 = np.datetime64(SEED2_SPAN[0][:-1], "ns")
    for minute in range(0, 27, 13):
        t = t0 + np.timedelta64(minute * 60, "s")
        print(answer(t), file=out)
    if images and found:
        print(file=out)
        print(f"== Seed gallery: rendering both scenes and seed 2's timelapse into {images}/ ==", file=out)
        render_gallery(images, mid, sat, lang, log=out)
    return 0

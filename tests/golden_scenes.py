"""The fixed scenes of the golden-image tests (shared with tools/build_golden.py)."""

from __future__ import annotations

from cupola.camera import Camera
from cupola.inputs import parse_look
from cupola.render import render
from cupola.scene import compute_scene

SIZE = (320, 180)
GOLDEN = {
    # Seed 1: airglow and stars over the Pacific north-east of Papua New Guinea, tracked 10 s.
    "seed1_airglow": ("2024-01-19T16:02:54Z", dict(model="Z9", focal_mm=24.0, look="horizon:ahead,6",
                                                 exposure_s=10.0, iso=6400.0, f_number=1.4, tracked=True)),
    # Seed 2: aurora to the north just before orbital sunrise off New York, 1 s untracked.
    "seed2_aurora": ("2021-05-02T06:56:00Z", dict(model="D5", focal_mm=14.0, look="horizon:345,4",
                                                exposure_s=1.0, iso=12800.0, f_number=1.4)),
    # Daylight straight down over Burgundy, France, a normal daylight exposure.
    "day_france_nadir": ("2021-05-02T07:10:00Z", dict(model="D5", focal_mm=24.0, look="nadir",
                                                    exposure_s=1 / 320, iso=100.0, f_number=8.0)),
}


def golden_camera(name: str) -> Camera:
    kw = dict(GOLDEN[name][1])
    kw["look"] = parse_look(kw["look"])
    return Camera(width_px=SIZE[0], height_px=SIZE[1], **kw)


def render_golden(name: str):
    """Return the uint8 RGB frame of golden scene `name`."""
    cam = golden_camera(name)
    return render(compute_scene(GOLDEN[name][0], camera=cam), cam).rgb

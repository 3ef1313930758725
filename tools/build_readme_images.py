"""Rebuild the pictures in README.md (docs/img/*.jpg) from cupola's own renders.

    .venv/bin/python tools/build_readme_images.py
"""

from __future__ import annotations

from pathlib import Path

from cupola.camera import Camera
from cupola.inputs import parse_look
from cupola.demo import seed_cameras
from cupola.render import render
from cupola.render.output import save_frame
from cupola.scene import compute_scene

OUT = Path(__file__).resolve().parents[1] / "docs" / "img"
SEED1_T = "2024-01-19T16:02:54Z"  # found by `cupola demo`: night, north-east of Papua New Guinea


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    cam1, cam2 = seed_cameras((1280, 720))
    shots = [
        ("seed1_airglow.jpg", SEED1_T, cam1),
        ("seed1_airglow_untracked.jpg", SEED1_T, cam1.replace(tracked=False)),
        ("seed2_aurora_sunrise.jpg", "2021-05-02T06:56:00Z", cam2),
        ("day_alps_italy.jpg", "2021-05-02T07:10:00Z",
         Camera(model="D5", focal_mm=14.0, width_px=1280, height_px=720, look=parse_look("horizon:ahead"),
                exposure_s=1 / 320, iso=100.0, f_number=8.0)),
    ]
    for name, t, cam in shots:
        frame = render(compute_scene(t, camera=cam), cam)
        path = save_frame(frame, OUT / name, caption=True)
        print(f"wrote {path} ({path.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()

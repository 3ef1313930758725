"""Rebuild the pictures in README.md (docs/img/*.jpg) from cupola's own renders.

    .venv/bin/python tools/build_readme_images.py [--photo ISS030-E-130515.jpg]

With ``--photo`` (the NASA crew photograph ISS030-E-130515, public domain, credit NASA JSC) it
also writes ``docs/img/photo_vs_cupola.jpg``: the photograph beside a cupola frame of the same
kind of scene (moonlit clouds at night, 24 mm, 1/2 s, ISO 3200, f/1.4; the bundled element sets
do not reach 2012, so not the photograph's own instant).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cupola.camera import Camera
from cupola.inputs import parse_look
from cupola.demo import seed_cameras
from cupola.render import RenderSettings, render
from cupola.render.output import save_frame
from cupola.scene import compute_scene

OUT = Path(__file__).resolve().parents[1] / "docs" / "img"
SEED1_T = "2024-01-19T16:02:54Z"  # found by `cupola demo`: night, north-east of Papua New Guinea
FRANCE_T = "2021-05-02T02:18:00Z"  # the station over the Pyrenees' Mediterranean end, France to the north
MOONLIT_T = "2024-01-21T07:59:00Z"  # over the North Pacific (47 N 149 W), the Moon 61 deg up, 81 % lit


def side_by_side(photo: Path, frame_path: Path, out: Path, height: int = 480) -> Path:
    """Write the photograph and the cupola frame side by side, each `height` px tall."""
    from PIL import Image

    with Image.open(photo) as a, Image.open(frame_path) as b:
        a = a.convert("RGB").resize((round(a.width * height / a.height), height), Image.LANCZOS)
        b = b.convert("RGB").resize((round(b.width * height / b.height), height), Image.LANCZOS)
        both = Image.new("RGB", (a.width + b.width + 8, height), (255, 255, 255))
        both.paste(a, (0, 0))
        both.paste(b, (a.width + 8, 0))
        both.save(out, quality=88)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photo", type=Path, help="ISS030-E-130515.jpg, for the side-by-side picture")
    ap.add_argument("--only", metavar="NAME", help="rebuild only this picture, e.g. sunrise_spikes.jpg")
    args = ap.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    cam1, cam2 = seed_cameras((1280, 720))
    shots = [
        ("seed1_airglow.jpg", SEED1_T, cam1),
        ("seed1_airglow_untracked.jpg", SEED1_T, cam1.replace(tracked=False)),
        ("seed2_aurora_sunrise.jpg", "2021-05-02T06:56:00Z", cam2),
        ("day_alps_italy.jpg", "2021-05-02T07:10:00Z",
         Camera(model="D5", focal_mm=14.0, width_px=1280, height_px=720, look=parse_look("horizon:ahead"),
                exposure_s=1 / 320, iso=100.0, f_number=8.0)),
        ("france_night.jpg", FRANCE_T,
         Camera(model="D5", focal_mm=14.0, width_px=1280, height_px=720, look=parse_look("target:47.0,2.3"),
                exposure_s=1 / 30, iso=6400.0, f_number=1.4)),
        ("moonlit_clouds.jpg", MOONLIT_T,
         Camera(model="FF", focal_mm=24.0, width_px=1080, height_px=720, look=parse_look("horizon:0,-6"),
                exposure_s=1 / 2, iso=3200.0, f_number=1.4)),
        # The Sun just risen over the limb through a lens stopped down to f/16: 9 blades, 18 spikes.
        ("sunrise_spikes.jpg", "2021-05-02T06:58:10Z",
         Camera(model="D5", focal_mm=24.0, width_px=1280, height_px=720, look=parse_look("sky:sun"),
                exposure_s=1 / 2000, iso=200.0, f_number=16.0), RenderSettings(aperture_blades=9)),
    ]
    for name, t, cam, *settings in shots:
        if args.only and name != args.only:
            continue
        frame = render(compute_scene(t, camera=cam), cam, *settings)
        path = save_frame(frame, OUT / name, caption=True)
        print(f"wrote {path} ({path.stat().st_size / 1e3:.0f} kB)")
    if args.photo is not None:
        path = side_by_side(args.photo, OUT / "moonlit_clouds.jpg", OUT / "photo_vs_cupola.jpg")
        print(f"wrote {path} ({path.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()

"""Rebuild docs/img/lens_before_after.jpg: three scenes rendered without and with the lens model.

    # the panels of the renderer before the lens (a checkout of that commit on PYTHONPATH) and of this one:
    PYTHONPATH=OLD/src .venv/bin/python tools/build_readme_lens.py --panels /tmp/lens/before
    .venv/bin/python tools/build_readme_lens.py --panels /tmp/lens/after
    .venv/bin/python tools/build_readme_lens.py --compose /tmp/lens/before /tmp/lens/after

The scenes (1920x1080 frames; the first two cropped at full resolution, the third whole):
* Venus (V -4.0) among the stars, seed 1's instant, Z 9 50 mm f/1.2, 10 s, ISO 6400, tracked;
* the night lights of France, 14 mm f/1.4, 1/8 s, ISO 6400 (the README's France frame, 2 stops longer): saturated;
* the Sun 10 deg outside the edge of a 24 mm frame at a twilight setting, 1/60 s, ISO 3200, f/2.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "docs" / "img" / "lens_before_after.jpg"
SEED1_T = "2024-01-19T16:02:54Z"
FRANCE_T = "2021-05-02T02:18:00Z"
DAY_T = "2021-05-02T12:00:00Z"
PANEL = (640, 360)
CITY_CROP = (760, 220, 760 + PANEL[0], 220 + PANEL[1])  # the lights of the Channel and the Benelux, the limb
NAMES = ("planet", "city", "sun")
TITLES = ("Venus and stars: 50 mm f/1.2, 10 s", "City lights: 14 mm f/1.4, 1/8 s",
          "The Sun 10 deg off the frame: 24 mm f/2, 1/60 s")


def _sun_look(scene, vfov_deg: float, outside_deg: float):
    """A sky Look whose frame top edge is `outside_deg` below the Sun (camera rolled 0 in sky mode)."""
    from cupola.camera import Look
    from cupola.sky.stars import icrs_to_teme

    s = icrs_to_teme(scene.state.instants).T @ np.asarray(scene.body("Sun").dir_teme, float).reshape(3)
    ra, dec = math.degrees(math.atan2(s[1], s[0])), math.degrees(math.asin(s[2]))
    off = 0.5 * vfov_deg + outside_deg
    return Look("sky", ra_deg=ra % 360.0, dec_deg=dec - off if dec - off > -89 else dec + off)


def panels(folder: Path) -> None:
    from PIL import Image

    from cupola.camera import Camera
    from cupola.inputs import parse_look
    from cupola.render import render
    from cupola.scene import compute_scene

    folder.mkdir(parents=True, exist_ok=True)
    venus = Camera(model="Z9", focal_mm=50.0, look=parse_look("sky:venus"), exposure_s=10.0, iso=6400.0,
                   f_number=1.2, tracked=True)
    france = Camera(model="D5", focal_mm=14.0, look=parse_look("target:47.0,2.3"), exposure_s=1 / 8, iso=6400.0,
                    f_number=1.4)
    day = compute_scene(DAY_T)
    sun_cam = Camera(model="D5", focal_mm=24.0, exposure_s=1 / 60, iso=3200.0, f_number=2.0)
    sun_cam = sun_cam.replace(look=_sun_look(day, sun_cam.fov_v_deg, 10.0))
    for name, t, cam in (("planet", SEED1_T, venus), ("city", FRANCE_T, france), ("sun", DAY_T, sun_cam)):
        frame = render(compute_scene(t, camera=cam), cam, force=True)
        img = Image.fromarray(frame.rgb)
        if name == "planet":  # Venus at the centre
            img = img.crop((960 - 320, 540 - 180, 960 + 320, 540 + 180))
        elif name == "city":  # the brightest part of the lights
            img = img.crop(CITY_CROP)
        else:
            img = img.resize(PANEL, Image.LANCZOS)
        img.save(folder / f"{name}.png")
        print(f"wrote {folder / name}.png")


def compose(before: Path, after: Path, out: Path = OUT) -> None:
    from PIL import Image, ImageDraw

    pad, label = 6, 22
    w, h = PANEL
    sheet = Image.new("RGB", (3 * w + 2 * pad, 2 * (h + label) + pad), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for row, (folder, what) in enumerate(((before, "before"), (after, "with the lens"))):
        y = row * (h + label + pad)
        for col, (name, title) in enumerate(zip(NAMES, TITLES)):
            x = col * (w + pad)
            with Image.open(folder / f"{name}.png") as im:
                sheet.paste(im.convert("RGB"), (x, y + label))
            draw.text((x + 4, y + 4), f"{title} ({what})", fill=(0, 0, 0))
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, quality=90)
    print(f"wrote {out} ({out.stat().st_size / 1e3:.0f} kB)")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--panels", type=Path, help="render the three panels into this folder")
    ap.add_argument("--compose", type=Path, nargs=2, metavar=("BEFORE", "AFTER"), help="write the picture")
    args = ap.parse_args(argv)
    if args.panels:
        panels(args.panels)
    if args.compose:
        compose(*args.compose)


if __name__ == "__main__":
    main()

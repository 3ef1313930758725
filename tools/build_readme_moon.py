"""Make the README's picture of the Moon's face and of the Moon and Sun through the limb.

    .venv/bin/python tools/build_readme_moon.py            # writes docs/img/moon_sun_limb.jpg

Panels (each a real instant of the bundled element sets, the camera aimed at where the body appears):
the Moon high above the limb at four phases (2021-05-01 and 05-03, waning; 2024-01-21 and 01-23, waxing;
1200 mm); the Moon setting behind the
night limb (2024-01-21, 800 mm, four instants 8 s apart); the Sun rising over the limb at an orbital
sunrise (2021-05-02 13:09 UTC, 800 mm, four instants over 35 s, exposed as through a solar filter). Each panel is labelled with its time and
the tangent height of the disc's centre.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from cupola.camera import Camera, Look  # noqa: E402
from cupola.render import render  # noqa: E402
from cupola.scene import compute_scene  # noqa: E402

OUT = ROOT / "docs" / "img" / "moon_sun_limb.jpg"
SIZE = 420
FONT = ROOT / "src" / "cupola" / "data" / "fonts" / "DejaVuSans.ttf"


def _look_at_apparent(sc, body: str) -> tuple[Look, float]:
    b = sc.body(body)
    ref = sc.refract(np.asarray(b.dir_teme, float).reshape(1, 3))
    d = ref.dir_teme[0] if np.isfinite(ref.tangent_km[0]) else np.asarray(b.dir_teme, float).reshape(3)
    icrs = np.asarray(sc.icrs_to_teme, float).T @ d
    ra, dec = math.degrees(math.atan2(icrs[1], icrs[0])) % 360.0, math.degrees(math.asin(icrs[2]))
    return Look("sky", ra_deg=ra, dec_deg=dec, name=body), float(ref.tangent_km[0])


def panel(t: str, body: str, focal_mm: float, exposure_s: float, iso: int, f_number: float = 8.0):
    sc = compute_scene(t)
    look, h = _look_at_apparent(sc, body)
    # Roll so that the local vertical is up: the horizon look's roll convention is the camera's own; the
    # sky look keeps its default, and the station's "up" is drawn by the limb itself.
    cam = Camera(focal_mm=focal_mm, look=look, exposure_s=exposure_s, iso=iso, f_number=f_number, width_px=SIZE,
                 height_px=SIZE)
    frame = render(compute_scene(t, camera=cam), cam, force=True)
    lit = f", {float(sc.body('Moon').illuminated_fraction):.0%} lit" if body == "moon" else ""
    label = f"{t[:10]} {t[11:19]} UTC{lit}" + (f", centre at {h:.0f} km" if np.isfinite(h) and h < 100 else "")
    return Image.fromarray(frame.rgb), label


def main() -> int:
    rows = [
        [("2021-05-01T00:10:00Z", "moon", 1200.0, 1 / 500, 100), ("2021-05-03T01:11:00Z", "moon", 1200.0, 1 / 500, 100),
         ("2024-01-21T00:30:00Z", "moon", 1200.0, 1 / 500, 100), ("2024-01-23T00:04:00Z", "moon", 1200.0, 1 / 500, 100)],
        [(f"2024-01-21T00:38:{s:02d}Z", "moon", 800.0, 1 / 500, 100) for s in (36, 44, 52, 60 - 0)],
        # 2 us at f/32: what a solar filter of ~ND 3 leaves of a 1/500 s exposure, so the disc is not clipped.
        [(f"2021-05-02T13:09:{s:02d}Z", "sun", 800.0, 2e-6, 64, 32.0) for s in (10, 20, 30, 45)],
    ]
    rows[1][-1] = ("2024-01-21T00:39:00Z", "moon", 800.0, 1 / 500, 100)
    font = ImageFont.truetype(str(FONT), 15)
    cols = max(len(r) for r in rows)
    sheet = Image.new("RGB", (cols * SIZE, len(rows) * SIZE), "black")
    for r, row in enumerate(rows):
        for c, args in enumerate(row):
            img, label = panel(*args)
            ImageDraw.Draw(img).text((8, SIZE - 24), label, fill=(230, 230, 230), font=font)
            sheet.paste(img, (c * SIZE, r * SIZE))
            print(label, flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(OUT, quality=88)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

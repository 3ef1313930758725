"""Rebuild the timelapse picture in README.md (docs/img/seed2_timelapse.gif) with cupola itself:
seed 2's timelapse (cupola.demo.SEED2_TIMELAPSE) at 512x288, one frame every 6 s, 8 frames/s.

    .venv/bin/python tools/build_readme_gif.py
"""

from __future__ import annotations

from pathlib import Path

from cupola.demo import render_seed2_timelapse
from cupola.orbit import Satellite
from cupola.render import RenderSettings

OUT = Path(__file__).resolve().parents[1] / "docs" / "img" / "seed2_timelapse.gif"
GIF = dict(size=(512, 288), step_s=6.0, fps=8.0)  # ~3.8 MB with the raster lights and clouds, without grain


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    # Without the sensor's grain: a GIF's palette frames cannot compress noise that changes every frame
    # (9 MB with it); the MP4s and stills keep it.
    path = render_seed2_timelapse(OUT, Satellite.from_archive(), settings=RenderSettings(noise=False), **GIF)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()

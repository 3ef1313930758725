"""Rebuild the `cupola annotate` pictures in README.md: the overlay of the shared real photograph
(docs/img/annotate_real.jpg) and of a synthetic night photo made by tests/photo_synth.py
(docs/img/annotate_synth.jpg), each scaled down to stay under 300 kB.

    PYTHONPATH=src .venv/bin/python tools/build_readme_annotate.py [--photo PATH]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from cupola.photo.annotate import annotate  # noqa: E402

OUT = ROOT / "docs" / "img"
PHOTO = Path("/work/shared/data/photos/ISS030-E-130515.jpg")


def _save_small(src: Path, dst: Path, width: int) -> None:
    with Image.open(src) as im:
        im = im.convert("RGB")
        im = im.resize((width, round(im.size[1] * width / im.size[0])), Image.LANCZOS)
        im.save(dst, quality=82, optimize=True)
    print(f"wrote {dst} ({dst.stat().st_size / 1e3:.0f} kB)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photo", default=str(PHOTO), help="the ISS030-E-130515 JPEG")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        annotate(args.photo, overlay=tmp / "real.png")
        _save_small(tmp / "real.png", OUT / "annotate_real.jpg", 1200)
        from photo_synth import synth_photo

        # Looking 2 deg below the horizon ahead at the seed 1 instant: Earth, limb, structure, an
        # untracked 2 s exposure, a camera clock 13 s fast (the README's synthetic example).
        sp = synth_photo(tmp / "synth_ov.jpg", look="horizon:ahead,-2", structure=True, clock_offset_s=13.0,
                         tracked=False, exposure_s=2.0)
        annotate(sp.path, overlay=tmp / "synth.png")
        _save_small(tmp / "synth.png", OUT / "annotate_synth.jpg", 1000)


if __name__ == "__main__":
    main()

"""Rebuild the golden images of tests/test_render.py (small renders and their perceptual hashes).

Run this only after a deliberate change to how frames look, then look at the PNGs in
tests/golden/ before committing them:

    .venv/bin/python tools/build_golden.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from golden_scenes import GOLDEN, render_golden  # noqa: E402

from cupola.render.phash import dhash  # noqa: E402


def main() -> None:
    from PIL import Image

    out = ROOT / "tests" / "golden"
    out.mkdir(exist_ok=True)
    hashes = {}
    for name in GOLDEN:
        rgb = render_golden(name)
        Image.fromarray(rgb).save(out / f"{name}.png")
        hashes[name] = dhash(rgb)
        print(f"{name}: {hashes[name]}")
    (out / "hashes.json").write_text(json.dumps(hashes, indent=1) + "\n")


if __name__ == "__main__":
    main()

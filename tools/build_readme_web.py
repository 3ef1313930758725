"""Make the README's screenshot of the web page, docs/img/web_page.png (<= 300 kB).

    python tools/build_readme_web.py

Runs the browser test that opens seed 2's preset in headless Chromium (it saves
test-artifacts/web_seed2.png, 1366x900), then writes that screenshot as a 256-colour PNG.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SHOT = ROOT / "test-artifacts" / "web_seed2.png"
OUT = ROOT / "docs" / "img" / "web_page.png"


def main() -> None:
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_web_browser.py",
                    "-k", "seed_preset"], cwd=ROOT, check=True)
    img = Image.open(SHOT).convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.FLOYDSTEINBERG)
    img.save(OUT, optimize=True)
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()

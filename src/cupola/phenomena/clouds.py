"""Clouds: a fair-weather cloud opacity map, for the renderer's cloud layer.

The bundled ``clouds.png`` (built by ``tools/build_clouds.py``; ``tools/build_night_lights.py``'s docstring gives the
source and licence: Tom Patterson's Natural Earth III "fair weather clouds", from NASA Blue
Marble cloud imagery, as shipped by the npm package ``three-globe@2.45.2``) is an 8-bit
equirectangular opacity map, 0 clear .. 255 opaque, stored at 64 levels (6 bits), ~9.8 km texels
(row 0 at 90 N, column 0 at 180 W). The fair-weather texture alone covers ~11 % of the globe, far
below the ~67 % of the real cloud cover (it leaves out the overcast), so ``tools/build_clouds.py``
adds a synthetic cover (a seeded fractal field on the sphere, clustered where the texture's
systems are) until each latitude's mean opacity equals :data:`ZONAL_CLOUD_FRACTION`. It is a
climatology-like snapshot, not the weather of any instant: the same clouds every day. No heights
are in the map: the renderer puts every cloud top at one height (``RenderSettings.cloud_top_km``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..bundled import load
from ..raster import bilinear


# Annual-mean total cloud fraction by latitude (deg, fraction), north to south: rounded zonal means
# of the satellite climatologies (MODIS Collection 5/6 and CALIPSO-CloudSat: King et al. 2013,
# IEEE Trans. Geosci. Remote Sens. 51, 3826; Stubenrauch et al. 2013, Bull. Amer. Meteor. Soc. 94,
# 1031, their zonal-mean figures, read to ~0.05): storm tracks near 60 N and 60 S (the Southern
# Ocean the cloudiest, ~0.9), the ITCZ near 5 N, clearer subtropics (~0.5) and the Antarctic
# plateau. Area-weighted, the table gives 0.67, the global cover those climatologies report.
ZONAL_CLOUD_FRACTION = (
    (90.0, 0.68), (80.0, 0.72), (70.0, 0.78), (60.0, 0.80), (50.0, 0.76), (40.0, 0.66), (30.0, 0.54),
    (20.0, 0.52), (10.0, 0.65), (5.0, 0.72), (0.0, 0.68), (-10.0, 0.60), (-20.0, 0.55), (-30.0, 0.60),
    (-40.0, 0.74), (-50.0, 0.85), (-60.0, 0.90), (-70.0, 0.80), (-80.0, 0.55), (-90.0, 0.50),
)
GLOBAL_CLOUD_FRACTION = 0.67  # the same climatologies' global annual mean

MAX_OPACITY = 1.0 - 1.0 / 512.0  # code 255 (the optical depth stays finite: ln 512 = 6.2)


@dataclass(frozen=True, eq=False)
class Clouds:
    """The cloud opacity map: ``opacity`` uint8 (H, W), 0 clear .. 255 opaque (module docstring).

    Between texel centres the map is interpolated in optical depth tau = -ln(1 - alpha)
    (bilinear), not in opacity: a cloud's thickness varies smoothly, and a slant path through it
    then has the opacity 1 - exp(-tau / mu) with no further logarithm.
    """

    opacity: np.ndarray

    @property
    def tau_lut(self) -> np.ndarray:
        """Return float64 (256,): the optical depth of each opacity code."""
        return -np.log1p(-np.minimum(np.arange(256) / 255.0, MAX_OPACITY))

    def opacity_at(self, lat_deg, lon_deg) -> np.ndarray:
        """Return the cloud opacity (0..1) at geodetic lat/lon (deg), bilinear in optical depth."""
        return 1.0 - np.exp(-bilinear(self.tau_lut[self.opacity], lat_deg, lon_deg))


@lru_cache(maxsize=1)
def clouds() -> Clouds:
    """Return the bundled :class:`Clouds` (loaded once)."""
    from PIL import Image

    def parse(raw: bytes) -> Clouds:
        with Image.open(io.BytesIO(raw)) as im:
            return Clouds(np.ascontiguousarray(np.asarray(im.convert("L"), dtype=np.uint8)))

    return load("clouds.png", "cloud texture", parse, "python tools/build_clouds.py")


__all__ = ["Clouds", "clouds", "ZONAL_CLOUD_FRACTION", "GLOBAL_CLOUD_FRACTION"]

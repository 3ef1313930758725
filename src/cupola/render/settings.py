"""The renderer's settings: which layers to draw and every calibration constant, in one frozen value.

A renderer reads only three things: the Scene, the Camera (with its Attitude) and these settings.
The defaults are cupola's calibration; each is documented where it is used:

* ``psf_sigma_px``, ``psf_radius_sigma``: the point-spread function of stars and planets
  (a Gaussian normalised over its window, ``render.points``).
* ``sun_glare_*``: the power-law halo around the Sun, 1e-4 x the disc luminance x
  (theta / theta_sun)**-2.5 out to 30 deg (the form of camera veiling-glare PSFs, e.g. the CIE
  146:2002 glare spread function falls as theta**-2 to -3).
* ``earthshine_cd_m2``: the Moon's night side at new Moon (~1e-4 of full).
* ``lights_max_taps``: most raster taps along one pixel's exposure smear (``render.lights``).
* ``clouds``: draw the cloud map (``render.earth``) and dim the lights under it (``render.lights``).
* ``cloud_albedo``: broadband reflectance of an opaque cloud, 0.7 (thick water clouds reflect
  0.6-0.8 of visible light, e.g. Liou 2002, An Introduction to Atmospheric Radiation, ch. 6;
  fair-weather cumulus fields seen from space are at the lower end).
* ``cloud_top_km``: one height for every cloud top, 6 km (between low cumulus at 1-3 km and the
  tops of frontal and convective clouds at 8-12 km); it sets the clouds' parallax over the
  ground and lets them stand above the limb as a silhouette.
* ``cloud_light_block``: the fraction of a city's light an opaque cloud takes out of the
  direct view, 0.8 (the rest leaves the cloud top as a diffuse glow, here kept at the light).
* ``aurora_kr_per_nt``, ``aurora_kr_range``: the 557.7 nm column of the discrete oval against
  activity, 1 kR per 30 nT of |AL| within 0.5-50 kR (IBC scale: I ~ 1 kR, II ~ 10 kR, III ~ 100 kR;
  Chamberlain 1961, Table 4.2), so Kp 0 ~ 0.6 kR, Kp 3 ~ 5.7 kR, Kp 5 ~ 13 kR. Statistical.
* ``aurora_max_rays``, ``aurora_coarse``, ``aurora_nodes``: how finely the aurora is traced
  (rays per frame, coarse pre-pass spacing, Gauss-Legendre nodes per ray branch).
* ``noise``, ``full_well_e``, ``read_noise_e``, ``hot_pixel_fraction``, ``hot_pixel_e_per_s``,
  ``noise_seed``, ``sensor_seed``: the sensor (``render.response``): ~60,000 e- full well at ISO
  100 and ~3 e- read noise (full-frame Nikons of the crews', photonstophotos.net), 2 hot pixels in
  100,000 at a mean 200 e-/s (an uncooled sensor in a warm cabin); the frame's noise is seeded by
  its instant and ``noise_seed``, the hot pixels by ``sensor_seed`` (one camera body).
* ``limb_ozone_aerosol``: the sunlit limb and the twilit ground's path radiance from the bundled
  table of Rayleigh scattering, ozone (Chappuis) absorption and aerosol (``render.earth``,
  ``phenomena.extinction``); False gives the Rayleigh-only closed forms they replaced.
* ``white_balance``: 'daylight' (cupola's default: reproducible, what night-sky photographers set)
  or a colour temperature in K (``cupola.colour.white_balance_matrix``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..errors import InputError

LAYER_NAMES = ("earth", "airglow", "aurora", "city_lights", "stars", "milky_way", "bodies")


@dataclass(frozen=True)
class RenderSettings:
    """What to draw and the calibration it is drawn with (module docstring)."""

    layers: tuple[str, ...] = LAYER_NAMES
    atmosphere: bool = True  # Rayleigh extinction, haze, twilight and the blue limb
    psf_sigma_px: float = 0.8
    psf_radius_sigma: float = 3.5
    max_substeps: int = 4000  # splat sub-steps along one trail
    path_samples: int = 9  # times along the exposure where star and planet positions are computed
    sun_glare_rel: float = 1e-4
    sun_glare_slope: float = -2.5
    sun_glare_max_deg: float = 30.0
    earthshine_cd_m2: float = 0.25
    moon_subsamples: int = 4
    lights_max_taps: int = 48
    clouds: bool = True
    cloud_albedo: float = 0.7
    cloud_top_km: float = 6.0
    cloud_light_block: float = 0.8
    aurora_kr_per_nt: float = 1.0 / 30.0
    aurora_kr_range: tuple[float, float] = (0.5, 50.0)
    aurora_max_rays: int = 60_000
    aurora_coarse: int = 4
    aurora_nodes: int = 8
    noise: bool = True
    full_well_e: float = 60_000.0
    read_noise_e: float = 3.0
    hot_pixel_fraction: float = 2e-5
    hot_pixel_e_per_s: float = 200.0
    noise_seed: int = 0
    sensor_seed: int = 3
    white_balance: str | float = "daylight"
    limb_ozone_aerosol: bool = True  # the limb and twilit ground by table (Rayleigh + ozone + aerosol)

    def __post_init__(self):
        layers = tuple(self.layers)
        unknown = [n for n in layers if n not in LAYER_NAMES]
        if unknown:
            raise InputError(f"unknown render layer {unknown[0]!r}; use some of: {', '.join(LAYER_NAMES)}",
                             param="layers")
        if len(set(layers)) != len(layers):
            raise InputError(f"render layers repeat: {', '.join(layers)}; name each at most once", param="layers")
        object.__setattr__(self, "layers", layers)

    def replace(self, **changes) -> "RenderSettings":
        """Return a copy with `changes` applied (checked like a new value)."""
        return dataclasses.replace(self, **changes)


DEFAULT_SETTINGS = RenderSettings()

__all__ = ["LAYER_NAMES", "RenderSettings", "DEFAULT_SETTINGS"]

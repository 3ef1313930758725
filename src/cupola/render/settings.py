"""The renderer's settings: which layers to draw and every calibration constant, in one frozen value.

A renderer reads only three things: the Scene, the Camera (with its Attitude) and these settings.
The defaults are cupola's calibration; each is documented where it is used:

* ``psf_sigma_px``, ``psf_radius_sigma``: the Gaussian stars and planets are drawn with (normalised
  over its window, ``render.points``): None (the default) takes the lens's PSF core from the camera
  (``render.optics.star_sigma_px``: diffraction, defocus, the pixel); a number overrides it.
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
* ``light_detail``: spread each night-lights texel's light by the sub-texel pattern
  (``phenomena.lights.light_detail_tile``); False draws the texels' bilinear mean.
* ``lens_defocus_um``: the focus error that, with diffraction and the pixel, sets the PSF core:
  80 um, a blur disc of 80 um / N, calibrated on the stars of the real photograph ISS030-E-130515
  (``render.optics``).
* ``psf_wing_fraction``, ``psf_wing_slope``, ``psf_wing_core_deg``: the PSF's veiling-glare wing,
  3 % of every source's light spread as (theta^2 + a^2)^(-2.5 / 2), a = 0.02 deg (the form of the
  CIE 146:2002 glare spread function and of measured camera-lens wings; ``render.optics``); the
  Sun's glare is this wing around its disc, in the frame or not.
* ``bloom``: spread every pixel's light over the wing (``render.optics.apply_lens``), so saturated
  cities, the Moon and the limb get soft halos.
* ``vignetting``: the lens's relative illumination (lensfun's calibrations of the Nikon lenses of
  each focal length cupola offers, else cos^4), in the same pass as the bloom.
* ``glint``, ``glint_wind_m_s``: the Sun's and the Moon's specular reflection on open water
  (``render.earth``), from Cox & Munk's (1954) slope statistics at a wind of 7 m/s 12.5 m above
  the sea (about the mean surface wind over the open oceans in satellite scatterometer and
  radiometer climatologies; Cox & Munk's fit spans 1-14 m/s); the glint's width grows as
  sqrt(0.003 + 5.12e-3 U).
* ``texture_filter``: sample the day texture from a mip pyramid at each pixel's ground footprint
  (trilinear; bilinear at level 0 where a pixel is smaller than a texel); False gives plain
  bilinear sampling at full resolution (aliases on wide frames).
* ``limb_antialias``: give the pixels the hard limb crosses their fractional coverage of the Earth
  (``render.earth``), so the limb's edge is not a staircase.
* ``smear``, ``smear_grid_px``, ``smear_max_taps``, ``smear_min_px``, ``smear_max_scale``: the
  exposure smear of the ground and the glows (``render.smear``): the motion field on every 8th
  pixel, at most 32 taps along a pixel's path, nothing done under 1 px of smear, the path
  average taken on the image reduced at most 8 times.
* ``aperture_blades``, ``aperture_rotation_deg``: the diffraction spikes of an aperture stopped down to a
  regular polygon of that many straight blades (0, the default: a round aperture, no spikes; 3-24 blades),
  its first edge's normal turned by the rotation from the image's x axis (``render.optics``).
* ``window_frame``, ``window_distance_m``, ``window_roll_deg``: the Cupola's window frame as a
  dark, defocused silhouette for a camera on the central window's axis, its entrance pupil 0.5 m
  behind the pane (``render.foreground``; off by default).
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass

from ..errors import InputError
from ..timebase import shown

LAYER_NAMES = ("earth", "airglow", "aurora", "city_lights", "stars", "milky_way", "bodies")


@dataclass(frozen=True)
class RenderSettings:
    """What to draw and the calibration it is drawn with (module docstring)."""

    layers: tuple[str, ...] = LAYER_NAMES
    atmosphere: bool = True  # Rayleigh extinction, haze, twilight and the blue limb
    psf_sigma_px: float | None = None  # None: from the lens (render.optics.star_sigma_px)
    psf_radius_sigma: float = 3.5
    max_substeps: int = 4000  # splat sub-steps along one trail
    path_samples: int = 9  # times along the exposure where star and planet positions are computed
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
    light_detail: bool = True
    lens_defocus_um: float = 80.0
    psf_wing_fraction: float = 0.03
    psf_wing_slope: float = 2.5
    psf_wing_core_deg: float = 0.02
    bloom: bool = True
    vignetting: bool = True
    glint: bool = True  # sun- and moonglint on open water (render.earth)
    glint_wind_m_s: float = 7.0  # wind speed 12.5 m above the sea, for the Cox-Munk slopes
    texture_filter: bool = True  # sample the day texture's mip levels by each pixel's footprint
    limb_antialias: bool = True  # fractional coverage on the hard limb's edge pixels
    limb_ozone_aerosol: bool = True  # the limb and twilit ground by table (Rayleigh + ozone + aerosol)
    smear: bool = True  # smear the earth, airglow and aurora layers along the exposure's motion
    smear_grid_px: int = 8
    smear_max_taps: int = 32
    smear_min_px: float = 1.0
    smear_max_scale: int = 8
    aperture_blades: int = 0  # 0: a round aperture; 3-24: straight blades, diffraction spikes (render.optics)
    aperture_rotation_deg: float = 0.0
    window_frame: bool = False  # the Cupola's window frame as a dark, defocused foreground
    window_distance_m: float = 0.5
    window_roll_deg: float = 0.0

    def __post_init__(self):
        layers = tuple(self.layers)
        unknown = [n for n in layers if n not in LAYER_NAMES]
        if unknown:
            raise InputError(f"unknown render layer {shown(unknown[0])}; use some of: {', '.join(LAYER_NAMES)}",
                             param="layers")
        if len(set(layers)) != len(layers):
            raise InputError(f"render layers repeat: {', '.join(layers)}; name each at most once", param="layers")
        object.__setattr__(self, "layers", layers)
        if not (float(self.psf_wing_slope) > 2.0 and 0.0 <= float(self.psf_wing_fraction) < 1.0
                and float(self.psf_wing_core_deg) > 0.0):
            raise InputError(f"the PSF wing needs psf_wing_slope > 2, 0 <= psf_wing_fraction < 1 and "
                             f"psf_wing_core_deg > 0, got {self.psf_wing_slope!r}, {self.psf_wing_fraction!r}, "
                             f"{self.psf_wing_core_deg!r}", param="settings")

        blades = self.aperture_blades
        if isinstance(blades, bool) or not isinstance(blades, numbers.Integral) or not (blades == 0 or 3 <= blades <= 24):
            raise InputError(f"aperture_blades must be 0 (a round aperture) or a whole number of blades from 3 to 24, "
                             f"got {blades!r}", param="aperture_blades")
        object.__setattr__(self, "aperture_blades", int(blades))
        if not abs(float(self.aperture_rotation_deg)) <= 360.0:
            raise InputError(f"aperture_rotation_deg must be within -360..360 degrees, got {self.aperture_rotation_deg!r}",
                             param="aperture_rotation_deg")

    def replace(self, **changes) -> "RenderSettings":
        """Return a copy with `changes` applied (checked like a new value)."""
        return dataclasses.replace(self, **changes)


DEFAULT_SETTINGS = RenderSettings()

__all__ = ["LAYER_NAMES", "RenderSettings", "DEFAULT_SETTINGS"]

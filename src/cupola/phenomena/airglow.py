"""Airglow: the four nightglow emission shells seen edge-on above the Earth's limb from the station.

Layers (peak height, full width at half maximum of the volume emission rate, typical zenith
brightness of the visible lines in rayleighs):

* OH Meinel bands, ~87 km, FWHM ~8 km (Baker & Stair 1988, Physica Scripta 37, 611: 86.8 km,
  8.6 km). The total OH nightglow is several hundred kR, almost all of it in the near-IR
  Delta v = 2-4 sequences (Khomich, Semenov & Shefov 2008, "Airglow as an indicator of upper
  atmospheric structure"; Noll et al. 2012, A&A 543, A92, fig. 1). The eye and a
  colour camera see only the visible red Delta v = 5/6 bands; we represent them by their band
  centres with indicative band strengths (the colour is insensitive to the weights: every band
  lies at 588-775 nm where the CIE functions are red-dominated). ``total_zenith_rayleigh``
  keeps the full IR figure for reference; ``zenith_rayleigh`` is the visible part.
* Na D 589.0/589.6 nm, ~92 km, FWHM ~10 km, 30-150 R (Leinert et al. 1998, A&AS 127, 1;
  Noll et al. 2012).
* OI 557.7 nm green line, ~97 km (90-100 km), FWHM ~8 km, 100-250 R (Leinert et al. 1998).
* OI 630.0/636.4 nm red doublet (3:1 by the Einstein A ratio), ~250 km, thick (150-300 km),
  FWHM ~100 km, 50-150 R (Leinert et al. 1998; Khomich et al. 2008).

Each layer's volume emission rate is a Gaussian in height normalised so that its vertical
column is the zenith brightness. Seen tangentially, the column is longer: the closed form used
here (the parabolic approximation around the tangent point, valid for widths << R) is

    B(h_t) / B_zenith = sqrt(r0 / sigma) * exp(-z**2 / 4) * D_{-1/2}(z),  z = (h_t - h0) / sigma,

with r0 = R + h0 and D the parabolic-cylinder function; at the peak (z = 0) it is
2**(5/4) Gamma(5/4) / sqrt(pi) * sqrt(r0 / sigma) = 1.2163 sqrt(r0 / sigma) (~53x for OH). Since
d/dz [exp(-z^2/4) D_v(z)] = -exp(-z^2/4) D_{v+1}(z), the brightest line of sight is tangent where
D_{1/2}(z) = 0, z = -0.765 (0.77 sigma below the peak), at 1.4441 sqrt(r0 / sigma) (~63x for OH,
the limb brightness reported as ``limb_rayleigh``). For a
uniform slab of thickness dh seen with the tangent at its base the path is 2 sqrt(2 r0 dh) versus
dh vertically (van Rhijn's limb geometry; 2 sqrt(2 r0 / dh) ~ 80x for 8 km).

Visibility criterion (our choice, stated): the glow is seen where the tangent point at the
layer's height is in the Earth's geometric shadow, i.e. the solar zenith angle there exceeds
90 deg + arccos(R / (R + h)) (99.4 deg at 87 km, 105.8 deg at 250 km; ~"Sun 10 deg below the
horizon" for the mesospheric layers). Then neither the layer (dayglow, resonance scattering of
Na) nor the thin air along the tangent ray is sunlit, so the limb background is dark. The station
must also be in shadow: in sunlight the cabin and the sunlit limb dazzle eye and camera.

Colours come from the line spectra through the CIE 1931 2-degree observer and sRGB, computed by
``tools/build_airglow_colours.py`` with colour-science and bundled as
``cupola/data/airglow_colours.json`` (colour-science is not needed at run time).
"""

from __future__ import annotations

import importlib.resources
import json
import logging
import math
from dataclasses import dataclass
from functools import lru_cache

import numba as nb
import numpy as np

from .. import view
from ..errors import DataMissingError, InputError
from .._index import shaped
from ..jit import kernel, use_twins

log = logging.getLogger(__name__)

R_EARTH_KM = view.R_EARTH_KM
FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))
# Half-width (in sigmas) of the height range integrated numerically: the Gaussian tails beyond
# hold 6e-7 of the column.
LAYER_HALF_WIDTH_SIGMA = 5.0
GAUSS_LEGENDRE_NODES = 32
# Azimuths sampled around the limb ring when deciding whether a layer's limb is dark.
LIMB_AZIMUTHS = 72


@dataclass(frozen=True)
class AirglowLayer:
    """One airglow emission shell: spectral lines, height profile and typical brightness.

    Attributes:
        name: short key ('oh', 'na', 'oi_green', 'oi_red').
        species: emitter and transition in words.
        wavelength_nm: representative wavelength (the strongest visible line or band).
        lines_nm: wavelengths of the visible lines/bands used for the colour.
        lines_rayleigh: zenith brightness of each line (photon units, rayleigh).
        height_km: height of the emission peak.
        fwhm_km: full width at half maximum of the volume emission rate.
        total_zenith_rayleigh: whole-emission zenith brightness including the IR (OH only
            differs from the visible sum).
    """

    name: str
    species: str
    wavelength_nm: float
    lines_nm: tuple[float, ...]
    lines_rayleigh: tuple[float, ...]
    height_km: float
    fwhm_km: float
    total_zenith_rayleigh: float

    @property
    def zenith_rayleigh(self) -> float:
        """Return the visible zenith brightness (sum of ``lines_rayleigh``), rayleigh."""
        return float(sum(self.lines_rayleigh))

    @property
    def sigma_km(self) -> float:
        """Return the Gaussian standard deviation of the emission profile, km."""
        return self.fwhm_km / FWHM_PER_SIGMA


# OH visible bands: (8,2) 588, (9,3) 625, (6,1) 650, (7,2) 692, (8,3) 728, (9,4) 772 nm band
# centres (Rousselot et al. 2000, A&A 354, 1134, line list). The strengths are our indicative
# estimate (rising toward the near-IR as in the synthetic OH spectrum of Rousselot et al. and
# the measured spectrum of Noll et al. 2012, fig. 1), ~1.3 kR in all: not measured values. The
# colour barely depends on them (all bands give a red; see tests/test_airglow.py).
LAYERS: tuple[AirglowLayer, ...] = (
    AirglowLayer("oh", "OH Meinel bands (visible Delta v = 5, 6 sequences)", 650.0,
                 (588.0, 625.0, 650.0, 692.0, 728.0, 772.0),
                 (30.0, 80.0, 180.0, 250.0, 350.0, 400.0), 87.0, 8.0, 500_000.0),
    AirglowLayer("na", "Na D doublet", 589.0, (588.995, 589.592), (50.0, 25.0), 92.0, 10.0, 75.0),
    AirglowLayer("oi_green", "OI 557.7 nm green line", 557.7, (557.734,), (150.0,), 97.0, 8.0, 150.0),
    AirglowLayer("oi_red", "OI 630.0/636.4 nm red doublet", 630.0, (630.030, 636.378), (75.0, 25.0),
                 250.0, 100.0, 100.0),
)
LAYER_BY_NAME = {layer.name: layer for layer in LAYERS}


@dataclass(frozen=True)
class AirglowLayerView:
    """How one airglow layer appears from the station: per-instant fields are arrays shaped like
    the state (the shape rule of every ``*View``), the rest is the layer's constant description.

    Attributes:
        name, species, wavelength_nm, height_km: from the layer.
        visible: True where the layer's limb is dark somewhere and the station is in shadow.
        dark_fraction: fraction of the limb ring (azimuths around the station) that is dark.
        limb_elevation_deg: apparent height of the glow band above the hard limb.
        elevation_deg: angle of the glow band from the station's local horizontal (negative).
        colour_hex, colour_rgb_linear: sRGB colour of the line spectrum (normalised to max 1).
        zenith_rayleigh: typical vertical-column brightness of the visible lines.
        limb_rayleigh: brightness of the brightest tangent line of sight (closed form,
            :func:`limb_brightening`; 0.77 sigma below the emission peak).
        note: '' when visible, else why not ('daylight on the limb', 'station in sunlight').
    """

    name: str
    species: str
    wavelength_nm: float
    height_km: float
    visible: np.ndarray | bool
    dark_fraction: np.ndarray | float
    limb_elevation_deg: np.ndarray | float
    elevation_deg: np.ndarray | float
    colour_hex: str
    colour_rgb_linear: tuple[float, float, float]
    zenith_rayleigh: float
    limb_rayleigh: float
    note: np.ndarray | str


def get_layer(layer: AirglowLayer | str) -> AirglowLayer:
    """Return the layer object for a layer or its name ('oh', 'na', 'oi_green', 'oi_red')."""
    if isinstance(layer, AirglowLayer):
        return layer
    try:
        return LAYER_BY_NAME[layer]
    except (KeyError, TypeError):
        raise InputError(
            f"unknown airglow layer {layer!r}; use one of {', '.join(LAYER_BY_NAME)}") from None


@lru_cache(maxsize=1)
def colour_table() -> dict:
    """Return the bundled colour table (``cupola/data/airglow_colours.json``) as a dict."""
    ref = importlib.resources.files("cupola") / "data" / "airglow_colours.json"
    if not ref.is_file():
        raise DataMissingError(
            "bundled table 'airglow_colours.json' is missing from cupola/data; rebuild it with "
            "`pip install -e '.[tools]' && python tools/build_airglow_colours.py`")
    table = json.loads(ref.read_text(encoding="utf-8"))
    for layer in LAYERS:
        entry = table["layers"].get(layer.name)
        if entry is None or list(entry["lines_nm"]) != list(layer.lines_nm) or \
                list(entry["lines_rayleigh"]) != list(layer.lines_rayleigh):
            log.warning("airglow colour table does not match layer %r; rerun "
                        "tools/build_airglow_colours.py", layer.name)
    return table


# -- limb brightening ----------------------------------------------------------------------
# The three constants of the closed form, written out so that no cold start imports scipy.special
# (0.13 s) for them; tests/test_airglow.py recomputes each with scipy (pbdv, gamma, brentq).
PEAK_BRIGHTENING_COEFF = 2.0 ** 1.25 * math.gamma(1.25) / math.sqrt(math.pi)  # = D_{-1/2}(0) = 1.2163
# The maximum of exp(-z^2/4) D_{-1/2}(z) is at the zero of D_{1/2} (see the module docstring),
# its only sign change in [-2, 0] ...
MAX_BRIGHTENING_Z = -0.7649508673897596  # ... here
MAX_BRIGHTENING_COEFF = 1.4441052070631413  # exp(-z^2/4) D_{-1/2}(z) there


def tangent_brightening(tangent_height_km, height_km: float, fwhm_km: float,
                        r_earth_km: float = R_EARTH_KM):
    """Return the ratio of the column along a full tangent ray to the vertical column for a
    Gaussian emission layer (peak `height_km`, width `fwhm_km`), closed form.

    B(h_t)/B_zen = sqrt(r0/sigma) exp(-z^2/4) D_{-1/2}(z), z = (h_t - h0)/sigma, r0 = R + h0:
    the parabolic approximation r = r_t + s^2/(2 r0) around the tangent point, exact to
    O(sigma/R). The ray is taken to cross the whole layer on both sides of the tangent point
    (origin far outside, tangent point above the ground). Vectorised over `tangent_height_km`.
    """
    from scipy.special import pbdv  # only here: most runs never need the parabolic cylinder function

    sigma = fwhm_km / FWHM_PER_SIGMA
    z = (np.asarray(tangent_height_km, float) - height_km) / sigma
    d, _ = pbdv(-0.5, z)
    return np.sqrt((r_earth_km + height_km) / sigma) * np.exp(-z * z / 4.0) * d


def limb_brightening(height_km: float, fwhm_km: float, r_earth_km: float = R_EARTH_KM) -> float:
    """Return the largest limb brightening of a Gaussian layer over all tangent heights:
    1.4441 sqrt((R + h0)/sigma), reached 0.765 sigma below the peak (~63x for OH at 87 km,
    FWHM 8 km). Closed form; see :func:`tangent_brightening`."""
    return float(MAX_BRIGHTENING_COEFF * np.sqrt((r_earth_km + height_km) * FWHM_PER_SIGMA / fwhm_km))


def limb_peak_height_km(height_km: float, fwhm_km: float) -> float:
    """Return the tangent height (km) of the brightest line of sight through a Gaussian layer
    (0.765 sigma below the emission peak)."""
    return float(height_km + MAX_BRIGHTENING_Z * fwhm_km / FWHM_PER_SIGMA)


def peak_brightening(height_km: float, fwhm_km: float, r_earth_km: float = R_EARTH_KM) -> float:
    """Return the limb brightening with the line of sight tangent at the layer's peak height:
    1.2163 sqrt((R + h0)/sigma) (Gaussian layer; ~53x for OH at 87 km, FWHM 8 km)."""
    return float(PEAK_BRIGHTENING_COEFF * np.sqrt((r_earth_km + height_km) * FWHM_PER_SIGMA / fwhm_km))


def slab_brightening(height_km: float, thickness_km: float, r_earth_km: float = R_EARTH_KM) -> float:
    """Return the path through a uniform shell of thickness `thickness_km` (base at `height_km`)
    along the ray tangent to its base, over the vertical path: 2 sqrt(2 (R+h) dh) / dh
    (van Rhijn's limb geometry, thin shell; ~80x for 8 km at 87 km)."""
    return float(2.0 * np.sqrt(2.0 * (r_earth_km + height_km) * thickness_km) / thickness_km)


# -- column emission along rays -------------------------------------------------------------
@lru_cache(maxsize=4)
def _gauss_legendre(n: int):
    x, w = np.polynomial.legendre.leggauss(n)
    return x, w


def _ray_geometry(origin_km, dirs):
    o = np.asarray(origin_km, float)
    d = np.asarray(dirs, float)
    o, d = np.broadcast_arrays(o, d)
    d = d / np.linalg.norm(d, axis=-1, keepdims=True)
    r_o = np.linalg.norm(o, axis=-1)
    tc = -np.sum(o * d, axis=-1)  # distance along the ray to the tangent point
    p = np.sqrt(np.maximum(r_o * r_o - tc * tc, 0.0))
    return r_o, tc, p


def _layer_bounds(lay: AirglowLayer, r_earth_km: float):
    sigma = lay.sigma_km
    r0 = r_earth_km + lay.height_km
    r_lo = max(r0 - LAYER_HALF_WIDTH_SIGMA * sigma, r_earth_km)
    r_hi = r0 + LAYER_HALF_WIDTH_SIGMA * sigma
    return sigma, r0, r_lo, r_hi


def layer_emission_along_rays(origin_km, dirs, layer: AirglowLayer | str,
                              zenith_rayleigh: float | None = None,
                              r_earth_km: float = R_EARTH_KM,
                              nodes: int = GAUSS_LEGENDRE_NODES,
                              far_side_extinction: bool = False) -> np.ndarray:
    """Return the layer's brightness (rayleigh) integrated along each ray from `origin_km`.

    The volume emission rate is a Gaussian in height normalised to `zenith_rayleigh` (default
    the layer's visible brightness) per vertical column; the Earth is a sphere of radius
    `r_earth_km` and blocks the ray where it reaches the ground. Along a ray with closest
    approach p to the Earth's centre, r = p + w^2 makes ds = 2 (p + w^2) / sqrt(2 p + w^2) dw
    smooth through the tangent point, so each branch (before and after the tangent point) is
    one Gauss-Legendre sum over the layer's +-5 sigma height range (32 nodes: 1e-6 relative
    against adaptive quadrature). Runs as a parallel numba kernel (~0.3 s per million rays);
    :func:`layer_emission_along_rays_numpy` is its numpy twin.

    Args:
        origin_km: ray origins (..., 3), Earth-centred km (TEME or ITRS; broadcast with dirs).
        dirs: ray directions (..., 3) (normalised here).
        layer: an :class:`AirglowLayer` or its name.
        far_side_extinction: weight the branch beyond the tangent point by the transmission of
            the lower atmosphere along the whole line (:func:`far_side_weight`); False: the
            closed forms' transparent atmosphere.
    Returns:
        Brightness in rayleigh, shape of the broadcast leading axes. NaN for non-finite input.
    """
    if use_twins():
        return layer_emission_along_rays_numpy(origin_km, dirs, layer, zenith_rayleigh, r_earth_km, nodes,
                                               far_side_extinction)
    lay = get_layer(layer)
    b_zen = lay.zenith_rayleigh if zenith_rayleigh is None else float(zenith_rayleigh)
    r_o, tc, p = _ray_geometry(origin_km, dirs)
    sigma, r0, r_lo, r_hi = _layer_bounds(lay, r_earth_km)
    x, w = _gauss_legendre(int(nodes))
    shape = r_o.shape
    out = np.empty(r_o.size)
    far = far_side_weight(lay, tc, p, r_earth_km, far_side_extinction)
    _emission_kernel(np.ascontiguousarray(r_o.ravel()), np.ascontiguousarray(tc.ravel()),
                     np.ascontiguousarray(p.ravel()), float(r_earth_km), r0, sigma, r_lo, r_hi,
                     b_zen / (sigma * np.sqrt(2.0 * np.pi)), x, w, np.ascontiguousarray(far.ravel()), out)
    return out.reshape(shape)


def far_side_weight(layer: AirglowLayer | str, tc, p, r_earth_km: float = R_EARTH_KM,
                    extinction: bool = True) -> np.ndarray:
    """Return, per ray, the weight of the emission beyond the tangent point: the transmission of
    the lower atmosphere along the whole line at the ray's tangent height p - R, averaged over
    the layer's lines by their rayleighs (:mod:`cupola.phenomena.extinction`); 1 for rays that
    start outward (no tangent point ahead) and everywhere when `extinction` is False."""
    tc, p = np.broadcast_arrays(np.asarray(tc, float), np.asarray(p, float))
    if not extinction:
        return np.ones(tc.shape)
    from .extinction import limb_transmission

    lay = get_layer(layer)
    t = limb_transmission(np.where(np.isfinite(p), p - r_earth_km, 0.0), lay.lines_nm, lay.lines_rayleigh,
                          r_earth_km)
    return np.where(tc > 0.0, t, 1.0)


@kernel(parallel=True)
def _emission_kernel(r_o, tc, p, r_earth, r0, sigma, r_lo, r_hi, norm, x, w, far, out):  # pragma: no cover - jit
    """Per-ray Gauss-Legendre sums of :func:`layer_emission_along_rays_numpy`, fused."""
    for i in nb.prange(r_o.shape[0]):
        ro, t, pp = r_o[i], tc[i], p[i]
        if not (math.isfinite(ro) and math.isfinite(t)):
            out[i] = math.nan
            continue
        ahead = t > 0.0
        ground = ahead and pp < r_earth
        total = 0.0
        for branch in range(2):
            if branch == 0:  # before the tangent point: r from |o| down to max(p, ground)
                if not ahead:
                    continue
                lo = r_earth if ground else pp
                hi = ro
            else:  # after the tangent point (or the whole ray when it starts outward)
                if ground:
                    continue
                lo = pp if ahead else ro
                hi = math.inf
            a = min(max(lo, r_lo), r_hi)
            b = min(max(hi, r_lo), r_hi)
            if b <= a:
                continue
            wa = math.sqrt(max(a - pp, 0.0))
            wb = math.sqrt(max(b - pp, 0.0))
            half = 0.5 * (wb - wa)
            mid = 0.5 * (wb + wa)
            acc = 0.0
            for k in range(x.shape[0]):
                ww = mid + half * x[k]
                rr = pp + ww * ww
                z = (rr - r0) / sigma
                acc += w[k] * math.exp(-0.5 * z * z) * 2.0 * rr / math.sqrt(2.0 * pp + ww * ww)
            total += norm * acc * half * (far[i] if branch == 1 else 1.0)
        out[i] = total


def layer_emission_along_rays_numpy(origin_km, dirs, layer: AirglowLayer | str,
                                    zenith_rayleigh: float | None = None,
                                    r_earth_km: float = R_EARTH_KM,
                                    nodes: int = GAUSS_LEGENDRE_NODES,
                                    far_side_extinction: bool = False) -> np.ndarray:
    """Return the same as :func:`layer_emission_along_rays`, in plain numpy (the reference twin
    of the numba kernel; memory ~ rays x nodes)."""
    lay = get_layer(layer)
    b_zen = lay.zenith_rayleigh if zenith_rayleigh is None else float(zenith_rayleigh)
    r_o, tc, p = _ray_geometry(origin_km, dirs)
    sigma, r0, r_lo, r_hi = _layer_bounds(lay, r_earth_km)
    ahead = tc > 0.0
    hits_ground = ahead & (p < r_earth_km)
    # Near branch (before the tangent point): r from |o| down to max(p, ground).
    near_lo = np.where(ahead, np.where(hits_ground, r_earth_km, p), np.inf)
    near_hi = np.where(ahead, r_o, -np.inf)
    # Far branch (after the tangent point, or the whole ray if it starts outward): r up to inf.
    far_lo = np.where(hits_ground, np.inf, np.where(ahead, p, r_o))
    far_hi = np.where(hits_ground, -np.inf, np.inf)
    x, w = _gauss_legendre(int(nodes))
    norm = b_zen / (sigma * np.sqrt(2.0 * np.pi))
    total = np.zeros(r_o.shape)
    far = far_side_weight(lay, tc, p, r_earth_km, far_side_extinction)
    for lo, hi, weight in ((near_lo, near_hi, 1.0), (far_lo, far_hi, far)):
        a = np.clip(lo, r_lo, r_hi)
        b = np.clip(hi, r_lo, r_hi)
        ok = b > a
        wa = np.sqrt(np.maximum(a - p, 0.0))
        wb = np.sqrt(np.maximum(b - p, 0.0))
        half = np.where(ok, 0.5 * (wb - wa), 0.0)[..., None]
        mid = (0.5 * (wb + wa))[..., None]
        ww = mid + half * x
        rr = p[..., None] + ww * ww
        jac = 2.0 * rr / np.sqrt(2.0 * p[..., None] + ww * ww)
        f = np.exp(-0.5 * ((rr - r0) / sigma) ** 2) * jac
        total += norm * np.sum(f * w, axis=-1) * half[..., 0] * weight
    bad = ~(np.isfinite(r_o) & np.isfinite(tc))
    return np.where(bad, np.nan, total)


# -- what is in view -------------------------------------------------------------------------
def dark_threshold_sza_deg(height_km, r_earth_km: float = R_EARTH_KM):
    """Return the solar zenith angle (deg) beyond which a point at `height_km` is in the Earth's
    geometric shadow: 90 + arccos(R / (R + h)) (99.4 deg at 87 km, 105.8 deg at 250 km)."""
    return 90.0 + np.degrees(np.arccos(r_earth_km / (r_earth_km + np.asarray(height_km, float))))


def limb_dark_fraction(r_teme_km, sun_teme_km, height_km: float, n_azimuths: int = LIMB_AZIMUTHS,
                       r_earth_km: float = R_EARTH_KM) -> np.ndarray:
    """Return the fraction of the layer's limb ring (tangent points all around the station) that
    lies in the Earth's shadow at `height_km`.

    The tangent points of a shell of radius R + h seen from radius r lie at the central angle
    arccos((R + h)/r) from the sub-station point; the Sun direction is geocentric (its parallax,
    8.8", is negligible). Vectorised over the leading axes of `r_teme_km`.
    """
    r = np.asarray(r_teme_km, float)
    basis = view.local_horizontal_basis(r)  # rows east, north, up
    rn = np.linalg.norm(r, axis=-1)
    gam = np.arccos(np.clip((r_earth_km + height_km) / rn, -1.0, 1.0))[..., None, None]
    az = np.linspace(0.0, 2.0 * np.pi, n_azimuths, endpoint=False)[:, None]
    horiz = np.sin(az) * basis[..., None, 0, :] + np.cos(az) * basis[..., None, 1, :]
    u = np.cos(gam) * basis[..., None, 2, :] + np.sin(gam) * horiz
    s = np.asarray(sun_teme_km, float)
    s = s / np.linalg.norm(s, axis=-1, keepdims=True)
    cos_sza = np.sum(u * s[..., None, :], axis=-1)
    sza = np.degrees(np.arccos(np.clip(cos_sza, -1.0, 1.0)))
    frac = np.mean(sza > dark_threshold_sza_deg(height_km, r_earth_km), axis=-1)
    return np.where(np.isfinite(rn), frac, np.nan)


def airglow_in_view(state, layers=LAYERS) -> list[AirglowLayerView]:
    """Return how each airglow layer appears from the station at the instants of `state`.

    Args:
        state: a :class:`cupola.orbit.State` (any shape; fields come back shaped like it, plain
            scalars for a single instant).
        layers: the layers to report (default all four, lowest first).
    Returns:
        One :class:`AirglowLayerView` per layer. A layer is ``visible`` where part of its limb
        ring is in the Earth's shadow at the layer's height (see the module docstring) and the
        station is in shadow.
    """
    table = colour_table()["layers"]
    alt = np.asarray(state.alt_km, float)
    sunlit = np.asarray(state.sunlit, bool)
    shape = alt.shape
    out = []
    for layer in (get_layer(x) for x in layers):
        frac = limb_dark_fraction(state.r_teme_km, state.sun_teme_km, layer.height_km)
        dark = frac > 0.0
        visible = dark & ~sunlit & np.isfinite(alt)
        note = np.where(visible, "", np.where(~dark, "daylight on the limb", "station in sunlight"))
        note = np.where(np.isfinite(alt), note, "no position").astype(object)
        limb_el = view.limb_height_above_hard_limb_deg(alt, layer.height_km)
        el = -view.horizon_dip_deg(alt, layer.height_km)
        c = table[layer.name]

        out.append(AirglowLayerView(
            name=layer.name, species=layer.species, wavelength_nm=layer.wavelength_nm,
            height_km=layer.height_km, visible=shaped(visible, shape), dark_fraction=shaped(frac, shape),
            limb_elevation_deg=shaped(limb_el, shape), elevation_deg=shaped(el, shape), colour_hex=c["hex"],
            colour_rgb_linear=tuple(float(v) for v in c["rgb_linear"]),
            zenith_rayleigh=layer.zenith_rayleigh,
            limb_rayleigh=layer.zenith_rayleigh * limb_brightening(layer.height_km, layer.fwhm_km),
            note=shaped(np.asarray(note, object), shape),
        ))
    return out


__all__ = [
    "AirglowLayer", "AirglowLayerView", "LAYERS", "LAYER_BY_NAME", "get_layer", "colour_table",
    "tangent_brightening", "peak_brightening", "limb_brightening", "limb_peak_height_km",
    "slab_brightening", "layer_emission_along_rays", "layer_emission_along_rays_numpy",
    "dark_threshold_sza_deg", "limb_dark_fraction", "airglow_in_view",
]

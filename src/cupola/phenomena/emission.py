"""Emission fields for drawing: what a renderer integrates along its rays, computed from the Scene.

The renderer (``cupola.render``) never imports the physics; the Scene hands it these objects.

Tabulated ray integrals
-----------------------
The ground is the WGS84 ellipsoid. Scaling z by a/b turns it into a sphere of radius a; a shell at
height h above the ellipsoid becomes, to 0.34 % of h (0.3 km at 97 km), the sphere of radius a + h.
In that scaled space every ray from the station is fixed, up to a rotation, by its closest
approach p to the centre and whether it starts inward (towards the tangent point) or outward; so
an emission integrated along a ray is a 1-D function of p. :class:`RayTable` holds it on a
0.25 km grid of p around the shells (256 coarse nodes below, 512 for outward rays), computed once
per origin radius (0.5 km bins: the tables move < 0.1 % within) with the exact integrators of
:mod:`cupola.phenomena.airglow` (Gauss-Legendre, stopping at the ground), the light from beyond
each ray's tangent point dimmed by the lower atmosphere it crosses on the way back
(:mod:`cupola.phenomena.extinction`: the dark gap under the airglow line).

Airglow (:class:`AirglowEmission`)
----------------------------------
The four nightglow shells of ``airglow.LAYERS``; each is drawn only where the emitting region is
dark: the solar zenith angle at the ray's tangent point (ground point for rays that hit) beyond
the Earth's geometric shadow at the layer's height, 90 + arccos(R / (R + h)) (99.4 deg for OH at
87 km ... 105.8 deg for OI 630 nm at 250 km), faded in over ``AIRGLOW_DARK_RAMP_DEG``.
Luminance per rayleigh from :mod:`cupola.photometry`, colours as a camera records the line spectra
(:func:`cupola.colour.line_rgb_per_cd_m2`: 557.7 nm green, not the eye's chartreuse).
The shells are not perfectly smooth: gravity waves modulate the OH, Na and O emission by a few
to ~20 % (e.g. Taylor et al. 1997, J. Geophys. Res. 102, 26283, OH and OI images; Nakamura et
al. 1999, Earth Planets Space 51, 897), and from orbit the structure that survives the ~600 km
limb path shows as brightness changing along the limb over hundreds of km.
:func:`airglow_wave_factor` is that modulation: a fixed (seeded) sum of :data:`AIRGLOW_WAVES`
plane waves on the Earth-fixed unit sphere, horizontal wavelengths 150-1,200 km, rms
:data:`AIRGLOW_WAVE_RMS`, sampled where each ray meets the 90 km level (its tangent point for rays
above it). It is a texture, not a forecast: the same at every instant, fixed to the ground.

Aurora (:class:`AuroraEmission`)
--------------------------------
The statistical oval of the Scene's Kp (:func:`cupola.phenomena.aurora.aurora_oval`) rasterised
on a lat/lon grid: 1 inside the discrete band (Feldstein-Starkov poleward to equatorward edges,
softened over ~``AURORA_EDGE_DEG``), 0.05 in the diffuse zone, weighted by magnetic local time (1
at midnight, 0.3 at noon: the dayside oval is faint, e.g. Liou et al. 1997, JGR 102, 27197) and
set to 0 where the ground beneath is not dark (Sun above -12 deg, full strength 4 deg lower).
Each line of ``aurora.AURORA_LINES`` has an asymmetric-Gaussian vertical profile with a unit
column; its ray integral is tabulated like the airglow's. The absolute brightness (kR per nT of
|AL|) is a calibration of the renderer (``RenderSettings``), not of this model.

Auroral forms (:class:`AuroraForms`)
------------------------------------
The statistical oval says where aurora is likely, not what it looks like: photographs from the
ISS show a few thin, bright arcs (curtains ~1-10 km thick across, hundreds to thousands of km
long, e.g. Knudsen et al. 2001, JGR 106, 25595, on arc widths) that fold, and rays along the
magnetic field that make them look like draperies. cupola draws :data:`AURORA_ARC_SHARE` of the
discrete band's emission as such arcs and leaves the rest as the smooth glow of the band:

- 2-5 arcs (more with Kp: :func:`arc_count`), each at a fraction f of the way from the band's
  poleward to its equatorward edge, folded: f(phi) = f0 + sum a sin(m phi + psi), phi the
  azimuth around the oval's centre, folds of 550-3,300 km along the oval (m = 4-24) displacing
  the arc by up to ~10 % of the band's width;
- a Gaussian cross-section of :data:`AURORA_ARC_SIGMA_KM` (~14 km full width at half maximum,
  the blur of a thin arc seen through the 0.25 deg oval and the renderer's ray spacing);
- rays: the arc's brightness along its length times 1 - b + b ((1 + sin(n phi + chi)) / 2)^4 /
  (35 / 128) (mean 1), n = 800-2,400 (6-17 km spacing): a footprint pattern, so the streaks run
  along the field lines (nearly vertical at auroral latitudes) through the line profiles;
- the lines keep their heights (557.7 nm peaking at 110 km with its sharp lower border, 630 nm
  above 200 km, N2+ 427.8 nm at the bottom), so the curtains are green with red tops;
- the pattern drifts along the oval at :data:`AURORA_DRIFT_KM_S` (phase speeds of arc structure
  of ~1 km/s), so a timelapse moves smoothly, and the same instant always gives the same forms
  (the draw is seeded with :data:`AURORA_FORMS_SEED`). It is a plausible texture inside the
  statistical oval, not the aurora of that night.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numba as nb
import numpy as np

from ..colour import line_rgb_per_cd_m2
from ..constants import R_EARTH_KM, WGS84_A_KM, WGS84_B_KM
from ..errors import InputError
from ..frames import gmst82, rotate_z
from ..jit import kernel
from ..photometry import lines_cd_m2_per_rayleigh, rayleigh_to_cd_m2
from . import airglow as _ag
from .aurora import AURORA_LINES, DARK_SUN_ELEV_DEG, GREEN, KIND_NAMES

SCALE_Z = WGS84_A_KM / WGS84_B_KM  # z stretch that turns the ellipsoid into a sphere of radius a
P_FINE_BELOW_KM = 200.0  # the fine p grid starts this far below the ground sphere
P_FINE_STEP_KM = 0.25
P_COARSE_N = 256
P_OUT_N = 512



@dataclass(frozen=True, eq=False)
class RayTable:
    """Integrals along rays from one origin radius, per emission (rows), against the closest
    approach p (km, in the z-stretched space).

    ``params`` = (number of coarse inward nodes, coarse step, start of the fine inward grid, fine
    step, outward step): inward rays read ``inward[:, :n]`` on 0, step, ... below the fine start
    and ``inward[:, n:]`` from it on; outward rays read ``outward`` on 0, step, ...
    """

    params: np.ndarray
    inward: np.ndarray  # (rows, n_coarse + n_fine)
    outward: np.ndarray  # (rows, P_OUT_N)

    def column(self, k: int, p, inward) -> np.ndarray:
        """Return row `k` at closest approaches `p` (inward or outward rays), linear in p."""
        n0 = int(self.params[0])
        grid_c = self.params[1] * np.arange(n0)
        grid_f = self.params[2] + self.params[3] * np.arange(self.inward.shape[1] - n0)
        grid_o = self.params[4] * np.arange(self.outward.shape[1])
        v_in = np.where(p < self.params[2], np.interp(p, grid_c, self.inward[k, :n0]),
                        np.interp(p, grid_f, self.inward[k, n0:]))
        return np.where(inward, v_in, np.interp(p, grid_o, self.outward[k]))


def _p_grids(r_o: float, a: float):
    p1 = a - P_FINE_BELOW_KM
    n1 = int(math.ceil((r_o - p1) / P_FINE_STEP_KM)) + 1
    coarse = np.linspace(0.0, p1, P_COARSE_N, endpoint=False)
    fine = p1 + P_FINE_STEP_KM * np.arange(n1)
    out = np.linspace(0.0, r_o, P_OUT_N)
    return coarse, fine, out


def _params(coarse, out, a) -> np.ndarray:
    return np.array([P_COARSE_N, coarse[1] - coarse[0], a - P_FINE_BELOW_KM, P_FINE_STEP_KM, out[1] - out[0]])


def _rays_with_p(r_o: float, p: np.ndarray, inward: bool):
    s = np.clip(p / r_o, 0.0, 1.0)
    c = np.sqrt(1.0 - s * s)
    d = np.stack([-c if inward else c, s, np.zeros_like(s)], axis=-1)
    return np.array([r_o, 0.0, 0.0]), d


# The tables' size grows with the origin's radius (a node every 0.25 km out to it): a station
# further out than any plausible state (orbit.PLAUSIBLE_HEIGHT_KM) is refused, never tabulated.
MAX_ORIGIN_RADIUS_KM = WGS84_A_KM + 100_000.0


def origin_radius_key(origin_teme_km) -> float:
    """Return the station's radius in the z-stretched space, in the 0.5 km bins of the tables."""
    o = np.asarray(origin_teme_km, float).reshape(3)
    r = float(np.linalg.norm(o * np.array([1.0, 1.0, SCALE_Z])))
    if not (math.isfinite(r) and WGS84_A_KM < r <= MAX_ORIGIN_RADIUS_KM):
        raise InputError(f"the station's distance from the Earth's centre, {r:,.1f} km, is outside "
                         f"{WGS84_A_KM:,.0f}..{MAX_ORIGIN_RADIUS_KM:,.0f} km: no emission can be drawn from there",
                         param="sat")
    return round(r * 2.0) / 2.0


# -- airglow --------------------------------------------------------------------------------------
AIRGLOW_DARK_RAMP_DEG = 3.0  # the glow fades in over this range of solar zenith angle
AIRGLOW_WAVES = 6  # plane waves in the modulation (module docstring)
AIRGLOW_WAVE_RMS = 0.08  # rms of the relative modulation
AIRGLOW_WAVE_KM = (150.0, 1200.0)  # range of horizontal wavelengths, drawn log-uniform
AIRGLOW_WAVE_HEIGHT_KM = 90.0  # where a ray samples the modulation
AIRGLOW_WAVE_SEED = 20240119  # the fixed draw (seed 1's date)


def airglow_waves(n: int = AIRGLOW_WAVES, seed: int = AIRGLOW_WAVE_SEED):
    """Return the wave vectors (n, 3) (radians per unit of the Earth-fixed unit vector: 2 pi R / lambda
    along a random direction) and phases (n,) of the airglow modulation, drawn with `seed`."""
    rng = np.random.default_rng(seed)
    lam = np.exp(rng.uniform(*np.log(AIRGLOW_WAVE_KM), n))
    d = rng.normal(size=(n, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    return d * (2.0 * np.pi * R_EARTH_KM / lam)[:, None], rng.uniform(0.0, 2.0 * np.pi, n)


def airglow_wave_factor(unit_itrs, wave_k, wave_phase, rms: float = AIRGLOW_WAVE_RMS) -> np.ndarray:
    """Return the modulation 1 + rms sqrt(2 / n) sum sin(k . u + phase) at Earth-fixed unit vectors
    `unit_itrs` (..., 3): mean 1, rms `rms` over the sphere, at least 1 - rms sqrt(2 n) (0.72)."""
    n = len(wave_phase)
    arg = np.asarray(unit_itrs, float) @ np.asarray(wave_k, float).T + wave_phase
    return 1.0 + rms * math.sqrt(2.0 / n) * np.sin(arg).sum(axis=-1)


@lru_cache(maxsize=32)
def airglow_ray_table(r_o_key: float) -> RayTable:
    """Return the rayleigh integrals of every ``airglow.LAYERS`` shell for an origin radius."""
    r_o = float(r_o_key)
    a = WGS84_A_KM
    coarse, fine, out = _p_grids(r_o, a)
    p_in = np.concatenate([coarse, fine])
    o, d_in = _rays_with_p(r_o, p_in, True)
    _, d_out = _rays_with_p(r_o, out, False)
    t_in = np.stack([_ag.layer_emission_along_rays(o, d_in, lay, r_earth_km=a, far_side_extinction=True)
                     for lay in _ag.LAYERS])
    t_out = np.stack([_ag.layer_emission_along_rays(o, d_out, lay, r_earth_km=a, far_side_extinction=True)
                      for lay in _ag.LAYERS])
    return RayTable(_params(coarse, out, a), np.ascontiguousarray(t_in), np.ascontiguousarray(t_out))


def airglow_dark_threshold_deg() -> np.ndarray:
    """Return per layer (``airglow.LAYERS`` order) the solar zenith angle (deg) at the emitting
    region beyond which the layer glows (the Earth's geometric shadow at its height)."""
    return np.array([float(_ag.dark_threshold_sza_deg(lay.height_km)) for lay in _ag.LAYERS])


def layer_cd_m2_per_rayleigh(layer) -> float:
    """Return the luminance (cd/m^2) of 1 R of an airglow layer's visible emission, the lines
    weighted by their share of the layer's rayleighs."""
    lay = _ag.get_layer(layer)
    return lines_cd_m2_per_rayleigh(lay.lines_nm, lay.lines_rayleigh)


@dataclass(frozen=True, eq=False)
class AirglowEmission:
    """The nightglow shells as the renderer needs them (``airglow.LAYERS`` order)."""

    names: tuple[str, ...]
    luminance_rgb: np.ndarray  # (L, 3) linear RGB cd/m^2 of 1 R of each layer
    dark_cos: np.ndarray  # (L,) cos of the solar zenith angle of the layer's shadow edge
    ramp_cos: np.ndarray  # (L,) width of the fade-in, in cos(SZA)
    wave_k: np.ndarray  # (N, 3) wave vectors of the modulation (airglow_waves)
    wave_phase: np.ndarray  # (N,)
    wave_rms: float  # 0: smooth shells
    wave_height_km: float  # where a ray samples the modulation

    def ray_table(self, origin_teme_km) -> RayTable:
        """Return the layers' ray integrals from the station at `origin_teme_km`."""
        return airglow_ray_table(origin_radius_key(origin_teme_km))


@lru_cache(maxsize=1)
def airglow_emission() -> AirglowEmission:
    """Return the :class:`AirglowEmission` of the bundled layers (the same at every instant)."""
    lum = np.array([line_rgb_per_cd_m2(lay.lines_nm, lay.lines_rayleigh) * layer_cd_m2_per_rayleigh(lay)
                    for lay in _ag.LAYERS])
    thr = np.radians(airglow_dark_threshold_deg())
    k, phase = airglow_waves()
    return AirglowEmission(tuple(lay.name for lay in _ag.LAYERS), np.ascontiguousarray(lum), np.cos(thr),
                           np.sin(thr) * np.radians(AIRGLOW_DARK_RAMP_DEG), np.ascontiguousarray(k),
                           np.ascontiguousarray(phase), AIRGLOW_WAVE_RMS, AIRGLOW_WAVE_HEIGHT_KM)


# -- aurora ---------------------------------------------------------------------------------------
AURORA_BOTTOM_KM = 80.0
AURORA_TOP_KM = 400.0
AURORA_GRID_DEG = 0.25
AURORA_MIN_ABS_LAT_DEG = 25.0  # the oval never reaches lower (Kp 9 equatorward edge ~ 45 deg magnetic)
AURORA_DARK_RAMP_DEG = 4.0  # full strength once the Sun is this far below DARK_SUN_ELEV_DEG
AURORA_EDGE_DEG = 0.4  # soft edge of the discrete band (logistic width)
AURORA_DIFFUSE_LEVEL = 0.05  # relative level between the equatorward and diffuse boundaries
N_PHI_BINS = 720
AURORA_ARC_SHARE = 0.5  # share of the discrete band's column drawn as arcs (module docstring)
AURORA_ARC_SIGMA_KM = 8.0  # Gaussian sigma of an arc's cross-section
AURORA_RAY_DEPTH = 0.6  # b: how much of an arc's brightness the rays modulate
AURORA_DRIFT_KM_S = 1.0
AURORA_FORMS_SEED = 20210502  # the fixed draw (seed 2's date)
_ARC_FIELDS = 10  # f0, a1, m1, psi1, a2, m2, psi2, n_ray, chi_ray, relative brightness


def arc_count(kp: float) -> int:
    """Return the number of arcs drawn at planetary index `kp`: 2 at quiet times, 5 in storms."""
    return int(np.clip(2 + np.floor(float(kp) / 2.5), 2, 5))


@dataclass(frozen=True, eq=False)
class AuroraForms:
    """Arcs inside the oval (module docstring): per arc (K, 10) f0, fold amplitudes/orders/phases,
    ray order/phase, brightness; phases already advanced to the instant."""

    arcs: np.ndarray
    sigma_rad: float  # cross-section sigma as an angle at the Earth's centre
    share: float
    ray_depth: float


def aurora_forms(kp: float, seconds: float, seed: int = AURORA_FORMS_SEED) -> AuroraForms:
    """Return the seeded arcs for activity `kp` at `seconds` (since J2000, for the drift)."""
    rng = np.random.default_rng(seed)
    k_max = 5
    f0 = np.sort(rng.uniform(0.12, 0.88, k_max))
    a = rng.uniform(0.02, 0.06, (k_max, 2))
    m = rng.integers(4, 25, (k_max, 2)).astype(float)
    psi = rng.uniform(0.0, 2 * np.pi, (k_max, 2))
    n_ray = rng.integers(150, 451, k_max).astype(float)
    chi = rng.uniform(0.0, 2 * np.pi, k_max)
    bright = rng.uniform(0.5, 1.5, k_max)
    k = arc_count(kp)
    pick = np.sort(rng.permutation(k_max)[:k])
    # Drift: a pattern of order m moves along a ring of ~13,000 km at AURORA_DRIFT_KM_S.
    omega = AURORA_DRIFT_KM_S * seconds / 13_000.0 * 2 * np.pi
    arcs = np.column_stack([f0, a[:, 0], m[:, 0], psi[:, 0] + m[:, 0] * omega, a[:, 1], m[:, 1],
                            psi[:, 1] - m[:, 1] * omega, n_ray, chi + n_ray * omega, bright / bright[pick].mean()])
    return AuroraForms(np.ascontiguousarray(arcs[pick]), AURORA_ARC_SIGMA_KM / R_EARTH_KM, AURORA_ARC_SHARE,
                       AURORA_RAY_DEPTH)


def arc_weight(forms: AuroraForms, band_width_rad) -> np.ndarray:
    """Return the column at an arc's centre, relative to the smooth band's, for a band of
    angular width `band_width_rad`: the arcs together carry ``share`` of the band's mean column."""
    k = forms.arcs.shape[0]
    return forms.share * np.asarray(band_width_rad, float) / (k * forms.sigma_rad * math.sqrt(2 * math.pi))


def profile_norm(lo, hi) -> float:
    """Return the peak value of an asymmetric Gaussian (sigmas `lo`, `hi`) with a unit integral."""
    return 1.0 / (math.sqrt(math.pi / 2.0) * (lo + hi))


def _unit_ll(lat_deg, lon_deg):
    la, lo = np.radians(lat_deg), np.radians(lon_deg)
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


def _ring_polar(lat, lon, pole):
    u = _unit_ll(lat, lon)
    z = np.array([0.0, 0.0, 1.0]) if abs(pole[2]) < 0.99 else np.array([1.0, 0.0, 0.0])
    e1 = z - np.dot(z, pole) * pole
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(pole, e1)
    rho = np.arccos(np.clip(u @ pole, -1.0, 1.0))
    phi = np.arctan2(u @ e2, u @ e1)
    return rho, phi, np.stack([e1, e2, pole])


def oval_rings(oval):
    """Return per hemisphere the polar frame and (N_PHI_BINS, 4) rho_pole, rho_eq, rho_diffuse,
    MLT weight, resampled on a uniform azimuth grid around the oval's centre (NaN rings for a
    hemisphere with fewer than 8 usable points of a boundary: no oval there)."""
    kinds = {n: i for i, n in enumerate(KIND_NAMES)}
    h_green = AURORA_LINES[GREEN].peak_km
    frames, rings = [], []
    for hemi in (1, -1):
        base = (oval.hemisphere == hemi) & np.isclose(oval.height_km, h_green)
        sel = {n: base & (oval.kind == kinds[n]) for n in ("poleward", "equatorward", "diffuse")}
        ok = np.isfinite(oval.lat_deg) & np.isfinite(oval.lon_deg)
        if not all((s & ok).sum() >= 8 for s in sel.values()):
            frames.append(np.eye(3))
            rings.append(np.full((N_PHI_BINS, 4), np.nan))
            continue
        both = (sel["poleward"] | sel["equatorward"]) & ok
        c = _unit_ll(oval.lat_deg[both], oval.lon_deg[both]).mean(axis=0)
        pole = c / np.linalg.norm(c)
        grid = np.linspace(-np.pi, np.pi, N_PHI_BINS, endpoint=False)
        cols = []
        frame = None
        for name in ("poleward", "equatorward", "diffuse"):
            s = sel[name] & ok
            rho, phi, frame = _ring_polar(oval.lat_deg[s], oval.lon_deg[s], pole)
            cols.append(np.interp(grid, phi, rho, period=2.0 * np.pi))
        s = sel["equatorward"] & ok
        _, phi, _ = _ring_polar(oval.lat_deg[s], oval.lon_deg[s], pole)
        mlt = oval.mlt_h[s]
        # Brightest near magnetic midnight, a third of that at noon (module docstring).
        wmlt = 0.3 + 0.7 * np.cos(np.pi * mlt / 24.0) ** 2
        cols.append(np.interp(grid, phi, wmlt, period=2.0 * np.pi))
        frames.append(frame)
        rings.append(np.stack(cols, axis=-1))
    return np.ascontiguousarray(np.stack(frames)), np.ascontiguousarray(np.stack(rings))


@kernel(parallel=True)
def _oval_grid_kernel(frames, rings, sun_itrs, o_hat, cos_cap, step_deg, min_abs_lat, edge_rad, diffuse_level,
                      dark_sin, ramp_sin, grid):  # pragma: no cover - jit
    nlat, nlon = grid.shape
    nphi = rings.shape[1]
    clon = np.empty(nlon)
    slon = np.empty(nlon)
    for j in range(nlon):
        lon = math.radians(-180.0 + (j + 0.5) * step_deg)
        clon[j] = math.cos(lon)
        slon[j] = math.sin(lon)
    for i in nb.prange(nlat):
        lat = -90.0 + (i + 0.5) * step_deg
        for j in range(nlon):
            grid[i, j] = 0.0
        if abs(lat) < min_abs_lat:
            continue
        hemi = 0 if lat > 0.0 else 1
        if not math.isfinite(rings[hemi, 0, 0]):  # no oval in this hemisphere
            continue
        cl, sl = math.cos(math.radians(lat)), math.sin(math.radians(lat))
        for j in range(nlon):
            ux = cl * clon[j]
            uy = cl * slon[j]
            uz = sl
            if ux * o_hat[0] + uy * o_hat[1] + uz * o_hat[2] < cos_cap:
                continue  # beyond the station's view of the emission shell
            s_el = ux * sun_itrs[0] + uy * sun_itrs[1] + uz * sun_itrs[2]  # sin(Sun elevation)
            dark = (dark_sin - s_el) / ramp_sin
            if dark <= 0.0:
                continue
            if dark > 1.0:
                dark = 1.0
            f = frames[hemi]
            c = ux * f[2, 0] + uy * f[2, 1] + uz * f[2, 2]
            rho = math.acos(min(max(c, -1.0), 1.0))
            phi = math.atan2(ux * f[1, 0] + uy * f[1, 1] + uz * f[1, 2], ux * f[0, 0] + uy * f[0, 1] + uz * f[0, 2])
            k = int((phi + math.pi) / (2.0 * math.pi) * nphi) % nphi
            r_pole, r_eq, r_diff, wmlt = rings[hemi, k, 0], rings[hemi, k, 1], rings[hemi, k, 2], rings[hemi, k, 3]
            inner = 1.0 / (1.0 + math.exp(-(rho - r_pole) / edge_rad))
            outer = 1.0 / (1.0 + math.exp(-(r_eq - rho) / edge_rad))
            v = inner * outer
            if rho > r_eq and rho < r_diff:
                v = max(v, diffuse_level)
            v = v * wmlt * dark
            grid[i, j] = v if v > 1e-3 else 0.0  # cut the logistic tails: empty cells are skipped


def view_cap(r_itrs_km) -> tuple[np.ndarray, float]:
    """Return the station's ITRS unit vector and the cosine of the largest central angle at which
    a point of the emission's top shell is above the hard horizon (+1 deg)."""
    o = np.asarray(r_itrs_km, float).reshape(3)
    r_o = float(np.linalg.norm(o))
    r_e = WGS84_B_KM
    arc = math.acos(min(r_e / r_o, 1.0)) + math.acos(r_e / (r_e + AURORA_TOP_KM)) + math.radians(1.0)
    return o / r_o, math.cos(arc)


def oval_grid(frames, rings, sun_dir_itrs, r_itrs_km=None, step_deg: float = AURORA_GRID_DEG) -> np.ndarray:
    """Return the relative auroral intensity on a lat/lon grid, (180/step, 360/step) float32.

    Rows run from -90 deg latitude (cell centres at -90 + (i + 0.5) step), columns from -180 deg
    longitude (module docstring for the values). With the station's position `r_itrs_km`, only
    cells it can see at the emission's top height are filled (others 0).
    """
    nlat, nlon = int(round(180.0 / step_deg)), int(round(360.0 / step_deg))
    grid = np.empty((nlat, nlon), np.float32)
    dark_sin = math.sin(math.radians(DARK_SUN_ELEV_DEG))
    ramp = dark_sin - math.sin(math.radians(DARK_SUN_ELEV_DEG - AURORA_DARK_RAMP_DEG))
    o_hat, cos_cap = view_cap(r_itrs_km) if r_itrs_km is not None else (np.zeros(3), -2.0)
    _oval_grid_kernel(frames, rings, np.asarray(sun_dir_itrs, float), o_hat, cos_cap, float(step_deg),
                      AURORA_MIN_ABS_LAT_DEG, math.radians(AURORA_EDGE_DEG), AURORA_DIFFUSE_LEVEL, dark_sin, ramp, grid)
    return grid


def _aurora_profile_table(r_o: float) -> RayTable:
    """Return the path integral along rays of each unit-column line profile, tabulated in p like
    the airglow (Gauss-Legendre in w = sqrt(r - p))."""
    a = WGS84_A_KM
    coarse, fine, out = _p_grids(r_o, a)
    x, wq = np.polynomial.legendre.leggauss(96)
    r_lo, r_hi = a + AURORA_BOTTOM_KM, a + AURORA_TOP_KM

    def integrate(p, lo, hi):
        lo = np.clip(lo, r_lo, r_hi)
        hi = np.clip(hi, r_lo, r_hi)
        ok = hi > lo
        wa = np.sqrt(np.maximum(lo - p, 0.0))
        wb = np.sqrt(np.maximum(hi - p, 0.0))
        half = np.where(ok, 0.5 * (wb - wa), 0.0)[:, None]
        ww = (0.5 * (wb + wa))[:, None] + half * x
        rr = p[:, None] + ww * ww
        jac = 2.0 * rr / np.sqrt(2.0 * p[:, None] + ww * ww)
        res = []
        for ln in AURORA_LINES:
            hh = rr - a
            s = np.where(hh < ln.peak_km, ln.sigma_below_km, ln.sigma_above_km)
            eta = profile_norm(ln.sigma_below_km, ln.sigma_above_km) * np.exp(-0.5 * ((hh - ln.peak_km) / s) ** 2)
            res.append(np.sum(eta * jac * wq, axis=-1) * half[:, 0])
        return np.stack(res)

    p_in = np.concatenate([coarse, fine])
    ground = p_in < a
    near = integrate(p_in, np.where(ground, a, p_in), np.full_like(p_in, r_o))
    far = integrate(p_in, np.where(ground, np.inf, p_in), np.where(ground, -np.inf, np.inf))
    t_out = integrate(out, np.full_like(out, r_o), np.full_like(out, np.inf))
    return RayTable(_params(coarse, out, a), np.ascontiguousarray(near + far), np.ascontiguousarray(t_out))


@lru_cache(maxsize=32)
def aurora_ray_table(r_o_key: float) -> RayTable:
    """Return the unit-column line profiles' ray integrals for an origin radius (cached)."""
    return _aurora_profile_table(float(r_o_key))


@lru_cache(maxsize=1)
def aurora_line_luminance_rgb() -> np.ndarray:
    """Return (L, 3): the camera's linear RGB (cd/m^2 of the eye's luminance, coloured as the camera
    records it: :func:`cupola.colour.line_rgb_per_cd_m2`) of 1 R of each ``AURORA_LINES`` entry."""
    rows = [line_rgb_per_cd_m2([ln.wavelength_nm]) * float(rayleigh_to_cd_m2(ln.wavelength_nm)) for ln in AURORA_LINES]
    return np.ascontiguousarray(np.array(rows))


@dataclass(frozen=True, eq=False)
class AuroraEmission:
    """The auroral oval at one instant as the renderer integrates it."""

    grid: np.ndarray  # (180/step, 360/step) float32 relative intensity (0..1), see oval_grid
    step_deg: float
    profiles: np.ndarray  # (L, 4): peak_km, sigma_below_km, sigma_above_km, peak of the unit profile
    column_ratios: np.ndarray  # (L,) vertical column relative to the 557.7 nm line
    line_luminance_rgb: np.ndarray  # (L, 3) cd/m^2 per rayleigh
    activity_al_nt: float  # |AL| estimated from Kp (the renderer's brightness calibration reads it)
    frames: np.ndarray = None  # (2, 3, 3) per hemisphere the oval's polar frame (oval_rings)
    rings: np.ndarray = None  # (2, N_PHI_BINS, 4) rho_pole, rho_eq, rho_diffuse, MLT weight
    forms: AuroraForms | None = None  # the arcs; None: the smooth statistical band alone
    bottom_km: float = AURORA_BOTTOM_KM
    top_km: float = AURORA_TOP_KM

    @property
    def in_view(self) -> bool:
        """Return whether any cell of the (view-capped) grid glows."""
        return bool(self.grid.any())

    def ray_table(self, origin_teme_km) -> RayTable:
        """Return the unit-column profiles' ray integrals from the station at `origin_teme_km`."""
        return aurora_ray_table(origin_radius_key(origin_teme_km))


def aurora_emission(oval, state, step_deg: float = AURORA_GRID_DEG) -> AuroraEmission:
    """Return the :class:`AuroraEmission` of `oval` (:func:`aurora.aurora_oval`) seen from the
    single-instant `state`."""
    from .aurora import kp_to_al_nt

    frames, rings = oval_rings(oval)
    theta = float(np.asarray(gmst82(state.instants)[0]).reshape(-1)[0])
    sun = rotate_z(np.asarray(state.sun_teme_km, float).reshape(3), theta)
    grid = oval_grid(frames, rings, sun / np.linalg.norm(sun), np.asarray(state.r_itrs_km, float), step_deg)
    prof = np.array([[ln.peak_km, ln.sigma_below_km, ln.sigma_above_km, profile_norm(ln.sigma_below_km, ln.sigma_above_km)]
                     for ln in AURORA_LINES])
    ratios = np.array([ln.column_ratio for ln in AURORA_LINES])
    seconds = float((np.asarray(state.instants.utc, "datetime64[ns]").reshape(-1)[0]
                     - np.datetime64("2000-01-01T12:00:00", "ns")) / np.timedelta64(1, "s"))
    return AuroraEmission(grid, float(step_deg), prof, ratios, aurora_line_luminance_rgb(),
                          float(kp_to_al_nt(oval.kp)), frames, rings, aurora_forms(float(oval.kp), seconds))


__all__ = [
    "RayTable", "AirglowEmission", "AuroraEmission", "AuroraForms", "airglow_emission", "aurora_emission",
    "aurora_forms", "arc_count", "arc_weight", "airglow_waves", "airglow_wave_factor",
    "airglow_ray_table", "aurora_ray_table", "airglow_dark_threshold_deg", "layer_cd_m2_per_rayleigh",
    "aurora_line_luminance_rgb", "oval_rings", "oval_grid", "view_cap", "origin_radius_key", "profile_norm",
    "SCALE_Z", "AURORA_GRID_DEG", "AURORA_BOTTOM_KM", "AURORA_TOP_KM",
]

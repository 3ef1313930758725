"""Emissive layers: airglow shells and the auroral oval, as linear luminance (cd/m^2, sRGB primaries).

Every layer follows the render contract ``layer(scene, geom, out=None) -> float32 (H, W, 3)`` (adding into `out` when given): linear
luminance in cd/m^2 with linear sRGB/Rec.709 primaries (Y = 0.2126 R + 0.7152 G + 0.0722 B).

Photometry of a line emission (rayleigh -> luminance)
-----------------------------------------------------
1 R is 1e10 / (4 pi) photons s^-1 m^-2 sr^-1 (Hunten, Roach & Chamberlain 1956, J. Atmos. Terr.
Phys. 8, 345), so a column brightness B (R) at wavelength lambda is the luminance

    L_v = B * 1e10 / (4 pi) * (h c / lambda) * 683 lm/W * V(lambda)       [cd/m^2]

with V the CIE 1924 photopic luminous efficiency (equal to the CIE 1931 2-degree y-bar), tabulated
below every 5 nm (CIE 015:2004, Table T.4; the same values as colour-science's
``SDS_LEFS_PHOTOPIC``, checked in tests). At 557.7 nm: 1 R = 1.93e-7 cd/m^2.

Geometry
--------
The ground is the WGS84 ellipsoid (as in :mod:`cupola.render.geometry`). Scaling z by a/b turns
it into a sphere of radius a; a shell at height h above the ellipsoid becomes, to 0.34 % of h
(0.3 km at 97 km), the sphere of radius a + h. In that scaled space every ray from the station is
fixed, up to a rotation, by its closest approach p to the centre and whether it starts inward
(towards the tangent point) or outward; so the emission integrated along a ray is a 1-D function
of p. We tabulate it once per frame (the ``phenomena.airglow`` Gauss-Legendre kernel, which stops
at the ground) on a 0.25 km grid of p around the shells, and each pixel interpolates it: exact
integration at a per-pixel cost of a few flops instead of 4 x 64 quadrature nodes.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numba as nb
import numpy as np

from ..jit import inline, kernel
from ..colour import unit_luminance
from ..constants import WGS84_A_KM, WGS84_B_KM, WGS84_E2
from ..photometry import lines_cd_m2_per_rayleigh, rayleigh_to_cd_m2
from ..phenomena import airglow as _ag
from ..phenomena.aurora import DARK_SUN_ELEV_DEG, KIND_NAMES

# Linear sRGB of the N2+ first-negative 427.8 nm line: CIE 1931 xyz-bar at 427.8 nm (linear
# between the 425/430 nm entries: 0.2535, 0.0097, 1.2330) -> sRGB matrix (IEC 61966-2-1) =
# (0.1918, -0.1762, 1.3155); gamut-mapped like tools/build_airglow_colours.py (add equal RGB until
# the minimum is 0, scale the maximum to 1). Checked against colour-science in the tests.
N2P_427_RGB_LINEAR = (0.2467, 0.0, 1.0)


def layer_cd_m2_per_rayleigh(layer) -> float:
    """Return the luminance (cd/m^2) of 1 R of an airglow layer's visible emission, the lines
    weighted by their share of the layer's rayleighs."""
    lay = _ag.get_layer(layer)
    return lines_cd_m2_per_rayleigh(lay.lines_nm, lay.lines_rayleigh)


# -- tabulated ray integrals -------------------------------------------------------------------------
SCALE_Z = WGS84_A_KM / WGS84_B_KM  # z stretch that turns the ellipsoid into a sphere of radius a
P_FINE_BELOW_KM = 200.0  # the fine p grid starts this far below the ground sphere
P_FINE_STEP_KM = 0.25
P_COARSE_N = 256
P_OUT_N = 512


def _p_grids(r_o: float, a: float):
    p1 = a - P_FINE_BELOW_KM
    n1 = int(math.ceil((r_o - p1) / P_FINE_STEP_KM)) + 1
    coarse = np.linspace(0.0, p1, P_COARSE_N, endpoint=False)
    fine = p1 + P_FINE_STEP_KM * np.arange(n1)
    out = np.linspace(0.0, r_o, P_OUT_N)
    return coarse, fine, out


def _rays_with_p(r_o: float, p: np.ndarray, inward: bool):
    s = np.clip(p / r_o, 0.0, 1.0)
    c = np.sqrt(1.0 - s * s)
    d = np.stack([-c if inward else c, s, np.zeros_like(s)], axis=-1)
    return np.array([r_o, 0.0, 0.0]), d


@lru_cache(maxsize=32)
def _airglow_tables(r_o_key: float):
    """Return (params, inward (4, n), outward (4, m)) rayleigh tables for an origin radius."""
    r_o = float(r_o_key)
    a = WGS84_A_KM
    coarse, fine, out = _p_grids(r_o, a)
    p_in = np.concatenate([coarse, fine])
    o, d_in = _rays_with_p(r_o, p_in, True)
    _, d_out = _rays_with_p(r_o, out, False)
    t_in = np.stack([_ag.layer_emission_along_rays(o, d_in, lay, r_earth_km=a) for lay in _ag.LAYERS])
    t_out = np.stack([_ag.layer_emission_along_rays(o, d_out, lay, r_earth_km=a) for lay in _ag.LAYERS])
    params = np.array([P_COARSE_N, coarse[1] - coarse[0], a - P_FINE_BELOW_KM, P_FINE_STEP_KM, out[1] - out[0]])
    return params, np.ascontiguousarray(t_in), np.ascontiguousarray(t_out)


@inline
def _lerp(table, k, x, x0, dx, n0):  # pragma: no cover - jit
    """Linear interpolation in table[k, n0:] sampled at x0 + i dx (clamped)."""
    u = (x - x0) / dx
    n = table.shape[1] - n0
    if u <= 0.0:
        return table[k, n0]
    i = int(u)
    if i >= n - 1:
        return table[k, n0 + n - 1]
    f = u - i
    return table[k, n0 + i] * (1.0 - f) + table[k, n0 + i + 1] * f


@inline
def _table_at(tin, tout, k, p, inward, params):  # pragma: no cover - jit
    n_coarse = int(params[0])
    if inward:
        if p < params[2]:
            return _lerp(tin, k, p, 0.0, params[1], 0)
        return _lerp(tin, k, p, params[2], params[3], n_coarse)
    return _lerp(tout, k, p, 0.0, params[4], 0)


@inline
def _scaled_ray(o, dx, dy, dz, kz):  # pragma: no cover - jit
    """Return (p, tc, sn) of a ray in the z-stretched space (sphere of radius a)."""
    sx, sy, sz = dx, dy, dz * kz
    sn = math.sqrt(sx * sx + sy * sy + sz * sz)
    sx /= sn
    sy /= sn
    sz /= sn
    ox, oy, oz = o[0], o[1], o[2] * kz
    tc = -(ox * sx + oy * sy + oz * sz)
    r2 = ox * ox + oy * oy + oz * oz
    p = math.sqrt(max(r2 - tc * tc, 0.0))
    return p, tc, sn


@kernel(parallel=True)
def _airglow_kernel(dirs, hit, cos_sz, o, sun, kz, params, tin, tout, lum_rgb, thr_cos, ramp_cos,
                    out):  # pragma: no cover - jit
    h, w = dirs.shape[0], dirs.shape[1]
    nl = tin.shape[0]
    for i in nb.prange(h):
        for j in range(w):
            dx, dy, dz = dirs[i, j, 0], dirs[i, j, 1], dirs[i, j, 2]
            p, tc, sn = _scaled_ray(o, dx, dy, dz, kz)
            inward = tc > 0.0
            # Solar zenith angle where the emission comes from: the ground point for rays that
            # hit, the tangent point for rays that pass, the station for rays going outward.
            if hit[i, j]:
                c = cos_sz[i, j]
            else:
                t = -(o[0] * dx + o[1] * dy + o[2] * dz)
                if t < 0.0:
                    t = 0.0
                px, py, pz = o[0] + t * dx, o[1] + t * dy, o[2] + t * dz
                c = (px * sun[0] + py * sun[1] + pz * sun[2]) / math.sqrt(px * px + py * py + pz * pz)
            r = 0.0
            g = 0.0
            b = 0.0
            for k in range(nl):
                # Linear ramp in cos(SZA) across the threshold (the ramp is a few degrees wide).
                wt = (thr_cos[k] - c) / ramp_cos[k] + 0.5
                if wt <= 0.0:
                    continue
                if wt > 1.0:
                    wt = 1.0
                e = _table_at(tin, tout, k, p, inward, params) * wt / sn
                r += e * lum_rgb[k, 0]
                g += e * lum_rgb[k, 1]
                b += e * lum_rgb[k, 2]
            out[i, j, 0] += r
            out[i, j, 1] += g
            out[i, j, 2] += b


AIRGLOW_DARK_RAMP_DEG = 3.0  # the glow fades in over this range of solar zenith angle


def airglow_dark_threshold_deg() -> np.ndarray:
    """Return per layer (``phenomena.airglow.LAYERS`` order) the solar zenith angle (deg) at the
    emitting region beyond which the layer is drawn: the Earth's geometric shadow at the layer's
    height, 90 + arccos(R / (R + h)) (99.4 deg for OH at 87 km ... 105.8 deg for OI 630 nm at
    250 km), as ``phenomena.airglow`` decides visibility. It fades in over
    ``AIRGLOW_DARK_RAMP_DEG`` centred there."""
    return np.array([float(_ag.dark_threshold_sza_deg(lay.height_km)) for lay in _ag.LAYERS])


@lru_cache(maxsize=1)
def _airglow_thresholds_cos():
    thr = np.radians(airglow_dark_threshold_deg())
    return np.cos(thr), np.sin(thr) * np.radians(AIRGLOW_DARK_RAMP_DEG)


@lru_cache(maxsize=1)
def airglow_layer_luminance_rgb() -> np.ndarray:
    """Return (4, 3): linear RGB luminance (cd/m^2) of 1 R of each airglow layer (LAYERS order)."""
    table = _ag.colour_table()["layers"]
    rows = []
    for lay in _ag.LAYERS:
        rows.append(unit_luminance(table[lay.name]["rgb_linear"]) * layer_cd_m2_per_rayleigh(lay))
    return np.ascontiguousarray(np.array(rows))


def _tables_for(origin_teme_km):
    o = np.asarray(origin_teme_km, float)
    r_o = float(np.linalg.norm(o * np.array([1.0, 1.0, SCALE_Z])))
    return _airglow_tables(round(r_o * 2.0) / 2.0)  # 0.5 km bins: the tables move < 0.1 % within


def airglow_layer(scene, geom, out: np.ndarray | None = None) -> np.ndarray:
    """Return the airglow of the four nightglow shells along every pixel ray, (H, W, 3) float32
    linear cd/m^2.

    Each layer's Gaussian shell (``phenomena.airglow.LAYERS``: height, width, typical zenith
    brightness) is integrated along the ray from the station to the ground (or to space), converted
    from rayleighs to luminance at its lines (module docstring) and coloured with its
    ``colour_rgb_linear``. It is drawn only where the emitting region is dark: the solar zenith
    angle at the ray's tangent point (ground point for rays that hit) beyond the layer's shadow
    threshold (:func:`airglow_dark_threshold_deg`).
    """
    params, tin, tout = _tables_for(geom.origin_teme_km)
    h, w = geom.dirs_teme.shape[:2]
    out = np.zeros((h, w, 3), np.float32) if out is None else out  # the kernel adds into it
    _airglow_kernel(geom.dirs_teme, geom.hit, geom.cos_sun_zenith, np.asarray(geom.origin_teme_km, float),
                    np.asarray(geom.sun_dir_teme, float), SCALE_Z, params, tin, tout,
                    airglow_layer_luminance_rgb(), *_airglow_thresholds_cos(), out)
    return out


def airglow_column_rayleigh(geom, layer) -> np.ndarray:
    """Return the layer's brightness (rayleigh) along every pixel ray, (H, W) float64, without the
    darkness weight: the same tables as :func:`airglow_layer`, for tests and diagnostics."""
    params, tin, tout = _tables_for(geom.origin_teme_km)
    k = [lay.name for lay in _ag.LAYERS].index(_ag.get_layer(layer).name)
    o = np.asarray(geom.origin_teme_km, float)
    d = geom.dirs_teme.astype(float)
    ds = d * np.array([1.0, 1.0, SCALE_Z])
    sn = np.linalg.norm(ds, axis=-1)
    ds /= sn[..., None]
    os_ = o * np.array([1.0, 1.0, SCALE_Z])
    tc = -(ds @ os_)
    p = np.sqrt(np.maximum(os_ @ os_ - tc * tc, 0.0))
    n0 = int(params[0])
    grid_c = params[1] * np.arange(n0)
    grid_f = params[2] + params[3] * np.arange(tin.shape[1] - n0)
    grid_o = params[4] * np.arange(tout.shape[1])
    v_in = np.where(p < params[2], np.interp(p, grid_c, tin[k, :n0]), np.interp(p, grid_f, tin[k, n0:]))
    v_out = np.interp(p, grid_o, tout[k])
    return np.where(tc > 0.0, v_in, v_out) / sn


# -- aurora ------------------------------------------------------------------------------------------
# Vertical volume-emission profiles (asymmetric Gaussians in height, unit vertical column):
# (name, wavelength_nm, peak_km, sigma_below_km, sigma_above_km, ratio to the 557.7 nm column).
# Heights: green OI 557.7 nm mostly 100-200 km peaking near 110 km; red OI 630.0 nm 200-400 km
# peaking near 250 km; N2+ 427.8 nm at the lower border, ~90-100 km (design note section 8;
# Chamberlain 1961, "Physics of the aurora and airglow", ch. 4). Column ratios for ordinary
# (type-C) aurora: I(630)/I(557.7) ~ 0.1-0.3, I(427.8)/I(557.7) ~ 0.2-0.3 (Rees & Luckey 1974,
# JGR 79, 5181; Omholt 1971, "The optical aurora").
AURORA_LINES = (
    ("oi_green", 557.7, 110.0, 8.0, 30.0, 1.0),
    ("oi_red", 630.0, 250.0, 30.0, 60.0, 0.25),
    ("n2p_blue", 427.8, 95.0, 4.0, 6.0, 0.3),
)
AURORA_BOTTOM_KM = 80.0
AURORA_TOP_KM = 400.0
AURORA_GRID_DEG = 0.25
AURORA_MIN_ABS_LAT_DEG = 25.0  # the oval never reaches lower (Kp 9 equatorward edge ~ 45 deg magnetic)
AURORA_DARK_RAMP_DEG = 4.0  # full strength once the Sun is this far below DARK_SUN_ELEV_DEG
AURORA_EDGE_DEG = 0.4  # soft edge of the discrete band (logistic width)
AURORA_DIFFUSE_LEVEL = 0.05  # relative level between the equatorward and diffuse boundaries
AURORA_NODES = 8  # Gauss-Legendre nodes per ray branch for the oval look-ups
AURORA_MAX_RAYS = 60_000
AURORA_COARSE = 4  # coarse pre-pass spacing, in traced rays  # rays traced per frame; the image is filled by bilinear upsampling
# Brightness of the discrete oval in 557.7 nm against activity: our calibration on the
# International Brightness Coefficient scale (IBC I ~ 1 kR, II ~ 10 kR, III ~ 100 kR of 557.7 nm;
# Chamberlain 1961, Table 4.2): 1 kR per 30 nT of |AL|, so Kp 0 (|AL| 18 nT) ~ 0.6 kR, Kp 3
# (172 nT) ~ 5.7 kR, Kp 5 (387 nT) ~ 13 kR, held within 0.5-50 kR. Statistical, not a measurement.
AURORA_KR_PER_NT = 1.0 / 30.0
AURORA_KR_RANGE = (0.5, 50.0)


def aurora_green_kilorayleigh(al_nt: float) -> float:
    """Return the modelled 557.7 nm zenith column (kR) of the discrete oval for activity |AL| (nT)."""
    return float(np.clip(abs(float(al_nt)) * AURORA_KR_PER_NT, *AURORA_KR_RANGE))


def _profile_norm(lo, hi):
    return 1.0 / (math.sqrt(math.pi / 2.0) * (lo + hi))


@inline
def _eta(hh, h0, slo, shi, norm):  # pragma: no cover - jit
    s = slo if hh < h0 else shi
    z = (hh - h0) / s
    return norm * math.exp(-0.5 * z * z)


def _ring_polar(lat, lon, pole):
    u = _unit_ll(lat, lon)
    z = np.array([0.0, 0.0, 1.0]) if abs(pole[2]) < 0.99 else np.array([1.0, 0.0, 0.0])
    e1 = z - np.dot(z, pole) * pole
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(pole, e1)
    rho = np.arccos(np.clip(u @ pole, -1.0, 1.0))
    phi = np.arctan2(u @ e2, u @ e1)
    return rho, phi, np.stack([e1, e2, pole])


def _unit_ll(lat_deg, lon_deg):
    la, lo = np.radians(lat_deg), np.radians(lon_deg)
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


N_PHI_BINS = 720


def _oval_rings(aurora):
    """Return per hemisphere the polar frame and (N_PHI_BINS, 4) rho_pole, rho_eq, rho_diffuse,
    MLT weight, resampled on a uniform azimuth grid around the oval's centre."""
    kinds = {n: i for i, n in enumerate(KIND_NAMES)}
    h_green = AURORA_LINES_HEIGHT_FOR_OVAL
    frames, rings = [], []
    for hemi in (1, -1):
        base = (aurora.points_hemisphere == hemi) & np.isclose(aurora.points_height_km, h_green)
        sel = {n: base & (aurora.points_kind == kinds[n]) for n in ("poleward", "equatorward", "diffuse")}
        ok = np.isfinite(aurora.points_lat_deg) & np.isfinite(aurora.points_lon_deg)
        if not all((s & ok).sum() >= 8 for s in sel.values()):
            frames.append(np.eye(3))
            rings.append(np.full((N_PHI_BINS, 4), np.nan))
            continue
        both = (sel["poleward"] | sel["equatorward"]) & ok
        c = _unit_ll(aurora.points_lat_deg[both], aurora.points_lon_deg[both]).mean(axis=0)
        pole = c / np.linalg.norm(c)
        grid = np.linspace(-np.pi, np.pi, N_PHI_BINS, endpoint=False)
        cols = []
        frame = None
        for name in ("poleward", "equatorward", "diffuse"):
            s = sel[name] & ok
            rho, phi, frame = _ring_polar(aurora.points_lat_deg[s], aurora.points_lon_deg[s], pole)
            cols.append(np.interp(grid, phi, rho, period=2.0 * np.pi))
        s = sel["equatorward"] & ok
        _, phi, _ = _ring_polar(aurora.points_lat_deg[s], aurora.points_lon_deg[s], pole)
        mlt = aurora.points_mlt_h[s]
        # Brightest near magnetic midnight, a third of that at noon (the dayside oval is faint;
        # e.g. Liou et al. 1997, JGR 102, 27197, UVI statistical oval): our stated weighting.
        wmlt = 0.3 + 0.7 * np.cos(np.pi * mlt / 24.0) ** 2
        cols.append(np.interp(grid, phi, wmlt, period=2.0 * np.pi))
        frames.append(frame)
        rings.append(np.stack(cols, axis=-1))
    return np.ascontiguousarray(np.stack(frames)), np.ascontiguousarray(np.stack(rings))


AURORA_LINES_HEIGHT_FOR_OVAL = 110.0  # the oval points of the green emission height


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
        if not math.isfinite(rings[hemi, 0, 0]):
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


def _view_cap(geom):
    """Return the station's ITRS unit vector and the cosine of the largest central angle at which
    a point of the 400 km shell is above the hard horizon (+1 deg)."""
    o = np.asarray(geom.origin_teme_km, float)
    c, s = math.cos(geom.theta_gmst), math.sin(geom.theta_gmst)
    o_itrs = np.array([c * o[0] + s * o[1], -s * o[0] + c * o[1], o[2]])
    r_o = float(np.linalg.norm(o_itrs))
    r_e = WGS84_B_KM
    arc = math.acos(min(r_e / r_o, 1.0)) + math.acos(r_e / (r_e + AURORA_TOP_KM)) + math.radians(1.0)
    return o_itrs / r_o, math.cos(arc)


def aurora_oval_grid(scene, geom, step_deg: float = AURORA_GRID_DEG, view_cap: bool = True) -> np.ndarray:
    """Return the relative auroral intensity on a lat/lon grid, (180/step, 360/step) float32.

    Rows run from -90 deg latitude (cell centres at -90 + (i + 0.5) step), columns from -180 deg
    longitude. 1 inside the discrete oval band (between the Feldstein-Starkov poleward and
    equatorward boundaries of ``scene.aurora``, edges softened over ~AURORA_EDGE_DEG), 0.05 in
    the diffuse zone out to the diffuse boundary, weighted by magnetic local time (1 at
    midnight, 0.3 at noon) and set to 0 where the ground beneath is not dark (Sun above
    ``aurora.DARK_SUN_ELEV_DEG`` = -12 deg, full strength 4 deg lower). The boundaries are
    interpolated around the oval's centre in azimuth. With `view_cap` only cells the station
    can see at 400 km are filled (others 0).
    """
    frames, rings = _oval_rings(scene.aurora)
    c, s = math.cos(geom.theta_gmst), math.sin(geom.theta_gmst)
    sd = np.asarray(geom.sun_dir_teme, float)
    sun_itrs = np.array([c * sd[0] + s * sd[1], -s * sd[0] + c * sd[1], sd[2]])
    nlat, nlon = int(round(180.0 / step_deg)), int(round(360.0 / step_deg))
    grid = np.empty((nlat, nlon), np.float32)
    dark_sin = math.sin(math.radians(DARK_SUN_ELEV_DEG))
    ramp = dark_sin - math.sin(math.radians(DARK_SUN_ELEV_DEG - AURORA_DARK_RAMP_DEG))
    o_hat, cos_cap = _view_cap(geom) if view_cap else (np.zeros(3), -2.0)
    _oval_grid_kernel(frames, rings, sun_itrs, o_hat, cos_cap, float(step_deg), AURORA_MIN_ABS_LAT_DEG,
                      math.radians(AURORA_EDGE_DEG), AURORA_DIFFUSE_LEVEL, dark_sin, ramp, grid)
    return grid


def _aurora_profile_table(r_o: float):
    """Return (params, inward (3, n), outward (3, m)): path integral along rays of each unit-column
    emission profile, tabulated in p like the airglow (Gauss-Legendre in w = sqrt(r - p))."""
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
        for _, _, h0, slo, shi, _ in AURORA_LINES:
            hh = rr - a
            s = np.where(hh < h0, slo, shi)
            eta = _profile_norm(slo, shi) * np.exp(-0.5 * ((hh - h0) / s) ** 2)
            res.append(np.sum(eta * jac * wq, axis=-1) * half[:, 0])
        return np.stack(res)

    p_in = np.concatenate([coarse, fine])
    ground = p_in < a
    near = integrate(p_in, np.where(ground, a, p_in), np.full_like(p_in, r_o))
    far = integrate(p_in, np.where(ground, np.inf, p_in), np.where(ground, -np.inf, np.inf))
    t_out = integrate(out, np.full_like(out, r_o), np.full_like(out, np.inf))
    params = np.array([P_COARSE_N, coarse[1] - coarse[0], a - P_FINE_BELOW_KM, P_FINE_STEP_KM, out[1] - out[0]])
    return params, np.ascontiguousarray(near + far), np.ascontiguousarray(t_out)


@lru_cache(maxsize=32)
def _aurora_tables(r_o_key: float):
    return _aurora_profile_table(float(r_o_key))


@kernel(parallel=True)
def _aurora_kernel(dirs, rows, cols, mask, o, kz, a, e2, theta, r_lo, r_hi, params, tin, tout, prof, grid,
                   step_deg, xg, wg, out):  # pragma: no cover - jit
    """Per traced ray: the oval grid sampled at Gauss-Legendre nodes along the ray's path through
    the 80-400 km shell, averaged with each emission's profile x path weights, times the exact
    tabulated path integral of that profile."""
    nr, nc = rows.shape[0], cols.shape[0]
    nl = prof.shape[0]
    nlat, nlon = grid.shape
    c, s = math.cos(theta), math.sin(theta)
    ox, oy, oz = o[0], o[1], o[2] * kz
    r_o = math.sqrt(ox * ox + oy * oy + oz * oz)
    for ii in nb.prange(nr):
        num = np.zeros(3)
        den = np.zeros(3)
        for jj in range(nc):
            i, j = rows[ii], cols[jj]
            for k in range(nl):
                out[ii, jj, k] = 0.0
                num[k] = 0.0
                den[k] = 0.0
            if not mask[ii, jj]:
                continue
            dx, dy, dz = dirs[i, j, 0], dirs[i, j, 1], dirs[i, j, 2]
            p, tc, sn = _scaled_ray(o, dx, dy, dz, kz)
            inward = tc > 0.0
            col_any = False
            for k in range(nl):
                if _table_at(tin, tout, k, p, inward, params) > 0.0:
                    col_any = True
            if not col_any:
                continue
            for branch in range(2):
                if branch == 0:
                    if not inward:
                        continue
                    lo = max(p, r_lo)
                    hi = min(r_o, r_hi)
                    sign = -1.0
                else:
                    if inward and p < a:
                        continue
                    lo = max(p if inward else r_o, r_lo)
                    hi = r_hi
                    sign = 1.0
                if hi <= lo:
                    continue
                wa = math.sqrt(max(lo - p, 0.0))
                wb = math.sqrt(max(hi - p, 0.0))
                half = 0.5 * (wb - wa)
                mid = 0.5 * (wb + wa)
                for q in range(xg.shape[0]):
                    ww = mid + half * xg[q]
                    rr = p + ww * ww
                    ds = wg[q] * half * 2.0 * rr / math.sqrt(2.0 * p + ww * ww)
                    t_s = tc + sign * math.sqrt(max(rr * rr - p * p, 0.0))
                    t = t_s / sn
                    X = o[0] + t * dx
                    Y = o[1] + t * dy
                    Z = o[2] + t * dz
                    xi = c * X + s * Y
                    yi = -s * X + c * Y
                    lat = math.degrees(math.atan2(Z, (1.0 - e2) * math.sqrt(xi * xi + yi * yi)))
                    lon = math.degrees(math.atan2(yi, xi))
                    gi = int((lat + 90.0) / step_deg)
                    gj = int((lon + 180.0) / step_deg)
                    gi = min(max(gi, 0), nlat - 1)
                    gj = min(max(gj, 0), nlon - 1)
                    val = grid[gi, gj]
                    hh = rr - a
                    for k in range(nl):
                        e = _eta(hh, prof[k, 0], prof[k, 1], prof[k, 2], prof[k, 3]) * ds
                        num[k] += val * e
                        den[k] += e
            for k in range(nl):
                if den[k] > 0.0:
                    out[ii, jj, k] = _table_at(tin, tout, k, p, inward, params) * num[k] / den[k] / sn


@inline
def _grid_cell(u, n):  # pragma: no cover - jit
    """Return (k0, k1, fraction) of position `u` on a grid of `n` nodes, clamped at the ends."""
    k0 = int(math.floor(u))
    f = u - k0
    if k0 < 0:
        k0, f = 0, 0.0
    if k0 >= n - 1:
        k0, f = n - 1, 0.0
    return k0, min(k0 + 1, n - 1), f


@kernel(parallel=True)
def _upsample_kernel(low, lit, fct, off, lum_rgb, hit, out):  # pragma: no cover - jit
    """Bilinear upsampling of the traced (rows, cols, lines) column grid to the full frame, mixing
    the lines into RGB luminance. Only traced rays on the same side of the limb as the pixel
    (both meeting the Earth, or both missing it) are mixed: a ray that grazes above the limb
    crosses the shells twice and one that meets the ground once, so mixing them would draw a
    staircase along the limb."""
    h, w = out.shape[0], out.shape[1]
    nr, nc, nl = low.shape
    for i in nb.prange(h):
        i0, i1, fu = _grid_cell((i - off) / fct, nr)
        pi0 = min(int(off + i0 * fct), h - 1)
        pi1 = min(int(off + i1 * fct), h - 1)
        for j in range(w):
            j0, j1, fv = _grid_cell((j - off) / fct, nc)
            if not (lit[i0, j0] or lit[i0, j1] or lit[i1, j0] or lit[i1, j1]):
                continue  # no aurora along any neighbouring traced ray
            pj0 = min(int(off + j0 * fct), w - 1)
            pj1 = min(int(off + j1 * fct), w - 1)
            side = hit[i, j]
            w00 = (1.0 - fu) * (1.0 - fv) * (hit[pi0, pj0] == side)
            w01 = (1.0 - fu) * fv * (hit[pi0, pj1] == side)
            w10 = fu * (1.0 - fv) * (hit[pi1, pj0] == side)
            w11 = fu * fv * (hit[pi1, pj1] == side)
            ws = w00 + w01 + w10 + w11
            if ws <= 0.0:  # no traced ray on this side nearby: plain bilinear
                w00 = (1.0 - fu) * (1.0 - fv)
                w01 = (1.0 - fu) * fv
                w10 = fu * (1.0 - fv)
                w11 = fu * fv
                ws = 1.0
            r = 0.0
            g = 0.0
            b = 0.0
            for k in range(nl):
                e = (low[i0, j0, k] * w00 + low[i0, j1, k] * w01 + low[i1, j0, k] * w10
                     + low[i1, j1, k] * w11) / ws
                r += e * lum_rgb[k, 0]
                g += e * lum_rgb[k, 1]
                b += e * lum_rgb[k, 2]
            out[i, j, 0] += r
            out[i, j, 1] += g
            out[i, j, 2] += b


@lru_cache(maxsize=1)
def aurora_line_luminance_rgb() -> np.ndarray:
    """Return (3, 3): linear RGB luminance (cd/m^2) of 1 R of each ``AURORA_LINES`` entry."""
    table = _ag.colour_table()["layers"]
    colours = {"oi_green": table["oi_green"]["rgb_linear"], "oi_red": table["oi_red"]["rgb_linear"],
               "n2p_blue": N2P_427_RGB_LINEAR}
    rows = [unit_luminance(colours[name]) * float(rayleigh_to_cd_m2(wl)) for name, wl, *_ in AURORA_LINES]
    return np.ascontiguousarray(np.array(rows))


def _oval_in_view(grid, geom) -> bool:
    """Return whether a lit grid cell lies within the arc of the 400 km shell seen from the station."""
    ii, jj = np.nonzero(grid)
    if ii.size == 0:
        return False
    step = 180.0 / grid.shape[0]
    u = _unit_ll(-90.0 + (ii + 0.5) * step, -180.0 + (jj + 0.5) * step)
    o_hat, cos_cap = _view_cap(geom)
    return bool(np.any(u @ o_hat >= cos_cap))


def aurora_layer(scene, geom, grid: np.ndarray | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """Return the aurora as emissive curtains along every pixel ray, (H, W, 3) float32 cd/m^2.

    The statistical oval of ``scene.aurora`` is rasterised (:func:`aurora_oval_grid`); each ray is
    followed through the 80-400 km shell, the grid is read at its geodetic lat/lon at
    ``AURORA_NODES`` Gauss-Legendre nodes per branch, and each line's vertical profile
    (``AURORA_LINES``) is integrated along the ray (tabulated exactly in the ray's closest
    approach) and weighted by the oval intensity seen along it. The 557.7 nm column of the
    discrete oval is :func:`aurora_green_kilorayleigh` of the activity ``scene.aurora.intensity``
    (|AL| nT); 630.0 and 427.8 nm follow by fixed ratios. Rays are traced on a grid of at most
    ``AURORA_MAX_RAYS`` (every 6th pixel at 1920x1080) and upsampled bilinearly: the statistical
    oval has no structure finer than ~0.25 deg.
    """
    h, w = geom.dirs_teme.shape[:2]
    out = np.zeros((h, w, 3), np.float32) if out is None else out  # the kernels add into it
    if scene.aurora is None:  # no Kp known for the instant: nothing to draw
        return out
    if grid is None:
        grid = aurora_oval_grid(scene, geom)
    if not _oval_in_view(grid, geom):
        return out
    fct = max(1, int(math.ceil(math.sqrt(h * w / AURORA_MAX_RAYS))))
    off = (fct - 1) // 2
    rows = np.arange(off, h, fct)
    cols = np.arange(off, w, fct)
    o = np.asarray(geom.origin_teme_km, float)
    r_o = float(np.linalg.norm(o * np.array([1.0, 1.0, SCALE_Z])))
    params, tin, tout = _aurora_tables(round(r_o * 2.0) / 2.0)
    prof = np.array([[h0, slo, shi, _profile_norm(slo, shi)] for _, _, h0, slo, shi, _ in AURORA_LINES])
    xg, wg = np.polynomial.legendre.leggauss(AURORA_NODES)

    def trace(rr, cc, mask):
        low = np.empty((rr.size, cc.size, len(AURORA_LINES)))
        _aurora_kernel(geom.dirs_teme, rr, cc, mask, o, SCALE_Z, WGS84_A_KM, WGS84_E2, float(geom.theta_gmst),
                       WGS84_A_KM + AURORA_BOTTOM_KM, WGS84_A_KM + AURORA_TOP_KM, params, tin, tout, prof,
                       grid, float(180.0 / grid.shape[0]), xg, wg, low)
        return low

    # Coarse pass (every AURORA_COARSE-th traced ray), then only the fine rays near lit coarse ones.
    fc = fct * AURORA_COARSE
    off_c = (fc - 1) // 2
    rows_c, cols_c = np.arange(off_c, h, fc), np.arange(off_c, w, fc)
    lit = trace(rows_c, cols_c, np.ones((rows_c.size, cols_c.size), np.bool_)).sum(axis=-1) > 0.0
    pad = np.pad(lit, 1)
    near = np.zeros_like(lit)
    for di in (0, 1, 2):
        for dj in (0, 1, 2):
            near |= pad[di:di + lit.shape[0], dj:dj + lit.shape[1]]
    ci = np.clip(np.rint((rows - off_c) / fc).astype(int), 0, rows_c.size - 1)
    cj = np.clip(np.rint((cols - off_c) / fc).astype(int), 0, cols_c.size - 1)
    low = trace(rows, cols, np.ascontiguousarray(near[ci[:, None], cj[None, :]]))
    kr = aurora_green_kilorayleigh(scene.aurora.intensity)
    ratios = np.array([line[5] for line in AURORA_LINES])
    lum = np.ascontiguousarray(aurora_line_luminance_rgb() * (1000.0 * kr * ratios)[:, None])
    _upsample_kernel(low, np.ascontiguousarray(low.sum(axis=-1) > 0.0), float(fct), float(off), lum, geom.hit, out)
    return out


__all__ = [
    "airglow_layer", "aurora_layer", "aurora_oval_grid", "airglow_column_rayleigh",
    "airglow_dark_threshold_deg", "airglow_layer_luminance_rgb", "aurora_line_luminance_rgb",
    "aurora_green_kilorayleigh", "luminous_efficiency", "rayleigh_to_cd_m2", "layer_cd_m2_per_rayleigh",
    "unit_luminance_rgb", "AURORA_LINES", "N2P_427_RGB_LINEAR",
]

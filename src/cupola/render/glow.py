"""Emissive layers: airglow shells and the auroral oval, as linear luminance (cd/m^2, sRGB primaries).

Every layer follows the render contract ``layer(scene, geom, out, settings)``: it adds linear
luminance in cd/m^2 (linear sRGB/Rec.709 primaries) into `out` (H, W, 3) float32 and returns it.

What glows, where and how brightly per rayleigh comes from the Scene
(``scene.airglow_emission``, ``scene.aurora_emission``: :mod:`cupola.phenomena.emission`); this
module only integrates it along the pixel rays. Each emission's integral along a ray is
tabulated in the ray's closest approach p (a :class:`~cupola.phenomena.emission.RayTable`), so a
pixel costs a few flops instead of 4 x 64 quadrature nodes: the airglow reads the table of each
shell, weighted by the darkness of the region it comes from; the aurora follows each traced ray
through the 80-400 km shell, reads the oval grid at the ray's geodetic lat/lon at Gauss-Legendre
nodes, weights each line's tabulated profile integral by the oval intensity seen along it, and
is upsampled from a coarse grid of rays (the statistical oval has no structure finer than
~0.25 deg).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ..constants import WGS84_A_KM, WGS84_B_KM, WGS84_E2
from ..jit import inline, kernel, spread_row
from .settings import DEFAULT_SETTINGS, RenderSettings

SCALE_Z = WGS84_A_KM / WGS84_B_KM  # z stretch that turns the ellipsoid into a sphere of radius a


@inline
def _table_cell(n_in, n_out, p, inward, params):  # pragma: no cover - jit
    """Return (i0, i1, f) of impact parameter `p` in the ray tables (phenomena.emission.RayTable:
    inward rays on a fine grid below params[2] and a coarse one above it, outward rays on one
    grid), clamped at the ends: every line's column is then ``T[k, i0] (1 - f) + T[k, i1] f``
    with T the inward table (n_in columns) or the outward one (n_out), found once for all lines."""
    if inward:
        if p < params[2]:
            x0, dx, n0, n = 0.0, params[1], 0, n_in
        else:
            n0 = int(params[0])
            x0, dx, n = params[2], params[3], n_in - n0
    else:
        x0, dx, n0, n = 0.0, params[4], 0, n_out
    u = (p - x0) / dx
    if u <= 0.0:
        return n0, n0, 0.0
    i = int(u)
    if i >= n - 1:
        return n0 + n - 1, n0 + n - 1, 0.0
    return n0 + i, n0 + i + 1, u - i


@inline
def _table_at(tin, tout, k, p, inward, params):  # pragma: no cover - jit
    """Return line `k`'s tabulated column along a ray of impact parameter `p` (:func:`_table_cell`)."""
    i0, i1, f = _table_cell(tin.shape[1], tout.shape[1], p, inward, params)
    return _column(tin if inward else tout, k, i0, i1, f)


@inline
def _column(t, k, i0, i1, f):  # pragma: no cover - jit
    """Line `k`'s column in table `t` at the cell (i0, i1, f) of :func:`_table_cell`."""
    return t[k, i0] * (1.0 - f) + t[k, i1] * f


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


@inline
def _wave_factor(o, dx, dy, dz, kz, p, tc, sn, r_wave, cth, sth, wave_k, wave_ph, amp):  # pragma: no cover - jit
    """The airglow modulation (phenomena.emission.airglow_wave_factor) where the ray meets the
    sphere of radius `r_wave` (scaled space), or at its tangent point above it, or at the station."""
    if amp == 0.0:
        return 1.0
    if tc > 0.0:
        t = tc - math.sqrt(r_wave * r_wave - p * p) if p < r_wave else tc
    else:
        t = 0.0
    x = o[0] + t * dx / sn
    y = o[1] + t * dy / sn
    z = o[2] + t * dz / sn  # t runs along the scaled ray; its point, back in the real space
    nrm = math.sqrt(x * x + y * y + z * z)
    ux, uy, uz = (cth * x + sth * y) / nrm, (-sth * x + cth * y) / nrm, z / nrm
    acc = 0.0
    for q in range(wave_ph.shape[0]):
        acc += math.sin(wave_k[q, 0] * ux + wave_k[q, 1] * uy + wave_k[q, 2] * uz + wave_ph[q])
    return 1.0 + amp * acc


WAVE_GRID_STEP_PX = 8  # the airglow modulation is sampled every 8th pixel, then bilinear


@inline
def _node_pos(i, step, n, size):  # pragma: no cover - jit
    """Return pixel `i`'s position on the grid of `n` nodes at pixels 0, step, ..., the last at size - 1."""
    last = (n - 2) * step
    if n < 2 or i <= last:
        return i / step
    return (n - 2) + (i - last) / (size - 1 - last)


@kernel(parallel=True)
def _wave_grid_kernel(dirs, step, o, kz, r_wave, theta, wave_k, wave_ph, amp, grid):  # pragma: no cover - jit
    """The modulation at every `step`-th pixel (the last row and column included): its shortest
    wavelength, 150 km, spans >= 25 grid steps at any lens cupola draws."""
    h, w = dirs.shape[0], dirs.shape[1]
    cth, sth = math.cos(theta), math.sin(theta)
    for gi in nb.prange(grid.shape[0]):
        i = min(gi * step, h - 1)
        for gj in range(grid.shape[1]):
            j = min(gj * step, w - 1)
            dx, dy, dz = dirs[i, j, 0], dirs[i, j, 1], dirs[i, j, 2]
            p, tc, sn = _scaled_ray(o, dx, dy, dz, kz)
            grid[gi, gj] = _wave_factor(o, dx, dy, dz, kz, p, tc, sn, r_wave, cth, sth, wave_k, wave_ph, amp)


@kernel(parallel=True)
def _airglow_kernel(dirs, hit, cos_sz, o, sun, kz, params, tin, tout, lum_rgb, thr_cos, ramp_cos,
                    wave, step, out):  # pragma: no cover - jit
    h, w = dirs.shape[0], dirs.shape[1]
    nl = tin.shape[0]
    n_in, n_out = tin.shape[1], tout.shape[1]
    ng, mg = wave.shape[0], wave.shape[1]
    for k_row in nb.prange(h):
        i = spread_row(k_row, h)
        a0, a1, fa = _grid_cell(_node_pos(i, step, ng, h), ng)  # the row's place in the modulation grid
        for j in range(w):
            dx, dy, dz = dirs[i, j, 0], dirs[i, j, 1], dirs[i, j, 2]
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
            p, tc, sn = _scaled_ray(o, dx, dy, dz, kz)
            inward = tc > 0.0
            r = 0.0
            g = 0.0
            b = 0.0
            i0, i1, f = _table_cell(n_in, n_out, p, inward, params)
            tab = tin if inward else tout
            for k in range(nl):
                # Linear ramp in cos(SZA) across the threshold (the ramp is a few degrees wide).
                wt = (thr_cos[k] - c) / ramp_cos[k] + 0.5
                if wt <= 0.0:
                    continue
                if wt > 1.0:
                    wt = 1.0
                e = _column(tab, k, i0, i1, f) * wt / sn
                r += e * lum_rgb[k, 0]
                g += e * lum_rgb[k, 1]
                b += e * lum_rgb[k, 2]
            if r == 0.0 and g == 0.0 and b == 0.0:
                continue
            # Bilinear in the modulation grid (node gi at row min(gi * step, h - 1)).
            b0, b1, fb = _grid_cell(_node_pos(j, step, mg, w), mg)
            m = ((wave[a0, b0] * (1.0 - fb) + wave[a0, b1] * fb) * (1.0 - fa)
                 + (wave[a1, b0] * (1.0 - fb) + wave[a1, b1] * fb) * fa)
            out[i, j, 0] += r * m
            out[i, j, 1] += g * m
            out[i, j, 2] += b * m



@inline
def _branch_point(o, dx, dy, dz, p, tc, sn, sign, rr, c, s):  # pragma: no cover - jit
    """Return (x, y, z Earth-fixed km, scaled distance t_s) of the point at scaled radius `rr` on one
    branch of a ray (`sign` -1 before the tangent point, +1 after), Earth-fixed by the rotation
    (c, s) = (cos, sin) of GMST."""
    t_s = tc + sign * math.sqrt(max(rr * rr - p * p, 0.0))
    t = t_s / sn
    X = o[0] + t * dx
    Y = o[1] + t * dy
    return c * X + s * Y, -s * X + c * Y, o[2] + t * dz, t_s


@inline
def _branch_latlon(o, dx, dy, dz, p, tc, sn, sign, rr, c, s, e2):  # pragma: no cover - jit
    """Return (geodetic lat, lon in radians, scaled distance t_s) of :func:`_branch_point`."""
    xi, yi, Z, t_s = _branch_point(o, dx, dy, dz, p, tc, sn, sign, rr, c, s)
    return math.atan2(Z, (1.0 - e2) * math.sqrt(xi * xi + yi * yi)), math.atan2(yi, xi), t_s


@inline
def _shell_branch(branch, inward, p, a, r_o, r_lo, r_hi):  # pragma: no cover - jit
    """Return (valid, w_start, w_end, sign) of a ray's path through the shell r_lo..r_hi on one
    branch: 0 before the tangent point (inward rays), 1 after it or the whole of an outward ray
    (none for a ray that meets the ground, radius `a`); w = sqrt(r - p), sign of the way along."""
    if branch == 0:
        if not inward:
            return False, 0.0, 0.0, -1.0
        lo = max(p, r_lo)
        hi = min(r_o, r_hi)
        sign = -1.0
    else:
        if inward and p < a:
            return False, 0.0, 0.0, 1.0
        lo = max(p if inward else r_o, r_lo)
        hi = r_hi
        sign = 1.0
    if hi <= lo:
        return False, 0.0, 0.0, sign
    return True, math.sqrt(max(lo - p, 0.0)), math.sqrt(max(hi - p, 0.0)), sign


@inline
def _eta(hh, h0, slo, shi, norm):  # pragma: no cover - jit
    s = slo if hh < h0 else shi
    z = (hh - h0) / s
    return norm * math.exp(-0.5 * z * z)


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
    for k_row in nb.prange(nr):
        ii = spread_row(k_row, nr)
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
                valid, wa, wb, sign = _shell_branch(branch, inward, p, a, r_o, r_lo, r_hi)
                if not valid:
                    continue
                half = 0.5 * (wb - wa)
                mid = 0.5 * (wb + wa)
                for q in range(xg.shape[0]):
                    ww = mid + half * xg[q]
                    rr = p + ww * ww
                    ds = wg[q] * half * 2.0 * rr / math.sqrt(2.0 * p + ww * ww)
                    lat, lon, t_s = _branch_latlon(o, dx, dy, dz, p, tc, sn, sign, rr, c, s, e2)
                    lat, lon = math.degrees(lat), math.degrees(lon)
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


ARC_STEPS = 24  # path segments per branch through the aurora shell for the arcs ...
ARC_SUBSTEPS = 8  # ... each cut in 8 where an arc is near


@inline
def _arc_point(o, dx, dy, dz, p, tc, sn, sign, ww, c, s, e2, frames, rings, grid, step_deg):  # pragma: no cover - jit
    """Return (valid, rho, phi, r_pole, width, env, rr, t_s) of the ray's point at w = `ww` on one
    branch: its angle from the oval's centre, azimuth, the band's edges there and the oval grid.
    The geodetic unit vector comes from the Earth-fixed position directly (no sin/cos of the
    latitude and longitude): (cos lat cos lon, cos lat sin lon, sin lat) = ((1-e2) x, (1-e2) y, z) / n."""
    nlat, nlon = grid.shape
    nphi = rings.shape[1]
    rr = p + ww * ww
    xi, yi, Z, t_s = _branch_point(o, dx, dy, dz, p, tc, sn, sign, rr, c, s)
    xi *= 1.0 - e2
    yi *= 1.0 - e2
    hemi = 0 if Z > 0.0 else 1
    if not math.isfinite(rings[hemi, 0, 0]):
        return False, 0.0, 0.0, 0.0, 0.0, 0.0, rr, t_s
    q = math.sqrt(xi * xi + yi * yi)
    inv = 1.0 / math.sqrt(q * q + Z * Z)
    ux, uy, uz = xi * inv, yi * inv, Z * inv
    f = frames[hemi]
    rho = math.acos(min(max(ux * f[2, 0] + uy * f[2, 1] + uz * f[2, 2], -1.0), 1.0))
    phi = math.atan2(ux * f[1, 0] + uy * f[1, 1] + uz * f[1, 2], ux * f[0, 0] + uy * f[0, 1] + uz * f[0, 2])
    kb = int((phi + math.pi) / (2.0 * math.pi) * nphi) % nphi
    r_pole = rings[hemi, kb, 0]
    width = rings[hemi, kb, 1] - r_pole
    gi = min(max(int((math.degrees(math.atan2(Z, q)) + 90.0) / step_deg), 0), nlat - 1)
    gj = min(max(int((math.degrees(math.atan2(yi, xi)) + 180.0) / step_deg), 0), nlon - 1)
    return width > 0.0, rho, phi, r_pole, width, grid[gi, gj], rr, t_s


@inline
def _arc_z(arcs, k, rho, phi, r_pole, width, sigma):  # pragma: no cover - jit
    fk = (arcs[k, 0] + arcs[k, 1] * math.sin(arcs[k, 2] * phi + arcs[k, 3])
          + arcs[k, 4] * math.sin(arcs[k, 5] * phi + arcs[k, 6]))
    return (rho - (r_pole + fk * width)) / sigma


@kernel(parallel=True)
def _arc_kernel(dirs, rows, cols, mask, o, kz, a, e2, theta, r_lo, r_hi, prof, grid, step_deg, frames, rings,
                arcs, sigma, ray_depth, share, n_steps, n_sub, out):  # pragma: no cover - jit
    """Per traced ray, the arcs of the auroral forms (phenomena.emission.AuroraForms): the ray's
    path through the shell in `n_steps` segments per branch, each cut in `n_sub` where an arc is
    near; on each piece, every arc's Gaussian cross-section integrated exactly for a linear change
    of the ray's distance from it, times the line profiles, the rays' pattern and the oval grid
    (MLT and darkness weights) at the light's centroid. Adds into out[ii, jj, line] (columns
    relative to the smooth band's)."""
    nr, nc = rows.shape[0], cols.shape[0]
    nl = prof.shape[0]
    na = arcs.shape[0]
    c, s = math.cos(theta), math.sin(theta)
    ox, oy, oz = o[0], o[1], o[2] * kz
    r_o = math.sqrt(ox * ox + oy * oy + oz * oz)
    sq2pi = math.sqrt(2.0 * math.pi)
    inv_sq2 = 1.0 / math.sqrt(2.0)
    for k_row in nb.prange(nr):
        ii = spread_row(k_row, nr)
        z_a = np.empty(na)
        z_b = np.empty(na)
        z_e = np.empty(na)
        for jj in range(nc):
            if not mask[ii, jj]:
                continue
            i, j = rows[ii], cols[jj]
            dx, dy, dz = dirs[i, j, 0], dirs[i, j, 1], dirs[i, j, 2]
            p, tc, sn = _scaled_ray(o, dx, dy, dz, kz)
            inward = tc > 0.0
            for branch in range(2):
                valid, wa, wb, sign = _shell_branch(branch, inward, p, a, r_o, r_lo, r_hi)
                if not valid:
                    continue
                dw = (wb - wa) / n_steps
                ok0, rho0, phi0, rp0, wd0, env0, rr0, ts0 = _arc_point(o, dx, dy, dz, p, tc, sn, sign, wa, c, s, e2,
                                                                       frames, rings, grid, step_deg)
                have0 = False  # z_a holds every arc's z at the segment's start (computed at the last step)
                for q in range(1, n_steps + 1):
                    ok1, rho1, phi1, rp1, wd1, env1, rr1, ts1 = _arc_point(o, dx, dy, dz, p, tc, sn, sign,
                                                                           wa + q * dw, c, s, e2, frames, rings,
                                                                           grid, step_deg)
                    near = False
                    have1 = False
                    if ok0 and ok1 and (env0 > 0.0 or env1 > 0.0):
                        if not have0:
                            for k in range(na):
                                z_a[k] = _arc_z(arcs, k, rho0, phi0, rp0, wd0, sigma)
                        for k in range(na):
                            z_e[k] = _arc_z(arcs, k, rho1, phi1, rp1, wd1, sigma)
                            za, zb = z_a[k], z_e[k]
                            if abs(za) < 8.0 or abs(zb) < 8.0 or za * zb < 0.0:  # near, or crossed
                                near = True
                        have1 = True
                    if near:
                        # The segment in n_sub pieces, each arc integrated exactly on each piece;
                        # the last piece ends at the segment's end, whose point and z are known.
                        pk, pr, pphi, prp, pwd, penv, prr, pts = ok0, rho0, phi0, rp0, wd0, env0, rr0, ts0
                        for u in range(1, n_sub + 1):
                            if u == n_sub:
                                qk, qr, qphi, qrp, qwd, qenv, qrr, qts = ok1, rho1, phi1, rp1, wd1, env1, rr1, ts1
                                for k in range(na):
                                    z_b[k] = z_e[k]
                            else:
                                qk, qr, qphi, qrp, qwd, qenv, qrr, qts = _arc_point(
                                    o, dx, dy, dz, p, tc, sn, sign, wa + (q - 1 + u / n_sub) * dw, c, s, e2,
                                    frames, rings, grid, step_deg)
                                for k in range(na):
                                    z_b[k] = _arc_z(arcs, k, qr, qphi, qrp, qwd, sigma) if qk else 99.0
                            env = 0.5 * (penv + qenv)
                            if pk and qk and env > 0.0:
                                seg = abs(qts - pts)
                                centre_w = share * 0.5 * (pwd + qwd) / (na * sigma * sq2pi)
                                for k in range(na):
                                    z0, z1 = z_a[k], z_b[k]
                                    if (z0 > 6.0 and z1 > 6.0) or (z0 < -6.0 and z1 < -6.0):
                                        continue
                                    dzz = z1 - z0
                                    u_c = 0.5  # where along the piece the arc's light comes from
                                    if abs(dzz) > 1e-6:
                                        dphi = 0.5 * (math.erf(z1 * inv_sq2) - math.erf(z0 * inv_sq2))
                                        mean_g = sq2pi * dphi / dzz
                                        if abs(dphi) > 1e-12:  # centroid of the Gaussian over [z0, z1]
                                            z_c = (math.exp(-0.5 * z0 * z0) - math.exp(-0.5 * z1 * z1)) / (sq2pi * dphi)
                                            u_c = min(max((z_c - z0) / dzz, 0.0), 1.0)
                                    else:
                                        mean_g = math.exp(-0.125 * (z0 + z1) * (z0 + z1))
                                    hh = prr + u_c * (qrr - prr) - a
                                    ph_c = pphi + u_c * (qphi - pphi)
                                    ray = 0.5 * (1.0 + math.sin(arcs[k, 7] * ph_c + arcs[k, 8]))
                                    ray = 1.0 - ray_depth + ray_depth * ray * ray * ray * ray * (128.0 / 35.0)
                                    amp = seg * mean_g * centre_w * arcs[k, 9] * ray * env / sn
                                    for m in range(nl):
                                        out[ii, jj, m] += amp * _eta(hh, prof[m, 0], prof[m, 1], prof[m, 2], prof[m, 3])
                            for k in range(na):
                                z_a[k] = z_b[k]
                            pk, pr, pphi, prp, pwd, penv, prr, pts = qk, qr, qphi, qrp, qwd, qenv, qrr, qts
                    elif have1:
                        for k in range(na):
                            z_a[k] = z_e[k]
                    have0 = have1
                    ok0, rho0, phi0, rp0, wd0, env0, rr0, ts0 = ok1, rho1, phi1, rp1, wd1, env1, rr1, ts1


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
    for k_row in nb.prange(h):
        i = spread_row(k_row, h)
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


def airglow_layer(scene, geom, out: np.ndarray | None = None,
                  settings: RenderSettings = DEFAULT_SETTINGS) -> np.ndarray:
    """Add the airglow of the nightglow shells along every pixel ray into `out` (H, W, 3) float32
    linear cd/m^2, each shell drawn where its emitting region is dark (module docstring)."""
    em = scene.airglow_emission
    tab = em.ray_table(geom.origin_teme_km)
    h, w = geom.dirs_teme.shape[:2]
    out = np.zeros((h, w, 3), np.float32) if out is None else out  # the kernel adds into it
    o = np.asarray(geom.origin_teme_km, float)
    n = len(em.wave_phase)
    amp = em.wave_rms * math.sqrt(2.0 / n) if n else 0.0
    step = WAVE_GRID_STEP_PX
    wave = np.empty((-(-(h - 1) // step) + 1, -(-(w - 1) // step) + 1))
    _wave_grid_kernel(geom.dirs_teme, step, o, SCALE_Z, WGS84_A_KM + em.wave_height_km, float(geom.theta_gmst),
                      em.wave_k, em.wave_phase, amp, wave)
    _airglow_kernel(geom.dirs_teme, geom.hit, geom.cos_sun_zenith, o, np.asarray(geom.sun_dir_teme, float),
                    SCALE_Z, tab.params, tab.inward, tab.outward, em.luminance_rgb, em.dark_cos, em.ramp_cos,
                    wave, step, out)
    return out


def airglow_column_rayleigh(scene, geom, layer: str) -> np.ndarray:
    """Return one shell's brightness (rayleigh) along every pixel ray, (H, W) float64, without the
    darkness weight: the same table as :func:`airglow_layer`, for tests and diagnostics."""
    em = scene.airglow_emission
    tab = em.ray_table(geom.origin_teme_km)
    k = em.names.index(layer)
    o = np.asarray(geom.origin_teme_km, float)
    ds = geom.dirs_teme.astype(float) * np.array([1.0, 1.0, SCALE_Z])
    sn = np.linalg.norm(ds, axis=-1)
    ds /= sn[..., None]
    os_ = o * np.array([1.0, 1.0, SCALE_Z])
    tc = -(ds @ os_)
    p = np.sqrt(np.maximum(os_ @ os_ - tc * tc, 0.0))
    return tab.column(k, p, tc > 0.0) / sn


def aurora_green_kilorayleigh(al_nt: float, settings: RenderSettings = DEFAULT_SETTINGS) -> float:
    """Return the modelled 557.7 nm zenith column (kR) of the discrete oval for activity |AL| (nT)."""
    return float(np.clip(abs(float(al_nt)) * settings.aurora_kr_per_nt, *settings.aurora_kr_range))


def aurora_layer(scene, geom, out: np.ndarray | None = None,
                 settings: RenderSettings = DEFAULT_SETTINGS) -> np.ndarray:
    """Add the aurora as emissive curtains along every pixel ray into `out` (H, W, 3) float32 cd/m^2.

    The oval grid and line profiles of ``scene.aurora_emission`` (None without a Kp) are traced
    on at most ``settings.aurora_max_rays`` rays (every 6th pixel at 1920x1080) after a coarse
    pre-pass, then upsampled. The 557.7 nm column of the discrete oval is
    :func:`aurora_green_kilorayleigh` of the activity; 630.0 and 427.8 nm follow by the lines'
    column ratios.
    """
    h, w = geom.dirs_teme.shape[:2]
    out = np.zeros((h, w, 3), np.float32) if out is None else out  # the kernels add into it
    em = scene.aurora_emission
    if em is None or not em.in_view:  # no Kp for the instant, or no oval the station can see
        return out
    fct = max(1, int(math.ceil(math.sqrt(h * w / settings.aurora_max_rays))))
    off = (fct - 1) // 2
    rows = np.arange(off, h, fct)
    cols = np.arange(off, w, fct)
    o = np.asarray(geom.origin_teme_km, float)
    tab = em.ray_table(o)
    xg, wg = np.polynomial.legendre.leggauss(int(settings.aurora_nodes))
    n_lines = em.profiles.shape[0]

    def trace(rr, cc, mask):
        low = np.empty((rr.size, cc.size, n_lines))
        _aurora_kernel(geom.dirs_teme, rr, cc, mask, o, SCALE_Z, WGS84_A_KM, WGS84_E2, float(geom.theta_gmst),
                       WGS84_A_KM + em.bottom_km, WGS84_A_KM + em.top_km, tab.params, tab.inward, tab.outward,
                       em.profiles, em.grid, float(em.step_deg), xg, wg, low)
        return low

    # Coarse pass (every aurora_coarse-th traced ray), then only the fine rays near lit coarse ones.
    fc = fct * int(settings.aurora_coarse)
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
    fine_mask = np.ascontiguousarray(near[ci[:, None], cj[None, :]])
    low = trace(rows, cols, fine_mask)
    if em.forms is not None:  # the arcs carry their share of the band; the smooth glow keeps the rest
        low *= 1.0 - em.forms.share
        _arc_kernel(geom.dirs_teme, rows, cols, fine_mask, o, SCALE_Z, WGS84_A_KM, WGS84_E2, float(geom.theta_gmst),
                    WGS84_A_KM + em.bottom_km, WGS84_A_KM + em.top_km, em.profiles, em.grid, float(em.step_deg),
                    em.frames, em.rings, em.forms.arcs, em.forms.sigma_rad, em.forms.ray_depth, em.forms.share,
                    ARC_STEPS, ARC_SUBSTEPS, low)
    kr = aurora_green_kilorayleigh(em.activity_al_nt, settings)
    lum = np.ascontiguousarray(em.line_luminance_rgb * (1000.0 * kr * em.column_ratios)[:, None])
    _upsample_kernel(low, np.ascontiguousarray(low.sum(axis=-1) > 0.0), float(fct), float(off), lum, geom.hit, out)
    return out


__all__ = ["airglow_layer", "aurora_layer", "airglow_column_rayleigh", "aurora_green_kilorayleigh", "SCALE_Z"]

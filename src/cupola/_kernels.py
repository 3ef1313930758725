"""numba kernels for the per-instant hot loops of the orbit chain (parallel over instants).

Each kernel has a numpy twin below (same arguments, same outputs) that documents the maths and
runs instead under ``CUPOLA_NO_JIT=1`` (:mod:`cupola.jit`); the kernels fuse the steps so that 1M
instants touch memory once instead of once per numpy operation.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .jit import parallel_pair, twin


def _hermite_fill(rn, vn, ns, k0, step_ns, r_out, v_out, e_nodes, e_out):  # pragma: no cover - jit
    """Cubic Hermite interpolation of node states (rn, vn at k0 + i steps) at instants `ns`."""
    h = step_ns / 1e9
    for i in nb.prange(ns.shape[0]):
        k = ns[i] // step_ns
        j = k - k0
        u = (ns[i] - k * step_ns) / step_ns
        u2 = u * u
        u3 = u2 * u
        a0 = 2 * u3 - 3 * u2 + 1
        a1 = (u3 - 2 * u2 + u) * h
        a2 = 3 * u2 - 2 * u3
        a3 = (u3 - u2) * h
        b0 = (6 * u2 - 6 * u) / h
        b1 = 3 * u2 - 4 * u + 1
        b3 = 3 * u2 - 2 * u
        for c in range(3):
            p0 = rn[j, c]
            p1 = rn[j + 1, c]
            v0 = vn[j, c]
            v1 = vn[j + 1, c]
            r_out[i, c] = a0 * p0 + a1 * v0 + a2 * p1 + a3 * v1
            v_out[i, c] = b0 * (p0 - p1) + b1 * v0 + b3 * v1
        e_out[i] = max(e_nodes[j], e_nodes[j + 1])


def _lagrange4(nodes, base, x, out):  # pragma: no cover - jit
    """Cubic Lagrange interpolation between nodes base..base+3 (at -1, 0, 1, 2) at x in [0,1)."""
    for i in nb.prange(x.shape[0]):
        t = x[i]
        w0 = -t * (t - 1.0) * (t - 2.0) / 6.0
        w1 = (t + 1.0) * (t - 1.0) * (t - 2.0) / 2.0
        w2 = -(t + 1.0) * t * (t - 2.0) / 2.0
        w3 = (t + 1.0) * t * (t - 1.0) / 6.0
        b = base[i]
        for c in range(3):
            out[i, c] = w0 * nodes[b, c] + w1 * nodes[b + 1, c] + w2 * nodes[b + 2, c] + w3 * nodes[b + 3, c]


def _teme_chain(r, v, jd_whole, ut1_fraction, sun, a, b, e2, erad2,
               r_itrs, v_itrs, lat, lon, alt, sunlit):  # pragma: no cover - jit
    """GMST82, TEME -> ITRS, WGS84 geodetic and the geometric sunlight test, fused.

    Same maths as frames.gmst82 / frames.teme_to_itrs / lighting.sunlit_geometric; the geodetic
    step is Bowring's (1976) one-step formula from the parametric latitude: at ISS heights it
    differs from the converged iteration of frames.geodetic by ~1e-8 deg (1.3 mm), heights by
    < 1e-6 m.
    """
    tau = 2.0 * math.pi
    ep2 = e2 / (1.0 - e2)  # second eccentricity squared
    for i in nb.prange(r.shape[0]):
        # GMST 1982 (AIAA 2006-6753 Appendix C) at UT1.
        t = (jd_whole[i] - 2451545.0 + ut1_fraction[i]) / 36525.0
        g = 67310.54841 + (8640184.812866 + (0.093104 + (-6.2e-6) * t) * t) * t
        dg = 8640184.812866 + (0.093104 * 2.0 + (-6.2e-6 * 3.0) * t) * t
        theta = ((jd_whole[i] % 1.0) + ut1_fraction[i] + (g / 86400.0) % 1.0) % 1.0 * tau
        w = (1.0 + dg / (86400.0 * 36525.0)) * tau / 86400.0
        c = math.cos(theta)
        s = math.sin(theta)
        x = c * r[i, 0] + s * r[i, 1]
        y = -s * r[i, 0] + c * r[i, 1]
        z = r[i, 2]
        r_itrs[i, 0] = x
        r_itrs[i, 1] = y
        r_itrs[i, 2] = z
        v_itrs[i, 0] = c * v[i, 0] + s * v[i, 1] + w * y
        v_itrs[i, 1] = -s * v[i, 0] + c * v[i, 1] - w * x
        v_itrs[i, 2] = v[i, 2]
        p = math.sqrt(x * x + y * y)
        # Bowring: parametric latitude u from (z a, p b), then geodetic latitude in one step.
        qa = z * a
        qb = p * b
        qn = math.sqrt(qa * qa + qb * qb)
        su = qa / qn
        cu = qb / qn
        num = z + ep2 * b * su * su * su
        den = p - e2 * a * cu * cu * cu
        dn = math.sqrt(num * num + den * den)
        sp = num / dn
        cp = den / dn
        alt[i] = p * cp + z * sp - a * math.sqrt(1.0 - e2 * sp * sp)
        lat[i] = math.degrees(math.atan2(num, den))
        lon[i] = math.degrees(math.atan2(y, x))
        # Geometric sunlight: does the line to the Sun's centre pass within erad of the centre?
        dx = sun[i, 0] - r[i, 0]
        dy = sun[i, 1] - r[i, 1]
        dz = sun[i, 2] - r[i, 2]
        dsun = math.sqrt(dx * dx + dy * dy + dz * dz)
        d = -(r[i, 0] * dx + r[i, 1] * dy + r[i, 2] * dz) / dsun
        rr = r[i, 0] * r[i, 0] + r[i, 1] * r[i, 1] + r[i, 2] * r[i, 2]
        lit = not (d > 0.0 and rr - d * d < erad2)
        sunlit[i] = lit and math.isfinite(d)


# -- numpy twins ---------------------------------------------------------------------------------
def hermite_fill_numpy(rn, vn, ns, k0, step_ns, r_out, v_out, e_nodes, e_out):
    """numpy twin of :func:`hermite_fill`."""
    h = step_ns / 1e9
    k = ns // step_ns
    j = k - k0
    u = ((ns - k * step_ns) / step_ns)[:, None]
    u2, u3 = u * u, u * u * u
    p0, p1, v0, v1 = rn[j], rn[j + 1], vn[j], vn[j + 1]
    r_out[:] = (2 * u3 - 3 * u2 + 1) * p0 + (u3 - 2 * u2 + u) * h * v0 + (3 * u2 - 2 * u3) * p1 + (u3 - u2) * h * v1
    v_out[:] = (6 * u2 - 6 * u) / h * (p0 - p1) + (3 * u2 - 4 * u + 1) * v0 + (3 * u2 - 2 * u) * v1
    e_out[:] = np.maximum(e_nodes[j], e_nodes[j + 1])


def lagrange4_numpy(nodes, base, x, out):
    """numpy twin of :func:`lagrange4`."""
    t = x[:, None]
    w = ((-t * (t - 1.0) * (t - 2.0) / 6.0), ((t + 1.0) * (t - 1.0) * (t - 2.0) / 2.0),
         (-(t + 1.0) * t * (t - 2.0) / 2.0), ((t + 1.0) * t * (t - 1.0) / 6.0))
    out[:] = sum(wk * nodes[base + k] for k, wk in enumerate(w))


def teme_chain_numpy(r, v, jd_whole, ut1_fraction, sun, a, b, e2, erad2,
                     r_itrs, v_itrs, lat, lon, alt, sunlit):
    """numpy twin of :func:`teme_chain`: frames.gmst82, frames.teme_to_itrs, frames.geodetic
    (converged iteration rather than Bowring's one step) and lighting's geometric sunlight."""
    from .frames import geodetic, teme_to_itrs
    from .lighting import sunlit_geometric
    from .timebase import Instants

    inst = Instants(np.zeros(jd_whole.shape, "datetime64[ns]"), jd_whole, ut1_fraction, ut1_fraction, ut1_fraction)
    r_itrs[:], v_itrs[:] = teme_to_itrs(r, v, inst)
    lat[:], lon[:], alt[:] = geodetic(r_itrs)
    sunlit[:] = sunlit_geometric(r, sun)


hermite_fill = twin(hermite_fill_numpy, size_arg=2)(parallel_pair(_hermite_fill, size_arg=2))  # instants `ns`
lagrange4 = twin(lagrange4_numpy, size_arg=2)(parallel_pair(_lagrange4, size_arg=2))  # interpolation points `x`
teme_chain = twin(teme_chain_numpy, size_arg=0)(parallel_pair(_teme_chain, size_arg=0))  # positions `r`

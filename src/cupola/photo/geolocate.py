"""Where a photograph's pixels lie on the Earth: the camera's attitude in TEME from a plate solve,
the latitude and longitude of every pixel, and the Earth's limb predicted on the frame.

Model
-----
- **Attitude.** A plate solve gives the camera axes (right, down, forward) as ICRS unit vectors;
  TEME rows are ``rows_icrs @ R.T`` with R the ICRS -> TEME rotation of the instant
  (:func:`cupola.sky.stars.icrs_to_teme`: skyfield's precession, nutation and equation of the
  equinoxes). Left out: stellar aberration. The solve fits catalogue (geometric) directions to
  the stars' apparent places, which the station's barycentric velocity displaces by up to
  ~25" (20.5" from the Earth's orbit, ~5" from the station's own speed); on the ground that is
  < 60 m at nadir, and ~0.1 px at 24 mm.
- **Pixels to rays.** A pinhole camera (:func:`cupola.camera.geometry.project`'s convention:
  pixel centres at integers, the principal point at ((W-1)/2, (H-1)/2)) with an optional radial
  term: x_d = x_u (1 + k1 r_u^2), r_u = |(x_u, y_u)| / f. Distorted pixel coordinates are
  undistorted by Newton's method on the radius (monotone from the start r_u = r_d, converged to
  1e-15 in <= 8 steps); with k1 < 0 pixels beyond the largest radius the lens can reach
  (r_d = 2 / (3 sqrt(-3 k1))) have no ray and get NaN.
- **Rays to the ground.** The first intersection in front of the camera with the WGS84 ellipsoid
  grown by `height_km` (semi-axes a + h, b + h; z scaled by (a + h) / (b + h) makes it a sphere,
  :func:`cupola.camera.geometry.ray_ellipsoid_near_far`, shared with the renderer's kernel). The
  grown ellipsoid is not exactly the surface of geodetic height h: measured against the exact
  inverse (:func:`cupola.frames.geodetic`), its points lie 0 to 0.15 m below 110 km (0.34 m below
  250 km, 0.03 m below 20 km), the largest gap at 45 deg latitude, zero at the equator and poles.
- **Latitude and longitude.** The hit point is turned into ITRS by GMST 1982 at UT1 (as
  :mod:`cupola.frames`; no polar motion, < 15 m); the geodetic latitude comes from Bowring's
  (1976) closed form (one atan2 and one square root; against the converged iteration of
  :func:`cupola.frames.geodetic` it is off by < 1e-5 mm on the ground, 0.1 mm at 110 km, 0.5 mm
  at 250 km), the longitude from atan2, both in float64, stored as float32 by default (2^-24 of
  180 deg: ~1 m). `cupola._kernels` uses the same one-step formula for the station itself.
- **The limb.** The rays tangent to the grown ellipsoid: in the space where it is a sphere they
  form a cone about the nadir of half-angle asin(a' / |r'|); mapped back (z divided by the
  scale) and projected, sampled every `spacing_px` pixels along the curve.

The kernel is :func:`pixel_latlon`'s numba pass (parallel over output rows, writing only the two
output arrays: a 24-megapixel frame needs 192 MB as float32, nothing else per pixel); its numpy
twin (``CUPOLA_NO_JIT=1``) does the same maths on blocks of rows. Left out: refraction (rays are
straight: near the limb the atmosphere bends them by up to ~0.3 deg at grazing incidence),
terrain, and the lens's decentring and higher radial terms.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ..camera import Attitude
from ..camera.geometry import camera_ray, ray_ellipsoid_near_far
from ..constants import WGS84_A_KM, WGS84_B_KM, WGS84_E2
from ..errors import InputError
from ..frames import gmst82
from ..jit import inline, kernel, twin
from ..timebase import Instants, instants as as_instants
from ..view import ray_ellipsoid

ORTHONORMAL_REPAIR_TOL = 1e-3  # rows further from a rotation than this are refused, not repaired
NEWTON_STEPS = 8  # undistortion: Newton on the radius converges monotonically (module docstring)
TWIN_BLOCK_PIXELS = 1 << 18  # the numpy twin's block: ~2 MB per float64 temporary
_EP2 = WGS84_E2 / (1.0 - WGS84_E2)  # second eccentricity squared
MIN_HEIGHT_KM = -100.0  # below the deepest ground (Dead Sea -0.43 km) by far: a typo, refused
LIMB_COARSE_SAMPLES = 2048
MAX_LIMB_SAMPLES = 2_000_000


# -- attitude --------------------------------------------------------------------------------------
def attitude_from_icrs(rows_icrs, instants) -> Attitude:
    """Return the :class:`~cupola.camera.Attitude` (rows right, down, forward in TEME) of camera
    axes given as ICRS unit vectors, at one instant.

    Args:
        rows_icrs: (3, 3) camera rows right, down, forward in ICRS (a plate solve's
            ``Solution.rows_icrs``). Rows within 1e-3 of a rotation are made exactly orthonormal
            (the nearest rotation, by SVD); others are refused.
        instants: the instant, as :class:`cupola.timebase.Instants` (e.g. ``state.instants``)
            or any time cupola reads (ISO text, aware datetime, datetime64).
    """
    from ..sky.stars import icrs_to_teme  # skyfield, only when an attitude is made

    rows = np.asarray(rows_icrs, dtype=float)
    if rows.shape != (3, 3) or not np.all(np.isfinite(rows)):
        raise InputError(f"rows_icrs must be a finite 3x3 matrix (camera right, down, forward in ICRS), "
                         f"got shape {rows.shape}", param="rows_icrs")
    err = float(np.max(np.abs(rows @ rows.T - np.eye(3))))
    if err > ORTHONORMAL_REPAIR_TOL or np.linalg.det(rows) < 0.0:
        raise InputError(f"rows_icrs is not a rotation (|M M^T - I| = {err:.2g}, det = {np.linalg.det(rows):.3f}); "
                         "give orthonormal rows right, down, forward", param="rows_icrs")
    if err > 0.0:
        u, _, vt = np.linalg.svd(rows)
        rows = u @ vt
    inst = instants if isinstance(instants, Instants) else as_instants(instants)
    if np.size(inst.utc) != 1:
        raise InputError(f"an attitude is for one instant, got {np.size(inst.utc)}", param="instants")
    return Attitude(rows @ np.asarray(icrs_to_teme(inst), float).T)


# -- the lens -------------------------------------------------------------------------------------
def lens_k1(camera, k1=None) -> float:
    """Return the radial term to use: `k1` when given, else the camera's own ``k1`` (0 if none)."""
    value = getattr(camera, "k1", 0.0) if k1 is None else k1
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if not (math.isfinite(v) and abs(v) < 1.0):
        raise InputError(f"the radial distortion k1 must be a finite number between -1 and 1, got {value!r}; "
                         "e.g. k1=0 for a pinhole lens", param="k1")
    return v


def distort(xu, yu, k1: float):
    """Return distorted normalised image coordinates for undistorted ones (the contract's
    x_d = x_u (1 + k1 r_u^2), coordinates in units of the focal length)."""
    xu = np.asarray(xu, float)
    yu = np.asarray(yu, float)
    g = 1.0 + k1 * (xu * xu + yu * yu)
    return xu * g, yu * g


def undistort(xd, yd, k1: float):
    """Return undistorted normalised image coordinates (the inverse of :func:`distort`); NaN where
    a lens with k1 < 0 cannot reach that radius."""
    xd = np.asarray(xd, float)
    yd = np.asarray(yd, float)
    if k1 == 0.0:
        return xd, yd
    rd = np.hypot(xd, yd)
    ru = rd.copy()
    for _ in range(NEWTON_STEPS):
        ru = ru - (ru * (1.0 + k1 * ru * ru) - rd) / (1.0 + 3.0 * k1 * ru * ru)
    scale = 1.0 / (1.0 + k1 * ru * ru)
    if k1 < 0.0:
        scale = np.where(rd <= _max_radius(k1), scale, np.nan)
    return xd * scale, yd * scale


def _max_radius(k1: float) -> float:
    """Return the largest distorted radius a lens with radial term k1 reaches (inf for k1 >= 0)."""
    return math.inf if k1 >= 0.0 else 2.0 / (3.0 * math.sqrt(-3.0 * k1))


# -- per-pixel latitude and longitude -------------------------------------------------------------------
@inline
def _bowring_lat(x, y, z, a, b, e2, ep2):  # pragma: no cover - jit
    """Return the geodetic latitude (rad) of the ITRS point (x, y, z): Bowring (1976)."""
    p = math.sqrt(x * x + y * y)
    u = p * b
    v = z * a
    w = math.sqrt(u * u + v * v)
    c = u / w
    s = v / w
    return math.atan2(z + ep2 * b * s * s * s, p - e2 * a * c * c * c)


@kernel(parallel=True)
def _latlon_kernel(basis, f, cx, cy, k1, rd_max, o, theta, a_h, k_h, a, b, e2, ep2, step,
                   lat, lon):  # pragma: no cover - jit
    ho, wo = lat.shape
    ozk = o[2] * k_h
    c, s = math.cos(theta), math.sin(theta)
    for io in nb.prange(ho):
        yd = (io * step - cy) / f
        for jo in range(wo):
            xu = (jo * step - cx) / f
            yu = yd
            if k1 != 0.0:
                rd = math.sqrt(xu * xu + yd * yd)
                if rd > rd_max:
                    lat[io, jo] = np.nan
                    lon[io, jo] = np.nan
                    continue
                ru = rd
                for _ in range(NEWTON_STEPS):
                    ru -= (ru * (1.0 + k1 * ru * ru) - rd) / (1.0 + 3.0 * k1 * ru * ru)
                g = 1.0 / (1.0 + k1 * ru * ru)
                xu *= g
                yu = yd * g
            dx, dy, dz = camera_ray(basis, xu, yu)
            near, far = ray_ellipsoid_near_far(o[0], o[1], ozk, dx, dy, dz, a_h, k_h)
            t = near if near > 0.0 else far  # the far root when the camera is inside the shell
            if t <= 0.0:
                lat[io, jo] = np.nan
                lon[io, jo] = np.nan
                continue
            hx = o[0] + t * dx
            hy = o[1] + t * dy
            hz = o[2] + t * dz
            xi = c * hx + s * hy  # TEME -> ITRS: about z by GMST
            yi = -s * hx + c * hy
            lat[io, jo] = math.degrees(_bowring_lat(xi, yi, hz, a, b, e2, ep2))
            lon[io, jo] = math.degrees(math.atan2(yi, xi))


def _bowring_lat_numpy(x, y, z):
    p = np.hypot(x, y)
    u, v = p * WGS84_B_KM, z * WGS84_A_KM
    w = np.hypot(u, v)
    c, s = u / w, v / w
    return np.arctan2(z + _EP2 * WGS84_B_KM * s ** 3, p - WGS84_E2 * WGS84_A_KM * c ** 3)


def _latlon_numpy(basis, f, cx, cy, k1, rd_max, o, theta, a_h, k_h, a, b, e2, ep2, step, lat, lon):
    """The numpy twin of :func:`_latlon_kernel`: the same maths on blocks of output rows."""
    ho, wo = lat.shape
    xd = (np.arange(wo) * step - cx) / f
    rows_per_block = max(1, TWIN_BLOCK_PIXELS // wo)
    c, s = math.cos(theta), math.sin(theta)
    for r0 in range(0, ho, rows_per_block):
        yd = (np.arange(r0, min(ho, r0 + rows_per_block)) * step - cy) / f
        xu, yu = undistort(xd[None, :], yd[:, None], k1) if k1 != 0.0 else np.broadcast_arrays(xd[None, :],
                                                                                            yd[:, None])
        d = xu[..., None] * basis[0] + yu[..., None] * basis[1] + basis[2]
        d /= np.linalg.norm(d, axis=-1, keepdims=True)
        near, far = ray_ellipsoid(o, d, a_h - a)
        t = np.where(near > 0.0, near, far)
        t = np.where(t > 0.0, t, np.nan)  # NaN where it misses (disc < 0) or all is behind
        hit = o + t[..., None] * d
        xi = c * hit[..., 0] + s * hit[..., 1]
        yi = -s * hit[..., 0] + c * hit[..., 1]
        lat[r0:r0 + yd.size] = np.degrees(_bowring_lat_numpy(xi, yi, hit[..., 2]))
        lon[r0:r0 + yd.size] = np.degrees(np.arctan2(yi, xi))


@twin(_latlon_numpy)
def _latlon_fill(*args):
    _latlon_kernel(*args)


def _station(state) -> tuple[np.ndarray, float]:
    """Return (r_teme_km (3,), GMST rad) of a single-instant state, refusing a failed or series one."""
    r = np.asarray(state.r_teme_km, float)
    if r.size != 3:
        raise InputError(f"a photograph shows one instant; got a state of {r.size // 3} instants: index it first",
                         param="state")
    r = r.reshape(3)
    if not np.all(np.isfinite(r)):
        raise InputError("the station's position is not known at this instant (SGP4 failed); "
                         "pass element sets closer to that time", param="sat")
    theta = float(np.asarray(gmst82(state.instants)[0]).reshape(-1)[0])
    return r, theta


def _height(height_km) -> float:
    try:
        h = float(height_km)
    except (TypeError, ValueError):
        h = math.nan
    if not (math.isfinite(h) and h >= MIN_HEIGHT_KM):
        raise InputError(f"the height above the ellipsoid must be a finite number of km from {MIN_HEIGHT_KM:g} up, "
                         f"got {height_km!r}; e.g. 0 for the ground, 110 for aurora", param="height_km")
    return h


def pixel_latlon(state, camera, attitude, *, height_km: float = 0.0, step: int = 1, dtype=np.float32,
                 k1: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return the geodetic (lat_deg, lon_deg) where each pixel's ray meets the WGS84 ellipsoid
    grown by `height_km`, NaN where it misses (sky).

    Args:
        state: the station's single-instant State (``sat.at(t)``, ``scene.state``).
        camera: a :class:`cupola.camera.Camera` (size, focal length; its ``k1`` if it has one).
        attitude: the camera's :class:`~cupola.camera.Attitude` (rows in TEME), e.g. from
            :func:`attitude_from_icrs`.
        height_km: height of the surface the rays are cut with: 0 for the ground, 110 for an
            aurora map (auromat's), 250 for the red OI line. Where the camera is inside that
            shell, the point where the ray leaves it.
        step: every `step`-th pixel in both directions (rows 0, step, 2 step, ...).
        dtype: float32 (default, ~1 m) or float64.
        k1: radial distortion (module docstring); default the camera's ``k1`` or 0.

    Returns:
        two arrays of shape (ceil(H / step), ceil(W / step)): latitude in -90..90 and longitude
        in -180..180 degrees.
    """
    r, theta = _station(state)
    h = _height(height_km)
    k1 = lens_k1(camera, k1)
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 1:
        raise InputError(f"step must be a whole number >= 1, got {step!r}", param="step")
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise InputError(f"dtype must be float32 or float64, got {dt}", param="dtype")
    step = int(step)
    shape = (-(-camera.height_px // step), -(-camera.width_px // step))
    lat = np.empty(shape, dt)
    lon = np.empty(shape, dt)
    a_h, b_h = WGS84_A_KM + h, WGS84_B_KM + h
    cx, cy = camera.principal_point
    basis = np.ascontiguousarray(attitude.matrix, dtype=float)
    _latlon_fill(basis, float(camera.focal_px), float(cx), float(cy), k1, _max_radius(k1), r, theta, a_h, a_h / b_h,
                 WGS84_A_KM, WGS84_B_KM, WGS84_E2, _EP2, step, lat, lon)
    return lat, lon


# -- the limb -------------------------------------------------------------------------------------
def limb_frame(r_teme_km, height_km: float):
    """Return (nadir, u, w, sin_rho, k) of the limb of the WGS84 ellipsoid grown by `height_km`
    seen from `r_teme_km` (3,), in the space where z is multiplied by k = (a + h) / (b + h) and
    that ellipsoid is a sphere: the limb's rays are cos(rho) nadir + sin(rho) (cos(psi) u +
    sin(psi) w) there. sin_rho > 1 when the station is inside that surface (no limb)."""
    r = np.asarray(r_teme_km, float).reshape(3)
    a_h = WGS84_A_KM + height_km
    k = a_h / (WGS84_B_KM + height_km)
    o = r * np.array([1.0, 1.0, k])
    ro = np.linalg.norm(o)
    nadir = -o / ro
    helper = np.array([0.0, 0.0, 1.0]) if abs(nadir[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    u = np.cross(nadir, helper)
    u /= np.linalg.norm(u)
    return nadir, u, np.cross(nadir, u), a_h / ro, k


def limb_directions(r_teme_km, height_km: float, psi) -> np.ndarray:
    """Return unit directions (..., 3) from the station at `r_teme_km` (3,) tangent to the WGS84
    ellipsoid grown by `height_km`, at angles `psi` (rad, any shape) around the nadir
    (:func:`limb_frame`); NaN when the station is inside that surface."""
    nadir, u, w, sin_rho, k = limb_frame(r_teme_km, height_km)
    psi = np.asarray(psi, float)
    if sin_rho >= 1.0:
        return np.full(psi.shape + (3,), np.nan)
    cos_rho = math.sqrt(1.0 - sin_rho * sin_rho)
    d = cos_rho * nadir + sin_rho * (np.cos(psi)[..., None] * u + np.sin(psi)[..., None] * w)
    d = d / np.array([1.0, 1.0, k])  # back from the sphere's space: lines stay lines
    return d / np.linalg.norm(d, axis=-1, keepdims=True)


def limb_psi(r_teme_km, height_km: float, dirs) -> np.ndarray:
    """Return the angles psi (rad) around the nadir (:func:`limb_frame`) of directions `dirs`
    (..., 3): where on the limb's circle they lie, seen from the nadir."""
    _, u, w, _, k = limb_frame(r_teme_km, height_km)
    ds = np.asarray(dirs, float) * np.array([1.0, 1.0, k])
    return np.arctan2(ds @ w, ds @ u)


def project_px(camera, basis, dirs, k1: float = 0.0):
    """Return pixel (x, y) and an in-front mask for unit directions (..., 3) in the basis' frame,
    through the pinhole and the radial term `k1` (NaN behind the camera)."""
    c = np.asarray(dirs, float) @ np.asarray(basis, float).T
    z = c[..., 2]
    front = z > 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        zs = np.where(front, z, np.nan)
        xd, yd = distort(c[..., 0] / zs, c[..., 1] / zs, k1)
    f = camera.focal_px
    cx, cy = camera.principal_point
    return cx + f * xd, cy + f * yd, front


def _in_frame(camera, x, y):
    return (x >= -0.5) & (x <= camera.width_px - 0.5) & (y >= -0.5) & (y <= camera.height_px - 0.5)


def predicted_limb(state, camera, attitude, *, height_km: float = 0.0, k1: float | None = None,
                   spacing_px: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Return the Earth's limb on the frame: pixel (x_px, y_px) of the directions tangent to the
    WGS84 ellipsoid grown by `height_km`, inside the frame, every ~`spacing_px` along the curve.

    Where the curve leaves the frame and comes back, its pieces are separated by one NaN in both
    arrays (draw each run between NaNs as a polyline). Empty arrays when no limb is in the frame
    (or the station is inside the shell).
    """
    r, _ = _station(state)
    h = _height(height_km)
    k1 = lens_k1(camera, k1)
    try:
        spacing = float(spacing_px)
    except (TypeError, ValueError):
        spacing = math.nan
    if not (math.isfinite(spacing) and spacing > 0.0):
        raise InputError(f"spacing_px must be a positive number of pixels, got {spacing_px!r}", param="spacing_px")
    basis = np.asarray(attitude.matrix, float)
    empty = (np.zeros(0), np.zeros(0))
    # Coarse pass: which angles around the nadir reach the frame, and how far apart they land.
    psi = np.linspace(0.0, 2.0 * np.pi, LIMB_COARSE_SAMPLES, endpoint=False)
    x, y, front = project_px(camera, basis, limb_directions(r, h, psi), k1)
    inside = front & _in_frame(camera, x, y)
    if not inside.any():
        return empty
    near = inside | np.roll(inside, 1) | np.roll(inside, -1)  # the crossing lies next to an inside sample
    dpsi = 2.0 * np.pi / LIMB_COARSE_SAMPLES
    seg = np.hypot(np.roll(x, -1) - x, np.roll(y, -1) - y)
    seg = np.where(near & np.roll(near, -1) & front & np.roll(front, -1), seg, 0.0)
    px_per_rad = float(np.nanmax(seg)) / dpsi if np.any(seg > 0) else 1.0
    n_fine = int(min(MAX_LIMB_SAMPLES, max(LIMB_COARSE_SAMPLES, math.ceil(2.0 * np.pi * px_per_rad / spacing))))
    # Fine pass, started at an angle whose point is outside the frame, so no run wraps.
    start = psi[np.argmin(inside)] if not inside.all() else 0.0
    psi = start + np.linspace(0.0, 2.0 * np.pi, n_fine, endpoint=False)
    x, y, front = project_px(camera, basis, limb_directions(r, h, psi), k1)
    inside = front & _in_frame(camera, x, y)
    if not inside.any():
        return empty
    idx = np.flatnonzero(inside)
    breaks = np.flatnonzero(np.diff(idx) > 1) + 1
    runs = np.split(idx, breaks)
    xs, ys = [], []
    for run in runs:
        if xs:
            xs.append([np.nan])
            ys.append([np.nan])
        xs.append(x[run])
        ys.append(y[run])
    return np.concatenate(xs), np.concatenate(ys)


__all__ = ["attitude_from_icrs", "pixel_latlon", "predicted_limb", "limb_frame", "limb_directions", "limb_psi",
           "project_px", "distort", "undistort", "lens_k1"]

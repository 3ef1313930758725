"""The pinhole projection and per-pixel ray geometry: one numba pass per frame.

For each pixel of a camera with a given attitude, at the station's state: the ray direction
(TEME), whether it meets the Earth (WGS84 ellipsoid) and where (distance, geodetic lat/lon,
cosine of the Sun's zenith angle there), and, for rays that miss, the height of their closest
approach to the Earth (the tangent height, what limb glows depend on). The renderer draws with
it; photo annotation calls it to give the latitude and longitude of every pixel
(``exact_latlon=True`` uses the exact atan2 instead of the 6e-4 deg polynomial that only indexes
textures).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numba as nb
import numpy as np

from ..constants import R_EARTH_KM, WGS84_A_KM, WGS84_B_KM, WGS84_E2
from ..errors import InputError
from ..frames import gmst82
from ..jit import inline, kernel, spread_row


@dataclass(frozen=True, eq=False)
class RayGeometry:
    """Arrays shaped (H, W) unless stated; float32 to keep a 1920x1080 frame light."""

    camera: object  # the cupola.camera.Camera
    attitude: object  # the cupola.camera.Attitude
    basis_teme: np.ndarray  # (3, 3) camera rows right, down, forward in TEME (attitude.matrix)
    origin_teme_km: np.ndarray  # (3,) station position
    sun_dir_teme: np.ndarray  # (3,) unit vector from the station to the Sun
    theta_gmst: float  # TEME -> ITRS rotation angle (rad) at the frame's instant
    dirs_teme: np.ndarray  # (H, W, 3) unit ray directions
    hit: np.ndarray  # bool: the ray meets the ellipsoid in front of the camera
    hit_km: np.ndarray  # distance to the surface (NaN where no hit)
    lat_deg: np.ndarray  # geodetic latitude of the hit point (NaN where no hit)
    lon_deg: np.ndarray  # longitude of the hit point (NaN where no hit)
    cos_sun_zenith: np.ndarray  # at the hit point (NaN where no hit)
    cos_view_zenith: np.ndarray  # cosine between the surface normal and the direction to the station
    tangent_km: np.ndarray  # height of the ray's closest approach above a sphere of R_EARTH_KM
    # (for hits: the ray's height where it enters the ground, i.e. <= 0)
    cos_sun_ray: np.ndarray  # cosine between the ray and the direction to the Sun


@inline
def _fast_atan2(y, x):  # pragma: no cover - jit
    """atan2 to ~1e-5 rad (6e-4 deg), a tenth of a texture pixel: octant reduction and the
    minimax polynomial of Abramowitz & Stegun 4.4.49 for atan on [-1, 1]."""
    ax = abs(x)
    ay = abs(y)
    if ax == 0.0 and ay == 0.0:
        return 0.0
    swap = ay > ax
    t = ax / ay if swap else ay / ax
    t2 = t * t
    a = t * (0.9998660 + t2 * (-0.3302995 + t2 * (0.1801410 + t2 * (-0.0851330 + t2 * 0.0208351))))
    if swap:
        a = 0.5 * math.pi - a
    if x < 0.0:
        a = math.pi - a
    return -a if y < 0.0 else a


@inline
def camera_ray(basis, xu, yv):  # pragma: no cover - jit
    """Return the unit TEME direction (dx, dy, dz) of the ray with normalised image coordinates
    (xu, yv) = ((x - cx) / f, (y - cy) / f) for camera rows `basis` (right, down, forward)."""
    dx = xu * basis[0, 0] + yv * basis[1, 0] + basis[2, 0]
    dy = xu * basis[0, 1] + yv * basis[1, 1] + basis[2, 1]
    dz = xu * basis[0, 2] + yv * basis[1, 2] + basis[2, 2]
    dn = math.sqrt(dx * dx + dy * dy + dz * dz)
    return dx / dn, dy / dn, dz / dn


@inline
def ray_ellipsoid_near_far(ox, oy, ozk, dx, dy, dz, a, k):  # pragma: no cover - jit
    """Return (near, far) distances (km) along the unit ray (dx, dy, dz) from (ox, oy, oz) to
    the ellipsoid of semi-axes (a, a, a / k), given ``ozk = oz * k``; (-1, -1) where it misses.

    Scaling z by k = a/b makes the ellipsoid a sphere of radius a (lines stay lines); the
    distances are rescaled to true kilometres. Either may be negative (behind the origin).
    """
    sx, sy, sz = dx, dy, dz * k
    sn = math.sqrt(sx * sx + sy * sy + sz * sz)
    sx /= sn
    sy /= sn
    sz /= sn
    bq = ox * sx + oy * sy + ozk * sz
    cq = ox * ox + oy * oy + ozk * ozk - a * a
    disc = bq * bq - cq
    if disc < 0.0:
        return -1.0, -1.0
    root = math.sqrt(disc)
    return (-bq - root) / sn, (-bq + root) / sn


def fast_atan2_np(y, x) -> np.ndarray:
    """Return :func:`_fast_atan2` of arrays (the numpy twin of the kernels' atan2)."""
    y, x = np.asarray(y, float), np.asarray(x, float)
    ax, ay = np.abs(x), np.abs(y)
    swap = ay > ax
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(swap, ax / ay, ay / ax)
    t = np.nan_to_num(t)
    t2 = t * t
    a = t * (0.9998660 + t2 * (-0.3302995 + t2 * (0.1801410 + t2 * (-0.0851330 + t2 * 0.0208351))))
    a = np.where(swap, 0.5 * math.pi - a, a)
    a = np.where(x < 0.0, math.pi - a, a)
    return np.where((ax == 0.0) & (ay == 0.0), 0.0, np.where(y < 0.0, -a, a))


@kernel(parallel=True)
def _geometry_kernel(basis, f, cx, cy, o, sun_dir, theta, a, b, e2, r_mean, exact, dirs,
                     hit, hit_km, lat, lon, cos_sz, cos_vz, tangent, cos_sr):  # pragma: no cover - jit
    h, w = dirs.shape[0], dirs.shape[1]
    k = a / b
    ox, oy, oz = o[0], o[1], o[2] * k
    c, s = math.cos(theta), math.sin(theta)
    for k_row in nb.prange(h):
        i = spread_row(k_row, h)
        yv = (i - cy) / f
        for j in range(w):
            # Pinhole ray through the pixel centre (same maths as camera.pixel_rays).
            dx, dy, dz = camera_ray(basis, (j - cx) / f, yv)
            dirs[i, j, 0] = dx
            dirs[i, j, 1] = dy
            dirs[i, j, 2] = dz
            cos_sr[i, j] = dx * sun_dir[0] + dy * sun_dir[1] + dz * sun_dir[2]
            # Closest approach to the centre (sphere of mean radius) for the tangent height.
            tca = -(o[0] * dx + o[1] * dy + o[2] * dz)
            if tca < 0.0:
                tca = 0.0
            px = o[0] + tca * dx
            py = o[1] + tca * dy
            pz = o[2] + tca * dz
            tangent[i, j] = math.sqrt(px * px + py * py + pz * pz) - r_mean
            # Ray / ellipsoid: scale z by a/b so the ellipsoid becomes a sphere of radius a.
            t, _ = ray_ellipsoid_near_far(ox, oy, oz, dx, dy, dz, a, k)
            if t <= 0.0:  # misses, or the Earth is behind the camera
                hit[i, j] = False
                hit_km[i, j] = np.nan
                lat[i, j] = np.nan
                lon[i, j] = np.nan
                cos_sz[i, j] = np.nan
                cos_vz[i, j] = np.nan
                continue
            hx = o[0] + t * dx
            hy = o[1] + t * dy
            hz = o[2] + t * dz
            hit[i, j] = True
            hit_km[i, j] = t
            tangent[i, j] = -1.0  # enters the ground
            # Ellipsoid normal (TEME), then the Sun's and the station's zenith cosines.
            nx = hx / (a * a)
            ny = hy / (a * a)
            nz = hz / (b * b)
            inv = 1.0 / math.sqrt(nx * nx + ny * ny + nz * nz)
            nx *= inv
            ny *= inv
            nz *= inv
            cos_sz[i, j] = nx * sun_dir[0] + ny * sun_dir[1] + nz * sun_dir[2]
            cos_vz[i, j] = -(nx * dx + ny * dy + nz * dz)
            # Geodetic latitude of a point on the ellipsoid is the normal's elevation. To index
            # textures the 6e-4 deg polynomial atan2 is ample; `exact` asks for math.atan2.
            xi = c * hx + s * hy
            yi = -s * hx + c * hy
            if exact:
                lat[i, j] = math.degrees(math.atan2(nz, math.sqrt(nx * nx + ny * ny)))
                lon[i, j] = math.degrees(math.atan2(yi, xi))
            else:
                lat[i, j] = math.degrees(_fast_atan2(nz, math.sqrt(nx * nx + ny * ny)))
                lon[i, j] = math.degrees(_fast_atan2(yi, xi))


class FramePool:
    """Reusable frame buffers, owned by whoever renders many frames of one size (a timelapse, a
    benchmark) and passed in by it: first-touch page faults of ~100 MB of fresh arrays cost
    10-100 ms a frame. An array handed out stays valid until the same name and shape is asked
    for again, i.e. until the next frame drawn with this pool. Safe to share between threads
    for the bookkeeping, but two frames drawn at once into one pool would overwrite each other:
    give each thread its own pool."""

    def __init__(self, max_arrays: int = 64):
        self._arrays: dict[tuple, np.ndarray] = {}
        self._max = int(max_arrays)
        self._lock = threading.Lock()

    def get(self, name: str, shape: tuple, dtype) -> np.ndarray:
        """Return the uninitialised array for `name` and `shape` (made on first use)."""
        key = (name, tuple(shape), np.dtype(dtype).str)
        with self._lock:
            arr = self._arrays.get(key)
            if arr is None:
                if len(self._arrays) >= self._max:
                    self._arrays.clear()
                arr = self._arrays[key] = np.empty(shape, dtype)
            return arr


def _fresh(name: str, shape: tuple, dtype) -> np.ndarray:
    return np.empty(shape, dtype)


def ray_geometry(state, camera, attitude, pool: FramePool | None = None, exact_latlon: bool = False) -> RayGeometry:
    """Return the :class:`RayGeometry` of `camera` pointed by `attitude` from the station's
    single-instant `state` (a State, or anything with ``r_teme_km``, ``sun_teme_km``, ``instants``).

    Args:
        pool: draw into this :class:`FramePool` instead of fresh arrays (valid until its next use).
        exact_latlon: compute the pixels' lat/lon with the exact atan2 (photo annotation).
    """
    r = np.asarray(state.r_teme_km, float).reshape(3)
    if not np.all(np.isfinite(r)):
        raise InputError("the station's position is not known at this instant (SGP4 failed); "
                         "pass element sets closer to that time", param="sat")
    sun = np.asarray(state.sun_teme_km, float).reshape(3) - r
    sun_dir = sun / np.linalg.norm(sun)
    theta = float(np.asarray(gmst82(state.instants)[0]).reshape(-1)[0])
    basis = np.ascontiguousarray(attitude.matrix, dtype=float)
    shape = (camera.height_px, camera.width_px)
    alloc = pool.get if pool is not None else _fresh
    dirs = alloc("dirs", shape + (3,), np.float32)
    out = {name: alloc(name, shape, np.float32) for name in
           ("hit_km", "lat_deg", "lon_deg", "cos_sun_zenith", "cos_view_zenith", "tangent_km", "cos_sun_ray")}
    hit = alloc("hit", shape, np.bool_)
    cx, cy = camera.principal_point
    _geometry_kernel(basis, camera.focal_px, cx, cy, r, sun_dir, theta, WGS84_A_KM, WGS84_B_KM, WGS84_E2, R_EARTH_KM,
                     bool(exact_latlon), dirs, hit, out["hit_km"], out["lat_deg"], out["lon_deg"],
                     out["cos_sun_zenith"], out["cos_view_zenith"], out["tangent_km"], out["cos_sun_ray"])
    return RayGeometry(camera=camera, attitude=attitude, basis_teme=basis, origin_teme_km=r, sun_dir_teme=sun_dir,
                       theta_gmst=theta, dirs_teme=dirs, hit=hit, **out)


def project(camera, basis: np.ndarray, dirs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return pixel (x, y) and an in-front mask for unit directions (..., 3) in the basis' frame.

    `basis` is (3, 3), or a stack (..., 3, 3) of camera attitudes that broadcasts against `dirs`
    (e.g. bases (T, 3, 3) with dirs (1, N, 3) for N sources at T instants of an exposure).
    """
    d = np.asarray(dirs, float)
    b = np.asarray(basis, float)
    if b.ndim == 3 and d.ndim == 2:
        d = d[None]
    # Camera coordinates c_j = sum_k b_jk d_k, written out: numpy's matmul hands an (N, 3) x (3, 3)
    # product to BLAS, whose threads cost 10-50x this on a busy machine (and compete with numba's).
    tail = (None,) if d.ndim > b.ndim - 1 else ()  # the sources' axis, when dirs have one
    cx_, cy_, z = (d[..., 0] * b[(..., j, 0) + tail] + d[..., 1] * b[(..., j, 1) + tail]
                   + d[..., 2] * b[(..., j, 2) + tail] for j in range(3))
    f = camera.focal_px
    cx, cy = camera.principal_point
    with np.errstate(divide="ignore", invalid="ignore"):
        x = cx + f * cx_ / z
        y = cy + f * cy_ / z
    return x, y, z > 0


def pixel_rays(camera, basis: np.ndarray) -> np.ndarray:
    """Return unit ray directions (H, W, 3) in the basis' frame through every pixel centre."""
    f = camera.focal_px
    cx, cy = camera.principal_point
    xs = (np.arange(camera.width_px) - cx) / f
    ys = (np.arange(camera.height_px) - cy) / f
    d = (xs[None, :, None] * basis[0] + ys[:, None, None] * basis[1] + basis[2])
    return d / np.linalg.norm(d, axis=-1, keepdims=True)


__all__ = ["FramePool", "RayGeometry", "pixel_rays", "project", "ray_geometry"]

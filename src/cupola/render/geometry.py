"""Per-pixel ray geometry shared by every render layer: one numba pass per frame.

For each pixel of the camera: the ray direction (TEME), whether it meets the Earth (WGS84
ellipsoid) and where (distance, geodetic lat/lon, cosine of the Sun's zenith angle there), and,
for rays that miss, the height of their closest approach to the Earth (the tangent height,
what limb glows depend on).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np

from ..jit import inline, kernel
from ..camera import Camera, pointing_basis
from ..frames import WGS84_A_KM, WGS84_B_KM, WGS84_E2, gmst82
from ..view import R_EARTH_KM


@dataclass(frozen=True, eq=False)
class RayGeometry:
    """Arrays shaped (H, W) unless stated; float32 to keep a 1920x1080 frame light."""

    camera: Camera
    basis_teme: np.ndarray  # (3, 3) camera rows right, down, forward in TEME
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


@kernel(parallel=True)
def _geometry_kernel(basis, f, cx, cy, o, sun_dir, theta, a, b, e2, r_mean, dirs,
                     hit, hit_km, lat, lon, cos_sz, cos_vz, tangent, cos_sr):  # pragma: no cover - jit
    h, w = dirs.shape[0], dirs.shape[1]
    k = a / b
    ox, oy, oz = o[0], o[1], o[2] * k
    c, s = math.cos(theta), math.sin(theta)
    for i in nb.prange(h):
        yv = (i - cy) / f
        for j in range(w):
            # Pinhole ray through the pixel centre (same maths as camera.pixel_rays).
            xu = (j - cx) / f
            dx = xu * basis[0, 0] + yv * basis[1, 0] + basis[2, 0]
            dy = xu * basis[0, 1] + yv * basis[1, 1] + basis[2, 1]
            dz = xu * basis[0, 2] + yv * basis[1, 2] + basis[2, 2]
            dn = math.sqrt(dx * dx + dy * dy + dz * dz)
            dx /= dn
            dy /= dn
            dz /= dn
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
            sx, sy, sz = dx, dy, dz * k
            sn = math.sqrt(sx * sx + sy * sy + sz * sz)
            sx /= sn
            sy /= sn
            sz /= sn
            bq = ox * sx + oy * sy + oz * sz
            cq = ox * ox + oy * oy + oz * oz - a * a
            disc = bq * bq - cq
            t_scaled = -bq - math.sqrt(disc) if disc >= 0.0 else -1.0
            if t_scaled <= 0.0:  # misses, or the Earth is behind the camera
                hit[i, j] = False
                hit_km[i, j] = np.nan
                lat[i, j] = np.nan
                lon[i, j] = np.nan
                cos_sz[i, j] = np.nan
                cos_vz[i, j] = np.nan
                continue
            t = t_scaled / sn
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
            # Geodetic latitude of a point on the ellipsoid is the normal's elevation; both
            # angles only index textures, so the 6e-4 deg polynomial atan2 is ample.
            lat[i, j] = math.degrees(_fast_atan2(nz, math.sqrt(nx * nx + ny * ny)))
            xi = c * hx + s * hy
            yi = -s * hx + c * hy
            lon[i, j] = math.degrees(_fast_atan2(yi, xi))


# Reused output buffers, per frame size, for callers that render many frames (timelapses,
# benchmarks): first-touch page faults of ~100 MB of fresh arrays cost 10-100 ms per frame here.
_POOL: dict[tuple, np.ndarray] = {}


def pooled(name: str, shape: tuple, dtype) -> np.ndarray:
    """Return a reusable uninitialised array for `name` and `shape` (see ``_POOL``)."""
    key = (name, tuple(shape), np.dtype(dtype).str)
    arr = _POOL.get(key)
    if arr is None:
        if len(_POOL) > 64:
            _POOL.clear()
        arr = _POOL[key] = np.empty(shape, dtype)
    return arr


def ray_geometry(scene, camera: Camera | None = None, reuse: bool = False) -> RayGeometry:
    """Return the :class:`RayGeometry` of `camera` (default: the scene's) at the scene's instant.

    With ``reuse=True`` the arrays come from a pool shared by later calls of the same size: the
    result is valid until the next such call (what a timelapse wants, not a caller keeping frames).
    """
    camera = camera or scene.camera
    st = scene.state
    r = np.asarray(st.r_teme_km, float)
    body = scene.body(camera.look.body).dir_teme if camera.look.body else None
    basis = pointing_basis(camera, r, np.asarray(st.v_teme_km_s, float), st.instants,
                           icrs_to_teme=icrs_to_teme_matrix(st.instants), body_dir_teme=body)
    sun = np.asarray(st.sun_teme_km, float) - r
    sun_dir = sun / np.linalg.norm(sun)
    theta = float(gmst82(st.instants)[0])
    shape = (camera.height_px, camera.width_px)
    alloc = pooled if reuse else (lambda name, shp, dt: np.empty(shp, dt))
    dirs = alloc("dirs", shape + (3,), np.float32)
    out = {name: alloc(name, shape, np.float32) for name in
           ("hit_km", "lat_deg", "lon_deg", "cos_sun_zenith", "cos_view_zenith", "tangent_km", "cos_sun_ray")}
    hit = alloc("hit", shape, np.bool_)
    cx, cy = camera.principal_point
    _geometry_kernel(basis, camera.focal_px, cx, cy, r, sun_dir, theta, WGS84_A_KM, WGS84_B_KM, WGS84_E2, R_EARTH_KM, dirs, hit,
                     out["hit_km"], out["lat_deg"], out["lon_deg"], out["cos_sun_zenith"],
                     out["cos_view_zenith"], out["tangent_km"], out["cos_sun_ray"])
    return RayGeometry(camera=camera, basis_teme=basis, origin_teme_km=r, sun_dir_teme=sun_dir,
                       theta_gmst=theta, dirs_teme=dirs, hit=hit, **out)


def icrs_to_teme_matrix(inst) -> np.ndarray:
    """Return the (3, 3) rotation from ICRS/GCRS to TEME at one instant (skyfield's TEME frame)."""
    from skyfield.sgp4lib import TEME

    from ..timebase import timescale

    t = timescale().tt_jd(float(inst.jd_whole), float(inst.tt_fraction))
    return np.asarray(TEME.rotation_at(t))

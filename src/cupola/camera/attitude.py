"""Camera attitude: the rotation between the camera frame and TEME, however it was found.

An :class:`Attitude` holds the camera frame's axes (right, down, forward) as rows in TEME, so
``attitude.matrix @ v_teme`` gives camera coordinates and ``attitude.matrix.T`` is the
camera-to-TEME rotation. It comes from a :class:`~cupola.camera.Look` (nadir, horizon, a target
on the ground, a direction on the sky) resolved against a Scene, from a matrix, or from a
quaternion (later: from stars matched in a photograph). :meth:`Attitude.during` gives the
attitude across an exposure: fixed on the sky with a sidereal drive (``tracked``), otherwise
turning with the station's LVLH frame about the orbit normal at |r x v| / |r|^2 (one turn per
orbit, ~3.9 deg/min), as a camera bracketed in the cupola does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..constants import ATMOSPHERE_KM, R_EARTH_KM, WGS84_E2
from ..errors import InputError
from ..frames import geodetic_to_itrs, itrs_to_teme, unit
from ..view import footprint_radius_km, horizon_dip_deg, limb_margin_deg, local_horizontal_basis
from . import NAMED_AZIMUTHS, RELATIVE_AZIMUTHS, Look

ORTHONORMAL_TOL = 1e-6


@dataclass(frozen=True, eq=False)
class Attitude:
    """The camera's axes in TEME: rows right, down, forward (optical axis), shape (3, 3)."""

    matrix: np.ndarray

    def __post_init__(self):
        m = np.asarray(self.matrix, float)
        if m.shape != (3, 3) or not np.all(np.isfinite(m)):
            raise InputError(f"an attitude is a finite 3x3 rotation matrix, got shape {m.shape}")
        err = float(np.max(np.abs(m @ m.T - np.eye(3))))
        if err > ORTHONORMAL_TOL or np.linalg.det(m) < 0:
            raise InputError(f"the attitude matrix is not a rotation (|M M^T - I| = {err:.2g}, "
                             f"det = {np.linalg.det(m):.3f}); give orthonormal rows right, down, forward")
        m = m.copy()
        m.setflags(write=False)
        object.__setattr__(self, "matrix", m)

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def from_matrix(cls, matrix) -> "Attitude":
        """Return the attitude whose rows (right, down, forward) in TEME are `matrix`."""
        return cls(np.asarray(matrix, float))

    @classmethod
    def from_quaternion(cls, q) -> "Attitude":
        """Return the attitude of the unit quaternion `q` = (w, x, y, z) (scalar first) of the
        camera-to-TEME rotation: v_teme = R(q) v_camera."""
        q = np.asarray(q, float).reshape(-1)
        if q.shape != (4,) or not np.all(np.isfinite(q)) or not np.linalg.norm(q) > 0:
            raise InputError(f"a quaternion has 4 finite numbers (w, x, y, z), not all zero; got {q.tolist()}")
        w, x, y, z = q / np.linalg.norm(q)
        r = np.array([
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ])
        return cls(r.T)

    @classmethod
    def from_look(cls, look: Look, scene, roll_deg: float = 0.0) -> "Attitude":
        """Return the attitude that points `look` from the station of the single-instant `scene`.

        Reads the scene's state (position, velocity, instant), its ICRS -> TEME rotation (for
        ``sky:RA,DEC``) and the named body's direction (for ``sky:moon``...).
        """
        st = scene.state
        body = scene.body(look.body).dir_teme if look.body else None
        icrs = scene.icrs_to_teme if (look.mode == "sky" and not look.body) else None
        return cls(_basis(look, roll_deg, np.asarray(st.r_teme_km, float).reshape(3),
                          np.asarray(st.v_teme_km_s, float).reshape(3), st.instants, icrs, body))

    # -- views --------------------------------------------------------------------------------
    @property
    def right(self) -> np.ndarray:
        return self.matrix[0]

    @property
    def down(self) -> np.ndarray:
        return self.matrix[1]

    @property
    def forward(self) -> np.ndarray:
        return self.matrix[2]

    @property
    def quaternion(self) -> np.ndarray:
        """Return (w, x, y, z) of the camera-to-TEME rotation, w >= 0 (Shepperd's method)."""
        r = self.matrix.T
        tr = np.trace(r)
        k = int(np.argmax([tr, r[0, 0], r[1, 1], r[2, 2]]))
        if k == 0:
            s = 2.0 * np.sqrt(1.0 + tr)
            q = [0.25 * s, (r[2, 1] - r[1, 2]) / s, (r[0, 2] - r[2, 0]) / s, (r[1, 0] - r[0, 1]) / s]
        else:
            i, j, m = (k - 1), k % 3, (k + 1) % 3
            s = 2.0 * np.sqrt(1.0 + r[i, i] - r[j, j] - r[m, m])
            q = [0.0, 0.0, 0.0, 0.0]
            q[0] = (r[m, j] - r[j, m]) / s
            q[i + 1] = 0.25 * s
            q[j + 1] = (r[j, i] + r[i, j]) / s
            q[m + 1] = (r[m, i] + r[i, m]) / s
        q = np.array(q)
        return -q if q[0] < 0 else q

    def rolled(self, roll_deg: float) -> "Attitude":
        """Return this attitude turned by `roll_deg` about the optical axis (clockwise as seen
        from behind the camera, so the scene turns counter-clockwise)."""
        return Attitude(_roll(self.matrix, roll_deg))

    def during(self, state, times_s, tracked: bool) -> np.ndarray:
        """Return the attitude matrices (T, 3, 3) at offsets `times_s` (s) from `state`'s single
        instant: fixed when `tracked` (sidereal drive), else turning with the LVLH frame."""
        t = np.atleast_1d(np.asarray(times_s, float))
        if tracked:
            return np.broadcast_to(self.matrix, t.shape + (3, 3)).copy()
        axis, omega = orbit_rate(state)
        # LVLH axes at t are R(omega t) applied to those at 0, so B(t) = B0 R(omega t)^T.
        return self.matrix @ np.swapaxes(rotation_about(axis, omega * t), -1, -2)


def why_not_in_view(look: Look, scene) -> str | None:
    """Return why the station cannot see what `look` points at (None when it can): a ground
    target beyond its horizon, or a sky direction or body behind the Earth and its air.

    Nadir and horizon looks always see something; a target or sky look that is hidden would draw
    the wrong scene (or black) with no warning, which cupola refuses.
    """
    st = scene.state
    r = np.asarray(st.r_teme_km, float).reshape(3)
    name = look.name or look.text
    if look.mode == "target":
        p = np.asarray(itrs_to_teme(geodetic_to_itrs(look.lat_deg, look.lon_deg, 0.0), st.instants), float).reshape(3)
        up = unit(p * np.array([1.0, 1.0, 1.0 / (1.0 - WGS84_E2)]))  # the ellipsoid's normal there
        if np.dot(r - p, up) > 0.0:
            return None
        ground_km = float(np.arccos(np.clip(np.dot(unit(r), unit(p)), -1.0, 1.0))) * R_EARTH_KM
        horizon_km = float(footprint_radius_km(float(np.asarray(st.alt_km))))
        return (f"{name} is {ground_km:,.0f} km from the point below the station, beyond its "
                f"{horizon_km:,.0f} km horizon")
    if look.mode == "sky":
        if look.body:
            b = scene.body(look.body)
            d, what = np.asarray(b.dir_teme, float).reshape(3), f"the {b.name.capitalize()}"
        else:
            ra, dec = np.radians(look.ra_deg), np.radians(look.dec_deg)
            d = np.asarray(scene.icrs_to_teme, float) @ np.array([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra),
                                                                   np.sin(dec)])
            what = name
        margin = float(limb_margin_deg(r, d, ATMOSPHERE_KM))
        if margin > 0.0:
            return None
        return f"{what} is {-margin:.1f} deg below the Earth's limb, hidden from the station"
    return None


def orbit_rate(state) -> tuple[np.ndarray, float]:
    """Return (unit orbit normal (3,) TEME, angular rate rad/s) of the LVLH frame: |r x v| / |r|^2."""
    r = np.asarray(state.r_teme_km, float).reshape(3)
    v = np.asarray(state.v_teme_km_s, float).reshape(3)
    h = np.cross(r, v)
    return h / np.linalg.norm(h), float(np.linalg.norm(h) / np.dot(r, r))


def rotation_about(axis, angle) -> np.ndarray:
    """Return rotation matrices (..., 3, 3) by `angle` (rad, any shape) about unit `axis` (3,)."""
    k = np.asarray(axis, float)
    kx = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    a = np.asarray(angle, float)[..., None, None]
    return np.eye(3) + np.sin(a) * kx + (1.0 - np.cos(a)) * (kx @ kx)


# -- looks ------------------------------------------------------------------------------------------
def _horizon_forward(look: Look, r_km, v_km_s):
    basis = local_horizontal_basis(r_km)  # rows E, N, U
    east, north, up = basis[0], basis[1], basis[2]
    if isinstance(look.azimuth, str) and look.azimuth in RELATIVE_AZIMUTHS:
        vh = v_km_s - np.dot(v_km_s, up) * up
        az_ahead = np.degrees(np.arctan2(np.dot(vh, east), np.dot(vh, north)))
        az = az_ahead + RELATIVE_AZIMUTHS[look.azimuth]
    elif isinstance(look.azimuth, str):
        az = NAMED_AZIMUTHS[look.azimuth]
    else:
        az = float(look.azimuth)
    alt_km = np.linalg.norm(r_km) - R_EARTH_KM
    el = -float(horizon_dip_deg(alt_km)) + look.pitch_deg
    a, e = np.radians(az), np.radians(el)
    fwd = np.cos(e) * (np.sin(a) * east + np.cos(a) * north) + np.sin(e) * up
    return fwd, up


def _roll(basis, roll_deg):
    if not roll_deg:
        return np.asarray(basis, float)
    right, down, fwd = np.asarray(basis, float)
    c, s = np.cos(np.radians(roll_deg)), np.sin(np.radians(roll_deg))
    return np.stack([c * right + s * down, -s * right + c * down, fwd])


def _basis(look: Look, roll_deg, r, v, inst=None, icrs_to_teme=None, body_dir_teme=None) -> np.ndarray:
    up_local = unit(r)
    if look.mode == "nadir":
        fwd = -up_local
        hint = unit(v - np.dot(v, up_local) * up_local)  # image top toward the way ahead
    elif look.mode == "horizon":
        fwd, hint = _horizon_forward(look, r, v)
    elif look.mode == "target":
        if inst is None:
            raise InputError("pointing at a target needs the instant")
        tgt = itrs_to_teme(geodetic_to_itrs(look.lat_deg, look.lon_deg, 0.0), inst)
        fwd = unit(np.asarray(tgt, float).reshape(3) - r)
        hint = up_local
    elif look.mode == "sky" and look.body:
        if body_dir_teme is None:
            raise InputError(f"pointing at {look.name} needs its direction from the scene")
        fwd = unit(np.asarray(body_dir_teme, float).reshape(3))
        hint = up_local
    elif look.mode == "sky":
        if icrs_to_teme is None:
            raise InputError("pointing at the sky needs the ICRS->TEME rotation")
        ra, dec = np.radians(look.ra_deg), np.radians(look.dec_deg)
        d_icrs = np.array([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)])
        fwd = unit(np.asarray(icrs_to_teme, float) @ d_icrs)
        hint = up_local
    else:  # pragma: no cover - Look is validated by parse_look
        raise InputError(f"unknown pointing mode {look.mode!r}")
    if abs(np.dot(fwd, unit(hint))) > 0.999:  # looking straight along the hint: pick another
        hint = np.array([0.0, 0.0, 1.0]) if abs(fwd[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    # right = forward x hint, down = forward x right = -hint (for a hint normal to forward):
    # the hint points to the top of the image.
    right = unit(np.cross(fwd, hint))
    down = np.cross(fwd, right)
    return _roll(np.stack([right, down, fwd]), roll_deg)


def pointing_basis(camera, r_teme_km, v_teme_km_s, inst=None, icrs_to_teme=None,
                   body_dir_teme=None) -> np.ndarray:
    """Return the camera frame rows (right, down, forward) in TEME, shape (3, 3), for one instant,
    from the camera's look and roll.

    Args:
        r_teme_km, v_teme_km_s: the station's state (3,).
        inst: timebase.Instants for that instant (needed for 'target').
        icrs_to_teme: (3, 3) rotation (needed for 'sky').
        body_dir_teme: (3,) direction of the named body (needed for 'sky' toward a body).
    """
    return _basis(camera.look, camera.roll_deg, np.asarray(r_teme_km, float).reshape(3),
                  np.asarray(v_teme_km_s, float).reshape(3), inst, icrs_to_teme, body_dir_teme)


__all__ = ["Attitude", "orbit_rate", "pointing_basis", "rotation_about", "why_not_in_view"]

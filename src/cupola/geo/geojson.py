"""Map geometry of the view: the ground track, the horizon circle, the day/night terminator and the
auroral oval as plain longitude/latitude arrays, cut at the antimeridian, for a flat map.

Models (all on a sphere of mean radius R, which is how a flat map reads them):
- the ground track is the sub-station point (geodetic latitude, ``State.lat_deg``) along the orbit;
- the footprint is the small circle of the geometric horizon around the sub-station point, of
  central angle :func:`cupola.view.horizon_arc_deg` (radius :func:`cupola.view.footprint_radius_km`,
  2,252 km from 420 km), destination points by the spherical direct formula;
- the terminator is the great circle 90 deg from the sub-solar point (the Sun's geocentric
  direction in ITRS: declination and the longitude where it is noon), written as a latitude for
  each longitude, tan(lat) = -cos(lon - lon_sun) / tan(dec); the night side is the cap around
  the anti-solar point. It leaves out refraction (the Sun is seen ~0.6 deg below the geometric
  horizon), the Sun's radius and twilight; the shading is a guide, the answers' lighting is exact;
- the oval is the Feldstein-Starkov boundary lines of :func:`cupola.phenomena.aurora.aurora_oval`
  at its lowest emission height, one ring per hemisphere and boundary, in MLT order.

Lines that cross the antimeridian are cut there (interpolated to +-180 deg on both sides), so a
map draws no line across the whole world. What is made into GeoJSON objects is done by the
presentation layer (:func:`cupola.answers.json.track_geojson`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..frames import teme_to_itrs
from ..view import footprint_radius_km, horizon_arc_deg

FOOTPRINT_POINTS = 181  # vertices of the horizon circle (2 deg apart, closed)
TERMINATOR_POINTS = 361  # one a degree of longitude, -180 to 180


def split_antimeridian(lon_deg, lat_deg, closed: bool = False) -> list[np.ndarray]:
    """Return the line through (`lon_deg`, `lat_deg`) cut where it crosses the antimeridian, as
    (N, 2) arrays of (lon, lat); a jump of more than 180 deg between points is taken as a crossing.

    NaN points (a propagation that failed) also cut the line. `closed` joins the last point to the first.
    """
    lon = np.asarray(lon_deg, float).ravel()
    lat = np.asarray(lat_deg, float).ravel()
    if closed and lon.size:
        lon, lat = np.append(lon, lon[0]), np.append(lat, lat[0])
    lon = (lon + 180.0) % 360.0 - 180.0
    ok = np.isfinite(lon) & np.isfinite(lat)
    pieces = []
    for run in np.split(np.arange(lon.size), np.flatnonzero(np.diff(ok.astype(np.int8)) != 0) + 1):
        if run.size and ok[run[0]]:
            pieces.extend(_cut(lon[run], lat[run]))
    return [p for p in pieces if len(p) >= 2]


def _cut(lon: np.ndarray, lat: np.ndarray) -> list[np.ndarray]:
    dlon = np.diff(lon)
    jumps = np.flatnonzero(np.abs(dlon) > 180.0)
    if not jumps.size:
        return [np.column_stack([lon, lat])]
    out, begin, head = [], 0, None
    for j in jumps:
        edge = 180.0 if dlon[j] < 0 else -180.0  # eastward across +180 appears as a drop in longitude
        far = lon[j + 1] + 2.0 * edge  # the next point on this side's continuous longitude
        f = (edge - lon[j]) / (far - lon[j])
        lat_x = lat[j] + f * (lat[j + 1] - lat[j])
        seg = np.column_stack([lon[begin:j + 1], lat[begin:j + 1]])
        if head is not None:
            seg = np.vstack([head, seg])
        out.append(np.vstack([seg, [edge, lat_x]]))
        head, begin = np.array([[-edge, lat_x]]), j + 1
    tail = np.column_stack([lon[begin:], lat[begin:]])
    out.append(np.vstack([head, tail]))
    return out


def small_circle(lat_deg: float, lon_deg: float, radius_deg: float, n: int = FOOTPRINT_POINTS):
    """Return (lat_deg, lon_deg) of `n` points at central angle `radius_deg` around a point
    (bearings 0..360 deg, the first point repeated last)."""
    phi1, lam1, d = np.radians(lat_deg), np.radians(lon_deg), np.radians(radius_deg)
    az = np.linspace(0.0, 2.0 * np.pi, n)
    phi2 = np.arcsin(np.sin(phi1) * np.cos(d) + np.cos(phi1) * np.sin(d) * np.cos(az))
    lam2 = lam1 + np.arctan2(np.sin(az) * np.sin(d) * np.cos(phi1), np.cos(d) - np.sin(phi1) * np.sin(phi2))
    return np.degrees(phi2), (np.degrees(lam2) + 180.0) % 360.0 - 180.0


def subsolar_point(state) -> tuple[float, float]:
    """Return (lat_deg, lon_deg) of the point with the Sun at its zenith (geocentric) at the single
    instant of `state`."""
    sun = np.asarray(state.sun_teme_km, float)
    r, _ = teme_to_itrs(sun, np.zeros_like(sun), state.instants)
    x, y, z = np.asarray(r, float).reshape(-1, 3)[0]
    return float(np.degrees(np.arctan2(z, np.hypot(x, y)))), float(np.degrees(np.arctan2(y, x)))


def terminator(sub_lat_deg: float, sub_lon_deg: float, n: int = TERMINATOR_POINTS):
    """Return (lon_deg, lat_deg) of the terminator: for each of `n` longitudes from -180 to 180,
    the latitude 90 deg from the sub-solar point."""
    lon = np.linspace(-180.0, 180.0, n)
    # Sun elevation 0: sin(lat) sin(dec) + cos(lat) cos(dec) cos(dlon) = 0, i.e.
    # tan(lat) = -cos(dlon) cos(dec) / sin(dec); atan2 with x = |sin(dec)| >= 0 keeps lat in
    # [-90, 90] and takes dec = 0 (the equinoxes: the meridians 90 deg from the Sun) without dividing.
    dec = np.radians(sub_lat_deg)
    sign = 1.0 if dec >= 0 else -1.0
    lat = np.degrees(np.arctan2(-sign * np.cos(np.radians(lon - sub_lon_deg)) * np.cos(dec), abs(np.sin(dec))))
    return lon, lat


def night_ring(sub_lat_deg: float, sub_lon_deg: float, n: int = TERMINATOR_POINTS):
    """Return (lon_deg, lat_deg) of the closed outline of the night side: the terminator closed
    through the pole that is in darkness (the south pole while the Sun's declination is north)."""
    lon, lat = terminator(sub_lat_deg, sub_lon_deg, n)
    pole = -90.0 if sub_lat_deg >= 0 else 90.0
    return np.concatenate([lon, [180.0, -180.0, lon[0]]]), np.concatenate([lat, [pole, pole, lat[0]]])


@dataclass(frozen=True)
class OvalLine:
    """One boundary of the auroral oval (a closed ring in MLT order)."""

    hemisphere: str  # 'north' or 'south'
    boundary: str  # 'poleward' or 'equatorward'
    height_km: float
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    visible: int  # how many of its points are visible from the station now


def oval_lines(oval) -> list[OvalLine]:
    """Return the poleward and equatorward boundaries of `oval` (an AuroraOval) in both
    hemispheres, at its lowest emission height."""
    from ..phenomena.aurora import KIND_NAMES

    if oval is None:
        return []
    h = float(np.min(oval.height_km))
    out = []
    for hemi, hname in ((1, "north"), (-1, "south")):
        for kind in ("poleward", "equatorward"):
            m = (oval.hemisphere == hemi) & (oval.kind == KIND_NAMES.index(kind)) & (oval.height_km == h)
            order = np.argsort(oval.mlt_h[m], kind="stable")
            out.append(OvalLine(hname, kind, h, oval.lat_deg[m][order], oval.lon_deg[m][order],
                                int(np.count_nonzero(oval.visible[m]))))
    return out


@dataclass(frozen=True)
class MapView:
    """What a map of one instant shows (degrees; see the module docstring for the models)."""

    track_t_utc: np.ndarray  # datetime64[ns], the ground track's instants
    track_lat_deg: np.ndarray
    track_lon_deg: np.ndarray
    station_lat_deg: float
    station_lon_deg: float
    alt_km: float
    footprint_radius_km: float
    footprint_lat_deg: np.ndarray
    footprint_lon_deg: np.ndarray
    subsolar_lat_deg: float
    subsolar_lon_deg: float
    terminator_lon_deg: np.ndarray
    terminator_lat_deg: np.ndarray
    night_lon_deg: np.ndarray
    night_lat_deg: np.ndarray
    oval: list  # OvalLine, empty without a Kp


def map_view(track_state, state, oval=None) -> MapView:
    """Return the :class:`MapView` of the ground track `track_state` (a State over many instants)
    and the instant `state` (a single-instant State: footprint, terminator) with its `oval`."""
    lat, lon, alt = float(state.lat_deg), float(state.lon_deg), float(state.alt_km)
    f_lat, f_lon = small_circle(lat, lon, float(horizon_arc_deg(alt)))
    s_lat, s_lon = subsolar_point(state)
    t_lon, t_lat = terminator(s_lat, s_lon)
    n_lon, n_lat = night_ring(s_lat, s_lon)
    return MapView(np.asarray(track_state.t_utc), np.asarray(track_state.lat_deg, float),
                   np.asarray(track_state.lon_deg, float), lat, lon, alt, float(footprint_radius_km(alt)),
                   f_lat, f_lon, s_lat, s_lon, t_lon, t_lat, n_lon, n_lat, oval_lines(oval))


__all__ = ["split_antimeridian", "small_circle", "subsolar_point", "terminator", "night_ring", "oval_lines",
           "OvalLine", "MapView", "map_view", "FOOTPRINT_POINTS", "TERMINATOR_POINTS"]

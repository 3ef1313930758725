"""The Scene: everything in view from the station, at one instant or over a series of instants.

Everything below this seam computes (orbit, geo, lighting, sky, phenomena); everything above it
(the answers, the CLI, the renderer, the web layer) only reads Scenes.

``compute_scene(t)`` takes one instant or an array of them. Every piece is computed for all the
instants at once (no Python loop per instant): positions, lighting and the next orbital sunrise
and sunset (one edge search over the union of the instants' look-ahead spans), places under the
station, star counts, the Sun, Moon and planets, the airglow layers, the auroral oval (one table
look-up pass over instants x oval points) and the brightest lit cities (padded top-k arrays).
A single instant is a series of one: ``compute_scene(t_i)`` and ``compute_scene(ts)[i]`` are the
same Scene.

``compute_scene(ts, parts={'lighting', 'aurora'})`` computes only the named fields (``SCENE_PARTS``;
the state is always computed) and leaves the others None, for callers such as a 30-day search that
read two fields at a million instants; each computed field equals the full series' field.

Shape rule of every view: per-instant fields are arrays whose leading shape is the instants'
(numpy scalars for one instant), per-instant lists add trailing axes, constant metadata are plain
values. A single :class:`Scene` adds what only one instant has: the list of visible stars, the
oval's points, the emission fields a renderer draws (with the night-lights raster and cloud map), the station's motion
across an exposure (from the Scene's own Satellite) and the sky's rotation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._index import check_index, take_instant
from .errors import InputError
from .frames import gmst82
from .geo.caption import caption as _caption
from .geo.places import Places, locate
from .lighting import next_sun_events, phases, shadow_status, sun_elevation_deg, sun_fraction
from .constants import ISS_NORAD_ID, STALE_AFTER_DAYS, STALE_REFUSE_KM
from .elements.validity import KNOWN_LAUNCH_UTC
from .orbit import Satellite, State
from .phenomena.airglow import AirglowLayerView, airglow_in_view
from .phenomena.aurora import AuroraOval, AuroraView, aurora_in_view, aurora_oval
from .phenomena.emission import AirglowEmission, AuroraEmission, airglow_emission, aurora_emission
from .phenomena.kp import kp_missing_message
from .phenomena.clouds import Clouds, clouds
from .phenomena.refraction import LimbOptics, Refracted, apparent_directions, limb_optics
from .phenomena.lights import CitiesView, NightLights, cities_view, night_lights
from .sky.bodies import Body, bodies, moon_albedo
from .sky.milkyway import luminance_map as milky_way_luminance
from .sky.stars import StarsView, icrs_to_teme, star_field, visible_stars
from .timebase import add_seconds, iso_utc, to_utc64

SCENE_PARTS = ("lighting", "places", "stars", "bodies", "airglow", "aurora", "cities")
PLANETS = ("Mercury", "Venus", "Mars", "Jupiter", "Saturn")
STAR_MAG_LIMIT = 6.0
CITY_LIMIT = 10


@dataclass(frozen=True, eq=False)
class Lighting:
    """The station's light; every field an array shaped like the instants."""

    sunlit: np.ndarray  # geometric model (skyfield's is_sunlit)
    sun_fraction: np.ndarray  # visible fraction of the solar disc (cone model, no atmosphere)
    shadow: np.ndarray  # 'sunlit', 'penumbra' or 'umbra' (cone model)
    sun_elevation_below_deg: np.ndarray  # the Sun seen from the ground point below
    phase: np.ndarray  # see cupola.geo.caption.PHASES
    next_orbital_sunrise_utc: np.ndarray  # NaT when none within lighting.SUN_EVENTS_AHEAD_S
    next_orbital_sunset_utc: np.ndarray


@dataclass(frozen=True, eq=False)
class Motion:
    """The station across an exposure: offsets from the Scene's instant and its state then."""

    offsets_s: np.ndarray  # (K,)
    r_teme_km: np.ndarray  # (K, 3)
    v_teme_km_s: np.ndarray  # (K, 3)
    earth_angle_rad: np.ndarray  # (K,) GMST 1982: the TEME -> ITRS rotation about z


@dataclass(frozen=True, eq=False)
class _SceneFields:
    t_utc: np.ndarray
    sat: Satellite
    state: State
    lighting: Lighting
    places: Places  # under the station
    stars: StarsView  # stars brighter than STAR_MAG_LIMIT above the limb
    bodies: tuple[Body, ...]  # Sun, Moon, planets
    airglow: tuple[AirglowLayerView, ...]
    aurora: AuroraView | None  # a Scene: None when no Kp is known (see aurora_note)
    aurora_note: np.ndarray  # why there is no aurora answer ('' where there is one)
    cities: CitiesView  # lit cities in view, brightest first (CITY_LIMIT per instant)
    camera: object | None = None
    kp_given: float | None = None  # the caller's Kp, None when taken from the bundled history

    @property
    def satellite(self) -> str:
        """Return the satellite's name ('ISS (ZARYA)')."""
        return self.sat.name

    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.t_utc)

    @property
    def elements_stale(self) -> np.ndarray:
        """Return True where the element set used is more than STALE_AFTER_DAYS from the instant."""
        return np.abs(np.asarray(self.state.tle_age_days, float)) > STALE_AFTER_DAYS

    def body(self, name: str) -> Body:
        """Return the body called `name` ('Sun', 'Moon', 'Venus', ...)."""
        for b in self.bodies:
            if b.name.lower() == name.lower():
                return b
        raise InputError(f"no body named {name!r} in the scene; use one of {', '.join(b.name for b in self.bodies)}")

    def caption(self, lang: str = "en"):
        """Return the NASA-style caption in `lang` ('en' or 'fr'): a str, or an array for a series."""
        if self.places is None or self.lighting is None:
            raise InputError("the caption needs the scene's places and lighting, which were not computed",
                             param="parts", fix="include 'places' and 'lighting' in compute_scene(..., parts=...)")
        return _caption(self.state.alt_km, self.places, self.lighting.phase, lang, iss=self.is_iss)

    @property
    def is_iss(self) -> bool:
        """Return True when the Scene's satellite is the ISS (NORAD 25544)."""
        return int(self.sat.archive.sets[0].satnum) == ISS_NORAD_ID


@dataclass(frozen=True, eq=False)
class Scene(_SceneFields):
    """What is in view from the station at one instant (plain arrays and frozen dataclasses).

    Besides the fields it offers what a renderer or a photo annotator needs, computed on first
    use from the Scene's own data: the sky's rotation, the station's motion across an exposure,
    the oval's points and the emission fields (and the night-lights raster and cloud map).
    """

    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def _cached(self, key, fn):
        try:
            return self._cache[key]
        except KeyError:
            value = self._cache[key] = fn()  # two threads may both compute it; either result is whole
            return value

    @property
    def icrs_to_teme(self) -> np.ndarray:
        """Return the (3, 3) rotation from ICRS/GCRS to TEME at the instant (skyfield's TEME)."""
        return self._cached("icrs_to_teme", lambda: icrs_to_teme(self.state.instants))

    @property
    def earth_angle_rad(self) -> float:
        """Return GMST 1982 (rad): the TEME -> ITRS rotation about z at the instant."""
        return self._cached("earth_angle", lambda: float(np.asarray(gmst82(self.state.instants)[0]).reshape(())))

    def motion(self, offsets_s) -> Motion:
        """Return the station's state at `offsets_s` (s) from the instant, from the Scene's own
        Satellite (the element sets it was computed with)."""
        off = np.atleast_1d(np.asarray(offsets_s, float))
        if np.all(off == 0.0):
            r = np.broadcast_to(np.asarray(self.state.r_teme_km, float).reshape(1, 3), off.shape + (3,))
            v = np.broadcast_to(np.asarray(self.state.v_teme_km_s, float).reshape(1, 3), off.shape + (3,))
            return Motion(off, r, v, np.full(off.shape, self.earth_angle_rad))
        st = self.sat.at(add_seconds(self.t_utc, off))
        return Motion(off, np.asarray(st.r_teme_km, float), np.asarray(st.v_teme_km_s, float),
                      np.asarray(gmst82(st.instants)[0], float))

    @property
    def night_lights(self) -> NightLights:
        """Return the night-lights radiance raster the renderer samples on the ground
        (:class:`~cupola.phenomena.lights.NightLights`; the same for every instant)."""
        return night_lights()

    @property
    def clouds(self) -> Clouds:
        """Return the cloud opacity map the renderer lays over the ground
        (:class:`~cupola.phenomena.clouds.Clouds`; the same for every instant)."""
        return clouds()

    @property
    def milky_way_cd_m2(self) -> np.ndarray:
        """Return the diffuse Milky Way's luminance (cd/m^2) on a 1-degree ICRS grid (180, 360)
        (:func:`cupola.sky.milkyway.luminance_map`: row i at Dec -89.5 + i, column j at RA j + 0.5)."""
        return milky_way_luminance()

    def star_field(self, mag_limit: float, axis_teme=None, radius_deg: float = 180.0):
        """Return the stars a camera records to V `mag_limit` within `radius_deg` of `axis_teme`
        (TEME): directions (K, 3), V and B-V, brightest first (:func:`cupola.sky.stars.star_field`)."""
        key = ("star_field", round(float(mag_limit), 3), None if axis_teme is None else
               tuple(np.round(np.asarray(axis_teme, float).reshape(3), 9)), round(float(radius_deg), 6))
        return self._cached(key, lambda: star_field(self.state, mag_limit, axis_teme, radius_deg))

    @property
    def moon_albedo(self) -> np.ndarray:
        """Return the Moon's albedo map the renderer shades its disc with (float32 (512, 1024),
        relative; :func:`cupola.sky.bodies.moon_albedo`; the same for every instant)."""
        return moon_albedo()

    @property
    def limb_optics(self) -> LimbOptics:
        """Return the refraction and transmission of limb rays by tangent height, the renderer's
        per-pixel table for the Sun's and Moon's discs (:func:`cupola.phenomena.refraction.limb_optics`)."""
        return limb_optics()

    def refract(self, dirs_teme) -> Refracted:
        """Return where sources in the true TEME directions `dirs_teme` (N, 3) appear from the station
        and through how much air (:func:`cupola.phenomena.refraction.apparent_directions`)."""
        return apparent_directions(np.asarray(self.state.r_teme_km, float).reshape(3), dirs_teme, limb_optics())

    @property
    def aurora_oval(self) -> AuroraOval | None:
        """Return the sampled auroral oval at the instant (None without a Kp)."""
        if self.aurora is None:
            return None
        return self._cached("oval", lambda: aurora_oval(self.state, kp=self.kp_given))

    @property
    def aurora_emission(self) -> AuroraEmission | None:
        """Return the aurora as the renderer integrates it (None without a Kp)."""
        oval = self.aurora_oval
        if oval is None:
            return None
        return self._cached("aurora_emission", lambda: aurora_emission(oval, self.state))

    @property
    def airglow_emission(self) -> AirglowEmission:
        """Return the airglow shells as the renderer integrates them."""
        return airglow_emission()

    @property
    def cities_list(self):
        """Return the lit cities in view as :class:`~cupola.phenomena.lights.City` objects."""
        return self.cities.as_list()


@dataclass(frozen=True, eq=False)
class SceneSeries(_SceneFields):
    """What is in view at each of many instants: every field is shaped like the instants.

    ``len(series)`` is the number of instants; ``series[i]`` is the :class:`Scene` of instant i
    (flat index), exactly what ``compute_scene`` gives for that instant alone.
    """

    def __len__(self) -> int:
        return int(np.size(self.t_utc))

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, i) -> Scene:
        shape = self.shape
        k = check_index(i, len(self))
        state = self.state[k]
        kw = {name: take_instant(getattr(self, name), k, shape)
              for name in ("t_utc", "lighting", "places", "bodies", "airglow", "aurora_note", "cities")}
        aurora = self.aurora[k] if self.aurora is not None else None
        if aurora is not None and not np.isfinite(aurora.kp):
            aurora = None
        stars = visible_stars(state, self.stars.mag_limit, self.stars.atmosphere_km) if self.stars is not None else None
        return Scene(sat=self.sat, state=state, stars=stars, aurora=aurora, camera=self.camera,
                     kp_given=self.kp_given, **kw)


def _lighting(sat: Satellite, st: State) -> Lighting:
    frac = sun_fraction(st.r_teme_km, st.sun_teme_km, "cone")
    rise, sset = next_sun_events(sat, st.t_utc)
    return Lighting(
        sunlit=np.asarray(st.sunlit, bool),
        sun_fraction=np.asarray(frac, float),
        shadow=np.asarray(shadow_status(frac)),
        sun_elevation_below_deg=np.asarray(sun_elevation_deg(st.lat_deg, st.lon_deg, st.sun_teme_km, st.instants)),
        phase=np.asarray(phases(sat, st)),
        next_orbital_sunrise_utc=rise,
        next_orbital_sunset_utc=sset,
    )


def _aurora(st: State, kp):
    view = aurora_in_view(st, kp=kp, missing="nan")
    known = np.isfinite(view.kp)
    note = np.full(known.shape, "", dtype=object)
    if not known.all():
        t_flat = np.asarray(st.t_utc).reshape(-1)
        flat = note.reshape(-1)
        for k in np.flatnonzero(~known.reshape(-1)):
            flat[k] = kp_missing_message(t_flat[k])
    return view, note


def _check_kp(kp):
    if kp is None:
        return None
    try:
        value = float(kp)
    except (TypeError, ValueError):
        value = float("nan")
    if not 0.0 <= value <= 9.0:
        raise InputError(f"Kp must be between 0 and 9, got {kp!r}", param="kp")
    return value


def refuse_before_launch(sat: Satellite, t64: np.ndarray) -> None:
    launched = sat.launched_utc
    if np.isnat(launched):
        return
    early = np.asarray(t64).ravel() < launched
    if early.any():
        when = iso_utc(launched)[:10] if sat.archive.sets[0].satnum in KNOWN_LAUNCH_UTC else f"in {iso_utc(launched)[:4]}"
        raise InputError(f"{sat.name} was launched {'on ' if when[0].isdigit() else ''}{when}: "
                         f"{iso_utc(np.asarray(t64).ravel()[early][0])} is before it, so it had no position then",
                         param="t")


def refuse_failed(sat: Satellite, st: State) -> None:
    """Raise InputError when SGP4 (or the height check) failed at the first instant of `st`."""
    code = int(np.asarray(st.error).reshape(-1)[0])
    if code != 0:
        es = sat.archive.sets[int(np.asarray(st.set_index).reshape(-1)[0])]
        raise InputError(
            f"the element set of epoch {iso_utc(es.epoch_utc)} ({es.source}) cannot give a position at "
            f"{iso_utc(np.asarray(st.t_utc).reshape(-1)[0])} (error {code}: "
            f"{np.asarray(st.error_message).reshape(-1)[0]})", param="sat",
            fix="use element sets nearer that time, e.g. Satellite.from_file(path)")


def refuse_stale(st: State) -> None:
    unc = np.asarray(st.position_uncertainty_km, float).ravel()
    bad = np.flatnonzero(unc > STALE_REFUSE_KM)
    if bad.size:
        k = bad[0]
        age = float(np.asarray(st.tle_age_days).ravel()[k])
        t = np.asarray(st.t_utc).ravel()[k]
        epoch = np.asarray(st.tle_epoch_utc).ravel()[k]
        raise InputError(
            f"the element set nearest {iso_utc(t)} (epoch {iso_utc(epoch)}) is {abs(age):.1f} days "
            f"{'before' if age > 0 else 'after'} it: its position then is good only to ~{unc[k]:,.0f} km "
            f"(more than {STALE_REFUSE_KM:g} km{f'; {bad.size} of {unc.size} instants' if unc.size > 1 else ''})",
            param="allow_stale", fix="use element sets nearer that time, or allow_stale=True to answer anyway")


def _check_parts(parts) -> frozenset:
    """Return the set of SceneSeries fields to compute (all of them for None)."""
    if parts is None:
        return frozenset(SCENE_PARTS)
    names = (parts,) if isinstance(parts, str) else tuple(parts)
    bad = [p for p in names if p not in SCENE_PARTS]
    if bad:
        raise InputError(f"unknown scene part {bad[0]!r}; use any of {', '.join(SCENE_PARTS)} (the state is always "
                         "computed)", param="parts")
    return frozenset(names)


def compute_scene(t, camera=None, sat: Satellite | None = None, kp: float | None = None,
                  allow_stale: bool = False, parts=None, exact: bool = False) -> Scene | SceneSeries:
    """Return the :class:`Scene` at one instant `t`, or the :class:`SceneSeries` of an array of them.

    Args:
        t: one instant or an array of instants (ISO text with a zone, aware datetimes, numpy
            datetime64 UTC); a series is shaped like `t`.
        camera: an optional `cupola.camera.Camera`, carried for the renderer.
        sat: the satellite (default: the ISS with the bundled element-set history).
        kp: the Kp index to use for the aurora at every instant (0-9); default the bundled Kp
            history's value. Instants outside that history have no aurora answer and say why.
        allow_stale: answer even where the element set is so far from an instant that its position
            there is uncertain by more than STALE_REFUSE_KM (``state.position_uncertainty_km``).
        parts: the fields to compute, any of ``SCENE_PARTS`` ('lighting', 'places', 'stars',
            'bodies', 'airglow', 'aurora' (with 'aurora_note'), 'cities'); the others are None. The
            state is always computed. Default None: every field, as without the argument. A
            caption needs 'places' and 'lighting'.
        exact: call SGP4 at every instant (``Satellite.at(t, exact=True)``), as a single instant
            does, so each instant of a series equals its own single-instant Scene to the last
            digit (``cupola.batch``); default False fills dense runs by interpolation (~2 cm).
    Raises:
        InputError: a bad Kp; an instant before the satellite was launched; an element set too
            old or too new for an instant (unless `allow_stale`); for one instant, an element set
            SGP4 cannot propagate to it or that gives an impossible height (a series keeps such
            instants as NaN rows with the state's error code instead).
        TimeInputError: an instant outside the bundled ephemeris (1899-07-30 to 2053-10-08).
    """
    kp_value = _check_kp(kp)
    want = _check_parts(parts)
    sat = sat or Satellite.from_archive()
    t64 = to_utc64(t)
    scalar = t64.ndim == 0
    refuse_before_launch(sat, t64)
    st = sat.at(t64.reshape(1) if scalar else t64, exact=exact)
    if scalar:
        refuse_failed(sat, st)
    if not allow_stale:
        refuse_stale(st)
    aurora, note = _aurora(st, kp_value) if "aurora" in want else (None, None)
    series = SceneSeries(
        t_utc=np.asarray(st.t_utc),
        sat=sat,
        state=st,
        lighting=_lighting(sat, st) if "lighting" in want else None,
        places=locate(st.lat_deg, st.lon_deg) if "places" in want else None,
        stars=visible_stars(st, STAR_MAG_LIMIT) if "stars" in want else None,
        bodies=tuple(bodies(st)) if "bodies" in want else None,
        airglow=tuple(airglow_in_view(st)) if "airglow" in want else None,
        aurora=aurora,
        aurora_note=note,
        cities=cities_view(st, limit=CITY_LIMIT) if "cities" in want else None,
        camera=camera,
        kp_given=kp_value,
    )
    return series[0] if scalar else series


__all__ = ["Scene", "SceneSeries", "Lighting", "Motion", "compute_scene", "SCENE_PARTS", "PLANETS", "STAR_MAG_LIMIT",
           "CITY_LIMIT"]

"""The public names of cupola, what a user needs: ``from cupola.api import Satellite, compute_scene``.

- the station: :class:`Satellite` (``from_tle``, ``from_omm``, ``from_file``, ``from_archive``),
  its :class:`State` at any instants, and the times they take (:func:`to_utc64`, :func:`iso_utc`);
- what is in view: :func:`compute_scene` for one instant (:class:`Scene`) or many
  (:class:`SceneSeries`), the NASA-style words of a place (:func:`locate`, :func:`caption`, :func:`describe_place`,
  :func:`place_json` for one point),
  the Kp history (:func:`kp_at`);
- when: :class:`Predicate`, :func:`find_edges`, :func:`windows`, :func:`orbital_sun_events`,
  :func:`next_sun_events`;
- planning (:mod:`cupola.plan`, :mod:`cupola.find`): :class:`Condition` and its makers
  (:func:`over`, :func:`at_sea_near`, :func:`ground`, :func:`night`, :func:`day`,
  :func:`aurora_in_view`, :func:`near_sun_event`, :func:`sky_visible`, :func:`target_in_view`,
  :func:`look_in_view`), :func:`next_in_view` (when a camera's target is next in view),
  :func:`plan_windows` (``cupola.plan.windows``: a Condition's :class:`Window` list), ground
  :func:`passes` (:class:`Pass`), and :func:`find` (candidate instants for a caption-like text);
- pictures: :class:`Camera`, :class:`Look` (:func:`parse_look` reads text), :class:`Attitude`,
  :func:`ray_geometry` (lat/lon of every pixel), :func:`render`, :class:`RenderSettings`,
  :class:`FramePool`, :func:`save_frame`, :func:`read_metadata`;
- timelapses: :func:`timelapse` (MP4, GIF or PNG frames from one SceneSeries), :class:`TimelapseResult`;
- photographs (:mod:`cupola.photo`): :func:`annotate` (an :class:`Annotation`: time, view, pointing
  from the stars, overlay, WCS, per-pixel lat/lon), :func:`read_photo` (:class:`PhotoMeta`),
  :func:`annotate_json` (the `cupola annotate --json` object);
- answers: :func:`where_json` (the versioned JSON answer), :func:`where_text`;
- :func:`warmup` compiles the kernels; errors derive from :class:`CupolaError`.

Everything else is reachable through its module (``cupola.view``, ``cupola.sky.stars``, ...).
"""

from .answers import where_json, where_text
from .answers.json import annotate_json, place_json
from .camera import Attitude, Camera, Look, ray_geometry
from .errors import CupolaError, DataMissingError, ElementSetError, InputError, TimeInputError
from .geo.caption import caption, describe_place
from .geo.places import locate
from .inputs import parse_look
from .find import Candidate, find
from .lighting import next_sun_events, orbital_sun_events
from .orbit import Satellite, State
from .phenomena.kp import kp_at
from .plan import (Condition, Pass, Window, at_sea_near, aurora_in_view, day, ground, look_in_view, near_sun_event,
                   next_in_view, night, over, passes, sky_visible, target_in_view)
from .plan import windows as plan_windows
from .render import Frame, FramePool, RenderSettings, frame_geometry, render
from .photo.annotate import Annotation, annotate
from .photo.metadata import PhotoMeta, read_photo
from .render.output import check_output_path, read_metadata, save_frame
from .scene import Scene, SceneSeries, compute_scene
from .search import Predicate, find_edges, windows
from .timebase import iso_utc, to_utc64
from .video import TimelapseResult, timelapse
from .warmup import warmup

__all__ = [
    "Satellite", "State", "to_utc64", "iso_utc",
    "compute_scene", "Scene", "SceneSeries", "locate", "caption", "describe_place", "place_json", "kp_at",
    "Predicate", "find_edges", "windows", "orbital_sun_events", "next_sun_events",
    "Condition", "Window", "Pass", "Candidate", "plan_windows", "passes", "find", "over", "at_sea_near", "ground",
    "night", "day", "aurora_in_view", "near_sun_event", "sky_visible", "target_in_view", "look_in_view",
    "next_in_view",
    "Camera", "Look", "parse_look", "Attitude", "ray_geometry", "frame_geometry", "render", "RenderSettings",
    "Frame", "FramePool", "save_frame", "read_metadata", "check_output_path",
    "timelapse", "TimelapseResult",
    "annotate", "Annotation", "read_photo", "PhotoMeta", "annotate_json",
    "where_json", "where_text", "warmup",
    "CupolaError", "DataMissingError", "ElementSetError", "InputError", "TimeInputError",
]

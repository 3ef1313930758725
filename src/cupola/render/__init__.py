"""Render the view: per-pixel ray geometry, physically scaled layers (cd/m^2), camera response.

``render(scene, camera)`` points the camera (its Look resolved against the Scene, or an explicit
:class:`~cupola.camera.Attitude`), computes every pixel's ray once
(:func:`cupola.camera.geometry.ray_geometry`), lets each layer add its linear luminance into one
zeroed accumulator (so the layers' order never matters), exposes the sum like a camera
(v = 0.18 L t S / (K N^2)) and tone-maps it to 8-bit sRGB.

The renderer reads only the Scene, the Camera and a frozen :class:`RenderSettings`: it imports
nothing of the orbit, sky, phenomena or geo modules, nor skyfield. Over a long exposure the layers
that move with the ground (earth, airglow, aurora) draw first, and the accumulator is smeared along
each pixel's motion (:mod:`cupola.render.smear`) before the others add in. What it draws (stars,
bodies, airglow and aurora emission fields, the night-lights raster and the cloud map, the
station's motion across the exposure from the Scene's own Satellite) is handed to it by the Scene.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..camera import Attitude, Camera
from ..camera.attitude import why_not_in_view
from ..camera.geometry import FramePool, RayGeometry, ray_geometry
from ..errors import InputError
from .earth import earth_layer
from .foreground import window_mask
from .glow import airglow_layer, aurora_layer
from .lights import city_lights_layer
from .points import bodies_layer, milky_way_layer, stars_layer
from ..colour import white_balance_matrix
from .optics import apply_lens
from .response import develop, sensor_for
from .settings import DEFAULT_SETTINGS, LAYER_NAMES, RenderSettings
from .smear import SMEARED_LAYERS, motion_field, smear_in_place

# Every layer is layer(scene, geom, out, settings) -> out: it adds (H, W, 3) float32 cd/m^2 into `out`.
LAYERS = {
    "earth": earth_layer,  # surface, clouds, twilight, moonlight, haze, blue limb
    "airglow": airglow_layer,
    "aurora": aurora_layer,
    "city_lights": city_lights_layer,  # the night-lights raster on the ground, smeared by the exposure
    "stars": stars_layer,
    "milky_way": milky_way_layer,
    "bodies": bodies_layer,
}
assert tuple(LAYERS) == LAYER_NAMES
DEFAULT_LAYERS = LAYER_NAMES


@dataclass(frozen=True, eq=False)
class Frame:
    """A rendered frame: linear luminance (cd/m^2) and the 8-bit sRGB image."""

    scene: object
    camera: Camera
    attitude: Attitude
    settings: RenderSettings
    geometry: RayGeometry
    luminance: np.ndarray  # (H, W, 3) float32: the scene's light (the lens's wing and vignetting come after)
    rgb: np.ndarray  # (H, W, 3) uint8
    timings_s: dict


def frame_geometry(scene, camera: Camera | None = None, attitude: Attitude | None = None,
                   pool: FramePool | None = None, force: bool = False) -> RayGeometry:
    """Return the per-pixel ray geometry of `camera` (default ``scene.camera``) at the scene's
    instant, pointed by `attitude` (default: its Look resolved against the scene; refused when
    what the Look names is out of the station's view, unless `force`)."""
    camera = camera or scene.camera
    if camera is None:
        raise InputError("a frame needs a camera: pass camera=Camera(...) or compute_scene(t, camera=...)",
                         param="camera")
    if np.shape(scene.t_utc) != ():
        raise InputError(f"a frame shows one instant, got a series of {np.size(scene.t_utc)}; "
                         "use scenes[i] for each frame", param="scene")
    if attitude is None:
        hidden = None if force else why_not_in_view(camera.look, scene)
        if hidden:
            raise InputError(f"{hidden}: it would not be in the frame", param="force",
                             fix="force=True renders anyway")
        attitude = Attitude.from_look(camera.look, scene, camera.roll_deg)
    return ray_geometry(scene.state, camera, attitude, pool=pool)


def _frame_seed(scene, settings: RenderSettings) -> int:
    """Return the seed of a frame's sensor noise: its instant (ns) mixed with ``settings.noise_seed``,
    so the same instant and seed give the same bytes and each frame of a timelapse its own noise."""
    t = int(np.asarray(scene.state.instants.utc, "datetime64[ns]").reshape(-1)[0].astype(np.int64))
    return (t * 0x9E3779B97F4A7C15 + int(settings.noise_seed)) & 0x7FFFFFFFFFFFFFFF


def render(scene, camera: Camera | None = None, settings: RenderSettings | None = None,
           attitude: Attitude | None = None, pool: FramePool | None = None, layers=None,
           force: bool = False) -> Frame:
    """Return the :class:`Frame` seen by `camera` (default: ``scene.camera``) at the scene's instant.

    Args:
        scene: a single-instant Scene from `cupola.scene.compute_scene` (index a series first).
        camera: the camera; required when the scene carries none.
        settings: layers and calibration (default :data:`DEFAULT_SETTINGS`).
        attitude: where the camera points; default its Look resolved against the scene.
        pool: draw into this :class:`~cupola.camera.FramePool` (a timelapse reuses one); the
            frame's `geometry` and `luminance` then stay valid only until the pool's next frame.
        layers: shorthand for ``settings.replace(layers=...)``.
        force: draw even when the Look's target or sky object is out of the station's view
            (otherwise refused with where it is).
    """
    settings = settings or DEFAULT_SETTINGS
    if layers is not None:
        settings = settings.replace(layers=tuple(layers))
    timings = {}
    t0 = time.perf_counter()
    geom = frame_geometry(scene, camera, attitude, pool, force)
    camera, attitude = geom.camera, geom.attitude
    timings["geometry"] = time.perf_counter() - t0
    shape = (camera.height_px, camera.width_px, 3)
    total = pool.get("luminance", shape, np.float32) if pool is not None else np.empty(shape, np.float32)
    total.fill(0.0)  # every layer adds into the accumulator, so their order does not matter
    t0 = time.perf_counter()
    field = motion_field(scene, geom, settings) if set(SMEARED_LAYERS) & set(settings.layers) else None
    timings["smear"] = time.perf_counter() - t0
    # The layers that move with the ground draw first and are smeared in place (render.smear);
    # the others add after: the same sum as a second buffer, without one.
    moving = [n for n in settings.layers if n in SMEARED_LAYERS] if field is not None else []
    for group in (moving, [n for n in settings.layers if n not in moving]):
        for name in group:
            t0 = time.perf_counter()
            LAYERS[name](scene, geom, total, settings)
            timings[name] = time.perf_counter() - t0
        if group is moving and moving:
            t0 = time.perf_counter()
            smear_in_place(total, field, settings, pool)
            timings["smear"] += time.perf_counter() - t0
    if settings.window_frame:  # the Cupola's window frame in front of everything (render.foreground)
        total *= window_mask(camera, settings)[..., None]
    t0 = time.perf_counter()
    sensor = apply_lens(total, camera, settings, pool.get("sensor", shape, np.float32) if pool is not None else None)
    rgb = develop(sensor, camera, sensor=sensor_for(camera, settings, _frame_seed(scene, settings)),
                  white_balance=white_balance_matrix(settings.white_balance))
    timings["response"] = time.perf_counter() - t0
    return Frame(scene=scene, camera=camera, attitude=attitude, settings=settings, geometry=geom,
                 luminance=total, rgb=rgb, timings_s=timings)


__all__ = ["render", "frame_geometry", "Frame", "LAYERS", "DEFAULT_LAYERS", "RenderSettings", "DEFAULT_SETTINGS", "FramePool"]

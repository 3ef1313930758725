"""Render the view: per-pixel ray geometry, physically scaled layers (cd/m^2), camera response.

``render(scene, camera)`` sums the layers' linear luminance, exposes it like a camera
(v = 0.18 L t S / (K N^2)) and tone-maps it to 8-bit sRGB. Layers only read the Scene and the
ray geometry, so the renderer never recomputes physics.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass

import numpy as np

from ..camera import Camera
from ..errors import InputError
from .geometry import RayGeometry, pooled, ray_geometry

# name -> (module, function); every function is layer(scene, geom, out=None) -> (H, W, 3) float32
# cd/m^2, adding into `out` when given (the Earth, drawn first, writes every pixel of it instead).
LAYERS = {
    "earth": ("cupola.render.earth", "earth_layer"),  # surface, twilight, moonlight, haze, blue limb
    "airglow": ("cupola.render.glow", "airglow_layer"),
    "aurora": ("cupola.render.glow", "aurora_layer"),
    "city_lights": ("cupola.render.points", "city_lights_layer"),
    "stars": ("cupola.render.points", "stars_layer"),
    "bodies": ("cupola.render.points", "bodies_layer"),
}
DEFAULT_LAYERS = tuple(LAYERS)


@dataclass(frozen=True, eq=False)
class Frame:
    """A rendered frame: linear luminance (cd/m^2) and the 8-bit sRGB image."""

    scene: object
    camera: Camera
    geometry: RayGeometry
    luminance: np.ndarray  # (H, W, 3) float32
    rgb: np.ndarray  # (H, W, 3) uint8
    timings_s: dict


def layer_function(name: str):
    """Return the layer function called `name` (see LAYERS)."""
    try:
        module, func = LAYERS[name]
    except KeyError:
        raise InputError(f"unknown render layer {name!r}; use some of: {', '.join(LAYERS)}") from None
    return getattr(importlib.import_module(module), func)


def render(scene, camera: Camera | None = None, layers=DEFAULT_LAYERS, reuse: bool = False) -> Frame:
    """Return the :class:`Frame` seen by `camera` (default: ``scene.camera``) at the scene's instant.

    Args:
        scene: a Scene from `cupola.scene.compute_scene`.
        camera: the camera; required when the scene carries none.
        layers: names of the layers to draw (all by default).
        reuse: draw into pooled buffers (see `geometry.ray_geometry`); the frame's `geometry` and
            `luminance` then stay valid only until the next ``reuse=True`` render of that size.
    """
    from .response import develop

    camera = camera or scene.camera
    if camera is None:
        raise InputError("render needs a camera: pass camera=Camera(...) or compute_scene(t, camera=...)")
    funcs = [(name, layer_function(name)) for name in layers]
    timings = {}
    t0 = time.perf_counter()
    geom = ray_geometry(scene, camera, reuse=reuse)
    timings["geometry"] = time.perf_counter() - t0
    shape = (camera.height_px, camera.width_px, 3)
    total = pooled("luminance", shape, np.float32) if reuse else np.empty(shape, np.float32)
    total.fill(0.0)  # every layer adds into the accumulator, so their order does not matter
    for name, func in funcs:
        t0 = time.perf_counter()
        func(scene, geom, out=total)
        timings[name] = time.perf_counter() - t0
    t0 = time.perf_counter()
    rgb = develop(total, camera)
    timings["response"] = time.perf_counter() - t0
    return Frame(scene=scene, camera=camera, geometry=geom, luminance=total, rgb=rgb, timings_s=timings)

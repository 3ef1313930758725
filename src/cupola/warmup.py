"""Compile every numba kernel once (``cupola warmup``), so later runs load them from the cache.

numba compiles a kernel for each set of argument types on its first call and, with
``cache=True`` (every cupola kernel, :mod:`cupola.jit`), writes the machine code to its cache
folder: next to the sources (``__pycache__``), or numba's user cache folder where that is
read-only, or ``NUMBA_CACHE_DIR``. A small, fixed workload calls every kernel with the argument
types cupola uses: propagation of one instant and of many (serial and parallel twins), a Scene
and a series of Scenes (stars, aurora, cities), and tiny frames that draw every layer (aurora
over Quebec, the Moon, the Sun, city lights, tracked and untracked stars).
"""

from __future__ import annotations

import importlib
import os
import tempfile
import time

import numpy as np

from .errors import InputError
from .timebase import shown

KERNEL_MODULES = (
    "cupola._kernels", "cupola.sky.stars", "cupola.phenomena.airglow", "cupola.phenomena.aurora",
    "cupola.phenomena.emission", "cupola.camera.geometry", "cupola.render.earth", "cupola.render.glow",
    "cupola.render.points", "cupola.render.lights", "cupola.render.response", "cupola.render.optics",
    "cupola.render.smear",
)


def _dispatchers():
    from numba.core.registry import CPUDispatcher

    for name in KERNEL_MODULES:
        mod = importlib.import_module(name)
        for value in vars(mod).values():
            for d in (value, getattr(value, "compiled", None), getattr(value, "parallel", None),
                      getattr(value, "serial", None)):
                if isinstance(d, CPUDispatcher) and d.targetoptions.get("inline") != "always":
                    yield d  # inlined helpers compile into the kernels that call them


def cache_dir() -> str:
    """Return where numba keeps cupola's compiled kernels."""
    from numba.core import config

    from . import _kernels

    return config.CACHE_DIR or os.path.join(os.path.dirname(_kernels.__file__), "**", "__pycache__")


def _check_cache_dir() -> None:
    """Refuse a NUMBA_CACHE_DIR that cannot be written: numba would quietly keep the kernels elsewhere (next to
    the sources) or nowhere, and warmup would report a cache that is not there."""
    from numba.core import config

    folder = config.CACHE_DIR
    if not folder:
        return
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise InputError(f"the numba cache folder {shown(folder, 200)} cannot be written ({exc.strerror or exc}), "
                         "so the kernels warmup compiles could not be kept there; pass a folder you can write to "
                         "(NUMBA_CACHE_DIR)", param="cache_dir") from None


def warmup() -> dict:
    """Run the fixed workload (module docstring); return what was compiled and where it lives.

    Raises:
        InputError: (param 'cache_dir') NUMBA_CACHE_DIR names a folder that cannot be made or written.
    """
    from .jit import NO_JIT_ENV

    _check_cache_dir()
    t0 = time.perf_counter()
    flag = os.environ.get(NO_JIT_ENV)
    os.environ[NO_JIT_ENV] = "0"  # compile every kernel, the small workload's calls included (cupola.jit)
    try:
        _workload()
    finally:
        if flag is None:
            del os.environ[NO_JIT_ENV]
        else:
            os.environ[NO_JIT_ENV] = flag
    kernels = sum(len(d.signatures) for d in _dispatchers())
    return {"kernels": kernels, "seconds": time.perf_counter() - t0, "cache_dir": cache_dir()}


def _workload() -> None:
    from .camera import Camera, Look
    from .jit import PARALLEL_MIN
    from .orbit import Satellite
    from .render import RenderSettings, render
    from .scene import compute_scene

    sat = Satellite.from_archive()
    start = np.datetime64("2021-05-02T06:56:00", "ns")
    sat.at(start + np.arange(PARALLEL_MIN + 1).astype("timedelta64[s]"))  # parallel kernels
    sat.at(start + np.arange(60).astype("timedelta64[s]"))  # a short dense run: the serial Hermite fill
    series = compute_scene(start + np.arange(0, 600, 60).astype("timedelta64[s]"), sat=sat)
    night = series[0]
    day = compute_scene("2021-05-02T07:10:00Z", sat=sat)
    small = dict(width_px=64, height_px=36)
    for look, tracked, scene in ((Look("horizon", 345.0, 4.0), False, night), (Look("nadir"), True, night),
                                 (Look("sky", name="Moon", body="moon"), True, night),
                                 (Look("sky", name="Sun", body="sun"), False, day)):
        render(scene, Camera(focal_mm=14.0, look=look, exposure_s=1.0, tracked=tracked, **small))
    # A long exposure (the ground's smear) and a Sun seen through the limb (its refracted glare).
    render(night, Camera(focal_mm=50.0, look=Look("nadir"), exposure_s=20.0, tracked=True, **small))
    sunrise = compute_scene("2021-05-02T13:09:12Z", sat=sat)
    render(sunrise, Camera(focal_mm=200.0, look=Look("sky", name="Sun", body="sun"), exposure_s=1e-4, **small),
           force=True)
    # A stopped-down lens with blades: the diffraction spikes' kernel.
    render(day, Camera(focal_mm=24.0, look=Look("sky", name="Sun", body="sun"), exposure_s=1e-3, f_number=11.0,
                       **small), RenderSettings(aperture_blades=6))


__all__ = ["warmup", "cache_dir", "KERNEL_MODULES"]

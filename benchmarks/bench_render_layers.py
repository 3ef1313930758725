"""Time each emissive/point layer on a 1920x1080 frame (warm), and the airglow integration numba vs numpy.

    python benchmarks/bench_render_layers.py [--focal 14] [--exposure 30]

Frames: a night horizon view with airglow and ~3,500 stars trailing (2024-01-19T16:02:54Z), a
northern horizon view with the aurora in view (2021-05-02T06:56Z), a nadir view over New York
for city lights (same instant).
"""

from __future__ import annotations

import dataclasses

import argparse
import time

import numpy as np

from cupola.camera import Camera, Look
from cupola.phenomena import airglow as ag
from cupola.render import glow, lights, points
from cupola.phenomena.emission import aurora_emission
from cupola.render import frame_geometry as ray_geometry
from cupola.scene import compute_scene


def best_of(fn, n=5):
    fn()  # warm (numba compile / caches)
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return min(ts), float(np.median(ts))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--focal", type=float, default=14.0)
    ap.add_argument("--exposure", type=float, default=30.0)
    args = ap.parse_args()
    rows = []
    cam = Camera(focal_mm=args.focal, look=Look("horizon", pitch_deg=10.0), exposure_s=args.exposure)
    sc = compute_scene("2024-01-19T16:02:54Z", camera=cam)
    g = ray_geometry(sc)
    print(f"night horizon frame: {int(sc.stars.count)} stars, {cam.width_px}x{cam.height_px}, "
          f"{args.focal:g} mm, {args.exposure:g} s untracked")
    rows.append(("airglow_layer", best_of(lambda: glow.airglow_layer(sc, g))))
    rows.append(("stars_layer (trails)", best_of(lambda: points.stars_layer(sc, g))))
    rows.append(("bodies_layer", best_of(lambda: points.bodies_layer(sc, g))))
    cam_a = Camera(focal_mm=args.focal, look=Look("horizon", "north"), exposure_s=args.exposure)
    sa = compute_scene("2021-05-02T06:56:00Z", camera=cam_a)
    ga = ray_geometry(sa)
    rows.append(("aurora_emission (oval grid)", best_of(lambda: aurora_emission(sa.aurora_oval, sa.state))))

    def aurora_fresh():  # a new Scene each time, as a timelapse's frames are: the grid is not cached
        return glow.aurora_layer(dataclasses.replace(sa, _cache={}), ga)

    rows.append(("aurora_layer (incl. grid)", best_of(aurora_fresh)))
    cam_c = Camera(focal_mm=args.focal, look=Look("nadir"), exposure_s=args.exposure)
    scc = compute_scene("2021-05-02T06:56:00Z", camera=cam_c)
    gc = ray_geometry(scc)
    rows.append(("city_lights_layer (smeared)", best_of(lambda: lights.city_lights_layer(scc, gc))))
    for name, (best, med) in rows:
        print(f"  {name:30s} best {best * 1e3:7.1f} ms   median {med * 1e3:7.1f} ms")
    print(f"  {'sum of layers (best)':30s}      {sum(r[1][0] for r in rows if not r[0].startswith('aurora_emission')) * 1e3:7.1f} ms")

    # Airglow integration: the tabulated per-pixel path vs integrating every ray directly.
    o = np.asarray(g.origin_teme_km, float)
    d = g.dirs_teme.reshape(-1, 3).astype(float)
    sub = d[:: 8]  # 1/8 of the frame for the direct integrations (numpy needs rays x 32 x 8 B per array)
    t_nb, _ = best_of(lambda: ag.layer_emission_along_rays(o, sub, "oi_green"), 3)
    t_np, _ = best_of(lambda: ag.layer_emission_along_rays_numpy(o, sub, "oi_green"), 1)
    scale = d.shape[0] / sub.shape[0] * len(ag.LAYERS)
    print("airglow integration, full frame x 4 layers (extrapolated from 1/8 of the rays):")
    print(f"  numba kernel per ray   {t_nb * scale * 1e3:8.1f} ms")
    print(f"  numpy twin per ray     {t_np * scale * 1e3:8.1f} ms")
    print(f"  tabulated (airglow_layer) {rows[0][1][0] * 1e3:5.1f} ms")


if __name__ == "__main__":
    main()

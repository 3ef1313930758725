"""Benchmark: a one-orbit timelapse (92 min, one frame every 10 s: 553 frames) at 1280x720 with
all layers into an H.264 MP4, rendering and encoding timed apart (goal <= 90 s in all on 2 cores,
project goal 45 s); and the PNG zlib level: Pillow's default (6) against cupola's
(render.output.PNG_COMPRESS_LEVEL) on a 1920x1080 frame, and `save_frame` with it.

    .venv/bin/python benchmarks/bench_timelapse.py [--minutes 92] [--step 10] [--size 1280x720] [--format mp4]
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from cupola.demo import seed_cameras
from cupola.render import render
from cupola.render.output import PNG_COMPRESS_LEVEL, save_frame
from cupola.scene import compute_scene
from cupola.video import timelapse

START = np.datetime64("2021-05-02T06:30:00", "s")  # seed 2's orbit: night, aurora, sunrise, day, sunset


def png_levels(repeat: int = 3) -> None:
    from PIL import Image

    for label, t, k in (("seed 2", "2021-05-02T06:56:00Z", 1), ("seed 1", "2024-01-19T16:02:54Z", 0)):
        cam = seed_cameras((1920, 1080))[k]
        frame = render(compute_scene(t, camera=cam), cam)
        img = Image.fromarray(frame.rgb)
        row = []
        for level in (6, PNG_COMPRESS_LEVEL):
            times, size = [], 0
            for _ in range(repeat):
                buf = io.BytesIO()
                t0 = time.perf_counter()
                img.save(buf, format="PNG", compress_level=level)
                times.append(time.perf_counter() - t0)
                size = buf.tell()
            row.append(f"level {level}{' (Pillow default)' if level == 6 else ' (cupola)'} "
                       f"{min(times) * 1e3:.0f} ms, {size / 1e6:.2f} MB")
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            save_frame(frame, Path(tmp) / "f.png", caption=True)
            saved = time.perf_counter() - t0
        print(f"PNG 1920x1080 {label}: " + "; ".join(row) + f"; save_frame with caption and metadata {saved * 1e3:.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=92.0)
    ap.add_argument("--step", type=float, default=10.0)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--format", default="mp4", choices=("mp4", "gif", "png"))
    args = ap.parse_args()
    w, h = (int(x) for x in args.size.split("x"))
    png_levels()
    cam = seed_cameras((w, h))[1]
    end = START + np.timedelta64(int(args.minutes * 60), "s")
    timelapse(START, START + np.timedelta64(20, "s"), 10, cam.replace(width_px=64, height_px=36),
              tempfile.mktemp(suffix=".mp4"))  # warm: kernels, tables, the codec
    layers = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / ("orbit/" if args.format == "png" else f"orbit.{args.format}")
        r = timelapse(START, end, args.step, cam, str(out), fps=30,
                      frame_hook=lambda i, f: layers.append(f.timings_s))
    per = {k: statistics.median(t[k] for t in layers) * 1e3 for k in layers[0]}
    big = {k: sum(t[k] for t in layers) for k in layers[0]}
    print(f"timelapse {args.minutes:g} min every {args.step:g} s, {w}x{h}, all layers, {args.format}: {r.frames} frames "
          f"({r.duration_s:.1f} s at 30 frames/s, {r.size_bytes / 1e6:.1f} MB)")
    print(f"   scene series {r.scene_s:.1f} s; render {r.render_s:.1f} s ({r.render_fps:.1f} frames/s); "
          f"encode {r.encode_s:.1f} s ({r.encode_fps:.0f} frames/s); total {r.total_s:.1f} s "
          f"(goal <= 90 s, project goal 45 s)")
    print("   median per frame: " + ", ".join(f"{k} {v:.0f}" for k, v in per.items()) + " (ms)")
    print("   summed: " + ", ".join(f"{k} {v:.1f}" for k, v in big.items()) + " (s)")


if __name__ == "__main__":
    main()

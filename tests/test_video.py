"""Timelapses (cupola.video, `cupola timelapse`): what the files hold, where the camera points
from frame to frame, refusals before work, and no file (nor temporary) after an interruption."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from cupola.camera import Camera, Look
from cupola.cli import main
from cupola.errors import CupolaError, InputError
from cupola.inputs import parse_look, parse_step
from cupola.render import RenderSettings
from cupola.scene import compute_scene
from cupola.video import MAX_FRAMES, caption_lines, check_timelapse_output, frame_times, timelapse

av = pytest.importorskip("av")

T0 = "2021-05-02T06:56:00Z"  # seed 2: aurora to the north, just before orbital sunrise
T1 = "2021-05-02T06:56:20Z"  # 5 frames at 5 s
SEED1_T = np.datetime64("2024-01-19T16:02:54", "ns")  # night over the Pacific (seed 1)
SMALL = Camera(model="D5", focal_mm=14.0, width_px=64, height_px=36, look=parse_look("horizon:345,4"),
               exposure_s=1.0, iso=12800.0)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in Path(folder).iterdir() if p.name.startswith(".cupola-"))


def grab():
    """Return (hook, frames): the hook keeps a copy of every rendered frame's pixels and attitude."""
    frames = []

    def hook(i, frame):
        frames.append((i, frame.rgb.copy(), frame.attitude.matrix.copy(), frame.scene))

    return hook, frames


# -- the three formats --------------------------------------------------------------------------------
def test_mp4_decodes_to_the_frames_at_a_constant_rate(tmp_path):
    hook, frames = grab()
    r = timelapse(T0, T1, 5, SMALL, tmp_path / "pass.mp4", fps=24, frame_hook=hook)
    assert (r.kind, r.frames, r.width, r.height, r.fps) == ("mp4", 5, 64, 36, 24.0)
    assert r.duration_s == pytest.approx(5 / 24) and r.size_bytes == (tmp_path / "pass.mp4").stat().st_size
    with av.open(str(tmp_path / "pass.mp4")) as c:
        s = c.streams.video[0]
        assert s.codec_context.name == "h264" and s.codec_context.pix_fmt == "yuv420p"
        assert (s.width, s.height) == (64, 36) and s.average_rate == 24
        decoded = list(c.decode(s))
    assert len(decoded) == 5
    assert [float(f.time) for f in decoded] == pytest.approx([i / 24 for i in range(5)])  # constant frame rate
    # The decoded pictures are the rendered frames, in order (lossy: compare the luma; at 64x36 the
    # raster's city lights, texel-sharp, and the sensor noise cost H.264 ~6 levels on average, so
    # each decoded frame is also checked to be nearest its own rendered frame).
    luma = np.array([0.2126, 0.7152, 0.0722])
    rendered = [rgb.astype(float) @ luma for _, rgb, _, _ in frames]
    for k, ((i, rgb, _, _), f) in enumerate(zip(frames, decoded)):
        got = f.to_ndarray(format="rgb24").astype(float) @ luma
        errs = [np.abs(got - r).mean() for r in rendered]
        assert errs[k] < 8.0 and errs[k] == min(errs), (i, errs)
    assert leftovers(tmp_path) == []


def gif_blocks(data: bytes):
    """Return (global table size, [(local table?, delay cs)], loop count) read from GIF bytes."""
    assert data[:6] == b"GIF89a"
    flags = data[10]
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    frames, delay, loop = [], None, None
    while data[pos] != 0x3B:
        if data[pos] == 0x21:
            label = data[pos + 1]
            if label == 0xF9:
                delay = int.from_bytes(data[pos + 4:pos + 6], "little")
            if label == 0xFF and data[pos + 3:pos + 14] == b"NETSCAPE2.0":
                loop = int.from_bytes(data[pos + 16:pos + 18], "little")
            pos += 2
            while data[pos]:
                pos += data[pos] + 1
            pos += 1
        else:
            assert data[pos] == 0x2C
            local = data[pos + 9]
            pos += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0) + 1
            while data[pos]:
                pos += data[pos] + 1
            pos += 1
            frames.append((bool(local & 0x80), delay))
    return (3 << ((flags & 7) + 1)) // 3 if flags & 0x80 else 0, frames, loop


def test_gif_has_one_palette_loops_forever_and_plays_at_fps(tmp_path):
    from PIL import Image, ImageSequence

    hook, frames = grab()
    r = timelapse(T0, T1, 5, SMALL, tmp_path / "pass.gif", fps=30, frame_hook=hook)
    table, blocks, loop = gif_blocks((tmp_path / "pass.gif").read_bytes())
    assert table == 256 and loop == 0 and len(blocks) == 5 == r.frames
    assert not any(local for local, _ in blocks)  # one palette: the global table, no frame has its own
    delays = [d for _, d in blocks]
    assert set(delays) <= {3, 4} and sum(delays) == round(100 * 5 / 30)  # 1000/30 ms a frame on average
    with Image.open(tmp_path / "pass.gif") as im:
        assert im.n_frames == 5 and im.info["loop"] == 0
        got = [np.asarray(f.convert("RGB"), float) for f in ImageSequence.Iterator(im)]
    # Every frame rendered once: the frames sampled for the palette are kept, not drawn again.
    assert [i for i, _, _, _ in frames] == list(range(5))
    last = {i: rgb for i, rgb, _, _ in frames}
    for i in range(5):
        assert np.abs(got[i] - last[i]).mean() < 6.0, i
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("name, expected", [
    ("frames/", [f"frame_{i:05d}.png" for i in range(3)]),
    ("pass_%03d.png", [f"pass_{i:03d}.png" for i in range(3)]),
    ("pass_{:04d}.png", [f"pass_{i:04d}.png" for i in range(3)]),
])
def test_png_sequence_has_one_lossless_file_per_frame(tmp_path, name, expected):
    from PIL import Image

    hook, frames = grab()
    r = timelapse(T0, "2021-05-02T06:56:10Z", 5, SMALL, f"{tmp_path}/{name}", frame_hook=hook)
    folder = tmp_path / "frames" if name.endswith("/") else tmp_path
    assert sorted(p.name for p in folder.iterdir()) == expected and r.frames == 3
    for (i, rgb, _, _), file in zip(frames, expected):
        with Image.open(folder / file) as im:
            assert np.array_equal(np.asarray(im.convert("RGB")), rgb)
    assert leftovers(tmp_path) == [] and leftovers(folder) == []


# -- where the camera points ----------------------------------------------------------------------
def bright_star_camera(tracked: bool) -> tuple[Camera, np.ndarray]:
    """Return a narrow camera pointed at the brightest star well above the limb at SEED1_T, and
    that star's direction (TEME)."""
    scene = compute_scene(SEED1_T)
    st = scene.stars
    ok = np.asarray(st.el_deg) > -5.0  # well above the hard limb (at ~ -20 deg) and its airglow
    k = int(np.flatnonzero(ok)[np.argmin(np.asarray(st.vmag)[ok])])
    d = np.asarray(st.dir_teme[k], float)
    icrs = np.asarray(scene.icrs_to_teme).T @ d
    look = Look("sky", ra_deg=float(np.degrees(np.arctan2(icrs[1], icrs[0])) % 360),
                dec_deg=float(np.degrees(np.arcsin(icrs[2]))))
    cam = Camera(model="D5", fov_deg=8.0, width_px=64, height_px=36, look=look, exposure_s=0.01, iso=1600.0,
                 f_number=1.4, tracked=tracked)
    return cam, d


def centroid(rgb: np.ndarray) -> tuple[float, float]:
    """Return the intensity-weighted centre (x, y) of the brightest blob (a 7x7 window)."""
    v = rgb.astype(float).sum(axis=2)
    i, j = np.unravel_index(np.argmax(v), v.shape)
    win = v[max(0, i - 3):i + 4, max(0, j - 3):j + 4]
    win = np.clip(win - np.median(v), 0, None)
    ys, xs = np.mgrid[max(0, i - 3):i + 4, max(0, j - 3):j + 4]
    return float((xs * win).sum() / win.sum()), float((ys * win).sum() / win.sum())


def test_untracked_stars_move_by_the_lvlh_rate_and_tracked_stars_stay(tmp_path):
    step = 10.0
    end = str(SEED1_T + np.timedelta64(20, "s")) + "Z"
    # Centroids of the stars alone: no grain, no lens (vignetting tilts a star's light toward the centre) and a
    # core 0.8 px wide (the lens's ~0.35 px core saturates a one-pixel trail in 8 bits, whose centroid then lags).
    stars_only = RenderSettings(layers=("stars",), noise=False, bloom=False, vignetting=False, psf_sigma_px=0.8)
    cam, d = bright_star_camera(tracked=False)
    hook, frames = grab()
    timelapse(SEED1_T, end, step, cam, str(tmp_path / "u") + "/", settings=stars_only, frame_hook=hook)
    pos = [centroid(rgb) for _, rgb, _, _ in frames]
    # Closed form: the camera turns with LVLH at w = |r x v| / |r|^2 about the orbit normal h, so a
    # star at angle psi from h moves on the sky (relative to the camera) by 2 asin(sin psi sin(w t / 2)),
    # along -(h x d).
    st = compute_scene(SEED1_T).state
    r, v = np.asarray(st.r_teme_km, float), np.asarray(st.v_teme_km_s, float)
    h = np.cross(r, v)
    w = np.linalg.norm(h) / np.dot(r, r)
    h = h / np.linalg.norm(h)
    sin_psi = np.linalg.norm(np.cross(h, d))
    f = 0.5 * cam.width_px / np.tan(np.radians(cam.fov_deg) / 2)  # the pinhole's focal length in pixels
    cx, cy = (cam.width_px - 1) / 2, (cam.height_px - 1) / 2
    assert np.hypot(pos[0][0] - cx, pos[0][1] - cy) < 0.3  # the look points at the star at the first frame

    def ray(x, y):
        u = np.array([(x - cx) / f, (y - cy) / f, 1.0])
        return u / np.linalg.norm(u)

    right, down = frames[0][2][0], frames[0][2][1]
    motion = -np.cross(h, d)  # direction of the star's apparent motion
    for k in (1, 2):
        t = k * step
        moved = np.degrees(np.arccos(np.clip(ray(*pos[k]) @ ray(*pos[0]), -1, 1)))
        expected = np.degrees(2 * np.arcsin(sin_psi * np.sin(w * t / 2)))
        assert expected > 0.25  # more than a pixel and a half: a real motion
        assert moved == pytest.approx(expected, rel=0.03)
        dx, dy = pos[k][0] - pos[0][0], pos[k][1] - pos[0][1]
        px = np.array([motion @ right, motion @ down])
        cosang = (dx * px[0] + dy * px[1]) / (np.hypot(dx, dy) * np.hypot(*px))
        assert cosang > 0.995  # along the predicted direction
    # Tracked: the attitude of the first frame is kept, so the star stays where it was.
    cam_t, _ = bright_star_camera(tracked=True)
    hook, frames = grab()
    timelapse(SEED1_T, end, step, cam_t, str(tmp_path / "t") + "/", settings=stars_only, frame_hook=hook)
    tpos = [centroid(rgb) for _, rgb, _, _ in frames]
    assert max(np.hypot(x - tpos[0][0], y - tpos[0][1]) for x, y in tpos) < 0.05
    assert all(np.array_equal(a, frames[0][2]) for _, _, a, _ in frames)


def test_station_pointing_is_fixed_in_lvlh_and_look_pointing_reaims(tmp_path):
    from cupola.camera import Attitude

    cam = SMALL.replace(look=parse_look("horizon:345,4"))
    hook, frames = grab()
    timelapse("2021-05-02T06:53:00Z", "2021-05-02T06:59:00Z", 120, cam, str(tmp_path / "s") + "/", frame_hook=hook,
              settings=RenderSettings(layers=("stars",)))
    # Fixed to the station: the optical axis keeps its angles to the local vertical and the orbit normal.
    angles = []
    for _, _, att, scene in frames:
        r = np.asarray(scene.state.r_teme_km, float)
        h = np.cross(r, np.asarray(scene.state.v_teme_km_s, float))
        angles.append((att[2] @ r / np.linalg.norm(r), att[2] @ h / np.linalg.norm(h), att[0] @ h / np.linalg.norm(h)))
    assert np.allclose(angles, angles[0], atol=1e-9)
    # ...while the geographic azimuth it was given drifts (the station turns): re-aimed, it would not.
    first = frames[0][3]
    again = Attitude.from_look(cam.look, frames[-1][3]).matrix
    assert np.degrees(np.arccos(np.clip(again[2] @ frames[-1][2][2], -1, 1))) > 5.0
    hook, frames = grab()
    timelapse("2021-05-02T06:53:00Z", "2021-05-02T06:59:00Z", 120, cam, str(tmp_path / "l") + "/", frame_hook=hook,
              settings=RenderSettings(layers=("stars",)), pointing="look")
    for _, _, att, scene in frames:
        assert np.allclose(att, Attitude.from_look(cam.look, scene).matrix, atol=1e-12)
    assert first.t_utc == frames[0][3].t_utc


# -- the caption strip ------------------------------------------------------------------------------
def test_caption_strip_says_time_frame_place_phase_and_aurora(tmp_path):
    scene = compute_scene(T0)
    en = caption_lines(scene, 1, 5, "en")
    assert en[0] == "2021-05-02T06:56:00Z  ISS (ZARYA)  frame 2/5"
    assert en[1].endswith("just before orbital sunrise.")
    assert en[2] == "station in the Earth's shadow (orbital night); aurora in view to the north (Kp 3o)"
    fr = caption_lines(scene, 1, 5, "fr")
    assert fr[0].endswith("image 2/5") and "juste avant le lever de soleil orbital" in fr[1]
    assert fr[2] == "station dans l'ombre de la Terre (nuit orbitale)\u202f; aurore en vue vers le nord (Kp 3o)"
    day = caption_lines(compute_scene("2021-05-02T07:10:00Z"), 0, 1, "en")
    assert day[2].startswith("station in sunlight; ")
    # Drawn on every frame, changing with it (the band at the bottom differs between frames).
    hook, plain = grab()
    timelapse(T0, "2021-05-02T06:56:05Z", 5, SMALL.replace(width_px=320, height_px=180),
              str(tmp_path / "c") + "/", caption=True, frame_hook=hook)
    from PIL import Image

    files = sorted((tmp_path / "c").iterdir())
    a, b = (np.asarray(Image.open(p).convert("RGB")).astype(int) for p in files)
    band = slice(180 - 40, 180)
    assert np.abs(a[band] - plain[0][1][band]).mean() > 5  # the strip is there
    assert np.abs(a[band] - b[band]).max() > 100  # and says something else on the next frame


# -- refusals before work -----------------------------------------------------------------------------
def test_frame_times_include_the_end_and_refuse_absurd_requests():
    t = frame_times("2021-05-02T06:56:00Z", "2021-05-02T06:57:00Z", 20)
    assert list(t.astype("datetime64[s]").astype(str)) == [
        "2021-05-02T06:56:00", "2021-05-02T06:56:20", "2021-05-02T06:56:40", "2021-05-02T06:57:00"]
    assert len(frame_times("2021-05-02T06:56:00Z", "2021-05-02T06:56:59Z", 20)) == 3
    for step in (0, -1, float("nan"), float("inf"), "x"):
        with pytest.raises(InputError, match="time step") as e:
            frame_times(T0, T1, step)
        assert e.value.param == "step_s"
    with pytest.raises(InputError, match="is not after the start") as e:
        frame_times(T1, T0, 5)
    assert e.value.param == "end"
    with pytest.raises(InputError, match=r"every 0\.1 s is 86,401 frames, more than the 20,000") as e:
        frame_times("2021-05-02T06:00:00Z", "2021-05-02T08:24:00Z", 0.1)
    assert e.value.param == "step_s" and MAX_FRAMES == 20_000
    with pytest.raises(CupolaError, match="no time zone") as e:
        frame_times("2021-05-02T06:56:00", T1, 5)
    assert e.value.param == "start"


@pytest.mark.parametrize("name, size, message, param", [
    ("x.mp4", (65, 36), "needs an even width and height, got 65x36; use 64x36 or 66x36", "size"),
    ("x.avi", (64, 36), "the name ends in '.avi'", "output"),
    ("x", (64, 36), "has no extension", "output"),
    ("x.png", (64, 36), "one .png holds one picture", "output"),
    ("a_%03d_%03d.png", (64, 36), "holds 2 frame numbers", "output"),
    ("f_%05d.jpg", (64, 36), "does not end in .png", "output"),
    ("missing/x.mp4", (64, 36), "does not exist", "output"),
])
def test_bad_outputs_are_refused(tmp_path, name, size, message, param):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(".", r"\.")) as e:
        check_timelapse_output(str(tmp_path / name), *size)
    assert e.value.param == param
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "a.txt").write_text("x")
    with pytest.raises(InputError, match="is not empty"):
        check_timelapse_output(str(tmp_path / "full"))
    (tmp_path / "d.mp4").mkdir()
    with pytest.raises(InputError, match="is a folder"):
        check_timelapse_output(str(tmp_path / "d.mp4"))
    assert check_timelapse_output(str(tmp_path / "x.gif"), 65, 35).kind == "gif"  # odd is fine for a GIF


def test_frame_rate_and_pointing_are_checked(tmp_path):
    with pytest.raises(InputError, match="at most 50 frames/s for a GIF") as e:
        timelapse(T0, T1, 5, SMALL, tmp_path / "x.gif", fps=60)
    assert e.value.param == "fps"
    with pytest.raises(InputError, match="at most 120") as e:
        timelapse(T0, T1, 5, SMALL, tmp_path / "x.mp4", fps=0)
    with pytest.raises(InputError, match="unknown pointing") as e:
        timelapse(T0, T1, 5, SMALL, tmp_path / "x.mp4", pointing="north")
    assert e.value.param == "pointing" and list(tmp_path.iterdir()) == []


def test_parse_step_reads_units():
    assert [parse_step(t) for t in ("2", "2s", "500ms", "1m", "1min", "1.5 s", "1h")] == [2, 2, 0.5, 60, 60, 1.5, 3600]
    for bad in ("0", "-2s", "2x", "", "nan", "1e400"):
        with pytest.raises(InputError) as e:
            parse_step(bad)
        assert e.value.param == "step_s"


# -- interrupted: the whole file or nothing ---------------------------------------------------------------
@pytest.mark.parametrize("name", ["pass.mp4", "pass.gif", "frames/", "f_%05d.png"])
@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_an_interrupted_timelapse_leaves_no_file_and_no_temporary(tmp_path, name, error):
    def fail(i, frame):
        if i == 2:
            raise error("stop")

    with pytest.raises(error):
        timelapse(T0, T1, 5, SMALL, f"{tmp_path}/{name}", frame_hook=fail)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_an_interrupted_timelapse_keeps_the_previous_file(tmp_path, monkeypatch):
    import cupola.render

    (tmp_path / "pass.mp4").write_bytes(b"old")
    real = cupola.render.render
    calls = []

    def broken(*a, **k):
        calls.append(1)
        if len(calls) == 3:
            raise MemoryError("out of memory at frame 3")
        return real(*a, **k)

    monkeypatch.setattr(cupola.render, "render", broken)
    with pytest.raises(MemoryError):
        timelapse(T0, T1, 5, SMALL, tmp_path / "pass.mp4")
    assert (tmp_path / "pass.mp4").read_bytes() == b"old" and leftovers(tmp_path) == []


def test_sigterm_leaves_no_file(tmp_path):
    script = textwrap.dedent(f"""
        import os, signal
        from cupola.camera import Camera
        from cupola.inputs import parse_look
        from cupola.video import timelapse
        cam = Camera(width_px=64, height_px=36, look=parse_look("horizon:ahead"))
        def hook(i, frame):
            if i == 2:
                os.kill(os.getpid(), signal.SIGTERM)
        timelapse({T0!r}, {T1!r}, 5, cam, {str(tmp_path / 'pass.mp4')!r}, frame_hook=hook)
        print("not reached")
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parents[1] / "src"),
                                                      os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert "not reached" not in done.stdout and list(tmp_path.iterdir()) == []


# -- the command ----------------------------------------------------------------------------------
def test_timelapse_command_writes_and_summarises(tmp_path, capsys):
    out = tmp_path / "pass.mp4"
    code = main(["timelapse", T0, T1, "--step", "5s", "--size", "64x36", "--lens", "14", "--look", "horizon:345,4",
                 "--exposure", "1", "--iso", "12800", "--caption", "--fps", "10", "-o", str(out)])
    got, err = capsys.readouterr()
    assert code == 0 and out.exists()
    lines = got.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"wrote {out} (H.264 MP4): 5 frames 64x36, 0.5 s at 10 frames/s, ")
    assert "rendered " in lines[0] and "frames/s, encoded " in lines[0] and " s in all" in lines[0]
    assert "timelapse" in err  # the progress bar, on standard error


@pytest.mark.parametrize("extra, message", [
    (["--size", "65x36", "-o", "x.mp4"], "got 65x36; use 64x36 or 66x36, or a .gif or PNG frames (option --size WIDTHxHEIGHT)"),
    (["-o", "x.avi"], "the name ends in '.avi'"),
    (["--step", "0", "-o", "x.mp4"], "the time step must be a finite time of more than 0 s, got '0'; e.g. 10s (option --step)"),
    (["--step", "1ms", "-o", "x.mp4"], "is 20,001 frames, more than the 20,000 a timelapse may have"),
    (["--fps", "100", "-o", "x.gif"], "(option --fps)"),
])
def test_timelapse_command_refusals_exit_2_with_one_line(tmp_path, capsys, monkeypatch, extra, message):
    monkeypatch.chdir(tmp_path)
    code = main(["timelapse", T0, T1, *extra])
    got, err = capsys.readouterr()
    assert code == 2 and got == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("cupola: error: ") and message in err
    assert list(tmp_path.iterdir()) == []


def test_an_encoder_failure_stops_the_timelapse_and_leaves_nothing(tmp_path, monkeypatch):
    import cupola.video as video

    real = video._Mp4Writer.write

    def full(self, rgb):
        if self.n == 2:
            raise OSError(28, "No space left on device")
        real(self, rgb)

    monkeypatch.setattr(video._Mp4Writer, "write", full)
    hook, frames = grab()
    with pytest.raises(OSError, match="No space left"):
        timelapse(T0, "2021-05-02T06:57:00Z", 5, SMALL, tmp_path / "pass.mp4", frame_hook=hook)
    assert list(tmp_path.iterdir()) == []
    assert len(frames) == 3  # stopped at the failing frame

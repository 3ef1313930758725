"""Writing frames: EXIF a camera would write, caption overlay, safe writes, CLI options."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest

from cupola.camera import Attitude, Camera
from cupola.inputs import parse_look
from cupola.inputs import parse_exposure, parse_size
from cupola.errors import InputError
from cupola.render import Frame, RenderSettings
from cupola.render.output import caption_lines, draw_caption, read_metadata, save_frame
from cupola.render.phash import dhash, hamming
from cupola.scene import compute_scene

T = "2024-01-19T16:02:54.250Z"


@pytest.fixture(scope="module")
def frame():
    cam = Camera(model="Z9", focal_mm=50.0, width_px=320, height_px=180, look=parse_look("horizon:ahead"),
                 exposure_s=10.0, iso=6400.0, f_number=1.2, tracked=True)
    scene = compute_scene(T, camera=cam)
    rgb = np.zeros((180, 320, 3), np.uint8)
    rgb[90:, :] = (10, 20, 40)
    return Frame(scene=scene, camera=cam, attitude=Attitude.from_look(cam.look, scene), settings=RenderSettings(),
                 geometry=None, luminance=np.zeros((180, 320, 3), np.float32), rgb=rgb, timings_s={})


@pytest.mark.parametrize("ext", [".png", ".jpg"])
def test_exif_round_trip(frame, tmp_path, ext):
    path = save_frame(frame, tmp_path / f"view{ext}")
    meta = read_metadata(path)
    assert meta["make"] == "NIKON CORPORATION" and meta["model"] == "NIKON Z 9"
    assert meta["datetime_original"] == "2024:01:19 16:02:54"
    assert meta["subsec_original"] == "250"
    assert meta["offset_time_original"] == "+00:00"
    assert meta["exposure_s"] == pytest.approx(10.0)
    assert meta["f_number"] == pytest.approx(1.2)
    assert meta["iso"] == 6400
    assert meta["focal_mm"] == pytest.approx(50.0)
    assert meta["size"] == (320, 180)
    assert "northeast of Papua New Guinea" in meta["description"]
    assert meta["cupola"]["look"] == "horizon:ahead" and meta["cupola"]["tracked"] is True
    assert meta["cupola"]["tle_epoch_utc"].startswith("2024-01-18T10:29:15")
    # No temporary file is left behind, and the file is readable by others as umask allows.
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"view{ext}"]
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_short_exposure_is_written_as_a_fraction(frame, tmp_path):
    fast = dataclasses.replace(frame, camera=frame.camera.replace(exposure_s=1 / 320))
    meta = read_metadata(save_frame(fast, tmp_path / "fast.png"))
    assert meta["exposure_s"] == pytest.approx(1 / 320)
    assert "1/320 s" in caption_lines(fast)[2]


def test_caption_overlay_changes_only_the_bottom_band(frame):
    lines = caption_lines(frame)
    assert lines[0].startswith("2024-01-19T16:02:54Z")
    assert "Papua New Guinea" in lines[1] and "elements epoch 2024-01-18T10:29:15Z" in lines[2]
    out = draw_caption(frame.rgb, lines)
    assert out.shape == frame.rgb.shape
    assert np.array_equal(out[:60], frame.rgb[:60])  # the top of the picture is untouched
    assert (out[-30:] != frame.rgb[-30:]).any()  # text drawn in the band
    assert "de nuit" in caption_lines(frame, "fr")[1]


def test_bad_outputs_write_nothing(frame, tmp_path):
    with pytest.raises(InputError, match="use a .png or .jpg"):
        save_frame(frame, tmp_path / "view.gif")
    with pytest.raises(InputError, match="does not exist"):
        save_frame(frame, tmp_path / "missing" / "view.png")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("text, want", [("10", 10.0), ("1/320", 1 / 320), ("0.5", 0.5)])
def test_parse_exposure(text, want):
    assert parse_exposure(text) == pytest.approx(want)


@pytest.mark.parametrize("text", ["fast", "1/0", "-2"])
def test_bad_exposure(text):
    with pytest.raises(InputError, match="exposure"):
        parse_exposure(text)


def test_parse_size():
    assert parse_size("1920x1080") == (1920, 1080)
    with pytest.raises(InputError, match="WIDTHxHEIGHT"):
        parse_size("1920")


def test_dhash_is_stable_and_sensitive():
    rng = np.random.default_rng(3)
    img = (rng.random((90, 160, 3)) * 255).astype(np.uint8)
    assert hamming(dhash(img), dhash(img)) == 0
    brighter = np.clip(img.astype(int) + 10, 0, 255).astype(np.uint8)
    assert hamming(dhash(img), dhash(brighter)) <= 8  # a global brightness change barely moves it
    flipped = img[:, ::-1]
    assert hamming(dhash(img), dhash(flipped)) > 60  # a different picture moves it a lot
    with pytest.raises(ValueError):
        hamming("ab", "abc")

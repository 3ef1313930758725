"""Writing frames: EXIF and XMP a camera would write, caption overlay, safe writes, CLI options."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import struct
import xml.etree.ElementTree as ET

import exifread
import numpy as np
import pytest
from PIL import Image

from cupola.camera import Attitude, Camera
from cupola.inputs import parse_look
from cupola.inputs import parse_exposure, parse_size
from cupola.errors import InputError
from cupola.render import Frame, RenderSettings
from cupola.render.output import (ascii_text, caption_lines, check_output_path, draw_caption, exposure_label,
                                  iso_integer, read_metadata, save_frame)
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
    assert meta["image_description"] == meta["description"]  # English captions are ASCII already
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


# --- Metadata read back independently: exifread for EXIF, the raw JPEG/PNG segments for XMP. ---

EN = "The ISS was 260 miles (418 km) above the Pacific Ocean, northeast of Papua New Guinea, at night."
FR = ("L'ISS se trouvait à 418 km (260 milles) au-dessus de l'océan Pacifique, au nord-est de la "
      "Papouasie-Nouvelle-Guinée, de nuit.")
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def raw_segments(path) -> tuple[bytes, bytes]:
    """Return (TIFF bytes of the EXIF block, XMP packet) read from the file's own structure."""
    data = path.read_bytes()
    exif = xmp = b""
    if data[:2] == b"\xff\xd8":  # JPEG: markers up to start-of-scan
        i = 2
        while data[i] == 0xFF and data[i + 1] != 0xDA:
            n = struct.unpack(">H", data[i + 2:i + 4])[0]
            body = data[i + 4:i + 2 + n]
            if data[i + 1] == 0xE1 and body.startswith(b"Exif\0\0"):
                exif = body[6:]
            elif data[i + 1] == 0xE1 and body.startswith(b"http://ns.adobe.com/xap/1.0/\0"):
                xmp = body[29:]
            i += 2 + n
    else:  # PNG: length, type, data, CRC
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        i = 8
        while i < len(data):
            n, kind = struct.unpack(">I4s", data[i:i + 8])
            body = data[i + 8:i + 8 + n]
            if kind == b"eXIf":
                exif = body
            elif kind == b"iTXt" and body.startswith(b"XML:com.adobe.xmp\0"):
                rest = body[len(b"XML:com.adobe.xmp\0"):]
                assert rest[:2] == b"\0\0"  # not compressed
                _lang, _tkey, text = rest[2:].split(b"\0", 2)
                xmp = text
            i += 12 + n
    return exif, xmp


def xmp_description(xmp: bytes) -> dict[str, str]:
    root = ET.fromstring(xmp)
    alt = root.find(f".//{{http://purl.org/dc/elements/1.1/}}description/{RDF}Alt")
    return {li.get(XML_LANG): li.text for li in alt.findall(f"{RDF}li")}


@pytest.mark.parametrize("ext", [".jpg", ".png"])
@pytest.mark.parametrize("lang, want", [("en", EN), ("fr", FR)])
def test_caption_round_trips_exactly(frame, tmp_path, ext, lang, want):
    path = save_frame(frame, tmp_path / f"view{ext}", lang=lang)
    exif, xmp = raw_segments(path)
    order = {b"MM": "utf-16-be", b"II": "utf-16-le"}[exif[:2]]
    with path.open("rb") as f:
        tags = exifread.process_file(f)
    # ImageDescription is ASCII (EXIF 2.32 4.6.5): accents dropped, nothing else lost.
    assert str(tags["Image ImageDescription"]) == ascii_text(want)
    assert str(tags["Image ImageDescription"]).isascii()
    if lang == "fr":
        assert "Papouasie-Nouvelle-Guinee, de nuit." in ascii_text(want)
    # UserComment: UNICODE character code, UTF-16 in the EXIF header's byte order (Pillow writes MM).
    comment = bytes(tags["EXIF UserComment"].values)
    assert exif[:2] == b"MM" and comment[:8] == b"UNICODE\0"
    assert comment[8:].decode(order) == want
    # XMP dc:description: an x-default language alternative and one for the caption's language.
    assert xmp_description(xmp) == {"x-default": want, lang: want}
    # cupola's own reader gives the Unicode caption and its parameters (from XMP).
    meta = read_metadata(path)
    assert meta["description"] == want and meta["image_description"] == ascii_text(want)
    assert meta["cupola"]["look"] == "horizon:ahead" and meta["cupola"]["time_utc"] == "2024-01-19T16:02:54.250Z"
    params = json.loads(ET.fromstring(xmp).find(".//{urn:cupola:xmp:1.0/}parameters").text)
    assert params == meta["cupola"]


def test_ascii_transliteration():
    text = "Köln, l’océan « Pacifique » – 418 km … 20°"
    assert ascii_text(text) == "Koln, l'ocean \" Pacifique \" - 418 km ... 20 deg"
    assert ascii_text("Straße, Łódź, Ærø") == "Strasse, Lodz, AEro"
    assert ascii_text("東京") == "??"


def test_files_of_older_versions_keep_their_parameters(tmp_path):
    # Before XMP, cupola wrote its parameters as ASCII JSON in UserComment; read_metadata still reads them.
    exif = Image.Exif()
    exif[0x010E] = "An old caption."
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\0\0\0" + json.dumps({"cupola": "0.0.9", "look": "nadir"}).encode()
    path = tmp_path / "old.png"
    Image.new("RGB", (8, 8)).save(path, exif=exif)
    meta = read_metadata(path)
    assert meta["cupola"] == {"cupola": "0.0.9", "look": "nadir"} and meta["description"] == "An old caption."


@pytest.mark.parametrize("size", [(320, 180), (180, 320)])
def test_field_of_view_gives_its_focal_length(frame, tmp_path, size):
    w, h = size
    cam = frame.camera.replace(fov_deg=5.0, width_px=w, height_px=h)
    # Closed form: f = (w/2) / tan(fov/2) pixels; the Z 9 sensor (35.9 x 23.9 mm) cropped to the
    # image aspect has a pixel pitch of min(35.9/w, 23.9/h) mm.
    f_px = (w / 2) / math.tan(math.radians(5.0) / 2)
    pitch = min(35.9 / w, 23.9 / h)
    assert cam.focal_px == pytest.approx(f_px, rel=1e-12)
    want = f_px * pitch
    assert want == pytest.approx(411.12 if w == 320 else 153.96, abs=0.01)
    assert cam.effective_focal_mm == pytest.approx(want, rel=1e-12)
    fr = dataclasses.replace(frame, camera=cam, rgb=np.zeros((h, w, 3), np.uint8))
    path = save_frame(fr, tmp_path / "narrow.jpg")
    with path.open("rb") as f:
        tags = exifread.process_file(f)
    (ratio,) = tags["EXIF FocalLength"].values
    assert ratio.num / ratio.den == pytest.approx(want, rel=1e-4)
    meta = read_metadata(path)
    assert meta["focal_mm"] == pytest.approx(want, rel=1e-4)
    assert meta["cupola"]["focal_mm"] == pytest.approx(want, rel=1e-12)
    assert f"NIKON Z 9 {round(want, 1):g} mm f/1.2" in caption_lines(fr)[2]
    # Without a field of view, the lens focal length is recorded as given.
    assert frame.camera.effective_focal_mm == 50.0


@pytest.mark.parametrize("seconds, label, fraction", [
    (10.0, "10 s", (10, 1)), (1.0, "1 s", (1, 1)), (2.5, "2.5 s", (5, 2)), (0.4, "0.4 s", (2, 5)),
    (0.3, "0.3 s", (3, 10)), (0.5, "1/2 s", (1, 2)), (0.25, "1/4 s", (1, 4)), (1 / 3, "1/3 s", (1, 3)),
    (1 / 60, "1/60 s", (1, 60)), (1 / 320, "1/320 s", (1, 320)), (1 / 8000, "1/8000 s", (1, 8000)),
    (0.0166, "0.0166 s", (83, 5000)), (30.0, "30 s", (30, 1)), (2 / 3, "0.666666667 s", (2, 3)),
    (0.123456789, "0.123456789 s", (123456789, 1000000000)),
])
def test_exposure_labels_are_exact(frame, tmp_path, seconds, label, fraction):
    assert exposure_label(seconds) == label
    cam = frame.camera.replace(exposure_s=seconds)
    fr = dataclasses.replace(frame, camera=cam)
    assert f" {label} ISO 6400," in caption_lines(fr)[2]
    path = save_frame(fr, tmp_path / "exp.png")
    with path.open("rb") as f:
        (ratio,) = exifread.process_file(f)["EXIF ExposureTime"].values
    assert (ratio.num, ratio.den) == fraction


@pytest.mark.parametrize("iso, want", [(6400.0, 6400), (6400.4, 6400), (1599.5, 1600), (1.0, 1), (1.4, 1)])
def test_iso_is_a_positive_integer(frame, tmp_path, iso, want):
    assert iso_integer(iso) == want
    fr = dataclasses.replace(frame, camera=frame.camera.replace(iso=iso))
    assert f" ISO {want}," in caption_lines(fr)[2]
    path = save_frame(fr, tmp_path / "iso.jpg")
    with path.open("rb") as f:
        tag = exifread.process_file(f)["EXIF ISOSpeedRatings"]
    assert tag.values == [want] and tag.field_type == 3  # one SHORT
    assert read_metadata(path)["iso"] == want


def test_iso_above_65535_goes_to_iso_speed(frame, tmp_path):
    fr = dataclasses.replace(frame, camera=frame.camera.replace(iso=102400.0))
    path = save_frame(fr, tmp_path / "hi.jpg")
    with path.open("rb") as f:
        tags = exifread.process_file(f)
    # EXIF 2.3: PhotographicSensitivity saturates at 65535, SensitivityType 3 = ISO speed, ISOSpeed has it.
    assert tags["EXIF ISOSpeedRatings"].values == [65535]
    assert tags["EXIF SensitivityType"].values == [3] and tags["EXIF ISOSpeed"].values == [102400]
    assert read_metadata(path)["iso"] == 102400


def test_iso_that_rounds_to_zero_is_refused(frame, tmp_path):
    # A camera cannot be made with it (ISO 1 at least); the EXIF writer refuses it as well.
    with pytest.raises(InputError, match="the ISO sensitivity must be a number from 1") as info:
        frame.camera.replace(iso=0.4)
    assert info.value.param == "iso"
    with pytest.raises(InputError, match=r"^ISO 0.4 rounds to 0") as info:
        iso_integer(0.4)
    assert info.value.param == "iso"
    with pytest.raises(InputError, match="cannot be recorded in EXIF") as info:
        iso_integer(float("inf"))
    assert info.value.param == "iso"


@pytest.mark.parametrize("name", ["view.png", "VIEW.PNG", "view.jpg", "view.JPG", "view.jpeg", "view.Jpeg"])
def test_check_output_path_accepts_images(tmp_path, name):
    assert check_output_path(str(tmp_path / name)) == tmp_path / name


def test_check_output_path_refusals(tmp_path, monkeypatch):
    def refused(path, match):
        with pytest.raises(InputError, match=match) as info:
            check_output_path(path)
        assert info.value.param == "output" and str(info.value)[0].islower()

    refused(tmp_path / "view.gif", r"the file name ends in '\.gif'; use a \.png or \.jpg")
    refused(tmp_path / "view", "the file name has no extension; use a .png or .jpg")
    refused(tmp_path / "missing" / "view.png", "does not exist; create it first")
    (tmp_path / "notes.txt").write_text("x")
    refused(tmp_path / "notes.txt" / "view.png", "is a file, not a folder")
    (tmp_path / "shots.png").mkdir()
    refused(tmp_path / "shots.png", "is a folder; pass a file name inside it")
    refused(tmp_path, "is a folder")
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(tmp_path) else real_access(p, mode))
    refused(tmp_path / "view.png", "is not writable")
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p).endswith("old.png") else real_access(p, mode))
    (tmp_path / "old.png").write_bytes(b"")
    refused(tmp_path / "old.png", "exists and is read-only")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_check_output_path_sees_real_permissions(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(InputError, match="is not writable"):
            check_output_path(locked / "view.png")
    finally:
        locked.chmod(0o700)


def test_xmp_packet_escapes_text_and_older_pillow_path_writes_the_same_segment(frame, tmp_path, monkeypatch):
    from cupola.render import output

    root = ET.fromstring(output.xmp_packet("A & B <c>", "en", {"look": "target:Köln"}))
    assert xmp_description(ET.tostring(root)) == {"x-default": "A & B <c>", "en": "A & B <c>"}
    assert json.loads(root.find(".//{urn:cupola:xmp:1.0/}parameters").text) == {"look": "target:Köln"}
    # Pillow < 11 has no xmp= for JPEG: the APP1 segment then goes through `extra`; same bytes in the file.
    monkeypatch.setattr(output, "_pillow_major", lambda: 10)
    path = save_frame(frame, tmp_path / "old_pillow.jpg", lang="en")
    assert xmp_description(raw_segments(path)[1]) == {"x-default": EN, "en": EN}
    assert read_metadata(path)["cupola"]["look"] == "horizon:ahead"

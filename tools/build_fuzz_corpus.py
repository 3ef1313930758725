"""Rebuild ``tests/fuzz_corpus/``: the seed inputs of the atheris target ``fuzz/fuzz_elements.py``.

Run ``python tools/build_fuzz_corpus.py`` from the repository root. The seeds are the shapes the parsers read,
taken from data already in the repository (so they carry its provenance): from ``src/cupola/data/iss_tles.txt``
(the bundled ISS history, public Space-Track/CelesTrak sets) its first and last 3-line sets, one legacy '+'-signed
set and one 2-line set; from ``tests/data/elements/`` the OMM JSON (array and one object), NDM/XML and CSV of
three sets and the 5-satellite group file; and times written the ways ``cupola.timebase.to_utc64`` reads
(Z, offsets, nine decimals, a leap second, ' UTC', the edges of the supported range). Each seed is one file.

It also rebuilds ``tests/fuzz_corpus_exif/``, the seeds of ``fuzz/fuzz_exif.py`` (the photograph reader): small
JPEG, PNG and TIFF images written by Pillow with the EXIF of the station's Nikon bodies (Make, Model, the capture
time with its sub-second and zone tags, exposure, f-number, ISO, focal length and its 35 mm equivalent, the
focal-plane resolution) as ``cupola.photo.metadata`` reads it, their variants (no EXIF, a body not in the sensor
table, APEX values, the digitized time alone, a big-endian 16-bit TIFF laid out as a NEF is) and bare EXIF blocks
(``Exif\\0\\0`` and the TIFF structure, which the target puts into a JPEG's APP1 segment).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "fuzz_corpus"
OUT_EXIF = ROOT / "tests" / "fuzz_corpus_exif"
ELEMENTS = ROOT / "tests" / "data" / "elements"

TIMES = [
    "2024-01-22T13:05:00Z", "2021-05-02T08:45:00+02:00", "2017-01-01T00:00:00.123456789z", "2016-12-31T23:59:60Z",
    "2024-01-22 13:05:00 UTC", "1678-01-01T00:00:00Z", "2261-12-31T23:59:59.999999999Z", "2024-W04-1T00:00Z",
]


def _sets(lines: list[str]) -> list[list[str]]:
    """Return the 3-line sets (name, line 1, line 2) of the bundled file, comments dropped."""
    body = [line for line in lines if line and not line.startswith("#")]
    return [body[i : i + 3] for i in range(0, len(body) - 2, 3)]


# EXIF tag numbers (CIPA DC-008-2019): IFD0, the EXIF IFD pointer, then the EXIF IFD's.
MAKE, MODEL, IFD_EXIF = 0x010F, 0x0110, 0x8769
EXPOSURE, FNUMBER, ISO, ISO_SPEED = 0x829A, 0x829D, 0x8827, 0x8833
ORIGINAL, DIGITIZED, OFFSET_ORIGINAL = 0x9003, 0x9004, 0x9011
SHUTTER_APEX, APERTURE_APEX, FOCAL, SUBSEC, SUBSEC_DIGITIZED = 0x9201, 0x9202, 0x920A, 0x9291, 0x9292
EXIF_WIDTH, EXIF_HEIGHT, PLANE_X, PLANE_Y, PLANE_UNIT, FOCAL35 = 0xA002, 0xA003, 0xA20E, 0xA20F, 0xA210, 0xA405
# The seed images' size: big enough for the reader (8 x 8 at least), a kilobyte or two as a file.
SEED_SIZE = (48, 32)
NIKON = "NIKON CORPORATION"


def _nikon(model: str, when: str, subsec: str, offset: str, exposure: tuple, f_number: tuple, iso: int,
           focal_mm: int, sensor_mm: tuple, full_px: tuple) -> tuple[dict, dict]:
    """Return (IFD0, EXIF IFD) tags as a Nikon body writes them: focal-plane resolution in pixels per cm of the
    full-size frame (`full_px` on `sensor_mm`), FocalLengthIn35mmFilm equal to FocalLength (a full-frame body)."""
    sub = {ORIGINAL: when, DIGITIZED: when, SUBSEC: subsec, SUBSEC_DIGITIZED: subsec, OFFSET_ORIGINAL: offset,
           EXPOSURE: IFDRational(*exposure), FNUMBER: IFDRational(*f_number), ISO: iso,
           FOCAL: IFDRational(focal_mm * 10, 10), FOCAL35: focal_mm, EXIF_WIDTH: full_px[0], EXIF_HEIGHT: full_px[1],
           PLANE_X: IFDRational(full_px[0] * 1000, round(sensor_mm[0] * 100)),
           PLANE_Y: IFDRational(full_px[1] * 1000, round(sensor_mm[1] * 100)), PLANE_UNIT: 3}
    return {MAKE: NIKON, MODEL: model}, sub


# Shots as the station's bodies record them: the D3S's values are those of ISS030-E-130515 (the shared photograph:
# 2012-03-10, 1/2 s, f/1.4, ISO 3200, 24 mm), with the zone and focal-plane tags that later bodies add; the D5's are
# of the kind a night pass gives (1/320 s at f/2.8, ISO 51200, 28 mm).
D3S = _nikon("NIKON D3S", "2012:03:10 14:54:05", "00", "+00:00", (1, 2), (7, 5), 3200, 24, (36.0, 23.9),
             (4256, 2832))
D5 = _nikon("NIKON D5", "2024:01:19 16:02:54", "5", "+00:00", (1, 320), (28, 10), 51200, 28, (35.9, 23.9),
            (5568, 3712))


def _variant(tags: tuple[dict, dict], ifd0: dict | None = None, sub: dict | None = None,
             drop: tuple = ()) -> tuple[dict, dict]:
    """Return `tags` with some replaced or added and the EXIF IFD's `drop` removed."""
    e0, e1 = {**tags[0], **(ifd0 or {})}, {**tags[1], **(sub or {})}
    return e0, {k: v for k, v in e1.items() if k not in drop}


def _exif(tags: tuple[dict, dict] | None) -> Image.Exif:
    ex = Image.Exif()
    if tags is not None:
        for k, v in tags[0].items():
            ex[k] = v
        sub = ex.get_ifd(IFD_EXIF)
        for k, v in tags[1].items():
            sub[k] = v
        ex[IFD_EXIF] = sub  # a key of its own, so that the TIFF writer writes the EXIF IFD too (JPEG, PNG do anyway)
    return ex


def _image(fmt: str, tags: tuple[dict, dict] | None, mode: str = "RGB") -> bytes:
    """Return a small night-sky-like image (dark, a few stars) in `fmt` with the EXIF `tags` (None: none)."""
    w, h = SEED_SIZE
    rng = np.random.default_rng(17)
    sky = rng.integers(0, 24, (h, w, 3)).astype(np.uint8)
    for y, x in rng.integers(0, (h, w), (6, 2)):
        sky[y, x] = 255
    if mode == "I;16B":  # grey, 16 bits, big-endian ('MM'), as a NEF's TIFF structure is
        im = Image.fromarray(sky[..., 1].astype(np.uint16) * 257).convert("I;16B")
    else:
        im = Image.fromarray(sky)
    buf = io.BytesIO()
    options = {"exif": _exif(tags)} if tags is not None else {}
    im.save(buf, fmt, **({"quality": 75} if fmt == "JPEG" else {}), **options)
    return buf.getvalue()


def exif_seeds() -> dict[str, bytes]:
    """Return the seeds of ``fuzz/fuzz_exif.py``, by file name."""
    unknown = _variant(D5, {MAKE: "Canon", MODEL: "Canon EOS 5D Mark IV"})
    focal_plane = _variant(unknown, drop=(FOCAL35,))
    apex = _variant(D3S, sub={SHUTTER_APEX: IFDRational(-3, 1), APERTURE_APEX: IFDRational(97, 100), ISO: 65535,
                              ISO_SPEED: 102400}, drop=(EXPOSURE, FNUMBER))
    digitized = _variant(D5, drop=(ORIGINAL, SUBSEC, OFFSET_ORIGINAL))
    zoned = _variant(D5, sub={OFFSET_ORIGINAL: "-05:00", SUBSEC: "123456"})
    absurd = _variant(D3S, sub={ORIGINAL: "0000:00:00 00:00:00", EXPOSURE: IFDRational(1, 0), FOCAL: IFDRational(0, 1),
                                FNUMBER: IFDRational(4_000_000_000, 1)})
    return {
        "d3s.jpg": _image("JPEG", D3S),
        "d5.jpg": _image("JPEG", D5),
        "d5_digitized_only.jpg": _image("JPEG", digitized),
        "unknown_body_crop_factor.jpg": _image("JPEG", unknown),
        "unknown_body_focal_plane.jpg": _image("JPEG", focal_plane),
        "apex_and_iso_speed.jpg": _image("JPEG", apex),
        "no_exif.jpg": _image("JPEG", None),
        "d3s.png": _image("PNG", D3S),
        "no_exif.png": _image("PNG", None),
        "d5.tif": _image("TIFF", D5),
        "d3s_nef_like.tif": _image("TIFF", D3S, mode="I;16B"),
        "block_d3s.exif": _exif(D3S).tobytes(),
        "block_d5_zone.exif": _exif(zoned).tobytes(),
        "block_unknown_body.exif": _exif(focal_plane).tobytes(),
        "block_apex.exif": _exif(apex).tobytes(),
        "block_absurd.exif": _exif(absurd).tobytes(),
    }


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    sets = _sets((ROOT / "src" / "cupola" / "data" / "iss_tles.txt").read_text(encoding="utf-8").splitlines())
    legacy = next(s for s in sets if "+" in s[1])
    seeds = {
        "tle_first.txt": "\n".join(sets[0]) + "\n",
        "tle_last.txt": "\n".join(sets[-1]) + "\n",
        "tle_legacy_plus.txt": "\n".join(legacy) + "\n",
        "tle_two_line_crlf.txt": "\r\n".join(sets[1][1:]) + "\r\n",
        "tle_group.txt": (ELEMENTS / "derived_group.tle").read_text(encoding="utf-8"),
        "omm_array.json": (ELEMENTS / "iss_omm.json").read_text(encoding="utf-8"),
        "omm_object.json": json.dumps(json.loads((ELEMENTS / "iss_omm.json").read_text(encoding="utf-8"))[0]),
        "omm.xml": (ELEMENTS / "iss_omm.xml").read_text(encoding="utf-8"),
        "omm.csv": (ELEMENTS / "iss_omm.csv").read_text(encoding="utf-8"),
    }
    seeds.update({f"time_{i}.txt": t for i, t in enumerate(TIMES)})
    for name, text in seeds.items():
        (OUT / name).write_bytes(text.encode("utf-8"))
    print(f"wrote {len(seeds)} seeds to {OUT.relative_to(ROOT)}")
    OUT_EXIF.mkdir(exist_ok=True)
    for old in OUT_EXIF.iterdir():
        old.unlink()
    photos = exif_seeds()
    for name, data in photos.items():
        (OUT_EXIF / name).write_bytes(data)
    print(f"wrote {len(photos)} seeds to {OUT_EXIF.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""Property tests of the photograph reader (issue 17): whatever a file holds, :func:`cupola.photo.metadata.read_photo`
returns a PhotoMeta whose values are sane or None, or raises a CupolaError with a short clean message.

Three kinds of input, each a file written to a temporary folder and read as a user's photograph would be:

- random bytes behind a JPEG, PNG or TIFF signature (so that the format is sniffed and Pillow's header reader and the
  EXIF walk both run on garbage), read as a JPEG/PNG/TIFF and, for a TIFF, as a NEF too;
- a valid small JPEG whose EXIF block (written byte by byte by ``tests/exif_bytes.py``) holds hypothesis-chosen
  values: capture-time texts (any text, near-valid dates, year 0000 and 9999, Feb 30, 24:60:60, years that
  ``datetime64[ns]`` cannot hold), sub-second and zone texts, rationals with zero, huge and negative numerators and
  denominators, any ISO, any body name (control characters, 3,000 characters). Here the answer is checked against
  the tags themselves: a value in :data:`cupola.camera.RANGES` is taken exactly, one outside becomes None (or the
  APEX fallback), a capture time is the stamp's, with its zone and sub-second, or None when the stamp is no
  plausible station time;
- mutations (bit flips, cuts, inserted and overwritten bytes) of a valid JPEG carrying a D3S's full EXIF.

The contract (``fuzz/photo_contract.py``, which the atheris target checks too) of a refusal: a
:class:`cupola.errors.CupolaError` whose message starts lower-case, holds at most
:data:`photo_contract.MAX_MESSAGE` characters and no raw control character, bidirectional control or lone surrogate; of an
answer: numeric values None or finite and inside RANGES, the time None or within EARLIEST_CAPTURE_UTC .. now +
FUTURE_SLACK_DAYS (plus half the longest exposure), notes short clean text. Any other exception fails the test.

The examples are derandomized (the same on every run) and no example database is written; the inputs the fuzzing
found that broke the reader are kept below as explicit cases. The file takes well under a minute.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import struct
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from exif_bytes import ascii_tag, exif_block, jpeg_with_exif, rational, small_image, u16, u32
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cupola.camera import RANGES
from cupola.photo.metadata import EARLIEST_CAPTURE_UTC, FUTURE_SLACK_DAYS, MAX_SHORT_READS, PhotoMeta

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fuzz"))
from photo_contract import read_checked  # noqa: E402  (the contract the atheris target checks too)

# Examples per property: 3,000 + 4,000 + 3,000 = 10,000 generated files in all.
RANDOM_EXAMPLES, TAG_EXAMPLES, MUTATION_EXAMPLES = 3_000, 4_000, 3_000
# A bound on one hostile file's reading, not a performance goal (this machine reads one in milliseconds).
MAX_READ_S = 10.0


def fuzz(examples: int):
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.data_too_large, HealthCheck.large_base_example])


# EXIF tag numbers (CIPA DC-008-2019) and TIFF field types.
MAKE, MODEL = 0x010F, 0x0110
EXPOSURE, FNUMBER, ISO, ISO_SPEED, ORIGINAL, OFFSET_ORIGINAL = 0x829A, 0x829D, 0x8827, 0x8833, 0x9003, 0x9011
SHUTTER_APEX, APERTURE_APEX, FOCAL, SUBSEC = 0x9201, 0x9202, 0x920A, 0x9291
PLANE_X, PLANE_Y, PLANE_UNIT, FOCAL35 = 0xA20E, 0xA20F, 0xA210, 0xA405
SHORT, LONG, RATIONAL, SRATIONAL = 3, 4, 5, 10
JPEG = small_image("JPEG", 64, 48)
D3S_BLOCK = exif_block(
    [ascii_tag(MAKE, "NIKON CORPORATION"), ascii_tag(MODEL, "NIKON D3S")],
    [ascii_tag(ORIGINAL, "2012:03:28 17:57:51"), ascii_tag(SUBSEC, "90"), ascii_tag(OFFSET_ORIGINAL, "+00:00"),
     (EXPOSURE, RATIONAL, 1, rational(1, 2)), (FNUMBER, RATIONAL, 1, rational(14, 10)), (ISO, SHORT, 1, u16(10000)),
     (FOCAL, RATIONAL, 1, rational(24)), (FOCAL35, SHORT, 1, u16(24)), (PLANE_X, RATIONAL, 1, rational(4256000, 3600)),
     (PLANE_Y, RATIONAL, 1, rational(2832000, 2390)), (PLANE_UNIT, SHORT, 1, u16(3))])
D3S_JPEG = jpeg_with_exif(JPEG, D3S_BLOCK)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("exif-fuzz")


def read(folder, data: bytes, name: str = "x.jpg") -> PhotoMeta | None:
    """Write `data` as `name`, read it (and its pixels when small) under the contract; return the PhotoMeta or None
    when refused."""
    path = folder / name
    path.write_bytes(data)
    t0 = time.perf_counter()
    try:
        m, _refused = read_checked(path)
    finally:
        assert time.perf_counter() - t0 < MAX_READ_S
    return m


# -- (a) random bytes behind a signature ---------------------------------------------------------------------------
SIGNATURES = {"JPEG": b"\xff\xd8\xff", "JPEG APP1 Exif": b"\xff\xd8\xff\xe1\x10\x00Exif\x00\x00",
              "PNG": b"\x89PNG\r\n\x1a\n", "TIFF II": b"II*\x00", "TIFF MM": b"MM\x00*",
              "TIFF II at 8": b"II*\x00\x08\x00\x00\x00", "TIFF MM at 8": b"MM\x00*\x00\x00\x00\x08"}


@fuzz(RANDOM_EXAMPLES)
@given(st.sampled_from(sorted(SIGNATURES)), st.binary(max_size=3000))
def test_random_bytes_behind_an_image_signature(folder, kind, rest):
    data = SIGNATURES[kind] + rest
    read(folder, data, "x.tif" if kind.startswith("TIFF") else "x.png" if kind == "PNG" else "x.jpg")
    if kind.startswith("TIFF"):
        read(folder, data, "x.nef")


# -- (b) a valid JPEG with hypothesis-chosen tags -------------------------------------------------------------------
_EDGE_STAMPS = ["0000:00:00 00:00:00", "9999:12:31 23:59:59", "2024:02:30 12:00:00", "2024:01:19 24:60:60",
                "2600:01:01 00:00:00", "1420:06:01 00:00:00", "2262:04:12 00:00:00", "1677:09:21 00:00:00",
                "1998:11:20 06:40:00", "2024:01:19 16:02:54", "    :  :     :  :  ", "2024-01-19T16:02:54",
                " 2024:01:19 16:02:54 ", "2024:01:19 16:02:54\x1b[31m", "2024:01:19\u202e16:02:54"]
_UNICODE_DIGITS = ["\u00b2", "\u2460", "\u0663", "\U0001d7d7", "\uff19"]  # superscript 2, circled 1, Arabic 3, ...


@st.composite
def stamps(draw):
    """Return (text, (y, mo, d, h, mi, s) or None): EXIF's 'YYYY:MM:DD HH:MM:SS' from numbers near the valid
    ones, an edge case, or any text."""
    kind = draw(st.sampled_from(["numbers", "numbers", "edge", "text"]))
    if kind == "edge":
        text = draw(st.sampled_from(_EDGE_STAMPS))
        exact = re.fullmatch(r"([0-9]{4}):([0-9]{2}):([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})", text)
        return text, (tuple(int(g) for g in exact.groups()) if exact else None)
    if kind == "text":
        return draw(st.text(max_size=40)), None
    # Years of the station, any year EXIF can write, and the years datetime64[ns] cannot hold.
    years = st.one_of(st.integers(1998, 2030), st.integers(0, 9999), st.integers(1300, 1700), st.integers(2250, 2700))
    parts = (draw(years), draw(st.integers(0, 13)),
             draw(st.integers(0, 32)), draw(st.integers(0, 25)), draw(st.integers(0, 61)), draw(st.integers(0, 61)))
    return "{:04d}:{:02d}:{:02d} {:02d}:{:02d}:{:02d}".format(*parts), parts


subsecs = st.one_of(st.none(), st.text("0123456789", min_size=1, max_size=12), st.text(max_size=12),
                    st.sampled_from(_UNICODE_DIGITS), st.text("0123456789", min_size=4_000, max_size=5_000))
zones = st.one_of(st.none(), st.text(max_size=10), st.builds("{}{:02d}:{:02d}".format, st.sampled_from("+-"),
                                                             st.integers(0, 99), st.integers(0, 99)))
_U32 = st.one_of(st.sampled_from([0, 1, 2, 10, 2**31 - 1, 2**31, 2**32 - 1]), st.integers(0, 2**32 - 1),
                 st.integers(0, 1000))
_S32 = st.one_of(st.sampled_from([0, 1, -1, 2**31 - 1, -2**31]), st.integers(-2**31, 2**31 - 1),
                 st.integers(-1000, 1000))
rationals = st.one_of(st.none(), st.tuples(st.just(RATIONAL), _U32, _U32), st.tuples(st.just(SRATIONAL), _S32, _S32))
names = st.one_of(st.sampled_from(["NIKON D3S", "NIKON D5", "NIKON Z 9", "Canon EOS 5D", "", "\x1b[2J NIKON D5",
                                   "NIKON\u202e D5", "x" * 3000]), st.text(max_size=60), st.text(max_size=3000))


def _entry_of(tag: int, r):
    typ, num, den = r
    return tag, typ, 1, rational(num, den, signed=typ == SRATIONAL)


def _value(r) -> float | None:
    """The value of a drawn rational as a reader must take it: None without one or with a zero denominator."""
    return None if r is None or r[2] == 0 else r[1] / r[2]


def _is(value: float | None, want: float | None) -> bool:
    return value is not None and want is not None and math.isclose(value, want, rel_tol=1e-12)


def _in(name: str, value: float | None) -> bool:
    lo, hi = RANGES[name][:2]
    return value is not None and math.isfinite(value) and lo <= value <= hi


@st.composite
def exif_photos(draw):
    stamp, parts = draw(stamps())
    drawn = {"stamp": stamp, "parts": parts, "subsec": draw(subsecs), "zone": draw(zones),
             "model": draw(names), "make": draw(st.sampled_from(["NIKON CORPORATION", "", "Canon"]))}
    for key in ("exposure", "f_number", "focal", "plane_x", "plane_y", "tv", "av"):
        drawn[key] = draw(rationals)
    drawn["iso"] = draw(st.one_of(st.none(), st.tuples(st.just(SHORT), st.integers(0, 65535)),
                                  st.tuples(st.just(LONG), st.integers(0, 2**32 - 1))))
    drawn["iso_speed"] = draw(st.one_of(st.none(), st.integers(0, 2**32 - 1)))
    drawn["focal35"] = draw(st.one_of(st.none(), st.integers(0, 65535)))
    drawn["unit"] = draw(st.one_of(st.none(), st.integers(0, 65535)))
    return drawn


def _block(d: dict) -> bytes:
    ifd0 = [ascii_tag(MODEL, d["model"].encode("utf-8", "surrogatepass"))]
    if d["make"]:
        ifd0.append(ascii_tag(MAKE, d["make"]))
    exif = [ascii_tag(ORIGINAL, d["stamp"].encode("utf-8", "surrogatepass"))]
    for tag, key in ((SUBSEC, "subsec"), (OFFSET_ORIGINAL, "zone")):
        if d[key] is not None:
            exif.append(ascii_tag(tag, d[key].encode("utf-8", "surrogatepass")))
    for tag, key in ((EXPOSURE, "exposure"), (FNUMBER, "f_number"), (FOCAL, "focal"), (PLANE_X, "plane_x"),
                     (PLANE_Y, "plane_y"), (SHUTTER_APEX, "tv"), (APERTURE_APEX, "av")):
        if d[key] is not None:
            exif.append(_entry_of(tag, d[key]))
    if d["iso"] is not None:
        typ, value = d["iso"]
        exif.append((ISO, typ, 1, u16(value) if typ == SHORT else u32(value)))
    for tag, key in ((ISO_SPEED, "iso_speed"), (FOCAL35, "focal35"), (PLANE_UNIT, "unit")):
        if d[key] is not None:
            exif.append((tag, LONG if tag == ISO_SPEED else SHORT, 1, (u32 if tag == ISO_SPEED else u16)(d[key])))
    return exif_block(ifd0, exif)


def _expected_start(d: dict) -> tuple[np.datetime64 | None, str]:
    """Return (the exposure's start that the stamp, zone and sub-second say, the verdict): 'taken' when it is a
    plausible station time by a day's margin, 'dropped' when it names no date or one a day or more outside the
    plausible range, 'either' near the range's ends and for texts this oracle does not read."""
    texts = [d["stamp"], d["zone"] or "", d["subsec"] or ""]
    if d["parts"] is None or any("\x00" in t for t in texts):
        return None, "either"
    try:
        local = dt.datetime(*d["parts"])
    except ValueError:
        return None, "dropped"
    zone, subsec = (d["zone"] or "").strip(), (d["subsec"] or "").strip()
    shift = dt.timedelta(0)
    if len(zone) == 6 and zone[0] in "+-" and zone[3] == ":" and (zone[1:3] + zone[4:]).isascii() \
            and (zone[1:3] + zone[4:]).isdigit():
        hours, minutes = int(zone[1:3]), int(zone[4:])
        if hours <= 23 and minutes <= 59:  # else no zone on Earth: UTC is assumed, with a note
            shift = dt.timedelta(hours=hours, minutes=minutes) * (1 if zone[0] == "+" else -1)
    elif zone:
        return None, "either"  # 'Z', '+0200' or text: not read here
    ns = 0
    if subsec.isascii() and subsec.isdigit():  # else it is ignored, with a note
        ns = round(int(subsec[:12]) / 10 ** len(subsec[:12]) * 1e9)
    utc = local - shift
    if not dt.datetime(1678, 1, 2) < utc < dt.datetime(2261, 12, 30):
        return None, "dropped"
    start = np.datetime64(utc, "ns") + np.timedelta64(ns, "ns")
    now = np.datetime64(dt.datetime.now(dt.timezone.utc).replace(tzinfo=None), "ns")
    day = np.timedelta64(1, "D")
    if EARLIEST_CAPTURE_UTC + day < start < now - day:
        return start, "taken"
    if start < EARLIEST_CAPTURE_UTC - day or start > now + np.timedelta64(FUTURE_SLACK_DAYS + 1, "D"):
        return None, "dropped"
    return None, "either"


@fuzz(TAG_EXAMPLES)
@given(exif_photos())
def test_exif_tag_values_are_taken_exactly_or_dropped(folder, d):
    m = read(folder, jpeg_with_exif(JPEG, _block(d)))
    assert m is not None, "a valid JPEG was refused"
    assert (m.width_px, m.height_px) == (64, 48)
    exposure, tv = _value(d["exposure"]), _value(d["tv"])
    if _in("exposure_s", exposure):
        assert _is(m.exposure_s, exposure)
    else:
        assert m.exposure_s is None or (exposure is None and tv is not None and _is(m.exposure_s, 2.0 ** -tv))
    f_number, av = _value(d["f_number"]), _value(d["av"])
    if _in("f_number", f_number):
        assert _is(m.f_number, f_number)
    else:
        assert m.f_number is None or (f_number is None and av is not None and _is(m.f_number, 2.0 ** (av / 2.0)))
    focal = _value(d["focal"])
    assert _is(m.focal_mm, focal) if _in("focal_mm", focal) else m.focal_mm is None
    iso = None if d["iso"] is None else float(d["iso"][1])
    if _in("iso", iso) and iso < 65535:
        assert m.iso == iso
    else:
        assert m.iso is None or m.iso in (iso, d["iso_speed"])
    start, verdict = _expected_start(d)
    if verdict == "taken":
        assert m.start_utc is not None and abs(int((m.start_utc - start) / np.timedelta64(1, "ns"))) <= 1, \
            (d["stamp"], d["zone"], d["subsec"], m.start_utc, start)
        half_ns = 0.0 if m.exposure_s is None else m.exposure_s / 2 * 1e9
        assert abs((m.time_utc - m.start_utc) / np.timedelta64(1, "ns") - half_ns) <= 1
    elif verdict == "dropped":
        assert m.start_utc is None and m.time_utc is None, (d["stamp"], d["zone"], m.start_utc)
        assert any("time=" in note for note in m.notes), m.notes


# -- (c) mutations of a valid EXIF JPEG -----------------------------------------------------------------------------
_EXIF_END = 2 + 4 + len(D3S_BLOCK)  # SOI, the APP1 marker and length, the block: mutations land mostly in it
operations = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, _EXIF_END), st.integers(0, 7)),
    st.tuples(st.just("cut"), st.integers(0, len(D3S_JPEG)), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, _EXIF_END), st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("overwrite"), st.integers(0, _EXIF_END), st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("flip"), st.integers(0, len(D3S_JPEG) - 1), st.integers(0, 7)),
)


def mutate(data: bytes, ops) -> bytes:
    out = bytearray(data)
    for op, at, arg in ops:
        at = min(at, max(len(out) - 1, 0))
        if op == "flip" and out:
            out[at] ^= 1 << arg
        elif op == "cut":
            del out[at:]
        elif op == "insert":
            out[at:at] = arg
        elif op == "overwrite":
            out[at:at + len(arg)] = arg
    return bytes(out)


@fuzz(MUTATION_EXAMPLES)
@given(st.lists(operations, min_size=1, max_size=6))
def test_mutated_exif_jpeg(folder, ops):
    read(folder, mutate(D3S_JPEG, ops))


def test_the_unmutated_photo_is_read_whole(folder):
    """The base of the mutations, and of the tag examples, is itself read exactly (the properties start from a
    photograph the reader accepts whole)."""
    m = read(folder, D3S_JPEG)
    assert m.sensor_key == "D3S" and m.focal_mm == 24.0 and m.exposure_s == 0.5 and m.iso == 10000.0
    assert m.f_number == 1.4 and m.time_utc == np.datetime64("2012-03-28T17:57:52.150", "ns") and m.notes == ()


# -- what the fuzzing found ----------------------------------------------------------------------------------------
def _ifd_past_the_end(entries: int) -> bytes:
    """An EXIF block whose IFD0 declares `entries` entries but holds 3 (Make, Model, the EXIF pointer): exifread
    walks all of them, past the end of the block."""
    good = exif_block([ascii_tag(MAKE, "NIKON CORPORATION"), ascii_tag(MODEL, "NIKON D5")], [])
    return good[:14] + struct.pack("<H", entries) + good[16:]


def _shared_values(entries: int = 5_300) -> bytes:
    """An EXIF block (64 kB) whose IFD0 is `entries` entries of 999 rationals each, all the same 8 kB from the
    IFD's start on (inside the block)."""
    body = b"".join(struct.pack("<HHII", 0x9000 + i % 4000, RATIONAL, 999, 8) for i in range(entries))
    tiff = b"II*\x00" + u32(8) + u16(entries) + body + u32(0)
    return b"Exif\x00\x00" + tiff + bytes(0xFFFF - 2 - 6 - len(tiff))


def _photo(exif) -> bytes:
    """A D5's 64 x 48 JPEG with a 24 mm focal length and the EXIF IFD entries `exif`."""
    make = [ascii_tag(MAKE, "NIKON CORPORATION"), ascii_tag(MODEL, "NIKON D5")]
    return jpeg_with_exif(JPEG, exif_block(make, [(FOCAL, RATIONAL, 1, rational(24)), *exif]))


FOUND = {
    # exifread re-read the same 999 rationals for every entry: 13-15 s for one 64 kB block (reads now counted).
    "entries sharing their values": (jpeg_with_exif(JPEG, _shared_values()), "larger than 1024 kB"),
    # exifread walks every entry an IFD declares, past the block's end: 0.1-0.2 s for a 400-byte block.
    "an IFD declaring 65535 entries": (jpeg_with_exif(JPEG, _ifd_past_the_end(0xFFFF)), "points past its end"),
    # A 4,300-digit SubSecTimeOriginal: int() refused it (ValueError out of read_photo).
    "5000 sub-second digits": (_photo([ascii_tag(ORIGINAL, "2024:01:19 16:02:54"), ascii_tag(SUBSEC, "9" * 5000)]),
                               None),
    # A superscript digit: str.isdigit() took it, int() refused it (ValueError out of read_photo).
    "a superscript sub-second": (_photo([ascii_tag(ORIGINAL, "2024:01:19 16:02:54"), ascii_tag(SUBSEC, "\u00b2")]),
                                 "is not digits"),
    # datetime64[ns] wraps past 1678..2262: the year 2600 became 2015 and 1420 became 2004, plausible times taken
    # as the capture's; 9999 became 1816, refused as "before the station existed".
    "the year 2600": (_photo([ascii_tag(ORIGINAL, "2600:01:01 00:00:00")]), "in the future"),
    "the year 9999": (_photo([ascii_tag(ORIGINAL, "9999:12:31 23:59:59")]), "in the future"),
    "the year 1420": (_photo([ascii_tag(ORIGINAL, "1420:06:01 00:00:00")]), "before the station existed"),
    # A zone of +99:99 moved the time by four days.
    "the zone +99:99": (_photo([ascii_tag(ORIGINAL, "2024:01:19 16:02:54"), ascii_tag(OFFSET_ORIGINAL, "+99:99")]),
                        "is not a zone"),
    # The notes echoed the whole text they were about (a 60 kB capture time, a 3,000-character body).
    "a 3000-character body": (jpeg_with_exif(JPEG, exif_block([ascii_tag(MODEL, "\x1b" + "x" * 3000)], [])),
                              "3001 characters"),
    "a 20000-character stamp": (_photo([ascii_tag(ORIGINAL, "0/" * 10_000)]), "20000 characters"),
}


@pytest.mark.parametrize("case", list(FOUND))
def test_what_the_fuzzing_found(folder, case):
    data, note = FOUND[case]
    t0 = time.perf_counter()
    m = read(folder, data)
    assert time.perf_counter() - t0 < 5.0, case  # 13-15 s before for the shared values; 0.4 s now
    assert m is not None and (m.width_px, m.height_px) == (64, 48)
    if note:
        assert any(note in n for n in m.notes), m.notes
    if case.startswith("the year"):
        assert m.time_utc is None and m.time_source.startswith("unknown: absurd")
    if case == "the zone +99:99":
        assert m.time_utc == np.datetime64("2024-01-19T16:02:54", "ns")  # taken as UTC, with the note
    if case == "5000 sub-second digits":
        assert m.time_utc == np.datetime64("2024-01-19T16:02:55", "ns")  # .999... s, to the nanosecond


def test_the_short_read_limit_keeps_sound_blocks(folder):
    """A block with some entries past its end (a cut maker's block) is still read: the limit is a thousand reads
    past the end, and 250 entries there make 500."""
    block = _ifd_past_the_end(3 + MAX_SHORT_READS // 4)
    m = read(folder, jpeg_with_exif(JPEG, block))
    assert m.camera_model == "NIKON D5" and m.sensor_key == "D5"

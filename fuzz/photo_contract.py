"""The photograph reader's contract, checked on any file: one definition for the atheris target
(``fuzz/fuzz_exif.py``) and the hypothesis tests (``tests/test_exif_fuzz.py``).

:func:`read_checked` reads a file as a user's photograph (:func:`cupola.photo.metadata.read_photo`, then, for an
image of at most :data:`MAX_DECODE_PIXELS`, :func:`cupola.photo.metadata.load_pixels`) and raises AssertionError
saying what broke the contract:

- an answer is a PhotoMeta whose size is whole pixels within :data:`cupola.camera.MAX_PIXELS`, whose numbers are
  None or finite and within :data:`cupola.camera.RANGES`, whose capture times are None or between the station's
  first module and now + :data:`LATEST_SLACK`, and whose notes are short clean text;
- a refusal is a :class:`cupola.errors.CupolaError` whose message starts lower-case, is at most
  :data:`MAX_MESSAGE` characters and holds no raw control character, bidirectional control or lone surrogate;
- the pixels are the header's (H, W, 3) uint8 array, or refused the same way.

Any other exception escapes as it is (a crash to the fuzzer, a failure to the test).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from cupola.camera import MAX_PIXELS, RANGES
from cupola.errors import CupolaError
from cupola.photo.metadata import EARLIEST_CAPTURE_UTC, FUTURE_SLACK_DAYS, PhotoMeta, load_pixels, read_photo

# The longest message and note: the message names the file (a temporary path here) and echoes at most ~80
# characters of what it read.
MAX_MESSAGE = 600
MAX_NOTE = 600
# Images up to this many pixels also have their pixels decoded (a mutated header may declare megapixels, within
# cupola's limits but seconds to decode, and no new code).
MAX_DECODE_PIXELS = 512 * 512
# The latest plausible exposure middle: the capture-time check's slack, plus half the longest exposure.
LATEST_SLACK = np.timedelta64(FUTURE_SLACK_DAYS, "D") + np.timedelta64(int(RANGES["exposure_s"][1] * 1e9 / 2), "ns")
# Characters a message or note must not hold raw: C0 controls but newline, DEL, C1 controls, bidi controls.
UNSAFE = {chr(c) for c in [*range(32), *range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F),
                           *range(0x2066, 0x206A)]} - {"\n"}


def _check_text(text, what: str, most: int) -> None:
    if not isinstance(text, str):
        raise AssertionError(f"{what} {text!r} is not text")
    bad = [c for c in text if c in UNSAFE or "\ud800" <= c <= "\udfff"]
    if bad or len(text) > most:
        raise AssertionError(f"bad {what}: {text[:400]!r} (raw {bad[:5]!r}, {len(text)} chars)")


def _check_refusal(exc: CupolaError) -> None:
    message = str(exc)
    if not message[:1].islower():
        raise AssertionError(f"message not lower-case: {message[:400]!r}")
    _check_text(message, "message", MAX_MESSAGE)


def _in_range(name: str, value) -> bool:
    lo, hi = RANGES[name][:2]
    return value is None or (isinstance(value, float) and math.isfinite(value) and lo <= value <= hi)


def check_meta(m) -> None:
    """Raise AssertionError unless `m` is a PhotoMeta whose values are None or sane and whose notes are clean."""
    if not isinstance(m, PhotoMeta):
        raise AssertionError(f"read_photo returned {type(m).__name__}")
    size_ok = isinstance(m.width_px, int) and isinstance(m.height_px, int) and m.width_px >= 8 and m.height_px >= 8
    if not (size_ok and m.width_px * m.height_px <= MAX_PIXELS):
        raise AssertionError(f"size {m.width_px!r} x {m.height_px!r} let through")
    for name in ("focal_mm", "exposure_s", "iso", "f_number"):
        if not _in_range(name, getattr(m, name)):
            raise AssertionError(f"{name} {getattr(m, name)!r} let through")
    # The field of view is derived (a sliver of an image may see less than RANGES' 0.01 deg across): a real angle.
    if m.focal_px is not None and not (math.isfinite(m.focal_px) and m.focal_px > 0 and 0 < m.fov_deg < 180):
        raise AssertionError(f"focal_px {m.focal_px!r} (field of view {m.fov_deg!r} deg) let through")
    if m.sensor_mm is not None and not all(math.isfinite(s) and 0 < s < 1000 for s in m.sensor_mm):
        raise AssertionError(f"sensor {m.sensor_mm!r} let through")
    now = np.datetime64(dt.datetime.now(dt.timezone.utc).replace(tzinfo=None), "ns")
    for t in (m.start_utc, m.time_utc):
        if t is not None and not (t.dtype == np.dtype("datetime64[ns]") and EARLIEST_CAPTURE_UTC <= t
                                  <= now + LATEST_SLACK):
            raise AssertionError(f"capture time {t!r} let through")
    if not isinstance(m.notes, tuple):
        raise AssertionError(f"notes {m.notes!r} are not a tuple")
    for note in m.notes:
        _check_text(note, "note", MAX_NOTE)
    _check_text(m.time_source, "time source", MAX_NOTE)


def read_checked(path) -> tuple[PhotoMeta | None, int]:
    """Read `path` as a user's photograph (its pixels too when small) and check the contract; return (the
    PhotoMeta, None when refused; how many refusals: of the file, or of its pixels)."""
    try:
        m = read_photo(path)
    except CupolaError as exc:
        _check_refusal(exc)
        return None, 1
    check_meta(m)
    if m.width_px * m.height_px > MAX_DECODE_PIXELS:
        return m, 0
    try:
        rgb = load_pixels(path)
    except CupolaError as exc:
        _check_refusal(exc)
        return m, 1
    if not (isinstance(rgb, np.ndarray) and rgb.dtype == np.uint8 and rgb.shape == (m.height_px, m.width_px, 3)):
        raise AssertionError(f"load_pixels gave {getattr(rgb, 'dtype', rgb)!r} {getattr(rgb, 'shape', '')} for a "
                             f"{m.width_px}x{m.height_px} header")
    return m, 0

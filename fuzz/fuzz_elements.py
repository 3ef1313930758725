"""Coverage-guided fuzz target (atheris, libFuzzer) for the element-set and time parsers.

Every input is decoded as UTF-8 with ``surrogateescape`` (as Python decodes ``sys.argv``: bytes that are not
UTF-8 become lone surrogates) and given to each parser in turn: :func:`cupola.elements.parse_tle`,
:func:`cupola.elements.parse_omm` (which reads JSON, XML and CSV), :func:`cupola.elements.parse_element_sets`
(format detection) and :func:`cupola.timebase.to_utc64`; the raw bytes also go the way an element file's do
(the binary sniff, then UTF-8/UTF-16/Latin-1 decoding, then parse_element_sets). Each must return a value or raise its own error
(``ElementSetError``, ``TimeInputError``) with a message that starts lower-case, is at most a few lines and holds
no raw control character; anything else (another exception, a bad message, an epoch outside the supported range)
is a crash, which libFuzzer saves as ``crash-<sha1>`` under ``-artifact_prefix``.

Run (seeds from the committed corpus, copied so that libFuzzer's new inputs do not land in the repository):

    cp -r tests/fuzz_corpus /tmp/corpus
    python fuzz/fuzz_elements.py /tmp/corpus -atheris_runs=10000 -max_total_time=120 -artifact_prefix=/tmp/

``tests/test_fuzz_atheris.py`` runs it so in the suite (bounded in runs and time). The last line it prints is
``fuzz_elements: N inputs, M element sets parsed, K times read`` (one count per parser: every input reaches all
four).
"""

from __future__ import annotations

import atexit
import sys

import atheris

with atheris.instrument_imports(include=["cupola"]):
    import numpy as np

    from cupola.elements import parse_element_sets, parse_omm, parse_tle
    from cupola.elements.archive import _decode, _sniff
    from cupola.errors import ElementSetError, TimeInputError
    from cupola.timebase import EARLIEST_UTC, LATEST_UTC, to_utc64

# Bytes past this are cut: libFuzzer's -max_len bounds inputs too, this keeps one slow input from stalling a run.
MAX_INPUT_BYTES = 64 * 1024
# The longest message a bad input may give (TLE messages carry a template block of a few lines).
MAX_MESSAGE = 1_500
_COUNTS = {"inputs": 0, "sets": 0, "times": 0}


def _check_message(exc: Exception, text: str) -> None:
    message = str(exc)
    bad = [c for c in message if (ord(c) < 32 and c != "\n") or c == "\x7f" or "\u202a" <= c <= "\u202e"
           or "\u2066" <= c <= "\u2069" or "\ud800" <= c <= "\udfff"]
    if not message[:1].islower() or len(message) > MAX_MESSAGE or bad:
        raise AssertionError(f"bad message for input {text[:200]!r}: {message[:400]!r} (raw {bad[:5]!r})")


def _check_sets(parse, text: str) -> None:
    try:
        sets = parse(text)
    except ElementSetError as exc:
        _check_message(exc, text)
        return
    if not sets:
        raise AssertionError(f"{parse.__name__} returned no sets and no error for {text[:200]!r}")
    for s in sets:
        if not (EARLIEST_UTC <= s.epoch_utc <= LATEST_UTC and 0 <= s.satnum <= 339_999):
            raise AssertionError(f"{parse.__name__} let through epoch {s.epoch_utc} satnum {s.satnum}")
        try:
            s.satrec()
        except ElementSetError as exc:
            _check_message(exc, text)
    _COUNTS["sets"] += len(sets)


def _check_time(text: str) -> None:
    try:
        out = to_utc64(text)
    except TimeInputError as exc:
        _check_message(exc, text)
        return
    if out.dtype != np.dtype("datetime64[ns]") or out.shape != () or not EARLIEST_UTC <= out <= LATEST_UTC:
        raise AssertionError(f"to_utc64({text!r}) gave {out!r}")
    _COUNTS["times"] += 1


def _check_file_bytes(raw: bytes) -> None:
    """What an element file's bytes go through before the parsers: the binary sniff, then the decoding."""
    try:
        _sniff(raw[:64 * 1024], "the element file 'fuzz'")
    except ElementSetError as exc:
        _check_message(exc, repr(raw[:200]))
        return
    _check_sets(parse_element_sets, _decode(raw))


def test_one_input(data: bytes) -> None:
    raw = data[:MAX_INPUT_BYTES]
    text = raw.decode("utf-8", "surrogateescape")
    _COUNTS["inputs"] += 1
    for parse in (parse_tle, parse_omm, parse_element_sets):
        _check_sets(parse, text)
    _check_time(text)
    _check_file_bytes(raw)


def _report() -> None:
    sys.stderr.write(f"fuzz_elements: {_COUNTS['inputs']} inputs, {_COUNTS['sets']} element sets parsed, "
                     f"{_COUNTS['times']} times read\n")
    sys.stderr.flush()


def main(argv: list[str]) -> None:
    atexit.register(_report)
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)

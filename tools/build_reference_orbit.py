"""Build tests/reference/orbit_skyfield.json: independent reference values from skyfield.

For every ISS element set bundled with cupola (src/cupola/data/iss_tles.txt), skyfield's
``EarthSatellite`` (sgp4 underneath) gives, at instants from -0.5 to +0.5 day around the epoch:
TEME position, WGS84 latitude/longitude/height (``wgs84.latlon_of``/``height_of``), and
``is_sunlit`` with JPL DE421 (from the ``skyfield-data`` package). Orbital sunrise/sunset
instants come from skyfield's ``find_discrete`` on ``is_sunlit`` over two seed windows. The Sun's
elevation at the ground point uses skyfield's astrometric Sun seen from that WGS84 point.

The file records the library versions. Rebuild (about a minute):

    .venv/bin/python tools/build_reference_orbit.py
"""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

import numpy as np
import sgp4
import skyfield
from skyfield.api import EarthSatellite, load, load_file, wgs84
from skyfield.searchlib import find_discrete
from skyfield.sgp4lib import TEME
from skyfield_data import get_skyfield_data_path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "reference" / "orbit_skyfield.json"
OFFSETS_DAYS = [-0.5, -0.31, -0.17, -0.05, 0.0, 0.013, 0.09, 0.21, 0.37, 0.5]


def read_sets(path: Path):
    """Return (name, line1, line2) for each set; the legacy '+' signs become spaces for sgp4."""
    lines = [ln.rstrip("\n") for ln in path.read_text().splitlines()]
    out = []
    for i, ln in enumerate(lines):
        if ln.startswith("1 ") and i + 1 < len(lines) and lines[i + 1].startswith("2 "):
            out.append((ln, lines[i + 1]))
    return out


def main() -> None:
    ts = load.timescale(builtin=True)
    eph = load_file(os.path.join(get_skyfield_data_path(), "de421.bsp"))
    sun, earth = eph["sun"], eph["earth"]
    rows = []
    for l1, l2 in read_sets(ROOT / "src" / "cupola" / "data" / "iss_tles.txt"):
        sat = EarthSatellite(l1.replace("+", " "), l2.replace("+", " "), "ISS", ts)
        ep = sat.epoch
        t = ts.tt_jd(ep.whole, ep.tt_fraction + np.array(OFFSETS_DAYS))
        geo = sat.at(t)
        r_teme = geo.frame_xyz(TEME).km.T
        ll = wgs84.latlon_of(geo)
        h = wgs84.height_of(geo).km
        lit = geo.is_sunlit(eph)
        # Sun elevation at the ground point below (astrometric, no refraction).
        elev = []
        for k in range(len(OFFSETS_DAYS)):
            gp = wgs84.latlon(ll[0].degrees[k], ll[1].degrees[k])
            alt, _, _ = (earth + gp).at(t[k]).observe(sun).apparent().altaz()
            elev.append(alt.degrees)
        utc = t.utc_strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        for k in range(len(OFFSETS_DAYS)):
            rows.append(
                {
                    "line1": l1,
                    "line2": l2,
                    "t_utc": utc[k],
                    "r_teme_km": [float(x) for x in r_teme[k]],
                    "lat_deg": float(ll[0].degrees[k]),
                    "lon_deg": float(ll[1].degrees[k]),
                    "alt_km": float(h[k]),
                    "sunlit": bool(lit[k]),
                    "sun_elevation_deg": float(elev[k]),
                }
            )

    events = []
    for l1, l2, start, end in [
        (*read_sets(ROOT / "src/cupola/data/iss_tles.txt")[-1], (2024, 1, 22, 0), (2024, 1, 23, 12)),
        (*[s for s in read_sets(ROOT / "src/cupola/data/iss_tles.txt") if " 21122." in s[0]][0],
         (2021, 5, 2, 0), (2021, 5, 3, 0)),
    ]:
        sat = EarthSatellite(l1, l2, "ISS", ts)

        def lit(t, sat=sat):
            return sat.at(t).is_sunlit(eph)

        lit.step_days = 60.0 / 86400.0
        t, v = find_discrete(ts.utc(*start), ts.utc(*end), lit, epsilon=0.001 / 86400.0)
        events.append(
            {
                "line1": l1,
                "line2": l2,
                "start_utc": ts.utc(*start).utc_strftime("%Y-%m-%dT%H:%M:%SZ"),
                "end_utc": ts.utc(*end).utc_strftime("%Y-%m-%dT%H:%M:%SZ"),
                "t_utc": list(t.utc_strftime("%Y-%m-%dT%H:%M:%S.%fZ")),
                "sunrise": [bool(x) for x in v],
            }
        )

    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {
                "provenance": {
                    "script": "tools/build_reference_orbit.py",
                    "skyfield": skyfield.__version__,
                    "sgp4": sgp4.__version__,
                    "numpy": np.__version__,
                    "python": sys.version.split()[0],
                    "platform": platform.platform(),
                    "ephemeris": "de421.bsp from skyfield-data",
                    "timescale": "skyfield load.timescale(builtin=True)",
                },
                "states": rows,
                "sun_events": events,
            },
            indent=1,
        )
    )
    print(f"wrote {len(rows)} states and {sum(len(e['t_utc']) for e in events)} events to {OUT}")


if __name__ == "__main__":
    main()

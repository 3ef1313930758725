"""The main job on the bundled defaults: the two seed stories, answered with `cupola where`."""

from __future__ import annotations

import numpy as np

from .cli import format_where
from .geo.caption import FAR_KM, OFF_COAST_KM
from .geo.places import locate
from .lighting import DARK_GROUND_SUN_ELEV_DEG, sun_elevation_deg
from .orbit import Satellite
from .search import Predicate, windows
from .timebase import iso_utc
from .where import where

# Seed 1: "258 miles above the Pacific Ocean northeast of Papua New Guinea" (posted 2024-02,
# bundled sets 2024-01-18..23). Seed 2: Thomas Pesquet's aurora at orbital sunrise while
# Crew-1 re-entered, 2021-05-02 06:30-06:56 UTC.
SEED1_SPAN = ("2024-01-18T00:00:00Z", "2024-01-24T00:00:00Z")
SEED2_SPAN = ("2021-05-02T06:30:00Z", "2021-05-02T06:56:00Z")


def night_northeast_of_png(sat: Satellite) -> Predicate:
    """Return a predicate: the ISS over the sea north-east of Papua New Guinea (as the caption
    would say it), in the Earth's shadow, with the ground below dark."""

    def pred(t):
        st = sat.at(t)
        elev = sun_elevation_deg(st.lat_deg, st.lon_deg, st.sun_teme_km, st.instants)
        pl = locate(st.lat_deg, st.lon_deg)
        # What the caption would phrase as "..., northeast of Papua New Guinea".
        where_ok = (~pl.over_land & (pl.near_land == "Papua New Guinea") & (pl.near_bearing == "NE")
                    & (pl.near_distance_km > OFF_COAST_KM) & (pl.near_distance_km < FAR_KM))
        return where_ok & ~st.sunlit & (elev < DARK_GROUND_SUN_ELEV_DEG)

    # The ISS crosses that sea in a few minutes: a 20 s step cannot skip a pass.
    return Predicate(pred, 20.0, "ISS at night north-east of Papua New Guinea")


def run_demo(lang: str = "en", out=None) -> int:
    import sys

    out = out or sys.stdout
    sat = Satellite.from_archive()
    print("== Seed 1: airglow over the Pacific north-east of Papua New Guinea (January 2024) ==", file=out)
    found = windows(night_northeast_of_png(sat), *SEED1_SPAN, tol_s=1.0)
    print(f"{len(found)} night passes over that sea between {SEED1_SPAN[0]} and {SEED1_SPAN[1]}:", file=out)
    for a, b in found:
        print(f"  {iso_utc(a)} .. {iso_utc(b)}", file=out)
    if found:
        a, b = found[0]
        mid = a + (b - a) // 2
        mid = mid.astype("datetime64[s]").astype("datetime64[ns]")
        print(format_where(where(sat, mid, lang), lang), file=out)
    print(file=out)
    print("== Seed 2: aurora and orbital sunrise as Crew-1 re-entered (2021-05-02) ==", file=out)
    t0 = np.datetime64(SEED2_SPAN[0][:-1], "ns")
    for minute in range(0, 27, 13):
        t = t0 + np.timedelta64(minute * 60, "s")
        print(format_where(where(sat, t, lang), lang), file=out)
    return 0

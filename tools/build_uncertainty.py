"""Measure how far an ISS element set's prediction drifts with its age, and fit the estimate cupola states.

For every ordered pair of bundled ISS element sets (i, j) less than MAX_AGE_DAYS apart, set i is
propagated with SGP4 (python-sgp4's ``Satrec``, called directly: nothing of cupola's orbit code)
to the epoch of set j and compared with set j at its own epoch, the freshest estimate of where
the station really was. The distance is the error of a set `age` = epoch_j - epoch_i days old.
The errors are binned by |age|; the 90th percentile of each bin (made non-decreasing with age)
at the bin's median age is the estimate cupola states, interpolated linearly in log(age) and
log(error) between the bins, S0_KM at age 0, and capped at the orbit's diameter (~13,600 km:
further out the prediction is simply anywhere on the orbit). A set is then good to ~sigma 9 times
in 10. For the record the script also fits sigma = S0 + K (age/day)^P to the same points (least
squares in log space over bins of at least MIN_BIN_PAIRS pairs below FIT_MAX_KM): P ~ 2.5. The 90th percentile includes the ISS's
reboosts (2017-03-02/03, 04-02/04, 04-26/28), after which an older set is simply wrong; that is
part of what the age of a set means. Set j's own error at its epoch (~1 km, Vallado et al. 2006)
is the floor S0_KM.

Data: the bundled history ``src/cupola/data/iss_tles.txt`` (public TLEs; sources in the file):
2017-01..06 (daily), 2021-05-01/02, 2024-01-18..23. Writes
``src/cupola/data/elements_uncertainty.json`` (the fit, the table, the library versions) and
``docs/elements_uncertainty.md`` (the table as Markdown, for the README).

    .venv/bin/python tools/build_uncertainty.py
"""

from __future__ import annotations

import json
import math
from importlib.metadata import version
from pathlib import Path

import numpy as np
from sgp4.api import Satrec, jday

ROOT = Path(__file__).resolve().parents[1]
TLE_FILE = ROOT / "src" / "cupola" / "data" / "iss_tles.txt"
OUT_JSON = ROOT / "src" / "cupola" / "data" / "elements_uncertainty.json"
OUT_MD = ROOT / "docs" / "elements_uncertainty.md"
MAX_AGE_DAYS = 120.0
BIN_EDGES_DAYS = (0.0, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 14.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0)
MIN_BIN_PAIRS = 20
PERCENTILE = 90.0
S0_KM = 1.0
FIT_MAX_KM = 3000.0
CAP_KM = 2.0 * (6378.137 + 420.0)  # the orbit's diameter: a prediction cannot be further off


def read_sets(path: Path):
    """Return (epoch JD, Satrec) of each set in the file, sorted by epoch, duplicates dropped."""
    lines = [ln.rstrip("\n") for ln in path.read_text(encoding="utf-8").splitlines()]
    out = {}
    for k, ln in enumerate(lines):
        if ln.startswith("1 ") and k + 1 < len(lines) and lines[k + 1].startswith("2 "):
            # The bundled file has the legacy '+'-signed variant for 2017: sgp4 reads it as is.
            rec = Satrec.twoline2rv(ln, lines[k + 1])
            out.setdefault(round(rec.jdsatepoch + rec.jdsatepochF, 9), rec)
    return sorted(out.items())


def pair_errors(sets):
    """Return (age days, error km) for every ordered pair closer than MAX_AGE_DAYS."""
    ages, errs = [], []
    for ej, rj in sets:
        e, r_true, _ = rj.sgp4(rj.jdsatepoch, rj.jdsatepochF)
        if e:
            continue
        for ei, ri in sets:
            age = ej - ei
            if ei == ej or abs(age) > MAX_AGE_DAYS:
                continue
            e, r, _ = ri.sgp4(rj.jdsatepoch, rj.jdsatepochF)
            if e:
                continue
            ages.append(age)
            errs.append(float(np.linalg.norm(np.subtract(r, r_true))))
    return np.array(ages), np.array(errs)


def table(ages, errs):
    rows = []
    a = np.abs(ages)
    for lo, hi in zip(BIN_EDGES_DAYS[:-1], BIN_EDGES_DAYS[1:]):
        sel = (a > lo) & (a <= hi)
        if sel.sum() == 0:
            continue
        e = errs[sel]
        rows.append({"age_min_days": lo, "age_max_days": hi, "pairs": int(sel.sum()),
                     "age_median_days": float(np.median(a[sel])), "median_km": float(np.median(e)),
                     "p90_km": float(np.percentile(e, PERCENTILE)), "max_km": float(e.max())})
    return rows


def fit(rows):
    """Fit log(p90 - S0) = log K + P log(age) over well-filled bins."""
    use = [r for r in rows if r["pairs"] >= MIN_BIN_PAIRS and S0_KM < r["p90_km"] < FIT_MAX_KM]
    x = np.log([r["age_median_days"] for r in use])
    y = np.log([r["p90_km"] - S0_KM for r in use])
    p, logk = np.polyfit(x, y, 1)
    return {"s0_km": S0_KM, "k_km": float(math.exp(logk)), "p": float(p)}


def nodes(rows):
    """Return the estimate's nodes (age days, sigma km): (0, S0), then each filled bin's median
    age and its 90th percentile, made non-decreasing."""
    use = [r for r in rows if r["pairs"] >= MIN_BIN_PAIRS]
    sig = np.maximum.accumulate([max(r["p90_km"], S0_KM) for r in use])
    return [[0.0, S0_KM]] + [[r["age_median_days"], float(v)] for r, v in zip(use, sig)]


def estimate(node_list, cap_km, age_days):
    """sigma at `age_days` (the same interpolation as cupola.elements.uncertainty)."""
    a = np.abs(np.asarray(age_days, float))
    ages = np.array([n[0] for n in node_list])
    sig = np.array([n[1] for n in node_list])
    first = np.interp(a, ages[:2], sig[:2])  # linear from age 0 to the first bin
    logv = np.exp(np.interp(np.log(np.maximum(a, ages[1])), np.log(ages[1:]), np.log(sig[1:]),
                            right=np.log(cap_km)))
    return np.minimum(np.where(a < ages[1], first, logv), cap_km)


def age_at(node_list, cap_km, sigma_km):
    grid = np.linspace(0.0, MAX_AGE_DAYS, 120_001)
    return float(grid[np.argmax(estimate(node_list, cap_km, grid) > sigma_km)])


def main() -> None:
    sets = read_sets(TLE_FILE)
    ages, errs = pair_errors(sets)
    rows = table(ages, errs)
    model = fit(rows)
    node_list = nodes(rows)
    cap = CAP_KM
    for r in rows:
        r["estimate_km"] = float(estimate(node_list, cap, r["age_median_days"]))
    covered = float(np.mean(errs <= estimate(node_list, cap, ages)))
    doc = {
        "description": "position error of an ISS element set propagated with SGP4 against its age: "
                       "the 90th percentile per age bin, interpolated in log-log (nodes), capped",
        "nodes_age_days_sigma_km": node_list,
        "cap_km": cap,
        "power_law_fit": model,
        "share_of_pairs_within_estimate": covered,
        "sets": len(sets), "pairs": int(ages.size), "max_age_days": MAX_AGE_DAYS,
        "table": rows,
        "source": "src/cupola/data/iss_tles.txt (bundled public ISS TLEs); tools/build_uncertainty.py",
        "libraries": {"sgp4": version("sgp4"), "numpy": version("numpy")},
    }
    OUT_JSON.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    lines = [
        "| set age | pairs | median error | 90th percentile | largest | cupola's estimate |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['age_min_days']:g}–{r['age_max_days']:g} d | {r['pairs']} | {r['median_km']:,.1f} km | "
                     f"{r['p90_km']:,.1f} km | {r['max_km']:,.0f} km | {r['estimate_km']:,.1f} km |")
    lines.append("")
    lines.append(f"{100 * covered:.0f} % of the {ages.size:,} pairs fall within the estimate; it reaches 10 km at "
                 f"{age_at(node_list, cap, 10.0):.2f} days, 100 km at {age_at(node_list, cap, 100.0):.2f} days "
                 f"(cupola refuses older sets unless asked), 1,000 km at {age_at(node_list, cap, 1000.0):.1f} days. "
                 f"A power law through the same points: sigma = {model['s0_km']:g} km + {model['k_km']:.3g} km x "
                 f"(age/day)^{model['p']:.3g}.")
    OUT_MD.write_text("# Element-set age and position error (ISS, bundled history)\n\n"
                      "Made by `tools/build_uncertainty.py` (see its docstring for the method).\n\n"
                      + "\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

"""Rebuild ``tests/fuzz_corpus/``: the seed inputs of the atheris target ``fuzz/fuzz_elements.py``.

Run ``python tools/build_fuzz_corpus.py`` from the repository root. The seeds are the shapes the parsers read,
taken from data already in the repository (so they carry its provenance): from ``src/cupola/data/iss_tles.txt``
(the bundled ISS history, public Space-Track/CelesTrak sets) its first and last 3-line sets, one legacy '+'-signed
set and one 2-line set; from ``tests/data/elements/`` the OMM JSON (array and one object), NDM/XML and CSV of
three sets and the 5-satellite group file; and times written the ways ``cupola.timebase.to_utc64`` reads
(Z, offsets, nine decimals, a leap second, ' UTC', the edges of the supported range). Each seed is one file.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "fuzz_corpus"
ELEMENTS = ROOT / "tests" / "data" / "elements"

TIMES = [
    "2024-01-22T13:05:00Z", "2021-05-02T08:45:00+02:00", "2017-01-01T00:00:00.123456789z", "2016-12-31T23:59:60Z",
    "2024-01-22 13:05:00 UTC", "1678-01-01T00:00:00Z", "2261-12-31T23:59:59.999999999Z", "2024-W04-1T00:00Z",
]


def _sets(lines: list[str]) -> list[list[str]]:
    """Return the 3-line sets (name, line 1, line 2) of the bundled file, comments dropped."""
    body = [line for line in lines if line and not line.startswith("#")]
    return [body[i : i + 3] for i in range(0, len(body) - 2, 3)]


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    sets = _sets((ROOT / "src" / "cupola" / "data" / "iss_tles.txt").read_text(encoding="utf-8").splitlines())
    legacy = next(s for s in sets if "+" in s[1])
    seeds = {
        "tle_first.txt": "\n".join(sets[0]) + "\n",
        "tle_last.txt": "\n".join(sets[-1]) + "\n",
        "tle_legacy_plus.txt": "\n".join(legacy) + "\n",
        "tle_two_line_crlf.txt": "\r\n".join(sets[1][1:]) + "\r\n",
        "tle_group.txt": (ELEMENTS / "derived_group.tle").read_text(encoding="utf-8"),
        "omm_array.json": (ELEMENTS / "iss_omm.json").read_text(encoding="utf-8"),
        "omm_object.json": json.dumps(json.loads((ELEMENTS / "iss_omm.json").read_text(encoding="utf-8"))[0]),
        "omm.xml": (ELEMENTS / "iss_omm.xml").read_text(encoding="utf-8"),
        "omm.csv": (ELEMENTS / "iss_omm.csv").read_text(encoding="utf-8"),
    }
    seeds.update({f"time_{i}.txt": t for i, t in enumerate(TIMES)})
    for name, text in seeds.items():
        (OUT / name).write_bytes(text.encode("utf-8"))
    print(f"wrote {len(seeds)} seeds to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

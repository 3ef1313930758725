"""Words for the `where` answer's "in view" part, in English and French (the CLI prints them)."""

from __future__ import annotations

COMPASS_EN = ("north", "northeast", "east", "southeast", "south", "southwest", "west", "northwest")
COMPASS_FR = ("nord", "nord-est", "est", "sud-est", "sud", "sud-ouest", "ouest", "nord-ouest")
MOON_PHASE_FR = {
    "new": "nouvelle lune", "waxing crescent": "premier croissant", "first quarter": "premier quartier",
    "waxing gibbous": "gibbeuse croissante", "full": "pleine lune", "waning gibbous": "gibbeuse décroissante",
    "last quarter": "dernier quartier", "waning crescent": "dernier croissant",
}
PLANET_FR = {"Mercury": "Mercure", "Venus": "Vénus", "Mars": "Mars", "Jupiter": "Jupiter", "Saturn": "Saturne"}
AIRGLOW_NAMES = {
    "en": {"oh": "OH", "na": "Na", "oi_green": "OI green", "oi_red": "OI red"},
    "fr": {"oh": "OH", "na": "Na", "oi_green": "OI vert", "oi_red": "OI rouge"},
}
COLOUR_FR = {"green": "vert", "red": "rouge", "blue-violet": "bleu-violet"}

LABELS = {
    "en": {"sky": "sky", "airglow": "airglow", "aurora": "aurora", "cities": "cities"},
    "fr": {"sky": "ciel", "airglow": "luminescence", "aurora": "aurore", "cities": "villes"},
}


def _n(x: float, lang: str, digits: int = 0) -> str:
    """Format a number with thousands separators (narrow no-break space and comma in French)."""
    text = f"{x:,.{digits}f}"
    if lang == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def compass(az_deg: float, lang: str) -> str:
    """Return the 8-point compass word for an azimuth."""
    k = int(((az_deg % 360.0) + 22.5) // 45.0) % 8
    return (COMPASS_FR if lang == "fr" else COMPASS_EN)[k]


def in_view_lines(in_view: dict, lang: str) -> list[tuple[str, str]]:
    """Return (label, text) lines describing `in_view` (the JSON object) in `lang`."""
    fr = lang == "fr"
    L = LABELS[lang]
    sep = " ; " if fr else "; "
    out = []

    sky = []
    n = in_view["stars_visible"]
    mag = _n(in_view["star_mag_limit"], lang, 0)
    sky.append(f"{_n(n, lang)} étoiles plus brillantes que la magnitude {mag} au-dessus du limbe" if fr
               else f"{_n(n, lang)} stars brighter than magnitude {mag} above the limb")
    moon = in_view["moon"]
    lit = _n(100 * (moon["illuminated_fraction"] or 0), lang)
    if fr:
        phase = MOON_PHASE_FR.get(moon["phase_name"], moon["phase_name"])
        where_ = f"az {_n(moon['azimuth_deg'], lang)}°" if moon["visible"] else "cachée par la Terre"
        sky.append(f"Lune ({phase}, éclairée à {lit} %) {where_}")
    else:
        where_ = f"az {_n(moon['azimuth_deg'], lang)}°" if moon["visible"] else "hidden by the Earth"
        sky.append(f"Moon ({moon['phase_name']}, {lit}% lit) {where_}")
    planets = [p for p in in_view["planets"] if p["visible"]]
    if planets:
        names = ", ".join(
            f"{PLANET_FR.get(p['name'], p['name']) if fr else p['name']} (az {_n(p['azimuth_deg'], lang)}°)" for p in planets
        )
        sky.append(("planètes : " if fr else "planets: ") + names)
    out.append((L["sky"], sep.join(sky)))

    glow = [a for a in in_view["airglow"] if a["visible"]]
    names = AIRGLOW_NAMES[lang]
    if glow:
        layers = ", ".join(f"{names.get(a['name'], a['name'])} {_n(a['height_km'], lang)} km" for a in glow)
        text = (f"visibles sur le limbe : {layers}" if fr else f"visible on the limb: {layers}")
    else:
        why = in_view["airglow"][0]["note"] if in_view["airglow"] else ""
        text = (f"non visible ({why})" if fr else f"not visible ({why})")
    out.append((L["airglow"], text))

    a = in_view["aurora"]
    if a["kp"] is None:
        out.append((L["aurora"], "Kp inconnu pour cette date : pas de réponse pour l'aurore (--kp N)" if fr
                    else "Kp unknown for this date: no aurora answer (pass --kp N)"))
        return out + _city_lines(in_view, lang)
    source = {"en": {"observed": "observed", "predicted": "predicted", "given": "given"},
              "fr": {"observed": "observé", "predicted": "prévision", "given": "imposé"}}[lang]
    kp = f"Kp {a['kp_symbol']} ({source.get(a['kp_source'], a['kp_source'])})"
    if a["visible"]:
        d = compass(a["azimuth_deg"], lang)
        em = ", ".join(
            f"{COLOUR_FR.get(e['colour'], e['colour']) if fr else e['colour']} {_n(e['wavelength_nm'], lang, 1)} nm"
            for e in a["emissions"] if e.get("in_view", True)
        )
        dist = _n(a["distance_km"], lang)
        text = (f"{kp} : aurore en vue vers le {d} (az {_n(a['azimuth_deg'], lang)}°, ovale à {dist} km) ; {em}" if fr
                else f"{kp}: aurora in view to the {d} (az {_n(a['azimuth_deg'], lang)}°, oval {dist} km away); {em}")
    else:
        dist = _n(a["distance_km"], lang) if a["distance_km"] is not None else "?"
        text = (f"{kp} : pas d'aurore en vue (ovale à {dist} km)" if fr
                else f"{kp}: no aurora in view (oval {dist} km away)")
    out.append((L["aurora"], text))
    return out + _city_lines(in_view, lang)


def _city_lines(in_view: dict, lang: str) -> list[tuple[str, str]]:
    fr = lang == "fr"
    cities = in_view["cities"][:5]
    if cities:
        text = ", ".join(f"{c['name']} ({compass(c['azimuth_deg'], lang)}, {_n(c['distance_km'], lang)} km)" for c in cities)
    else:
        text = "aucune ville éclairée en vue" if fr else "no lit city in view"
    return [(LABELS[lang]["cities"], text)]

"""The ``where`` and ``annotate`` answers as lines of text, in English or French, built from their
JSON objects (so the text and the JSON cannot disagree)."""

from __future__ import annotations

from ..timebase import seconds_between, to_utc64
from .i18n import (ANNOTATE_LABELS, TIME_PARTS, TRACKING_NOTES, AIRGLOW_NAMES, COLOURS, KP_SOURCES, LABELS, MOON_PHASES, PLANETS, check_lang, compass,
                   days_word_fr, duration, latlon, number, separator)


def in_view_lines(in_view: dict, lang: str, hints: dict | None = None) -> list[tuple[str, str]]:
    """Return (label, text) lines describing the ``in_view`` object in `lang`; `hints` maps a
    warning code to what a front end adds after it (``{'kp_unknown': 'pass --kp N'}``)."""
    L = LABELS[lang]
    hints = hints or {}
    sep = separator(lang)
    sky = [L["stars"].format(n=number(in_view["stars_visible"], lang), mag=number(in_view["star_mag_limit"], lang))]
    moon = in_view["moon"]
    lit = number(100 * (moon["illuminated_fraction"] or 0), lang)
    phase = MOON_PHASES.get(lang, {}).get(moon["phase_name"], moon["phase_name"])
    where = f"az {number(moon['azimuth_deg'], lang)}°" if moon["visible"] else L["moon_hidden"]
    sky.append(L["moon"].format(phase=phase, lit=lit, where=where))
    planets = [p for p in in_view["planets"] if p["visible"]]
    if planets:
        names = PLANETS.get(lang, {})
        sky.append(L["planets"] + ", ".join(f"{names.get(p['name'], p['name'])} (az {number(p['azimuth_deg'], lang)}°)"
                                            for p in planets))
    out = [(L["sky"], sep.join(sky))]

    glow = [a for a in in_view["airglow"] if a["visible"]]
    if glow:
        layers = ", ".join(f"{AIRGLOW_NAMES[lang].get(a['name'], a['name'])} {number(a['height_km'], lang)} km"
                           for a in glow)
        out.append((L["airglow"], L["glow_visible"].format(layers=layers)))
    else:
        why = in_view["airglow"][0]["note"] if in_view["airglow"] else ""
        out.append((L["airglow"], L["glow_hidden"].format(why=why)))

    a = in_view["aurora"]
    if a["kp"] is None:
        hint = hints.get("kp_unknown")
        out.append((L["aurora"], L["kp_unknown"] + (f" ({hint})" if hint else "")))
    else:
        kp = f"Kp {a['kp_symbol']} ({KP_SOURCES[lang].get(a['kp_source'], a['kp_source'])})"
        dist = number(a["distance_km"], lang) if a["distance_km"] is not None else "?"
        if a["visible"]:
            colours = COLOURS.get(lang, {})
            lines = ", ".join(f"{colours.get(e['colour'], e['colour'])} {number(e['wavelength_nm'], lang, 1)} nm"
                              for e in a["emissions"] if e.get("in_view", True))
            text = L["aurora_seen"].format(kp=kp, dir=compass(a["azimuth_deg"], lang),
                                           az=number(a["azimuth_deg"], lang), dist=dist, lines=lines)
        else:
            text = L["aurora_none"].format(kp=kp, dist=dist)
        out.append((L["aurora"], text))

    # The five brightest (population / range^2), listed nearest first: the distances shown read in order.
    cities = sorted(in_view["cities"][:5], key=lambda c: c["distance_km"])
    text = ", ".join(L["city"].format(name=c["name"], dir=compass(c["azimuth_deg"], lang),
                                      dist=number(c["distance_km"], lang)) for c in cities) or L["no_city"]
    out.append((L["cities"], text))
    return out


def where_text(answer: dict, lang: str | None = None, hints: dict | None = None) -> str:
    """Return the human block of a ``where`` answer (:func:`cupola.answers.where_json`).

    Args:
        hints: maps a warning code to what the front end adds after its message, e.g. the
            command line's ``{'stale_elements': 'pass --tle FILE', 'kp_unknown': 'pass --kp N'}``.
    """
    lang = check_lang(lang or answer["lang"])
    hints = hints or {}
    L = LABELS[lang]
    sep = separator(lang)
    lines = [f"{answer['time_utc']}  {answer['satellite']}", f"  {answer['caption']}"]
    alt = f"{number(answer['alt_km'], lang, 1)} km ({number(answer['alt_mi'], lang, 1)} {L['miles']})"
    lines.append(f"  {L['position']:<12} {latlon(answer['lat_deg'], answer['lon_deg'], lang)}, {L['altitude']} {alt}")
    light = L["sunlit"] if answer["sunlit"] else L["shadow"]
    elev = number(answer["sun_elevation_deg"], lang, 1, sign=True)
    lines.append(f"  {L['lighting']:<12} {light}{sep}{L['ground_sun'].format(elev=elev)}")
    t0 = to_utc64(answer["time_utc"])
    nxt = []
    for key, t in (("sunrise", answer["next_orbital_sunrise_utc"]), ("sunset", answer["next_orbital_sunset_utc"])):
        if t:
            dt = float(seconds_between(t0, to_utc64(t)))
            nxt.append((dt, L[key].format(t=t, d=duration(dt))))
    if nxt:
        lines.append(f"  {L['next']:<12} " + sep.join(text for _, text in sorted(nxt)))
    for label, text in in_view_lines(answer["in_view"], lang, hints):
        lines.append(f"  {label:<12} {text}")
    age_days = answer["tle_age_days"]
    age = L["age_before" if age_days >= 0 else "age_after"].format(d=number(abs(age_days), lang, 2),
                                                                   day=days_word_fr(age_days))
    unc = answer["position_uncertainty_km"]
    lines.append(f"  {L['elements']:<12} " + L["epoch"].format(name=answer["satellite"], epoch=answer["tle_epoch_utc"],
                                                              age=age, unc=number(unc, lang, 0 if unc >= 10 else 1)))
    for w in answer["warnings"]:
        hint = hints.get(w["code"])
        lines.append(f"  {L['warning']}: {w['message']}" + (f" ({hint})" if hint else ""))
    return "\n".join(lines)


def _exposure_text(seconds) -> str:
    """Return '1/2 s' for 1/N exposures, else '2.5 s' (the camera's own way of writing them)."""
    s = float(seconds)
    if s < 1.0 and abs(1.0 / s - round(1.0 / s)) < 1e-6 * (1.0 / s):
        return f"1/{round(1.0 / s)} s"
    return f"{s:g} s"


def _photo_line(answer: dict, lang: str) -> str:
    p = answer["photo"]
    parts = [p["camera_model"] or "?"]
    if p["focal_mm"] is not None:
        parts.append(f"{number(p['focal_mm'], lang, 0 if float(p['focal_mm']).is_integer() else 1)} mm")
    if p["f_number"] is not None:
        parts.append(f"f/{number(p['f_number'], lang, 1)}")
    if p["exposure_s"] is not None:
        parts.append(_exposure_text(p["exposure_s"]))
    if p["iso"] is not None:
        parts.append(f"ISO {p['iso']}")
    name = p["path"].replace("\\", "/").rsplit("/", 1)[-1]
    return f"{name}  {' '.join(parts)}, {p['width_px']}x{p['height_px']}"


def _pointing_text(pt: dict, lang: str) -> str:
    A = ANNOTATE_LABELS[lang]
    if pt["solved"]:
        return A["solved"].format(ra=number(pt["ra_deg"], lang, 3), dec=number(pt["dec_deg"], lang, 3, sign=True),
                                  roll=number(pt["roll_deg"], lang, 1), fov=number(pt["fov_deg"], lang, 2),
                                  fov_v=number(pt["fov_v_deg"], lang, 2), n=pt["matched_stars"],
                                  rms=number(pt["rms_arcsec"], lang, 0))
    if pt["source"] == "look":
        return A["look"].format(look=pt["look"], why=pt["reason"])
    return A["unsolved"].format(why=pt["reason"])


def time_source_text(parts, lang: str = "en") -> str:
    """Return where a photograph's time came from, in `lang`, from its (code, value) parts
    (:attr:`cupola.photo.metadata.PhotoMeta.time_parts`, the JSON's ``time_source_parts``)."""
    lang = check_lang(lang)
    T = TIME_PARTS[lang]
    words = []
    for code, value in parts:
        if code == "unknown":
            words.append(T["unknown"][value])
        elif code == "clock":
            c = float(value)
            words.append(T["clock"].format(signed=number(c, lang, 3, sign=True), abs=number(abs(c), lang, 3),
                                           way=T["behind"] if c > 0 else T["ahead"]))
        elif code == "mid":
            words.append(T["mid"].format(v=number(float(value), lang, 6).rstrip("0").rstrip(".,")))
        else:
            words.append(T[code].format(v=value))
    return ", ".join(words)


def tracking_note(detail: dict, lang: str = "en") -> str:
    """Return the tracking verdict's reason in `lang` from its numbers (``Tracking.detail``, the
    JSON's ``tracking_detail``): what was measured, what the station's rotation predicts, and why
    the verdict follows."""
    lang = check_lang(lang)
    T = TRACKING_NOTES[lang]
    code = detail["code"]

    def n(key, digits=1):
        return _num_or_q(detail.get(key), lang, digits)

    exp = _exposure_text(detail["exposure_s"]) if _finite(detail.get("exposure_s")) else "?"
    v = dict(exp=exp, atmost=T["at_most"] if detail.get("bound") else "", pred=n("predicted_px", 2 if code == "short"
                                                                                   else 1),
             rate=n("rate_deg_min", 2), limit=n("limit_px"), width=n("width_px"), meas=n("measured_px"),
             angle=n("measured_angle_deg", 0), pangle=n("predicted_angle_deg", 0), off=n("off_deg", 0),
             n=detail.get("n_stars", 0), min=detail.get("min_stars", 3))
    if code in ("unknown_exposure", "unknown_focal", "few_stars"):
        return T[code].format(**v)
    if code == "short":
        return T["short"].format(**v) + (T["elongated"].format(**v) if detail.get("elongated") else "")
    text = T["numbers"].format(**v)
    if code == "untracked":
        if detail.get("bound"):
            return text + T["no_direction"]
        return text + T["direction"].format(**v) + (T["odd_direction"] if (detail.get("off_deg") or 0) > 30.0 else "")
    return text + (T["bound_only"] if detail.get("bound") else "")


def _finite(x) -> bool:
    return x is not None and x == x and abs(x) != float("inf")


def annotate_summary(answer: dict, lang: str | None = None) -> list[str]:
    """Return three lines for an overlay's legend: the photo and its time, the caption (or why there
    is none), the pointing."""
    lang = check_lang(lang or answer["lang"])
    A = ANNOTATE_LABELS[lang]
    when = answer["time_utc"] or A["no_time"]
    first = f"{when}  {_photo_line(answer, lang)}"
    second = answer["caption"] or (answer["elements_note"] or "").split(": ", 1)[0]  # the note's first clause
    pt = answer["pointing"]
    if pt["solved"]:
        third = A["summary_pointing"].format(ra=number(pt["ra_deg"], lang, 2), dec=number(pt["dec_deg"], lang, 2,
                                                                                          sign=True),
                                             roll=number(pt["roll_deg"], lang, 1), fov=number(pt["fov_deg"], lang, 1),
                                             n=pt["matched_stars"], rms=number(pt["rms_arcsec"], lang, 0))
        if answer["tracking"]:
            third += f"{separator(lang)}{A['verdict'][answer['tracking']]}"
    else:
        third = _pointing_text(pt, lang) if pt["source"] == "look" else A["summary_unsolved"].format(why=pt["reason"])
    return [first, second, third]


def annotate_text(answer: dict, lang: str | None = None, hints: dict | None = None) -> str:
    """Return the human block of an ``annotate`` answer (:func:`cupola.answers.json.annotate_json`).

    Args:
        hints: maps a warning code to what the front end adds after its message (the command
            line's ``{'no_elements': 'pass --tle FILE', 'no_time': 'pass --time ISO'}``).
    """
    lang = check_lang(lang or answer["lang"])
    hints = hints or {}
    A, L = ANNOTATE_LABELS[lang], LABELS[lang]
    sep = separator(lang)
    lines = [_photo_line(answer, lang)]
    source = time_source_text(answer["time_source_parts"], lang) if answer.get("time_source_parts") else \
        answer["time_source"]
    when = f"{answer['time_utc']} ({A['mid']}{sep}{source})" if answer["time_utc"] else f"{A['no_time']} ({source})"
    lines.append(f"  {A['time']:<12} {when}")
    pt = answer["pointing"]
    lines.append(f"  {A['pointing']:<12} {_pointing_text(pt, lang)}")
    check = pt.get("check")
    if check and check["in_sky"]:
        line = A["check"].format(k=check["on_detections"], n=check["in_sky"], mag=number(check["max_vmag"], lang, 1),
                                 off=_num_or_q(check["median_offset_px"], lang))
        lines.append(f"  {'':<12} {line}" + (A["colon"] + ", ".join(check["names"]) if check["names"] else ""))
    if pt["centre_lat_deg"] is not None:
        lines.append(f"  {'':<12} " + A["centre"].format(where=latlon(pt["centre_lat_deg"], pt["centre_lon_deg"], lang)))
    if answer["tracking"]:
        trail = A["trails"].format(measured=_num_or_q(answer["measured_trail_px"], lang),
                                   predicted=_num_or_q(answer["predicted_trail_px"], lang))
        lines.append(f"  {A['tracking']:<12} {A['verdict'][answer['tracking']]}{sep}{trail}")
        detail = answer.get("tracking_detail")
        note = tracking_note(detail, lang) if detail else answer["tracking_note"]
        if note:
            lines.append(f"  {'':<12} {note}")
    clock = answer["clock"]
    if clock and clock["offset_s"] is not None:
        lines.append(f"  {A['clock']:<12} " + A["clock_fit"].format(offset=number(clock["offset_s"], lang, 1, sign=True),
                                                                    n=clock["n_points"],
                                                                    rms=number(clock["rms_px"], lang, 1)))
    elif answer.get("clock_note_code"):
        lines.append(f"  {A['clock']:<12} {A['clock_notes'][answer['clock_note_code']]}")
    elif answer["clock_note"] or (clock and clock["reason"]):
        lines.append(f"  {A['clock']:<12} {(clock or {}).get('reason') or answer['clock_note']}")
    where = answer["where"]
    if where is not None:  # the Scene at that instant, as `cupola where` words it
        lines += ["  " + line for line in where_text(where, lang, hints).split("\n")]
    shown = {w["code"] for w in where["warnings"]} if where is not None else set()
    answer = {**answer, "warnings": [w for w in answer["warnings"] if w["code"] not in shown]}
    for w in answer["warnings"]:
        hint = hints.get(w["code"])
        lines.append(f"  {L['warning']}: {w['message']}" + (f" ({hint})" if hint else ""))
    for n in answer["notes"]:
        lines.append(f"  {A['notes']}: {n}")
    if answer["outputs"]:
        lines.append(f"  {A['wrote']:<12} " + ", ".join(f"{v}" for v in answer["outputs"].values()))
    return "\n".join(lines)


def _num_or_q(x, lang: str, digits: int = 1) -> str:
    return "?" if not _finite(x) else number(x, lang, digits)


__all__ = ["where_text", "in_view_lines", "annotate_text", "annotate_summary", "tracking_note", "time_source_text"]

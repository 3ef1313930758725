"""Rebuild ``src/cupola/data/airglow_colours.json``: the sRGB colour of each airglow layer's
line spectrum.

Run ``python tools/build_airglow_colours.py`` (needs the ``tools`` extra: colour-science).

Method (for each layer of :data:`cupola.phenomena.airglow.LAYERS`):

1. The spectrum is a set of emission lines of zenith brightness ``R_i`` rayleighs (photon units)
   at ``lambda_i``. Radiant power per line is proportional to ``R_i / lambda_i`` (photon energy
   h c / lambda).
2. CIE 1931 2-degree standard observer colour matching functions, interpolated at each line by
   colour-science (Sprague interpolation of the 1 nm table): ``XYZ = sum_i R_i / lambda_i * cmf(lambda_i)``.
3. XYZ -> linear sRGB (IEC 61966-2-1) with D65 as the reference white, no chromatic adaptation.
4. Line colours lie outside the sRGB gamut (negative components); they are brought inside by
   adding white (equal linear R = G = B, i.e. D65) until the smallest component is zero, which
   keeps the dominant wavelength (hue) and gives up saturation, then scaled to a maximum of 1.
5. ``hex`` is the sRGB-encoded (transfer function) colour, 8 bits per channel.

Sources: the line wavelengths and strengths are defined (and cited) in
``src/cupola/phenomena/airglow.py``; the CIE tables ship with colour-science (BSD-3-Clause).
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

OUT = ROOT / "src" / "cupola" / "data" / "airglow_colours.json"
OBSERVER = "CIE 1931 2 Degree Standard Observer"


def _colour():
    """Import colour-science quietly, undoing its np.set_printoptions(legacy="1.13") side effect."""
    options = np.get_printoptions()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import colour
    finally:
        np.set_printoptions(**options)
    return colour


def line_colour(lines_nm, lines_rayleigh) -> dict:
    """Return XYZ, linear sRGB (in gamut, max 1) and hex for a line spectrum."""
    colour = _colour()

    cmfs = colour.MSDS_CMFS[OBSERVER]
    lam = np.asarray(lines_nm, float)
    power = np.asarray(lines_rayleigh, float) / lam
    xyz = np.sum(power[:, None] * np.atleast_2d(colour.wavelength_to_XYZ(lam, cmfs)), axis=0)
    xyz = xyz / xyz[1]
    rgb = np.asarray(colour.XYZ_to_sRGB(xyz, apply_cctf_encoding=False), float)
    rgb = rgb - min(rgb.min(), 0.0)
    rgb = rgb / rgb.max()
    enc = np.asarray(colour.cctf_encoding(rgb, function="sRGB"), float)
    code = "#" + "".join(f"{int(round(v * 255.0)):02x}" for v in np.clip(enc, 0.0, 1.0))
    return {"XYZ": [float(v) for v in xyz], "rgb_linear": [float(v) for v in rgb], "hex": code}


def build() -> dict:
    colour = _colour()
    from cupola.phenomena.airglow import LAYERS

    layers = {}
    for layer in LAYERS:
        entry = {"species": layer.species, "lines_nm": list(layer.lines_nm),
                 "lines_rayleigh": list(layer.lines_rayleigh)}
        entry.update(line_colour(layer.lines_nm, layer.lines_rayleigh))
        layers[layer.name] = entry
    return {
        "source": "tools/build_airglow_colours.py",
        "colour_science_version": colour.__version__,
        "observer": OBSERVER,
        "colourspace": "sRGB (IEC 61966-2-1), D65 white, no chromatic adaptation",
        "gamut_mapping": "add equal linear RGB (D65 white) until min is 0, then scale max to 1",
        "power_weighting": "rayleigh / wavelength (photons to energy)",
        "layers": layers,
    }


def main() -> None:
    table = build()
    OUT.write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
    for name, e in table["layers"].items():
        print(f"{name:9s} {e['hex']}  rgb_linear={np.round(e['rgb_linear'], 4)}")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

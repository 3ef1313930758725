"""Rebuild ``src/cupola/data/lens_vignetting.json``: the vignetting of one Nikon lens per focal length cupola
offers (``cupola.camera.LENSES_MM``), from the lensfun database.

Source: the lensfun database (https://lensfun.github.io/; its data are licensed CC BY-SA 3.0) as shipped in the
``lensfunpy`` wheel (``lensfunpy==1.18.0``, folder ``lensfunpy/db_files``), read here as XML. Each lens's
``<vignetting model="pa">`` entries give Pablo d'Angelo's polynomial, the relative illumination

    V(r) = 1 + k1 r^2 + k2 r^4 + k3 r^6,

r the distance from the image centre over the half-diagonal of the calibration frame (lensfun's mod-color.cpp:
"for vignetting it uses 1.0 = half diagonal length"), a 3:2 frame at the entry's crop factor (1: 36 x 24 mm,
half-diagonal 21.63 mm). The entries focused farthest (distance 1000 m: infinity, as for the Earth and stars)
are kept, one per aperture. The runtime reads the JSON through ``cupola.bundled``; lensfunpy is only needed here.

The lenses: the ones of NASA captions where the database has them (14-24 mm, 50 mm f/1.2), otherwise the Nikon
lens of that focal length with vignetting data (the database has none for the AF-S 14-24 mm f/2.8G, the 28 mm
f/1.4D or the 200 mm f/2).

    .venv/bin/python tools/build_lens_vignetting.py
"""

from __future__ import annotations

import json
import math
import os
import xml.etree.ElementTree as ET
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "cupola" / "data" / "lens_vignetting.json"

# focal length (mm) -> (database file, lens model, focal of the calibration entries)
CHOICES = {
    14.0: ("mil-nikon.xml", "NIKKOR Z 14-24mm f/2.8 S", 14.0),
    24.0: ("slr-nikon.xml", "Nikon AF-S Nikkor 24mm f/1.8G ED", 24.0),
    28.0: ("slr-nikon.xml", "Nikon AF-S Zoom-Nikkor 24-70mm f/2.8G ED", 28.0),
    50.0: ("mil-nikon.xml", "NIKKOR Z 50mm f/1.2 S", 50.0),
    200.0: ("slr-nikon.xml", "Nikon AF-S Nikkor 70-200mm f/2.8G ED VR II 162", 200.0),
    400.0: ("slr-nikon.xml", "Nikon AF-S VR Nikkor 400mm f/2.8G ED", 400.0),
}


def _lens(root, model: str):
    for lens in root.iter("lens"):
        if any(m.text == model and not m.get("lang") for m in lens.findall("model")):
            return lens
    raise SystemExit(f"lens {model!r} not in the database")


def build() -> dict:
    import lensfunpy

    folder = Path(os.path.dirname(lensfunpy.__file__)) / "db_files"
    lenses = []
    for focal_mm, (fname, model, cal_focal) in sorted(CHOICES.items()):
        lens = _lens(ET.parse(folder / fname).getroot(), model)
        crop = float(lens.findtext("cropfactor", "1"))
        aspect = lens.findtext("aspect-ratio", "3:2")
        a, _, b = aspect.partition(":")
        aspect = float(a) / float(b) if b else float(a)
        rows = {}
        for v in lens.find("calibration").findall("vignetting"):
            if v.get("model") != "pa" or float(v.get("focal")) != cal_focal:
                continue
            n, dist = float(v.get("aperture")), float(v.get("distance"))
            if n not in rows or dist > rows[n][0]:
                rows[n] = (dist, [float(v.get(k)) for k in ("k1", "k2", "k3")])
        # The calibration frame's half-diagonal: a full-frame diagonal (43.27 mm) over the crop factor.
        diag_mm = math.hypot(36.0, 24.0) / crop
        half_diag_mm = 0.5 * diag_mm  # the database's frames are 3:2 unless it says otherwise
        if abs(aspect - 1.5) > 1e-6:
            w = diag_mm / math.sqrt(1 + 1 / aspect ** 2)
            half_diag_mm = 0.5 * math.hypot(w, w / aspect)
        lenses.append({"focal_mm": focal_mm, "lens": model, "database_file": fname, "crop_factor": crop,
                       "half_diagonal_mm": round(half_diag_mm, 4),
                       "f_numbers": sorted(rows), "k": [rows[n][1] for n in sorted(rows)]})
    return {"source": "lensfun database (CC BY-SA 3.0) as shipped in lensfunpy " + lensfunpy.__version__
                      + "; model 'pa': V(r) = 1 + k1 r^2 + k2 r^4 + k3 r^6, r = 1 at the calibration "
                        "frame's half-diagonal; focus at infinity",
            "lenses": lenses}


def main() -> None:
    table = build()
    OUT.write_text(json.dumps(table, indent=1) + "\n")
    for lens in table["lenses"]:
        print(f"{lens['focal_mm']:5.0f} mm  {lens['lens']}: f/{lens['f_numbers'][0]:g}..f/{lens['f_numbers'][-1]:g}")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

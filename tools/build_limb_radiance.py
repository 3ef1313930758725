"""Rebuild ``src/cupola/data/limb_radiance.npz``: the sunlit limb and the twilit ground's path
radiance, in the camera's RGB, for the renderer (``cupola.render.earth``).

Run ``python tools/build_limb_radiance.py`` (numpy only; about two minutes).

What it computes (the model and every source: ``cupola.phenomena.extinction``, the section on
the sunlit limb): single scattering of sunlight by air (Rayleigh), ozone absorption (Chappuis
band, Serdyuchenko et al. 2014), a boundary-layer and a stratospheric aerosol (Henyey-Greenstein),
spectrally in 10 nm bins 380-780 nm, with the sunlight to every scattering point along its own
slant path (blocked by the ground, refracted, averaged over the Sun's disc) and the light back to
the camera along the line of sight. Each spectrum is then turned into the camera's linear RGB
per channel relative to sunlight (``cupola.colour.sunlight_ratio_rgb``: the Nikon D5100 table,
daylight white balance), so sunlight stays white as everywhere in the renderer.

Arrays (float32; radiance per unit solar illuminance, sr^-1, before the phase function, which
the renderer applies per pixel: index 0 Rayleigh, 1 aerosol):

* ``limb`` (n_h, n_e, n_az, 2, 3): lines of sight seen from outside the atmosphere, tangent at
  ``limb_h_km``, the Sun at elevation arcsin(``limb_sin_elev``) at the tangent point and azimuth
  arccos(``limb_cos_az``) from the line's direction (cosine 1: toward the Sun).
* ``aerosol_g``: the asymmetry of the aerosol's Henyey-Greenstein phase function.
* ``ground`` (n_e, n_mu, n_az, 2, 3): the path between the ground and space seen from above, the Sun
  at elevation arcsin(``ground_sin_elev``) at the ground point and azimuth arccos(``ground_cos_az``)
  from the camera's horizontal direction of view there, view zenith cosine ``ground_mu``
  (sqrt-spaced).

Licence: computed here from published numbers (cited in the module); no third-party data file.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

OUT = ROOT / "src" / "cupola" / "data" / "limb_radiance.npz"


def main() -> None:
    from cupola.colour import sunlight_ratio_rgb
    from cupola.phenomena import extinction as ex

    t0 = time.time()
    table = ex.sun_path_table()
    grids = ex.limb_table_grids()
    lam = ex.SPECTRUM_NM
    h, se, ca = np.meshgrid(grids["limb_h_km"], grids["limb_sin_elev"], grids["limb_cos_az"], indexing="ij")
    limb = ex.limb_line_radiance(h, np.degrees(np.arcsin(se)), np.degrees(np.arccos(ca)), lam, table=table)
    limb_rgb = sunlight_ratio_rgb(lam, np.moveaxis(limb, -1, -2))  # (..., 2, 3)
    se, mu, ca = np.meshgrid(grids["ground_sin_elev"], grids["ground_mu"], grids["ground_cos_az"], indexing="ij")
    ground = ex.ground_path_radiance(np.degrees(np.arcsin(se)), mu, np.degrees(np.arccos(ca)), lam, table=table)
    ground_rgb = sunlight_ratio_rgb(lam, np.moveaxis(ground, -1, -2))
    np.savez_compressed(OUT, limb=limb_rgb.astype(np.float32), ground=ground_rgb.astype(np.float32),
                        aerosol_g=np.float64(ex.AEROSOL_G), **{k: np.asarray(v, np.float64) for k, v in grids.items()})
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB) in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()

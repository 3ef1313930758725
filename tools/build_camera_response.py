"""Rebuild ``src/cupola/data/camera_response.json``: the camera model's spectral table.

Run ``python tools/build_camera_response.py`` (needs the ``tools`` extra: colour-science).

What it bakes (380-780 nm every 5 nm, 81 rows), for :mod:`cupola.colour`'s camera model:

1. **Spectral sensitivities** of a Nikon DSLR: colour-science's ``MSDS_CAMERA_SENSITIVITIES
   ['Nikon 5100 (NPL)']`` (the Nikon D5100 measured by the UK National Physical Laboratory;
   Darrodi, Finlayson, Goodman & Mackiewicz 2015, "Reference data set for camera spectral
   sensitivity estimation", JOSA A 32(3), 381). It is the only Nikon in colour-science; the
   crews' D3S/D4/D5/Z9 share Nikon's colour filter and IR-cut design family (no sensitivity
   above ~700 nm). Scaled so the green channel peaks at 1.
2. **The white-balance illuminant** "daylight": CIE D55 (colour-science ``SDS_ILLUMINANTS``),
   close to Nikon's "Direct sunlight" preset (5,200 K) and to sunlight outside the atmosphere.
3. **A colour-correction matrix** (3x3) from white-balanced camera RGB to linear sRGB, fitted
   by least squares over the 24 patches of the X-Rite ColorChecker (colour-science
   ``SDS_COLOURCHECKERS['BabelColor Average']``) lit by D55: targets are the patches' CIE 1931
   XYZ adapted to D65 (Bradford) then sRGB (IEC 61966-2-1); each row is constrained to sum to 1
   so that white stays white. What cameras do (Adobe DNG "ColorMatrix"/"ForwardMatrix" are
   such fits); the residual over the chart is printed.

Licences: colour-science (BSD-3-Clause) and its datasets (the NPL camera data are published
with the paper for research use; CIE tables are public).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from build_airglow_colours import _colour  # noqa: E402  (the quiet colour-science import; tools/ is on the path)

OUT = ROOT / "src" / "cupola" / "data" / "camera_response.json"
CAMERA = "Nikon 5100 (NPL)"
CHART = "BabelColor Average"
WB_ILLUMINANT = "D55"
OBSERVER = "CIE 1931 2 Degree Standard Observer"
GRID = (380.0, 780.0, 5.0)


def _on_grid(colour, sd):
    shape = colour.SpectralShape(*GRID)
    return np.asarray(sd.copy().align(shape).values, float)


def constrained_rows_fit(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return M (3, 3) minimising ||a M^T - b|| with every row of M summing to 1 (Lagrange)."""
    ata = a.T @ a
    ones = np.ones(3)
    m = np.empty((3, 3))
    for r in range(3):
        kkt = np.block([[2 * ata, ones[:, None]], [ones[None, :], np.zeros((1, 1))]])
        rhs = np.concatenate([2 * a.T @ b[:, r], [1.0]])
        m[r] = np.linalg.solve(kkt, rhs)[:3]
    return m


def build() -> dict:
    colour = _colour()
    lam = np.arange(GRID[0], GRID[1] + 0.5 * GRID[2], GRID[2])
    sens = _on_grid(colour, colour.MSDS_CAMERA_SENSITIVITIES[CAMERA])
    sens = sens / sens[:, 1].max()
    illum = _on_grid(colour, colour.SDS_ILLUMINANTS[WB_ILLUMINANT])
    cmfs = _on_grid(colour, colour.MSDS_CMFS[OBSERVER])
    chart = colour.SDS_COLOURCHECKERS[CHART]
    refl = np.array([_on_grid(colour, sd) for sd in chart.values()])  # (24, 81)
    raw = (refl * illum) @ sens  # (24, 3)
    white_raw = illum @ sens
    wb = white_raw[1] / white_raw  # gains: the illuminant's white becomes R = G = B
    raw_wb = raw * wb / white_raw[1]
    xyz = (refl * illum) @ cmfs / (illum @ cmfs[:, 1])
    white_xyz = illum @ cmfs / (illum @ cmfs[:, 1])
    d65_xyz = colour.xy_to_XYZ(colour.CCS_ILLUMINANTS[OBSERVER]["D65"])
    xyz_d65 = colour.chromatic_adaptation(xyz, white_xyz, d65_xyz, method="Von Kries", transform="Bradford")
    target = np.asarray(colour.XYZ_to_sRGB(xyz_d65, apply_cctf_encoding=False), float)
    ccm = constrained_rows_fit(raw_wb, target)
    fit = raw_wb @ ccm.T
    de = colour.delta_E(colour.XYZ_to_Lab(colour.sRGB_to_XYZ(np.clip(fit, 0, None), apply_cctf_decoding=False)),
                        colour.XYZ_to_Lab(colour.sRGB_to_XYZ(np.clip(target, 0, None), apply_cctf_decoding=False)),
                        method="CIE 2000")
    return {
        "source": "tools/build_camera_response.py",
        "colour_science_version": colour.__version__,
        "camera": CAMERA,
        "camera_reference": "Darrodi et al. 2015, JOSA A 32(3), 381 (NPL camera sensitivity data set)",
        "chart": CHART,
        "white_balance_illuminant": WB_ILLUMINANT,
        "wavelength_nm": {"start": GRID[0], "stop": GRID[1], "step": GRID[2]},
        "sensitivity_rgb": np.round(sens, 6).tolist(),
        "white_balance_spd": np.round(illum / illum.max(), 6).tolist(),
        "ccm_wb_raw_to_linear_srgb": np.round(ccm, 6).tolist(),
        "ccm_fit_delta_e2000_mean": round(float(np.mean(de)), 3),
        "ccm_fit_delta_e2000_max": round(float(np.max(de)), 3),
    }


def main() -> None:
    table = build()
    OUT.write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
    print(f"CCM {np.round(table['ccm_wb_raw_to_linear_srgb'], 4).tolist()}")
    print(f"chart fit dE2000 mean {table['ccm_fit_delta_e2000_mean']}, max {table['ccm_fit_delta_e2000_max']}")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

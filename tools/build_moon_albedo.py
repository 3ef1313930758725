"""Rebuild the bundled lunar albedo map (``cupola.render.points`` shades the Moon's disc with it).

    npm pack globe.gl@2.46.2 && tar xzf globe.gl-2.46.2.tgz
    .venv/bin/python tools/build_moon_albedo.py --globe-gl package

It writes ``src/cupola/data/moon_albedo.npz``:

``albedo``
    uint8 (512, 1024), equirectangular in selenographic coordinates of the mean-Earth/polar-axis
    frame: row 0 at 90 N, column 0 at 180 W, pixel centres at ``lon = -180 + (j + 0.5) * 360 / W``,
    ``lat = 90 - (i + 0.5) * 180 / H`` (~10.7 km at the equator); the normal albedo relative to the
    map's brightest (0.1 % clipped) texel: ``albedo / 255 * scale`` with ``scale`` 1.
``scale``
    float: the relative albedo of code 255.

Source and licence
------------------
NASA Goddard's Scientific Visualization Studio "CGI Moon Kit" (Ernie Wright, 2019; SVS 4720):
the Lunar Reconnaissance Orbiter Camera's Wide Angle Camera mosaic, photometrically normalised with
a Hapke model (LROC team; Sato et al. 2014, JGR Planets 119, 1775), with the poles filled in. The copy
used is ``example/moon-landing-sites/lunar_surface.jpg`` (11469 x 5734, sRGB JPEG) shipped by the npm
package ``globe.gl@2.46.2`` (MIT); its EXIF DocumentName reads
``/svs/data/lunar/lroc/albedo/hapke/lroc_color_poles_16k.tif``, the Moon Kit's colour map. NASA
imagery is public domain (https://www.nasa.gov/nasa-brand-center/images-and-media/). The map is centred on
0 deg longitude, north up, east to the right (Mare Crisium, 17 N 59 E, checked by ``--check``).

Reduction: BT.709 luminance of the 8-bit values taken as proportional to reflectance, averaged
over boxes of the output texel (area-weighted), divided by the 99.9th percentile and clipped to 1,
quantised to 8 bits. Linear, not sRGB-decoded: decoded, the maria (Imbrium, Crisium, Serenitatis)
come out 3.9 times darker than the southern highlands, against about 2 in the WAC's normalised
reflectance (maria 0.05-0.09, highlands 0.13-0.20 at 643 nm: Sato et al. 2014, fig. 4); as linear
values they are 1.8 times darker (``--check --srgb`` prints the other). The map is Hapke-normalised
(a standard geometry's reflectance), so it is an albedo map: the renderer's photometric law gives
the shading and the Moon's magnitude its total.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "cupola" / "data" / "moon_albedo.npz"
WIDTH, HEIGHT = 1024, 512
SOURCE = "example/moon-landing-sites/lunar_surface.jpg"
CLIP_PERCENTILE = 99.9

# Published centres (IAU Gazetteer of Planetary Nomenclature), lat, lon deg.
SPOTS = {"Mare Crisium": (17.0, 59.1), "Mare Imbrium": (32.8, -15.6), "Mare Serenitatis": (28.0, 17.5),
         "Oceanus Procellarum": (20.7, -56.7), "southern highlands": (-40.0, 20.0), "Tycho": (-43.3, -11.2)}


def build(package: Path, decode_srgb: bool = False) -> dict:
    from PIL import Image

    from cupola.colour import LUMA, srgb_decode

    Image.MAX_IMAGE_PIXELS = None
    src = package / SOURCE
    with Image.open(src) as im:
        name = im.getexif().get(269, "")
        rgb = np.asarray(im.convert("RGB"), np.float32) / 255.0
    if "lroc" not in str(name):
        raise SystemExit(f"{src}: expected the CGI Moon Kit's LROC map (EXIF DocumentName), got {name!r}")
    y = ((srgb_decode(rgb) if decode_srgb else rgb) @ LUMA.astype(np.float32)).astype(np.float32)
    small = np.asarray(Image.fromarray(y, mode="F").resize((WIDTH, HEIGHT), Image.Resampling.BOX), np.float64)
    top = float(np.percentile(small, CLIP_PERCENTILE))
    code = np.clip(np.round(small / top * 255.0), 0, 255).astype(np.uint8)
    return {"albedo": code, "scale": np.float64(1.0), "source_document": np.str_(name)}


def sample(code: np.ndarray, lat: float, lon: float, radius_deg: float = 4.0) -> float:
    h, w = code.shape
    lats = 90.0 - (np.arange(h) + 0.5) * 180.0 / h
    lons = -180.0 + (np.arange(w) + 0.5) * 360.0 / w
    la, lo = np.meshgrid(lats, lons, indexing="ij")
    near = (np.abs(la - lat) < radius_deg) & (np.abs(((lo - lon + 180.0) % 360.0) - 180.0) * np.cos(np.radians(lat))
                                               < radius_deg)
    return float(code[near].mean()) / 255.0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--globe-gl", type=Path, required=True, help="the unpacked globe.gl@2.46.2 npm package")
    ap.add_argument("--check", action="store_true", help="print the albedo at known places, write nothing")
    ap.add_argument("--srgb", action="store_true", help="decode the JPEG as sRGB (for --check)")
    args = ap.parse_args(argv)
    out = build(args.globe_gl, decode_srgb=args.srgb)
    if args.srgb and not args.check:
        raise SystemExit("--srgb is for --check only (module docstring)")
    for k, (lat, lon) in SPOTS.items():
        print(f"{k:22s} {sample(out['albedo'], lat, lon):.3f}")
    if not args.check:
        np.savez_compressed(OUT, **out)
        print(f"wrote {OUT} ({OUT.stat().st_size / 1e3:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

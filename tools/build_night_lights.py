"""Rebuild the bundled night-lights raster (``cupola.phenomena.lights``); the cloud map, from the same
package's cloud texture, is ``tools/build_clouds.py``'s.

    npm pack three-globe@2.45.2 && tar xzf three-globe-2.45.2.tgz
    .venv/bin/python tools/build_night_lights.py --three-globe package

It writes, under ``src/cupola/data/``:

``night_lights.npz``
    ``code``: uint8 (2048, 4096), equirectangular (row 0 at 90 N, column 0 at 180 W, pixel centres at
    ``lon = -180 + (j + 0.5) * 360 / W``, ``lat = 90 - (i + 0.5) * 180 / H``: ~9.8 km at the equator):
    the upward radiance of artificial light at night in the VIIRS Day/Night Band, log-coded:
    code 0 is dark, code c >= 1 is ``lo_nw * (hi_nw / lo_nw) ** ((c - 1) / 254)`` nW cm^-2 sr^-1.
    ``led``: uint8 (720, 1440), 0.25 deg cells in the same orientation: the share of LED (white)
    lighting in the in-band radiance, 0..255 for 0..1, from :data:`LED_SHARE` by country.
``clouds.png`` (written by ``tools/build_clouds.py``, which uses :func:`quantize_opacity`)
    8-bit greyscale (2048, 4096), same orientation: cloud opacity 0 (clear) .. 255 (opaque), kept
    at 64 levels (:data:`CLOUD_LEVELS`; steps of 1/63 in opacity, under 1 % of a cloud's
    luminance) so the PNG compresses better.

Sources and licences
--------------------
- Night lights: NASA Earth Observatory's "Earth at Night" Black Marble global map (Suomi NPP VIIRS
  Day/Night Band composite; NASA Earth Observatory / NOAA NGDC, Román et al.), in the 4096 x 2048 copy
  ``example/img/earth-night.jpg`` shipped by the npm package ``three-globe@2.45.2`` (MIT; the image
  itself is NASA's, public domain: https://earthobservatory.nasa.gov/image-use-policy). The map is a
  visualisation, not the radiance product: its lights (yellow-white, R ~ G > B) are drawn over a
  dim blue rendering of the land (R << B). This script keeps the light alone,
  ``s = max(R_lin - K_BG * B_lin, 0)`` in linear sRGB (:data:`K_BG` is above the background's R/B
  ratio everywhere but on the brightest lights), drops JPEG noise below :data:`CODE_FLOOR`, and
  maps the 8-bit light signal to radiance with a logarithmic stretch (the map's own stretch is not
  published with it): the faintest light kept is :data:`LO_NW` and the map's brightest texel
  :data:`HI_NW` nW cm^-2 sr^-1. Those two anchors are the calibration: dim lit areas in the DNB are
  ~1-2 nW cm^-2 sr^-1 and the cores of the largest cities a few hundred at the DNB's 742 m
  (Elvidge et al. 2017, Int. J. Remote Sens. 38, 5860), which averaged over a ~10 km texel of this
  map is ~100-150. ``tools/build_night_lights.py --check`` prints the resulting light per person
  for a few countries.
- Clouds: ``example/clouds/clouds.png`` of the same npm package, whose example says it is "from
  https://github.com/turban/webgl-earth" (Bjørn Sandvik's WebGL Earth, files ``fair_clouds_4k.png``
  and ``2_no_clouds_4k.jpg``): the "fair weather clouds" texture of Tom Patterson's Natural Earth III
  set (shadedrelief.com), made from NASA Blue Marble cloud imagery (public domain). Its alpha
  channel is the cloud opacity. It is one composite of real cloud fields, a climatology-like
  snapshot: not the weather of any instant.
- LED share by country: the rough estimates in :data:`LED_SHARE` (around 2020; the trend in
  Kyba et al. 2017, Sci. Adv. 3, e1701528, and, for Europe from ISS photographs, Sánchez de Miguel
  et al. 2019, Remote Sens. Environ. 224, 92, and 2021, Remote Sens. 13, 3311). Countries from
  :func:`cupola.geo.places.locate` (Natural Earth boundaries) at each cell's centre.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "cupola" / "data"

K_BG = 0.12  # background R_lin / B_lin stays below this (99th percentile over the Sahara: 0.116)
CODE_FLOOR = 14  # light codes (sRGB 8-bit of s) below this are JPEG noise and the background's edge
LO_NW = 1.5  # nW cm^-2 sr^-1 at CODE_FLOOR
HI_NW = 150.0  # ... at the brightest texel of the map
LED_RES_DEG = 0.25
CLOUD_LEVELS = 64

# Share of LED (white) light in the in-band radiance of each country's lights, around 2020. Rough
# estimates (module docstring), not measurements; countries not listed take their region's value.
LED_SHARE = {
    "United States": 0.55, "Canada": 0.5, "Mexico": 0.35, "Japan": 0.7, "South Korea": 0.6, "Taiwan": 0.6,
    "China": 0.45, "Singapore": 0.6, "India": 0.6, "United Kingdom": 0.55, "Germany": 0.45,
    "Netherlands": 0.5, "Belgium": 0.35, "France": 0.35, "Spain": 0.35, "Italy": 0.45, "Portugal": 0.3,
    "Poland": 0.3, "Russia": 0.2, "Ukraine": 0.2, "Turkey": 0.3, "Israel": 0.4, "Saudi Arabia": 0.3,
    "United Arab Emirates": 0.5, "Qatar": 0.5, "Egypt": 0.2, "Iran": 0.2, "Brazil": 0.3, "Argentina": 0.45,
    "Chile": 0.4, "Colombia": 0.4, "Australia": 0.5, "New Zealand": 0.6, "South Africa": 0.25,
    "Denmark": 0.55, "Norway": 0.55, "Sweden": 0.5, "Finland": 0.5, "Switzerland": 0.45, "Austria": 0.45,
}
LED_DEFAULT = 0.25  # elsewhere (most of Africa, Latin America, West and Central Asia: mainly sodium)


def _srgb_decode(c):
    c = np.asarray(c, float)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _srgb_encode(x):
    x = np.clip(np.asarray(x, float), 0.0, 1.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * x ** (1 / 2.4) - 0.055)


def light_codes(rgb: np.ndarray) -> np.ndarray:
    """Return the log-radiance codes (uint8, module docstring) of the lights of an RGB night map."""
    lin = _srgb_decode(rgb / 255.0)
    s = np.maximum(lin[..., 0] - K_BG * lin[..., 2], 0.0)
    v = _srgb_encode(s) * 255.0
    v_max = float(v.max())
    frac = np.clip((v - CODE_FLOOR) / (v_max - CODE_FLOOR), 0.0, 1.0)
    code = np.where(v >= CODE_FLOOR, 1 + np.round(254 * frac), 0)
    return code.astype(np.uint8)


def radiance_nw(code: np.ndarray) -> np.ndarray:
    """Return the radiance (nW cm^-2 sr^-1) of log codes (0 dark)."""
    c = np.asarray(code, float)
    return np.where(c > 0, LO_NW * (HI_NW / LO_NW) ** ((c - 1) / 254.0), 0.0)


def quantize_opacity(alpha: np.ndarray) -> np.ndarray:
    """Return 8-bit opacities rounded to CLOUD_LEVELS levels spanning 0..255."""
    step = 255.0 / (CLOUD_LEVELS - 1)
    return np.round(np.round(np.asarray(alpha, float) / step) * step).astype(np.uint8)


def led_grid() -> np.ndarray:
    """Return the LED share grid (uint8, LED_RES_DEG cells) by country (cupola.geo.places.locate)."""
    from cupola.geo.places import locate

    n_lat, n_lon = int(round(180 / LED_RES_DEG)), int(round(360 / LED_RES_DEG))
    lat = 90.0 - (np.arange(n_lat) + 0.5) * LED_RES_DEG
    lon = -180.0 + (np.arange(n_lon) + 0.5) * LED_RES_DEG
    out = np.full((n_lat, n_lon), LED_DEFAULT)
    for i in range(0, n_lat, 60):
        la, lo = np.meshgrid(lat[i:i + 60], lon, indexing="ij")
        p = locate(la, lo)
        name = np.where(p.country != "", p.country, p.near_land)
        share = np.vectorize(lambda c: LED_SHARE.get(c, LED_DEFAULT), otypes=[float])(name)
        out[i:i + 60] = share
    return np.round(out * 255).astype(np.uint8)


def check(code: np.ndarray) -> None:
    """Print the light per person of a few countries (the calibration's sanity check)."""
    from cupola.geo.places import locate
    from cupola.phenomena.lights import night_lights

    nl = night_lights()
    h, w = code.shape
    lat = 90.0 - (np.arange(h) + 0.5) * 180.0 / h
    area_m2 = (np.radians(180.0 / h) * 6371.0e3) * (np.radians(360.0 / w) * 6371.0e3 * np.cos(np.radians(lat)))
    pops = {"France": 67e6, "Germany": 83e6, "United States": 331e6, "Japan": 126e6, "Egypt": 102e6,
            "India": 1380e6}
    rows, cols = np.nonzero(code)
    names = locate(lat[rows], -180.0 + (cols + 0.5) * 360.0 / w).country
    lum = nl.luminance_cd_m2(lat[rows], -180.0 + (cols + 0.5) * 360.0 / w)
    for c, pop in pops.items():
        m = names == c
        total = float((lum[m] * area_m2[rows[m]]).sum())
        print(f"{c:14s} {m.sum():6d} lit texels, {total / pop:6.1f} cd per person "
              f"(the population model used 60 for big-city cores)")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--three-globe", type=Path, help="the unpacked package folder of three-globe@2.45.2")
    ap.add_argument("--check", action="store_true", help="print the light per person of a few countries")
    a = ap.parse_args(argv)
    from PIL import Image

    if a.check:
        with np.load(OUT / "night_lights.npz") as z:
            check(z["code"])
        return
    if a.three_globe is None:
        sys.exit("give --three-globe DIR (npm pack three-globe@2.45.2 && tar xzf three-globe-2.45.2.tgz)")
    night = np.asarray(Image.open(a.three_globe / "example" / "img" / "earth-night.jpg").convert("RGB"))
    assert night.shape == (2048, 4096, 3), night.shape
    code = light_codes(night.astype(float))
    # Orientation: Paris and Cairo are lit, the central Pacific and the Sahara dark.
    for lat, lon, lit in ((48.86, 2.35, True), (30.04, 31.24, True), (0.0, -150.0, False), (23.0, 12.0, False)):
        v = code[int((90 - lat) / 180 * 2048), int((lon + 180) / 360 * 4096)]
        assert (v > 0) == lit, (lat, lon, v)
    led = led_grid()
    np.savez_compressed(OUT / "night_lights.npz", code=code, lo_nw=np.float64(LO_NW), hi_nw=np.float64(HI_NW),
                        led=led, led_res_deg=np.float64(LED_RES_DEG))
    print(f"wrote {OUT / 'night_lights.npz'} ({(OUT / 'night_lights.npz').stat().st_size / 1e6:.2f} MB); "
          "the cloud map: tools/build_clouds.py")
    print(f"lit texels: {int((code > 0).sum())} of {code.size}")


if __name__ == "__main__":
    main()

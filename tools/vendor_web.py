"""Vendor the web page's third-party files into src/cupola/web/static/vendor/ (no CDN at run time).

    python tools/vendor_web.py              # runs `npm pack` for the pinned packages in a temporary folder
    python tools/vendor_web.py --from DIR   # uses leaflet-1.9.4.tgz and world-atlas-2.0.2.tgz already in DIR

What it writes, from which package (each .tgz checked against the SHA-256 below, as npm 10 packed it):
- ``vendor/leaflet/``: leaflet.js, leaflet.css, images/*.png and LICENSE from npm ``leaflet@1.9.4``
  (BSD-2-Clause, Vladimir Agafonkin and CloudMade);
- ``vendor/countries-110m.geojson``: the country polygons of npm ``world-atlas@2.0.2``
  ``countries-110m.json`` (TopoJSON of Natural Earth 1:110m Admin 0, public domain; world-atlas ISC,
  Mike Bostock), decoded here and made planar: world-atlas v2 stitches polygons across the
  antimeridian (Russia, Fiji) and closes Antarctica along it, which a flat map would draw as lines
  across the whole world. Each ring's longitudes are unwrapped, a ring that goes round a pole is
  closed through that pole, and the ring is clipped (Sutherland-Hodgman) to the strips
  [-180, 180] and [180, 540] (shifted back by 360 deg) and [-540, -180]. Coordinates rounded to 0.01 deg;
  the licences are written next to them (``vendor/world-atlas-LICENSE``).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "cupola" / "web" / "static" / "vendor"
PACKAGES = {
    "leaflet-1.9.4.tgz": ("leaflet@1.9.4", "84c65a256e50657896f54c33bd857b6849ebe94c817803be818bf32a3dde0b77"),
    "world-atlas-2.0.2.tgz": ("world-atlas@2.0.2", "032e7765f2ce00edaeafec23ff22bc3b77e42987c257da944cc585b452c05b97"),
}
LEAFLET_FILES = ["dist/leaflet.js", "dist/leaflet.css", "LICENSE", "dist/images/layers.png",
                 "dist/images/layers-2x.png", "dist/images/marker-icon.png", "dist/images/marker-icon-2x.png",
                 "dist/images/marker-shadow.png"]
DIGITS = 2


def fetch(folder: Path, given: Path | None) -> dict[str, tarfile.TarFile]:
    """Return the opened, checked package archives (packed by npm into `folder` unless `given`)."""
    out = {}
    for name, (spec, sha) in PACKAGES.items():
        path = (given or folder) / name
        if given is None:
            subprocess.run(["npm", "pack", spec, "--silent"], cwd=folder, check=True, stdout=subprocess.DEVNULL)
        raw = path.read_bytes()
        got = hashlib.sha256(raw).hexdigest()
        if got != sha:
            raise SystemExit(f"{name}: SHA-256 {got}, expected {sha}")
        out[name] = tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz")
    return out


def _clip(ring: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Sutherland-Hodgman: the part of a closed ring (N, 2) with lo <= lon <= hi."""
    for edge, keep in ((lo, lambda x: x >= lo), (hi, lambda x: x <= hi)):
        if len(ring) == 0:
            return ring
        pts = []
        prev = ring[-1]
        for cur in ring:
            if keep(cur[0]):
                if not keep(prev[0]):
                    f = (edge - prev[0]) / (cur[0] - prev[0])
                    pts.append([edge, prev[1] + f * (cur[1] - prev[1])])
                pts.append(cur)
            elif keep(prev[0]):
                f = (edge - prev[0]) / (cur[0] - prev[0])
                pts.append([edge, prev[1] + f * (cur[1] - prev[1])])
            prev = cur
        ring = np.array(pts, float).reshape(-1, 2)
    return ring


def planar_rings(ring: np.ndarray) -> list[np.ndarray]:
    """Return a spherical ring (lon, lat) as closed planar rings within -180..180."""
    lon = np.degrees(np.unwrap(np.radians(ring[:, 0])))
    pts = np.column_stack([lon, ring[:, 1]])
    turn = pts[-1, 0] - pts[0, 0]
    if abs(turn) > 180.0:  # round a pole: close through it
        pole = -90.0 if np.mean(ring[:, 1]) < 0 else 90.0
        pts = np.vstack([pts, [pts[-1, 0], pole], [pts[0, 0], pole]])
    out = []
    for shift in (-360.0, 0.0, 360.0):
        part = _clip(pts + [shift, 0.0], -180.0, 180.0)
        if len(part) >= 3:
            part = np.round(part, DIGITS)
            out.append(np.vstack([part, part[:1]]))
    return out


def countries(topo: dict) -> dict:
    """Return the TopoJSON countries object as planar GeoJSON (see the module docstring)."""
    scale, translate = np.array(topo["transform"]["scale"]), np.array(topo["transform"]["translate"])
    arcs = [np.cumsum(np.array(a, float), axis=0) * scale + translate for a in topo["arcs"]]

    def ring(ids):
        parts = [arcs[i] if i >= 0 else arcs[~i][::-1] for i in ids]
        return np.vstack([parts[0]] + [p[1:] for p in parts[1:]])

    feats = []
    for g in topo["objects"]["countries"]["geometries"]:
        if g["type"] not in ("Polygon", "MultiPolygon"):
            continue
        polys = g["arcs"] if g["type"] == "MultiPolygon" else [g["arcs"]]
        out = []
        for poly in polys:
            outer = planar_rings(ring(poly[0]))
            holes = [h for r in poly[1:] for h in planar_rings(ring(r))]
            out.extend([[o.tolist()] + ([h.tolist() for h in holes] if len(outer) == 1 else []) for o in outer])
        feats.append({"type": "Feature", "properties": {"name": g["properties"]["name"]},
                      "geometry": {"type": "MultiPolygon", "coordinates": out}})
    return {"type": "FeatureCollection", "features": feats}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="given", type=Path, default=None, help="folder holding the .tgz files")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tars = fetch(Path(tmp), args.given)
        leaflet = OUT / "leaflet"
        shutil.rmtree(leaflet, ignore_errors=True)
        (leaflet / "images").mkdir(parents=True)
        for name in LEAFLET_FILES:
            data = tars["leaflet-1.9.4.tgz"].extractfile(f"package/{name}").read()
            (leaflet / name.removeprefix("dist/")).write_bytes(data)
        atlas = tars["world-atlas-2.0.2.tgz"]
        topo = json.loads(atlas.extractfile("package/countries-110m.json").read())
        (OUT / "countries-110m.geojson").write_text(json.dumps(countries(topo), separators=(",", ":")))
        (OUT / "world-atlas-LICENSE").write_bytes(
            atlas.extractfile("package/LICENSE").read()
            + b"\nThe country shapes are Natural Earth 1:110m Admin 0 (public domain, naturalearthdata.com).\n")
    for p in sorted(OUT.rglob("*")):
        if p.is_file():
            print(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""Timelapses: one SceneSeries, one frame per instant, streamed to an MP4, a GIF or PNG frames.

``timelapse(start, end, step_s, camera, path)`` takes the instants from `start` to `end` every
`step_s` seconds, computes ONE :class:`~cupola.scene.SceneSeries` for all of them
(``compute_scene(times, ...)``), and renders ``series[i]`` frame by frame into one reused
:class:`~cupola.camera.FramePool`. Each frame goes to the encoder as soon as it is drawn and is
then dropped (a GIF also keeps the up to :data:`GIF_PALETTE_FRAMES` frames sampled for its
palette: full size up to :data:`GIF_KEEP_BYTES`, so that they are not rendered twice, else thinned).

Where the camera points, frame after frame (`pointing`):

- ``'station'`` (default): the camera is fixed to the station, as a crew timelapse is (a camera
  bracketed in the cupola). Its attitude is the Look resolved at the first frame; an untracked
  camera then keeps that attitude in the station's LVLH frame (turning with it about the orbit
  normal at |r x v| / |r|^2, ~3.9 deg/min: the Earth stays put in the frame and the stars slide
  across it), a tracked one (``camera.tracked``, a sidereal drive) keeps it fixed on the sky
  (stars stay put, the Earth turns under them). A look toward a geographic azimuth
  (``horizon:345``) is NOT re-aimed at that azimuth as the station turns: over seed 2's 6.5
  minutes at 40-50 deg N that would have panned the camera by 18 deg.
- ``'look'``: the Look is resolved again at every frame from that frame's Scene (a camera turned
  to keep pointing north, or to follow a ground target or a star); ``horizon:ahead``, ``port``...
  and ``nadir`` then equal ``'station'`` to ~0.03 deg.

Formats, by the name of `path`:

- ``.mp4``: H.264 (libx264, CRF :data:`MP4_CRF`, preset :data:`MP4_PRESET`) in yuv420p, which
  needs an even width and height (odd sizes are refused), BT.709 matrix, limited range, sRGB
  transfer tagged; constant frame rate `fps` (frame i at i / fps s).
- ``.gif``: animated GIF89a, looping forever, with ONE palette for every frame (the global colour
  table): median-cut of a mosaic of up to :data:`GIF_PALETTE_FRAMES` frames sampled evenly over the
  clip (rendered first), then every frame mapped to it (no dithering: dither noise would shimmer
  from frame to frame). Frame delays are whole hundredths of a second that add up to n / fps
  (1000 / fps ms a frame on average); at most :data:`GIF_MAX_FPS` frames/s, since browsers play
  shorter delays at 10 frames/s.
- a folder (an existing empty one, or a name ending in '/'): PNG frames ``frame_00000.png``, ...
- a ``.png`` name with one ``%05d`` (or ``%d``, ``%04d``...) or ``{:05d}`` (or ``{}``): PNG frames
  named by it, numbered from 0. PNGs use the fast zlib level of
  :data:`cupola.render.output.PNG_COMPRESS_LEVEL`.

Everything is checked before any work: the output name (format, folder exists and is writable,
an even size for MP4), ``step_s > 0``, `end` after `start`, at most :data:`MAX_FRAMES` frames, the
frame rate, and that the element sets give a position at every instant.

Interrupted (an exception, Ctrl-C, or SIGTERM, which is turned into ``SystemExit(143)`` while a
timelapse runs in the main thread), a timelapse leaves the complete file or nothing: it writes a
hidden temporary file (``.cupola-*``) in the target folder and renames it at the end, and removes
it on any exception; PNG frames go into a temporary folder beside the target folder, renamed at
the end (into the target folder, for a name pattern, each file moved at the end). Only SIGKILL
or a power cut can leave a ``.cupola-*`` temporary behind.

The optional caption strip (``caption=True``) is drawn on every frame by
:func:`cupola.render.output.draw_caption`: the time, the satellite and the frame number, the
NASA-style caption (place and phase) and the station's light with the aurora, yes or no.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from .errors import CupolaError, DataMissingError, InputError
from .interrupt import sigterm_as_exit as _sigterm_as_exit
from .render.output import check_output_folder, check_output_name, write_failed

log = logging.getLogger(__name__)

MAX_FRAMES = 20_000  # ~11 min of 30 frames/s video; at 1280x720 ~1 h of rendering on 2 cores
MAX_FPS = 120.0
# The slowest clip: one frame every 1000 s. The rate is kept as a fraction of denominator <= 1001, which a
# slower one would round to 0 frames/s.
MIN_FPS = 0.001
GIF_MAX_FPS = 50.0  # GIF delays are whole 1/100 s; browsers play delays under 2/100 s at 10 frames/s
GIF_PALETTE_FRAMES = 16  # frames sampled for the shared GIF palette
GIF_SAMPLE_WIDTH = 480  # sampled frames are thinned (every k-th pixel, colours kept) to about this width
GIF_KEEP_BYTES = 64_000_000  # sampled frames are kept for reuse (not rendered twice) up to this size
MP4_CODEC = "libx264"
MP4_CRF = 20  # constant quality (lower: better and bigger); 18-23 is the usual range
MP4_PRESET = "veryfast"  # ~2x the encoding speed of 'medium' at 1280x720 for files within 3 %
SEQUENCE_NAME = "frame_{:05d}.png"
POINTINGS = ("station", "look")
_PRINTF = re.compile(r"%(0?\d*)d")
_FORMAT = re.compile(r"\{(?::(0?\d*)d)?\}")


# -- what to do: instants and output ----------------------------------------------------------------
def _instant(value, param: str) -> np.datetime64:
    from .timebase import one_instant

    return one_instant(value, param)


def frame_times(start, end, step_s, max_frames: int = MAX_FRAMES) -> np.ndarray:
    """Return the instants (datetime64[ns] UTC) from `start` to `end` every `step_s` seconds
    (`end` included when it falls on a step).

    Raises:
        InputError: a `step_s` that is not a number above 0, `end` not after `start`, or more than
            `max_frames` instants (the message gives the count and a step that fits).
        TimeInputError: a time that cannot be read (naive, bad text).
    """
    try:
        step = float(step_s)
    except (TypeError, ValueError):
        step = math.nan
    if not (math.isfinite(step) and step > 0):
        raise InputError(f"the time step must be a finite number of seconds above 0, got {step_s!r}; "
                         "e.g. step_s=10", param="step_s")
    t0, t1 = _instant(start, "start"), _instant(end, "end")
    from .timebase import iso_utc

    span_ns = int((t1 - t0) / np.timedelta64(1, "ns"))
    if span_ns <= 0:
        raise InputError(f"the end {iso_utc(t1)} is not after the start {iso_utc(t0)}; give an end later than "
                         "the start", param="end")
    step_ns = max(1, int(round(step * 1e9)))
    n = span_ns // step_ns + 1
    if n > max_frames:
        fit = span_ns / 1e9 / (max_frames - 1)
        raise InputError(f"from {iso_utc(t0)} to {iso_utc(t1)} every {step:g} s is {n:,} frames, more than the "
                         f"{max_frames:,} a timelapse may have; use a step of at least {math.ceil(fit * 1000) / 1000:g} s "
                         "or a shorter span", param="step_s")
    return t0.astype("datetime64[ns]") + np.arange(n, dtype=np.int64).astype("timedelta64[ns]") * step_ns


@dataclass(frozen=True)
class OutputPlan:
    """Where a timelapse goes: `kind` 'mp4', 'gif' or 'png'; `path` the file or folder the user
    named; `folder` the folder written into; `pattern` the PNG frame name ('{:05d}' style)."""

    kind: str
    path: Path
    folder: Path
    pattern: str | None = None

    def frame_name(self, i: int) -> str:
        return (self.pattern or SEQUENCE_NAME).format(i)


def _pattern(name: str) -> str | None:
    """Return the '{:05d}'-style name of a PNG frame pattern ('f_%05d.png', 'f_{:05d}.png'), None
    for a plain name; refuse a name with more than one number in it."""
    found = list(_PRINTF.finditer(name)) + list(_FORMAT.finditer(name))
    if not found:
        return None
    if len(found) > 1:
        raise InputError(f"the frame name {name!r} holds {len(found)} frame numbers; put one %05d (or {{:05d}}) "
                         "in it, e.g. 'frame_%05d.png'", param="output")
    m = found[0]
    before, after = name[:m.start()], name[m.end():]
    if any(c in before + after for c in "{}%"):
        raise InputError(f"the frame name {name!r} holds a '%', '{{' or '}}' besides its frame number; "
                         "use a name such as 'frame_%05d.png'", param="output")
    return before + "{:" + (m.group(1) or "") + "d}" + after


def check_timelapse_output(path, width: int | None = None, height: int | None = None) -> OutputPlan:
    """Return the :class:`OutputPlan` of `path` if a timelapse can be written there, before any work.

    `path` ends in .mp4 or .gif, names a folder for PNG frames (an existing empty folder, or a
    name ending in '/'), or is a .png name with one %05d or {:05d}. Its folder must exist and be
    writable; an MP4 needs an even `width` and `height`.

    Raises:
        InputError: (param 'output', or 'size' for an odd MP4 size) saying what is wrong and what
            to pass instead.
    """
    text = os.fspath(path)
    check_output_name(os.fsdecode(text))
    path = Path(text)
    uses = ("use a .mp4 (H.264) or .gif name, a folder for PNG frames (a name ending in '/'), or a .png name "
            "with %05d, e.g. 'pass.mp4'")
    if path.is_dir() and path.suffix.lower() in (".mp4", ".gif"):
        raise InputError(f"the output {text!r} is a folder; pass a file name inside it, e.g. "
                         f"{str(path / ('pass' + path.suffix.lower()))!r}", param="output")
    if text.endswith(("/", os.sep)) or path.is_dir():
        parent = path.resolve().parent
        check_output_folder(parent, path)
        if path.exists():
            if not path.is_dir():
                raise InputError(f"the output {text!r} ends in '/' but is a file; name a folder for the PNG "
                                 "frames", param="output")
            if any(path.iterdir()):
                raise InputError(f"the folder {text!r} is not empty; name a new or empty folder for the PNG "
                                 "frames (or a pattern such as 'frames/pass_%05d.png')", param="output")
            if not os.access(path, os.W_OK | os.X_OK):
                raise InputError(f"the folder {text!r} is not writable; name a folder you can write to",
                                 param="output")
        return OutputPlan("png", path, path)
    pattern = _pattern(path.name)
    suffix = path.suffix.lower()
    if pattern is not None:
        if suffix != ".png":
            raise InputError(f"the frame name {path.name!r} does not end in .png; PNG frames are named like "
                             "'frame_%05d.png'", param="output")
        check_output_folder(path.parent, path)
        return OutputPlan("png", path, path.parent, pattern)
    if suffix == ".png":
        raise InputError(f"cannot write a timelapse to {text!r}: one .png holds one picture; for PNG frames put "
                         "%05d in the name (e.g. 'frames/pass_%05d.png') or name a folder ('frames/'); for one "
                         "frame, render it", param="output")
    if suffix not in (".mp4", ".gif"):
        shown = f"ends in {path.suffix!r}" if path.suffix else "has no extension"
        raise InputError(f"cannot write a timelapse to {text!r}: the name {shown}; {uses}", param="output")
    check_output_folder(path.parent, path)
    if path.exists() and not os.access(path, os.W_OK):
        raise InputError(f"the file {text!r} exists and is read-only; pass another file name or make it "
                         "writable first", param="output")
    if suffix == ".mp4" and width is not None and (width % 2 or height % 2):
        raise InputError(f"an H.264 MP4 (yuv420p) needs an even width and height, got {width}x{height}; use "
                         f"{width - width % 2}x{height - height % 2} or {width + width % 2}x{height + height % 2}, "
                         "or a .gif or PNG frames", param="size")
    return OutputPlan(suffix[1:], path, path.parent)


def check_fps(fps, kind: str) -> Fraction:
    try:
        value = float(fps)
    except (TypeError, ValueError):
        value = math.nan
    top = GIF_MAX_FPS if kind == "gif" else MAX_FPS
    if not (math.isfinite(value) and MIN_FPS <= value <= top):
        why = " (GIF delays under 2/100 s play at 10 frames/s in browsers)" if kind == "gif" and value > top else ""
        raise InputError(f"the frame rate must be a number of at least {MIN_FPS:g} and at most {top:g} frames/s for "
                         f"{'a GIF' if kind == 'gif' else 'a video'}, got {fps!r}{why}; e.g. fps=25", param="fps")
    return Fraction(value).limit_denominator(1001)


# -- where the camera points ----------------------------------------------------------------------
def _lvlh(state) -> np.ndarray:
    from .view import lvlh_basis

    return lvlh_basis(np.asarray(state.r_teme_km, float), np.asarray(state.v_teme_km_s, float))


class Pointer:
    """The camera's attitude at each frame of a series (see the module docstring, `pointing`).

    ``pointer(i, scene)`` returns the :class:`~cupola.camera.Attitude` of frame i (None for
    ``pointing='look'``: the renderer resolves the Look from that frame's Scene).
    """

    def __init__(self, series, camera, pointing: str = "station", force: bool = False):
        from .camera import Attitude
        from .camera.attitude import why_not_in_view

        if pointing not in POINTINGS:
            raise InputError(f"unknown pointing {pointing!r}; use 'station' (fixed to the station as it orbits) "
                             "or 'look' (the Look resolved again at every frame)", param="pointing")
        self.pointing, self.tracked = pointing, bool(camera.tracked)
        self.first = series[0]
        self.attitude0 = None
        if pointing == "station":
            hidden = None if force else why_not_in_view(camera.look, self.first)
            if hidden:
                raise InputError(f"{hidden} at the first frame: it would not be in the frame", param="force",
                                 fix="force=True renders anyway")
            self.attitude0 = Attitude.from_look(camera.look, self.first, camera.roll_deg)
            lvlh = _lvlh(series.state).reshape(-1, 3, 3)
            # Camera axes in LVLH coordinates, fixed: B_i = (B_0 L_0^T) L_i.
            self._in_lvlh = self.attitude0.matrix @ lvlh[0].T
            self._lvlh = lvlh

    def __call__(self, i: int):
        from .camera import Attitude

        if self.attitude0 is None:
            return None
        if self.tracked:
            return self.attitude0
        return Attitude(self._in_lvlh @ self._lvlh[i])


# -- the caption strip ----------------------------------------------------------------------------
_WORDS = {
    "en": {"frame": "frame", "aurora_yes": "aurora in view to the {dir}", "aurora_no": "no aurora in view",
           "aurora_unknown": "Kp unknown: no aurora answer"},
    "fr": {"frame": "image", "aurora_yes": "aurore en vue vers le {dir}", "aurora_no": "pas d'aurore en vue",
           "aurora_unknown": "Kp inconnu : pas de réponse pour l'aurore"},
}


def caption_lines(scene, i: int, n: int, lang: str = "en") -> list[str]:
    """Return the caption strip of frame `i` of `n` (a single-instant Scene): time, satellite and
    frame number; the NASA-style caption (place, phase); the station's light and the aurora."""
    from .answers.i18n import LABELS, compass, separator
    from .timebase import iso_utc

    words, labels = _WORDS[lang], LABELS[lang]
    a = scene.aurora
    if a is None:
        aurora = words["aurora_unknown"]
    else:
        kp = f" (Kp {a.kp_symbol})"
        aurora = (words["aurora_yes"].format(dir=compass(float(a.azimuth_deg), lang)) if bool(a.visible)
                  else words["aurora_no"]) + kp
    light = labels["sunlit"] if bool(scene.lighting.sunlit) else labels["shadow"]
    return [f"{iso_utc(scene.t_utc)}  {scene.satellite}  {words['frame']} {i + 1}/{n}",
            str(scene.caption(lang)),
            f"{light}{separator(lang)}{aurora}"]


# -- writers --------------------------------------------------------------------------------------
def _umask_mode(mode: int) -> int:
    umask = os.umask(0)
    os.umask(umask)
    return mode & ~umask


class _Mp4Writer:
    """H.264 in MP4 through PyAV: yuv420p, BT.709, constant frame rate."""

    def __init__(self, target: str, width: int, height: int, fps: Fraction):
        import av
        from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace, ColorTrc

        self._av = av
        self._cs, self._range = Colorspace.ITU709, ColorRange.MPEG
        self.container = av.open(target, mode="w", format="mp4", options={"movflags": "+faststart"})
        try:
            s = self.stream = self.container.add_stream(MP4_CODEC, rate=fps)
            s.width, s.height, s.pix_fmt = width, height, "yuv420p"
            s.options = {"crf": str(MP4_CRF), "preset": MP4_PRESET}
            cc = s.codec_context
            cc.colorspace, cc.color_range = self._cs, self._range
            cc.color_primaries, cc.color_trc = ColorPrimaries.BT709, ColorTrc.IEC61966_2_1  # sRGB
        except BaseException:
            self.container.close()
            raise
        self.n = 0

    def write(self, rgb: np.ndarray) -> None:
        frame = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24").reformat(
            format="yuv420p", dst_colorspace=self._cs, dst_color_range=self._range)
        frame.pts = self.n
        self.n += 1
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def close(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.container.close()


def _gif_blocks(data: bytes) -> tuple[bytes, bytes]:
    """Return (global colour table, image descriptor + image data) of a one-frame GIF (GIF89a
    spec: header, logical screen descriptor, optional table, extensions, one image)."""
    packed = data[10]
    pos = 13
    table = b""
    if packed & 0x80:
        size = 3 << ((packed & 7) + 1)
        table, pos = data[pos:pos + size], pos + size
    while data[pos] == 0x21:  # extensions: introducer, label, then sub-blocks up to a 0 block
        pos += 2
        while data[pos]:
            pos += data[pos] + 1
        pos += 1
    if data[pos] != 0x2C:
        raise ValueError("no image descriptor in the encoded frame")
    start, local = pos, data[pos + 9]
    pos += 10
    if local & 0x80:
        pos += 3 << ((local & 7) + 1)
    pos += 1  # LZW minimum code size
    while data[pos]:
        pos += data[pos] + 1
    return table, data[start:pos + 1]


class _GifWriter:
    """Animated GIF89a with one global palette, written frame by frame (Pillow encodes each
    frame's LZW data; the file's blocks are written here), looping forever."""

    def __init__(self, target: str, width: int, height: int, fps: Fraction, palette):
        self.f = open(target, "wb")
        self.palette = palette  # a Pillow "P" image holding the palette
        table = bytes(palette.getpalette()[:768]).ljust(768, b"\x00")
        self.table = table
        self.fps, self.n = fps, 0
        head = b"GIF89a" + width.to_bytes(2, "little") + height.to_bytes(2, "little") + bytes([0xF7, 0, 0])
        loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"  # loop count 0: forever
        self.f.write(head + table + loop)

    def _delay_cs(self, i: int) -> int:
        """Delay of frame i in 1/100 s: whole hundredths whose running sum stays at round(100 i / fps)."""
        return round(100 * (i + 1) / self.fps) - round(100 * i / self.fps)

    def write(self, rgb: np.ndarray) -> None:
        import io

        from PIL import Image

        img = Image.fromarray(np.ascontiguousarray(rgb)).quantize(palette=self.palette, dither=Image.Dither.NONE)
        buf = io.BytesIO()
        img.save(buf, format="GIF", optimize=False)
        table, image = _gif_blocks(buf.getvalue())
        if table.ljust(768, b"\x00") != self.table:  # never seen; keep the frame right with its own table
            bits = (len(table) // 3).bit_length() - 2
            image = image[:9] + bytes([0x80 | bits]) + table + image[10:]
        delay = max(1, self._delay_cs(self.n))
        gce = b"\x21\xf9\x04\x04" + delay.to_bytes(2, "little") + b"\x00\x00"  # disposal: keep, no transparency
        self.f.write(gce + image)
        self.n += 1

    def close(self) -> None:
        self.f.write(b"\x3b")
        self.f.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.f.close()


class _PngWriter:
    def __init__(self, folder: str, plan: OutputPlan):
        self.folder, self.plan, self.n = folder, plan, 0

    def write(self, rgb: np.ndarray) -> None:
        from PIL import Image

        from .render.output import PNG_COMPRESS_LEVEL

        Image.fromarray(np.ascontiguousarray(rgb)).save(os.path.join(self.folder, self.plan.frame_name(self.n)),
                                                        format="PNG", compress_level=PNG_COMPRESS_LEVEL)
        self.n += 1

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


def _thin(rgb: np.ndarray) -> np.ndarray:
    k = max(1, int(math.ceil(rgb.shape[1] / GIF_SAMPLE_WIDTH)))
    return rgb[::k, ::k]


def gif_palette(frames: list[np.ndarray], colours: int = 256):
    """Return the Pillow "P" image of one palette for `frames` (RGB uint8 arrays): median cut of a
    mosaic of them, each thinned to about GIF_SAMPLE_WIDTH pixels wide (every k-th pixel, so its
    colours are real ones, not blends)."""
    from PIL import Image

    parts = [_thin(rgb) for rgb in frames]
    width = max(p.shape[1] for p in parts)
    mosaic = np.concatenate([np.pad(p, ((0, 0), (0, width - p.shape[1]), (0, 0)), mode="edge") for p in parts])
    return Image.fromarray(mosaic).quantize(colors=colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)


# -- the output's temporary twin ------------------------------------------------------------------
@contextlib.contextmanager
def _staged(plan: OutputPlan):
    """Yield the temporary file or folder to write into; on success move it to the plan's path,
    on any exception remove it (the target is then left as it was)."""
    if plan.kind in ("mp4", "gif"):
        fd, tmp = tempfile.mkstemp(prefix=".cupola-", suffix=f".{plan.kind}", dir=plan.folder)
        os.close(fd)
        try:
            yield tmp
            os.chmod(tmp, _umask_mode(0o666))  # mkstemp makes 0600; give the file the usual permissions
            os.replace(tmp, plan.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return
    # PNG frames: a folder beside the target folder (renamed to it), or, for a name pattern, one
    # inside the folder the frames go to (each file moved out at the end).
    parent = plan.folder if plan.pattern else plan.path.resolve().parent
    tmp = tempfile.mkdtemp(prefix=".cupola-", dir=parent)
    try:
        yield tmp
        if plan.pattern:
            for name in sorted(os.listdir(tmp)):
                os.replace(os.path.join(tmp, name), plan.folder / name)
            os.rmdir(tmp)
        else:
            os.chmod(tmp, _umask_mode(0o777))
            os.replace(tmp, plan.path)  # onto a missing or empty folder (checked before the work)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# -- the timelapse --------------------------------------------------------------------------------
@dataclass(frozen=True)
class TimelapseResult:
    """What :func:`timelapse` wrote and how long each part took (s)."""

    path: Path
    kind: str  # 'mp4', 'gif' or 'png'
    frames: int
    fps: float
    width: int
    height: int
    size_bytes: int  # the file, or all PNG frames together
    scene_s: float  # compute_scene over all instants
    render_s: float  # rendering (and captioning) every frame, GIF palette samples included
    encode_s: float  # colour conversion, encoding and writing
    total_s: float
    t_start_utc: np.datetime64
    t_end_utc: np.datetime64

    @property
    def duration_s(self) -> float:
        """The clip's length when played: frames / fps."""
        return self.frames / self.fps

    @property
    def render_fps(self) -> float:
        return self.frames / self.render_s if self.render_s > 0 else math.inf

    @property
    def encode_fps(self) -> float:
        return self.frames / self.encode_s if self.encode_s > 0 else math.inf


def _size_bytes(plan: OutputPlan, n: int) -> int:
    if plan.kind != "png":
        return plan.path.stat().st_size
    return sum((plan.folder / plan.frame_name(i)).stat().st_size for i in range(n))


def timelapse(start, end, step_s: float, camera, path, fps: float = 30, sat=None, kp: float | None = None,
              settings=None, caption: bool = False, lang: str = "en", progress: bool = False,
              allow_stale: bool = False, force: bool = False, pointing: str = "station",
              frame_hook=None) -> TimelapseResult:
    """Render the view of `camera` from `start` to `end` every `step_s` seconds into `path`.

    Args:
        start, end: instants (ISO text with a zone, aware datetimes, datetime64 UTC); `end` is
            included when it falls on a step.
        step_s: seconds between frames (> 0); at most :data:`MAX_FRAMES` frames.
        camera: a :class:`~cupola.camera.Camera` (size, lens, look, exposure; ``tracked``).
        path: ``.mp4``, ``.gif``, a folder for PNG frames or a ``.png`` name with ``%05d`` (see the
            module docstring); written only when complete.
        fps: frames per second of the clip (MP4 up to 120, GIF up to 50).
        sat, kp, allow_stale: as for :func:`cupola.scene.compute_scene` (one series for all frames).
        settings: :class:`~cupola.render.RenderSettings` (layers, calibration).
        caption: draw the caption strip on every frame, in `lang` ('en' or 'fr').
        progress: show a progress bar (tqdm, on standard error) with frames/s and the time left.
        force: draw even when the Look's target or sky object is out of view (at the first frame
            for ``pointing='station'``, at any frame for ``'look'``).
        pointing: 'station' (fixed to the station: LVLH, or the sky when tracked) or 'look' (the
            Look resolved at every frame); see the module docstring.
        frame_hook: called as ``frame_hook(i, frame)`` after frame i is rendered (tests, previews);
            an exception there stops the timelapse like any other, leaving no file.
    Returns:
        a :class:`TimelapseResult` (path, frames, clip duration, size, timings).
    Raises:
        InputError: any bad argument, refused before rendering (see :func:`frame_times`,
            :func:`check_timelapse_output`), or a Look out of view without `force`.
        OutputError: the output could not be written (a full disk, a file-size limit); nothing is left of it.
    """
    from .answers.i18n import check_lang

    t_begin = time.perf_counter()
    check_lang(lang)
    plan = check_timelapse_output(path, camera.width_px, camera.height_px)
    rate = check_fps(fps, plan.kind)
    times = frame_times(start, end, step_s)
    if plan.kind == "mp4":
        try:
            import av  # noqa: F401  (a missing PyAV is refused before the work, with the install line)
        except ImportError:
            raise DataMissingError("writing an MP4 needs PyAV, which is not installed: pip install 'av>=14,<20' "
                                   "(or write a .gif or PNG frames)", param="output") from None
    from .render import DEFAULT_SETTINGS, FramePool, render
    from .render.output import draw_caption
    from .scene import compute_scene

    settings = settings or DEFAULT_SETTINGS
    t0 = time.perf_counter()
    series = compute_scene(times, camera=camera, sat=sat, kp=kp, allow_stale=allow_stale)
    scene_s = time.perf_counter() - t0
    _refuse_unknown_positions(series)
    pointer = Pointer(series, camera, pointing, force)
    n = len(series)
    pool = FramePool()
    spent = {"render": 0.0, "encode": 0.0}

    def draw(i: int) -> np.ndarray:
        t = time.perf_counter()
        scene = pointer.first if i == 0 else series[i]
        frame = render(scene, camera, settings, attitude=pointer(i), pool=pool, force=force)
        if frame_hook is not None:
            frame_hook(i, frame)
        rgb = draw_caption(frame.rgb, caption_lines(scene, i, n, lang)) if caption else frame.rgb
        spent["render"] += time.perf_counter() - t
        return rgb

    samples = _gif_samples(n) if plan.kind == "gif" else []
    bar = _progress_bar(n + len(samples), progress)
    try:
        with _sigterm_as_exit(), _staged(plan) as tmp:
            kept, palette = {}, None
            if plan.kind == "gif":  # the palette first, from frames sampled over the whole clip
                keep = len(samples) * camera.width_px * camera.height_px * 3 <= GIF_KEEP_BYTES
                thinned = []
                for i in samples:
                    rgb = draw(i)  # a fresh array: the renderer's rgb and draw_caption's are not pooled
                    thinned.append(_thin(rgb))
                    if keep:
                        kept[i] = rgb
                    bar.update(1)
                palette = gif_palette(thinned)
                del thinned
            # Encoding in the same thread: an encoder thread measured no faster on 2 cores (it
            # competes with the renderer's parallel kernels), 88-113 s against 85-109 s an orbit.
            writer = _writer(plan, tmp, camera, rate, palette)
            try:
                for i in range(n):
                    rgb = kept.pop(i) if i in kept else draw(i)
                    t = time.perf_counter()
                    writer.write(rgb)
                    spent["encode"] += time.perf_counter() - t
                    bar.update(1)
                t = time.perf_counter()
                writer.close()
                spent["encode"] += time.perf_counter() - t
            except BaseException:
                writer.abort()
                raise
    except CupolaError:
        raise
    except OSError as exc:  # a full disk or a file-size limit: the temporary is gone (_staged), say so
        raise write_failed(plan.path, exc) from exc
    finally:
        bar.close()
    result = TimelapseResult(path=plan.path, kind=plan.kind, frames=n, fps=float(rate), width=camera.width_px,
                             height=camera.height_px, size_bytes=_size_bytes(plan, n), scene_s=scene_s,
                             render_s=spent["render"], encode_s=spent["encode"],
                             total_s=time.perf_counter() - t_begin, t_start_utc=times[0], t_end_utc=times[-1])
    log.info("timelapse %s: %d frames, scene %.2f s, render %.2f s, encode %.2f s", plan.path, n, scene_s,
             result.render_s, result.encode_s)
    return result


def _gif_samples(n: int) -> list[int]:
    return sorted({int(round(x)) for x in np.linspace(0, n - 1, min(n, GIF_PALETTE_FRAMES))})


def _writer(plan: OutputPlan, tmp: str, camera, rate: Fraction, palette):
    if plan.kind == "mp4":
        return _Mp4Writer(tmp, camera.width_px, camera.height_px, rate)
    if plan.kind == "gif":
        return _GifWriter(tmp, camera.width_px, camera.height_px, rate, palette)
    return _PngWriter(tmp, plan)


def _progress_bar(total: int, show: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="frame", disable=not show, desc="timelapse", dynamic_ncols=True)


def _refuse_unknown_positions(series) -> None:
    from .timebase import iso_utc

    err = np.asarray(series.state.error).reshape(-1)
    bad = np.flatnonzero(err != 0)
    if bad.size:
        k = int(bad[0])
        raise InputError(f"the element sets give no position at {iso_utc(np.asarray(series.t_utc).reshape(-1)[k])} "
                         f"(frame {k + 1} of {err.size}; SGP4 error {int(err[k])}) and at {bad.size - 1} other "
                         "frames", param="sat", fix="use element sets nearer those times, e.g. Satellite.from_file(path)")


__all__ = ["timelapse", "frame_times", "check_timelapse_output", "caption_lines", "gif_palette", "Pointer",
           "OutputPlan", "TimelapseResult", "MAX_FRAMES", "MAX_FPS", "GIF_MAX_FPS", "POINTINGS"]

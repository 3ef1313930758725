"""Hardening of the web app (issue 17): hostile uploads to /api/annotate, overload, SIGTERM mid-request.

The hostile files are written byte by byte (a PNG's IHDR, a JPEG's SOF, a TIFF's IFD, an EXIF block: the
builders of ``tests/exif_bytes.py``), so what they declare is known independently of Pillow's and exifread's
readers. Every refusal must be a 4xx JSON error naming the request parameter and the problem, with no server path
in it; every request, answered or refused, must leave nothing behind: the app's temporary folder holds only the
overlays it serves, and the temporary root (a private one: TMPDIR, or ``tempfile.tempdir`` in-process) and the
working directory hold nothing new. The subprocess servers run ``cupola serve`` itself.
"""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")
from exif_bytes import (ascii_tag, exif_block, jpeg_declaring, png_declaring, rational,  # noqa: E402
                        small_image, tiff_declaring)
from fastapi.testclient import TestClient  # noqa: E402
from PIL import Image  # noqa: E402
from test_web_api import SEED1, check_error  # noqa: E402

from cupola.web import WebLimits, create_app  # noqa: E402
from cupola.web.app import SHUTDOWN_GRACE_S  # noqa: E402

MB = 1 << 20
ROOT = Path(__file__).resolve().parents[1]
# What a tiny photo needs to be annotated without EXIF (it has too few pixels for stars: the fallback look).
GIVEN = {"lens": 24, "camera": "D5", "time": SEED1, "look": "horizon:ahead,8"}
CONTENT_TYPE = {"JPEG": "image/jpeg", "PNG": "image/png", "TIFF": "image/tiff"}


# -- the app, with a private temporary root and working directory ------------------------------------
def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def web(tmp_path, monkeypatch):
    """Yield (client, clip_dir); afterwards nothing may be left but the overlays the app serves."""
    tmp_root, cwd = tmp_path / "tmp", tmp_path / "cwd"
    tmp_root.mkdir()
    cwd.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_root))
    monkeypatch.chdir(cwd)
    with TestClient(create_app()) as c:
        clip_dir = c.app.state.clip_dir
        assert clip_dir.parent == tmp_root
        yield c, clip_dir
        left = listing(clip_dir)
        assert all(re.fullmatch(r"overlay-[0-9a-f]{16}\.png", x) for x in left), left
    assert listing(tmp_root) == [] and listing(cwd) == []  # the clip folder went with the app


def post_photo(c, data: bytes, content_type: str, how: str = "body", name: str | None = None, **params):
    if how == "body":
        return c.post("/api/annotate", content=data, headers={"content-type": content_type},
                      params={**params, **({"name": name} if name is not None else {})})
    return c.post("/api/annotate", files={"photo": (name or "upload", data, content_type)}, params=params)


def refused(r, param: str, match: str, status: int = 422) -> dict:
    body = check_error(r, status, param)
    assert re.search(match, body["detail"]), body["detail"]
    assert "/tmp" not in r.text and "cupola-web" not in r.text and tempfile.gettempdir() not in r.text
    return body


# -- hostile uploads ----------------------------------------------------------------------------------
BOMBS = {
    "png 100k x 100k": (png_declaring(100_000, 100_000), "image/png", r"10,000,000,000 pixels, past Pillow's "
                                                                     r"decompression-bomb limit"),
    "jpeg 65000 x 65000": (jpeg_declaring(65_000, 65_000), "image/jpeg", r"4,225,000,000 pixels, past Pillow"),
    "tiff 100k x 100k": (tiff_declaring(100_000, 100_000), "image/tiff", r"10,000,000,000 pixels, past Pillow"),
    # between cupola's 64 MP and Pillow's limits (its warning at 89 MP, its error at 179 MP)
    "png 10000 x 10000": (png_declaring(10_000, 10_000), "image/png", r"10000x10000 pixels \(100 megapixels\), "
                                                                      r"more than cupola handles \(64"),
    "jpeg 8500 x 8500": (jpeg_declaring(8500, 8500), "image/jpeg", r"8500x8500 pixels \(72 megapixels\)"),
    "tiff 65535 x 1200": (tiff_declaring(65_535, 1200), "image/tiff", r"65535x1200 pixels \(79 megapixels\)"),
    "png 1 x 4": (png_declaring(1, 4), "image/png", r"1x4 pixels; a photograph to annotate has at least 8x8"),
}


@pytest.mark.parametrize("how", ["body", "form"])
@pytest.mark.parametrize("case", list(BOMBS))
def test_bombs_and_huge_dimensions_are_refused_from_the_header(web, monkeypatch, case, how):
    """A few hundred bytes declaring up to 10 gigapixels: refused in milliseconds from the header, before the
    worker queue (the annotation itself would fail the test), with the size declared and the limit."""
    import warnings

    import cupola.photo.annotate

    def never(*_a, **_k):
        raise AssertionError("the upload reached the worker")

    monkeypatch.setattr(cupola.photo.annotate, "annotate", never)
    c, _clip_dir = web
    data, kind, match = BOMBS[case]
    assert len(data) < 2000
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DecompressionBombWarning either (the CLI prints one line)
        t = time.perf_counter()
        r = post_photo(c, data, kind, how, name="bomb")
        assert time.perf_counter() - t < 3.0
    refused(r, "body", match)


def _server_env(tmp_root: Path) -> dict:
    env = dict(os.environ, TMPDIR=str(tmp_root))
    src = str(ROOT / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tmp_path: Path, port: int, grace_s: float | None = None,
                 frame_delay_s: float | None = None) -> subprocess.Popen:
    """`cupola serve --port PORT` with TMPDIR and the working directory in `tmp_path` (grace_s: a shorter
    SHUTDOWN_GRACE_S, set before the server starts; frame_delay_s: every rendered frame takes at least this much
    longer, so a job is surely mid-run however fast the machine); return it once it answers."""
    tmp_root, cwd = tmp_path / "tmp", tmp_path / "cwd"
    tmp_root.mkdir(exist_ok=True)
    cwd.mkdir(exist_ok=True)
    slow = ("import time, cupola.render as r; _render = r.render; "
            f"r.render = lambda *a, **k: (time.sleep({frame_delay_s}), _render(*a, **k))[1]; ")
    code = ("import sys; import cupola.web.app as a; " + (f"a.SHUTDOWN_GRACE_S = {grace_s}; " if grace_s else "")
            + (slow if frame_delay_s else "") + "from cupola.cli import main; sys.exit(main())")
    proc = subprocess.Popen([sys.executable, "-c", code, "serve", "--port", str(port)], cwd=cwd,
                            env=_server_env(tmp_root), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/presets", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"the server did not start: {proc.communicate()}")


def proc_status(pid: int, key: str) -> int:
    """Return a /proc/PID/status field in bytes (VmRSS, VmHWM, VmSize)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(key)


def stop(proc: subprocess.Popen, timeout_s: float) -> tuple[int, str, float]:
    """SIGTERM `proc`; return (exit code, stderr, seconds to exit)."""
    t = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        _out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        _out, err = proc.communicate()
        raise AssertionError(f"the server did not exit within {timeout_s} s of SIGTERM: {err[-2000:]}") from None
    return proc.returncode, err, time.monotonic() - t


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and prlimit")
def test_bombs_in_a_server_with_bounded_memory(tmp_path):
    """Against `cupola serve` itself, its address space capped 2 GiB above what it holds (a decoded
    10-gigapixel bomb would need 30 GB) and its peak RSS reset: every bomb, as a body and as a form, is
    refused and the peak grows by less than 64 MB; nothing is written to TMPDIR or the working directory
    but the app's own folder, which SIGTERM removes."""
    import resource

    port = free_port()
    proc = start_server(tmp_path, port)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as c:
            data, kind, _ = BOMBS["png 10000 x 10000"]
            assert c.post("/api/annotate", content=data, headers={"content-type": kind}).status_code == 422  # warm
            vm = proc_status(proc.pid, "VmSize")
            resource.prlimit(proc.pid, resource.RLIMIT_AS, (vm + 2048 * MB, resource.RLIM_INFINITY))
            try:
                Path(f"/proc/{proc.pid}/clear_refs").write_text("5")  # VmHWM := VmRSS
            except OSError:
                pass
            rss0 = proc_status(proc.pid, "VmRSS")
            for _round in range(3):
                for name, (data, kind, match) in BOMBS.items():
                    for r in (c.post("/api/annotate", content=data, headers={"content-type": kind}),
                              c.post("/api/annotate", files={"photo": ("b.png", data, kind)})):
                        refused(r, "body", match)
            peak = proc_status(proc.pid, "VmHWM")
            assert peak - rss0 < 64 * MB, (rss0 / MB, peak / MB)
            assert c.get("/api/presets").status_code == 200
        tmp_root = tmp_path / "tmp"
        folders = listing(tmp_root)
        assert len(folders) == 1 and folders[0].startswith("cupola-web-clips-"), folders
        assert listing(tmp_path / "cwd") == []
    finally:
        code, err, _dt = stop(proc, 60)
    assert code == 143 and "Traceback" not in err, err
    assert listing(tmp_path / "tmp") == [] and listing(tmp_path / "cwd") == []


@pytest.mark.parametrize("how", ["body", "form"])
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "TIFF"])
def test_truncated_images_are_refused(web, fmt, how):
    """Cut after its header (the pixels fail to decode) and cut inside its header: 422, param body."""
    c, _ = web
    whole = small_image(fmt, 256, 192)
    assert post_photo(c, whole, CONTENT_TYPE[fmt], how, **GIVEN).status_code == 200  # the file itself is fine
    refused(post_photo(c, whole[:len(whole) // 2], CONTENT_TYPE[fmt], how, **GIVEN), "body",
            r"its pixel data is truncated or corrupt")
    refused(post_photo(c, whole[:20], CONTENT_TYPE[fmt], how, **GIVEN), "body",
            rf"its {fmt} header is broken|not a JPEG, TIFF or PNG")


NOT_IMAGES = {
    "html": b"<!doctype html><html><body>hello</body></html>",
    "pdf": b"%PDF-1.7\n1 0 obj << >> endobj\n",
    "zip": b"PK\x03\x04" + bytes(200),
    "elf": b"\x7fELF\x02\x01\x01" + bytes(200),
    "gif": small_image("GIF"),
    "webp": small_image("WEBP"),
    "bigtiff": b"II+\x00\x08\x00\x00\x00" + bytes(64),
    "random": np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes(),
    "json": b'{"photo": "x.jpg"}',
}


@pytest.mark.parametrize("how", ["body", "form"])
@pytest.mark.parametrize("case", list(NOT_IMAGES))
@pytest.mark.parametrize("kind", ["image/jpeg", "image/png", "image/tiff"])
def test_non_image_bytes_with_an_image_type_are_refused(web, case, kind, how):
    c, _ = web
    data = NOT_IMAGES[case]
    body = refused(post_photo(c, data, kind, how), "body", r"not a JPEG, TIFF or PNG|BigTIFF|header is broken")
    if case not in ("bigtiff",) and not data.startswith(b"\xff\xd8\xff"):
        assert data[:8].hex(" ") in body["detail"]  # the bytes it starts with, shown


def _exif_photo(exif: list, gps: list | None = None, loop: bool = False) -> bytes:
    make = [ascii_tag(0x010F, "NIKON CORPORATION"), ascii_tag(0x0110, "NIKON D5")]
    gps = gps if gps is not None else [
        ascii_tag(0x0001, "N"), (0x0002, 5, 3, rational(200) + rational(99) + rational(99)),  # latitude 200 deg
        ascii_tag(0x0003, "Q"), (0x0004, 5, 3, rational(400) + rational(0) + rational(0)),
        (0x0006, 5, 1, rational(4_000_000_000))]  # altitude 4e9 m
    return small_image("JPEG", exif=exif_block(make, exif, gps, loop=loop))


DATE = ascii_tag(0x9003, "2024:01:19 16:02:54")
FOCAL_24 = (0x920A, 5, 1, rational(24))
ABSURD_EXIF = {
    # (EXIF IFD entries, loop) -> what the answer must say
    "exposure 1e9 s": ([DATE, FOCAL_24, (0x829A, 5, 1, rational(1_000_000_000))], False),
    "year 9999": ([ascii_tag(0x9003, "9999:12:31 23:59:59"), FOCAL_24], False),
    "year 0000": ([ascii_tag(0x9003, "0000:00:00 00:00:00"), FOCAL_24], False),
    "a 60 kB MakerNote": ([DATE, FOCAL_24, (0x927C, 7, 60_000, b"\xff" * 60_000)], False),
    "an IFD loop": ([DATE, FOCAL_24], True),
    "focal length 0": ([DATE, (0x920A, 5, 1, rational(0))], False),
    "focal length -24": ([DATE, (0x920A, 10, 1, rational(-24, 1, signed=True))], False),
    "zero denominators": ([DATE, (0x829A, 5, 1, rational(1, 0)), (0x920A, 5, 1, rational(24, 0))], False),
}


@pytest.mark.parametrize("case", list(ABSURD_EXIF))
def test_absurd_exif_is_ignored_with_a_note_or_refused_naming_what_to_give(web, case):
    """A valid image whose EXIF says nonsense (GPS out of range in all of them): the nonsense is never taken
    as a value; the answer says so in its notes, or, when the value is needed (the focal length), the
    refusal names the parameter that supplies it."""
    c, _ = web
    entries, loop = ABSURD_EXIF[case]
    t = time.perf_counter()
    r = post_photo(c, _exif_photo(entries, loop=loop), "image/jpeg", look="horizon:ahead,8")
    assert time.perf_counter() - t < 20.0  # the first call loads the star detector
    if case.startswith(("focal", "zero")):
        refused(r, "lens", r"give the lens \(lens=MM\)")
        return
    assert r.status_code == 200, r.text
    a = r.json()
    notes = " ".join(a["notes"]) if isinstance(a.get("notes"), list) else r.text
    if case == "exposure 1e9 s":
        assert a["photo"]["exposure_s"] is None and "1e+09 s is absurd" in notes
    elif case.startswith("year"):
        assert a["time_utc"] is None and a["caption"] is None
        assert "time" in a["elements_note"]  # says to give the time
    else:
        assert a["photo"]["focal_mm"] == 24.0 and a["time_utc"].startswith("2024-01-19T16:02:54")
    assert "gps" not in r.text.lower()


NASTY_NAMES = ["../../sentinel.jpg", "/etc/passwd.jpg", "..", ".", "a\x00b.jpg", "x" * 5000 + ".jpg",
               "фото 🚀 ночь.jpg", "C:\\Windows\\..\\..\\boot.jpg", "\u202egpj.exe.jpg", " .jpg", "%2e%2e%2fup.jpg",
               "\n\r.jpg"]


@pytest.mark.parametrize("how", ["body", "form"])
def test_file_names_with_path_tricks_stay_in_the_app_folder(web, how):
    """Each name is answered (200: a good photo) with a plain file name (letters, digits, '.', '-', '_'; at
    most 84 characters) and nothing is written anywhere but the app's folder; a refused photo's message uses
    the same plain name."""
    c, clip_dir = web
    good = small_image("JPEG")
    for name in NASTY_NAMES:
        if how == "form" and any(ch in name for ch in "\x00\r\n"):
            continue  # not sendable as a multipart header (httpx refuses); sent as the name parameter below
        r = post_photo(c, good, "image/jpeg", how, name=name, **GIVEN)
        if how == "form" and len(name) > 1000:  # past python-multipart's header bound
            refused(r, "body", r"the form could not be read")
            continue
        assert r.status_code == 200, (name, r.text)
        shown = r.json()["photo"]["path"]
        # one path component (no separator, not '.' or '..'), of the kept characters
        assert re.fullmatch(r"[A-Za-z0-9._-]{1,84}", shown) and shown not in (".", "..") and shown.endswith(".jpg")
        bad = post_photo(c, good[:200], "image/jpeg", how, name=name, **GIVEN)
        body = refused(bad, "body", r"cannot read the photograph")
        assert f"'{shown}'" in body["detail"]
        assert all(re.fullmatch(r"overlay-[0-9a-f]{16}\.png", x) for x in listing(clip_dir))
    if how == "form":
        r = c.post("/api/annotate", files={"photo": ("x.jpg", good, "image/jpeg")}, params={"name": "a\x00b.jpg",
                                                                                              **GIVEN})
        assert r.status_code == 200 and r.json()["photo"]["path"] == "a_b.jpg"


def flood_while_held(c, ask, n: int, early_n: int, watch=None):
    """Hold the app's worker with a job, call ``ask(i)`` (returning a response) from `n` threads at once, and
    return (the (seconds, response) pairs answered while the worker was still held, once `early_n` of them
    came or after 20 s; all of them, after the release). `watch()` is called while waiting."""
    gate = threading.Event()
    c.app.state.pool.submit(gate.wait, 60)
    results, lock = [], threading.Lock()

    def one(i):
        t = time.monotonic()
        r = ask(i)
        with lock:
            results.append((time.monotonic() - t, r))

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(n)]
    try:
        for th in threads:
            th.start()
        deadline = time.monotonic() + 20
        while len(results) < early_n and time.monotonic() < deadline:
            if watch is not None:
                watch()
            time.sleep(0.02)
        early = list(results)
    finally:
        gate.set()
    for th in threads:
        th.join(120)
    assert not any(th.is_alive() for th in threads), "a request hung"
    return early, results


def test_concurrent_uploads_are_each_answered_and_bounded(web):
    """16 uploads at once while the worker is held: the first `max_uploads` (8) wait their turn, the other 8 are
    refused at once with 503 and Retry-After (the folder never holds more than 8 photos); released, the 8 are
    answered; no thread hangs."""
    c, clip_dir = web
    good = small_image("JPEG")
    seen_dirs = []
    early, results = flood_while_held(
        c, lambda i: post_photo(c, good, "image/jpeg", "body" if i % 2 else "form", name=f"p{i}.jpg", **GIVEN),
        16, 8, watch=lambda: seen_dirs.append(sum(p.is_dir() for p in clip_dir.iterdir())))
    assert len(early) == 8, [r.status_code for _t, r in early]
    for _dt, r in early:
        check_error(r, 503, kind="Busy", match="photos being received or annotated")
        assert int(r.headers["retry-after"]) >= 1
    assert sorted(r.status_code for _t, r in results) == [200] * 8 + [503] * 8
    assert max(seen_dirs, default=0) <= 8


# -- overload -----------------------------------------------------------------------------------------
def test_a_render_flood_is_refused_quickly_past_the_queue():
    """More renders at once than the pool runs and queues (1 + 2, one place taken by a held job): the excess
    answer 503 with Retry-After at once, while the worker is still held; the queued ones are then answered."""
    with TestClient(create_app(WebLimits(workers=1, queue=2))) as c:
        early, results = flood_while_held(
            c, lambda i: c.get("/api/render", params={"t": SEED1, "w": 64, "h": 36, "look": f"horizon:{i * 20},5"}),
            12, 10)
    assert len(early) == 10
    for _dt, r in early:
        check_error(r, 503, kind="Busy", match="heavy work")
        assert r.headers["retry-after"] == "2"
    assert sorted(r.status_code for _dt, r in results) == [200] * 2 + [503] * 10


# -- SIGTERM mid-request ------------------------------------------------------------------------------
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_mid_render_finishes_it_exits_143_and_the_port_is_free(tmp_path):
    """A render in flight when SIGTERM comes is answered in full; the server exits 143 ('cupola: stopped
    (SIGTERM)', no traceback) within the grace; its folder is gone; a new server takes the same port."""
    port = free_port()
    proc = start_server(tmp_path, port)
    base = f"http://127.0.0.1:{port}"
    got = {}
    q = {"t": SEED1, "w": 640, "h": 360, "look": "horizon:ahead,6"}

    def render():
        try:
            got["r"] = httpx.get(f"{base}/api/render", params=q, timeout=120)
        except httpx.HTTPError as exc:
            got["r"] = exc

    try:
        assert httpx.get(f"{base}/api/where", params={"t": SEED1}, timeout=120).status_code == 200  # warm
        th = threading.Thread(target=render)
        th.start()
        time.sleep(0.3)  # the request is in, its render running
    finally:
        code, err, dt = stop(proc, 2 * SHUTDOWN_GRACE_S + 30)
    th.join(30)
    assert code == 143 and err.strip().splitlines()[-1] == "cupola: stopped (SIGTERM)" and "Traceback" not in err, err
    r = got["r"]
    assert isinstance(r, httpx.Response) and r.status_code == 200, r
    assert Image.open(io.BytesIO(r.content)).size == (640, 360)
    assert listing(tmp_path / "tmp") == [] and listing(tmp_path / "cwd") == []
    again = start_server(tmp_path, port)  # the same port, at once
    try:
        assert httpx.get(f"{base}/api/presets", timeout=10).status_code == 200
    finally:
        code, err, _ = stop(again, 30)
    assert code == 143, err


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_during_a_stuck_upload_exits_within_the_grace(tmp_path):
    """A client that sends half its upload and stops cannot hold the server: a second before the grace (2 s
    here) ends it is answered 503 in JSON, the server exits 143, the half-received file removed; an upload
    completed during the grace is answered (422 here: no image, refused in the request, no worker job)."""
    port = free_port()
    proc = start_server(tmp_path, port, grace_s=2.0)
    stuck = socket.create_connection(("127.0.0.1", port))
    slow = socket.create_connection(("127.0.0.1", port))
    try:
        body = NOT_IMAGES["random"]
        head = (f"POST /api/annotate HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        for sock in (stuck, slow):
            sock.sendall(head + body[:len(body) // 2])
            sock.settimeout(30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(list((tmp_path / "tmp").glob("cupola-web-clips-*/*/*"))) < 2:
            time.sleep(0.05)
        assert len(list((tmp_path / "tmp").glob("cupola-web-clips-*/*/*"))) == 2  # both being received
        t = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        slow.sendall(body[len(body) // 2:])  # finished within the grace: answered
        answers = []
        for sock in (slow, stuck):
            answer = b""
            while chunk := sock.recv(65536):  # to the end: the server closes once it has answered
                answer += chunk
            answers.append(answer)
        try:
            _out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError("the server did not exit") from None
        dt = time.monotonic() - t
    finally:
        stuck.close()
        slow.close()
        if proc.poll() is None:
            proc.kill()
    assert answers[0].startswith(b"HTTP/1.1 422") and b"not a JPEG, TIFF or PNG" in answers[0], answers[0][:400]
    assert answers[1].startswith(b"HTTP/1.1 503") and b"the server is stopping" in answers[1], answers[1][:400]
    assert b"application/json" in answers[1] and b"retry-after: 2" in answers[1].lower()
    assert proc.returncode == 143 and "Traceback" not in err, err
    assert dt < 2.0 + 6.0, dt  # the grace, then the exit
    assert listing(tmp_path / "tmp") == [] and listing(tmp_path / "cwd") == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_mid_timelapse_stops_it_at_a_frame_and_leaves_nothing(tmp_path):
    """A queued timelapse job a few frames in when SIGTERM comes stops at its next frame: the server exits 143
    within the grace, and neither the clip nor its temporary is left."""
    port = free_port()
    proc = start_server(tmp_path, port, frame_delay_s=0.2)  # 119 frames >= 24 s: a fast machine cannot finish first
    base = f"http://127.0.0.1:{port}"
    try:
        q = {"from": "2024-01-19T16:00:00Z", "to": "2024-01-19T16:59:00Z", "step": "30s", "w": 64, "h": 36,
             "look": "nadir", "layers": "earth"}  # the Earth alone: fewer tables to load first
        job = httpx.post(f"{base}/api/timelapse", params=q, timeout=60).json()
        assert job["frames"] == 119, job
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and job["done_frames"] < 2:
            time.sleep(0.05)
            job = httpx.get(base + job["status_url"], timeout=10).json()
        assert job["status"] == "running" and job["done_frames"] < job["frames"], job
        assert list((tmp_path / "tmp").glob("cupola-web-clips-*/*"))  # the clip being written
    finally:
        code, err, dt = stop(proc, 2 * SHUTDOWN_GRACE_S + 30)
    assert code == 143 and "Traceback" not in err, err
    assert dt < SHUTDOWN_GRACE_S + 10, dt
    assert listing(tmp_path / "tmp") == [] and listing(tmp_path / "cwd") == []

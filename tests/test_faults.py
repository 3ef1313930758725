"""Faults (issue 17): missing or damaged bundled data, a full disk while writing a frame or a timelapse, SIGTERM
and SIGINT to a running timelapse, a read-only numba cache directory.

What the user must see each time: one line ``cupola: error: ...`` naming what failed and the fix, exit 2 (130 on
Ctrl-C, 143 on SIGTERM), no traceback, and nothing half-written: no output file, no ``.cupola-*`` temporary, an
existing output left as it was.

Bundled data: the loaders read ``cupola/data`` through ``importlib.resources.files('cupola')``; here that is
pointed at a copy of the folder (links to the real files, never modified) in which one file is removed,
truncated to half, or overwritten with text, and every cached table is dropped before and after.

A full disk: the command runs in a subprocess whose file-size limit (``RLIMIT_FSIZE``, SIGXFSZ ignored) is 1 kB,
so its writes fail with EFBIG as they would with ENOSPC on a full disk; and in the test process a GIF writer's
file object raises ENOSPC after a few bytes (a size-limited file).
"""

from __future__ import annotations

import errno
import importlib.resources
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_cli_fuzz import run

ROOT = Path(__file__).resolve().parents[1]
T = "2024-01-22T13:05:00Z"  # daylight over Egypt (2024 sets)
T_NIGHT = "2024-01-20T12:00:00Z"  # night over the Pacific north of Hawaii: airglow on the limb
SPAN = ["--from", "2024-01-20T00:00:00Z", "--to", "2024-01-20T00:30:00Z"]
REAL_DATA = Path(importlib.resources.files("cupola")) / "data"


def _clear_cupola_caches() -> None:
    """Drop every functools cache of every loaded cupola module (tables reload from the files next time)."""
    for name, module in list(sys.modules.items()):
        if not (name == "cupola" or name.startswith("cupola.")):
            continue
        for value in list(vars(module).values()):
            targets = [value] + ([v for v in vars(value).values()] if isinstance(value, type) else [])
            for target in targets:
                if callable(getattr(target, "cache_clear", None)):
                    target.cache_clear()


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """Yield a copy of cupola/data (links to the real files) that the package reads instead of its own."""
    package = tmp_path / "pkg" / "cupola"
    data = package / "data"
    for src in REAL_DATA.rglob("*"):
        dst = data / src.relative_to(REAL_DATA)
        if src.is_dir():
            dst.mkdir(parents=True, exist_ok=True)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.symlink_to(src)
    real_files = importlib.resources.files

    def files(anchor):
        name = getattr(anchor, "__name__", anchor)
        if name == "cupola":
            return package
        if name == "cupola.data":
            return data
        return real_files(anchor)

    _clear_cupola_caches()
    monkeypatch.setattr(importlib.resources, "files", files)
    yield data
    monkeypatch.undo()
    _clear_cupola_caches()


def _damage(data: Path, name: str, how: str) -> None:
    """Remove the link `name` in the copy, or replace it by a new file: half the real bytes, or text."""
    link = data / name
    real = link.resolve()
    link.unlink()  # the link only: the real file is untouched
    if how == "truncated":
        raw = real.read_bytes()
        link.write_bytes(raw[: len(raw) // 2])
    elif how == "overwritten":
        link.write_bytes(b"this is not the table you are looking for\n" * 40)


# The command that reads each bundled file first.
READS = {
    "iss_tles.txt": ["where", T],
    "elements_uncertainty.json": ["where", T],
    "airglow_colours.json": ["render", T_NIGHT, "--size", "16x16", "--layers", "airglow"],
    "place_aliases.json.gz": ["plan", "passes", *SPAN, "--where", "Paris"],
    "geo_places.npz": ["place", "48.85", "2.35"],
    "geo_grid.npz": ["place", "0", "-150"],
    "geo_names.json": ["place", "0", "-150"],
    "geo_coast.npz": ["place", "0", "-150"],
    "earth_day.jpg": ["render", T, "--size", "16x16", "--look", "nadir", "--layers", "earth"],
    "earth_mask.npz": ["render", T, "--size", "16x16", "--look", "nadir", "--layers", "earth"],
    "limb_radiance.npz": ["render", T, "--size", "16x16", "--look", "nadir", "--layers", "earth"],
    "fonts/DejaVuSans.ttf": ["render", T, "--size", "16x16", "--look", "nadir", "--layers", "earth", "--caption"],
    "camera_response.json": ["render", T_NIGHT, "--size", "16x16", "--layers", "airglow"],
    "milky_way.npz": ["render", T_NIGHT, "--size", "16x16", "--layers", "milky_way"],
    "night_lights.npz": ["render", T_NIGHT, "--size", "16x16", "--look", "nadir", "--layers", "city_lights"],
    "clouds.png": ["render", T, "--size", "16x16", "--look", "nadir", "--layers", "earth"],
    "moon_albedo.npz": ["render", T_NIGHT, "--size", "16x16", "--look", "sky:moon", "--layers", "bodies"],
    "lens_vignetting.json": ["render", T_NIGHT, "--size", "16x16", "--layers", "stars"],
}


def test_every_bundled_file_is_read_by_its_command():
    shipped = sorted(str(p.relative_to(REAL_DATA)) for p in REAL_DATA.rglob("*") if p.is_file())
    assert sorted(READS) == [n for n in shipped if not n.startswith("fonts/") or n in READS]


@pytest.mark.parametrize("how", ["missing", "truncated", "overwritten"])
@pytest.mark.parametrize("name", sorted(READS))
def test_missing_or_damaged_bundled_data_is_one_clear_line(data_copy, tmp_path, name, how):
    _damage(data_copy, name, how)
    argv = list(READS[name])
    out = tmp_path / "view.png"
    if argv[0] == "render":
        argv[2:2] = ["-o", str(out)]
    rc, _stdout, err = run(argv)
    assert rc == 2 and err.count("\n") == 1, err
    if (name, how) == ("iss_tles.txt", "truncated"):
        # Cut between two sets, the history reads as a shorter one (the 2017 sets only): the 2024 instant is then
        # refused by the set it would use, which the message names.
        assert "(cupola/data/iss_tles.txt:" in err and "cannot give a position at 2024-01-22T13:05:00Z" in err
    else:
        assert err.startswith("cupola: error: the bundled "), err
        assert f"cupola/data/{name} is {'missing from the installation' if how == 'missing' else 'damaged'}" in err
        assert "reinstall cupola (pip install --force-reinstall cupola)" in err
    assert not out.exists() and not list(tmp_path.glob(".cupola-*"))
    # The real file is untouched and reads as before once the copy is gone.
    assert (REAL_DATA / name).stat().st_size > 1000


def test_the_real_data_answers_after_the_faults():
    _clear_cupola_caches()
    rc, out, _err = run(["place", "0", "-150"])
    assert rc == 0 and "Pacific Ocean" in out


# ---------------------------------------------------------------------------------------------------------
# A full disk


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
            "CUPOLA_NO_JIT": "1"}


# Runs each `cupola ARGS` of a JSON list in one process whose writes are limited to LIMIT bytes a file (past it,
# write() fails with EFBIG, as on a full disk); prints [[exit code, stderr], ...] as JSON on standard output.
_LIMITED = """
import contextlib, io, json, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from cupola.cli import main
done = []
for argv in json.loads(sys.argv[2]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            rc = main(argv)
        except SystemExit as exc:
            rc = exc.code
    done.append([rc, err.getvalue()])
print(json.dumps(done))
"""


def _cupola_limited(limit: int, commands: list[list[str]]) -> list[tuple[int, str]]:
    done = subprocess.run([sys.executable, "-c", _LIMITED, str(limit), json.dumps(commands)], capture_output=True,
                          text=True, env=_env(), timeout=600)
    assert done.returncode == 0, done.stderr
    return [tuple(x) for x in json.loads(done.stdout)]


FULL_DISK_OUTPUTS = ["view.png", "view.jpg", "clip.mp4", "clip.gif", "frames/", "f_%03d.png"]
_BEFORE = b"the picture that was there before\n"


@pytest.fixture(scope="module")
def full_disk(tmp_path_factory):
    """Return {output name: (folder, its -o text, exit code, stderr)} of each write on a 1 kB 'disk' (one process)."""
    cases, commands = {}, []
    for name in FULL_DISK_OUTPUTS:
        folder = tmp_path_factory.mktemp("full")
        out = f"{folder}{os.sep}{name}"  # 'frames/' keeps its slash: a folder of PNG frames
        if name.startswith("view"):
            (folder / name).write_bytes(_BEFORE)  # an existing output is left as it was
            command = ["render", T]
        else:
            command = ["timelapse", T, "2024-01-22T13:05:30Z", "--no-progress"]
        commands.append([*command, "-o", out, "--size", "256x256", "--look", "nadir"])
        cases[name] = (folder, out)
    results = _cupola_limited(1000, commands)
    return {name: (*cases[name], *results[k]) for k, name in enumerate(FULL_DISK_OUTPUTS)}


@pytest.mark.slow
@pytest.mark.parametrize("name", FULL_DISK_OUTPUTS)
def test_a_full_disk_leaves_no_output_and_says_so(full_disk, name):
    folder, out, rc, line = full_disk[name]
    assert rc == 2, line
    assert line.count("\n") == 1 and line.startswith(f"cupola: error: cannot write {out.rstrip('/')!r}: "
                                                     "File too large; nothing was written there"), line
    assert "free some disk space" in line and "(option -o FILE)" in line
    left = sorted(p.name for p in folder.iterdir())
    assert left == ([name] if name.startswith("view") else []), left
    if name.startswith("view"):
        assert (folder / name).read_bytes() == _BEFORE


def test_the_same_commands_write_when_there_is_room(tmp_path):
    (rc, err), = _cupola_limited(10**9, [["render", T, "-o", str(tmp_path / "view.jpg"), "--size", "128x128",
                                          "--look", "nadir"]])
    assert rc == 0, err
    from PIL import Image

    with Image.open(tmp_path / "view.jpg") as im:
        im.load()  # the whole file decodes
        assert im.size == (128, 128)


class _SmallFile:
    """A file that takes `room` bytes, then fails as a full disk does (ENOSPC)."""

    def __init__(self, path, room: int):
        self.f, self.room = open(path, "wb"), room  # noqa: SIM115

    def write(self, data) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.f.write(data)

    def close(self) -> None:
        self.f.close()


def test_enospc_during_a_gif_removes_the_temporary_and_raises_output_error(tmp_path, monkeypatch):
    import cupola.video
    from cupola.camera import Camera, Look
    from cupola.errors import OutputError
    from cupola.video import timelapse

    monkeypatch.setattr(cupola.video, "open", lambda path, mode: _SmallFile(path, 850), raising=False)
    cam = Camera(width_px=64, height_px=64, look=Look("nadir"))
    with pytest.raises(OutputError, match=r"^cannot write '.*clip\.gif': No space left on device; nothing was "
                       r"written there \(the partial file was removed\); free some disk space") as info:
        timelapse(T, "2024-01-22T13:06:00Z", 10, cam, tmp_path / "clip.gif")
    assert info.value.errno == errno.ENOSPC and info.value.param == "output"
    assert isinstance(info.value, OSError)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------------------
# SIGTERM and SIGINT to a running timelapse


def _start_timelapse(folder: Path, name: str) -> subprocess.Popen:
    cmd = [sys.executable, "-c", "import sys; from cupola.cli import main; sys.exit(main())", "timelapse", T,
           "2024-01-22T14:05:00Z", "--step", "5s", "-o", str(folder / name), "--size", "64x64", "--look", "nadir",
           "--no-progress"]
    cmd[cmd.index("-o") + 1] = f"{folder}{os.sep}{name}"  # 'frames/' keeps its slash: a folder of PNG frames
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code", "name"), [(signal.SIGTERM, 143, "clip.mp4"), (signal.SIGTERM, 143, "frames/"),
                                                   (signal.SIGINT, 130, "clip.gif")])
def test_a_signal_mid_timelapse_leaves_nothing_half_written(tmp_path, sig, code, name):
    proc = _start_timelapse(tmp_path, name)
    try:
        # Wait until it is writing: its temporary file or folder is there (720 frames: minutes to go).
        for _ in range(1200):
            if list(tmp_path.glob(".cupola-*")) or proc.poll() is not None:
                break
            time.sleep(0.1)
        temporaries = list(tmp_path.glob(".cupola-*"))
        assert temporaries, proc.communicate(timeout=60)
        time.sleep(1.0)  # a few frames into the file
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert err == ("cupola: interrupted\n" if sig == signal.SIGINT else "cupola: stopped (SIGTERM)\n"), err
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------------------
# A read-only cache directory


@pytest.mark.parametrize("kind", ["read-only", "under a file"])
def test_an_unusable_numba_cache_dir_still_answers(tmp_path, kind):
    """numba keeps the kernels next to the sources instead (or compiles them for this run only)."""
    if kind == "read-only":
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders")
        cache = tmp_path / "cache"
        cache.mkdir()
        cache.chmod(0o555)
    else:
        (tmp_path / "file").write_text("a file, not a folder")
        cache = tmp_path / "file" / "cache"
    try:
        env = {**_env(), "NUMBA_CACHE_DIR": str(cache), "CUPOLA_NO_JIT": "0"}
        done = subprocess.run([sys.executable, "-c", "import sys; from cupola.cli import main; sys.exit(main())",
                               "render", T, "-o", str(tmp_path / "v.png"), "--size", "16x16", "--look", "nadir"],
                              capture_output=True, text=True, env=env, timeout=600)
    finally:
        if kind == "read-only":
            cache.chmod(0o755)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote {tmp_path / 'v.png'} (16x16, NIKON D5 24 mm, nadir"), done.stdout
    assert (tmp_path / "v.png").stat().st_size > 0


def test_warmup_into_a_cache_dir_that_cannot_be_made_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    done = subprocess.run([sys.executable, "-c", "import sys; from cupola.cli import main; sys.exit(main())",
                           "warmup", "--cache-dir", str(blocker / "cache")], capture_output=True, text=True,
                          env=_env(), timeout=600)
    assert done.returncode == 2, done.stderr
    assert done.stderr == (f"cupola: error: the numba cache folder {str(blocker / 'cache')!r} cannot be written "
                           "(Not a directory), so the kernels warmup compiles could not be kept there; pass a folder "
                           "you can write to (NUMBA_CACHE_DIR)\n"), done.stderr


"""Property tests of every input of the web API (issue 17, hardening), driven in-process through FastAPI's test
client.

For each query parameter of each endpoint (the lists below are checked against the app's OpenAPI schema, so a
new parameter is fuzzed or this fails), hypothesis draws hostile text (tests/hostile_values.py: any Unicode,
control and bidirectional characters, NUL, lone surrogates sent as the bytes they stand for, which are not
UTF-8, every spelling of NaN and infinity, 1e309, Arabic-Indic digits, numbers of every size, 3,000-character
strings) and good values of that parameter, alone and several at once over otherwise good requests; the POST
bodies are any text and mutated TLE/OMM (JSON, XML, CSV) element sets, then used by the session; the job and
overlay ids are random path segments. Whatever comes in, each answer:

- is 200 (202 for a queued timelapse, 204 for a forgotten session) or 4xx, never 5xx;
- if 4xx, is JSON ``{"error", "detail", "param", "fix"}`` whose `param` is a parameter of that endpoint as the
  request spells it (``w,h`` for the size, ``body`` for the body; null only for a path no route serves), whose
  detail is short, holds no raw control character, no traceback and no server path (the app's temporary folder,
  the temporary root, the source tree, the interpreter's prefix); over an otherwise good request it names one of
  the parameters given hostile values (or one that overrides or shares its check: ``force``, ``allow_stale``,
  ``w,h``, the session's ``elements``);
- if 2xx, has the endpoint's content type, strict JSON (no NaN) or an image of the size asked; a queued job ends
  done, its clip the format asked, or failed only on what its frames show (the look out of view, positions the
  element sets cannot give), with a clean message: what the request alone shows is refused before it is queued.

Each endpoint has a hypothesis test (1 to 4 parameters at once) and a sweep (each fixed hostile value and each
good one of each parameter alone, all failures reported at once); what they found is kept as plain cases at the
end (test_found_inputs_are_refused_cleanly).

The app is the hostile tests' (``web``: a private temporary root and working directory, which must hold nothing
afterwards, the app's folder only the overlays it serves and the clips of the jobs answered), with bounds that
keep accepted work small (renders of at most 96x96 pixels, clips of at most 4 frames of 32x32, searches of half a
day) and a token bucket no run empties (the rate limit has its own tests). Examples are derandomized.
"""

from __future__ import annotations

import functools
import io
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
from hostile_values import BAD_TIMES, CHARS, GOOD_TIMES, HOSTILE, TEXT, TIMES, fuzz  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from PIL import Image  # noqa: E402
from test_timebase import assert_clean  # noqa: E402
from test_web_api import TLE_2024, check_error  # noqa: E402
from test_web_hostile import GIVEN, listing, small_image, web  # noqa: E402, F401 (web: the fixture)

import cupola.web.app as web_app  # noqa: E402
from cupola.web import WebLimits  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data" / "elements"
T0, T1 = "2024-01-20T00:00:00Z", "2024-01-20T00:30:00Z"  # inside the bundled 2024 sets
# Bounds that keep what the app accepts cheap; the rest of WebLimits as served.
FUZZ_LIMITS = {"rate_per_s": 1e9, "burst": 1e9, "max_render_px": 96 * 96, "max_clip_frames": 4,
               "max_clip_px": 32 * 32, "max_plan_days": 0.5}
MAX_DETAIL = 1000  # characters: a long value is shown cut

# -- every query parameter of every endpoint (test_every_parameter_is_fuzzed checks them against the schema) ----
CAMERA = ["camera", "lens", "fov", "look", "roll", "exposure", "iso", "fnumber", "tracked", "w", "h", "caption",
          "lang", "kp", "allow_stale", "force", "layers", "blades"]
PARAMS = {
    ("get", "/api/where"): ["t", "lang", "kp", "allow_stale", "lines"],
    ("get", "/api/render"): ["t", "format", *CAMERA],
    ("get", "/api/track"): ["t", "from", "to", "step", "kp", "allow_stale"],
    ("get", "/api/plan"): ["kind", "from", "to", "where", "min_elevation", "height", "hemisphere", "place", "radius",
                           "ground", "within", "name", "any_ground", "night", "min_duration", "lang", "kp",
                           "allow_stale"],
    ("get", "/api/timelapse"): ["from", "to", "step", "fps", "format", *CAMERA],
    ("post", "/api/timelapse"): ["from", "to", "step", "fps", "format", *CAMERA],
    ("post", "/api/elements"): ["sat"],
    ("get", "/api/elements"): [],
    ("delete", "/api/elements"): [],
    ("get", "/api/jobs/{job_id}"): ["job_id"],
    ("get", "/api/jobs/{job_id}/clip"): ["job_id"],
    ("post", "/api/annotate"): ["lang", "time", "lens", "camera", "look", "name", "kp", "allow_stale"],
    ("get", "/api/annotations/{token}/overlay.png"): ["token"],
    ("get", "/api/presets"): ["lang"],
}
# What a refusal may name besides the parameters: the size (w and h together), the body, the session's elements,
# the switches that override a check.
ALSO = {"/api/render": {"w,h", "elements"}, "/api/timelapse": {"w,h", "elements"},
        "/api/elements": {"body", "elements"}, "/api/annotate": {"body", "elements"}, "/api/where": {"elements"},
        "/api/track": {"elements"}, "/api/plan": {"elements"}}
# The parameters whose check another one overrides or shares: a refusal of the first may name these.
# A time the element sets cannot answer names them (the session's: POST /api/elements); a span its frame count
# (step); the pasted text is the body, named "elements" where the library reads it.
OVERRIDES = {"t": {"allow_stale", "force", "elements"}, "from": {"allow_stale", "to", "step", "elements"},
             "to": {"allow_stale", "from", "step", "elements"}, "time": {"allow_stale", "elements"},
             "look": {"force"}, "w": {"w,h"}, "h": {"w,h"}, "format": {"w,h"}, "lens": {"fov"}, "fov": {"lens"},
             "kind": {"where", "place", "name"}, "step": {"from", "to"}, "body": {"elements", "sat"}}
CONTENT = {"/api/where": "application/json", "/api/render": "image/", "/api/track": "application/geo+json",
           "/api/plan": "application/json", "/api/elements": "application/json", "/api/timelapse": "application/json",
           "/api/jobs/{job_id}": "application/json", "/api/jobs/{job_id}/clip": "", "/api/annotate": "application/json",
           "/api/annotations/{token}/overlay.png": "image/png", "/api/presets": "application/json"}
MAGIC = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff", "image/gif": b"GIF8"}

# -- values -------------------------------------------------------------------------------------------------
BOOLS = ["true", "false", "1", "0", "yes", "no", "on", "off", "True", "FALSE"]
GOOD = {
    "t": GOOD_TIMES, "from": GOOD_TIMES, "to": GOOD_TIMES, "time": GOOD_TIMES, "lang": ["en", "fr"],
    "kp": ["0", "3", "4.5", "9"], "camera": ["D5", "Z9", "D4", "d5"], "lens": ["14", "24", "50", "400", "2000"],
    "fov": ["10", "90", "179.9"], "look": ["nadir", "horizon:ahead", "horizon:30", "horizon:ahead,8", "target:Paris",
                                           "target:48.8,2.3", "sky:Sirius", "sky:moon", "sky:10,95", "horizon:345,4"],
    "roll": ["0", "90", "-45", "360"], "exposure": ["1/60", "1", "30", "1/8000", "0.5"],
    "iso": ["100", "1600", "102400"], "fnumber": ["1.4", "2.8", "22"], "w": ["16", "32", "48", "64", "17"],
    "h": ["16", "32", "48", "64", "17"], "format": ["png", "jpeg", "jpg", "gif", "mp4"],
    "layers": ["stars", "earth", "stars,earth", "airglow,aurora,city_lights", "milky_way,bodies", " stars ", "earth,,"],
    "blades": ["0", "3", "6", "24", "1", "2"], "step": ["10s", "30", "500ms", "1m", "1h", "5s"],
    "fps": ["1", "10", "50", "0.5"], "kind": ["passes", "aurora", "over", "sunrise", "sunset", "sky"],
    "where": ["48.85,2.35", "Paris", "-33.9,18.4", "90,0"], "min_elevation": ["0", "10", "45", "90"],
    "height": ["0", "1", "8.8"], "hemisphere": ["north", "south"],
    "place": ["Paris", "Pacific Ocean", "Quebec", "48.85,2.35", "France"], "radius": ["100", "1000", "0"],
    "ground": ["dark", "lit", "twilight"], "within": ["1", "5", "30"], "name": ["Sirius", "moon", "Milky Way core"],
    "min_duration": ["0", "60", "600"], "sat": ["25544", "ISS (ZARYA)", "ISS"],
}
for _switch in ("allow_stale", "lines", "tracked", "caption", "force", "any_ground", "night"):
    GOOD[_switch] = BOOLS
PHOTO_NAMES = ["x.jpg", "photo.png", "a/../b.jpeg", "../../etc/passwd", "x.tif", "x.JPG", ".jpg", "x" * 300 + ".jpg",
               "x\x00.jpg", "\u202egpj.exe", "C:\\x.jpg", "%2e%2e/x.jpg"]


def value_of(name: str, route: str = ""):
    """Return the strategy of a value of parameter `name`: its good values, hostile text, and (times) instants."""
    good = PHOTO_NAMES if (route, name) == ("/api/annotate", "name") else GOOD.get(name, [])
    hostile = TIMES if name in ("t", "from", "to", "time") else TEXT
    return st.one_of(st.sampled_from(good), hostile) if good else hostile


def values_of(method: str, route: str, most: int = 4):
    """Return the strategy of {parameter: value} for 1 to `most` parameters of the endpoint (one alone, often)."""
    names = PARAMS[(method, route)]
    one = st.sampled_from(names).flatmap(lambda n: value_of(n, route).map(lambda v: {n: v}))
    several = st.lists(st.sampled_from(names), min_size=2, max_size=most, unique=True).flatmap(
        lambda ns: st.fixed_dictionaries({n: value_of(n, route) for n in ns}))
    return st.one_of(one, several) if len(names) > 1 else one


def query(params) -> str:
    """Return the query string of `params` (a dict or pairs) as any client may send it: each value as UTF-8, a
    lone surrogate as the bytes it stands for (which are not UTF-8), percent-encoded."""
    pairs = params.items() if isinstance(params, dict) else params
    return "&".join(f"{quote(str(k), safe='')}={quote(str(v).encode('utf-8', 'surrogatepass'), safe='')}"
                    for k, v in pairs)


# -- the app and the checks every answer gets ----------------------------------------------------------------
class Api:
    """The app of the `web` fixture and the checks of every answer (see the module's docstring)."""

    def __init__(self, client, clip_dir: Path):
        self.c, self.clip_dir = client, clip_dir
        self.clips: set[str] = set()  # the clip files of the jobs answered done
        self.requests = 0
        self.server_paths = [str(clip_dir), tempfile.gettempdir(), str(ROOT / "src"), str(ROOT / "tests"),
                             str(Path(web_app.__file__).parent), sys.prefix, "/tmp/", "site-packages"]

    def ask(self, method: str, route: str, params=(), *, path: str | None = None, fuzzed=(), sent: str = "", **kw):
        """Send `params` to `route` (its template; `path`: the path sent instead); check the answer and return it.

        `fuzzed`: the parameters given hostile values over an otherwise good request (a refusal must name one of
        them or what overrides its check); `sent`: anything else sent (the body) that a message may echo."""
        url = (path or route) + (f"?{query(params)}" if params else "")
        r = self.c.request(method.upper(), url, **kw)
        self.requests += 1
        values = " ".join(str(v) for v in (dict(params) if params else {}).values()) + (path or "") + sent
        self.check(r, method, route, dict(params) if params else {}, list(fuzzed), values)
        return r

    def check(self, r, method, route, params, fuzzed, values):
        where = f"{method.upper()} {route} {params!r:.600}"
        assert r.status_code < 500, f"{r.status_code} for {where}: {r.text[:2000]}"
        assert r.status_code in (200, 202, 204) or 400 <= r.status_code < 500, f"{r.status_code} for {where}"
        assert "Traceback" not in r.text and 'File "' not in r.text, f"a traceback for {where}: {r.text[:2000]}"
        if r.status_code >= 400:
            self.check_refusal(r, method, route, fuzzed, values, where)
        elif r.status_code != 204:
            self.check_answer(r, route, params, where)

    def check_refusal(self, r, method, route, fuzzed, values, where):
        assert r.headers["content-type"].startswith("application/json"), where
        body = r.json()
        assert set(body) == {"error", "detail", "param", "fix"}, (where, body)
        detail, param, fix = body["detail"], body["param"], body["fix"]
        assert isinstance(body["error"], str) and body["error"], (where, body)
        assert isinstance(detail, str) and detail.strip(), (where, body)
        assert fix is None or isinstance(fix, str) and fix.strip(), (where, body)
        for text in (detail, fix or ""):
            self.check_text(text, values, f"the refusal of {where}")
        if param is None:  # only a path no route serves (or a method none takes)
            assert r.status_code in (404, 405) and body["error"] == "HTTPError", (where, body)
            return
        known = set(PARAMS.get((method, route), ())) | ALSO.get(route, set())
        assert param in known, f"the refusal of {where} names {param!r}, no parameter of {route}: {detail}"
        if fuzzed and r.status_code == 422:
            allowed = set(fuzzed).union(*(OVERRIDES.get(x, set()) for x in fuzzed))
            assert param in allowed, f"the refusal of {where} names {param!r}, not one of {fuzzed}: {detail}"

    def check_text(self, text: str, values: str, what: str) -> None:
        """A message: short, no raw control character, no server path (unless the request itself held it)."""
        assert_clean(text.replace("\n", " "))
        for server in self.server_paths:
            assert server not in text or server in values, f"a server path in {what}: {text}"
        assert len(text) <= MAX_DETAIL, f"{len(text)} characters in {what}: {text[:300]}..."

    def check_answer(self, r, route, params, where):
        kind = r.headers.get("content-type", "")
        assert kind.startswith(CONTENT[route]), f"{kind!r} for {where}"
        if kind.startswith(("application/json", "application/geo+json")):
            json.loads(r.text, parse_constant=lambda c: pytest.fail(f"{c} in the JSON answer of {where}"))
        elif kind in MAGIC:
            assert r.content.startswith(MAGIC[kind]), where
        if route == "/api/render":
            fmt = params.get("format", "png")
            assert kind == ("image/png" if fmt == "png" else "image/jpeg"), where
            w, h = Image.open(io.BytesIO(r.content)).size
            assert (str(w), str(h)) == (params["w"].strip(), params["h"].strip()) or not all(
                params.get(k, "").strip().isdigit() for k in "wh"), where

    def timelapse(self, method: str, params: dict, fuzzed) -> None:
        """Queue a clip; if queued, follow its job to the end and fetch the clip."""
        r = self.ask(method, "/api/timelapse", params, fuzzed=fuzzed)
        if r.status_code != 202:
            return
        job = r.json()
        assert job["status"] in ("queued", "running", "done"), job
        deadline = time.monotonic() + 120
        while job["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.01)
            job = self.ask("get", "/api/jobs/{job_id}", path=job["status_url"]).json()
        assert job["status"] in ("done", "failed"), f"the job of {params!r} is still {job['status']}"
        if job["status"] == "failed":  # only on what the frames show: the look out of view, the sets' positions
            detail = job["detail"]
            self.check_text(detail, " ".join(params.values()), f"the failed job of {params!r}")
            assert "force=" in detail or "element set" in detail, \
                f"the job of {params!r} fails on what its request could have been refused for: {detail}"
            self.ask("get", "/api/jobs/{job_id}/clip", path=f"{job['status_url']}/clip")  # 409
            return
        clip = self.ask("get", "/api/jobs/{job_id}/clip", path=job["result_url"])
        kind = "video/mp4" if params.get("format") == "mp4" else "image/gif"
        assert clip.headers["content-type"] == kind, params
        assert clip.content[4:8] == b"ftyp" if kind == "video/mp4" else clip.content.startswith(b"GIF8")
        self.clips.add(f"{job['job']}.{'mp4' if kind == 'video/mp4' else 'gif'}")

    def check_left(self) -> None:
        """The app's folder holds only the overlays it serves and the clips of the jobs answered (which are
        removed here: the `web` fixture then checks it holds overlays alone, and that nothing else is left)."""
        left = listing(self.clip_dir)
        strays = [x for x in left if x not in self.clips and not re.fullmatch(r"overlay-[0-9a-f]{16}\.png", x)]
        assert not strays, strays
        for name in self.clips & set(left):
            (self.clip_dir / name).unlink()


@pytest.fixture
def api(monkeypatch, request):
    """The app of test_web_hostile's `web` fixture under FUZZ_LIMITS, as an :class:`Api`."""
    monkeypatch.setattr(web_app, "WebLimits", functools.partial(WebLimits, **FUZZ_LIMITS))
    client, clip_dir = request.getfixturevalue("web")
    a = Api(client, clip_dir)
    yield a
    a.check_left()
    print(f"\n{request.node.name}: {a.requests} requests")


def test_every_parameter_is_fuzzed(api):
    """The parameter lists here are the app's: a new parameter must be fuzzed."""
    schema = api.c.app.openapi()["paths"]
    seen = {}
    for path, methods in schema.items():
        if path.startswith("/api/"):
            for method, op in methods.items():
                seen[(method, path)] = sorted(p["name"] for p in op.get("parameters", []))
    assert seen == {k: sorted(v) for k, v in PARAMS.items()}


# -- one request of each endpoint with some parameters fuzzed ----------------------------------------------------
TINY = {"t": T0, "w": "16", "h": "16", "look": "nadir"}
PLAN = {"kind": "over", "from": T0, "to": T1, "place": "Paris", "where": "48.85,2.35", "name": "Sirius"}
PLAN_KIND = {"where": "passes", "min_elevation": "passes", "height": "passes", "hemisphere": "aurora",
             "within": "sunrise", "name": "sky", "any_ground": "sky", "place": "over", "radius": "over",
             "ground": "over"}
CLIP = {"from": T0, "to": "2024-01-20T00:00:10Z", "step": "10s", "w": "16", "h": "16", "look": "nadir"}
# The good request each fuzzed one starts from (a 16x16 nadir frame, a half-hour search, a clip of two frames).
BASE = {"/api/where": {"t": T0}, "/api/render": TINY, "/api/track": {"t": T0, "step": "300s"}, "/api/plan": PLAN,
        "/api/timelapse": CLIP, "/api/presets": {}, "/api/annotate": {k: str(v) for k, v in GIVEN.items()}}


def small(params: dict) -> dict:
    """Return `params` with a frame of at most 64x64 (a large w with a large h would only be refused)."""
    try:
        w, h = int(params["w"]), int(params["h"])
    except (KeyError, ValueError):
        return params
    return params if w * h <= 64 * 64 else {**params, "h": "16"}


@functools.cache
def photo() -> bytes:
    return small_image("JPEG")


def send(api: Api, method: str, route: str, fuzzed: dict) -> None:
    """Ask `route` with the `fuzzed` values over its good request (BASE); follow what it answers (a job, an
    overlay, a session)."""
    if route in ("/api/jobs/{job_id}", "/api/jobs/{job_id}/clip", "/api/annotations/{token}/overlay.png"):
        (name, value), = fuzzed.items()
        api.ask(method, route, path=route.replace("{" + name + "}", quote(value.encode("utf-8", "surrogatepass"),
                                                                          safe="")), fuzzed=[name], sent=value)
    elif route == "/api/elements":
        api.c.cookies.clear()
        api.ask(method, route, fuzzed, content="\n".join(TLE_2024), fuzzed=list(fuzzed))
        api.c.cookies.clear()
    elif route == "/api/timelapse":
        api.timelapse(method, small({**CLIP, **fuzzed}), list(fuzzed))
    elif route == "/api/annotate":
        r = api.ask(method, route, {**BASE[route], **fuzzed}, content=photo(), headers={"content-type": "image/jpeg"},
                    fuzzed=list(fuzzed))
        if r.status_code == 200 and r.json().get("overlay_url"):
            api.ask("get", "/api/annotations/{token}/overlay.png", path=r.json()["overlay_url"])
    elif route == "/api/plan":  # of the kind the parameter is for
        kind = next((PLAN_KIND[n] for n in fuzzed if n in PLAN_KIND), "over")
        api.ask(method, route, {**PLAN, "kind": kind, **fuzzed}, fuzzed=list(fuzzed))
    else:
        api.ask(method, route, small({**BASE[route], **fuzzed}), fuzzed=list(fuzzed))


# Where a value the app accepts costs a render, a search, a clip or an annotation: fewer examples.
EXAMPLES = {("get", "/api/where"): 400, ("get", "/api/render"): 400, ("get", "/api/track"): 250,
            ("get", "/api/plan"): 250, ("get", "/api/timelapse"): 150, ("post", "/api/timelapse"): 100,
            ("post", "/api/elements"): 100, ("post", "/api/annotate"): 150, ("get", "/api/presets"): 100}


def fuzz_endpoint(name: str, method: str, route: str):
    """Return the test `name`: hypothesis draws 1 to 4 of the endpoint's parameters and their values."""
    def test(api, fuzzed):
        send(api, method, route, fuzzed)

    test.__name__ = test.__qualname__ = name  # (and so its own derandomized examples)
    test.__doc__ = f"{method.upper()} {route}: hostile values of 1 to 4 of {', '.join(PARAMS[(method, route)])}."
    return fuzz(given(values_of(method, route))(test), examples=EXAMPLES[(method, route)])


test_where = fuzz_endpoint("test_where", "get", "/api/where")
test_render = fuzz_endpoint("test_render", "get", "/api/render")
test_track = fuzz_endpoint("test_track", "get", "/api/track")
test_plan = fuzz_endpoint("test_plan", "get", "/api/plan")
test_timelapse_get = fuzz_endpoint("test_timelapse_get", "get", "/api/timelapse")
test_timelapse_post = fuzz_endpoint("test_timelapse_post", "post", "/api/timelapse")
test_elements_sat = fuzz_endpoint("test_elements_sat", "post", "/api/elements")
test_annotate_parameters = fuzz_endpoint("test_annotate_parameters", "post", "/api/annotate")
test_presets = fuzz_endpoint("test_presets", "get", "/api/presets")

# Every parameter of every endpoint with each fixed hostile value and each good one, alone over a good request. The
# POST of a timelapse is the GET's handler, and the camera options a timelapse shares with a render are read by the
# same code (shot_from_text): the sweep of a timelapse takes its own options; the hypothesis tests take them all.
SWEPT = [k for k, names in PARAMS.items() if names and k != ("post", "/api/timelapse")]
SWEPT_ONLY = {("get", "/api/timelapse"): ["from", "to", "step", "fps", "format", "w", "h", "look", "caption", "force"]}


def sweep_values(name: str, route: str) -> list[str]:
    good = PHOTO_NAMES if (route, name) == ("/api/annotate", "name") else GOOD.get(name, [])
    times = BAD_TIMES if name in ("t", "from", "to", "time") else []
    return list(dict.fromkeys(HOSTILE + times + good))


@pytest.mark.slow
@pytest.mark.parametrize("endpoint", SWEPT, ids=[f"{m}-{r}" for m, r in SWEPT])
def test_each_value_of_each_parameter(api, endpoint):
    """All the failures of an endpoint at once: one line each."""
    method, route = endpoint
    failures = []
    for name in SWEPT_ONLY.get(endpoint, PARAMS[endpoint]):
        for value in sweep_values(name, route):
            try:
                send(api, method, route, {name: value})
            except Exception as exc:  # noqa: BLE001 (a check that failed, or what the app raised: a 500)
                failures.append(f"{name}={value!r:.60}: {type(exc).__name__}: {str(exc).splitlines()[0][:400]}")
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:40])


IDS = st.one_of(TEXT, st.text(CHARS, max_size=40), st.sampled_from(
    ["", ".", "..", "feedbeef", "0" * 16, "f" * 16, "F" * 16, "0" * 15, "0" * 17, "%00", "%2e%2e", "*", "?x=1",
     "clip", "overlay.png", "a b", "\u0663" * 16]))


@fuzz(examples=300)
@given(IDS, st.sampled_from(["/api/jobs/{job_id}", "/api/jobs/{job_id}/clip", "/api/annotations/{token}/overlay.png"]))
def test_job_and_overlay_paths(api, value, route):
    """Any path, '/', '%' and '..' as they are: an unknown job or overlay is 404 naming it (or, a path no route serves,
    404 and no param)."""
    name = "token" if "{token}" in route else "job_id"
    text = quote(value.encode("utf-8", "surrogatepass"), safe="/%")
    api.ask("get", route, path=route.replace("{" + name + "}", text), fuzzed=[name], sent=value)


# -- the session's element sets -----------------------------------------------------------------------------
def tle_checksum(line: str) -> str:
    return str(sum(int(c) if c.isdigit() else c == "-" for c in line[:68]) % 10)


def mutated(text: str, edits) -> str:
    """Return `text` with each edit (position fraction, characters removed, text inserted) applied."""
    for where, cut, put in edits:
        i = int(where * len(text))
        text = text[:i] + put + text[i + cut:]
    return text


EDITS = st.lists(st.tuples(st.floats(0, 1), st.integers(0, 12), st.one_of(TEXT, st.sampled_from(
    ["0", "9", "-", "+", ".", " ", "e", "E", "\n", "\r\n", "\t", "-1", "99999", "1e309", "NaN", '"', "<", ">", "&",
     ",", "null", "[", "]", "{", "}", "</EPOCH>", "\ufeff"]))), min_size=1, max_size=4)


def tle_text(edits, fix_checksums: bool, name: bool) -> str:
    lines = mutated("\n".join(TLE_2024[1:]), edits).split("\n")
    if fix_checksums:
        lines = [x[:68].ljust(68) + tle_checksum(x) if x[:1] in "12" and len(x) >= 60 else x for x in lines]
    return "\n".join(([TLE_2024[0]] if name else []) + lines)


@functools.cache
def omm_text(kind: str) -> str:
    return (DATA / f"iss_omm.{kind}").read_text()


OMM_FIELDS = ["EPOCH", "MEAN_MOTION", "ECCENTRICITY", "INCLINATION", "RA_OF_ASC_NODE", "ARG_OF_PERICENTER",
              "MEAN_ANOMALY", "NORAD_CAT_ID", "BSTAR", "MEAN_MOTION_DOT", "MEAN_MOTION_DDOT", "OBJECT_NAME",
              "EPHEMERIS_TYPE", "ELEMENT_SET_NO", "REV_AT_EPOCH", "CLASSIFICATION_TYPE"]
JSON_VALUES = st.one_of(TEXT, st.floats(), st.integers(-(10**40), 10**40), st.none(), st.booleans(),
                        st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(),
                                                                              max_size=1))


def omm_json(record_edits) -> str:
    records = json.loads(omm_text("json"))
    for i, key, value in record_edits:
        record = records[i % len(records)]
        if value is ...:
            record.pop(key, None)
        else:
            record[key] = value
    return json.dumps(records, allow_nan=True)


ELEMENT_TEXTS = st.one_of(
    TEXT,
    st.builds(tle_text, EDITS, st.booleans(), st.booleans()),
    st.builds(omm_json, st.lists(st.tuples(st.integers(0, 2), st.sampled_from(OMM_FIELDS),
                                           st.one_of(JSON_VALUES, st.just(...))), min_size=1, max_size=3)),
    st.sampled_from(["json", "xml", "csv"]).flatmap(lambda k: EDITS.map(lambda e: mutated(omm_text(k), e))),
    st.sampled_from(["\n".join(TLE_2024), "\n".join(TLE_2024[1:]), omm_text("json"), omm_text("xml"),
                     omm_text("csv"), (DATA / "derived_group.tle").read_text()]),
)
BODY_TYPES = ["text/plain", "application/json", "application/json; charset=utf-8", "application/xml", "text/csv",
              "", "application/octet-stream", "multipart/form-data", "text/plain; charset=latin-1"]


def element_body(text: str, wrap: bool, encoding: str) -> bytes:
    body = json.dumps({"text": text}) if wrap else text
    return body.encode("utf-8", "surrogatepass") if encoding == "utf-8" else body.encode(encoding, "replace")


@fuzz(examples=300)
@given(ELEMENT_TEXTS, st.booleans(), st.sampled_from(["utf-8", "utf-16", "latin-1"]), st.sampled_from(BODY_TYPES),
       st.one_of(st.none(), value_of("sat")))
def test_elements_bodies(api, text, wrap, encoding, kind, sat):
    """Any text as the session's element sets; once taken, the session's where, track, render and a search."""
    api.c.cookies.clear()
    headers = {"content-type": kind} if kind else {}
    params = {"sat": sat} if sat is not None else {}
    r = api.ask("post", "/api/elements", params, content=element_body(text, wrap, encoding), headers=headers,
                fuzzed=["body"] + (["sat"] if sat is not None else []), sent=text)
    if r.status_code == 200:
        sets = r.json()
        assert sets["sets"] >= 1 and api.c.cookies.get("cupola_session")
        assert api.ask("get", "/api/elements").json()["source"] == "session"
        t = sets["first_epoch_utc"]
        api.ask("get", "/api/where", {"t": t, "allow_stale": "true"})
        api.ask("get", "/api/track", {"t": t, "step": "600s", "allow_stale": "true"})
        later = np.datetime64(t.rstrip("Z")) + np.timedelta64(1000, "D")  # far from the sets: SGP4 may fail
        api.ask("get", "/api/track", {"from": f"{later}Z", "to": f"{later + np.timedelta64(1, 'h')}Z", "t": t,
                                      "step": "600s", "allow_stale": "true"})
        api.ask("get", "/api/render", {**TINY, "t": t, "allow_stale": "true", "look": "horizon:ahead"})
        half_hour = str(np.datetime64(t.rstrip("Z")) + np.timedelta64(30, "m")) + "Z"
        api.ask("get", "/api/plan", {"kind": "sunrise", "from": t, "to": half_hour, "allow_stale": "true"})
        assert api.ask("delete", "/api/elements").status_code == 204
    api.c.cookies.clear()


@fuzz(examples=150)
@given(st.one_of(TEXT, st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7e, exclude_characters=";,"),
                                max_size=64)))
def test_session_cookie(api, value):
    """Any session cookie (one no session has, as the client's own): the bundled elements, or refused cleanly."""
    header = {"cookie": f"cupola_session={quote(value.encode('utf-8', 'surrogatepass'), safe='')}"}
    for method, route in (("get", "/api/elements"), ("get", "/api/where"), ("delete", "/api/elements")):
        api.ask(method, route, {"t": T0} if route == "/api/where" else {}, headers=header, sent=value)


# -- annotate: any bytes as the photo ------------------------------------------------------------------------
def flipped(data: bytes, flips) -> bytes:
    raw = bytearray(data)
    for where, byte in flips:
        raw[int(where * (len(raw) - 1))] = byte
    return bytes(raw)


PHOTO_BODIES = st.one_of(
    st.binary(max_size=512),
    TEXT.map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.tuples(st.sampled_from(["JPEG", "PNG", "TIFF"]), st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)),
                                                                max_size=8), st.floats(0, 1)).map(
        lambda c: flipped(small_image(c[0], 32, 24), c[1])[:max(1, int(c[2] * len(small_image(c[0], 32, 24))))]),
)
PHOTO_TYPES = ["image/jpeg", "image/png", "image/tiff", "image/gif", "", "application/octet-stream", "text/plain",
               "image/jpeg; charset=utf-8", "IMAGE/PNG", "multipart/form-data"]


@fuzz(examples=150)
@given(PHOTO_BODIES, st.sampled_from(PHOTO_TYPES), st.sampled_from(["body", "form"]),
       st.one_of(st.none(), value_of("name", "/api/annotate")))
def test_annotate_bodies(api, data, kind, how, name):
    """Any bytes as the photo, as the body or a form's file, with any type and name."""
    params = {k: str(v) for k, v in GIVEN.items()} | ({"name": name} if name is not None else {})
    fuzzed = ["body"] + (["name"] if name is not None else [])
    if how == "body":
        r = api.ask("post", "/api/annotate", params, content=data, headers={"content-type": kind} if kind else {},
                    fuzzed=fuzzed)
    else:
        form_name = (name or "upload").encode("utf-8", "replace").decode("utf-8")
        r = api.ask("post", "/api/annotate", params, files={"photo": (form_name, data, kind)}, fuzzed=fuzzed)
    if r.status_code == 200 and r.json().get("overlay_url"):
        api.ask("get", "/api/annotations/{token}/overlay.png", path=r.json()["overlay_url"])


# -- repeated and unknown parameters ---------------------------------------------------------------------------
@fuzz(examples=150)
@given(st.sampled_from([k for k in PARAMS if k[1] in ("/api/where", "/api/render", "/api/track", "/api/plan",
                                                      "/api/presets")]),
       st.lists(st.tuples(st.one_of(st.sampled_from(["t", "lang", "kp", "w", "from", "kind", ""]), TEXT), TEXT),
                min_size=1, max_size=4))
def test_repeated_and_unknown_parameters(api, endpoint, pairs):
    """A parameter given twice (the last one counts), names that are no parameter (ignored), empty names."""
    method, route = endpoint
    base = {"/api/where": {"t": T0}, "/api/render": TINY, "/api/track": {"t": T0, "step": "300s"}, "/api/plan": PLAN,
            "/api/presets": {}}[route]
    sent = list(base.items()) + pairs
    last = dict(sent)
    if route == "/api/render" and small(last) != last:
        sent.append(("h", "16"))
    api.ask(method, route, sent, sent=" ".join(k for k, _ in pairs))


# -- what these tests found, each refused as it must be now ------------------------------------------------------
LONG = "a" * 3000
SPAN = {"from": T0, "to": "2024-01-20T00:00:10Z", "w": "16", "h": "16"}
REGRESSIONS = {
    # library parameter names that were not the request's
    "render blades=1 named aperture_blades": ("get", "/api/render", {**TINY, "blades": "1"}, None, 422, "blades",
                                              "whole number of blades from 3 to 24"),
    "timelapse blades=2 named aperture_blades": ("get", "/api/timelapse", {**SPAN, "blades": "2"}, None, 422,
                                                 "blades", "got 2"),
    "sat matching none named elements": ("post", "/api/elements", {"sat": "99999"}, "\n".join(TLE_2024), 422, "sat",
                                         "matches sat=99999"),
    "several satellites and no sat named elements": ("post", "/api/elements", {}, "derived_group.tle", 422, "sat",
                                                     "sat=25544"),
    "a plan before the launch named t": ("get", "/api/plan", {"kind": "aurora", "from": "1990-01-01T00:00:00Z",
                                                              "to": "1990-01-01T00:10:00Z"}, None, 422, "from",
                                         "launched on 1998-11-20"),
    # answered or queued, not refused
    "a track before the launch drawn": ("get", "/api/track", {"t": T0, "from": "1990-01-01T00:00:00Z",
                                                              "to": "1990-01-01T00:10:00Z"}, None, 422, "from",
                                        "no position then"),
    "a stale track drawn": ("get", "/api/track", {"t": T0, "from": "2026-01-20T00:00:00Z",
                                                  "to": "2026-01-20T00:10:00Z"}, None, 422, "allow_stale",
                            "days before it"),
    "a clip before the launch queued to fail": ("get", "/api/timelapse", {**SPAN, "from": "1990-01-01T00:00:00Z",
                                                                          "to": "1990-01-01T00:00:10Z"}, None, 422,
                                                "from", "launched on 1998-11-20"),
    "fps=1e-320 queued to fail": ("get", "/api/timelapse", {**SPAN, "fps": "1e-320"}, None, 422, "fps",
                                  "at least 0.001"),
    # the web's own fix, not the Python API's
    "the sets' fix was Satellite.from_file": ("get", "/api/where", {"t": "2027-01-01T00:00:00Z", "allow_stale": "true"},
                                              None, 422, "elements", "POST /api/elements"),
    # values echoed whole (3,000 characters)
    "a long bool echoed": ("get", "/api/where", {"t": T0, "lines": LONG}, None, 422, "lines", "(3000 characters)"),
    "a long job id echoed": ("get", f"/api/jobs/{LONG}", {}, None, 404, "job_id", "(3000 characters)"),
    "a long clip id echoed": ("get", f"/api/jobs/{LONG}/clip", {}, None, 404, "job_id", "(3000 characters)"),
    "a long overlay token echoed": ("get", f"/api/annotations/{LONG}/overlay.png", {}, None, 404, "token",
                                    "(3000 characters)"),
    **{f"a long {name} echoed ({route})": ("get", route, {**base, name: LONG}, None, 422, name, "(3000 characters)")
       for route, base, names in [
           ("/api/where", {"t": T0}, ["lang"]),
           ("/api/render", TINY, ["camera", "look", "exposure", "layers", "lang"]),
           ("/api/track", {"t": T0}, ["step"]),
           ("/api/timelapse", SPAN, ["step", "look"]),
           ("/api/presets", {}, ["lang"]),
           ("/api/plan", PLAN, ["kind", "place", "ground"]),
           ("/api/plan", {**PLAN, "kind": "aurora"}, ["hemisphere"]),
           ("/api/plan", {**PLAN, "kind": "sky"}, ["name"]),
           ("/api/plan", {**PLAN, "kind": "passes"}, ["where"]),
       ] for name in names},
    "a long camera body echoed (annotate)": ("post", "/api/annotate", {**BASE["/api/annotate"], "camera": LONG},
                                             "photo", 422, "camera", "(3000 characters)"),
}


@pytest.mark.parametrize("case", list(REGRESSIONS))
def test_found_inputs_are_refused_cleanly(api, case):
    method, path, params, body, status, param, match = REGRESSIONS[case]
    route = re.sub(r"^/api/jobs/[^/]+", "/api/jobs/{job_id}", re.sub(r"^/api/annotations/[^/]+/", "/api/annotations/"
                                                                     "{token}/", path))
    if body == "photo":
        kw = {"content": photo(), "headers": {"content-type": "image/jpeg"}}
    elif body is not None:
        kw = {"content": (DATA / body).read_text() if body.endswith(".tle") else body}
    else:
        kw = {}
    r = api.ask(method, route, params, path=path, **kw)
    answer = check_error(r, status, param)
    assert match in answer["detail"], answer["detail"]
    assert len(answer["detail"]) < 600, answer["detail"]

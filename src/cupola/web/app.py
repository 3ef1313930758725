"""The web app: a JSON API over the same functions and serialiser as the command line, and the page.

``create_app()`` returns a FastAPI application (OpenAPI schema at ``/openapi.json``):

- ``GET /api/where?t=&lang=&kp=&allow_stale=&lines=``: the ``cupola where --json`` object
  (:func:`cupola.answers.where_json`); ``lines=true`` adds ``in_view_lines``, the labelled lines of
  ``cupola where`` (:func:`cupola.answers.in_view_lines`), for the page's "in view" list.
- ``GET /api/render?t=&camera=&lens=&look=&exposure=&iso=&fnumber=&tracked=&w=&h=&format=``: PNG or
  JPEG with cupola's EXIF/XMP, at most ``max_render_px`` pixels.
- ``GET /api/track?t=&from=&to=&step=``: ground track, footprint, terminator, night side and the
  auroral oval as GeoJSON (:func:`cupola.answers.json.track_geojson`).
- ``GET /api/plan?kind=&from=&to=&...``: windows or passes (:func:`cupola.plan.search`), a span of at
  most ``max_plan_days``.
- ``POST /api/elements`` (TLE or OMM text): element sets for this browser session only (a random
  cookie; kept in memory, LRU with expiry, never on disk); ``GET`` shows them, ``DELETE`` forgets them.
- ``GET|POST /api/timelapse?from=&to=&step=&...``: queues a short GIF or MP4 (``max_clip_frames``,
  ``max_clip_px``) and answers 202 with its job; ``GET /api/jobs/{id}`` its state, ``.../clip`` the file.
- ``POST /api/annotate?lang=&time=&lens=&camera=&look=&name=`` (the photo as the body, or a form with
  one file field and a Content-Length; at most ``max_upload_bytes``, ``max_uploads`` at once, refused from its
  header before it queues): the ``cupola annotate --json`` object (:func:`cupola.answers.json.annotate_json`)
  with its ``text`` and ``overlay_url`` (``GET /api/annotations/{token}/overlay.png``).
- ``GET /api/presets?lang=``: the seed stories.

Errors answer ``{"error": type, "detail": message, "param": request parameter, "fix": ...}``: 422 for
bad input (the library's own messages, its ``param`` named as the request spells it), 429 when a
client's token bucket is empty, 503 when the worker queue or the uploads are full, or the server is stopping
(all with ``Retry-After``), 404 and 413. Nothing here reaches the network; the page loads only files served
by this app. :func:`serve` runs it with uvicorn (``cupola serve``), with a bounded grace on SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import re
import secrets
import shutil
import socket
import tempfile
import threading
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..answers import in_view_lines, where_json
from ..answers.json import (elements_json, error_json, job_json, plan_json, presets_json, track_geojson)
from ..errors import CupolaError, InputError
from ..timebase import shown as quoted
from .limits import Batcher, Busy, LruStore, Slots, TokenBuckets, WorkerPool

SESSION_COOKIE = "cupola_session"
STATIC = files("cupola") / "web" / "static"
# The request parameter for each API parameter a library error can name (as the CLI's OPTION_FOR_PARAM).
PARAM_FOR_API = {
    "t": "t", "start": "from", "end": "to", "step_s": "step", "size": "w,h", "model": "camera", "focal_mm": "lens",
    "fov_deg": "fov", "f_number": "fnumber", "roll_deg": "roll", "sat": "elements", "observer": "where",
    "region": "place", "radius_km": "radius", "min_elevation_deg": "min_elevation", "min_duration_s": "min_duration",
    "within_min": "within", "sky_name": "name", "observer_height_km": "height", "output": "format",
    "path": "body", "aperture_blades": "blades", "select": "sat",
}
# The web's own fix where the library's is a call of its API: element sets are the session's (POST /api/elements).
FIX_FOR_API = {"sat": "send element sets nearer that time (TLE or OMM text) with POST /api/elements"}
# What each answer costs from a client's token bucket (the rest: 1).
COST = {"/api/render": 5.0, "/api/plan": 10.0, "/api/timelapse": 20.0, "/api/track": 2.0, "/api/elements": 2.0,
        "/api/annotate": 20.0}
# The photo formats an upload may be, by its Content-Type (or its name's extension).
PHOTO_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/tiff": ".tif"}


# On SIGTERM or Ctrl-C, what a request in flight has to finish (uvicorn's timeout_graceful_shutdown), and then
# the heavy job still running: a slow upload or a stuck client cannot hold the process past it.
SHUTDOWN_GRACE_S = 10.0
# Connections and tasks uvicorn takes at once before it answers 503 itself (a last bound under the app's own).
MAX_CONNECTIONS = 512


class BodyTooLarge(InputError):
    """A request body past its bound (answered 413)."""

    status = 413


@dataclass(frozen=True)
class WebLimits:
    """The bounds of one app; every one is enforced before the work starts."""

    workers: int = 1  # heavy work threads (see cupola.web.limits: numba's parallel layer wants one)
    queue: int = 8  # heavy requests waiting beyond those running; more answer 503
    rate_per_s: float = 400.0  # per-client token bucket refill (a request costs 1, heavier ones COST)
    burst: float = 800.0
    max_render_px: int = 1920 * 1080
    max_side_px: int = 3840
    max_track_points: int = 20_000
    max_track_days: float = 2.0
    max_plan_days: float = 7.0
    max_clip_frames: int = 120
    max_clip_px: int = 640 * 360
    max_jobs: int = 16
    job_ttl_s: float = 1800.0
    max_elements_bytes: int = 1_000_000
    max_upload_bytes: int = 25_000_000  # a photo to annotate (a 24 MP JPEG is ~10-20 MB)
    max_uploads: int = 8  # photos being received, checked or annotated at once (each on disk until answered)
    max_annotations: int = 16  # overlays kept for their URLs
    max_sessions: int = 512
    session_ttl_s: float = 3600.0
    where_cache: int = 4096
    scene_cache: int = 32  # Scenes of recent instants: a page asks where, render and track of one instant


def _instant(text: str | None, name: str):
    """Return the UTC datetime64 of a request time ('now' or missing: this second)."""
    from ..timebase import one_instant

    if text is None or str(text).strip().lower() in ("", "now"):
        return np.datetime64(np.datetime64("now", "s"), "ns")
    return one_instant(text, name)


def _error(kind: str, detail: str, status: int, param=None, fix=None, headers=None):
    return JSONResponse(error_json(kind, detail, param, fix), status_code=status, headers=headers)


def _json(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def create_app(limits: WebLimits | None = None):
    """Return the cupola web application (FastAPI) with `limits` (default :class:`WebLimits`)."""
    from .. import __version__

    lim = limits or WebLimits()
    pool = WorkerPool(lim.workers, lim.queue)
    buckets = TokenBuckets(lim.rate_per_s, lim.burst)
    sessions = LruStore(lim.max_sessions, lim.session_ttl_s)
    answers = LruStore(lim.where_cache)
    clip_dir = Path(tempfile.mkdtemp(prefix="cupola-web-clips-"))
    jobs = LruStore(lim.max_jobs, lim.job_ttl_s, on_evict=lambda job: Path(job["path"]).unlink(missing_ok=True))
    overlays = LruStore(lim.max_annotations, lim.job_ttl_s, on_evict=lambda path: Path(path).unlink(missing_ok=True))

    uploads = Slots(lim.max_uploads, "photos being received or annotated")

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        yield
        # queued work is dropped, a timelapse stops at its next frame; what runs gets SHUTDOWN_GRACE_S to end
        # before its folder goes (a job still running then writes nowhere: its temporaries were in it)
        await asyncio.to_thread(pool.shutdown, SHUTDOWN_GRACE_S)
        jobs.clear()
        overlays.clear()
        shutil.rmtree(clip_dir, ignore_errors=True)

    app = FastAPI(title="cupola", version=__version__, lifespan=lifespan,
                  description="The view from the International Space Station at any instant.")
    app.state.limits, app.state.pool, app.state.clip_dir = lim, pool, clip_dir

    # -- errors: one shape for all -------------------------------------------------------------------
    @app.exception_handler(CupolaError)
    async def _cupola_error(_request, exc: CupolaError):
        param = PARAM_FOR_API.get(exc.param, exc.param) if exc.param else None
        fix = FIX_FOR_API.get(exc.param, exc.fix) if exc.fix else None
        return _error(type(exc).__name__, f"{exc.detail}; {fix}" if fix else str(exc), getattr(exc, "status", 422),
                      param, fix)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        loc = [str(x) for x in first.get("loc", ()) if x not in ("query", "body", "path")]
        param = ".".join(loc) or None
        got = first.get("input")
        detail = f"{param or 'the request'}: {first.get('msg', 'invalid')}" + (
            f", got {quoted(got)}" if got is not None and not isinstance(got, dict) else "")
        return _error("InputError", detail, 422, param)

    @app.exception_handler(Busy)
    async def _busy(_request, exc: Busy):
        return _error("Busy", str(exc), exc.status, headers={"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))})

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request, exc: StarletteHTTPException):
        return _error("HTTPError", str(exc.detail), exc.status_code)

    @app.middleware("http")
    async def _limits_and_headers(request: Request, call_next):
        if request.url.path.startswith("/api/"):
            client = request.client.host if request.client else "?"
            try:
                buckets.take(client, COST.get(request.url.path, 1.0))
            except Busy as exc:
                return await _busy(request, exc)
        response = await call_next(request)
        # The page and everything it loads come from here: no other origin, no inline script.
        response.headers.setdefault("Content-Security-Policy",
                                    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
                                    "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    async def read_body(request: Request, most: int, what: str, fix: str, sink=None) -> bytearray:
        """Return the request body (or write it to `sink`), refused with 413 past `most` bytes: by its
        Content-Length before reading, else as soon as the stream passes it."""
        size = request.headers.get("content-length")
        too_big = BodyTooLarge(f"{what} is more than the {most:,} bytes accepted; {fix}", param="body")
        if size is not None and size.isdigit() and int(size) > most:
            raise too_big
        raw, n = bytearray(), 0
        chunks = request.stream().__aiter__()
        while True:
            try:
                chunk = await pool.or_stop(chunks.__anext__())  # a stuck client cannot hold a stopping server
            except StopAsyncIteration:
                break
            n += len(chunk)
            if n > most:
                raise too_big
            if sink is None:
                raw += chunk
            else:
                sink.write(chunk)
        return raw

    # -- the session's element sets ------------------------------------------------------------------
    def session_sat(request: Request):
        """Return (the session's Satellite or None, a key for caches)."""
        token = request.cookies.get(SESSION_COOKIE)
        hit = sessions.get(token) if token else None
        return (hit["sat"], hit["key"]) if hit else (None, "")

    @app.post("/api/elements", summary="Element sets (TLE or OMM text) for this browser session")
    async def post_elements(request: Request, sat: str | None = Query(None, description="NORAD id or name when the "
                                                                                              "text holds several")):
        from ..elements import parse_element_sets, select_sets
        from ..orbit import Satellite

        raw = await read_body(request, lim.max_elements_bytes, "the element text", "paste the sets of one satellite")
        text = bytes(raw).decode("utf-8", errors="replace")
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                body = json.loads(text)
                text = body["text"] if isinstance(body, dict) and "text" in body else text
            except ValueError:
                pass
        if not text.strip():
            raise InputError("no element text: paste a TLE (two or three lines) or OMM (JSON, XML, CSV)",
                             param="body")
        select = int(sat) if sat and sat.isdigit() else sat
        try:
            sets = parse_element_sets(text, source="<pasted>")
        except CupolaError as exc:  # a parse error is about the pasted text
            raise type(exc)(exc.detail, param=exc.param or "sat", fix=exc.fix) from None
        if not sets:
            raise InputError("the text holds no element set (only comments or blank lines): paste a TLE (two or "
                             "three lines) or OMM (JSON, XML, CSV)", param="body")
        try:
            chosen = select_sets(sets, select, where="the pasted text")
        except CupolaError as exc:  # which of the pasted satellites: the request's sat (the library says select=)
            raise type(exc)(exc.detail.replace("select=", "sat="), param="select", fix=exc.fix) from None
        found = Satellite.from_sets(chosen)
        token = request.cookies.get(SESSION_COOKIE) or secrets.token_urlsafe(24)
        sessions.put(token, {"sat": found, "key": secrets.token_hex(8)})
        response = JSONResponse(elements_json(found))
        response.set_cookie(SESSION_COOKIE, token, max_age=int(lim.session_ttl_s), httponly=True, samesite="strict")
        return response

    @app.get("/api/elements", summary="The element sets this session uses (the bundled ISS history when none)")
    def get_elements(request: Request):
        from ..orbit import Satellite

        sat, _ = session_sat(request)
        return {**elements_json(sat or Satellite.from_archive()), "source": "session" if sat else "bundled"}

    @app.delete("/api/elements", summary="Forget this session's element sets")
    def delete_elements(request: Request):
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            sessions.pop(token)
        response = Response(status_code=204)
        response.delete_cookie(SESSION_COOKIE)
        return response

    # -- where ------------------------------------------------------------------------------------------
    def where_bytes(scene, lang, lines):
        answer = where_json(scene, lang)
        if lines:
            answer["in_view_lines"] = [list(x) for x in in_view_lines(answer["in_view"], lang)]
        return _json(answer)

    scenes = LruStore(lim.scene_cache)

    def scene_at(t, key, sat, kp, allow_stale):
        """Return the Scene at `t` of the session's elements (`key`), from the cache when it is there."""
        from ..scene import compute_scene

        ck = (int(t.astype(np.int64)), key, kp, allow_stale)
        scene = scenes.get(ck)
        if scene is None:
            scene = compute_scene(t, sat=sat, kp=kp, allow_stale=allow_stale)
            scenes.put(ck, scene)
        return scene

    def where_many(group, items):
        """Answer many where requests of one (elements, kp, allow_stale) group from one SceneSeries;
        an instant the series cannot answer alone (a refusal, an SGP4 failure) is asked alone."""
        from ..scene import compute_scene

        key, sat, kp, allow_stale = group
        times = np.unique(np.array([t for t, _lang, _lines in items], dtype="datetime64[ns]"))
        try:
            series = compute_scene(times, sat=sat, kp=kp, allow_stale=allow_stale)
            ok = np.asarray(series.state.error).reshape(-1) == 0
        except CupolaError:
            series, ok = None, np.zeros(times.shape, bool)
        out = []
        for t, lang, lines in items:
            k = int(np.searchsorted(times, t))
            try:
                if ok[k]:
                    scene = series[k]
                    scenes.put((int(t.astype(np.int64)), key, kp, allow_stale), scene)
                else:
                    scene = scene_at(t, key, sat, kp, allow_stale)
                out.append(where_bytes(scene, lang, lines))
            except CupolaError as exc:
                out.append(exc)
        return out

    where_batch = app.state.where_batch = Batcher(pool, where_many)

    @app.get("/api/where", summary="Where the station is: the `cupola where --json` object")
    async def get_where(request: Request, t: str | None = Query(None, description="ISO-8601 with a zone, or 'now'"),
                        lang: str = Query("en", description="en or fr"),
                        kp: float | None = Query(None, ge=0, le=9), allow_stale: bool = False, lines: bool = False):
        from ..answers import check_lang

        check_lang(lang)
        t64 = _instant(t, "t")
        sat, key = session_sat(request)
        ck = ("where", int(t64.astype(np.int64)), lang, key, kp, allow_stale, lines)
        body = answers.get(ck)
        if body is None:
            body = await where_batch.ask((key, sat, kp, allow_stale), (t64, lang, lines))
            answers.put(ck, body)
        return Response(body, media_type="application/json")

    # -- render -----------------------------------------------------------------------------------------
    def check_size(w: int, h: int, most_px: int) -> None:
        if w * h > most_px:
            raise InputError(f"{w}x{h} is {w * h:,} pixels, more than the {most_px:,} this server renders; "
                             "ask for a smaller w and h", param="size")

    buffers = threading.local()  # one FramePool per worker thread: no re-faulting ~100 MB a frame

    def render_bytes(t, shot, fmt, caption, lang, kp, allow_stale, force, sat, key):
        from ..inputs import shot_from_text
        from ..plan import saying_when_in_view
        from ..render import FramePool, render
        from ..render.output import frame_bytes

        camera, settings = shot_from_text(**shot)
        scene = scene_at(t, key, sat, kp, allow_stale)
        if not hasattr(buffers, "pool"):
            buffers.pool = FramePool()
        with saying_when_in_view(camera.look, t, sat=sat, kp=kp, allow_stale=allow_stale):
            frame = render(scene, camera, settings, force=force, pool=buffers.pool)
        # the frame's pooled arrays stay valid until this thread's next frame: encoded before it
        return frame_bytes(frame, fmt, caption, lang)

    def shot_text(camera, lens, fov, look, roll, exposure, iso, fnumber, tracked, w, h, layers, blades=0) -> dict:
        return dict(model=camera, lens=lens, fov=fov, size=f"{w}x{h}", look=look, roll=roll, exposure=exposure,
                    iso=iso, f_number=fnumber, tracked=tracked, layers=layers, blades=blades)

    side = Query(1280, ge=16, le=lim.max_side_px)

    @app.get("/api/render", summary="What a camera on the station would record (PNG or JPEG)",
             responses={200: {"content": {"image/png": {}, "image/jpeg": {}}}})
    async def get_render(request: Request, t: str | None = Query(None), camera: str = "D5",
                         lens: float = Query(24.0, gt=0, le=2000), fov: float | None = Query(None, gt=0, lt=180),
                         look: str = "horizon:ahead", roll: float = 0.0, exposure: str = "1/60",
                         iso: float = Query(1600.0, gt=0, le=1e6), fnumber: float = Query(1.4, gt=0, le=64),
                         tracked: bool = False, w: int = side, h: int = Query(720, ge=16, le=lim.max_side_px),
                         format: str = Query("png", pattern="^(png|jpeg|jpg)$"), caption: bool = False,
                         lang: str = "en", kp: float | None = Query(None, ge=0, le=9), allow_stale: bool = False,
                         force: bool = False, layers: str | None = None,
                         blades: int = Query(0, ge=0, le=24, description="aperture blades for diffraction spikes "
                                                                         "(0: a round aperture)")):
        from ..answers import check_lang

        check_lang(lang)
        check_size(w, h, lim.max_render_px)
        t64 = _instant(t, "t")
        sat, key = session_sat(request)
        shot = shot_text(camera, lens, fov, look, roll, exposure, iso, fnumber, tracked, w, h, layers, blades)
        body = await pool.run(render_bytes, t64, shot, format, caption, lang, kp, allow_stale, force, sat, key)
        return Response(body, media_type="image/png" if format == "png" else "image/jpeg",
                        headers={"Cache-Control": "no-store"})

    # -- track ------------------------------------------------------------------------------------------
    def track_body(t, t0, t1, step, kp, allow_stale, sat, key):
        from ..geo.geojson import map_view
        from ..orbit import Satellite
        from ..scene import refuse_stale, compute_scene

        n = int((t1 - t0) / np.timedelta64(1, "ns") // int(step * 1e9)) + 1
        times = t0 + (np.arange(n, dtype=np.int64) * int(round(step * 1e9))).astype("timedelta64[ns]")
        cached = scenes.get((int(t.astype(np.int64)), key, kp, allow_stale))  # the page asked where first
        scene = cached or compute_scene(t, sat=sat, kp=kp, allow_stale=allow_stale, parts=("aurora",))
        sat = sat or Satellite.from_archive()
        check_launched(sat, t0)
        track = sat.at(times)
        if not allow_stale:  # the track's instants are refused as the scene's are
            refuse_stale(track)
        return _json(track_geojson(map_view(track, scene.state, scene.aurora_oval), t, step))

    def check_launched(sat, t0) -> None:
        """Refuse a span (a track, a clip) that starts before the satellite was launched, as compute_scene
        refuses an instant: the start is the parameter at fault."""
        from ..orbit import Satellite
        from ..scene import refuse_before_launch

        try:
            refuse_before_launch(sat or Satellite.from_archive(), t0)
        except InputError as exc:
            raise InputError(exc.detail, param="start", fix=exc.fix) from None

    @app.get("/api/track", summary="Ground track, footprint, terminator and auroral oval (GeoJSON)",
             responses={200: {"content": {"application/geo+json": {}}}})
    async def get_track(request: Request, t: str | None = Query(None, description="the instant of the footprint, "
                                                                               "terminator and oval"),
                        start: str | None = Query(None, alias="from", description="default t - 50 min"),
                        end: str | None = Query(None, alias="to", description="default t + 50 min"),
                        step: str = Query("30s"), kp: float | None = Query(None, ge=0, le=9),
                        allow_stale: bool = False):
        from ..inputs import parse_step

        t64 = _instant(t, "t")
        half = np.timedelta64(50 * 60, "s")
        t0 = _instant(start, "from") if start else t64 - half
        t1 = _instant(end, "to") if end else t64 + half
        step_s = parse_step(step)
        span_s = float((t1 - t0) / np.timedelta64(1, "ns")) / 1e9
        if span_s <= 0:
            raise InputError("the track's end is not after its start; give to later than from", param="end")
        if span_s > lim.max_track_days * 86400:
            raise InputError(f"a track of {span_s / 86400:.1f} days is longer than the {lim.max_track_days:g} days "
                             "this server draws; ask for a shorter span", param="end")
        if span_s / step_s + 1 > lim.max_track_points:
            raise InputError(f"{span_s:.0f} s every {step_s:g} s is more than {lim.max_track_points:,} points; use a "
                             f"step of at least {math.ceil(span_s / (lim.max_track_points - 1))} s", param="step_s")
        sat, key = session_sat(request)
        ck = ("track", int(t64.astype(np.int64)), int(t0.astype(np.int64)), int(t1.astype(np.int64)), step_s, kp,
              allow_stale, key)
        body = answers.get(ck)
        if body is None:
            body = await pool.run(track_body, t64, t0, t1, step_s, kp, allow_stale, sat, key)
            answers.put(ck, body)
        return Response(body, media_type="application/geo+json")

    # -- plan -------------------------------------------------------------------------------------------
    @app.get("/api/plan", summary="When the view holds something: windows or passes (cupola plan)")
    async def get_plan(request: Request, kind: str = Query(..., description="passes, aurora, over, sunrise, "
                                                                            "sunset or sky"),
                       start: str = Query(..., alias="from"), end: str = Query(..., alias="to"),
                       where: str | None = Query(None, description="passes: LAT,LON or a place"),
                       min_elevation: float = 10.0, height: float = 0.0, hemisphere: str | None = None,
                       place: str | None = Query(None, description="over: a sea, country, region, place or LAT,LON"),
                       radius: float | None = None, ground: str | None = None, within: float = 5.0,
                       name: str | None = Query(None, description="sky: a star, planet, Moon, 'Milky Way core'"),
                       any_ground: bool = False, night: bool = False, min_duration: float = 0.0,
                       lang: str = "en", kp: float | None = Query(None, ge=0, le=9), allow_stale: bool = False):
        from ..answers import check_lang
        from ..plan import check_span, search

        check_lang(lang)
        t0, t1 = _instant(start, "from"), _instant(end, "to")
        check_span(t0, t1, max_days=lim.max_plan_days)
        sat, _ = session_sat(request)
        try:
            what, found = await pool.run(
                search, kind, t0, t1, where=where, min_elevation_deg=min_elevation, observer_height_km=height,
                hemisphere=hemisphere, region=place, radius_km=radius, ground=ground, within_min=within,
                sky_name=name, ground_dark=not any_ground, at_night=night, min_duration_s=min_duration, sat=sat,
                kp=kp, allow_stale=allow_stale, lang=lang)
        except CupolaError as exc:  # an instant of the search it cannot answer (before the launch) is its start
            if exc.param != "t":
                raise
            raise type(exc)(exc.detail, param="start", fix=exc.fix) from None
        return Response(_json(plan_json(kind, what, found, t0, t1)), media_type="application/json")

    # -- timelapse (queued) -----------------------------------------------------------------------------
    def run_clip(job_id, t0, t1, step_s, shot, fps, caption, lang, kp, allow_stale, force, sat):
        from ..inputs import shot_from_text
        from ..video import timelapse

        job = jobs.get(job_id)
        if job is None:  # pushed out of the store before it ran
            return
        job["status"] = "running"

        def hook(i, _frame):
            job["done_frames"] = i + 1
            if pool.stopping.is_set():
                raise InputError("the server stopped before the clip was done; ask for it again")

        try:
            camera, settings = shot_from_text(**shot)
            timelapse(t0, t1, step_s, camera, job["path"], fps=fps, sat=sat, kp=kp, settings=settings,
                      caption=caption, lang=lang, allow_stale=allow_stale, force=force, frame_hook=hook)
            job["status"] = "done"
        except CupolaError as exc:
            job.update(status="failed", detail=str(exc))
        except Exception as exc:  # noqa: BLE001 (the job says it failed; the server goes on)
            job.update(status="failed", detail=f"the timelapse failed: {type(exc).__name__}: {exc}")

    def job_answer(job_id: str, job: dict) -> dict:
        url = f"/api/jobs/{job_id}"
        return job_json(job_id, job["status"], url, f"{url}/clip" if job["status"] == "done" else None,
                        job.get("detail"), job["frames"], job.get("done_frames", 0))

    async def timelapse_job(request: Request, start: str = Query(..., alias="from"), end: str = Query(..., alias="to"),
                            step: str = "10s", fps: float = Query(10.0, gt=0, le=50),
                            format: str = Query("gif", pattern="^(gif|mp4)$"), camera: str = "D5",
                            lens: float = Query(24.0, gt=0, le=2000), fov: float | None = Query(None, gt=0, lt=180),
                            look: str = "horizon:ahead", roll: float = 0.0, exposure: str = "1/60",
                            iso: float = Query(1600.0, gt=0, le=1e6), fnumber: float = Query(1.4, gt=0, le=64),
                            tracked: bool = False, w: int = Query(640, ge=16, le=lim.max_side_px),
                            h: int = Query(360, ge=16, le=lim.max_side_px), caption: bool = False, lang: str = "en",
                            kp: float | None = Query(None, ge=0, le=9), allow_stale: bool = False,
                            force: bool = False, layers: str | None = None,
                            blades: int = Query(0, ge=0, le=24, description="aperture blades for diffraction spikes "
                                                                            "(0: a round aperture)")):
        from ..answers import check_lang
        from ..inputs import parse_step, shot_from_text
        from ..video import check_fps, check_timelapse_output, frame_times

        check_lang(lang)
        check_size(w, h, lim.max_clip_px)
        t0, t1 = _instant(start, "from"), _instant(end, "to")
        step_s = parse_step(step)
        n = len(frame_times(t0, t1, step_s, max_frames=lim.max_clip_frames))
        shot = shot_text(camera, lens, fov, look, roll, exposure, iso, fnumber, tracked, w, h, layers, blades)
        shot_from_text(**shot)  # refuse bad camera text now, not in the job
        job_id = secrets.token_hex(8)
        path = clip_dir / f"{job_id}.{format}"
        check_timelapse_output(path, w, h)
        check_fps(fps, format)  # the job's own checks, before it is queued
        sat, _ = session_sat(request)
        check_launched(sat, t0)
        jobs.put(job_id, {"status": "queued", "path": str(path), "frames": n, "done_frames": 0,
                          "media": "image/gif" if format == "gif" else "video/mp4"})
        try:
            pool.submit(run_clip, job_id, t0, t1, step_s, shot, fps, caption, lang, kp, allow_stale, force, sat)
        except Busy:
            jobs.pop(job_id)
            raise
        return job_answer(job_id, jobs.get(job_id))

    for method in ("get", "post"):
        getattr(app, method)("/api/timelapse", status_code=202, operation_id=f"timelapse_{method}",
                             summary="Queue a short timelapse (GIF or MP4); answers its job and status URL")(
            timelapse_job)

    def no_job(job_id: str):
        return _error("InputError", f"no job {quoted(job_id)} (jobs are kept {lim.job_ttl_s / 60:g} min)", 404,
                      "job_id")

    @app.get("/api/jobs/{job_id}", summary="A queued job's state")
    def get_job(job_id: str):
        job = jobs.get(job_id)
        if job is None:
            return no_job(job_id)
        return job_answer(job_id, job)

    @app.get("/api/jobs/{job_id}/clip", summary="A finished timelapse",
             responses={200: {"content": {"image/gif": {}, "video/mp4": {}}}})
    def get_clip(job_id: str):
        job = jobs.get(job_id)
        if job is None:
            return no_job(job_id)
        if job["status"] != "done":
            return _error("InputError", f"job {job_id} is {job['status']}, not done"
                          + (f": {job['detail']}" if job.get("detail") else ""), 409, "job_id")
        return FileResponse(job["path"], media_type=job["media"])

    # -- annotate a photograph ---------------------------------------------------------------------------
    def shown(exc: CupolaError, photo: Path, name: str) -> CupolaError:
        """Return `exc` about the upload at `photo` with the user's name for it instead of the server path."""
        detail = exc.detail.replace(str(photo), name)
        return type(exc)(detail, param=exc.param, fix=exc.fix) if detail != exc.detail else exc

    def check_photo(photo: Path) -> None:
        """Refuse what is no photo cupola reads, or one too large, from its first bytes and its header
        alone (milliseconds, no pixel decoded), before it takes a place in the worker queue."""
        from ..photo.metadata import check_file, image_header

        image_header(*check_file(photo))

    def annotate_body(photo, overlay, time_text, lens, camera, look, sat, kp, allow_stale, lang):
        from ..answers.json import annotate_json
        from ..answers.text import annotate_text
        from ..photo.annotate import annotate

        try:
            a = annotate(photo, time=time_text, lens=lens, camera=camera, look=look, sat=sat, kp=kp,
                         allow_stale=allow_stale, lang=lang, overlay=overlay)
        finally:
            Path(photo).unlink(missing_ok=True)
        answer = annotate_json(a, lang)
        # server paths are not the user's: the photo is named as sent, the overlay is at overlay_url
        answer["outputs"] = {}
        if isinstance(answer.get("photo"), dict) and "path" in answer["photo"]:
            answer["photo"]["path"] = Path(photo).name
        answer["text"] = annotate_text(answer, lang)
        return answer

    @app.post("/api/annotate", summary="Explain a photograph taken from the station: the report and an overlay",
              openapi_extra={"requestBody": {"content": {t: {"schema": {"type": "string", "format": "binary"}}
                                                         for t in PHOTO_TYPES}, "required": True}})
    async def post_annotate(request: Request, lang: str = "en",
                            time: str | None = Query(None, description="the capture time when EXIF lacks it"),
                            lens: float | None = Query(None, gt=0, le=2000, description="focal length, mm"),
                            camera: str | None = Query(None, description="the body when EXIF lacks it"),
                            look: str | None = Query(None, description="pointing if the stars cannot be solved"),
                            name: str | None = Query(None, description="the file's name (its extension tells "
                                                                       "the format when the type does not)"),
                            kp: float | None = Query(None, ge=0, le=9), allow_stale: bool = False):
        """The body is the photo itself (JPEG, PNG or TIFF), or a form with one file field
        (``curl -F photo=@x.jpg``), at most ``max_upload_bytes``; at most ``max_uploads`` at once."""
        from ..answers import check_lang
        from ..photo.metadata import given_camera

        check_lang(lang)
        if camera is not None:
            given_camera(camera)  # an unknown body is refused before a byte of the photo is read
        with uploads.held():  # past it 503 before a byte is read: uploads never pile up on disk
            return await annotate_upload(request, lang, time, lens, camera, look, name, kp, allow_stale)

    async def annotate_upload(request: Request, lang, time, lens, camera, look, name, kp, allow_stale):
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        form = upload = None
        if kind == "multipart/form-data":
            # a form is parsed whole, so its size must be known and bounded before it is read
            size = request.headers.get("content-length", "")
            if not size.isdigit() or int(size) > lim.max_upload_bytes:
                raise BodyTooLarge(f"a form upload needs a Content-Length of at most {lim.max_upload_bytes:,} "
                                   f"bytes, got {size or 'none'}; send a smaller file, or the photo as the body",
                                   param="body")
            try:
                form = await request.form(max_files=1, max_fields=8)
            except StarletteHTTPException as exc:  # python-multipart's refusal (a broken form, a huge header)
                raise InputError(f"the form could not be read ({exc.detail}); send the photo as one file field "
                                 "(-F photo=@x.jpg) or as the body", param="body") from None
            upload = next((v for v in form.values() if not isinstance(v, str)), None)
            if upload is None:
                await form.close()
                raise InputError("the form holds no file: send the photo as a file field (-F photo=@x.jpg)",
                                 param="body")
            kind, name = (upload.content_type or "").lower(), name or upload.filename
        suffix = PHOTO_TYPES.get(kind) or next((x for x in (".jpg", ".jpeg", ".png", ".tif", ".tiff")
                                                if name and name.lower().endswith(x)), None)
        if suffix is None:
            if form is not None:
                await form.close()
            raise InputError(f"cannot tell the photo's format from its type {kind or 'none'!r}"
                             f"{f' or name {name!r}' if name else ''}; send a JPEG, PNG or TIFF as the body "
                             "with its Content-Type (image/jpeg, image/png or image/tiff)", param="body")
        token = secrets.token_hex(8)
        # the answer names the file as the user did (letters, digits, '.', '-', '_' kept), in a folder of its own
        stem = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).stem)[:80] if name else "photo"
        (clip_dir / token).mkdir()
        photo = clip_dir / token / f"{stem or 'photo'}{suffix}"
        try:
            with open(photo, "wb") as sink:
                if upload is not None:
                    shutil.copyfileobj(upload.file, sink)
                else:
                    await read_body(request, lim.max_upload_bytes, "the photo", "send a smaller file", sink)
            if photo.stat().st_size == 0:
                raise InputError("no photo: send the file as the request body", param="body")
        except BaseException:
            shutil.rmtree(photo.parent, ignore_errors=True)
            raise
        finally:
            if form is not None:
                await form.close()
        overlay = clip_dir / f"overlay-{token}.png"
        sat, _ = session_sat(request)
        try:
            await run_in_threadpool(check_photo, photo)
            job = pool.submit(annotate_body, str(photo), str(overlay), time, lens, camera, look, sat, kp,
                              allow_stale, lang)
            try:
                answer = await pool.or_stop(asyncio.wrap_future(job))
            except BaseException:  # refused, failed, or the request cancelled while the job runs on
                job.add_done_callback(lambda _job: overlay.unlink(missing_ok=True))
                raise
        except CupolaError as exc:
            raise shown(exc, photo, photo.name) from None
        finally:
            shutil.rmtree(photo.parent, ignore_errors=True)  # also when refused, failed or cancelled
        if overlay.exists():
            overlays.put(token, str(overlay))
            answer["overlay_url"] = f"/api/annotations/{token}/overlay.png"
        return Response(_json(answer), media_type="application/json")

    @app.get("/api/annotations/{token}/overlay.png", summary="The overlay of an annotated photo",
             responses={200: {"content": {"image/png": {}}}})
    def get_overlay(token: str):
        path = overlays.get(token)
        if path is None:
            return _error("InputError", f"no overlay {quoted(token)} (overlays are kept {lim.job_ttl_s / 60:g} min)",
                          404, "token")
        return FileResponse(path, media_type="image/png")

    # -- presets and the page ---------------------------------------------------------------------------
    @app.get("/api/presets", summary="The seed stories as presets of the page")
    def get_presets(lang: str = "en"):
        from ..demo import PRESETS

        return presets_json(PRESETS, lang)

    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(str(STATIC / "index.html"), media_type="text/html")

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    return app


def serve(host: str = "127.0.0.1", port: int = 8000, limits: WebLimits | None = None) -> None:
    """Serve :func:`create_app` with uvicorn until SIGINT or SIGTERM (then as the signal would: the caller
    sees it once the server is down). New connections stop at once; requests in flight get
    :data:`SHUTDOWN_GRACE_S` to finish (those still waiting a second before its end are answered 503); queued
    jobs are dropped, a running one gets as long again; the app's temporary folder is removed.

    Raises:
        InputError: (param 'port') the address cannot be listened on.
    """
    import uvicorn

    app = create_app(limits)

    class Server(uvicorn.Server):
        async def shutdown(self, sockets=None):
            # a request still waiting (on the workers, on its body) a second before uvicorn's grace ends is
            # answered 503 rather than cut off with a 500
            asyncio.get_running_loop().call_later(max(0.0, SHUTDOWN_GRACE_S - 1.0), app.state.pool.abandon)
            await super().shutdown(sockets)

    config = uvicorn.Config(app, host=host, port=port, log_level="warning",
                            timeout_graceful_shutdown=SHUTDOWN_GRACE_S, limit_concurrency=MAX_CONNECTIONS)
    try:  # bound here, so that an address in use is one line (uvicorn would log it and exit 1 or 3)
        sock = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
    except OSError as exc:
        why = os.strerror(exc.errno) if exc.errno else str(exc)
        raise InputError(f"cannot serve on {host}:{port} ({why}); choose another port, or stop "
                         "what listens there", param="port") from None
    server = Server(config)
    server.run(sockets=[sock])


__all__ = ["create_app", "serve", "WebLimits", "PARAM_FOR_API", "SESSION_COOKIE", "SHUTDOWN_GRACE_S"]

"""What keeps one user from stalling the server: a per-client token bucket, a bounded worker pool,
a batcher that answers the requests queued meanwhile in one vectorised call, a bounded LRU
store with expiry (sessions' element sets, answers, jobs).

The pool has one worker thread by default, and that is deliberate: the numba kernels run their
parallel loops on numba's default "workqueue" threading layer, which must not be entered from
two threads at once (numba aborts the process), and a parallel kernel already uses every core.
So heavy work is queued (a few requests deep) and refused beyond that with 503 and Retry-After,
instead of piling up; cheap answers come from the caches without entering the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor, wait


class Busy(Exception):
    """The pool's queue is full (answer 503) or a client ran out of tokens (answer 429)."""

    def __init__(self, status: int, retry_after_s: float, message: str):
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s


class TokenBuckets:
    """A token bucket per client: `rate_per_s` tokens a second, at most `burst` held; a request
    takes `cost` tokens or is refused (429) with the seconds until it would pass."""

    def __init__(self, rate_per_s: float, burst: float, max_clients: int = 4096):
        self.rate, self.burst = float(rate_per_s), float(burst)
        self._state: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._max = max_clients
        self._lock = threading.Lock()

    def take(self, client: str, cost: float = 1.0) -> None:
        now = time.monotonic()
        with self._lock:
            tokens, then = self._state.pop(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            if tokens < cost:
                self._state[client] = (tokens, now)
                wait = (cost - tokens) / self.rate
                raise Busy(429, wait, f"too many requests from this client; try again in {wait:.1f} s")
            self._state[client] = (tokens - cost, now)
            while len(self._state) > self._max:
                self._state.popitem(last=False)


class Slots:
    """At most `n` holders at once; one more is refused at once (Busy, 503) rather than queued."""

    def __init__(self, n: int, what: str, retry_after_s: float = 2.0):
        self._sem = threading.BoundedSemaphore(n)
        self.n, self.what, self.retry_after_s = n, what, retry_after_s

    def take(self) -> None:
        if not self._sem.acquire(blocking=False):
            raise Busy(503, self.retry_after_s, f"the server is busy ({self.n} {self.what}); try again shortly")

    def release(self) -> None:
        self._sem.release()

    @contextlib.contextmanager
    def held(self):
        self.take()
        try:
            yield
        finally:
            self.release()


class WorkerPool:
    """At most `workers` jobs running and `queue` more waiting; a job past that is refused (503).

    `stopping` is set by :meth:`shutdown`: long jobs (timelapses) look at it between frames."""

    def __init__(self, workers: int = 1, queue: int = 8, retry_after_s: float = 2.0):
        self._ex = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cupola-web")
        self.capacity = workers + queue
        self._slots = Slots(self.capacity, "requests of heavy work running or waiting", retry_after_s)
        self.retry_after_s = retry_after_s
        self.stopping = threading.Event()
        self._futures: set[Future] = set()
        self._lock = threading.Lock()
        self._abandoned = False
        self._stop_waiters: set[asyncio.Future] = set()

    async def run(self, fn, *args, **kw):
        """Run ``fn(*args, **kw)`` on a worker and return its result (its exception is raised here)."""
        return await self.or_stop(asyncio.wrap_future(self.submit(fn, *args, **kw)))

    async def or_stop(self, aw):
        """Return what `aw` gives, unless :meth:`abandon` comes first: then Busy (503), and `aw` is cancelled
        (a job already running goes on). A request waiting on it is answered instead of cut off unanswered."""
        task = asyncio.ensure_future(aw)
        if not task.done():
            stop = asyncio.get_running_loop().create_future()  # this loop's (a test client may run several)
            with self._lock:
                self._stop_waiters.add(stop)
                abandoned = self._abandoned
            if abandoned:
                stop.set_result(None)
            try:
                await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
            except BaseException:  # this request itself cancelled
                task.cancel()
                raise
            finally:
                with self._lock:
                    self._stop_waiters.discard(stop)
            if not task.done():
                task.cancel()
                raise Busy(503, self.retry_after_s, "the server is stopping and could not finish this request "
                                                    "in time; ask again once it is back")
        return task.result()

    def abandon(self) -> None:
        """Answer every request waiting in :meth:`or_stop` with 503, and those that wait later and are not
        done at once (any thread)."""
        with self._lock:
            self._abandoned = True
            waiters = list(self._stop_waiters)
        for stop in waiters:
            stop.get_loop().call_soon_threadsafe(lambda f=stop: f.done() or f.set_result(None))

    def submit(self, fn, *args, **kw):
        """Queue ``fn(*args, **kw)`` without waiting for it; return its Future (or raise Busy)."""
        if self.stopping.is_set():
            raise Busy(503, self.retry_after_s, "the server is stopping; try again once it is back")
        self._slots.take()
        try:
            fut = self._ex.submit(fn, *args, **kw)
        except BaseException:
            self._slots.release()
            raise
        with self._lock:
            self._futures.add(fut)
        fut.add_done_callback(self._done)
        return fut

    def _done(self, fut: Future) -> None:
        with self._lock:
            self._futures.discard(fut)
        self._slots.release()

    def shutdown(self, wait_s: float = 0.0) -> bool:
        """Refuse new work, drop what waits, and wait up to `wait_s` for what runs; return whether it ended."""
        self.stopping.set()
        self._ex.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            running = list(self._futures)
        return not wait(running, timeout=wait_s).not_done if running else True


class Batcher:
    """Gather requests that arrive while the worker is busy and answer them in one call.

    ``await batcher.ask(group, item)`` queues `item`; one pool job takes everything queued by then
    and calls ``compute(group, items)`` once per group, which returns one result (or exception) per
    item. With one worker, requests that come in while a batch runs make the next batch, so a
    burst of N costs one vectorised call instead of N (a SceneSeries of N instants costs ~1/5 of N
    Scenes). At most `max_pending` items wait; past that, Busy (503).
    """

    def __init__(self, pool: WorkerPool, compute, max_pending: int = 256):
        self._pool, self._compute, self._max = pool, compute, max_pending
        self._pending: list = []
        self._scheduled = False
        self._lock = threading.Lock()
        self.calls = self.items = 0  # compute calls made and items they answered

    async def ask(self, group, item):
        fut: Future = Future()
        with self._lock:
            if len(self._pending) >= self._max:
                raise Busy(503, self._pool.retry_after_s, f"the server is busy ({self._max} answers waiting); "
                                                          "try again shortly")
            self._pending.append((group, item, fut))
            start = not self._scheduled
            self._scheduled = True
        if start:
            try:
                self._pool.submit(self._drain)
            except Busy:
                with self._lock:
                    waiting, self._pending, self._scheduled = self._pending, [], False
                for _g, _i, f in waiting:
                    f.set_exception(Busy(503, self._pool.retry_after_s, "the server is busy; try again shortly"))
        return await self._pool.or_stop(asyncio.wrap_future(fut))

    def _drain(self) -> None:
        with self._lock:
            batch, self._pending, self._scheduled = self._pending, [], False
        groups: dict = {}
        for group, item, fut in batch:
            groups.setdefault(group, []).append((item, fut))
        for group, entries in groups.items():
            self.calls += 1
            self.items += len(entries)
            try:
                results = self._compute(group, [item for item, _ in entries])
            except BaseException as exc:  # noqa: BLE001 (each waiting request gets the error)
                results = [exc] * len(entries)
            for (_item, fut), res in zip(entries, results):
                if isinstance(res, BaseException):
                    fut.set_exception(res)
                else:
                    fut.set_result(res)


class LruStore:
    """A thread-safe map of at most `max_items`, each kept `ttl_s` seconds after its last use
    (math.inf: until pushed out); `on_evict(value)` is called for each item dropped."""

    def __init__(self, max_items: int, ttl_s: float = math.inf, on_evict=None):
        self._items: OrderedDict = OrderedDict()
        self._max, self._ttl, self._on_evict = max_items, ttl_s, on_evict
        self._lock = threading.Lock()

    def get(self, key, default=None):
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                return default
            value, used = hit
            if now - used > self._ttl:
                del self._items[key]
                self._evicted([value])
                return default
            self._items[key] = (value, now)
            self._items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        now = time.monotonic()
        gone = []
        with self._lock:
            if key in self._items:
                gone.append(self._items.pop(key)[0])
            self._items[key] = (value, now)
            while len(self._items) > self._max:
                gone.append(self._items.popitem(last=False)[1][0])
            while self._items and now - next(iter(self._items.values()))[1] > self._ttl:
                gone.append(self._items.popitem(last=False)[1][0])
        self._evicted(gone)

    def pop(self, key):
        with self._lock:
            hit = self._items.pop(key, None)
        if hit is not None:
            self._evicted([hit[0]])

    def clear(self) -> None:
        with self._lock:
            gone = [v for v, _ in self._items.values()]
            self._items.clear()
        self._evicted(gone)

    def __len__(self) -> int:
        return len(self._items)

    def _evicted(self, values) -> None:
        if self._on_evict is not None:
            for v in values:
                self._on_evict(v)


__all__ = ["Busy", "TokenBuckets", "Slots", "WorkerPool", "Batcher", "LruStore"]

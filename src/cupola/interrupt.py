"""SIGTERM as an exception: a command or a timelapse stopped by `kill` (or a service manager) unwinds as it does
on Ctrl-C, so that whatever it was writing is removed rather than left half-written."""

from __future__ import annotations

import contextlib
import signal
import threading

SIGTERM_EXIT = 128 + signal.SIGTERM  # 143, the shell's code for a process ended by SIGTERM


@contextlib.contextmanager
def sigterm_as_exit():
    """While inside, SIGTERM raises SystemExit(143) in the main thread (elsewhere, or where no handler may be
    set, nothing changes); the previous handler is put back on the way out."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, _frame):
        raise SystemExit(128 + signum)

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except (ValueError, OSError):  # not allowed here (e.g. an embedded interpreter)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


__all__ = ["SIGTERM_EXIT", "sigterm_as_exit"]

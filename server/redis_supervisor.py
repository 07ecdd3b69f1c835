"""Keeps the embedded Redis running while the server runs: restarted at once if it dies.

The server that runs the embedded Redis (started it, or attached to the one a killed server
left behind) looks at its process ten times a second. Once it has exited (killed, crashed, out
of memory) the supervisor starts it again from the data directory: the same configuration and
unix socket, the same append-only file, which it replays (`appendfsync always`: every ballot a
phone holds a receipt for is in it). Meanwhile requests fail at once as `unavailable`; then the
clients' pools reconnect, the store reloads its scripts on the first `NOSCRIPT`, the projection
follows the stream again and every page is told `redis: true`.

Only an exited process is restarted: a Redis that is busy or frozen still runs, and two on one
append-only file would corrupt it. A restart that fails (the new Redis exits) is tried again
after 0.5, 1, 2, then every 5 s, each failure logged. A deliberate shutdown never restarts
it: from the moment SIGTERM or SIGINT arrives (before uvicorn has closed its connections and
stopped the app) the supervisor starts nothing, and the app's shutdown stops it first. An
external Redis (`REDIS_URL`) is not this server's to restart: it is not supervised.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
import time
from types import FrameType
from typing import Any

from server.redis_target import RedisTarget, RestartFailed

log = logging.getLogger("pingyi")

CHECK_EVERY = 0.1  # seconds between two looks at the process
RETRY_AFTER = (0.5, 1.0, 2.0, 5.0)  # after the 1st, 2nd, 3rd, later failed restarts


class RedisSupervisor:
    def __init__(self, target: RedisTarget, check_every: float = CHECK_EVERY) -> None:
        self.target = target
        self.check_every = check_every
        self._stopping = False  # set at a stop, or by a signal that stops the server
        self._task: asyncio.Task[None] | None = None
        self._restart: asyncio.Future[int] | None = None
        self._signals: dict[int, Any] = {}  # the handlers found at the start (uvicorn's)

    def start(self) -> None:
        if self.target.embedded is not None and self._task is None:
            self._task = asyncio.create_task(self._watch())
            self._hear_exit_signals()

    def stopping(self) -> bool:
        return self._stopping

    async def stop(self) -> None:
        """Stops watching. A restart under way returns at once and leaves what it started to
        `RedisTarget.shutdown_embedded`, which the shutdown calls next."""
        self._stopping = True
        for signum, previous in self._signals.items():
            if signal.getsignal(signum) == self._on_exit_signal:
                signal.signal(signum, previous)
        self._signals.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._restart is not None:
            with contextlib.suppress(Exception):  # logged by the watch, or moot at a stop
                await self._restart

    def _hear_exit_signals(self) -> None:
        """Chains a handler before the server's own for the signals that stop it: a Redis
        that dies while the server winds down (both sent SIGTERM by a service manager) is not
        started again in the second before the app itself is stopped."""
        if threading.current_thread() is not threading.main_thread():
            return  # an app run in a thread (a test client): its lifespan's stop suffices
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._signals[signum] = signal.signal(signum, self._on_exit_signal)

    def _on_exit_signal(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True
        previous = self._signals.get(signum)
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:  # the default action: put it back, and take it
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    async def _watch(self) -> None:
        failures = 0
        while not self._stopping:
            wait = RETRY_AFTER[min(failures, len(RETRY_AFTER)) - 1] if failures else 0.0
            await asyncio.sleep(max(wait, self.check_every))
            if self._stopping or not self.target.embedded_exited():
                continue
            if not failures:
                log.warning(
                    "the embedded Redis (pid %s) has exited; restarting it from its data "
                    "directory (%s)",
                    self.target.embedded_pid(),
                    self.target.embedded.dbdir,
                )
            began = time.monotonic()
            self._restart = asyncio.ensure_future(
                asyncio.to_thread(self.target.restart_embedded, self.stopping)
            )
            try:  # shielded: a stop waits for the thread rather than leaving it behind
                pid = await asyncio.shield(self._restart)
            except Exception as error:  # whatever it was, the next try comes
                failures += 1
                reason = error if isinstance(error, RestartFailed) else repr(error)
                log.error(
                    "the embedded Redis did not restart (%s); trying again in %.1f s",
                    reason,
                    RETRY_AFTER[min(failures, len(RETRY_AFTER)) - 1],
                )
                continue
            finally:
                if self._restart.done():
                    self._restart = None
            if self._stopping:  # the server is stopping: what was started is stopped with it
                return
            failures = 0
            log.warning(
                "the embedded Redis is back (pid %s) after %.2f s, its append-only file replayed",
                pid,
                time.monotonic() - began,
            )

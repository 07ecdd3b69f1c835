"""How long the event loop stalls: a measurement for the load bench, off unless asked for.

With `PINGYI_LOOP_MONITOR=<file>` in its environment the server runs one tiny task that sleeps
`TICK` and notes how late it woke: a late wake-up is a stretch in which the loop ran nothing
else (a long callback, a garbage collection, thousands of socket writes in one go), or a
stretch in which the machine ran other processes instead (two cores shared with Redis and the
load generators). Each one later than `REPORT_OVER` is appended to the file as
`<wall time> loop <ms late>`, followed by `<wall time> busy <ms>`: the CPU time the loop's
thread used meanwhile, the server's own share of the stall. Each garbage collection longer
than `REPORT_OVER` is written as `<wall time> gc<generation> <ms>`. Wall time, so the bench
can put each stall in the phase it measured then (one machine, one clock). A tick costs a few
microseconds: 200 a second is well under 1 % of a core.
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
from typing import IO, Any

ENVIRONMENT = "PINGYI_LOOP_MONITOR"
TICK = 0.005  # seconds between two looks at the clock
REPORT_OVER = 0.002  # a stall shorter than this is the scheduler's noise, not the server's
FLUSH_EVERY = 1.0  # seconds: the lines reach the file in a quiet tick, not one write each

_task: asyncio.Task[None] | None = None
_out: IO[str] | None = None  # open for the process's lifetime


def lateness(slept_from: float, woke_at: float, tick: float = TICK) -> float:
    """How much later than asked a sleep of `tick` ended (never negative)."""
    return max(0.0, woke_at - slept_from - tick)


def stall_line(kind: str, seconds: float, at: float) -> str:
    return f"{at:.4f} {kind} {seconds * 1000:.1f}\n"


def parse_stalls(text: str) -> list[tuple[float, str, float]]:
    """(wall time, kind, seconds) of each line a monitor wrote; a torn last line is skipped."""
    found = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3:
            try:
                found.append((float(parts[0]), parts[1], float(parts[2]) / 1000))
            except ValueError:
                continue
    return found


def start_if_asked() -> None:
    """Starts the monitor on the running loop once, if the environment names a file."""
    global _task, _out
    path = os.environ.get(ENVIRONMENT)
    if not path or _task is not None:
        return
    _out = open(path, "a", encoding="utf-8")  # noqa: SIM115 - the process's lifetime
    gc.callbacks.append(_collection_timer(_out))
    _task = asyncio.get_running_loop().create_task(_watch(_out))


async def _watch(out: IO[str]) -> None:
    clock, cpu = time.perf_counter, time.thread_time
    flushed = clock()
    while True:
        started, cpu_started = clock(), cpu()
        await asyncio.sleep(TICK)
        woke = clock()
        late = lateness(started, woke)
        if late > REPORT_OVER:
            now = time.time()
            out.write(stall_line("loop", late, now) + stall_line("busy", cpu() - cpu_started, now))
            flushed = 0.0  # onto the file once the loop has time again, not in the busy stretch
        elif woke - flushed > FLUSH_EVERY:  # and a collection's line, within a second
            out.flush()
            flushed = woke


def _collection_timer(out: IO[str]) -> Any:
    started = [0.0]

    def timed(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
            return
        took = time.perf_counter() - started[0]
        if took > REPORT_OVER:
            out.write(stall_line(f"gc{info['generation']}", took, time.time()))

    return timed

"""When Python's cyclic garbage collector may run, and what it may walk.

Every connected phone is a couple of hundred long-lived objects (its protocol, parser, tasks,
session), and a burst of ballots keeps thousands more in flight. A collection walks them all
while the event loop waits: with 5,000 phones, collections took 30-145 ms each in the middle
of a vote (steady 1,000 ballots/s had p99 above 150 ms; a 5,000-ballot burst lost up to a
second to them). Most of a ballot's garbage is freed by reference counting anyway; the
collector is only needed for cycles, and those can wait a few minutes. So:

- the server starts: what it loaded is frozen out of collection, and young collections come
  every 10,000 allocations instead of 700 (the same cost per object, far fewer full ones
  while phones join);
- a round opens: what exists now (the connections) is frozen out of collection, and
  automatic collection stops;
- the round closes: automatic collection resumes (it walks only what the vote allocated);
- the results are revealed: a few seconds later, when the projector's and the phones' views
  are out, everything is unfrozen and collected once.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable

log = logging.getLogger("pingyi")

COLLECT_AFTER = 3.0  # seconds after a reveal


def server_starting() -> None:
    """Before serving. With the default thresholds a full collection walked every connection
    every few thousand allocations: 60-160 ms stops of the event loop at 1,000 phones."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 100)


def voting_opened() -> None:
    gc.freeze()
    gc.disable()


def voting_closed() -> None:
    gc.enable()


def results_revealed(still_voting: Callable[[], bool]) -> None:
    """Unfreezes and collects soon, unless a round is open again by then."""

    def collect() -> None:
        if still_voting():
            return
        started = time.perf_counter()
        gc.unfreeze()
        found = gc.collect()
        took = 1000 * (time.perf_counter() - started)
        log.info("garbage collection after the results: %d objects, %.0f ms", found, took)

    asyncio.get_running_loop().call_later(COLLECT_AFTER, collect)

"""When Python's cyclic garbage collector may run, and what it may walk.

Every connected phone is a couple of hundred long-lived objects (its protocol, parser, tasks,
session), and a burst of ballots keeps thousands more in flight. A collection walks them all
while the event loop waits, in the middle of a vote (docs/benchmarks.md has what it cost).
Most of a ballot's garbage is freed by reference counting anyway; the collector is only
needed for cycles, and those can wait a few minutes. So:

- the server starts (`server_starting`): what it loaded is frozen out of collection, and
  young collections come every 10,000 allocations instead of 700 (the same cost per object,
  far fewer full ones while phones join);
- a round opens: what exists now (the connections) is frozen out of collection, and
  automatic collection stops;
- the round closes: automatic collection resumes (it walks only what the vote allocated);
- the results are revealed: a few seconds later, when the projector's and the phones' views
  are out, everything is unfrozen and collected once.

The last three follow the meeting's events: `observer` is registered with the projection.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable

from meeting import events as e
from meeting.agenda import MeetingState

log = logging.getLogger("pingyi")

COLLECT_AFTER = 3.0  # seconds after a reveal


def server_starting() -> None:
    """Before serving: with the default thresholds a full collection walks every connection
    every few thousand allocations."""
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


def observer(current: Callable[[], MeetingState]) -> Callable[[e.Event, MeetingState], None]:
    """The policy as a projection observer; `current` gives the state when the collection is
    due (a round may have opened since the reveal)."""

    def observe(event: e.Event, state: MeetingState) -> None:
        if isinstance(event, e.VotingOpened):
            voting_opened()
        elif isinstance(event, e.VotingClosed):
            voting_closed()
        elif isinstance(event, e.ResultsRevealed):
            results_revealed(lambda: current().open_round is not None)

    return observe

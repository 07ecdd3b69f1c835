"""When Python's cyclic garbage collector may run, and what it may walk.

Every connected phone is a couple of hundred long-lived objects (its protocol, parser, tasks,
session), and a burst of ballots keeps thousands more in flight. A collection walks them all
while the event loop waits: one full collection over 5,000 phones took 450–820 ms
(docs/benchmarks.md). Most garbage is freed by reference counting anyway, a departed phone's
included (`server.wire` breaks its connection's cycles); the collector is only needed for the
rare cycle, and a cycle can wait until the room has gone home. So no collection ever walks
what lives long, the connections above all, while anyone is connected:

- the server starts (`server_starting`): what it loaded is frozen out of collection, and
  whatever survives a middle-generation collection is frozen too (`freeze_survivors`), so
  the oldest generation, the one a full collection walks, stays nearly empty while thousands
  of phones join; each automatic collection walks at most the last ~25,000 new objects;
- a round opens: what exists now is frozen, and automatic collection stops, in every meeting
  the process hosts, until the last open round closes;
- a round closes: what the vote left is frozen (a first young collection would otherwise
  walk everything allocated while voting ran), and automatic collection resumes;
- the process is idle (at most `IDLE_CONNECTIONS` WebSocket connections left: the rooms have
  gone home): everything is unfrozen and collected once, which frees the cycles that were
  frozen, then frozen again. It is looked at every `IDLE_CHECK` seconds, and costs about
  what the server had loaded at its start (~100,000 objects, a few tens of milliseconds)
  when nobody is there to wait for it.

The round's events reach the policy through `observer`, registered with each meeting's
projection.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from typing import Any

from meeting import events as e
from meeting.agenda import MeetingState
from server import loop_monitor
from server.wire import open_connections

log = logging.getLogger("pingyi")

IDLE_CHECK = 30.0  # seconds between two looks at whether the rooms have gone home
IDLE_CONNECTIONS = 20  # WebSocket connections a full collection may still delay
# Objects frozen above the last full collection's survivors before another one is worth it.
IDLE_GROWTH = 5_000
# Young collections every 5,000 allocations, the middle one every 5 young ones: each walks at
# most ~25,000 objects (~20 ms), and what survives both is frozen.
THRESHOLDS = (5_000, 5, 10)

_voting: set[object] = set()  # the meetings of this process with a round open
_collected = 0  # objects frozen after the last full collection
_watching: asyncio.Task[None] | None = None


def server_starting() -> None:
    """Before serving: what is loaded is frozen, and so will be what lives long."""
    global _collected
    gc.collect()
    gc.freeze()
    _collected = gc.get_freeze_count()
    gc.set_threshold(*THRESHOLDS)
    if freeze_survivors not in gc.callbacks:
        gc.callbacks.append(freeze_survivors)


def freeze_survivors(phase: str, info: dict[str, Any]) -> None:
    """After a middle or full collection: its survivors are long-lived (a phone's connection,
    a meeting's state); frozen, no later collection walks them. A collection's callback may
    freeze: the collection is over when "stop" is called."""
    if phase == "stop" and info["generation"] >= 1:
        gc.freeze()


def voting_opened(meeting: object = None) -> None:
    _voting.add(meeting)
    gc.freeze()
    gc.disable()


def voting_closed(meeting: object = None) -> None:
    _voting.discard(meeting)
    if not _voting:
        gc.freeze()
        gc.enable()


def idle(connections: int, limit: int = IDLE_CONNECTIONS) -> bool:
    """Whether a full collection now would keep nobody waiting: the connections have gone."""
    return connections <= limit


def collect_if_idle(connections: int) -> bool:
    """One full collection, if the process is idle and has frozen enough new objects since
    the last one to make it worth walking them all. Whether it ran."""
    global _collected
    if _voting or not idle(connections):
        return False
    if gc.get_freeze_count() < _collected + IDLE_GROWTH:  # cheap now: few objects are left
        return False
    started = time.perf_counter()
    gc.unfreeze()
    found = gc.collect()
    gc.freeze()
    _collected = gc.get_freeze_count()
    took = 1000 * (time.perf_counter() - started)
    log.info("garbage collection, the process idle: %d objects freed, %.0f ms", found, took)
    return True


async def _watch_idle() -> None:
    while True:
        await asyncio.sleep(IDLE_CHECK)
        collect_if_idle(open_connections())


def observer(current: Callable[[], MeetingState]) -> Callable[[e.Event, MeetingState], None]:
    """The policy as a projection observer (`current`, the meeting's state, is not needed any
    more). Made once the event loop runs, so the idle watch and the bench's loop monitor (off
    unless asked for) start here."""
    global _watching
    loop_monitor.start_if_asked()
    if _watching is None:
        _watching = asyncio.get_running_loop().create_task(_watch_idle())
    meeting = object()  # this meeting's place among the process's open rounds

    def observe(event: e.Event, state: MeetingState) -> None:
        if isinstance(event, e.VotingOpened):
            voting_opened(meeting)
        elif isinstance(event, e.VotingClosed):
            voting_closed(meeting)

    return observe

"""The meeting's state in this process: the fold of its event stream, kept up to date.

Every process of a deployment follows the same stream, so each one's state is the same fold.
Whoever needs to react to a folded event (the hub's views, the garbage-collector policy)
registers an observer; the projection itself knows nothing of them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable

from redis.exceptions import RedisError

from meeting import agenda
from meeting.agenda import MeetingState
from meeting.events import Event
from server.store import Store, StoredEvent

log = logging.getLogger("pingyi")

FOLLOW_BLOCK_MS = 1000

# Called with each event as it is folded, and the state after it.
EventObserver = Callable[[Event, MeetingState], None]


class Projection:
    def __init__(self, store: Store, state: MeetingState) -> None:
        self.store = store
        self.state = state
        self.last_id = b"0-0"
        self.redis_ok = True
        self.event_observers: list[EventObserver] = []
        # Called once per batch of new events: whether any of them moved the agenda.
        self.on_applied: Callable[[bool], None] = lambda moved: None
        self.on_redis: Callable[[bool], None] = lambda ok: None

    async def catch_up(self) -> None:
        self.apply(await self.store.read_events(after=self.last_id))

    async def follow_forever(self) -> None:
        backoff = 0.1
        while True:
            try:
                stored = await self.store.follow(self.last_id, FOLLOW_BLOCK_MS)
            except (RedisError, OSError) as error:
                self._set_redis_ok(False, error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            backoff = 0.1
            self._set_redis_ok(True)
            self.apply(stored)

    def _set_redis_ok(self, ok: bool, error: Exception | None = None) -> None:
        if ok == self.redis_ok:
            return
        self.redis_ok = ok
        if not ok:
            log.warning("Redis unreachable: %s", error)
        self.on_redis(ok)

    def apply(self, stored: list[StoredEvent]) -> None:
        """Folds what is new in `stored` (a catch-up and the follower may read the same)."""
        moved = False
        fresh = [s for s in stored if s.version > self.state.version]
        for item in fresh:
            if item.version != self.state.version + 1:
                log.error("event stream gap: have %s, got %s", self.state.version, item.version)
            if item.event is None:  # a type this version does not know: only the version moves
                self.state = dataclasses.replace(self.state, version=item.version)
            else:
                self.state = agenda.evolve(self.state, item.event)
                moved = moved or item.event.moves_agenda
                for observe in self.event_observers:
                    observe(item.event, self.state)
            self.last_id = item.stream_id
        if fresh:
            self.on_applied(moved)

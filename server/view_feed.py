"""What each role is sent: views built from the projection's state, flushed through the hub.

The projector and the chair get at most one turnout update per `FLUSH_INTERVAL` and every
agenda move at once; phones get a view only when what they see changes. At a close the room waits for the
result on the projector, and the phones only for "voting closed": their views (thousands of
socket writes) go out after the tally.
On a rehearsal server (演练) every view's `meeting` header says `rehearsal: true`.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Callable, Iterator
from typing import Any

from meeting import views
from meeting.agenda import MeetingState
from server.codec import pack
from server.hub import Client, Hub
from server.projection import Projection
from server.store import Store
from tally.model import Meeting

FLUSH_INTERVAL = 0.1  # seconds between two turnout updates of the projector and the chair


class ViewFeed:
    def __init__(
        self,
        meeting: Meeting,
        projection: Projection,
        store: Store,
        hub: Hub,
        join_url: str | None,
        clock: Callable[[], float],
        rehearsal: bool = False,
    ) -> None:
        self.meeting = meeting
        self.rehearsal = rehearsal
        self.projection = projection
        self.store = store
        self.hub = hub
        self.join_url = join_url
        self.clock = clock
        self._flush_task: asyncio.Task[None] | None = None
        self._last_flush = 0.0
        self._phone_view_due = False
        self._phones_wait = 0  # > 0 while a close is being tallied
        self._expert_sent: weakref.WeakKeyDictionary[Client, dict[str, Any]] = (
            weakref.WeakKeyDictionary()
        )
        projection.on_applied = self.events_applied
        projection.on_redis = lambda ok: hub.broadcast_all({"t": "status", "redis": ok})

    @property
    def state(self) -> MeetingState:
        return self.projection.state

    # ---- the views ---------------------------------------------------------------------

    def message(self, view: dict[str, Any]) -> dict[str, Any]:
        return {"t": "view", "v": self.state.version, "now": self.clock(), "view": view}

    def phone_view(self) -> dict[str, Any]:
        return self._marked(views.phone_view(self.meeting, self.state))

    def screen_view(self) -> dict[str, Any]:
        return self._marked(views.screen_view(self.meeting, self.state, self.join_url))

    def chair_view(self) -> dict[str, Any]:
        return self._marked(views.chair_view(self.meeting, self.state, self.join_url, self.clock()))

    def expert_view(self, expert: str) -> dict[str, Any]:
        return views.expert_view(self.meeting, self.state, expert)

    def _marked(self, view: dict[str, Any]) -> dict[str, Any]:
        """A rehearsal's view says so in its header (the pages show the 演练 banner)."""
        if not self.rehearsal:
            return view
        return {**view, "meeting": {**view["meeting"], "rehearsal": True}}

    # ---- sending them ------------------------------------------------------------------

    def events_applied(self, moved: bool) -> None:
        self._request_flush(immediate=moved)
        if moved and not self._phone_view_due:
            self._phone_view_due = True
            if not self._phones_wait:
                # After the projector's and the chair's flush has run: thousands of phone sends
                # queued first would hold up the one screen the room is looking at.
                asyncio.get_running_loop().call_soon(self._send_phone_view)

    def _send_phone_view(self) -> None:
        if self._phone_view_due:
            self._phone_view_due = False
            self.hub.broadcast("phone", self.message(self.phone_view()), True)

    @contextlib.contextmanager
    def phones_after_tally(self) -> Iterator[None]:
        self._phones_wait += 1
        try:
            yield
        finally:
            self._phones_wait -= 1
            if not self._phones_wait:
                self._send_phone_view()

    def _request_flush(self, immediate: bool) -> None:
        if self._flush_task is not None and not immediate:
            return
        self._flush_task = asyncio.create_task(self._flush(immediate))

    async def _flush(self, immediate: bool) -> None:
        if not immediate:
            await asyncio.sleep(max(0.0, self._last_flush + FLUSH_INTERVAL - self.clock()))
        self._flush_task = None
        self._last_flush = self.clock()
        if self.hub.count("screen"):
            self.hub.broadcast("screen", self.message(self.screen_view()))
        if self.hub.count("chair"):
            self.hub.broadcast("chair", self.message(self.chair_view()))
        self._send_expert_views()

    def _send_expert_views(self) -> None:
        """Each expert their own page (a panel has a handful): their scores are theirs alone,
        so no view is shared; a page that has not changed is not sent again."""
        for client in list(self.hub.clients["expert"]):
            assert client.expert is not None
            view = self.expert_view(client.expert)
            if self._expert_sent.get(client) != view:
                self._expert_sent[client] = view
                client.deliver_view(pack(self.message(view)))

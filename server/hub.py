"""Fan-out: every connected client, grouped by role, and what each of them is sent.

A view is encoded once per role, and its WebSocket frame built once: the same bytes go to every
client of that role. A client whose connection is idle gets them written at once
(`server.wire`); otherwise its sender task, which has one slot for the newest view and a queue
for the client's own replies, sends them when the connection drains. A slow phone only ever
gets the latest view and never holds up the others.

Thousands of phones make the write itself the cost of a view (docs/benchmarks.md: the system
call is most of it), so the loop over them is kept tight: a client says whether it is `idle`
(welcomed, nothing queued, its sender not sending: a frame written now cannot overtake one of
its own) in one field it keeps up to date, and only a client that is not goes the long way.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from server.codec import pack
from server.wire import binary_frame

ROLES = ("phone", "screen", "chair", "expert")
DELIVERY_CHUNK = 500


WriteFrame = Callable[[bytes], bool]


class Client:
    """One connection. Until `welcome` it holds what it is sent, so the welcome goes first."""

    def __init__(
        self,
        role: str,
        send: Callable[[bytes], Awaitable[None]],
        write_frame: WriteFrame | None = None,
    ) -> None:
        self.role = role
        self.send = send
        self.write_frame = write_frame
        self._write_now: WriteFrame = write_frame or _refused
        self.idle = False  # a frame may be written straight to the socket now (`_refresh`)
        self.token_hash: str | None = None
        self.group: str | None = None
        self.expert: str | None = None  # an expert's id (role expert): each sees only their own
        self._view: bytes | None = None
        self._replies: collections.deque[bytes] = collections.deque()
        self._wakeup = asyncio.Event()
        self._held = True
        self._sending = False
        self.closed = False

    def _refresh(self) -> None:
        self.idle = (
            self.write_frame is not None
            and not self._held
            and not self._sending
            and not self._replies
            and self._view is None
        )

    def _written_now(self, data: bytes, frame: bytes | None) -> bool:
        """Writes straight to the socket when nothing is queued ahead (keeps the order)."""
        return self.idle and self._write_now(frame or binary_frame(data))

    def deliver_view(self, data: bytes, frame: bytes | None = None) -> None:
        if self._written_now(data, frame):
            return
        self._view = data
        self.idle = False
        if not self._held:
            self._wakeup.set()

    def welcome(self, message: dict[str, Any]) -> None:
        self._held = False
        self._refresh()
        self.reply(message)

    def reply(self, message: dict[str, Any]) -> None:
        self.push(pack(message))

    def push(self, data: bytes, frame: bytes | None = None) -> None:
        if self._written_now(data, frame):
            return
        self._replies.append(data)
        self.idle = False
        if not self._held:
            self._wakeup.set()

    async def run_sender(self) -> None:
        """Sends replies first, then the newest view; ends when the socket fails."""
        while not self.closed:
            await self._wakeup.wait()
            self._wakeup.clear()
            self._sending = True
            self.idle = False
            try:
                while self._replies:
                    await self.send(self._replies.popleft())
                if self._view is not None:
                    data, self._view = self._view, None
                    await self.send(data)
            finally:
                self._sending = False
                self._refresh()


def _refused(frame: bytes) -> bool:
    """The direct write of a client that has none (another ASGI server): always queued."""
    return False


def deliver(clients: list[Client], data: bytes, frame: bytes) -> None:
    """One view to each client: straight onto an idle client's socket, else into its slot."""
    for client in clients:
        if not (client.idle and client._write_now(frame)):
            client.deliver_view(data, frame)


class Hub:
    def __init__(self) -> None:
        self.clients: dict[str, set[Client]] = {role: set() for role in ROLES}
        self._last_sent: dict[str, bytes] = {}
        self._deliveries: dict[str, asyncio.Task[None]] = {}

    def add(self, client: Client) -> None:
        self.clients[client.role].add(client)

    def remove(self, client: Client) -> None:
        client.closed = True
        client._wakeup.set()
        self.clients[client.role].discard(client)

    def count(self, role: str) -> int:
        return len(self.clients[role])

    def broadcast(self, role: str, message: dict[str, Any], only_if_changed: bool = False) -> None:
        """Sends one message to every client of a role, encoded once."""
        if only_if_changed:
            body = pack(message["view"])
            if self._last_sent.get(role) == body:
                return
            self._last_sent[role] = body
        data = pack(message)
        frame = binary_frame(data)
        clients = list(self.clients[role])
        if len(clients) <= DELIVERY_CHUNK:
            deliver(clients, data, frame)
            return
        # Thousands of phones: wake their senders a chunk at a time, so that whatever else is
        # ready (a tally at close, a ballot batch) runs between chunks instead of after all of
        # them. Only the newest view matters, so a newer broadcast replaces one under way.
        previous = self._deliveries.pop(role, None)
        if previous is not None:
            previous.cancel()
        self._deliveries[role] = asyncio.get_running_loop().create_task(
            self._deliver_in_chunks(role, clients, data, frame)
        )

    async def _deliver_in_chunks(
        self, role: str, clients: list[Client], data: bytes, frame: bytes
    ) -> None:
        try:
            for start in range(0, len(clients), DELIVERY_CHUNK):
                if start:
                    await asyncio.sleep(0)
                deliver(clients[start : start + DELIVERY_CHUNK], data, frame)
        finally:
            if self._deliveries.get(role) is asyncio.current_task():
                del self._deliveries[role]

    def broadcast_all(self, message: dict[str, Any]) -> None:
        data = pack(message)
        frame = binary_frame(data)
        for clients in self.clients.values():
            for client in clients:
                client.push(data, frame)


@contextlib.asynccontextmanager
async def connected(hub: Hub, client: Client) -> AsyncIterator[Client]:
    """Registers a client and runs its sender for as long as the connection lasts."""
    sender = asyncio.create_task(client.run_sender())
    try:
        yield client
    finally:
        hub.remove(client)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender

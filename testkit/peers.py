"""A WebSocket client speaking the documented protocol (msgpack binary frames)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgpack
import websockets


class Peer:
    """One WebSocket client: a phone, the screen or the chair console."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.seen: list[dict[str, Any]] = []
        self.latest_view: dict[str, Any] | None = None
        self.welcome: dict[str, Any] = {}

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, url: str, **hello: Any) -> AsyncIterator[Peer]:
        """Connected, and when `hello` is given (role=…, token=…) welcomed."""
        async with websockets.connect(url, max_size=2**20, compression=None) as connection:
            peer = cls(connection)
            if hello:
                await peer.send({"t": "hello", **hello})
                peer.welcome = await peer.expect("welcome")
            yield peer

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(msgpack.packb(message, use_bin_type=True))

    async def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.connection.recv(), timeout)
        message = msgpack.unpackb(raw, raw=False, strict_map_key=False)
        self.seen.append(message)
        if message.get("t") in ("view", "welcome"):
            self.latest_view = message["view"]
        return message

    async def _first(
        self,
        accept: Callable[[dict[str, Any]], bool],
        timeout: float,
        missing: Callable[[], str],
    ) -> dict[str, Any]:
        """The first message received that `accept`s; TimeoutError(`missing()`) after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(missing())
            message = await self.recv(left)
            if accept(message):
                return message

    async def expect(self, kind: str, timeout: float = 10.0, **match: Any) -> dict[str, Any]:
        """The next message of this type (and these field values); others are skipped."""
        return await self._first(
            lambda m: m.get("t") == kind and all(m.get(k) == v for k, v in match.items()),
            timeout,
            lambda: f"no {kind} {match} in time; saw {self.seen[-5:]}",
        )

    async def request(self, message: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        """Sends a request with an id and returns the reply carrying that id."""
        request_id = f"r{time.monotonic_ns()}"
        await self.send({**message, "id": request_id})
        return await self._first(
            lambda m: m.get("id") == request_id, timeout, lambda: f"no reply to {message}"
        )

    async def view_where(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        """Waits until the newest view seen satisfies the predicate (views are complete)."""
        if self.latest_view is not None and predicate(self.latest_view):
            return self.latest_view
        message = await self._first(
            lambda m: m.get("t") in ("view", "welcome") and predicate(m["view"]),
            timeout,
            lambda: f"no matching view; last seen {self.seen[-1:]}",
        )
        return message["view"]

"""What `server/wire.py` relies on in uvicorn, checked against the installed uvicorn.

`FrameWritingProtocol` subclasses uvicorn's sans-I/O WebSocket protocol and uses fields and
methods that are not uvicorn's public API. pyproject.toml pins uvicorn to the versions these
tests have passed on; when a new uvicorn moves one of them, these fail and name it. The
protocol runs here on a recording transport (no socket), fed by a `websockets` client protocol.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import uvicorn
from websockets.client import ClientProtocol
from websockets.protocol import State
from websockets.uri import parse_uri

MODULE = "uvicorn.protocols.websockets.websockets_sansio_impl"
CLASS = "WebSocketsSansIOProtocol"
# Fields of a connection that server/wire.py reads or writes (`scope`, the last, exists once
# the handshake's request has been handled).
FIELDS = (
    "read_paused",
    "queue",
    "close_sent",
    "disconnected",
    "handshake_complete",
    "writable",
    "conn",
    "transport",
    "frames",  # a message's frames, which a held message takes as uvicorn would
    "curr_msg_data_type",
    "scope",
)
# Overridden by server/wire.py: to hold messages over a pass's allowance (and hand them over
# before a disconnection), to keep `frames_ok`, and to break a finished connection's cycles.
METHODS = (
    "send_receive_event_to_app",
    "handle_connect",
    "on_task_complete",
    "connection_lost",
    "handle_close",
    "handle_parser_exception",
    "shutdown",
    "pause_writing",
    "resume_writing",
)
WHAT_TO_DO = (
    "server/wire.py (FrameWritingProtocol) uses it: adapt server/wire.py to uvicorn {version}, "
    "then widen the uvicorn pin in pyproject.toml"
)


def moved(what: str) -> str:
    return f"uvicorn {uvicorn.__version__}: {what}; " + WHAT_TO_DO.format(
        version=uvicorn.__version__
    )


def protocol_class() -> type:
    try:
        from uvicorn.protocols.websockets.websockets_sansio_impl import (
            WebSocketsSansIOProtocol,
        )
    except ImportError as error:
        pytest.fail(moved(f"`{MODULE}.{CLASS}` cannot be imported ({error})"))
    return WebSocketsSansIOProtocol


class RecordingTransport(asyncio.Transport):
    """Collects what the protocol writes and counts its reading pauses."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.pauses = 0
        self.resumes = 0
        self.closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(
            name, default
        )

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def pause_reading(self) -> None:
        self.pauses += 1

    def resume_reading(self) -> None:
        self.resumes += 1

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True


class Connection:
    """A FrameWritingProtocol on a RecordingTransport, with a client protocol to talk to it.

    Its app accepts and then reads nothing until `release` is set."""

    def __init__(self) -> None:
        from uvicorn.server import ServerState

        from server.wire import FrameWritingProtocol

        self.accepted = asyncio.Event()
        self.release = asyncio.Event()
        self.extensions: dict[str, Any] = {}
        config = uvicorn.Config(
            self.app,
            interface="asgi3",
            ws=FrameWritingProtocol,
            ws_per_message_deflate=False,
            lifespan="off",
        )
        config.load()
        self.state = ServerState()
        self.protocol = FrameWritingProtocol(
            config, self.state, {}, _loop=asyncio.get_running_loop()
        )
        self.transport = RecordingTransport()
        self.protocol.connection_made(self.transport)
        self.client = ClientProtocol(parse_uri("ws://127.0.0.1:8000/ws"))

    async def app(self, scope: Any, receive: Any, send: Any) -> None:
        self.extensions.update(scope["extensions"])
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        self.accepted.set()
        await self.release.wait()

    def from_client(self) -> None:
        self.protocol.data_received(b"".join(self.client.data_to_send()))

    async def open(self) -> None:
        self.client.send_request(self.client.connect())
        self.from_client()
        try:
            await asyncio.wait_for(self.accepted.wait(), 5)
        except TimeoutError:
            pytest.fail(moved("the handshake does not complete (see the log above)"))
        self.client.receive_data(b"".join(self.transport.written))
        self.transport.written.clear()
        assert self.client.state is State.OPEN, "the handshake did not complete"

    def send_binary(self, data: bytes) -> None:
        self.client.send_binary(data)
        self.from_client()

    async def close(self) -> None:
        self.release.set()
        await asyncio.wait_for(asyncio.gather(*self.state.tasks), 5)


def test_the_protocol_class_has_the_methods_server_wire_overrides() -> None:
    cls = protocol_class()
    missing = [name for name in METHODS if not callable(getattr(cls, name, None))]
    assert not missing, moved(f"{CLASS} has no method {', '.join(missing)}")


async def test_a_connection_has_the_fields_server_wire_uses() -> None:
    protocol_class()
    connection = Connection()
    try:
        missing = [name for name in FIELDS[:-1] if not hasattr(connection.protocol, name)]
        assert not missing, moved(f"a {CLASS} connection has no field {', '.join(missing)}")
        await connection.open()
        assert hasattr(connection.protocol, "scope"), moved(
            f"a {CLASS} connection has no field `scope` after `handle_connect`"
        )
    finally:
        await connection.close()


async def test_the_fields_mean_what_server_wire_assumes() -> None:
    from server.wire import EXTENSION, READ_QUEUE_LIMIT, binary_frame

    protocol_class()
    connection = Connection()
    protocol = connection.protocol
    try:
        await connection.open()
        # handle_connect: the scope is built and the app's task created (not yet run) in it.
        assert connection.extensions.get(EXTENSION) == protocol.write_frame, moved(
            "the app does not see the scope extension set after `handle_connect` returns"
        )
        # An open connection takes a frame straight onto its transport.
        assert protocol.handshake_complete and protocol.conn.state is State.OPEN
        frame = binary_frame(b"view")
        assert protocol.write_frame(frame) is True
        assert connection.transport.written == [frame], moved("`transport` is not the socket's")
        # `writable` is cleared while the transport's buffer is full: the caller queues.
        protocol.pause_writing()
        assert protocol.write_frame(frame) is False, moved("`writable` no longer tracks it")
        protocol.resume_writing()
        # send_receive_event_to_app queues into `queue` and pauses reading unless `read_paused`
        # says it already is: FrameWritingProtocol keeps reading for a few messages.
        connection.send_binary(b"ballot-1")
        assert protocol.queue.qsize() == 1, moved("a message is no longer put on `queue`")
        assert connection.transport.pauses == 0, moved(
            "send_receive_event_to_app pauses reading even when `read_paused` is set"
        )
        assert protocol.read_paused is False
        for n in range(2, READ_QUEUE_LIMIT + 1):
            connection.send_binary(b"ballot-%d" % n)
        assert connection.transport.pauses == 1, moved("reading is not paused at the limit")
        assert protocol.read_paused is True, moved("`read_paused` is not set when paused")
        # A closing connection refuses a frame.
        connection.transport.closing = True
        assert protocol.write_frame(frame) is False
    finally:
        await connection.close()


async def test_a_connection_that_sent_its_close_refuses_a_frame() -> None:
    from server.wire import binary_frame

    protocol_class()
    connection = Connection()
    try:
        await connection.open()
        connection.protocol.close_sent = True
        assert connection.protocol.write_frame(binary_frame(b"late")) is False
        connection.protocol.close_sent = False
        connection.protocol.connection_lost(None)
        assert connection.protocol.disconnected, moved("`disconnected` is not set on loss")
        assert connection.protocol.write_frame(binary_frame(b"late")) is False
    finally:
        await connection.close()

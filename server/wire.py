"""The WebSocket wire for thousands of phones: a frame built once, written straight to each socket.

This is uvicorn's sans-I/O WebSocket protocol with one addition the ASGI interface has no word
for: a synchronous `write_frame(frame)` that puts an already serialised frame on the
connection's transport. A frame from server to client is not masked, so a broadcast's frame is
the same bytes for every phone: it is built once (`binary_frame`), and each phone then costs
one transport write instead of an ASGI message, a task switch and a frame serialisation.

The app finds `write_frame` in the scope's extensions under `EXTENSION`. Under another ASGI
server it is absent, and the hub sends through ASGI as before.

When a connection is over (its socket gone and its app returned) it breaks the reference
cycles it was part of, so that reference counting frees a departed phone at once: the garbage
collector walks no connection while a meeting runs (`server.gc_policy`), and a cycle would
keep a departed phone's ~50 objects until the process is idle.

It also keeps reading while a few messages wait for the app: uvicorn stops and restarts
reading the socket around every message (two `epoll_ctl` calls per ballot, a visible share
of the server's time in a burst); here reading stops only once `READ_QUEUE_LIMIT` messages
wait. And it hands the app at most `server.admission.PER_PASS` messages per pass of the event
loop (all connections together): a message over that is held, in order, with reading stopped,
until a later pass takes it; a disconnection hands over what is held first.
"""

from __future__ import annotations

import collections
import struct
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from server.admission import Admission

EXTENSION = "pingyi.write_frame"
READ_QUEUE_LIMIT = 8  # the rate limit drains a flooding client's messages; memory stays bounded
_FIN_BINARY = 0x82


def binary_frame(data: bytes) -> bytes:
    """One unfragmented, unmasked binary frame carrying `data` (RFC 6455 §5.2)."""
    length = len(data)
    if length < 126:
        head = struct.pack("!BB", _FIN_BINARY, length)
    elif length < 65536:
        head = struct.pack("!BBH", _FIN_BINARY, 126, length)
    else:
        head = struct.pack("!BBQ", _FIN_BINARY, 127, length)
    return head + data


_open = 0  # WebSocket connections of this process: made and not yet lost
_admission = Admission()  # one event loop per process: one allowance per pass


def open_connections() -> int:
    """How many WebSocket connections this process has now (the garbage collector's policy
    waits for few)."""
    return _open


class FrameWritingProtocol(WebSocketsSansIOProtocol):
    """uvicorn's `websockets-sansio` protocol, plus `write_frame` in the scope's extensions."""

    def connection_made(self, transport: Any) -> None:
        global _open
        _open += 1
        super().connection_made(transport)

    _app_running = False

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        # The ASGI task was created above but has not run yet, so it sees the extension.
        scope: Any = getattr(self, "scope", None)
        if scope is not None:
            scope["extensions"][EXTENSION] = self.write_frame
            self._app_running = True

    def on_task_complete(self, task: Any) -> None:
        super().on_task_complete(task)
        self._app_running = False
        if self.disconnected:
            self._break_cycles()

    def connection_lost(self, exc: Exception | None) -> None:
        global _open
        _open -= 1
        self._hand_over_held()
        transport = self.transport
        super().connection_lost(exc)
        # asyncio's socket transport keeps a bound method of its own (`_read_ready_cb`, Python
        # 3.11): a cycle that would keep the closed transport and its socket object. Nothing
        # reads a lost transport again.
        if getattr(transport, "_read_ready_cb", None) is not None:
            transport._read_ready_cb = None  # type: ignore[attr-defined]
        if not self._app_running:
            self._break_cycles()

    def _break_cycles(self) -> None:
        """Once nothing uses this connection: the scope's `write_frame` (a bound method of
        this protocol, in a dict it holds) and the `websockets` parser (a generator whose frame
        holds its protocol) are the cycles that kept it alive."""
        scope: Any = getattr(self, "scope", None)
        if scope is not None:
            scope["extensions"].pop(EXTENSION, None)
        parser = getattr(self.conn, "parser", None)  # a private field of `websockets`: the
        if parser is not None:  # test of a departed phone fails if it stops breaking the cycle
            parser.close()

    _held: collections.deque[Any] | None = None  # ASGI messages the pass had no room for

    def send_receive_event_to_app(self) -> None:
        if self.curr_msg_data_type == "bytes" and not self.close_sent:
            if self._held or not _admission.take():
                self._hold()
                return
        if self.read_paused or self.queue.qsize() + 1 >= READ_QUEUE_LIMIT:
            super().send_receive_event_to_app()  # queues it and stops reading
            return
        self.read_paused = True  # uvicorn's method then queues the message without pausing
        try:
            super().send_receive_event_to_app()
        finally:
            self.read_paused = False

    def _hold(self) -> None:
        data = self.frames[0] if len(self.frames) == 1 else b"".join(self.frames)
        self.frames = []
        if self._held is None:
            self._held = collections.deque()
        if not self._held:
            _admission.wait(self)
        self._held.append({"type": "websocket.receive", "bytes": data})
        if not self.read_paused:  # uvicorn's `receive` reads again once the queue is empty
            self.read_paused = True
            self.transport.pause_reading()

    def release(self, limit: int) -> int:
        """Hands up to `limit` held messages to the app (`server.admission`)."""
        handed = 0
        while self._held and handed < limit:
            self.queue.put_nowait(self._held.popleft())
            handed += 1
        return handed

    def holds(self) -> bool:
        return bool(self._held)

    def _hand_over_held(self) -> None:
        """Before a disconnection reaches the app: what it sent before it left comes first."""
        if self._held:
            self.release(len(self._held))

    def handle_close(self, event: Any) -> None:
        self._hand_over_held()
        super().handle_close(event)

    def handle_parser_exception(self) -> None:
        self._hand_over_held()
        super().handle_parser_exception()

    def shutdown(self) -> None:
        self._hand_over_held()
        super().shutdown()

    # Whether a frame may go onto the transport now: the handshake done, no close frame sent,
    # the connection not lost, the write buffer under its high-water mark. Kept up to date by
    # the setters below rather than worked out for each of thousands of writes per view.
    frames_ok = False

    def _update_frames_ok(self) -> None:
        writable = getattr(self, "writable", None)
        self.frames_ok = (
            getattr(self, "_handshake_complete", False)
            and not getattr(self, "_close_sent", False)
            and not getattr(self, "_disconnected", False)
            and writable is not None
            and writable.is_set()
        )

    @property
    def handshake_complete(self) -> bool:
        return self._handshake_complete

    @handshake_complete.setter
    def handshake_complete(self, value: bool) -> None:
        self._handshake_complete = value
        self._update_frames_ok()

    @property
    def close_sent(self) -> bool:
        return self._close_sent

    @close_sent.setter
    def close_sent(self, value: bool) -> None:
        self._close_sent = value
        self._update_frames_ok()

    @property
    def disconnected(self) -> bool:
        return self._disconnected

    @disconnected.setter
    def disconnected(self, value: bool) -> None:
        self._disconnected = value
        self._update_frames_ok()

    def pause_writing(self) -> None:
        super().pause_writing()
        self._update_frames_ok()

    def resume_writing(self) -> None:
        super().resume_writing()
        self._update_frames_ok()

    def write_frame(self, frame: bytes) -> bool:
        """Writes a whole frame now. False when the connection can't take it now: not open,
        closing, or its write buffer past the high-water mark (the caller queues it instead
        and its sender waits for the buffer to drain, as an ASGI send would). A close frame
        received is answered and the transport closed in the same callback, so
        `is_closing()` covers the connection's state once the peer said goodbye."""
        if self.frames_ok and not self.transport.is_closing():
            self.transport.write(frame)
            return True
        return False

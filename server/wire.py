"""The WebSocket wire for thousands of phones: a frame built once, written straight to each socket.

This is uvicorn's sans-I/O WebSocket protocol with one addition the ASGI interface has no word
for: a synchronous `write_frame(frame)` that puts an already serialised frame on the
connection's transport. A frame from server to client is not masked, so a broadcast's frame is
the same bytes for every phone: it is built once (`binary_frame`), and each phone then costs
one transport write instead of an ASGI message, a task switch and a frame serialisation.

The app finds `write_frame` in the scope's extensions under `EXTENSION`. Under another ASGI
server it is absent, and the hub sends through ASGI as before.

It also keeps reading while a few messages wait for the app: uvicorn stops and restarts
reading the socket around every message (two `epoll_ctl` calls per ballot, a visible share
of the server's time in a burst); here reading stops only once `READ_QUEUE_LIMIT` messages
wait.
"""

from __future__ import annotations

import struct
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

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


class FrameWritingProtocol(WebSocketsSansIOProtocol):
    """uvicorn's `websockets-sansio` protocol, plus `write_frame` in the scope's extensions."""

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        # The ASGI task was created above but has not run yet, so it sees the extension.
        scope: Any = getattr(self, "scope", None)
        if scope is not None:
            scope["extensions"][EXTENSION] = self.write_frame

    def send_receive_event_to_app(self) -> None:
        if self.read_paused or self.queue.qsize() + 1 >= READ_QUEUE_LIMIT:
            super().send_receive_event_to_app()  # queues it and stops reading
            return
        self.read_paused = True  # uvicorn's method then queues the message without pausing
        try:
            super().send_receive_event_to_app()
        finally:
            self.read_paused = False

    def write_frame(self, frame: bytes) -> bool:
        """Writes a whole frame now. False when the connection can't take it now: not open,
        closing, or its write buffer past the high-water mark (the caller queues it instead
        and its sender waits for the buffer to drain, as an ASGI send would)."""
        if (
            self.close_sent
            or self.disconnected
            or not self.handshake_complete
            or not self.writable.is_set()
            or self.conn.state is not State.OPEN
            or self.transport.is_closing()
        ):
            return False
        self.transport.write(frame)
        return True

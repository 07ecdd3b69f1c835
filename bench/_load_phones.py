"""The phones of `bench/load.py`: one load-generator process drives a slice of them.

Each process runs its own asyncio loop and answers the orchestrator's commands over a pipe.
A phone is the `websockets` library's sans-I/O client protocol (RFC 6455 handshake, masking,
framing, close; compression off, as the server has it) driven by a plain asyncio protocol:
no reader task, no message queue. The generator shares the machine's two cores with the
server it measures, so every microsecond it spends per view shows up in the fan-out figures
as if the server had spent it (the library's asyncio client cost more than twice as much a
view: docs/benchmarks.md). Times are `time.time()`, so the orchestrator can compare them with its own (one
machine, one clock). Every wait is bounded; a phone that fails is counted, never retried.
"""

from __future__ import annotations

import asyncio
import gc
import random
import resource
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import msgpack
from websockets.client import ClientProtocol
from websockets.frames import Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

OPEN_TIMEOUT = 30.0
REPLY_TIMEOUT = 30.0


def raise_open_files(wanted: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else wanted
    target = max(soft, min(wanted, target))
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def collect_between_measurements() -> None:
    """Collects the bench's own garbage now, and stops its automatic collection until the next
    call: the bench's own collections landed in the middle of measured chair actions and took
    a core from the server (docs/benchmarks.md). Real phones share neither a CPU nor a
    collector with the server; the bench collects only between its phases (every run is
    bounded)."""
    gc.collect()
    gc.disable()


VIEW_PREFIX = b"\x84\xa1t\xa4view\xa1v"  # {"t": "view", "v": …, as the server packs a view
UINT_SIZES = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}


def _head(raw: bytes) -> int | None:
    """The `v` of a view frame without decoding the view (the generator must stay cheap)."""
    if raw.startswith(VIEW_PREFIX):
        at = len(VIEW_PREFIX)
        if raw[at] < 0x80:
            return raw[at]
        size = UINT_SIZES.get(raw[at])
        if size:
            return int.from_bytes(raw[at + 1 : at + 1 + size], "big")
    unpacker = msgpack.Unpacker(raw=False)
    unpacker.feed(raw)
    fields = unpacker.read_map_header()
    kind = version = None
    for _ in range(min(fields, 3)):
        key = unpacker.unpack()
        if key == "t":
            kind = unpacker.unpack()
            if kind != "view":
                return None
        elif key == "v":
            version = unpacker.unpack()
        else:
            unpacker.skip()
        if kind is not None and version is not None:
            return int(version)
    return None


class FloorReader(asyncio.Protocol):
    """One idle reader of the fan-out floor (`bench/_fanout_floor.py`): takes the bytes, as
    an idle phone takes a view, and keeps nothing."""

    def __init__(self) -> None:
        self.transport: asyncio.BaseTransport | None = None
        self.received = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.received += len(data)


class Wire(asyncio.Protocol):
    """One phone's connection: whole binary messages in, `on_message` called for each.

    The library does the handshake, masks and frames what the phone sends, and answers pings;
    once open, the server's frames (unmasked, never fragmented by uvicorn) are read by
    `_read_frames`, a few lines instead of the library's generator-based parser.
    """

    def __init__(self, url: str, on_message: Any) -> None:
        self.conn = ClientProtocol(parse_uri(url), max_size=2**20)
        self.on_message = on_message
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.open = False
        self.buffer = b""

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.conn.send_request(self.conn.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        if self.open:
            self._read_frames(self.buffer + data if self.buffer else data)
            return
        self.conn.receive_data(data)
        for event in self.conn.events_received():
            if isinstance(event, Response) and not self.opened.done():
                if self.conn.state is not State.OPEN:
                    self.opened.set_exception(RuntimeError(f"handshake: {event.status_code}"))
                    continue
                self.open = True
                self.opened.set_result(None)
                self._read_frames(bytes(self.conn.reader.buffer))  # what came with the response
        self._flush()

    def _read_frames(self, data: bytes) -> None:
        at = 0
        while len(data) - at >= 2:
            first, length = data[at], data[at + 1] & 0x7F
            start = at + 2
            if length == 126:
                length, start = int.from_bytes(data[at + 2 : at + 4], "big"), at + 4
            elif length == 127:
                length, start = int.from_bytes(data[at + 2 : at + 10], "big"), at + 10
            if len(data) < start + length:
                break
            payload, at = data[start : start + length], start + length
            opcode = first & 0x0F
            if opcode == Opcode.BINARY and first & 0x80:
                self.on_message(payload)
            elif opcode == Opcode.PING:
                self.conn.send_pong(payload)
                self._flush()
            elif opcode == Opcode.CLOSE and self.transport is not None:
                self.transport.close()
        self.buffer = data[at:]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during handshake"))
        self.on_message(None)

    def send(self, data: bytes) -> None:
        self.conn.send_binary(data)
        self._flush()

    def close(self) -> None:
        if self.conn.state is State.OPEN:
            self.conn.send_close(1000)
            self._flush()
        if self.transport is not None:
            self.transport.close()

    def _flush(self) -> None:
        out = self.conn.data_to_send()
        if out and self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(out))


ANSWERS = ["能"] * 9 + ["不能"]  # the item answers a phone gives (with --items)


@dataclass
class Phone:
    index: int  # global, across every generator process
    token: str
    url: str
    wire: Wire | None = None
    views: list[tuple[int, float]] = field(default_factory=list)  # (v, arrival time)
    round_id: int | None = None
    last_view: bytes = b""
    pending: asyncio.Future[dict[str, Any]] | None = None

    async def join(self) -> float:
        start = time.time()
        loop = asyncio.get_running_loop()
        uri = parse_uri(self.url)
        _, self.wire = await asyncio.wait_for(
            loop.create_connection(lambda: Wire(self.url, self._on_message), uri.host, uri.port),
            OPEN_TIMEOUT,
        )
        await asyncio.wait_for(self.wire.opened, OPEN_TIMEOUT)
        welcome = await self._request({"t": "hello", "role": "phone", "token": self.token})
        if welcome.get("t") != "welcome":
            raise RuntimeError(f"no welcome: {welcome}")
        return time.time() - start

    def _on_message(self, raw: bytes | None) -> None:
        now = time.time()
        if raw is None:  # the connection is gone
            if self.pending is not None and not self.pending.done():
                self.pending.set_exception(ConnectionError("connection lost"))
            return
        head = _head(raw)
        if head is not None:  # a view: only its version is needed
            self.views.append((head, now))
            self.last_view = raw  # what the fan-out floor writes: the same bytes
            return
        if self.pending is not None and not self.pending.done():
            self.pending.set_result(msgpack.unpackb(raw, raw=False, strict_map_key=False))

    async def _request(self, message: dict[str, Any]) -> dict[str, Any]:
        assert self.wire is not None
        self.pending = asyncio.get_running_loop().create_future()
        self.wire.send(msgpack.packb(message))
        return await asyncio.wait_for(self.pending, REPLY_TIMEOUT)

    async def cast(
        self, marks: dict[str, str], at: float, items: dict[str, dict[str, str]] | None = None
    ) -> tuple[float, float, str, str]:
        """(send time, accept latency, outcome, receipt) for one ballot sent at `at`."""
        await asyncio.sleep(max(0.0, at - time.time()))
        cid = f"load-{self.index:06d}-{random.getrandbits(64):016x}"
        sent = time.time()
        try:
            message: dict[str, Any] = {
                "t": "cast",
                "round": self.round_id,
                "marks": marks,
                "cid": cid,
            }
            if items is not None:
                message["items"] = items
            reply = await self._request(message)
        except Exception as error:  # noqa: BLE001 - counted, reported
            return sent, time.time() - sent, f"failed:{type(error).__name__}", ""
        took = time.time() - sent
        if reply.get("t") == "receipt" and not reply.get("again"):
            return sent, took, "ok", reply["receipt"]
        return sent, took, str(reply.get("code") or reply.get("t")), ""

    async def close(self) -> None:
        if self.wire is not None:
            self.wire.close()


class Generator:
    def __init__(self, phones: list[Phone], seed: int) -> None:
        self.phones = phones
        self.random = random.Random(seed)
        self.floor_readers: list[FloorReader] = []

    async def join(self, concurrency: int) -> dict[str, Any]:
        gate = asyncio.Semaphore(concurrency)
        times: list[float] = []
        failures: list[str] = []

        async def one(phone: Phone) -> None:
            async with gate:
                try:
                    times.append(await phone.join())
                except Exception as error:  # noqa: BLE001 - counted, reported
                    failures.append(f"{type(error).__name__}: {error}"[:200])
                    if phone.wire is not None:
                        phone.wire.close()
                    phone.wire = None

        await asyncio.gather(*(one(p) for p in self.phones))
        self.phones = [p for p in self.phones if p.wire is not None]
        collect_between_measurements()
        return {"times": times, "failures": failures}

    def arrivals(self, versions: list[int]) -> dict[int, list[float]]:
        """Per version: the arrival time of that view at each phone that got it."""
        wanted = set(versions)
        found: dict[int, list[float]] = {v: [] for v in versions}
        for phone in self.phones:
            for v, at in phone.views:
                if v in wanted:
                    found[v].append(at)
        return found

    async def ballots(
        self,
        schedule: dict[int, float],
        round_id: int,
        reporters: list[str],
        grades: list[str],
        round_ids: dict[str, int] | None = None,
        items: int = 0,
    ) -> list[tuple[float, float, str, str, int]]:
        """(send time, accept latency, outcome, receipt, phone index) per scheduled phone;
        `round_ids` by server URL when the phones are in several meetings."""
        jobs = []
        for phone in self.phones:
            phone.round_id = (round_ids or {}).get(phone.url, round_id)
            if phone.index not in schedule:
                continue
            marks = {r: self.random.choice(grades) for r in reporters}
            answers = None
            if items:  # 能 mostly, as a room answers
                ids = [f"a{n:02d}" for n in range(1, items + 1)]
                pick = self.random.choices
                answers = {
                    r: dict(zip(ids, pick(ANSWERS, k=items), strict=True)) for r in reporters
                }
            jobs.append(self._cast(phone, marks, schedule[phone.index], answers))
        return list(await asyncio.gather(*jobs))

    @staticmethod
    async def _cast(
        phone: Phone, marks: dict[str, str], at: float, items: dict | None
    ) -> tuple[float, float, str, str, int]:
        return (*await phone.cast(marks, at, items), phone.index)

    async def floor_join(self, port: int, count: int) -> int:
        """Opens `count` idle readers to the fan-out floor's port."""
        loop = asyncio.get_running_loop()
        for _ in range(count):
            _, reader = await loop.create_connection(FloorReader, "127.0.0.1", port)
            self.floor_readers.append(reader)
        return len(self.floor_readers)

    def floor_close(self) -> int:
        received = sum(r.received for r in self.floor_readers)
        for reader in self.floor_readers:
            if reader.transport is not None:
                reader.transport.close()
        self.floor_readers = []
        return received

    def last_view(self) -> bytes:
        """The payload of the newest view a phone of this process got."""
        return next((p.last_view for p in self.phones if p.last_view), b"")

    def seen(self, version: int) -> int:
        """How many phones have had a view of at least this version."""
        return sum(1 for p in self.phones if p.views and p.views[-1][0] >= version)

    async def close(self) -> None:
        await asyncio.gather(*(p.close() for p in self.phones))


async def _serve(conn: Connection, phones: list[Phone], seed: int) -> None:
    generator = Generator(phones, seed)
    loop = asyncio.get_running_loop()
    while True:
        command, args = await loop.run_in_executor(None, conn.recv)
        if command == "join":
            result: Any = await generator.join(**args)
        elif command == "arrivals":
            result = generator.arrivals(**args)
        elif command == "floor_join":
            result = await generator.floor_join(**args)
        elif command == "floor_close":
            result = generator.floor_close()
        elif command == "last_view":
            result = generator.last_view()
        elif command == "seen":
            result = generator.seen(**args)
        elif command == "ballots":
            result = await generator.ballots(**args)
        elif command == "close":
            await generator.close()
            conn.send(None)
            return
        else:
            result = RuntimeError(f"unknown command {command}")
        conn.send(result)


def run(conn: Connection, slice_: list[tuple[int, str, str]], seed: int, open_files: int) -> None:
    """Process entry point: (global index, token, ws url) for each of this process's phones."""
    collect_between_measurements()
    raise_open_files(open_files)
    phones = [Phone(index, token, url) for index, token, url in slice_]
    asyncio.run(_serve(conn, phones, seed))

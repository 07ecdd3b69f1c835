"""The phones of `bench/load.py`: one load-generator process drives a slice of them.

Each process runs its own asyncio loop with one `websockets` client per phone (compression
off, as the server has it) and answers the orchestrator's commands over a pipe. Times are
`time.time()`, so the orchestrator can compare them with its own (one machine, one clock).
Every wait is bounded; a phone that fails is counted, never retried forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import resource
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import msgpack
from websockets.asyncio.client import connect

OPEN_TIMEOUT = 30.0
REPLY_TIMEOUT = 30.0


def raise_open_files(wanted: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else wanted
    target = max(soft, min(wanted, target))
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def _head(raw: bytes) -> int | None:
    """The `v` of a view frame without decoding the view (the generator must stay cheap)."""
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


@dataclass
class Phone:
    index: int  # global, across every generator process
    token: str
    url: str
    ws: Any = None
    reader: asyncio.Task[None] | None = None
    views: list[tuple[int, float]] = field(default_factory=list)  # (v, arrival time)
    round_id: int | None = None
    pending: asyncio.Future[dict[str, Any]] | None = None

    async def join(self) -> float:
        start = time.time()
        self.ws = await connect(
            self.url,
            compression=None,
            open_timeout=OPEN_TIMEOUT,
            max_size=2**20,
            ping_interval=None,
        )
        await self.ws.send(msgpack.packb({"t": "hello", "role": "phone", "token": self.token}))
        raw = await asyncio.wait_for(self.ws.recv(), REPLY_TIMEOUT)
        welcome = msgpack.unpackb(raw, raw=False, strict_map_key=False)
        took = time.time() - start
        if welcome.get("t") != "welcome":
            raise RuntimeError(f"no welcome: {welcome}")
        self.reader = asyncio.create_task(self._read())
        return took

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                now = time.time()
                head = _head(raw)
                if head is not None:  # a view: only its version is needed
                    self.views.append((head, now))
                    continue
                message = msgpack.unpackb(raw, raw=False, strict_map_key=False)
                if self.pending is not None and not self.pending.done():
                    self.pending.set_result(message)

    async def cast(self, marks: dict[str, str], at: float) -> tuple[float, float, str, str]:
        """(send time, accept latency, outcome, receipt) for one ballot sent at `at`."""
        await asyncio.sleep(max(0.0, at - time.time()))
        self.pending = asyncio.get_running_loop().create_future()
        cid = f"load-{self.index:06d}-{random.getrandbits(64):016x}"
        frame = msgpack.packb({"t": "cast", "round": self.round_id, "marks": marks, "cid": cid})
        sent = time.time()
        try:
            await self.ws.send(frame)
            reply = await asyncio.wait_for(self.pending, REPLY_TIMEOUT)
        except Exception as error:  # noqa: BLE001 - counted, reported
            return sent, time.time() - sent, f"failed:{type(error).__name__}", ""
        took = time.time() - sent
        if reply.get("t") == "receipt" and not reply.get("again"):
            return sent, took, "ok", reply["receipt"]
        return sent, took, str(reply.get("code") or reply.get("t")), ""

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)
        if self.reader is not None:
            self.reader.cancel()


class Generator:
    def __init__(self, phones: list[Phone], seed: int) -> None:
        self.phones = phones
        self.random = random.Random(seed)

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
                    phone.ws = None

        await asyncio.gather(*(one(p) for p in self.phones))
        self.phones = [p for p in self.phones if p.ws is not None]
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
        self, schedule: dict[int, float], round_id: int, reporters: list[str], grades: list[str]
    ) -> list[tuple[float, float, str, str]]:
        jobs = []
        for phone in self.phones:
            phone.round_id = round_id
            if phone.index not in schedule:
                continue
            marks = {r: self.random.choice(grades) for r in reporters}
            jobs.append(phone.cast(marks, schedule[phone.index]))
        return list(await asyncio.gather(*jobs))

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
    raise_open_files(open_files)
    phones = [Phone(index, token, url) for index, token, url in slice_]
    asyncio.run(_serve(conn, phones, seed))

"""The floor of one fan-out on this machine, measured in the same run as the server.

A plain asyncio program in a process of its own: it accepts as many TCP connections as the
server has phones (the load generators open them and read, as idle phones do), then, as many
times as the bench's chair acts, writes the same frame bytes to each with `transport.write`
in one loop, a pause between two rounds as between two chair actions. Its CPU time over the
whole stretch, divided by the frames written, is the least one phone view can cost the
server here: the system call and the kernel's share of the loopback TCP. The server's figure
is compared with it (docs/benchmarks.md, "fan-out CPU per phone view").
"""

from __future__ import annotations

import asyncio
import gc
import os
import socket
from multiprocessing.connection import Connection
from typing import Any

from bench._load_phones import raise_open_files

AFTER = 1.0  # seconds after the last round, as the bench waits after the last chair action


class _Held(asyncio.Protocol):
    def __init__(self, held: list[asyncio.Transport]) -> None:
        self.held = held

    def connection_made(self, transport: Any) -> None:
        self.held.append(transport)


async def _serve(conn: Connection) -> None:
    loop = asyncio.get_running_loop()
    held: list[asyncio.Transport] = []
    listener = socket.create_server(("127.0.0.1", 0), backlog=4096)
    server = await loop.create_server(lambda: _Held(held), sock=listener)
    conn.send(listener.getsockname()[1])
    while True:
        command, args = await loop.run_in_executor(None, conn.recv)
        if command == "held":
            conn.send(len(held))
        elif command == "fan_out":
            conn.send(await _fan_out(held, **args))
        else:
            for transport in held:
                transport.abort()
            server.close()
            conn.send(None)
            return


async def _fan_out(
    held: list[asyncio.Transport], frame: bytes, rounds: int, gap: float
) -> dict[str, float]:
    gc.collect()
    gc.disable()  # as the server during a vote: no collection in the measured stretch
    before = os.times()
    for n in range(rounds):
        if n:
            await asyncio.sleep(gap)
        for transport in held:
            transport.write(frame)
    await asyncio.sleep(AFTER)
    after = os.times()
    gc.enable()
    writes = max(1, rounds * len(held))
    system = after.system - before.system
    return {
        "cpu_per_view": (after.user - before.user + system) / writes,
        "system_cpu_per_view": system / writes,
        "writes": writes,
    }


def run(conn: Connection, open_files: int) -> None:
    """Process entry point: answers `held`, `fan_out` and `close` over `conn`."""
    raise_open_files(open_files)
    asyncio.run(_serve(conn))

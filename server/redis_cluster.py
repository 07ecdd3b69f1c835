"""Meetings on a Redis Cluster: `REDIS_CLUSTER_URLS`, the cluster clients, and `WAIT`.

Every key of a meeting carries the hash tag `{pingyi:<meeting>}` (`server.store.Keys`), so a
meeting lives on one slot and its Lua scripts run on one primary; different meetings hash to
different slots and so spread over the primaries. The server processes keep no state of their
own: any of them, behind any load balancer, serves any meeting.

Durability through a failover: Redis replicates asynchronously, so a primary killed right
after a ballot's write could take the ballot with it while its phone shows the receipt. With
`REDIS_WAIT_REPLICAS` = N > 0 (by default 1 when the cluster has replicas) each batch of
ballots is followed by `WAIT N <timeout>` on the meeting's primary, and no receipt is given
until N replicas have the batch; if they do not within `REDIS_WAIT_TIMEOUT_MS` the ballots are
refused as `unavailable` and the phones send them again (a resent ballot gets its first
receipt back, and is waited for again). The cost is measured in docs/scale.md.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import redis
from redis.asyncio.cluster import ClusterNode as AsyncClusterNode
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode as SyncClusterNode
from redis.cluster import RedisCluster as SyncRedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException

WAIT_TIMEOUT_MS = 1000


class ClusterConfigError(ValueError):
    """`REDIS_CLUSTER_URLS` or `REDIS_WAIT_REPLICAS` cannot be read (the message says why)."""


class ClusterUnreachable(RedisConnectionError):
    """No node of the cluster answers, or the meeting's slot has none (a `RedisError`, which
    redis-py's `RedisClusterException` is not: every caller hears `unavailable`)."""


class ClusterClient(AsyncRedisCluster):
    """The asynchronous cluster client, carrying how many replicas a receipt waits for."""

    wait_replicas: int | None = None  # None: 1 if the cluster has replicas, else 0
    wait_timeout_ms: int = WAIT_TIMEOUT_MS

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        with unreachable_as_redis_error():
            return await super().execute_command(*args, **kwargs)


@contextlib.contextmanager
def unreachable_as_redis_error() -> Iterator[None]:
    """A whole cluster down (or a slot no node serves) raises `ClusterUnreachable`."""
    try:
        yield
    except RedisClusterException as error:
        raise ClusterUnreachable(str(error)) from error


def seeds(urls: str) -> list[tuple[str, int]]:
    """The (host, port) of each `redis://host:port` in a comma-separated list."""
    found = []
    for url in filter(None, (part.strip() for part in urls.split(","))):
        parts = urlsplit(url if "://" in url else f"redis://{url}")
        if parts.scheme != "redis" or not parts.hostname:
            raise ClusterConfigError(
                f"REDIS_CLUSTER_URLS 中的地址无效：{url}（应为 redis://主机:端口）"
            )
        found.append((parts.hostname, parts.port or 6379))
    if not found:
        raise ClusterConfigError(
            "REDIS_CLUSTER_URLS 为空：请列出至少一个集群节点 redis://主机:端口"
        )
    return found


def wait_setting(environ: os._Environ[str] | dict[str, str] | None = None) -> int | None:
    """`REDIS_WAIT_REPLICAS` (None when unset: decided from the cluster's replicas)."""
    value = (environ if environ is not None else os.environ).get("REDIS_WAIT_REPLICAS", "")
    if not value.strip():
        return None
    try:
        count = int(value)
    except ValueError:
        count = -1
    if count < 0:
        raise ClusterConfigError(f"REDIS_WAIT_REPLICAS 应为非负整数，而不是“{value}”")
    return count


def wait_timeout_setting() -> int:
    value = os.environ.get("REDIS_WAIT_TIMEOUT_MS", "").strip()
    try:
        timeout = int(value) if value else WAIT_TIMEOUT_MS
    except ValueError:
        timeout = 0
    if timeout <= 0:
        raise ClusterConfigError(f"REDIS_WAIT_TIMEOUT_MS 应为正整数（毫秒），而不是“{value}”")
    return timeout


def async_cluster_client(urls: str, options: dict[str, Any]) -> ClusterClient:
    """A cluster client with the single client's fail-fast options: a refused or dropped
    connection is tried once more (after the client refreshed the cluster's layout), never
    with a backoff; MOVED, ASK and TRYAGAIN (a slot being migrated) are followed as usual."""
    client = ClusterClient(
        startup_nodes=[AsyncClusterNode(host, port) for host, port in seeds(urls)],
        max_connections=options["max_connections"],
        socket_timeout=options["socket_timeout"],
        socket_connect_timeout=options["socket_connect_timeout"],
        retry=Retry(NoBackoff(), 1),
    )
    client.wait_replicas = wait_setting()
    client.wait_timeout_ms = wait_timeout_setting()
    return client


def sync_cluster_client(urls: str) -> SyncRedisCluster:
    return SyncRedisCluster(
        startup_nodes=[SyncClusterNode(host, port) for host, port in seeds(urls)],
        socket_timeout=10,
        socket_connect_timeout=3,
    )


def slot_nodes(client: AsyncRedisCluster, key: str) -> list[AsyncClusterNode]:
    """The primary serving `key`'s slot, then its replicas (as the client last saw them)."""
    return list(client.nodes_manager.slots_cache.get(client.keyslot(key), []))


async def replicas_to_wait_for(client: AsyncRedisCluster) -> int:
    """How many replicas a receipt waits for: `REDIS_WAIT_REPLICAS`, else 1 if the cluster
    has replicas (decided once, at the first batch)."""
    wanted = getattr(client, "wait_replicas", 0)
    if wanted is None:
        await client.initialize()
        wanted = 1 if client.get_replicas() else 0
        if isinstance(client, ClusterClient):
            client.wait_replicas = wanted
    return int(wanted)


async def wait_replicated(client: AsyncRedisCluster, key: str, replicas: int) -> int:
    """`WAIT replicas timeout` on the primary of `key`'s slot: how many replicas have every
    write that primary made so far.

    WAIT waits for the offset of its connection's last command, so it follows a PING on the
    same connection: on Redis 6.2 (the one Pingyi ships) every command sets that offset to the
    primary's current one, so the ballots of this batch, written before, are covered, also a
    resent ballot's first write that was made on another connection.
    """
    timeout = int(getattr(client, "wait_timeout_ms", WAIT_TIMEOUT_MS))
    await client.initialize()
    nodes = slot_nodes(client, key)
    if not nodes:
        raise ClusterUnreachable(f"no node serves slot {client.keyslot(key)}")
    node = nodes[0]
    connection = node.acquire_connection()
    try:
        await connection.send_packed_command(
            connection.pack_commands([("PING",), ("WAIT", replicas, timeout)])
        )
        await connection.read_response()
        return int(await connection.read_response())
    except BaseException:
        await connection.disconnect()
        raise
    finally:
        node.release(connection)


def is_cluster(client: Any) -> bool:
    return isinstance(client, AsyncRedisCluster | SyncRedisCluster)


def config_warnings(client: SyncRedisCluster) -> list[str]:
    """Every node that would not keep an accepted ballot through a crash (its address)."""
    weak = []
    for node in client.get_nodes():
        try:
            fsync = client.config_get("appendfsync", target_nodes=node).get("appendfsync")
            aof = client.config_get("appendonly", target_nodes=node).get("appendonly")
        except (redis.RedisError, RedisClusterException):
            weak.append(f"{node.name}（无法读取配置）")
            continue
        if aof != "yes" or fsync != "always":
            weak.append(f"{node.name}（appendonly={aof}, appendfsync={fsync}）")
    return weak

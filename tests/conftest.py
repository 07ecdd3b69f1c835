"""Fixtures shared by every test directory: a real Redis and real server processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import RedisServer, ServerProcess, stop_embedded_redis


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "external-redis").start()
    yield server
    server.kill()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[ServerProcess]]:
    """Collects the server processes a test starts, and stops them (and their Redis) after."""
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.stop()
    for server in started:
        stop_embedded_redis(server.data)

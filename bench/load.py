"""Load and scale benchmark of the live server: N phones, a burst of ballots, fan-out, close.

    .venv/bin/python -m bench.load --phones 200 --reporters 5          # prints the figures
    .venv/bin/python -m bench.load --phones 5000 --reporters 30 --record            # 1 process
    .venv/bin/python -m bench.load --phones 10000 --reporters 30 --servers 2 --record

(from the repository's root, in the environment scripts/setup makes). Starts its own Redis
(appendfsync always) and `pingyi serve` process(es) on 127.0.0.1, runs the phones in separate
load-generator processes and prints the table; with `--record` it also writes the figures into
the "## Live server" section of docs/benchmarks.md (a plain run changes no file). Two meetings are run one after the other on
the same Redis: the first has every phone vote within the burst window, the second offers
ballots at a steady rate (each card votes once per round, so a second rate needs a second
round of fresh phones). Ends by reading each meeting's record back and checking that every
ballot that got a receipt is counted exactly once.

Each server runs with `PINGYI_LOOP_MONITOR` (server/loop_monitor.py): its event loop's longest
stall in each phase is reported (bench/_stalls.py). The fan-out's CPU is compared with its
floor, a bare asyncio writer of the same frame to as many readers measured in the same run
(bench/_fanout_floor.py). `--meetings N` runs N meetings at once in one server process instead
(bench/_load_meetings.py, its own section of the page).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import math
import multiprocessing
import os
import platform
import random
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack
import psutil
from websockets.asyncio.client import connect

from bench import _fanout_floor
from bench import _load_phones as phones_mod
from bench._stalls import Phases, longest_by_phase, longest_gc, read_stalls
from meeting.join_cards import issue_cards
from server.datadir import DataDir
from server.loop_monitor import ENVIRONMENT as LOOP_MONITOR
from server.loop_monitor import REPORT_OVER
from server.wire import binary_frame
from tally.meeting_file import parse_meeting_text
from testkit import RedisServer, ServerProcess

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Live server"
FANOUT_TOGGLES = 8  # pause/resume pairs: samples of one chair action reaching every phone
STEP_TIMEOUT = 120.0  # the longest any one phase may take
FANOUT_GAP = 0.3  # seconds between two measured chair actions
AFTER_REVEAL = 4.5  # seconds watched after the reveal (the room reads the results)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(0, math.ceil(p / 100 * len(ordered)) - 1)
    return ordered[rank]


def pcts(values: list[float]) -> dict[str, float]:
    return {f"p{p}": percentile(values, p) for p in (50, 95, 99)} | {"n": len(values)}


# ---- the meeting ---------------------------------------------------------------------------


def meeting_text(title: str, phones: int, reporters: int, items: int = 0) -> str:
    """The bench's meeting; with `items`, every group answers a grade and an `items`-long
    能/不能 checklist on every reporter (issue 17's 28-item form)."""
    seats = [math.ceil(phones / 3)] * 3
    lines = [
        "[meeting]",
        f'title = "{title}"',
        'date = "2026-12-28"',
        'place = "压力测试会场"',
        'join = "cards"',
        'voting = "end"',
        "",
    ]
    for n in range(1, reporters + 1):
        lines += [
            "[[reporters]]",
            f'id = "r{n:02d}"',
            f'name = "述职人{n}"',
            f'org = "单位{n}"',
            'mode = "written"',
            "",
        ]
    for gid, name, weight, seat in zip(
        ("leaders", "depts", "grassroots"),
        ("县级领导", "部门负责人", "基层代表"),
        ("0.4", "0.3", "0.3"),
        seats,
        strict=True,
    ):
        lines += ["[[groups]]", f'id = "{gid}"', f'name = "{name}"', f"seats = {seat}"]
        lines += [f"weight = {weight}", *(['form = "items"'] if items else []), ""]
    if items:
        lines += ["[[forms]]", 'id = "items"', 'name = "逐项测评"', 'kind = "both"']
        lines += ["grade_weight = 0.3", "items_weight = 0.7", ""]
        for n in range(1, items + 1):
            lines += ["[[forms.items]]", f'id = "a{n:02d}"', f'text = "能不能做好第{n}项工作"', ""]
    lines += ["[rules]", "quorum = 0", ""]
    return "\n".join(lines)


# ---- the chair and the projector -------------------------------------------------------


class Console:
    """A chair or screen WebSocket in the orchestrator: replies by id, views as they come."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.replies: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.views: list[tuple[float, dict[str, Any]]] = []
        self.changed = asyncio.Event()
        self.reader = asyncio.create_task(self._read())
        self.counter = 0

    @classmethod
    async def open(cls, url: str, **hello: Any) -> Console:
        ws = await connect(url, compression=None, max_size=2**22, ping_interval=None)
        await ws.send(msgpack.packb({"t": "hello", **hello}))
        welcome = msgpack.unpackb(await asyncio.wait_for(ws.recv(), 30), raw=False)
        assert welcome["t"] == "welcome", welcome
        console = cls(ws)
        console.views.append((time.time(), welcome["view"]))
        return console

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                now = time.time()
                message = msgpack.unpackb(raw, raw=False, strict_map_key=False)
                if message.get("id") in self.replies:
                    self.replies.pop(message["id"]).set_result(message)
                elif message.get("t") == "view":
                    self.views.append((now, message["view"]))
                    self.changed.set()

    async def request(self, message: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        """(send time, reply) for one message."""
        self.counter += 1
        rid = f"c{self.counter}"
        future = asyncio.get_running_loop().create_future()
        self.replies[rid] = future
        sent = time.time()
        await self.ws.send(msgpack.packb({**message, "id": rid}))
        return sent, await asyncio.wait_for(future, STEP_TIMEOUT)

    async def chair(self, action: str) -> tuple[float, dict[str, Any]]:
        """(send time, reply) for one chair action."""
        message: dict[str, Any] = {"t": "chair", "action": action}
        if action == "close":  # as the console does once the chair confirmed (too_early)
            message["force"] = True
        sent, reply = await self.request(message)
        if reply["t"] != "ok":
            raise RuntimeError(f"chair {action}: {reply}")
        return sent, reply

    async def longest_pause(self, seconds: float) -> float:
        """The longest ping round trip over `seconds`, pinging every 50 ms (20 a second: the
        server's rate limit for one connection)."""
        longest = 0.0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            sent, _ = await self.request({"t": "ping"})
            longest = max(longest, time.time() - sent)
            await asyncio.sleep(0.05)
        return longest

    async def view_where(self, predicate: Any, after: float = 0.0) -> tuple[float, dict]:
        deadline = time.monotonic() + STEP_TIMEOUT
        while time.monotonic() < deadline:
            for at, view in reversed(self.views):
                if at >= after and predicate(view):
                    return at, view
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), 1.0)
        raise TimeoutError("no matching view in time")

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), 5)
        self.reader.cancel()


# ---- the load-generator processes --------------------------------------------------------


class Generators:
    def __init__(self, cards: list[tuple[int, str, str]], count: int, open_files: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes = []
        self.processes = []
        self.closed = False
        for n in range(count):
            ours, theirs = context.Pipe()
            process = context.Process(
                target=phones_mod.run,
                args=(theirs, cards[n::count], 1000 + n, open_files),
                daemon=True,
            )
            process.start()
            self.pipes.append(ours)
            self.processes.append(process)

    async def ask(self, command: str, per_process: list[dict] | dict | None = None) -> list[Any]:
        args = (
            per_process if isinstance(per_process, list) else [per_process or {}] * len(self.pipes)
        )
        for pipe, arg in zip(self.pipes, args, strict=True):
            pipe.send((command, arg))

        def answer(pipe: Any) -> Any:
            if not pipe.poll(STEP_TIMEOUT * 2):
                raise TimeoutError(f"load generator did not answer {command}")
            return pipe.recv()

        answers = await asyncio.gather(*(asyncio.to_thread(answer, p) for p in self.pipes))
        for item in answers:
            if isinstance(item, BaseException):
                raise item
        return list(answers)

    def cpu(self) -> float:
        return cpu_seconds(psutil.Process(p.pid) for p in self.processes)

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(Exception):
            await self.ask("close")
        for process in self.processes:
            process.join(10)
            if process.is_alive():
                process.kill()


# ---- one meeting ---------------------------------------------------------------------------


@dataclass
class Cluster:
    redis: RedisServer
    meeting_path: Path
    data: Path
    count: int
    servers: list[ServerProcess] = field(default_factory=list)

    def start(self) -> Cluster:
        for n in range(self.count):  # one after the other: the first one initialises the data
            monitor = {LOOP_MONITOR: str(self.stall_file(n))}  # its stalls, phase by phase
            server = ServerProcess(
                self.meeting_path, self.data, redis_url=self.redis.url, env=monitor
            )
            self.servers.append(server.start())
        return self

    def stall_file(self, n: int) -> Path:
        return self.data.parent / f"{self.data.name}-stalls-{n}.txt"

    def stalls(self) -> list[tuple[float, str, float]]:
        return [s for n in range(self.count) for s in read_stalls(self.stall_file(n))]

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def procs(self) -> list[psutil.Process]:
        return [psutil.Process(s.process.pid) for s in self.servers if s.process]

    def rss(self) -> int:
        return sum(p.memory_info().rss for p in self.procs())

    def cpu(self) -> float:
        return cpu_seconds(self.procs())

    def system_cpu(self) -> float:
        """The kernel's share of `cpu()`: the socket writes' system calls and loopback TCP."""
        return sum(p.cpu_times().system for p in self.procs())


class Floor:
    """The fan-out floor's process (`bench/_fanout_floor.py`)."""

    def __init__(self, open_files: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipe, theirs = context.Pipe()
        self.process = context.Process(
            target=_fanout_floor.run, args=(theirs, open_files), daemon=True
        )
        self.process.start()
        self.port: int = self.ask_now()

    def ask_now(self, command: str | None = None, args: Any = None) -> Any:
        if command is not None:
            self.pipe.send((command, args))
        if not self.pipe.poll(STEP_TIMEOUT):
            raise TimeoutError(f"the fan-out floor did not answer {command}")
        return self.pipe.recv()

    async def ask(self, command: str, args: Any = None) -> Any:
        return await asyncio.to_thread(self.ask_now, command, args)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ask_now("close")
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()


async def fan_out_floor(
    generators: Generators, readers: int, rounds: int, open_files: int
) -> dict[str, float]:
    """The bare cost of one view to `readers` idle readers, the same frame bytes as the
    phones' last view, on this machine now."""
    payload = next((v for v in await generators.ask("last_view") if v), b"")
    floor = Floor(open_files)
    try:
        share = [len(part) for part in split_evenly(readers, len(generators.pipes))]
        await generators.ask("floor_join", [{"port": floor.port, "count": n} for n in share])
        deadline = time.monotonic() + STEP_TIMEOUT
        while await floor.ask("held") < readers and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        phones_mod.collect_between_measurements()
        frame = binary_frame(payload)
        result: dict[str, float] = await floor.ask(
            "fan_out", {"frame": frame, "rounds": rounds, "gap": FANOUT_GAP}
        )
        await generators.ask("floor_close")
        return result | {"frame_bytes": len(frame)}
    finally:
        floor.close()


def split_evenly(total: int, parts: int) -> list[range]:
    return [range(total)[n::parts] for n in range(parts)]


def redis_cpu(redis: RedisServer) -> float:
    assert redis.process is not None
    return cpu_seconds([psutil.Process(redis.process.pid)])


def cpu_seconds(processes: Iterable[psutil.Process]) -> float:
    """User plus system CPU time, summed over the processes."""
    return sum(sum(p.cpu_times()[:2]) for p in processes)


async def fan_out(
    chair: Console, generators: Generators, cluster: Cluster, actions: list[str], expected: int
) -> tuple[list[dict[str, float]], dict[str, float], int]:
    """Per chair action: when its view reached each phone, relative to the chair's send."""
    sent: dict[int, float] = {}
    # What the server spends with nothing to send (the keepalive pings of thousands of
    # connections, the stream follower, the bench's loop monitor), over as long as the actions
    # take: the fan-out's own cost is the rest.
    window = len(actions) * FANOUT_GAP + 1.0
    idle_before = cluster.cpu()
    await asyncio.sleep(window)
    idle = cluster.cpu() - idle_before
    cpu_before = cluster.cpu(), generators.cpu(), cluster.system_cpu()
    for action in actions:
        at, reply = await chair.chair(action)
        sent[reply["v"]] = at
        await asyncio.sleep(FANOUT_GAP)
    await asyncio.sleep(1.0)
    views = len(actions) * expected
    cpu = {
        "server_cpu_per_view": (cluster.cpu() - cpu_before[0]) / max(1, views),
        "generator_cpu_per_view": (generators.cpu() - cpu_before[1]) / max(1, views),
        "server_system_cpu_per_view": (cluster.system_cpu() - cpu_before[2]) / max(1, views),
        "server_idle_cpu_per_view": idle / max(1, views),
    }
    found: dict[int, list[float]] = collections.defaultdict(list)
    for part in await generators.ask("arrivals", {"versions": list(sent)}):
        for v, times in part.items():
            found[int(v)] += times
    samples = []
    for v, at in sent.items():
        delays = [t - at for t in found[v]]
        samples.append(
            {"delivered": len(delays), "last": max(delays, default=math.nan)} | pcts(delays)
        )
    missing = [s for s in samples if s["delivered"] != expected]
    if missing:
        print(f"  warning: {len(missing)} chair actions did not reach every phone: {missing}")
    return samples, cpu, max(sent)


async def join_all(generators: Generators, concurrency: int) -> dict[str, Any]:
    share = max(1, concurrency // len(generators.pipes))
    parts = await generators.ask("join", {"concurrency": share})
    times = [t for part in parts for t in part["times"]]
    failures = [f for part in parts for f in part["failures"]]
    return {"times": times, "failures": failures}


async def wait_seen(generators: Generators, version: int, expected: int) -> None:
    deadline = time.monotonic() + STEP_TIMEOUT
    while time.monotonic() < deadline:
        if sum(await generators.ask("seen", {"version": version})) >= expected:
            return
        await asyncio.sleep(0.2)
    raise TimeoutError("not every phone saw the round open in time")


async def ballots(
    generators: Generators, schedule: dict[int, float], round_id: int, meeting: Any
) -> list[tuple[float, float, str, str]]:
    args = {
        "schedule": schedule,
        "round_id": round_id,
        "reporters": [r.id for r in meeting.reporters],
        "grades": list(meeting.rules.grades),
        "items": len(meeting.appraisal.forms[0].checklist.items) if meeting.appraisal.forms else 0,
    }
    return [b for part in await generators.ask("ballots", args) for b in part]


def summarise_ballots(results: list[tuple[float, float, str, str]]) -> dict[str, Any]:
    accepted = [r for r in results if r[2] == "ok"]
    outcomes = collections.Counter(r[2] for r in results)
    first = min((r[0] for r in results), default=math.nan)
    last = max((r[0] + r[1] for r in accepted), default=math.nan)
    span = last - first
    return {
        "sent": len(results),
        "accepted": len(accepted),
        "outcomes": dict(outcomes),
        "span": span,
        "throughput": len(accepted) / span if span > 0 else math.nan,
        "latency": pcts([r[1] for r in accepted]),
        "receipts": [r[3] for r in accepted],
    }


def verify(cluster: Cluster, meeting: Any, redis_url: str, receipts: list[str]) -> dict[str, Any]:
    """Every receipt stored once; a round still open is read as the 监票人 would, with the key
    its ballots are sealed to."""
    record = cluster.servers[0].record(meeting, redis_url=redis_url)
    stored = collections.Counter(b.id for b in record.ballots)
    receipted = collections.Counter(receipts)
    missing = [r for r in receipted if stored[r] == 0]
    doubled = [r for r, n in stored.items() if n > 1] + [r for r, n in receipted.items() if n > 1]
    unreceipted = [r for r in stored if r not in receipted]
    return {
        "receipts": len(receipts),
        "stored": len(record.ballots),
        "missing": len(missing),
        "doubled": len(doubled),
        "unreceipted": len(unreceipted),
        "exactly_once": not missing and not doubled,
    }


async def run_meeting(
    kind: str, args: argparse.Namespace, redis: RedisServer, workdir: Path
) -> dict[str, Any]:
    title = f"压力测试会议（{kind}）"
    text = meeting_text(title, args.phones, args.reporters, args.items)
    meeting = parse_meeting_text(text)
    meeting_path = workdir / f"{kind}.toml"
    meeting_path.write_text(text, encoding="utf-8")
    cluster = Cluster(redis, meeting_path, workdir / f"data-{kind}", args.servers).start()
    result: dict[str, Any] = {}
    cards = issue_cards(DataDir(cluster.data).card_secret(), meeting)[: args.phones]
    urls = [s.ws_url for s in cluster.servers]
    slices = [(n, c.token, urls[n % len(urls)]) for n, c in enumerate(cards)]
    generators = Generators(slices, args.generators, args.open_files)
    consoles: list[Console] = []
    phases = Phases()
    try:
        chair = await Console.open(urls[0], role="chair", key=cluster.servers[0].chair_key)
        screen = await Console.open(urls[-1], role="screen")
        consoles += [chair, screen]
        await asyncio.sleep(1.0)
        rss_before = cluster.rss()
        print(f"[{kind}] joining {args.phones} phones to {len(urls)} server process(es)…")
        phases.begin("join")
        joined = await join_all(generators, args.join_concurrency)
        connected = len(joined["times"])
        result["join"] = pcts(joined["times"]) | {
            "connected": connected,
            "failed": len(joined["failures"]),
            "failures": collections.Counter(joined["failures"]).most_common(3),
        }
        print(f"[{kind}] {connected} joined, {len(joined['failures'])} failed")
        await asyncio.sleep(2.0)
        if kind == "burst":
            result["rss_per_phone"] = (cluster.rss() - rss_before) / max(1, connected)
            result["rss_total"] = cluster.rss()
            print(f"[{kind}] fan-out: start, {FANOUT_TOGGLES} × pause/resume, open")
            actions = ["start", *(["pause", "resume"] * FANOUT_TOGGLES), "open"]
        else:
            actions = ["start", "open"]
        phones_mod.collect_between_measurements()
        phases.begin("fan-out")
        samples, fan_cpu, opened = await fan_out(chair, generators, cluster, actions, connected)
        await wait_seen(generators, opened, connected)
        if kind == "burst":
            print(f"[{kind}] the fan-out floor: {connected} bare readers")
            phases.begin("floor")  # the server idles meanwhile
            floor = await fan_out_floor(generators, connected, len(actions), args.open_files)
            fan_cpu["floor_cpu_per_view"] = floor["cpu_per_view"]
            fan_cpu["floor_system_cpu_per_view"] = floor["system_cpu_per_view"]
            print(f"[{kind}] fan-out CPU per view: {fan_cpu}")
        _, view = await chair.view_where(lambda v: (v.get("round") or {}).get("status") == "open")
        round_id = view["round"]["id"]
        if kind == "burst":
            result["fanout"] = samples
            result["fanout_cpu"] = fan_cpu
            start = time.time() + 0.5
            rng = random.Random(7)
            schedule = {n: start + rng.uniform(0, args.burst_window) for n in range(args.phones)}
        else:
            start = time.time() + 0.5
            schedule = {n: start + n / args.offered_rate for n in range(args.phones)}
        print(f"[{kind}] {len(schedule)} ballots × {args.reporters} reporters…")
        cpu_before, redis_before = cluster.cpu(), redis_cpu(redis)
        phones_mod.collect_between_measurements()
        phases.begin(kind)
        sent = await ballots(generators, schedule, round_id, meeting)
        summary = summarise_ballots(sent)
        accepted = summary["accepted"]
        await screen.view_where(lambda v: (v.get("turnout") or {}).get("cast", 0) >= accepted)
        summary["cpu_per_ballot"] = (cluster.cpu() - cpu_before) / max(1, accepted)
        summary["redis_cpu_per_ballot"] = (redis_cpu(redis) - redis_before) / max(1, accepted)
        result["ballots"] = summary
        print(f"[{kind}] {accepted}/{summary['sent']} accepted: {summary['outcomes']}")
        if kind == "burst":
            print(f"[{kind}] close and reveal")
            await asyncio.sleep(0.5)
            result["rss_before_close"] = cluster.rss()
            phases.begin("close")
            closed_at, _ = await chair.chair("close")
            phases.begin("reveal")
            revealed_at, _ = await chair.chair("reveal")
            at, _ = await screen.view_where(lambda v: v.get("result") is not None, closed_at)
            phases.begin("after")
            result["close_to_result"] = at - closed_at
            result["close_to_ok"] = revealed_at - closed_at
            result["reveal_to_screen"] = at - revealed_at
            result["pause_after_reveal"] = await chair.longest_pause(AFTER_REVEAL)
            result["rss_after_reveal"] = cluster.rss()
        phases.begin("end")
        stalls = cluster.stalls()
        result["stalls"] = longest_by_phase(stalls, phases.starts)
        result["busy"] = longest_by_phase(stalls, phases.starts, kind="busy")
        result["phases"] = phases.starts
        result["gc"] = longest_by_phase(stalls, phases.starts, kind="gc")
        result["longest_gc"] = longest_gc(stalls, phases.starts[0][1])
        print(f"[{kind}] longest loop stall per phase: {result['stalls']}")
        print(f"[{kind}] … the loop's own CPU in the longest busy stall: {result['busy']}")
        result["round"] = round_id
        for console in consoles:
            await console.close()
        await generators.close()
        result["verify"] = verify(cluster, meeting, redis.url, summary.pop("receipts"))
        print(f"[{kind}] record: {result['verify']}")
        return result
    finally:
        for console in consoles:
            await console.close()
        await generators.close()
        cluster.stop()


# ---- the report ------------------------------------------------------------------------


def ms(seconds: float) -> str:
    if seconds != seconds:
        return "–"
    return f"{seconds * 1000:,.1f} ms" if seconds < 0.01 else f"{seconds * 1000:,.0f} ms"


def us(seconds: float) -> str:
    return "–" if seconds != seconds else f"{seconds * 1e6:,.0f} µs"


def mib(size: float) -> str:
    return "–" if size != size else f"{size / 2**20:,.0f} MiB"


def floor_ratio(fan_cpu: dict[str, float]) -> str:
    """The floor, then the server's CPU per view against it: all of it, and less what the
    server spends idle over as long a stretch."""
    floor = fan_cpu.get("floor_cpu_per_view", math.nan)
    if floor != floor:
        return "–"
    server = fan_cpu["server_cpu_per_view"]
    net = server - fan_cpu.get("server_idle_cpu_per_view", math.nan)
    return f"{us(floor)} / {server / floor:.2f}× ({net / floor:.2f}× less idle)"


STALL_PHASES = ("join", "fan-out", "burst", "close", "reveal", "after")


def stall_rows(burst: dict[str, Any], steady: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The longest event-loop stall of each phase (`server.loop_monitor`)."""
    found = [(phase, burst) for phase in STALL_PHASES] + [("steady", steady)]
    return [
        (
            f"longest event-loop stall: {phase} (wall / the loop's own CPU)",
            f"{stall_ms((run.get('stalls') or {}).get(phase, math.nan))} / "
            f"{stall_ms((run.get('busy') or {}).get(phase, math.nan))}",
            "< 50 ms",
        )
        for phase, run in found
    ]


def stall_ms(seconds: float) -> str:
    """A phase without any stall over the monitor's threshold says so."""
    return f"< {REPORT_OVER * 1000:.0f} ms" if seconds == 0 else ms(seconds)


def trio(stats: dict[str, float]) -> str:
    return " / ".join(ms(stats[k]) for k in ("p50", "p95", "p99"))


def rows(run: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(measure, figure, target) for one run."""
    burst, steady = run["burst"], run["steady"]
    fan = burst["fanout"]
    fan_cpu = burst.get("fanout_cpu") or {
        "server_cpu_per_view": math.nan,
        "generator_cpu_per_view": math.nan,
    }
    lasts = [s["last"] for s in fan]
    per_phone_p99 = [s["p99"] for s in fan]
    b, s = burst["ballots"], steady["ballots"]
    return [
        (
            "phones connected",
            f"{burst['join']['connected']:,} ({burst['join']['failed']} failed)",
            "5,000 per process",
        ),
        ("join: connect + hello → welcome, p50 / p95 / p99", trio(burst["join"]), ""),
        ("burst: ballots accepted", f"{b['accepted']:,} of {b['sent']:,}", "all"),
        ("burst: first cast → last receipt", ms(b["span"]), "< 2 s"),
        ("burst: throughput", f"{b['throughput']:,.0f} ballots/s", ""),
        ("burst: accept latency p50 / p95 / p99", trio(b["latency"]), ""),
        (
            f"steady {run['offered_rate']:,}/s: accept latency p50 / p95 / p99",
            trio(s["latency"]),
            "p99 < 50 ms",
        ),
        (
            f"fan-out: one chair action → last phone, median / worst of {len(lasts)}",
            f"{ms(percentile(lasts, 50))} / {ms(max(lasts))}",
            "p99 < 150 ms (5,000), < 40 ms (1,000)",
        ),
        (
            "fan-out: per-phone delivery p99 (median over actions)",
            ms(percentile(per_phone_p99, 50)),
            "",
        ),
        (
            "fan-out CPU per phone view: server / load generator",
            f"{us(fan_cpu['server_cpu_per_view'])} / {us(fan_cpu['generator_cpu_per_view'])}",
            "",
        ),
        (
            "fan-out CPU per phone view: bare `transport.write` floor / server ÷ floor",
            floor_ratio(fan_cpu),
            "≤ 1.3×",
        ),
        ("close → result on the projector", ms(burst["close_to_result"]), "< 300 ms"),
        (
            "… of which close → `ok` (tally stored) / reveal → projector",
            f"{ms(burst.get('close_to_ok', math.nan))} / "
            f"{ms(burst.get('reveal_to_screen', math.nan))}",
            "",
        ),
        (
            "longest chair ping round trip in the 4.5 s after the reveal",
            ms(burst.get("pause_after_reveal", math.nan)),
            "",
        ),
        *stall_rows(burst, steady),
        ("server RSS per idle phone", f"{burst['rss_per_phone'] / 1024:,.1f} KiB", "< 32 KiB"),
        (
            "server RSS before the close / 4.5 s after the reveal",
            f"{mib(burst.get('rss_before_close', math.nan))} / "
            f"{mib(burst.get('rss_after_reveal', math.nan))}",
            "",
        ),
        ("server CPU per ballot (burst)", f"{b['cpu_per_ballot'] * 1e6:,.0f} µs", ""),
        ("Redis CPU per ballot (burst)", f"{b['redis_cpu_per_ballot'] * 1e6:,.0f} µs", ""),
        (
            "every receipted ballot counted exactly once",
            "yes" if burst["verify"]["exactly_once"] and steady["verify"]["exactly_once"] else "NO",
            "yes",
        ),
    ]


def run_label(run: dict[str, Any]) -> str:
    processes = "process" if run["servers"] == 1 else "processes"
    return f"{run['servers']} {processes}, {run['phones']:,} phones"


def table(runs: list[dict[str, Any]]) -> list[str]:
    columns = [rows(run) for run in runs]
    head = ["measure", *(run_label(r) for r in runs), "target"]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * len(runs) + "|---|"]
    for n, (measure, _, target) in enumerate(columns[0]):
        figures = [col[n][1] for col in columns]
        lines.append("| " + " | ".join([measure, *figures, target]) + " |")
    return lines


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
        found = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
        if found:
            return found.group(1).strip()
    return platform.processor() or platform.machine()


def machine() -> str:
    return f"{os.cpu_count()} cores (`nproc`), {cpu_model()}, Python {platform.python_version()}"


def stored_runs() -> list[dict[str, Any]]:
    if not DOC.exists():
        return []
    found = re.search(r"<!-- load-runs: (.*?) -->", DOC.read_text(encoding="utf-8"), re.DOTALL)
    return json.loads(found.group(1)) if found else []


def compact(value: Any) -> Any:
    """What the table needs, rounded: the runs are kept in the page for the next write."""
    if isinstance(value, float):
        return float(f"{value:.4g}")
    if isinstance(value, list):
        return [compact(v) for v in value]
    if isinstance(value, dict):
        keep = ("last", "p99", "delivered")
        return {
            k: compact([{f: s[f] for f in keep} for s in v] if k == "fanout" else v)
            for k, v in value.items()
            if k not in ("failures", "outcomes", "phases")
        }
    return value


def other_machine(run: dict[str, Any], machine: str) -> str:
    """The machine of a run taken on another one than the section names (the VM moved)."""
    return "" if run["machine"] == machine else f"; on {run['machine']}"


def section(runs: list[dict[str, Any]], notes: str) -> str:
    machine = runs[-1]["machine"]
    lines = [
        SECTION,
        "",
        "`bench/load.py`: real phones (the `websockets` library's sans-I/O client protocol on a",
        "plain asyncio protocol, compression off; see `bench/_load_phones.py`) in separate",
        "load-generator processes, `pingyi serve` process(es) and a real Redis with",
        "`appendfsync always`, all on 127.0.0.1 of one machine. Voting opens for every reporter",
        "at once; every phone submits within the burst window; the chair closes and reveals.",
        "The steady rate is a second meeting on the same Redis (a card votes once per round).",
        "Fan-out is the time from the chair sending an action to its view arriving at a phone;",
        "close → result is from the chair sending `close` to the projector showing the result",
        "(the chair sends `reveal` as soon as `close` is answered, i.e. the tally is done).",
        "",
        *table(runs),
        "",
        f"Machine: {machine}. Server, Redis and load generator share it.  ",
        *(
            f"Command: `{run['command']}` (load average {run.get('load', math.nan):.1f} "
            f"at its start{other_machine(run, machine)})  "
            for run in runs
        ),
        "",
        *([notes, ""] if notes else []),
        f"<!-- load-runs: {json.dumps([compact(r) for r in runs], ensure_ascii=False)} -->",
        "",
    ]
    return "\n".join(lines)


NOTES_MARK = re.compile(r"^### Where the time goes\n.*?(?=^<!-- load-runs|\Z)", re.M | re.S)


def write_doc(run: dict[str, Any]) -> None:
    runs = [
        r for r in stored_runs() if (r["servers"], r["phones"]) != (run["servers"], run["phones"])
    ]
    runs = sorted([*runs, run], key=lambda r: (r["servers"], r["phones"]))
    current = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    old = pattern.search(current)
    notes_found = NOTES_MARK.search(old.group(0)) if old else None
    notes = notes_found.group(0).strip() if notes_found else ""
    text = section(runs, notes)
    if old:
        updated = current[: old.start()] + text + "\n" + current[old.end() :]
    else:
        updated = current.rstrip("\n") + "\n\n" + text
    DOC.write_text(updated.rstrip("\n") + "\n", encoding="utf-8")


def print_table(run: dict[str, Any]) -> None:
    for measure, figure, target in rows(run):
        print(f"  {measure:<62} {figure:>26}   {target}")


# ---- main ------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=5000)
    parser.add_argument("--reporters", type=int, default=30)
    parser.add_argument("--servers", type=int, default=1, help="pingyi serve processes [1]")
    parser.add_argument("--burst-window", type=float, default=1.0, help="seconds [1.0]")
    parser.add_argument("--offered-rate", type=int, default=1000, help="ballots/s [1000]")
    parser.add_argument("--generators", type=int, default=2, help="load-generator processes")
    parser.add_argument("--join-concurrency", type=int, default=48, help="handshakes in flight")
    parser.add_argument(
        "--record", action="store_true", help="write the figures into docs/benchmarks.md"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument(
        "--meetings",
        type=int,
        default=0,
        help="N meetings voting within the same minute in one `pingyi serve --meetings` "
        "process, --phones phones each (bench/_load_meetings.py)",
    )
    parser.add_argument(
        "--cluster", action="store_true", help="with --meetings: a local 3-primary Redis Cluster"
    )
    parser.add_argument(
        "--items",
        type=int,
        default=0,
        help="each ballot also answers an N-item 能/不能 checklist per reporter [0: grades only]",
    )
    parser.add_argument(
        "--vote-window", type=float, default=20.0, help="with --meetings: seconds [20]"
    )
    args = parser.parse_args(argv)
    total = args.phones * max(1, args.meetings)
    if not 1 <= total <= 20_000 or not 1 <= args.servers <= 8 or not 0 <= args.meetings <= 100:
        parser.error("--phones (× --meetings) 1..20000, --servers 1..8, --meetings 0..100")
    if args.cluster and not args.meetings:
        parser.error("--cluster goes with --meetings")
    args.open_files = total * 2 + 1024
    return args


async def amain(args: argparse.Namespace, command: str) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="pingyi-load-"))
    redis = RedisServer(workdir / "redis").start()
    try:
        run: dict[str, Any] = {
            "phones": args.phones,
            "servers": args.servers,
            "reporters": args.reporters,
            "offered_rate": args.offered_rate,
            "burst_window": args.burst_window,
            "command": command,
            "machine": machine(),
            "load": os.getloadavg()[0],  # the host is shared: the figures shift with it
        }
        run["burst"] = await run_meeting("burst", args, redis, workdir)
        run["steady"] = await run_meeting("steady", args, redis, workdir)
        return run
    finally:
        redis.kill()
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    limit = phones_mod.raise_open_files(args.open_files)
    if limit < args.open_files:
        print(f"warning: open-file limit {limit} < {args.open_files}", file=sys.stderr)
    given = list(argv if argv is not None else sys.argv[1:])
    shown = [
        a
        for n, a in enumerate(given)
        if a not in ("--record", "--json") and (n == 0 or given[n - 1] != "--json")
    ]
    command = " ".join(["python -m bench.load", *shown])
    if args.meetings:
        from bench import _load_meetings  # it builds on this module

        return _load_meetings.main(args, command)
    run = asyncio.run(amain(args, command))
    print(run_label(run))
    print_table(run)
    if args.json:
        args.json.write_text(json.dumps(run, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.record:
        write_doc(run)
        print(f"updated {DOC.relative_to(ROOT)}")
    ok = run["burst"]["verify"]["exactly_once"] and run["steady"]["verify"]["exactly_once"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

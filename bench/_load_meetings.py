"""`bench/load.py --meetings N`: N meetings voting within the same minute, one server process.

One `pingyi serve --meetings DIR` hosts every meeting (meeting <id> under `/m/<id>/`, its data
directory `<data>/meetings/<id>/`) on one Redis, or with `--cluster` on a local Redis Cluster
of three primaries. Every meeting gets `--phones` phones (the same load-generator processes
drive them all); once all have joined, every meeting's chair starts and opens its vote. Each
meeting's phones then vote within `--vote-window` seconds, the meetings' windows spread over
one minute, and each meeting's chair closes and reveals as soon as its projector shows every
ballot in, while the others still vote. Reported: every ballot counted exactly once in each
meeting, the accept latency over all ballots, each meeting's close → result on its own
projector, and the server's longest event-loop stall.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import load
from bench._stalls import Phases, longest_by_phase, longest_gc, read_stalls, worst
from meeting.join_cards import issue_cards
from server.datadir import DataDir
from server.loop_monitor import ENVIRONMENT as LOOP_MONITOR
from server.record_reader import load_record, read_record
from tally.meeting_file import parse_meeting_text
from tally.model import Meeting
from testkit import LocalCluster, RedisServer, ServerProcess

MINUTE = 60.0  # every meeting's vote lies within it
CLOSE_WAIT = 20.0  # seconds after its window a meeting waits for its last ballot before closing


@dataclass
class Hosted:
    """One meeting of the process: all the bench needs is its path prefix and its data."""

    id: str
    meeting: Meeting
    data: DataDir
    prefix: str  # "/m/<id>"
    phones: list[int] = field(default_factory=list)  # global phone indices
    round_id: int = 0
    result: dict[str, Any] = field(default_factory=dict)

    def ws_url(self, port: int) -> str:
        return f"ws://127.0.0.1:{port}{self.prefix}/ws"


def meeting_ids(count: int) -> list[str]:
    return [f"m{n:02d}" for n in range(1, count + 1)]


def vote_windows(count: int, window: float, minute: float = MINUTE) -> list[float]:
    """Each meeting's start offset: spread evenly so that the last window ends at `minute`."""
    if count == 1:
        return [0.0]
    room = max(0.0, minute - window)
    return [room * n / (count - 1) for n in range(count)]


class Storage:
    """One Redis or a local cluster; its CPU and a client to read the records with."""

    def __init__(self, workdir: Path, cluster: bool) -> None:
        self.cluster = LocalCluster(workdir / "cluster").start() if cluster else None
        self.redis = None if cluster else RedisServer(workdir / "redis").start()

    @property
    def env(self) -> dict[str, str]:
        if self.cluster is not None:
            return {"REDIS_CLUSTER_URLS": self.cluster.urls}
        assert self.redis is not None
        return {"REDIS_URL": self.redis.url}

    def cpu(self) -> float:
        if self.cluster is not None:
            pids = [n.process.pid for n in self.cluster.nodes if n.process]
        else:
            assert self.redis is not None and self.redis.process is not None
            pids = [self.redis.process.pid]
        return load.cpu_seconds(load.psutil.Process(pid) for pid in pids)

    def record(self, hosted: Hosted) -> Any:
        if self.cluster is None:
            assert self.redis is not None
            return load_record(hosted.meeting, hosted.data.root, self.redis.url)
        client = self.cluster.client()
        try:
            return read_record(hosted.meeting, client)
        finally:
            client.close()

    def stop(self) -> None:
        if self.cluster is not None:
            self.cluster.stop()
        if self.redis is not None:
            self.redis.kill()


def write_meetings(directory: Path, ids: list[str], phones: int, reporters: int) -> list[Meeting]:
    directory.mkdir(parents=True, exist_ok=True)
    found = []
    for mid in ids:  # the title names the meeting: its Redis keys follow from title and date
        text = load.meeting_text(f"压力测试会议 {mid}", phones, reporters)
        (directory / f"{mid}.toml").write_text(text, encoding="utf-8")
        found.append(parse_meeting_text(text))
    return found


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="pingyi-meetings-"))
    storage = Storage(workdir, args.cluster)
    server: ServerProcess | None = None
    try:
        ids = meeting_ids(args.meetings)
        meetings = write_meetings(workdir / "meetings", ids, args.phones, args.reporters)
        stall_file = workdir / "stalls.txt"
        server = ServerProcess(
            workdir / "meetings" / f"{ids[0]}.toml",
            workdir / "data",
            meetings=workdir / "meetings",
            env={**storage.env, LOOP_MONITOR: str(stall_file)},
        ).start()
        hosted = [
            Hosted(mid, m, DataDir(workdir / "data" / "meetings" / mid), f"/m/{mid}")
            for mid, m in zip(ids, meetings, strict=True)
        ]
        run_info = await _vote(args, server, hosted, storage, stall_file)
        run_info["load"] = args.load
        return run_info
    finally:
        if server is not None:
            server.stop()
        storage.stop()
        shutil.rmtree(workdir, ignore_errors=True)


async def _vote(
    args: argparse.Namespace,
    server: ServerProcess,
    hosted: list[Hosted],
    storage: Storage,
    stall_file: Path,
) -> dict[str, Any]:
    slices: list[tuple[int, str, str]] = []
    for h in hosted:
        for card in issue_cards(h.data.card_secret(), h.meeting)[: args.phones]:
            h.phones.append(len(slices))
            slices.append((len(slices), card.token, h.ws_url(server.port)))
    owner = {index: h for h in hosted for index in h.phones}
    generators = load.Generators(slices, args.generators, args.open_files)
    consoles: list[load.Console] = []
    phases = Phases()
    try:
        chairs, screens = [], []
        for h in hosted:
            url = h.ws_url(server.port)
            chairs.append(await load.Console.open(url, role="chair", key=h.data.chair_key()))
            screens.append(await load.Console.open(url, role="screen"))
        consoles += chairs + screens
        rss_before = load.psutil.Process(server.process.pid).memory_info().rss  # type: ignore[union-attr]
        total = len(slices)
        print(f"[meetings] joining {total} phones to {len(hosted)} meetings in one process…")
        phases.begin("join")
        joined = await load.join_all(generators, args.join_concurrency)
        print(f"[meetings] {len(joined['times'])} joined, {len(joined['failures'])} failed")
        await asyncio.sleep(2.0)
        phases.begin("open")
        opened = 0
        for chair in chairs:
            await chair.chair("start")
            _, reply = await chair.chair("open")
            opened = max(opened, reply["v"])
        for h, chair in zip(hosted, chairs, strict=True):
            _, view = await chair.view_where(
                lambda v: (v.get("round") or {}).get("status") == "open"
            )
            h.round_id = view["round"]["id"]
        await load.wait_seen(generators, opened, len(joined["times"]))
        rng = random.Random(7)
        start = time.time() + 1.0
        offsets = vote_windows(len(hosted), args.vote_window)
        schedule: dict[int, float] = {}
        for h, offset in zip(hosted, offsets, strict=True):
            for index in h.phones:
                schedule[index] = start + offset + rng.uniform(0, args.vote_window)
        round_ids = {h.ws_url(server.port): h.round_id for h in hosted}
        print(
            f"[meetings] {len(schedule)} ballots within {MINUTE:.0f} s, each meeting's in {args.vote_window:.0f} s…"
        )
        load.phones_mod.collect_between_measurements()
        cpu_before, storage_before = server_cpu(server), storage.cpu()
        phases.begin("vote")
        ballots_task = asyncio.create_task(
            generators.ask(
                "ballots",
                {
                    "schedule": schedule,
                    "round_id": hosted[0].round_id,
                    "round_ids": round_ids,
                    "reporters": [r.id for r in hosted[0].meeting.reporters],
                    "grades": list(hosted[0].meeting.rules.grades),
                },
            )
        )
        closers = [
            _close_when_in(h, chair, screen, start + offset + args.vote_window)
            for h, chair, screen, offset in zip(hosted, chairs, screens, offsets, strict=True)
        ]
        await asyncio.gather(*closers)
        sent = [b for part in await ballots_task for b in part]
        phases.begin("after")
        await asyncio.sleep(load.AFTER_REVEAL)
        phases.begin("end")
        accepted = sum(1 for b in sent if b[2] == "ok")
        summary = load.summarise_ballots(sent)
        summary["cpu_per_ballot"] = (server_cpu(server) - cpu_before) / max(1, accepted)
        summary["redis_cpu_per_ballot"] = (storage.cpu() - storage_before) / max(1, accepted)
        receipts = {h.id: [] for h in hosted}  # type: dict[str, list[str]]
        for b in sent:
            if b[2] == "ok":
                receipts[owner[b[4]].id].append(b[3])
        rss_after = load.psutil.Process(server.process.pid).memory_info().rss  # type: ignore[union-attr]
        for console in consoles:
            await console.close()
        await generators.close()
        for h in hosted:
            h.result["verify"] = verify(storage, h, receipts[h.id])
        stalls = read_stalls(stall_file)
        return {
            "meetings": len(hosted),
            "phones": args.phones,
            "reporters": args.reporters,
            "cluster": args.cluster,
            "vote_window": args.vote_window,
            "join": load.pcts(joined["times"])
            | {"connected": len(joined["times"]), "failed": len(joined["failures"])},
            "ballots": {k: v for k, v in summary.items() if k != "receipts"},
            "close_to_result": [h.result.get("close_to_result", float("nan")) for h in hosted],
            "close_to_ok": [h.result.get("close_to_ok", float("nan")) for h in hosted],
            "exactly_once": all(h.result["verify"]["exactly_once"] for h in hosted),
            "verify": {h.id: h.result["verify"] for h in hosted},
            "stalls": longest_by_phase(stalls, phases.starts),
            "busy": longest_by_phase(stalls, phases.starts, kind="busy"),
            "worst_stalls": worst(stalls, phases.starts),
            "gc": longest_by_phase(stalls, phases.starts, kind="gc"),
            "phases": phases.starts,
            "longest_gc": longest_gc(stalls, phases.starts[0][1]),
            "rss_per_phone": (rss_after - rss_before) / max(1, len(joined["times"])),
        }
    finally:
        for console in consoles:
            await console.close()
        await generators.close()


async def _close_when_in(
    h: Hosted, chair: load.Console, screen: load.Console, window_end: float
) -> None:
    """Closes and reveals the meeting once its projector counts every phone's ballot (or
    `CLOSE_WAIT` after its window, whatever came in); notes close → result."""
    await asyncio.sleep(max(0.0, window_end - time.time()))
    expected = len(h.phones)
    try:
        await asyncio.wait_for(
            screen.view_where(lambda v: (v.get("turnout") or {}).get("cast", 0) >= expected),
            CLOSE_WAIT,
        )
    except TimeoutError:
        print(f"  warning: meeting {h.id}: not every ballot in {CLOSE_WAIT:.0f} s after its window")
    closed_at, _ = await chair.chair("close")
    revealed_at, _ = await chair.chair("reveal")
    at, _ = await screen.view_where(lambda v: v.get("result") is not None, closed_at)
    h.result["close_to_result"] = at - closed_at
    h.result["close_to_ok"] = revealed_at - closed_at


def verify(storage: Storage, h: Hosted, receipts: list[str]) -> dict[str, Any]:
    record = storage.record(h)
    stored = load.collections.Counter(b.id for b in record.ballots)
    receipted = load.collections.Counter(receipts)
    missing = [r for r in receipted if stored[r] == 0]
    doubled = [r for r, n in stored.items() if n > 1] + [r for r, n in receipted.items() if n > 1]
    return {
        "receipts": len(receipts),
        "stored": len(record.ballots),
        "missing": len(missing),
        "doubled": len(doubled),
        "unreceipted": len([r for r in stored if r not in receipted]),
        "exactly_once": not missing and not doubled,
    }


def server_cpu(server: ServerProcess) -> float:
    assert server.process is not None
    return load.cpu_seconds([load.psutil.Process(server.process.pid)])


# ---- the report --------------------------------------------------------------------------

SECTION = "## Many meetings at once"
RUNS_MARK = re.compile(r"<!-- meetings-runs: (.*?) -->", re.DOTALL)


def storage_label(run: dict[str, Any]) -> str:
    return "Redis Cluster, 3 primaries" if run["cluster"] else "one Redis"


def run_label(run: dict[str, Any]) -> str:
    return f"{run['meetings']} × {run['phones']:,} phones, {storage_label(run)}"


def rows(run: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(measure, figure, target) for one run."""
    b, closes = run["ballots"], run["close_to_result"]
    oks = run["close_to_ok"]
    stall_phases = ("join", "open", "vote", "after")
    return [
        (
            "phones connected (all meetings)",
            f"{run['join']['connected']:,} ({run['join']['failed']} failed)",
            "",
        ),
        ("join: connect + hello → welcome, p50 / p95 / p99", load.trio(run["join"]), ""),
        ("ballots accepted", f"{b['accepted']:,} of {b['sent']:,}", "all"),
        ("first cast → last receipt (all meetings)", load.ms(b["span"]), "within the minute"),
        ("accept latency p50 / p95 / p99", load.trio(b["latency"]), "p99 < 100 ms"),
        (
            f"close → result on its projector, median / worst of {len(closes)} meetings",
            f"{load.ms(load.percentile(closes, 50))} / {load.ms(max(closes))}",
            "< 300 ms",
        ),
        (
            "… of which close → `ok` (tally stored), median / worst",
            f"{load.ms(load.percentile(oks, 50))} / {load.ms(max(oks))}",
            "",
        ),
        *(
            (
                f"longest event-loop stall: {phase} (wall / the loop's own CPU)",
                f"{load.stall_ms(run['stalls'].get(phase, math.nan))} / "
                f"{load.stall_ms(run['busy'].get(phase, math.nan))}",
                "< 50 ms",
            )
            for phase in stall_phases
        ),
        ("server RSS per idle phone", f"{run['rss_per_phone'] / 1024:,.1f} KiB", ""),
        (
            "server CPU per ballot (over the whole minute)",
            f"{b['cpu_per_ballot'] * 1e6:,.0f} µs",
            "",
        ),
        ("Redis CPU per ballot (every node)", f"{b['redis_cpu_per_ballot'] * 1e6:,.0f} µs", ""),
        (
            "every receipted ballot counted exactly once, in every meeting",
            "yes" if run["exactly_once"] else "NO",
            "yes",
        ),
    ]


def print_table(run: dict[str, Any]) -> None:
    print(run_label(run))
    for measure, figure, target in rows(run):
        print(f"  {measure:<66} {figure:>26}   {target}")


NOTES_MARK = re.compile(r"^### What it shows\n.*?(?=^<!-- meetings-runs|\Z)", re.M | re.S)


def section(runs: list[dict[str, Any]], notes: str = "") -> str:
    columns = [rows(run) for run in runs]
    head = ["measure", *(run_label(r) for r in runs), "target"]
    lines = [
        SECTION,
        "",
        "`bench/load.py --meetings N`: one `pingyi serve --meetings DIR` process hosts N",
        "meetings (each under `/m/<id>/`), on one Redis or on a local Redis Cluster of three",
        "primaries (`--cluster`, `appendfsync always` on every node); every meeting has",
        "`--phones` phones. All join, every chair opens its vote, then each meeting's phones vote",
        "within its own window, the windows spread over one minute, and each chair closes and",
        "reveals as soon as its projector counts every ballot, while other meetings still vote.",
        "Server, Redis and load generators share the machine.",
        "",
        "| " + " | ".join(head) + " |",
        "|---" + "|---:" * len(runs) + "|---|",
    ]
    for n, (measure, _, target) in enumerate(columns[0]):
        figures = [col[n][1] for col in columns]
        lines.append("| " + " | ".join([measure, *figures, target]) + " |")
    lines += ["", f"Machine: {runs[-1]['machine']}.  "]
    lines += [
        f"Command: `{r['command']}` (load average {r['load']:.1f} at its start)  " for r in runs
    ]
    lines += ["", *([notes, ""] if notes else [])]
    lines += [f"<!-- meetings-runs: {json.dumps(runs, ensure_ascii=False)} -->", ""]
    return "\n".join(lines)


def write_doc(run: dict[str, Any]) -> None:
    """Rewrites this benchmark's own section of docs/benchmarks.md (one column per storage)."""
    current = load.DOC.read_text(encoding="utf-8") if load.DOC.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    old = pattern.search(current)
    stored = RUNS_MARK.search(old.group(0)) if old else None
    runs = [r for r in (json.loads(stored.group(1)) if stored else []) if r["key"] != run["key"]]
    runs = sorted([*runs, compact(run)], key=lambda r: (r["cluster"], r["meetings"]))
    notes_found = NOTES_MARK.search(old.group(0)) if old else None
    text = section(runs, notes_found.group(0).strip() if notes_found else "")
    if old:
        updated = current[: old.start()] + text + "\n" + current[old.end() :]
    else:
        updated = current.rstrip("\n") + "\n\n" + text
    load.DOC.write_text(updated.rstrip("\n") + "\n", encoding="utf-8")


def compact(run: dict[str, Any]) -> dict[str, Any]:
    """What the table needs, rounded (the per-meeting records stay out of the page)."""
    kept = {k: v for k, v in run.items() if k not in ("verify", "phases", "worst_stalls")}
    return load.compact(kept)  # type: ignore[no-any-return]


def main(args: argparse.Namespace, command: str) -> int:
    args.load = os.getloadavg()[0]
    run = asyncio.run(_run(args))
    run |= {
        "command": command,
        "machine": load.machine(),
        "key": f"{args.meetings}x{args.phones}-{'cluster' if args.cluster else 'redis'}",
    }
    print_table(run)
    print(f"  the longest stalls: {run['worst_stalls']}")
    if args.json:
        args.json.write_text(json.dumps(run, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.record:
        write_doc(run)
        print(f"updated {load.DOC.relative_to(load.ROOT)}")
    return 0 if run["exactly_once"] else 1

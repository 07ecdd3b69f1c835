"""Times the tally engine on synthetic seeded meetings; `--record` writes the figures down.

    .venv/bin/python -m bench.tally_bench            # prints the table
    .venv/bin/python -m bench.tally_bench --record   # ... and writes it into docs/benchmarks.md

Only `tally()` is timed (the ballots are built beforehand), best of a few runs so that a busy
neighbour on the machine does not count against the engine.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import time
from fractions import Fraction
from pathlib import Path

from tally.engine import tally
from tally.model import ABSTAIN, SPOILED, Ballot, Group, Meeting, Reporter, Rules

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Tally engine"
CASES = ((30, 5_000, 25), (200, 50_000, 3))  # reporters, ballots, runs
GROUPS = (
    Group("leaders", "县级领导", 10_000, Fraction(2, 5)),
    Group("depts", "部门负责人", 20_000, Fraction(3, 10)),
    Group("grassroots", "基层代表", 30_000, Fraction(3, 10)),
)
# Mostly good marks, some blanks and spoiled ones, as on a real day.
POOL = ["好"] * 50 + ["较好"] * 30 + ["一般"] * 12 + ["差"] * 5 + [ABSTAIN] * 2 + [SPOILED]


def synthetic(reporters: int, ballots: int, seed: int = 2026) -> tuple[Meeting, list[Ballot]]:
    rng = random.Random(seed)
    people = tuple(
        Reporter(f"r{i:03d}", f"述职人{i}", f"单位{i}", flags=("问责",) if i == 7 else ())
        for i in range(reporters)
    )
    rules = Rules(quota=(("好", Fraction(3, 10)), ("较好", Fraction(1, 2))), quorum=Fraction(4, 5))
    meeting = Meeting("基准测试", "2026-12-28", people, GROUPS, rules)
    ids = [p.id for p in people]
    group_ids = [g.id for g in GROUPS]
    made = [
        Ballot(
            f"{n:06d}",
            group_ids[n % 3],
            dict(zip(ids, rng.choices(POOL, k=reporters), strict=True)),
        )
        for n in range(ballots)
    ]
    return meeting, made


def best_of(meeting: Meeting, ballots: list[Ballot], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        tally(meeting, ballots)
        times.append(time.perf_counter() - start)
    return min(times)


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return platform.processor() or "unknown"
    found = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return found.group(1).strip() if found else platform.machine()


def section(rows: list[tuple[int, int, int, float]]) -> str:
    lines = [
        SECTION,
        "",
        "`tally()` alone (ballots already in memory), best of N runs; synthetic ballots with a",
        "fixed seed, three weighted groups, two quotas, one override. Target for 30 × 5,000:",
        "well under 100 ms.",
        "",
        "| reporters | ballots | marks | best of | time |",
        "|---:|---:|---:|---:|---:|",
        *(
            f"| {r} | {b:,} | {r * b:,} | {runs} | {seconds * 1000:,.1f} ms |"
            for r, b, runs, seconds in rows
        ),
        "",
        f"Machine: {os.cpu_count()} cores (`nproc`), {cpu_model()}, "
        f"Python {platform.python_version()}; load average {os.getloadavg()[0]:.1f} when measured"
        " (the machine is shared, so a busy minute shows up here).  ",
        "Command: `python -m bench.tally_bench`",
        "",
    ]
    return "\n".join(lines)


def write(text: str) -> None:
    current = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    # Replace only our own section; other sections of the file belong to other benchmarks.
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(current):
        updated = pattern.sub(lambda _: text + "\n", current, count=1)
    else:
        updated = current.rstrip("\n") + "\n\n" + text
    DOC.write_text(updated.rstrip("\n") + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--record", action="store_true", help="write the figures into docs/benchmarks.md"
    )
    args = parser.parse_args()
    rows = []
    for reporters, ballots, runs in CASES:
        meeting, made = synthetic(reporters, ballots)
        seconds = best_of(meeting, made, runs)
        rows.append((reporters, ballots, runs, seconds))
        print(
            f"{reporters:>4} reporters × {ballots:>6,} ballots: {seconds * 1000:8.1f} ms (best of {runs})"
        )
    if args.record:
        write(section(rows))
        print(f"updated {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

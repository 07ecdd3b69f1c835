"""Times the tally engine on synthetic seeded meetings; `--record` writes the figures down.

    .venv/bin/python -m bench.tally_bench            # prints the table
    .venv/bin/python -m bench.tally_bench --record   # ... and writes it into docs/benchmarks.md

Only `tally()` is timed (the ballots are built beforehand), best of a few runs so that a busy
neighbour on the machine does not count against the engine. The item cases time `appraise()`
(tally/appraisal.py) on a 三评-like meeting: three constituencies, one answering a grade and
the 28-item checklist of examples/items/村书记28项.toml, one the grade, one the items.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

from tally.appraisal import appraise
from tally.engine import tally
from tally.meeting_file import parse_meeting_text
from tally.model import ABSTAIN, SPOILED, Ballot, Group, Meeting, Reporter, Rules

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Tally engine"
CASES = ((30, 5_000, 25), (200, 50_000, 3))  # reporters, ballots, runs
ITEM_CASES = ((20, 300, 10), (30, 5_000, 3))  # reporters, ballots, runs; 28 items each
ITEMS = ROOT / "examples" / "items"
GROUPS = (
    Group("leaders", "县级领导", 50_000, Fraction(2, 5)),  # seats: at least the ballots
    Group("depts", "部门负责人", 50_000, Fraction(3, 10)),
    Group("grassroots", "基层代表", 50_000, Fraction(3, 10)),
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


ITEM_MEETING = """
[meeting]
title = "逐项测评基准"
date = "2026-12-28"

[[groups]]
id = "town"
name = "镇机关干部"
seats = {seats}
weight = 0.4
form = "both"

[[groups]]
id = "firms"
name = "企业代表"
seats = {seats}
weight = 0.2
form = "grade"

[[groups]]
id = "rural"
name = "农村党员群众代表"
seats = {seats}
weight = 0.4
form = "items"

[[forms]]
id = "grade"
name = "等次"
kind = "grade"

[[forms]]
id = "items"
name = "能不能"
kind = "items"
items = "村书记28项.toml"
decisive_grade = "差"

[[forms]]
id = "both"
name = "等次和能不能"
kind = "both"
items = "村书记28项.toml"
decisive_grade = "差"
grade_weight = 0.3
items_weight = 0.7

[rules]
quorum = 0
"""
ANSWERS = ["能"] * 80 + ["不能"] * 15 + [ABSTAIN] * 4 + [SPOILED]


def synthetic_items(reporters: int, ballots: int, seed: int = 2026) -> tuple[Meeting, list[Ballot]]:
    """A meeting whose ballots carry 28 items per reporter (two groups of three)."""
    people = "".join(
        f'\n[[reporters]]\nid = "r{i:03d}"\nname = "述职人{i}"\norg = "村{i}"\n'
        for i in range(reporters)
    )
    text = ITEM_MEETING.format(seats=ballots) + people
    meeting = parse_meeting_text(text, read_items=lambda name: (ITEMS / name).read_text("utf-8"))
    rng = random.Random(seed)
    ids = [p.id for p in meeting.reporters]
    checklist = meeting.appraisal.form("items").checklist
    assert checklist is not None
    items = [item.id for item in checklist.items]
    made = []
    for n in range(ballots):
        group = ("town", "firms", "rural")[n % 3]
        marks = dict(zip(ids, rng.choices(POOL, k=reporters), strict=True))
        answers = {
            rid: dict(zip(items, rng.choices(ANSWERS, k=len(items)), strict=True)) for rid in ids
        }
        made.append(
            Ballot(
                f"{n:06d}",
                group,
                marks if group != "rural" else {},
                items=answers if group != "firms" else {},
            )
        )
    return meeting, made


def best_of(
    meeting: Meeting,
    ballots: list[Ballot],
    runs: int,
    count: Callable[[Meeting, list[Ballot]], object] = tally,
) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        count(meeting, ballots)
        times.append(time.perf_counter() - start)
    return min(times)


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return platform.processor() or "unknown"
    found = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return found.group(1).strip() if found else platform.machine()


def section(
    rows: list[tuple[int, int, int, float]], item_rows: list[tuple[int, int, int, float]]
) -> str:
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
        "Item checklists (issue 17): `appraise()` on ballots whose reporters each carry the 28",
        "items of `examples/items/村书记28项.toml`, three constituencies (grade and items, grade",
        "only, items only), the composite over the vote. No target is set; the close of a",
        "5,000-voter 三评 meeting counts about 2.8 million answers in a worker thread.",
        "",
        "| reporters | ballots | items per reporter | answers | best of | time |",
        "|---:|---:|---:|---:|---:|---:|",
        *(
            f"| {r} | {b:,} | 28 | {r * b * 28 * 2 // 3:,} | {runs} | {seconds * 1000:,.1f} ms |"
            for r, b, runs, seconds in item_rows
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
    item_rows = []
    for reporters, ballots, runs in ITEM_CASES:
        meeting, made = synthetic_items(reporters, ballots)
        seconds = best_of(meeting, made, runs, appraise)
        item_rows.append((reporters, ballots, runs, seconds))
        print(
            f"{reporters:>4} reporters × {ballots:>6,} ballots × 28 items: "
            f"{seconds * 1000:8.1f} ms (best of {runs})"
        )
    if args.record:
        write(section(rows, item_rows))
        print(f"updated {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

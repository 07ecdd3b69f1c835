"""Writes examples/demo-ballots.csv: seeded, so the file is the same on every run.

The profiles are chosen so that the demo shows every rule at least once: more 好 than the
30% quota allows (a quota demotion), the 问责 override, and a reporter above 10% 差票.
Run from the repository root: python3 examples/make_demo_ballots.py
"""

from __future__ import annotations

import random
from pathlib import Path

from tally.ballot_csv import format_ballots_csv
from tally.engine import tally
from tally.meeting_file import parse_meeting_text
from tally.model import ABSTAIN, SPOILED, Ballot

HERE = Path(__file__).parent
SEED = 2026
TURNOUT = {"leaders": 13, "depts": 27, "grassroots": 32}  # of 15 / 30 / 35 seats
PROFILES = {  # chances of 好 / 较好 / 一般 / 差
    "r01": (0.86, 0.12, 0.02, 0.00),
    "r02": (0.82, 0.14, 0.04, 0.00),
    "r03": (0.80, 0.15, 0.05, 0.00),
    "r04": (0.72, 0.22, 0.06, 0.00),
    "r05": (0.70, 0.25, 0.05, 0.00),
    "r06": (0.40, 0.45, 0.15, 0.00),
    "r07": (0.30, 0.50, 0.18, 0.02),
    "r08": (0.25, 0.45, 0.25, 0.05),
    "r09": (0.15, 0.35, 0.30, 0.20),
    "r10": (0.45, 0.40, 0.13, 0.02),
}


def make() -> list[Ballot]:
    rng = random.Random(SEED)
    grades = ("好", "较好", "一般", "差")
    ballots = []
    number = 0
    for group, count in TURNOUT.items():
        for _ in range(count):
            number += 1
            marks = {}
            for rid, weights in PROFILES.items():
                roll = rng.random()
                if roll < 0.02:
                    marks[rid] = ABSTAIN
                elif roll < 0.03:
                    marks[rid] = SPOILED
                else:
                    marks[rid] = rng.choices(grades, weights)[0]
            ballots.append(Ballot(f"{number:03d}", group, marks))
    return ballots


def main() -> None:
    meeting = parse_meeting_text((HERE / "demo-meeting.toml").read_text(encoding="utf-8"))
    ballots = make()
    result = tally(meeting, ballots)
    rules = {step.rule for r in result.reporters for step in r.steps}
    assert {"base", "poor_share", "override", "quota"} <= rules, rules
    assert not result.undecided and result.valid
    (HERE / "demo-ballots.csv").write_text(format_ballots_csv(meeting, ballots), encoding="utf-8")


if __name__ == "__main__":
    main()

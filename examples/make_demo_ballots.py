"""Writes examples/demo-ballots.csv and examples/named-ballots.csv: seeded, so the files are
the same on every run.

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
from tally.model import ABSTAIN, SPOILED, Ballot, Meeting

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


# named-meeting.toml (部分实名 and 分管): the 党组 members vote by name, every ballot is cast
NAMED_TURNOUT = {"dangzu": 4, "cadres": 15, "staff": 22}  # of 4 / 16 / 24 seats
NAMED_PROFILES = {
    "u01": (0.70, 0.25, 0.05, 0.00),
    "u02": (0.55, 0.35, 0.10, 0.00),
    "u03": (0.30, 0.45, 0.20, 0.05),
    "u04": (0.50, 0.40, 0.10, 0.00),
}


def make_named(meeting: Meeting) -> list[Ballot]:
    rng = random.Random(SEED)
    grades = ("好", "较好", "一般", "差")
    ballots = []
    for group, count in NAMED_TURNOUT.items():
        members = meeting.group(group).members
        for seat in range(count):
            marks = {
                rid: rng.choices(grades, weights)[0] for rid, weights in NAMED_PROFILES.items()
            }
            voter = members[seat].id if members else ""
            ballots.append(Ballot(f"{len(ballots) + 1:03d}", group, marks, voter=voter))
    return ballots


def main() -> None:
    meeting = parse_meeting_text((HERE / "demo-meeting.toml").read_text(encoding="utf-8"))
    ballots = make()
    result = tally(meeting, ballots)
    rules = {step.rule for r in result.reporters for step in r.steps}
    assert {"base", "poor_share", "override", "quota"} <= rules, rules
    assert not result.undecided and result.valid
    (HERE / "demo-ballots.csv").write_text(format_ballots_csv(meeting, ballots), encoding="utf-8")
    named = parse_meeting_text((HERE / "named-meeting.toml").read_text(encoding="utf-8"))
    ballots = make_named(named)
    steps = {step.rule for r in tally(named, ballots).reporters for step in r.steps}
    assert "supervision" in steps, steps
    (HERE / "named-ballots.csv").write_text(format_ballots_csv(named, ballots), encoding="utf-8")


if __name__ == "__main__":
    main()

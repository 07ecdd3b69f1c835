"""Counting marks: the one part of a tally that grows with the number of ballots.

`count_ballots` counts whole ballots per group: how many came on paper and how many were
spoiled as a whole. It also refuses ballots the engine cannot count (unknown group or reporter, a mark that is
not a grade, a blank or 废, a repeated ballot id), naming the ballot.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from tally.errors import InputError
from tally.model import ABSTAIN, SPOILED, Ballot, Meeting


def count_marks(
    meeting: Meeting, ballots: Iterable[Ballot]
) -> tuple[dict[str, dict[str, Counter]], dict[str, int]]:
    """Counts marks per reporter and group: {reporter: {group: Counter(mark)}}, and ballots
    per group.

    Ballots are bucketed by group and by the order of their reporter ids (normally one bucket
    per group, or per round with voting = "each"); within a bucket, zip(*values) turns rows
    into one column per reporter and Counter counts each column in C. This touches every mark
    once, which matters for a season's worth of ballots (docs/benchmarks.md has the figures).
    """
    groups = {g.id: 0 for g in meeting.groups}
    out: dict[str, dict[str, Counter[str]]] = {
        r.id: {gid: Counter() for gid in groups} for r in meeting.reporters
    }
    buckets: dict[tuple[str, tuple[str, ...]], list[dict[str, str]]] = {}
    seen: set[str] = set()
    kept = []
    for ballot in ballots:
        if ballot.group not in groups:
            known = "、".join(groups)
            raise InputError(f"选票{ballot.id}", f"分组“{ballot.group}”不存在；应为：{known}")
        if ballot.id in seen:
            raise InputError(f"选票{ballot.id}", "选票编号重复")
        seen.add(ballot.id)
        groups[ballot.group] += 1
        kept.append(ballot)
        key = (ballot.group, tuple(ballot.marks))
        bucket = buckets.get(key)
        if bucket is None:
            buckets[key] = [ballot.marks]
        else:
            bucket.append(ballot.marks)

    for (gid, rids), rows in buckets.items():
        for rid in rids:
            if rid not in out:
                _unknown_reporter(kept, rid)
        if len(rows) > 4:
            for rid, column in zip(rids, zip(*map(dict.values, rows), strict=True), strict=True):
                out[rid][gid].update(column)
        else:  # a few odd ballots: not worth building columns
            for row in rows:
                for rid, mark in row.items():
                    out[rid][gid][mark] += 1

    allowed = {*meeting.rules.grades, ABSTAIN, SPOILED}
    for rid, per_group in out.items():
        for counter in per_group.values():
            if not counter.keys() <= allowed:
                _bad_mark(meeting, kept, rid, allowed)
    return out, groups


def count_ballots(
    meeting: Meeting, ballots: Iterable[Ballot]
) -> tuple[dict[str, int], dict[str, int]]:
    """Counts whole ballots per group: the paper ones (纸质), and the ones spoiled as a whole
    (整张作废: at least one mark and every mark 废). Ballots `count_marks` has accepted."""
    paper = {g.id: 0 for g in meeting.groups}
    spoiled = dict(paper)
    for ballot in ballots:
        if ballot.paper:
            paper[ballot.group] += 1
        if ballot.spoiled_as_a_whole:
            spoiled[ballot.group] += 1
    return paper, spoiled


def _unknown_reporter(ballots: list[Ballot], rid: str) -> None:
    ballot = next(b for b in ballots if rid in b.marks)
    raise InputError(f"选票{ballot.id}", f"述职人“{rid}”不在本次会议中")


def _bad_mark(meeting: Meeting, ballots: list[Ballot], rid: str, allowed: set[str]) -> None:
    # A reporter missing from a ballot reads as a blank here, which is allowed.
    ballot = next(b for b in ballots if b.marks.get(rid, ABSTAIN) not in allowed)
    expected = "、".join(meeting.rules.grades) + "、空白（弃权）或“废”"
    mark = ballot.marks[rid]
    raise InputError(f"选票{ballot.id} {rid}", f"无效的标记“{mark}”；应为：{expected}")

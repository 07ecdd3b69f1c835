"""Counting marks: the one part of a tally that grows with the number of ballots.

`count_ballots` counts whole ballots per group: how many came on paper and how many were
spoiled as a whole. It also refuses ballots the engine cannot count (unknown group or reporter, a mark that is
not a grade, a blank or 废, a repeated ballot id, a voter who is not a member of the ballot's
named group or who marked one reporter twice), naming the ballot.

`supervisor_marks` picks out the marks the supervising leaders (分管领导) gave the reporters
they supervise, which the engine counts in a constituency of their own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from tally.errors import InputError
from tally.model import ABSTAIN, SPOILED, Ballot, Group, Meeting


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
    # 部分实名: a named group's member ids; the voters' (voter, reporter) marks so far.
    named = {g.id: g for g in meeting.groups if g.named}
    marked: dict[tuple[str, str], str] = {}
    for ballot in ballots:
        if ballot.group not in groups:
            known = "、".join(groups)
            raise InputError(f"选票{ballot.id}", f"分组“{ballot.group}”不存在；应为：{known}")
        if ballot.id in seen:
            raise InputError(f"选票{ballot.id}", "选票编号重复")
        seen.add(ballot.id)
        if ballot.voter or ballot.group in named:  # never true for an anonymous meeting
            _check_voter(meeting, named, ballot, marked)
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


def supervisor_marks(meeting: Meeting, ballots: Iterable[Ballot]) -> dict[str, dict[str, Counter]]:
    """The marks of the supervising leaders on the reporters they supervise (分管):
    {reporter: {the voter's group: Counter(mark)}}. Ballots `count_marks` has accepted."""
    pairs = {
        (member.id, rid)
        for group in meeting.groups
        for member in group.members
        for rid in member.supervises
    }
    out: dict[str, dict[str, Counter]] = {}
    for ballot in ballots:
        if not ballot.voter:
            continue
        for rid, mark in ballot.marks.items():
            if (ballot.voter, rid) in pairs:
                out.setdefault(rid, {}).setdefault(ballot.group, Counter())[mark] += 1
    return out


def _check_voter(
    meeting: Meeting,
    named: dict[str, Group],
    ballot: Ballot,
    marked: dict[tuple[str, str], str],
) -> None:
    """A named group's ballot is signed by one of its members, who marks each reporter once
    (with voting = "each" a voter has a ballot per round, so the check is per reporter); an
    anonymous group's ballot names nobody."""
    where = f"选票{ballot.id}"
    group = named.get(ballot.group)
    if group is None:
        name = meeting.group(ballot.group).name
        raise InputError(where, f"“{name}”为匿名分组，选票不应记录投票人（实际为“{ballot.voter}”）")
    members = [m.id for m in group.members]
    if ballot.voter not in members:
        raise InputError(
            where,
            f"“{group.name}”为实名分组，投票人“{ballot.voter}”不是其成员；应为：{'、'.join(members)}",
        )
    for rid in ballot.marks:
        earlier = marked.setdefault((ballot.voter, rid), ballot.id)
        if earlier != ballot.id:
            raise InputError(
                f"{where} {rid}",
                f"投票人“{ballot.voter}”已在选票{earlier}上评议过述职人“{rid}”；每人只能评议一次",
            )


def _unknown_reporter(ballots: list[Ballot], rid: str) -> None:
    ballot = next(b for b in ballots if rid in b.marks)
    raise InputError(f"选票{ballot.id}", f"述职人“{rid}”不在本次会议中")


def _bad_mark(meeting: Meeting, ballots: list[Ballot], rid: str, allowed: set[str]) -> None:
    # A reporter missing from a ballot reads as a blank here, which is allowed.
    ballot = next(b for b in ballots if b.marks.get(rid, ABSTAIN) not in allowed)
    expected = "、".join(meeting.rules.grades) + "、空白（弃权）或“废”"
    mark = ballot.marks[rid]
    raise InputError(f"选票{ballot.id} {rid}", f"无效的标记“{mark}”；应为：{expected}")

"""Properties of the engine over random small meetings (small, so that ties are common)."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from fractions import Fraction as F

from hypothesis import given, settings
from hypothesis import strategies as st

from tally.engine import ReporterResult, result_to_json, tally
from tally.model import ABSTAIN, SPOILED, Ballot, Group, Meeting, Reporter, Rules
from tally.report import format_table

GRADES = ("好", "较好", "一般", "差")
MARKS = st.sampled_from([*GRADES, ABSTAIN, SPOILED, None])  # None: not on this ballot
SHARES = st.sampled_from([F(0), F(1, 5), F(1, 3), F(1, 2), F(1)])
# No deadline: a slow example on a busy shared machine is not a failure of the engine.
PROPERTY = settings(max_examples=150, deadline=None)
ONE_GROUP = (Group("all", "全体", 30),)
# 倒排: none, a count (maybe more than the reporters) or a share.
BOTTOM = [
    (None, None),
    (1, None),
    (2, None),
    (7, None),
    (None, F(1, 10)),
    (None, F(1, 2)),
    (None, F(1)),
]
# Seats for every ballot drawn (up to 20, and one more): more ballots than seats is refused.
TWO_GROUPS = (Group("a", "县级领导", 21, F("0.4")), Group("b", "基层代表", 21, F("0.6")))


@st.composite
def meetings(draw: st.DrawFn) -> Meeting:
    n = draw(st.integers(1, 6))
    reporters = tuple(
        Reporter(f"r{i}", f"述职人{i}", "单位", flags=draw(st.sampled_from([(), (), ("问责",)])))
        for i in range(n)
    )
    quota_grades = draw(st.sets(st.sampled_from(GRADES[:-1])))
    count, share = draw(st.sampled_from(BOTTOM))
    rules = Rules(
        bottom_count=count,
        bottom_share=share,
        base=draw(st.sampled_from(["score", "share"])),
        share_threshold=draw(st.sampled_from([F(1, 2), F(3, 5), F(1)])),
        poor_share_limit=draw(st.sampled_from([F(0), F(1, 10), F(1, 4), F(1)])),
        poor_share_basis=draw(st.sampled_from(["valid", "cast"])),
        quorum=draw(st.sampled_from([F(0), F(1, 2)])),
        quota=tuple((g, draw(SHARES)) for g in GRADES if g in quota_grades),
    )
    groups = draw(st.sampled_from([ONE_GROUP, TWO_GROUPS]))
    return Meeting("测试", "2026-12-28", reporters, groups, rules)


@st.composite
def elections(draw: st.DrawFn) -> tuple[Meeting, list[Ballot]]:
    meeting = draw(meetings())
    group_ids = [g.id for g in meeting.groups]
    ballots = []
    for i in range(draw(st.integers(0, 20))):
        marks = {r.id: mark for r in meeting.reporters if (mark := draw(MARKS)) is not None}
        ballots.append(Ballot(f"b{i:03d}", draw(st.sampled_from(group_ids)), marks))
    return meeting, ballots


def rank_of(grade: str | None) -> int:
    return GRADES.index(grade) if grade is not None else -1


@PROPERTY
@given(elections(), st.randoms(use_true_random=False))
def test_ballot_order_never_matters(election: tuple, rng: random.Random) -> None:
    meeting, ballots = election
    shuffled = list(ballots)
    rng.shuffle(shuffled)
    assert result_to_json(tally(meeting, shuffled)) == result_to_json(tally(meeting, ballots))


@PROPERTY
@given(elections(), st.data())
def test_one_more_poor_vote_never_improves_a_final_grade(
    election: tuple, data: st.DataObject
) -> None:
    meeting, ballots = election
    before = tally(meeting, ballots)
    reporter = data.draw(st.sampled_from(meeting.reporters))
    group = data.draw(st.sampled_from([g.id for g in meeting.groups]))
    after = tally(meeting, [*ballots, Ballot("extra", group, {reporter.id: "差"})])
    old = next(r for r in before.reporters if r.reporter == reporter)
    new = next(r for r in after.reporters if r.reporter == reporter)
    if old.final_grade is not None:
        assert rank_of(new.final_grade) >= rank_of(old.final_grade)


@PROPERTY
@given(elections())
def test_no_quota_is_exceeded_unless_the_meeting_must_decide_a_tie(election: tuple) -> None:
    meeting, ballots = election
    result = result_to_json(tally(meeting, ballots))
    tied = {item["grade"] for item in result["undecided"]}
    for quota in result["quota"]:
        if quota["grade"] not in tied:
            assert len(quota["holders"]) <= quota["limit"]
    if not result["undecided"]:
        assert all(len(q["holders"]) <= q["limit"] for q in result["quota"])


@PROPERTY
@given(elections())
def test_counts_abstentions_and_spoiled_add_up_to_cast(election: tuple) -> None:
    meeting, ballots = election
    result = result_to_json(tally(meeting, ballots))
    for r in result["reporters"]:
        carried = sum(1 for b in ballots if r["id"] in b.marks)
        assert sum(r["counts"].values()) + r["abstain"] + r["invalid"] == r["cast"] == carried
        for grade in GRADES:
            assert sum(c[grade] for c in r["counts_by_group"].values()) == r["counts"][grade]
    assert result["quorum"]["cast"] == min(r["cast"] for r in result["reporters"])
    assert sum(g["cast"] for g in result["groups"]) == len(ballots)


@PROPERTY
@given(elections())
def test_nobody_moves_up_and_the_forced_stay_poor(election: tuple) -> None:
    meeting, ballots = election
    for r in tally(meeting, ballots).reporters:
        grades = [step.grade for step in r.steps if step.rule != "quorum" and step.grade]
        assert grades == sorted(grades, key=rank_of)
        if {"poor_share", "override"} & {step.rule for step in r.steps}:
            assert r.final_grade == "差"


@PROPERTY
@given(elections())
def test_quorum_only_marks_the_tally_invalid(election: tuple) -> None:
    meeting, ballots = election
    strict = replace(meeting, rules=replace(meeting.rules, quorum=F(1)))
    loose = replace(meeting, rules=replace(meeting.rules, quorum=F(0)))
    a, b = tally(strict, ballots), tally(loose, ballots)
    assert b.valid
    assert [r.final_grade for r in a.reporters] == [r.final_grade for r in b.reporters]


@PROPERTY
@given(elections())
def test_the_base_grade_is_the_best_grade_whose_cutoff_the_score_reaches(election: tuple) -> None:
    meeting, ballots = election
    rules = replace(meeting.rules, base="score")
    cutoffs = rules.score_cutoffs
    for r in tally(replace(meeting, rules=rules), ballots).reporters:
        if r.score is None:
            assert r.base_grade is None and r.best_share is None
            continue
        assert 0 <= r.score <= 100 and 0 <= r.best_share <= 1
        i = GRADES.index(r.base_grade)
        assert i == len(cutoffs) or r.score >= cutoffs[i]
        assert i == 0 or r.score < cutoffs[i - 1]


@PROPERTY
@given(elections())
def test_a_higher_ranking_key_never_gets_a_worse_rank(election: tuple) -> None:
    meeting, ballots = election
    ranked = [r for r in tally(meeting, ballots).reporters if r.rank is not None]

    def key(r: ReporterResult) -> tuple:
        return (-rank_of(r.final_grade), r.score, r.best_share, -r.counts["差"])

    for a in ranked:
        better = [b for b in ranked if key(b) > key(a)]
        assert a.rank == len(better) + 1


@PROPERTY
@given(elections())
def test_a_better_final_grade_never_ranks_below_a_worse_one(election: tuple) -> None:
    meeting, ballots = election
    ranked = [r for r in tally(meeting, ballots).reporters if r.rank is not None]
    for a in ranked:
        for b in ranked:
            if rank_of(a.final_grade) < rank_of(b.final_grade):
                assert a.rank < b.rank, (a.reporter.id, b.reporter.id)


@PROPERTY
@given(elections())
def test_the_json_survives_a_round_trip_and_prints_one_row_per_reporter(election: tuple) -> None:
    meeting, ballots = election
    result = result_to_json(tally(meeting, ballots))
    assert json.loads(json.dumps(result, ensure_ascii=False)) == result
    lines = format_table(result).splitlines()
    extra = len(result["quota"]) + len(result["undecided"]) + bool(result["bottom"])
    assert len(lines) == 5 + len(meeting.reporters) + extra
    for line, r in zip(lines[5:], result["reporters"], strict=False):
        assert line.split()[0] == (str(r["rank"]) if r["rank"] is not None else r["name"])


@PROPERTY
@given(elections())
def test_the_bottom_list_is_the_worst_ranked_with_ties_at_the_cut_whole(election: tuple) -> None:
    meeting, ballots = election
    result = tally(meeting, ballots)
    size = meeting.rules.bottom_size(len(meeting.reporters))
    assert result.bottom_size == size
    ranks = {r.reporter.id: r.rank for r in result.reporters if r.rank is not None}
    bottom = result.bottom
    assert set(bottom) <= set(ranks) and len(set(bottom)) == len(bottom)
    assert len(bottom) >= min(size, len(ranks))  # as many as asked for, when there are
    if not size:
        assert bottom == ()
        return
    listed = [ranks[rid] for rid in bottom]
    assert listed == sorted(listed, reverse=True)  # worst first
    others = [rank for rid, rank in ranks.items() if rid not in bottom]
    assert all(other < min(listed) for other in others)  # never a better one before a worse
    # Only a tie at the cut makes it longer: without the cut's rank, fewer than asked for.
    assert sum(rank > min(listed) for rank in listed) < size

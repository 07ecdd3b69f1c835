"""The rules that turn ballots into final grades (测评等次), each step explained in Chinese.

Every reason is worded in the meeting's own scale: its poor grade (`Rules.poor_grade`) names
the poor votes ("不合格票 3/20=15.0% > 10%"), never a hard-coded 差.

Counting is plain dict/Counter work over the ballots (it is the only part that scales with
the number of ballots); every comparison afterwards is on exact Fractions of the aggregated
counts, so a score of exactly 80 is 较好 and a 差 share of exactly 10% is not 差. Rounding
happens only in `result_to_json` (四舍五入, `round_half_up`, once from the exact value) and
in the human-readable reasons.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from math import floor, lcm

from tally.counting import count_ballots, count_marks, supervisor_marks
from tally.errors import InputError
from tally.model import (
    ABSTAIN,
    SPOILED,
    SUPERVISION_GROUP,
    Ballot,
    Group,
    Meeting,
    Reporter,
    Rules,
)
from tally.numbers import against, pct, pct_against, short


@dataclass(frozen=True)
class Step:
    """One applied rule: which, the grade it led to, and why (shown to the meeting)."""

    # "supervision" | "base" | "poor_share" | "override" | "quota" | "undecided" | "quorum"
    rule: str
    grade: str | None
    why: str


@dataclass(frozen=True)
class ReporterResult:
    reporter: Reporter
    cast: int  # ballots that carried this reporter
    counts: dict[str, int]  # grade -> votes, all groups pooled
    abstain: int
    invalid: int
    counts_by_group: dict[str, dict[str, int]]
    score: Fraction | None  # None: no votes at all
    best_share: Fraction | None  # weighted share of the best grade, the first tie-breaker
    poor_share: Fraction | None
    base_grade: str | None
    final_grade: str | None
    rank: int | None
    steps: tuple[Step, ...]
    # The score within each group (None: no votes there); `score` is their weighted mean over
    # the groups that voted, which is what a 监票人 recomputes by hand from the tally sheet.
    score_by_group: dict[str, Fraction | None] = field(default_factory=dict)
    poor_share_of: int | None = None  # the denominator of poor_share (valid votes or cast)

    @property
    def decided_by(self) -> str:
        # The quorum step never changes a grade, so it never "decides" one.
        deciding = [step for step in self.steps if step.rule != "quorum"]
        return deciding[-1].why if deciding else ""


@dataclass(frozen=True)
class Quorum:
    cast: int
    seats: int
    required: Fraction
    met: bool


@dataclass(frozen=True)
class GroupResult:
    """A voter group's ballots: returned (`cast`, 实到), by phone and on paper, and spoiled as
    a whole. `phone` and `paper` are None when no ballot at all is marked paper: then how the
    ballots came is not known (a ballot CSV without a `via` column, `tally.ballot_csv`)."""

    group: Group
    cast: int
    phone: int | None = None
    paper: int | None = None
    spoiled: int = 0


@dataclass(frozen=True)
class QuotaResult:
    grade: str
    limit: int
    holders: tuple[str, ...]


@dataclass(frozen=True)
class Undecided:
    grade: str | None
    reporters: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class TallyResult:
    valid: bool
    quorum: Quorum
    grades: tuple[str, ...]
    groups: tuple[GroupResult, ...]
    reporters: tuple[ReporterResult, ...]
    quota: tuple[QuotaResult, ...]
    undecided: tuple[Undecided, ...]
    poor_grade: str = ""  # the grade of the poor-vote rule (`Rules.poor_grade`)
    # 倒排: the bottom reporters by rank, worst first; ties at the cut all included.
    bottom: tuple[str, ...] = ()
    bottom_size: int = 0  # how many the rule asks for (`Rules.bottom_size`); 0: no 倒排


class _Work:
    """A reporter's mutable state while the rules run; frozen into ReporterResult at the end."""

    group_scores: dict[str, Fraction | None]  # set by _rules_1_to_4 before any use

    def __init__(self, reporter: Reporter, per_group: dict[str, Counter]) -> None:
        self.reporter = reporter
        self.per_group = per_group
        self.counts: dict[str, int] = {}
        self.abstain = self.invalid = self.cast = 0
        self.score: Fraction | None = None
        self.best: Fraction | None = None
        self.poor_share: Fraction | None = None
        self.poor_share_of: int | None = None
        self.base_grade: str | None = None
        self.steps: list[Step] = []
        self.grade: str | None = None
        # The ranking for quotas: score, then share of the best grade, then fewer 差 votes.
        self.key: tuple[Fraction, Fraction, int] | None = None

    def step(self, rule: str, grade: str | None, why: str) -> None:
        self.grade = grade
        self.steps.append(Step(rule, grade, why))


def tally(meeting: Meeting, ballots: Iterable[Ballot]) -> TallyResult:
    rules = meeting.rules
    grades = rules.grades
    ballots = list(ballots)
    tallies, group_cast = count_marks(meeting, ballots)
    group_paper, group_spoiled = count_ballots(meeting, ballots)
    known = any(group_paper.values())  # else the ballots do not say how they came
    _refuse_more_ballots_than_seats(meeting, tallies, group_cast)
    if meeting.supervision is not None:  # after the seat check: the ballots stay their group's
        _count_supervisors_apart(meeting, tallies, ballots)

    works = [
        _rules_1_to_4(meeting, reporter, tallies[reporter.id]) for reporter in meeting.reporters
    ]
    undecided = _apply_quota(meeting, works)
    for work in works:
        if work.key is None and work.grade is None:
            undecided.append(Undecided(None, (work.reporter.id,), "无有效票，等次由会议决定"))

    seats = meeting.seats
    cast_min = min(work.cast for work in works)
    met = Fraction(cast_min, seats) >= rules.quorum
    if not met:
        why = (
            f"实到{cast_min}/应到{seats}={pct_against(Fraction(cast_min, seats), rules.quorum)}"
            f" < {pct(rules.quorum)} → 测评无效"
        )
        for work in works:
            work.steps.append(Step("quorum", work.grade, why))

    ranks = _ranks(meeting.rules, works)
    reporters = tuple(
        ReporterResult(
            reporter=w.reporter,
            cast=w.cast,
            counts=w.counts,
            abstain=w.abstain,
            invalid=w.invalid,
            counts_by_group={gid: {g: c[g] for g in grades} for gid, c in w.per_group.items()},
            score=w.score,
            best_share=w.best,
            poor_share=w.poor_share,
            base_grade=w.base_grade,
            final_grade=w.grade,
            rank=ranks.get(w.reporter.id),
            steps=tuple(w.steps),
            score_by_group=w.group_scores,
            poor_share_of=w.poor_share_of,
        )
        for w in works
    )
    total = len(meeting.reporters)
    quota = tuple(
        QuotaResult(
            grade,
            floor(share * total),
            tuple(w.reporter.id for w in works if w.grade == grade),
        )
        for grade, share in rules.quota
    )
    groups = tuple(
        GroupResult(
            g,
            group_cast[g.id],
            phone=group_cast[g.id] - group_paper[g.id] if known else None,
            paper=group_paper[g.id] if known else None,
            spoiled=group_spoiled[g.id],
        )
        for g in meeting.groups
    )
    return TallyResult(
        valid=met,
        quorum=Quorum(cast_min, seats, rules.quorum, met),
        grades=grades,
        groups=groups,
        reporters=reporters,
        quota=quota,
        undecided=tuple(undecided),
        poor_grade=rules.poor_grade,
        bottom=_bottom(rules, reporters),
        bottom_size=rules.bottom_size(total),
    )


def _refuse_more_ballots_than_seats(
    meeting: Meeting, tallies: dict[str, dict[str, Counter]], group_cast: dict[str, int]
) -> None:
    """More ballots than cards issued cannot be: refuse the whole tally, naming the group.

    What must not exceed a group's seats is the number of its ballots that carry one reporter:
    with voting = "each" (or the live server's cumulative result) every round has ballots of
    its own, so the group's ballots may well outnumber its seats."""
    for group in meeting.groups:
        count, name = max(
            (sum(tallies[r.id][group.id].values()), r.name) for r in meeting.reporters
        )
        if count > group.seats:
            about = "" if count == group_cast[group.id] else f"评议{name}"
            raise InputError(
                f"分组{group.id}",
                f"“{group.name}”：{group.seats}个席位，却有{count}张选票{about}；"
                "选票多于发出的席位，不能计票",
            )


def _count_supervisors_apart(
    meeting: Meeting, tallies: dict[str, dict[str, Counter]], ballots: list[Ballot]
) -> None:
    """分管: a supervising leader's mark on a reporter they supervise moves from their group to
    the SUPERVISION_GROUP constituency, which every supervised reporter gets (empty when the
    supervisors gave no mark) and nobody else does."""
    moved = supervisor_marks(meeting, ballots)
    for reporter in meeting.reporters:
        if not meeting.supervisors_of(reporter.id):
            continue
        per_group = tallies[reporter.id]
        apart: Counter[str] = Counter()
        for gid, counter in moved.get(reporter.id, {}).items():
            per_group[gid] = per_group[gid] - counter
            apart.update(counter)
        per_group[SUPERVISION_GROUP] = apart


def _supervision_step(meeting: Meeting, reporter: Reporter) -> Step:
    supervision = meeting.supervision_group
    assert supervision is not None  # only a meeting with [supervision] has the constituency
    names = "、".join(
        m.name for g in meeting.groups for m in g.members if reporter.id in m.supervises
    )
    why = f"{supervision.name}（{names}）的评价单列，权重{short(supervision.weight)}"
    return Step("supervision", None, why)


def _group_score(points: list[tuple[str, Fraction]], counter: Counter) -> Fraction | None:
    votes = sum(counter[g] for g, _ in points)
    return Fraction(sum(p * counter[g] for g, p in points), votes) if votes else None


def round_half_up(value: Fraction, places: int) -> Fraction:
    """四舍五入 from the exact value, once: the one rounding rule of every printed number
    (halves away from zero)."""
    if value < 0:
        return -round_half_up(-value, places)
    return Fraction(floor(value * 10**places + Fraction(1, 2)), 10**places)


def _rules_1_to_4(meeting: Meeting, reporter: Reporter, per_group: dict[str, Counter]) -> _Work:
    rules = meeting.rules
    grades = rules.grades
    poor = rules.poor_grade
    work = _Work(reporter, per_group)
    counts = work.counts = {g: sum(c[g] for c in per_group.values()) for g in grades}
    work.abstain = sum(c[ABSTAIN] for c in per_group.values())
    work.invalid = sum(c[SPOILED] for c in per_group.values())
    votes = sum(counts.values())
    work.cast = votes + work.abstain + work.invalid

    points = list(zip(grades, rules.points, strict=True))
    work.group_scores = {gid: _group_score(points, c) for gid, c in per_group.items()}
    shares, missing = _weighted_shares(meeting, per_group)
    if work.group_scores.get(SUPERVISION_GROUP) is not None:  # 分管 marks in the score
        work.steps.append(_supervision_step(meeting, reporter))
    if shares is None:
        work.step("base", None, "无有效票（全部弃权或废票），无法评定等次")
    else:
        work.score = sum((p * shares[g] for g, p in points), Fraction(0))
        work.best = shares[grades[0]]
        work.key = (work.score, work.best, -counts[poor])
        grade, why = _base(rules, work.score, shares)
        if missing:
            why += f"（{'、'.join(missing)}无有效票，权重在其余组间按比例折算）"
        work.step("base", grade, why)
    work.base_grade = work.grade

    denominator = votes if rules.poor_share_basis == "valid" else work.cast
    if denominator:
        work.poor_share = Fraction(counts[poor], denominator)
        work.poor_share_of = denominator
        if work.poor_share > rules.poor_share_limit:
            basis = "有效票" if rules.poor_share_basis == "valid" else "实投票"
            shown = pct_against(work.poor_share, rules.poor_share_limit)
            limit = pct(rules.poor_share_limit)
            why = f"{poor}票 {counts[poor]}/{denominator}={shown} > {limit}（占{basis}）→ {poor}"
            work.step("poor_share", poor, why)
    for flag in reporter.flags:
        if flag in rules.override_flags:
            work.step("override", poor, f"标记“{flag}” → {poor}")
            break
    return work


def _weighted_shares(
    meeting: Meeting, per_group: dict[str, Counter]
) -> tuple[dict[str, Fraction] | None, list[str]]:
    """Share of each grade, weight-averaged over the groups that voted for this reporter and,
    in a meeting with `[supervision]`, the 分管 constituency: its weight is one of the shares
    that sum to 1, renormalised away (with a reason) where nobody supervises the reporter."""
    grades = meeting.rules.grades
    voted = []
    missing = []
    extra = meeting.supervision_group
    for group in meeting.groups if extra is None else (*meeting.groups, extra):
        if group.id not in per_group:  # 分管, and nobody supervises this reporter
            missing.append(f"{group.name}（无人分管此述职人）")
            continue
        counter = per_group[group.id]
        votes = sum(counter[g] for g in grades)
        if votes:
            voted.append((group.weight, counter, votes))
        else:
            missing.append(group.name)
    if not voted:
        return None, []
    # Σ weight × count / votes over one common integer denominator, so that only one
    # Fraction (one gcd) is made per grade: Fraction arithmetic dominated the rules' cost.
    den = lcm(*(weight.denominator * votes for weight, _, votes in voted))
    total = sum(weight for weight, _, _ in voted)
    factors = [
        (weight.numerator * (den // (weight.denominator * votes)), c) for weight, c, votes in voted
    ]
    shares = {
        g: Fraction(
            sum(factor * c[g] for factor, c in factors) * total.denominator,
            den * total.numerator,
        )
        for g in grades
    }
    return shares, missing


def _base(meeting_rules: Rules, score: Fraction, shares: dict[str, Fraction]) -> tuple[str, str]:
    grades = meeting_rules.grades
    if meeting_rules.base == "score":
        cutoffs = meeting_rules.score_cutoffs
        for grade, cutoff in zip(grades, cutoffs, strict=False):
            if score >= cutoff:
                return grade, f"得分{against(score, cutoffs)} ≥ {short(cutoff)}"
        return grades[-1], f"得分{against(score, cutoffs)} < {short(cutoffs[-1])}"
    threshold = meeting_rules.share_threshold
    cumulative = Fraction(0)
    for i, grade in enumerate(grades):
        cumulative += shares[grade]
        if cumulative >= threshold:
            label = grade if i == 0 else f"{grade}及以上"
            shown = pct_against(cumulative, threshold)
            return grade, f"{label}占{shown} ≥ {pct(threshold)}"
    raise AssertionError("shares sum to 1")  # only Rules made in code can get here


def _apply_quota(meeting: Meeting, works: list[_Work]) -> list[Undecided]:
    """Demote the lowest ranked holders of an over-full grade, best grade first, so that
    demotions cascade into the next grade's quota. Only ever moves reporters down."""
    grades = meeting.rules.grades
    total = len(works)
    undecided = []
    for grade, share in meeting.rules.quota:
        limit = floor(share * total)
        holders = [w for w in works if w.grade == grade and w.key is not None]
        # Nobody can move below the last grade; the meeting file refuses such a quota anyway.
        if len(holders) <= limit or grade == grades[-1]:
            continue
        holders.sort(key=lambda w: w.key, reverse=True)  # type: ignore[arg-type,return-value]
        lower = grades[grades.index(grade) + 1]
        rule = f"{grade}限{pct(share)}×{total}人={limit}人"
        start = limit
        if limit > 0 and holders[limit - 1].key == holders[limit].key:
            # An exact tie across the cut: guessing would be arbitrary, so the meeting decides.
            cut = holders[limit].key
            tied = [w for w in holders if w.key == cut]
            ids = tuple(w.reporter.id for w in tied)
            names = "、".join(w.reporter.name for w in tied)
            why = f"{rule}，{names}得分等完全相同，名额内外无法区分，待会议决定"
            for w in tied:
                w.step("undecided", grade, why)
            undecided.append(Undecided(grade, ids, why))
            start = holders.index(tied[-1]) + 1
        for position, w in enumerate(holders[start:], start + 1):
            w.step("quota", lower, f"{rule}，排第{position}位 → {lower}")
    return undecided


def _ranks(rules: Rules, works: list[_Work]) -> dict[str, int]:
    """名次: the final grade first (a better grade always ranks above a worse one, so a
    reporter forced to the poor grade is ranked below everyone with a better grade), then the
    quota's key (score, share of the best grade, fewer poor votes). Equal keys share a rank
    (1, 1, 3); a reporter without votes has none."""
    grades = rules.grades
    keyed = [((-grades.index(w.grade), *w.key), w) for w in works if w.key is not None]
    keyed.sort(key=lambda pair: pair[0], reverse=True)
    ranks: dict[str, int] = {}
    for i, (key, w) in enumerate(keyed):
        same = i > 0 and keyed[i - 1][0] == key
        ranks[w.reporter.id] = ranks[keyed[i - 1][1].reporter.id] if same else i + 1
    return ranks


def _bottom(rules: Rules, reporters: tuple[ReporterResult, ...]) -> tuple[str, ...]:
    """倒排: the last `Rules.bottom_size` of the ranked reporters, worst first (speaking order
    within a rank). A rank tied across the cut is taken whole, so the list may be longer than
    the size; reporters without a rank (no votes) are not in it."""
    size = rules.bottom_size(len(reporters))
    ranked = sorted(((r.rank, r.reporter.id) for r in reporters if r.rank is not None), key=_worst)
    if not size or not ranked:
        return ()
    cut = ranked[min(size, len(ranked)) - 1][0]
    return tuple(rid for rank, rid in ranked if rank >= cut)


def _worst(pair: tuple[int, str]) -> int:
    return -pair[0]  # a stable sort: speaking order within a rank


def result_to_json(result: TallyResult) -> dict:
    return {
        "valid": result.valid,
        "quorum": {
            "cast": result.quorum.cast,
            "seats": result.quorum.seats,
            "required": float(result.quorum.required),
            "met": result.quorum.met,
        },
        "grades": list(result.grades),
        "groups": [
            {
                "id": g.group.id,
                "name": g.group.name,
                "seats": g.group.seats,
                "cast": g.cast,
                "phone": g.phone,
                "paper": g.paper,
                "spoiled": g.spoiled,
            }
            for g in result.groups
        ],
        "quota": [
            {"grade": q.grade, "limit": q.limit, "holders": list(q.holders)} for q in result.quota
        ],
        "reporters": [_reporter_json(r) for r in result.reporters],
        "undecided": [
            {"grade": u.grade, "reporters": list(u.reporters), "why": u.why}
            for u in result.undecided
        ],
        "poor_grade": result.poor_grade,
        "bottom": list(result.bottom),
        "bottom_size": result.bottom_size,
    }


def _reporter_json(r: ReporterResult) -> dict:
    return {
        "id": r.reporter.id,
        "name": r.reporter.name,
        "org": r.reporter.org,
        "mode": r.reporter.mode,
        "cast": r.cast,
        "counts": dict(r.counts),
        "abstain": r.abstain,
        "invalid": r.invalid,
        "counts_by_group": {gid: dict(c) for gid, c in r.counts_by_group.items()},
        "score": None if r.score is None else float(round_half_up(r.score, 2)),
        "score_by_group": {
            gid: None if score is None else float(round_half_up(score, 2))
            for gid, score in r.score_by_group.items()
        },
        "poor_share": None if r.poor_share is None else float(round_half_up(r.poor_share, 4)),
        "poor_share_of": r.poor_share_of,
        "base_grade": r.base_grade,
        "final_grade": r.final_grade,
        "rank": r.rank,
        "steps": [{"rule": s.rule, "grade": s.grade, "why": s.why} for s in r.steps],
        "decided_by": r.decided_by,
    }

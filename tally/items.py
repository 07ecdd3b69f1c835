"""逐项测评: ballots that answer a list of items per reporter, not one grade.

An item is answered with one of the form's options: yes/no (能/不能, 是/不是), a small scale
(好/较好/一般/差) or points (0–N). Per item, among the answers given (blanks, 弃权, and spoiled
marks, 废, excluded):

- the positive share: answers in `positive` (the first option unless configured);
- the negative share: answers in `negative` (the last option unless configured);
- with `scoring = "points"`, the mean points (`points`, one per option).

An item's score is its positive share × 100 (`mean_positive`) or its mean points over the best
points × 100 (`points`); the reporter's score is the mean of the item scores, weighted by the
items' weights (equal by default). An item nobody answered is left out of that mean, with a
reason. A `decisive` item (否决项) whose negative answers are more than half of the answers
given (exactly half is not) adds a reason and, with `decisive_grade`, forces that grade. With
`grades` and `cutoffs` the score gets a grade as the engine's score cutoffs give one.

Per voter group (`item_scores_by_group`): each group's own result, and a combined one whose
item shares are the groups' shares weighted by the group weights, renormalised among the groups
that answered the item (as the engine weights grade shares); both are returned.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

from tally.engine import Step
from tally.errors import InputError
from tally.model import ABSTAIN, DEFAULT_GRADES, SPOILED, Group
from tally.numbers import pct, pct_against, short
from tally.scoring import (
    HUNDRED,
    check_scale,
    exact,
    grade_by_cutoffs,
    positive,
    renormalise,
    shown,
    unique_ids,
    weighted_mean,
)

ItemScoring = Literal["mean_positive", "points"]
YES_NO = ("能", "不能")
IS_OR_NOT = ("是", "不是")
FOUR_LEVELS = DEFAULT_GRADES
HALF = Fraction(1, 2)


@dataclass(frozen=True)
class Item:
    """One item of the checklist; `decisive` makes a majority of negative answers count."""

    id: str
    text: str
    weight: Fraction = Fraction(1)
    decisive: bool = False


@dataclass(frozen=True)
class ItemForm:
    """The checklist every voter fills in for each reporter, and how it is scored."""

    items: tuple[Item, ...]
    options: tuple[str, ...] = YES_NO  # the answers, best first
    positive: tuple[str, ...] = ()  # (): the first option
    negative: tuple[str, ...] = ()  # (): the last option
    points: tuple[Fraction, ...] = ()  # scoring = "points": one per option
    scoring: ItemScoring = "mean_positive"
    decisive_grade: str | None = None  # the grade a decisive item's negative majority forces
    grades: tuple[str, ...] = ()  # with cutoffs: the grade of the item score
    cutoffs: tuple[Fraction, ...] = ()

    def __post_init__(self) -> None:
        if not self.items:
            raise InputError("items", "至少需要一个测评项目")
        unique_ids((i.id for i in self.items), "items", "测评项目")
        items = tuple(
            Item(i.id, i.text, positive(i.weight, f"items[{n}].weight"), i.decisive)
            for n, i in enumerate(self.items, 1)
        )
        object.__setattr__(self, "items", items)
        options = self.options
        if len(options) < 2 or len(set(options)) != len(options):
            raise InputError("items.options", "选项应为2个以上互不相同的词，最好的在前")
        if any(o in (ABSTAIN, SPOILED) for o in options):
            raise InputError("items.options", f"选项不能为空白（弃权）或“{SPOILED}”")
        for key, chosen in (("positive", self.positive), ("negative", self.negative)):
            unknown = [o for o in chosen if o not in options]
            if unknown:
                raise InputError(
                    f"items.{key}", f"“{unknown[0]}”不是选项；应为：{'、'.join(options)}"
                )
        if set(self.positive_options) & set(self.negative_options):
            raise InputError("items.negative", "同一选项不能既算肯定又算否定")
        if self.scoring not in ("mean_positive", "points"):
            raise InputError(
                "items.scoring", f"计分方式“{self.scoring}”无效；应为：mean_positive、points"
            )
        points = tuple(exact(p, "items.points") for p in self.points)
        if self.scoring == "points" or points:
            if len(points) != len(options) or min(points) < 0 or max(points) <= 0:
                raise InputError(
                    "items.points", "应为每个选项给出分值（≥0，最高分大于0），与选项一一对应"
                )
        object.__setattr__(self, "points", points)
        if self.grades or self.cutoffs:
            cutoffs = tuple(exact(c, "items.cutoffs") for c in self.cutoffs)
            check_scale(self.grades, cutoffs, "items")
            object.__setattr__(self, "cutoffs", cutoffs)
        if (
            self.decisive_grade is not None
            and self.grades
            and self.decisive_grade not in self.grades
        ):
            raise InputError(
                "items.decisive_grade",
                f"“{self.decisive_grade}”不在等次中；应为：{'、'.join(self.grades)}",
            )

    @classmethod
    def points_scale(
        cls,
        items: tuple[Item, ...],
        top: int,
        decisive_grade: str | None = None,
        grades: tuple[str, ...] = (),
        cutoffs: tuple[Fraction, ...] = (),
    ) -> ItemForm:
        """Items scored 0–`top` points: options "top" … "0" (best first, so "0" is the negative
        answer of a decisive item and `top` the positive one), scoring = points."""
        if isinstance(top, bool) or not isinstance(top, int) or top < 1:
            raise InputError("items.points", f"满分“{top}”无效；应为≥1的整数")
        options = tuple(str(p) for p in range(top, -1, -1))
        points = tuple(Fraction(p) for p in range(top, -1, -1))
        return cls(
            items,
            options,
            points=points,
            scoring="points",
            decisive_grade=decisive_grade,
            grades=grades,
            cutoffs=cutoffs,
        )

    @property
    def positive_options(self) -> tuple[str, ...]:
        return self.positive or self.options[:1]

    @property
    def negative_options(self) -> tuple[str, ...]:
        return self.negative or self.options[-1:]


@dataclass(frozen=True)
class ItemTally:
    """One item's answers for one reporter (in one group, or all groups combined)."""

    item: Item
    counts: dict[str, int]  # option -> answers
    blank: int  # 弃权: left out of every share
    spoiled: int  # 废: likewise
    answered: int  # answers with an option
    positive_share: Fraction | None  # None: nobody answered
    negative_share: Fraction | None
    mean_points: Fraction | None  # scoring = "points"
    score: Fraction | None  # 0–100
    negative_majority: bool  # negative share strictly above one half


@dataclass(frozen=True)
class ItemResult:
    """One reporter's item score and grade, item by item, with the reasons."""

    score: Fraction | None  # None: no item was answered
    grade: str | None  # by the cutoffs, or forced by a decisive item; None: neither
    items: tuple[ItemTally, ...]
    weights: dict[str, Fraction]  # item id -> weight used (the answered items', sum 1)
    excluded: tuple[str, ...]  # items nobody answered
    steps: tuple[Step, ...]

    @property
    def decisive(self) -> tuple[Step, ...]:
        """The steps of decisive items with a negative majority; those that force a grade (with
        `decisive_grade`) carry it, ready for `tally.composite.composite(forced=…)`."""
        return tuple(s for s in self.steps if s.rule == "decisive")


@dataclass(frozen=True)
class GroupedItemResult:
    """Per voter group and combined with the group weights."""

    by_group: dict[str, ItemResult]
    weights: dict[str, Fraction]  # group id -> weight used (the groups that answered, sum 1)
    combined: ItemResult
    steps: tuple[Step, ...] = field(default=())  # about the groups (missing ones)


def item_scores(
    form: ItemForm, answers: Iterable[Mapping[str, str]], reporter: str = ""
) -> ItemResult:
    """One reporter's ballots ({item id: answer}, a missing item is a blank) → item score."""
    where = f"逐项测评{reporter}" if reporter else "逐项测评"
    known = {i.id for i in form.items}
    allowed = {*form.options, ABSTAIN, SPOILED}
    counters = {i.id: Counter[str]() for i in form.items}
    ballots = 0
    for n, ballot in enumerate(answers, 1):
        ballots += 1
        for item_id, answer in ballot.items():
            if item_id not in known:
                raise InputError(
                    f"{where} 第{n}张",
                    f"项目“{item_id}”不存在；应为：{'、'.join(i.id for i in form.items)}",
                )
            if answer not in allowed:
                expected = "、".join(form.options) + f"、空白（弃权）或“{SPOILED}”"
                raise InputError(
                    f"{where} 第{n}张 {item_id}", f"无效的回答“{answer}”；应为：{expected}"
                )
            counters[item_id][answer] += 1
    tallies = []
    for item in form.items:
        counter = counters[item.id]
        counts = {o: counter[o] for o in form.options}
        answered = sum(counts.values())
        blank = ballots - answered - counter[SPOILED]
        tallies.append(_tally(form, item, counts, blank, counter[SPOILED], _shares(form, counts)))
    return _finish(form, tallies, [], weighted_groups=False)


def item_scores_by_group(
    form: ItemForm,
    answers: Mapping[str, Iterable[Mapping[str, str]]],
    groups: Sequence[Group],
    reporter: str = "",
) -> GroupedItemResult:
    """One reporter's ballots per group id → each group's result and the weighted one."""
    names = {g.id: g.name for g in groups}
    for gid in answers:
        if gid not in names:
            raise InputError(f"逐项测评{reporter}", f"分组“{gid}”不存在；应为：{'、'.join(names)}")
    by_group = {g.id: item_scores(form, answers.get(g.id, ()), reporter) for g in groups}
    weight = {g.id: g.weight for g in groups}
    answered = [gid for gid, r in by_group.items() if r.score is not None]
    steps = []
    silent = [names[gid] for gid in by_group if gid not in answered]
    if silent and answered:
        why = f"{'、'.join(silent)}无作答，其权重在其余组间按比例折算"
        steps.append(Step("group_missing", None, why))
    tallies = []
    for n, item in enumerate(form.items):
        per = {gid: r.items[n] for gid, r in by_group.items()}
        w = renormalise(weight, [gid for gid, t in per.items() if t.answered])
        counts = {o: sum(t.counts[o] for t in per.values()) for o in form.options}
        blank = sum(t.blank for t in per.values())
        spoiled = sum(t.spoiled for t in per.values())
        shares: tuple[Fraction | None, Fraction | None, Fraction | None] = (None, None, None)
        if w:
            shares = (
                weighted_mean({g: _known(per[g].positive_share) for g in w}, w),
                weighted_mean({g: _known(per[g].negative_share) for g in w}, w),
                weighted_mean({g: _known(per[g].mean_points) for g in w}, w)
                if form.points
                else None,
            )
        tallies.append(_tally(form, item, counts, blank, spoiled, shares))
    combined = _finish(form, tallies, list(steps), weighted_groups=True)
    return GroupedItemResult(by_group, renormalise(weight, answered), combined, tuple(steps))


def _shares(
    form: ItemForm, counts: Mapping[str, int]
) -> tuple[Fraction | None, Fraction | None, Fraction | None]:
    answered = sum(counts.values())
    if not answered:
        return None, None, None
    pos = Fraction(sum(counts[o] for o in form.positive_options), answered)
    neg = Fraction(sum(counts[o] for o in form.negative_options), answered)
    mean = None
    if form.points:
        mean = Fraction(
            sum(p * counts[o] for o, p in zip(form.options, form.points, strict=True)), answered
        )
    return pos, neg, mean


def _tally(
    form: ItemForm,
    item: Item,
    counts: dict[str, int],
    blank: int,
    spoiled: int,
    shares: tuple[Fraction | None, Fraction | None, Fraction | None],
) -> ItemTally:
    pos, neg, mean = shares
    score = None
    if pos is not None:
        if form.scoring == "points":
            score = _known(mean) / max(form.points) * HUNDRED
        else:
            score = pos * HUNDRED
    majority = neg is not None and neg > HALF
    return ItemTally(
        item, counts, blank, spoiled, sum(counts.values()), pos, neg, mean, score, majority
    )


def _finish(
    form: ItemForm, tallies: list[ItemTally], steps: list[Step], weighted_groups: bool
) -> ItemResult:
    answered = {t.item.id: t.score for t in tallies if t.score is not None}
    excluded = tuple(t.item.id for t in tallies if t.score is None)
    for t in tallies:
        if t.score is None:
            steps.append(
                Step("item_empty", None, f"项目“{t.item.text}”无人作答（均为弃权），不计入平均")
            )
    if not answered:
        steps.append(Step("items", None, "各项目均无人作答，无法计算逐项得分"))
        return ItemResult(None, None, tuple(tallies), {}, excluded, tuple(steps))
    scores = {k: _known(v) for k, v in answered.items()}
    weights = renormalise({t.item.id: t.item.weight for t in tallies}, scores)
    score = weighted_mean(scores, weights)
    how = "加权平均" if len({t.item.weight for t in tallies if t.item.id in scores}) > 1 else "平均"
    if form.scoring == "points":
        why = f"{len(scores)}项平均得分（满分{short(max(form.points))}分）折合百分制后{how}"
    else:
        why = f"{len(scores)}项“{'、'.join(form.positive_options)}”比例{how}×100"
    if weighted_groups:
        why = "各组按权重合计，" + why
    steps.append(Step("items", None, f"{why} = {shown(score)}"))
    grade = None
    if form.grades:
        base = grade_by_cutoffs(score, form.grades, form.cutoffs, "逐项得分")
        steps.append(base)
        grade = base.grade
    negative = "、".join(form.negative_options)
    for t in tallies:
        if not (t.item.decisive and t.negative_majority):
            continue
        share = _known(t.negative_share)
        if weighted_groups:
            seen = f"{negative}各组加权占{pct_against(share, HALF)}"
        else:
            count = sum(t.counts[o] for o in form.negative_options)
            seen = f"{negative} {count}/{t.answered}={pct_against(share, HALF)}"
        why = f"否决项“{t.item.text}”：{seen}，超过{pct(HALF)}"
        if form.decisive_grade is not None:
            grade = form.decisive_grade
            why += f" → {grade}"
        else:
            why += "（未设否决等次，仅记录）"
        steps.append(Step("decisive", form.decisive_grade, why))
    return ItemResult(score, grade, tuple(tallies), weights, excluded, tuple(steps))


def _known(value: Fraction | None) -> Fraction:
    assert value is not None  # only read where the item was answered
    return value

"""综合得分: a reporter's score from several sources, weighted, and its grade by cutoffs.

Each source gives a 0–100 score per reporter, e.g. 项目指标 0.4 + 群众测评 0.4 + 专家点评 0.2.
A source missing for a reporter (no indicator row, no expert score: None or absent) is left
out and the other weights renormalised to sum to 1, with a reason naming it; so computing
with a source missing is exactly computing with a configuration without that source. The
grade comes from `cutoffs` as the engine's score cutoffs do (80 reaches 80, 89.999 not 90);
a grade forced by a source (an item checklist's decisive item, `tally.items`) replaces it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from tally.engine import Step
from tally.errors import InputError
from tally.model import DEFAULT_CUTOFFS, DEFAULT_GRADES
from tally.numbers import short
from tally.scoring import (
    HUNDRED,
    Number,
    bounded,
    check_scale,
    exact,
    grade_by_cutoffs,
    positive,
    renormalise,
    shown,
    unique_ids,
    weighted_mean,
    weights_text,
)


@dataclass(frozen=True)
class Source:
    """One source of the composite score and its weight (the weights sum to exactly 1)."""

    id: str  # e.g. "indicators", "vote", "experts"
    name: str  # e.g. 项目指标, 群众测评, 专家点评
    weight: Fraction


@dataclass(frozen=True)
class Composite:
    """The composite's sources with their weights, and the grade scale of its score."""

    sources: tuple[Source, ...]
    grades: tuple[str, ...] = DEFAULT_GRADES
    cutoffs: tuple[Fraction, ...] = DEFAULT_CUTOFFS

    def __post_init__(self) -> None:
        if not self.sources:
            raise InputError("composite.sources", "至少需要一个评价来源")
        unique_ids((s.id for s in self.sources), "composite.sources", "来源")
        sources = tuple(
            Source(s.id, s.name, positive(s.weight, f"composite.sources[{i}].weight"))
            for i, s in enumerate(self.sources, 1)
        )
        total = sum((s.weight for s in sources), Fraction(0))
        if total != 1:
            raise InputError("composite.sources", f"各来源权重之和为{short(total)}；应恰好为1")
        cutoffs = tuple(exact(c, "composite.cutoffs") for c in self.cutoffs)
        check_scale(self.grades, cutoffs, "composite")
        object.__setattr__(self, "sources", sources)
        object.__setattr__(self, "cutoffs", cutoffs)

    @property
    def names(self) -> dict[str, str]:
        return {s.id: s.name for s in self.sources}

    def without(self, source_id: str) -> Composite:
        """The same composite without one source, the others' weights renormalised."""
        kept = [s for s in self.sources if s.id != source_id]
        weights = renormalise({s.id: s.weight for s in kept}, (s.id for s in kept))
        sources = tuple(Source(s.id, s.name, weights[s.id]) for s in kept)
        return Composite(sources, self.grades, self.cutoffs)


@dataclass(frozen=True)
class CompositeResult:
    """One reporter's composite: each source's score, the weights used, the score, the grade."""

    scores: dict[str, Fraction | None]  # source id -> its score (None: missing), every source
    weights: dict[str, Fraction]  # the weights used: the present sources', summing to 1
    missing: tuple[str, ...]  # source ids without a score
    score: Fraction | None  # None: no source has a score
    base_grade: str | None  # by the cutoffs
    grade: str | None  # after any forced grade
    steps: tuple[Step, ...]


def composite(
    scores: Mapping[str, Number | None],
    config: Composite,
    forced: Iterable[Step] = (),
    reporter: str = "",
) -> CompositeResult:
    """One reporter's source scores by source id → the composite score and grade.

    `forced`: steps that force a grade (their `grade` set), e.g. the `decisive` steps of
    `tally.items.item_scores`; applied in order after the cutoffs, each one replacing it."""
    names = config.names
    where = f"综合得分{reporter}" if reporter else "综合得分"
    for key in scores:
        if key not in names:
            raise InputError(where, f"来源“{key}”不存在；应为：{'、'.join(names)}")
    given: dict[str, Fraction | None] = {}
    for source in config.sources:
        value = scores.get(source.id)
        at = f"{where} {source.id}"
        given[source.id] = None if value is None else bounded(value, Fraction(0), HUNDRED, at)
    present = {sid: value for sid, value in given.items() if value is not None}
    missing = tuple(sid for sid, value in given.items() if value is None)
    steps: list[Step] = []
    if missing:
        lost = "、".join(names[m] for m in missing)
        why = f"{lost}缺失，其权重去掉，其余来源按比例折算"
        if present:
            steps.append(Step("source_missing", None, why))
        else:
            steps.append(Step("source_missing", None, f"{lost}均缺失，无法计算综合得分"))
            return CompositeResult(given, {}, missing, None, None, None, tuple(steps))
    weights = renormalise({s.id: s.weight for s in config.sources}, present)
    score = weighted_mean(present, weights)
    terms = " + ".join(f"{short(weights[sid])}×{shown(value)}" for sid, value in present.items())
    steps.append(
        Step(
            "composite",
            None,
            f"综合得分 = {terms} = {shown(score)}（权重：{weights_text(weights, names)}）",
        )
    )
    base = grade_by_cutoffs(score, config.grades, config.cutoffs, "综合得分")
    steps.append(base)
    grade = base.grade
    for step in forced:
        if step.grade is None:
            continue
        if step.grade not in config.grades:
            known = "、".join(config.grades)
            raise InputError(where, f"强制等次“{step.grade}”不在等次中；应为：{known}")
        grade = step.grade
        steps.append(Step(step.rule, grade, step.why))
    return CompositeResult(given, weights, missing, score, base.grade, grade, tuple(steps))


def composites(
    table: Mapping[str, Mapping[str, Number | None]],
    config: Composite,
    forced: Mapping[str, Iterable[Step]] | None = None,
) -> dict[str, CompositeResult]:
    """Every reporter's composite: {reporter id: {source id: score}} → {reporter id: ...}."""
    forced = forced or {}
    return {
        reporter: composite(row, config, forced.get(reporter, ()), reporter)
        for reporter, row in table.items()
    }

"""项目指标: measured indicators per reporter, each scored 0–100 by its rule, then weighted.

Rules, for an indicator where more is better (`lower_is_better=False`):

- `linear`: min(actual / target, 1) × 100; an actual at or above the target scores 100 (a
  target of 0 is met by any actual ≥ 0), an actual at or below 0 scores 0.
- `thresholds`: steps of (at least this value, this score); the score of the highest step the
  actual reaches, `below` (0 by default) under the lowest.
- `pass_fail`: 100 when the actual reaches the target, else 0.

Where less is better (`lower_is_better=True`, e.g. 信访件数): `linear` scores 100 at or below the
target and target / actual × 100 above it (never a division by 0: the actual is then above a
target ≥ 0); `thresholds` steps read (at most this value, this score); `pass_fail` passes at
or below the target.

A reporter without an actual value for an indicator (no row, an empty cell: None) is scored
without it: its weight goes to the others, and a reason says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from tally.engine import Step
from tally.errors import InputError
from tally.numbers import short
from tally.scoring import (
    HUNDRED,
    Number,
    bounded,
    exact,
    positive,
    renormalise,
    shown,
    unique_ids,
    weighted_mean,
    weights_text,
)

IndicatorRule = Literal["linear", "thresholds", "pass_fail"]
RULES: tuple[IndicatorRule, ...] = ("linear", "thresholds", "pass_fail")
RULE_NAMES = {"linear": "按完成比例", "thresholds": "分档", "pass_fail": "达标制"}


@dataclass(frozen=True)
class Indicator:
    """One 项目指标: its target, its scoring rule and its weight among the indicators."""

    id: str
    name: str
    rule: IndicatorRule = "linear"
    target: Fraction | None = None  # linear and pass_fail
    # thresholds: (at least value, score) steps in any order (at most value, with lower_is_better)
    thresholds: tuple[tuple[Fraction, Fraction], ...] = ()
    below: Fraction = Fraction(0)  # thresholds: the score when no step is reached
    lower_is_better: bool = False
    weight: Fraction = Fraction(1)
    unit: str = ""  # shown after values in the reasons, e.g. "万元"

    def __post_init__(self) -> None:
        where = f"indicators.{self.id}"
        if not self.id:
            raise InputError("indicators.id", "指标编号不能为空")
        if self.rule not in RULES:
            raise InputError(
                f"{where}.rule", f"评分规则“{self.rule}”无效；应为：{'、'.join(RULES)}"
            )
        set_ = object.__setattr__
        set_(self, "weight", positive(self.weight, f"{where}.weight"))
        set_(self, "below", bounded(self.below, Fraction(0), HUNDRED, f"{where}.below"))
        if self.rule == "thresholds":
            if not self.thresholds:
                raise InputError(f"{where}.thresholds", "分档规则至少需要一档（数值, 得分）")
            steps = []
            for i, (value, score) in enumerate(self.thresholds, 1):
                at = f"{where}.thresholds[{i}]"
                steps.append((exact(value, at), bounded(score, Fraction(0), HUNDRED, at)))
            values = [value for value, _ in steps]
            if len(set(values)) != len(values):
                raise InputError(f"{where}.thresholds", "各档的数值不能重复")
            set_(self, "thresholds", tuple(sorted(steps, reverse=not self.lower_is_better)))
            if self.target is not None:
                set_(self, "target", exact(self.target, f"{where}.target"))
            return
        if self.target is None:
            raise InputError(f"{where}.target", f"“{RULE_NAMES[self.rule]}”规则需要目标值")
        target = exact(self.target, f"{where}.target")
        if self.rule == "linear" and target < 0:
            raise InputError(f"{where}.target", f"目标值{short(target)}无效；按比例计分的目标应≥0")
        set_(self, "target", target)


@dataclass(frozen=True)
class IndicatorResult:
    """A reporter's 项目指标 score (None: no indicator has an actual value)."""

    score: Fraction | None
    scores: dict[str, Fraction]  # indicator id -> its score, for those with an actual value
    weights: dict[str, Fraction]  # the weights used, renormalised over those indicators
    excluded: tuple[str, ...]  # indicators without an actual value
    steps: tuple[Step, ...]


def score_indicator(indicator: Indicator, actual: Number) -> tuple[Fraction, Step]:
    """One indicator's score (0–100) for one actual value, and why."""
    value = exact(actual, f"{indicator.id}实际值")
    if indicator.rule == "thresholds":
        score, how = _thresholds(indicator, value)
    else:
        target = indicator.target
        assert target is not None  # __post_init__ requires it
        if indicator.rule == "linear":
            score, how = _linear(indicator, value, target)
        else:
            score, how = _pass_fail(indicator, value, target)
    why = f"指标“{indicator.name}”（{RULE_NAMES[indicator.rule]}）：{how}，得{shown(score)}分"
    return score, Step("indicator", None, why)


def indicator_score(
    indicators: Sequence[Indicator], actuals: Mapping[str, Number | None], reporter: str = ""
) -> IndicatorResult:
    """One reporter's actual values by indicator id → the weighted 项目指标 score."""
    unique_ids((i.id for i in indicators), "indicators", "指标")
    known = {i.id for i in indicators}
    for key in actuals:
        if key not in known:
            where = f"项目指标{reporter}" if reporter else "项目指标"
            raise InputError(
                where, f"指标“{key}”不存在；应为：{'、'.join(i.id for i in indicators)}"
            )
    steps: list[Step] = []
    scores: dict[str, Fraction] = {}
    excluded = []
    for indicator in indicators:
        actual = actuals.get(indicator.id)
        if actual is None or (isinstance(actual, str) and not actual.strip()):
            excluded.append(indicator.id)
            steps.append(Step("indicator_missing", None, f"指标“{indicator.name}”无实际值，不计入"))
            continue
        scores[indicator.id], step = score_indicator(indicator, actual)
        steps.append(step)
    if not scores:
        steps.append(Step("indicators", None, "无任何指标实际值，项目指标缺失"))
        return IndicatorResult(None, scores, {}, tuple(excluded), tuple(steps))
    weights = renormalise({i.id: i.weight for i in indicators}, scores)
    score = weighted_mean(scores, weights)
    names = {i.id: i.name for i in indicators}
    if len(scores) == 1:
        why = f"项目指标得分 {shown(score)}（仅“{names[next(iter(scores))]}”有实际值）"
    elif len({i.weight for i in indicators if i.id in scores}) == 1:
        why = f"项目指标得分 = {len(scores)}项指标平均 {shown(score)}"
    else:
        why = f"项目指标得分 = 加权平均 {shown(score)}（权重：{weights_text(weights, names)}）"
    if excluded:
        why += f"；{'、'.join(names[e] for e in excluded)}无实际值，其权重在其余指标间按比例折算"
    steps.append(Step("indicators", None, why))
    return IndicatorResult(score, scores, weights, tuple(excluded), tuple(steps))


def indicator_scores(
    indicators: Sequence[Indicator], table: Mapping[str, Mapping[str, Number | None]]
) -> dict[str, IndicatorResult]:
    """Every reporter's score: {reporter id: {indicator id: actual}} → {reporter id: ...}.
    A reporter with no row at all gets no score (项目指标缺失)."""
    return {reporter: indicator_score(indicators, row, reporter) for reporter, row in table.items()}


def _linear(indicator: Indicator, value: Fraction, target: Fraction) -> tuple[Fraction, str]:
    v, t = _v(indicator, value), _v(indicator, target)
    if indicator.lower_is_better:
        if value <= target:
            return HUNDRED, f"实际{v} ≤ 目标{t}，完成"
        ratio = target / value  # value > target ≥ 0
        return ratio * HUNDRED, f"目标{t} / 实际{v} = {shown(ratio * HUNDRED)}%"
    if value >= target:
        return HUNDRED, f"实际{v} ≥ 目标{t}，完成"
    if value <= 0:
        return Fraction(0), f"实际{v} ≤ 0"
    ratio = value / target  # target > value > 0
    return ratio * HUNDRED, f"实际{v} / 目标{t} = {shown(ratio * HUNDRED)}%"


def _pass_fail(indicator: Indicator, value: Fraction, target: Fraction) -> tuple[Fraction, str]:
    lower = indicator.lower_is_better
    met = value <= target if lower else value >= target
    if met:
        sign, verdict = ("≤" if lower else "≥"), "达标"
    else:
        sign, verdict = ("＞" if lower else "＜"), "未达标"
    how = f"实际{_v(indicator, value)} {sign} 目标{_v(indicator, target)}，{verdict}"
    return (HUNDRED if met else Fraction(0)), how


def _thresholds(indicator: Indicator, value: Fraction) -> tuple[Fraction, str]:
    # Sorted by __post_init__ from the best step down: the first one reached is the score.
    for edge, score in indicator.thresholds:
        if (value <= edge) if indicator.lower_is_better else (value >= edge):
            sign = "≤" if indicator.lower_is_better else "≥"
            return score, f"实际{_v(indicator, value)} {sign} {_v(indicator, edge)}"
    last = indicator.thresholds[-1][0]
    sign = "＞" if indicator.lower_is_better else "＜"
    return indicator.below, f"实际{_v(indicator, value)} {sign} 最低一档{_v(indicator, last)}"


def _v(indicator: Indicator, value: Fraction) -> str:
    return f"{short(value)}{indicator.unit}"

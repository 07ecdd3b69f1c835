"""Shared pieces of the extra scoring rules (items, experts, indicators, composite results).

Numbers are exact `Fraction`s from end to end; a number given in code may be an int, a
Fraction, the decimal text an organiser wrote ("82.5") or a float, read as the decimal it
prints as (0.1 is exactly 1/10, as `tally.meeting_file` reads TOML floats). Every function
here is pure; a bad value raises `InputError` naming where it was and what was expected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction
from math import isfinite

from tally.engine import Step
from tally.errors import InputError
from tally.numbers import against, decimal, short

Number = int | float | str | Fraction
HUNDRED = Fraction(100)


def exact(value: object, where: str) -> Fraction:
    """`value` as an exact Fraction, or InputError (a bool, NaN, text that is not a number)."""
    if isinstance(value, bool):
        raise InputError(where, f"“{value}”不是数值")
    if isinstance(value, Fraction | int):
        return Fraction(value)
    if isinstance(value, float):
        if not isfinite(value):
            raise InputError(where, f"“{value}”不是有效数值")
        return Fraction(repr(value))
    if isinstance(value, str):
        try:
            return Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise InputError(where, f"“{value}”不是数值") from None
    raise InputError(where, f"“{value}”不是数值")


def bounded(value: object, low: Fraction, high: Fraction, where: str) -> Fraction:
    """`value` exactly, refused unless low ≤ value ≤ high."""
    number = exact(value, where)
    if not low <= number <= high:
        raise InputError(where, f"{short(number)}超出范围；应在{short(low)}到{short(high)}之间")
    return number


def positive(value: object, where: str) -> Fraction:
    """A weight: exactly, and more than 0."""
    number = exact(value, where)
    if number <= 0:
        raise InputError(where, f"权重{short(number)}无效；应大于0")
    return number


def unique_ids(ids: Iterable[str], where: str, what: str) -> None:
    seen: set[str] = set()
    for i, ident in enumerate(ids, 1):
        if not ident:
            raise InputError(f"{where}[{i}].id", f"{what}编号不能为空")
        if ident in seen:
            raise InputError(f"{where}[{i}].id", f"{what}编号“{ident}”重复")
        seen.add(ident)


def renormalise(weights: Mapping[str, Fraction], present: Iterable[str]) -> dict[str, Fraction]:
    """The weights of the `present` keys, scaled to sum to exactly 1 ({} when none is)."""
    kept = {key: weights[key] for key in present}
    total = sum(kept.values(), Fraction(0))
    if not total:
        return {}
    return {key: weight / total for key, weight in kept.items()}


def weighted_mean(values: Mapping[str, Fraction], weights: Mapping[str, Fraction]) -> Fraction:
    """Σ weight × value over `weights`' keys, the weights already summing to 1."""
    return sum((weights[key] * values[key] for key in weights), Fraction(0))


def check_scale(grades: tuple[str, ...], cutoffs: tuple[Fraction, ...], where: str) -> None:
    """Grades best first, with one fewer cutoff, strictly descending, within 0–100."""
    if len(set(grades)) != len(grades) or len(grades) < 2 or not all(grades):
        raise InputError(f"{where}.grades", "等次应为2个以上互不相同的非空词，最好的在前")
    if len(cutoffs) != len(grades) - 1:
        raise InputError(
            f"{where}.cutoffs", f"分数线应比等次少一个：{len(grades)}个等次需{len(grades) - 1}条"
        )
    for i, cutoff in enumerate(cutoffs):
        bounded(cutoff, Fraction(0), HUNDRED, f"{where}.cutoffs[{i + 1}]")
        if i and not cutoffs[i - 1] > cutoff:
            raise InputError(f"{where}.cutoffs", "分数线应从高到低严格递减")


def grade_by_cutoffs(
    score: Fraction, grades: tuple[str, ...], cutoffs: tuple[Fraction, ...], label: str = "得分"
) -> Step:
    """The grade of `score` by the cutoffs, compared exactly (80 reaches 80, 89.999 not 90)."""
    for grade, cutoff in zip(grades, cutoffs, strict=False):
        if score >= cutoff:
            return Step(
                "base", grade, f"{label}{against(score, cutoffs)} ≥ {short(cutoff)} → {grade}"
            )
    return Step(
        "base",
        grades[-1],
        f"{label}{against(score, cutoffs)} < {short(cutoffs[-1])} → {grades[-1]}",
    )


def shown(value: Fraction) -> str:
    """A score for reading: two decimals (the exact value is what is compared)."""
    return decimal(value, 2)


def weights_text(weights: Mapping[str, Fraction], names: Mapping[str, str]) -> str:
    """`项目指标50%、群众测评50%`: renormalised weights as percentages (two decimals at most)."""
    return "、".join(f"{names.get(key, key)}{_percent(weight)}" for key, weight in weights.items())


def _percent(share: Fraction) -> str:
    return f"{decimal(share * 100, 2).rstrip('0').rstrip('.')}%"


def steps_to_json(steps: Iterable[Step]) -> list[dict]:
    """Steps as the engine's JSON writes them: `{"rule", "grade", "why"}`."""
    return [{"rule": s.rule, "grade": s.grade, "why": s.why} for s in steps]

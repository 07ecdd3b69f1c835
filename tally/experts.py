"""专家点评: every expert scores every reporter; the panel's score of a reporter.

With at least `ExpertPanel.trim_from` scores (5 by default) one highest and one lowest score
are dropped (去掉一个最高分、一个最低分: one each, even when several experts tie) and the rest
averaged; with fewer, the plain mean. Which of tied experts is dropped changes nothing in the
score; so that the reason never depends on the order the scores came in, the scores are sorted
by (score, expert id): the lowest is the smallest id among the lowest scores, the highest the
largest id among the highest. Scores on a scale other than 100 (`max_score`) are brought to
0–100 at the end, exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from tally.engine import Step
from tally.errors import InputError
from tally.numbers import short
from tally.scoring import HUNDRED, Number, bounded, exact, shown

DEFAULT_TRIM_FROM = 5


@dataclass(frozen=True)
class ExpertPanel:
    """How the experts' scores are combined: their scale and from how many scores on the
    highest and the lowest are dropped (at least 3, so that one score is left)."""

    max_score: Fraction = HUNDRED
    trim_from: int = DEFAULT_TRIM_FROM
    # (id, name) of each expert scoring live on their own page ([experts] members); () : the
    # scores come only from a file (pingyi tally --experts)
    members: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        top = exact(self.max_score, "experts.max_score")
        if top <= 0:
            raise InputError("experts.max_score", f"满分{short(top)}无效；应大于0")
        object.__setattr__(self, "max_score", top)
        if isinstance(self.trim_from, bool) or not isinstance(self.trim_from, int):
            raise InputError("experts.trim_from", "去分人数应为整数")
        if self.trim_from < 3:
            raise InputError(
                "experts.trim_from",
                f"{self.trim_from}人即去掉最高分和最低分无意义；应至少为3，去分后至少留下1个分数",
            )


@dataclass(frozen=True)
class ExpertScore:
    """One reporter's panel score (0–100; None: no expert scored) and how it came about."""

    score: Fraction | None
    scores: dict[str, Fraction]  # expert id -> the score given, on the panel's scale
    used: tuple[str, ...]  # the experts whose scores were averaged, by id
    dropped_high: str | None  # the expert whose highest score was dropped
    dropped_low: str | None
    steps: tuple[Step, ...]


def expert_score(
    scores: Mapping[str, Number | None], panel: ExpertPanel = ExpertPanel(), reporter: str = ""
) -> ExpertScore:
    """One reporter's scores by expert id (None: this expert did not score) → the panel score."""
    where = f"专家评分{reporter}" if reporter else "专家评分"
    steps: list[Step] = []
    given: dict[str, Fraction] = {}
    for expert, value in scores.items():
        if value is None:
            steps.append(Step("expert_missing", None, f"专家{expert}未评分，不计入"))
            continue
        given[expert] = bounded(value, Fraction(0), panel.max_score, f"{where} {expert}")
    ranked = sorted(given.items(), key=lambda pair: (pair[1], pair[0]))
    n = len(ranked)
    if not n:
        steps.append(Step("experts", None, "无专家评分，专家点评缺失"))
        return ExpertScore(None, given, (), None, None, tuple(steps))

    high = low = None
    kept = ranked
    if n >= panel.trim_from:
        (low, low_score), (high, high_score) = ranked[0], ranked[-1]
        kept = ranked[1:-1]
        why = (
            f"专家{n}人（≥{panel.trim_from}人），去掉一个最高分：{high} {short(high_score)}分"
            f"{_tie(given, high_score, high)}，一个最低分：{low} {short(low_score)}分"
            f"{_tie(given, low_score, low)}；其余{len(kept)}人平均"
        )
    else:
        why = f"专家{n}人（不足{panel.trim_from}人，不去分），平均"
    mean = sum((score for _, score in kept), Fraction(0)) / len(kept)
    score = mean * HUNDRED / panel.max_score
    why += f" {shown(mean)}"
    if panel.max_score != HUNDRED:
        why += f"（满分{short(panel.max_score)}），折合百分制 {shown(score)}"
    steps.append(Step("experts", None, why))
    return ExpertScore(score, given, tuple(sorted(e for e, _ in kept)), high, low, tuple(steps))


def expert_scores(
    table: Mapping[str, Mapping[str, Number | None]], panel: ExpertPanel = ExpertPanel()
) -> dict[str, ExpertScore]:
    """Every reporter's panel score: {reporter id: {expert id: score}} → {reporter id: ...}."""
    return {reporter: expert_score(row, panel, reporter) for reporter, row in table.items()}


def _tie(given: Mapping[str, Fraction], value: Fraction, dropped: str) -> str:
    tied = sorted(e for e, s in given.items() if s == value)
    if len(tied) < 2:
        return ""
    return f"（{'、'.join(tied)}并列{short(value)}分，只去掉一个：{dropped}）"

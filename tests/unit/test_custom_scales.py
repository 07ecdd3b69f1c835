"""Scales of one's own, the rank by final grade and the 倒排 (bottom-N), from meeting files.

Each table row is what a person would work out by hand from the rules in the file: the grade
and the reason, worded in the meeting's own terms (no 差 where the scale has none)."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from tally.engine import result_to_json, tally
from tally.meeting_file import parse_meeting_text
from tally.model import ABSTAIN, SPOILED, Ballot, Meeting
from tally.numbers import pct
from tally.report import bottom_line, format_table


def meeting_file(rules: str, reporters: int = 1, flags: dict | None = None) -> Meeting:
    flags = flags or {}
    people = "".join(
        f'[[reporters]]\nid = "r{i}"\nname = "述职人{i}"\norg = "单位{i}"\n'
        f"flags = {list(flags.get(f'r{i}', []))!r}\n".replace("'", '"')
        for i in range(1, reporters + 1)
    )
    text = (
        '[meeting]\ntitle = "测试"\ndate = "2026-12-28"\nseats = 100\n\n'
        f"{people}\n[rules]\n{rules}\n"
    )
    return parse_meeting_text(text, "测试.toml")


def column(**counts: int) -> list[str]:
    """column(优秀=9, 不合格=1, 弃权=2, 废=1) -> one reporter's marks on 13 ballots."""
    names = {"弃权": ABSTAIN, "废": SPOILED}
    return [names.get(grade, grade) for grade, n in counts.items() for _ in range(n)]


def ballots(columns: dict[str, list[str]]) -> list[Ballot]:
    rows = max(len(c) for c in columns.values())
    return [
        Ballot(f"b{i:03d}", "all", {rid: c[i] for rid, c in columns.items() if i < len(c)})
        for i in range(rows)
    ]


def result_of(m: Meeting, columns: dict[str, list[str]]) -> dict:
    return result_to_json(tally(m, ballots(columns)))


QUALIFIED = """grades = ["优秀", "合格", "基本合格", "不合格"]
poor_grade = "不合格"
score_cutoffs = [90, 75, 60]
"""

FLAGS = """grades = ["红旗", "先进", "达标", "后进"]
poor_grade = "后进"
base = "share"
share_threshold = 0.6
poor_share_limit = 0.2
poor_share_basis = "cast"
"""


# fmt: off
QUALIFIED_CASES = [
    # votes, flags, base grade, 测评等次, the reason that decided it
    (dict(优秀=20), [], "优秀", "优秀", "得分100.00 ≥ 90"),
    (dict(优秀=10, 合格=10), [], "优秀", "优秀", "得分90.00 ≥ 90"),
    (dict(合格=20), [], "合格", "合格", "得分80.00 ≥ 75"),
    (dict(合格=15, 基本合格=5), [], "合格", "合格", "得分75.00 ≥ 75"),
    (dict(基本合格=19, 合格=1), [], "基本合格", "基本合格", "得分61.00 ≥ 60"),
    (dict(基本合格=19, 不合格=1), [], "不合格", "不合格", "得分57.00 < 60"),
    # exactly 10% 不合格票 is not over the limit
    (dict(优秀=18, 不合格=2), [], "优秀", "优秀", "得分90.00 ≥ 90"),
    (dict(优秀=17, 不合格=3), [], "合格", "不合格", "不合格票 3/20=15.0% > 10%（占有效票）→ 不合格"),
    (dict(优秀=8, 不合格=1, 弃权=5), [], "合格", "不合格", "不合格票 1/9=11.1% > 10%（占有效票）→ 不合格"),
    (dict(优秀=20), ["问责"], "优秀", "不合格", "标记“问责” → 不合格"),
    (dict(优秀=20), ["表扬"], "优秀", "优秀", "得分100.00 ≥ 90"),
    (dict(弃权=3, 废=1), [], None, None, "无有效票（全部弃权或废票），无法评定等次"),
]

FLAG_CASES = [
    (dict(红旗=6, 先进=4), [], "红旗", "红旗", "红旗占60.0% ≥ 60%"),
    (dict(红旗=5, 先进=5), [], "先进", "先进", "先进及以上占100.0% ≥ 60%"),
    (dict(红旗=3, 达标=5, 后进=2), [], "达标", "达标", "达标及以上占80.0% ≥ 60%"),
    # 后进票 over the ballots cast (poor_share_basis = "cast"): 2/10 is not over 20%
    (dict(红旗=6, 后进=2, 弃权=2), [], "红旗", "红旗", "红旗占75.0% ≥ 60%"),
    (dict(红旗=7, 后进=3), [], "红旗", "后进", "后进票 3/10=30.0% > 20%（占实投票）→ 后进"),
    (dict(先进=2, 达标=2, 后进=2, 废=4), [], "达标", "达标", "达标及以上占66.7% ≥ 60%"),
    (dict(后进=10), [], "后进", "后进", "后进票 10/10=100.0% > 20%（占实投票）→ 后进"),
    (dict(红旗=10), ["重大失误"], "红旗", "后进", "标记“重大失误” → 后进"),
]
# fmt: on


@pytest.mark.parametrize(("votes", "flags", "base", "final", "why"), QUALIFIED_CASES)
def test_a_qualified_scale_grades_as_a_person_would(
    votes: dict, flags: list, base: str | None, final: str | None, why: str
) -> None:
    m = meeting_file(QUALIFIED, flags={"r1": flags})
    result = result_of(m, {"r1": column(**votes)})
    r = result["reporters"][0]
    assert (r["base_grade"], r["final_grade"], r["decided_by"]) == (base, final, why)
    assert result["poor_grade"] == "不合格"


@pytest.mark.parametrize(("votes", "flags", "base", "final", "why"), FLAG_CASES)
def test_a_red_flag_scale_grades_as_a_person_would(
    votes: dict, flags: list, base: str, final: str, why: str
) -> None:
    m = meeting_file(FLAGS, flags={"r1": flags})
    result = result_of(m, {"r1": column(**votes)})
    r = result["reporters"][0]
    assert (r["base_grade"], r["final_grade"], r["decided_by"]) == (base, final, why)
    assert result["poor_grade"] == "后进"


@pytest.mark.parametrize(
    ("rules", "cases"), [(QUALIFIED, QUALIFIED_CASES), (FLAGS, FLAG_CASES)], ids=["合格", "红旗"]
)
def test_no_reason_and_no_header_speaks_of_a_grade_the_scale_does_not_have(
    rules: str, cases: list
) -> None:
    """All the cases as one meeting, with a quota and a quorum that fails: every reason the
    engine words, and the text report, use the scale's own words."""
    n = len(cases)
    flags = {f"r{i}": case[1] for i, case in enumerate(cases, 1)}
    grades = rules.split("\n")[0]
    best = grades[grades.index('"') + 1 : grades.index('",')]
    quota = f'quorum = 1\nbottom = 2\n[rules.quota]\n"{best}" = 0.1\n'
    m = meeting_file(rules + quota, n, flags)
    result = result_of(m, {f"r{i}": column(**case[0]) for i, case in enumerate(cases, 1)})
    whys = [s["why"] for r in result["reporters"] for s in r["steps"]]
    whys += [u["why"] for u in result["undecided"]]
    assert {s["rule"] for r in result["reporters"] for s in r["steps"]} >= {
        "base",
        "poor_share",
        "override",
        "quorum",
    }
    assert all("差" not in why for why in whys), whys
    table = format_table(result)
    poor = m.rules.poor_grade
    assert f"{poor}票%" in table.splitlines()[3] and "测评等次" in table.splitlines()[3]
    assert "差" not in table


def test_a_quota_on_a_scale_of_its_own_moves_down_in_its_words() -> None:
    m = meeting_file(QUALIFIED + '[rules.quota]\n"优秀" = 0.34\n', 3)
    columns = {"r1": column(优秀=20), "r2": column(优秀=19, 合格=1), "r3": column(优秀=18, 合格=2)}
    result = result_of(m, columns)
    assert [r["final_grade"] for r in result["reporters"]] == ["优秀", "合格", "合格"]
    assert [r["decided_by"] for r in result["reporters"]][1:] == [
        "优秀限34%×3人=1人，排第2位 → 合格",
        "优秀限34%×3人=1人，排第3位 → 合格",
    ]
    assert [r["rank"] for r in result["reporters"]] == [1, 2, 3]


# -- rank: by final grade, then score ------------------------------------------------------

# fmt: off
RANK_CASES = [
    # rules, flags, each reporter's votes, the ranks
    # forced to 差 by a flag with the best votes: below everyone with a better grade
    ("", {"r1": ["问责"]}, [dict(好=20), dict(较好=20), dict(一般=20)], [3, 1, 2]),
    # forced to 差 by poor votes, score 85: below the 一般 of score 60, above the 差 of score 0
    ("", {}, [dict(好=17, 差=3), dict(一般=20), dict(差=20)], [2, 1, 3]),
    # same grade, same score: a shared rank, the next one skipped
    ("", {"r3": ["问责"]}, [dict(较好=20), dict(较好=20), dict(好=20)], [1, 1, 3]),
    # within a grade, by score
    ("", {}, [dict(一般=20), dict(一般=19, 较好=1), dict(好=20)], [3, 2, 1]),
    # no votes: no rank
    ("", {}, [dict(弃权=5), dict(一般=20), dict(好=20)], [None, 2, 1]),
    # demoted by a quota: ranked with its new grade, above the grade below
    ('[rules.quota]\n"好" = 0.5\n', {}, [dict(好=20), dict(好=19, 较好=1), dict(较好=20)], [1, 2, 3]),
    # a scale of its own
    (QUALIFIED, {"r2": ["问责"]}, [dict(合格=20), dict(优秀=20), dict(基本合格=20)], [1, 3, 2]),
    (FLAGS, {}, [dict(红旗=7, 后进=3), dict(达标=10), dict(先进=10)], [3, 2, 1]),
]
# fmt: on


@pytest.mark.parametrize(("rules", "flags", "votes", "ranks"), RANK_CASES)
def test_rank_is_by_final_grade_then_score(
    rules: str, flags: dict, votes: list, ranks: list
) -> None:
    m = meeting_file(rules, len(votes), flags)
    result = result_of(m, {f"r{i}": column(**v) for i, v in enumerate(votes, 1)})
    assert [r["rank"] for r in result["reporters"]] == ranks


# -- 倒排 -----------------------------------------------------------------------------------

# Five reporters, ranks 1..5 in speaking order: r1 best, r5 worst.
DISTINCT = [dict(好=20), dict(好=19, 较好=1), dict(较好=20), dict(一般=20), dict(差=20)]
# Ranks 1, 2, 3, 3, 5: r3 and r4 tie.
TIED = [dict(好=20), dict(较好=20), dict(一般=20), dict(一般=20), dict(差=20)]
# Ranks 1, 1, 1, 4 ... all but one alike.
ALIKE = [dict(好=20), dict(好=20), dict(好=20), dict(好=20), dict(较好=20)]


# fmt: off
BOTTOM_CASES = [
    # votes, bottom, the 倒排 worst first, bottom_size, the line
    (DISTINCT, "1", ["r5"], 1, "倒排（后1名）：述职人5（第5名）"),
    (DISTINCT, "2", ["r5", "r4"], 2, "倒排（后2名）：述职人5（第5名）、述职人4（第4名）"),
    (DISTINCT, "5", ["r5", "r4", "r3", "r2", "r1"], 5, None),
    (DISTINCT, '"10%"', ["r5"], 1, "倒排（后10%，即1名）：述职人5（第5名）"),  # 0.5 → 1
    (DISTINCT, '"20%"', ["r5"], 1, None),  # exactly 1
    (DISTINCT, '"30%"', ["r5", "r4"], 2, "倒排（后30%，即2名）：述职人5（第5名）、述职人4（第4名）"),  # 1.5 → 2
    (DISTINCT, '"100%"', ["r5", "r4", "r3", "r2", "r1"], 5, None),
    # a tie at the cut: both named, the line says so
    (TIED, "2", ["r5", "r3", "r4"], 2, "倒排（后2名；第3名并列，均列入，共3人）：述职人5（第5名）、述职人3（第3名）、述职人4（第3名）"),
    (TIED, "3", ["r5", "r3", "r4"], 3, "倒排（后3名）：述职人5（第5名）、述职人3（第3名）、述职人4（第3名）"),
    (TIED, "1", ["r5"], 1, None),  # the tie is above the cut
    (TIED, '"40%"', ["r5", "r3", "r4"], 2, None),
    (ALIKE, "2", ["r5", "r1", "r2", "r3", "r4"], 2, "倒排（后2名；第1名并列，均列入，共5人）：述职人5（第5名）、述职人1（第1名）、述职人2（第1名）、述职人3（第1名）、述职人4（第1名）"),
    # no votes: no rank, not in the 倒排; the ranked ones fill it
    ([dict(弃权=3), dict(好=20), dict(较好=20)], "2", ["r3", "r2"], 2, None),
    ([dict(弃权=3), dict(好=20), dict(较好=20)], "3", ["r3", "r2"], 3, None),
    ([dict(弃权=3), dict(废=2)], "1", [], 1, None),
]
# fmt: on


@pytest.mark.parametrize(("votes", "bottom", "ids", "size", "line"), BOTTOM_CASES)
def test_bottom_names_the_worst_ranked_with_ties_at_the_cut(
    votes: list, bottom: str, ids: list, size: int, line: str | None
) -> None:
    m = meeting_file(f"bottom = {bottom}", len(votes))
    result = result_of(m, {f"r{i}": column(**v) for i, v in enumerate(votes, 1)})
    assert (result["bottom"], result["bottom_size"]) == (ids, size)
    share = pct(m.rules.bottom_share) if m.rules.bottom_share else ""
    if line is not None:
        assert bottom_line(result, share) == line
    table = format_table(result)
    assert (table.splitlines()[-1].startswith("倒排（")) is bool(ids)


def test_without_bottom_the_list_is_empty_and_nothing_is_printed() -> None:
    m = meeting_file("", 2)
    result = result_of(m, {"r1": column(好=20), "r2": column(差=20)})
    assert (result["bottom"], result["bottom_size"]) == ([], 0)
    assert "倒排" not in format_table(result)
    assert m.rules.bottom_size(2) == 0 and m.rules.bottom_share is None


def test_a_forced_poor_reporter_is_in_the_bottom_before_a_worse_score() -> None:
    # r1 has the best votes but is made 差 by a flag: by rank, it is the one at the bottom.
    m = meeting_file("bottom = 1", 3, {"r1": ["问责"]})
    result = result_of(m, {"r1": column(好=20), "r2": column(一般=20), "r3": column(较好=20)})
    assert result["bottom"] == ["r1"]
    assert m.rules.bottom_size(3) == 1 and m.rules.bottom_share is None


def test_a_bottom_count_above_the_reporters_is_capped_in_code() -> None:
    m = meeting_file("", 2)
    rules = m.rules.__class__(bottom_count=5)
    assert rules.bottom_size(2) == 2 and rules.bottom_share is None
    assert m.rules.__class__(bottom_share=F(1, 3)).bottom_size(2) == 1

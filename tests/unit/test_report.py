"""The printed table: exact text for hand-made results, CJK counted as two terminal cells."""

from __future__ import annotations

import copy

import pytest

from tally.report import format_table, pad, width


@pytest.mark.parametrize(
    ("text", "cells"),
    [
        ("", 0),
        ("abc", 3),
        ("王建国", 6),  # East-Asian Wide
        ("Ａ1", 3),  # Fullwidth A
        ("ｱ", 1),  # Halfwidth katakana
        ("é─", 2),  # Neutral and Ambiguous count one
        ("差票%", 5),
    ],
)
def test_width_counts_wide_and_fullwidth_characters_twice(text: str, cells: int) -> None:
    assert width(text) == cells


@pytest.mark.parametrize(
    ("text", "size", "right", "padded"),
    [
        ("王", 4, False, "王  "),
        ("王", 4, True, "  王"),
        ("7", 3, True, "  7"),
        ("7", 3, False, "7  "),
        ("王建国", 6, False, "王建国"),
        ("欧阳小明", 6, True, "欧阳小明"),  # too wide already: left as it is
    ],
)
def test_pad_fills_to_terminal_cells(text: str, size: int, right: bool, padded: str) -> None:
    assert pad(text, size, right=right) == padded


def test_pad_is_left_aligned_by_default() -> None:
    assert pad("7", 3) == "7  "


def reporter(
    rid: str, name: str, mode: str, rank: int | None, counts: tuple, **rest: object
) -> dict:
    return {
        "id": rid,
        "name": name,
        "org": "单位",
        "mode": mode,
        "rank": rank,
        "counts": dict(zip(("好", "较好", "一般", "差"), counts, strict=True)),
        **rest,
    }


RESULT = {
    "valid": True,
    "quorum": {"cast": 9, "seats": 12, "required": 0.75, "met": True},
    "grades": ["好", "较好", "一般", "差"],
    "groups": [
        {"id": "a", "name": "县级领导", "seats": 4, "cast": 3},
        {"id": "b", "name": "基层代表", "seats": 8, "cast": 6},
    ],
    "reporters": [
        reporter(
            "r1", "王建国", "onsite", 1, (7, 1, 0, 0),
            abstain=1, invalid=0, poor_share=0.0, score=97.5,
            base_grade="好", final_grade="好", decided_by="得分97.50 ≥ 90",
        ),
        reporter(
            "r2", "Li", "written", 2, (2, 5, 1, 1),
            abstain=0, invalid=1, poor_share=0.1111, score=75.56,
            base_grade="一般", final_grade="差", decided_by="差票 1/9=11.1% > 10%（占有效票）→ 差",
        ),
        reporter(
            "r3", "欧阳小明", "video", None, (0, 0, 0, 0),
            abstain=9, invalid=0, poor_share=None, score=None,
            base_grade=None, final_grade=None, decided_by="无有效票（全部弃权或废票），无法评定等次",
        ),
        reporter(
            "r4", "赵六", "onsite", 10, (12, 0, 0, 0),
            abstain=0, invalid=0, poor_share=0.0, score=100.0,
            base_grade="好", final_grade="好", decided_by="",
        ),
    ],
    "quota": [{"grade": "好", "limit": 1, "holders": ["r1", "r4", "r9"]}],
    "undecided": [
        {"grade": "好", "reporters": ["r1", "r4"], "why": "好限10%×12人=1人，王建国、赵六得分等完全相同，名额内外无法区分，待会议决定"},
        {"grade": None, "reporters": ["r3"], "why": "无有效票，等次由会议决定"},
    ],
}  # fmt: skip

# Worked out by hand: numbers and the rank right-aligned, text left-aligned, two spaces
# between columns, 依据 left ragged and every line without trailing spaces.
TABLE = """\
应到12  实到9  要求75%  →  有效
县级领导 3/4  基层代表 6/8

名次  述职人    方式   好  较好  一般  差  弃权  废票  差票%    得分  基础  测评等次  依据
----  --------  -----  --  ----  ----  --  ----  ----  -----  ------  ----  --------  ----
   1  王建国    现场    7     1     0   0     1     0    0.0   97.50  好    好        得分97.50 ≥ 90
   2  Li        书面    2     5     1   1     0     1   11.1   75.56  一般  差        差票 1/9=11.1% > 10%（占有效票）→ 差
      欧阳小明  video   0     0     0   0     9     0                       待定      无有效票（全部弃权或废票），无法评定等次
  10  赵六      现场   12     0     0   0     0     0    0.0  100.00  好    好
比例限制：好最多1人，现为3人（王建国、赵六、r9）
待定（好）：王建国、赵六——好限10%×12人=1人，王建国、赵六得分等完全相同，名额内外无法区分，待会议决定
待定（无）：欧阳小明——无有效票，等次由会议决定
"""


def test_the_whole_table() -> None:
    assert format_table(RESULT) == TABLE


def test_an_invalid_tally_says_so_in_the_first_line() -> None:
    result = copy.deepcopy(RESULT)
    result["valid"] = False
    result["quorum"] = {"cast": 7, "seats": 12, "required": 2 / 3, "met": False}
    lines = format_table(result).splitlines()
    assert lines[0] == "应到12  实到7  要求66.6667%  →  测评无效（未达法定人数）"
    assert lines[1:] == TABLE.splitlines()[1:]


@pytest.mark.parametrize(
    ("share", "score", "cells"),
    [
        (0.1, 90.0, " 10.0   90.00"),
        (0.10049, 89.994, " 10.0   89.99"),
        (0.0333, 66.675, "  3.3   66.67"),  # 66.675 is a hair below in binary
        (0.005, 0.004, "  0.5    0.00"),
        (1.0, 0.0, "100.0    0.00"),
    ],
)
def test_the_share_as_a_percentage_with_one_decimal_and_the_score_with_two(
    share: float, score: float, cells: str
) -> None:
    result = copy.deepcopy(RESULT)
    result["reporters"][0].update(poor_share=share, score=score)
    row = format_table(result).splitlines()[5]
    assert (
        row
        == f"   1  王建国    现场    7     1     0   0     1     0  {cells}  好    好        得分97.50 ≥ 90"
    )


def test_the_poor_share_is_rounded_once_from_the_exact_count() -> None:
    result = copy.deepcopy(RESULT)
    # 1/69 = 1.449…%: the JSON's 0.0145 read as a percentage would give 1.5
    result["reporters"][1].update(counts=dict(好=60, 较好=5, 一般=3, 差=1), poor_share=0.0145)
    assert " 1.5 " in format_table(result).splitlines()[6]
    result["reporters"][1]["poor_share_of"] = 69
    assert " 1.4 " in format_table(result).splitlines()[6]
    result["reporters"][1]["poor_share_of"] = 70  # the share of cast ballots: 1/70 = 1.43 %
    assert " 1.4 " in format_table(result).splitlines()[6]
    result["reporters"][1]["counts"]["差"] = 7  # 7/69 = 10.1449 %
    result["reporters"][1]["poor_share_of"] = 69
    assert " 10.1 " in format_table(result).splitlines()[6]
    result["reporters"][1]["counts"]["差"] = 19  # 19/61 = 31.147 %: not 31.15 then 31.2
    result["reporters"][1]["poor_share_of"] = 61
    assert " 31.1 " in format_table(result).splitlines()[6]


def test_a_meeting_with_three_grades_and_nothing_else() -> None:
    result = {
        "valid": True,
        "quorum": {"cast": 3, "seats": 3, "required": 0.0, "met": True},
        "grades": ["优秀", "合格", "不合格"],
        "groups": [{"id": "all", "name": "全体", "seats": 3, "cast": 3}],
        "reporters": [
            {
                "id": "r1",
                "name": "张三",
                "mode": "onsite",
                "rank": 1,
                "counts": {"优秀": 3, "合格": 0, "不合格": 0},
                "abstain": 0,
                "invalid": 0,
                "poor_share": 0.0,
                "score": 100.0,
                "base_grade": "优秀",
                "final_grade": "优秀",
                "decided_by": "得分100.00 ≥ 90",
            }
        ],
        "quota": [],
        "undecided": [],
    }
    assert format_table(result) == (
        "应到3  实到3  要求0%  →  有效\n"
        "全体 3/3\n"
        "\n"
        # A result saved before `poor_grade` existed: the last grade, in its own word.
        "名次  述职人  方式  优秀  合格  不合格  弃权  废票  不合格票%    得分  基础  测评等次  依据\n"
        "----  ------  ----  ----  ----  ------  ----  ----  ---------  ------  ----  --------  ----\n"
        "   1  张三    现场     3     0       0     0     0        0.0  100.00  优秀  优秀      得分100.00 ≥ 90\n"
    )

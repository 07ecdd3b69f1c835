"""The printed table: every column starts at the same terminal cell, CJK counted as two."""

from __future__ import annotations

from fractions import Fraction as F

from tally.engine import result_to_json, tally
from tally.model import Ballot, Group, Meeting, Reporter, Rules
from tally.report import format_table, pad, width


def test_width_counts_wide_characters_twice() -> None:
    assert width("abc") == 3 and width("王建国") == 6 and width("Ａ1") == 3
    assert pad("王", 4) == "王  " and pad("7", 3, right=True) == "  7"


def sample() -> dict:
    reporters = (
        Reporter("r1", "王建国", "城关镇"),
        Reporter("r2", "Li", "Dept", mode="written"),
        Reporter("r3", "欧阳小明", "乡", flags=("问责",)),
    )
    meeting = Meeting(
        "t", "2026-12-28", reporters, (Group("all", "全体", 10),), Rules(quota=(("好", F(1, 3)),))
    )
    ballots = [
        Ballot("1", "all", {"r1": "好", "r2": "好", "r3": "好"}),
        Ballot("2", "all", {"r1": "好", "r2": "好", "r3": ""}),
    ]
    return result_to_json(tally(meeting, ballots))


def test_columns_line_up() -> None:
    lines = format_table(sample()).splitlines()
    head = lines.index(next(line for line in lines if line.startswith("名次")))
    table = lines[head : head + 5]
    # Where 最终 (the next-to-last column) starts, in terminal cells, must agree on every row.
    cells = [line.split("  ") for line in table]
    assert len({width(line[: line.rindex(cells[i][-1])]) for i, line in enumerate(table)}) == 1
    assert "待定（好）：王建国、Li" in lines[-1]
    assert "比例限制：好最多1人，现为2人（王建国、Li）" in lines
    assert "书面" in table[3] and "差" in table[4]


def test_invalid_tally_says_so() -> None:
    result = sample()
    result["valid"] = False
    assert "测评无效" in format_table(result).splitlines()[0]

"""Small meeting files to serve: three reporters, two weighted groups; and the same with the
党组 members named (部分实名) and two of them supervising (分管) a reporter each."""

from __future__ import annotations

from pathlib import Path

from tally.meeting_file import parse_meeting_text
from tally.model import Meeting

THREE_REPORTERS = """
[[reporters]]
id = "r01"
name = "王建国"
org = "城关镇党委"

[[reporters]]
id = "r02"
name = "李秀英"
org = "青溪镇党委"
mode = "written"

[[reporters]]
id = "r03"
name = "张志强"
org = "木鱼镇党委"
flags = ["问责"]

"""

SMALL_MEETING = (
    """
[meeting]
title = "{title}"
date = "2026-12-28"
place = "测试会场"
join = "{join}"
voting = "{voting}"
"""
    + THREE_REPORTERS
    + """[[groups]]
id = "leaders"
name = "县级领导"
seats = {leader_seats}
weight = 0.4

[[groups]]
id = "cadres"
name = "基层代表"
seats = {cadre_seats}
weight = 0.6

[rules]
quorum = 0
"""
)


def write_meeting(
    directory: Path,
    title: str = "测试会议",
    join: str = "cards",
    voting: str = "end",
    leader_seats: int = 10,
    cadre_seats: int = 30,
) -> tuple[Path, Meeting]:
    text = SMALL_MEETING.format(
        title=title, join=join, voting=voting, leader_seats=leader_seats, cadre_seats=cadre_seats
    )
    path = directory / "meeting.toml"
    path.write_text(text, encoding="utf-8")
    return path, parse_meeting_text(text)


# 部分实名 and 分管: 王明 supervises r01, 李华 r02, 赵刚 nobody; the 代表 stay anonymous.
NAMED_MEETING = (
    """
[meeting]
title = "部分实名测试会议"
date = "2026-12-28"
place = "测试会场"
"""
    + THREE_REPORTERS
    + """[[groups]]
id = "dangzu"
name = "党组成员"
named = true
weight = 0.4
members = [
  { id = "wang", name = "王明", supervises = ["r01"] },
  { id = "li", name = "李华", supervises = ["r02"] },
  { id = "zhao", name = "赵刚" },
]

[[groups]]
id = "cadres"
name = "基层代表"
seats = 6
weight = 0.4

[supervision]
name = "分管领导"
weight = 0.2

[rules]
quorum = 0
"""
)

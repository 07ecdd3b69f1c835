"""A small meeting file to serve: three reporters, two weighted groups."""

from __future__ import annotations

from pathlib import Path

from tally.meeting_file import parse_meeting_text
from tally.model import Meeting

SMALL_MEETING = """
[meeting]
title = "{title}"
date = "2026-12-28"
place = "测试会场"
join = "{join}"
voting = "{voting}"

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

[[groups]]
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

"""A small, realistic sample meeting for the tests and the documentation images.

`sample_meeting` builds a Meeting directly (no file) with any number of reporters and
`sample_ballots` makes deterministic ballots for it. The documentation images are rendered
from the demo meeting (examples/) by `python -m cli.doc_images docs/img`.
"""

from __future__ import annotations

import random
from fractions import Fraction

from tally.model import Ballot, Group, Meeting, Reporter, Rules

NAMES = (
    "张伟",
    "王芳",
    "李娜",
    "刘洋",
    "陈静",
    "杨帆",
    "赵磊",
    "黄敏",
    "周杰",
    "吴刚",
    "徐丽",
    "孙强",
    "胡军",
    "朱红",
    "高峰",
    "林涛",
    "何平",
    "郭亮",
    "马超",
    "罗兰",
    "梁斌",
    "宋佳",
    "郑毅",
    "谢婷",
    "韩冰",
    "唐宁",
    "冯雪",
    "于洋",
    "董明",
    "萧然",
    "程远",
    "曹阳",
    "袁媛",
    "邓超",
    "许晴",
)
ORGS = (
    "城关镇党委",
    "青山乡党委",
    "河东街道党工委",
    "县教育局党组",
    "县人民医院党委",
    "柳林镇党委",
    "县卫健局党组",
    "西湖街道党工委",
    "县市场监管局党组",
    "桃园镇党委",
)


def sample_meeting(
    reporters: int = 10, seats: tuple[int, int, int] = (9, 14, 20), grouped: bool = True
) -> Meeting:
    """Three weighted voter groups, or with grouped=False one group 全体 of all the seats."""
    people = tuple(
        Reporter(
            id=f"r{i + 1:02d}",
            name=NAMES[i % len(NAMES)] + ("" if i < len(NAMES) else str(i)),
            org=ORGS[i % len(ORGS)],
            mode="written" if i % 4 == 3 else "onsite",
        )
        for i in range(reporters)
    )
    groups: tuple[Group, ...] = (
        Group("leaders", "县级领导", seats[0], Fraction(2, 5)),
        Group("depts", "部门负责人", seats[1], Fraction(3, 10)),
        Group("reps", "党代表", seats[2], Fraction(3, 10)),
    )
    if not grouped:
        groups = (Group("all", "全体", sum(seats)),)
    rules = Rules(quorum=Fraction(4, 5), quota=(("好", Fraction(3, 10)),))
    return Meeting(
        title="2026年度党组织书记抓基层党建工作述职评议大会",
        date="2026-12-28",
        place="县委党校报告厅",
        organizer="中共某某县委组织部",
        reporters=people,
        groups=groups,
        rules=rules,
    )


def sample_ballots(meeting: Meeting, seed: int = 7, turnout: float = 0.9) -> list[Ballot]:
    rng = random.Random(seed)
    grades = meeting.rules.grades
    ballots = []
    for group in meeting.groups:
        for seat in range(round(group.seats * turnout)):
            marks = {}
            for index, reporter in enumerate(meeting.reporters):
                bias = (index * 7) % 5
                roll = rng.random()
                if roll < 0.02:
                    marks[reporter.id] = ""
                elif roll < 0.03:
                    marks[reporter.id] = "废"
                else:
                    weights = [6 - bias, 3 + bias, 1 + bias // 2, bias // 3 + 0.2]
                    marks[reporter.id] = rng.choices(grades, weights)[0]
            ballots.append(Ballot(f"b{group.id}{seat + 1:03d}", group.id, marks))
    return ballots

"""A small, realistic sample meeting for the tests and the documentation images.

`sample_meeting` builds a Meeting directly (no file) with any number of reporters and
`sample_ballots` makes deterministic ballots for it. The documentation images are rendered
from the demo meeting (examples/) by `python -m cli.doc_images docs/img`.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
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


def sample_evaluation(meeting: Meeting, result: dict, studied_on: str = "") -> dict:
    """A fixed 综合评价 record as `server.record_reader` reads it: each reporter decided at the
    测评等次, except the first, one grade lower for a reason (so the 结果运用 lists and the
    reason show). The dates follow the meeting's."""
    day = date.fromisoformat(meeting.date)
    studied_on = studied_on or (day + timedelta(days=3)).isoformat()
    grades = meeting.rules.grades
    history = []
    for index, row in enumerate(result["reporters"]):
        vote = row["final_grade"] or grades[1]
        grade, reason = vote, ""
        if index == 0:
            grade = grades[min(grades.index(vote) + 2, len(grades) - 1)]
            reason = "督导调研发现软弱涣散村党组织整顿不到位"
        history.append(
            {
                "reporter": row["id"],
                "vote_grade": row["final_grade"] or "",
                "sources": {"实地调研": vote, "平时了解": "工作积极主动"},
                "grade": grade,
                "opinion": {
                    "成绩": "履行基层党建第一责任人职责，党建引领乡村振兴成效明显。",
                    "问题": "党员教育管理创新不足，村级集体经济发展不平衡。",
                    "要求": "聚焦点评指出的问题，逐项制定整改措施，按期销号。",
                },
                "reason": reason,
                "entered_by": "组织科 李敏",
                "at": 1.0 + index,
            }
        )
    return {
        "fixed": {
            "studied_on": studied_on,
            "entered_by": "组织科 李敏",
            "at": 100.0,
            "rectify_by": (day + timedelta(days=60)).isoformat(),
        },
        "entries": {entry["reporter"]: entry for entry in history},
        "history": history,
    }

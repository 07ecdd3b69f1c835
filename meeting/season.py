"""The season's roll-up: where each unit's meeting stands, and its results by level.

Each meeting of the organisation file (`meeting.organisation`) has an `Outcome` once
something is known of it: from a meeting hosted here (its result and 综合评价 record) or
from a verified 备案 package filed by a unit that met elsewhere. `season_status` says per
meeting whether it is planned, held, its 综合评价 fixed, its record filed, with the 7-day
clock and what is late; `rollup` counts the 测评等次 and 综合评价等次 per level of the
reporting units and lists the 倒排; `feedback_for` is what a unit's secretariat sees of the
level above's decision on its secretary; `history` joins the seasons kept before.

Pure: plain data in, plain data out; `today` is given, never read.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from meeting.organisation import Organisation, PlannedMeeting
from meeting.views import measured_grade
from tally.model import Meeting

Stage = Literal["planned", "held", "fixed", "filed"]
STAGE_NAMES = {
    "planned": "计划召开",
    "held": "已召开",
    "fixed": "综合评价已确定",
    "filed": "已备案",
}
PENDING = "待定"  # a 测评等次 the vote left undecided, as the sheets print it


@dataclass(frozen=True)
class ReporterOutcome:
    id: str
    name: str
    org: str
    vote_grade: str  # 测评等次 ("" : 待定)
    final_grade: str = ""  # 综合评价等次 ("" until the record is fixed)
    opinion: Mapping[str, str] = field(default_factory=dict)  # 综合评价意见: 成绩, 问题, 要求
    rectify_by: str = ""  # 限期整改 by this date ("" : not on the 约谈提醒 list)
    bottom: bool = False  # on the 倒排 list
    category: str = ""  # the reporter's category in the meeting file (村党支部书记 …), if any


@dataclass(frozen=True)
class Outcome:
    """What is known of one meeting. `held_on`: the meeting's date once it has a result;
    `fixed_on`: the 党组研究 date once the 综合评价 is fixed; `filed_on`: the day its record
    reached this deployment (a hosted meeting's: the day it was fixed here)."""

    title: str
    held_on: str | None
    fixed_on: str | None = None
    filed_on: str | None = None
    reporters: tuple[ReporterOutcome, ...] = ()
    via: Literal["hosted", "package"] = "hosted"


def outcome(
    meeting: Meeting,
    result: Mapping[str, Any] | None,
    evaluation: Mapping[str, Any] | None,
    *,
    filed_on: str | None = None,
    via: Literal["hosted", "package"] = "hosted",
) -> Outcome:
    """From a result (the `pingyi tally` JSON) and a fixed 综合评价 record ({fixed, entries},
    as the 综合评价结果表 attaches it). A hosted meeting is filed when its record is fixed."""
    if result is None:
        return Outcome(meeting.title, None, via=via)
    votes = {r["id"]: measured_grade(r) for r in result.get("reporters", [])}
    bottom = set(result.get("bottom") or [])
    fixed = (evaluation or {}).get("fixed")
    entries = (evaluation or {}).get("entries") or {} if fixed else {}
    interview = _interview(meeting, entries)
    categories = dict(meeting.appraisal.categories)
    reporters = tuple(
        ReporterOutcome(
            r.id,
            r.name,
            r.org,
            votes.get(r.id, ""),
            entries.get(r.id, {}).get("grade", ""),
            dict(entries.get(r.id, {}).get("opinion") or {}),
            fixed.get("rectify_by", "") if fixed and r.id in interview else "",
            r.id in bottom,
            categories.get(r.id, ""),
        )
        for r in meeting.reporters
    )
    fixed_on = fixed.get("studied_on") if fixed else None
    if via == "hosted" and fixed:  # the record is here from the moment it is fixed
        filed_on = _beijing_day(fixed["at"])
    return Outcome(meeting.title, meeting.date, fixed_on, filed_on, reporters, via)


def _interview(meeting: Meeting, entries: Mapping[str, Any]) -> set[str]:
    """约谈提醒、限期整改: a 综合评价等次 below the scale's second grade (meeting.evaluation)."""
    below = set(meeting.measured_grades[2:])
    return {rid for rid, entry in entries.items() if entry.get("grade") in below}


@dataclass(frozen=True)
class MeetingStatus:
    meeting: str
    unit: str  # the unit's name
    level: str
    via: str  # "hosted" (runs here) or "package" (filed from elsewhere)
    stage: Stage
    planned_on: str | None
    held_on: str | None
    filing_deadline: str | None  # held_on + the season's filing days
    days_left: int | None  # to the filing deadline, while not filed (negative: overdue)
    late: bool
    note: str  # in Chinese: what is late, or how it stands


def season_status(
    org: Organisation, outcomes: Mapping[str, Outcome], today: datetime.date
) -> list[MeetingStatus]:
    return [_status(org, m, outcomes.get(m.id), today) for m in org.meetings]


def _status(
    org: Organisation, planned: PlannedMeeting, known: Outcome | None, today: datetime.date
) -> MeetingStatus:
    unit = org.unit(planned.unit)
    via = "hosted" if planned.hosted else "package"
    if known is None or known.held_on is None:
        due = planned.planned_on or org.season.deadline
        overdue = today > _day(org.season.deadline)
        behind = planned.planned_on is not None and today > _day(planned.planned_on)
        note = f"计划{due}前召开"
        if overdue:
            note = f"逾期：未在{org.season.deadline}前召开（尚无结果）"
        elif behind:
            note = f"逾期：计划{planned.planned_on}召开，尚无结果"
        return MeetingStatus(
            planned.id, unit.name, unit.level, via, "planned", planned.planned_on,
            None, None, None, overdue or behind, note,
        )  # fmt: skip
    deadline = _day(known.held_on) + datetime.timedelta(days=org.season.filing_days)
    stage: Stage = "filed" if known.filed_on else "fixed" if known.fixed_on else "held"
    if known.filed_on:
        late_by = (_day(known.filed_on) - deadline).days
        note = f"{known.filed_on}备案" + (f"（逾期{late_by}天）" if late_by > 0 else "")
        return MeetingStatus(
            planned.id, unit.name, unit.level, via, stage, planned.planned_on,
            known.held_on, deadline.isoformat(), None, False, note,
        )  # fmt: skip
    left = (deadline - today).days
    waiting = "待确定综合评价" if stage == "held" else "待备案"
    note = f"{waiting}，备案期限{deadline.isoformat()}（还剩{left}天）"
    if left < 0:
        note = f"逾期：备案期限{deadline.isoformat()}已过{-left}天（{waiting}）"
    return MeetingStatus(
        planned.id, unit.name, unit.level, via, stage, planned.planned_on,
        known.held_on, deadline.isoformat(), left, left < 0, note,
    )  # fmt: skip


@dataclass(frozen=True)
class RollupRow:
    """One reporter of one meeting, with the unit they lead (by the meeting's `covers`)."""

    meeting: str
    unit: str  # the reporting unit's name ("" : the reporter's org is not one it covers)
    level: str  # that unit's level ("未对应单位" when unknown)
    name: str
    org: str
    vote_grade: str
    final_grade: str
    bottom: bool
    category: str = ""  # as the meeting file gives it ("" : none)


UNMATCHED = "未对应单位"


def rollup_rows(org: Organisation, outcomes: Mapping[str, Outcome]) -> list[RollupRow]:
    rows = []
    for planned in org.meetings:
        known = outcomes.get(planned.id)
        for r in known.reporters if known is not None else ():
            unit = org.covered_unit(planned.id, r.org)
            rows.append(
                RollupRow(
                    planned.id,
                    unit.name if unit else "",
                    unit.level if unit else UNMATCHED,
                    r.name,
                    r.org,
                    r.vote_grade,
                    r.final_grade,
                    r.bottom,
                    r.category,
                )
            )
    return rows


def rollup(rows: Iterable[RollupRow]) -> dict[str, Any]:
    """Per level of the reporting units, and per reporter category where the meeting files
    give one: how many reporters, and the count per 测评等次 and per 综合评价等次 (待定 and 未确定
    counted too); the 倒排 list, meeting by meeting."""
    levels: dict[str, dict[str, Any]] = {}
    categories: dict[str, dict[str, Any]] = {}
    bottom = []
    for row in rows:
        _count(levels, row.level, row)
        if row.category:
            _count(categories, row.category, row)
        if row.bottom:
            bottom.append(asdict(row))
    return {"levels": levels, "categories": categories, "bottom": bottom}


def _count(table: dict[str, dict[str, Any]], key: str, row: RollupRow) -> None:
    counts = table.setdefault(key, {"reporters": 0, "vote": {}, "final": {}})
    counts["reporters"] += 1
    vote = row.vote_grade or PENDING
    final = row.final_grade or "未确定"
    counts["vote"][vote] = counts["vote"].get(vote, 0) + 1
    counts["final"][final] = counts["final"].get(final, 0) + 1


def feedback_for(
    org: Organisation, unit_id: str, outcomes: Mapping[str, Outcome]
) -> list[dict[str, Any]]:
    """What the level above decided on this unit's secretary, once its record is fixed: the
    测评等次, the 综合评价等次 and 意见, and the 整改 date (反馈, flowing down)."""
    out = []
    for planned in org.meetings:
        known = outcomes.get(planned.id)
        if known is None or known.fixed_on is None or unit_id not in planned.covers:
            continue
        for r in known.reporters:
            unit = org.covered_unit(planned.id, r.org)
            if unit is not None and unit.id == unit_id:
                entry = {"meeting": known.title, "held_on": known.held_on, **asdict(r)}
                out.append({**entry, "fixed_on": known.fixed_on})
    return out


def history(
    current: str, seasons: Mapping[str, Iterable[Mapping[str, Any]]]
) -> dict[str, list[dict[str, Any]]]:
    """Per reporter ("name（org）"), their grades in each season kept (rows as `rollup_rows`
    gives them, saved per season), oldest season first; only reporters seen this season."""
    seen: dict[str, list[dict[str, Any]]] = {}
    for season_id in sorted(seasons):
        for row in seasons[season_id]:
            key = f"{row['name']}（{row['org']}）"
            grades = {"vote_grade": row["vote_grade"], "final_grade": row["final_grade"]}
            seen.setdefault(key, []).append({"season": season_id, **grades})
    keys_now = {f"{r['name']}（{r['org']}）" for r in seasons.get(current, ())}
    return {key: entries for key, entries in seen.items() if key in keys_now}


BEIJING = datetime.timezone(datetime.timedelta(hours=8))


def _beijing_day(at: float) -> str:
    return datetime.datetime.fromtimestamp(at, BEIJING).date().isoformat()


def _day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)

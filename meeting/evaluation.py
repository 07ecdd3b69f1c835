"""综合评价: what the organisers (党组) decide after the meeting, as an append-only record.

The vote gives each reporter a 测评等次; it is one input. For each reporter the secretariat
then records the other sources (实地调研, 平时了解, 督导调研: a grade or a note each), the
综合评价等次 the 党组 decided and the 综合评价意见 (成绩, 问题, 要求). A 综合评价等次 other than
the 测评等次 needs a written reason. Every entry is an event saying who typed it and when; a
revision is a later entry, never an overwrite, so the record keeps its history. Fixing the
record with the date of the 党组研究 meeting closes it: nothing is entered afterwards.

Like the agenda, this is pure: `decide` turns a command into events or raises a `Rejected`
with a Chinese message naming the field; `evolve` folds one event in.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from meeting import events as e
from meeting.errors import BadField, BadGrade, BadReporter, ReasonNeeded, Refused
from meeting.text import has_unprintable, has_visible, one_line
from tally.model import Meeting

OPINION_PARTS = ("成绩", "问题", "要求")  # the 综合评价意见: 肯定成绩，指出问题，提出要求
REQUIRED_PARTS = ("成绩", "问题")
TEXT_MAX_CHARS = 2000  # one part of the opinion, or one source's note
REASON_MAX_CHARS = 500
NAME_MAX_CHARS = 40
FILING_DAYS = 7  # 于本级述职评议会议召开后7日内上报备案


@dataclass(frozen=True)
class EnterEvaluation:
    reporter: str
    grade: str
    opinion: Mapping[str, str]
    entered_by: str
    sources: Mapping[str, str] = field(default_factory=dict)
    reason: str = ""


@dataclass(frozen=True)
class FixEvaluation:
    studied_on: str  # the date of the 党组研究 meeting, YYYY-MM-DD
    entered_by: str
    # 限期整改: the date by which those on the 约谈提醒 list must have rectified (YYYY-MM-DD);
    # required when that list is not empty
    rectify_by: str = ""


Command = EnterEvaluation | FixEvaluation


@dataclass(frozen=True)
class EvaluationState:
    entries: tuple[e.EvaluationEntered, ...] = ()  # every entry, oldest first
    fixed: e.EvaluationFixed | None = None

    @property
    def current(self) -> dict[str, e.EvaluationEntered]:
        """Each reporter's latest entry."""
        return {entry.reporter: entry for entry in self.entries}

    def history(self, reporter_id: str) -> list[e.EvaluationEntered]:
        return [entry for entry in self.entries if entry.reporter == reporter_id]


def decide(
    state: EvaluationState,
    command: Command,
    meeting: Meeting,
    vote_grades: Mapping[str, str],
    now: float,
) -> list[e.Event]:
    """`vote_grades`: each reporter's 测评等次 from the latest count ("": 待定); a reporter
    not in it has not been counted yet, and gets no entry until then."""
    if state.fixed is not None:
        raise Refused(f"综合评价已于{state.fixed.studied_on}经党组研究确定，不能再录入或修改")
    if isinstance(command, FixEvaluation):
        return [_fix(state, command, meeting, now)]
    return [_enter(command, meeting, vote_grades, now)]


def _enter(
    command: EnterEvaluation,
    meeting: Meeting,
    vote_grades: Mapping[str, str],
    now: float,
) -> e.EvaluationEntered:
    if command.reporter not in {r.id for r in meeting.reporters}:
        raise BadReporter(f"述职人“{command.reporter}”不在会议文件中", "reporter")
    grades = meeting.measured_grades
    if command.grade not in grades:
        raise BadGrade(
            f"综合评价等次“{command.grade}”不是本次会议的等次（{'、'.join(grades)}）", "grade"
        )
    opinion = _parts(command.opinion, OPINION_PARTS, "opinion", "综合评价意见")
    for part in REQUIRED_PARTS:
        if part not in opinion:
            raise BadField(f"请填写综合评价意见的“{part}”部分", f"opinion.{part}")
    noted = _parts(command.sources, meeting.evaluation_sources, "sources", "评价来源")
    if command.reporter not in vote_grades:  # its round not yet counted
        name = meeting.reporter(command.reporter).name
        raise Refused(f"{name}的测评尚未计票，计票后才能录入综合评价")
    vote = vote_grades[command.reporter]
    reason = ""
    if vote and command.grade != vote:
        reason = _line(command.reason, "reason", "理由", REASON_MAX_CHARS)
        if not reason:
            raise ReasonNeeded(
                f"综合评价等次（{command.grade}）与测评等次（{vote}）不同，请写明理由", "reason"
            )
    return e.EvaluationEntered(
        command.reporter, vote, noted, command.grade, opinion, reason, _who(command), now
    )


def _fix(
    state: EvaluationState, command: FixEvaluation, meeting: Meeting, now: float
) -> e.EvaluationFixed:
    entered = state.current
    missing = [r.name for r in meeting.reporters if r.id not in entered]
    if missing:
        raise Refused(f"尚有述职人未录入综合评价：{'、'.join(missing)}")
    try:
        studied = datetime.date.fromisoformat(command.studied_on)
    except ValueError:
        raise BadField("党组研究日期应为“2026-12-30”这样的日期", "studied_on") from None
    if studied.isoformat() < meeting.date:
        raise BadField(f"党组研究日期不能早于会议日期{meeting.date}", "studied_on")
    rectify_by = _rectify_by(
        command.rectify_by, studied, bool(outcome_lists(state, meeting)["interview"])
    )
    return e.EvaluationFixed(studied.isoformat(), _who(command), now, rectify_by)


def _rectify_by(given: str, studied: datetime.date, anyone_to_rectify: bool) -> str:
    """The 限期整改 date: needed only when someone is on the 约谈提醒、限期整改 list."""
    if not given.strip():
        if anyone_to_rectify:
            raise BadField("有述职人需约谈提醒、限期整改，请填写整改完成期限", "rectify_by")
        return ""
    try:
        day = datetime.date.fromisoformat(given.strip())
    except ValueError:
        raise BadField("整改完成期限应为“2027-01-31”这样的日期", "rectify_by") from None
    if day <= studied:
        raise BadField(f"整改完成期限应晚于党组研究日期{studied.isoformat()}", "rectify_by")
    return day.isoformat()


def _parts(
    given: Mapping[str, str], allowed: tuple[str, ...], field_name: str, what: str
) -> dict[str, str]:
    """The named texts, in `allowed`'s order, each trimmed; empty ones left out."""
    unknown = [name for name in given if name not in allowed]
    if unknown:
        raise BadField(
            f"{what}没有“{unknown[0]}”这一项（可填：{'、'.join(allowed)}）",
            f"{field_name}.{unknown[0]}",
        )
    parts = {}
    for name in allowed:
        text = "\n".join(line.strip() for line in given.get(name, "").strip().splitlines())
        where = f"{field_name}.{name}"
        if has_unprintable(text, keep="\n"):
            raise BadField(f"{what}“{name}”含有无法显示的字符，请重新输入", where)
        if len(text) > TEXT_MAX_CHARS:
            raise BadField(f"{what}“{name}”过长：最多{TEXT_MAX_CHARS}字", where)
        if has_visible(text):
            parts[name] = text
    return parts


def _who(command: Command) -> str:
    """Who typed it: every entry and the fix say so."""
    who = _line(command.entered_by, "entered_by", "录入人", NAME_MAX_CHARS)
    if not who:
        raise BadField("请填写录入人姓名", "entered_by")
    return who


def _line(text: str, field_name: str, what: str, limit: int) -> str:
    """A one-line text, "" when nothing in it is visible."""
    text = one_line(text)
    if has_unprintable(text):
        raise BadField(f"{what}含有无法显示的字符，请重新输入", field_name)
    if len(text) > limit:
        raise BadField(f"{what}过长：最多{limit}字", field_name)
    return text if has_visible(text) else ""


def evolve(state: EvaluationState, event: e.Event) -> EvaluationState:
    if isinstance(event, e.EvaluationEntered):
        return replace(state, entries=(*state.entries, event))
    if isinstance(event, e.EvaluationFixed):
        return replace(state, fixed=event)
    return state  # the agenda's events, and any this version does not know


def fold(events: Iterable[e.Event], state: EvaluationState | None = None) -> EvaluationState:
    state = state or EvaluationState()
    for event in events:
        state = evolve(state, event)
    return state


def filing_deadline(meeting_date: str) -> str:
    """The last day to file the record with the level above: 7 days after the meeting."""
    day = datetime.date.fromisoformat(meeting_date) + datetime.timedelta(days=FILING_DAYS)
    return day.isoformat()


def outcome_lists(state: EvaluationState, meeting: Meeting) -> dict[str, list[str]]:
    """结果运用 from the 综合评价等次 entered so far (final once the record is fixed)."""
    return outcomes_for({rid: entry.grade for rid, entry in state.current.items()}, meeting)


def outcomes_for(decided: Mapping[str, str], meeting: Meeting) -> dict[str, list[str]]:
    """结果运用 from each reporter's 综合评价等次, in speaking order: `interview`, the reporters
    to be 约谈提醒、限期整改 (every grade below the second best: 一般 and 差 on the default scale,
    基本合格 and 不合格 on 优秀…不合格), and `not_excellent`, those whose 年度考核 may not be
    rated 优秀 (the poor grade of the rules, which a 三评 meeting's scale must include)."""
    grades = meeting.measured_grades
    ordered = [(r.id, decided[r.id]) for r in meeting.reporters if r.id in decided]
    return {
        "interview": [rid for rid, grade in ordered if grade in grades[2:]],
        "not_excellent": [rid for rid, grade in ordered if grade == meeting.rules.poor_grade],
    }

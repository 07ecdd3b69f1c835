"""专家点评 and 项目指标 entered live: the composite's other two sources (issue 17).

A 三评 meeting (`[composite]` in the meeting file) combines the phones' vote with a named
expert panel's scores and the organisers' indicator values. The experts are listed in the
meeting file (`[experts] members`); each scores each reporter on their own page with a
personal key (`expert_key`), or the secretariat types a score in from the expert's paper,
saying who typed it. The indicator values come from the organisers' file (CSV or xlsx, read
by the shell), imported whole; a later import replaces the table. Both are events, never
anonymous, and both are closed once the vote is counted: the result at close counts what is
recorded then (`experts_table`, `indicators_table`).

Pure, as the agenda is: `decide` turns a command into events or raises a `Rejected` with a
Chinese message naming the field; `evolve` folds one event in.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from meeting import events as e
from meeting.errors import BadField, BadReporter, Refused
from meeting.text import one_line
from tally.model import Meeting
from tally.numbers import exact_text, parse_number, short

NAME_MAX_CHARS = 40
LOCKED = "测评结果已计算：专家评分和项目指标已计入结果，不能再录入或修改"


@dataclass(frozen=True)
class ScoreReporter:
    expert: str
    reporter: Any  # as the client sent it: checked by `decide`
    score: Any  # a number on the panel's scale, or None to clear the score
    entered_by: str = ""  # "" : the expert, on their own page


@dataclass(frozen=True)
class ImportIndicators:
    # {reporter id: {indicator id: value or None}}, as tally.item_csv.parse_indicators_csv reads it
    values: Mapping[str, Mapping[str, Fraction | None]]
    name: str


Command = ScoreReporter | ImportIndicators


@dataclass(frozen=True)
class PanelState:
    scores: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # reporter → expert
    indicators: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    indicators_name: str = ""  # "" : nothing imported


def expert_key(secret: bytes, expert_id: str) -> str:
    """An expert's personal key (24 hex characters): derived, so it needs no storage."""
    return hmac.new(secret, f"pingyi-expert:{expert_id}".encode(), hashlib.sha256).hexdigest()[:24]


def expert_for_key(secret: bytes, meeting: Meeting, key: str | None) -> str | None:
    """The expert whose key this is (compared in constant time), or None."""
    found = None
    for expert_id, _ in members(meeting):
        if key is not None and hmac.compare_digest(expert_key(secret, expert_id), key):
            found = expert_id
    return found


def members(meeting: Meeting) -> tuple[tuple[str, str], ...]:
    panel = meeting.appraisal.experts
    return panel.members if panel is not None else ()


def decide(
    state: PanelState, command: Command, meeting: Meeting, closed: frozenset[str], now: float
) -> list[e.Event]:
    """`closed`: the reporters of the rounds closed and counted so far. A reporter's score is
    closed with their vote (the count at close takes what is recorded then); the indicator
    values with the first vote closed."""
    if isinstance(command, ScoreReporter):
        if isinstance(command.reporter, str) and command.reporter in closed:
            raise Refused(LOCKED, "reporter")
        return [_score(command, meeting, now)]
    if closed:
        raise Refused(LOCKED, "indicators")
    return [_indicators(command, meeting, now)]


def _score(command: ScoreReporter, meeting: Meeting, now: float) -> e.ExpertScored:
    if command.expert not in dict(members(meeting)):
        raise BadField(f"专家“{command.expert}”不在会议文件的[experts] members中", "expert")
    if command.reporter not in [r.id for r in meeting.reporters]:  # (an unhashable one too)
        raise BadReporter(f"述职人“{command.reporter}”不在本次会议中", "reporter")
    by = one_line(command.entered_by) if isinstance(command.entered_by, str) else None
    if by is None or len(by) > NAME_MAX_CHARS:
        raise BadField(f"录入人应为最多{NAME_MAX_CHARS}字的姓名", "entered_by")
    if command.score is None:
        return e.ExpertScored(command.expert, command.reporter, "", by, now)
    panel = meeting.appraisal.experts
    assert panel is not None  # members exist only with a panel
    score = _number(command.score)
    if score is None or not 0 <= score <= panel.max_score:
        raise BadField(f"评分应为0到{short(panel.max_score)}之间的数", "score")
    return e.ExpertScored(command.expert, command.reporter, exact_text(score), by, now)


def _number(value: Any) -> Fraction | None:
    """A score as typed: an integer or a decimal (`tally.numbers.parse_number`)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    return parse_number(str(value))


def _indicators(command: ImportIndicators, meeting: Meeting, now: float) -> e.IndicatorsImported:
    if not meeting.appraisal.indicators:
        raise BadField("会议文件没有[[indicators]]，不能导入项目指标", "indicators")
    known = {r.id for r in meeting.reporters}
    unknown = [rid for rid in command.values if rid not in known]
    if unknown:
        raise BadReporter(f"项目指标中的述职人“{unknown[0]}”不在本次会议中", "indicators")
    name = one_line(command.name) if isinstance(command.name, str) else ""
    values = {
        rid: {ind: "" if value is None else exact_text(value) for ind, value in row.items()}
        for rid, row in command.values.items()
    }
    return e.IndicatorsImported(values, name[: NAME_MAX_CHARS * 2] or "项目指标", now)


def evolve(state: PanelState, event: e.Event) -> PanelState:
    if isinstance(event, e.ExpertScored):
        row = {**state.scores.get(event.reporter, {}), event.expert: event.score}
        if not event.score:
            del row[event.expert]
        return replace(state, scores={**state.scores, event.reporter: row})
    assert isinstance(event, e.IndicatorsImported)
    return replace(state, indicators=event.values, indicators_name=event.name)


def experts_table(
    state: PanelState, meeting: Meeting
) -> dict[str, dict[str, Fraction | None]] | None:
    """The scores as tally.appraisal takes them: for each reporter someone scored, every
    expert of the panel, None where they did not (said in the reasons); None: nobody scored."""
    named = [eid for eid, _ in members(meeting)]
    table: dict[str, dict[str, Fraction | None]] = {}
    for rid in (r.id for r in meeting.reporters):
        row = state.scores.get(rid) or {}
        if row:
            table[rid] = {eid: Fraction(row[eid]) if eid in row else None for eid in named}
    return table or None


def indicators_table(
    state: PanelState, reporters: Collection[str] | None = None
) -> dict[str, dict[str, Fraction | None]] | None:
    """The imported values as tally.appraisal takes them (of these reporters, if given);
    None: nothing imported."""
    if not state.indicators_name:
        return None
    return {
        rid: {ind: Fraction(v) if v else None for ind, v in row.items()}
        for rid, row in state.indicators.items()
        if reporters is None or rid in reporters
    }


def panel_view(state: PanelState, meeting: Meeting) -> dict[str, Any]:
    """For the chair console and the 会后 page: who scored how many, what was imported."""
    return {
        "experts": [
            {
                "id": eid,
                "name": name,
                "scored": sum(eid in row for row in state.scores.values()),
            }
            for eid, name in members(meeting)
        ],
        "reporters": len(meeting.reporters),
        "indicators": state.indicators_name,
        "indicator_rows": len(state.indicators),
    }


def expert_view(
    state: PanelState, meeting: Meeting, expert_id: str, closed: frozenset[str]
) -> dict:
    """An expert's own page: the reporters and this expert's scores (never another's), and
    whose scores are closed (their vote counted)."""
    panel = meeting.appraisal.experts
    assert panel is not None
    return {
        "expert": {"id": expert_id, "name": dict(members(meeting))[expert_id]},
        "title": meeting.title,
        "max_score": float(panel.max_score),
        "reporters": [
            {
                "id": r.id,
                "name": r.name,
                "org": r.org,
                "mode": r.mode,
                "closed": r.id in closed,
            }
            for r in meeting.reporters
        ],
        "scores": {rid: row[expert_id] for rid, row in state.scores.items() if expert_id in row},
    }

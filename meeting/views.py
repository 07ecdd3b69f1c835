"""What each kind of client sees: pure functions from the meeting state to plain maps.

Phones see the agenda and, after reveal, the final grades; the projector adds turnout and the
revealed results; the chair sees all that plus results before reveal, comments, the actions
that fit now and the rounds waiting for the 监票人's key. Nobody sees a count of marks while a
round is open: the marks are sealed until it closes (server/sealing.py). The field list is in
docs/protocol.md.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from meeting import evaluation, panel
from meeting.agenda import MeetingState, Round, allowed_actions
from meeting.ballot_layout import forms_info
from tally.model import Meeting


def meeting_header(meeting: Meeting) -> dict[str, Any]:
    """What every view and `/api/meeting` say of the meeting itself."""
    return {
        "title": meeting.title,
        "date": meeting.date,
        "place": meeting.place,
        "join": meeting.join,
        "voting": meeting.voting,
    }


def meeting_info(meeting: Meeting) -> dict[str, Any]:
    """`/api/meeting`: the header, the reporters, the voter groups and the grades; with item
    checklists, the forms and which group fills in which (`meeting.ballot_layout`)."""
    return {
        **meeting_header(meeting),
        "reporters": [
            {"id": r.id, "name": r.name, "org": r.org, "mode": r.mode} for r in meeting.reporters
        ],
        "groups": [{"id": g.id, "name": g.name, "seats": g.seats} for g in meeting.groups],
        "grades": list(meeting.rules.grades),
        **forms_info(meeting),  # a meeting with item checklists: each group's form
    }


def agenda_view(meeting: Meeting, state: MeetingState) -> dict[str, Any]:
    step = state.step
    held = state.current_round
    if not state.started:
        phase_state = "not_started"
    elif state.finished:
        phase_state = "finished"
    else:
        phase_state = "running"
    return {
        "meeting": meeting_header(meeting),
        "reporters": [
            {
                "id": r.id,
                "name": r.name,
                "org": r.org,
                "mode": r.mode,
                "status": state.reporter_status(r.id),
            }
            for r in meeting.reporters
        ],
        "state": phase_state,
        "step": state.position if step is not None else None,
        "phase": step.kind if step is not None else None,
        "reporter": step.reporter if step is not None else None,
        # a comment step's commenters (several on a 集中点评), the closing 讲话's speaker
        "commenters": list(step.commenters) if step is not None else [],
        "timer": {
            "started_at": state.step_started_at,
            "paused_total": state.paused_total,
            "paused_at": state.paused_at,
        },
        "budget": step_budget(meeting, step.kind if step is not None else None),
        "paused": state.paused,
        "round": _round_view(state, held) if held is not None else _ready_round(state),
        "agenda_v": state.agenda_version,
    }


def plan_view(state: MeetingState) -> list[dict[str, Any]]:
    """The agenda's steps as `meeting.agenda.plan` laid them out: what comes next."""
    return [
        {"kind": s.kind, "reporters": list(s.reporters), "commenters": list(s.commenters)}
        for s in state.steps
    ]


def remarks_view(state: MeetingState) -> list[dict[str, str]]:
    """Every 点评 and 讲话 saved, in the order first saved: kind, reporter, by, text."""
    return [
        {"kind": kind, "reporter": reporter, "by": by, "text": text}
        for (kind, reporter, by), text in state.remarks.items()
    ]


def step_budget(meeting: Meeting, kind: str | None) -> float | None:
    """The time budget of a step of this kind, in seconds (None: the timer only counts up)."""
    minutes = {
        "report": meeting.agenda.report_minutes,
        "comment": meeting.agenda.comment_minutes,
    }.get(kind or "")
    return float(minutes * 60) if minutes is not None else None


def _round_view(state: MeetingState, held: Round) -> dict[str, Any]:
    return {
        "id": held.id,
        "reporters": list(held.reporters),
        "status": held.status,
        "opened_at": held.opened_at,
        "sealed": bool(held.sealing_key),
        "awaiting_teller": _awaiting_teller(state, held),
        # The inputs fixed in front of the room: the meeting file at open, the ballots at close.
        "meeting_digest": held.meeting_digest,
        "ballots_digest": state.ballot_digests.get(held.id, ""),
        "voided": voided_view(state, held.step),
    }


def voided_view(state: MeetingState, position: int | None = None) -> list[dict[str, Any]]:
    """The rounds voided (重新测评), the step's at `position`: never their result, only what
    the room was told: how many ballots, why and when."""
    return [
        {
            "id": r.id,
            "reporters": list(r.reporters),
            "cast": r.total,
            "reason": r.void_reason,
            "at": r.voided_at,
        }
        for r in state.voided_rounds(position)
    ]


def _awaiting_teller(state: MeetingState, held: Round) -> bool:
    return held.awaiting_teller and held.id not in state.results and held.status != "voided"


def _ready_round(state: MeetingState) -> dict[str, Any] | None:
    step = state.step
    if step is None or step.kind != "vote":
        return None
    return {
        "id": state.next_round_id(state.position),
        "reporters": list(step.reporters),
        "status": "ready",
        "opened_at": None,
        "sealed": False,
        "awaiting_teller": False,
        "meeting_digest": "",
        "ballots_digest": "",
        "voided": voided_view(state, state.position),
    }


def latest_result(state: MeetingState, revealed_only: bool) -> dict[str, Any] | None:
    """The newest result (with voting = "each" it covers every round closed so far); a voided
    round's result is never shown."""
    for held in reversed(state.held_rounds):
        if held.id in state.results and held.status != "voided":
            if not revealed_only or held.status == "revealed":
                return state.results[held.id]
    return None


def phone_view(meeting: Meeting, state: MeetingState) -> dict[str, Any]:
    view = agenda_view(meeting, state)
    result = latest_result(state, revealed_only=True)
    view["results"] = [_phone_row(r) for r in result["reporters"]] if result else None
    return view


COMPOSITE = ("composite_grade", "composite_score")  # a 三评 meeting's 测评等次 and 综合得分


def _phone_row(row: dict[str, Any]) -> dict[str, Any]:
    """What a phone shows of a reporter's result: the grade, and in a 三评 meeting the
    composite's (the 测评等次 there; `final_grade` is only the vote's part)."""
    shown = {"id": row["id"], "final_grade": row["final_grade"]}
    shown |= {key: row[key] for key in COMPOSITE if key in row}
    return shown


def measured_grade(row: dict[str, Any]) -> str:
    """A reporter's 测评等次 in a result: the composite's in a 三评 meeting, else the vote's
    ("" for 待定)."""
    grade = row["composite_grade"] if "composite_grade" in row else row.get("final_grade")
    return grade or ""


def turnout(meeting: Meeting, state: MeetingState) -> dict[str, Any]:
    held = state.current_round or state.open_round
    cast = dict(held.cast) if held is not None else {}
    return {
        "cast": sum(cast.values()),
        "seats": meeting.seats,
        "quorum": float(meeting.rules.quorum),  # cast / seats must reach it (测评有效)
        "groups": [
            {"id": g.id, "name": g.name, "seats": g.seats, "cast": cast.get(g.id, 0)}
            for g in meeting.groups
        ],
    }


def screen_view(meeting: Meeting, state: MeetingState, join_url: str | None) -> dict[str, Any]:
    view = agenda_view(meeting, state)
    view["turnout"] = turnout(meeting, state)
    view["join_url"] = join_url if meeting.join == "open" else None
    view["plan"] = plan_view(state)
    view["result"] = latest_result(state, revealed_only=True)
    return view


def chair_view(
    meeting: Meeting, state: MeetingState, join_url: str | None, now: float
) -> dict[str, Any]:
    view = screen_view(meeting, state, join_url)
    view["awaiting_teller"] = sorted(
        r.id for r in state.rounds.values() if _awaiting_teller(state, r)
    )
    view["result"] = latest_result(state, revealed_only=False)
    view["remarks"] = remarks_view(state)
    view["actions"] = allowed_actions(state, now)
    view["joined"] = dict(state.joined)
    return view


def vote_grades(state: MeetingState) -> dict[str, str]:
    """Each reporter's 测评等次 in the latest count ("" for 待定); {} before any count."""
    result = latest_result(state, revealed_only=False) or {}
    return {r["id"]: measured_grade(r) for r in result.get("reporters", [])}


def evaluation_view(meeting: Meeting, state: MeetingState) -> dict[str, Any]:
    """The 会后 page's (`GET /api/evaluation`): per reporter the 测评等次 of the latest result,
    the current 综合评价 entry and every earlier one; the sources and parts to fill in, whether
    the record is fixed, the 结果运用 lists, and the filing deadline (备案, 7 days after the
    meeting)."""
    votes = vote_grades(state)
    record = state.evaluation
    fixed = record.fixed
    return {
        "grades": list(meeting.measured_grades),
        "poor_grade": meeting.rules.poor_grade,
        "sources": list(meeting.evaluation_sources),
        "opinion_parts": list(evaluation.OPINION_PARTS),
        "deadline": evaluation.filing_deadline(meeting.date),
        "fixed": dataclasses.asdict(fixed) if fixed is not None else None,
        "outcomes": evaluation.outcome_lists(record, meeting),
        # the 点评 and 讲话, which may be pasted in once the meeting is over (补录)
        "remark_steps": [
            {
                "step": position,
                "kind": step.remark_kind,
                "reporters": list(step.reporters),
                "commenters": list(step.commenters),
            }
            for position, step in enumerate(state.steps)
            if step.remark_kind is not None
        ],
        "remarks": remarks_view(state),
        "finished": state.finished,
        "reporters": [
            {
                "id": r.id,
                "name": r.name,
                "org": r.org,
                "vote_grade": votes.get(r.id, ""),
                "history": [dataclasses.asdict(entry) for entry in record.history(r.id)],
            }
            for r in meeting.reporters
        ],
    }


def closed_reporters(state: MeetingState) -> frozenset[str]:
    """The reporters of every round closed and counted (their panel scores are closed too)."""
    return frozenset(rid for r in state.held_rounds if r.counted for rid in r.reporters)


def expert_view(meeting: Meeting, state: MeetingState, expert_id: str) -> dict[str, Any]:
    """An expert's own page (`meeting.panel.expert_view`) as the state stands."""
    return panel.expert_view(state.panel, meeting, expert_id, closed_reporters(state))

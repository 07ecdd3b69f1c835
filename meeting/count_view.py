"""The counting station (计票台): the reconciliation panel of a paper count, live, and the
回收 figure the 计票人 types in.

Per voter group, as on a paper count: 应到 (the seats, each one a card issued), 手机 (ballots
cast by phone), 纸质已录入 (paper ballots entered), 纸质回收 (paper ballots found in the box,
as typed at the station), 废票 (ballots spoiled as a whole: only once the round is counted)
and 未回收 (cards from which no ballot came back), with a warning when the numbers cannot be
right. Never a mark or a count of marks while a round runs: the marks are sealed until it
closes (docs/security.md); the spoiled ballots come from the result, after the count.
Pure functions, like every view.
"""

from __future__ import annotations

from typing import Any

from meeting import events as e
from meeting.agenda import MeetingState, Round
from meeting.errors import BadField, Refused
from meeting.text import has_unprintable, one_line
from meeting.views import meeting_header
from tally.model import Meeting

BY_MAX_CHARS = 40  # who typed the 回收 figure
OVER_ISSUED = "回收票数超过发出票数"
OVER_RETURNED = "录入张数超过回收张数"


def station_round(state: MeetingState) -> Round | None:
    """The round the station counts: the open one, else the current vote step's, else the
    last round held that was not voided (the agenda may have moved on while the box is
    counted)."""
    held = state.open_round or state.current_round
    if held is not None and held.status != "voided":
        return held
    live = [r for r in state.held_rounds if r.status != "voided"]
    return live[-1] if live else None


def _spoiled(state: MeetingState, held: Round) -> dict[str, int] | None:
    """Ballots spoiled as a whole per group, from the round's count (None before it). With
    voting = "each" a result counts every round so far: the round's own is the difference
    from the result of the round counted before it."""
    result = state.results.get(held.id)
    if result is None or held.status not in ("closed", "revealed"):
        return None
    spoiled = {g["id"]: int(g.get("spoiled") or 0) for g in result.get("groups", [])}
    earlier = [r for r in state.held_rounds if r.counted and r.seq < held.seq]
    if earlier:
        before = state.results.get(earlier[-1].id)
        if before is None:
            return None
        for g in before.get("groups", []):
            spoiled[g["id"]] = spoiled.get(g["id"], 0) - int(g.get("spoiled") or 0)
    return spoiled


def _group_row(
    group_id: str, name: str, seats: int, held: Round | None, spoiled: dict[str, int] | None
) -> dict[str, Any]:
    cast = held.cast.get(group_id, 0) if held else 0
    paper = held.paper.get(group_id, 0) if held else 0
    phone = cast - paper
    returned = held.returned.get(group_id) if held else None
    warnings = []
    if returned is not None and returned + phone > seats:
        warnings.append(f"{OVER_ISSUED}（手机{phone}张＋回收{returned}张＞应到{seats}张）")
    if returned is not None and paper > returned:
        warnings.append(f"{OVER_RETURNED}（已录入{paper}张＞回收{returned}张）")
    # Until the box is counted, the paper ballots entered are the ones known to be back.
    back = returned if returned is not None else paper
    return {
        "id": group_id,
        "name": name,
        "seats": seats,
        "issued": seats,
        "phone": phone,
        "paper": paper,
        "returned": returned,
        "returned_by": held.returned_by.get(group_id, "") if held else "",
        "to_enter": max(0, returned - paper) if returned is not None else None,
        "spoiled": spoiled.get(group_id, 0) if spoiled is not None else None,
        "not_returned": max(0, seats - phone - back),
        "warnings": warnings,
    }


def count_view(meeting: Meeting, state: MeetingState) -> dict[str, Any]:
    """`GET /api/count`: the reconciliation panel of the station's round (docs/protocol.md)."""
    held = station_round(state)
    spoiled = _spoiled(state, held) if held else None
    groups = [_group_row(g.id, g.name, g.seats, held, spoiled) for g in meeting.groups]
    numbers = ("seats", "issued", "phone", "paper", "not_returned")
    totals: dict[str, Any] = {name: sum(g[name] for g in groups) for name in numbers}
    typed = [g["returned"] for g in groups if g["returned"] is not None]
    totals["returned"] = sum(typed) if typed else None
    totals["spoiled"] = sum(g["spoiled"] for g in groups) if spoiled is not None else None
    names = {r.id: r for r in meeting.reporters}
    return {
        "meeting": meeting_header(meeting),
        "grades": list(meeting.rules.grades),
        "round": None
        if held is None
        else {
            "id": held.id,
            "status": held.status,
            "opened_at": held.opened_at,
            "reporters": [
                {"id": rid, "name": names[rid].name, "org": names[rid].org}
                for rid in held.reporters
                if rid in names
            ],
        },
        "groups": groups,
        "totals": totals,
        "warnings": [f"{g['name']}：{text}" for g in groups for text in g["warnings"]],
    }


def decide_returned(
    meeting: Meeting, state: MeetingState, group: Any, count: Any, by: Any, now: float
) -> e.PaperReturned:
    """The 回收 figure typed at the station for the station's round, checked."""
    held = station_round(state)
    if held is None:
        raise Refused("尚未开启投票，没有可填写回收票数的轮次", "round")
    found = next((g for g in meeting.groups if g.id == group), None)
    if found is None:
        raise BadField("请选择有效的参会人员类别", "group")
    if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 100_000:
        raise BadField("回收票数应为0或正整数", "count")
    if not isinstance(by, str):
        raise BadField("录入人应为文字", "by")
    by = one_line(by)
    if has_unprintable(by):
        raise BadField("录入人姓名含有无法显示的字符，请重新输入", "by")
    if len(by) > BY_MAX_CHARS:
        raise BadField(f"录入人姓名过长：最多{BY_MAX_CHARS}字", "by")
    return e.PaperReturned(held.id, found.id, count, by, now)

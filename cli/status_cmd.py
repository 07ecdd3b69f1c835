"""`pingyi status`: where a meeting stands, from its data directory, in plain Chinese.

The agenda (not started / step i of n / finished), each round and its ballots, the 综合评价
(entered for how many reporters, fixed or not), the 备案 deadline (7 days after the meeting)
and whether the package is already written. It reads the event stream and folds it with the
agenda's own `fold`, as the live server does; it opens no ballot, so it works mid-vote.
"""

from __future__ import annotations

import argparse
import datetime
from pathlib import Path
from typing import Any

from cli.files import read_meeting
from meeting import agenda
from meeting.agenda import MeetingState
from meeting.evaluation import filing_deadline
from printouts.archive import archive_name
from printouts.sheet_record import BEIJING
from tally.errors import InputError
from tally.model import Meeting

ROUND_STATUS = {
    "open": "投票中",
    "closed": "已结束投票，未公布结果",
    "revealed": "已公布结果",
    "voided": "已作废（重新测评）",
}
STEP_KIND = {"report": "述职", "comment": "点评", "vote": "测评投票", "speech": "讲话"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "status",
        help="say where the meeting stands (会议进度、综合评价、备案期限)",
        description="Print the agenda's position, each voting round and its ballots, the "
        "综合评价 entered and whether it is fixed, the 备案 deadline and whether the package "
        "was written, read from the server's data directory.",
    )
    parser.add_argument("meeting", type=Path, help="the meeting file (TOML)")
    parser.add_argument(
        "--data", type=Path, required=True, metavar="DIR", help="the server's data directory"
    )
    parser.set_defaults(func=run_status)


def run_status(args: argparse.Namespace) -> int:
    meeting, _ = read_meeting(args.meeting)
    state = read_state(meeting, args.data)
    name = archive_name(meeting)
    found = next((p for p in (Path.cwd() / name, Path(args.data) / name) if p.exists()), None)
    # The deadline is a date where the meeting is held: Beijing's, whatever this machine's zone.
    print(describe(meeting, state, datetime.datetime.now(BEIJING).date(), found))
    return 0


def read_state(meeting: Meeting, data_dir: Path, client: Any = None) -> MeetingState:
    """The agenda's state folded from the stored events (from `client` when given)."""
    if client is not None:
        return _fold(meeting, client)
    if not Path(data_dir).is_dir():
        raise InputError(str(data_dir), "数据目录不存在")
    # Only here: the Redis client, and an embedded Redis when no server runs.
    from server.datadir import DataDir
    from server.redis_target import open_target

    target = open_target(DataDir(Path(data_dir)))
    try:
        return _fold(meeting, target.sync_client())
    finally:
        target.shutdown_embedded()  # only if no server is using it


def _fold(meeting: Meeting, client: Any) -> MeetingState:
    from server.codec import decode_entry
    from server.store import Keys, meeting_key

    entries = client.xrange(Keys(meeting_key(meeting)).events, "-", "+")
    events = [event for _, event in (decode_entry(f) for _, f in entries) if event is not None]
    return agenda.fold(agenda.initial_state(meeting), events)


def describe(
    meeting: Meeting, state: MeetingState, today: datetime.date, archive: Path | None = None
) -> str:
    """The status report, one line per topic."""
    lines = [
        f"会议：{meeting.title}（{meeting.date}{'，' + meeting.place if meeting.place else ''}）"
    ]
    lines.append(f"议程：{_agenda(meeting, state)}")
    lines += _rounds(meeting, state)
    lines.append(f"综合评价：{_evaluation(meeting, state)}")
    lines.append(f"备案期限：{_deadline(meeting, today)}")
    lines.append(f"备案包：已生成 {archive}" if archive else "备案包：尚未生成（pingyi archive）")
    return "\n".join(lines)


def _agenda(meeting: Meeting, state: MeetingState) -> str:
    total = len(state.steps)
    if not state.started:
        return f"尚未开始（共{total}项）"
    step = state.step
    if step is None:
        return f"已结束（共{total}项）"
    if step.kind == "vote":
        what = f"测评投票（{len(step.reporters)}位述职人）"
    elif step.reporter is None:  # a 集中点评, or the closing 讲话
        what = "集中点评" if step.kind == "comment" else STEP_KIND[step.kind]
        what += f"（{'、'.join(step.commenters)}）" if step.commenters else ""
    else:
        reporter = meeting.reporter(step.reporter)
        what = f"{reporter.name}（{reporter.org}）{STEP_KIND[step.kind]}"
    paused = "，已暂停" if state.paused else ""
    return f"进行中，第{state.position + 1}项/共{total}项：{what}{paused}"


def _rounds(meeting: Meeting, state: MeetingState) -> list[str]:
    held = state.held_rounds
    if not held:
        return ["投票：尚未开启"]
    names = {g.id: g.name for g in meeting.groups}
    lines = []
    for number, held_round in enumerate(held, start=1):
        status = ROUND_STATUS.get(held_round.status, held_round.status)
        if held_round.status == "voided" and held_round.void_reason:
            status += f"，原因：{held_round.void_reason}"
        if held_round.awaiting_teller:
            status += "，需要监票人密钥"
        groups = "，".join(
            f"{names.get(gid, gid)} {count}" for gid, count in held_round.cast.items()
        )
        cast = f"已投{held_round.total}张" + (f"（{groups}）" if groups else "")
        who = len(held_round.reporters)
        lines.append(
            f"投票第{number}轮：{status}；{cast}；测评{who}位述职人；应到{meeting.seats}人"
        )
    return lines


def _evaluation(meeting: Meeting, state: MeetingState) -> str:
    record = state.evaluation
    entered = sum(r.id in record.current for r in meeting.reporters)
    counted = f"已录入{entered}/{len(meeting.reporters)}位述职人"
    fixed = record.fixed
    if fixed is None:
        return f"{counted}，尚未经党组研究确定"
    until = f"，限期整改至{fixed.rectify_by}" if fixed.rectify_by else ""
    return f"{counted}，已经党组于{fixed.studied_on}研究确定{until}"


def _deadline(meeting: Meeting, today: datetime.date) -> str:
    deadline = filing_deadline(meeting.date)
    days = (datetime.date.fromisoformat(deadline) - today).days
    if days > 0:
        left = f"还有{days}天"
    elif days == 0:
        left = "今天截止"
    else:
        left = f"已逾期{-days}天"
    return f"{deadline}前（会议召开后7日内上报），{left}"

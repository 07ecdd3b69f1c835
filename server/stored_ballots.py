"""How a ballot is kept in Redis: one member of its round's sorted set, scored by its receipt.

A member is a schema byte and then msgpack: `SCHEMA` (3) + `[receipt, group, marks]`, where
`marks` is one byte per reporter of the round, in the round's order (`VotingOpened.reporters`):
a grade's index in the round's grades, or `BLANK` / `SPOILED_MARK`. In a meeting with item
checklists (`[[forms]]`) one byte per item answer follows, as the group's form lays them out
(`meeting.ballot_layout`); a reporter the form grades not is stored `BLANK` and read as not
on the ballot. The set's order is the
receipts' (random) order, not the order in which ballots came in, and bytes unpack fast enough
to read thousands of ballots back at a close.

A ballot of a named group (部分实名, `Group.named`) has a fourth field, the member who cast
it; an anonymous ballot never has one, so its member is exactly what it was before.

A paper ballot, typed in by the secretariat against its card's short code
(`MeetingService.paper`), is `PAPER_SCHEMA` (5) + the same three fields: the schema byte says
how the ballot came, so that a phone ballot is stored exactly as before and a paper one costs
no byte more. Every member of an older schema is a phone ballot.

A sealed member (schema 6, or 4 before the paper byte; `server.sealing`) holds the marks
encrypted while its round is open, with the paper byte inside the seal; it is opened and
stored again in one of these forms at close.

Older records hold members without the schema byte (they start with msgpack's three-element
array, 0x93): schema 1 kept `marks` as a map of reporter id to word, schema 2 as the bytes of
today. `upcast` turns either into today's form, so the rest of the code reads one format.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from meeting.ballot_layout import Part, answers_from_codes, item_count
from server.codec import pack, unpack
from server.sealing import BallotOpener, is_sealed
from tally.model import ABSTAIN, SPOILED, Ballot

SCHEMA = 3  # a phone ballot
PAPER_SCHEMA = 5  # a paper ballot: the same fields (4 and 6 are sealed, server.sealing)
_LEGACY_HEAD = 0x93  # msgpack: an array of three, how members began before the schema byte
BLANK, SPOILED_MARK = 0xFE, 0xFF  # a stored mark byte that is not a grade's index

# (receipt, group, marks bytes): a stored ballot in today's form.
Stored = tuple[str, str, bytes]
Upcaster = Callable[[list, tuple[str, ...], tuple[str, ...]], list]
# A group's ballot layout in this round (meeting.ballot_layout.ballot_parts), for item forms.
PartsOf = Callable[[str], tuple[Part, ...]]


def _codes(grades: tuple[str, ...]) -> dict[str, int]:
    return {ABSTAIN: BLANK, SPOILED: SPOILED_MARK} | {grade: i for i, grade in enumerate(grades)}


def mark_bytes(marks: dict[str, str], grades: tuple[str, ...]) -> bytes:
    """`marks` as `check_marks` returns them (every reporter of the round, in its order) as
    one byte each: what a member stores, in the clear or sealed."""
    codes = _codes(grades)
    return bytes(codes[mark] for mark in marks.values())


def encode_ballot(
    receipt: str, group: str, marks: bytes, paper: bool = False, voter: str = ""
) -> bytes:
    """A member in the clear, from its mark bytes; `paper` for a paper ballot; `voter` the
    member who cast a named group's ballot (部分实名), a fourth field only then."""
    fields = [receipt, group, marks, voter] if voter else [receipt, group, marks]
    return bytes([PAPER_SCHEMA if paper else SCHEMA]) + pack(fields)


def _words_to_bytes(fields: list, reporters: tuple[str, ...], grades: tuple[str, ...]) -> list:
    """Schema 1 → 2: marks as a map of words become one byte per reporter of the round."""
    receipt, group, words = fields
    codes = _codes(grades)
    return [receipt, group, bytes(codes[words.get(reporter, ABSTAIN)] for reporter in reporters)]


# schema -> the function that turns that schema's fields into the next schema's
UPCASTERS: dict[int, Upcaster] = {
    1: _words_to_bytes,
    2: lambda fields, reporters, grades: fields,  # only the schema byte was added
}


def receipt_of(member: bytes) -> str:
    """A stored member's receipt, whatever its schema, sealed or not: each one's first field."""
    fields = unpack(member if member[0] == _LEGACY_HEAD else member[1:])
    return str(fields[0])


def upcast(member: bytes, reporters: tuple[str, ...], grades: tuple[str, ...]) -> Stored:
    """One stored member, of any schema, in today's form; an error if it cannot be this round's.
    (Whether it is a paper ballot is its schema byte: `is_paper`.)"""
    return _upcast(member, reporters, grades)[:3]


def _upcast(
    member: bytes, reporters: tuple[str, ...], grades: tuple[str, ...]
) -> tuple[str, str, bytes, str]:
    """`upcast`, and the voter of a named ballot ("" for an anonymous one)."""
    if is_sealed(member):
        raise ValueError("a sealed ballot: it must be opened with its round's key first")
    if member[0] == _LEGACY_HEAD:
        fields = unpack(member)
        schema = 2 if isinstance(fields[2], bytes) else 1
    else:
        schema, fields = member[0], unpack(member[1:])
        schema = SCHEMA if schema == PAPER_SCHEMA else schema
    if not 1 <= schema <= SCHEMA:
        raise ValueError(f"stored ballot of unknown schema {schema}")
    while schema < SCHEMA:
        fields = UPCASTERS[schema](fields, reporters, grades)
        schema += 1
    receipt, group, marks, *named = fields
    if len(marks) < len(reporters):
        raise ValueError(f"stored ballot {receipt}: {len(marks)} marks, not {len(reporters)}")
    return receipt, group, marks, named[0] if named else ""


def is_paper(member: bytes) -> bool:
    """Whether a member in the clear is a paper ballot (older schemas: phone ballots)."""
    return member[0] == PAPER_SCHEMA


def open_members(members: list[bytes], opener: BallotOpener) -> list[bytes]:
    """A round's members with every sealed one opened into today's form, a paper ballot as a
    paper one (the others as they are); `SealError` if one does not open with the round's key."""
    return [encode_ballot(*opener.open_ballot(m)) if is_sealed(m) else m for m in members]


def _words(grades: tuple[str, ...]) -> list[str | None]:
    """A stored mark byte → its word."""
    words: list[str | None] = [None] * 256
    words[: len(grades)] = grades
    words[BLANK], words[SPOILED_MARK] = ABSTAIN, SPOILED
    return words


def decode_ballots(
    members: list[bytes],
    reporters: tuple[str, ...],
    grades: tuple[str, ...],
    parts_of: PartsOf | None = None,
) -> list[Ballot]:
    """The ballots of one round, whose reporters (in order) and grades are given; `parts_of`
    for a meeting with item forms (None: one grade byte per reporter, nothing after)."""
    words = _words(grades)
    ballots = []
    for member in members:
        receipt, group, marks, voter = _upcast(member, reporters, grades)
        parts = parts_of(group) if parts_of is not None else ()
        if len(marks) != len(reporters) + item_count(parts):
            expected = len(reporters) + item_count(parts)
            raise ValueError(f"stored ballot {receipt}: {len(marks)} bytes, not {expected}")
        grade_bytes = marks[: len(reporters)]
        found = _marks(reporters, grade_bytes, words)
        if parts:
            found = {p.reporter: found[p.reporter] for p in parts if p.graded}
        items = answers_from_codes(marks[len(reporters) :], parts) if parts else {}
        paper = is_paper(member)
        ballots.append(
            Ballot(id=receipt, group=group, marks=found, paper=paper, items=items, voter=voter)
        )
    return ballots


def _marks(reporters: tuple[str, ...], marks: bytes, words: list[str | None]) -> dict[str, str]:
    found = dict(zip(reporters, map(words.__getitem__, marks), strict=True))
    if None in found.values():
        raise ValueError(f"stored marks {marks.hex()}: a byte that is no grade")
    return cast(dict[str, str], found)  # no None left: checked just above

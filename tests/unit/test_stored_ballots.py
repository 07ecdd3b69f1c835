"""How a ballot is stored: a schema byte and one byte per reporter of the round, read back to
the same marks whatever schema it was stored with; a sealed one is never read as marks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.codec import pack, unpack
from server.sealing import BallotSealer, TellerKeys, new_round_key
from server.stored_ballots import (
    SCHEMA,
    decode_ballots,
    encode_ballot,
    mark_bytes,
    receipt_of,
    upcast,
)
from tally.model import ABSTAIN, SPOILED


def encode(receipt: str, group: str, marks: dict[str, str], grades: tuple[str, ...]) -> bytes:
    return encode_ballot(receipt, group, mark_bytes(marks, grades))


GRADES = ("好", "较好", "一般", "差")
REPORTERS = tuple(f"r{n:02d}" for n in range(1, 31))
MARKS = st.sampled_from([*GRADES, ABSTAIN, SPOILED])


@given(st.lists(MARKS, min_size=30, max_size=30))
def test_stored_marks_read_back_the_same(marks: list[str]) -> None:
    checked = dict(zip(REPORTERS, marks, strict=True))
    member = encode("ABCDE-FGHJK", "cadres", checked, GRADES)
    (ballot,) = decode_ballots([member], REPORTERS, GRADES)
    assert ballot.id == "ABCDE-FGHJK" and ballot.group == "cadres"
    assert ballot.marks == checked
    assert list(ballot.marks) == list(REPORTERS)  # the round's order


def test_a_stored_ballot_is_a_schema_byte_then_small_msgpack_without_words() -> None:
    member = encode("ABCDE-FGHJK", "cadres", dict.fromkeys(REPORTERS, "较好"), GRADES)
    assert member[0] == SCHEMA == 3
    assert unpack(member[1:]) == ["ABCDE-FGHJK", "cadres", bytes([1] * 30)]
    assert len(member) < 60
    assert "较好".encode() not in member and b"r01" not in member


@given(st.lists(MARKS, min_size=3, max_size=3))
def test_every_older_schema_reads_as_today(marks: list[str]) -> None:
    reporters = ("r01", "r02", "r03")
    checked = dict(zip(reporters, marks, strict=True))
    today = encode("ABCDE-FGHJK", "leaders", checked, GRADES)
    words = {r: m for r, m in checked.items() if m != ABSTAIN}  # schema 1 could omit blanks
    schema_1 = pack(["ABCDE-FGHJK", "leaders", words])
    schema_2 = today[1:]  # bytes of marks, before the schema byte
    for member in (schema_1, schema_2, today):
        assert upcast(member, reporters, GRADES) == upcast(today, reporters, GRADES)
        assert decode_ballots([member], reporters, GRADES)[0].marks == checked


@pytest.mark.parametrize(
    ("member", "error"),
    [
        (encode("ABCDE-FGHJK", "c", {"r01": "好", "r02": "差"}, GRADES), "2 marks, not 3"),
        (pack(["ABCDE-FGHJK", "c", b"\x00\x01"]), "2 marks, not 3"),
        (bytes([SCHEMA + 2]) + pack(["ABCDE-FGHJK", "c", b"\x00\x01\x02"]), "unknown schema 5"),
        (bytes([0]) + pack(["ABCDE-FGHJK", "c", b"\x00\x01\x02"]), "unknown schema 0"),
    ],
)
def test_a_ballot_that_cannot_be_this_rounds_is_an_error_not_a_shifted_vote(
    member: bytes, error: str
) -> None:
    with pytest.raises(ValueError, match=error):
        decode_ballots([member], ("r01", "r02", "r03"), GRADES)


def test_every_stored_form_gives_its_receipt() -> None:
    _, seal = new_round_key(1, TellerKeys.generate().public)
    sealed = BallotSealer(1, seal.public).seal("ABCDE-FGHJK", "c", bytes([0, 1]))
    today = encode("ABCDE-FGHJK", "c", {"r01": "好"}, GRADES)
    schema_1 = pack(["ABCDE-FGHJK", "c", {"r01": "好"}])
    assert {receipt_of(m) for m in (sealed, today, today[1:], schema_1)} == {"ABCDE-FGHJK"}


def test_a_sealed_ballot_is_refused_until_it_is_opened() -> None:
    _, seal = new_round_key(1, TellerKeys.generate().public)
    member = BallotSealer(1, seal.public).seal("ABCDE-FGHJK", "c", bytes([0, 1, 2]))
    with pytest.raises(ValueError, match="sealed ballot"):
        decode_ballots([member], ("r01", "r02", "r03"), GRADES)


def test_a_mark_byte_that_is_no_grade_is_an_error_not_a_missing_mark() -> None:
    member = bytes([SCHEMA]) + pack(["ABCDE-FGHJK", "c", bytes([0, 7])])
    with pytest.raises(ValueError, match="a byte that is no grade"):
        decode_ballots([member], ("r01", "r02"), GRADES)

"""How a ballot is stored: a schema byte and one byte per reporter of the round, read back to
the same marks whatever schema it was stored with, and counted into the chair's live counts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.codec import pack, unpack
from server.stored_ballots import SCHEMA, decode_ballots, encode_ballot, live_counts, upcast
from tally.model import ABSTAIN, SPOILED

GRADES = ("好", "较好", "一般", "差")
REPORTERS = tuple(f"r{n:02d}" for n in range(1, 31))
MARKS = st.sampled_from([*GRADES, ABSTAIN, SPOILED])


@given(st.lists(MARKS, min_size=30, max_size=30))
def test_stored_marks_read_back_the_same(marks: list[str]) -> None:
    checked = dict(zip(REPORTERS, marks, strict=True))
    member = encode_ballot("ABCDE-FGHJK", "cadres", checked, GRADES)
    (ballot,) = decode_ballots([member], REPORTERS, GRADES)
    assert ballot.id == "ABCDE-FGHJK" and ballot.group == "cadres"
    assert ballot.marks == checked
    assert list(ballot.marks) == list(REPORTERS)  # the round's order


def test_a_stored_ballot_is_a_schema_byte_then_small_msgpack_without_words() -> None:
    member = encode_ballot("ABCDE-FGHJK", "cadres", dict.fromkeys(REPORTERS, "较好"), GRADES)
    assert member[0] == SCHEMA == 3
    assert unpack(member[1:]) == ["ABCDE-FGHJK", "cadres", bytes([1] * 30)]
    assert len(member) < 60
    assert "较好".encode() not in member and b"r01" not in member


@given(st.lists(MARKS, min_size=3, max_size=3))
def test_every_older_schema_reads_as_today(marks: list[str]) -> None:
    reporters = ("r01", "r02", "r03")
    checked = dict(zip(reporters, marks, strict=True))
    today = encode_ballot("ABCDE-FGHJK", "leaders", checked, GRADES)
    words = {r: m for r, m in checked.items() if m != ABSTAIN}  # schema 1 could omit blanks
    schema_1 = pack(["ABCDE-FGHJK", "leaders", words])
    schema_2 = today[1:]  # bytes of marks, before the schema byte
    for member in (schema_1, schema_2, today):
        assert upcast(member, reporters, GRADES) == upcast(today, reporters, GRADES)
        assert decode_ballots([member], reporters, GRADES)[0].marks == checked


@pytest.mark.parametrize(
    ("member", "error"),
    [
        (encode_ballot("ABCDE-FGHJK", "c", {"r01": "好", "r02": "差"}, GRADES), "2 marks, not 3"),
        (pack(["ABCDE-FGHJK", "c", b"\x00\x01"]), "2 marks, not 3"),
        (bytes([SCHEMA + 1]) + pack(["ABCDE-FGHJK", "c", b"\x00\x01\x02"]), "unknown schema 4"),
        (bytes([0]) + pack(["ABCDE-FGHJK", "c", b"\x00\x01\x02"]), "unknown schema 0"),
    ],
)
def test_a_ballot_that_cannot_be_this_rounds_is_an_error_not_a_shifted_vote(
    member: bytes, error: str
) -> None:
    with pytest.raises(ValueError, match=error):
        decode_ballots([member], ("r01", "r02", "r03"), GRADES)
    with pytest.raises(ValueError, match=error):
        live_counts([member], ("r01", "r02", "r03"), GRADES)


@given(st.lists(st.lists(MARKS, min_size=30, max_size=30), max_size=40))
def test_live_counts_count_every_mark_of_every_stored_ballot(ballots: list[list[str]]) -> None:
    members = [
        encode_ballot(f"R{n:04d}-XXXXX", "cadres", dict(zip(REPORTERS, marks, strict=True)), GRADES)
        for n, marks in enumerate(ballots)
    ]
    expected: dict[str, dict[str, int]] = {}
    for marks in ballots:  # the plain way: one mark at a time
        for reporter, mark in zip(REPORTERS, marks, strict=True):
            expected.setdefault(reporter, {})
            expected[reporter][mark] = expected[reporter].get(mark, 0) + 1
    assert live_counts(members, REPORTERS, GRADES) == expected


def test_live_counts_add_ballots_of_every_schema() -> None:
    old = pack(["ABCDE-FGHJK", "leaders", {"r01": "好", "r02": ""}])
    new = encode_ballot("BCDEF-GHJKM", "leaders", {"r01": "好", "r02": "差"}, GRADES)
    counts = live_counts([old, new], ("r01", "r02"), GRADES)
    assert counts == {"r01": {"好": 2}, "r02": {"": 1, "差": 1}}


def test_a_mark_byte_that_is_no_grade_is_an_error_not_a_missing_mark() -> None:
    member = bytes([SCHEMA]) + pack(["ABCDE-FGHJK", "c", bytes([0, 7])])
    with pytest.raises(ValueError, match="a byte that is no grade"):
        decode_ballots([member], ("r01", "r02"), GRADES)

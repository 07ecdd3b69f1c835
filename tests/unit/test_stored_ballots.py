"""How a ballot is stored: a schema byte and one byte per reporter of the round, read back to
the same marks whatever schema it was stored with; a sealed one is never read as marks."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.codec import pack, unpack
from server.sealing import (
    NONCE_BYTES,
    OLD_SEALED_SCHEMA,
    SEALED_SCHEMA,
    BallotOpener,
    BallotSealer,
    SealError,
    TellerKeys,
    is_sealed,
    new_round_key,
)
from server.stored_ballots import (
    PAPER_SCHEMA,
    SCHEMA,
    decode_ballots,
    encode_ballot,
    is_paper,
    mark_bytes,
    open_members,
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
        (bytes([7]) + pack(["ABCDE-FGHJK", "c", b"\x00\x01\x02"]), "unknown schema 7"),
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


def test_a_paper_ballot_is_its_own_schema_with_the_same_fields_and_reads_back_as_paper() -> None:
    marks = bytes([0, 0xFE, 0xFF])
    phone = encode_ballot("ABCDE-FGHJK", "cadres", marks)
    paper = encode_ballot("ABCDE-FGHJK", "cadres", marks, paper=True)
    assert phone[0] == SCHEMA and paper[0] == PAPER_SCHEMA and phone[1:] == paper[1:]
    assert [is_paper(phone), is_paper(paper)] == [False, True]
    reporters = ("r01", "r02", "r03")
    assert upcast(paper, reporters, GRADES) == upcast(phone, reporters, GRADES)
    a, b = decode_ballots([phone, paper], reporters, GRADES)
    assert (a.paper, b.paper) == (False, True) and a.marks == b.marks == {
        "r01": "好",
        "r02": ABSTAIN,
        "r03": SPOILED,
    }
    assert receipt_of(paper) == "ABCDE-FGHJK"


def test_every_older_schema_is_a_phone_ballot() -> None:
    reporters = ("r01",)
    schema_1 = pack(["ABCDE-FGHJK", "c", {"r01": "好"}])
    schema_2 = pack(["ABCDE-FGHJK", "c", bytes([0])])
    schema_3 = bytes([3]) + schema_2
    assert [b.paper for b in decode_ballots([schema_1, schema_2, schema_3], reporters, GRADES)] == [
        False
    ] * 3


@given(st.lists(MARKS, min_size=3, max_size=3), st.booleans())
def test_a_sealed_ballot_opens_into_the_form_it_would_have_had_in_the_clear(
    marks: list[str], paper: bool
) -> None:
    reporters = ("r01", "r02", "r03")
    private, seal = new_round_key(3, TellerKeys.generate().public)
    encoded = mark_bytes(dict(zip(reporters, marks, strict=True)), GRADES)
    sealed = BallotSealer(3, seal.public).seal("ABCDE-FGHJK", "c", encoded, paper)
    assert sealed[0] == SEALED_SCHEMA and is_sealed(sealed)
    (opened,) = open_members([sealed], BallotOpener(3, private))
    assert opened == encode_ballot("ABCDE-FGHJK", "c", encoded, paper)
    assert decode_ballots([opened], reporters, GRADES)[0].paper is paper


def test_a_paper_ballot_sealed_is_as_long_as_a_phone_one() -> None:
    _, seal = new_round_key(1, TellerKeys.generate().public)
    sealer = BallotSealer(1, seal.public)
    phone = sealer.seal("ABCDE-FGHJK", "c", bytes([0, 1]))
    paper = sealer.seal("ABCDE-FGHJK", "c", bytes([0, 1]), paper=True)
    assert len(phone) == len(paper) and phone[0] == paper[0]


def test_a_ballot_sealed_before_the_paper_byte_still_opens_as_a_phone_ballot() -> None:
    """What a round open at the upgrade holds: schema 4, the plaintext the marks alone."""
    private, seal = new_round_key(2, TellerKeys.generate().public)
    sealer = BallotSealer(2, seal.public)
    today = sealer.seal("ABCDE-FGHJK", "c", bytes([0, 1]))
    receipt, group, ephemeral, body = unpack(today[1:])
    nonce = os.urandom(NONCE_BYTES)
    old_body = nonce + sealer._box.encrypt(nonce, bytes([0, 1]), pack([2, receipt, group]))
    old = bytes([OLD_SEALED_SCHEMA]) + pack([receipt, group, ephemeral, old_body])
    assert is_sealed(old)
    opener = BallotOpener(2, private)
    assert opener.open_ballot(old) == ("ABCDE-FGHJK", "c", bytes([0, 1]), False, "")
    assert opener.open(old) == ("ABCDE-FGHJK", "c", bytes([0, 1]))
    (opened,) = open_members([old], opener)
    assert opened == encode_ballot("ABCDE-FGHJK", "c", bytes([0, 1]))
    with pytest.raises(ValueError, match="sealed ballot"):
        decode_ballots([old], ("r01", "r02"), GRADES)


VOTERS = st.sampled_from(["", "wang", "李华", "m" * 64])


@given(st.lists(MARKS, min_size=3, max_size=3), st.booleans(), VOTERS)
def test_a_named_ballot_keeps_its_voter_in_the_clear_and_sealed(
    marks: list[str], paper: bool, voter: str
) -> None:
    """部分实名: a named group's ballot carries who cast it, through the seal and back; an
    anonymous ballot's member has exactly the three fields it always had."""
    reporters = ("r01", "r02", "r03")
    encoded = mark_bytes(dict(zip(reporters, marks, strict=True)), GRADES)
    clear = encode_ballot("ABCDE-FGHJK", "c", encoded, paper, voter)
    assert len(unpack(clear[1:])) == (4 if voter else 3)
    private, seal = new_round_key(3, TellerKeys.generate().public)
    sealed = BallotSealer(3, seal.public).seal("ABCDE-FGHJK", "c", encoded, paper, voter)
    assert len(unpack(sealed[1:])) == (5 if voter else 4)
    (opened,) = open_members([sealed], BallotOpener(3, private))
    assert opened == clear
    (ballot,) = decode_ballots([opened], reporters, GRADES)
    assert (ballot.voter, ballot.paper) == (voter, paper)
    assert upcast(opened, reporters, GRADES) == ("ABCDE-FGHJK", "c", encoded)


def test_a_sealed_named_ballot_whose_voter_was_changed_does_not_open() -> None:
    private, seal = new_round_key(3, TellerKeys.generate().public)
    sealed = BallotSealer(3, seal.public).seal("ABCDE-FGHJK", "c", bytes([0, 1]), False, "wang")
    fields = unpack(sealed[1:])
    for forged in ([*fields[:4], "li"], fields[:4]):  # another member's name, or none at all
        with pytest.raises(SealError):
            BallotOpener(3, private).open_ballot(bytes([SEALED_SCHEMA]) + pack(forged))

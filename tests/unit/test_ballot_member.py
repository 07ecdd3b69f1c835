"""How a ballot is stored: one byte per reporter of the round, read back to the same marks,
and counted into the chair's live counts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.ballots import ballot_member, live_counts, read_members
from server.codec import pack, unpack
from tally.model import ABSTAIN, SPOILED

GRADES = ("好", "较好", "一般", "差")
REPORTERS = tuple(f"r{n:02d}" for n in range(1, 31))


@given(st.lists(st.sampled_from([*GRADES, ABSTAIN, SPOILED]), min_size=30, max_size=30))
def test_stored_marks_read_back_the_same(marks: list[str]) -> None:
    checked = dict(zip(REPORTERS, marks, strict=True))
    member = ballot_member("ABCDE-FGHJK", "cadres", checked, GRADES)
    (ballot,) = read_members([member], REPORTERS, GRADES)
    assert ballot.id == "ABCDE-FGHJK" and ballot.group == "cadres"
    assert ballot.marks == checked
    assert list(ballot.marks) == list(REPORTERS)  # the round's order


def test_a_stored_ballot_is_small_and_holds_no_reporter_or_grade_words() -> None:
    member = ballot_member("ABCDE-FGHJK", "cadres", dict.fromkeys(REPORTERS, "较好"), GRADES)
    receipt, group, marks = unpack(member)
    assert marks == bytes([1] * 30) and len(member) < 60
    assert "较好".encode() not in member and b"r01" not in member


def test_ballots_stored_as_a_map_of_words_are_still_read() -> None:
    old = pack(["ABCDE-FGHJK", "leaders", {"r01": "好", "r02": ""}])
    (ballot,) = read_members([old], ("r01", "r02"), GRADES)
    assert ballot.marks == {"r01": "好", "r02": ""}


def test_a_ballot_with_the_wrong_number_of_marks_is_an_error_not_a_shifted_vote() -> None:
    member = ballot_member("ABCDE-FGHJK", "cadres", {"r01": "好", "r02": "差"}, GRADES)
    with pytest.raises(ValueError, match="2 marks, not 3"):
        read_members([member], ("r01", "r02", "r03"), GRADES)


@given(
    st.lists(
        st.lists(st.sampled_from([*GRADES, ABSTAIN, SPOILED]), min_size=30, max_size=30),
        max_size=40,
    )
)
def test_live_counts_count_every_mark_of_every_stored_ballot(ballots: list[list[str]]) -> None:
    members = [
        ballot_member(f"R{n:04d}-XXXXX", "cadres", dict(zip(REPORTERS, marks, strict=True)), GRADES)
        for n, marks in enumerate(ballots)
    ]
    expected: dict[str, dict[str, int]] = {}
    for marks in ballots:  # the plain way: one mark at a time
        for reporter, mark in zip(REPORTERS, marks, strict=True):
            expected.setdefault(reporter, {})
            expected[reporter][mark] = expected[reporter].get(mark, 0) + 1
    assert live_counts(members, REPORTERS, GRADES) == expected


def test_live_counts_add_ballots_stored_as_a_map_of_words() -> None:
    old = pack(["ABCDE-FGHJK", "leaders", {"r01": "好", "r02": ""}])
    new = ballot_member("BCDEF-GHJKM", "leaders", {"r01": "好", "r02": "差"}, GRADES)
    counts = live_counts([old, new], ("r01", "r02"), GRADES)
    assert counts == {"r01": {"好": 2}, "r02": {"": 1, "差": 1}}
    with pytest.raises(ValueError, match="2 marks, not 3"):
        live_counts([new], ("r01", "r02", "r03"), GRADES)

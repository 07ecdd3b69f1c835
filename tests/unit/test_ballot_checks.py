"""A ballot on its way in: its id (cid) is checked, its marks read against the round, and the
voter's receipt derived from the round, the card and the cid. The known answers were checked
against `openssl dgst -sha256 -hmac`."""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meeting.ballot_checks import (
    CID_MAX,
    CID_MIN,
    RECEIPT_BITS,
    ballot_fingerprint,
    check_cid,
    check_marks,
    receipt_for,
    receipt_score,
)
from meeting.errors import BadField, BadGrade, BadReporter, Rejected
from meeting.join_cards import CROCKFORD
from tally.model import ABSTAIN, SPOILED, Group, Meeting, Reporter, Rules

KEY = b"k" * 32
RECEIPT = re.compile(f"^[{CROCKFORD}]{{5}}-[{CROCKFORD}]{{5}}$")
MEETING = Meeting(
    "测试会议",
    "2026-12-28",
    (Reporter("r01", "王建国", "城关镇党委"), Reporter("r02", "李秀英", "青溪镇党委")),
    (Group("leaders", "县级领导", 10),),
)
ROUND = ("r01", "r02")

# ---- receipts ---------------------------------------------------------------------------------


TOKEN = "t" * 64  # a card's token hash


def test_a_receipt_is_the_first_50_bits_of_a_keyed_hash_of_round_card_and_cid() -> None:
    assert RECEIPT_BITS == 50
    assert receipt_for(KEY, 3, TOKEN, "c" * 16) == "9PT6Q-FFV5Q"
    assert receipt_score("9PT6Q-FFV5Q") == 0x4DB46BBDFB2DE7F3 >> 14 == 341749188258999


@given(st.binary(min_size=1, max_size=40), st.text(min_size=16, max_size=64))
def test_receipts_are_ten_crockford_characters_split_in_two(key: bytes, cid: str) -> None:
    receipt = receipt_for(key, 1, TOKEN, cid)
    assert RECEIPT.match(receipt), receipt
    assert receipt_for(key, 1, TOKEN, cid) == receipt  # a resubmission gets the same receipt
    assert 0 <= receipt_score(receipt) < 2**RECEIPT_BITS


@given(st.text(min_size=16, max_size=64))
def test_no_two_cards_rounds_or_attempts_share_a_receipt_whatever_the_cid(cid: str) -> None:
    """The cid is the client's choice: two cards sending the same one, or one card reusing it in
    the next round, must still get different receipts (ballot ids)."""
    receipts = {
        receipt_for(KEY, round_id, token, cid, attempt)
        for round_id in (2, 5)
        for token in ("a" * 64, "b" * 64)
        for attempt in (0, 1)
    }
    assert len(receipts) == 8


def test_the_fingerprint_is_a_keyed_hash_of_round_card_cid_and_marks() -> None:
    marks = {"r01": "好", "r02": ""}
    assert ballot_fingerprint(KEY, 3, TOKEN, "c" * 16, marks) == (
        "52f8e58f7d822bc53ffec851d85d7ef9ef2bf46182c2ed7a"  # the HMAC's first 192 bits
    )
    others = [
        ballot_fingerprint(KEY, 3, TOKEN, "c" * 16, {"r01": "差", "r02": ""}),  # other marks
        ballot_fingerprint(KEY, 4, TOKEN, "c" * 16, marks),  # other round
        ballot_fingerprint(KEY, 3, "u" * 64, "c" * 16, marks),  # other card
        ballot_fingerprint(KEY, 3, TOKEN, "d" * 16, marks),  # other cid
        ballot_fingerprint(b"j" * 32, 3, TOKEN, "c" * 16, marks),  # other meeting
    ]
    assert len({ballot_fingerprint(KEY, 3, TOKEN, "c" * 16, marks), *others}) == 6


@pytest.mark.parametrize(
    ("receipt", "score"),
    [
        ("00000-00000", 0),
        ("00000-00001", 1),
        ("00000-0000Z", 31),
        ("00000-00010", 32),
        ("00000-000Z0", 31 * 32),
        ("10000-00000", 32**9),
        ("ZZZZZ-ZZZZZ", 2**50 - 1),
        ("0000000001", 1),  # the dash is only for reading
    ],
)
def test_a_receipt_s_score_reads_it_as_a_base_32_number(receipt: str, score: int) -> None:
    assert receipt_score(receipt) == score


@given(st.integers(0, 2**50 - 1), st.integers(0, 2**50 - 1))
def test_ordering_by_score_is_ordering_by_receipt(a: int, b: int) -> None:
    def receipt(value: int) -> str:
        chars = "".join(CROCKFORD[value // 32**i % 32] for i in range(9, -1, -1))
        return f"{chars[:5]}-{chars[5:]}"

    assert (receipt_score(receipt(a)), receipt_score(receipt(b))) == (a, b)
    assert (receipt(a) < receipt(b)) == (a < b)


# ---- cid ------------------------------------------------------------------------------------


@pytest.mark.parametrize("cid", ["a" * CID_MIN, "Z" * CID_MAX, "0123456789abcdef-_~ !"])
def test_a_cid_of_16_to_64_ascii_characters_is_kept_as_it_is(cid: str) -> None:
    assert (CID_MIN, CID_MAX) == (16, 64)
    assert check_cid(cid) is cid


@pytest.mark.parametrize(
    "cid", [None, 7, 1.5, b"x" * 20, ["x" * 20], "", "x" * 15, "x" * 65, "票" * 16, "x" * 15 + "é"]
)
def test_any_other_cid_is_refused(cid: Any) -> None:
    with pytest.raises(BadField) as caught:
        check_cid(cid)
    assert (caught.value.msg, caught.value.field) == ("选票编号 cid 应为16到64位字符", "cid")


# ---- marks ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("marks", "allow_spoiled", "checked"),
    [
        ({}, False, {"r01": ABSTAIN, "r02": ABSTAIN}),
        ({"r01": "好"}, False, {"r01": "好", "r02": ABSTAIN}),
        ({"r02": "差", "r01": "较好"}, False, {"r01": "较好", "r02": "差"}),
        ({"r01": None, "r02": ""}, False, {"r01": ABSTAIN, "r02": ABSTAIN}),
        ({"r01": "一般", "r02": None}, False, {"r01": "一般", "r02": ABSTAIN}),
        ({"r01": None, "r02": "好"}, False, {"r01": ABSTAIN, "r02": "好"}),
        ({"r01": "", "r02": "较好"}, False, {"r01": ABSTAIN, "r02": "较好"}),
        ({"r01": SPOILED, "r02": "好"}, True, {"r01": SPOILED, "r02": "好"}),
        (MappingProxyType({"r02": "好"}), False, {"r01": ABSTAIN, "r02": "好"}),
    ],
)
def test_every_reporter_of_the_round_gets_a_mark_blank_when_none_was_given(
    marks: Any, allow_spoiled: bool, checked: dict[str, str]
) -> None:
    result = check_marks(marks, MEETING, ROUND, allow_spoiled)
    assert result == checked
    assert list(result) == list(ROUND)  # in the round's order


def test_a_round_of_one_reporter_takes_only_that_reporter() -> None:
    assert check_marks({"r02": "好"}, MEETING, ("r02",), False) == {"r02": "好"}
    with pytest.raises(BadReporter):
        check_marks({"r01": "好"}, MEETING, ("r02",), False)


def test_the_meeting_s_own_grades_are_the_ones_accepted() -> None:
    three = Meeting(
        "t", "d", MEETING.reporters, MEETING.groups, Rules(grades=("优秀", "称职", "不称职"))
    )
    assert check_marks({"r01": "优秀"}, three, ROUND, False) == {"r01": "优秀", "r02": ABSTAIN}
    with pytest.raises(BadGrade) as caught:
        check_marks({"r01": "好"}, three, ROUND, False)
    assert caught.value.msg == "“好”不是有效等次：应为优秀/称职/不称职或留空"


GRADE_WORDS = "应为好/较好/一般/差或留空"


@pytest.mark.parametrize(
    ("marks", "allow_spoiled", "error", "message"),
    [
        (None, False, BadField, "marks 应为“述职人编号 → 等次”的映射"),
        ([("r01", "好")], False, BadField, "marks 应为“述职人编号 → 等次”的映射"),
        ("r01=好", False, BadField, "marks 应为“述职人编号 → 等次”的映射"),
        ({"r03": "好"}, False, BadReporter, "述职人“r03”不在本轮测评中"),
        ({"r01": "好", "R02": "好"}, False, BadReporter, "述职人“R02”不在本轮测评中"),
        ({7: "好"}, False, BadReporter, "述职人“7”不在本轮测评中"),
        ({"r01": "优"}, False, BadGrade, f"“优”不是有效等次：{GRADE_WORDS}"),
        ({"r01": "好 "}, False, BadGrade, f"“好 ”不是有效等次：{GRADE_WORDS}"),
        ({"r01": SPOILED}, False, BadGrade, f"“废”不是有效等次：{GRADE_WORDS}"),
        ({"r01": 1}, True, BadGrade, f"“1”不是有效等次：{GRADE_WORDS}"),
        ({"r01": True}, False, BadGrade, f"“True”不是有效等次：{GRADE_WORDS}"),
        # Whatever a client decodes: a list or a map is no grade either.
        ({"r01": ["好"]}, False, BadGrade, f"“['好']”不是有效等次：{GRADE_WORDS}"),
        ({"r01": {"好": 1}}, True, BadGrade, f"“{{'好': 1}}”不是有效等次：{GRADE_WORDS}"),
        # The first thing wrong is the one named.
        ({"r01": "优", "r09": "好"}, False, BadGrade, f"“优”不是有效等次：{GRADE_WORDS}"),
        ({"r09": "好", "r01": "优"}, False, BadReporter, "述职人“r09”不在本轮测评中"),
        # A blank mark does not end the check: what follows it is read too.
        ({"r01": None, "r02": "优"}, False, BadGrade, f"“优”不是有效等次：{GRADE_WORDS}"),
        ({"r01": "", "r09": "好"}, False, BadReporter, "述职人“r09”不在本轮测评中"),
    ],
)
def test_marks_that_do_not_fit_the_round_are_refused_naming_the_first(
    marks: Any, allow_spoiled: bool, error: type[Rejected], message: str
) -> None:
    with pytest.raises(Rejected) as caught:
        check_marks(marks, MEETING, ROUND, allow_spoiled)
    assert (type(caught.value), caught.value.msg, caught.value.field) == (error, message, "marks")


values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=4) | st.sampled_from(["好", "废"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)


@given(
    st.dictionaries(st.sampled_from(["r01", "r02", "r03"]) | st.text(max_size=3), values),
    st.booleans(),
)
def test_marks_are_checked_or_refused_never_anything_else(
    marks: dict[Any, Any], spoiled: bool
) -> None:
    try:
        checked = check_marks(marks, MEETING, ROUND, spoiled)
    except (BadReporter, BadGrade):
        return
    allowed = {"好", "较好", "一般", "差", ABSTAIN} | ({SPOILED} if spoiled else set())
    assert list(checked) == list(ROUND) and set(checked.values()) <= allowed
    for reporter, mark in marks.items():
        assert checked[reporter] == (mark if mark is not None else ABSTAIN)

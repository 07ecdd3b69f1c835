"""A ballot with item checklists on the wire and in storage (meeting.ballot_layout): each
group's form laid out per reporter, the answers checked (a missing one is 弃权), stored one
byte each after the grade bytes, read back the same, and exported as the item ballot CSV
that `pingyi tally` reads back to the same ballots."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meeting.ballot_checks import ballot_fingerprint, check_marks
from meeting.ballot_layout import (
    BLANK,
    SPOILED_CODE,
    Part,
    answer_codes,
    answers_from_codes,
    asks_items,
    ballot_parts,
    check_items,
    forms_info,
    item_count,
    parts_of,
)
from meeting.errors import BadField, BadReporter
from server.stored_ballots import decode_ballots, encode_ballot, mark_bytes
from tally.ballot_csv import format_ballots_csv, parse_ballot_rows, parse_ballots_csv
from tally.item_csv import format_item_ballots_csv, parse_item_ballots_csv
from tally.meeting_file import parse_meeting_text
from tally.model import ABSTAIN, SPOILED, Ballot, Meeting
from tests.helpers import ROOT

EXAMPLES = ROOT / "examples"
SANPING = parse_meeting_text(
    (EXAMPLES / "sanping-meeting.toml").read_text("utf-8"),
    read_items=lambda name: (EXAMPLES / name).read_text("utf-8"),
)
ROUND = tuple(r.id for r in SANPING.reporters)  # r01 r02: 镇党委; r03-r06: 村党支部书记
GRADES = SANPING.rules.grades
GRADE_ONLY = parse_meeting_text(
    '[meeting]\ntitle = "t"\ndate = "2026-12-28"\nseats = 5\n'
    '[[reporters]]\nid = "r01"\nname = "甲"\norg = "单位"\n'
)


def test_each_group_s_form_laid_out_per_reporter() -> None:
    town = ballot_parts(SANPING, "town", ROUND)  # 镇党委: 26 是不是 items; 村: grade and 28 items
    assert [(p.reporter, p.graded, len(p.items)) for p in town] == [
        ("r01", False, 26),
        ("r02", False, 26),
        *((rid, True, 28) for rid in ROUND[2:]),
    ]
    assert town[0].options == ("是", "不是") and town[2].options == ("能", "不能")
    firms = ballot_parts(SANPING, "firms", ROUND)  # the grade only
    assert all(p.graded and not p.items for p in firms) and not asks_items(firms)
    assert asks_items(town) and item_count(town) == 2 * 26 + 4 * 28
    assert ballot_parts(GRADE_ONLY, "all", ("r01",)) == (Part("r01", True),)


def test_forms_info_tells_a_phone_its_form_per_reporter() -> None:
    info = forms_info(SANPING)
    assert info["ballot_forms"]["rural"]["r01"] == "zhen-items"
    assert info["ballot_forms"]["firms"]["r03"] == "grade"
    items = info["forms"]["cun-items"]["items"]
    assert len(items) == 28 and items[0]["id"] == "a01" and items[0]["text"].startswith("能不能")
    assert info["forms"]["grade"] == {
        "name": "等次测评表",
        "kind": "grade",
        "options": [],
        "items": [],
    }
    assert forms_info(GRADE_ONLY) == {}


def test_a_group_without_a_form_gets_the_grade_form_in_the_info() -> None:
    text = (EXAMPLES / "sanping-meeting.toml").read_text("utf-8")
    text = text.replace('form = "grade"\n', "", 1)  # 企业代表 names no form: the grade form
    meeting = parse_meeting_text(text, read_items=lambda n: (EXAMPLES / n).read_text("utf-8"))
    info = forms_info(meeting)
    assert info["ballot_forms"]["firms"]["r01"] == "grade"
    assert info["forms"]["grade"]["kind"] == "grade"


PARTS = ballot_parts(SANPING, "town", ROUND)


def test_missing_answers_are_blank_and_every_reporter_with_a_checklist_is_there() -> None:
    checked = check_items({"r03": {"a01": "能", "a02": None, "a03": ""}}, PARTS, False)
    assert list(checked) == list(ROUND)  # every reporter of the round has a checklist here
    assert checked["r03"]["a01"] == "能"
    assert checked["r03"]["a02"] == checked["r03"]["a03"] == checked["r03"]["a28"] == ABSTAIN
    assert set(checked["r01"].values()) == {ABSTAIN}
    assert check_items({}, PARTS, False) == check_items({"r01": {}}, PARTS, False)


@pytest.mark.parametrize(
    ("items", "error", "says"),
    [
        (None, BadField, "须提交 items"),
        (["r01"], BadField, "items 应为"),
        ({"r99": {}}, BadReporter, "r99"),
        ({"r03": ["能"]}, BadField, "items.r03"),
        ({"r03": {"a99": "能"}}, BadField, "没有项目“a99”"),
        ({"r03": {"a01": "是"}}, BadField, "应为能/不能"),  # another checklist's word
        ({"r03": {"a01": SPOILED}}, BadField, "“废”无效"),  # a phone cannot spoil
        ({"r03": {"a01": 1}}, BadField, "“1”无效"),
        ({"r03": {"a01": ["能"]}}, BadField, "无效"),
    ],
    ids=["none", "list", "reporter", "not-a-map", "item", "word", "spoiled", "int", "list-answer"],
)
def test_a_bad_answer_is_refused_naming_it(items, error, says) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error) as raised:
        check_items(items, PARTS, allow_spoiled=False)
    assert says in raised.value.msg
    assert raised.value.field == "items"


def test_paper_may_spoil_an_item_and_a_form_without_items_wants_none() -> None:
    assert check_items({"r03": {"a01": SPOILED}}, PARTS, True)["r03"]["a01"] == SPOILED
    firms = ballot_parts(SANPING, "firms", ROUND)
    assert check_items(None, firms, False) == {}
    assert answer_codes({}, firms) == b"" and answers_from_codes(b"", firms) == {}
    with pytest.raises(BadReporter):
        check_items({"r01": {}}, firms, False)


def test_a_grade_for_a_reporter_the_form_does_not_grade_is_refused() -> None:
    ungraded = {p.reporter for p in PARTS if not p.graded}
    assert check_marks({"r03": "好"}, SANPING, ROUND, False, ungraded)["r01"] == ABSTAIN
    assert check_marks({"r01": None}, SANPING, ROUND, False, ungraded)["r01"] == ABSTAIN
    with pytest.raises(BadReporter) as raised:
        check_marks({"r01": "好"}, SANPING, ROUND, False, ungraded)
    assert "只作逐项测评" in raised.value.msg


def answers(draw_option: st.SearchStrategy[int]) -> st.SearchStrategy[dict]:
    """Answers for every item of the town group's ballot: an option, blank or 废."""

    def build(codes: list[int]) -> dict:
        out, at = {}, 0
        for part in PARTS:
            row = {}
            for item in part.items:
                code = codes[at]
                at += 1
                row[item] = ABSTAIN if code == 2 else SPOILED if code == 3 else part.options[code]
            out[part.reporter] = row
        return out

    return st.lists(draw_option, min_size=item_count(PARTS), max_size=item_count(PARTS)).map(build)


@settings(max_examples=40, deadline=None)
@given(
    answers(st.integers(0, 3)),
    st.lists(st.sampled_from([*GRADES, ABSTAIN]), min_size=4, max_size=4),
)
def test_stored_answers_and_marks_read_back_the_same(
    given_answers: dict, grades: list[str]
) -> None:
    marks = dict.fromkeys(ROUND, ABSTAIN) | dict(zip(ROUND[2:], grades, strict=True))
    codes = answer_codes(given_answers, PARTS)
    assert len(codes) == item_count(PARTS)
    assert answers_from_codes(codes, PARTS) == given_answers
    member = encode_ballot("ABCDE-FGHJK", "town", mark_bytes(marks, GRADES) + codes)
    (ballot,) = decode_ballots([member], ROUND, GRADES, parts_of(SANPING, ROUND))
    assert ballot.items == given_answers
    assert ballot.marks == {rid: marks[rid] for rid in ROUND[2:]}  # r01, r02 are not graded


def test_stored_bytes_that_do_not_fit_the_form_are_an_error() -> None:
    grade_bytes = bytes([BLANK] * len(ROUND))
    short = encode_ballot("ABCDE-FGHJK", "town", grade_bytes + bytes([0]))
    with pytest.raises(ValueError, match="bytes, not"):
        decode_ballots([short], ROUND, GRADES, parts_of(SANPING, ROUND))
    with pytest.raises(ValueError, match="item answers stored"):
        answers_from_codes(bytes([0]), PARTS)
    codes = bytearray(answer_codes(check_items({}, PARTS, False), PARTS))
    assert set(codes) == {BLANK}
    codes[0] = 7  # no such option
    with pytest.raises(ValueError, match="no such option"):
        answers_from_codes(bytes(codes), PARTS)
    codes[0] = SPOILED_CODE
    assert answers_from_codes(bytes(codes), PARTS)["r01"]["b01"] == SPOILED


def test_a_grade_only_meeting_reads_and_writes_as_before() -> None:
    assert parts_of(GRADE_ONLY, ("r01",)) is None
    member = encode_ballot("ABCDE-FGHJK", "all", mark_bytes({"r01": "好"}, GRADES))
    (ballot,) = decode_ballots([member], ("r01",), GRADES)
    assert (ballot.marks, ballot.items) == ({"r01": "好"}, {})
    key = b"k" * 32
    before = ballot_fingerprint(key, 1, "t", "c" * 16, {"r01": "好"})
    assert ballot_fingerprint(key, 1, "t", "c" * 16, {"r01": "好"}, b"") == before
    with_items = ballot_fingerprint(key, 1, "t", "c" * 16, {"r01": "好"}, bytes([0, BLANK]))
    other_items = ballot_fingerprint(key, 1, "t", "c" * 16, {"r01": "好"}, bytes([1, BLANK]))
    assert len({before, with_items, other_items}) == 3


def test_a_layout_is_made_once_per_group() -> None:
    of = parts_of(SANPING, ROUND)
    assert of is not None
    assert of("town") is of("town") and of("town") == PARTS


def _ballot(n: int, group: str, meeting: Meeting) -> Ballot:
    parts = ballot_parts(meeting, group, ROUND)
    marks = {p.reporter: GRADES[n % 4] for p in parts if p.graded}
    items = {
        p.reporter: {item: p.options[(n + k) % 2] for k, item in enumerate(p.items)}
        for p in parts
        if p.items
    }
    return Ballot(f"B{n:04d}", group, marks, n % 5 == 0, items)


def test_the_export_reads_back_to_the_same_ballots() -> None:
    ballots = [_ballot(n, ("town", "firms", "rural")[n % 3], SANPING) for n in range(12)]
    text = format_item_ballots_csv(SANPING, list(reversed(ballots)))
    again = parse_item_ballots_csv(text, SANPING)
    assert again == ballots  # sorted by id, every mark, answer and paper flag
    assert format_ballots_csv(SANPING, ballots) == text  # what export and the digests use
    assert parse_ballots_csv(text, SANPING) == ballots  # the one reader dispatches too


def test_a_tellers_file_of_item_ballots_is_read_row_by_row_with_its_cards() -> None:
    """`parse_ballot_rows` (the tellers' file, server/paper_import.py): a reporter the row's
    form grades not has a blank grade cell, and that is not a missing mark."""
    ballots = [_ballot(n, "rural", SANPING) for n in range(2)]  # 农村: items only
    text = format_item_ballots_csv(SANPING, ballots)
    lines = text.splitlines()
    lines[0] = lines[0].replace("ballot,group,", "ballot,group,card,", 1)
    for n in (1, 2):
        lines[n] = lines[n].replace(",rural,", f",rural,CARD-000{n},", 1)
    rows = parse_ballot_rows("\n".join(lines) + "\n", SANPING, reporters=ROUND, need_card=True)
    assert [(row.line, row.card, row.ballot) for row in rows] == [
        (2, "CARD-0001", ballots[0]),
        (3, "CARD-0002", ballots[1]),
    ]
    phones_only = [b for b in ballots if not b.paper]
    assert "via" not in format_item_ballots_csv(SANPING, phones_only).splitlines()[0]

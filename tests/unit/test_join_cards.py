"""Join cards: tokens and short codes derived from the meeting's secret, and their hashes.

The known answers below were checked against `openssl dgst -sha256 -hmac` and `sha256sum`:
a re-print of the same meeting with the same secret must print the same cards, in this version
and every later one, so they are pinned, not recomputed.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meeting import join_cards
from meeting.join_cards import (
    CODE_LENGTH,
    CROCKFORD,
    Card,
    card_hash_key,
    code_hash,
    issue_cards,
    join_url,
    looks_like_token,
    make_code,
    normalise_code,
    token_hash,
)
from tally.errors import InputError
from tally.model import Group, Meeting, Member

SECRET = b"k" * 32
MEETING = Meeting(
    "测试会议", "2026-12-28", (), (Group("leaders", "县级领导", 2), Group("cadres", "基层代表", 1))
)
CODE = re.compile(f"^[{CROCKFORD}]{{4}}-[{CROCKFORD}]{{4}}$")


def test_the_crockford_alphabet_leaves_out_i_l_o_u() -> None:
    assert CROCKFORD == "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    assert len(set(CROCKFORD)) == 32 and CODE_LENGTH == 8


def test_cards_are_derived_from_the_secret_one_per_seat_in_group_order() -> None:
    assert issue_cards(SECRET, MEETING) == [
        Card("leaders", 1, "z-_A5dN2VQCIU9phZtPAEg", "1DV3-Q49P"),
        Card("leaders", 2, "vh7tdnbIelWottLqcXlDxg", "4433-BX14"),
        Card("cadres", 1, "CyOBaaJcgAiFO52ic2MWGg", "AMBY-GSGV"),
    ]


def test_another_secret_issues_other_cards() -> None:
    again, other = issue_cards(SECRET, MEETING), issue_cards(b"x" * 32, MEETING)
    assert issue_cards(SECRET, MEETING) == again
    assert [(c.group, c.seat) for c in other] == [(c.group, c.seat) for c in again]
    assert not {c.token for c in other} & {c.token for c in again}
    assert not {c.code for c in other} & {c.code for c in again}


def test_a_card_s_code_is_made_from_its_token() -> None:
    for card in issue_cards(SECRET, MEETING):
        assert make_code(SECRET, card.token) == card.code
    assert make_code(b"secret", "A" * 22) == "0KYF-0NDG"


@given(st.binary(min_size=1, max_size=40), st.text(max_size=30))
def test_codes_are_eight_crockford_characters_split_in_two(secret: bytes, token: str) -> None:
    code = make_code(secret, token)
    assert CODE.match(code), code
    assert normalise_code(code) == code


@given(st.binary(min_size=16, max_size=40))
def test_tokens_are_22_base64url_characters_and_look_like_tokens(secret: bytes) -> None:
    cards = issue_cards(secret, MEETING)
    for card in cards:
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", card.token) and looks_like_token(card.token)
        assert CODE.match(card.code)
    assert len({c.token for c in cards}) == len(cards) == 3


def test_two_cards_with_the_same_code_are_never_issued(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(join_cards, "make_code", lambda secret, token: "AAAA-AAAA")
    with pytest.raises(InputError) as caught:
        issue_cards(SECRET, MEETING)
    assert (caught.value.where, caught.value.message) == (
        "secret",
        "卡片短码出现重复，请使用 --regenerate 重新生成",
    )
    one_seat = Meeting("t", "d", (), (Group("leaders", "县级领导", 1),))
    assert [c.code for c in issue_cards(SECRET, one_seat)] == ["AAAA-AAAA"]


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("ABCD-EFGH", "ABCD-EFGH"),
        ("abcd-efgh", "ABCD-EFGH"),
        ("ABCDEFGH", "ABCD-EFGH"),
        (" ab cd - ef gh ", "ABCD-EFGH"),
        ("AB-CD-EF-GH", "ABCD-EFGH"),
        ("oOiI-lLuU", "0011-11VV"),
        ("0123-4567", "0123-4567"),
        ("WXYZ-89ST", "WXYZ-89ST"),
    ],
)
def test_a_typed_code_is_read_as_the_card_means_it(typed: str, code: str) -> None:
    assert normalise_code(typed) == code


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "ABCD-EFG",
        "ABCD-EFGHJ",
        "ABCD_EFGH",
        "ABCD-EFG*",
        "ABCD-EFGＨ",
        "ABCD\tEFGH",
        "甲乙丙丁-戊己庚辛",
    ],
)
def test_a_code_that_is_not_eight_crockford_characters_is_refused(typed: str) -> None:
    with pytest.raises(InputError) as caught:
        normalise_code(typed)
    assert (caught.value.where, caught.value.message) == (
        "code",
        f"卡片短码“{typed}”无效：应为8位字母数字，如 ABCD-EFGH",
    )


def test_hashes_are_sha256_of_a_prefixed_value() -> None:
    assert (
        token_hash("A" * 22) == "cbf799c3fdfb671d0ce872955074b4f7b839abe207ff1da4dabfac7deea08e23"
    )
    assert (
        code_hash("ABCD-EFGH") == "f1a71ae26174da1c04d285abd94cedbd5c273028822e48100a7808307171b388"
    )


def test_stored_hashes_are_keyed_with_a_key_derived_from_the_secret() -> None:
    key = card_hash_key(b"s" * 32)  # HMAC-SHA256(secret, "hash-key")
    assert key.hex() == "3ad08a6cbb5007aa741fd83231c2fa476c255b9e76b53fc8cc24a163489568f2"
    assert token_hash("t" * 22, key) == (
        "35b4a91aafd651ab42631935d851ed800dc6df501e8d5817a8ba266acbd40384"
    )
    assert code_hash("abcd efgh", key) == (
        "1edcc5149e273511fec4bd50547c476d70540c5c65557c2ddccc1a4e7ee79291"
    )
    assert token_hash("t" * 22, key) != token_hash("t" * 22)  # not what a card alone gives
    assert token_hash("t" * 22, card_hash_key(b"z" * 32)) != token_hash("t" * 22, key)


def test_a_code_is_hashed_as_normalised() -> None:
    assert code_hash("abcd efgh") == code_hash("ABCD-EFGH") == code_hash("ABCD-EFGH")
    assert code_hash("ABCD-EFGJ") != code_hash("ABCD-EFGH")
    with pytest.raises(InputError):
        code_hash("ABCD")


@pytest.mark.parametrize(
    ("base", "url"),
    [
        ("http://10.0.0.2:8000", "http://10.0.0.2:8000/j/TOKEN"),
        ("http://10.0.0.2:8000/", "http://10.0.0.2:8000/j/TOKEN"),
        ("https://pingyi.example//", "https://pingyi.example/j/TOKEN"),
        ("http://h/meeting/", "http://h/meeting/j/TOKEN"),
        ("http://BOX/", "http://BOX/j/TOKEN"),
        ("http://box.x", "http://box.x/j/TOKEN"),
    ],
)
def test_the_join_address_is_the_token_under_j(base: str, url: str) -> None:
    assert join_url(base, "TOKEN") == url


@pytest.mark.parametrize(
    ("text", "looks"),
    [
        ("z-_A5dN2VQCIU9phZtPAEg", True),
        ("A" * 22, True),
        ("-" * 22, True),
        ("_" * 22, True),
        ("09" * 11, True),
        ("A" * 21, False),
        ("A" * 23, False),
        ("", False),
        ("A" * 21 + "=", False),
        ("A" * 21 + "+", False),
        ("A" * 21 + "/", False),
        ("A" * 21 + " ", False),
        ("票" * 22, False),
        ("A" * 21 + "é", False),
        ("A" * 21 + "²", False),
    ],
)
def test_only_22_base64url_characters_look_like_a_token(text: str, looks: bool) -> None:
    assert looks_like_token(text) is looks


def test_a_named_group_s_cards_are_its_members_in_seat_order_the_others_nobody_s() -> None:
    """部分实名: a named group's seats are its members; each card is its member's own."""
    named = Group(
        "dangzu", "党组成员", 2, named=True, members=(Member("wang", "王明"), Member("li", "李华"))
    )
    meeting = Meeting("会", "2026-12-28", (), (named, Group("cadres", "代表", 3)))
    cards = join_cards.issue_cards(b"s" * 32, meeting)
    assert [(c.group, c.member) for c in cards] == [
        ("dangzu", "wang"),
        ("dangzu", "li"),
        ("cadres", ""),
        ("cadres", ""),
        ("cadres", ""),
    ]
    anonymous = Meeting("会", "2026-12-28", (), (Group("dangzu", "党组成员", 2), meeting.groups[1]))
    assert [c.token for c in join_cards.issue_cards(b"s" * 32, anonymous)] == [
        c.token for c in cards
    ]

"""Sealed ballots (server/sealing.py): what the 监票人 writes down reads back, or is refused
with a reason; a round's key opens only with the right 监票人 key; a sealed ballot opens only
for its own round, receipt and group, and shows nothing of its marks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.sealing import (
    BallotOpener,
    BallotSealer,
    SealError,
    TellerKeys,
    is_sealed,
    key_text,
    new_round_key,
    open_round_key,
    parse_key_text,
)
from tally.errors import InputError

TELLER = TellerKeys.generate()


@pytest.mark.parametrize("kind", ["public", "private"])
def test_a_written_key_reads_back_however_it_is_typed(kind: str) -> None:
    raw = TELLER.public if kind == "public" else TELLER.private
    text = key_text(kind, raw)
    assert len(text.split("-")) == 14 and all(len(group) == 4 for group in text.split("-"))
    sloppy = text.lower().replace("-", " ").replace("o", "0").replace("i", "1").replace("b", "8")
    for typed in (text, text.replace("-", ""), f"  {sloppy}\n"):
        assert parse_key_text(kind, typed, "key") == raw


def test_the_public_key_follows_from_the_private_one() -> None:
    assert TellerKeys.from_private(TELLER.private) == TELLER


@given(st.integers(0, 55), st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"))
def test_any_one_mistyped_character_is_caught(position: int, letter: str) -> None:
    letters = key_text("private", TELLER.private).replace("-", "")
    typed = letters[:position] + letter + letters[position + 1 :]
    if typed == letters:
        return
    with pytest.raises(InputError, match="校验不符") as caught:
        parse_key_text("private", typed, "teller_key")
    assert caught.value.where == "teller_key"


@pytest.mark.parametrize(
    ("typed", "kind", "message"),
    [
        ("ABCD-EFGH", "private", "应为56个字母或数字（14组），收到 8 个"),
        ("9" * 56, "private", "只含字母 A–Z 和数字 2–7"),
        (key_text("private", TELLER.private), "public", "这是监票人私钥，此处需要监票人公钥"),
        (key_text("public", TELLER.public), "private", "这是监票人公钥，此处需要监票人私钥"),
    ],
    # TELLER is made afresh in each process: ids from its key would differ between workers
    ids=["too-short", "not-base32", "private-for-public", "public-for-private"],
)
def test_a_key_that_is_not_the_one_asked_for_is_refused_with_a_reason(
    typed: str, kind: str, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        parse_key_text(kind, typed, "key")


def test_a_round_key_opens_with_the_teller_key_it_was_sealed_to_and_no_other() -> None:
    private, seal = new_round_key(3, TELLER.public)
    assert open_round_key(3, seal, TELLER.private) == private
    assert private.hex() not in seal.for_teller and len(bytes.fromhex(seal.public)) == 32
    with pytest.raises(SealError):
        open_round_key(3, seal, TellerKeys.generate().private)
    with pytest.raises(SealError):
        open_round_key(4, seal, TELLER.private)  # another round's seal
    flipped = bytes.fromhex(seal.for_teller)
    flipped = flipped[:-1] + bytes([flipped[-1] ^ 1])
    with pytest.raises(SealError):
        open_round_key(3, type(seal)(seal.public, flipped.hex(), seal.teller_id), TELLER.private)


MARKS = st.binary(min_size=1, max_size=40)


@given(st.lists(st.tuples(st.integers(0, 2), MARKS), min_size=1, max_size=30))
def test_ballots_sealed_by_any_process_open_with_the_round_key(
    ballots: list[tuple[int, bytes]],
) -> None:
    private, seal = new_round_key(7, TELLER.public)
    processes = [BallotSealer(7, seal.public) for _ in range(3)]
    sealed = [
        processes[p].seal(f"R{n:04d}-XXXXX", "cadres", marks)
        for n, (p, marks) in enumerate(ballots)
    ]
    assert all(is_sealed(member) for member in sealed)
    opener = BallotOpener(7, private)
    assert [opener.open(member) for member in sealed] == [
        (f"R{n:04d}-XXXXX", "cadres", marks) for n, (_, marks) in enumerate(ballots)
    ]


def test_a_sealed_ballot_shows_nothing_of_its_marks() -> None:
    _, seal = new_round_key(1, TELLER.public)
    sealer = BallotSealer(1, seal.public)
    first = sealer.seal("ABCDE-FGHJK", "cadres", bytes([0, 0, 0, 0]))
    again = sealer.seal("ABCDE-FGHJK", "cadres", bytes([0, 0, 0, 0]))
    other = sealer.seal("ABCDE-FGHJK", "cadres", bytes([3, 3, 3, 3]))
    assert first != again  # a fresh nonce: the same marks never seal the same way
    assert len(first) == len(again) == len(other)
    assert bytes([0, 0, 0, 0]) not in first and bytes([3, 3, 3, 3]) not in other


@pytest.mark.parametrize(
    "tamper",
    ["round", "receipt", "group", "body"],
)
def test_a_sealed_ballot_opens_only_as_itself(tamper: str) -> None:
    from server.codec import pack, unpack

    private, seal = new_round_key(1, TELLER.public)
    member = BallotSealer(1, seal.public).seal("ABCDE-FGHJK", "cadres", bytes([1, 2]))
    receipt, group, ephemeral, body = unpack(member[1:])
    round_id = 2 if tamper == "round" else 1
    receipt = "BCDEF-GHJKM" if tamper == "receipt" else receipt
    group = "leaders" if tamper == "group" else group
    body = body[:-1] + bytes([body[-1] ^ 1]) if tamper == "body" else body
    changed = member[:1] + pack([receipt, group, ephemeral, body])
    with pytest.raises(SealError):
        BallotOpener(round_id, private).open(changed)

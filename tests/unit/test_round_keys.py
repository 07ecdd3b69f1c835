"""The keys a process seals and opens rounds with: a round's key is held from its opening
until it is opened, then forgotten; the 监票人's key opens what no held key does."""

from __future__ import annotations

import pytest

from meeting import events as e
from meeting.agenda import Round
from meeting.errors import BadTellerKey
from server.round_keys import RoundKeys
from server.sealing import TellerKeys, key_text

TELLER = TellerKeys.generate()


def opened_round(keys: RoundKeys, round_id: int = 4) -> tuple[Round, bytes]:
    events, private = keys.seal_opened([e.VotingOpened(round_id, ("r01",), 1.0, "d")])
    (event,) = events
    assert isinstance(event, e.VotingOpened) and event.sealing_key and event.key_for_teller
    held = Round(
        round_id,
        ("r01",),
        sealing_key=event.sealing_key,
        key_for_teller=event.key_for_teller,
        teller_key_id=event.teller_key_id,
    )
    return held, private[round_id]


def test_without_a_teller_key_rounds_open_unsealed() -> None:
    keys = RoundKeys()
    opened = [e.VotingOpened(4, ("r01",), 1.0, "d"), e.VotingClosed(3, 1.0)]
    assert keys.seal_opened(opened) == (opened, {})
    assert keys.sealer(Round(4, ("r01",))) is None


def test_a_round_key_is_held_from_its_opening_until_it_is_opened() -> None:
    keys = RoundKeys(TELLER.public)
    held, private = opened_round(keys)
    assert not keys.holds(4) and keys.private_key(held) is None  # not stored yet: not held
    keys.hold({4: private})
    assert keys.holds(4) and keys.private_key(held) == private
    assert keys.sealer(held) is keys.sealer(held)  # one key agreement per round
    keys.forget(4)
    assert not keys.holds(4) and keys.private_key(held) is None


def test_the_teller_key_opens_a_round_no_process_holds() -> None:
    keys = RoundKeys(TELLER.public)
    held, private = opened_round(keys)
    with pytest.raises(BadTellerKey, match="打不开"):
        keys.take_teller_key(key_text("private", TellerKeys.generate().private), [held])
    assert keys.private_key(held) is None  # the wrong key was not kept
    written = key_text("private", TELLER.private)
    typo = written[:-1] + ("B" if written.endswith("A") else "A")  # one letter off, always
    with pytest.raises(BadTellerKey, match="校验不符"):
        keys.take_teller_key(typo, [held])
    keys.take_teller_key(key_text("private", TELLER.private), [held])
    assert keys.private_key(held) == private

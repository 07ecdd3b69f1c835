"""The keys this process seals and opens rounds with (the cryptography is server/sealing.py).

A round's private key lives only in the memory of the process that opened it, until the round
is opened at close; after that it is forgotten, so that a copy of the append-only file taken
while voting ran (which pairs each spent card with its sealed ballot) stays sealed for good,
short of the 监票人's key. That key is given only after a crash, and is then kept in memory
until the server stops.
"""

from __future__ import annotations

import dataclasses

from meeting import errors as refusal
from meeting import events as e
from meeting.agenda import Round
from server.sealing import (
    BallotSealer,
    SealError,
    new_round_key,
    open_round_key,
    parse_key_text,
    seal_of,
)
from tally.errors import InputError


class RoundKeys:
    def __init__(self, teller_public: bytes = b"", teller_private: bytes | None = None) -> None:
        self._teller_public = teller_public  # b"": rounds are opened unsealed
        self._teller_private = teller_private
        self._held: dict[int, bytes] = {}  # round id -> its private key, while it is sealed
        self._sealers: dict[int, BallotSealer] = {}

    def seal_opened(self, events: list[e.Event]) -> tuple[list[e.Event], dict[int, bytes]]:
        """The events with each opened round's seal filled in, and those rounds' private keys
        (to `hold` once the events are stored: a conflicting append discards them)."""
        if not self._teller_public:
            return events, {}
        sealed: list[e.Event] = []
        keys: dict[int, bytes] = {}
        for event in events:
            if isinstance(event, e.VotingOpened):
                keys[event.round], seal = new_round_key(event.round, self._teller_public)
                event = dataclasses.replace(
                    event,
                    sealing_key=seal.public,
                    key_for_teller=seal.for_teller,
                    teller_key_id=seal.teller_id,
                )
            sealed.append(event)
        return sealed, keys

    def hold(self, keys: dict[int, bytes]) -> None:
        self._held.update(keys)

    def holds(self, round_id: int) -> bool:
        return round_id in self._held

    def sealer(self, held: Round) -> BallotSealer | None:
        """What seals this round's ballots here; None for a round opened unsealed."""
        if not held.sealing_key:
            return None
        sealer = self._sealers.get(held.id)
        if sealer is None:
            sealer = self._sealers[held.id] = BallotSealer(held.id, held.sealing_key)
        return sealer

    def private_key(self, held: Round) -> bytes | None:
        """A round's private key: held since it was opened here, or opened with the 监票人's."""
        if held.id in self._held:
            return self._held[held.id]
        seal = seal_of(held)
        if self._teller_private is None or seal is None:
            return None
        try:
            return open_round_key(held.id, seal, self._teller_private)
        except SealError:
            return None

    def forget(self, round_id: int) -> None:
        """The round is opened: nothing needs its key any more."""
        self._held.pop(round_id, None)
        self._sealers.pop(round_id, None)

    def take_teller_key(self, text: str, sealed: list[Round]) -> None:
        """The 监票人's key as typed; refused (nothing kept) if it is mistyped or opens none of
        the `sealed` rounds still to be counted."""
        try:
            private = parse_key_text("private", text, "teller_key")
        except InputError as error:
            raise refusal.BadTellerKey(error.message, "teller_key") from None
        earlier, self._teller_private = self._teller_private, private
        if sealed and all(self.private_key(held) is None for held in sealed):
            self._teller_private = earlier
            raise refusal.BadTellerKey(
                "此监票人密钥打不开本轮选票：请核对是否为本次会议的监票人密钥", "teller_key"
            )

"""Sealed ballots: while a round is open, its stored marks can be read by nobody.

Three keys (X25519, with ChaCha20-Poly1305 for the data; see docs/security.md):

- **The 监票人's key pair.** The private half is printed once for the 监票人 (or made on
  their own device with `pingyi teller-key`) and never stored by the server; the public
  half is in the data directory.
- **A round's key pair**, made by the process that opens the round. Its public half travels
  in the `VotingOpened` event, so every process can seal; its private half stays in that
  process's memory, and goes into the same event sealed to the 监票人's public key, so a
  crash costs nothing that the 监票人's key cannot give back.
- **A sealer per process and round**: an ephemeral key agreed with the round's public key,
  giving one symmetric key; every ballot's marks are encrypted under it with a fresh nonce,
  bound to the round, the receipt and the group.

At close the holder of the round's private key opens the ballots and stores them in the clear,
in receipt order, before the append-only file is rewritten (server/service.py).

A sealed member is `SEALED_SCHEMA` (6) + `[receipt, group, ephemeral public key, nonce +
ciphertext]`; the plaintext is the mark bytes and then one byte saying whether the ballot is
paper (1) or came by phone (0), so that how a ballot came is sealed and authenticated with its
marks, and a paper ballot's member is as long as a phone one's. Members sealed before that
(`OLD_SEALED_SCHEMA`, 4) hold the mark bytes alone: phone ballots. A named group's ballot
(部分实名) has a fifth field, its voter, in the clear and in the seal's associated data.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from meeting.agenda import Round
from server.codec import pack, unpack
from tally.errors import InputError

SEALED_SCHEMA = 6  # the schema byte of a sealed member (server/stored_ballots.py has 1-3, 5)
OLD_SEALED_SCHEMA = 4  # sealed before the paper byte: marks alone, a phone ballot
NONCE_BYTES = 12
_GROUP = 4  # characters per group of a written key
_CHECK_CHARS = 4  # 20 bits of checksum: a mistyped character is caught, not tried
_NAMES = {"public": "公钥", "private": "私钥"}


class SealError(Exception):
    """A sealed value that this key does not open (wrong key, or changed bytes)."""


# ---- the 监票人's key, as it is written on paper --------------------------------------------


def _check(kind: str, raw: bytes) -> str:
    digest = hashlib.sha256(f"pingyi-teller-{kind}:".encode() + raw).digest()
    return base64.b32encode(digest)[:_CHECK_CHARS].decode()


def key_text(kind: str, raw: bytes) -> str:
    """A key as groups of four letters and digits (A–Z, 2–7), its last group a checksum."""
    letters = base64.b32encode(raw).decode().rstrip("=") + _check(kind, raw)
    return "-".join(letters[i : i + _GROUP] for i in range(0, len(letters), _GROUP))


def parse_key_text(kind: str, text: str, field_name: str) -> bytes:
    """The 32 bytes a written key stands for; a Chinese error naming `field_name` if it is off.

    Case, spaces and dashes do not matter, and 0, 1 and 8 (which base32 does not use) are read
    as the O, I and B they are usually mistaken for.
    """
    other = "private" if kind == "public" else "public"
    letters = "".join(text.split()).replace("-", "").upper()
    letters = letters.translate(str.maketrans("018", "OIB"))
    if len(letters) != 56:
        raise InputError(
            field_name, f"监票人密钥应为56个字母或数字（14组），收到 {len(letters)} 个"
        )
    try:
        raw = base64.b32decode(letters[:52] + "====")
    except ValueError:
        raise InputError(field_name, "监票人密钥只含字母 A–Z 和数字 2–7") from None
    if letters[52:] == _check(other, raw):
        raise InputError(field_name, f"这是监票人{_NAMES[other]}，此处需要监票人{_NAMES[kind]}")
    canonical = base64.b32encode(raw).decode().rstrip("=")  # the last letter's spare bits
    if letters[52:] != _check(kind, raw) or letters[:52] != canonical:
        raise InputError(field_name, "监票人密钥校验不符：请逐组核对是否抄错")
    return raw


@dataclass(frozen=True)
class TellerKeys:
    private: bytes
    public: bytes

    @classmethod
    def generate(cls) -> TellerKeys:
        return cls.from_private(X25519PrivateKey.generate().private_bytes_raw())

    @classmethod
    def from_private(cls, private: bytes) -> TellerKeys:
        public = X25519PrivateKey.from_private_bytes(private).public_key().public_bytes_raw()
        return cls(private, public)


def key_id(public: bytes) -> str:
    """A short name for a public key, to tell which 监票人 key a round was sealed to."""
    return hashlib.sha256(b"pingyi-teller-id:" + public).hexdigest()[:16]


# ---- a round's key ---------------------------------------------------------------------


def _derive(shared: bytes, label: bytes, *publics: bytes) -> ChaCha20Poly1305:
    kdf = HKDF(hashes.SHA256(), 32, salt=None, info=b"pingyi-" + label + b"".join(publics))
    return ChaCha20Poly1305(kdf.derive(shared))


@dataclass(frozen=True)
class RoundSeal:
    """What a round's `VotingOpened` carries: its public key and its private key sealed to
    the 监票人 (hex), and which 监票人 key that was."""

    public: str
    for_teller: str
    teller_id: str


def new_round_key(round_id: int, teller_public: bytes) -> tuple[bytes, RoundSeal]:
    """A fresh round key pair: the private half (kept in memory) and what the event carries."""
    round_key = X25519PrivateKey.generate()
    private = round_key.private_bytes_raw()
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes_raw()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(teller_public))
    box = _derive(shared, b"round-key", ephemeral_public, teller_public)
    # One use of a fresh key: a zero nonce is safe.
    sealed = ephemeral_public + box.encrypt(bytes(NONCE_BYTES), private, _round_label(round_id))
    public = round_key.public_key().public_bytes_raw().hex()
    return private, RoundSeal(public, sealed.hex(), key_id(teller_public))


def seal_of(held: Round) -> RoundSeal | None:
    """A round's seal as its `VotingOpened` recorded it; None for a round opened unsealed."""
    if not held.key_for_teller:
        return None
    return RoundSeal(held.sealing_key, held.key_for_teller, held.teller_key_id)


def open_round_key(round_id: int, seal: RoundSeal, teller_private: bytes) -> bytes:
    """The round's private key, from its seal and the 监票人's private key."""
    teller = X25519PrivateKey.from_private_bytes(teller_private)
    teller_public = teller.public_key().public_bytes_raw()
    if key_id(teller_public) != seal.teller_id:
        raise SealError("another teller key")
    sealed = bytes.fromhex(seal.for_teller)
    ephemeral_public, body = sealed[:32], sealed[32:]
    shared = teller.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
    box = _derive(shared, b"round-key", ephemeral_public, teller_public)
    try:
        return box.decrypt(bytes(NONCE_BYTES), body, _round_label(round_id))
    except InvalidTag:
        raise SealError("the round key's seal does not open") from None


def _round_label(round_id: int) -> bytes:
    return b"round:%d" % round_id


# ---- ballots -----------------------------------------------------------------------------


class BallotSealer:
    """Seals one round's marks in this process: one key agreement, then one AEAD per ballot."""

    def __init__(self, round_id: int, round_public_hex: str) -> None:
        round_public = bytes.fromhex(round_public_hex)
        ephemeral = X25519PrivateKey.generate()
        self.ephemeral_public = ephemeral.public_key().public_bytes_raw()
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(round_public))
        self._box = _derive(shared, b"ballots", self.ephemeral_public, round_public)
        self.round_id = round_id

    def seal(
        self, receipt: str, group: str, marks: bytes, paper: bool = False, voter: str = ""
    ) -> bytes:
        """A stored member: the schema byte, then receipt and group in the clear (the receipt
        orders the set, the group is public in `BallotCast`) and the marks sealed, with the
        byte that says whether it is a paper ballot. A named ballot's voter (部分实名) follows
        in the clear, bound to the seal: who voted in a named group is no secret, how is."""
        nonce = os.urandom(NONCE_BYTES)
        aad = _ballot_label(self.round_id, receipt, group, voter)
        sealed = nonce + self._box.encrypt(nonce, marks + bytes([paper]), aad)
        fields = [receipt, group, self.ephemeral_public, sealed]
        return bytes([SEALED_SCHEMA]) + pack([*fields, voter] if voter else fields)


def is_sealed(member: bytes) -> bool:
    return member[:1] in (bytes([SEALED_SCHEMA]), bytes([OLD_SEALED_SCHEMA]))


@dataclass
class BallotOpener:
    """Opens a round's sealed members with its private key (one key agreement per sealer)."""

    round_id: int
    round_private: bytes
    _boxes: dict[bytes, ChaCha20Poly1305] = field(default_factory=dict)

    def open(self, member: bytes) -> tuple[str, str, bytes]:
        """(receipt, group, marks) of one sealed member."""
        return self.open_ballot(member)[:3]

    def open_ballot(self, member: bytes) -> tuple[str, str, bytes, bool, str]:
        """(receipt, group, marks, paper, voter) of one sealed member, of either sealed schema
        (voter "" for an anonymous ballot)."""
        receipt, group, ephemeral_public, sealed, *named = unpack(member[1:])
        voter = named[0] if named else ""
        box = self._boxes.get(ephemeral_public)
        if box is None:
            round_key = X25519PrivateKey.from_private_bytes(self.round_private)
            shared = round_key.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
            round_public = round_key.public_key().public_bytes_raw()
            box = _derive(shared, b"ballots", ephemeral_public, round_public)
            self._boxes[ephemeral_public] = box
        nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
        try:
            plain = box.decrypt(nonce, body, _ballot_label(self.round_id, receipt, group, voter))
        except InvalidTag:
            raise SealError(f"sealed ballot {receipt} does not open") from None
        if member[0] == OLD_SEALED_SCHEMA:
            return receipt, group, plain, False, voter
        if not plain or plain[-1] not in (0, 1):
            raise SealError(f"sealed ballot {receipt}: no paper byte")
        return receipt, group, plain[:-1], plain[-1] == 1, voter


def _ballot_label(round_id: int, receipt: str, group: str, voter: str = "") -> bytes:
    return pack([round_id, receipt, group, voter] if voter else [round_id, receipt, group])

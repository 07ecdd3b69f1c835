"""Join cards: the anonymous tokens behind the QR codes, and their short codes.

Tokens are derived from the meeting's secret (kept in the data directory), so a re-print of
the same meeting prints the same cards; a new secret (`--regenerate`) issues new ones. The
server stores only hashes: `token_hash` for joining and voting, `code_hash` for entering a
paper ballot against the short code printed on the card. Pure functions, no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from tally.errors import InputError
from tally.model import Meeting

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CODE_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})
CODE_LENGTH = 8


@dataclass(frozen=True)
class Card:
    group: str
    seat: int  # 1-based within the group; printed nowhere, only orders the sheet
    token: str  # 128 random-looking bits, base64url without padding (22 characters)
    code: str  # "ABCD-EFGH": read out or typed for a paper ballot
    member: str = ""  # a named group's (部分实名) card is its member's: their id, in seat order


def issue_cards(secret: bytes, meeting: Meeting) -> list[Card]:
    """One card per seat; a named group's seats are its members, so each member's card is
    their personal key: the ballot it casts records them (`Ballot.voter`)."""
    cards = []
    for group in meeting.groups:
        for seat in range(1, group.seats + 1):
            token = _b64(_mac(secret, f"token:{group.id}:{seat}")[:16])
            member = group.members[seat - 1].id if group.named else ""
            cards.append(Card(group.id, seat, token, make_code(secret, token), member))
    codes = {card.code for card in cards}
    if len(codes) != len(cards):  # 40-bit codes: vanishingly rare, but never print two alike
        raise InputError("secret", "卡片短码出现重复，请使用 --regenerate 重新生成")
    return cards


def make_code(secret: bytes, token: str) -> str:
    value = int.from_bytes(_mac(secret, f"code:{token}")[:5], "big")
    chars = "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(CODE_LENGTH)))
    return f"{chars[:4]}-{chars[4:]}"


def normalise_code(text: str) -> str:
    """Accepts what a person types: any case, spaces or dashes, O for 0, I or L for 1."""
    chars = "".join(ch for ch in text.upper() if ch not in " -").translate(_CODE_ALIASES)
    if len(chars) != CODE_LENGTH or any(ch not in CROCKFORD for ch in chars):
        raise InputError("code", f"卡片短码“{text}”无效：应为8位字母数字，如 ABCD-EFGH")
    return f"{chars[:4]}-{chars[4:]}"


def card_hash_key(secret: bytes) -> bytes:
    """The key of the stored token and code hashes, derived from the meeting's secret: someone
    who has seen a card but not the secret cannot find it in a copy of the store."""
    return _mac(secret, "hash-key")


def token_hash(token: str, key: bytes = b"") -> str:
    """What the store keeps of a token. `key` empty: the unkeyed SHA-256 of records made
    before the hashes were keyed (such a meeting keeps it to its end)."""
    return _hash(key, b"pingyi-token:" + token.encode())


def code_hash(code: str, key: bytes = b"") -> str:
    return _hash(key, b"pingyi-code:" + normalise_code(code).encode())


def _hash(key: bytes, message: bytes) -> str:
    if key:
        return hmac.new(key, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


def join_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/j/{token}"


def looks_like_token(text: str) -> bool:
    return len(text) == 22 and text.isascii() and all(ch.isalnum() or ch in "-_" for ch in text)


def _mac(secret: bytes, message: str) -> bytes:
    return hmac.new(secret, message.encode(), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

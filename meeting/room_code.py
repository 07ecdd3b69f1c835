"""The room code (入场码) of open join mode: six digits on the projector, new every 30 seconds.

`POST /api/join` asks for it, so a token goes only to a phone whose owner can see the hall's
projector now (or was sent the code in the last minute). The code is derived, not stored: an
HMAC, keyed from the meeting's secret, of the number of the 30-second window, so every server
process of a meeting agrees without sharing anything. The current window's code and the
previous one's are accepted: a voter who scanned at the 29th second still gets in.

Only a projector opened from the chair console is shown the code: it asks with the *screen
key*, an HMAC of the chair key that opens nothing else (docs/security.md). Pure functions: the
clock is passed in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

WINDOW = 30  # seconds a code is shown; it is accepted for one more window
DIGITS = 6
_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


@dataclass(frozen=True)
class RoomKeys:
    """What a server process derives at start: the room codes' key, the screen key and the
    counting station's keys (计票人 and 监票人)."""

    code_key: bytes
    screen_key: str
    count_key: str = ""
    observer_key: str = ""


@dataclass(frozen=True)
class RoomCode:
    code: str
    until: float  # when the next window starts (this code is accepted for one window more)


def room_keys(card_secret: bytes, chair_key: str) -> RoomKeys:
    code_key = hmac.new(card_secret, b"pingyi-room-code", hashlib.sha256).digest()
    return RoomKeys(code_key, screen_key(chair_key), count_key(chair_key), observer_key(chair_key))


def _derived(chair_key: str, label: bytes) -> str:
    mac = hmac.new(chair_key.encode(), label, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:16]).rstrip(b"=").decode()


def screen_key(chair_key: str) -> str:
    """The projector's key: it reads the room code and nothing else. One-way from the chair
    key, so holding it never gives the chair's; a new chair key makes a new one."""
    return _derived(chair_key, b"pingyi-screen-key")


def count_key(chair_key: str) -> str:
    """The 计票人's key (计票台): enters paper ballots and the returned counts and reads the
    reconciliation panel; nothing of the chair's. One-way from the chair key, like the screen's."""
    return _derived(chair_key, b"pingyi-count-key")


def observer_key(chair_key: str) -> str:
    """The 监票人's key to the counting station: reads the reconciliation panel, enters nothing."""
    return _derived(chair_key, b"pingyi-observer-key")


def _same(given: object, key: str) -> bool:
    if not isinstance(given, str) or not key:
        return False
    return hmac.compare_digest(given.encode(), key.encode())


def is_screen_key(keys: RoomKeys, given: object) -> bool:
    return _same(given, keys.screen_key)


def is_count_key(keys: RoomKeys, given: object) -> bool:
    return _same(given, keys.count_key)


def is_observer_key(keys: RoomKeys, given: object) -> bool:
    return _same(given, keys.observer_key)


def window_of(now: float) -> int:
    return int(now // WINDOW)


def code_for(code_key: bytes, window: int) -> str:
    mac = hmac.new(code_key, f"room:{window}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(mac[:8], 'big') % 10**DIGITS:0{DIGITS}d}"


def current(code_key: bytes, now: float) -> RoomCode:
    """The code the projector shows at `now`, and when it changes."""
    window = window_of(now)
    return RoomCode(code_for(code_key, window), float((window + 1) * WINDOW))


def normalise(text: str) -> str | None:
    """The code as typed (full-width digits, spaces and dashes allowed); None if it cannot be
    one."""
    digits = "".join(ch for ch in text.translate(_FULL_WIDTH) if ch not in " -")
    if len(digits) != DIGITS or not (digits.isascii() and digits.isdigit()):
        return None
    return digits


def accepts(code_key: bytes, text: str, now: float) -> bool:
    """Whether `text` is the code of the current window or of the one before it."""
    code = normalise(text)
    if code is None:
        return False
    window = window_of(now)
    matches = [hmac.compare_digest(code, code_for(code_key, w)) for w in (window, window - 1)]
    return any(matches)

"""The room code (入场码) of open join mode: derived from the secret and the 30-second window,
accepted for the current window and the one before, and the screen key that reads it."""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from meeting.room_code import (
    DIGITS,
    WINDOW,
    RoomCode,
    accepts,
    code_for,
    current,
    is_screen_key,
    normalise,
    room_keys,
    screen_key,
    window_of,
)

SECRET = bytes(range(32))
KEYS = room_keys(SECRET, "chair-key-for-tests")
T0 = 1_790_000_010.0  # a window boundary: a multiple of 30 seconds
assert T0 % WINDOW == 0


def test_the_code_is_six_digits_fixed_per_window_and_changes_with_it() -> None:
    codes = [current(KEYS.code_key, T0 + s).code for s in (0, 1, 15, 29, 29.999)]
    assert len(set(codes)) == 1
    assert len(codes[0]) == DIGITS and codes[0].isdigit()
    assert current(KEYS.code_key, T0 + 30).code != codes[0]
    assert current(KEYS.code_key, T0 + 10) == RoomCode(codes[0], T0 + WINDOW)
    assert window_of(T0 + 29.999) == window_of(T0) == window_of(T0 + 30) - 1


def test_the_code_is_the_documented_hmac_so_every_process_agrees() -> None:
    code_key = hmac.new(SECRET, b"pingyi-room-code", hashlib.sha256).digest()
    assert KEYS.code_key == code_key
    window = window_of(T0)
    mac = hmac.new(code_key, f"room:{window}".encode(), hashlib.sha256).digest()
    assert code_for(code_key, window) == f"{int.from_bytes(mac[:8], 'big') % 10**6:06d}"
    # Another process of the same meeting (same secret and chair key) derives the same keys.
    assert room_keys(bytes(SECRET), "chair-key-for-tests") == KEYS


def test_another_meetings_secret_gives_other_codes() -> None:
    other = room_keys(b"another secret", "chair-key-for-tests")
    ours = [code_for(KEYS.code_key, w) for w in range(100)]
    theirs = [code_for(other.code_key, w) for w in range(100)]
    assert sum(a == b for a, b in zip(ours, theirs, strict=True)) <= 1


def test_codes_keep_their_leading_zeros() -> None:
    codes = [code_for(KEYS.code_key, w) for w in range(3000)]
    assert all(len(c) == DIGITS and c.isdigit() for c in codes)
    assert any(c.startswith("0") for c in codes)


def test_the_current_and_the_previous_window_are_accepted_not_older_not_newer() -> None:
    now = T0 + 5
    window = window_of(now)
    assert accepts(KEYS.code_key, code_for(KEYS.code_key, window), now)
    assert accepts(KEYS.code_key, code_for(KEYS.code_key, window - 1), now)
    assert not accepts(KEYS.code_key, code_for(KEYS.code_key, window - 2), now)
    assert not accepts(KEYS.code_key, code_for(KEYS.code_key, window + 1), now)
    # The scanned code of second 29 still works 30 seconds later, not 31.
    scanned = current(KEYS.code_key, T0 + 29).code
    assert accepts(KEYS.code_key, scanned, T0 + 59.9)
    assert not accepts(KEYS.code_key, scanned, T0 + 60)


def test_typed_codes_are_normalised_and_anything_else_refused() -> None:
    code = current(KEYS.code_key, T0).code
    typed = f"{code[:3]} {code[3:]}"
    wide = code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    for text in (code, typed, f"{code[:3]}-{code[3:]}", wide):
        assert normalise(text) == code
        assert accepts(KEYS.code_key, text, T0)
    for text in ("", "12345", "1234567", "12a456", "123X456", "١٢٣٤٥٦", "12345²"):
        assert normalise(text) is None
        assert not accepts(KEYS.code_key, text, T0)


@given(st.text(max_size=12))
def test_no_text_makes_normalise_fail(text: str) -> None:
    result = normalise(text)
    assert result is None or (len(result) == DIGITS and result.isascii() and result.isdigit())


def test_the_screen_key_reads_and_is_not_the_chair_key() -> None:
    assert KEYS.screen_key == screen_key("chair-key-for-tests")
    assert KEYS.screen_key != "chair-key-for-tests" and len(KEYS.screen_key) == 22
    assert screen_key("another chair key") != KEYS.screen_key  # a new chair key: a new one
    assert is_screen_key(KEYS, KEYS.screen_key)
    for wrong in (None, 42, "", "chair-key-for-tests", KEYS.screen_key[:-1], "密钥"):
        assert not is_screen_key(KEYS, wrong)

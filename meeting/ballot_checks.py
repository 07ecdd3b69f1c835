"""A ballot on its way in: its id (`cid`), its marks, and the receipt the voter is shown.

Receipts are an HMAC of the phone's random ballot id, so a resubmission gets the same receipt
without anything stored linking the token that voted to the ballot it cast.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from meeting.errors import BadField, BadGrade, BadReporter
from meeting.join_cards import CROCKFORD
from tally.model import ABSTAIN, SPOILED, Meeting

RECEIPT_BITS = 50
CID_MIN, CID_MAX = 16, 64


def receipt_for(receipt_key: bytes, cid: str) -> str:
    digest = hmac.new(receipt_key, b"receipt:" + cid.encode(), hashlib.sha256).digest()
    value = int.from_bytes(digest[:8], "big") >> (64 - RECEIPT_BITS)
    chars = "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(10)))
    return f"{chars[:5]}-{chars[5:]}"


def receipt_score(receipt: str) -> int:
    """The receipt as a number: the ballot box is ordered by it, not by arrival."""
    value = 0
    for ch in receipt.replace("-", ""):
        value = value * 32 + CROCKFORD.index(ch)
    return value


def cid_hash(cid: str) -> str:
    return hashlib.sha256(b"pingyi-cid:" + cid.encode()).hexdigest()


def check_cid(cid: Any) -> str:
    if not isinstance(cid, str) or not CID_MIN <= len(cid) <= CID_MAX or not cid.isascii():
        raise BadField(f"选票编号 cid 应为{CID_MIN}到{CID_MAX}位字符", "cid")
    return cid


def check_marks(
    marks: Any, meeting: Meeting, round_reporters: tuple[str, ...], allow_spoiled: bool
) -> dict[str, str]:
    """Every reporter of the round with its mark; a missing or nil mark is a blank (弃权)."""
    if not isinstance(marks, Mapping):
        raise BadField("marks 应为“述职人编号 → 等次”的映射", "marks")
    grades = meeting.rules.grades
    allowed = set(grades) | ({SPOILED} if allow_spoiled else set())
    checked = {reporter: ABSTAIN for reporter in round_reporters}
    for reporter, mark in marks.items():
        if reporter not in checked:
            raise BadReporter(f"述职人“{reporter}”不在本轮测评中", "marks")
        if mark is None or mark == ABSTAIN:
            continue
        if not isinstance(mark, str) or mark not in allowed:  # a list or map is unhashable
            words = "/".join(grades)
            raise BadGrade(f"“{mark}”不是有效等次：应为{words}或留空", "marks")
        checked[reporter] = mark
    return checked

"""A ballot on its way in: its id (`cid`), its marks, and the receipt the voter is shown.

A ballot's identity is never the client's choice alone: its receipt is an HMAC of the round,
the card's token hash and the phone's random ballot id (`cid`), so two cards, or one card in
two rounds, never share a receipt whatever `cid` they send. The card's spent-token entry
holds a fingerprint of the same and of the marks: a resubmission of the same ballot gets the
same receipt, another ballot from the same card is refused. Neither links the token to the
ballot without the `cid`, which only the phone ever had.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Mapping
from typing import Any

from meeting.errors import BadField, BadGrade, BadReporter
from meeting.join_cards import CROCKFORD
from tally.model import ABSTAIN, SPOILED, Meeting

RECEIPT_BITS = 50
CID_MIN, CID_MAX = 16, 64


def receipt_for(
    receipt_key: bytes, round_id: int, token_hash: str, cid: str, attempt: int = 0
) -> str:
    """The receipt (and ballot id) of this card's ballot `cid` in this round. `attempt` > 0 only
    when an earlier attempt's receipt was already some other ballot's (1 in 2**50 a pair)."""
    message = f"receipt:{round_id}:{token_hash}:{cid}:{attempt}".encode()
    digest = hmac.new(receipt_key, message, hashlib.sha256).digest()
    value = int.from_bytes(digest[:8], "big") >> (64 - RECEIPT_BITS)
    chars = "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(10)))
    return f"{chars[:5]}-{chars[5:]}"


def receipt_score(receipt: str) -> int:
    """The receipt as a number: the ballot box is ordered by it, not by arrival."""
    value = 0
    for ch in receipt.replace("-", ""):
        value = value * 32 + CROCKFORD.index(ch)
    return value


def ballot_fingerprint(
    receipt_key: bytes,
    round_id: int,
    token_hash: str,
    cid: str,
    marks: Mapping[str, str],
    item_codes: bytes = b"",
) -> str:
    """What the spent-token entry holds: the same ballot sent again matches it, another does not.

    192 bits, so that the entry stays within Redis's compact small-hash encoding (values up to
    64 bytes), whose order after the close-time sort is the sorted order. `item_codes`: the
    item answers as stored (`meeting.ballot_layout.answer_codes`); a ballot without them (every
    grade-only ballot) is fingerprinted exactly as before they existed."""
    words = "\x1f".join(f"{reporter}\x1e{mark}" for reporter, mark in marks.items())
    if item_codes:
        words += f"\x1f#items\x1e{item_codes.hex()}"
    message = f"ballot:{round_id}:{token_hash}:{cid}:{words}".encode()
    return hmac.new(receipt_key, message, hashlib.sha256).hexdigest()[:48]


def check_cid(cid: Any) -> str:
    if not isinstance(cid, str) or not CID_MIN <= len(cid) <= CID_MAX or not cid.isascii():
        raise BadField(f"选票编号 cid 应为{CID_MIN}到{CID_MAX}位字符", "cid")
    return cid


def check_marks(
    marks: Any,
    meeting: Meeting,
    round_reporters: tuple[str, ...],
    allow_spoiled: bool,
    ungraded: Collection[str] = (),
) -> dict[str, str]:
    """Every reporter of the round with its mark; a missing or nil mark is a blank (弃权).
    `ungraded`: the reporters this group's form asks no grade of (逐项测评 only): blank."""
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
        if reporter in ungraded:
            raise BadReporter(f"述职人“{reporter}”在本组的评议表上只作逐项测评，不评等次", "marks")
        if not isinstance(mark, str) or mark not in allowed:  # a list or map is unhashable
            words = "/".join(grades)
            raise BadGrade(f"“{mark}”不是有效等次：应为{words}或留空", "marks")
        checked[reporter] = mark
    return checked

"""A file of paper ballots typed in by the tellers (the ballot CSV), entered into the open round.

`POST /api/paper-ballots` (docs/protocol.md). All or nothing, as far as it can be known before
anything is entered: the whole file is checked first (its rows, the round's reporters, every
card known, and no card that already voted in this round with another ballot, by phone or an
earlier paper entry); one bad line refuses the whole file, nothing is entered, and the answer
names every bad line so the tellers fix the file and send it again. Then each row goes through
`MeetingService.paper`, the one cast path. A card that votes by phone between the check and
the entry is refused on its line alone (the answer says which lines were entered).

Sending the same file again enters nothing twice: each row's ballot id (`cid`) is derived
from the round and the card, so the same row is the same ballot (`again`, the same receipt),
and a card whose spent entry holds this very ballot passes the check.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

from meeting import errors as refusal
from meeting.agenda import Round
from meeting.ballot_checks import ballot_fingerprint, check_marks
from meeting.ballot_layout import answer_codes, asks_items, ballot_parts, check_items
from meeting.errors import Rejected
from meeting.join_cards import normalise_code
from server.errors import BodyTooLarge, error_code, error_status
from server.service import MeetingService
from tally.ballot_csv import BallotRow, parse_ballot_rows
from tally.errors import InputError

MAX_BYTES = 1024 * 1024  # some 5,000 ballots of 30 reporters (64 KiB: a few hundred)
DEFAULT_NAME = "纸质选票.csv"
# Lines entered at once: each takes a connection of the store's pool (64, shared with the
# phones) while it looks its card up; the casts of a batch go to Redis in one write.
BATCH = 16


@dataclass
class Line:
    """One row of the file and what became of it."""

    row: BallotRow
    code: str = ""  # the card's code as printed
    token: str = ""  # the card's token hash
    receipt: str | None = None
    again: bool = False
    error: Rejected | None = None
    items: dict[str, dict[str, str]] | None = None  # the answers, where its form asks items

    def answer(self) -> dict[str, Any]:
        error = self.error
        return {
            "line": self.row.line,
            "card": self.code or self.row.card,
            "receipt": self.receipt,
            "again": self.again,
            "error": None if error is None else {"code": error_code(error), "msg": error.msg},
        }


async def read_body(chunks: AsyncIterator[bytes]) -> bytes:
    """The request's body, refused as soon as it passes `MAX_BYTES`."""
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > MAX_BYTES:
            raise BodyTooLarge("选票文件过大（最多 1 MiB）")
    return bytes(body)


def paper_cid(receipt_key: bytes, round_id: int, code: str) -> str:
    """The ballot id of the paper ballot of this card in this round: the same every time."""
    message = f"paper-import:{round_id}:{code}".encode()
    return hmac.new(receipt_key, message, hashlib.sha256).hexdigest()[:32]


async def enter_file(
    service: MeetingService, body: bytes, name: str | None = None, round_id: str | None = None
) -> tuple[int, dict[str, Any]]:
    """Checks the file, then enters it into the open round: the HTTP status and the answer.
    `name` names the file in the errors; `round_id`, if given, must be the open round's."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise refusal.BadField(
            "选票文件应为 UTF-8 编码的 CSV（Excel：另存为“CSV UTF-8”）", "csv"
        ) from None
    try:
        await service.projection.catch_up()
        held = service.state.open_round
        if held is None:
            raise refusal.NotOpen("没有正在进行的投票，纸质选票无法录入；请先开启投票", "round")
        if round_id is not None and round_id != str(held.id):
            raise refusal.NotOpen(
                f"正在进行的是第 {held.id} 轮投票，不是第 {round_id[:20]} 轮；请核对轮次", "round"
            )
        source = (name or DEFAULT_NAME)[:100]
        try:
            rows = parse_ballot_rows(
                text, service.meeting, source, reporters=held.reporters, need_card=True
            )
        except InputError as error:
            raise refusal.BadField(str(error), "csv") from None
        lines = [Line(row) for row in rows]
        for line in lines:
            await _check(service, held, line, lines)
    except (RedisError, OSError):
        raise refusal.Unavailable() from None
    refused = [line for line in lines if line.error]
    if refused:
        note = f"选票文件有{len(refused)}行不能录入，整个文件均未录入；请改正后重新提交。"
        return _answer(held.id, lines, note)
    return await enter_lines(service, held.id, lines)


async def _check(service: MeetingService, held: Round, line: Line, lines: list[Line]) -> None:
    """Refuses the line (`line.error`) whose card is unknown, or already voted in this round."""
    where = f"第{line.row.line}行："
    try:
        line.code = normalise_code(line.row.card)
    except InputError as error:
        line.error = refusal.BadCode(where + error.message, "csv")
        return
    card = await service.card_for_code(line.code)
    if card is None:
        line.error = refusal.UnknownCode(f"{where}参会卡短码“{line.code}”不存在", "csv")
        return
    token, group = card
    first = next((other for other in lines if other.token == token), None)
    line.token = token
    if first is not None:  # the same card typed twice (O for 0, I for 1)
        line.error = refusal.AlreadyVoted(
            f"{where}参会卡 {line.code} 已在第{first.row.line}行投过票；一张卡只能投一张选票",
            "csv",
        )
        return
    if line.row.ballot.group != group:
        line.error = refusal.BadGroup(
            f"{where}分组“{line.row.ballot.group}”与参会卡 {line.code} 的分组“{group}”不符",
            "csv",
        )
        return
    holder = service.voter_of(token)  # 部分实名: the member whose card it is
    if line.row.ballot.voter and line.row.ballot.voter != holder:
        line.error = refusal.BadField(
            f"{where}投票人“{line.row.ballot.voter}”与参会卡 {line.code} 的持卡人“{holder}”不符",
            "csv",
        )
        return
    # A card that already voted: passes only if it is this very ballot (the file sent again).
    key = service.receipt_key
    cid = paper_cid(key, held.id, line.code)
    parts = ballot_parts(service.meeting, group, held.reporters)
    ungraded = {part.reporter for part in parts if not part.graded}
    try:
        marks = check_marks(line.row.ballot.marks, service.meeting, held.reporters, True, ungraded)
        line.items = line.row.ballot.items if asks_items(parts) else None
        answers = check_items(line.items, parts, True)
    except Rejected as error:
        line.error = type(error)(where + error.msg, "csv")
        return
    codes = answer_codes(answers, parts)
    fingerprint = ballot_fingerprint(key, held.id, token, cid, marks, codes)
    spent = await service.store.spent_fingerprint(held.id, token)
    if spent is not None and spent != fingerprint:
        line.error = refusal.AlreadyVoted(
            f"{where}参会卡 {line.code} 本轮已投票，此纸质选票不计入", "csv"
        )


async def enter_lines(
    service: MeetingService, round_id: int, lines: list[Line]
) -> tuple[int, dict[str, Any]]:
    """Enters the checked lines, a batch at a time; a line refused now (its card voted by
    phone since the check, the round closed, the store gone) is refused alone."""
    for start in range(0, len(lines), BATCH):  # one write of the store per batch
        await asyncio.gather(
            *(_enter(service, round_id, line) for line in lines[start : start + BATCH])
        )
    note = "以下各行未能录入，其余各行已录入；请核对后重新提交（已录入的不会重复计入）。"
    return _answer(round_id, lines, note)


async def _enter(service: MeetingService, round_id: int, line: Line) -> None:
    cid = paper_cid(service.receipt_key, round_id, line.code)
    try:
        line.receipt, line.again = await service.paper(
            line.code, round_id, line.row.ballot.marks, cid, line.items
        )
    except refusal.AlreadyVoted:  # the card voted by phone since the check
        line.error = refusal.AlreadyVoted(
            f"第{line.row.line}行：参会卡 {line.code} 本轮已投票，此纸质选票不计入", "csv"
        )
    except Rejected as error:
        error.msg = f"第{line.row.line}行：{error.msg}"
        line.error = error


def _answer(round_id: int, lines: list[Line], note: str) -> tuple[int, dict[str, Any]]:
    errors = [line.error for line in lines if line.error is not None]
    entered = [line for line in lines if line.receipt]
    body: dict[str, Any] = {
        "round": round_id,
        "lines": [line.answer() for line in lines],
        "counts": {
            "rows": len(lines),
            "entered": sum(not line.again for line in entered),
            "again": sum(line.again for line in entered),
            "refused": len(errors),
        },
    }
    if not errors:
        return 200, body
    first = errors[0]
    body["error"] = {"code": error_code(first), "msg": note + first.msg, "field": "csv"}
    return error_status(first), body

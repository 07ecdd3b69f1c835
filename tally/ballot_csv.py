"""The ballot CSV: one row per paper ballot, as typed in by the tellers or exported live.

``ballot,group,<reporter id>...`` with one cell per reporter: a grade word, empty (弃权),
``废`` (废票) or ``-`` (this reporter was not on this ballot). The group cell is a group's id
or its name (县级领导), as ticked on the paper ballot. An optional ``card`` column carries the
short code of the join card the paper ballot was written on (``ABCD-EFGH``; case, spaces and
the dash do not matter): one card, one ballot, so a card that appears twice is refused, and
a paper ballot typed beside the phone ballots of the same card is caught. Errors point at
``file:line:column`` (column = CSV field, 1-based) so that the teller can find the cell in
Excel; the whole file is refused on the first error.

An optional ``via`` column says how each ballot came: ``纸质`` (a paper ballot typed in by the
tellers; ``paper`` is read the same) or ``手机`` (a phone ballot; ``phone``). The export
(`format_ballots_csv`) writes it only when at least one ballot is paper, so that an export
of phone ballots alone is byte for byte what it was before the column existed (the SHA-256
recorded at the close and printed on the tally sheet stays the same), and ``format(parse(x))
== x`` for every export. A file without the column therefore says nothing about how its
ballots came: it may be such an export, or paper ballots typed in by hand. Its ballots are
read with ``paper=False`` and, since no ballot of it is paper, the engine reports the split
as unknown (``phone``/``paper`` null in the result, ``—`` on the tally sheet) rather than
calling typed paper ballots phone ballots, or an export's phone ballots paper. Reading a file
without the column as paper could not round-trip: the export of phone ballots would read
back as paper ones. A hand-typed file of paper ballots gets its split printed by adding the
column (``纸质`` in every row).

A meeting with a named group (部分实名) has a ``voter`` column too: the member id of who cast
a named group's ballot, empty for an anonymous group's. The export writes it only for such a
meeting, so that every other export stays byte for byte what it was; a file of anonymous
paper ballots may leave it out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tally.errors import InputError
from tally.model import ABSTAIN, NOT_ON_BALLOT, SPOILED, Ballot, Meeting

DEFAULT_GROUP_ID = "all"  # the group parse_meeting makes when the file has no [[groups]]
CARD_COLUMN = "card"
VIA_COLUMN = "via"
VOTER_COLUMN = "voter"  # 部分实名: who cast a named group's ballot (a member id)
VIA_PAPER, VIA_PHONE = "纸质", "手机"
VIA_VALUES = {VIA_PAPER: True, VIA_PHONE: False, "paper": True, "phone": False}


def card_code(text: str) -> str:
    """A card's short code as printed (ABCD-EFGH), however it was typed."""
    plain = "".join(text.split()).replace("-", "").upper()
    return f"{plain[:4]}-{plain[4:]}" if len(plain) == 8 else plain


def parse_ballots_csv(text: str, meeting: Meeting, source: str = "ballots.csv") -> list[Ballot]:
    """The ballots of a ballot CSV (a meeting with item forms: the item ballot CSV of
    `tally.item_csv`, whose columns hold each reporter's item answers too)."""
    if meeting.appraisal.forms:
        from tally.item_csv import parse_item_ballots_csv  # it builds on this module

        return parse_item_ballots_csv(text, meeting, source)
    reader = _reader(text)
    try:
        return _parse(reader, meeting, source)
    except csv.Error as error:
        raise InputError(f"{source}:{reader.line_num}", f"CSV格式错误：{error}") from None


def _reader(text: str) -> Any:
    """The rows of a ballot CSV as the tellers' Excel writes it (with or without a BOM)."""
    return csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)


def _header(reader: Any) -> list[str]:
    return [cell.strip() for cell in next(reader, [])]


class RowFrame:
    """What every row of a ballot CSV begins with, read once for the grade CSV and the item
    CSV alike: the ballot id (present, once), the group (its id or its name), the card it was
    written on (once), and whether it came on paper; each error names line and column."""

    def __init__(self, header: list[str], meeting: Meeting, source: str) -> None:
        self.header, self.meeting, self.source = header, meeting, source
        group_ids = [g.id for g in meeting.groups]
        self.group_ids = set(group_ids)
        self.by_name: dict[str, list[str]] = {}
        for g in meeting.groups:
            self.by_name.setdefault(g.name, []).append(g.id)
        if not header or header[0] != "ballot":
            got = f"“{header[0]}”" if header else "空文件"
            raise self.fail(1, 1, f"表头第一列应为“ballot”（选票编号），实际为{got}")
        self.has_group = len(header) > 1 and header[1] == "group"
        if not self.has_group and group_ids != [DEFAULT_GROUP_ID]:
            raise self.fail(1, 2, f"表头第二列应为“group”（分组：{'、'.join(group_ids)}）")
        self.first = 2 if self.has_group else 1  # the first column after ballot and group
        self.card_index: int | None = None
        self.via_index: int | None = None
        self.voter_index: int | None = None
        self.members = {g.id: [m.id for m in g.members] for g in meeting.groups if g.named}
        self.seen: set[str] = set()
        self.cards: dict[str, int] = {}  # card code -> the line it was first seen on

    def fail(self, line: int, column: int, message: str) -> InputError:
        return InputError(f"{self.source}:{line}:{column}", message)

    def cells(self, row: list[str], line: int) -> list[str] | None:
        """The row's trimmed cells; None for a blank row (Excel's trailing ",,,," too)."""
        cells = [cell.strip() for cell in row]
        if not any(cells):
            return None
        if len(cells) != len(self.header):
            width = len(self.header)
            raise self.fail(
                line, min(len(cells), width) + 1, f"应有{width}列，实际为{len(cells)}列"
            )
        return cells

    def start(self, cells: list[str], line: int) -> tuple[str, str, bool]:
        """The row's ballot id, group id and whether it is on paper."""
        ballot_id = cells[0]
        if not ballot_id:
            raise self.fail(line, 1, "选票编号为空")
        if ballot_id in self.seen:
            raise self.fail(line, 1, f"选票编号“{ballot_id}”重复")
        self.seen.add(ballot_id)
        group = cells[1] if self.has_group else DEFAULT_GROUP_ID
        if group not in self.group_ids:
            named = self.by_name.get(group, [])
            if len(named) > 1:
                raise self.fail(
                    line, 2, f"分组名称“{group}”不唯一，请填分组编号：{'、'.join(named)}"
                )
            if not named:
                known = "、".join(f"{g.id}（{g.name}）" for g in self.meeting.groups)
                raise self.fail(line, 2, f"分组“{group}”不存在；应为：{known}")
            group = named[0]
        if self.card_index is not None and cells[self.card_index]:
            card = card_code(cells[self.card_index])
            if card in self.cards:
                raise self.fail(
                    line,
                    self.card_index + 1,
                    f"参会卡“{card}”已在第{self.cards[card]}行投过票；一张卡只能投一张选票",
                )
            self.cards[card] = line
        if self.via_index is None:
            return ballot_id, group, False
        via = VIA_VALUES.get(cells[self.via_index].lower())
        if via is None:
            raise self.fail(
                line,
                self.via_index + 1,
                f"无效的投票方式“{cells[self.via_index]}”（via列）；"
                f"应为：{VIA_PAPER}或{VIA_PHONE}（也可写 paper 或 phone）",
            )
        return ballot_id, group, via

    def voter(self, cells: list[str], line: int, group: str) -> str:
        """The row's voter (部分实名): a member of its named group, or "" for an anonymous one."""
        index = self.voter_index
        members = self.members.get(group)
        name = self.meeting.group(group).name if members is not None or index is not None else ""
        if index is None:
            # a paper ballot typed in against its card's code: the card is its member's own
            carded = self.card_index is not None and cells[self.card_index]
            if members is not None and not carded:
                raise self.fail(
                    line,
                    2,
                    f"“{name}”为实名分组，须有“{VOTER_COLUMN}”列填写投票成员的编号"
                    f"（或“{CARD_COLUMN}”列填写其本人参会卡的短码）",
                )
            return ""
        cell = cells[index]
        if members is None:
            if cell:
                raise self.fail(
                    line, index + 1, f"“{name}”为匿名分组，投票人（voter列）应留空，实际为“{cell}”"
                )
            return ""
        if cell not in members:
            raise self.fail(
                line,
                index + 1,
                f"无效的投票人“{cell}”（voter列）；“{name}”为实名分组，应为其成员：{'、'.join(members)}",
            )
        return cell


def voter_index(header: list[str], first: int, meeting: Meeting, taken: list[str]) -> int | None:
    """Where the voter column is: only a meeting with a named group has one, and a reporter
    (or other column) of that name keeps its own."""
    if not meeting.named or VOTER_COLUMN not in header[first:] or VOTER_COLUMN in taken:
        return None
    return header.index(VOTER_COLUMN, first)


def voter_cells(meeting: Meeting, ballots: list[Ballot], taken: list[str]) -> bool:
    """Whether the export has a voter column (a meeting with a named group), after checking
    that every ballot's voter reads back: a member of its named group, else ""."""
    members = {g.id: {m.id for m in g.members} for g in meeting.groups if g.named}
    for ballot in ballots:
        known = members.get(ballot.group)
        if (ballot.voter in known) if known is not None else not ballot.voter:
            continue
        raise InputError(f"选票{ballot.id}", f"投票人“{ballot.voter}”与分组“{ballot.group}”不符")
    if members and VOTER_COLUMN in taken:
        raise InputError(VOTER_COLUMN, f"述职人编号“{VOTER_COLUMN}”与投票人列同名，无法导出")
    return bool(members)


def _parse(reader, meeting: Meeting, source: str) -> list[Ballot]:
    header = _header(reader)
    ids = [r.id for r in meeting.reporters]
    frame = RowFrame(header, meeting, source)
    fail, first = frame.fail, frame.first
    extra = (CARD_COLUMN, VIA_COLUMN, *([VOTER_COLUMN] if meeting.named else []))
    allowed = ", ".join(["ballot", "group", *extra, *ids])
    for column, name in enumerate(header[first:], first + 1):
        if name not in ids and name not in extra:
            raise fail(1, column, f"未知的列“{name}”；允许的列：{allowed}")
        if header.index(name) != column - 1:
            raise fail(1, column, f"列“{name}”重复")
    missing = [rid for rid in ids if rid not in header]
    if missing:
        raise fail(1, len(header) + 1, f"缺少述职人列：{'、'.join(missing)}")

    grades = meeting.rules.grades
    valid_marks = {*grades, ABSTAIN, SPOILED}
    expected = (
        f"{'、'.join(grades)}、空白（弃权）、{SPOILED}（废票）或{NOT_ON_BALLOT}（不在本张选票上）"
    )
    card_index = header.index(CARD_COLUMN) if CARD_COLUMN in header else None
    via_index = (
        header.index(VIA_COLUMN, first)
        if VIA_COLUMN in header[first:] and VIA_COLUMN not in ids
        else None
    )
    voter = voter_index(header, first, meeting, ids)
    columns = [
        (i, rid)
        for i, rid in enumerate(header[first:], first)
        if i not in (card_index, via_index, voter)
    ]
    frame.card_index, frame.via_index, frame.voter_index = card_index, via_index, voter
    ballots = []
    for row in reader:
        line = reader.line_num
        cells = frame.cells(row, line)
        if cells is None:
            continue
        ballot_id, group, paper = frame.start(cells, line)
        marks = {}
        for index, rid in columns:
            cell = cells[index]
            if cell == NOT_ON_BALLOT:
                continue
            if cell not in valid_marks:
                raise fail(line, index + 1, f"无效的标记“{cell}”（{rid}列）；应为：{expected}")
            marks[rid] = cell
        who = frame.voter(cells, line, group)
        ballots.append(Ballot(ballot_id, group, marks, paper, voter=who))
    return ballots


def format_ballots_csv(meeting: Meeting, ballots: Iterable[Ballot]) -> str:
    """The ballot CSV `parse_ballots_csv` reads back (a meeting with item forms: the item
    ballot CSV of `tally.item_csv`), sorted by ballot id."""
    if meeting.appraisal.forms:
        from tally.item_csv import format_item_ballots_csv  # it builds on this module

        return format_item_ballots_csv(meeting, list(ballots))
    ids = [r.id for r in meeting.reporters]
    group_ids = {g.id for g in meeting.groups}
    valid_marks = {*meeting.rules.grades, ABSTAIN, SPOILED}
    ordered = sorted(ballots, key=lambda b: b.id)
    # Only when a ballot is paper: an export of phone ballots stays what it always was.
    via = any(ballot.paper for ballot in ordered)
    if via and VIA_COLUMN in ids:
        raise InputError(VIA_COLUMN, f"述职人编号“{VIA_COLUMN}”与投票方式列同名，无法导出纸质票")
    voters = voter_cells(meeting, ordered, ids)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    head = [*([VIA_COLUMN] if via else []), *([VOTER_COLUMN] if voters else [])]
    writer.writerow(["ballot", "group", *head, *ids])
    for ballot in ordered:
        # Refuse what parse would read back differently, so the export always round-trips.
        if not ballot.id or ballot.id != ballot.id.strip() or ballot.group not in group_ids:
            raise InputError(f"选票{ballot.id!r}", "选票编号为空、首尾有空白或分组不存在")
        bad = [
            rid for rid, mark in ballot.marks.items() if rid not in ids or mark not in valid_marks
        ]
        if bad:
            raise InputError(f"选票{ballot.id}", f"述职人“{bad[0]}”不在会议中或标记无效")
        how = [VIA_PAPER if ballot.paper else VIA_PHONE] if via else []
        who = [ballot.voter] if voters else []
        writer.writerow(
            [
                ballot.id,
                ballot.group,
                *how,
                *who,
                *(ballot.marks.get(rid, NOT_ON_BALLOT) for rid in ids),
            ]
        )
    return out.getvalue()


@dataclass(frozen=True)
class BallotRow:
    """One ballot of a ballot CSV and where it is: its line and its card's code."""

    line: int  # the line the row ends on, as in the parser's errors
    card: str  # as `card_code` writes it; "" when the row names no card
    ballot: Ballot


def parse_ballot_rows(
    text: str,
    meeting: Meeting,
    source: str = "ballots.csv",
    reporters: Iterable[str] | None = None,
    need_card: bool = False,
) -> list[BallotRow]:
    """The ballots of `parse_ballots_csv`, each with its line and card, for entering a file of
    paper ballots into one round (`server/paper_import.py`). With `reporters` (the round's),
    every row marks each of them (a grade, blank or 废) and leaves every other reporter ``-``;
    with `need_card`, every row names its card. Errors point at ``file:line:column``."""
    ballots = parse_ballots_csv(text, meeting, source)  # the whole file is valid from here on
    reader = _reader(text)
    header = _header(reader)
    card_index = header.index(CARD_COLUMN) if CARD_COLUMN in header else None
    if need_card and card_index is None:
        raise InputError(
            f"{source}:1:{len(header) + 1}",
            f"缺少“{CARD_COLUMN}”列：每张纸质选票须填写所用参会卡的短码（如 ABCD-EFGH）",
        )
    ids = {r.id for r in meeting.reporters}
    columns = [(index, name) for index, name in enumerate(header) if name in ids]
    wanted = None if reporters is None else set(reporters)
    rows: list[BallotRow] = []
    for row in reader:
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue  # skipped by the parser too
        line, ballot = reader.line_num, ballots[len(rows)]
        card = card_code(cells[card_index]) if card_index is not None else ""
        if need_card and not card:
            raise InputError(f"{source}:{line}:{header.index(CARD_COLUMN) + 1}", "参会卡短码为空")
        for index, rid in columns:
            if not meeting.appraisal.form_for(rid, ballot.group).has_grade:
                continue  # 逐项测评 only: its cell stays blank (tally.item_csv checks it)
            if wanted is not None and (rid in wanted) != (rid in ballot.marks):
                raise InputError(
                    f"{source}:{line}:{index + 1}",
                    f"述职人“{rid}”在本轮测评中，不能填“{NOT_ON_BALLOT}”（弃权请留空）"
                    if rid in wanted
                    else f"述职人“{rid}”不在本轮测评中，应填“{NOT_ON_BALLOT}”",
                )
        rows.append(BallotRow(line, card, ballot))
    return rows

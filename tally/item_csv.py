"""The CSV inputs of a meeting with forms: item ballots, expert scores and indicator values.

**Item ballots** (`parse_item_ballots_csv`), for a meeting with `[[forms]]`: like the ballot
CSV (`tally.ballot_csv`: ``ballot``, ``group``, optional ``card`` and ``via``, and ``voter``
with a named group), with

- a column ``r01`` for each reporter some group grades (a form of kind ``grade`` or
  ``both``): a grade word, blank (弃权), ``废`` or ``-`` (not on this ballot);
- a column ``r01.a01`` for each item of each reporter some group answers items on (kind
  ``items`` or ``both``): one of the form's options, blank (弃权), ``废`` or ``-``; a reporter's
  item cells are either all ``-`` (not on this ballot) or none.

A row's cells for what its group does not fill in (another group's form) must stay blank or
``-``. Every reporter's and item's column is required, no others, in any order.

**Expert scores** (`parse_experts_csv`, 专家评分.csv): ``reporter`` then one column per expert
(any id); a row per reporter, a cell a score from 0 to `[experts] max_score` or blank (this
expert did not score). **Indicator values** (`parse_indicators_csv`, 项目指标.csv):
``reporter`` then one column per `[[indicators]]` id, every one; a cell the actual value or
blank (none). A reporter without a row has no score from that source.

Every error names ``file:line:column`` (column = CSV field, from 1), in Chinese.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

from tally.ballot_csv import (
    CARD_COLUMN,
    VIA_COLUMN,
    VIA_PAPER,
    VIA_PHONE,
    VOTER_COLUMN,
    RowFrame,
    _reader,
    voter_cells,
    voter_index,
)
from tally.errors import InputError
from tally.experts import ExpertPanel
from tally.items import ItemForm
from tally.model import ABSTAIN, NOT_ON_BALLOT, SPOILED, Ballot, Meeting
from tally.numbers import exact_text, parse_number, short

ITEM_SEPARATOR = "."  # the column of reporter r01's item a01 is r01.a01
REPORTER_COLUMN = "reporter"
_EXPERT_ID = re.compile(r"[^\s,\"]+")


def grade_columns(meeting: Meeting) -> list[str]:
    """The reporters some group grades (a form with a grade part), in speaking order."""
    appraisal = meeting.appraisal
    return [
        r.id
        for r in meeting.reporters
        if any(appraisal.form_for(r.id, g.id).has_grade for g in meeting.groups)
    ]


def checklist_of(meeting: Meeting, reporter_id: str) -> ItemForm | None:
    """The item checklist the groups answer on this reporter (one per reporter), or None."""
    for group in meeting.groups:
        form = meeting.appraisal.form_for(reporter_id, group.id)
        if form.has_items:
            return form.checklist
    return None


def item_columns(meeting: Meeting) -> list[tuple[str, str]]:
    """(reporter id, item id) of every item column, in speaking and item order."""
    out: list[tuple[str, str]] = []
    for reporter in meeting.reporters:
        checklist = checklist_of(meeting, reporter.id)
        if checklist is not None:
            out.extend((reporter.id, item.id) for item in checklist.items)
    return out


def parse_item_ballots_csv(
    text: str, meeting: Meeting, source: str = "ballots.csv"
) -> list[Ballot]:
    reader = _reader(text)
    try:
        return _parse(reader, meeting, source)
    except csv.Error as error:
        raise InputError(f"{source}:{reader.line_num}", f"CSV格式错误：{error}") from None


def _parse(reader: Any, meeting: Meeting, source: str) -> list[Ballot]:
    def fail(line: int, column: int, message: str) -> InputError:
        return InputError(f"{source}:{line}:{column}", message)

    header = [cell.strip() for cell in next(reader, [])]
    frame = RowFrame(header, meeting, source)
    first = frame.first
    grades = grade_columns(meeting)
    items = [f"{rid}{ITEM_SEPARATOR}{item}" for rid, item in item_columns(meeting)]
    wanted = [*grades, *items]
    extra = (CARD_COLUMN, VIA_COLUMN, *([VOTER_COLUMN] if meeting.named else []))
    for column, name in enumerate(header[first:], first + 1):
        if name not in wanted and name not in extra:
            hint = f"等次列：{'、'.join(grades) or '无'}；逐项列如{items[0] if items else '无'}"
            known = "、".join(("ballot", "group", *extra))
            raise fail(1, column, f"未知的列“{name}”；允许的列：{known}，{hint}")
        if header.index(name) != column - 1:
            raise fail(1, column, f"列“{name}”重复")
    missing = [name for name in wanted if name not in header]
    if missing:
        shown = "、".join(missing[:5]) + ("等" if len(missing) > 5 else "")
        raise fail(1, len(header) + 1, f"缺少{len(missing)}列：{shown}")
    index = {name: i for i, name in enumerate(header)}
    card_index = index.get(CARD_COLUMN)
    via_index = index.get(VIA_COLUMN)
    checklists = {r.id: checklist_of(meeting, r.id) for r in meeting.reporters}
    appraisal = meeting.appraisal
    frame.card_index, frame.via_index = card_index, via_index
    frame.voter_index = voter_index(header, first, meeting, wanted)
    ballots = []
    for row in reader:
        line = reader.line_num
        cells = frame.cells(row, line)
        if cells is None:
            continue
        ballot_id, group, paper = frame.start(cells, line)
        group_name = meeting.group(group).name

        marks: dict[str, str] = {}
        for rid in grades:
            i = index[rid]
            cell = cells[i]
            form = appraisal.form_for(rid, group)
            if not form.has_grade:
                if cell not in (ABSTAIN, NOT_ON_BALLOT):
                    raise fail(
                        line,
                        i + 1,
                        f"“{group_name}”对述职人{rid}不作等次测评（用表“{form.name}”），"
                        f"此格应留空，实际为“{cell}”",
                    )
                continue
            if cell == NOT_ON_BALLOT:
                continue
            if cell not in (*meeting.rules.grades, ABSTAIN, SPOILED):
                expected = (
                    f"{'、'.join(meeting.rules.grades)}、空白（弃权）、{SPOILED}（废票）"
                    f"或{NOT_ON_BALLOT}（不在本张选票上）"
                )
                raise fail(line, i + 1, f"无效的标记“{cell}”（{rid}列）；应为：{expected}")
            marks[rid] = cell

        answers: dict[str, dict[str, str]] = {}
        for reporter in meeting.reporters:
            checklist = checklists[reporter.id]
            if checklist is None:
                continue
            rid = reporter.id
            places = [
                (item.id, index[f"{rid}{ITEM_SEPARATOR}{item.id}"]) for item in checklist.items
            ]
            form = appraisal.form_for(rid, group)
            if not form.has_items:
                for item_id, i in places:
                    if cells[i] not in (ABSTAIN, NOT_ON_BALLOT):
                        raise fail(
                            line,
                            i + 1,
                            f"“{group_name}”对述职人{rid}不作逐项测评（用表“{form.name}”），"
                            f"{rid}{ITEM_SEPARATOR}{item_id}应留空，实际为“{cells[i]}”",
                        )
                continue
            absent = [i for _, i in places if cells[i] == NOT_ON_BALLOT]
            if len(absent) == len(places):
                continue  # not on this ballot
            if absent:
                raise fail(
                    line,
                    absent[0] + 1,
                    f"述职人{rid}的各项要么都填“{NOT_ON_BALLOT}”（不在本张选票上），要么都不填"
                    "（弃权请留空）",
                )
            allowed = (*checklist.options, ABSTAIN, SPOILED)
            given = {}
            for item_id, i in places:
                if cells[i] not in allowed:
                    expected = f"{'、'.join(checklist.options)}、空白（弃权）或{SPOILED}（废票）"
                    raise fail(
                        line,
                        i + 1,
                        f"无效的回答“{cells[i]}”（{rid}{ITEM_SEPARATOR}{item_id}列）；应为：{expected}",
                    )
                given[item_id] = cells[i]
            answers[rid] = given
        who = frame.voter(cells, line, group)
        ballots.append(Ballot(ballot_id, group, marks, paper, answers, who))
    return ballots


def format_item_ballots_csv(meeting: Meeting, ballots: list[Ballot]) -> str:
    """The item ballot CSV (as `parse_item_ballots_csv` reads it) of these ballots, sorted by
    id: a grade column per graded reporter, an `r01.a01` column per item; a cell the ballot
    does not carry is `-` (not on this ballot), a blank cell 弃权."""
    grades = grade_columns(meeting)
    items = item_columns(meeting)
    via = any(ballot.paper for ballot in ballots)
    names = [*grades, *(f"{rid}{ITEM_SEPARATOR}{item}" for rid, item in items)]
    voters = voter_cells(meeting, ballots, names)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    head = [*([VIA_COLUMN] if via else []), *([VOTER_COLUMN] if voters else [])]
    writer.writerow(["ballot", "group", *head, *names])
    for ballot in sorted(ballots, key=lambda b: b.id):
        how = [VIA_PAPER if ballot.paper else VIA_PHONE] if via else []
        who = [ballot.voter] if voters else []
        marks = [ballot.marks.get(rid, NOT_ON_BALLOT) for rid in grades]
        answers = [ballot.items.get(rid, {}).get(item, NOT_ON_BALLOT) for rid, item in items]
        writer.writerow([ballot.id, ballot.group, *how, *who, *marks, *answers])
    return out.getvalue()


# -- expert scores and indicator values ---------------------------------------------------------


def parse_experts_csv(
    text: str, meeting: Meeting, source: str = "专家评分.csv"
) -> dict[str, dict[str, Fraction | None]]:
    """{reporter id: {expert id: score or None}}; scores within 0–max_score, exactly."""
    panel = meeting.appraisal.experts or ExpertPanel()
    top = panel.max_score

    def column(name: str) -> str | None:
        if not _EXPERT_ID.fullmatch(name):
            return f"专家编号“{name}”无效（不能为空或含空白、逗号、引号）"
        return None

    def cell(value: Fraction) -> str | None:
        if not 0 <= value <= top:
            return f"评分{short(value)}超出范围；应在0到{short(top)}之间"
        return None

    return _score_table(text, meeting, source, "专家", column, cell, required=())


def parse_indicators_csv(
    text: str, meeting: Meeting, source: str = "项目指标.csv"
) -> dict[str, dict[str, Fraction | None]]:
    """{reporter id: {indicator id: actual value or None}}; every indicator a column."""
    ids = tuple(i.id for i in meeting.appraisal.indicators)
    if not ids:
        raise InputError(source, "会议文件没有[[indicators]]，不能读取项目指标")

    def column(name: str) -> str | None:
        if name not in ids:
            return f"指标“{name}”不在会议文件的[[indicators]]中；应为：{'、'.join(ids)}"
        return None

    return _score_table(text, meeting, source, "指标", column, lambda _: None, required=ids)


def format_score_table(
    meeting: Meeting, table: Mapping[str, Mapping[str, Fraction | None]], columns: list[str]
) -> str:
    """Expert scores or indicator values as `parse_experts_csv` / `parse_indicators_csv` read
    them back: `reporter` then the columns; a row per reporter in the table, speaking order;
    each value exact (`exact_text`), blank for none."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([REPORTER_COLUMN, *columns])
    for reporter in meeting.reporters:
        row = table.get(reporter.id)
        if row is not None:
            cells = [row.get(c) for c in columns]
            writer.writerow([reporter.id, *("" if v is None else exact_text(v) for v in cells)])
    return out.getvalue()


def _score_table(
    text: str,
    meeting: Meeting,
    source: str,
    what: str,
    check_column: Callable[[str], str | None],
    check_cell: Callable[[Fraction], str | None],
    required: tuple[str, ...],
) -> dict[str, dict[str, Fraction | None]]:
    reader = _reader(text)
    try:
        return _scores(reader, meeting, source, what, check_column, check_cell, required)
    except csv.Error as error:
        raise InputError(f"{source}:{reader.line_num}", f"CSV格式错误：{error}") from None


def _scores(
    reader: Any,
    meeting: Meeting,
    source: str,
    what: str,
    check_column: Callable[[str], str | None],
    check_cell: Callable[[Fraction], str | None],
    required: tuple[str, ...],
) -> dict[str, dict[str, Fraction | None]]:
    def fail(line: int, column: int, message: str) -> InputError:
        return InputError(f"{source}:{line}:{column}", message)

    header = [cell.strip() for cell in next(reader, [])]
    if not header or header[0] != REPORTER_COLUMN:
        got = f"“{header[0]}”" if header else "空文件"
        raise fail(1, 1, f"表头第一列应为“{REPORTER_COLUMN}”（述职人编号），实际为{got}")
    if len(header) < 2:
        raise fail(1, 2, f"表头缺少{what}列")
    for column, name in enumerate(header[1:], 2):
        problem = check_column(name)
        if problem:
            raise fail(1, column, problem)
        if header.index(name) != column - 1:
            raise fail(1, column, f"{what}列“{name}”重复")
    missing = [name for name in required if name not in header]
    if missing:
        raise fail(1, len(header) + 1, f"缺少{what}列：{'、'.join(missing)}")
    reporters = {r.id for r in meeting.reporters}
    out: dict[str, dict[str, Fraction | None]] = {}
    rows: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if len(cells) != len(header):
            raise fail(
                line, min(len(cells), len(header)) + 1, f"应有{len(header)}列，实际为{len(cells)}列"
            )
        rid = cells[0]
        if rid not in reporters:
            raise fail(line, 1, f"述职人“{rid}”不在本次会议中")
        if rid in rows:
            raise fail(line, 1, f"述职人“{rid}”已在第{rows[rid]}行出现")
        rows[rid] = line
        values: dict[str, Fraction | None] = {}
        for column, (name, cell) in enumerate(zip(header[1:], cells[1:], strict=True), 2):
            if not cell:
                values[name] = None
                continue
            value = parse_number(cell)
            if value is None:
                raise fail(line, column, f"“{cell}”不是数（{name}列）；不填请留空")
            problem = check_cell(value)
            if problem:
                raise fail(line, column, f"{problem}（{name}列）")
            values[name] = value
        out[rid] = values
    return out

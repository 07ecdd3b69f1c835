"""The paper ballot of a meeting with forms (逐项测评): a grid a hand can fill and a clerk can
type back into the item ballot CSV (`tally.item_csv`).

Groups whose forms are the same for every reporter share one paper (a tick box per group);
a group with other forms gets a paper of its own, its reporters grouped by the form it fills
in for them (a section per form). Per reporter of a checklist form a block: a bar with name,
organisation and 现场/书面, a row of grade boxes if the form has a grade part (CSV column
``r01``), then a row per item: number, text wrapped to fit, a tick box per option and the
CSV column ``r01.a01`` printed small. A row is never split; a block too long for the page
continues on the next under a "（续）" bar with the column headers again. A grade-only form is
a table like `printouts.ballot_form`'s. Footer: 第N页 共M页, counted per paper (what a voter
is handed), and the forms' names.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field

from printouts.ballot_form import MARGIN, draw_card_code  # one header, one margin
from printouts.fonts import fonts
from printouts.layout import (
    A4,
    Canvas,
    Column,
    draw_row,
    draw_text,
    fit_size,
    mm,
    new_canvas,
    row_height,
    wrap,
)
from tally.ballot_csv import DEFAULT_GROUP_ID
from tally.item_csv import ITEM_SEPARATOR
from tally.items import Item
from tally.model import Form, Group, Meeting, Reporter

MODE_LABEL = {"onsite": "现场", "written": "书面"}
WIDTH = A4[0] - 2 * MARGIN
TEXT_SIZE = 9.5  # item text: readable at arm's length
ID_SIZE = 6.5  # the CSV column beside each row, for the clerk only
BOX = 4.2 * mm  # a tick box a pen can hit
ROW_MIN = 6.6 * mm
BAR_H = 7.2 * mm
HEAD_H = 6.4 * mm
GRADE_H = 7.6 * mm
SECTION_H = 8 * mm
GAP = 3 * mm
FIRST_HEADER = 47 * mm  # title, meeting, card code, group and number, instructions
NEXT_HEADER = 11 * mm
BOTTOM = MARGIN + 2 * mm
INSTRUCTIONS = (
    "填写说明：在选定的方框内打“√”，每项只选一个；不选视为弃权。一项选两个及以上的，该项无效。\n"
    "卡号请照参会卡填写，不填姓名；{groups}选票编号由计票人录入时填写。"
)

Draw = Callable[[Canvas, float], None]  # draws a piece whose top edge is at y


@dataclass(frozen=True)
class Section:
    """The reporters (speaking number, reporter) a paper's groups fill in `form` for."""

    form: Form
    reporters: tuple[tuple[int, Reporter], ...]


@dataclass(frozen=True)
class Paper:
    """One ballot: what every voter of `groups` fills in (their forms are the same)."""

    groups: tuple[Group, ...]
    sections: tuple[Section, ...]


@dataclass
class _Page:
    paper: int
    forms: list[str] = field(default_factory=list)
    pieces: list[tuple[float, Draw]] = field(default_factory=list)


def papers(meeting: Meeting) -> list[Paper]:
    """The distinct ballots of the meeting, in the order of their first group."""
    appraisal = meeting.appraisal
    by_forms: dict[tuple[Form, ...], list[Group]] = {}
    for group in meeting.groups:
        key = tuple(appraisal.form_for(r.id, group.id) for r in meeting.reporters)
        by_forms.setdefault(key, []).append(group)
    out = []
    for key, groups in by_forms.items():
        sections: dict[Form, list[tuple[int, Reporter]]] = {}
        for number, (reporter, form) in enumerate(zip(meeting.reporters, key, strict=True), 1):
            sections.setdefault(form, []).append((number, reporter))
        parts = tuple(Section(form, tuple(chosen)) for form, chosen in sections.items())
        out.append(Paper(tuple(groups), parts))
    return out


def render_item_ballots(meeting: Meeting) -> bytes:
    buffer = io.BytesIO()
    canvas = new_canvas(buffer, f"{meeting.title} 述职评议表", subject="pingyi item ballot")
    plan = _Planner()
    all_papers = papers(meeting)
    for index, paper in enumerate(all_papers):
        plan.new_page(index, first=True)
        for section in paper.sections:
            _plan_section(plan, meeting, index, section)
    totals = [sum(1 for page in plan.pages if page.paper == i) for i in range(len(all_papers))]
    number = 0
    for i, page in enumerate(plan.pages):
        number = 1 if i == 0 or plan.pages[i - 1].paper != page.paper else number + 1
        paper = all_papers[page.paper]
        _page_header(canvas, meeting, paper, first=number == 1)
        for top, draw in page.pieces:
            draw(canvas, top)
        pages = f"第{number}页 共{totals[page.paper]}页"
        parts = (_group_label(meeting, paper), "、".join(page.forms), pages)
        footer = "　".join(part for part in parts if part)
        draw_text(canvas, A4[0] / 2, MARGIN - 5 * mm, footer, 8, "centre")
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


class _Planner:
    """Lays pieces out top to bottom, page after page, before anything is drawn (the footer
    needs each paper's page count)."""

    def __init__(self) -> None:
        self.pages: list[_Page] = []
        self.y = 0.0
        self.empty = True  # nothing but the page header yet

    def new_page(self, paper: int, first: bool = False) -> None:
        self.pages.append(_Page(paper))
        self.y = A4[1] - MARGIN - (FIRST_HEADER if first else NEXT_HEADER)
        self.empty = True

    @property
    def room(self) -> float:
        return self.y - BOTTOM

    @property
    def full_room(self) -> float:
        return A4[1] - MARGIN - NEXT_HEADER - BOTTOM

    def put(self, height: float, draw: Draw, form: str) -> None:
        page = self.pages[-1]
        page.pieces.append((self.y, draw))
        if form not in page.forms:
            page.forms.append(form)
        self.y -= height
        self.empty = False

    def skip(self, height: float) -> None:
        self.y -= height


def _plan_section(plan: _Planner, meeting: Meeting, paper: int, section: Section) -> None:
    form, title = section.form, _section_title(section.form)
    if form.checklist is None:  # a grade-only form: one table row per reporter
        columns = _grade_columns(meeting)
        header = _table_row(columns, [c.title for c in columns], HEAD_H, 9)
        if plan.room < SECTION_H + HEAD_H + ROW_MIN:
            plan.new_page(paper)
        plan.put(SECTION_H, title, form.name)
        plan.put(HEAD_H, header, form.name)
        for number, reporter in section.reporters:
            height, draw = _grade_table_row(meeting, columns, number, reporter)
            if plan.room < height:
                plan.new_page(paper)
                plan.put(HEAD_H, header, form.name)
            plan.put(height, draw, form.name)
        plan.skip(GAP)
        return
    columns = _item_columns(form, section)
    header = _table_row(columns, [c.title for c in columns], HEAD_H, 9)
    for index, (number, reporter) in enumerate(section.reporters):
        rows = [_item_row(columns, reporter, n, i) for n, i in enumerate(form.checklist.items, 1)]
        head = BAR_H + (GRADE_H if form.has_grade else 0) + HEAD_H + (0 if index else SECTION_H)
        whole = head + sum(height for height, _ in rows)
        # a block moves to a new page if one can hold it whole, or if not even its first row fits
        if (plan.room < whole <= plan.full_room and not plan.empty) or (
            plan.room < head + rows[0][0]
        ):
            plan.new_page(paper)
        if index == 0:
            plan.put(SECTION_H, title, form.name)
        plan.put(BAR_H, _bar(number, reporter, continued=False), form.name)
        if form.has_grade:
            plan.put(GRADE_H, _grade_line(meeting, reporter), form.name)
        plan.put(HEAD_H, header, form.name)
        for height, draw in rows:
            if plan.room < height:
                plan.new_page(paper)
                plan.put(BAR_H, _bar(number, reporter, continued=True), form.name)
                plan.put(HEAD_H, header, form.name)
            plan.put(height, draw, form.name)
        plan.skip(GAP)


# -- pieces ---------------------------------------------------------------------------------


def _section_title(form: Form) -> Draw:
    def draw(canvas: Canvas, top: float) -> None:
        count = f"（{len(form.checklist.items)}项）" if form.checklist else ""
        text = f"{form.name}{count}"
        draw_text(canvas, MARGIN, top - 5.5 * mm, text, fit_size(text, 12, WIDTH))

    return draw


def _bar(number: int, reporter: Reporter, continued: bool) -> Draw:
    """The reporter's line above their grid, shaded so that blocks stand apart."""

    def draw(canvas: Canvas, top: float) -> None:
        canvas.saveState()
        canvas.setFillGray(0.9)
        canvas.setLineWidth(0.5)
        canvas.rect(MARGIN, top - BAR_H, WIDTH, BAR_H, stroke=1, fill=1)
        canvas.restoreState()
        name = f"{number}. {reporter.name}" + ("（续）" if continued else "")
        rest = f"{reporter.org}　{MODE_LABEL.get(reporter.mode, reporter.mode)}"
        baseline = top - BAR_H / 2 - 1.4 * mm
        x = MARGIN + 2 * mm + draw_text(canvas, MARGIN + 2 * mm, baseline, name, 11) + 4 * mm
        draw_text(canvas, x, baseline, rest, fit_size(rest, 10, WIDTH - (x - MARGIN) - 16 * mm))
        right = MARGIN + WIDTH - 2 * mm
        draw_text(canvas, right, baseline, f"编号 {reporter.id}", 8, "right")

    return draw


def _grade_line(meeting: Meeting, reporter: Reporter) -> Draw:
    """One row of grade boxes: the grade part of a form of kind "both" (CSV column r01)."""

    def draw(canvas: Canvas, top: float) -> None:
        canvas.setLineWidth(0.5)
        canvas.rect(MARGIN, top - GRADE_H, WIDTH, GRADE_H)
        baseline = top - GRADE_H / 2 - 1.3 * mm
        x = MARGIN + 2 * mm + draw_text(canvas, MARGIN + 2 * mm, baseline, "测评等次：", 10)
        for grade in meeting.rules.grades:
            x += 2 * mm
            _box(canvas, x + BOX / 2, top - GRADE_H / 2)
            x += BOX + 1.5 * mm
            x += draw_text(canvas, x, baseline, grade, 10) + 3 * mm
        right = MARGIN + WIDTH - 2 * mm
        draw_text(canvas, right, baseline, reporter.id, ID_SIZE, "right")

    return draw


def _item_columns(form: Form, section: Section) -> list[Column]:
    assert form.checklist is not None
    ids = [
        f"{r.id}{ITEM_SEPARATOR}{i.id}" for _, r in section.reporters for i in form.checklist.items
    ]
    id_width = max(12.5 * mm, max(fonts().width(text, ID_SIZE) for text in ids) + 2.4 * mm)
    options = [
        Column(option, max(10 * mm, fonts().width(option, 9) + 3 * mm))
        for option in form.checklist.options
    ]
    number = Column("序号", 9 * mm)
    used = number.width + sum(c.width for c in options) + id_width
    return [number, Column("测评项目", WIDTH - used, "left"), *options, Column("录入列", id_width)]


def _item_row(
    columns: list[Column], reporter: Reporter, number: int, item: Item
) -> tuple[float, Draw]:
    cells = [str(number), item.text] + [""] * (len(columns) - 2)
    height = row_height(columns, cells, TEXT_SIZE, ROW_MIN)
    column_id = f"{reporter.id}{ITEM_SEPARATOR}{item.id}"

    def draw(canvas: Canvas, top: float) -> None:
        draw_row(canvas, MARGIN, top, columns, cells, height, TEXT_SIZE)
        _boxes_and_id(canvas, columns, 2, top, height, column_id)

    return height, draw


def _grade_columns(meeting: Meeting) -> list[Column]:
    grades = [
        Column(grade, max(12 * mm, fonts().width(grade, 9) + 4 * mm))
        for grade in meeting.rules.grades
    ]
    fixed = [Column("序号", 9 * mm), Column("姓名", 22 * mm), Column("述职方式", 16 * mm)]
    used = sum(c.width for c in fixed + grades) + 12 * mm
    org = Column("单位", WIDTH - used, "left")
    return [*fixed[:2], org, fixed[2], *grades, Column("录入列", 12 * mm)]


def _grade_table_row(
    meeting: Meeting, columns: list[Column], number: int, reporter: Reporter
) -> tuple[float, Draw]:
    mode = MODE_LABEL.get(reporter.mode, reporter.mode)
    grades = len(meeting.rules.grades)
    cells = [str(number), reporter.name, reporter.org, mode] + [""] * (grades + 1)
    height = row_height(columns, cells, TEXT_SIZE, ROW_MIN)

    def draw(canvas: Canvas, top: float) -> None:
        draw_row(canvas, MARGIN, top, columns, cells, height, TEXT_SIZE)
        _boxes_and_id(canvas, columns, 4, top, height, reporter.id)

    return height, draw


def _table_row(columns: list[Column], cells: list[str], height: float, size: float) -> Draw:
    def draw(canvas: Canvas, top: float) -> None:
        draw_row(canvas, MARGIN, top, columns, cells, height, size)

    return draw


def _boxes_and_id(
    canvas: Canvas, columns: list[Column], first: int, top: float, height: float, column_id: str
) -> None:
    """A tick box in each answer column (from `first` to the last but one) and, in the last,
    the row's CSV column in grey: there for the clerk, not the voter."""
    x = MARGIN + sum(c.width for c in columns[:first])
    for column in columns[first:-1]:
        _box(canvas, x + column.width / 2, top - height / 2)
        x += column.width
    canvas.setFillGray(0.35)
    middle = x + columns[-1].width / 2
    draw_text(canvas, middle, top - height / 2 - 1 * mm, column_id, ID_SIZE, "centre")
    canvas.setFillGray(0)


def _box(canvas: Canvas, x: float, y: float) -> None:
    """A tick box centred on (x, y)."""
    canvas.setLineWidth(0.7)
    canvas.rect(x - BOX / 2, y - BOX / 2, BOX, BOX)


# -- page header ------------------------------------------------------------------------------


def _has_groups(meeting: Meeting) -> bool:
    return len(meeting.groups) > 1 or meeting.groups[0].id != DEFAULT_GROUP_ID


def _group_label(meeting: Meeting, paper: Paper) -> str:
    return "、".join(g.name for g in paper.groups) if _has_groups(meeting) else ""


def _page_header(canvas: Canvas, meeting: Meeting, paper: Paper, first: bool) -> None:
    page_w, page_h = A4
    label = _group_label(meeting, paper)
    if not first:  # the ballot number on every page keeps a voter's pages together
        y = page_h - MARGIN - 2 * mm
        text = f"{label}述职评议表　{meeting.title}"
        draw_text(canvas, MARGIN, y, text, fit_size(text, 9, WIDTH - 76 * mm))
        _ballot_number(canvas, y, page_w)
        return
    y = page_h - MARGIN - 6 * mm
    title = f"{label}述职评议表"
    draw_text(canvas, page_w / 2, y, title, fit_size(title, 16, WIDTH), "centre")
    y -= 7 * mm
    draw_text(canvas, page_w / 2, y, meeting.title, fit_size(meeting.title, 10.5, WIDTH), "centre")
    y -= 9 * mm
    draw_card_code(canvas, meeting, y, page_w)
    y -= 9 * mm
    if _has_groups(meeting):
        x = MARGIN + draw_text(canvas, MARGIN, y, "投票组别：", 11)
        for group in paper.groups:
            if len(paper.groups) > 1:  # one group: its own paper says which it is
                canvas.rect(x, y - 0.8 * mm, 3.8 * mm, 3.8 * mm)
                x += 5 * mm
            x += draw_text(canvas, x, y, group.name, 10) + 4 * mm
    _ballot_number(canvas, y, page_w)
    y -= 8 * mm
    ticks = "投票组别勾选一项；" if _has_groups(meeting) and len(paper.groups) > 1 else ""
    for line in wrap(INSTRUCTIONS.format(groups=ticks), 9.5, WIDTH):
        draw_text(canvas, MARGIN, y, line, 9.5)
        y -= 5 * mm


def _ballot_number(canvas: Canvas, y: float, page_w: float) -> None:
    box = 30 * mm
    right = page_w - MARGIN
    draw_text(canvas, right - box - 1 * mm, y, "选票编号（计票人填）：", 10, "right")
    canvas.setLineWidth(0.6)
    canvas.rect(right - box, y - 2 * mm, box, 7 * mm)

"""The paper ballot (述职评议表): the same form as the phone ballot, for voters without one.

Every reporter in speaking order (name, organisation, 现场/书面) with one box per grade, a
field for the card's short code, tick boxes for the voter group (投票组别, when the meeting has
groups) and a ballot number field (选票编号) that the tellers fill in: the three cells the
ballot CSV needs besides the marks (`ballot`, `group`, `card`). Up to 30
reporters fit on one A4 page; more continue on further pages, each with the header again.
"""

from __future__ import annotations

import io

from printouts.fonts import fonts
from printouts.layout import A4, Column, draw_row, draw_text, fit_size, mm, new_canvas, wrap
from tally.ballot_csv import DEFAULT_GROUP_ID
from tally.model import Meeting

ROWS_PER_PAGE = 30
MODE_LABEL = {"onsite": "现场", "written": "书面"}
MARGIN = 14 * mm
ROW_H = 6.9 * mm


def render_ballots(meeting: Meeting) -> bytes:
    buffer = io.BytesIO()
    canvas = new_canvas(buffer, f"{meeting.title} 述职评议表", subject="pingyi ballot")
    reporters = meeting.reporters
    pages = max(1, -(-len(reporters) // ROWS_PER_PAGE))
    for page in range(pages):
        chunk = reporters[page * ROWS_PER_PAGE : (page + 1) * ROWS_PER_PAGE]
        _draw_page(canvas, meeting, chunk, page * ROWS_PER_PAGE, page, pages)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def draw_card_code(canvas, meeting: Meeting, y: float, page_w: float) -> None:
    """The card's short code boxes (卡号, for the tellers' CSV) and the date and place."""
    draw_text(canvas, MARGIN, y, "卡号：", 11)
    box_x = MARGIN + 13 * mm
    canvas.setLineWidth(0.6)
    for index in range(9):  # 8 characters and the dash, as printed on the card: ABCD-EFGH
        if index == 4:
            draw_text(canvas, box_x + 2.2 * mm, y, "-", 11)
            box_x += 6 * mm
            continue
        canvas.rect(box_x, y - 2 * mm, 7 * mm, 7.5 * mm)
        box_x += 7.5 * mm
    meta = "   ".join(part for part in (meeting.date, meeting.place) if part)
    draw_text(canvas, page_w - MARGIN, y, meta, 10, "right")


def _columns(meeting: Meeting, width: float) -> list[Column]:
    grades = meeting.rules.grades
    fixed = [Column("序号", 11 * mm), Column("姓名", 24 * mm), Column("述职方式", 18 * mm)]
    boxes = [Column(grade, max(14 * mm, fonts().width(grade, 10) + 4 * mm)) for grade in grades]
    used = sum(c.width for c in fixed + boxes)
    org = Column("单位", width - used, "left")
    return fixed[:2] + [org, fixed[2]] + boxes


def _draw_page(canvas, meeting: Meeting, chunk, first: int, page: int, pages: int) -> None:
    page_w, page_h = A4
    width = page_w - 2 * MARGIN
    y = page_h - MARGIN - 6 * mm
    draw_text(canvas, page_w / 2, y, "述职评议表", 18, "centre")
    y -= 8 * mm
    title_size = fit_size(meeting.title, 11, width)
    draw_text(canvas, page_w / 2, y, meeting.title, title_size, "centre")
    y -= 10 * mm
    draw_card_code(canvas, meeting, y, page_w)
    y -= 9 * mm
    _group_and_number(canvas, meeting, y, page_w)
    y -= 7 * mm
    columns = _columns(meeting, width)
    draw_row(canvas, MARGIN, y, columns, [c.title for c in columns], ROW_H, 10)
    y -= ROW_H
    for offset, reporter in enumerate(chunk):
        cells = [
            str(first + offset + 1),
            reporter.name,
            reporter.org,
            MODE_LABEL.get(reporter.mode, reporter.mode),
        ] + [""] * len(meeting.rules.grades)
        draw_row(canvas, MARGIN, y, columns, cells, ROW_H, 9.5, wrap_cells=False)
        y -= ROW_H
    y -= 6 * mm
    grades = "、".join(meeting.rules.grades)
    notes = (
        f"填写说明：对每位述职人在“{grades}”中选一项打“✓”；不打视为弃权，"
        "一人打两个及以上视为废票。卡号请照参会卡填写，"
        + ("投票组别勾选一项，" if _has_groups(meeting) else "")
        + "不填姓名。选票编号由计票人录入时填写。"
    )
    for line in wrap(notes, 9, width):
        draw_text(canvas, MARGIN, y, line, 9)
        y -= 5 * mm
    draw_text(canvas, page_w / 2, MARGIN - 4 * mm, f"第{page + 1}页/共{pages}页", 8, "centre")


def _group_and_number(canvas, meeting: Meeting, y: float, page_w: float) -> None:
    """投票组别 as tick boxes (one per group) and the 选票编号 box, on one line at baseline y."""
    canvas.setLineWidth(0.6)
    if _has_groups(meeting):
        x = MARGIN + draw_text(canvas, MARGIN, y, "投票组别：", 11)
        for group in meeting.groups:
            canvas.rect(x, y - 0.8 * mm, 3.8 * mm, 3.8 * mm)
            x += 5 * mm
            x += draw_text(canvas, x, y, group.name, 10) + 4 * mm
    label = "选票编号（计票人填）："
    box = 30 * mm
    right = page_w - MARGIN
    draw_text(canvas, right - box - 1 * mm, y, label, 10, "right")
    canvas.rect(right - box, y - 2 * mm, box, 7 * mm)


def _has_groups(meeting: Meeting) -> bool:
    return len(meeting.groups) > 1 or meeting.groups[0].id != DEFAULT_GROUP_ID

"""Join cards (参会卡): A4 sheets of anonymous cards with cut marks.

Each card shows the meeting title, its voter group, the QR code of its join URL and the short
code for a paper ballot. No card of an anonymous group carries a name or a seat number: every
card of such a group is alike but for its token, and each token is printed on exactly one card.
A named group's card (部分实名) is its member's personal key: it shows their name and says that
the ballot it casts carries it.

A rehearsal's test cards (`rehearsal=True`, from the rehearsal's own secret) say 演练 in large
type on each card and on each sheet: they open only the rehearsal (`pingyi serve --rehearsal`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from meeting.join_cards import Card, join_url
from printouts.layout import A4, crop_marks, draw_qr, draw_text, fit_size, mm, new_canvas, wrap
from tally.model import Meeting

COLUMNS, ROWS = 2, 4
CARD_W, CARD_H = 90 * mm, 62 * mm
QR_SIDE = 40 * mm
REHEARSAL = "演练"
REHEARSAL_NOTE = "演练用卡 · 仅用于模拟测评 · 正式会议无效"


def render_cards(
    meeting: Meeting, cards: Sequence[Card], base_url: str, rehearsal: bool = False
) -> bytes:
    """The PDF of every card, eight to an A4 sheet, in group order; `rehearsal`: test cards,
    marked 演练."""
    buffer = io.BytesIO()
    name = f"{REHEARSAL}参会卡" if rehearsal else "参会卡"
    canvas = new_canvas(buffer, f"{meeting.title} {name}", subject="pingyi cards")
    page_w, page_h = A4
    left = (page_w - COLUMNS * CARD_W) / 2
    bottom = (page_h - ROWS * CARD_H) / 2
    xs = [left + i * CARD_W for i in range(COLUMNS + 1)]
    ys = [bottom + j * CARD_H for j in range(ROWS + 1)]
    per_page = COLUMNS * ROWS
    pages = max(1, -(-len(cards) // per_page))
    for page in range(pages):
        chunk = cards[page * per_page : (page + 1) * per_page]
        for index, card in enumerate(chunk):
            column, row = index % COLUMNS, index // COLUMNS
            x, y = xs[column], ys[ROWS - row - 1]
            _draw_card(canvas, meeting, card, base_url, x, y, rehearsal)
        crop_marks(canvas, xs, ys)
        draw_text(
            canvas,
            page_w / 2,
            bottom - 12 * mm,
            f"{name}  沿裁切线裁开  第{page + 1}页/共{pages}页",
            8,
            "centre",
        )
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_card(
    canvas, meeting: Meeting, card: Card, base_url: str, x: float, y: float, rehearsal: bool
) -> None:
    pad = 4 * mm
    inner = CARD_W - 2 * pad
    title_size = 9.5
    title_lines = wrap(meeting.title, title_size, inner)[:2]
    top = y + CARD_H - pad - title_size
    for line in title_lines:
        draw_text(canvas, x + CARD_W / 2, top, line, fit_size(line, title_size, inner), "centre")
        top -= title_size * 1.3
    group = meeting.group(card.group)
    qr_top = top - 1 * mm
    draw_qr(canvas, x + pad - 2 * mm, qr_top - QR_SIDE, QR_SIDE, join_url(base_url, card.token))
    text_x = x + pad + QR_SIDE
    text_w = x + CARD_W - pad - text_x
    line_y = qr_top - 7 * mm
    draw_text(canvas, text_x, line_y, "投票组别", 7.5)
    line_y -= 6 * mm
    draw_text(canvas, text_x, line_y, group.name, fit_size(group.name, 12, text_w))
    if card.member:  # 部分实名: this card is its member's own
        holder = f"实名：{meeting.member(card.member).name}"
        line_y -= 5.5 * mm
        draw_text(canvas, text_x, line_y, holder, fit_size(holder, 10, text_w))
        line_y -= 7 * mm
    else:
        line_y -= 9 * mm
    draw_text(canvas, text_x, line_y, "卡号（纸质票填写）", 7.5)
    line_y -= 7 * mm
    draw_text(canvas, text_x, line_y, card.code, fit_size(card.code, 15, text_w), mono=True)
    note_y = y + pad + 1 * mm
    note = "手机扫码参加评议 · 本卡实名，选票记录持卡人姓名 · 请勿转借"
    if not card.member:
        note = "手机扫码参加评议 · 本卡不记名 · 请勿转借"
    if rehearsal:
        note = REHEARSAL_NOTE
    draw_text(canvas, x + CARD_W / 2, note_y, note, 7, "centre")
    if rehearsal:  # large, in the space under the short code: no test card passes for a real one
        draw_text(canvas, x + CARD_W - pad, qr_top - 37 * mm, REHEARSAL, 21, "right")

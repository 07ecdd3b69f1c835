"""Drawing primitives shared by the printouts: text in mixed fonts, wrapping, QR codes, marks.

Every PDF is made by `new_canvas`, whose initial font is the embedded Latin font, so no
unembedded base-14 font (Helvetica) ever reaches the file. Coordinates are reportlab points
with the origin at the bottom left; `mm` converts.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from printouts.fonts import fonts

__all__ = ["A4", "landscape", "mm", "Canvas", "new_canvas", "draw_text", "fit_size", "wrap"]


def new_canvas(buffer: io.BytesIO, title: str, pagesize=A4, subject: str = "") -> Canvas:
    font = fonts()
    canvas = Canvas(
        buffer,
        pagesize=pagesize,
        invariant=1,
        initialFontName=font.latin,  # type: ignore[arg-type]  # stub says float; it is a font name
        pageCompression=1,
    )
    canvas.setTitle(title)
    canvas.setAuthor("Pingyi 评议")
    canvas.setCreator("Pingyi 评议")
    if subject:
        canvas.setSubject(subject)
    return canvas


def draw_text(
    canvas: Canvas,
    x: float,
    y: float,
    text: str,
    size: float,
    align: str = "left",
    mono: bool = False,
) -> float:
    """Draws one line at baseline y; align is left (x = start), centre or right. Returns width."""
    font = fonts()
    width = font.width(text, size, mono)
    if align == "centre":
        x -= width / 2
    elif align == "right":
        x -= width
    for name, part in font.runs(text, mono):
        canvas.setFont(name, size)
        canvas.drawString(x, y, part)
        x += canvas.stringWidth(part, name, size)
    return width


def fit_size(text: str, size: float, max_width: float, min_size: float = 5) -> float:
    """The largest size <= size at which text fits in max_width (never below min_size)."""
    width = fonts().width(text, size)
    if width <= max_width:
        return size
    return max(min_size, size * max_width / width)


def _in_a_run(char: str) -> bool:
    """Part of a date, number or code that a line break must not split (2027-02-28, 87.5%)."""
    return char.isascii() and (char.isalnum() or char in "-./:%")


def _run_length(line: str) -> int:
    """How many characters at the end of the line belong to one such run."""
    count = 0
    while count < len(line) and _in_a_run(line[-1 - count]):
        count += 1
    return count


def wrap(text: str, size: float, max_width: float) -> list[str]:
    """Breaks text into lines no wider than max_width: at spaces for Latin, anywhere for CJK,
    but never inside a date or number (unless it alone is wider than a line)."""
    font = fonts()
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for char in paragraph:
            if font.width(line + char, size) <= max_width or not line:
                line += char
                continue
            cut = line.rfind(" ")
            run = _run_length(line) if _in_a_run(char) else 0
            if char != " " and cut > 0 and line[cut + 1 :].isascii():
                lines.append(line[:cut])
                line = line[cut + 1 :] + char
            elif 0 < run < len(line):
                lines.append(line[:-run])
                line = line[-run:] + char
            else:
                lines.append(line.rstrip())
                line = char.lstrip()
        lines.append(line)
    return lines


def draw_lines(
    canvas: Canvas,
    x: float,
    y: float,
    lines: Iterable[str],
    size: float,
    leading: float | None = None,
    align: str = "left",
) -> float:
    """Draws lines downwards from baseline y; returns the baseline after the last line."""
    leading = leading or size * 1.35
    for line in lines:
        draw_text(canvas, x, y, line, size, align)
        y -= leading
    return y


def draw_qr(canvas: Canvas, x: float, y: float, side: float, data: str) -> None:
    """Draws data as a vector QR code (with its quiet zone inside side) at bottom-left x, y."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    cell = side / len(matrix)
    canvas.saveState()
    canvas.setFillColorRGB(0, 0, 0)
    for row_index, row in enumerate(matrix):
        top = y + side - (row_index + 1) * cell
        start = None
        for col_index, dark in enumerate([*row, False]):
            if dark and start is None:
                start = col_index
            elif not dark and start is not None:
                canvas.rect(
                    x + start * cell, top, (col_index - start) * cell, cell, stroke=0, fill=1
                )
                start = None
    canvas.restoreState()


def crop_marks(canvas: Canvas, xs: list[float], ys: list[float], length: float = 4 * mm) -> None:
    """Cut marks for a grid of cards: short lines outside the grid on every cut line."""
    canvas.saveState()
    canvas.setLineWidth(0.3)
    left, right, bottom, top = xs[0], xs[-1], ys[0], ys[-1]
    gap = 1.5 * mm
    for x in xs:
        canvas.line(x, top + gap, x, top + gap + length)
        canvas.line(x, bottom - gap, x, bottom - gap - length)
    for y in ys:
        canvas.line(left - gap, y, left - gap - length, y)
        canvas.line(right + gap, y, right + gap + length, y)
    for x in xs[1:-1]:  # small crosses where inner cut lines meet
        for y in ys[1:-1]:
            canvas.line(x - length / 2, y, x + length / 2, y)
            canvas.line(x, y - length / 2, x, y + length / 2)
    canvas.restoreState()


@dataclass
class Column:
    title: str
    width: float
    align: str = "centre"


def draw_row(
    canvas: Canvas,
    x: float,
    top: float,
    columns: list[Column],
    cells: list[str],
    height: float,
    size: float,
    wrap_cells: bool = True,
) -> None:
    """Draws one table row of boxed cells whose top edge is at `top`."""
    canvas.setLineWidth(0.5)
    for column, text in zip(columns, cells, strict=True):
        canvas.rect(x, top - height, column.width, height, stroke=1, fill=0)
        pad = 1.2 * mm
        lines = wrap(text, size, column.width - 2 * pad) if wrap_cells else [text]
        leading = size * 1.25
        block = leading * (len(lines) - 1)
        baseline = top - height / 2 + block / 2 - size * 0.35
        for line in lines:
            line_size = fit_size(line, size, column.width - 2 * pad)
            if column.align == "left":
                draw_text(canvas, x + pad, baseline, line, line_size)
            elif column.align == "right":
                draw_text(canvas, x + column.width - pad, baseline, line, line_size, "right")
            else:
                draw_text(canvas, x + column.width / 2, baseline, line, line_size, "centre")
            baseline -= leading
        x += column.width


def row_height(columns: list[Column], cells: list[str], size: float, minimum: float) -> float:
    """The height a row needs so that every wrapped cell fits."""
    lines = max(
        len(wrap(text, size, column.width - 2.4 * mm))
        for column, text in zip(columns, cells, strict=True)
    )
    return max(minimum, lines * size * 1.25 + 2 * mm)


def percent(part: int, whole: int, digits: int = 1) -> str:
    """part/whole as a percentage, rounded once (四舍五入) from the exact fraction, so that the
    same share prints as the same number wherever it appears."""
    if not whole:
        return "—"
    return f"{round_half_up(Fraction(100 * part, whole), digits):.{digits}f}%"


def round_half_up(value: Fraction, digits: int) -> Decimal:
    """四舍五入 to `digits` places, from the exact value (never through a float)."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)  # 28 significant digits
    return exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def draw_binding_margin(canvas: Canvas, x: float, bottom: float, top: float) -> None:
    """The 骑缝 margin: a dashed line at x with 骑缝章 written along it, kept free of print so
    that a seal can be stamped across the edges of the fanned-out pages."""
    canvas.saveState()
    canvas.setLineWidth(0.4)
    canvas.setDash(2, 2)
    canvas.line(x, bottom, x, top)
    canvas.restoreState()
    canvas.saveState()
    canvas.translate(x - 1.5 * mm, (bottom + top) / 2)
    canvas.rotate(90)
    draw_text(canvas, 0, 0, "骑　缝　章", 7, "centre")
    canvas.restoreState()


def draw_seal_box(
    canvas: Canvas, x: float, top: float, side: float, label: str = "（公章）"
) -> None:
    """A square with a dashed circle inside: where the issuing unit's 公章 goes."""
    canvas.saveState()
    canvas.setLineWidth(0.5)
    canvas.rect(x, top - side, side, side, stroke=1, fill=0)
    canvas.setDash(1.5, 1.5)
    canvas.circle(x + side / 2, top - side / 2, side / 2 - 2 * mm, stroke=1, fill=0)
    canvas.restoreState()
    draw_text(canvas, x + side / 2, top - side / 2 - 1.2 * mm, label, 8, "centre")

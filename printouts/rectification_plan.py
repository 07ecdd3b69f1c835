"""The 整改方案 template (Word) for a reporter on the 约谈提醒、限期整改 list, filed in the 备案.

The reporter writes the plan; the template carries what the 党组 decided (综合评价等次, the
问题 and 要求 parts of the 综合评价意见, the 限期整改 date) so that the plan answers exactly
those, and a table 问题 | 整改措施 | 责任人 | 完成时限 with one row per problem line (only
the 问题 filled in) and a few blank rows.
Word, not PDF, because the reporter fills it in. Pure: records in, bytes out.
"""

from __future__ import annotations

import io

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from printouts.archive import safe_name
from tally.model import Meeting, Reporter

FONT = "宋体"  # what the secretariat's Word has; Word substitutes on machines without it
TABLE_HEAD = ("问题", "整改措施", "责任人", "完成时限")
BLANK_ROWS = 3  # rows left empty under the listed problems


def render_plan(meeting: Meeting, reporter: Reporter, entry: dict, fixed: dict) -> bytes:
    """entry: the reporter's fixed 综合评价 entry (MeetingRecord.evaluation["entries"][id]);
    fixed: the record's `fixed` (studied_on, rectify_by)."""
    document = Document()
    _default_font(document)
    document.core_properties.title = f"{reporter.name}同志抓基层党建工作述职评议问题整改方案"
    document.core_properties.author = "Pingyi 评议"

    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(f"{reporter.org}党组织书记抓基层党建工作述职评议\n问题整改方案")
    run.bold = True
    run.font.size = Pt(18)

    studied_on = fixed.get("studied_on", "")
    rectify_by = fixed.get("rectify_by", "") or "（党组未定，请填写）"
    opinion = entry.get("opinion", {})
    facts = [
        ("会议", f"{meeting.title}（{meeting.date}）"),
        ("述职人", f"{reporter.name}（{reporter.org}）"),
        ("综合评价等次", f"{entry.get('grade', '')}（经党组于{studied_on}研究确定）"),
        ("测评等次", entry.get("vote_grade") or "待定"),
        ("限期整改", f"须于{rectify_by}前完成整改"),
    ]
    for label, value in facts:
        _labelled(document, label, value)

    document.add_heading("一、综合评价意见指出的问题", level=2)
    problems = _lines(opinion.get("问题", ""))
    for line in problems or ["（无）"]:
        document.add_paragraph(line)
    document.add_heading("二、综合评价意见提出的要求", level=2)
    for line in _lines(opinion.get("要求", "")) or ["（无）"]:
        document.add_paragraph(line)

    document.add_heading("三、整改措施", level=2)
    table = document.add_table(rows=1, cols=len(TABLE_HEAD))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, TABLE_HEAD, strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
    # The problems are filled in, one a row; the measures, who and by when are the reporter's
    # to write (each 完成时限 no later than the 限期整改 date above).
    for problem in [*problems, *[""] * BLANK_ROWS]:
        table.add_row().cells[0].text = problem

    document.add_paragraph()
    _labelled(document, "述职人（签字）", "")
    _labelled(document, "日期", "")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def plan_name(index: int, reporter: Reporter) -> str:
    """The file's name in the 备案: 整改方案/<序号>-<姓名>.docx (序号: speaking order)."""
    return f"整改方案/{index:02d}-{safe_name(reporter.name)}.docx"


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _labelled(document, label: str, value: str) -> None:
    paragraph = document.add_paragraph()
    paragraph.add_run(f"{label}：").bold = True
    paragraph.add_run(value)


def _default_font(document) -> None:
    style = document.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(12)
    # Word takes CJK text's font from the eastAsia attribute, which python-docx does not set.
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)

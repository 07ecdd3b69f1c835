"""Feedback sheets (述职评议反馈单): one A4 page per reporter, handed back after the meeting.

Each page shows the reporter's grade from the vote (测评等次, never called 综合评价等次: that
is what the organisers decide later, and the page says so), the counts per grade, the rule
that decided the grade with every step of the reasoning, and the chair's 点评 text when one
was entered. Once the 党组 has fixed the 综合评价 (meeting/evaluation.py), the page also
carries the 综合评价等次, the date it was fixed and the 综合评价意见; a draft is never printed.
"""

from __future__ import annotations

import io

from printouts.layout import (
    A4,
    Column,
    draw_lines,
    draw_row,
    draw_text,
    fit_size,
    mm,
    new_canvas,
    percent,
    wrap,
)
from tally.model import Meeting

MODE_LABEL = {"onsite": "现场述职", "written": "书面述职"}
RULE_LABEL = {
    "base": "基础等次",
    "poor_share": "差票比例规则",
    "override": "组织认定（问责/重大失误）",
    "quota": "等次名额控制",
    "undecided": "并列待定",
    "quorum": "法定人数",
}
MARGIN = 20 * mm
NOT_OVERALL = "本表为会议测评结果，非综合评价等次（综合评价由党组研究确定）"


def _score(value) -> str:
    return "—" if value is None else f"{float(value):.2f}"


def _share(value) -> str:
    return "—" if value is None else f"{100 * float(value):.1f}%"


def render_feedback(
    meeting: Meeting,
    result: dict,
    comments: dict[str, str] | None = None,
    only: str | None = None,
    evaluation: dict | None = None,
) -> bytes:
    """One page per reporter (or only the reporter with id `only`). `evaluation`: the 综合评价
    once the 党组 fixed it (`{"fixed": {...}, "entries": {reporter id: entry}}`): each page then
    carries the 综合评价等次 and 综合评价意见 beside the vote's 测评等次."""
    comments = comments or {}
    buffer = io.BytesIO()
    canvas = new_canvas(buffer, f"{meeting.title} 述职评议反馈单", subject="pingyi feedback")
    grades = list(result.get("grades") or meeting.rules.grades)
    for row in result["reporters"]:
        if only and row["id"] != only:
            continue
        decided = _decided(evaluation, row["id"])
        _draw_page(canvas, meeting, result, grades, row, comments.get(row["id"], ""), decided)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _decided(evaluation: dict | None, reporter_id: str) -> dict | None:
    """The reporter's fixed 综合评价 entry, with the date the 党组 studied it."""
    if not evaluation or reporter_id not in evaluation.get("entries", {}):
        return None
    return {**evaluation["entries"][reporter_id], "studied_on": evaluation["fixed"]["studied_on"]}


def _draw_page(
    canvas,
    meeting: Meeting,
    result: dict,
    grades: list[str],
    row: dict,
    comment: str,
    decided: dict | None = None,
) -> None:
    page_w, page_h = A4
    width = page_w - 2 * MARGIN
    y = page_h - MARGIN - 6 * mm
    draw_text(canvas, page_w / 2, y, "述职评议反馈单", 18, "centre")
    y -= 8 * mm
    draw_text(canvas, page_w / 2, y, meeting.title, fit_size(meeting.title, 11, width), "centre")
    y -= 12 * mm
    mode = MODE_LABEL.get(row.get("mode", ""), row.get("mode", ""))
    draw_text(canvas, MARGIN, y, f"述职人：{row['name']}", 13)
    draw_text(canvas, page_w - MARGIN, y, f"{row.get('org', '')}　{mode}", 11, "right")
    y -= 9 * mm
    draw_text(canvas, MARGIN, y, f"评议日期：{meeting.date}", 10)
    y -= 7 * mm
    if decided is None:
        draw_text(canvas, MARGIN, y, NOT_OVERALL, 10)
    else:
        draw_text(canvas, MARGIN, y, "综合评价等次：", 13)
        draw_text(canvas, MARGIN + 33 * mm, y, decided["grade"], 22)
        studied = f"经党组于{decided['studied_on']}研究确定；下为会议测评结果"
        draw_text(canvas, page_w - MARGIN, y, studied, 10, "right")
        y -= 12 * mm
    y -= 9 * mm
    draw_text(canvas, MARGIN, y, "测评等次：", 13)
    draw_text(canvas, MARGIN + 27 * mm, y - 1 * mm, row["final_grade"] or "未定", 26)
    if not result.get("valid", True):
        draw_text(canvas, page_w - MARGIN, y, "（本次测评未达法定人数，结果无效）", 10, "right")
    y -= 14 * mm
    votes = sum(row["counts"].get(g, 0) for g in grades)
    columns = [Column(g, width / (len(grades) + 2)) for g in grades]
    columns += [
        Column("弃权", width / (len(grades) + 2)),
        Column("废票", width / (len(grades) + 2)),
    ]
    draw_row(canvas, MARGIN, y, columns, [c.title for c in columns], 8 * mm, 11)
    y -= 8 * mm
    cells = [
        f"{row['counts'].get(g, 0)}票 {percent(row['counts'].get(g, 0), votes)}" for g in grades
    ] + [f"{row['abstain']}票", f"{row['invalid']}票"]
    draw_row(canvas, MARGIN, y, columns, cells, 9 * mm, 11)
    y -= 15 * mm
    poor = result.get("poor_grade") or grades[-1]  # absent from results saved before it
    facts = (
        f"得分：{_score(row['score'])}　{poor}票比例：{_share(row['poor_share'])}"
        f"　基础等次：{row['base_grade'] or '—'}"
    )
    draw_text(canvas, MARGIN, y, facts, 11)
    y -= 10 * mm
    by = row.get("decided_by") or "—"
    y = draw_lines(canvas, MARGIN, y, wrap(f"决定等次的依据：{by}", 11, width), 11)
    y -= 2 * mm
    draw_text(canvas, MARGIN, y, "评定过程：", 11)
    y -= 7 * mm
    for step in row.get("steps", []):
        rule = RULE_LABEL.get(step["rule"], step["rule"]).replace("差票", f"{poor}票")
        lines = wrap(f"· {rule}：{step['why']}", 10, width - 6 * mm)
        y = draw_lines(canvas, MARGIN + 4 * mm, y, lines, 10)
    if decided is not None:
        y = _opinion(canvas, decided, y - 4 * mm, width)
    y -= 8 * mm
    draw_text(canvas, MARGIN, y, "主持人点评：", 12)
    y -= 8 * mm
    text = comment.strip() or "（未录入点评）"
    lines = wrap(text, 11, width - 8 * mm)
    room = int((y - MARGIN - 16 * mm) // (11 * 1.6))
    if len(lines) > room:
        lines = lines[: max(room - 1, 0)] + ["（点评过长，余下从略，请见会议记录）"]
    y = draw_lines(canvas, MARGIN + 4 * mm, y, lines, 11, 11 * 1.6)
    draw_text(canvas, page_w - MARGIN, MARGIN + 10 * mm, "（本单仅送述职人本人）", 9, "right")


OPINION_LINES = 4  # lines per part of the 综合评价意见 on the page; the rest is in the record


def _opinion(canvas, decided: dict, y: float, width: float) -> float:
    """The 综合评价意见 (成绩, 问题, 要求), each part cut to a few lines, and the reason where
    the 综合评价等次 differs from the 测评等次."""
    draw_text(canvas, MARGIN, y, "综合评价意见：", 12)
    y -= 7 * mm
    parts = list(decided.get("opinion", {}).items())
    if decided.get("reason"):
        parts.append(("与测评等次不同的理由", decided["reason"]))
    for name, text in parts:
        lines = wrap(f"{name}：{text}", 10, width - 6 * mm)
        if len(lines) > OPINION_LINES:
            lines = lines[: OPINION_LINES - 1] + ["（余下从略，请见综合评价记录）"]
        y = draw_lines(canvas, MARGIN + 4 * mm, y, lines, 10)
    return y

"""Feedback sheets (述职评议反馈单): one per reporter, handed back after the meeting.

Each sheet shows the reporter's grade from the vote (测评等次, never called 综合评价等次: that
is what the organisers decide later, and the sheet says so), the counts per grade, the rule
that decided the grade with every step of the reasoning, and every 点评 on the report with who
gave it (and the 集中点评, which covers every report). Once the 党组 has fixed the 综合评价
(meeting/evaluation.py), it also carries the 综合评价等次, the date it was fixed, the
综合评价意见 and the 整改要求 (约谈提醒、限期整改 by the date fixed; 年度考核不得评定为优秀); a
draft is never printed. A sheet runs onto a second page rather than drop a 点评.
"""

from __future__ import annotations

import io

from meeting.evaluation import outcomes_for
from printouts.layout import (
    A4,
    Column,
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
    remarks: list[dict] | None = None,
    only: str | None = None,
    evaluation: dict | None = None,
) -> bytes:
    """One sheet per reporter (or only the reporter with id `only`). `remarks`: the 点评 and
    讲话 as `meeting.views.remarks_view` gives them. `evaluation`: the 综合评价 once the 党组
    fixed it (`server.record_reader.MeetingRecord.evaluation`)."""
    remarks = remarks or []
    buffer = io.BytesIO()
    canvas = new_canvas(buffer, f"{meeting.title} 述职评议反馈单", subject="pingyi feedback")
    grades = list(result.get("grades") or meeting.rules.grades)
    for row in result["reporters"]:
        if only and row["id"] != only:
            continue
        page = _Page(canvas, row["name"])
        decided = _decided(evaluation, row["id"], meeting)
        _draw_sheet(page, meeting, result, grades, row, _remarks_on(remarks, row["id"]), decided)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _remarks_on(remarks: list[dict], reporter_id: str) -> list[tuple[str, str]]:
    """(who, text) of each 点评 on this report, then each 集中点评, as saved ("" who: a 点评
    recorded before commenters were named, whose giver the record does not know)."""
    own = [
        (r["by"], r["text"])
        for r in remarks
        if r["kind"] == "comment" and r["reporter"] == reporter_id and r["text"].strip()
    ]
    together = [
        (f"集中点评（{r['by']}）" if r["by"] else "集中点评", r["text"])
        for r in remarks
        if r["kind"] == "together" and r["text"].strip()
    ]
    return own + together


def _decided(evaluation: dict | None, reporter_id: str, meeting: Meeting) -> dict | None:
    """The reporter's fixed 综合评价 entry, with the date the 党组 studied it and what follows
    from it (结果运用)."""
    if not evaluation or reporter_id not in evaluation.get("entries", {}):
        return None
    fixed = evaluation["fixed"]
    grades = {rid: entry["grade"] for rid, entry in evaluation["entries"].items()}
    outcomes = outcomes_for(grades, meeting)
    return {
        **evaluation["entries"][reporter_id],
        "studied_on": fixed["studied_on"],
        "rectify_by": fixed.get("rectify_by", ""),
        "interview": reporter_id in outcomes["interview"],
        "not_excellent": reporter_id in outcomes["not_excellent"],
    }


class _Page:
    """A cursor down the sheet that starts a continuation page when the next lines do not fit."""

    def __init__(self, canvas, name: str) -> None:
        self.canvas = canvas
        self.name = name
        self.width = A4[0] - 2 * MARGIN
        self.y = A4[1] - MARGIN - 6 * mm

    def need(self, height: float) -> None:
        if self.y - height >= MARGIN + 14 * mm:
            return
        self.footer()
        self.canvas.showPage()
        self.y = A4[1] - MARGIN - 6 * mm
        draw_text(self.canvas, MARGIN, self.y, f"述职评议反馈单（续）　述职人：{self.name}", 11)
        self.y -= 10 * mm

    def lines(self, lines: list[str], size: float, indent: float = 0) -> None:
        leading = size * 1.45
        for line in lines:
            self.need(leading)
            draw_text(self.canvas, MARGIN + indent, self.y, line, size)
            self.y -= leading

    def paragraph(self, text: str, size: float, indent: float = 4 * mm) -> None:
        self.lines(wrap(text, size, self.width - indent - 2 * mm), size, indent)

    def heading(self, text: str) -> None:
        self.y -= 3 * mm
        self.need(16 * mm)  # a heading is never left alone at the foot of a page
        draw_text(self.canvas, MARGIN, self.y, text, 12)
        self.y -= 7 * mm

    def footer(self) -> None:
        draw_text(
            self.canvas, A4[0] - MARGIN, MARGIN + 6 * mm, "（本单仅送述职人本人）", 9, "right"
        )


def _draw_sheet(
    page: _Page,
    meeting: Meeting,
    result: dict,
    grades: list[str],
    row: dict,
    remarks: list[tuple[str, str]],
    decided: dict | None,
) -> None:
    canvas, width = page.canvas, page.width
    page_w = A4[0]
    y = page.y
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
    page.y = y - 10 * mm
    page.lines(wrap(f"决定等次的依据：{row.get('decided_by') or '—'}", 11, width), 11)
    page.heading("评定过程：")
    for step in row.get("steps", []):
        rule = RULE_LABEL.get(step["rule"], step["rule"]).replace("差票", f"{poor}票")
        page.paragraph(f"· {rule}：{step['why']}", 10)
    if decided is not None:
        _opinion(page, decided)
    page.heading("点评：")
    if not remarks:
        page.paragraph("（未录入点评）", 11)
    for by, text in remarks:
        page.paragraph(f"{by}：" * bool(by) + " ".join(text.split()), 11)
    page.footer()


OPINION_LINES = 6  # lines per part of the 综合评价意见; the rest is in the record (备案)


def _opinion(page: _Page, decided: dict) -> None:
    """The 综合评价意见 (成绩, 问题, 要求), each part cut to a few lines, the reason where the
    综合评价等次 differs from the 测评等次, and the 整改要求 that follow from the grade."""
    page.heading("综合评价意见：")
    parts = list(decided.get("opinion", {}).items())
    if decided.get("reason"):
        parts.append(("与测评等次不同的理由", decided["reason"]))
    for name, text in parts:
        lines = wrap(f"{name}：{text}", 10, page.width - 6 * mm)
        if len(lines) > OPINION_LINES:
            lines = lines[: OPINION_LINES - 1] + ["（余下从略，请见综合评价记录）"]
        page.lines(lines, 10, 4 * mm)
    demands = []
    if decided["interview"]:
        by = decided.get("rectify_by") or "党组规定的期限"
        demands.append(
            f"综合评价等次为{decided['grade']}，将进行约谈提醒；请针对点评和综合评价指出的问题"
            f"制定整改方案，于{by}前完成整改并报告整改情况。"
        )
    if decided["not_excellent"]:
        demands.append("按规定，本年度考核结果不得评定为优秀等次。")
    if demands:
        page.heading("整改要求：")
        for demand in demands:
            page.paragraph(demand, 10)

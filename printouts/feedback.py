"""Feedback sheets (述职评议反馈单): one per reporter, handed back after the meeting.

Each sheet shows the reporter's grade from the vote (测评等次, never called 综合评价等次: that
is what the organisers decide later, and the sheet says so), the counts per grade, the rule
that decided the grade with every step of the reasoning, and every 点评 on the report with who
gave it (and the 集中点评, which covers every report). Once the 党组 has fixed the 综合评价
(meeting/evaluation.py), it also carries the 综合评价等次, the date it was fixed, the
综合评价意见 and the 整改要求 (约谈提醒、限期整改 by the date fixed; 年度考核不得评定为优秀); a
draft is never printed. A sheet runs onto a second page rather than drop a 点评.

For a 三评 meeting (a result of `tally.appraisal.appraise` with a composite) the 测评等次 is
the composite's (`meeting.views.measured_grade`), and the sheet shows what made it: each
source's score with the weight it was given, the 综合得分 and 综合名次, each constituency's
form and scores, the grade votes where groups graded the reporter, and every step of the
sources and of the composite.
"""

from __future__ import annotations

import io

from meeting.evaluation import outcomes_for
from meeting.views import measured_grade
from printouts.layout import (
    A4,
    Column,
    draw_row,
    draw_text,
    fit_size,
    mm,
    new_canvas,
    percent,
    row_height,
    wrap,
)
from tally.model import Meeting

MODE_LABEL = {"onsite": "现场述职", "written": "书面述职"}
RULE_LABEL = {
    "base": "基础等次",
    "poor_share": "差票比例规则",
    "override": "组织认定（问责/重大失误）",
    "supervision": "分管领导评价",
    "quota": "等次名额控制",
    "undecided": "并列待定",
    "quorum": "法定人数",
    # a 三评 result's steps (tally.appraisal, tally.composite)
    "composite": "综合得分",
    "source_missing": "来源缺失",
    "decisive": "否决项",
    "vote": "群众测评",
    "items": "逐项测评",
    "item_empty": "逐项测评",
    "experts": "专家点评",
    "expert_missing": "专家点评",
    "indicator": "项目指标",
    "indicators": "项目指标",
    "indicator_missing": "项目指标",
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
    draw_text(canvas, MARGIN + 27 * mm, y - 1 * mm, measured_grade(row) or "未定", 26)
    if not result.get("valid", True):
        draw_text(canvas, page_w - MARGIN, y, "（本次测评未达法定人数，结果无效）", 10, "right")
    y -= 14 * mm
    poor = result.get("poor_grade") or grades[-1]  # absent from results saved before it
    if "composite_grade" in row:
        page.y = y
        _composite(page, result, grades, row)
    else:
        _grade_part(page, y, grades, row, poor)
    if decided is not None:
        _opinion(page, decided)
    page.heading("点评：")
    if not remarks:
        page.paragraph("（未录入点评）", 11)
    for by, text in remarks:
        page.paragraph(f"{by}：" * bool(by) + " ".join(text.split()), 11)
    page.footer()


def _counts(page: _Page, y: float, grades: list[str], row: dict) -> float:
    """The grade votes (票数 and share per grade, 弃权, 废票) at `y`; the y below them."""
    canvas, width = page.canvas, page.width
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
    return y - 15 * mm


def _grade_part(page: _Page, y: float, grades: list[str], row: dict, poor: str) -> None:
    """A grade-only result: the votes, the score and shares, the steps of the grade."""
    canvas, width = page.canvas, page.width
    y = _counts(page, y, grades, row)
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


def _table(page: _Page, columns: list[Column], rows: list[list[str]], size: float = 10) -> None:
    """A header row and the rows at the cursor, the header again atop a continuation page."""
    titles = [c.title for c in columns]
    page.need(7 * mm + (row_height(columns, rows[0], size, 7 * mm) if rows else 0))
    draw_row(page.canvas, MARGIN, page.y, columns, titles, 7 * mm, size)
    page.y -= 7 * mm
    for cells in rows:
        height = row_height(columns, cells, size, 7 * mm)
        if page.y - height < MARGIN + 14 * mm:
            page.need(height + 7 * mm)
            draw_row(page.canvas, MARGIN, page.y, columns, titles, 7 * mm, size)
            page.y -= 7 * mm
        draw_row(page.canvas, MARGIN, page.y, columns, cells, height, size)
        page.y -= height
    page.y -= 3 * mm


def _composite(page: _Page, result: dict, grades: list[str], row: dict) -> None:
    """A 三评 result: the composite's sources and score, each constituency's scores, the
    grade votes where groups graded the reporter, the reasons."""
    width = page.width
    sources = (result.get("appraisal") or {}).get("sources") or []
    names = {s["id"]: s["name"] for s in sources}
    share = width * 0.7 / max(len(sources), 1)
    columns = [Column(f"{s['name']}（×权重）", share) for s in sources]
    columns += [Column("综合得分", width * 0.15), Column("综合名次", width * 0.15)]
    cells = []
    for source in sources:
        score = row["sources"].get(source["id"])
        weight = row["weights"].get(source["id"])
        cells.append("缺失" if score is None else f"{_score(score)}×{_weight(weight)}")
    rank = row.get("composite_rank")
    cells += [_score(row["composite_score"]), "—" if rank is None else f"第{rank}名"]
    _table(page, columns, [cells], 11)
    forms = {f["id"]: f["name"] for f in (result.get("appraisal") or {}).get("forms") or []}
    columns = [
        Column("组别", width * 0.2),
        Column("测评表", width * 0.27),
        Column("权重", width * 0.07),
        Column("等次票数", width * 0.13),
        Column("等次得分", width * 0.11),
        Column("逐项得分", width * 0.11),
        Column("该组得分", width * 0.11),
    ]
    rows = []
    for gid, part in row.get("by_group", {}).items():
        form = forms.get(part["form"], part["form"])
        counts = (row.get("counts_by_group") or {}).get(gid, {})
        votes = "/".join(str(int(counts.get(g, 0))) for g in grades)
        rows.append(
            [part["name"], form, _weight(part["weight"])]
            + ["—" if part["kind"] == "items" else votes]
            + [_score(part[key]) for key in ("grade_score", "item_score", "score")]
        )
    vote = _score(row.get("vote_score"))
    page.heading(f"各组测评（群众测评得分：{vote}；等次票数依次为{'/'.join(grades)}）：")
    _table(page, columns, rows, 9.5)
    decided = row.get("composite_decided_by") or "—"
    page.y -= 4 * mm  # the text hangs above its baseline: clear of the table's last line
    page.lines(wrap(f"决定等次的依据：{decided}", 11, width), 11)
    page.heading("评定过程：")
    steps = [
        (names.get(sid, sid), step)
        for sid, source_steps in (row.get("source_steps") or {}).items()
        for step in source_steps
    ]
    steps += [(RULE_LABEL.get(s["rule"], s["rule"]), s) for s in row.get("composite_steps", [])]
    for label, step in steps:
        page.paragraph(f"· {label}：{step['why']}", 10)


def _weight(value) -> str:
    """A weight (0.4, 0.6667) as printed on the 三评 sheet: 40%, 66.67%."""
    return "—" if value is None else f"{round(float(value) * 100, 2):g}%"


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

"""The 综合评价结果表: what the 党组 decided after the meeting, landscape A4, to be signed.

It looks like the tally sheet (`tally_sheet`): a table per reporter in speaking order (测评等次
from the vote, the other sources, 综合评价等次, the reason where the two differ), each
reporter's 综合评价意见, the 结果运用 lists (约谈提醒、限期整改 with its date, 年度考核不得评定为优秀,
the 倒排 when the rules ask for one), how many entries and revisions the record holds, the
digests, the 党组's seal box and signature line, page numbers, the 骑缝 margin and the signing
certificate's fingerprint. The whole record (`evaluation_record`) is attached as
`pingyi-evaluation.json`, so that `verify_evaluation` re-derives the lists and re-renders the
pages from it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping

from meeting.evaluation import OPINION_PARTS, outcomes_for
from meeting.views import measured_grade
from printouts.inputs import sha256
from printouts.layout import (
    A4,
    Column,
    draw_binding_margin,
    draw_row,
    draw_seal_box,
    draw_text,
    fit_size,
    landscape,
    mm,
    new_canvas,
    row_height,
    wrap,
)
from printouts.sheet_record import attach, beijing_time
from printouts.tally_sheet import BINDING_LINE, CENTRE, LEFT, MARGIN, PAGE_H, WIDTH
from tally.model import Meeting
from tally.numbers import pct
from tally.report import bottom_line

ATTACHMENT = "pingyi-evaluation.json"
FORMAT = "pingyi-evaluation"
VERSION = 1
TITLE = "综合评价结果表"
PAGES_FORM = "pingyiEvaluationPages"
SHORT_SOURCE = 12  # a longer source note goes under the table, with the opinion, in full
DESCRIPTION = "综合评价记录（录入、修改与党组研究确定）、测评等次、结果运用与输入文件摘要"


def vote_grades(result: dict) -> dict[str, str]:
    """Each reporter's 测评等次 ("" when the vote left it 待定): in a 三评 meeting the
    composite's, the grade the live 会后 page entered the 综合评价 against (`views.vote_grades`)."""
    return {r["id"]: measured_grade(r) for r in result["reporters"]}


def composite_scores(result: dict) -> dict[str, float | None]:
    """A 三评 meeting's 综合得分 per reporter, printed beside its 测评等次."""
    return {r["id"]: r.get("composite_score") for r in result["reporters"]}


def sheet_inputs(meeting: Meeting, digests: Mapping) -> dict:
    """The digests the sheet prints and attaches: the meeting file and the ballots; for a 三评
    meeting every input of its result (`appraisal_sheet.appraisal_inputs`: the item lists, the
    expert scores and the indicator values too, None for one not given)."""
    if meeting.appraisal.configured:
        return dict(digests)
    return {k: digests[k] for k in ("meeting_sha256", "ballots_sha256")}


def evaluation_digest(evaluation: dict) -> str:
    """SHA-256 of the record in one canonical spelling, printed so that paper and file meet."""
    text = json.dumps(evaluation, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return sha256(text.encode("utf-8"))


def history_of(evaluation: dict) -> list[dict]:
    """Every entry, oldest first; a record from before the history was kept has only the
    current entries."""
    history = evaluation.get("history")
    if isinstance(history, list):
        return history
    return list((evaluation.get("entries") or {}).values())


def derived_outcomes(entries: list[dict], meeting: Meeting) -> dict[str, list[str]]:
    """结果运用 exactly as the live meeting derives it: from each reporter's latest entry."""
    return outcomes_for({entry["reporter"]: entry["grade"] for entry in entries}, meeting)


def revisions(history: list[dict]) -> int:
    """Entries that replaced an earlier one for the same reporter."""
    return len(history) - len({entry.get("reporter") for entry in history})


def evaluation_record(
    meeting: Meeting, result: dict, evaluation: dict, digests: Mapping[str, str], signer_sha256: str
) -> dict:
    """What the sheet attaches; a 三评 meeting's adds each reporter's 综合得分 (and its
    inputs are all of the result's, `sheet_inputs`). A grade meeting's is as it always was."""
    record = {
        "format": FORMAT,
        "version": VERSION,
        "meeting": {"title": meeting.title, "date": meeting.date},
        "inputs": sheet_inputs(meeting, digests),
        "vote_grades": vote_grades(result),
        "evaluation": evaluation,
        "evaluation_sha256": evaluation_digest(evaluation),
        "outcomes": derived_outcomes(list(evaluation["entries"].values()), meeting),
        "bottom": list(result.get("bottom") or []),
        "signer_sha256": signer_sha256,
    }
    if meeting.appraisal.configured:
        record["composite_scores"] = composite_scores(result)
    return record


def render_evaluation(
    meeting: Meeting,
    result: dict,
    evaluation: dict,
    digests: Mapping[str, str],
    *,
    signed_by: str = "",
    signer_sha256: str = "",
) -> bytes:
    """The unsigned PDF with its record attached; `evaluation` is the fixed record
    (`MeetingRecord.evaluation`), `result` the tally whose 测评等次 and 倒排 it prints (a 三评
    meeting's: `appraise()`'s, with `digests` its `appraisal_inputs`)."""
    record = evaluation_record(meeting, result, evaluation, digests, signer_sha256)
    buffer = io.BytesIO()
    canvas = new_canvas(buffer, f"{meeting.title} {TITLE}", landscape(A4), "pingyi evaluation")
    _Sheet(canvas, meeting, result, record).draw(signed_by)
    canvas.save()
    return attach(buffer.getvalue(), record, ATTACHMENT, DESCRIPTION)


def _source_names(meeting: Meeting, entries: Mapping[str, dict]) -> list[str]:
    """The sources the entries used, in the meeting's order ([evaluation] sources)."""
    used = {name for entry in entries.values() for name in (entry.get("sources") or {})}
    known = meeting.evaluation_sources
    return [s for s in known if s in used] + sorted(used - set(known))


class _Sheet:
    """A cursor over the pages, as the tally sheet's: blocks top-down, a new page when full."""

    def __init__(self, canvas, meeting: Meeting, result: dict, record: dict) -> None:
        self.canvas = canvas
        self.meeting = meeting
        self.result = result
        self.record = record
        self.evaluation = record["evaluation"]
        self.entries: dict[str, dict] = self.evaluation.get("entries") or {}
        self.fixed: dict = self.evaluation.get("fixed") or {}
        self.names = {r.id: r.name for r in meeting.reporters}
        self.scores: dict | None = record.get("composite_scores")  # None: a grade meeting
        self.page = 1
        self.y = PAGE_H - MARGIN
        draw_binding_margin(canvas, BINDING_LINE, MARGIN, PAGE_H - MARGIN)

    def draw(self, signed_by: str) -> None:
        self.header()
        self.table()
        self.opinions()
        self.outcomes()
        self.closing(signed_by)
        self.footer()
        self.canvas.showPage()
        self.canvas.beginForm(PAGES_FORM)
        draw_text(self.canvas, 0, 0, f"共{self.page}页", 8)
        self.canvas.endForm()

    def need(self, height: float) -> bool:
        if self.y - height >= MARGIN + 2 * mm:
            return False
        self.footer()
        self.canvas.showPage()
        self.page += 1
        draw_binding_margin(self.canvas, BINDING_LINE, MARGIN, PAGE_H - MARGIN)
        self.y = PAGE_H - MARGIN - 4 * mm
        draw_text(self.canvas, LEFT, self.y, f"{self.meeting.title} {TITLE}（续）", 9)
        self.y -= 6 * mm
        return True

    def footer(self) -> None:
        """第N页 共M页: M is a form drawn once at the end, when the pages are known."""
        y = MARGIN - 2 * mm
        draw_text(self.canvas, CENTRE, y, f"第{self.page}页　", 8, "right")
        self.canvas.saveState()
        self.canvas.translate(CENTRE, y)
        self.canvas.doForm(PAGES_FORM)
        self.canvas.restoreState()

    def text(self, text: str, size: float = 10, gap: float = 1.5 * mm, indent: float = 0) -> None:
        for line in wrap(text, size, WIDTH - indent):
            self.need(size * 1.4)
            self.y -= size * 1.1
            draw_text(self.canvas, LEFT + indent, self.y, line, size)
            self.y -= size * 0.3
        self.y -= gap

    def who(self, ids: list[str]) -> str:
        return "、".join(self.names.get(rid, rid) for rid in ids) or "无"

    def header(self) -> None:
        meeting, fixed = self.meeting, self.fixed
        title = f"{meeting.title} {TITLE}"
        self.y -= 6 * mm
        draw_text(self.canvas, CENTRE, self.y, title, fit_size(title, 15, WIDTH), "centre")
        self.y -= 7 * mm
        typists = list(dict.fromkeys(h.get("entered_by", "") for h in history_of(self.evaluation)))
        line = (
            f"会议日期：{meeting.date}　党组研究日期：{fixed.get('studied_on', '')}　"
            f"录入人：{'、'.join(t for t in typists if t) or '—'}　"
            f"确定人：{fixed.get('entered_by', '')}"
        )
        if isinstance(fixed.get("at"), int | float):
            line += f"（{beijing_time(fixed['at'])}确定）"
        draw_text(self.canvas, CENTRE, self.y, line, fit_size(line, 9.5, WIDTH), "centre")
        self.y -= 7 * mm

    def columns(self, sources: list[str]) -> list[Column]:
        fixed = [Column("序号", 9 * mm), Column("姓名", 18 * mm), Column("单位", 34 * mm, "left")]
        grades = [Column("测评等次", 16 * mm)]
        if self.scores is not None:  # 三评: the 测评等次 is the composite's, graded on this
            grades.append(Column("综合得分", 16 * mm))
        grades += [Column(name, 32 * mm) for name in sources]  # a short note fits a line
        grades.append(Column("综合评价等次", 20 * mm))
        used = sum(c.width for c in fixed + grades)
        return fixed + grades + [Column("与测评等次不同的理由", WIDTH - used, "left")]

    def table(self) -> None:
        sources = _source_names(self.meeting, self.entries)
        columns = self.columns(sources)
        titles = [c.title for c in columns]
        votes = self.record["vote_grades"]
        self.need(16 * mm)
        draw_row(self.canvas, LEFT, self.y, columns, titles, 7 * mm, 8)
        self.y -= 7 * mm
        for index, reporter in enumerate(self.meeting.reporters, start=1):
            entry = self.entries.get(reporter.id) or {}
            noted = entry.get("sources") or {}
            cells = [str(index), reporter.name, reporter.org, votes.get(reporter.id) or "待定"]
            if self.scores is not None:
                cells.append(_score(self.scores.get(reporter.id)))
            for name in sources:
                value = noted.get(name, "")
                cells.append(value if len(value) <= SHORT_SOURCE else "见下文")
            cells += [entry.get("grade") or "未录入", entry.get("reason") or "—"]
            height = row_height(columns, cells, 8.5, 7 * mm)
            if self.need(height):
                draw_row(self.canvas, LEFT, self.y, columns, titles, 7 * mm, 8)
                self.y -= 7 * mm
            draw_row(self.canvas, LEFT, self.y, columns, cells, height, 8.5)
            self.y -= height
        self.y -= 2 * mm
        measured = "注：测评等次为会议测评（投票）的结果"
        composite = self.meeting.appraisal.composite
        if self.scores is not None and composite is not None:
            weights = "、".join(s.name for s in composite.sources)
            measured = (
                f"注：测评等次为三评的综合等次，按{weights}加权的综合得分确定"
                "（详见三评测评结果汇总表）"
            )
        self.text(
            f"{measured}；综合评价等次由党组综合测评等次与"
            f"{'、'.join(self.meeting.evaluation_sources)}等情况研究确定。",
            8,
            3 * mm,
        )

    def opinions(self) -> None:
        self.need(14 * mm)
        self.text("综合评价意见", 11, 1 * mm)
        for index, reporter in enumerate(self.meeting.reporters, start=1):
            entry = self.entries.get(reporter.id) or {}
            self.need(16 * mm)  # a reporter's heading never ends a page alone
            grade = entry.get("grade") or "未录入"
            self.text(f"{index}．{reporter.name}（{reporter.org}）综合评价等次：{grade}", 9.5, 0.5)
            opinion = entry.get("opinion") or {}
            for part in OPINION_PARTS:
                if opinion.get(part):
                    self.text(f"{part}：{opinion[part]}", 9, 0.5, indent=5 * mm)
            for name, value in (entry.get("sources") or {}).items():
                if len(value) > SHORT_SOURCE:
                    self.text(f"{name}：{value}", 9, 0.5, indent=5 * mm)
            self.y -= 1.5 * mm

    def outcomes(self) -> None:
        outcomes = self.record["outcomes"]
        self.need(24 * mm)
        self.y -= 1 * mm
        self.text("结果运用", 11, 1 * mm)
        interview = outcomes.get("interview") or []
        line = f"约谈提醒、限期整改：{self.who(interview)}"
        if interview:
            line += f"（限期整改完成时间：{self.fixed.get('rectify_by') or '未定'}）"
        self.text(line + "。", 9.5, 0.5 * mm)
        self.text(f"年度考核不得评定为优秀：{self.who(outcomes.get('not_excellent') or [])}。", 9.5)
        rules = self.meeting.rules
        if rules.bottom_count is None and rules.bottom_share is None:
            return
        share = "" if rules.bottom_share is None else pct(rules.bottom_share)
        if self.result.get("bottom"):
            line = bottom_line(self.result, share) + "（按测评等次和名次）"
        else:
            line = f"倒排（后{share or f'{rules.bottom_count}名'}）：无（没有述职人有名次）"
        self.text(line + "。", 9.5)

    def closing(self, signed_by: str) -> None:
        """The record's size, the signature lines with the seal box, then the digests beside
        it: one block, so that the signatures never stand alone on a page."""
        history = history_of(self.evaluation)
        seal = 28 * mm
        self.need(seal + 40 * mm)
        self.text(
            f"综合评价共{len(history)}次录入，含{revisions(history)}次修改，"
            f"详见附件记录（{ATTACHMENT}）。",
            9.5,
            2 * mm,
        )
        top = self.y - 1 * mm
        seal_x = LEFT + WIDTH - seal
        unit = self.meeting.organizer or "党组"
        draw_text(
            self.canvas, seal_x + seal / 2, top - 3 * mm, unit, fit_size(unit, 8.5, seal), "centre"
        )
        draw_seal_box(self.canvas, seal_x, top - 5 * mm, seal, "（党组公章）")
        y = top - 8 * mm
        draw_text(self.canvas, LEFT, y, "党组负责人（签字）：", 10)
        self.canvas.line(LEFT + 34 * mm, y - 1, LEFT + 90 * mm, y - 1)
        draw_text(self.canvas, LEFT + 100 * mm, y, "日期：        年     月     日", 10)
        self.y = y - 8 * mm
        width = WIDTH - seal - 8 * mm
        for line in self.digest_lines():
            self.y -= 8.5 * 1.1
            draw_text(self.canvas, LEFT, self.y, line, fit_size(line, 8.5, width))
            self.y -= 8.5 * 0.5
        signer = f"（签名证书：{signed_by}）" if signed_by else ""
        note = (
            f"本表为PDF数字签名文件{signer}。核验：pingyi verify 本表.pdf --ballots 选票文件.csv "
            "--meeting 会议文件.toml"
        )
        if self.scores is not None:
            note += " --experts 专家评分.csv --indicators 项目指标.csv"
        for line in wrap(note, 8.5, width):
            self.y -= 8.5 * 1.1
            draw_text(self.canvas, LEFT, self.y, line, 8.5)
            self.y -= 8.5 * 0.3
        if self.record["signer_sha256"]:
            self.y -= 8.5 * 1.2
            draw_text(
                self.canvas,
                LEFT,
                self.y,
                f"签名证书 SHA-256指纹：{self.record['signer_sha256']}",
                8.5,
            )

    def digest_lines(self) -> list[str]:
        """The inputs' digests; a 三评 meeting's every input of its result."""
        inputs = self.record["inputs"]
        lines = [f"会议文件 SHA-256：{inputs['meeting_sha256']}"]
        lines += [
            f"测评题目 {n} SHA-256：{d}" for n, d in (inputs.get("items_sha256") or {}).items()
        ]
        lines.append(f"选票导出文件 SHA-256：{inputs['ballots_sha256']}")
        if self.scores is not None:
            for key, label in (
                ("experts_sha256", "专家评分文件"),
                ("indicators_sha256", "项目指标文件"),
            ):
                lines.append(f"{label} SHA-256：{inputs.get(key) or '未提供'}")
        lines.append(f"综合评价记录 SHA-256：{self.record['evaluation_sha256']}")
        return lines


def _score(value: object) -> str:
    """A 综合得分 as the 三评 sheet prints it (two decimals; — when 待定)."""
    return "—" if not isinstance(value, int | float) else f"{float(value):.2f}"

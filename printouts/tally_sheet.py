"""The tally sheet (测评结果汇总表), landscape A4, to be signed (see `signing`).

From the engine's result JSON (`tally.engine.result_to_json`): turnout (应到/实到/有效) and the
quorum, one row per reporter with counts and shares per grade, 差票%, score, base grade, the
rules applied, final grade and rank; the quota table, any undecided tie, the signature lines,
and the SHA-256 digests of the meeting file and the ballot export with a QR code of them.
The digests and the final grades are also embedded, as JSON in the PDF's Keywords, so that
`pingyi verify` reads them without OCR; the signature covers them.
"""

from __future__ import annotations

import io
import json

from printouts.layout import (
    A4,
    Column,
    draw_qr,
    draw_row,
    draw_text,
    fit_size,
    landscape,
    mm,
    new_canvas,
    percent,
    row_height,
    wrap,
)
from tally.model import SPOILED, Meeting

META_PREFIX = "pingyi-tally:"
MODE_LABEL = {"onsite": "现场", "written": "书面"}
PAGE_W, PAGE_H = landscape(A4)
MARGIN = 12 * mm
WIDTH = PAGE_W - 2 * MARGIN


def embedded_record(meeting: Meeting, result: dict, digests: dict[str, str]) -> dict:
    """What verify needs: the digests and each reporter's grades, as printed on the sheet."""
    return {
        "version": 1,
        "meeting_sha256": digests["meeting_sha256"],
        "ballots_sha256": digests["ballots_sha256"],
        "valid": bool(result["valid"]),
        "grades": {r["id"]: [r["base_grade"], r["final_grade"]] for r in result["reporters"]},
    }


def effective_ballots(ballots) -> int:
    """有效票: ballots not spoiled as a whole (at least one mark that is not 废)."""
    return sum(1 for b in ballots if not b.marks or any(m != SPOILED for m in b.marks.values()))


def _or_dash(value) -> str:
    return "—" if value is None or value == "" else str(value)


def _score(value) -> str:
    return "—" if value is None else f"{float(value):.2f}"


def _share(value) -> str:
    return "—" if value is None else f"{100 * float(value):.1f}%"


def digest_qr_text(digests: dict[str, str]) -> str:
    return f"pingyi\nmeeting-sha256={digests['meeting_sha256']}\nballots-sha256={digests['ballots_sha256']}"


def render_tally(
    meeting: Meeting,
    result: dict,
    digests: dict[str, str],
    signed_by: str = "",
    effective: int | None = None,
) -> bytes:
    """The unsigned PDF; `signed_by` names the signing certificate in the footer and
    `effective` is the number of valid ballots (有效票; see `effective_ballots`)."""
    buffer = io.BytesIO()
    canvas = new_canvas(
        buffer, f"{meeting.title} 测评结果汇总表", landscape(A4), subject="pingyi tally"
    )
    record = embedded_record(meeting, result, digests)
    canvas.setKeywords(META_PREFIX + json.dumps(record, ensure_ascii=True, sort_keys=True))
    sheet = _Sheet(canvas, meeting, effective)
    sheet.header(result, digests)
    sheet.reporters(result)
    sheet.quota(result)
    sheet.undecided(meeting, result)
    sheet.signatures()
    sheet.digests(digests, signed_by)
    sheet.finish()
    canvas.save()
    return buffer.getvalue()


class _Sheet:
    """A cursor over the pages: draws blocks top-down and starts a new page when full."""

    def __init__(self, canvas, meeting: Meeting, effective: int | None) -> None:
        self.effective = effective
        self.canvas = canvas
        self.meeting = meeting
        self.page = 1
        self.y = PAGE_H - MARGIN

    def need(self, height: float) -> bool:
        """Starts a new page unless height fits; True when it did."""
        if self.y - height >= MARGIN + 2 * mm:
            return False
        self.footer()
        self.canvas.showPage()
        self.page += 1
        self.y = PAGE_H - MARGIN - 4 * mm
        draw_text(self.canvas, MARGIN, self.y, f"{self.meeting.title} 测评结果汇总表（续）", 9)
        self.y -= 6 * mm
        return True

    def footer(self) -> None:
        draw_text(self.canvas, PAGE_W / 2, MARGIN - 2 * mm, f"第{self.page}页", 8, "centre")

    def finish(self) -> None:
        self.footer()
        self.canvas.showPage()

    def text(
        self, text: str, size: float = 10, gap: float = 1.5 * mm, width: float = WIDTH
    ) -> None:
        for line in wrap(text, size, width):
            self.need(size * 1.4)
            self.y -= size * 1.1
            draw_text(self.canvas, MARGIN, self.y, line, size)
            self.y -= size * 0.3
        self.y -= gap

    def header(self, result: dict, digests: dict[str, str]) -> None:
        meeting = self.meeting
        side = 21 * mm  # the digests' QR code, top right; the centred title keeps clear of it
        draw_qr(self.canvas, PAGE_W - MARGIN - side, self.y - side, side, digest_qr_text(digests))
        title_width = WIDTH - 2 * (side + 4 * mm)
        self.y -= 6 * mm
        draw_text(self.canvas, PAGE_W / 2, self.y, "测评结果汇总表", 16, "centre")
        self.y -= 7 * mm
        draw_text(
            self.canvas,
            PAGE_W / 2,
            self.y,
            meeting.title,
            fit_size(meeting.title, 11.5, title_width),
            "centre",
        )
        self.y -= 6 * mm
        where = f"日期：{meeting.date}" + (f"　地点：{meeting.place}" if meeting.place else "")
        draw_text(self.canvas, PAGE_W / 2, self.y, where, 9.5, "centre")
        self.y -= 5 * mm
        quorum = result["quorum"]
        effective = quorum["cast"] if self.effective is None else self.effective
        turnout = f"应到 {quorum['seats']} 人，实到 {quorum['cast']} 人，有效票 {effective} 张"
        groups = result.get("groups") or []
        if len(groups) > 1:
            parts = [f"{g['name']} 应到{g['seats']} 实到{g['cast']}" for g in groups]
            turnout += f"（{'；'.join(parts)}）"
        self.text(turnout, 10, 0.5 * mm)
        required = float(quorum["required"])
        if required:
            state = "达到" if quorum["met"] else "未达到"
            quorum_line = (
                f"到会率 {percent(quorum['cast'], quorum['seats'])}，法定比例 "
                f"{required:.0%}，{state}法定人数。"
            )
        else:
            quorum_line = f"到会率 {percent(quorum['cast'], quorum['seats'])}，未设法定比例。"
        verdict = (
            "本次测评有效。"
            if result["valid"]
            else "本次测评无效（未达到法定人数），结果仅供参考。"
        )
        self.text(quorum_line + verdict, 10, 3 * mm)

    def columns(self, grades: list[str]) -> list[Column]:
        fixed = [
            Column("序号", 9 * mm),
            Column("姓名", 16 * mm),
            Column("单位", 30 * mm, "left"),
            Column("方式", 9 * mm),
        ]
        counts = [Column(f"{g}", 19 * mm) for g in grades]
        tail = [
            Column("弃权", 9 * mm),
            Column("废票", 9 * mm),
            Column("差票%", 12 * mm),
            Column("得分", 12 * mm),
            Column("基础等次", 14 * mm),
            Column("最终等次", 14 * mm),
            Column("名次", 9 * mm),
        ]
        used = sum(c.width for c in fixed + counts + tail)
        rules = Column("适用规则", WIDTH - used, "left")
        return fixed + counts + tail[:5] + [rules] + tail[5:]

    def reporters(self, result: dict) -> None:
        grades = list(result.get("grades") or self.meeting.rules.grades)
        columns = self.columns(grades)
        titles = [c.title for c in columns]
        size = 8
        self.need(16 * mm)
        draw_row(self.canvas, MARGIN, self.y, columns, titles, 7 * mm, 7.5)
        self.y -= 7 * mm
        for index, row in enumerate(result["reporters"], start=1):
            votes = sum(row["counts"].get(g, 0) for g in grades)
            cells = [
                str(index),
                row["name"],
                row.get("org", ""),
                MODE_LABEL.get(row.get("mode", ""), row.get("mode", "")),
            ]
            cells += [
                f"{row['counts'].get(g, 0)}({percent(row['counts'].get(g, 0), votes)})"
                for g in grades
            ]
            cells += [
                str(row["abstain"]),
                str(row["invalid"]),
                _share(row["poor_share"]),
                _score(row["score"]),
                _or_dash(row["base_grade"]),
                "；".join(step["why"] for step in row.get("steps", [])),
                _or_dash(row["final_grade"]),
                _or_dash(row.get("rank")),
            ]
            height = row_height(columns, cells, size, 6 * mm)
            if self.need(height):
                draw_row(self.canvas, MARGIN, self.y, columns, titles, 7 * mm, 7.5)
                self.y -= 7 * mm
            draw_row(self.canvas, MARGIN, self.y, columns, cells, height, size)
            self.y -= height
        self.y -= 3 * mm
        self.text(
            f"注：各等次票数后为占该述职人有效票（不含弃权、废票）的比例；"
            f"差票%按“{'有效票' if self.meeting.rules.poor_share_basis == 'valid' else '投票总数'}”"
            f"计算，超过{float(self.meeting.rules.poor_share_limit):.0%}即定为"
            f"{self.meeting.rules.poor_grade}。",
            8,
            2 * mm,
        )

    def quota(self, result: dict) -> None:
        quota = result.get("quota") or []
        if not quota:
            return
        columns = [
            Column("等次", 25 * mm),
            Column("名额上限", 25 * mm),
            Column("最终人数", 25 * mm),
            Column("获得者", 120 * mm, "left"),
        ]
        names = {r["id"]: r["name"] for r in result["reporters"]}
        self.need(8 * mm * (len(quota) + 2))
        self.text("等次名额控制", 10, 0.5 * mm)
        draw_row(self.canvas, MARGIN, self.y, columns, [c.title for c in columns], 6.5 * mm, 8.5)
        self.y -= 6.5 * mm
        for entry in quota:
            holders = entry.get("holders", [])
            held: list[str] = holders if isinstance(holders, list) else []
            count = len(held) if isinstance(holders, list) else int(holders)
            cells = [
                entry["grade"],
                str(entry["limit"]),
                str(count),
                "、".join(names.get(h, h) for h in held),
            ]
            height = row_height(columns, cells, 8.5, 6.5 * mm)
            draw_row(self.canvas, MARGIN, self.y, columns, cells, height, 8.5)
            self.y -= height
        self.y -= 3 * mm

    def undecided(self, meeting: Meeting, result: dict) -> None:
        undecided = result.get("undecided") or []
        if not undecided:
            self.text("待定：无（无需会议决定的并列情形）。", 9.5, 2 * mm)
            return
        names = {r["id"]: r["name"] for r in result["reporters"]}
        for entry in undecided:
            who = "、".join(names.get(r, r) for r in entry.get("reporters", []))
            self.text(
                f"待定（{entry['grade']}）：{who}。{entry.get('why', '')}请会议研究决定。",
                9.5,
                1 * mm,
            )
        self.y -= 1 * mm

    def signatures(self) -> None:
        self.need(18 * mm)
        self.y -= 6 * mm
        third = WIDTH / 3
        for index, role in enumerate(("计票人", "监票人", "主持人")):
            x = MARGIN + index * third
            draw_text(self.canvas, x, self.y, f"{role}（签字）：", 10)
            self.canvas.line(x + 27 * mm, self.y - 1, x + third - 8 * mm, self.y - 1)
            draw_text(self.canvas, x, self.y - 7 * mm, "日期：        年     月     日", 10)
        self.y -= 11 * mm

    def digests(self, digests: dict[str, str], signed_by: str) -> None:
        self.y -= 2 * mm
        self.text(f"会议文件 SHA-256：{digests['meeting_sha256']}", 8.5, 0.5 * mm)
        self.text(f"选票导出文件 SHA-256：{digests['ballots_sha256']}", 8.5, 0.5 * mm)
        signer = f"（签名证书：{signed_by}）" if signed_by else ""
        self.text(
            f"本表为PDF数字签名文件{signer}。核验：pingyi verify 本表.pdf --ballots 选票文件.csv "
            "--meeting 会议文件.toml；右上角二维码为以上两个摘要。",
            8.5,
            0,
        )

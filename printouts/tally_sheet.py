"""The tally sheet (测评结果汇总表), landscape A4, to be signed (see `signing`).

From the engine's result JSON (`tally.engine.result_to_json`): turnout (应到/实到, ballots
returned and spoiled) and the quorum, a line per voter group (weight, issued, returned, by
phone, on paper, spoiled as a whole, turnout) with a total; the
rules in words (points, weights, cutoffs) with what 有效票 means and the one rounding rule;
one row per reporter with counts and shares per grade, the poor grade's share (差票%, headed by
the meeting's own poor grade), score, base grade, the rules applied, the grade of the vote
(测评等次) and rank, then the 倒排 when the rules ask for one; per reporter and group the counts and the group's score, from
which a 监票人 recomputes the score by hand (docs/printouts.md); the quota, any undecided tie,
the signature lines (计票人, N 监票人, 主持人) with the 公章 box, and the SHA-256 digests of
the meeting file and the ballot export with a QR code of them. An official form: 第N页 共M页
on every page, a 骑缝 margin, and signatures that never stand alone on a page.
The digests and the final grades are also embedded, as JSON in the PDF's Keywords, so that
`pingyi verify` reads them without OCR; the signature covers them.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from fractions import Fraction

from printouts.layout import (
    A4,
    Column,
    draw_binding_margin,
    draw_qr,
    draw_row,
    draw_seal_box,
    draw_text,
    fit_size,
    landscape,
    mm,
    new_canvas,
    percent,
    row_height,
    wrap,
)
from printouts.sheet_record import attach, tally_record
from tally.model import Meeting
from tally.numbers import pct, short
from tally.report import bottom_line

META_PREFIX = "pingyi-tally:"
MODE_LABEL = {"onsite": "现场", "written": "书面"}
PAGE_W, PAGE_H = landscape(A4)
MARGIN = 12 * mm
BINDING = 12 * mm  # the 骑缝 margin on the left, kept free of print for the seal across pages
BINDING_LINE = MARGIN / 2 + BINDING / 2
LEFT = MARGIN + BINDING
WIDTH = PAGE_W - LEFT - MARGIN
CENTRE = LEFT + WIDTH / 2
PAGES_FORM = "pingyiPageCount"  # the XObject that prints 共M页 on every page
GROUP_COLUMNS = (
    ("投票组别", 30 * mm),
    ("权重", 12 * mm),
    ("应到", 13 * mm),
    ("实到", 13 * mm),
    ("手机", 13 * mm),
    ("纸质", 13 * mm),
    ("废票", 13 * mm),
    ("到会率", 15 * mm),
)
GROUPS_WIDTH = sum(width for _, width in GROUP_COLUMNS)


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
    return sum(1 for ballot in ballots if not ballot.spoiled_as_a_whole)


def _or_dash(value) -> str:
    return "—" if value is None or value == "" else str(value)


def _total(groups: list[dict], key: str) -> int | None:
    """A per-group count summed over the groups; None when a group lacks it (not known, or
    a result from before the count existed)."""
    values = [g.get(key) for g in groups]
    return sum(int(v) for v in values if v is not None) if None not in values else None


def _score(value) -> str:
    return "—" if value is None else f"{float(value):.2f}"


def digest_qr_text(digests: dict[str, str]) -> str:
    return f"pingyi\nmeeting-sha256={digests['meeting_sha256']}\nballots-sha256={digests['ballots_sha256']}"


def render_tally(
    meeting: Meeting,
    result: dict,
    digests: dict[str, str],
    signed_by: str = "",
    effective: int | None = None,
    signer_sha256: str = "",
    monitors: int = 2,
    voided: Sequence[dict] = (),
) -> bytes:
    """The unsigned PDF; `signed_by` names the signing certificate in the footer and
    `effective` is the number of ballots not spoiled as a whole (see `effective_ballots`).
    `signer_sha256` is the signing certificate's fingerprint, printed beside the digests;
    the whole result is attached as `pingyi-tally.json` (`printouts.sheet_record`).
    `monitors` is the number of 监票人 signature lines. `voided`: the rounds voided by 重新测评
    (`voided_entry`), reported under the table and attached, never counted."""
    buffer = io.BytesIO()
    canvas = new_canvas(
        buffer, f"{meeting.title} 测评结果汇总表", landscape(A4), subject="pingyi tally"
    )
    record = embedded_record(meeting, result, digests)
    canvas.setKeywords(META_PREFIX + json.dumps(record, ensure_ascii=True, sort_keys=True))
    # A first run on scratch paper finds out whether the signatures would start a page of
    # their own; if so, the real run breaks the page two blocks earlier to keep them company.
    blank = new_canvas(io.BytesIO(), "", landscape(A4))
    scratch = _Sheet(blank, meeting, effective, monitors, voided=voided)
    scratch.draw(result, digests, signed_by, signer_sha256)
    break_at = None if scratch.orphaned is None else max(1, scratch.orphaned - 1)
    sheet = _Sheet(canvas, meeting, effective, monitors, break_at, voided)
    sheet.draw(result, digests, signed_by, signer_sha256)
    canvas.save()
    record = tally_record(meeting, result, digests, effective, signer_sha256, list(voided))
    return attach(buffer.getvalue(), record)


class _Sheet:
    """A cursor over the pages: draws blocks top-down and starts a new page when full.

    Every block asks `need` for its height first; `blocks` counts those calls, so that a
    second run can force a page break before block `break_at`. `orphaned` is set to the
    number of the last block before the signatures when the signatures had to start a page."""

    def __init__(
        self,
        canvas,
        meeting: Meeting,
        effective: int | None,
        monitors: int = 2,
        break_at: int | None = None,
        voided: Sequence[dict] = (),
    ) -> None:
        self.effective = effective
        self.canvas = canvas
        self.meeting = meeting
        self.monitors = monitors
        self.break_at = break_at
        self.blocks = 0
        self.orphaned: int | None = None
        self.page = 1
        self.y = PAGE_H - MARGIN
        self.width = WIDTH  # of text; narrower beside the group table and the 公章 box
        self.voided = voided  # rounds voided by 重新测评 (`voided_entry`)
        self.margin()

    def draw(
        self, result: dict, digests: dict[str, str], signed_by: str, signer_sha256: str
    ) -> None:
        self.header(result, digests)
        self.rules()
        self.reporters(result)
        self.bottom(result)
        self.by_group(result)
        self.quota(result)
        self.undecided(self.meeting, result)
        self.voided_rounds()
        self.signatures()
        self.digests(digests, signed_by)
        self.fingerprint(signer_sha256)
        self.finish()

    def need(self, height: float) -> bool:
        """Starts a new page unless height fits (or this block is `break_at`); True when it did."""
        self.blocks += 1
        if self.blocks != self.break_at and self.y - height >= MARGIN + 2 * mm:
            return False
        self.footer()
        self.canvas.showPage()
        self.page += 1
        self.margin()
        self.y = PAGE_H - MARGIN - 4 * mm
        draw_text(self.canvas, LEFT, self.y, f"{self.meeting.title} 测评结果汇总表（续）", 9)
        self.y -= 6 * mm
        return True

    def margin(self) -> None:
        draw_binding_margin(self.canvas, BINDING_LINE, MARGIN, PAGE_H - MARGIN)

    def footer(self) -> None:
        """第N页 共M页: M is a form drawn once at the end, when the pages are known."""
        y = MARGIN - 2 * mm
        draw_text(self.canvas, CENTRE, y, f"第{self.page}页　", 8, "right")
        self.canvas.saveState()
        self.canvas.translate(CENTRE, y)
        self.canvas.doForm(PAGES_FORM)
        self.canvas.restoreState()

    def finish(self) -> None:
        self.footer()
        self.canvas.showPage()
        self.canvas.beginForm(PAGES_FORM)
        draw_text(self.canvas, 0, 0, f"共{self.page}页", 8)
        self.canvas.endForm()

    def text(
        self, text: str, size: float = 10, gap: float = 1.5 * mm, width: float | None = None
    ) -> None:
        for line in wrap(text, size, width or self.width):
            self.need(size * 1.4)
            self.y -= size * 1.1
            draw_text(self.canvas, LEFT, self.y, line, size)
            self.y -= size * 0.3
        self.y -= gap

    def header(self, result: dict, digests: dict[str, str]) -> None:
        meeting = self.meeting
        side = 21 * mm  # the digests' QR code, top right; the centred title keeps clear of it
        draw_qr(self.canvas, PAGE_W - MARGIN - side, self.y - side, side, digest_qr_text(digests))
        title_width = WIDTH - 2 * (side + 4 * mm)
        self.y -= 6 * mm
        draw_text(self.canvas, CENTRE, self.y, "测评结果汇总表", 16, "centre")
        self.y -= 7 * mm
        draw_text(
            self.canvas,
            CENTRE,
            self.y,
            meeting.title,
            fit_size(meeting.title, 11.5, title_width),
            "centre",
        )
        self.y -= 6 * mm
        where = f"日期：{meeting.date}" + (f"　地点：{meeting.place}" if meeting.place else "")
        if meeting.organizer:
            where = f"填报单位：{meeting.organizer}　" + where
        draw_text(self.canvas, CENTRE, self.y, where, fit_size(where, 9.5, title_width), "centre")
        self.y -= 5 * mm
        quorum = result["quorum"]
        groups = result.get("groups") or []
        returned = sum(int(g["cast"]) for g in groups)
        turnout = f"应到 {quorum['seats']} 人，实到 {quorum['cast']} 人"
        if groups and self.meeting.voting == "end":  # with a round per report: many ballots
            # Not given: every ballot returned counts, as in `sheet_record.tally_record`.
            effective = quorum["cast"] if self.effective is None else self.effective
            spoiled = _total(groups, "spoiled")  # the result's, as in the table beside
            turnout += (
                f"；发出选票 {quorum['seats']} 张，收回 {returned} 张，"
                f"其中整张作废 {returned - effective if spoiled is None else spoiled} 张"
            )
            phone, paper = _total(groups, "phone"), _total(groups, "paper")
            if phone is not None and paper is not None:
                turnout += f"。\n收回的选票中手机票 {phone} 张，纸质票 {paper} 张"
        if groups and "phone" in groups[0] and _total(groups, "phone") is None:
            turnout += "。\n选票文件未区分手机票与纸质票（无via列），表中记为“—”"
        table_bottom = self.groups(groups)
        self.width = WIDTH if table_bottom is None else WIDTH - GROUPS_WIDTH - 6 * mm
        self.text(turnout + "。", 10, 0.5 * mm)
        required = Fraction(str(quorum["required"]))
        rate = percent(quorum["cast"], quorum["seats"])
        if required:
            state = "达到" if quorum["met"] else "未达到"
            quorum_line = f"到会率 {rate}，法定比例 {pct(required)}，{state}法定人数。"
        else:
            quorum_line = f"到会率 {rate}，未设法定比例。"
        verdict = (
            "本次测评有效。"
            if result["valid"]
            else "本次测评无效（未达到法定人数），结果仅供参考。"
        )
        self.text(quorum_line + verdict, 10, 1.5 * mm)
        self.width = WIDTH
        if table_bottom is not None:
            self.y = min(self.y, table_bottom - 3 * mm)

    def groups(self, groups: list[dict]) -> float | None:
        """A line per voter group: weight, cards issued (应到), ballots returned (实到), how
        many by phone (手机) and on paper (纸质), how many spoiled as a whole (废票) and the
        turnout, as a table at the right of the turnout lines; returns the table's bottom edge.
        手机 and 纸质 are — when the ballots do not say how they came."""
        if not groups:
            return None
        weights = {g.id: g.weight for g in self.meeting.groups}
        columns = [Column(title, width) for title, width in GROUP_COLUMNS]
        rows = [
            [
                g["name"],
                short(weights[g["id"]]) if g["id"] in weights else "—",
                str(g["seats"]),
                str(g["cast"]),
                _or_dash(g.get("phone")),
                _or_dash(g.get("paper")),
                _or_dash(g.get("spoiled")),
                percent(int(g["cast"]), int(g["seats"])),
            ]
            for g in groups
        ]
        if len(groups) > 1:
            seats = sum(int(g["seats"]) for g in groups)
            cast = sum(int(g["cast"]) for g in groups)
            ways = [_or_dash(_total(groups, key)) for key in ("phone", "paper", "spoiled")]
            rows.append(["合计", "1", str(seats), str(cast), *ways, percent(cast, seats)])
        x = LEFT + WIDTH - GROUPS_WIDTH
        y = self.y
        for cells in [[c.title for c in columns], *rows]:
            draw_row(self.canvas, x, y, columns, cells, 5 * mm, 7.5)
            y -= 5 * mm
        return y

    def rules(self) -> None:
        """The weights, points and cutoffs used, and the one rounding rule: all a 监票人 needs
        besides the counts to recompute every score and grade with a calculator."""
        rules = self.meeting.rules
        points = "、".join(
            f"{g}{short(p)}分" for g, p in zip(rules.grades, rules.points, strict=True)
        )
        parts = [f"等次分值：{points}"]
        supervision = self.meeting.supervision_group
        weighed = [*self.meeting.groups, *([supervision] if supervision else [])]
        if len(weighed) > 1:
            weights = "、".join(f"{g.name}{short(g.weight)}" for g in weighed)
            parts.append(
                f"得分＝各组组得分按权重（{weights}）加权之和，某组无有效票时其余组权重按比例折算；"
                "组得分＝Σ（分值×该组票数）÷该组有效票"
            )
        if supervision is not None:
            parts.append(f"实名成员对其分管单位的评价单列为“{supervision.name}”一组，不计入其本组")
        else:
            parts.append("得分＝Σ（分值×票数）÷有效票")
        if rules.base == "score":
            cuts = "，".join(
                f"≥{short(c)}为{g}" for g, c in zip(rules.grades, rules.score_cutoffs, strict=False)
            )
            parts.append(f"基础等次：得分{cuts}，其余为{rules.poor_grade}")
        else:
            parts.append(
                f"基础等次：从{rules.grades[0]}起按权重累计比例首次达到{pct(rules.share_threshold)}的等次"
            )
        basis = "有效票" if rules.poor_share_basis == "valid" else "投票总数（含弃权、废票）"
        parts.append(
            f"{rules.poor_grade}票超过{basis}的{pct(rules.poor_share_limit)}定为{rules.poor_grade}"
            "（各组合计，不加权）"
        )
        if rules.override_flags:
            flags = "、".join(f"“{f}”" for f in rules.override_flags)
            parts.append(f"有{flags}标记的定为{rules.poor_grade}")
        for grade, share in rules.quota:
            parts.append(f"{grade}不超过述职人数的{pct(share)}（向下取整）")
        if rules.quorum:
            parts.append(f"到会率须达{pct(rules.quorum)}")
        parts.append(
            f"名次：先按测评等次，同一等次按得分，得分相同按{rules.grades[0]}票加权比例，"
            f"再按{rules.poor_grade}票数（少者在前）"
        )
        if rules.bottom_share is not None:
            parts.append(f"倒排：名次最后的{pct(rules.bottom_share)}（人数向上取整，并列者均列入）")
        elif rules.bottom_count is not None:
            parts.append(f"倒排：名次最后的{rules.bottom_count}名（并列者均列入）")
        self.text("计分规则：" + "；".join(parts) + "。", 8.5, 0.5 * mm)
        self.text(
            f"有效票：某一述职人名下评了等次的票（{'、'.join(rules.grades)}），弃权、废票不计。"
            "舍入：每个数由精确值四舍五入一次（百分比保留一位小数，得分保留两位小数），"
            "判定等次、比例和名次一律用精确值。",
            8.5,
            2.5 * mm,
        )

    def columns(self, grades: list[str], poor: str) -> list[Column]:
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
            Column(f"{poor}票%", 12 * mm),
            Column("得分", 12 * mm),
            Column("基础等次", 14 * mm),
            Column("测评等次", 14 * mm),
            Column("名次", 9 * mm),
        ]
        used = sum(c.width for c in fixed + counts + tail)
        rules = Column("适用规则", WIDTH - used, "left")
        return fixed + counts + tail[:5] + [rules] + tail[5:]

    def reporters(self, result: dict) -> None:
        grades = list(result.get("grades") or self.meeting.rules.grades)
        poor = result.get("poor_grade") or grades[-1]  # absent from results saved before it
        by_cast = self.meeting.rules.poor_share_basis == "cast"
        columns = self.columns(grades, poor)
        titles = [c.title for c in columns]
        size = 8
        self.need(16 * mm)
        draw_row(self.canvas, LEFT, self.y, columns, titles, 7 * mm, 7.5)
        self.y -= 7 * mm
        for index, row in enumerate(result["reporters"], start=1):
            counts = {g: int(row["counts"].get(g, 0)) for g in grades}
            votes = sum(counts.values())
            poor_base = row.get("poor_share_of") or (int(row["cast"]) if by_cast else votes)
            cells = [
                str(index),
                row["name"],
                row.get("org", ""),
                MODE_LABEL.get(row.get("mode", ""), row.get("mode", "")),
            ]
            cells += [f"{counts[g]}({percent(counts[g], votes)})" for g in grades]
            cells += [
                str(row["abstain"]),
                str(row["invalid"]),
                "—" if row["poor_share"] is None else percent(counts[poor], poor_base),
                _score(row["score"]),
                _or_dash(row["base_grade"]),
                "；".join(step["why"] for step in row.get("steps", [])),
                _or_dash(row["final_grade"]),
                _or_dash(row.get("rank")),
            ]
            height = row_height(columns, cells, size, 6 * mm)
            if self.need(height):
                draw_row(self.canvas, LEFT, self.y, columns, titles, 7 * mm, 7.5)
                self.y -= 7 * mm
            draw_row(self.canvas, LEFT, self.y, columns, cells, height, size)
            self.y -= height
        self.y -= 2 * mm
        basis = "投票总数（含弃权、废票）" if by_cast else "有效票"
        grouped = len(result.get("groups") or []) > 1
        self.text(
            f"注：{'各等次票数为各组合计，' if grouped else ''}括号内为占该述职人有效票的比例；"
            f"{poor}票%为{poor}票占{basis}的比例"
            + ("；得分按组加权，由下表各组票数算出。" if grouped else "。"),
            8,
            2 * mm,
        )

    def bottom(self, result: dict) -> None:
        """倒排, only when the rules ask for one: the bottom reporters by rank, worst first; a
        rank tied across the cut is listed whole and the line says so."""
        rules = self.meeting.rules
        if rules.bottom_count is None and rules.bottom_share is None:
            return
        share = "" if rules.bottom_share is None else pct(rules.bottom_share)
        if result.get("bottom"):
            line = bottom_line(result, share)
        else:
            size = share or f"{rules.bottom_count}名"
            line = f"倒排（后{size}）：无（没有述职人有名次）"
        self.text(line + "。", 9.5, 2 * mm)

    def by_group(self, result: dict) -> None:
        """Per reporter and group: the counts and the group's score, so that the weighted
        score can be recomputed: Σ weight × group score over the groups with votes."""
        groups = list(result.get("groups") or [])
        counted = list(self.meeting.groups)
        supervision = self.meeting.supervision_group
        if supervision is not None:  # 分管: a constituency of its own in every reporter's score
            groups.append({"id": supervision.id, "name": supervision.name})
            counted.append(supervision)
        if len(groups) < 2:
            return
        grades = list(result.get("grades") or self.meeting.rules.grades)
        weights = {g.id: g.weight for g in counted}
        fixed = [Column("序号", 9 * mm), Column("姓名", 16 * mm)]
        score = Column("得分", 16 * mm)
        each = (WIDTH - sum(c.width for c in fixed) - score.width) / len(groups)
        columns = (
            fixed
            + [
                Column(
                    f"{g['name']}（权重{short(weights[g['id']]) if g['id'] in weights else '—'}）",
                    each,
                )
                for g in groups
            ]
            + [score]
        )
        titles = [c.title for c in columns]
        self.need(6 * mm + 6.5 * mm * 3)
        self.text(
            f"分组票数与组得分（供核算）：每格为{'/'.join(grades)}票数（该组有效票）→ 组得分",
            9,
            0.5 * mm,
        )
        draw_row(self.canvas, LEFT, self.y, columns, titles, 6 * mm, 8)
        self.y -= 6 * mm
        for index, row in enumerate(result["reporters"], start=1):
            cells = [str(index), row["name"]]
            for g in groups:
                counts = [int(row["counts_by_group"].get(g["id"], {}).get(k, 0)) for k in grades]
                group_score = (row.get("score_by_group") or {}).get(g["id"])
                shown = "无有效票，不计" if group_score is None else f"{group_score:.2f}"
                cells.append(f"{'/'.join(map(str, counts))}（{sum(counts)}）→ {shown}")
            cells.append(_score(row["score"]))
            if self.need(5.5 * mm):
                draw_row(self.canvas, LEFT, self.y, columns, titles, 6 * mm, 8)
                self.y -= 6 * mm
            draw_row(self.canvas, LEFT, self.y, columns, cells, 5.5 * mm, 8)
            self.y -= 5.5 * mm
        self.y -= 2 * mm
        self.text(
            "核算：得分＝Σ（权重×组得分）÷参与加权的权重之和；用表中两位小数的组得分计算，"
            "末位可能与得分差0.01，以票数精确计算为准。",
            8,
            2 * mm,
        )

    def quota(self, result: dict) -> None:
        quota = result.get("quota") or []
        if not quota:
            return
        names = {r["id"]: r["name"] for r in result["reporters"]}
        parts = []
        for entry in quota:
            holders = entry.get("holders", [])
            held: list[str] = holders if isinstance(holders, list) else []
            count = len(held) if isinstance(holders, list) else int(holders)
            who = "、".join(names.get(h, h) for h in held)
            parts.append(
                f"{entry['grade']}名额上限{entry['limit']}人，最终{count}人"
                + (f"（{who}）" if who else "")
            )
        self.text("等次名额控制：" + "；".join(parts) + "。", 9.5, 1.5 * mm)

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

    def voided_rounds(self) -> None:
        """重新测评: each voided round, so that nobody can void a vote unseen."""
        names = {r.id: r.name for r in self.meeting.reporters}
        for entry in self.voided:
            who = "、".join(names.get(r, r) for r in entry["reporters"])
            by_group = entry.get("groups") or {}
            split = "、".join(
                f"{g.name}{by_group[g.id]}张" for g in self.meeting.groups if by_group.get(g.id)
            )
            split = f"（{split}）" if len(self.meeting.groups) > 1 and split else ""
            self.text(
                f"重新测评：对{who}的一次测评已于{entry['at']}由主持人作废，作废时已收回选票"
                f"{entry['cast']}张{split}；原因：{entry['reason']}。其选票另行保存，不计入本表。",
                9.5,
                1 * mm,
            )

    def signatures(self) -> None:
        """计票人, the 监票人 lines and 主持人, three to a row, then the digests beside the 公章
        box (right, under the issuing unit). Never alone on a page (see `render_tally`)."""
        roles = ["计票人", *(["监票人"] * self.monitors), "主持人"]
        per_row = 3
        rows = -(-len(roles) // per_row)
        seal = 28 * mm
        left = WIDTH - seal - 8 * mm
        height = max(rows * 10 * mm + 22 * mm, seal + 8 * mm)  # the digests' lines included
        before = self.blocks
        if self.need(height):
            self.orphaned = before
        top = self.y - 1 * mm
        seal_x = LEFT + WIDTH - seal
        unit = self.meeting.organizer or "填报单位"
        unit_size = fit_size(unit, 8.5, seal + 20 * mm)
        draw_text(self.canvas, seal_x + seal / 2, top - 3 * mm, unit, unit_size, "centre")
        draw_seal_box(self.canvas, seal_x, top - 5 * mm, seal)
        cell = left / per_row
        for index, role in enumerate(roles):
            x = LEFT + (index % per_row) * cell
            y = top - 5 * mm - (index // per_row) * 10 * mm
            draw_text(self.canvas, x, y, f"{role}（签字）：", 10)
            self.canvas.line(x + 27 * mm, y - 1, x + cell - 6 * mm, y - 1)
            draw_text(self.canvas, x, y - 5 * mm, "日期：        年     月     日", 9)
        self.y = top - 5 * mm - (rows - 1) * 10 * mm - 8 * mm
        self.width = left  # the digests wrap beside the 公章 box

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

    def fingerprint(self, signer_sha256: str) -> None:
        """The signing certificate's SHA-256 fingerprint, to compare with what verify prints."""
        if signer_sha256:
            self.y -= 0.5 * mm
            self.text(f"签名证书 SHA-256指纹：{signer_sha256}", 8.5, 0)

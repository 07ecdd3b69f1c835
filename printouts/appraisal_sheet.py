"""The 测评结果汇总表 of a 三评 meeting (forms and a composite), landscape A4, to be signed.

Rendered from `tally.appraisal.appraise`'s JSON only, so that `verify_appraisal` re-renders
it from a recount and compares the words. It shows the header of the grade sheet (title,
organizer, date, place, turnout and quorum); the combined table in the order of the 综合名次
(each source of the composite with the weight it was given, renormalised when one is missing,
the 综合得分, the final 等次 and the reasons in the appraisal's own words); a table per
constituency (voter group: that group's form, weight, grade counts, grade score, item score and
group score for each reporter); the decisive items (否决项) with each group's positive share and
the combined negative share, flagged where it decided the grade; the SHA-256 of every input
(meeting file, its item lists, ballots, expert scores, indicators); the signature lines with
the 公章 box, the signer's fingerprint and 第N页 共M页. The pages, margins, continuation
titles and signature block are the grade sheet's (`tally_sheet._Sheet`). The result and the
digests are attached as `pingyi-appraisal.json`.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

from printouts.inputs import decode, sha256
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
)
from printouts.sheet_record import attach
from printouts.tally_sheet import CENTRE, LEFT, MARGIN, PAGE_W, WIDTH, _Sheet
from tally.appraisal import appraise
from tally.item_csv import parse_experts_csv, parse_indicators_csv, parse_item_ballots_csv
from tally.model import Meeting

ATTACHMENT = "pingyi-appraisal.json"
FORMAT = "pingyi-appraisal"
VERSION = 1
TITLE = "测评结果汇总表"
DESCRIPTION = "三评结果（pingyi tally --json，含各组、各来源和综合得分）与输入文件摘要"
# The inputs besides the meeting file, as the sheet and the verdict name them.
FILE_NAMES = {
    "ballots_sha256": "选票文件",
    "experts_sha256": "专家评分文件",
    "indicators_sha256": "项目指标文件",
}
NOT_GIVEN = "未提供"


def appraisal_inputs(
    meeting: bytes,
    ballots: bytes,
    experts: bytes | None,
    indicators: bytes | None,
    item_lists: Mapping[str, bytes],
) -> dict:
    """The SHA-256 of each input's exact bytes; None for an experts or indicators file that
    was not given; `item_lists`: each item list the meeting file names (as written there)."""
    return {
        "meeting_sha256": sha256(meeting),
        "items_sha256": {name: sha256(data) for name, data in sorted(item_lists.items())},
        "ballots_sha256": sha256(ballots),
        "experts_sha256": None if experts is None else sha256(experts),
        "indicators_sha256": None if indicators is None else sha256(indicators),
    }


def appraise_files(
    meeting: Meeting,
    ballots: bytes,
    experts: bytes | None,
    indicators: bytes | None,
    names: tuple[str, str, str] = ("ballots.csv", "专家评分.csv", "项目指标.csv"),
) -> dict:
    """`appraise()` of the files' exact bytes (`names`: as error messages show them), for
    `pingyi print tally` and the recount of `pingyi verify` alike."""
    ballots_name, experts_name, indicators_name = names
    parsed = parse_item_ballots_csv(decode(ballots, ballots_name), meeting, ballots_name)
    expert_table = indicator_table = None
    if experts is not None:
        expert_table = parse_experts_csv(decode(experts, experts_name), meeting, experts_name)
    if indicators is not None:
        text = decode(indicators, indicators_name)
        indicator_table = parse_indicators_csv(text, meeting, indicators_name)
    return appraise(meeting, parsed, expert_table, indicator_table)


def appraisal_record(result: dict, inputs: Mapping, signer_sha256: str) -> dict:
    """What the sheet attaches."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "inputs": dict(inputs),
        "signer_sha256": signer_sha256,
        "result": result,
    }


def render_appraisal(
    meeting: Meeting,
    result: dict,
    inputs: Mapping,
    *,
    signed_by: str = "",
    signer_sha256: str = "",
) -> bytes:
    """The unsigned PDF with its record attached; `result` is `appraise()`'s JSON, `inputs`
    `appraisal_inputs(...)`."""
    # As the grade sheet: a scratch run finds whether the signatures would start a page alone.
    scratch = _AppraisalSheet(new_canvas(io.BytesIO(), "", landscape(A4)), meeting, result)
    scratch.draw_all(inputs, signed_by, signer_sha256)
    break_at = None if scratch.orphaned is None else max(1, scratch.orphaned - 1)
    buffer = io.BytesIO()
    title = f"{meeting.title} {TITLE}"
    canvas = new_canvas(buffer, title, landscape(A4), subject="pingyi appraisal")
    _AppraisalSheet(canvas, meeting, result, break_at).draw_all(inputs, signed_by, signer_sha256)
    canvas.save()
    record = appraisal_record(result, inputs, signer_sha256)
    return attach(buffer.getvalue(), record, ATTACHMENT, DESCRIPTION)


def in_rank_order(rows: list[dict]) -> list[dict]:
    """By 综合名次; reporters without one (待定) last, in speaking order."""
    return sorted(
        rows, key=lambda r: (r.get("composite_rank") is None, r.get("composite_rank") or 0)
    )


def _score(value) -> str:
    return "—" if value is None else f"{float(value):.2f}"


def _share(value) -> str:
    """A weight or share (0.4, 0.6667) as printed: 40%, 66.67%."""
    return "—" if value is None else f"{round(float(value) * 100, 2):g}%"


def reasons(row: dict) -> str:
    """The composite's steps in their own words; the formula (with the weights) only when a
    source was missing, since the weights then differ from the declared ones."""
    steps = row.get("composite_steps") or []
    missing = any(s.get("rule") == "source_missing" for s in steps)
    return "；".join(s["why"] for s in steps if s.get("rule") != "composite" or missing)


def _qr_text(inputs: Mapping) -> str:
    lines = [f"meeting-sha256={inputs['meeting_sha256']}"]
    lines += [f"{key.removesuffix('_sha256')}-sha256={inputs[key] or '-'}" for key in FILE_NAMES]
    return "pingyi\n" + "\n".join(lines)


class _AppraisalSheet(_Sheet):
    """The grade sheet's cursor (pages, footer, continuation title, signature block) with
    this sheet's blocks."""

    def __init__(self, canvas, meeting: Meeting, result: dict, break_at: int | None = None):
        super().__init__(canvas, meeting, None, break_at=break_at)
        self.result = result
        self.info = result["appraisal"]
        self.rows = in_rank_order(result["reporters"])
        self.group_rows = result.get("groups") or []

    def draw_all(self, inputs: Mapping, signed_by: str, signer_sha256: str) -> None:
        self.heading(inputs)
        self.composite_rules()
        self.combined()
        if self.group_rows:
            self.need(30 * mm)
            self.text("二、各组测评（各组的测评表、权重、票数和得分，按综合名次）", 10.5, 1 * mm)
        for group in self.group_rows:
            self.constituency(group)
        self.decisive()
        self.signatures()
        self.inputs(inputs, signed_by)
        self.fingerprint(signer_sha256)
        self.finish()

    def table(self, columns: list[Column], rows: list[list[str]], size: float = 8) -> None:
        """A header row, then the rows; the header again on each new page."""
        titles = [c.title for c in columns]
        self.need(7 * mm + row_height(columns, rows[0], size, 6 * mm) if rows else 7 * mm)
        draw_row(self.canvas, LEFT, self.y, columns, titles, 7 * mm, 7.5)
        self.y -= 7 * mm
        for cells in rows:
            height = row_height(columns, cells, size, 6 * mm)
            if self.need(height):
                draw_row(self.canvas, LEFT, self.y, columns, titles, 7 * mm, 7.5)
                self.y -= 7 * mm
            draw_row(self.canvas, LEFT, self.y, columns, cells, height, size)
            self.y -= height
        self.y -= 2 * mm

    def heading(self, inputs: Mapping) -> None:
        meeting, result = self.meeting, self.result
        side = 21 * mm  # the digests' QR code, top right, as on the grade sheet
        draw_qr(self.canvas, PAGE_W - MARGIN - side, self.y - side, side, _qr_text(inputs))
        title_width = WIDTH - 2 * (side + 4 * mm)
        self.y -= 6 * mm
        draw_text(self.canvas, CENTRE, self.y, f"{TITLE}（三评）", 16, "centre")
        self.y -= 7 * mm
        size = fit_size(meeting.title, 11.5, title_width)
        draw_text(self.canvas, CENTRE, self.y, meeting.title, size, "centre")
        self.y -= 6 * mm
        where = f"日期：{meeting.date}" + (f"　地点：{meeting.place}" if meeting.place else "")
        if meeting.organizer:
            where = f"填报单位：{meeting.organizer}　" + where
        draw_text(self.canvas, CENTRE, self.y, where, fit_size(where, 9.5, title_width), "centre")
        self.y -= 5 * mm
        self.width = title_width
        quorum = result["quorum"]
        seats, cast = int(quorum["seats"]), int(quorum["cast"])
        groups = "、".join(f"{g['name']}{g['seats']}/{g['cast']}" for g in self.group_rows)
        state = "达到" if quorum["met"] else "未达到"
        valid = (
            "本次测评有效。"
            if result["valid"]
            else "本次测评无效（未达到法定人数），结果仅供参考。"
        )
        self.text(
            f"应到 {seats} 人，实到 {cast} 人（评议同一述职人的选票最少时的张数）；"
            f"各组应到/实到：{groups}。到会率 {percent(cast, seats)}，"
            f"法定比例 {_share(quorum['required'])}，{state}法定人数。{valid}",
            9.5,
            2 * mm,
        )
        self.width = WIDTH

    def composite_rules(self) -> None:
        sources = "＋".join(f"{s['name']}×{_share(s['weight'])}" for s in self.info["sources"])
        grades, cutoffs = self.info["grades"], self.info["cutoffs"]
        cuts = "，".join(f"≥{c:g}为{g}" for g, c in zip(grades, cutoffs, strict=False))
        self.text(
            f"综合得分＝{sources}（各来源为百分制；某一来源缺失时去掉其权重，其余按比例折算）；"
            f"综合等次：{cuts}，其余为{grades[-1]}；差票超过规定比例、否决项过半数否定等"
            "直接定等的情形见“依据”栏。各组得分、群众测评的权重按述职人类别确定，见各组分表。",
            8.5,
            2 * mm,
        )

    def combined(self) -> None:
        sources = self.info["sources"]
        columns = [
            Column("序号", 8 * mm),
            Column("综合名次", 13 * mm),
            Column("姓名", 16 * mm),
            Column("单位", 32 * mm, "left"),
            Column("类别", 20 * mm),
            *(Column(f"{s['name']}（得分×权重）", 24 * mm) for s in sources),
            Column("综合得分", 14 * mm),
            Column("综合等次", 13 * mm),
        ]
        columns.append(Column("依据", WIDTH - sum(c.width for c in columns), "left"))
        rows = []
        for index, row in enumerate(self.rows, start=1):
            cells = [str(index), _or_dash(row.get("composite_rank")), row["name"]]
            cells += [row.get("org", ""), row.get("category", "")]
            for source in sources:
                score = row["sources"].get(source["id"])
                weight = row["weights"].get(source["id"])
                cells.append("缺失" if score is None else f"{_score(score)}×{_share(weight)}")
            cells += [_score(row["composite_score"]), row["composite_grade"] or "待定"]
            rows.append([*cells, reasons(row)])
        self.text("一、综合得分与综合等次（按综合名次）", 10.5, 1 * mm)
        self.table(columns, rows)

    def constituency(self, group: dict) -> None:
        """One voter group's part: per reporter the group's form, weight, counts and scores."""
        gid = group["id"]
        grades = list(self.result.get("grades") or self.meeting.rules.grades)
        forms = {f["id"]: f["name"] for f in self.info["forms"]}
        columns = [
            Column("序号", 8 * mm),
            Column("姓名", 16 * mm),
            Column("类别", 20 * mm),
            Column("测评表", 46 * mm, "left"),
            Column("权重", 13 * mm),
            Column(f"等次票数（{'/'.join(grades)}）", 30 * mm),
            Column("等次得分", 15 * mm),
            Column("逐项得分", 15 * mm),
            Column("该组得分", 15 * mm),
        ]
        columns.append(Column("说明", WIDTH - sum(c.width for c in columns), "left"))
        rows = []
        for index, row in enumerate(self.rows, start=1):
            part = row["by_group"][gid]
            counts = row.get("counts_by_group", {}).get(gid, {})
            graded = part["kind"] != "items"
            tally = "/".join(str(int(counts.get(g, 0))) for g in grades) if graded else "—"
            rows.append(
                [
                    str(index),
                    row["name"],
                    row.get("category", ""),
                    forms.get(part["form"], part["form"]),
                    _share(part["weight"]),
                    tally,
                    _score(part["grade_score"]),
                    _score(part["item_score"]),
                    _score(part["score"]),
                    part["why"],
                ]
            )
        seats, cast = int(group["seats"]), int(group["cast"])
        self.need(22 * mm)  # the title never ends a page alone
        self.text(
            f"{group['name']}：应到{seats}人，实到{cast}人，到会率{percent(cast, seats)}",
            10,
            1 * mm,
        )
        self.table(columns, rows)

    def decisive(self) -> None:
        """The 否决项: each group's positive share and the weighted negative share."""
        answered = {  # the groups that answer items on someone: the others have no share
            gid
            for row in self.rows
            for gid, part in row["by_group"].items()
            if "positive_shares" in part
        }
        groups = [g for g in self.group_rows if g["id"] in answered]
        columns = [
            Column("序号", 8 * mm),
            Column("姓名", 16 * mm),
            Column("否决项", 80 * mm, "left"),
        ]
        columns += [Column(f"{g['name']}肯定比例", 24 * mm) for g in groups]
        columns.append(Column("否定比例（各组加权）", 26 * mm))
        columns.append(Column("结论", WIDTH - sum(c.width for c in columns), "left"))
        rows = []
        for index, row in enumerate(self.rows, start=1):
            for item in row.get("items") or []:
                if not item.get("decisive"):
                    continue
                shares = [
                    (row["by_group"][g["id"]].get("positive_shares") or {}).get(item["id"])
                    for g in groups
                ]
                verdict = "未过半数"
                if item["negative_majority"]:
                    verdict = f"★过半数否定，定为{_decisive_grade(row, item['text'])}"
                cells = [str(index), row["name"], item["text"], *map(_share, shares)]
                rows.append([*cells, _share(item["negative_share"]), verdict])
        if not rows:
            return
        self.need(22 * mm)
        self.text("三、否决项（★为过半数否定、决定了综合等次的）", 10.5, 1 * mm)
        self.table(columns, rows)

    def inputs(self, inputs: Mapping, signed_by: str) -> None:
        self.y -= 2 * mm
        self.text(f"会议文件 SHA-256：{inputs['meeting_sha256']}", 8.5, 0.5 * mm)
        for name, digest in (inputs.get("items_sha256") or {}).items():
            self.text(f"测评题目 {name} SHA-256：{digest}", 8.5, 0.5 * mm)
        for key, label in FILE_NAMES.items():
            self.text(f"{label} SHA-256：{inputs.get(key) or NOT_GIVEN}", 8.5, 0.5 * mm)
        signer = f"（签名证书：{signed_by}）" if signed_by else ""
        self.text(
            f"本表为PDF数字签名文件{signer}。核验：pingyi verify 本表.pdf --ballots 选票文件.csv "
            "--meeting 会议文件.toml --experts 专家评分.csv --indicators 项目指标.csv。",
            8.5,
            0,
        )


def _decisive_grade(row: dict, text: str) -> str:
    """The grade a decisive item forced, from the appraisal's own step naming it."""
    steps = [s for s in row.get("item_steps") or [] if s.get("rule") == "decisive"]
    return next((str(s["grade"]) for s in steps if text in s["why"]), "—")


def _or_dash(value) -> str:
    return "—" if value is None or value == "" else str(value)

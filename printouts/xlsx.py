"""The results table for the upward report (上报), as an Excel workbook (openpyxl).

Sheet 测评结果: one row per reporter in speaking order with counts and shares per grade,
abstentions, spoiled marks, 差票% (headed by the meeting's own poor grade), score, base grade,
the grade of the vote (测评等次), rank and the reasons, and, when the rules ask for a 倒排, a
last column marking the reporters in it.
Sheet 分组票数: per group its seats (应到), ballots (实到), weight, ballots by phone (手机)
and on paper (纸质; both empty when the ballots do not say how they came) and spoiled as a
whole (废票), with a total; and per reporter and group the counts and the group's score.
Sheet 说明: the weights, points, cutoffs and rules, the rounding rule, what 有效票 means, the
same per-group split in words, and the digests of the inputs (as the tally sheet prints them).
Once the 党组 has fixed the 综合评价 (`evaluation`), sheet 综合评价: per reporter the 测评等次,
the other sources, the 综合评价等次, the reason where the two differ and the 综合评价意见; and
sheet 结果运用: the 约谈提醒、限期整改 list with its date, the 年度考核不得评定为优秀 list and the 倒排.

Numbers are numbers (counts as integers, shares in percent with one decimal, scores with two,
each rounded once from the exact value), every table has borders, and every sheet prints on
landscape A4, one page wide, with its header row repeated on each page.
`results_xlsx` returns the workbook's bytes; `cli` writes them.
"""

from __future__ import annotations

import io
from fractions import Fraction

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from meeting.evaluation import OPINION_PARTS
from printouts.evaluation_sheet import derived_outcomes, vote_grades
from tally.engine import round_half_up
from tally.model import Meeting
from tally.numbers import pct, short
from tally.report import bottom_line

MODE_LABEL = {"onsite": "现场述职", "written": "书面述职"}
THIN = Side(style="thin", color="000000")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD_FILL = PatternFill("solid", fgColor="E7E6E6")
COUNT, SHARE, SCORE = "0", "0.0", "0.00"


def _share(part: int, whole: int | None) -> float | None:
    return float(round_half_up(Fraction(100 * part, whole), 1)) if whole else None


def results_xlsx(
    result_json: dict,
    meeting: Meeting,
    digests: dict[str, str] | None = None,
    evaluation: dict | None = None,
) -> bytes:
    """The workbook (.xlsx) for the engine's result JSON; `digests` (meeting_sha256,
    ballots_sha256) go on the 说明 sheet when given; `evaluation`, the fixed 综合评价
    (`MeetingRecord.evaluation`), adds the sheets 综合评价 and 结果运用."""
    workbook = Workbook()
    sheet = workbook.active
    if not isinstance(sheet, Worksheet):  # a new Workbook's one sheet is a worksheet
        raise TypeError(f"openpyxl gave {type(sheet).__name__} as the first sheet")
    sheet.title = "测评结果"
    grades = list(result_json.get("grades") or meeting.rules.grades)
    poor_grade = result_json.get("poor_grade") or grades[-1]  # absent from older results
    bottom = _bottom_configured(meeting)
    in_bottom = set(result_json.get("bottom") or [])
    title_rows(sheet, f"{meeting.title} 测评结果", result_json, meeting)
    header = (
        ["序号", "姓名", "单位", "述职方式"]
        + [f"{g}（票）" for g in grades]
        + [f"{g}（%）" for g in grades]
        + ["弃权", "废票", f"{poor_grade}票%", "得分", "基础等次", "测评等次", "名次", "评定依据"]
        + (["倒排"] if bottom else [])
    )
    sheet.append(header)
    formats = (
        [COUNT, None, None, None]
        + [COUNT] * len(grades)
        + [SHARE] * len(grades)
        + [COUNT, COUNT, SHARE, SCORE, None, None, COUNT, None]
        + ([None] if bottom else [])
    )
    for index, row in enumerate(result_json["reporters"], start=1):
        counts = [int(row["counts"].get(g, 0)) for g in grades]
        votes = sum(counts)
        # poor_share_of is missing from results saved before it existed: the meeting's basis
        by_cast = meeting.rules.poor_share_basis == "cast"
        poor_of = row.get("poor_share_of") or (int(row["cast"]) if by_cast else votes)
        poor = None if row["poor_share"] is None else _share(counts[-1], poor_of)
        sheet.append(
            [
                index,
                row["name"],
                row.get("org", ""),
                MODE_LABEL.get(row.get("mode", ""), row.get("mode", "")),
            ]
            + counts
            + [_share(c, votes) for c in counts]
            + [
                row["abstain"],
                row["invalid"],
                poor,
                row["score"],
                row["base_grade"],
                row["final_grade"],
                row.get("rank"),
                "；".join(step["why"] for step in row.get("steps", [])),
            ]
            + (["倒排" if row["id"] in in_bottom else None] if bottom else [])
        )
    bordered_table(sheet, 4, formats)
    widths = [6, 10, 22, 10] + [8] * (2 * len(grades)) + [6, 6, 8, 8, 9, 9, 6, 60]
    reasons = len(widths)
    widths += [6] if bottom else []
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    for cells in sheet.iter_rows(min_row=5, min_col=reasons, max_col=reasons):
        cells[0].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "C5"
    landscape_page(sheet, "4:4")
    _groups_sheet(workbook.create_sheet("分组票数"), result_json, meeting, grades)
    _notes_sheet(workbook.create_sheet("说明"), result_json, meeting, digests)
    evaluation_sheets(workbook, result_json, meeting, evaluation)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def title_rows(sheet: Worksheet, text: str, result: dict, meeting: Meeting) -> None:
    """Rows 1–3 of a results sheet: the title, the meeting's date, place and turnout, a blank
    row (the grade table's and the 三评 table's alike)."""
    quorum = result["quorum"]
    sheet.append([text])
    sheet.append(
        [
            "日期",
            meeting.date,
            "地点",
            meeting.place,
            "应到",
            int(quorum["seats"]),
            "实到",
            int(quorum["cast"]),
            "测评有效" if result["valid"] else "测评无效",
        ]
    )
    sheet.append([])
    sheet["A1"].font = Font(bold=True, size=14)


def _bottom_configured(meeting: Meeting) -> bool:
    return meeting.rules.bottom_count is not None or meeting.rules.bottom_share is not None


def bordered_table(
    sheet: Worksheet, header_row: int, formats: list[str | None], last: int = 0
) -> None:
    """Borders on a table from header_row down (to `last`, or the sheet's end), a bold grey
    header and the number formats per column."""
    end = last or sheet.max_row
    for row in sheet.iter_rows(min_row=header_row, max_row=end, max_col=len(formats)):
        for cell, number_format in zip(row, formats, strict=True):
            cell.border = BOX
            if cell.row == header_row:
                cell.font = Font(bold=True)
                cell.fill = HEAD_FILL
                cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            elif number_format is not None:
                cell.number_format = number_format


def landscape_page(sheet: Worksheet, title_rows: str | None) -> None:
    """Landscape A4, one page wide, the header rows repeated on every printed page."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_options.horizontalCentered = True
    if title_rows:
        sheet.print_title_rows = title_rows


def _groups_sheet(sheet: Worksheet, result_json: dict, meeting: Meeting, grades: list[str]) -> None:
    groups = result_json.get("groups") or [
        {"id": g.id, "name": g.name, "seats": g.seats, "cast": None} for g in meeting.groups
    ]
    weights = {g.id: float(g.weight) for g in meeting.groups}
    ways = ("phone", "paper", "spoiled")
    sheet.append(["组别", "应到", "实到", "权重", "手机", "纸质", "废票"])
    for group in groups:
        sheet.append(
            [group["name"], group["seats"], group["cast"], weights.get(group["id"])]
            + [group.get(key) for key in ways]
        )
    if meeting.supervision_group is not None:  # 分管: a share of the weights, no ballots
        sheet.append(
            [meeting.supervision_group.name, None, None, float(meeting.supervision_group.weight)]
        )
    if len(groups) > 1:
        seats, cast = (_sum(groups, key) for key in ("seats", "cast"))
        sheet.append(["合计", seats, cast, 1, *(_sum(groups, key) for key in ways)])
    formats = [None, COUNT, COUNT, "0.####", COUNT, COUNT, COUNT]
    bordered_table(sheet, 1, formats, last=sheet.max_row)
    sheet.append([])
    start = sheet.max_row + 1
    sheet.append(["姓名", "组别", *grades, "有效票", "组得分"])
    supervision = meeting.supervision_group
    for row in result_json["reporters"]:
        counted = row.get("counts_by_group", {})
        lines = [(group["id"], group["name"]) for group in groups]
        if supervision is not None and supervision.id in counted:  # 分管: a row of its own
            lines.append((supervision.id, f"{supervision.name}（权重{short(supervision.weight)}）"))
        for gid, label in lines:
            counts = counted.get(gid, {})
            values = [int(counts.get(g, 0)) for g in grades]
            score = (row.get("score_by_group") or {}).get(gid)
            sheet.append([row["name"], label, *values, sum(values), score])
    bordered_table(sheet, start, [None, None, *[COUNT] * (len(grades) + 1), SCORE])
    sheet.column_dimensions["A"].width = 12
    sheet.column_dimensions["B"].width = 14
    landscape_page(sheet, f"{start}:{start}")


def _sum(groups: list[dict], key: str) -> int | None:
    """A per-group count over all groups; None when a group's is not known."""
    values = [group.get(key) for group in groups]
    return sum(int(v) for v in values if v is not None) if None not in values else None


def _split(group: dict) -> str:
    """A group's ballots in words: 应到, 实到, by phone and on paper, spoiled as a whole."""
    text = f"应到{group['seats']}，实到{group['cast']}"
    if group.get("phone") is not None and group.get("paper") is not None:
        text += f"（手机{group['phone']}，纸质{group['paper']}）"
    elif "phone" in group:
        text += "（选票文件未区分手机与纸质）"
    if group.get("spoiled") is not None:
        text += f"，整张作废{group['spoiled']}"
    return text


def _notes_sheet(
    sheet: Worksheet, result_json: dict, meeting: Meeting, digests: dict[str, str] | None
) -> None:
    """The rules the result was tallied under, in words, and the inputs' digests."""
    rules = meeting.rules
    sheet.append(["项目", "内容"])
    lines: list[tuple[str, object]] = [
        ("会议", meeting.title),
        ("日期", meeting.date),
        ("地点", meeting.place),
        ("填报单位", meeting.organizer),
    ]
    lines += [(f"等次分值：{g}", float(p)) for g, p in zip(rules.grades, rules.points, strict=True)]
    lines += [(f"分组权重：{g.name}", float(g.weight)) for g in meeting.groups]
    if rules.base == "score":
        for grade, cutoff in zip(rules.grades, rules.score_cutoffs, strict=False):
            lines.append((f"等次线：{grade}", f"得分≥{short(cutoff)}"))
    else:
        lines.append(
            ("基础等次", f"从{rules.grades[0]}起累计比例首次达到{pct(rules.share_threshold)}的等次")
        )
    basis = "有效票" if rules.poor_share_basis == "valid" else "投票总数（含弃权、废票）"
    poor = rules.poor_grade
    lines += [
        ("得分", "各组组得分按权重加权；组得分＝Σ（分值×该组票数）÷该组有效票"),
        (f"{poor}票规则", f"{poor}票超过{basis}的{pct(rules.poor_share_limit)}定为{poor}"),
        ("标记", "、".join(rules.override_flags) + f" → {rules.poor_grade}"),
        ("名额控制", "；".join(f"{g}不超过{pct(s)}" for g, s in rules.quota) or "无"),
        ("法定比例", pct(rules.quorum)),
        (
            "名次",
            f"先按测评等次，同一等次按得分，得分相同按{rules.grades[0]}票加权比例，"
            f"再按{poor}票数（少者在前）",
        ),
        ("有效票", "某一述职人名下评了等次的票，弃权、废票不计"),
        ("舍入", "每个数由精确值四舍五入一次：百分比一位小数，得分两位小数；判定用精确值"),
        ("测评有效性", "有效" if result_json["valid"] else "无效（未达法定人数）"),
    ]
    lines += [
        (f"选票：{group['name']}", _split(group))
        for group in result_json.get("groups") or []
        if group.get("cast") is not None
    ]
    if _bottom_configured(meeting):
        share = "" if rules.bottom_share is None else pct(rules.bottom_share)
        if result_json.get("bottom"):
            text = bottom_line(result_json, share).removeprefix("倒排")
        else:
            text = "无（没有述职人有名次）"
        lines.append(("倒排", text))
    if digests:
        lines += [
            ("会议文件 SHA-256", digests.get("meeting_sha256", "")),
            ("选票文件 SHA-256", digests.get("ballots_sha256", "")),
        ]
    for label, value in lines:
        sheet.append([label, value])
    bordered_table(sheet, 1, [None, None])
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 80
    landscape_page(sheet, "1:1")


def evaluation_sheets(
    workbook: Workbook, result_json: dict, meeting: Meeting, evaluation: dict | None
) -> None:
    """The sheets 综合评价 and 结果运用, once the 党组 has fixed the 综合评价 (for a 三评
    meeting too: `result_json` is then the composite, whose grade is its 测评等次)."""
    if evaluation and evaluation.get("fixed"):
        _evaluation_sheet(workbook.create_sheet("综合评价"), result_json, meeting, evaluation)
        _outcomes_sheet(workbook.create_sheet("结果运用"), result_json, meeting, evaluation)


def _evaluation_sheet(
    sheet: Worksheet, result_json: dict, meeting: Meeting, evaluation: dict
) -> None:
    """Per reporter: the vote's grade beside the 党组's, and why they differ."""
    entries = evaluation.get("entries") or {}
    used = {name for entry in entries.values() for name in (entry.get("sources") or {})}
    sources = [s for s in meeting.evaluation_sources if s in used]
    sources += sorted(used - set(sources))
    votes = vote_grades(result_json)  # the 测评等次: in a 三评 meeting the composite's
    scores = {  # 三评: the 综合得分 that grade was given on, shown beside it
        r["id"]: r["composite_score"] for r in result_json["reporters"] if "composite_score" in r
    }
    scored = ["综合得分"] if scores else []
    fixed = evaluation["fixed"]
    sheet.append([f"{meeting.title} 综合评价"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(["会议日期", meeting.date, "党组研究日期", fixed.get("studied_on", "")])
    sheet.append([])
    sheet.append(
        ["序号", "姓名", "单位", "测评等次", *scored, *sources, "综合评价等次", "理由"]
        + list(OPINION_PARTS)
    )
    for index, reporter in enumerate(meeting.reporters, start=1):
        entry = entries.get(reporter.id) or {}
        noted, opinion = entry.get("sources") or {}, entry.get("opinion") or {}
        measured = (votes[reporter.id] or "待定") if reporter.id in votes else ""
        score = [scores.get(reporter.id)] if scores else []
        sheet.append(
            [index, reporter.name, reporter.org, measured, *score]
            + [noted.get(name, "") for name in sources]
            + [entry.get("grade", ""), entry.get("reason", "")]
            + [opinion.get(part, "") for part in OPINION_PARTS]
        )
    formats: list[str | None] = [COUNT, None, None, None] + [SCORE] * len(scored)
    bordered_table(sheet, 4, formats + [None] * (len(sheet[4]) - len(formats)))
    widths = [6, 10, 22, 10] + [10] * len(scored) + [12] * len(sources) + [12, 30]
    widths += [50] * len(OPINION_PARTS)
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    for cells in sheet.iter_rows(min_row=5, min_col=5 + len(scored)):
        for cell in cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "C5"
    landscape_page(sheet, "4:4")


def _outcomes_sheet(
    sheet: Worksheet, result_json: dict, meeting: Meeting, evaluation: dict
) -> None:
    """结果运用: who is to be talked to and rectify by when, who may not be rated 优秀, and
    the 倒排 when the rules ask for one; 无 where a list is empty."""
    outcomes = derived_outcomes(list((evaluation.get("entries") or {}).values()), meeting)
    names = {r.id: (r.name, r.org) for r in meeting.reporters}
    rectify_by = evaluation["fixed"].get("rectify_by") or None
    ranks = {r["id"]: r.get("rank") for r in result_json["reporters"]}
    lists = [
        ("约谈提醒、限期整改", outcomes["interview"], rectify_by),
        ("年度考核不得评定为优秀", outcomes["not_excellent"], None),
    ]
    if _bottom_configured(meeting):
        lists.append(("倒排", list(result_json.get("bottom") or []), None))
    sheet.append(["结果运用", "姓名", "单位", "限期整改日期"])
    for label, ids, date in lists:
        for rid in ids:
            rank = f"（第{ranks.get(rid)}名）" if label == "倒排" else ""
            sheet.append([label + rank, *names[rid], date])
        if not ids:
            sheet.append([label, "无", None, None])
    bordered_table(sheet, 1, [None, None, None, None])
    for column, width in zip("ABCD", (24, 12, 24, 14), strict=True):
        sheet.column_dimensions[column].width = width
    landscape_page(sheet, "1:1")

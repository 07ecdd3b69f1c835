"""The results table (测评结果表) of a 三评 meeting (forms and a composite), as an Excel workbook.

Made from `tally.appraisal.appraise`'s JSON only, like the signed 三评 sheet, so that the two
say the same figures. The grade-only table (`printouts.xlsx`) would show the grade part
alone, which is not the result of such a meeting; this one shows the composite.

Sheet 综合结果: per reporter in speaking order the 类别, each source's score and the weight it
was given (renormalised when a source is missing), the 综合得分, the 测评等次 (the composite's
grade: the 综合评价等次 is the organisers' later decision, never this), the 排名 and the reason
that decided the grade.
Sheet 分组结果: per reporter, each constituency (voter group) side by side: its form, grade
score, item score, the group's score and its weight; then the 群众测评 they make up.
Sheet 逐项: per reporter and item, each group's positive share and the combined one, whether
the item is a 否决项 and whether its negative majority decided the grade.
Sheet 说明: the rules, the composite's weights and cutoffs, the experts' trimming, the
indicators' rules, the groups' forms and weights by category, and the inputs' SHA-256.

The look is `printouts.xlsx`'s (borders, a grey header, landscape A4 one page wide, header
rows repeated, numbers as numbers); shares and weights are stored as the JSON's fractions
(0.4) and shown as percentages, so that a cell equals the result it was made from.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from printouts.appraisal_sheet import FILE_NAMES, NOT_GIVEN
from printouts.xlsx import (
    COUNT,
    MODE_LABEL,
    SCORE,
    bordered_table,
    evaluation_sheets,
    landscape_page,
    title_rows,
)
from tally.experts import ExpertPanel
from tally.indicators import RULE_NAMES, Indicator
from tally.model import Meeting
from tally.numbers import pct, short

PERCENT = "0.00%"  # weights and shares: the fraction is stored, the percentage shown
GROUP_COLUMNS = ("测评表", "等次得分", "逐项得分", "该组得分", "权重")
MISSING = "缺失"


def appraisal_xlsx(
    result: dict, meeting: Meeting, inputs: Mapping | None = None, evaluation: dict | None = None
) -> bytes:
    """The workbook (.xlsx) of `appraise()`'s JSON for a 三评 meeting; `inputs`: the digests
    of the files it was tallied from (`appraisal_sheet.appraisal_inputs`), for 说明;
    `evaluation`, the fixed 综合评价, adds the sheets 综合评价 and 结果运用 as for a grade."""
    workbook = Workbook()
    sheet = workbook.active
    if not isinstance(sheet, Worksheet):  # a new Workbook's one sheet is a worksheet
        raise TypeError(f"openpyxl gave {type(sheet).__name__} as the first sheet")
    sheet.title = "综合结果"
    _combined_sheet(sheet, result, meeting)
    _groups_sheet(workbook.create_sheet("分组结果"), result)
    _items_sheet(workbook.create_sheet("逐项"), result)
    _notes_sheet(workbook.create_sheet("说明"), result, meeting, inputs or {})
    evaluation_sheets(workbook, result, meeting, evaluation)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _widths(sheet: Worksheet, widths: list[float]) -> None:
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width


def _combined_sheet(sheet: Worksheet, result: dict, meeting: Meeting) -> None:
    sources = result["appraisal"]["sources"]
    title_rows(sheet, f"{meeting.title} 测评结果（三评）", result, meeting)
    header = ["序号", "姓名", "单位", "述职方式", "类别"]
    for source in sources:
        header += [f"{source['name']}得分", f"{source['name']}权重"]
    header += ["综合得分", "测评等次", "排名", "评定依据"]
    sheet.append(header)
    for index, row in enumerate(result["reporters"], start=1):
        cells: list[object] = [
            index,
            row["name"],
            row.get("org", ""),
            MODE_LABEL.get(row.get("mode", ""), row.get("mode", "")),
            row.get("category", ""),
        ]
        for source in sources:
            score = row["sources"].get(source["id"])
            # A missing source has no weight: its weight went to the others (renormalised).
            cells += [MISSING if score is None else score, row["weights"].get(source["id"])]
        cells += [
            row["composite_score"],
            row["composite_grade"] or "待定",
            row.get("composite_rank"),
            row.get("composite_decided_by", ""),
        ]
        sheet.append(cells)
    formats = [COUNT, None, None, None, None, *[SCORE, PERCENT] * len(sources)]
    formats += [SCORE, None, COUNT, None]
    bordered_table(sheet, 4, formats)
    _widths(sheet, [6, 10, 22, 10, 14, *[10, 8] * len(sources), 10, 9, 6, 60])
    for reasons in sheet.iter_rows(min_row=5, min_col=len(formats), max_col=len(formats)):
        reasons[0].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "C5"
    landscape_page(sheet, "4:4")


def _groups_sheet(sheet: Worksheet, result: dict) -> None:
    """Two header rows: each group's name over its columns, then the columns themselves."""
    groups = result.get("groups") or []
    forms = {f["id"]: f["name"] for f in result["appraisal"]["forms"]}
    first: list[str | None] = ["序号", "姓名", "类别"]
    second = list(first)
    for group in groups:
        first += [f"{group['name']}（应到{group['seats']}，实到{group['cast']}）"]
        first += [None] * (len(GROUP_COLUMNS) - 1)
        second += list(GROUP_COLUMNS)
    first.append("群众测评得分")
    second.append("群众测评得分")
    sheet.append(first)
    sheet.append(second)
    for index, row in enumerate(result["reporters"], start=1):
        cells: list[object] = [index, row["name"], row.get("category", "")]
        for group in groups:
            part = row["by_group"][group["id"]]
            form = forms.get(part["form"], part["form"])
            cells += [form, part["grade_score"], part["item_score"], part["score"], part["weight"]]
        cells.append(row.get("vote_score"))
        sheet.append(cells)
    group_formats = [None, SCORE, SCORE, SCORE, PERCENT] * len(groups)
    formats = [COUNT, None, None, *group_formats, SCORE]
    bordered_table(sheet, 1, formats, last=1)  # the group names: a header row too
    bordered_table(sheet, 2, formats)
    span = len(GROUP_COLUMNS)
    for at in range(len(groups)):
        start = 4 + at * span
        sheet.merge_cells(start_row=1, start_column=start, end_row=1, end_column=start + span - 1)
    for column in (1, 2, 3, len(formats)):  # the columns without a group: one tall cell
        sheet.merge_cells(start_row=1, start_column=column, end_row=2, end_column=column)
    _widths(sheet, [6, 10, 14, *[22, 9, 9, 9, 8] * len(groups), 12])
    sheet.freeze_panes = "D3"
    landscape_page(sheet, "1:2")


def _items_sheet(sheet: Worksheet, result: dict) -> None:
    """One row per reporter and item; a group that answers no items on the reporter (or on
    anyone) has no share."""
    rows = [r for r in result["reporters"] if r.get("items")]
    answering = {
        gid for r in rows for gid, part in r["by_group"].items() if "positive_shares" in part
    }
    groups = [g for g in result.get("groups") or [] if g["id"] in answering]
    header = ["姓名", "类别", "编号", "测评项目", "否决项"]
    header += [f"{g['name']}肯定比例" for g in groups]
    header += ["肯定比例（各组加权）", "否定比例（各组加权）", "项目得分", "结论"]
    sheet.append(header)
    for row in rows:
        for item in row["items"]:
            shares = [
                (row["by_group"][g["id"]].get("positive_shares") or {}).get(item["id"])
                for g in groups
            ]
            verdict = ""
            if item["decisive"]:
                verdict = "过半数否定，决定测评等次" if item["negative_majority"] else "未过半数"
            sheet.append(
                [
                    row["name"],
                    row.get("category", ""),
                    item["id"],
                    item["text"],
                    "是" if item["decisive"] else "",
                    *shares,
                    item["positive_share"],
                    item["negative_share"],
                    item["score"],
                    verdict,
                ]
            )
    formats = [None] * 5 + [PERCENT] * (len(groups) + 2) + [SCORE, None]
    bordered_table(sheet, 1, formats)
    _widths(sheet, [10, 14, 6, 50, 7, *[12] * (len(groups) + 2), 9, 26])
    for cells in sheet.iter_rows(min_row=2, min_col=4, max_col=4):
        cells[0].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "C2"
    landscape_page(sheet, "1:1")


def _notes_sheet(sheet: Worksheet, result: dict, meeting: Meeting, inputs: Mapping) -> None:
    """The rules the result was reached under, in words, and the inputs' digests."""
    config, rules, info = meeting.appraisal, meeting.rules, result["appraisal"]
    lines: list[tuple[str, object]] = [
        ("会议", meeting.title),
        ("日期", meeting.date),
        ("地点", meeting.place),
        ("填报单位", meeting.organizer),
        ("测评有效性", "有效" if result["valid"] else "无效（未达法定人数）"),
        ("法定比例", pct(rules.quorum)),
    ]
    lines += [(f"等次分值：{g}", float(p)) for g, p in zip(rules.grades, rules.points, strict=True)]
    lines += [(f"综合得分权重：{s['name']}", s["weight"]) for s in info["sources"]]
    lines.append(
        ("综合得分", "各来源为百分制，按权重加权；某一来源缺失时去掉其权重，其余按比例折算")
    )
    grades, cutoffs = info["grades"], info["cutoffs"]
    lines += [
        (f"测评等次线：{g}", f"综合得分≥{c:g}") for g, c in zip(grades, cutoffs, strict=False)
    ]
    lines.append((f"测评等次线：{grades[-1]}", "其余"))
    lines.append(
        (
            "直接定等",
            f"等次测评中{rules.poor_grade}票超过{pct(rules.poor_share_limit)}、"
            f"{'、'.join(rules.override_flags)}，或否决项过半数否定：按该规则定等，见“评定依据”",
        )
    )
    lines += _forms_and_weights(meeting)
    if "experts" in {s["id"] for s in info["sources"]}:
        panel = config.experts or ExpertPanel()  # [experts] left out: the defaults
        lines.append(
            (
                "专家点评",
                f"满分{short(panel.max_score)}，折合百分制；专家{panel.trim_from}人及以上时"
                "去掉一个最高分和一个最低分，其余取平均（不足时不去分）",
            )
        )
    for indicator in config.indicators:
        lines.append((f"项目指标：{indicator.name}", _indicator_rule(indicator)))
    lines += [
        ("群众测评", "各组得分按述职人类别的分组权重加权；无有效票或作答的组，权重在其余组间折算"),
        ("组得分", "等次得分（得分÷最高分值×100）与逐项得分按测评表所定比例合计"),
        ("舍入", "每个数由精确值四舍五入一次：得分两位小数，比例与权重四位小数；判定用精确值"),
        ("测评等次", "本表为会议测评结果，非综合评价等次（综合评价由党组研究确定）"),
        ("会议文件 SHA-256", inputs.get("meeting_sha256", "")),
    ]
    lines += [
        (f"测评题目 {name} SHA-256", digest)
        for name, digest in (inputs.get("items_sha256") or {}).items()
    ]
    lines += [
        (f"{label} SHA-256", inputs.get(key) or NOT_GIVEN) for key, label in FILE_NAMES.items()
    ]
    sheet.append(["项目", "内容"])
    for label, value in lines:
        sheet.append([label, value])
    bordered_table(sheet, 1, [None, None])
    for cells in sheet.iter_rows(min_row=2, min_col=2, max_col=2):
        if isinstance(cells[0].value, float) and cells[0].row > 1:
            label = str(sheet.cell(cells[0].row, 1).value)
            cells[0].number_format = PERCENT if "权重" in label else "0.##"
        cells[0].alignment = Alignment(wrap_text=True, horizontal="left", vertical="top")
    sheet.column_dimensions["A"].width = 30
    sheet.column_dimensions["B"].width = 80
    landscape_page(sheet, "1:1")


def _forms_and_weights(meeting: Meeting) -> list[tuple[str, object]]:
    """Per group and reporter category: the form filled in and the group's weight."""
    config = meeting.appraisal
    first_of: dict[str, str] = {}  # category -> a reporter of it: the lookups take reporters
    for reporter in meeting.reporters:
        first_of.setdefault(config.category_of(reporter.id), reporter.id)
    lines: list[tuple[str, object]] = []
    for group in meeting.groups:
        for category, rid in first_of.items():
            where = f"{group.name}（{category or '未分类'}）"
            form = config.form_for(rid, group.id)
            text = form.name
            if form.kind == "both":
                text += f"（等次{pct(form.grade_weight)}＋逐项{pct(form.items_weight)}）"
            lines.append((f"测评表：{where}", text))
            lines.append((f"分组权重：{where}", float(config.weight_for(rid, group))))
    return lines


def _indicator_rule(indicator: Indicator) -> str:
    unit = indicator.unit
    rule = RULE_NAMES.get(indicator.rule, indicator.rule)
    better = "越低越好" if indicator.lower_is_better else "越高越好"
    if indicator.rule == "thresholds":
        sign = "≤" if indicator.lower_is_better else "≥"
        steps = "，".join(f"{sign}{short(v)}{unit}得{short(s)}分" for v, s in indicator.thresholds)
        text = f"{rule}：{steps}，其余得{short(indicator.below)}分"
    else:
        target = "" if indicator.target is None else f"，目标{short(indicator.target)}{unit}"
        text = f"{rule}{target}（{better}）"
    return f"{text}；指标权重{short(indicator.weight)}"

"""The plain-text table `pingyi tally` prints, from the JSON form of a tally result.

It works on the JSON (not the dataclasses) so that a result saved by the live server can be
printed the same way. Chinese characters take two terminal columns, so widths are counted
with East-Asian width, not len().
"""

from __future__ import annotations

import unicodedata
from fractions import Fraction

from tally.engine import round_half_up
from tally.numbers import decimal

MODES = {"onsite": "现场", "written": "书面"}


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def pad(text: str, size: int, right: bool = False) -> str:
    fill = " " * (size - width(text))
    return fill + text if right else text + fill


def format_table(result_json: dict) -> str:
    grades = result_json["grades"]
    poor = result_json.get("poor_grade") or grades[-1]  # absent from results saved before it
    head = [
        "名次",
        "述职人",
        "方式",
        *grades,
        "弃权",
        "废票",
        f"{poor}票%",
        "得分",
        "基础",
        "测评等次",
        "依据",
    ]
    numeric = set(range(3, 3 + len(grades) + 4)) | {0}
    rows = []
    for r in result_json["reporters"]:
        rows.append(
            [
                "" if r["rank"] is None else str(r["rank"]),
                r["name"],
                MODES.get(r["mode"], r["mode"]),
                *(str(r["counts"][g]) for g in grades),
                str(r["abstain"]),
                str(r["invalid"]),
                _poor_percent(r, poor),
                "" if r["score"] is None else f"{r['score']:.2f}",
                r["base_grade"] or "",
                r["final_grade"] or "待定",
                r["decided_by"],
            ]
        )
    sizes = [max(width(row[i]) for row in [head, *rows]) for i in range(len(head))]
    last = len(head) - 1  # the reason column is left ragged, no trailing spaces

    def line(cells: list[str]) -> str:
        out = [
            cell if i == last else pad(cell, sizes[i], right=i in numeric)
            for i, cell in enumerate(cells)
        ]
        return "  ".join(out).rstrip()

    q = result_json["quorum"]
    verdict = "有效" if result_json["valid"] else "测评无效（未达法定人数）"
    lines = [
        f"应到{q['seats']}  实到{q['cast']}  要求{q['required'] * 100:g}%  →  {verdict}",
        "  ".join(f"{g['name']} {g['cast']}/{g['seats']}" for g in result_json["groups"]),
        "",
        line(head),
        line(["-" * size for size in sizes[:last]] + ["-" * width(head[last])]),
        *(line(row) for row in rows),
    ]
    for quota in result_json["quota"]:
        names = _names(result_json, quota["holders"])
        lines.append(
            f"比例限制：{quota['grade']}最多{quota['limit']}人，现为{len(quota['holders'])}人（{names}）"
        )
    for item in result_json["undecided"]:
        grade = item["grade"] or "无"
        lines.append(f"待定（{grade}）：{_names(result_json, item['reporters'])}——{item['why']}")
    if result_json.get("bottom"):
        lines.append(bottom_line(result_json))
    return "\n".join(lines) + "\n"


def bottom_line(result_json: dict, share: str = "") -> str:
    """倒排：the bottom reporters, worst first, each with their rank. `share` is the rule as
    written ("10%"), when it was a share. A rank tied across the cut is listed whole, and the
    line says so."""
    by_id = {r["id"]: r for r in result_json["reporters"]}
    rows = [by_id[rid] for rid in result_json["bottom"]]
    size = result_json.get("bottom_size") or len(rows)
    head = f"后{share}，即{size}名" if share else f"后{size}名"
    if len(rows) > size:
        head += f"；第{rows[-1]['rank']}名并列，均列入，共{len(rows)}人"
    names = "、".join(f"{r['name']}（第{r['rank']}名）" for r in rows)
    return f"倒排（{head}）：{names}"


def _poor_percent(reporter: dict, poor: str) -> str:
    """差票% rounded once from the exact count (the same number the tally sheet prints)."""
    of = reporter.get("poor_share_of")
    if of:
        return decimal(round_half_up(Fraction(100 * reporter["counts"][poor], of), 1), 1)
    share = reporter["poor_share"]  # a result saved before poor_share_of existed
    return "" if share is None else f"{share * 100:.1f}"


def _names(result_json: dict, ids: list[str]) -> str:
    by_id = {r["id"]: r["name"] for r in result_json["reporters"]}
    return "、".join(by_id.get(rid, rid) for rid in ids)

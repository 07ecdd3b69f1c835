"""`pingyi verify` of a 三评 测评结果汇总表 (`appraisal_sheet`): is this signed sheet what
these files give?

The checks, each reported in plain Chinese:

1. 数字签名: as the grade sheet's (`verify._check_signature`).
2. 会议文件 and 测评题目: the SHA-256 of the meeting file and of each item list it names
   (read beside it) against the sheet's.
3. 选票文件, 专家评分文件, 项目指标文件: the SHA-256 of each against the sheet's; an experts or
   indicators file the sheet was printed with but not given here (or the other way round) is
   named as missing (or extra).
4. 重新计算: `appraise()` run afresh on the files against the attached result, field by
   field (`sheet_record.differences`, with the appraisal's fields named in Chinese).
5. 印刷内容: the printed text against the sheet rendered afresh from the recount
   (`verify._words`, `verify._page_differences`).
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable

from cryptography import x509
from pyhanko.pdf_utils.reader import PdfFileReader

from printouts.appraisal_sheet import (
    ATTACHMENT,
    FILE_NAMES,
    appraisal_record,
    appraise_files,
    render_appraisal,
)
from printouts.inputs import decode, sha256
from printouts.sheet_record import differences, read_attached
from printouts.signing import fingerprint, signer_name
from printouts.verify import (
    Verdict,
    _check_digest,
    _page_differences,
    _words,
    signed_record,
    trust,
)
from tally.errors import InputError
from tally.meeting_file import parse_meeting_text
from tally.model import Meeting

ReadItems = Callable[[str], bytes]  # an item list's name, as the meeting file writes it → bytes


class AppraisalVerdict(Verdict):
    PASSED = "结论：全部一致，三评汇总表与会议文件、选票、专家评分和项目指标文件相符。"
    FAILED = "结论：不一致（{failed}项未通过），三评汇总表不能作为这些文件的计算结果。"


def is_appraisal_sheet(pdf: bytes) -> bool:
    """Whether the PDF carries a `pingyi-appraisal.json`."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        return read_attached(reader, ATTACHMENT) is not None
    except Exception:  # a damaged PDF: the grade sheet's path reports it
        return False


def verify_appraisal(
    pdf: bytes,
    ballots: bytes,
    meeting: bytes,
    cert_pem: bytes | None = None,
    *,
    experts: bytes | None = None,
    indicators: bytes | None = None,
    read_items: ReadItems | None = None,
    ca_pem: bytes | None = None,
    pdf_name: str = "appraisal.pdf",
    ballots_name: str = "ballots.csv",
    meeting_name: str = "meeting.toml",
    experts_name: str = "专家评分.csv",
    indicators_name: str = "项目指标.csv",
    cert_name: str = "--cert",
    ca_name: str = "--ca",
) -> Verdict:
    """Checks the signed sheet against the files' bytes; `read_items` reads the item lists
    the meeting file names (beside it). cert_pem and ca_pem as in `verify.verify`."""
    pins, roots = trust(cert_pem, ca_pem, cert_name, ca_name)
    verdict = AppraisalVerdict()
    opened = signed_record(verdict, pdf, ATTACHMENT, pins, roots, pdf_name, "三评汇总表")
    if opened is None:
        return verdict
    record, signer = opened
    inputs = record.get("inputs") if isinstance(record.get("inputs"), dict) else {}
    assert isinstance(inputs, dict)
    _check_digest(verdict, "会议文件", meeting_name, meeting, inputs.get("meeting_sha256"))
    lists: dict[str, bytes] = {}
    try:
        parsed = _parse_meeting(meeting, meeting_name, read_items, lists)
    except InputError as error:
        verdict.add("重新计算", False, f"无法读取会议文件或它列出的测评题目：{error}")
        return verdict
    _check_item_lists(verdict, lists, inputs.get("items_sha256"))
    _check_digest(verdict, "选票文件", ballots_name, ballots, inputs.get("ballots_sha256"))
    given = {
        "experts_sha256": (experts, experts_name),
        "indicators_sha256": (indicators, indicators_name),
    }
    for key, (data, name) in given.items():
        _check_optional(verdict, FILE_NAMES[key], name, data, inputs.get(key))
    try:
        names = (ballots_name, experts_name, indicators_name)
        result = appraise_files(parsed, ballots, experts, indicators, names)
    except InputError as error:
        verdict.add("重新计算", False, f"无法用这些文件重新计算：{error}")
        return verdict
    signer_sha256 = fingerprint(signer) if signer is not None else ""
    _check_result(verdict, record, result, inputs, signer_sha256)
    _check_page(verdict, pdf, parsed, result, inputs, signer)
    return verdict


def _parse_meeting(
    data: bytes, name: str, read_items: ReadItems | None, lists: dict[str, bytes]
) -> Meeting:
    """The meeting file; each item list it reads is kept in `lists` for its digest."""

    def items(path: str) -> str:
        if read_items is None:
            raise InputError(name, f"会议文件列出了测评题目“{path}”，但无法读取它")
        lists[path] = read_items(path)
        return decode(lists[path], path)

    text = decode(data, name).removeprefix("\ufeff")
    return parse_meeting_text(text, source=name, read_items=items)


def _check_item_lists(verdict: Verdict, lists: dict[str, bytes], expected: object) -> None:
    sheet = expected if isinstance(expected, dict) else {}
    if not lists and not sheet:
        return  # a composite without item forms
    found = {name: sha256(data) for name, data in lists.items()}
    problems = []
    for name in sorted(set(sheet) | set(found)):
        if name not in found:
            problems.append(f"“{name}”：汇总表上有它的摘要，但现在的会议文件没有列出它")
        elif name not in sheet:
            problems.append(f"“{name}”：会议文件列出了它，但汇总表上没有它的摘要")
        elif sheet[name] != found[name]:
            problems.append(
                f"“{name}”：SHA-256不一致，汇总表上为 {sheet[name]}，文件为 {found[name]}"
                "（测评题目被改动或不是同一文件）"
            )
    if problems:
        verdict.add("测评题目", False, "；".join(problems))
    else:
        verdict.add("测评题目", True, f"{len(found)}个测评题目文件的SHA-256一致")


def _check_optional(
    verdict: Verdict, label: str, source: str, data: bytes | None, expected: object
) -> None:
    """An experts or indicators file: the sheet may have been printed without one."""
    if data is not None and isinstance(expected, str):
        _check_digest(verdict, label, source, data, expected)
    elif data is None and expected is None:
        verdict.add(label, True, "汇总表打印时未用此文件，核验时也未给出（该来源缺失，权重已折算）")
    elif data is None:
        verdict.add(
            label,
            False,
            f"汇总表打印时用了{label}（SHA-256 {expected}），核验时却没有给出：缺少{label}",
        )
    else:
        verdict.add(
            f"{label} {source}",
            False,
            f"汇总表打印时没有用{label}（该来源缺失），核验时却给出了 {source}（SHA-256 "
            f"{sha256(data)}）",
        )


def _check_result(
    verdict: Verdict, record: dict, result: dict, inputs: dict, signer_sha256: str
) -> None:
    """Every field of the attached result against the recount (the digests and the signer
    are the other checks')."""
    derived = appraisal_record(result, inputs, signer_sha256)
    sheet = dict(record, inputs=inputs, signer_sha256=signer_sha256)
    problems = differences(_in_chinese(sheet, result), _in_chinese(derived, result))
    if problems:
        verdict.add("重新计算", False, "；".join(problems))
        return
    verdict.add(
        "重新计算",
        True,
        f"汇总表附带的结果与按这些文件重新计算的逐项一致（{len(result['reporters'])}位述职人的"
        "各组票数和得分、逐项比例、群众测评、项目指标、专家点评、综合得分、等次和名次）",
    )


# The appraisal's fields, as the verdict names them (`differences` knows the grade part's).
_FIELDS = {
    "category": "类别",
    "by_group": "各组",
    "score_by_group": "各组等次得分",
    "poor_share_of": "差票%的分母",
    "vote_score": "群众测评得分",
    "item_score": "逐项测评得分",
    "items": "逐项",
    "item_steps": "逐项依据",
    "sources": "来源得分",
    "source_steps": "来源依据",
    "weights": "来源权重",
    "composite_score": "综合得分",
    "composite_base_grade": "综合得分等次",
    "composite_grade": "综合等次",
    "composite_rank": "综合名次",
    "composite_steps": "综合等次依据",
    "composite_decided_by": "综合等次决定依据",
}
_ROW_FIELDS = set(_FIELDS)  # a reporter's own; `differences` names the grade part's
_FIELDS |= {  # inside by_group and items
    "form": "测评表",
    "kind": "测评方式",
    "weight": "权重",
    "grade_score": "等次得分",
    "score": "得分",
    "why": "说明",
    "positive_shares": "肯定比例",
    "text": "内容",
    "decisive": "否决项",
    "counts": "票数",
    "blank": "未答",
    "spoiled": "废",
    "answered": "作答",
    "positive_share": "肯定比例",
    "negative_share": "否定比例",
    "negative_majority": "过半数否定",
    "appraisal": "三评设置",
}


def _in_chinese(record: dict, result: dict) -> dict:
    """The record with the appraisal's keys (and group, source and item ids) renamed as the
    sheet names them, so that a difference reads '王建国（r01） 各组.镇机关干部.得分'; the steps as their text
    (a step's grade is also the row's 综合等次 or 综合得分等次, compared there)."""
    groups = {g["id"]: g["name"] for g in result.get("groups") or []}
    sources = {s["id"]: s["name"] for s in (result.get("appraisal") or {}).get("sources") or []}
    record = json.loads(json.dumps(record))
    shown = record.get("result")
    rows = shown.get("reporters") if isinstance(shown, dict) else None
    if isinstance(shown, dict) and "appraisal" in shown:
        shown[_FIELDS["appraisal"]] = shown.pop("appraisal")
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        for key in ("sources", "weights", "source_steps"):
            row[key] = _renamed(row.get(key), sources)
        for key in ("item_steps", "composite_steps"):
            row[key] = _said(row.get(key))
        if isinstance(row.get("source_steps"), dict):
            row["source_steps"] = {k: _said(v) for k, v in row["source_steps"].items()}
        if isinstance(row.get("by_group"), dict):
            row["by_group"] = {
                groups.get(gid, gid): _renamed(part, _FIELDS)
                for gid, part in row["by_group"].items()
            }
        items = row.get("items")
        if isinstance(items, list) and all(isinstance(i, dict) and "id" in i for i in items):
            row["items"] = {i["id"]: _renamed(i, _FIELDS) for i in items}
        for key in [k for k in row if k in _ROW_FIELDS]:
            row[_FIELDS[key]] = row.pop(key)
    return record


def _said(steps: object) -> object:
    """A list of steps as the reasons read on the sheet: their texts, joined."""
    if isinstance(steps, list) and all(isinstance(s, dict) and "why" in s for s in steps):
        return "；".join(str(s["why"]) for s in steps)
    return steps


def _renamed(value: object, names: dict[str, str]) -> object:
    if not isinstance(value, dict):
        return value
    return {names.get(key, key): inner for key, inner in value.items()}


def _check_page(
    verdict: Verdict,
    pdf: bytes,
    meeting: Meeting,
    result: dict,
    inputs: dict,
    signer: x509.Certificate | None,
) -> None:
    """The printed text against the sheet rendered afresh from the recount."""
    name = "印刷内容"
    if shutil.which("pdftotext") is None:
        verdict.add(name, False, "无法检查印刷的数字：需要 poppler 的 pdftotext（poppler-utils）")
        return
    try:
        expected_pdf = render_appraisal(
            meeting,
            result,
            inputs,
            signed_by=signer_name(signer) if signer is not None else "",
            signer_sha256=fingerprint(signer) if signer is not None else "",
        )
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        verdict.add(name, False, f"无法按重新计算的结果排版（附带的摘要不完整？）：{error}")
        return
    try:
        printed, expected = _words(pdf), _words(expected_pdf)
    except ValueError as error:
        verdict.add(name, False, f"无法提取汇总表上印的文字：{error}")
        return
    problems = _page_differences(printed, expected, {r.name for r in meeting.reporters})
    if problems:
        verdict.add(name, False, "；".join(problems))
    else:
        verdict.add(name, True, f"汇总表{len(printed)}页上印的文字和数字与重新计算的结果逐字一致")

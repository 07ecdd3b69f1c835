"""`pingyi verify` of a 综合评价结果表: is this signed sheet the 党组's record on these files?

Seven checks, each reported in plain Chinese:

1. 数字签名: as the tally sheet's (`verify._check_signature`).
2. and 3. 会议文件 / 选票文件: the SHA-256 of the given files against the sheet's; a 三评
   meeting's sheet also its item lists (read beside the meeting file), its 专家评分 and 项目指标
   files, as `verify_appraisal` checks them.
4. 测评等次: the vote grades on the sheet and in every entry against a fresh recount (a 三评
   meeting's: `appraise()` on the files, its composite grade and 综合得分).
5. 综合评价记录: the attached record holds together: an entry per reporter, grades on the
   meeting's scale, a reason wherever the 综合评价等次 differs from the 测评等次, the history
   ending in the current entries, the fix after the last entry.
6. 结果运用: the lists re-derived from the current entries (the meeting's own `outcome_lists`) and the
   倒排 from the recount, against the sheet's.
7. 印刷内容: the printed text against the sheet rendered afresh from the attached record and
   the recount (`verify._words`, `verify._page_differences`).

The entries themselves come from the server's event record: no file given here re-derives
them, so the report says that they are to be compared with the 党组's minutes.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import shutil
from collections.abc import Callable

from cryptography import x509
from pyhanko.pdf_utils.reader import PdfFileReader

from meeting import events as e
from printouts.appraisal_sheet import FILE_NAMES, appraise_files
from printouts.evaluation_sheet import (
    ATTACHMENT,
    composite_scores,
    derived_outcomes,
    evaluation_digest,
    history_of,
    render_evaluation,
    vote_grades,
)
from printouts.inputs import decode, parse_ballots, recompute, sha256
from printouts.sheet_record import read_attached
from printouts.signing import fingerprint, signer_name
from printouts.verify import (
    Verdict,
    _page_differences,
    _words,
    signed_record,
    trust,
)
from printouts.verify_appraisal import _check_item_lists, _check_optional
from tally.errors import InputError
from tally.meeting_file import parse_meeting_text
from tally.model import Meeting

ENTRY_FIELDS = tuple(f.name for f in dataclasses.fields(e.EvaluationEntered))
NOT_DERIVABLE = (
    "注意：综合评价等次、意见和修改记录来自服务器的事件记录，选票和会议文件无法复核它们；"
    "请与党组研究的会议纪要核对。"
)
NOT_SANPING = "只用于核验三评汇总表或三评会议的综合评价结果表，此会议文件不是三评会议"
# The tally sheet's wording, as the shared page comparison says it, and this sheet's.
_WORDING = (
    ("汇总表印的是", "结果表印的是"),
    ("按选票应为", "按记录和重新计票应为"),
    ("按选票应印", "按记录和重新计票应印"),
    ("按选票不应有", "按记录和重新计票不应有"),
    ("按选票重新排版", "按记录和重新计票重新排版"),
    ("页数：汇总表为", "页数：结果表为"),
)


class EvaluationVerdict(Verdict):
    PASSED = "结论：全部一致，综合评价结果表与选票、会议文件及其附带的记录相符。"
    FAILED = "结论：不一致（{failed}项未通过），综合评价结果表不能作为这些文件的综合评价结果。"


def is_evaluation_sheet(pdf: bytes) -> bool:
    """Whether the PDF carries a `pingyi-evaluation.json` (else it is read as a tally sheet)."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        return read_attached(reader, ATTACHMENT) is not None
    except Exception:  # a damaged PDF: the tally path reports it
        return False


def verify_evaluation(
    pdf: bytes,
    ballots: bytes,
    meeting: bytes,
    cert_pem: bytes | None = None,
    *,
    ca_pem: bytes | None = None,
    pdf_name: str = "evaluation.pdf",
    ballots_name: str = "ballots.csv",
    meeting_name: str = "meeting.toml",
    cert_name: str = "--cert",
    ca_name: str = "--ca",
    experts: bytes | None = None,
    indicators: bytes | None = None,
    read_items: Callable[[str], bytes] | None = None,
    experts_name: str = "专家评分.csv",
    indicators_name: str = "项目指标.csv",
) -> Verdict:
    """A 三评 meeting's sheet is recounted with `experts`, `indicators` and the item lists
    `read_items` reads (as `verify_appraisal`); a grade meeting's with the ballots alone."""
    pins, roots = trust(cert_pem, ca_pem, cert_name, ca_name)
    verdict = EvaluationVerdict()
    opened = signed_record(verdict, pdf, ATTACHMENT, pins, roots, pdf_name, "综合评价结果表")
    if opened is None:
        return verdict
    record, signer = opened
    inputs = _dict(record.get("inputs"))
    _check_digest(verdict, "会议文件", meeting_name, meeting, inputs.get("meeting_sha256"))
    _check_digest(verdict, "选票文件", ballots_name, ballots, inputs.get("ballots_sha256"))
    lists: dict[str, bytes] = {}
    files = "这两个文件"
    try:
        text = meeting.decode("utf-8").removeprefix("\ufeff")
        parsed = parse_meeting_text(text, meeting_name, _reader(read_items, lists, meeting_name))
        if parsed.appraisal.configured:
            files = "这些文件"
            panel = (experts, indicators, experts_name, indicators_name)
            result = _appraised(verdict, parsed, lists, inputs, ballots, ballots_name, panel)
        else:
            result = recompute(parsed, parse_ballots(ballots, parsed, ballots_name))
    except (InputError, UnicodeDecodeError) as error:
        verdict.add("测评等次", False, f"无法用{files}重新计票：{error}")
        return verdict
    if not parsed.appraisal.configured and (experts is not None or indicators is not None):
        raise InputError("--experts/--indicators", NOT_SANPING)
    evaluation = record.get("evaluation")
    if not isinstance(evaluation, dict) or not isinstance(evaluation.get("entries"), dict):
        verdict.add("综合评价记录", False, f"{ATTACHMENT} 中没有综合评价记录（文件被改动？）")
        return verdict
    names = {r.id: f"{r.name}（{r.id}）" for r in parsed.reporters}
    _check_votes(verdict, record, evaluation, result, names)
    _check_record(verdict, record, evaluation, parsed, names)
    _check_outcomes(verdict, record, evaluation, parsed, result)
    _check_page(verdict, pdf, parsed, result, evaluation, inputs, signer)
    verdict.note = "\n".join(filter(None, [verdict.note, NOT_DERIVABLE]))
    return verdict


def _reader(
    read_items: Callable[[str], bytes] | None, lists: dict[str, bytes], meeting_name: str
) -> Callable[[str], str]:
    """Reads an item list the meeting file names, keeping its bytes in `lists` (digested)."""

    def read(name: str) -> str:
        if read_items is None:
            raise InputError(meeting_name, f"会议文件列出了测评题目“{name}”，但无法读取它")
        lists[name] = read_items(name)
        return decode(lists[name], name)

    return read


def _appraised(
    verdict: Verdict,
    meeting: Meeting,
    lists: dict[str, bytes],
    inputs: dict,
    ballots: bytes,
    ballots_name: str,
    panel: tuple[bytes | None, bytes | None, str, str],
) -> dict:
    """A 三评 meeting's inputs checked as the 三评 sheet's are (`verify_appraisal`, worded for
    this sheet), and its result recounted from them."""
    experts, indicators, experts_name, indicators_name = panel
    inner = Verdict()
    _check_item_lists(inner, lists, inputs.get("items_sha256"))
    for key, data, name in (
        ("experts_sha256", experts, experts_name),
        ("indicators_sha256", indicators, indicators_name),
    ):
        _check_optional(inner, FILE_NAMES[key], name, data, inputs.get(key))
    for check in inner.checks:
        verdict.add(check.name, check.ok, check.detail.replace("汇总表", "结果表"))
    names = (ballots_name, experts_name, indicators_name)
    return appraise_files(meeting, ballots, experts, indicators, names)


def _check_digest(
    verdict: Verdict, name: str, source: str, data: bytes, expected: str | None
) -> None:
    actual = sha256(data)
    if actual == expected:
        verdict.add(f"{name} {source}", True, f"SHA-256一致（{actual}）")
    else:
        verdict.add(
            f"{name} {source}",
            False,
            f"SHA-256不一致：结果表上为 {expected}，文件为 {actual}；"
            f"{name}与打印结果表时所用的不同（被改动或不是同一文件）",
        )


def _check_votes(
    verdict: Verdict, record: dict, evaluation: dict, result: dict, names: dict[str, str]
) -> None:
    """The 测评等次 on the sheet, and the one each entry was made against, against the
    recount."""
    fresh = vote_grades(result)
    sheet = _dict(record.get("vote_grades"))
    entries = evaluation["entries"]
    problems = []
    if "composite_scores" in record or "appraisal" in result:  # 三评: the 综合得分 beside it
        scores, printed = composite_scores(result), _dict(record.get("composite_scores"))
        problems += [
            f"{names[rid]} 综合得分：结果表为{printed.get(rid)}，重新计算为{score}"
            for rid, score in scores.items()
            if printed.get(rid) != score
        ]
    for rid, grade in fresh.items():
        shown = grade or "待定"
        if sheet.get(rid) != grade:
            problems.append(
                f"{names[rid]} 测评等次：结果表为{sheet.get(rid) or '无'}，重新计票为{shown}"
            )
        entry = entries.get(rid)
        if isinstance(entry, dict) and entry.get("vote_grade") != grade:
            problems.append(
                f"{names[rid]} 录入时的测评等次：记录为{entry.get('vote_grade') or '无'}，"
                f"重新计票为{shown}"
            )
    if problems:
        verdict.add("测评等次", False, "；".join(problems))
    else:
        verdict.add("测评等次", True, f"{len(fresh)}位述职人的测评等次与按选票重新计票的一致")


def _check_record(
    verdict: Verdict, record: dict, evaluation: dict, meeting: Meeting, names: dict[str, str]
) -> None:
    entries, history = evaluation["entries"], history_of(evaluation)
    fixed = evaluation.get("fixed") if isinstance(evaluation.get("fixed"), dict) else None
    grades = meeting.measured_grades
    problems = []
    for rid in list(entries) + [h.get("reporter") for h in history if isinstance(h, dict)]:
        if rid not in names:
            problems.append(f"述职人“{rid}”不在会议文件中")
    for reporter in meeting.reporters:
        who = names[reporter.id]
        entry = entries.get(reporter.id)
        if not isinstance(entry, dict):
            problems.append(f"{who} 没有综合评价")
            continue
        if entry.get("reporter") != reporter.id:
            problems.append(f"{who} 的综合评价记在“{entry.get('reporter')}”名下")
        if entry.get("grade") not in grades:
            problems.append(f"{who} 综合评价等次“{entry.get('grade')}”不是本次会议的等次")
        vote = entry.get("vote_grade") or ""
        if vote and entry.get("grade") != vote and not str(entry.get("reason") or "").strip():
            problems.append(
                f"{who} 综合评价等次（{entry.get('grade')}）与测评等次（{vote}）不同，却没有理由"
            )
        mine = [h for h in history if isinstance(h, dict) and h.get("reporter") == reporter.id]
        if not mine or mine[-1] != entry:
            problems.append(f"{who} 的当前综合评价不是修改记录中的最后一次录入")
    stamps = [h.get("at") for h in history if isinstance(h, dict)]
    times = [float(t) for t in stamps if isinstance(t, int | float)]
    if len(times) != len(history):
        problems.append("修改记录中有录入缺少时间")
    elif times != sorted(times):
        problems.append("修改记录不是按录入时间先后排列的")
    if fixed is None:
        problems.append("综合评价尚未经党组研究确定（记录中没有确定）")
    else:
        at = fixed.get("at")
        if times and isinstance(at, int | float) and at < max(times):
            problems.append("党组研究确定的时间早于最后一次录入")
        problems += _date_problems(fixed, meeting)
    if record.get("evaluation_sha256") != evaluation_digest(evaluation):
        problems.append("附带记录中的综合评价记录SHA-256与记录本身不符")
    if problems:
        verdict.add("综合评价记录", False, "；".join(problems[:30]))
    else:
        verdict.add(
            "综合评价记录",
            True,
            f"每位述职人都有综合评价，等次在本次会议的等次之内，与测评等次不同的都写明了理由；"
            f"修改记录（{len(history)}次录入）与当前综合评价相符，确定在最后一次录入之后",
        )


def _dict(value: object) -> dict:
    """A part of the attached record that should be an object ({} when it is not)."""
    return value if isinstance(value, dict) else {}


def _date_problems(fixed: dict, meeting: Meeting) -> list[str]:
    try:
        studied = datetime.date.fromisoformat(str(fixed.get("studied_on")))
    except ValueError:
        return [f"党组研究日期“{fixed.get('studied_on')}”不是日期"]
    if studied.isoformat() < meeting.date:
        return [f"党组研究日期{studied.isoformat()}早于会议日期{meeting.date}"]
    return []


def _check_outcomes(
    verdict: Verdict, record: dict, evaluation: dict, meeting: Meeting, result: dict
) -> None:
    names = {r.id: r.name for r in meeting.reporters}

    def who(ids) -> str:
        return "、".join(names.get(i, str(i)) for i in ids) if isinstance(ids, list) else "无"

    try:
        fresh = derived_outcomes(
            [{k: d[k] for k in ENTRY_FIELDS} for d in evaluation["entries"].values()], meeting
        )
    except (KeyError, TypeError):
        verdict.add("结果运用", False, "综合评价记录中的录入缺少字段，无法重新得出结果运用")
        return
    sheet = _dict(record.get("outcomes"))
    labels = {"interview": "约谈提醒、限期整改", "not_excellent": "年度考核不得评定为优秀"}
    problems = [
        f"{label}：结果表为{who(sheet.get(key)) or '无'}，按综合评价等次应为{who(fresh[key]) or '无'}"
        for key, label in labels.items()
        if sheet.get(key) != fresh[key]
    ]
    bottom = list(result.get("bottom") or [])
    if record.get("bottom") != bottom:
        problems.append(
            f"倒排：结果表为{who(record.get('bottom')) or '无'}，重新计票为{who(bottom) or '无'}"
        )
    fixed = _dict(evaluation.get("fixed"))
    if fresh["interview"] and "rectify_by" in fixed and not fixed["rectify_by"]:
        problems.append("有述职人需约谈提醒、限期整改，却没有整改完成期限")
    if problems:
        verdict.add("结果运用", False, "；".join(problems))
    else:
        verdict.add(
            "结果运用",
            True,
            f"约谈提醒、限期整改{len(fresh['interview'])}人、年度考核不得评定为优秀"
            f"{len(fresh['not_excellent'])}人，与按综合评价等次重新得出的一致"
            + (f"；倒排{len(bottom)}人与重新计票一致" if bottom else ""),
        )


def _check_page(
    verdict: Verdict,
    pdf: bytes,
    meeting: Meeting,
    result: dict,
    evaluation: dict,
    inputs: dict,
    signer: x509.Certificate | None,
) -> None:
    """The printed text against the sheet rendered afresh: the attached 综合评价 (no file
    re-derives it), the recount's 测评等次 and 倒排, the signer's certificate."""
    name = "印刷内容"
    if shutil.which("pdftotext") is None:
        verdict.add(name, False, "无法检查印刷的文字：需要 poppler 的 pdftotext（poppler-utils）")
        return
    try:
        expected_pdf = render_evaluation(
            meeting,
            result,
            evaluation,
            _rendered_inputs(meeting, inputs),
            signed_by=signer_name(signer) if signer is not None else "",
            signer_sha256=fingerprint(signer) if signer is not None else "",
        )
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        verdict.add(name, False, f"无法按附带的记录重新排版（记录不完整？）：{error}")
        return
    try:
        printed, expected = _words(pdf), _words(expected_pdf)
    except ValueError as error:
        verdict.add(name, False, f"无法提取结果表上印的文字：{error}")
        return
    problems = _page_differences(printed, expected, {r.name for r in meeting.reporters})
    if problems:
        verdict.add(name, False, "；".join(_reworded(p) for p in problems))
    else:
        verdict.add(name, True, f"结果表{len(printed)}页上印的文字与按记录和重新计票排出的逐字一致")


def _rendered_inputs(meeting: Meeting, inputs: dict) -> dict:
    """The digests the sheet printed, to render it afresh (checked against the files above)."""
    if meeting.appraisal.configured:
        return dict(inputs)
    return {k: str(inputs.get(k, "")) for k in ("meeting_sha256", "ballots_sha256")}


def _reworded(problem: str) -> str:
    for tally, ours in _WORDING:
        problem = problem.replace(tally, ours)
    return problem

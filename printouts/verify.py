"""`pingyi verify`: is this signed tally sheet the result of these ballots under this meeting?

Five checks, each reported in plain Chinese:

1. 数字签名: one signature, intact, covering the whole file; by a certificate in `--cert`
   (a chain) and/or one that chains to a root in `--ca` (pyHanko's validation context).
   Without either the signer is unpinned: the report says so and prints the fingerprint to
   compare with the one printed on the paper. The fingerprint in the attached record must be
   the signer's.
2. and 3. 会议文件 / 选票文件: the SHA-256 of the given files against the sheet's digests.
4. 重新计票: the attached record (`pingyi-tally.json`: the whole result, the rules, 有效票)
   against one derived afresh from the two files, field by field: every count, share,
   score, rank, turnout figure, validity flag and grade; any difference named (who, which
   figure, sheet vs recount).
5. 印刷内容: the text printed on the pages (poppler's `pdftotext -bbox`) against the text of
   the sheet rendered afresh from the derived result: a changed figure on the paper is named
   by its row (reporter) and column header.

`cli.print_cmd` reads the files, prints the report and exits 0 when all pass, 1 on any
mismatch, 2 on bad input (an InputError from here or there). The `*_name` arguments are the
files' names as the report shows them.
"""

from __future__ import annotations

import difflib
import html
import io
import json
import logging
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any, ClassVar

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from printouts.inputs import digests, parse_ballots, recompute, sha256
from printouts.sheet_record import differences, read_attached, tally_record
from printouts.signing import describe, fingerprint, load_certificates, signer_name
from printouts.tally_sheet import META_PREFIX, effective_ballots, render_tally
from tally.errors import InputError
from tally.meeting_file import parse_meeting_text
from tally.model import Meeting


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Verdict:
    checks: list[Check] = field(default_factory=list)
    note: str = ""  # said after the conclusion: e.g. that the signer is unpinned
    # The conclusion, in the words of what was checked (a subclass names its own document).
    PASSED: ClassVar[str] = "结论：全部一致，汇总表与选票、会议文件相符。"
    FAILED: ClassVar[str] = "结论：不一致（{failed}项未通过），汇总表不能作为这些文件的计票结果。"

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append(Check(name, ok, detail))

    def report(self) -> str:
        lines = [f"[{'通过' if c.ok else '不符'}] {c.name}：{c.detail}" for c in self.checks]
        failed = sum(not c.ok for c in self.checks)
        lines.append(self.PASSED if self.ok else self.FAILED.format(failed=failed))
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)


def quiet_pyhanko() -> None:
    """pyHanko logs its findings in English: the verdicts report them in Chinese instead."""
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)


def verify(
    pdf: bytes,
    ballots: bytes,
    meeting: bytes,
    cert_pem: bytes | None = None,
    *,
    ca_pem: bytes | None = None,
    pdf_name: str = "tally.pdf",
    ballots_name: str = "ballots.csv",
    meeting_name: str = "meeting.toml",
    cert_name: str = "--cert",
    ca_name: str = "--ca",
) -> Verdict:
    """Checks the signed sheet pdf against the ballot and meeting files' bytes. cert_pem (PEM
    or DER; a chain) pins the signer: its certificate must be in it; ca_pem holds trust roots
    the signer's certificate must chain to."""
    pins, roots = trust(cert_pem, ca_pem, cert_name, ca_name)
    if b"%PDF" not in pdf[:1024] and b"%%EOF" not in pdf[-1024:]:
        raise InputError(pdf_name, "不是PDF文件")
    verdict = Verdict()
    quiet_pyhanko()
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        keywords = _keywords_record(reader)
        attached = read_attached(reader)
        signatures = reader.embedded_signatures
    except Exception as error:  # a damaged PDF fails in many ways inside the parser
        verdict.add("数字签名", False, f"PDF结构已损坏，无法读取（文件被改动？）：{error}")
        return verdict
    if keywords is None and attached is None and not signatures:
        raise InputError(pdf_name, "不是 Pingyi 的测评结果汇总表（没有签名，也没有摘要信息）")
    signer = _check_signature(verdict, signatures, pins, roots, attached)
    if attached is None and keywords is None:
        verdict.add("汇总表信息", False, "PDF中没有 Pingyi 写入的计票结果和摘要（文件被改动？）")
        return verdict
    inputs = attached.get("inputs", {}) if attached is not None else keywords or {}
    if not isinstance(inputs, dict):
        inputs = {}
    _check_digest(verdict, "会议文件", meeting_name, meeting, inputs.get("meeting_sha256"))
    _check_digest(verdict, "选票文件", ballots_name, ballots, inputs.get("ballots_sha256"))
    derived = _derive(verdict, meeting_name, meeting, ballots_name, ballots)
    if derived is None:
        return verdict
    parsed, result, effective = derived
    # Digests beyond the two files' (say, of the ballot set) are compared in the recount.
    fresh = {k: v for k, v in digests(meeting, ballots).items() if k not in _FILE_DIGESTS}
    voided = _voided(attached)
    _check_tally(verdict, attached, keywords, parsed, result, effective, inputs, fresh, signer)
    _check_page(verdict, pdf, parsed, result, effective, inputs, signer, voided)
    if voided:
        told = f"汇总表记载了{len(voided)}次作废的测评（重新测评）：{_VOIDED}"
        verdict.note = "\n".join(filter(None, [verdict.note, told]))
    return verdict


_VOIDED = (
    "作废的次数、原因和时间来自服务器的事件记录，选票文件不含作废的选票，无法由它复核；"
    "请与会场上宣布的、投影上显示的核对"
)


def _voided(attached: dict | None) -> list[dict]:
    """The rounds voided by 重新测评 the sheet reports (the server's record, not derivable)."""
    voided = attached.get("voided") if attached is not None else None
    return [v for v in voided if isinstance(v, dict)] if isinstance(voided, list) else []


_FILE_DIGESTS = ("meeting_sha256", "ballots_sha256")  # checks 2 and 3


def _keywords_record(reader: PdfFileReader) -> dict | None:
    """The short record in the PDF's Keywords (digests and grades), from the first version."""
    try:
        keywords = str(reader.trailer["/Info"].get_object().get("/Keywords", ""))
    except KeyError:
        return None
    if not keywords.startswith(META_PREFIX):
        return None
    try:
        record = json.loads(keywords[len(META_PREFIX) :])
    except json.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None


def trust(
    cert_pem: bytes | None, ca_pem: bytes | None, cert_name: str, ca_name: str
) -> tuple[list, list]:
    """The certificates the signer is pinned to (--cert) and the roots it must chain to
    (--ca); none given: [] (the signer is then reported unpinned)."""
    pins = load_certificates(cert_pem, cert_name) if cert_pem is not None else []
    roots = load_certificates(ca_pem, ca_name) if ca_pem is not None else []
    return pins, roots


def signed_record(
    verdict: Verdict,
    pdf: bytes,
    attachment: str,
    pins: list,
    roots: list,
    pdf_name: str,
    what: str,
) -> tuple[dict, Any] | None:
    """A signed sheet's attached record and its signer (the signature checked into
    `verdict`); None when the PDF is too damaged to read (said in `verdict`). A PDF without
    that record is not `what` (e.g. 综合评价结果表): InputError naming `pdf_name`."""
    quiet_pyhanko()
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        record = read_attached(reader, attachment)
        signatures = reader.embedded_signatures
    except Exception as error:  # a damaged PDF fails in many ways inside the parser
        verdict.add("数字签名", False, f"PDF结构已损坏，无法读取（文件被改动？）：{error}")
        return None
    if record is None:
        raise InputError(pdf_name, f"不是 Pingyi 的{what}（没有附带的 {attachment}）")
    return record, _check_signature(verdict, signatures, pins, roots, record)


def _check_signature(
    verdict: Verdict,
    signatures,
    pins: list[x509.Certificate],
    roots: list[x509.Certificate],
    attached: dict | None,
) -> x509.Certificate | None:
    """Adds the 数字签名 check; returns the signer's certificate (whether or not the
    signature holds: the page is re-rendered with it) or None when there is none."""
    name = "数字签名"
    if not signatures:
        verdict.add(name, False, "PDF没有数字签名")
        return None
    if len(signatures) > 1:
        verdict.add(name, False, f"PDF有{len(signatures)}个签名，汇总表只应有一个")
        return None
    signature = signatures[0]
    try:
        signer = x509.load_der_x509_certificate(signature.signer_cert.dump())
        # Integrity first, with the PDF's own certificate as the trust root; whose
        # certificate it is, is checked against --cert and --ca below.
        status = validate_pdf_signature(
            signature, ValidationContext(trust_roots=[signature.signer_cert])
        )
        padding_ok = _padding_is_blank(signature)
    except Exception as error:  # a broken signature container fails in many ways
        verdict.add(name, False, f"签名无法校验（签名数据损坏）：{error}")
        return None
    who = describe(signer)
    printed = attached.get("signer_sha256") if attached is not None else None
    if not status.intact:
        verdict.add(name, False, "PDF内容在签名后被改动：签名所覆盖的字节的摘要与签名不符")
        return signer
    if not status.valid:
        verdict.add(name, False, f"签名值无效（{who}）")
        return signer
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE or not padding_ok:
        verdict.add(name, False, "签名之后文件又被追加或修改（签名未覆盖整个文件）")
        return signer
    if printed and printed != fingerprint(signer):
        verdict.add(
            name,
            False,
            f"汇总表上印的签名证书指纹为 {printed}，但签名所用证书的指纹为 "
            f"{fingerprint(signer)}：签名不是用汇总表上的证书做的（被换签？）",
        )
        return signer
    stamp = status.timestamp_validity
    if stamp is not None and not (stamp.intact and stamp.valid):
        verdict.add(name, False, "签名的时间戳无效（时间戳被改动，或不属于这个签名）")
        return signer
    when = _when(stamp)
    problems = []
    if pins and fingerprint(signer) not in {fingerprint(c) for c in pins}:
        problems.append(
            f"签名证书不是 --cert 指定的证书（PDF中为{who}；指定的为 "
            f"{'；'.join(describe(c) for c in pins)}）"
        )
    chain_roots = roots or [c for c in pins if c.issuer == c.subject and c != signer]
    if chain_roots and not problems:
        why = _chain_problem(signature, chain_roots, pins)
        if why:
            source = "--ca" if roots else "--cert"
            problems.append(f"签名证书不能追溯到 {source} 给出的根证书（{who}）：{why}")
    if problems:
        verdict.add(name, False, "；".join(problems))
    elif pins or roots:
        how = "签名证书与指定证书一致" if pins else "签名证书可追溯到指定的根证书"
        if pins and roots:
            how = "签名证书与指定证书一致，并可追溯到指定的根证书"
        verdict.add(name, True, f"签名有效，签名后未被改动；{how}（{who}）{when}")
    else:
        verdict.add(
            name,
            True,
            f"签名有效，签名后未被改动；但签名者未经核实（未给出 --cert 或 --ca）：{who}{when}",
        )
        verdict.note = (
            f"注意：签名者未核实。请将签名证书SHA-256指纹 {fingerprint(signer)} 与纸质件（汇总表、结果表）上"
            "印的指纹逐位核对，或用 --cert（会议的证书）/ --ca（单位的根证书）核验。"
        )
    return signer


def _when(stamp) -> str:
    """What the report says of the signing time: the RFC 3161 timestamp's, or none."""
    if stamp is None:
        return "；无时间戳（签名时间只是签名者电脑的时钟）"
    tsa = x509.load_der_x509_certificate(stamp.signing_cert.dump())
    return (
        f"；带RFC 3161时间戳 {stamp.timestamp:%Y-%m-%d %H:%M:%S %Z}"
        f"（时间戳服务器 {tsa.subject.rfc4514_string()}，"
        f"证书SHA-256指纹 {fingerprint(tsa)}）"
    )


def _chain_problem(signature, roots: list[x509.Certificate], chain: list[x509.Certificate]) -> str:
    """Why the signer's certificate does not chain to one of roots ("" when it does)."""

    def asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))

    context = ValidationContext(
        trust_roots=[asn1(c) for c in roots],
        other_certs=[asn1(c) for c in chain],
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    try:
        status = validate_pdf_signature(signature, context)
    except Exception as error:  # pyHanko reports an unusable chain in many ways
        return str(error)
    if status.trusted:
        return ""
    problem = status.trust_problem_indic
    why = problem.standard_name if problem is not None else "未知原因"
    return f"无法建立到受信任根证书的证书路径（{why}）"


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
            f"SHA-256不一致：汇总表上为 {expected}，文件为 {actual}；"
            f"{name}与签署汇总表时所用的不同（被改动或不是同一文件）",
        )


def _derive(
    verdict: Verdict, meeting_name: str, meeting_bytes: bytes, ballots_name: str, ballots: bytes
) -> tuple[Meeting, dict, int] | None:
    """The meeting, the result and 有效票 from the two files, or a failed 重新计票 check."""
    try:
        text = meeting_bytes.decode("utf-8").removeprefix("\ufeff")
        meeting = parse_meeting_text(text, source=meeting_name)
        parsed = parse_ballots(ballots, meeting, ballots_name)
        result = recompute(meeting, parsed)
    except (InputError, UnicodeDecodeError) as error:
        verdict.add("重新计票", False, f"无法用这两个文件重新计票：{error}")
        return None
    return meeting, result, effective_ballots(parsed)


def _check_tally(
    verdict: Verdict,
    attached: dict | None,
    keywords: dict | None,
    meeting: Meeting,
    result: dict,
    effective: int,
    inputs: dict,
    fresh_digests: dict[str, str],
    signer: x509.Certificate | None,
) -> None:
    """Every field of the attached record against the recount (the files' digests and the
    signer's fingerprint are the other checks'); the Keywords' grades too."""
    name = "重新计票"
    if attached is None:
        verdict.add(name, False, "PDF中没有附带的计票结果 pingyi-tally.json（文件被改动？）")
        return
    signer_sha256 = fingerprint(signer) if signer is not None else ""
    derived = tally_record(
        meeting, result, {**inputs, **fresh_digests}, effective, signer_sha256, _voided(attached)
    )
    if "voided" not in attached:  # a sheet printed before 重新测评 existed
        del derived["voided"]
    sheet = dict(attached, inputs={**derived["inputs"], **inputs}, signer_sha256=signer_sha256)
    problems = differences(sheet, derived)
    if keywords is not None:
        problems += _keyword_problems(keywords, result)
    if problems:
        verdict.add(name, False, "；".join(problems))
        return
    verdict.add(
        name,
        True,
        f"汇总表附带的计票结果与按选票重新计票逐项一致（{len(result['reporters'])}位述职人的"
        "票数、比例、得分、等次、名次，应到、实到和有效性）",
    )


def _keyword_problems(keywords: dict, result: dict) -> list[str]:
    printed = keywords.get("grades", {})
    printed = printed if isinstance(printed, dict) else {}
    fresh = {r["id"]: [r["base_grade"], r["final_grade"]] for r in result["reporters"]}
    names = {r["id"]: r["name"] for r in result["reporters"]}
    problems = []
    for rid in sorted(set(printed) | set(fresh), key=lambda i: (i not in fresh, i)):
        if printed.get(rid) != fresh.get(rid):
            shown = "／".join(g or "—" for g in printed.get(rid, ["无", "无"]))
            again = "／".join(g or "—" for g in fresh.get(rid, ["无", "无"]))
            problems.append(
                f"{names.get(rid, rid)}（文档属性中的基础等次／测评等次）："
                f"汇总表为{shown}，重新计票为{again}"
            )
    if "valid" in keywords and bool(keywords["valid"]) != bool(result["valid"]):
        problems.append(
            f"测评有效性（文档属性）：汇总表为{'有效' if keywords['valid'] else '无效'}，"
            f"重新计票为{'有效' if result['valid'] else '无效'}"
        )
    return problems


def _check_page(
    verdict: Verdict,
    pdf: bytes,
    meeting: Meeting,
    result: dict,
    effective: int,
    inputs: dict,
    signer: x509.Certificate | None,
    voided: list[dict],
) -> None:
    """The printed text against the text of the sheet rendered afresh from the recount."""
    name = "印刷内容"
    if shutil.which("pdftotext") is None:
        verdict.add(name, False, "无法检查印刷的数字：需要 poppler 的 pdftotext（poppler-utils）")
        return
    expected_pdf = render_tally(
        meeting,
        result,
        {k: str(v) for k, v in inputs.items()},
        signed_by=signer_name(signer) if signer is not None else "",
        effective=effective,
        signer_sha256=fingerprint(signer) if signer is not None else "",
        voided=voided,
    )
    try:
        printed = _words(pdf)
        expected = _words(expected_pdf)
    except ValueError as error:
        verdict.add(name, False, f"无法提取汇总表上印的文字：{error}")
        return
    names = {r["name"] for r in result["reporters"]}
    problems = _page_differences(printed, expected, names)
    if problems:
        verdict.add(name, False, "；".join(problems))
    else:
        pages = len(printed)
        verdict.add(name, True, f"汇总表{pages}页上印的文字和数字与按选票重新计票的结果逐字一致")


_WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
)

Word = tuple[float, float, str]  # x centre, y centre, text
Line = tuple[float, list[Word]]


def _words(pdf: bytes) -> list[list[Line]]:
    """Each page's lines of words (top to bottom, left to right), by `pdftotext -bbox`."""
    try:
        run = subprocess.run(
            ["pdftotext", "-bbox", "-", "-"], input=pdf, capture_output=True, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ValueError(f"pdftotext无法运行：{error}") from None
    if run.returncode != 0:
        raise ValueError(run.stderr.decode("utf-8", "replace").strip() or "pdftotext出错")
    pages = []
    for page in run.stdout.decode("utf-8", "replace").split("<page ")[1:]:
        words = sorted(
            ((float(y0) + float(y1)) / 2, (float(x0) + float(x1)) / 2, html.unescape(t))
            for x0, y0, x1, y1, t in _WORD.findall(page)
        )
        lines: list[Line] = []
        for y, x, text in words:  # a line: words whose vertical centres are within 3 pt
            if lines and abs(lines[-1][0] - y) <= 3:
                lines[-1][1].append((x, y, text))
            else:
                lines.append((y, [(x, y, text)]))
        pages.append([(y, sorted(ws)) for y, ws in lines])
    return pages


def _page_differences(
    printed: list[list[Line]], expected: list[list[Line]], names: set[str], limit: int = 30
) -> list[str]:
    """The words that differ between the printed pages and the expected ones. Lines are
    matched by their text, a table row by its reporter's name, so that a changed figure is
    named by the row's reporter and the column's header."""
    found: list[str] = []
    if len(printed) != len(expected):
        found.append(f"页数：汇总表为{len(printed)}页，按选票重新排版为{len(expected)}页")
    for number, (ours, theirs) in enumerate(zip(printed, expected, strict=False), start=1):
        page = _Page(number, ours, theirs, names)
        a = [page.key(line) for line in ours]
        b = [page.key(line) for line in theirs]
        matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
        for _tag, i1, i2, j1, j2 in matcher.get_opcodes():
            pairs = list(zip(range(i1, i2), range(j1, j2), strict=False))
            for i, j in pairs:
                if _text(ours[i][1]) != _text(theirs[j][1]):
                    found += page.compare(ours[i][1], theirs[j][1], theirs[j][0])
            for i in range(i1 + len(pairs), i2):
                found += page.compare(ours[i][1], [], ours[i][0])
            for j in range(j1 + len(pairs), j2):
                found += page.compare([], theirs[j][1], theirs[j][0])
    if len(found) > limit:
        found = found[:limit] + [f"……另有{len(found) - limit}处不同"]
    return found


def _text(words: list[Word]) -> str:
    return " ".join(w[2] for w in words)


class _Page:
    """One page's printed and expected lines, and how a place on it is named."""

    def __init__(self, number: int, ours: list[Line], theirs: list[Line], names: set[str]):
        self.number = number
        self.names = names
        self.theirs = theirs
        self.rows = [  # (y, reporter name) of the expected table rows
            (y, next(w[2] for w in words if w[2] in names))
            for y, words in theirs
            if any(w[2] in names for w in words)
        ]

    def key(self, line: Line) -> str:
        """A table row is matched by its reporter, any other line by its text."""
        row = next((w[2] for w in line[1] if w[2] in self.names), None)
        return f"row:{row}" if row is not None else _text(line[1])

    def where(self, y: float, x: float, fallback: str) -> str:
        """' 王建国 好' for a place in a reporter's row (within its cell height), else the
        line's first words."""
        near = [(abs(ry - y), name) for ry, name in self.rows if abs(ry - y) <= 12]
        header = next(
            (
                words
                for hy, words in reversed(self.theirs)
                if hy < y and any(w[2] == "序号" for w in words)
            ),
            None,
        )
        if not near or header is None:
            return fallback
        column = min(header, key=lambda w: abs(w[0] - x))[2]
        return f" {min(near)[1]} {column}"

    def compare(self, printed: list[Word], expected: list[Word], y: float) -> list[str]:
        """The differing words of a printed and an expected line (either may be empty)."""
        found = []
        used: set[int] = set()
        context = _context(expected or printed)
        at = f"第{self.number}页"
        for x, _, text in expected:
            match = min(
                (k for k in range(len(printed)) if k not in used),
                key=lambda k: abs(printed[k][0] - x),
                default=None,
            )
            where = self.where(y, x, context)
            if match is None or abs(printed[match][0] - x) > 12:
                found.append(f"{at}{where}：缺少“{text}”（按选票应印）")
                continue
            used.add(match)
            if printed[match][2] != text:
                found.append(f"{at}{where}：汇总表印的是“{printed[match][2]}”，按选票应为“{text}”")
        for k, (x, _, text) in enumerate(printed):
            if k not in used:
                found.append(f"{at}{self.where(y, x, context)}：多印了“{text}”（按选票不应有）")
        if not found:  # the same words, spaced differently
            found.append(f"{at}{context}的排版与按选票重新排版的不同")
        elif (
            printed
            and expected
            and not self.where(y, expected[0][0], "")
            and len(found) > max(3, len(expected) // 2)
        ):  # a line outside the table, mostly different: said as a whole
            found = [f"{at}一行：汇总表印的是“{_short(printed)}”，按选票应为“{_short(expected)}”"]
        return found


def _short(line: list[Word]) -> str:
    text = _text(line)
    return text if len(text) <= 60 else text[:60] + "…"


def _context(line: list[Word]) -> str:
    """A line outside the reporters' table, named by its first words."""
    text = _text(line)
    return f"“{text if len(text) <= 18 else text[:18] + '…'}”一行"


def _padding_is_blank(signature) -> bool:
    """The signature's /Contents holds the CMS object then zero padding (not signed itself):
    a changed padding byte leaves the signature valid, so it is checked here."""
    contents = bytes(signature.sig_object.raw_get("/Contents"))
    used = len(cms.ContentInfo.load(contents).dump())
    return not any(contents[used:])

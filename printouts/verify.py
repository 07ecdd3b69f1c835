"""`pingyi verify`: is this signed tally sheet the result of these ballots under this meeting?

Four checks, each reported in plain Chinese: the PDF's signature (intact, covering the whole
file, by the pinned certificate if one is given), the SHA-256 of the meeting file and of the
ballot file against the digests embedded in (and printed on) the sheet, and a fresh tally
whose grades must equal the sheet's. `cli.print_cmd` reads the files, prints the report and
exits 0 when all pass, 1 on any mismatch, 2 on bad input (an InputError from here or there).
The `*_name` arguments are the files' names as the report shows them.
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass, field

from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from printouts.inputs import parse_ballots, recompute, sha256
from printouts.signing import describe, load_certificate
from printouts.tally_sheet import META_PREFIX
from tally.errors import InputError
from tally.meeting_file import parse_meeting_text


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Verdict:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append(Check(name, ok, detail))

    def report(self) -> str:
        lines = [f"[{'通过' if c.ok else '不符'}] {c.name}：{c.detail}" for c in self.checks]
        failed = sum(not c.ok for c in self.checks)
        lines.append(
            "结论：全部一致，汇总表与选票、会议文件相符。"
            if self.ok
            else f"结论：不一致（{failed}项未通过），汇总表不能作为这些文件的计票结果。"
        )
        return "\n".join(lines)


def verify(
    pdf: bytes,
    ballots: bytes,
    meeting: bytes,
    cert_pem: bytes | None = None,
    *,
    pdf_name: str = "tally.pdf",
    ballots_name: str = "ballots.csv",
    meeting_name: str = "meeting.toml",
    cert_name: str = "--cert",
) -> Verdict:
    """Checks the signed sheet pdf against the ballot and meeting files' bytes; with cert_pem
    (PEM or DER), the signature must have been made with that certificate."""
    pinned = load_certificate(cert_pem, cert_name) if cert_pem is not None else None
    if b"%PDF" not in pdf[:1024] and b"%%EOF" not in pdf[-1024:]:
        raise InputError(pdf_name, "不是PDF文件")
    verdict = Verdict()
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)  # we report in Chinese below
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        record = _embedded_record(reader)
        signatures = reader.embedded_signatures
    except Exception as error:  # a damaged PDF fails in many ways inside the parser
        verdict.add("数字签名", False, f"PDF结构已损坏，无法读取（文件被改动？）：{error}")
        return verdict
    if record is None and not signatures:
        raise InputError(pdf_name, "不是 Pingyi 的测评结果汇总表（没有签名，也没有摘要信息）")
    _check_signature(verdict, signatures, pinned)
    if record is None:
        verdict.add("汇总表信息", False, "PDF中没有 Pingyi 写入的摘要信息（文件被改动？）")
        return verdict
    _check_digest(verdict, "会议文件", meeting_name, meeting, record.get("meeting_sha256"))
    _check_digest(verdict, "选票文件", ballots_name, ballots, record.get("ballots_sha256"))
    _check_tally(verdict, record, meeting_name, meeting, ballots_name, ballots)
    return verdict


def _embedded_record(reader: PdfFileReader) -> dict | None:
    try:
        keywords = str(reader.trailer["/Info"].get_object().get("/Keywords", ""))
    except KeyError:
        return None
    if not keywords.startswith(META_PREFIX):
        return None
    try:
        return json.loads(keywords[len(META_PREFIX) :])
    except json.JSONDecodeError:
        return None


def _check_signature(verdict: Verdict, signatures, pinned: x509.Certificate | None) -> None:
    name = "数字签名"
    if not signatures:
        verdict.add(name, False, "PDF没有数字签名")
        return
    if len(signatures) > 1:
        verdict.add(name, False, f"PDF有{len(signatures)}个签名，汇总表只应有一个")
        return
    signature = signatures[0]
    try:
        signer = x509.load_der_x509_certificate(signature.signer_cert.dump())
        # Integrity first, with the PDF's own certificate as the trust root (it is
        # self-signed); whose certificate it is, is checked against --cert below.
        context = ValidationContext(trust_roots=[signature.signer_cert])
        status = validate_pdf_signature(signature, context)
        padding_ok = _padding_is_blank(signature)
    except Exception as error:  # a broken signature container fails in many ways
        verdict.add(name, False, f"签名无法校验（签名数据损坏）：{error}")
        return
    who = describe(signer)
    if not status.intact:
        verdict.add(name, False, "PDF内容在签名后被改动：签名所覆盖的字节的摘要与签名不符")
    elif not status.valid:
        verdict.add(name, False, f"签名值无效（{who}）")
    elif status.coverage != SignatureCoverageLevel.ENTIRE_FILE or not padding_ok:
        verdict.add(name, False, "签名之后文件又被追加或修改（签名未覆盖整个文件）")
    elif pinned is not None and _fingerprint(pinned) != _fingerprint(signer):
        verdict.add(
            name,
            False,
            f"签名证书不是 --cert 指定的证书（PDF中为{who}；指定的为 {describe(pinned)}）",
        )
    elif pinned is not None:
        verdict.add(name, True, f"签名有效，签名后未被改动；签名证书与指定证书一致（{who}）")
    else:
        caveat = (
            "；注意：这是自签名证书，只能证明签名后未被改动，不能证明签名者身份，"
            "可用 --cert 指定会议的证书核对"
            if signer.issuer == signer.subject
            else ""
        )
        verdict.add(name, True, f"签名有效，签名后未被改动（{who}）{caveat}")


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


def _check_tally(
    verdict: Verdict,
    record: dict,
    meeting_name: str,
    meeting_bytes: bytes,
    ballots_name: str,
    ballots_bytes: bytes,
) -> None:
    name = "重新计票"
    try:
        text = meeting_bytes.decode("utf-8").removeprefix("\ufeff")
        meeting = parse_meeting_text(text, source=meeting_name)
        result = recompute(meeting, parse_ballots(ballots_bytes, meeting, ballots_name))
    except (InputError, UnicodeDecodeError) as error:
        verdict.add(name, False, f"无法用这两个文件重新计票：{error}")
        return
    printed = record.get("grades", {})
    fresh = {r["id"]: [r["base_grade"], r["final_grade"]] for r in result["reporters"]}
    names = {r["id"]: r["name"] for r in result["reporters"]}
    problems = []
    for rid in sorted(set(printed) | set(fresh), key=lambda i: (i not in fresh, i)):
        if printed.get(rid) != fresh.get(rid):
            shown = "／".join(g or "—" for g in printed.get(rid, ["无", "无"]))
            again = "／".join(g or "—" for g in fresh.get(rid, ["无", "无"]))
            problems.append(f"{names.get(rid, rid)}：汇总表为{shown}，重新计票为{again}")
    if bool(record.get("valid")) != bool(result["valid"]):
        problems.append(
            f"测评有效性：汇总表为{'有效' if record.get('valid') else '无效'}，"
            f"重新计票为{'有效' if result['valid'] else '无效'}"
        )
    if problems:
        verdict.add(name, False, "（基础等次／最终等次）" + "；".join(problems))
    else:
        verdict.add(name, True, f"{len(fresh)}位述职人的基础等次和最终等次与汇总表一致")


def _padding_is_blank(signature) -> bool:
    """The signature's /Contents holds the CMS object then zero padding (not signed itself):
    a changed padding byte leaves the signature valid, so it is checked here."""
    contents = bytes(signature.sig_object.raw_get("/Contents"))
    used = len(cms.ContentInfo.load(contents).dump())
    return not any(contents[used:])


def _fingerprint(cert: x509.Certificate) -> bytes:
    return cert.fingerprint(hashes.SHA256())

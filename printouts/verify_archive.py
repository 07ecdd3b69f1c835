"""Checking a 备案 package (`printouts/archive.py`): is it the record, as signed?

1. 备案包: a readable zip whose names stay inside it (no `..`, no absolute path, no
   duplicate) and whose size is bounded (a zip bomb is refused before it is inflated).
2. 备案清单: `备案清单.pdf`'s signature, as `pingyi verify` checks a tally sheet's (pinned
   by cert_pem / ca_pem, else reported unpinned); `manifest.json` is the JSON it carries.
3. 清单核对: every file listed is there with its SHA-256 and size, nothing else is.
4. The signed sheets inside: the 测评结果汇总表 recounted against the package's own 会议文件
   and 选票 (`printouts.verify.verify`), the 综合评价结果表 by `verify_evaluation`; each of
   their checks reported under the file's name. A 三评 meeting's package recounts its 三评
   汇总表 (`verify_appraisal`) and its 综合评价结果表 with its own item lists (beside
   会议文件.toml, under the names the meeting file gives them), 专家评分.csv and 项目指标.csv.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable

from printouts import archive as a
from printouts.verify import Verdict, _check_signature, quiet_pyhanko, trust, verify
from printouts.verify_appraisal import is_appraisal_sheet, verify_appraisal
from printouts.verify_evaluation import verify_evaluation
from tally.errors import InputError

MAX_FILES = 2000
MAX_TOTAL = 256 * 1024 * 1024  # inflated bytes: a real package is a few MB


class ArchiveVerdict(Verdict):
    """A Verdict whose conclusion speaks of the package, not of one sheet."""

    PASSED = "结论：全部一致，备案包完整，与签名的备案清单相符。"
    FAILED = "结论：不一致（{failed}项未通过），备案包不能作为本次述职评议的备案材料。"


def is_zip(data: bytes) -> bool:
    """Whether these bytes are a zip (a 备案 package) rather than a PDF sheet."""
    return data.startswith(b"PK")


def verify_archive(
    zip_bytes: bytes,
    cert_pem: bytes | None = None,
    *,
    ca_pem: bytes | None = None,
    name: str = "备案.zip",
    cert_name: str = "--cert",
    ca_name: str = "--ca",
) -> Verdict:
    """The verdict on a package; cert_pem pins the list's signer (and the sheets'), ca_pem
    holds trust roots it must chain to. Not a zip at all: InputError."""
    if not is_zip(zip_bytes):
        raise InputError(name, "不是zip文件（备案包）")
    pins, roots = trust(cert_pem, ca_pem, cert_name, ca_name)
    verdict = ArchiveVerdict()
    files = _read_zip(verdict, zip_bytes)
    if files is None:
        return verdict
    manifest = _check_list(verdict, files, pins, roots)
    if manifest is None:
        return verdict
    _check_files(verdict, files, manifest)
    meeting, ballots = files.get(a.MEETING_FILE), files.get(a.BALLOTS_FILE)
    listed = {entry.get("name") for entry in manifest["files"] if isinstance(entry, dict)}
    if a.TALLY_FILE in files:
        if meeting is None or ballots is None:
            verdict.add(a.TALLY_FILE, False, "包中缺少会议文件或选票文件，无法核验汇总表")
        else:
            _nested(verdict, a.TALLY_FILE, lambda: _tally(files, cert_pem, ca_pem))
    elif a.TALLY_FILE not in listed:
        verdict.add(a.TALLY_FILE, False, "清单中没有测评结果汇总表")
    if a.EVALUATION_FILE in files:
        if meeting is not None and ballots is not None:
            _nested(verdict, a.EVALUATION_FILE, lambda: _evaluation(files, cert_pem, ca_pem))
    elif a.EVALUATION_FILE not in listed:
        verdict.add(a.EVALUATION_FILE, False, "清单中没有综合评价结果表")
    return verdict


def _read_zip(verdict: Verdict, data: bytes) -> dict[str, bytes] | None:
    check = "备案包"
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        verdict.add(check, False, f"zip文件已损坏，无法读取：{error}")
        return None
    problems = [_bad_name(info.filename) for info in infos]
    problems = [p for p in problems if p]
    names = [info.filename for info in infos]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        problems.append(f"文件名重复：{'、'.join(twice)}")
    if len(infos) > MAX_FILES:
        problems.append(f"文件过多（{len(infos)}个，上限{MAX_FILES}）")
    declared = sum(info.file_size for info in infos)
    if declared > MAX_TOTAL:
        problems.append(f"解压后过大（{declared}字节，上限{MAX_TOTAL}）：疑为压缩炸弹")
    if problems:
        verdict.add(check, False, "；".join(problems))
        return None
    files: dict[str, bytes] = {}
    total = 0
    try:
        for info in infos:
            if info.is_dir():
                continue
            # The sizes in the headers may lie: inflate no more than what is left allowed.
            limit = MAX_TOTAL - total
            with archive.open(info) as stream:
                body = stream.read(limit + 1)
            if len(body) > limit:
                verdict.add(check, False, f"{info.filename} 解压后过大：疑为压缩炸弹")
                return None
            total += len(body)
            files[info.filename] = body
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        verdict.add(check, False, f"zip文件已损坏（校验和或压缩数据有误）：{error}")
        return None
    verdict.add(check, True, f"zip文件完好，{len(files)}个文件，文件名均在包内")
    return files


_bad_name = a.bad_member_name  # the builder refuses such an item list's name too


def _check_list(verdict: Verdict, files: dict[str, bytes], pins, roots) -> dict | None:
    """The list PDF's signature; returns the manifest it carries (None: nothing to check)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    check = a.LIST_FILE
    pdf = files.get(a.LIST_FILE)
    if pdf is None:
        verdict.add(check, False, "包中没有备案清单.pdf，无法核对")
        return None
    quiet_pyhanko()
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        attached = a.read_attached_manifest(reader)
        signatures = reader.embedded_signatures
        manifest = json.loads(attached.decode("utf-8")) if attached is not None else None
    except Exception as error:  # a damaged PDF fails in many ways inside the parser
        verdict.add(check, False, f"备案清单.pdf已损坏，无法读取：{error}")
        return None
    if not _is_manifest(manifest):
        verdict.add(check, False, "备案清单.pdf中没有 Pingyi 的文件清单（pingyi-archive.json）")
        return None
    assert isinstance(manifest, dict)
    inner = Verdict()
    _check_signature(inner, signatures, pins, roots, manifest)
    for result in inner.checks:
        verdict.add(f"{check}：{result.name}", result.ok, result.detail)
    if inner.note:
        verdict.note = inner.note.replace("纸质汇总表上", "纸质备案清单上")
    if files.get(a.MANIFEST_FILE) != attached:
        verdict.add(
            a.MANIFEST_FILE,
            False,
            "与备案清单.pdf所附的清单不同（被改动？）；以签名的备案清单为准",
        )
    else:
        verdict.add(a.MANIFEST_FILE, True, "与备案清单.pdf所附的清单一致")
    return manifest


def _is_manifest(manifest) -> bool:
    return (
        isinstance(manifest, dict)
        and manifest.get("format") == a.FORMAT
        and isinstance(manifest.get("files"), list)
    )


def _check_files(verdict: Verdict, files: dict[str, bytes], manifest: dict) -> None:
    problems = []
    listed: set[str] = set()
    for entry in manifest["files"]:
        if not isinstance(entry, dict):
            problems.append("清单中有无法识别的条目")
            continue
        name = str(entry.get("name"))
        listed.add(name)
        data = files.get(name)
        if data is None:
            problems.append(f"{name}：清单中有，包中缺少")
        elif a.sha256(data) != entry.get("sha256"):
            problems.append(f"{name}：SHA-256不一致（文件被改动）")
        elif len(data) != entry.get("size"):
            problems.append(f"{name}：大小不一致")
    extra = sorted(set(files) - listed - {a.MANIFEST_FILE, a.LIST_FILE})
    problems += [f"{name}：包中有，清单中没有（后加入的文件）" for name in extra]
    if problems:
        verdict.add("清单核对", False, "；".join(problems))
    else:
        verdict.add(
            "清单核对", True, f"清单所列{len(listed)}个文件齐全，SHA-256与大小一致，无清单外文件"
        )


def _nested(verdict: Verdict, file: str, check: Callable[[], Verdict]) -> None:
    """A sheet's own verdict, each check under the file's name."""
    try:
        inner = check()
    except InputError as error:
        verdict.add(file, False, str(error))
        return
    for result in inner.checks:
        verdict.add(f"{file}：{result.name}", result.ok, result.detail)
    if inner.note and inner.note not in verdict.note:
        verdict.note = "\n".join(filter(None, [verdict.note, f"{file}：{inner.note}"]))


def _panel(files: dict[str, bytes]) -> dict:
    """A 三评 meeting's inputs in the package, as `verify_appraisal` and `verify_evaluation`
    take them (an item list the package lacks: InputError, reported under the sheet)."""

    def read_items(name: str) -> bytes:
        if name not in files:
            raise InputError(a.MEETING_FILE, f"会议文件列出了测评题目“{name}”，备案包中却没有")
        return files[name]

    return {
        "experts": files.get(a.EXPERTS_FILE),
        "indicators": files.get(a.INDICATORS_FILE),
        "read_items": read_items,
        "experts_name": a.EXPERTS_FILE,
        "indicators_name": a.INDICATORS_FILE,
    }


def _tally(files: dict[str, bytes], cert_pem: bytes | None, ca_pem: bytes | None) -> Verdict:
    if is_appraisal_sheet(files[a.TALLY_FILE]):  # a 三评 meeting's 三评汇总表
        return verify_appraisal(
            files[a.TALLY_FILE],
            files[a.BALLOTS_FILE],
            files[a.MEETING_FILE],
            cert_pem,
            ca_pem=ca_pem,
            pdf_name=a.TALLY_FILE,
            ballots_name=a.BALLOTS_FILE,
            meeting_name=a.MEETING_FILE,
            **_panel(files),
        )
    return verify(
        files[a.TALLY_FILE],
        files[a.BALLOTS_FILE],
        files[a.MEETING_FILE],
        cert_pem,
        ca_pem=ca_pem,
        pdf_name=a.TALLY_FILE,
        ballots_name=a.BALLOTS_FILE,
        meeting_name=a.MEETING_FILE,
    )


def _evaluation(files: dict[str, bytes], cert_pem: bytes | None, ca_pem: bytes | None) -> Verdict:
    return verify_evaluation(
        files[a.EVALUATION_FILE],
        files[a.BALLOTS_FILE],
        files[a.MEETING_FILE],
        cert_pem,
        ca_pem=ca_pem,
        pdf_name=a.EVALUATION_FILE,
        ballots_name=a.BALLOTS_FILE,
        meeting_name=a.MEETING_FILE,
        cert_name="--cert",
        ca_name="--ca",
        **_panel(files),
    )

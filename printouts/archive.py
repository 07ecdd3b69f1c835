"""The 备案 package: the whole record of a 述职评议, filed with the level above within 7 days.

One zip holds the meeting file, the ballot export, the signed sheets, the 反馈单, the results
workbook, the 点评 and 讲话, the 整改方案 templates, and a list of all of them (`manifest.json`,
the same JSON attached to `备案清单.pdf` as `pingyi-archive.json`): each file's SHA-256 and
size. The list PDF is signed, so signing the list signs the package: `verify_archive` checks
the signature, then every file against the list. Pure: bytes and records in, bytes out.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Mapping
from datetime import datetime

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.embed import EmbeddedFileObject, FileSpec, embed_file
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from printouts.inputs import sha256
from printouts.layout import (
    A4,
    Column,
    draw_lines,
    draw_row,
    draw_text,
    mm,
    new_canvas,
    row_height,
    wrap,
)
from printouts.sheet_record import BEIJING
from tally.model import Meeting

FORMAT = "pingyi-archive"
VERSION = 1
MEETING_FILE = "会议文件.toml"
BALLOTS_FILE = "选票.csv"
TALLY_FILE = "测评结果汇总表.pdf"
EVALUATION_FILE = "综合评价结果表.pdf"
FEEDBACK_FILE = "反馈单.pdf"
XLSX_FILE = "测评结果.xlsx"
REMARKS_FILE = "点评与讲话.txt"
MANIFEST_FILE = "manifest.json"
LIST_FILE = "备案清单.pdf"
# A 三评 meeting's inputs besides the meeting file and the ballots (its item lists lie under
# the names the meeting file gives them, beside 会议文件.toml)
EXPERTS_FILE = "专家评分.csv"
INDICATORS_FILE = "项目指标.csv"
RESERVED = {
    MEETING_FILE,
    BALLOTS_FILE,
    TALLY_FILE,
    EVALUATION_FILE,
    FEEDBACK_FILE,
    XLSX_FILE,
    REMARKS_FILE,
    MANIFEST_FILE,
    LIST_FILE,
    EXPERTS_FILE,
    INDICATORS_FILE,
}
ATTACHMENT = "pingyi-archive.json"  # the manifest, inside the signed list
MARGIN = 18 * mm

_KIND = {"comment": "点评", "together": "集中点评", "speech": "讲话"}


def remarks_text(meeting: Meeting, remarks: list[dict]) -> str:
    """点评与讲话.txt: every 点评 and the closing 讲话 ({kind, reporter, by, text} as the record
    holds them), each with who gave it."""
    names = {r.id: f"{r.name}（{r.org}）" for r in meeting.reporters}
    blocks = [f"{meeting.title}\n{meeting.date}  点评与讲话"]
    entries = [entry for entry in remarks if str(entry.get("text", "")).strip()]
    for entry in entries:
        kind = _KIND.get(str(entry.get("kind", "")), str(entry.get("kind", "")))
        about = names.get(str(entry.get("reporter") or ""), "")
        head = f"【{kind}】" + (f"述职人：{about}" if about else "")
        by = str(entry.get("by") or "") or "（记录未载明）"
        who = "讲话人" if entry.get("kind") == "speech" else "点评人"
        blocks.append(f"{head}\n{who}：{by}\n{str(entry.get('text', '')).strip()}")
    if len(blocks) == 1:
        blocks.append("（本次会议没有记录点评或讲话）")
    return "\n\n".join(blocks) + "\n"


def bad_member_name(name: str) -> str:
    """Why a member's name could write outside the folder it is unpacked in ("" if not)."""
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return f"“{name}”是绝对路径"
    if ".." in parts:
        return f"“{name}”含有“..”，解压时会写到包外"
    if "\\" in name or any(ord(c) < 32 for c in name):
        return f"“{name}”含有不允许的字符"
    return ""


def archive_name(meeting: Meeting) -> str:
    """备案-<会议日期>-<单位>.zip (the issuing unit, else the meeting's title)."""
    return f"备案-{meeting.date}-{safe_name(meeting.organizer or meeting.title)}.zip"


def safe_name(text: str) -> str:
    """text without what a file name on Windows or in a zip may not hold."""
    cleaned = "".join("_" if c in '\\/:*?"<>|' or ord(c) < 32 else c for c in text).strip(" .")
    return cleaned or "_"


def make_manifest(
    files: Mapping[str, bytes],
    meeting: Meeting,
    *,
    filing_deadline: str,
    made_at: float,
    signer_sha256: str,
    notes: list[str] | None = None,
) -> dict:
    """The list of the package: each file (in the given order) with its SHA-256 and size."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "meeting": {"title": meeting.title, "date": meeting.date, "organizer": meeting.organizer},
        "filing_deadline": filing_deadline,
        "made_at": datetime.fromtimestamp(made_at, BEIJING).isoformat(timespec="seconds"),
        "signer_sha256": signer_sha256,
        "files": [
            {"name": name, "sha256": sha256(data), "size": len(data)}
            for name, data in files.items()
        ],
        "notes": list(notes or []),
    }


def manifest_bytes(manifest: dict) -> bytes:
    """manifest.json exactly as attached to the list PDF (the two must be equal)."""
    return json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")


def render_list(manifest: dict) -> bytes:
    """备案清单.pdf, unsigned: the list in words, with the manifest attached."""
    buffer = io.BytesIO()
    canvas = new_canvas(buffer, "述职评议备案材料清单", subject="pingyi archive")
    width, height = A4
    meeting = manifest["meeting"]
    columns = [
        Column("序号", 12 * mm),
        Column("文件", 60 * mm, "left"),
        Column("大小（字节）", 24 * mm, "right"),
        Column("SHA-256", width - 2 * MARGIN - 96 * mm, "left"),
    ]
    y = height - MARGIN
    draw_text(canvas, width / 2, y - 6 * mm, "述职评议备案材料清单", 16, "centre")
    y -= 16 * mm
    facts = [
        f"会议：{meeting['title']}",
        f"会议日期：{meeting['date']}"
        + (f"    单位：{meeting['organizer']}" if meeting.get("organizer") else ""),
        f"备案期限：{manifest['filing_deadline']}前（会议召开后7日内上报）",
        f"生成时间：{manifest['made_at']}",
        f"签名证书 SHA-256指纹：{manifest['signer_sha256']}",
    ]
    y = draw_lines(canvas, MARGIN, y, facts, 9.5)
    y -= 2 * mm

    def header() -> float:
        cells = [c.title for c in columns]
        draw_row(canvas, MARGIN, y, columns, cells, 7 * mm, 9)
        return y - 7 * mm

    y = header()
    for number, entry in enumerate(manifest["files"], start=1):
        cells = [str(number), entry["name"], f"{entry['size']:,}", entry["sha256"]]
        row = row_height(columns, cells, 8, 7 * mm)
        if y - row < MARGIN + 20 * mm:
            canvas.showPage()
            y = height - MARGIN
            y = header()
        draw_row(canvas, MARGIN, y, columns, cells, row, 8)
        y -= row
    y -= 6 * mm
    closing = [
        *manifest.get("notes", []),
        "以上文件的SHA-256与大小载于本清单附带的 pingyi-archive.json（与包中 manifest.json 相同）；"
        "本清单经数字签名，核验：pingyi verify 备案包.zip",
    ]
    for note in closing:
        lines = wrap(note, 9, width - 2 * MARGIN)
        if y - len(lines) * 12 < MARGIN:
            canvas.showPage()
            y = height - MARGIN
        y = draw_lines(canvas, MARGIN, y, lines, 9)
    canvas.showPage()
    canvas.save()
    return _attach(buffer.getvalue(), manifest_bytes(manifest))


def _attach(pdf: bytes, data: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    embedded = EmbeddedFileObject.from_file_data(writer, data, mime_type="application/json")
    spec = FileSpec(
        file_spec_string=ATTACHMENT,
        file_name=ATTACHMENT,
        embedded_data=embedded,
        description="备案材料清单：各文件的SHA-256与大小",
        af_relationship=generic.NameObject("/Data"),
    )
    embed_file(writer, spec)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def read_attached_manifest(reader: PdfFileReader) -> bytes | None:
    """The attached manifest's bytes (the last of that name), or None."""
    try:
        names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    except KeyError:
        return None
    for index in reversed(range(0, len(names) - 1, 2)):
        if str(names[index]) == ATTACHMENT:
            return names[index + 1].get_object()["/EF"]["/F"].get_object().data
    return None


def pack(files: Mapping[str, bytes], made_at: float) -> bytes:
    """The zip of files, in order, each stamped with made_at (Beijing time)."""
    stamp = datetime.fromtimestamp(made_at, BEIJING).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return out.getvalue()


def build_archive(
    files: Mapping[str, bytes],
    meeting: Meeting,
    *,
    filing_deadline: str,
    made_at: float,
    signer_sha256: str,
    sign: Callable[[bytes], bytes],
    notes: list[str] | None = None,
) -> bytes:
    """The package: files, manifest.json and 备案清单.pdf, signed by `sign` (a PDF in, the
    signed PDF out) with the certificate whose fingerprint is `signer_sha256`."""
    clash = {MANIFEST_FILE, LIST_FILE} & set(files)
    if clash:
        raise ValueError(f"reserved names in the package: {sorted(clash)}")
    manifest = make_manifest(
        files,
        meeting,
        filing_deadline=filing_deadline,
        made_at=made_at,
        signer_sha256=signer_sha256,
        notes=notes,
    )
    signed = sign(render_list(manifest))
    everything = {**files, MANIFEST_FILE: manifest_bytes(manifest), LIST_FILE: signed}
    return pack(everything, made_at)

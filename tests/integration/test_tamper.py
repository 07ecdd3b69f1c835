"""Tampering with a signed tally sheet, the way an auditor would try it, with tools Pingyi did
not write: poppler's `pdfsig` (whose text is read: it exits 0 even on a digest mismatch),
pyHanko's own validation, pikepdf and pyHanko's incremental writer to forge. Every forgery is
caught by `pingyi verify`, with the Chinese line a person reads.

The hardest one is issue 15's finding 1: the visible numbers changed and the sheet re-signed
with the meeting's own key (`DATA/signing/key.pem`): the signature is then perfect, and only
the recount from the ballots catches it, naming the reporter and the figure.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils import embed, generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from cli import main
from cli.files import read_meeting
from printouts.inputs import digests, parse_ballots, recompute
from printouts.tally_sheet import effective_ballots, render_tally

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

pytestmark = pytest.mark.skipif(
    shutil.which("pdfsig") is None or shutil.which("pdftotext") is None,
    reason="needs poppler-utils (pdfsig, pdftotext)",
)


@pytest.fixture(scope="module")
def sheet(tmp_path_factory):
    """The demo meeting's files, its signed tally sheet and the meeting's own key."""
    root = tmp_path_factory.mktemp("tamper")
    meeting = root / "meeting.toml"
    ballots = root / "ballots.csv"
    shutil.copy(EXAMPLES / "demo-meeting.toml", meeting)
    shutil.copy(EXAMPLES / "demo-ballots.csv", ballots)
    pdf = root / "tally.pdf"
    args = ["print", "tally", str(meeting), "--ballots", str(ballots), "--data", str(root / "data")]
    assert main([*args, "-o", str(pdf)]) == 0
    signing = root / "data" / "signing"
    return {
        "root": root,
        "meeting": meeting,
        "ballots": ballots,
        "pdf": pdf,
        "key": signing / "key.pem",
        "cert": signing / "cert.pem",
    }


def run_verify(
    capsys, sheet, pdf: Path, *extra: str, ballots: Path | None = None, meeting: Path | None = None
):
    capsys.readouterr()
    code = main(
        [
            "verify",
            str(pdf),
            "--ballots",
            str(ballots or sheet["ballots"]),
            "--meeting",
            str(meeting or sheet["meeting"]),
            *extra,
        ]
    )
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def line(out: str, check: str) -> str:
    """The report's line of one check."""
    return next((x for x in out.splitlines() if re.match(rf"\[(通过|不符)\] {check}", x)), "")


def pdfsig(pdf: Path) -> str:
    run = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True, check=False)
    return run.stdout + run.stderr


def pyhanko_status(pdf: Path, cert: Path):
    """pyHanko's own verdict, with the certificate of the PDF as its trust root."""
    with pdf.open("rb") as handle:
        signature = PdfFileReader(handle, strict=False).embedded_signatures[0]
        roots = [signature.signer_cert]
        return validate_pdf_signature(signature, ValidationContext(trust_roots=roots))


def sign_with(pdf: bytes, key: Path, cert: Path) -> bytes:
    """A signature made with pyHanko's own signer (not Pingyi's), as a forger would."""
    signer = signers.SimpleSigner.load(str(key), str(cert))
    assert signer is not None
    meta = signers.PdfSignatureMetadata(
        field_name="PingyiTallySignature",
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, signer=signer)
    return out.getvalue()


def strip_signature(pdf: Path) -> pikepdf.Pdf:
    """The signed sheet opened in pikepdf with its signature field removed."""
    doc = pikepdf.open(pdf)
    if "/AcroForm" in doc.Root:
        del doc.Root["/AcroForm"]
    for page in doc.pages:
        if "/Annots" in page.obj:
            keep = [a for a in page.obj.Annots if a.get("/FT") != "/Sig"]
            page.obj.Annots = pikepdf.Array(keep)
    return doc


def word_box(pdf: Path, text: str) -> tuple[float, float, float, float]:
    """Where pdftotext finds a word on page 1: xMin, yMin, xMax, yMax (from the top)."""
    out = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.search(
        rf'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">{re.escape(text)}<',
        out,
    )
    assert found, text
    x0, y0, x1, y1 = map(float, found.groups())
    return x0, y0, x1, y1


def overlay(doc: pikepdf.Pdf, box: tuple[float, float, float, float], text: str) -> None:
    """Paints a white box over a word on page 1 and writes other text there (Helvetica)."""
    page = doc.pages[0]
    height = float(page.mediabox[3])
    x0, y0, x1, y1 = box
    resources = page.obj.Resources
    if "/Font" not in resources:
        resources.Font = pikepdf.Dictionary()
    resources.Font["/Forged"] = doc.make_indirect(
        pikepdf.Dictionary(Type="/Font", Subtype="/Type1", BaseFont="/Helvetica")
    )
    drawing = (
        f"q 1 1 1 rg {x0 - 1:.2f} {height - y1 - 1:.2f} {x1 - x0 + 2:.2f} {y1 - y0 + 2:.2f} re f "
        f"0 0 0 rg BT /Forged 8 Tf {x0:.2f} {height - y1 + 2:.2f} Td ({text}) Tj ET Q"
    ).encode()
    page.contents_add(pikepdf.Stream(doc, drawing), prepend=False)


def save(doc: pikepdf.Pdf) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# --- the forgeries -------------------------------------------------------------------------


def test_the_genuine_sheet_passes_every_tool(sheet, capsys):
    code, out = run_verify(capsys, sheet, sheet["pdf"], "--cert", str(sheet["cert"]))
    assert code == 0, out
    assert out.count("[通过]") == 5 and "结论：全部一致" in out
    text = pdfsig(sheet["pdf"])
    assert "Signature is Valid" in text and "Total document signed" in text
    assert "Not total document signed" not in text
    status = pyhanko_status(sheet["pdf"], sheet["cert"])
    assert status.intact and status.valid
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    attachments = subprocess.run(
        ["pdfdetach", "-list", str(sheet["pdf"])], capture_output=True, text=True, check=True
    ).stdout
    assert "pingyi-tally.json" in attachments
    page = subprocess.run(
        ["pdftotext", str(sheet["pdf"]), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert f"签名证书 SHA-256指纹：{fingerprint_of(sheet['cert'])}" in page  # on the paper


def test_a_changed_content_byte(sheet, capsys, tmp_path):
    data = bytearray(sheet["pdf"].read_bytes())
    data[data.index(b"stream\n") + 40] ^= 0x01
    bad = tmp_path / "byte.pdf"
    bad.write_bytes(bytes(data))
    assert "Digest Mismatch" in pdfsig(bad)  # and pdfsig still exits 0
    assert not pyhanko_status(bad, sheet["cert"]).intact
    code, out = run_verify(capsys, sheet, bad)
    assert code == 1
    assert "[不符] 数字签名：PDF内容在签名后被改动" in out


def test_appended_bytes(sheet, capsys, tmp_path):
    bad = tmp_path / "appended.pdf"
    bad.write_bytes(sheet["pdf"].read_bytes() + b"\n%% a note added after signing\n")
    assert "Not total document signed" in pdfsig(bad)
    assert pyhanko_status(bad, sheet["cert"]).coverage != SignatureCoverageLevel.ENTIRE_FILE
    code, out = run_verify(capsys, sheet, bad)
    assert code == 1
    assert "[不符] 数字签名：签名之后文件又被追加或修改（签名未覆盖整个文件）" in out


def incremental(sheet, change) -> bytes:
    """An incremental update (pyHanko's writer) after the signature."""
    writer = IncrementalPdfFileWriter(io.BytesIO(sheet["pdf"].read_bytes()), strict=False)
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_an_incremental_update_of_the_visible_numbers(sheet, capsys, tmp_path):
    x0, y0, x1, y1 = word_box(sheet["pdf"], "59(83.1%)")

    def change(writer: IncrementalPdfFileWriter) -> None:
        page_ref = writer.find_page_for_modification(0)[0]
        drawing = (
            f"q 1 1 1 rg {x0:.2f} {595.28 - y1:.2f} {x1 - x0:.2f} {y1 - y0:.2f} re f "
            f"0 0 0 rg BT /F1 8 Tf {x0:.2f} {595.28 - y1 + 2:.2f} Td (69(83.1%)) Tj ET Q"
        ).encode()
        stream = writer.add_object(generic.StreamObject(stream_data=drawing))
        page = page_ref.get_object()
        contents = page["/Contents"]
        items = list(contents) if isinstance(contents, generic.ArrayObject) else [contents]
        page["/Contents"] = generic.ArrayObject([*items, stream])
        writer.update_container(page)

    bad = tmp_path / "numbers.pdf"
    bad.write_bytes(incremental(sheet, change))
    text = pdfsig(bad)
    assert "Signature is Valid" in text and "Not total document signed" in text
    code, out = run_verify(capsys, sheet, bad)
    assert code == 1
    assert "[不符] 数字签名：签名之后文件又被追加或修改" in out


def test_an_incremental_update_of_the_metadata(sheet, capsys, tmp_path):
    def change(writer: IncrementalPdfFileWriter) -> None:
        info = writer.trailer["/Info"].get_object()
        info["/Keywords"] = generic.TextStringObject("pingyi-tally:{}")
        writer.update_container(info)

    bad = tmp_path / "metadata.pdf"
    bad.write_bytes(incremental(sheet, change))
    assert "Not total document signed" in pdfsig(bad)
    code, out = run_verify(capsys, sheet, bad)
    assert code == 1
    assert "[不符] 数字签名：签名之后文件又被追加或修改" in out


def test_an_incremental_update_of_the_attachment(sheet, capsys, tmp_path):
    """A new pingyi-tally.json (实到 78) added after signing, with pyHanko's embed_file."""
    with pikepdf.open(sheet["pdf"]) as doc:
        record = json.loads(doc.attachments["pingyi-tally.json"].get_file().read_bytes())
    record["result"]["quorum"]["cast"] = 78

    def change(writer: IncrementalPdfFileWriter) -> None:
        data = json.dumps(record, ensure_ascii=False).encode()
        spec = embed.FileSpec(
            file_spec_string="pingyi-tally.json",
            embedded_data=embed.EmbeddedFileObject.from_file_data(writer, data),
        )
        embed.embed_file(writer, spec)

    bad = tmp_path / "attachment.pdf"
    bad.write_bytes(incremental(sheet, change))
    assert "Not total document signed" in pdfsig(bad)
    code, out = run_verify(capsys, sheet, bad)
    assert code == 1
    assert "[不符] 数字签名：签名之后文件又被追加或修改" in out
    assert "实到：汇总表为78，重新计票为72" in out  # the recount reads the newest attachment


def test_a_full_rewrite(sheet, capsys, tmp_path):
    doc = pikepdf.open(sheet["pdf"])
    doc.docinfo["/Keywords"] = "pingyi-tally:{}"
    bad = tmp_path / "rewritten.pdf"
    bad.write_bytes(save(doc))
    assert "Signature is Valid" not in pdfsig(bad)
    code, out = run_verify(capsys, sheet, bad)
    assert code == 1
    assert "[不符] 数字签名：PDF内容在签名后被改动：签名所覆盖的字节的摘要与签名不符" in out


def self_made_identity(sheet, tmp_path: Path) -> tuple[Path, Path]:
    """A new key and a self-signed certificate that copies the meeting certificate's subject."""
    genuine = x509.load_pem_x509_certificate(sheet["cert"].read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(genuine.subject)
        .issuer_name(genuine.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = tmp_path / "fake-key.pem", tmp_path / "fake-cert.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def genuine_result(sheet) -> tuple:
    meeting, meeting_bytes = read_meeting(sheet["meeting"])
    ballots_bytes = sheet["ballots"].read_bytes()
    ballots = parse_ballots(ballots_bytes, meeting, "ballots.csv")
    result = recompute(meeting, ballots)
    return meeting, result, digests(meeting_bytes, ballots_bytes), effective_ballots(ballots)


def fingerprint_of(cert: Path) -> str:
    return x509.load_pem_x509_certificate(cert.read_bytes()).fingerprint(hashes.SHA256()).hex()


def test_a_self_made_certificate_with_the_same_subject(sheet, capsys, tmp_path):
    key, cert = self_made_identity(sheet, tmp_path)
    meeting, result, sums, effective = genuine_result(sheet)
    fake_print = fingerprint_of(cert)
    pdf = render_tally(
        meeting, result, sums, "自签名证书", effective=effective, signer_sha256=fake_print
    )
    bad = tmp_path / "self-made.pdf"
    bad.write_bytes(sign_with(pdf, key, cert))
    # pdfsig shows the same name as on the genuine sheet: it cannot tell them apart.
    subject = re.compile(r"Signer full Distinguished Name: (.*)")
    assert subject.search(pdfsig(bad))[1] == subject.search(pdfsig(sheet["pdf"]))[1]  # type: ignore[index]
    assert "Signature is Valid" in pdfsig(bad)
    # Unpinned, verify says so and prints the forger's fingerprint, which is not the one on
    # the genuine paper.
    code, out = run_verify(capsys, sheet, bad)
    genuine_print = fingerprint_of(sheet["cert"])
    assert "签名者未经核实（未给出 --cert 或 --ca）" in out
    assert (
        f"请将签名证书SHA-256指纹 {fake_print} 与纸质件（汇总表、结果表）上印的指纹逐位核对" in out
    )
    assert fake_print != genuine_print
    # Pinned to the meeting's certificate, it fails.
    code, out = run_verify(capsys, sheet, bad, "--cert", str(sheet["cert"]))
    assert code == 1
    assert "[不符] 数字签名：签名证书不是 --cert 指定的证书" in out


def test_a_genuine_page_re_signed_with_a_self_made_certificate(sheet, capsys, tmp_path):
    key, cert = self_made_identity(sheet, tmp_path)
    bad = tmp_path / "re-signed.pdf"
    bad.write_bytes(sign_with(save(strip_signature(sheet["pdf"])), key, cert))
    assert "Signature is Valid" in pdfsig(bad)
    code, out = run_verify(capsys, sheet, bad)
    assert code == 1
    assert re.search(
        r"\[不符\] 数字签名：汇总表上印的签名证书指纹为 \w+，但签名所用证书的指纹为 \w+："
        r"签名不是用汇总表上的证书做的",
        out,
    ), out


def test_finding_1_visible_numbers_changed_and_re_signed_with_the_meetings_own_key(
    sheet, capsys, tmp_path
):
    """The page says 好 69 for 王建国 (the ballots say 59); the attachment is untouched;
    the sheet is re-signed with DATA/signing/key.pem. Every signature tool is satisfied."""
    doc = strip_signature(sheet["pdf"])
    overlay(doc, word_box(sheet["pdf"], "59(83.1%)"), "69(83.1%)")
    bad = tmp_path / "finding1.pdf"
    bad.write_bytes(sign_with(save(doc), sheet["key"], sheet["cert"]))
    text = pdfsig(bad)
    assert "Signature is Valid" in text and "Total document signed" in text
    assert "Not total document signed" not in text
    status = pyhanko_status(bad, sheet["cert"])
    assert status.intact and status.valid and status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    code, out = run_verify(capsys, sheet, bad, "--cert", str(sheet["cert"]))
    assert code == 1, out
    assert "[通过] 数字签名" in out and "[通过] 重新计票" in out
    printed = line(out, "印刷内容")
    assert printed.startswith("[不符] 印刷内容：第1页 王建国 好："), out
    assert "69(83.1%)" in printed, printed


def test_finding_1_numbers_and_attachment_changed_and_re_signed(sheet, capsys, tmp_path):
    """The issue's exact attack: 实到 72→78, 王建国's 好 59→69, 周伟's 差 9 (12.9%) → 7
    (10.0%), page and attached result alike, re-signed with the meeting's own key."""
    meeting, result, sums, effective = genuine_result(sheet)
    forged = copy.deepcopy(result)
    forged["quorum"]["cast"] = 78
    by_id = {r["id"]: r for r in forged["reporters"]}
    by_id["r01"]["counts"]["好"] = 69
    by_id["r09"]["counts"]["差"] = 7
    by_id["r09"]["poor_share"] = 0.1
    pdf = render_tally(
        meeting,
        forged,
        sums,
        "自签名证书",
        effective=effective,
        signer_sha256=fingerprint_of(sheet["cert"]),
    )
    bad = tmp_path / "finding1-full.pdf"
    bad.write_bytes(sign_with(pdf, sheet["key"], sheet["cert"]))
    assert "Signature is Valid" in pdfsig(bad)
    code, out = run_verify(capsys, sheet, bad, "--cert", str(sheet["cert"]))
    assert code == 1, out
    assert "[通过] 数字签名" in out
    recount = line(out, "重新计票")
    assert recount.startswith("[不符] 重新计票："), out
    assert "实到：汇总表为78，重新计票为72" in recount
    assert "王建国（r01） “好”票数：汇总表为69，重新计票为59" in recount
    assert "周伟（r09） “差”票数：汇总表为7，重新计票为9" in recount
    assert "周伟（r09） 差票%：汇总表为0.1，重新计票为0.1286" in recount
    printed = line(out, "印刷内容")
    assert "王建国 好：汇总表印的是“69(" in printed, printed
    assert "按选票应为“72”" in printed  # 实到 in the header line


def test_a_changed_ballot_cell(sheet, capsys, tmp_path):
    header, *rows = sheet["ballots"].read_text(encoding="utf-8").splitlines()
    columns = header.split(",")
    at = columns.index("r01")
    cells = rows[0].split(",")
    assert cells[at] != "差"
    cells[at] = "差"
    bad = tmp_path / "ballots.csv"
    bad.write_text("\n".join([header, ",".join(cells), *rows[1:]]) + "\n", encoding="utf-8")
    code, out = run_verify(capsys, sheet, sheet["pdf"], ballots=bad)
    assert code == 1
    assert re.search(r"\[不符\] 选票文件 .*SHA-256不一致", out)
    recount = line(out, "重新计票")
    assert "王建国（r01） “差”票数：汇总表为0，重新计票为1" in recount, recount
    assert "印刷的" not in recount
    printed = line(out, "印刷内容")
    assert printed.startswith("[不符] 印刷内容：") and "王建国 差" in printed, printed


def test_a_meeting_file_edited_after_the_vote(sheet, capsys, tmp_path):
    """问责 added to a reporter and the weights moved after the vote: the sheet no longer
    matches the file. (A reprint from the live record is refused outright:
    tests/integration/test_room_digests.py.)"""
    text = sheet["meeting"].read_text(encoding="utf-8")
    edited = text.replace('id = "r01"', 'id = "r01"\nflags = ["问责"]', 1)
    edited = edited.replace("weight = 0.4", "weight = 0.2").replace(
        "seats = 30\nweight = 0.3", "seats = 30\nweight = 0.5"
    )
    assert edited.count("问责") == text.count("问责") + 1 and "weight = 0.5" in edited
    meeting = tmp_path / "meeting.toml"
    meeting.write_text(edited, encoding="utf-8")
    code, out = run_verify(capsys, sheet, sheet["pdf"], meeting=meeting)
    assert code == 1
    assert re.search(r"\[不符\] 会议文件 .*SHA-256不一致", out), out
    recount = line(out, "重新计票")
    assert recount.startswith("[不符]") and "王建国（r01）" in recount, recount
    assert "县级领导" in recount  # the weight, named by its group


def test_a_ballot_set_over_the_seats(sheet, capsys, tmp_path):
    """Ballots for 县级领导 beyond its 15 seats: nothing is tallied, printed or verified, and
    the message names the group and both counts."""
    lines = sheet["ballots"].read_text(encoding="utf-8").splitlines()
    leaders = [row for row in lines[1:] if row.split(",")[1] == "leaders"]
    assert len(leaders) == 13
    extra = [f"99{i}," + leaders[0].split(",", 1)[1] for i in range(3)]  # 16 in all
    over = tmp_path / "ballots.csv"
    over.write_text("\n".join([*lines, *extra]) + "\n", encoding="utf-8")
    said = "“县级领导”：15个席位，却有16张选票；选票多于发出的席位，不能计票"
    capsys.readouterr()
    pdf = tmp_path / "tally.pdf"
    args = ["print", "tally", str(sheet["meeting"]), "--ballots", str(over), "-o", str(pdf)]
    assert main([*args, "--data", str(sheet["root"] / "data")]) == 2
    assert said in capsys.readouterr().err and not pdf.exists()
    code, out = run_verify(capsys, sheet, sheet["pdf"], ballots=over)
    assert code == 1 and said in line(out, "重新计票"), out


def test_the_attached_result_is_the_tally_json(sheet):
    """What the sheet attaches is `pingyi tally --json`'s result, the inputs' digests and
    the rules, read back with pikepdf."""
    with pikepdf.open(sheet["pdf"]) as doc:
        record = json.loads(doc.attachments["pingyi-tally.json"].get_file().read_bytes())
    meeting, result, sums, effective = genuine_result(sheet)
    assert record["result"] == json.loads(json.dumps(result))
    assert record["inputs"] == sums and record["effective"] == effective
    assert record["signer_sha256"] == fingerprint_of(sheet["cert"])
    assert record["rules"]["grades"] == list(meeting.rules.grades)
    assert [g["weight"] for g in record["rules"]["groups"]] == [
        str(g.weight) for g in meeting.groups
    ]

"""The 三评 测评结果汇总表 of the sanping example: printed and signed by the installed
command, read back with pdftotext (every reporter, every constituency, the composite scores of
`pingyi tally --json`), verified, then tampered with in each of its inputs and in the PDF:
each forgery fails, with the verdict naming what changed."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pikepdf
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from cli import main
from cli.sources import load_appraisal
from printouts.appraisal_sheet import ATTACHMENT, render_appraisal

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
NAMES = {
    "meeting": "sanping-meeting.toml",
    "ballots": "sanping-ballots.csv",
    "experts": "sanping-experts.csv",
    "indicators": "sanping-indicators.csv",
}

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext)"
)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], capture_output=True, text=True, cwd=ROOT, check=False
    )


@pytest.fixture(scope="module")
def sheet(tmp_path_factory) -> dict:
    """The example's files (with their item lists) in a folder of their own, the signed sheet
    and the `pingyi tally --json` result of the same files."""
    root = tmp_path_factory.mktemp("appraisal")
    files = {key: root / name for key, name in NAMES.items()}
    for key, name in NAMES.items():
        shutil.copy(EXAMPLES / name, files[key])
    shutil.copytree(EXAMPLES / "items", root / "items")
    pdf = root / "sheet.pdf"
    inputs = ["--experts", str(files["experts"]), "--indicators", str(files["indicators"])]
    data = ["--ballots", str(files["ballots"]), "--data", str(root / "data")]
    done = cli("print", "tally", str(files["meeting"]), *data, *inputs, "-o", str(pdf))
    assert done.returncode == 0, done.stderr
    tallied = root / "result.json"
    done = cli(
        "tally", str(files["meeting"]), str(files["ballots"]), *inputs, "--json", str(tallied)
    )
    assert done.returncode == 0, done.stderr
    return {
        **files,
        "root": root,
        "pdf": pdf,
        "result": json.loads(tallied.read_text(encoding="utf-8")),
        "key": root / "data" / "signing" / "key.pem",
        "cert": root / "data" / "signing" / "cert.pem",
    }


def verify(capsys, sheet: dict, pdf: Path | None = None, **given: Path | None) -> tuple[int, str]:
    """`pingyi verify` of the sheet pinned to the meeting's certificate; `given` replaces (or,
    None, leaves out) one of the input files."""
    files = {
        key: given.get(key, sheet[key]) for key in ("ballots", "meeting", "experts", "indicators")
    }
    argv = ["verify", str(pdf or sheet["pdf"]), "--cert", str(given.get("cert", sheet["cert"]))]
    for key, path in files.items():
        if path is not None:
            argv += [f"--{key}", str(path)]
    capsys.readouterr()
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def line(out: str, check: str) -> str:
    """The report's line of one check."""
    return next((x for x in out.splitlines() if re.match(rf"\[(通过|不符)\] {check}", x)), "")


def text_of(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_the_sheet_shows_every_reporter_constituency_and_composite_score(sheet) -> None:
    text = text_of(sheet["pdf"])
    result = sheet["result"]
    assert "测评结果汇总表（三评）" in text
    for group in result["groups"]:
        assert f"{group['name']}：应到{group['seats']}人，实到{group['cast']}人" in text
    for source in result["appraisal"]["sources"]:
        assert source["name"] in text
    for row in result["reporters"]:
        assert row["name"] in text
        # the combined table's row, on one line: name … each source's score × weight, the
        # composite score and grade, as `pingyi tally --json` computed them
        cells = [f"{row['sources'][s]:.2f}×{row['weights'][s] * 100:g}%" for s in row["sources"]]
        cells += [f"{row['composite_score']:.2f}", row["composite_grade"]]
        pattern = re.escape(row["name"]) + ".*" + r"\s+".join(map(re.escape, cells))
        assert re.search(pattern, text), (row["name"], cells)
    assert "★过半数否定，定为差" in text  # 刘海燕's decisive item
    for label in (
        "会议文件 SHA-256",
        "选票文件 SHA-256",
        "专家评分文件 SHA-256",
        "项目指标文件 SHA-256",
    ):
        assert label in text
    assert "签名证书 SHA-256指纹" in text
    assert re.search(r"第1页\s+共\d+页", text)


def test_the_attachment_is_the_tally_json(sheet) -> None:
    with pikepdf.open(sheet["pdf"]) as doc:
        record = json.loads(doc.attachments[ATTACHMENT].get_file().read_bytes())
    assert record["format"] == "pingyi-appraisal"
    assert record["result"] == sheet["result"]
    assert set(record["inputs"]["items_sha256"]) == {
        "items/村书记28项.toml",
        "items/镇党委26项.toml",
    }


def test_the_genuine_sheet_verifies(sheet, capsys) -> None:
    code, out = verify(capsys, sheet)
    assert code == 0, out
    assert "结论：全部一致" in out
    for check in ("数字签名", "会议文件", "测评题目", "选票文件", "专家评分文件", "项目指标文件"):
        assert line(out, check).startswith("[通过]"), check
    assert line(out, "重新计算").startswith("[通过]")
    assert line(out, "印刷内容").startswith("[通过]")


def edited(sheet: dict, key: str, old: str, new: str, tmp_path: Path) -> Path:
    """A copy of one input with `old` replaced by `new` (once)."""
    text = sheet[key].read_text(encoding="utf-8")
    assert old in text
    target = tmp_path / sheet[key].name
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


TAMPERED_INPUTS = [
    # (which input, old text, new text, the failed checks' words)
    ("ballots", "T01,town,,,好,", "T01,town,,,差,", ["[不符] 选票文件", "张志强（r03）"]),
    (
        "experts",
        "r01,92,88",
        "r01,72,88",
        ["[不符] 专家评分文件", "王建国（r01） 来源得分.专家点评"],
    ),
    ("indicators", "r06,4.5,50,5", "r06,4.5,50,1", ["[不符] 项目指标文件", "杨丽（r06） 综合等次"]),
]


@pytest.mark.parametrize(("key", "old", "new", "said"), TAMPERED_INPUTS, ids=lambda v: str(v)[:12])
def test_a_changed_input_fails_naming_it(sheet, capsys, tmp_path, key, old, new, said) -> None:
    code, out = verify(capsys, sheet, **{key: edited(sheet, key, old, new, tmp_path)})
    assert code == 1
    for words in said:
        assert words in out, out
    assert line(out, "重新计算").startswith("[不符]")
    assert line(out, "印刷内容").startswith("[不符]")


def test_a_changed_item_list_fails(sheet, capsys, tmp_path) -> None:
    folder = tmp_path / "moved"
    shutil.copytree(sheet["root"] / "items", folder / "items")
    meeting = folder / sheet["meeting"].name
    shutil.copy(sheet["meeting"], meeting)
    items = folder / "items" / "村书记28项.toml"
    items.write_text(items.read_text(encoding="utf-8") + "\n# 改\n", encoding="utf-8")
    code, out = verify(capsys, sheet, meeting=meeting)
    assert code == 1
    assert "[不符] 测评题目：“items/村书记28项.toml”：SHA-256不一致" in out


def test_the_experts_file_left_out_fails_naming_it(sheet, capsys) -> None:
    code, out = verify(capsys, sheet, experts=None)
    assert code == 1
    assert "[不符] 专家评分文件：汇总表打印时用了专家评分文件" in out
    assert "缺少专家评分文件" in out
    assert "来源权重.专家点评：汇总表为0.2，重新计票为（无此项）" in out


def other_identity(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "另一把密钥")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = tmp_path / "other-key.pem", tmp_path / "other-cert.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def test_a_sheet_signed_with_another_key_fails_the_pinned_certificate(sheet, capsys, tmp_path):
    """The genuine figures, rendered and signed with a key of the forger's own (its
    fingerprint printed, so that the page and the attachment agree with the signature)."""
    key, cert = other_identity(tmp_path)
    loaded = load_appraisal(
        sheet["meeting"], sheet["ballots"], sheet["experts"], sheet["indicators"]
    )
    fake = x509.load_pem_x509_certificate(cert.read_bytes()).fingerprint(hashes.SHA256()).hex()
    pdf = render_appraisal(
        loaded.meeting, loaded.result, loaded.inputs, signed_by="另一把密钥", signer_sha256=fake
    )
    signer = signers.SimpleSigner.load(str(key), str(cert))
    assert signer is not None
    meta = signers.PdfSignatureMetadata(
        field_name="PingyiTallySignature",
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    bad = tmp_path / "other-key.pdf"
    signed = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, signer=signer)
    bad.write_bytes(signed.getvalue())
    code, out = verify(capsys, sheet, bad)
    assert code == 1
    assert "[不符] 数字签名：签名证书不是 --cert 指定的证书" in out
    assert line(out, "重新计算").startswith("[通过]")  # the figures themselves are genuine


def test_an_edited_attachment_fails(sheet, capsys, tmp_path) -> None:
    with pikepdf.open(sheet["pdf"]) as doc:
        record = json.loads(doc.attachments[ATTACHMENT].get_file().read_bytes())
        row = next(r for r in record["result"]["reporters"] if r["id"] == "r06")
        row["composite_score"], row["composite_grade"] = 61.0, "一般"
        data = json.dumps(record, ensure_ascii=False).encode("utf-8")
        doc.attachments[ATTACHMENT] = pikepdf.AttachedFileSpec(doc, data, filename=ATTACHMENT)
        bad = tmp_path / "attachment.pdf"
        doc.save(bad)
    code, out = verify(capsys, sheet, bad)
    assert code == 1
    assert line(out, "数字签名").startswith("[不符]")
    assert "杨丽（r06） 综合得分：汇总表为61.0，重新计票为53.69" in out
    assert "杨丽（r06） 综合等次：汇总表为一般，重新计票为差" in out


def test_experts_are_refused_for_a_grade_only_meeting(capsys, tmp_path) -> None:
    demo = [str(EXAMPLES / "demo-meeting.toml"), "--ballots", str(EXAMPLES / "demo-ballots.csv")]
    experts = ["--experts", str(EXAMPLES / "sanping-experts.csv")]
    code = main(["print", "tally", *demo, *experts, "--data", str(tmp_path), "-o", "x.pdf"])
    assert code == 2
    assert "会议文件未设[composite]" in capsys.readouterr().err


def test_a_sheet_printed_without_experts_verifies_without_them(sheet, capsys, tmp_path) -> None:
    """专家点评 缺失: the sheet says so, with the other weights renormalised; verified
    without --experts it passes, with one it names the file as extra."""
    pdf = tmp_path / "no-experts.pdf"
    files = ["--ballots", str(sheet["ballots"]), "--indicators", str(sheet["indicators"])]
    signing = ["--data", str(sheet["root"] / "data")]
    code = main(["print", "tally", str(sheet["meeting"]), *files, *signing, "-o", str(pdf)])
    assert code == 0
    assert "提示：未给出 --experts，专家点评缺失" in capsys.readouterr().out
    text = text_of(pdf)
    assert "专家评分文件 SHA-256：未提供" in text
    assert "专家点评缺失，其权重去掉，其余来源按比例折算" in text
    assert "94.70×50%" in text  # 王建国's 群众测评, its weight renormalised from 40%
    code, out = verify(capsys, sheet, pdf, experts=None)
    assert code == 0, out
    assert "[通过] 专家评分文件：汇总表打印时未用此文件，核验时也未给出" in out
    code, out = verify(capsys, sheet, pdf)
    assert code == 1
    assert "汇总表打印时没有用专家评分文件（该来源缺失），核验时却给出了" in out


def test_experts_are_refused_when_verifying_a_grade_sheet(capsys, tmp_path) -> None:
    demo = [str(EXAMPLES / "demo-meeting.toml"), "--ballots", str(EXAMPLES / "demo-ballots.csv")]
    pdf = tmp_path / "grade.pdf"
    assert main(["print", "tally", *demo, "--data", str(tmp_path / "data"), "-o", str(pdf)]) == 0
    experts = ["--experts", str(EXAMPLES / "sanping-experts.csv")]
    argv = ["verify", str(pdf), "--ballots", demo[2], "--meeting", demo[0], *experts]
    capsys.readouterr()
    assert main(argv) == 2
    assert "只用于核验三评汇总表" in capsys.readouterr().err

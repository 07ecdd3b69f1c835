"""`pingyi print tally` then `pingyi verify`: a signed sheet verifies, and one changed byte in
the PDF, the ballots or the meeting file makes it fail with the right reason."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from cli import main
from cli.files import read_meeting
from cli.signing_files import ensure_identity
from server.datadir import DataDir

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    """The demo meeting's files and its signed tally sheet, made once."""
    root = tmp_path_factory.mktemp("signed")
    meeting = root / "meeting.toml"
    ballots = root / "ballots.csv"
    shutil.copy(EXAMPLES / "demo-meeting.toml", meeting)
    shutil.copy(EXAMPLES / "demo-ballots.csv", ballots)
    pdf = root / "tally.pdf"
    code = main(
        [
            "print",
            "tally",
            str(meeting),
            "--ballots",
            str(ballots),
            "--data",
            str(root / "data"),
            "-o",
            str(pdf),
        ]
    )
    assert code == 0
    return root, meeting, ballots, pdf


def run_verify(capsys, pdf: Path, ballots: Path, meeting: Path, *extra: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["verify", str(pdf), "--ballots", str(ballots), "--meeting", str(meeting), *extra])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def changed(source: Path, target: Path, offset: int, byte: int | None = None) -> Path:
    data = bytearray(source.read_bytes())
    data[offset] = byte if byte is not None else data[offset] ^ 0x01
    target.write_bytes(bytes(data))
    return target


def test_untouched_files_verify(signed, capsys):
    _, meeting, ballots, pdf = signed
    code, out = run_verify(capsys, pdf, ballots, meeting)
    assert code == 0, out
    assert "结论：全部一致" in out
    assert "[通过] 数字签名" in out and "自签名证书" in out
    assert out.count("[通过]") == 5
    assert "[通过] 印刷内容" in out and "逐字一致" in out
    assert "签名者未经核实（未给出 --cert 或 --ca）" in out
    assert re.search(
        r"注意：签名者未核实。请将签名证书SHA-256指纹 [0-9a-f]{64} 与纸质件（汇总表、结果表）", out
    )


def test_signature_is_pades_and_fonts_are_embedded(signed):
    root, _, _, pdf = signed
    with pdf.open("rb") as handle:
        signatures = PdfFileReader(handle).embedded_signatures
        assert len(signatures) == 1
        assert signatures[0].sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    fonts = subprocess.run(
        ["pdffonts", str(pdf)], check=True, capture_output=True, text=True
    ).stdout.splitlines()[2:]
    assert fonts and all(re.search(r"TrueType\s+\S+\s+yes", row) for row in fonts), fonts


def test_pinned_certificate_must_match(signed, capsys, tmp_path):
    root, meeting, ballots, pdf = signed
    own = root / "data" / "signing" / "cert.pem"
    code, out = run_verify(capsys, pdf, ballots, meeting, "--cert", str(own))
    assert code == 0, out
    assert "签名证书与指定证书一致" in out
    _, other = ensure_identity(DataDir(tmp_path / "other"), read_meeting(meeting)[0])
    code, out = run_verify(capsys, pdf, ballots, meeting, "--cert", str(other))
    assert code == 1
    assert "签名证书不是 --cert 指定的证书" in out


def test_changed_byte_in_meeting_file_fails(signed, capsys, tmp_path):
    _, meeting, ballots, pdf = signed
    text = meeting.read_bytes()
    offset = text.index(b"2026-")  # the date: still a valid meeting file, a different one
    bad = changed(meeting, tmp_path / "meeting.toml", offset + 3, ord("7"))
    code, out = run_verify(capsys, pdf, ballots, bad)
    assert code == 1
    assert re.search(r"\[不符\] 会议文件 .*SHA-256不一致", out)
    assert "[通过] 数字签名" in out and "[通过] 选票文件" in out and "[通过] 重新计票" in out
    # The date is printed: the sheet of this meeting file would read differently.
    printed = next(x for x in out.splitlines() if x.startswith("[不符] 印刷内容："))
    assert "汇总表印的是“日期：2026-12-28”，按选票应为“日期：2027-12-28”" in printed, out
    assert "结论：不一致（2项未通过）" in out


def test_changed_byte_in_ballots_fails(signed, capsys, tmp_path):
    _, meeting, ballots, pdf = signed
    lines = ballots.read_bytes().split(b"\n")
    offset = len(lines[0]) + 1 + 2  # third character of the first ballot's id: 001 -> 00x
    bad = changed(ballots, tmp_path / "ballots.csv", offset, ord("x"))
    code, out = run_verify(capsys, pdf, bad, meeting)
    assert code == 1
    assert re.search(r"\[不符\] 选票文件 .*SHA-256不一致", out)
    assert "[通过] 重新计票" in out  # the grades happen to be the same; the digest is not


def test_changed_vote_fails_digest_and_recount(signed, capsys, tmp_path):
    _, meeting, ballots, pdf = signed
    text = ballots.read_text(encoding="utf-8")
    header, *rows = text.splitlines()
    rid = header.split(",")[2]
    rows = [",".join(row.split(",")[:2] + ["差"] + row.split(",")[3:]) for row in rows]
    bad = tmp_path / "ballots.csv"
    bad.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    code, out = run_verify(capsys, pdf, bad, meeting)
    assert code == 1
    name = next(r.name for r in read_meeting(meeting)[0].reporters if r.id == rid)
    assert re.search(rf"\[不符\] 重新计票：.*{name}（{rid}） “差”票数：汇总表为\d+", out), out
    assert re.search(rf"\[不符\] 重新计票：.*{name}（{rid}） 测评等次：汇总表为\S+", out), out
    assert re.search(rf"\[不符\] 印刷内容：.*第1页 {name} 差：汇总表印的是“\d+\(", out), out


@pytest.mark.parametrize("where", ["content", "keywords", "signature", "padding", "append"])
def test_changed_pdf_fails_on_the_signature(signed, capsys, tmp_path, where):
    _, meeting, ballots, pdf = signed
    data = pdf.read_bytes()
    contents = re.search(rb"/Contents <([0-9a-fA-F]+)>", data)
    if where == "content":
        bad = changed(pdf, tmp_path / "t.pdf", data.index(b"stream\n") + 40)
    elif where == "keywords":
        offset = data.index(b"meeting_sha256") + 20
        bad = changed(
            pdf, tmp_path / "t.pdf", offset, ord("0") if data[offset] != ord("0") else ord("1")
        )
    elif where == "signature":
        bad = changed(
            pdf,
            tmp_path / "t.pdf",
            contents.start(1) + 200,
            ord("f") if data[contents.start(1) + 200] != ord("f") else ord("e"),
        )
    elif where == "padding":
        bad = changed(pdf, tmp_path / "t.pdf", contents.end(1) - 10, ord("1"))
    else:
        bad = tmp_path / "t.pdf"
        bad.write_bytes(data + b"\n% appended after signing\n")
    code, out = run_verify(capsys, bad, ballots, meeting)
    assert code == 1, out
    assert "[不符] 数字签名" in out, out


def test_every_sampled_byte_change_in_the_pdf_fails(signed, capsys, tmp_path):
    _, meeting, ballots, pdf = signed
    size = len(pdf.read_bytes())
    for offset in range(7, size, max(1, size // 23)):
        bad = changed(pdf, tmp_path / "t.pdf", offset)
        code, out = run_verify(capsys, bad, ballots, meeting)
        assert code == 1, (offset, out)


def test_bad_input_exits_2(signed, capsys, tmp_path):
    _, meeting, ballots, pdf = signed
    code, out = run_verify(capsys, tmp_path / "missing.pdf", ballots, meeting)
    assert code == 2 and "错误：" in out and "文件不存在" in out
    not_pdf = tmp_path / "x.pdf"
    not_pdf.write_text("hello")
    code, out = run_verify(capsys, not_pdf, ballots, meeting)
    assert code == 2 and "不是PDF文件" in out
    code, out = run_verify(capsys, pdf, ballots, meeting, "--cert", str(tmp_path / "none.pem"))
    assert code == 2 and "none.pem" in out and "文件不存在" in out
    code, out = run_verify(capsys, pdf, ballots, meeting, "--cert", str(not_pdf))
    assert code == 2 and "不是有效的X.509证书" in out

"""The signer and the verifier on bytes (printouts.signing, printouts.verify), and the files
that keep the meeting's key (cli.signing_files)."""

from __future__ import annotations

import io
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.reader import PdfFileReader

from cli.signing_files import ensure_identity, read_identity
from printouts.inputs import digests, parse_ballots, recompute
from printouts.samples import sample_meeting
from printouts.signing import (
    describe,
    fingerprint,
    load_certificate,
    make_identity,
    sign_pdf,
    signer_name,
)
from printouts.tally_sheet import effective_ballots, render_tally
from printouts.verify import verify
from server.datadir import DataDir
from tally.errors import InputError
from tally.meeting_file import parse_meeting_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def identity():
    return make_identity(sample_meeting())


@pytest.fixture(scope="module")
def demo_sheet(identity):
    """The demo meeting's files as bytes and its signed tally sheet."""
    meeting_bytes = (EXAMPLES / "demo-meeting.toml").read_bytes()
    ballots_bytes = (EXAMPLES / "demo-ballots.csv").read_bytes()
    meeting = parse_meeting_text(meeting_bytes.decode("utf-8"))
    ballots = parse_ballots(ballots_bytes, meeting, "demo-ballots.csv")
    result = recompute(meeting, ballots)
    key_pem, cert_pem = identity
    cert = load_certificate(cert_pem)
    pdf = render_tally(  # as `pingyi print tally` renders it: verify re-renders it so
        meeting,
        result,
        digests(meeting_bytes, ballots_bytes),
        signed_by=signer_name(cert),
        effective=effective_ballots(ballots),
        signer_sha256=fingerprint(cert),
    )
    return meeting_bytes, ballots_bytes, sign_pdf(pdf, key_pem, cert_pem)


def test_identity_is_a_self_signed_certificate_for_the_key(identity):
    key_pem, cert_pem = identity
    key = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    cert = load_certificate(cert_pem)
    assert cert.public_key() == key.public_key()
    assert cert.issuer == cert.subject
    common_name = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    title = sample_meeting().title
    assert isinstance(common_name, str) and f"{title} 计票".startswith(common_name)
    assert len(common_name.encode()) <= 60 < len(f"{title} 计票".encode())
    assert signer_name(cert) == "自签名证书"
    assert describe(cert).startswith("自签名证书，主体 ")
    assert make_identity(sample_meeting())[0] != key_pem  # a new key every time


def test_short_meeting_title_is_the_certificate_name_in_full():
    meeting = replace(sample_meeting(), title="述职评议")
    cert = load_certificate(make_identity(meeting)[1])
    common_name = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert common_name == "述职评议 计票"


def test_certificate_in_der_loads_and_garbage_names_its_source(identity):
    cert = load_certificate(identity[1])
    der = cert.public_bytes(serialization.Encoding.DER)
    assert load_certificate(der) == cert
    with pytest.raises(InputError) as caught:
        load_certificate(b"not a certificate", "org/cert.pem")
    assert str(caught.value).startswith("org/cert.pem")
    assert "不是有效的X.509证书" in str(caught.value)


def test_signed_sheet_has_one_pades_signature(demo_sheet):
    signed = demo_sheet[2]
    signatures = PdfFileReader(io.BytesIO(signed)).embedded_signatures
    assert len(signatures) == 1
    assert signatures[0].field_name == "PingyiTallySignature"
    assert signatures[0].sig_object["/SubFilter"] == "/ETSI.CAdES.detached"


def test_verify_takes_bytes_and_pins_the_certificate(demo_sheet, identity):
    meeting_bytes, ballots_bytes, signed = demo_sheet
    verdict = verify(signed, ballots_bytes, meeting_bytes, identity[1])
    assert verdict.ok, verdict.report()
    assert [c.name for c in verdict.checks] == [
        "数字签名",
        "会议文件 meeting.toml",
        "选票文件 ballots.csv",
        "重新计票",
        "印刷内容",
    ]
    other = make_identity(sample_meeting())[1]
    verdict = verify(signed, ballots_bytes, meeting_bytes, other)
    assert not verdict.ok
    assert "签名证书不是 --cert 指定的证书" in verdict.checks[0].detail
    named = verify(signed, b"x" + ballots_bytes, meeting_bytes, ballots_name="b.csv")
    assert [c.ok for c in named.checks] == [True, True, False, False]  # cannot be parsed
    assert named.checks[2].name == "选票文件 b.csv"


def test_verify_reports_a_ballot_file_that_is_not_utf8(demo_sheet):
    meeting_bytes, ballots_bytes, signed = demo_sheet
    verdict = verify(signed, ballots_bytes.replace(b"\xe5", b"\xff", 1), meeting_bytes)
    recount = verdict.checks[-1]
    assert recount.name == "重新计票" and not recount.ok
    assert "不是UTF-8编码" in recount.detail and "CSV UTF-8" in recount.detail


def test_verify_rejects_what_is_not_a_pdf(demo_sheet):
    meeting_bytes, ballots_bytes, _ = demo_sheet
    with pytest.raises(InputError) as caught:
        verify(b"hello", ballots_bytes, meeting_bytes, pdf_name="x.pdf")
    assert str(caught.value).startswith("x.pdf") and "不是PDF文件" in str(caught.value)


def test_sign_rejects_a_key_it_cannot_use(identity):
    key_pem, cert_pem = identity
    key = serialization.load_pem_private_key(key_pem, password=None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    expected = {
        encrypted: "私钥已加密，需要口令：在终端运行时会提示输入，或设置环境变量 PINGYI_KEY_PASSPHRASE",
        b"not a key": "无法读取签名私钥或证书",
    }
    for bad, message in expected.items():
        with pytest.raises(InputError) as caught:
            sign_pdf(b"%PDF-1.4", bad, cert_pem, key_source="org/key.pem")
        assert str(caught.value).startswith("org/key.pem")
        assert message in str(caught.value)
    with pytest.raises(InputError) as caught:
        sign_pdf(b"%PDF-1.4", encrypted, cert_pem, passphrase=b"wrong", key_source="k.pem")
    assert str(caught.value) == "k.pem：私钥口令不正确（无法解密私钥）"
    other = make_identity(sample_meeting())[1]
    with pytest.raises(InputError) as caught:
        sign_pdf(b"%PDF-1.4", key_pem, other, cert_source="c.pem")
    assert "c.pem" in str(caught.value) and "证书与签名私钥不匹配" in str(caught.value)


def test_meeting_identity_is_made_once_and_the_key_is_private(tmp_path):
    data_dir = DataDir(tmp_path / "data")
    key_path, cert_path = ensure_identity(data_dir, sample_meeting())
    assert (key_path, cert_path) == (
        data_dir.signing_dir / "key.pem",
        data_dir.signing_dir / "cert.pem",
    )
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    first = read_identity(key_path, cert_path)
    assert ensure_identity(data_dir, sample_meeting()) == (key_path, cert_path)
    assert read_identity(key_path, cert_path) == first  # not made again
    cert = load_certificate(first[1])
    assert cert.public_key() == serialization.load_pem_private_key(first[0], None).public_key()


def test_missing_key_file_is_an_input_error(tmp_path):
    _, cert_path = ensure_identity(DataDir(tmp_path), sample_meeting())
    with pytest.raises(InputError) as caught:
        read_identity(tmp_path / "missing.pem", cert_path)
    assert "missing.pem" in str(caught.value) and "文件不存在" in str(caught.value)

"""`pingyi print tally --tsa URL`: an RFC 3161 timestamp (PAdES B-T) from a time-stamping
server the test starts on localhost (pyHanko's DummyTimeStamper behind http.server), checked
by `pingyi verify` and by poppler's pdfsig; an unreachable server is a Chinese error."""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps import DummyTimeStamper

from cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
STAMP_TIME = dt.datetime(2026, 12, 28, 9, 30, tzinfo=dt.UTC)


def _tsa_identity() -> tuple[asn1_x509.Certificate, asn1_keys.PrivateKeyInfo]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # DummyTimeStamper
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "测试时间戳服务器")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=400))
        .not_valid_after(now + dt.timedelta(days=400))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    der_key = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return (
        asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        asn1_keys.PrivateKeyInfo.load(der_key),
    )


@pytest.fixture
def tsa_url() -> Iterator[str]:
    """An RFC 3161 server on 127.0.0.1 for the length of one test."""
    cert, key = _tsa_identity()
    stamper = DummyTimeStamper(tsa_cert=cert, tsa_key=key, fixed_dt=STAMP_TIME)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            answer = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _print(tmp_path: Path, out: Path, *extra: str) -> int:
    return main(
        [
            "print",
            "tally",
            str(EXAMPLES / "demo-meeting.toml"),
            "--ballots",
            str(EXAMPLES / "demo-ballots.csv"),
            "--data",
            str(tmp_path / "data"),
            "-o",
            str(out),
            *extra,
        ]
    )


def test_a_timestamped_sheet_verifies_with_the_tsas_time(tsa_url, tmp_path, capsys):
    pdf = tmp_path / "tally.pdf"
    assert _print(tmp_path, pdf, "--tsa", tsa_url) == 0
    assert f"已加RFC 3161时间戳（{tsa_url}）" in capsys.readouterr().out
    code = main(
        [
            "verify",
            str(pdf),
            "--ballots",
            str(EXAMPLES / "demo-ballots.csv"),
            "--meeting",
            str(EXAMPLES / "demo-meeting.toml"),
            "--cert",
            str(tmp_path / "data" / "signing" / "cert.pem"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "带RFC 3161时间戳 2026-12-28 09:30:00 UTC（时间戳服务器 CN=测试时间戳服务器" in out
    if shutil.which("pdfsig"):
        text = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True).stdout
        assert "Signature is Valid" in text and "Total document signed" in text


def test_without_tsa_the_report_says_the_time_is_the_signers(tmp_path, capsys):
    pdf = tmp_path / "tally.pdf"
    assert _print(tmp_path, pdf) == 0
    capsys.readouterr()
    args = ["--ballots", str(EXAMPLES / "demo-ballots.csv")]
    assert main(["verify", str(pdf), *args, "--meeting", str(EXAMPLES / "demo-meeting.toml")]) == 0
    assert "无时间戳（签名时间只是签名者电脑的时钟）" in capsys.readouterr().out


def test_an_unreachable_tsa_is_a_chinese_error(tmp_path, capsys):
    pdf = tmp_path / "tally.pdf"
    url = unused_url()
    assert _print(tmp_path, pdf, "--tsa", url) == 2
    err = capsys.readouterr().err
    assert f"--tsa：无法从时间戳服务器 {url} 获得时间戳" in err and "Traceback" not in err
    assert not pdf.exists()


def unused_url() -> str:
    """The URL of a port on localhost that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/tsa"

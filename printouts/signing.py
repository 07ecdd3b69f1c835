"""Signing the tally sheet: the meeting's key and self-signed certificate, and PAdES with pyHanko.

`ensure_identity` makes an EC P-256 key and a self-signed X.509 certificate under the data
directory's `signing/` at first use (the server calls it at init too), and returns the same
pair ever after. An organisation can pass its own key and certificate instead. `sign_pdf`
adds an invisible PAdES baseline-B signature (no appearance, so no extra font).
"""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from server.datadir import DataDir
from tally.errors import InputError
from tally.model import Meeting

KEY_NAME, CERT_NAME = "key.pem", "cert.pem"
FIELD_NAME = "PingyiTallySignature"


def ensure_identity(data_dir: DataDir, meeting: Meeting) -> tuple[Path, Path]:
    """The meeting's signing key and certificate, created on first use."""
    key_path = data_dir.signing_dir / KEY_NAME
    cert_path = data_dir.signing_dir / CERT_NAME
    if key_path.exists() and cert_path.exists():
        return key_path, cert_path
    data_dir.signing_dir.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, _fit(f"{meeting.title} 计票", 60)),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Pingyi 评议（自签名）"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_pem)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def load_certificate(path: Path) -> x509.Certificate:
    data = _read(path, "证书")
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as error:
        raise InputError(str(path), f"不是有效的X.509证书（PEM或DER）：{error}") from None


def describe(cert: x509.Certificate) -> str:
    """A short Chinese description: subject, whether self-signed, SHA-256 fingerprint."""
    subject = cert.subject.rfc4514_string()
    kind = (
        "自签名证书" if cert.issuer == cert.subject else f"由 {cert.issuer.rfc4514_string()} 签发"
    )
    return f"{kind}，主体 {subject}，SHA-256指纹 {cert.fingerprint(hashes.SHA256()).hex()}"


def sign_pdf(pdf: bytes, key_path: Path, cert_path: Path) -> bytes:
    """Signs pdf (PAdES baseline B, SHA-256) with the key and certificate; returns the bytes."""
    _read(key_path, "私钥")
    load_certificate(cert_path)
    try:
        signer = signers.SimpleSigner.load(str(key_path), str(cert_path), key_passphrase=None)
    except Exception as error:  # pyHanko reports a bad key in many ways
        raise InputError(str(key_path), f"无法读取签名私钥或证书：{error}") from None
    if signer is None:
        raise InputError(str(key_path), "无法读取签名私钥或证书（须为未加密的PEM私钥）")
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason="测评结果汇总表",
        location="Pingyi 评议",
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    out = signers.sign_pdf(writer, meta, signer=signer)
    return out.getvalue()


def _fit(text: str, limit: int) -> str:
    """Cuts text so that its UTF-8 form fits an X.509 name attribute."""
    while len(text.encode()) > limit:
        text = text[:-1]
    return text


def _read(path: Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise InputError(str(path), f"无法读取{what}文件：{error.strerror}") from None

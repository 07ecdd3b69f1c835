"""Signing the tally sheet: the meeting's own key and self-signed certificate, and PAdES.

`make_identity` makes an EC P-256 key and a self-signed X.509 certificate for a meeting, as
PEM bytes (`cli.signing_files` keeps them under the data directory's `signing/`, made once);
an organisation can pass its own key and certificate instead. `sign_pdf` adds an invisible
PAdES baseline-B signature (no appearance, so no extra font) with pyHanko. Nothing here reads
or writes a file: `source` arguments only name the input in an error message.
"""

from __future__ import annotations

import datetime as dt
import io

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from tally.errors import InputError
from tally.model import Meeting

FIELD_NAME = "PingyiTallySignature"


def make_identity(meeting: Meeting) -> tuple[bytes, bytes]:
    """A new key (unencrypted PKCS#8 PEM) and its self-signed certificate (PEM)."""
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
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def load_certificate(data: bytes, source: str = "证书") -> x509.Certificate:
    """An X.509 certificate from PEM or DER bytes."""
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as error:
        raise InputError(source, f"不是有效的X.509证书（PEM或DER）：{error}") from None


def describe(cert: x509.Certificate) -> str:
    """A short Chinese description: subject, whether self-signed, SHA-256 fingerprint."""
    subject = cert.subject.rfc4514_string()
    kind = (
        "自签名证书" if cert.issuer == cert.subject else f"由 {cert.issuer.rfc4514_string()} 签发"
    )
    return f"{kind}，主体 {subject}，SHA-256指纹 {cert.fingerprint(hashes.SHA256()).hex()}"


def signer_name(cert: x509.Certificate) -> str:
    """Who signs, as the sheet's footer says it: 自签名证书, or the certificate's subject."""
    return "自签名证书" if cert.issuer == cert.subject else cert.subject.rfc4514_string()


def sign_pdf(
    pdf: bytes,
    key_pem: bytes,
    cert_pem: bytes,
    *,
    key_source: str = "私钥",
    cert_source: str = "证书",
) -> bytes:
    """Signs pdf (PAdES baseline B, SHA-256) with the key and certificate; returns the bytes."""
    load_certificate(cert_pem, cert_source)
    try:
        signer = _signer(key_pem, cert_pem)
    except Exception as error:  # pyHanko reports a bad key in many ways
        raise InputError(key_source, f"无法读取签名私钥或证书：{error}") from None
    if signer is None:
        raise InputError(key_source, "无法读取签名私钥或证书（须为未加密的PEM私钥）")
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


def _signer(key_pem: bytes, cert_pem: bytes) -> signers.SimpleSigner | None:
    """`signers.SimpleSigner.load` from bytes instead of file names: None when the key or the
    certificate cannot be read, as `load` does."""
    try:
        key = load_private_key_from_pemder_data(key_pem, passphrase=None)
        certs = list(load_certs_from_pemder_data(cert_pem))
        if len(certs) != 1:
            raise ValueError(f"Number of certs should be exactly 1, not {len(certs)}")
    except (ValueError, TypeError):
        return None
    return signers.SimpleSigner(
        signing_cert=certs[0], signing_key=key, cert_registry=SimpleCertificateStore()
    )


def _fit(text: str, limit: int) -> str:
    """Cuts text so that its UTF-8 form fits an X.509 name attribute."""
    while len(text.encode()) > limit:
        text = text[:-1]
    return text

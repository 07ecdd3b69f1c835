"""Signing the tally sheet: the meeting's own key and self-signed certificate, and PAdES.

`make_identity` makes an EC P-256 key and a self-signed X.509 certificate for a meeting, as
PEM bytes (`cli.signing_files` keeps them under the data directory's `signing/`, made once);
an organisation can pass its own key (encrypted or not) and its certificate with the chain
up to its root instead. `sign_pdf` adds an invisible PAdES baseline-B signature (no
appearance, so no extra font) with pyHanko, or B-T with an RFC 3161 timestamp from a
time-stamping server. `fingerprint` is the certificate's SHA-256, printed on the sheet so
that the paper pins its signer. Nothing here reads or writes a file (the TSA is asked over
HTTP): `source` arguments only name the input in an error message.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import urllib.request

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import TimeStamper, TimestampRequestError
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


def load_certificates(data: bytes, source: str = "证书") -> list[x509.Certificate]:
    """Every certificate in PEM bytes (a chain or a bundle of roots), or the one in DER."""
    if b"-----BEGIN" not in data:
        return [load_certificate(data, source)]
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError as error:
        raise InputError(source, f"不是有效的X.509证书（PEM或DER）：{error}") from None
    return certs


def fingerprint(cert: x509.Certificate) -> str:
    """The certificate's SHA-256 fingerprint in hex, as the sheet prints it."""
    return cert.fingerprint(hashes.SHA256()).hex()


def key_is_encrypted(key_pem: bytes) -> bool:
    """Whether the private key needs a passphrase (PKCS#8 or traditional PEM encryption)."""
    return b"ENCRYPTED" in key_pem[:4096]


def signing_certificate(
    key_pem: bytes,
    cert_pem: bytes,
    passphrase: bytes | None = None,
    *,
    key_source: str = "私钥",
    cert_source: str = "证书",
) -> x509.Certificate:
    """The certificate in cert_pem (a chain) that belongs to the key: the one that signs."""
    key = _private_key(key_pem, passphrase, key_source)
    return _leaf(key, load_certificates(cert_pem, cert_source), cert_source)


def sign_pdf(
    pdf: bytes,
    key_pem: bytes,
    cert_pem: bytes,
    *,
    passphrase: bytes | None = None,
    key_source: str = "私钥",
    cert_source: str = "证书",
    tsa_url: str | None = None,
    reason: str = "测评结果汇总表",
) -> bytes:
    """Signs pdf (PAdES baseline B, SHA-256) with the key and certificate; returns the bytes.

    cert_pem may hold a chain: the certificate of the key signs, the others are embedded in
    the signature so that a verifier can build the path to the organisation's root. An
    encrypted key needs its passphrase. With tsa_url, an RFC 3161 timestamp from that server
    is added to the signature (PAdES baseline B-T): the time is then the TSA's, not ours."""
    key = _private_key(key_pem, passphrase, key_source)
    certs = load_certificates(cert_pem, cert_source)
    leaf = _leaf(key, certs, cert_source)
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    as_asn1 = [
        asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in certs
    ]
    signer = signers.SimpleSigner(
        signing_cert=as_asn1[certs.index(leaf)],
        signing_key=asn1_keys.PrivateKeyInfo.load(der),
        cert_registry=SimpleCertificateStore.from_certs(
            [c for c, x in zip(as_asn1, certs, strict=True) if x is not leaf]
        ),
    )
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,  # what is signed, as a PDF reader shows it
        location="Pingyi 评议",
    )
    if tsa_url and not tsa_url.startswith(("http://", "https://")):
        raise InputError(
            "--tsa", f"“{tsa_url}”不是时间戳服务器的网址：应以 http:// 或 https:// 开头"
        )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    stamper = _HttpTimeStamper(tsa_url) if tsa_url else None
    try:
        out = signers.sign_pdf(writer, meta, signer=signer, timestamper=stamper)
    except (OSError, ValueError, TimestampRequestError) as error:
        if stamper is None:
            raise
        raise InputError("--tsa", f"无法从时间戳服务器 {tsa_url} 获得时间戳：{error}") from None
    return out.getvalue()


class _HttpTimeStamper(TimeStamper):
    """RFC 3161 over HTTP (POST application/timestamp-query) with the standard library."""

    def __init__(self, url: str, timeout: float = 15) -> None:
        super().__init__()
        self.url = url
        self.timeout = timeout

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        return await asyncio.to_thread(self._post, req)

    def _post(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        request = urllib.request.Request(
            self.url,
            data=req.dump(),
            headers={"Content-Type": "application/timestamp-query"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            return tsp.TimeStampResp.load(response.read())


def _private_key(key_pem: bytes, passphrase: bytes | None, source: str):
    """The key, or an InputError in Chinese: encrypted without a passphrase, a wrong
    passphrase, not a key."""
    load = (
        serialization.load_pem_private_key
        if b"-----BEGIN" in key_pem
        else serialization.load_der_private_key
    )
    try:
        key = load(key_pem, password=passphrase if key_is_encrypted(key_pem) else None)
    except TypeError:
        raise InputError(
            source,
            "私钥已加密，需要口令：在终端运行时会提示输入，或设置环境变量 PINGYI_KEY_PASSPHRASE",
        ) from None
    except ValueError as error:
        if key_is_encrypted(key_pem) and passphrase is not None:
            raise InputError(source, "私钥口令不正确（无法解密私钥）") from None
        raise InputError(
            source, f"无法读取签名私钥或证书（须为PEM或DER格式的私钥）：{error}"
        ) from None
    except Exception as error:  # an unsupported algorithm and the like
        raise InputError(source, f"无法读取签名私钥：{error}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise InputError(source, "签名私钥须为EC或RSA私钥")
    return key


def _leaf(key, certs: list[x509.Certificate], source: str) -> x509.Certificate:
    public = key.public_key()
    for cert in certs:
        if cert.public_key() == public:
            return cert
    raise InputError(source, "证书与签名私钥不匹配（文件中没有这把私钥的证书）")


def _fit(text: str, limit: int) -> str:
    """Cuts text so that its UTF-8 form fits an X.509 name attribute."""
    while len(text.encode()) > limit:
        text = text[:-1]
    return text

"""The signed sheets, made once for `pingyi print tally`, `pingyi print evaluation`, `pingyi
archive` and the 会后 page's archive button: the signing identity is read here, the sheets are
rendered by `printouts` and signed by `printouts.signing`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from cli.signing_files import ensure_identity, key_passphrase, read_identity
from cli.sources import Loaded, LoadedAppraisal
from printouts import signing
from printouts.evaluation_sheet import render_evaluation
from printouts.tally_sheet import effective_ballots, render_tally
from server.datadir import DataDir
from tally.errors import InputError
from tally.model import Meeting

NOT_FIXED = "综合评价尚未经党组研究确定（会后页面“确定”后才能打印结果表）"


@dataclass(frozen=True)
class Identity:
    """Who signs: the key, its certificate (and chain), the passphrase if the key has one."""

    key_pem: bytes
    cert_pem: bytes
    passphrase: bytes | None
    key_source: str
    cert_source: str
    cert: x509.Certificate

    def sign(self, pdf: bytes, reason: str, tsa_url: str | None = None) -> bytes:
        return signing.sign_pdf(
            pdf,
            self.key_pem,
            self.cert_pem,
            passphrase=self.passphrase,
            key_source=self.key_source,
            cert_source=self.cert_source,
            tsa_url=tsa_url,
            reason=reason,
        )

    @property
    def name(self) -> str:
        return signing.signer_name(self.cert)

    @property
    def fingerprint(self) -> str:
        return signing.fingerprint(self.cert)


def signing_identity(
    key: Path | None, cert: Path | None, data: Path | None, meeting: Meeting
) -> Identity:
    """The organisation's --key/--cert, else the meeting's own pair in the data directory
    (made at the first signature)."""
    if (key is None) != (cert is None):
        raise InputError("--key/--cert", "须同时给出私钥和证书")
    if key is not None and cert is not None:
        key_path, cert_path = key, cert
    elif data is not None:
        key_path, cert_path = ensure_identity(DataDir(data), meeting)
    else:
        raise InputError(
            "--key/--cert", "签名需要会议的数据目录 --data，或单位自己的 --key 和 --cert"
        )
    key_pem, cert_pem = read_identity(key_path, cert_path)
    passphrase = key_passphrase(key_pem, key_path)
    sources = {"key_source": str(key_path), "cert_source": str(cert_path)}
    cert_obj = signing.signing_certificate(key_pem, cert_pem, passphrase, **sources)
    return Identity(key_pem, cert_pem, passphrase, str(key_path), str(cert_path), cert_obj)


def signed_tally(loaded: Loaded, identity: Identity, tsa_url: str | None = None) -> bytes:
    """The signed 测评结果汇总表."""
    pdf = render_tally(
        loaded.meeting,
        loaded.result,
        loaded.digests,
        signed_by=identity.name,
        effective=effective_ballots(loaded.ballots),
        signer_sha256=identity.fingerprint,
        voided=loaded.voided,
    )
    return identity.sign(pdf, "测评结果汇总表", tsa_url)


def signed_evaluation(
    loaded: Loaded,
    identity: Identity,
    tsa_url: str | None = None,
    appraisal: LoadedAppraisal | None = None,
) -> bytes:
    """The signed 综合评价结果表; the 综合评价 must be fixed. A 三评 meeting's (`appraisal`:
    `pingyi print evaluation`, the 会后 page's download, the 备案 package) puts the record's
    综合评价 beside the composite and attaches every input of it."""
    assert loaded.evaluation is not None
    meeting, result, digests = (
        (loaded.meeting, loaded.result, loaded.digests)
        if appraisal is None
        else (appraisal.meeting, appraisal.result, appraisal.inputs)
    )
    pdf = render_evaluation(
        meeting,
        result,
        loaded.evaluation,
        digests,
        signed_by=identity.name,
        signer_sha256=identity.fingerprint,
    )
    return identity.sign(pdf, "综合评价结果表", tsa_url)


def signed_appraisal(
    loaded: LoadedAppraisal, identity: Identity, tsa_url: str | None = None
) -> bytes:
    """The signed 测评结果汇总表 of a 三评 meeting (`printouts.appraisal_sheet`)."""
    from printouts.appraisal_sheet import render_appraisal

    pdf = render_appraisal(
        loaded.meeting,
        loaded.result,
        loaded.inputs,
        signed_by=identity.name,
        signer_sha256=identity.fingerprint,
    )
    return identity.sign(pdf, "测评结果汇总表", tsa_url)

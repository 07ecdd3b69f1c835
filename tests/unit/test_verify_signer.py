"""An organisation's certificates: a sheet signed with an encrypted key whose certificate
comes with its chain (`print tally --key --cert`, the passphrase from PINGYI_KEY_PASSPHRASE),
verified with `--ca` (a trust root: pyHanko's validation context builds the path) or `--cert`
(the chain); a wrong root, a wrong or missing passphrase: a Chinese message, no traceback."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PASSPHRASE = "县委组织部 2026"


def _name(text: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, text),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "中共青川县委组织部"),
        ]
    )


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=not ca,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _cert(subject: str, key, issuer: str, issuer_key, *, ca: bool) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(_usage(ca=ca), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    """A root CA, a signing certificate it issued, its encrypted key and the chain file;
    another root that issued nothing here."""
    root_dir = tmp_path_factory.mktemp("org")
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = _cert("组织部根证书", root_key, "组织部根证书", root_key, ca=True)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _cert("组织部计票签章", leaf_key, "组织部根证书", root_key, ca=False)
    other_key = ec.generate_private_key(ec.SECP256R1())
    other = _cert("别处的根证书", other_key, "别处的根证书", other_key, ca=True)
    files = {
        "root": root_dir / "root.pem",
        "other": root_dir / "other-root.pem",
        "chain": root_dir / "chain.pem",
        "key": root_dir / "key.pem",
    }
    files["root"].write_bytes(_pem(root))
    files["other"].write_bytes(_pem(other))
    files["chain"].write_bytes(_pem(leaf) + _pem(root))
    files["key"].write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(PASSPHRASE.encode()),
        )
    )
    files["leaf_sha256"] = leaf.fingerprint(hashes.SHA256()).hex()  # type: ignore[assignment]
    return files


def _print_args(org, out: Path) -> list[str]:
    demo = [str(EXAMPLES / "demo-meeting.toml"), "--ballots", str(EXAMPLES / "demo-ballots.csv")]
    key = ["--key", str(org["key"]), "--cert", str(org["chain"])]
    return ["print", "tally", *demo, *key, "-o", str(out)]


def _print(org, out: Path, capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = main(_print_args(org, out))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _verify(pdf: Path, capsys, *extra: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(
        [
            "verify",
            str(pdf),
            "--ballots",
            str(EXAMPLES / "demo-ballots.csv"),
            "--meeting",
            str(EXAMPLES / "demo-meeting.toml"),
            *extra,
        ]
    )
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.fixture(scope="module")
def signed(org, tmp_path_factory):
    out = tmp_path_factory.mktemp("signed") / "tally.pdf"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PINGYI_KEY_PASSPHRASE", PASSPHRASE)
        assert main(_print_args(org, out)) == 0
    return out


def test_an_encrypted_key_with_its_chain_signs_and_prints_the_fingerprint(org, signed, capsys):
    code, out = _verify(signed, capsys, "--ca", str(org["root"]))
    assert code == 0, out
    assert "签名证书可追溯到指定的根证书" in out and "由 O=中共青川县委组织部" in out
    assert org["leaf_sha256"] in out
    assert "签名者未核实" not in out


def test_the_chain_as_cert_pins_and_validates(org, signed, capsys):
    code, out = _verify(signed, capsys, "--cert", str(org["chain"]))
    assert code == 0, out
    assert "签名证书与指定证书一致" in out


def test_both_cert_and_ca(org, signed, capsys):
    code, out = _verify(signed, capsys, "--cert", str(org["chain"]), "--ca", str(org["root"]))
    assert code == 0, out
    assert "签名证书与指定证书一致，并可追溯到指定的根证书" in out


def test_another_root_is_refused(org, signed, capsys):
    code, out = _verify(signed, capsys, "--ca", str(org["other"]))
    assert code == 1, out
    assert "[不符] 数字签名：签名证书不能追溯到 --ca 给出的根证书" in out


def test_the_meetings_self_signed_sheet_does_not_chain_to_the_org_root(org, tmp_path, capsys):
    pdf = tmp_path / "self.pdf"
    args = ["--ballots", str(EXAMPLES / "demo-ballots.csv"), "--data", str(tmp_path / "data")]
    assert main(["print", "tally", str(EXAMPLES / "demo-meeting.toml"), *args, "-o", str(pdf)]) == 0
    code, out = _verify(pdf, capsys, "--ca", str(org["root"]))
    assert code == 1
    assert "签名证书不能追溯到 --ca 给出的根证书" in out


def test_a_missing_passphrase_is_a_chinese_error(org, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("PINGYI_KEY_PASSPHRASE", raising=False)
    out = tmp_path / "no.pdf"
    code, text = _print(org, out, capsys)  # pytest's stdin is not a terminal: no prompt
    assert code == 2 and not out.exists()
    assert "私钥已加密，需要口令" in text and "PINGYI_KEY_PASSPHRASE" in text
    assert "Traceback" not in text


def test_a_wrong_passphrase_is_a_chinese_error(org, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PINGYI_KEY_PASSPHRASE", "wrong")
    out = tmp_path / "no.pdf"
    code, text = _print(org, out, capsys)
    assert code == 2 and not out.exists()
    assert f"错误：{org['key']}：私钥口令不正确（无法解密私钥）" in text
    assert "Traceback" not in text


def test_the_passphrase_is_asked_for_on_a_terminal(org, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("PINGYI_KEY_PASSPHRASE", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    asked = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: asked.append(prompt) or PASSPHRASE)
    out = tmp_path / "asked.pdf"
    code, text = _print(org, out, capsys)
    assert code == 0, text
    assert asked == [f"签名私钥 {org['key']} 的口令："]
    assert f"签名证书 SHA-256指纹：{org['leaf_sha256']}" in text

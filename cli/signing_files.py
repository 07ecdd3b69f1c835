"""The files of the key and certificate that sign the tally sheet.

The meeting's own pair lives under the data directory's `signing/` (`key.pem`, readable by its
owner only, and `cert.pem`): `ensure_identity` makes it at first use (`pingyi serve` calls it
at start, so the sheet is signed with the same key however it is printed) and returns the same
pair ever after. An organisation passes its own files with `--key`/`--cert` instead;
`read_identity` reads either, `key_passphrase` gets an encrypted key's passphrase. The keys
themselves are made by `printouts.signing`.
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from cli.files import read_bytes
from printouts.signing import key_is_encrypted, make_identity
from server.datadir import DataDir, write_private
from tally.model import Meeting

KEY_NAME, CERT_NAME = "key.pem", "cert.pem"
PASSPHRASE_ENV = "PINGYI_KEY_PASSPHRASE"


def ensure_identity(data_dir: DataDir, meeting: Meeting) -> tuple[Path, Path]:
    """The meeting's signing key and certificate files, created on first use."""
    key_path = data_dir.signing_dir / KEY_NAME
    cert_path = data_dir.signing_dir / CERT_NAME
    if key_path.exists() and cert_path.exists():
        return key_path, cert_path
    key_pem, cert_pem = make_identity(meeting)
    write_private(key_path, key_pem)
    write_private(cert_path, cert_pem)
    return key_path, cert_path


def read_identity(key_path: Path, cert_path: Path) -> tuple[bytes, bytes]:
    """The key's and the certificate's bytes (the certificate is read first)."""
    cert_pem = read_bytes(cert_path)
    return read_bytes(key_path), cert_pem


def key_passphrase(key_pem: bytes, key_path: Path) -> bytes | None:
    """The passphrase of an encrypted key: PINGYI_KEY_PASSPHRASE, else asked for on the
    terminal; None for a key that is not encrypted, or with no terminal to ask on (signing
    then refuses in Chinese)."""
    if not key_is_encrypted(key_pem):
        return None
    if PASSPHRASE_ENV in os.environ:
        return os.environ[PASSPHRASE_ENV].encode("utf-8")
    if not sys.stdin.isatty():
        return None
    try:
        return getpass.getpass(f"签名私钥 {key_path} 的口令：").encode("utf-8")
    except (EOFError, KeyboardInterrupt):
        return None

"""The meeting's data directory: its secrets and, with no REDIS_URL, the embedded Redis.

Layout (all created on first use; nothing here is a ballot):
    secret.key     hex of 32 random bytes: the card tokens are derived from it
    chair.key      the chair console's key (printed at start, never logged)
    redis/         the embedded Redis's append-only file and snapshot
    signing/       key.pem and cert.pem that sign the tally sheet (made by cli/signing_files.py)
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DataDir:
    root: Path

    @property
    def secret_path(self) -> Path:
        return self.root / "secret.key"

    @property
    def chair_key_path(self) -> Path:
        return self.root / "chair.key"

    @property
    def redis_dir(self) -> Path:
        return self.root / "redis"

    @property
    def signing_dir(self) -> Path:
        return self.root / "signing"

    def ensure(self) -> DataDir:
        self.root.mkdir(parents=True, exist_ok=True)
        self.redis_dir.mkdir(exist_ok=True)
        return self

    def card_secret(self, regenerate: bool = False) -> bytes:
        """The secret behind the card tokens; the same one on every re-print."""
        if regenerate or not self.secret_path.exists():
            _write_private(self.secret_path, secrets.token_hex(32))
        return bytes.fromhex(self.secret_path.read_text().strip())

    def chair_key(self) -> str:
        if not self.chair_key_path.exists():
            _write_private(self.chair_key_path, secrets.token_urlsafe(18))
        return self.chair_key_path.read_text().strip()


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)

"""The meeting's data directory: its secrets and, with no REDIS_URL, the embedded Redis.

Layout (all created on first use; the directory is its owner's alone: 0700, every file 0600):
    secret.key     hex of 32 random bytes: the card tokens are derived from it
    rehearsal.key  the same for the rehearsal's test cards (演练, `pingyi serve --rehearsal`):
                   a real card opens no rehearsal ballot, a test card no real one
    chair.key      the chair console's key (printed at start, never logged)
    setup.key      the setup page's key while `pingyi serve` runs without a meeting file or with
                   --setup: made afresh at each such start, deleted once the meeting is saved
    teller.pub     the 监票人's public key, which each round's key is sealed to (its private
                   half is never here: server/sealing.py)
    redis/         the embedded Redis's append-only file (every ballot) and snapshot
    signing/       key.pem and cert.pem that sign the tally sheet (made by cli/signing_files.py)
"""

from __future__ import annotations

import contextlib
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
    def rehearsal_secret_path(self) -> Path:
        return self.root / "rehearsal.key"

    @property
    def chair_key_path(self) -> Path:
        return self.root / "chair.key"

    @property
    def setup_key_path(self) -> Path:
        return self.root / "setup.key"

    @property
    def teller_public_path(self) -> Path:
        return self.root / "teller.pub"

    @property
    def redis_dir(self) -> Path:
        return self.root / "redis"

    @property
    def signing_dir(self) -> Path:
        return self.root / "signing"

    def ensure(self) -> DataDir:
        """Creates the directory; it and everything in it are its owner's alone (0700/0600),
        files left by an older version included: the AOF holds every ballot."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.redis_dir.mkdir(mode=0o700, exist_ok=True)
        self.root.chmod(0o700)
        for path in self.root.rglob("*"):
            with contextlib.suppress(FileNotFoundError):  # a Redis temp file may just go
                if not path.is_symlink():
                    path.chmod(0o700 if path.is_dir() else 0o600)
        return self

    def card_secret(self, regenerate: bool = False, rehearsal: bool = False) -> bytes:
        """The secret behind the card tokens; the same one on every re-print. `rehearsal`:
        the rehearsal's own (its test cards), in another file."""
        path = self.rehearsal_secret_path if rehearsal else self.secret_path
        if regenerate or not path.exists():
            write_private(path, f"{secrets.token_hex(32)}\n".encode())
        return bytes.fromhex(path.read_text().strip())

    def chair_key(self) -> str:
        return _key_in(self.chair_key_path)

    def admin_key(self) -> str:
        """A deployment's 汇总 page key (`pingyi serve --meetings`, server/season_app.py)."""
        return _key_in(self.root / "admin.key")

    def new_setup_key(self) -> str:
        """A fresh key for the setup page (a one-time key: the last one no longer opens it)."""
        key = typed_key()
        write_private(self.setup_key_path, f"{key}\n".encode())
        return key

    def drop_setup_key(self) -> None:
        self.setup_key_path.unlink(missing_ok=True)


def _key_in(path: Path) -> str:
    """The key kept in this file, made (0600) at first use."""
    if not path.exists():
        write_private(path, f"{typed_key()}\n".encode())
    return path.read_text().strip()


def write_private(path: Path, data: bytes) -> None:
    """Writes a file only its owner can read (0600, in a 0700 directory), atomically."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def typed_key() -> str:
    """A key a person types or passes on a command line: 24 URL-safe characters (144 bits)
    that never start with "-" or "_" (`--chair-key -x…` would be read as another option)."""
    while True:
        key = secrets.token_urlsafe(18)
        if key[0].isalnum():
            return key

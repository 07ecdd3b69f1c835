"""Writing what the commands make (PDF, Excel) to the user's path, whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path

from tally.errors import InputError


def write_output(path: Path, data: bytes) -> None:
    """Writes data to a temporary file next to path, then renames it over path."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as error:
        raise InputError(str(path), f"无法写入：{error.strerror}") from None

"""Reading the user's files: one place that turns every failure into a Chinese InputError.

Decoding and digests are `printouts.inputs`' (bytes in, no files), shared with `verify`.
"""

from __future__ import annotations

from pathlib import Path

from printouts.inputs import decode
from tally.errors import InputError
from tally.meeting_file import parse_meeting_text
from tally.model import Meeting


def read_bytes(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(str(path), "文件不存在") from None
    except IsADirectoryError:
        raise InputError(str(path), "是目录，不是文件") from None
    except OSError as error:
        raise InputError(str(path), f"无法读取：{error.strerror}") from None


def read_text(path: Path) -> str:
    return decode(read_bytes(path), str(path))


def read_meeting(path: Path) -> tuple[Meeting, bytes]:
    """The meeting file, parsed, and its exact bytes (their SHA-256 is what rounds record).
    Item lists it names (`items = "items/…toml"`) are read beside it."""
    data = read_bytes(path)
    text = decode(data, str(path)).removeprefix("\ufeff")
    folder = Path(path).parent
    meeting = parse_meeting_text(
        text, source=str(path), read_items=lambda name: read_text(folder / name)
    )
    return meeting, data

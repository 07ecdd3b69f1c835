"""Where the printouts get their inputs: the meeting file, and the ballots with their result.

Ballots come either from a CSV (`--ballots`, e.g. typed-in paper ballots or an export) or
from the live server's data directory (`--data`, through `server.record_reader.load_record`,
imported only then). The digests printed on the tally sheet are SHA-256 of the exact bytes of
the meeting file and of the ballot export; with `--data` that export is
`format_ballots_csv(...)` in UTF-8, written next to the PDF so that it can be verified.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cli.files import read_bytes, read_meeting, read_text
from cli.outputs import write_output
from printouts.inputs import digests, parse_ballots, recompute, sha256
from tally.ballot_csv import format_ballots_csv
from tally.errors import InputError
from tally.model import Ballot, Meeting

if TYPE_CHECKING:
    from server.record_reader import MeetingRecord


@dataclass
class Loaded:
    meeting: Meeting
    meeting_bytes: bytes
    ballots: list[Ballot]
    ballots_bytes: bytes
    result: dict
    comments: dict[str, str] = field(default_factory=dict)

    @property
    def digests(self) -> dict[str, str]:
        return digests(self.meeting_bytes, self.ballots_bytes)


def load(
    meeting_path: Path,
    ballots_path: Path | None,
    data_dir: Path | None,
    comments_path: Path | None = None,
    export_to: Path | None = None,
) -> Loaded:
    """Reads the meeting and its ballots: from --ballots if given, else from --data."""
    if ballots_path is None and data_dir is None:
        raise InputError("参数", "请给出选票来源：--ballots 选票CSV 或 --data 数据目录")
    meeting, meeting_bytes = read_meeting(meeting_path)
    comments: dict[str, str] = {}
    if ballots_path is not None:
        ballots_bytes = read_bytes(ballots_path)
        ballots = parse_ballots(ballots_bytes, meeting, str(ballots_path))
    else:
        assert data_dir is not None  # checked above
        record = _load_record(meeting, Path(data_dir))
        ballots = list(record.ballots)
        ballots_bytes = format_ballots_csv(meeting, ballots).encode("utf-8")
        comments = dict(record.comments)
    # With --data too, the sheet is what a recount of the export gives (verify recounts it);
    # the server's own result, when there is one, is only compared with it.
    result = recompute(meeting, ballots)
    if ballots_path is None:
        _check_record(record, result, meeting_bytes, meeting_path)
        if export_to is not None:
            write_output(export_to, ballots_bytes)
    if comments_path is not None:
        comments.update(load_comments(comments_path, meeting))
    return Loaded(meeting, meeting_bytes, ballots, ballots_bytes, result, comments)


def load_comments(path: Path, meeting: Meeting) -> dict[str, str]:
    """A JSON object of reporter id → 点评 text (for sheets printed without the server)."""
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as error:
        raise InputError(
            f"{path}:{error.lineno}:{error.colno}", f"JSON格式错误：{error.msg}"
        ) from None
    ids = {r.id for r in meeting.reporters}
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise InputError(str(path), '应为 JSON 对象：{"述职人id": "点评内容", ...}')
    unknown = sorted(set(data) - ids)
    if unknown:
        raise InputError(str(path), f"述职人“{unknown[0]}”不在会议文件中")
    return data


def _load_record(meeting: Meeting, data_dir: Path) -> MeetingRecord:
    if not data_dir.is_dir():
        raise InputError(str(data_dir), "数据目录不存在")
    from server.record_reader import load_record  # only with --data: it brings in the Redis client

    return load_record(meeting, data_dir)  # REDIS_URL, when set, is read there


def _check_record(
    record: MeetingRecord, result: dict, meeting_bytes: bytes, meeting_path: Path
) -> None:
    """Warns (on stderr) about what makes a sheet from the server's record questionable."""
    recorded = {digest for digest in record.meeting_digests.values() if digest}
    if recorded and sha256(meeting_bytes) not in recorded:
        _warn(f"{meeting_path} 与开启投票时记录的会议文件不同（文件在会后被改动？）")
    if any(status == "open" for status in record.rounds.values()):
        _warn("投票尚未结束，汇总表只含目前已投的票")
    if record.result is None:
        _warn("服务器尚未计票（投票未结束？），按已存选票计票")
        return
    ours = {r["id"]: r["final_grade"] for r in result["reporters"]}
    theirs = {r["id"]: r["final_grade"] for r in record.result.get("reporters", [])}
    if ours != theirs:
        _warn("服务器保存的结果与按选票重新计票的结果不同；汇总表按重新计票打印")


def _warn(text: str) -> None:
    print(f"警告：{text}", file=sys.stderr)

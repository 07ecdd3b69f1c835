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
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cli.files import read_bytes, read_meeting, read_text
from cli.outputs import write_output
from printouts.appraisal_sheet import appraisal_inputs, appraise_files
from printouts.inputs import decode, digests, parse_ballots, recompute, sha256
from printouts.sheet_record import voided_entry
from tally.appraisal import appraise
from tally.ballot_csv import format_ballots_csv
from tally.errors import InputError
from tally.meeting_file import parse_meeting_text
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
    # every 点评 and the 讲话 (meeting.views.remarks_view): {kind, reporter, by, text}
    remarks: list[dict[str, str]] = field(default_factory=list)
    voided: list[dict] = field(default_factory=list)  # 重新测评 (sheet_record.voided_entry)
    evaluation: dict | None = None  # 综合评价, once fixed (MeetingRecord.evaluation)

    @property
    def digests(self) -> dict[str, str]:
        return digests(self.meeting_bytes, self.ballots_bytes)


def load(
    meeting_path: Path,
    ballots_path: Path | None,
    data_dir: Path | None,
    comments_path: Path | None = None,
    export_to: Path | None = None,
    redis_url: str | None = None,
) -> Loaded:
    """Reads the meeting and its ballots: from --ballots if given, else from --data (and the
    Redis at `redis_url`, else REDIS_URL, else the data directory's own). For a meeting with
    forms or a composite, `result` is the vote's part alone (`appraise()` without the panel):
    its printouts take the composite from `load_appraisal_from` / `appraisal_of_record`."""
    if ballots_path is None and data_dir is None:
        raise InputError("参数", "请给出选票来源：--ballots 选票CSV 或 --data 数据目录")
    meeting, meeting_bytes = read_meeting(meeting_path)
    remarks: list[dict[str, str]] = []
    voided: list[dict] = []
    evaluation = None
    if ballots_path is not None:
        ballots_bytes = read_bytes(ballots_path)
        ballots = parse_ballots(ballots_bytes, meeting, str(ballots_path))
    else:
        assert data_dir is not None  # checked above
        record = _load_record(meeting, Path(data_dir), redis_url)
        ballots = list(record.ballots)
        ballots_bytes = format_ballots_csv(meeting, ballots).encode("utf-8")
        remarks = list(record.remarks)
        evaluation = record.evaluation
        voided = [
            voided_entry(v.round, list(v.reporters), v.cast, v.reason, v.at) for v in record.voided
        ]
    # With --data too, the sheet is what a recount of the export gives (verify recounts it);
    # the server's own result, when there is one, is only compared with it.
    configured = meeting.appraisal.configured
    result = appraise(meeting, ballots) if configured else recompute(meeting, ballots)
    if ballots_path is None:
        check_recorded_inputs(record, meeting_bytes, ballots_bytes, meeting_path)
        _check_record(record, result)
        if export_to is not None:
            write_output(export_to, ballots_bytes)
    if comments_path is not None:
        remarks = _merged(remarks, load_comments(comments_path, meeting))
    return Loaded(
        meeting, meeting_bytes, ballots, ballots_bytes, result, remarks, voided, evaluation
    )


def _merged(recorded: list[dict[str, str]], given: list[dict[str, str]]) -> list[dict[str, str]]:
    """The recorded remarks with the given ones added; a given one replaces the same
    (kind, reporter, by)."""
    keyed = {(r["kind"], r["reporter"], r["by"]): r for r in recorded}
    keyed.update({(r["kind"], r["reporter"], r["by"]): r for r in given})
    return list(keyed.values())


COMMENTS_SHAPE = '应为 JSON 对象：{"述职人id": "点评内容"} 或 {"述职人id": {"点评人": "点评内容"}}'


def load_comments(path: Path, meeting: Meeting) -> list[dict[str, str]]:
    """点评 texts from a JSON file (for sheets printed without the server, or pasted in
    afterwards): {"reporter id": "text"} for an unnamed 点评, or {"reporter id": {"who": "text"}}
    for named ones."""
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as error:
        raise InputError(
            f"{path}:{error.lineno}:{error.colno}", f"JSON格式错误：{error.msg}"
        ) from None
    if not isinstance(data, dict):
        raise InputError(str(path), COMMENTS_SHAPE)
    ids = {r.id for r in meeting.reporters}
    remarks = []
    for reporter, value in data.items():
        if reporter not in ids:
            raise InputError(str(path), f"述职人“{reporter}”不在会议文件中")
        by_name = {"": value} if isinstance(value, str) else value
        if not isinstance(by_name, dict) or not all(
            isinstance(name, str) and isinstance(text, str) for name, text in by_name.items()
        ):
            raise InputError(f"{path} {reporter}", COMMENTS_SHAPE)
        for name, text in by_name.items():
            remarks.append(
                {"kind": "comment", "reporter": reporter, "by": name.strip(), "text": text}
            )
    return remarks


def _load_record(meeting: Meeting, data_dir: Path, redis_url: str | None) -> MeetingRecord:
    if not data_dir.is_dir():
        raise InputError(str(data_dir), "数据目录不存在")
    from server.record_reader import load_record  # only with --data: it brings in the Redis client

    return load_record(meeting, data_dir, redis_url)  # None: REDIS_URL, when set


def check_recorded_inputs(
    record: MeetingRecord, meeting_bytes: bytes, ballots_bytes: bytes, meeting_path: Path
) -> None:
    """Refuses a meeting file, or a set of stored ballots, other than the ones the room saw:
    the digests recorded (and shown on the projector) when voting opened and when it closed."""
    recorded = {digest for digest in record.meeting_digests.values() if digest}
    if recorded and sha256(meeting_bytes) not in recorded:
        raise InputError(
            str(meeting_path),
            f"与开启投票时记录的会议文件不同（记录为 {_short(*recorded)}，此文件为 "
            f"{_short(sha256(meeting_bytes))}）：会后不能修改会议文件，请使用开会时的那一份",
        )
    # The last round's digest covers every round counted (record.rounds is in opening order).
    counted = [r for r in record.rounds if record.ballot_digests.get(r)]
    everything_counted = bool(record.rounds) and counted == list(record.rounds)
    if everything_counted and record.ballot_digests[counted[-1]] != sha256(ballots_bytes):
        raise InputError(
            "data",
            f"数据目录中的选票与结束投票时记录的不同（记录为 "
            f"{_short(record.ballot_digests[counted[-1]])}，现为 {_short(sha256(ballots_bytes))}）"
            "：选票在结束投票后被改动过，不能据此打印或导出",
        )


def _short(*digests: str) -> str:
    """A digest as the projector shows it: its first eight hex digits, 4-4."""
    return "、".join(f"{d[:4]}-{d[4:8]}" for d in sorted(digests))


def _check_record(record: MeetingRecord, result: dict) -> None:
    """Warns (on stderr) about what makes a sheet from the server's record questionable."""
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


@dataclass
class LoadedAppraisal:
    """A 三评 meeting's inputs, as `pingyi print tally` signs them: the files' digests
    (`appraisal_sheet.appraisal_inputs`) and `appraise()`'s result."""

    meeting: Meeting
    inputs: dict
    result: dict


def read_appraisal_meeting(path: Path) -> tuple[Meeting, bytes, dict[str, bytes]]:
    """The meeting file, its bytes and the bytes of each item list it names (read beside it,
    as `read_meeting` does): the lists decide the item scores, so the sheet digests them."""
    data = read_bytes(path)
    lists: dict[str, bytes] = {}

    def read_items(name: str) -> str:
        lists[name] = read_bytes(Path(path).parent / name)
        return decode(lists[name], str(Path(path).parent / name))

    text = decode(data, str(path)).removeprefix("\ufeff")
    return parse_meeting_text(text, source=str(path), read_items=read_items), data, lists


def load_appraisal(
    meeting_path: Path,
    ballots_path: Path | None,
    experts_path: Path | None,
    indicators_path: Path | None,
) -> LoadedAppraisal:
    """A meeting with forms or a composite, from its files: the ballots (a live record is
    exported first), and the expert scores and indicator values where given."""
    if ballots_path is None:
        raise InputError("参数", "请给出选票来源：--ballots 选票CSV 或 --data 数据目录")
    meeting, meeting_bytes, lists = read_appraisal_meeting(meeting_path)
    ballots_bytes = read_bytes(ballots_path)
    experts_bytes = read_bytes(experts_path) if experts_path is not None else None
    indicators_bytes = None if indicators_path is None else read_bytes(indicators_path)
    result = appraise_files(
        meeting,
        ballots_bytes,
        experts_bytes,
        indicators_bytes,
        names=(str(ballots_path), str(experts_path), str(indicators_path)),
    )
    inputs = appraisal_inputs(meeting_bytes, ballots_bytes, experts_bytes, indicators_bytes, lists)
    return LoadedAppraisal(meeting, inputs, result)


def load_appraisal_from(
    meeting_path: Path,
    ballots_path: Path | None,
    data_dir: Path | None,
    experts_path: Path | None,
    indicators_path: Path | None,
    *,
    export_to: Path | None = None,
    stem: Path | None = None,
    comments_path: Path | None = None,
) -> tuple[Loaded, LoadedAppraisal, list[Path]]:
    """A 三评 meeting's inputs as `pingyi print tally` takes them, for every printout of its
    result: --ballots, --experts and --indicators as given; without --ballots, the live record
    in `data_dir`, with its 专家点评 and 项目指标 where no file is given (`appraisal_of_record`).
    Returns `load()`'s answer too (the remarks, the 综合评价) and the files written."""
    from_record = ballots_path is None
    loaded = load(
        meeting_path,
        ballots_path,
        data_dir,
        comments_path=comments_path,
        export_to=export_to if from_record else None,
    )
    if not from_record:
        return loaded, load_appraisal(meeting_path, ballots_path, experts_path, indicators_path), []
    assert data_dir is not None  # load() refuses neither --ballots nor --data
    appraisal, written = appraisal_of_record(
        meeting_path, loaded, data_dir, experts_path, indicators_path, export_to, stem
    )
    return loaded, appraisal, written


def appraisal_of_record(
    meeting_path: Path,
    loaded: Loaded,
    data_dir: Path,
    experts_path: Path | None = None,
    indicators_path: Path | None = None,
    export_to: Path | None = None,
    stem: Path | None = None,
) -> tuple[LoadedAppraisal, list[Path]]:
    """The record's ballots (`loaded`, read from `data_dir`) appraised with the 专家点评 and
    项目指标 recorded live, unless files are given: the same bytes `pingyi export` writes, so the
    digests are of files one can have. They are written to `export_to` and `<stem>-experts.csv`,
    `<stem>-indicators.csv` when those are given (the signed sheet's files, to verify it with),
    else to a temporary folder removed afterwards."""
    record = _load_record(loaded.meeting, data_dir, None)
    with tempfile.TemporaryDirectory() as folder:
        ballots = export_to or Path(folder) / "选票.csv"
        if export_to is None:  # load() wrote the export where one was asked for
            ballots.write_bytes(loaded.ballots_bytes)
        recorded = export_panel(loaded.meeting, record, stem or Path(folder) / "选票")
        experts, indicators = experts_path or recorded[0], indicators_path or recorded[1]
        appraisal = load_appraisal(meeting_path, ballots, experts, indicators)
    written = [p for p in (export_to, *(recorded if stem is not None else ())) if p is not None]
    return appraisal, written


def export_panel(
    meeting: Meeting, record: MeetingRecord, stem: Path
) -> tuple[Path | None, Path | None]:
    """The 专家点评 and 项目指标 recorded live, written as `<stem>-experts.csv` and
    `<stem>-indicators.csv` (the files `pingyi tally`, `print tally` and `verify` take); None
    for a source with nothing recorded."""
    from tally.item_csv import format_score_table

    written: list[Path | None] = []
    for suffix, table, columns in (
        ("experts", record.experts, _expert_columns(meeting, record.experts)),
        ("indicators", record.indicators, [i.id for i in meeting.appraisal.indicators]),
    ):
        if table is None:
            written.append(None)
            continue
        path = stem.with_name(f"{stem.name}-{suffix}.csv")
        write_output(path, format_score_table(meeting, table, columns).encode("utf-8"))
        written.append(path)
    return written[0], written[1]


def _expert_columns(meeting: Meeting, table: dict | None) -> list[str]:
    panel = meeting.appraisal.experts
    named = [eid for eid, _ in panel.members] if panel is not None else []
    others = sorted({eid for row in (table or {}).values() for eid in row} - set(named))
    return named + others

"""The files the chair console and the 会后 page download (`GET /api/download/{kind}`), made by
the same functions as the `pingyi print`, `pingyi export` and `pingyi archive` commands, so a
page's file says what the command's says. `pingyi serve` hands `make_download` to the server,
which itself prints nothing (docs/architecture.md: the layers)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cli.files import read_meeting
from cli.print_cmd import card_sheet
from cli.signed_sheets import (
    NOT_FIXED,
    signed_appraisal,
    signed_evaluation,
    signed_tally,
    signing_identity,
)
from cli.sources import Loaded, LoadedAppraisal, appraisal_of_record, load
from tally.errors import InputError

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
NOT_COUNTED = "投票尚未结束计票：结束投票后才能下载{what}"
NO_VOTE = "尚未投票：结束投票后才能下载{what}"
# On a rehearsal server (演练) only the cards and the paper ballot, marked 演练; the signed
# and official files come from the meeting's record alone.
REHEARSAL_KINDS = ("cards", "ballots")
NOT_IN_REHEARSAL = "演练不生成正式文件：{what}只在正式会议中生成"

# kind -> what it is called on the page (in the refusals too)
KINDS = {
    "cards": "参会卡",
    "ballots": "述职评议表",
    "tally": "测评结果汇总表",
    "evaluation": "综合评价结果表",
    "feedback": "反馈单",
    "xlsx": "测评结果表",
    "export": "选票导出",
    "archive": "备案材料",
}

Download = tuple[str, bytes, str]  # file name, bytes, media type


def make_download(
    kind: str, meeting_path: Path, data_dir: Path, public_url: str, rehearsal: bool = False
) -> Download:
    """One file for the page. Raises KeyError for an unknown kind, InputError (in Chinese)
    for one that cannot be made yet, or not in a rehearsal (`rehearsal`: its files are
    named 演练, its cards are its own test cards)."""
    what = KINDS[kind]
    if rehearsal and kind not in REHEARSAL_KINDS:
        raise InputError("", NOT_IN_REHEARSAL.format(what=what))
    if kind == "cards":
        return _cards(meeting_path, data_dir, public_url, rehearsal)
    if kind == "ballots":
        from printouts.ballot_form import render_ballots
        from printouts.item_ballot_form import render_item_ballots

        meeting, _ = read_meeting(meeting_path)
        render = render_item_ballots if meeting.appraisal.forms else render_ballots
        return f"{'演练-' if rehearsal else ''}{what}.pdf", render(meeting), PDF
    if kind == "archive":
        from cli.archive_cmd import build_package

        name, package, _ = build_package(meeting_path, data_dir)
        return name, package, "application/zip"
    loaded = _counted(meeting_path, data_dir, what)
    if kind in APPRAISAL_MAKERS and loaded.meeting.appraisal.configured:
        # 三评: the composite, from the record's export and its 专家点评 and 项目指标 (a
        # source not recorded is missing: its weight renormalised, as the files say)
        appraisal, _ = appraisal_of_record(meeting_path, loaded, data_dir)
        return APPRAISAL_MAKERS[kind](loaded, appraisal, data_dir, what)
    return MAKERS[kind](loaded, data_dir, what)


def _cards(meeting_path: Path, data_dir: Path, public_url: str, rehearsal: bool) -> Download:
    meeting, _ = read_meeting(meeting_path)
    if meeting.join != "cards":
        raise InputError("", "本次会议开放入场（扫码入场，不用参会卡），没有参会卡可打印")
    pdf, _ = card_sheet(meeting, data_dir, public_url, rehearsal=rehearsal)
    return ("演练参会卡.pdf" if rehearsal else "参会卡.pdf"), pdf, PDF


def _counted(meeting_path: Path, data_dir: Path, what: str) -> Loaded:
    """The record, refused while a round is open or before any is counted: a sheet of half a
    vote is no sheet (`pingyi print` would only warn; a page cannot)."""
    from server.record_reader import load_record

    meeting, _ = read_meeting(meeting_path)
    record = load_record(meeting, data_dir)  # a round still sealed: InputError, said so
    if not record.rounds:
        raise InputError("", NO_VOTE.format(what=what))
    if "open" in record.rounds.values() or record.result is None:
        raise InputError("", NOT_COUNTED.format(what=what))
    return load(meeting_path, None, data_dir)


def _appraisal_tally(
    loaded: Loaded, appraisal: LoadedAppraisal, data_dir: Path, what: str
) -> Download:
    identity = signing_identity(None, None, data_dir, loaded.meeting)
    return f"{what}.pdf", signed_appraisal(appraisal, identity), PDF


def _appraisal_feedback(
    loaded: Loaded, appraisal: LoadedAppraisal, data_dir: Path, what: str
) -> Download:
    from printouts.feedback import render_feedback

    pdf = render_feedback(
        loaded.meeting, appraisal.result, loaded.remarks, evaluation=loaded.evaluation
    )
    return f"{what}.pdf", pdf, PDF


def _appraisal_xlsx(
    loaded: Loaded, appraisal: LoadedAppraisal, data_dir: Path, what: str
) -> Download:
    from printouts.appraisal_xlsx import appraisal_xlsx

    workbook = appraisal_xlsx(appraisal.result, loaded.meeting, appraisal.inputs, loaded.evaluation)
    return f"{what}.xlsx", workbook, XLSX


def _appraisal_evaluation(
    loaded: Loaded, appraisal: LoadedAppraisal, data_dir: Path, what: str
) -> Download:
    if loaded.evaluation is None:
        raise InputError("", NOT_FIXED)
    identity = signing_identity(None, None, data_dir, loaded.meeting)
    return f"{what}.pdf", signed_evaluation(loaded, identity, appraisal=appraisal), PDF


def _tally(loaded: Loaded, data_dir: Path, what: str) -> Download:
    identity = signing_identity(None, None, data_dir, loaded.meeting)
    return f"{what}.pdf", signed_tally(loaded, identity), PDF


def _evaluation(loaded: Loaded, data_dir: Path, what: str) -> Download:
    if loaded.evaluation is None:
        raise InputError("", NOT_FIXED)
    identity = signing_identity(None, None, data_dir, loaded.meeting)
    return f"{what}.pdf", signed_evaluation(loaded, identity), PDF


def _feedback(loaded: Loaded, data_dir: Path, what: str) -> Download:
    from printouts.feedback import render_feedback

    pdf = render_feedback(
        loaded.meeting, loaded.result, loaded.remarks, evaluation=loaded.evaluation
    )
    return f"{what}.pdf", pdf, PDF


def _xlsx(loaded: Loaded, data_dir: Path, what: str) -> Download:
    from printouts.xlsx import results_xlsx

    workbook = results_xlsx(
        loaded.result, loaded.meeting, loaded.digests, evaluation=loaded.evaluation
    )
    return f"{what}.xlsx", workbook, XLSX


def _export(loaded: Loaded, data_dir: Path, what: str) -> Download:
    # The bytes the tally sheet's digest is of: `pingyi verify --ballots` takes this file.
    return "选票.csv", loaded.ballots_bytes, CSV


MAKERS: dict[str, Callable[[Loaded, Path, str], Download]] = {
    "tally": _tally,
    "evaluation": _evaluation,
    "feedback": _feedback,
    "xlsx": _xlsx,
    "export": _export,
}

# A 三评 meeting's files, made from its composite (`pingyi print tally`, `print evaluation`,
# `print feedback`, `print xlsx` make the same); its export is its ballots, as any meeting's.
APPRAISAL_MAKERS: dict[str, Callable[[Loaded, LoadedAppraisal, Path, str], Download]] = {
    "tally": _appraisal_tally,
    "evaluation": _appraisal_evaluation,
    "feedback": _appraisal_feedback,
    "xlsx": _appraisal_xlsx,
}

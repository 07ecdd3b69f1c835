"""`pingyi archive`: the 备案 package, filed with the level above within 7 days of the meeting.

Everything comes from the meeting file and the server's record (`cli.sources.load`,
`server.record_reader.load_record`); the sheets are signed with the same key as `pingyi print
tally` (the meeting's own, or --key/--cert), and so is the package's list. The package itself
is made by `printouts.archive` (bytes in, bytes out); it is checked by
`printouts.verify_archive`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from cli.outputs import write_output
from cli.signed_sheets import (
    Identity,
    signed_appraisal,
    signed_evaluation,
    signed_tally,
    signing_identity,
)
from cli.sources import Loaded, appraisal_of_record, load, read_appraisal_meeting
from meeting.evaluation import filing_deadline
from printouts import archive as a
from printouts import signing
from printouts.evaluation_sheet import derived_outcomes
from printouts.feedback import render_feedback
from printouts.xlsx import results_xlsx
from tally.errors import InputError

NOT_FIXED = "综合评价尚未经党组研究确定，不能生成备案材料"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "archive",
        help="make the signed filing package of the meeting (备案材料)",
        description="Write one zip with the meeting file, the ballots, the signed tally sheet "
        "and 综合评价结果表, the feedback sheets, the results workbook, the comments and "
        "speech, a 整改方案 template per reporter to be 约谈提醒, and a signed list of them "
        "all (备案清单.pdf, manifest.json). Needs the 综合评价 fixed by the 党组.",
    )
    parser.add_argument("meeting", type=Path, help="the meeting file (TOML)")
    parser.add_argument(
        "--data", type=Path, required=True, metavar="DIR", help="the server's data directory"
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="FILE",
        help="the zip to write [备案-<meeting date>-<unit>.zip in the current directory]",
    )
    parser.add_argument(
        "--key",
        type=Path,
        help="the organisation's signing key (PEM or DER) [the meeting's own, in --data]",
    )
    parser.add_argument("--cert", type=Path, help="its certificate (PEM), with --key")
    parser.set_defaults(func=run_archive)


def run_archive(args: argparse.Namespace) -> int:
    name, package, notes = build_package(args.meeting, args.data, None, args.key, args.cert)
    output = args.output or Path(name)
    write_output(output, package)
    print(f"已写入并签名备案包 {output}")
    for note in notes:
        print(f"说明：{note}")
    return 0


def build_package(
    meeting_path: Path,
    data_dir: Path,
    redis_url: str | None = None,
    key: Path | None = None,
    cert: Path | None = None,
) -> tuple[str, bytes, list[str]]:
    """The 备案 package of the meeting's record: its default file name, its bytes and what it
    says of itself (for `pingyi archive` and the 会后 page's button, `GET /api/archive`)."""
    loaded = load(meeting_path, None, data_dir, redis_url=redis_url)
    if loaded.evaluation is None:
        raise InputError("综合评价", NOT_FIXED)
    meeting = loaded.meeting
    identity = signing_identity(key, cert, data_dir, meeting)
    if meeting.appraisal.configured:
        files = _appraisal_files(meeting_path, loaded, data_dir, identity)
    else:
        files = {
            a.MEETING_FILE: loaded.meeting_bytes,
            a.BALLOTS_FILE: loaded.ballots_bytes,
            a.TALLY_FILE: signed_tally(loaded, identity),
            a.EVALUATION_FILE: signed_evaluation(loaded, identity),
            a.FEEDBACK_FILE: render_feedback(
                meeting, loaded.result, loaded.remarks, evaluation=loaded.evaluation
            ),
            a.XLSX_FILE: results_xlsx(loaded.result, meeting, loaded.digests, loaded.evaluation),
            a.REMARKS_FILE: a.remarks_text(meeting, loaded.remarks).encode("utf-8"),
        }
    plans = _plans(loaded)
    files.update(plans)
    deadline = filing_deadline(meeting.date)
    notes = [
        f"整改方案：为综合评价等次需约谈提醒、限期整改的{len(plans)}位述职人各附一份模板"
        if plans
        else "整改方案：无述职人需约谈提醒、限期整改，未附整改方案模板",
        f"{len(files) + 2}个文件，签名：{signing.describe(identity.cert)}",
        f"备案期限：{deadline}前（会议召开后7日内上报）",
    ]
    package = a.build_archive(
        files,
        meeting,
        filing_deadline=deadline,
        made_at=time.time(),
        signer_sha256=identity.fingerprint,
        sign=lambda pdf: identity.sign(pdf, "备案清单"),
        notes=notes[:1],
    )
    return a.archive_name(meeting), package, notes


def _appraisal_files(
    meeting_path: Path, loaded: Loaded, data_dir: Path, identity: Identity
) -> dict[str, bytes]:
    """A 三评 meeting's package: the grade one's files made from the composite (the 三评
    汇总表 as 测评结果汇总表.pdf), and every input of it besides the meeting file and the
    ballots, so that the package alone recounts it: the item lists the meeting file names
    (under the names it gives them, so that they lie beside 会议文件.toml when unpacked) and the
    专家点评 and 项目指标 recorded live (`sources.export_panel`; none where nothing was)."""
    from printouts.appraisal_xlsx import appraisal_xlsx

    meeting = loaded.meeting
    _, _, lists = read_appraisal_meeting(meeting_path)
    for name in lists:
        if a.bad_member_name(name) or name in a.RESERVED:
            raise InputError(str(meeting_path), f"测评题目“{name}”的路径不能放入备案包：{NO_PATH}")
    with tempfile.TemporaryDirectory() as folder:
        stem = Path(folder) / "panel"
        appraisal, written = appraisal_of_record(meeting_path, loaded, data_dir, stem=stem)
        panel = {path.name.removeprefix("panel-"): path.read_bytes() for path in written}
    files = {a.MEETING_FILE: loaded.meeting_bytes, **dict(sorted(lists.items()))}
    files[a.BALLOTS_FILE] = loaded.ballots_bytes
    for name, written_as in (
        (a.EXPERTS_FILE, "experts.csv"),
        (a.INDICATORS_FILE, "indicators.csv"),
    ):
        if written_as in panel:
            files[name] = panel[written_as]
    result = appraisal.result
    files |= {
        a.TALLY_FILE: signed_appraisal(appraisal, identity),
        a.EVALUATION_FILE: signed_evaluation(loaded, identity, appraisal=appraisal),
        a.FEEDBACK_FILE: render_feedback(
            meeting, result, loaded.remarks, evaluation=loaded.evaluation
        ),
        a.XLSX_FILE: appraisal_xlsx(result, meeting, appraisal.inputs, loaded.evaluation),
        a.REMARKS_FILE: a.remarks_text(meeting, loaded.remarks).encode("utf-8"),
    }
    return files


NO_PATH = "请用会议文件所在文件夹之内的相对路径（不含“..”）"


def _plans(loaded: Loaded) -> dict[str, bytes]:
    """整改方案/<序号>-<姓名>.docx for each reporter on the 约谈提醒、限期整改 list."""
    from printouts.rectification_plan import plan_name, render_plan  # python-docx

    assert loaded.evaluation is not None
    meeting = loaded.meeting
    entries = loaded.evaluation["entries"]
    interview = set(derived_outcomes(list(entries.values()), meeting)["interview"])
    plans = {}
    for index, reporter in enumerate(meeting.reporters, start=1):
        if reporter.id in interview:
            plans[plan_name(index, reporter)] = render_plan(
                meeting, reporter, entries[reporter.id], loaded.evaluation["fixed"]
            )
    return plans

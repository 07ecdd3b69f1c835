"""The 三评 runs of `pingyi print tally` and `pingyi print evaluation`, and what every print
of a 三评 meeting shares: its inputs from --ballots/--data, --experts and --indicators
(`cli.sources.load_appraisal_from`), and the note on a source left out."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.outputs import write_output
from cli.signed_sheets import (
    NOT_FIXED,
    signed_appraisal,
    signed_evaluation,
    signing_identity,
)
from cli.sources import Loaded, LoadedAppraisal, load_appraisal_from
from printouts import signing
from printouts.appraisal_sheet import FILE_NAMES, NOT_GIVEN
from tally.errors import InputError

NO_COMPOSITE = "会议文件未设[composite]，不能使用专家评分或项目指标"


def no_panel_files(args: argparse.Namespace) -> None:
    if args.experts is not None or args.indicators is not None:
        raise InputError("--experts/--indicators", NO_COMPOSITE)


def run_appraisal_tally(args: argparse.Namespace) -> int:
    """The 三评 sheet (`printouts.appraisal_sheet`): from --ballots, --experts, --indicators,
    or from the live record in --data (its ballots exported beside the PDF, as for a grade
    sheet: the file `pingyi verify --ballots` takes)."""
    export = stem = None
    if args.ballots is None and args.data is not None:  # the record, its panel's files beside it
        export = args.export_ballots or args.output.with_name(f"{args.output.stem}-ballots.csv")
        stem = args.output.with_name(args.output.stem)
    _, loaded, written = appraisal_of_args(args, export_to=export, stem=stem)
    if written:
        print(
            f"已导出 {'、'.join(map(str, written))}"
            "（核验汇总表时用 --ballots/--experts/--indicators 给出）"
        )
    identity = signing_identity(args.key, args.cert, args.data, loaded.meeting)
    write_output(args.output, signed_appraisal(loaded, identity, args.tsa))
    print(f"已写入并签名 {args.output}（三评；{signing.describe(identity.cert)}）")
    _say_inputs(loaded, identity.fingerprint, args.tsa)
    missing_sources(loaded)
    return 0


def _say_inputs(loaded: LoadedAppraisal, fingerprint: str, tsa: str | None) -> None:
    """What a signed 三评 sheet was made of, as it prints them: each input's digest (未提供 for
    a source not given), the signer's fingerprint, the timestamp's server."""
    print(f"会议文件 SHA-256：{loaded.inputs['meeting_sha256']}")
    for key, label in FILE_NAMES.items():
        print(f"{label} SHA-256：{loaded.inputs[key] or NOT_GIVEN}")
    print(f"签名证书 SHA-256指纹：{fingerprint}")
    if tsa:
        print(f"已加RFC 3161时间戳（{tsa}）")


def appraisal_of_args(
    args: argparse.Namespace, **where: Path | None
) -> tuple[Loaded, LoadedAppraisal, list[Path]]:
    """A 三评 meeting's result from the command's --ballots/--data, --experts, --indicators
    (and --comments, for the feedback sheets): the same for every printout of it."""
    comments = getattr(args, "comments", None)
    return load_appraisal_from(
        args.meeting,
        args.ballots,
        args.data,
        args.experts,
        args.indicators,
        comments_path=comments,
        **where,
    )


def missing_sources(loaded: LoadedAppraisal) -> None:
    """Says which source of the composite had no file (nor record): its weight renormalised."""
    composite = loaded.meeting.appraisal.composite
    used = {s.id: s.name for s in composite.sources} if composite is not None else {}
    for source in ("experts", "indicators"):
        if source in used and loaded.inputs[f"{source}_sha256"] is None:
            print(f"提示：未给出 --{source}，{used[source]}缺失，其权重在其余来源间按比例折算")


def run_appraisal_evaluation(args: argparse.Namespace) -> int:
    """The 三评 meeting's 综合评价结果表: its 测评等次 and 综合得分 from the composite, as `print
    tally` computes it (the record's 专家点评 and 项目指标 unless --experts/--indicators), the
    files it was computed from written beside the PDF to verify it with."""
    export = args.export_ballots or args.output.with_name(f"{args.output.stem}-ballots.csv")
    stem = args.output.with_name(args.output.stem)
    loaded, appraisal, written = load_appraisal_from(
        args.meeting, None, args.data, args.experts, args.indicators, export_to=export, stem=stem
    )
    if not loaded.evaluation:
        raise InputError(str(args.data), NOT_FIXED)
    identity = signing_identity(args.key, args.cert, args.data, loaded.meeting)
    write_output(args.output, signed_evaluation(loaded, identity, args.tsa, appraisal))
    print(f"已写入并签名 {args.output}（三评；{signing.describe(identity.cert)}）")
    print(f"综合评价经党组于{loaded.evaluation['fixed']['studied_on']}研究确定")
    _say_inputs(appraisal, identity.fingerprint, args.tsa)
    print(
        f"已导出 {'、'.join(map(str, written))}"
        "（核验结果表时用 --ballots/--experts/--indicators 给出）"
    )
    missing_sources(appraisal)
    return 0

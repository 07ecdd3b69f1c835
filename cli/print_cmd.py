"""`pingyi print {cards,ballots,tally,evaluation,feedback,xlsx}` and `pingyi verify`.

The files are read and written here; the renderers, the signer and the verifier only turn
bytes and records into bytes (or a verdict).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import urlsplit

from cli.addresses import is_loopback
from cli.appraisal_prints import (
    appraisal_of_args,
    missing_sources,
    no_panel_files,
    run_appraisal_evaluation,
    run_appraisal_tally,
)
from cli.files import read_bytes, read_meeting
from cli.outputs import write_output
from cli.signed_sheets import NOT_FIXED, signed_evaluation, signed_tally, signing_identity
from cli.sources import LoadedAppraisal, load
from meeting.join_cards import issue_cards
from printouts import signing
from printouts.ballot_form import render_ballots
from printouts.card_sheet import render_cards
from printouts.feedback import render_feedback
from printouts.item_ballot_form import papers, render_item_ballots
from printouts.xlsx import results_xlsx
from server.datadir import DataDir
from tally.errors import InputError
from tally.model import Meeting


def register(subparsers: argparse._SubParsersAction) -> None:
    printer = subparsers.add_parser(
        "print",
        help="print the meeting's paper as PDF (参会卡、评议表、汇总表、综合评价结果表、反馈单)",
        description="Make the paper of the meeting day as PDF with embedded fonts.",
    )
    kinds = printer.add_subparsers(dest="kind", required=True, metavar="KIND")

    cards = _kind(kinds, "cards", "join cards with QR codes and short codes (参会卡)")
    cards.add_argument(
        "--data",
        type=Path,
        required=True,
        metavar="DIR",
        help="the meeting's data directory (holds the card secret)",
    )
    cards.add_argument(
        "--url",
        required=True,
        metavar="URL",
        help="base URL the phones open, e.g. http://192.168.1.10:8000",
    )
    cards.add_argument(
        "--allow-loopback",
        action="store_true",
        help="accept a URL only this machine can open (127.x, ::1, localhost): no phone can",
    )
    cards.add_argument(
        "--regenerate",
        action="store_true",
        help="issue new tokens: every card printed before stops working",
    )
    cards.add_argument(
        "--rehearsal",
        action="store_true",
        help="the rehearsal's test cards (演练), from their own secret: they open only "
        "`pingyi serve --rehearsal`, never the meeting",
    )
    cards.set_defaults(func=run_cards)

    ballots = _kind(kinds, "ballots", "the paper ballot (述职评议表), 30 reporters per A4 page")
    ballots.set_defaults(func=run_ballots)

    tally = _kind(kinds, "tally", "the signed tally sheet (测评结果汇总表)")
    _ballot_source(tally)
    _signing_options(tally)
    tally.add_argument(
        "--export-ballots",
        type=Path,
        metavar="CSV",
        help="with --data: where to write the ballot export the digest is of "
        "[next to the PDF: <name>-ballots.csv]",
    )
    _panel_files(tally)
    tally.set_defaults(func=run_tally)

    evaluation = _kind(kinds, "evaluation", "the signed 综合评价结果表 (after the 党组 fixed it)")
    evaluation.add_argument(
        "--data",
        type=Path,
        required=True,
        metavar="DIR",
        help="the server's data directory: its ballots, the fixed 综合评价 and the signing key",
    )
    _signing_options(evaluation)
    evaluation.add_argument(
        "--export-ballots",
        type=Path,
        metavar="CSV",
        help="where to write the ballot export the digest is of [next to the PDF: "
        "<name>-ballots.csv]",
    )
    _panel_files(evaluation)
    evaluation.set_defaults(func=run_evaluation)

    feedback = _kind(kinds, "feedback", "feedback sheets, one page per reporter (反馈单)")
    _ballot_source(feedback)
    feedback.add_argument(
        "--comments",
        type=Path,
        metavar="JSON",
        help='the chair\'s 点评 texts: {"reporter id": "text"}',
    )
    feedback.add_argument("--reporter", metavar="ID", help="only this reporter's sheet")
    _panel_files(feedback)
    feedback.set_defaults(func=run_feedback)

    xlsx = _kind(kinds, "xlsx", "the results table as an Excel workbook (上报)")
    _ballot_source(xlsx)
    _panel_files(xlsx)
    xlsx.set_defaults(func=run_xlsx)

    verify = subparsers.add_parser(
        "verify",
        help="check a signed tally sheet, 综合评价结果表 or 备案 package (核验)",
        description="A sheet (PDF): checks its signature (and its signer, with --cert or --ca), "
        "the SHA-256 of the ballot and meeting files, every figure of the attached record "
        "against a fresh tally, and the printed text against it; a 三评 sheet also the "
        "--experts and --indicators files and the item lists beside the meeting file. "
        "A 备案 package (zip): checks "
        "the signed list, every file against it, and each sheet in it against the package's own "
        "meeting file and ballots. Exit 0: all match; 1: a mismatch; 2: bad input.",
    )
    verify.add_argument(
        "pdf", type=Path, metavar="FILE", help="the signed sheet (PDF) or the 备案 package (zip)"
    )
    verify.add_argument("--ballots", type=Path, help="the ballot CSV (with a sheet)")
    verify.add_argument("--meeting", type=Path, help="the meeting file (TOML; with a sheet)")
    verify.add_argument(
        "--experts", type=Path, help="the expert scores (专家评分 CSV; with a 三评 sheet)"
    )
    verify.add_argument(
        "--indicators", type=Path, help="the indicator values (项目指标 CSV; with a 三评 sheet)"
    )
    verify.add_argument(
        "--cert",
        type=Path,
        help="the certificate the sheet must be signed with (PEM; may hold its chain)",
    )
    verify.add_argument(
        "--ca",
        type=Path,
        help="trust root(s) (PEM): the signing certificate must chain to one of them",
    )
    verify.set_defaults(func=run_verify)


def _kind(kinds, name: str, help_text: str) -> argparse.ArgumentParser:
    parser = kinds.add_parser(name, help=help_text, description=help_text)
    parser.add_argument("meeting", type=Path, help="the meeting file (TOML)")
    parser.add_argument(
        "-o", "--output", type=Path, required=True, metavar="OUT", help="the file to write"
    )
    return parser


def _signing_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--key",
        type=Path,
        help="the organisation's signing key (PEM or DER; if encrypted, the passphrase is "
        "asked for, or read from PINGYI_KEY_PASSPHRASE)",
    )
    parser.add_argument(
        "--cert",
        type=Path,
        help="its certificate (PEM), with --key; may hold the chain up to the root",
    )
    parser.add_argument(
        "--tsa",
        metavar="URL",
        help="add an RFC 3161 timestamp from this time-stamping server (PAdES B-T)",
    )


def _panel_files(parser: argparse.ArgumentParser) -> None:
    """--experts and --indicators: what a 三评 result is made from besides the ballots (with
    --data and without them, the record's own, as `load_appraisal_from` takes them)."""
    parser.add_argument(
        "--experts",
        type=Path,
        metavar="CSV",
        help="三评 meetings ([composite]): the expert scores (专家评分), with --ballots",
    )
    parser.add_argument(
        "--indicators",
        type=Path,
        metavar="CSV",
        help="三评 meetings ([composite]): the indicator values (项目指标), with --ballots",
    )


def _ballot_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ballots",
        type=Path,
        metavar="CSV",
        help="take the ballots from this CSV (paper ballots or an export)",
    )
    parser.add_argument(
        "--data",
        type=Path,
        metavar="DIR",
        help="the server's data directory: its ballots, result and comments "
        "(and, for tally, the meeting's signing key)",
    )


LOOPBACK = (
    "“{url}”仅本机可访问：手机扫码无法打开。请用手机能访问的地址，如 http://192.168.1.10:8000"
    "（pingyi serve --host 0.0.0.0 会列出本机的局域网地址）；确需本机地址时加 --allow-loopback"
)


def run_cards(args: argparse.Namespace) -> int:
    meeting, _ = read_meeting(args.meeting)
    if meeting.join != "cards":
        print(f'提示：会议设置 join = "{meeting.join}"，服务器不使用参会卡。', file=sys.stderr)
    url = urlsplit(args.url)
    if url.scheme not in ("http", "https") or not url.netloc:
        raise InputError("--url", f"“{args.url}”不是网址：应如 http://192.168.1.10:8000")
    if is_loopback(args.url) and not args.allow_loopback:  # 80 cards no phone can open
        raise InputError("--url", LOOPBACK.format(url=args.url))
    rehearsal = args.rehearsal
    pdf, count = card_sheet(meeting, args.data, args.url, args.regenerate, rehearsal)
    write_output(args.output, pdf)
    what = "演练参会卡（仅用于 pingyi serve --rehearsal）" if rehearsal else "参会卡"
    print(f"已写入 {args.output}：{count} 张{what}，{-(-count // 8)} 页")
    if args.regenerate:
        print(f"已生成新的卡片密钥：此前打印的{what}全部作废。服务器须重新启动才会加载新卡。")
    return 0


def card_sheet(
    meeting: Meeting, data: Path, url: str, regenerate: bool = False, rehearsal: bool = False
) -> tuple[bytes, int]:
    """The join cards' PDF and how many cards it holds (`pingyi print cards` and the chair
    console's download: the same cards from the same secret). `rehearsal`: the rehearsal's
    test cards, from its own secret and marked 演练; never mixed with the real ones."""
    secret = DataDir(data).card_secret(regenerate=regenerate, rehearsal=rehearsal)
    cards = issue_cards(secret, meeting)
    return render_cards(meeting, cards, url, rehearsal=rehearsal), len(cards)


def run_ballots(args: argparse.Namespace) -> int:
    meeting, _ = read_meeting(args.meeting)
    if meeting.appraisal.configured:  # [[forms]]: one paper per set of forms, items as grids
        kinds = len(papers(meeting))
        write_output(args.output, render_item_ballots(meeting))
        print(
            f"已写入 {args.output}：述职评议表{kinds}种（按各投票组别所用测评表），"
            f"{len(meeting.reporters)} 位述职人"
        )
        return 0
    write_output(args.output, render_ballots(meeting))
    print(f"已写入 {args.output}：述职评议表，{len(meeting.reporters)} 位述职人")
    return 0


def run_tally(args: argparse.Namespace) -> int:
    meeting, _ = read_meeting(args.meeting)
    if meeting.appraisal.configured:  # 三评: from the files only (the server does not run it)
        return run_appraisal_tally(args)
    no_panel_files(args)
    export = args.export_ballots
    if args.ballots is None and export is None:
        export = args.output.with_name(f"{args.output.stem}-ballots.csv")
    loaded = load(args.meeting, args.ballots, args.data, export_to=export)
    identity = signing_identity(args.key, args.cert, args.data, loaded.meeting)
    write_output(args.output, signed_tally(loaded, identity, args.tsa))
    print(f"已写入并签名 {args.output}（{signing.describe(identity.cert)}）")
    print(f"会议文件 SHA-256：{loaded.digests['meeting_sha256']}")
    print(f"选票文件 SHA-256：{loaded.digests['ballots_sha256']}")
    print(f"签名证书 SHA-256指纹：{identity.fingerprint}")
    if args.tsa:
        print(f"已加RFC 3161时间戳（{args.tsa}）")
    if args.ballots is None:
        print(f"选票导出已写入 {export}（核验时用它）")
    for entry in loaded.voided:
        print(f"汇总表载明：{entry['at']} 作废的一次测评（{entry['cast']}张选票，不计入）")
    return 0


def run_evaluation(args: argparse.Namespace) -> int:
    meeting, _ = read_meeting(args.meeting)
    if meeting.appraisal.configured:  # 三评: the 测评等次 is the composite's
        return run_appraisal_evaluation(args)
    no_panel_files(args)
    loaded = load(args.meeting, None, args.data)
    if not loaded.evaluation:
        raise InputError(str(args.data), NOT_FIXED)
    export = args.export_ballots or args.output.with_name(f"{args.output.stem}-ballots.csv")
    identity = signing_identity(args.key, args.cert, args.data, loaded.meeting)
    signed = signed_evaluation(loaded, identity, args.tsa)
    write_output(export, loaded.ballots_bytes)
    write_output(args.output, signed)
    print(f"已写入并签名 {args.output}（{signing.describe(identity.cert)}）")
    print(f"综合评价经党组于{loaded.evaluation['fixed']['studied_on']}研究确定")
    print(f"会议文件 SHA-256：{loaded.digests['meeting_sha256']}")
    print(f"选票文件 SHA-256：{loaded.digests['ballots_sha256']}")
    print(f"签名证书 SHA-256指纹：{identity.fingerprint}")
    if args.tsa:
        print(f"已加RFC 3161时间戳（{args.tsa}）")
    print(f"选票导出已写入 {export}（核验时用它）")
    return 0


def run_feedback(args: argparse.Namespace) -> int:
    meeting, _ = read_meeting(args.meeting)
    appraisal: LoadedAppraisal | None = None
    if meeting.appraisal.configured:  # 三评: the composite, as `print tally` computes it
        loaded, appraisal, _ = appraisal_of_args(args)
        result = appraisal.result
    else:
        no_panel_files(args)
        loaded = load(args.meeting, args.ballots, args.data, comments_path=args.comments)
        result = loaded.result
    if args.reporter is not None and args.reporter not in {r.id for r in loaded.meeting.reporters}:
        raise InputError("--reporter", f"述职人“{args.reporter}”不在会议文件中")
    pdf = render_feedback(
        loaded.meeting,
        result,
        loaded.remarks,
        only=args.reporter,
        evaluation=loaded.evaluation,
    )
    write_output(args.output, pdf)
    count = 1 if args.reporter else len(result["reporters"])
    print(f"已写入 {args.output}：{count} 份反馈单")
    if appraisal is not None:
        missing_sources(appraisal)
    return 0


def run_xlsx(args: argparse.Namespace) -> int:
    meeting, _ = read_meeting(args.meeting)
    if meeting.appraisal.configured:  # 三评: the composite, as `print tally` computes it
        from printouts.appraisal_xlsx import appraisal_xlsx

        loaded, appraisal, _ = appraisal_of_args(args)
        workbook = appraisal_xlsx(appraisal.result, meeting, appraisal.inputs, loaded.evaluation)
        write_output(args.output, workbook)
        print(f"已写入 {args.output}（三评）")
        missing_sources(appraisal)
        return 0
    no_panel_files(args)
    loaded = load(args.meeting, args.ballots, args.data)
    workbook = results_xlsx(
        loaded.result, loaded.meeting, loaded.digests, evaluation=loaded.evaluation
    )
    write_output(args.output, workbook)
    print(f"已写入 {args.output}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from printouts.verify import verify  # pyHanko's validation stack is slow to import
    from printouts.verify_appraisal import is_appraisal_sheet, verify_appraisal
    from printouts.verify_archive import is_zip, verify_archive
    from printouts.verify_evaluation import is_evaluation_sheet, verify_evaluation

    data = read_bytes(args.pdf)
    cert = read_bytes(args.cert) if args.cert is not None else None
    ca = read_bytes(args.ca) if args.ca is not None else None
    names = {"cert_name": str(args.cert), "ca_name": str(args.ca)}
    if is_zip(data):  # a 备案 package brings its own meeting file and ballots
        verdict = verify_archive(data, cert, ca_pem=ca, name=str(args.pdf), **names)
    else:
        for option, given in (("--ballots", args.ballots), ("--meeting", args.meeting)):
            if given is None:
                raise InputError(option, f"核验汇总表或结果表须给出 {option}（备案包 zip 则不必）")
        files = {"pdf_name": str(args.pdf), "ballots_name": str(args.ballots), **names}
        files["meeting_name"] = str(args.meeting)
        ballots, meeting = read_bytes(args.ballots), read_bytes(args.meeting)
        if is_appraisal_sheet(data) or is_evaluation_sheet(data):
            # a 三评 sheet or a 综合评价结果表: a 三评 one is recounted with the panel's files
            # and the item lists beside the meeting file (a grade one needs none of them)
            recount = verify_appraisal if is_appraisal_sheet(data) else verify_evaluation
            folder = args.meeting.parent
            verdict = recount(
                data,
                ballots,
                meeting,
                cert,
                ca_pem=ca,
                experts=None if args.experts is None else read_bytes(args.experts),
                indicators=None if args.indicators is None else read_bytes(args.indicators),
                read_items=lambda name: read_bytes(folder / name),
                experts_name=str(args.experts),
                indicators_name=str(args.indicators),
                **files,
            )
        else:  # anything else: a grade meeting's tally sheet
            if args.experts is not None or args.indicators is not None:
                raise InputError("--experts/--indicators", "只用于核验三评汇总表，此文件不是")
            verdict = verify(data, ballots, meeting, cert, ca_pem=ca, **files)
    print(f"核验 {args.pdf}")
    print(verdict.report())
    return 0 if verdict.ok else 1

"""`pingyi tally MEETING.toml BALLOTS.csv [--experts 专家评分.csv] [--indicators 项目指标.csv]
[--json OUT.json]`: the offline tally.

For paper ballots typed into a spreadsheet, and for checking the live server's figures. The
files are read here; `tally/` itself only ever sees text. A meeting without forms or a
composite is tallied and printed exactly as before; one with them (`tally.appraisal`) reads
item ballots (`tally.item_csv`) and prints the grade part's table, then the per-group and
combined table of the appraisal.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cli.files import read_meeting, read_text
from tally.appraisal import appraise, format_appraisal
from tally.ballot_csv import parse_ballots_csv
from tally.engine import result_to_json, tally
from tally.errors import InputError
from tally.item_csv import parse_experts_csv, parse_indicators_csv, parse_item_ballots_csv
from tally.report import format_table


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "tally",
        help="tally a ballot CSV offline (计票)",
        description=(
            "Tally paper or exported ballots against the meeting's rules: prints the table "
            "and, with --json, writes the full result with every step's reason."
        ),
    )
    parser.add_argument(
        "meeting", type=Path, metavar="MEETING.toml", help="the meeting file (TOML)"
    )
    parser.add_argument(
        "ballots",
        type=Path,
        metavar="BALLOTS.csv",
        help="the ballots (CSV: ballot,group,<reporter ids>; with forms also <reporter>.<item>)",
    )
    parser.add_argument(
        "--experts",
        type=Path,
        metavar="EXPERTS.csv",
        help="expert scores, 专家评分 (CSV: reporter,<expert ids>), for a [composite] with experts",
    )
    parser.add_argument(
        "--indicators",
        type=Path,
        metavar="INDICATORS.csv",
        help="indicator values, 项目指标 (CSV: reporter,<indicator ids>), for [[indicators]]",
    )
    parser.add_argument(
        "--json", type=Path, metavar="OUT.json", help="also write the result as JSON"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    meeting, _ = read_meeting(args.meeting)
    configured = meeting.appraisal.configured
    text = read_text(args.ballots)
    if not configured and args.experts is None and args.indicators is None:
        ballots = parse_ballots_csv(text, meeting, source=str(args.ballots))
        result = result_to_json(tally(meeting, ballots))
    else:
        ballots = parse_item_ballots_csv(text, meeting, source=str(args.ballots))
        experts = indicators = None
        if args.experts is not None:
            experts = parse_experts_csv(read_text(args.experts), meeting, str(args.experts))
        if args.indicators is not None:
            indicators = parse_indicators_csv(
                read_text(args.indicators), meeting, str(args.indicators)
            )
        result = appraise(meeting, ballots, experts, indicators)
    if args.json is not None:  # first, so that a failed write prints no half-done report
        out = json.dumps(result, ensure_ascii=False, indent=2) + "\n"
        try:
            args.json.write_text(out, encoding="utf-8")
        except OSError as error:
            raise InputError(str(args.json), f"无法写入：{error.strerror}") from None
    place = f"，{meeting.place}" if meeting.place else ""
    print(f"{meeting.title}（{meeting.date}{place}）")
    print(format_table(result), end="")
    if "appraisal" in result:
        print()
        print(format_appraisal(result), end="")
    return 0

"""`pingyi tally MEETING.toml BALLOTS.csv [--json OUT.json]`: the offline tally.

For paper ballots typed into a spreadsheet, and for checking the live server's figures. The
files are read here; `tally/` itself only ever sees text.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cli.files import read_text
from tally.ballot_csv import parse_ballots_csv
from tally.engine import result_to_json, tally
from tally.errors import InputError
from tally.meeting_file import parse_meeting_text
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
        help="the ballots (CSV: ballot,group,<reporter ids>)",
    )
    parser.add_argument(
        "--json", type=Path, metavar="OUT.json", help="also write the result as JSON"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    meeting = parse_meeting_text(read_text(args.meeting), source=str(args.meeting))
    ballots = parse_ballots_csv(read_text(args.ballots), meeting, source=str(args.ballots))
    result = result_to_json(tally(meeting, ballots))
    if args.json is not None:  # first, so that a failed write prints no half-done report
        text = json.dumps(result, ensure_ascii=False, indent=2) + "\n"
        try:
            args.json.write_text(text, encoding="utf-8")
        except OSError as error:
            raise InputError(str(args.json), f"无法写入：{error.strerror}") from None
    place = f"，{meeting.place}" if meeting.place else ""
    print(f"{meeting.title}（{meeting.date}{place}）")
    print(format_table(result), end="")
    return 0

"""`pingyi paper-import MEETING.toml BALLOTS.csv --url URL --data DIR`: the tellers' file of
typed paper ballots, sent to the running server's open round (`POST /api/paper-ballots`). The
chair key is read from the data directory, the environment (`--chair-key-env`) or, last
resort, the command line (where other processes can see it).

The file is checked here first against the meeting (the server checks it again, with the open
round's reporters and the cards); then the server's answer is printed line by line. Nothing is
entered unless every line is accepted; sending the same file again counts nothing twice.
"""

from __future__ import annotations

import argparse
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from cli.files import read_meeting, read_text
from server.datadir import DataDir
from tally.ballot_csv import parse_ballot_rows
from tally.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "paper-import",
        help="enter a file of typed paper ballots into the open round (纸质选票录入)",
        description=(
            "Send the tellers' ballot CSV (with the card column) to the running server: every "
            "line is checked, then all are entered into the open round, or none. Sending the "
            "same file again counts nothing twice."
        ),
    )
    parser.add_argument(
        "meeting", type=Path, metavar="MEETING.toml", help="the meeting file (TOML)"
    )
    parser.add_argument(
        "ballots",
        type=Path,
        metavar="BALLOTS.csv",
        help="the paper ballots (CSV: ballot,group,card,<reporter ids>)",
    )
    parser.add_argument("--url", required=True, help="the server, e.g. http://192.168.1.10:8000")
    key = parser.add_mutually_exclusive_group(required=True)
    key.add_argument(
        "--data",
        type=Path,
        metavar="DIR",
        help="the meeting's data directory, to read its chair key (on the server's computer)",
    )
    key.add_argument(
        "--chair-key",
        metavar="KEY",
        help="the chair key itself (other processes may see it: prefer --data or PINGYI_CHAIR_KEY)",
    )
    key.add_argument(
        "--chair-key-env",
        action="store_const",
        const=True,
        help="read the chair key from the environment variable PINGYI_CHAIR_KEY",
    )
    parser.add_argument(
        "--round", type=int, metavar="N", help="refuse the file unless round N is the open one"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    meeting, _ = read_meeting(args.meeting)
    text = read_text(args.ballots)
    parse_ballot_rows(text, meeting, str(args.ballots), need_card=True)  # before sending it
    query = {"name": args.ballots.name}
    if args.round is not None:
        query["round"] = str(args.round)
    url = f"{args.url.rstrip('/')}/api/paper-ballots?{urllib.parse.urlencode(query)}"
    status, answer = _post(url, text.encode("utf-8"), _chair_key(args))
    for line in answer.get("lines", []):
        error = line["error"]
        if error:
            print(f"  {error['msg']}")
        else:
            state = "（此前已录入，未重复计入）" if line["again"] else ""
            print(f"第{line['line']}行：参会卡 {line['card']} 回执 {line['receipt']}{state}")
    counts = answer.get("counts")
    if counts:
        print(
            f"第 {answer['round']} 轮：共{counts['rows']}行，新录入{counts['entered']}张，"
            f"此前已录入{counts['again']}张，未录入{counts['refused']}张"
        )
    if status != 200:
        error = answer.get("error") or {}
        print(f"错误：{error.get('msg') or f'服务器返回 HTTP {status}'}")
        return 1
    return 0


def _chair_key(args: argparse.Namespace) -> str:
    if args.data is not None:
        path = DataDir(args.data).chair_key_path
        if not path.is_file():
            raise InputError(
                "--data", f"{args.data} 中没有主持人密钥 chair.key：请给出会议的数据目录"
            )
        return path.read_text(encoding="utf-8").strip()
    if args.chair_key_env:
        key = os.environ.get("PINGYI_CHAIR_KEY", "").strip()
        if not key:
            raise InputError("PINGYI_CHAIR_KEY", "环境变量 PINGYI_CHAIR_KEY 为空：请设为主持人密钥")
        return key
    return str(args.chair_key)


def _post(url: str, data: bytes, key: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=data, method="POST")
    request.add_header("Authorization", f"Bearer {key}")
    request.add_header("Content-Type", "text/csv; charset=utf-8")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, _json(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, _json(error.read())
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise InputError(url, f"无法连接服务器：{error}") from None


def _json(body: bytes) -> dict[str, Any]:
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    return answer if isinstance(answer, dict) else {}

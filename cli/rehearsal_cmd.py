"""`pingyi rehearsal-reset`: clear a rehearsal (演练) without starting one.

`pingyi serve --rehearsal` clears the last rehearsal each time it starts; this command does the
same for a rehearsal server that is stopped, so that nothing of it stays in Redis. It touches
only the rehearsal's namespace (`server.store.meeting_key(meeting, rehearsal=True)`): the
meeting's own record is never read or written.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from cli.files import read_meeting
from tally.errors import InputError
from tally.model import Meeting

if TYPE_CHECKING:
    from server.redis_target import RedisTarget


def register(subparsers: argparse._SubParsersAction) -> None:
    reset = subparsers.add_parser(
        "rehearsal-reset",
        help="delete a rehearsal's data (清除演练)",
        description="Delete everything a rehearsal (`pingyi serve --rehearsal`) stored: its "
        "ballots, agenda and test-card state. The meeting's own record is not touched. Stop "
        "the rehearsal server first (a running one restarts clean anyway when started again). "
        "Uses REDIS_URL or REDIS_CLUSTER_URLS when set, else the data directory's embedded "
        "Redis.",
    )
    reset.add_argument("meeting", type=Path, help="the meeting file (TOML)")
    reset.add_argument("--data", type=Path, default=Path("data"), help="data directory [./data]")
    reset.set_defaults(func=run_reset)


def run_reset(args: argparse.Namespace) -> int:
    from server.datadir import DataDir
    from server.redis_target import open_target

    meeting, _ = read_meeting(args.meeting)
    if not args.data.is_dir():
        raise InputError(str(args.data), "数据目录不存在")
    target = open_target(DataDir(args.data))
    try:
        wiped = asyncio.run(_wipe(target, meeting))
    finally:
        target.shutdown_embedded()  # only if no server is using it
    print(f"已清除演练数据（{wiped} 个键）；正式会议的记录未受影响。")
    return 0


async def _wipe(target: RedisTarget, meeting: Meeting) -> int:
    from server.store import Keys, Store, meeting_key

    store = Store(target.async_client(), Keys(meeting_key(meeting, rehearsal=True)))
    try:
        return await store.wipe()
    finally:
        await target.aclose()

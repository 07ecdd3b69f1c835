"""`pingyi serve` without a meeting file, or with --setup: the setup page, then the meeting.

The setup page (`server/setup_app.py`) runs on the address the meeting will be served on,
behind a one-time key printed here (kept in the data directory's setup.key while the page
runs, deleted once the meeting is saved). Saving writes the meeting file (meeting.toml in the
working directory, or --meeting-out); the setup app then stops and `pingyi serve` goes on to
serve the meeting from that file, in the same process and data directory.

Editing an existing file (--setup) is refused once a round has been opened for its meeting:
from then on the file is what the ballots were cast under.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cli.files import read_bytes, read_text
from cli.outputs import write_output
from printouts.inputs import decode
from tally.errors import InputError
from tally.meeting_file import parse_meeting

DEFAULT_OUT = Path("meeting.toml")


def setup_paths(args: argparse.Namespace) -> tuple[Path, bool]:
    """Where the meeting will be saved, and whether an existing file is being edited."""
    if args.setup:
        if args.meeting is None:
            raise InputError(
                "--setup", "请指定要修改的会议文件，例如：pingyi serve meeting.toml --setup"
            )
        if args.meeting_out is not None:
            raise InputError("--meeting-out", "修改会议文件时保存回原文件，不能另用 --meeting-out")
        return args.meeting, True
    return args.meeting_out or DEFAULT_OUT, False


def read_for_editing(path: Path, data: Path) -> dict[str, Any]:
    """The meeting file as a dict for the page (dates as text), refused when a round has been
    opened for its meeting in this data directory."""
    text = decode(read_bytes(path), str(path)).removeprefix("\ufeff")
    try:
        found = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError(str(path), f"TOML语法错误，设置页面无法读取：{error}") from None
    try:
        meeting = parse_meeting(found, str(path), _items_beside(path))
    except InputError:
        meeting = None  # the page shows what is wrong and lets it be fixed
    if meeting is not None and Path(data).is_dir():
        from cli.status_cmd import read_state

        state = read_state(meeting, data)
        if state.rounds:
            raise InputError(
                str(path),
                f"本会议已开启过投票（{len(state.rounds)}轮），会议文件已锁定，不能再用设置页面修改："
                "投票是按这份文件进行的。请直接启动会议：pingyi serve "
                f"{path} --data {data}",
            )
    return _plain(found)


def _items_beside(path: Path) -> Callable[[str], str]:
    """Item lists a form names (`items = "items/…toml"`) are read beside the meeting file."""
    folder = Path(path).parent
    return lambda name: read_text(folder / name)


def _plain(value: Any) -> Any:
    """TOML's values as JSON's: a bare date becomes its text."""
    if isinstance(value, dict):
        return {key: _plain(v) for key, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return value


def run_setup(
    args: argparse.Namespace, host: str, port: int, base: str, lan: tuple[str, ...] = ()
) -> Path | None:
    """Serves the setup page until the meeting is saved: the saved file's path (None: stopped
    before saving, e.g. Ctrl-C). The address picked on the page (one of `lan`) becomes
    `args.url`, the meeting's public address."""
    import uvicorn

    from server.datadir import DataDir
    from server.setup_app import FileExists, SetupSettings, create_setup_app

    out, editing = setup_paths(args)
    data = args.data or Path("data")
    initial = read_for_editing(out, data) if editing else None
    data_dir = DataDir(data).ensure()
    key = data_dir.new_setup_key()
    saved: list[bool] = []

    def save(content: bytes, overwrite: bool) -> None:
        if out.exists() and not overwrite:
            raise FileExists(str(out))
        if out.parent != Path() and not out.parent.is_dir():
            raise InputError(str(out), "所在目录不存在")
        write_output(out, content)

    def stop() -> None:
        saved.append(True)
        server.should_exit = True

    settings = SetupSettings(
        key=key,
        out_name=str(out),
        out_exists=out.exists,
        save=save,
        saved=stop,
        chair_url=lambda: f"/chair?key={data_dir.chair_key()}",
        initial=initial,
        editing=editing,
        read_items=_items_beside(out),
        addresses=tuple(dict.fromkeys((base, *lan))),
        choose_address=lambda url: setattr(args, "url", url),
    )
    print("评议 Pingyi — 修改会议" if editing else "评议 Pingyi — 新建会议")
    print(f"  设置页面   {base}/setup?key={key}")
    print(f"  设置密钥   {key}（一次性：保存会议后失效；页面要求输入时填写）")
    where = "（已存在：保存时须确认覆盖）" if out.exists() and not editing else ""
    print(f"  会议文件   保存到 {out}{where}")
    print(f"  数据目录   {data}")
    print("  在设置页面填好会议、述职人、投票组别和测评规则，点击“保存并启动”，会议随即开始服务。")
    sys.stdout.flush()
    config = uvicorn.Config(
        create_setup_app(settings),
        host=host,
        port=port,
        access_log=False,  # the key travels in the first address
        log_level="warning",
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    try:
        server.run()
    except KeyboardInterrupt:  # Ctrl-C: uvicorn stopped, then passed the signal on
        pass
    finally:
        data_dir.drop_setup_key()
    if not saved:
        return None
    print(f"已保存会议文件 {out}，正在启动会议服务…")
    print(f"以后启动：pingyi serve {out}" + (f" --data {data}" if args.data else ""))
    sys.stdout.flush()
    return out

"""`pingyi serve` and `pingyi export`: run the meeting, and write its ballots for the record."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cli import teller_keys
from cli.addresses import is_loopback, lan_addresses
from cli.files import read_meeting
from cli.outputs import write_output
from printouts.inputs import sha256
from tally.errors import InputError
from tally.model import Meeting

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from server.app import Settings
    from server.record_reader import MeetingRecord

DEMO_MEETING = Path(__file__).resolve().parents[1] / "examples" / "demo-meeting.toml"


def register(subparsers: argparse._SubParsersAction) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="run the live meeting server (运行会议服务)",
        description="Serve the meeting: phones vote at /j/<token>, the projector shows /screen, "
        "the chair drives /chair. Uses REDIS_URL when set, else an embedded Redis in the data "
        "directory.",
    )
    serve.add_argument(
        "meeting",
        nargs="?",
        type=Path,
        help="the meeting file (TOML) [none: open the setup page, create the meeting there, "
        "save it as meeting.toml and serve it]",
    )
    serve.add_argument("--demo", action="store_true", help="run the demo meeting")
    serve.add_argument(
        "--meetings",
        type=Path,
        default=None,
        metavar="DIR",
        help="host every meeting file in DIR (<id>.toml, served under /m/<id>), with the "
        "season's admin page when DIR holds an organisation.toml (docs/organisation.md)",
    )
    serve.add_argument(
        "--setup",
        action="store_true",
        help="edit the meeting file on the setup page first (refused once a round was opened)",
    )
    serve.add_argument(
        "--meeting-out",
        type=Path,
        default=None,
        metavar="PATH",
        help="without a meeting file: where the setup page saves the meeting [meeting.toml]",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on [127.0.0.1]")
    serve.add_argument("--port", type=int, default=8000, help="port [8000]")
    serve.add_argument("--data", type=Path, default=None, help="data directory [./data]")
    serve.add_argument(
        "--url",
        default=None,
        help="public base URL printed on the join cards and the join QR code [with --host "
        "0.0.0.0: the first LAN address, all of them listed]",
    )
    serve.add_argument(
        "--proxy",
        default=None,
        metavar="ADDRS",
        help="addresses of reverse proxies whose X-Forwarded-For is trusted, comma-separated "
        "(also FORWARDED_ALLOW_IPS) [none: the rate limits count the connecting address]",
    )
    serve.add_argument(
        "--rehearsal",
        action="store_true",
        help="run the meeting as a rehearsal (演练) with the test cards of `pingyi print cards "
        "--rehearsal`: every page says 演练, nothing reaches the record, the real cards stay "
        "unused; each start begins afresh (it deletes the last rehearsal)",
    )
    teller_keys.add_serve_options(serve)
    serve.set_defaults(func=run_serve)

    export = subparsers.add_parser(
        "export",
        help="write the ballots as CSV (导出选票)",
        description="Write every stored ballot in the CSV format of `pingyi tally`, sorted by "
        "receipt, and optionally the server's result as JSON and Excel.",
    )
    export.add_argument("meeting", type=Path, help="the meeting file (TOML)")
    export.add_argument("out", type=Path, help="ballots CSV to write (pingyi tally reads it)")
    export.add_argument("--data", type=Path, default=Path("data"), help="data directory [./data]")
    export.add_argument(
        "--json", type=Path, default=None, help="also write the server's result JSON"
    )
    export.add_argument("--xlsx", type=Path, default=None, help="also write the results as Excel")
    export.add_argument(
        "--teller-key",
        type=Path,
        default=None,
        metavar="FILE",
        help="the 监票人's private key: also export rounds whose ballots are still sealed",
    )
    export.set_defaults(func=run_export)


ANY_HOST = ("0.0.0.0", "::")
HOST_ONLY = "  注意       只在本机监听（{host}），会场的手机无法访问；请用 --host 0.0.0.0 启动"


@dataclass(frozen=True)
class Reach:
    """Where phones reach the server: the public URL (cards, QR codes) and the LAN URLs."""

    public: str
    lan: tuple[str, ...]
    notes: tuple[str, ...]  # lines to print: the candidates and how to choose, or a warning


def _reach(host: str, port: int, url: str | None) -> Reach:
    """The public base URL: --url if given; listening on every address, the first LAN
    address (127.0.0.1 or the host name's address would print cards no phone can open)."""
    only_here = host not in ANY_HOST and is_loopback(f"http://{_bracketed(host)}")
    found = lan_addresses() if host in ANY_HOST else []
    if host in ANY_HOST:
        lan = tuple(f"http://{address}:{port}" for _, address in found)
    else:
        lan = () if only_here else (f"http://{_bracketed(host)}:{port}",)
    notes = [HOST_ONLY.format(host=host)] if only_here else []
    if url:
        public = url.rstrip("/")
        if is_loopback(public):
            notes.append("  注意       --url 是仅本机可访问的地址，手机扫码无法打开")
        return Reach(public, lan, tuple(notes))
    if host not in ANY_HOST:
        return Reach(f"http://{_bracketed(host)}:{port}", lan, tuple(notes))
    if not lan:
        notes.append(
            "  注意       未找到局域网地址：请连接会场网络，或用 --url 指定手机能访问的地址"
        )
        return Reach(f"http://127.0.0.1:{port}", lan, tuple(notes))
    notes.append("  手机须能访问的地址（参会卡和二维码用第一个；要用其他地址，请以 --url 指定）：")
    notes += [
        f"             {base}  （{name}）" for base, (name, _) in zip(lan, found, strict=True)
    ]
    return Reach(lan[0], lan, tuple(notes))


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def run_serve(args: argparse.Namespace) -> int:
    from meeting.join_cards import issue_cards, join_url
    from meeting.room_code import screen_key
    from server.app import create_app

    if args.meetings is not None:
        from cli.deployment_cmd import run_deployment

        return run_deployment(args)

    if args.demo:
        if args.setup or args.meeting_out:
            raise InputError("--demo", "演示会议不能与 --setup 或 --meeting-out 同用")
        meeting_path = args.meeting or DEMO_MEETING
        data = args.data or Path("demo-data")
    elif args.rehearsal and (args.meeting is None or args.setup):
        raise InputError("--rehearsal", "演练须指定已保存的会议文件，不能与设置页面同用")
    elif args.meeting is None or args.setup:
        from cli.setup_files import run_setup

        reach = _reach(args.host, args.port, args.url)
        saved = run_setup(args, args.host, args.port, reach.public, reach.lan)
        if saved is None:
            print("设置页面已关闭，会议未保存。")
            return 1
        meeting_path, data = saved, args.data or Path("data")
    else:
        if args.meeting_out is not None:
            raise InputError("--meeting-out", "只在不指定会议文件（打开设置页面）时使用")
        meeting_path, data = args.meeting, args.data or Path("data")
    reach = _reach(args.host, args.port, args.url)
    base = reach.public
    settings, teller = meeting_settings(args, meeting_path, data, reach)
    meeting, data_dir, rehearsal = settings.meeting, settings.data_dir, settings.rehearsal
    redis_note = next(
        (name for name in ("REDIS_CLUSTER_URLS", "REDIS_URL") if os.environ.get(name)),
        f"内置 Redis，数据目录 {data}",
    )  # the cluster wins over REDIS_URL, as server.redis_target reads them
    mark = "（演练）" if rehearsal else ""  # on every URL line: no test link passes for a real one
    print(f"评议 Pingyi — {meeting.title}{mark}")
    if rehearsal:
        print("  演练       模拟测评：数据与正式会议分开存放，不进入记录、汇总表、导出和备案；")
        print("             每次以 --rehearsal 启动都从头开始（清除上次演练）")
    if args.demo or sys.stdout.isatty():
        print(f"  投影屏幕   {base}/screen?key={screen_key(data_dir.chair_key())}{mark}")
        print(f"  主持台     {base}/chair?key={data_dir.chair_key()}{mark}")
    else:  # a log file or a service manager's journal: the keys stay out of it
        print(f"  投影屏幕   {base}/screen{mark}（入场码和二维码：请从主持台的“打开大屏”打开）")
        print(f"  主持台     {base}/chair?key=<密钥>{mark}（密钥见 {data_dir.chair_key_path}）")
    if rehearsal:
        print(f"  会后页面   {base}/after{mark}（演练不生成正式文件）")
    else:
        print(
            f"  会后页面   {base}/after（计票后录入综合评价、下载结果表和备案材料；用主持人密钥）"
        )
    if meeting.join == "open":
        print(f"  扫码入场   {base}/join{mark}（投影屏幕显示二维码）")
    else:
        flag = " --rehearsal" if rehearsal else ""
        print(
            f"  {'演练卡' if rehearsal else '参会卡'}     pingyi print cards {meeting_path} "
            f"--data {data} --url {base}{flag} -o {'rehearsal-' if rehearsal else ''}cards.pdf"
        )
    if args.demo:
        for card in issue_cards(data_dir.card_secret(rehearsal=rehearsal), meeting)[:3]:
            print(
                f"  演示手机   {join_url(base, card.token)}{mark}  （{meeting.group(card.group).name}）"
            )
        print("  自己的会议 ./pingyi serve（不带会议文件：打开设置页面，录入名单和规则）")
    for note in reach.notes:
        print(note)
    print(f"  存储       {redis_note}")
    if teller.made and (args.demo or sys.stdout.isatty()):
        print(f"  监票人密钥 {teller.made}")
        print(f"             {teller_keys.KEEP_IT}")
    elif teller.made:  # a log must not hold it, so nobody will: say how to have one
        print("  监票人密钥 已生成但未显示（输出不是终端）；如需崩溃后恢复，请用")
        print("             pingyi teller-key 生成密钥，并以 --teller-public 启动")
    sys.stdout.flush()
    serve_app(create_app(settings), args)
    return 0


def serve_app(app: Starlette, args: argparse.Namespace) -> None:
    """Runs the app on --host/--port until stopped (a meeting, or a deployment of many)."""
    import uvicorn

    from server import gc_policy
    from server.wire import FrameWritingProtocol

    proxies = args.proxy or os.environ.get("FORWARDED_ALLOW_IPS") or ""
    gc_policy.server_starting()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        ws=FrameWritingProtocol,  # uvicorn's websockets-sansio, plus one write per phone
        # Without a named proxy no header may pick the address the rate limits count.
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        ws_max_size=64 * 1024,
        ws_per_message_deflate=False,
        access_log=False,  # a ballot page's path carries the card's token: never log it
        log_level="warning",
        timeout_graceful_shutdown=3,
    )


def meeting_settings(
    args: argparse.Namespace, meeting_path: Path, data: Path, reach: Reach, prefix: str = ""
) -> tuple[Settings, teller_keys.ServeKeys]:
    """One meeting's server settings, its data directory made ready (keys, signing identity);
    `prefix`: where a deployment of many meetings serves it (/m/<id>)."""
    from cli.page_downloads import make_download
    from cli.signing_files import ensure_identity
    from server.app import Settings
    from server.datadir import DataDir

    meeting, meeting_bytes = read_meeting(meeting_path)
    data_dir = DataDir(data).ensure()
    ensure_identity(data_dir, meeting)  # the key that will sign the tally sheet
    base = reach.public + prefix
    teller = teller_keys.serve_keys(args, data_dir)
    rehearsal = args.rehearsal
    settings = Settings(
        meeting=meeting,
        data_dir=data_dir,
        public_url=base,
        meeting_digest=sha256(meeting_bytes),
        teller_public=teller.public,
        teller_private=teller.private,
        make_download=lambda kind: make_download(kind, meeting_path, data, base, rehearsal),
        lan_urls=tuple(url + prefix for url in reach.lan),
        public_url_loopback=is_loopback(base),
        rehearsal=rehearsal,
    )
    return settings, teller


def run_export(args: argparse.Namespace) -> int:
    from cli.sources import check_recorded_inputs, export_panel
    from server.record_reader import load_record
    from tally.ballot_csv import format_ballots_csv

    meeting, meeting_bytes = read_meeting(args.meeting)
    teller_private = None
    if args.teller_key is not None:
        teller_private = teller_keys.read_private(args.teller_key)
    record = load_record(meeting, args.data, teller_private=teller_private)
    ballots_bytes = format_ballots_csv(meeting, record.ballots).encode("utf-8")
    check_recorded_inputs(record, meeting_bytes, ballots_bytes, args.meeting)
    write_output(args.out, ballots_bytes)
    print(f"已导出 {len(record.ballots)} 张选票 → {args.out}")
    panel = export_panel(meeting, record, args.out.with_name(args.out.stem))
    for path in panel:
        if path is not None:  # 专家点评 / 项目指标 entered live: the files `pingyi tally` takes
            print(f"已导出 → {path}")
    _export_voided(record, meeting, args.out)
    if args.json:
        text = json.dumps(record.result, ensure_ascii=False, indent=2)
        write_output(args.json, text.encode("utf-8"))
    if args.xlsx:
        if record.result is None:
            raise InputError("--xlsx", "尚无计票结果：请先结束投票")
        if meeting.appraisal.configured:  # 三评: the composite, as `pingyi print xlsx` has it
            from cli.sources import load_appraisal
            from printouts.appraisal_xlsx import appraisal_xlsx

            # the files just written: their digests are the workbook's 说明
            appraisal = load_appraisal(args.meeting, args.out, *panel)
            xlsx = appraisal_xlsx(appraisal.result, meeting, appraisal.inputs)
        else:
            from printouts.inputs import digests
            from printouts.xlsx import results_xlsx

            xlsx = results_xlsx(record.result, meeting, digests(meeting_bytes, ballots_bytes))
        write_output(args.xlsx, xlsx)
        print(f"已导出结果表 → {args.xlsx}")
    return 0


def _export_voided(record: MeetingRecord, meeting: Meeting, out: Path) -> None:
    """Each round voided by 重新测评: said, and its ballots (never counted) written beside the
    export as <name>-voided-<round>.csv, so that nothing the room cast goes unaccounted."""
    from printouts.sheet_record import beijing_time
    from tally.ballot_csv import format_ballots_csv

    for voided in record.voided:
        said = f"作废的测评（第{voided.round}轮，{beijing_time(voided.at)}，原因：{voided.reason}）"
        if voided.ballots is None:
            print(f"{said}：{sum(voided.cast.values())}张选票仍密封，未导出（不计入）")
            continue
        path = out.with_name(f"{out.stem}-voided-{voided.round}.csv")
        write_output(path, format_ballots_csv(meeting, list(voided.ballots)).encode("utf-8"))
        print(f"{said}：{len(voided.ballots)}张选票（不计入）→ {path}")

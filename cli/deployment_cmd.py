"""`pingyi serve --meetings DIR`: every meeting file in DIR served by one deployment.

DIR holds the meeting files, `<id>.toml` each (the id is the URL prefix /m/<id>), and may
hold `organisation.toml` (`meeting.organisation`): then the season's admin page runs too.
Meeting <id> keeps its data in `<data>/meetings/<id>/`, exactly as `pingyi serve <id>.toml
--data <data>/meetings/<id>` would, so every other command works on it unchanged.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from cli.files import read_text
from meeting.organisation import ID, ORGANISATION_FILE, Organisation, parse_organisation_text
from tally.errors import InputError


def meeting_files(folder: Path) -> dict[str, Path]:
    """The meeting files in DIR by id; InputError naming a file whose name cannot be an id."""
    if not folder.is_dir():
        raise InputError("--meetings", f"{folder} 不是目录")
    found = {}
    for path in sorted(folder.glob("*.toml")):
        if path.name == ORGANISATION_FILE:
            continue
        if not ID.fullmatch(path.stem):
            raise InputError(
                str(path),
                "会议文件名（不含.toml）用作网址，只能含小写字母、数字和-，如 chengguan-2025.toml",
            )
        found[path.stem] = path
    if not found:
        raise InputError("--meetings", f"{folder} 中没有会议文件（<编号>.toml）")
    return found


def read_organisation(folder: Path, hosted: dict[str, Path]) -> Organisation | None:
    path = folder / ORGANISATION_FILE
    if not path.exists():
        return None
    return parse_organisation_text(read_text(path), set(hosted), str(path))


def run_deployment(args: argparse.Namespace) -> int:
    from cli.filed_packages import read_package
    from cli.serve_cmd import _reach, meeting_settings, serve_app
    from server.deployment import PREFIX, Hosted, chair_links, create_deployment, hosted_outcomes
    from server.season_app import SeasonSettings, admin_key

    if args.meeting is not None or args.demo or args.setup or args.rehearsal:
        raise InputError("--meetings", "不能与会议文件、--demo、--setup 或 --rehearsal 同用")
    files = meeting_files(args.meetings)
    organisation = read_organisation(args.meetings, files)
    data = args.data or Path("data")
    reach = _reach(args.host, args.port, args.url)
    hosted = []
    for meeting_id, path in files.items():
        prefix = PREFIX.format(id=meeting_id)
        settings, _ = meeting_settings(args, path, data / "meetings" / meeting_id, reach, prefix)
        hosted.append(Hosted(meeting_id, settings))
    season = None
    if organisation is not None:
        org = organisation

        def season(apps):
            return SeasonSettings(
                organisation=org,
                data=data,
                read_package=read_package,
                hosted_outcomes=lambda: hosted_outcomes(apps),
                chair_links=lambda: chair_links(apps),
            )

    app = create_deployment(hosted, season)
    show_keys = sys.stdout.isatty()
    print(f"评议 Pingyi — {len(hosted)} 场会议（{args.meetings}）")
    for h in hosted:
        key = h.settings.data_dir.chair_key() if show_keys else "<密钥>"
        print(f"  {h.settings.meeting.title}")
        print(f"    主持台   {h.settings.public_url}/chair?key={key}")
    if organisation is not None:
        key = admin_key(data) if show_keys else f"<密钥，见 {data / 'admin.key'}>"
        print(f"  {organisation.season.name}：汇总页面 {reach.public}/admin?key={key}")
    for note in reach.notes:
        print(note)
    redis = next((n for n in ("REDIS_CLUSTER_URLS", "REDIS_URL") if os.environ.get(n)), "")
    print(f"  存储       {redis or f'内置 Redis，每场会议一个，数据目录 {data}/meetings/<编号>'}")
    sys.stdout.flush()
    serve_app(app, args)
    return 0

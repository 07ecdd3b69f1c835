"""A county's season for the tests: an organisation file, its meetings, a deployment serving
them (`pingyi serve --meetings`), and a town's meeting run on its own data directory whose
备案 package is then filed with the county.

The dates are set from today, so that one town is late whatever day the tests run:
the season's deadline was yesterday, the county met today, 城关镇 two days ago, and 青溪镇
(planned for three days ago) has not met.
"""

from __future__ import annotations

import datetime
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tally.meeting_file import parse_meeting_text
from tally.model import Meeting
from testkit.after_meeting import cast_ballots, enter_and_fix_evaluation
from testkit.net import free_port, http_json, wait_until
from testkit.processes import _SOURCE, ServerProcess, stop_embedded_redis

UNITS = """
[season]
id = "2026"
name = "2026年度基层党组织书记述职评议"
deadline = {deadline}

[[units]]
id = "county"
name = "示例县委"
level = "县委"

[[units]]
id = "chengguan"
name = "城关镇党委"
level = "镇党委"
parent = "county"

[[units]]
id = "qingxi"
name = "青溪镇党委"
level = "镇党委"
parent = "county"

[[units]]
id = "dongcun"
name = "城关镇东村党支部"
level = "村党支部"
parent = "chengguan"

[[units]]
id = "xicun"
name = "城关镇西村党支部"
level = "村党支部"
parent = "chengguan"

[[units]]
id = "nancun"
name = "青溪镇南村党支部"
level = "村党支部"
parent = "qingxi"

[[meetings]]
id = "county"
unit = "county"
covers = ["chengguan", "qingxi"]
planned_on = {today}

[[meetings]]
id = "chengguan"
unit = "chengguan"
covers = ["dongcun", "xicun"]

[[meetings]]
id = "qingxi"
unit = "qingxi"
covers = ["nancun"]
planned_on = {three_days_ago}
"""

MEETING = """
[meeting]
title = "{title}"
date = "{date}"
organizer = "{organizer}"
seats = 6

[[reporters]]
id = "r01"
name = "{first}"
org = "{first_org}"

[[reporters]]
id = "r02"
name = "{second}"
org = "{second_org}"

[rules]
quorum = 0
"""


def _day(offset: int) -> str:
    return (datetime.date.today() + datetime.timedelta(days=offset)).isoformat()


def county_meeting() -> str:
    """The county hears its two town secretaries, each of the category 镇党委书记."""
    text = MEETING.format(
        title="示例县镇党委书记抓基层党建述职评议会",
        date=_day(0),
        organizer="示例县委",
        first="王建国",
        first_org="城关镇党委",
        second="李秀英",
        second_org="青溪镇党委",
    )
    return text.replace('党委"\n', '党委"\ncategory = "镇党委书记"\n')


def town_meeting(organizer: str = "城关镇党委") -> str:
    return MEETING.format(
        title="城关镇村党支部书记述职评议会",
        date=_day(-2),
        organizer=organizer,
        first="赵春生",
        first_org="城关镇东村党支部",
        second="钱秋菊",
        second_org="城关镇西村党支部",
    )


@dataclass
class Season:
    """DIR for `pingyi serve --meetings`: organisation.toml and the county's meeting file."""

    folder: Path

    def write(self) -> Season:
        self.folder.mkdir(parents=True, exist_ok=True)
        units = UNITS.format(deadline=_day(-1), today=_day(0), three_days_ago=_day(-3))
        (self.folder / "organisation.toml").write_text(units, encoding="utf-8")
        (self.folder / "county.toml").write_text(county_meeting(), encoding="utf-8")
        return self

    @property
    def county(self) -> Meeting:
        return parse_meeting_text(county_meeting())


@dataclass
class Deployment:
    """`pingyi serve --meetings` in a child process."""

    folder: Path
    data: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Deployment:
        log = self.data.parent / f"deployment-{self.port}.log"
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cli", "serve", "--meetings", str(self.folder)]
                + ["--data", str(self.data), "--port", str(self.port)],
                cwd=_SOURCE,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.log_path = log
        try:
            wait_until(self.healthy, timeout=60)
        except TimeoutError:
            self.stop()
            raise
        return self

    def healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"deployment exited: {self.log_path.read_text(errors='replace')}")
        try:
            return http_json(f"{self.base}/healthz")[0] == 200
        except OSError:
            return False

    def meeting(self, meeting_id: str, meeting_path: Path) -> HostedMeeting:
        """One hosted meeting, driven as a single meeting's server is (testkit helpers)."""
        data = self.data / "meetings" / meeting_id
        return HostedMeeting(meeting_path, data, port=self.port, prefix=f"/m/{meeting_id}")

    @property
    def admin_key(self) -> str:
        return (self.data / "admin.key").read_text("utf-8").strip()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        for meeting in (self.data / "meetings").glob("*"):
            stop_embedded_redis(meeting)


@dataclass
class HostedMeeting(ServerProcess):
    prefix: str = ""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{self.prefix}/ws"


def hold_and_fix(server: ServerProcess, meeting: Meeting, voters: int = 5) -> None:
    """The vote (every reporter at once), counted, then the 综合评价 entered and fixed."""
    round_id = server.vote_step()
    cast_ballots(server, meeting, round_id, [r.id for r in meeting.reporters], voters)
    assert server.chair("close", force=True)[0] == 200

    def counted() -> bool:
        reporters = http_json(f"{server.base}/api/evaluation", key=server.chair_key)[1]
        return all(r["vote_grade"] for r in reporters["reporters"])

    wait_until(counted, timeout=30)
    # the 党组 studies it the day after the meeting, well within the 7 days
    studied = datetime.date.fromisoformat(meeting.date) + datetime.timedelta(days=1)
    rectify = studied + datetime.timedelta(days=30)
    enter_and_fix_evaluation(server, studied_on=studied.isoformat(), rectify_by=rectify.isoformat())


def town_package(folder: Path, organizer: str = "城关镇党委") -> bytes:
    """城关镇's meeting run on its own laptop (its own data directory), then `pingyi archive`:
    the 备案 package it files with the county."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "meeting.toml"
    path.write_text(town_meeting(organizer), encoding="utf-8")
    meeting = parse_meeting_text(town_meeting(organizer))
    data = folder / "data"
    server = ServerProcess(path, data)
    try:
        server.start()
        hold_and_fix(server, meeting)
    finally:
        server.stop()
        stop_embedded_redis(data)
    out = folder / "备案.zip"
    run = subprocess.run(
        [sys.executable, "-m", "cli", "archive", str(path), "--data", str(data), "-o", str(out)],
        cwd=_SOURCE,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    return out.read_bytes()

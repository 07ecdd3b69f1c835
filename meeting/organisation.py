"""The organisation file: the units of a season and the meetings that appraise them.

A 述职评议 season is many meetings, one per level: the county committee hears its town and
bureau secretaries, each town committee hears its village secretaries. `organisation.toml`
(beside the meeting files of `pingyi serve --meetings DIR`) names the units, who reports to
whom, the season's deadline and, per meeting, the unit whose 党组 holds it and the units whose
secretaries report in it. A meeting whose file `<id>.toml` lies beside it runs on this
deployment; any other is held elsewhere (a town's own laptop) and filed here as a 备案
package. A reporter belongs to the covered unit their meeting file names as `org`.

Pure: `parse_organisation` turns the TOML's data into an `Organisation` or raises an
InputError naming the key, as the meeting file's parser does.
"""

from __future__ import annotations

import datetime
import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from tally.meeting_file import _Checker, _toml_error
from tally.meeting_file import _ident as _checked_id

ORGANISATION_FILE = "organisation.toml"
FILING_DAYS = 7  # 于本级述职评议会议召开后7日内上报备案
FINGERPRINT = re.compile(r"[0-9a-f]{64}")
ID = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")  # it is part of a URL: /m/<id>, /unit/<id>

TOP_KEYS = ("season", "units", "meetings")
SEASON_KEYS = ("id", "name", "deadline", "filing_days")
UNIT_KEYS = ("id", "name", "level", "parent", "cert_sha256")
MEETING_KEYS = ("id", "unit", "covers", "planned_on")


@dataclass(frozen=True)
class Season:
    id: str  # e.g. "2025": the roll-ups of earlier seasons are kept under their ids
    name: str
    deadline: str  # YYYY-MM-DD: every meeting held by then (全部完成)
    filing_days: int = FILING_DAYS  # 备案 within this many days of the meeting


@dataclass(frozen=True)
class Unit:
    id: str
    name: str  # as the meeting files write a reporter's `org`
    level: str  # 县委, 镇党委, 局党组, 村党支部 ...
    parent: str | None = None  # the unit it reports to (None: the top of the tree)
    # the SHA-256 fingerprint of the certificate its 备案 packages are signed with ("" : the
    # one that signed its first package filed here)
    cert_sha256: str = ""


@dataclass(frozen=True)
class PlannedMeeting:
    id: str
    unit: str  # whose 党组 holds it
    covers: tuple[str, ...]  # the units whose secretaries report in it
    planned_on: str | None = None  # YYYY-MM-DD
    hosted: bool = False  # its meeting file is beside the organisation file: it runs here


@dataclass(frozen=True)
class Organisation:
    season: Season
    units: tuple[Unit, ...]
    meetings: tuple[PlannedMeeting, ...]

    def unit(self, unit_id: str) -> Unit:
        return next(u for u in self.units if u.id == unit_id)

    def meeting(self, meeting_id: str) -> PlannedMeeting | None:
        return next((m for m in self.meetings if m.id == meeting_id), None)

    def covered_unit(self, meeting_id: str, org: str) -> Unit | None:
        """The unit a reporter of this meeting leads, by its name (None: not one it covers)."""
        planned = self.meeting(meeting_id)
        covered = planned.covers if planned is not None else ()
        return next((u for u in self.units if u.id in covered and u.name == org), None)


def parse_organisation_text(
    text: str, hosted: Collection[str], source: str = ORGANISATION_FILE
) -> Organisation:
    """`hosted`: the ids of the meeting files beside it (each must be one of its meetings)."""
    text = text.removeprefix("\ufeff")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _toml_error(str(error), text, source) from None
    return parse_organisation(data, hosted, source)


def parse_organisation(
    data: dict, hosted: Collection[str], source: str = ORGANISATION_FILE
) -> Organisation:
    top = _Checker(data, "", TOP_KEYS, source)
    if not top.has("season"):
        top.fail("season", "缺少[season]表（至少要写id、name和deadline）")
    season = _season(_Checker(data["season"], "season", SEASON_KEYS, source))
    units = _units(top, source)
    meetings = _meetings(top, source, {u.id for u in units}, set(hosted))
    return Organisation(season, units, meetings)


def _season(s: _Checker) -> Season:
    season_id = _ident(s, set(), "届次")
    name = _nonblank(s, "name")
    days = s.integer("filing_days", 1) if s.has("filing_days") else FILING_DAYS
    return Season(season_id, name, _day(s, "deadline", required=True) or "", days)


def _units(top: _Checker, source: str) -> tuple[Unit, ...]:
    items = top.array("units", [])
    if not items:
        top.fail("units", "至少要有一个单位（[[units]]）")
    seen: set[str] = set()
    names: set[str] = set()
    checked = []
    for i, item in enumerate(items, 1):
        u = _Checker(item, f"units[{i}]", UNIT_KEYS, source)
        unit_id = _ident(u, seen, "单位")
        name = _nonblank(u, "name")
        if name in names:
            u.fail(u.key("name"), f"单位名称“{name}”重复（述职人按名称对应到单位）")
        names.add(name)
        parent = u.text("parent", "") or None
        fingerprint = u.text("cert_sha256", "").replace(":", "").lower()
        if fingerprint and not FINGERPRINT.fullmatch(fingerprint):
            u.fail(u.key("cert_sha256"), "应是64位十六进制的SHA-256指纹（pingyi verify 会显示）")
        checked.append((u, Unit(unit_id, name, _nonblank(u, "level"), parent, fingerprint)))
    for u, unit in checked:
        if unit.parent is not None and unit.parent not in seen:
            u.fail(u.key("parent"), f"没有编号为“{unit.parent}”的单位")
    units = tuple(unit for _, unit in checked)
    _no_cycle(units, checked)
    return units


def _no_cycle(units: tuple[Unit, ...], checked: list[tuple[_Checker, Unit]]) -> None:
    parent = {u.id: u.parent for u in units}
    for u, unit in checked:
        seen = {unit.id}
        above = unit.parent
        while above is not None and above not in seen:
            seen.add(above)
            above = parent[above]
        if above == unit.id:  # (a cycle above a unit not in it is reported on its members)
            u.fail(u.key("parent"), f"上级关系成环（“{unit.id}”最终又隶属于自己）")


def _meetings(
    top: _Checker, source: str, unit_ids: set[str], hosted: set[str]
) -> tuple[PlannedMeeting, ...]:
    seen: set[str] = set()
    out = []
    for i, item in enumerate(top.array("meetings", []), 1):
        m = _Checker(item, f"meetings[{i}]", MEETING_KEYS, source)
        meeting_id = _ident(m, seen, "会议")
        unit = m.text("unit")
        if unit not in unit_ids:
            m.fail(m.key("unit"), f"没有编号为“{unit}”的单位")
        covers = m.strings("covers", ())
        if not covers:
            m.fail(m.key("covers"), "至少要写一个述职单位的编号")
        for j, covered in enumerate(covers, 1):
            if covered not in unit_ids:
                m.fail(f"{m.key('covers')}[{j}]", f"没有编号为“{covered}”的单位")
            if covers.index(covered) != j - 1:
                m.fail(f"{m.key('covers')}[{j}]", f"单位“{covered}”重复")
        planned = PlannedMeeting(
            meeting_id, unit, covers, _day(m, "planned_on"), meeting_id in hosted
        )
        out.append(planned)
    unlisted = sorted(hosted - seen)
    if unlisted:
        top.fail(
            "meetings",
            f"会议文件 {unlisted[0]}.toml 不在[[meetings]]中：请写明由哪个单位召开、哪些单位述职",
        )
    return tuple(out)


def _ident(c: _Checker, seen: set[str], what: str) -> str:
    return _checked_id(c, seen, what, ID, "小写字母、数字和-（用于网址）")


def _nonblank(c: _Checker, name: str) -> str:
    value = c.text(name)
    if not value.strip():
        c.fail(c.key(name), "不能为空")
    return value.strip()


def _day(c: _Checker, name: str, required: bool = False) -> str | None:
    value: Any = c.table.get(name)
    if value is None and not required:
        return None
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value.isoformat()
    text = c.text(name)
    if not _is_day(text):
        c.fail(c.key(name), f"应是YYYY-MM-DD格式的日期，实际为“{text}”")
    return text


def _is_day(text: str) -> bool:
    try:
        return len(text) == 10 and datetime.date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False

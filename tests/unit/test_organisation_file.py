"""The organisation file (`meeting.organisation`): a county's season, its tree of units and the
meetings that appraise them, parsed exactly; every bad value refused with a Chinese message
naming the file and the key, as the meeting file's are."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meeting.organisation import (
    FILING_DAYS,
    PlannedMeeting,
    Season,
    Unit,
    parse_organisation,
    parse_organisation_text,
)
from tally.errors import InputError

PROPERTY = settings(max_examples=150, deadline=None)
FINGERPRINT = "0123456789abcdef" * 4

# The county committee hears its towns and a bureau; 城关镇党委 hears its two villages. The
# county's meeting runs here (its file lies beside this one), the town's is filed as a package.
TEXT = """\
[season]
id = "2025"
name = "2025年度基层党组织书记抓基层党建工作述职评议"
deadline = 2026-02-15

[[units]]
id = "county"
name = "平邑县委"
level = "县委"

[[units]]
id = "chengguan"
name = "城关镇党委"
level = "镇党委"
parent = "county"
cert_sha256 = "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF"

[[units]]
id = "qingxi"
name = "青溪镇党委"
level = "镇党委"
parent = "county"

[[units]]
id = "jiaoyu"
name = "县教育局党组"
level = "局党组"
parent = "county"

[[units]]
id = "dongcun"
name = "东村党支部"
level = "村党支部"
parent = "chengguan"

[[units]]
id = "xicun"
name = "西村党支部"
level = "村党支部"
parent = "chengguan"

[[meetings]]
id = "county-2025"
unit = "county"
covers = ["chengguan", "qingxi", "jiaoyu"]
planned_on = 2026-01-10

[[meetings]]
id = "chengguan-2025"
unit = "chengguan"
covers = ["dongcun", "xicun"]
planned_on = "2026-01-05"
"""


def base() -> dict[str, Any]:
    """The same organisation as `TEXT`, as parsed data (dates quoted), for the bad cases."""
    return {
        "season": {"id": "2025", "name": "2025年度述职评议", "deadline": "2026-02-15"},
        "units": [
            {"id": "county", "name": "平邑县委", "level": "县委"},
            {"id": "chengguan", "name": "城关镇党委", "level": "镇党委", "parent": "county"},
            {"id": "dongcun", "name": "东村党支部", "level": "村党支部", "parent": "chengguan"},
        ],
        "meetings": [
            {"id": "county-2025", "unit": "county", "covers": ["chengguan"]},
            {"id": "chengguan-2025", "unit": "chengguan", "covers": ["dongcun"]},
        ],
    }


def test_a_complete_file_is_parsed_exactly() -> None:
    org = parse_organisation_text(TEXT, {"county-2025"})
    assert org.season == Season(
        "2025", "2025年度基层党组织书记抓基层党建工作述职评议", "2026-02-15", 7
    )
    assert org.units == (
        Unit("county", "平邑县委", "县委", None, ""),
        Unit("chengguan", "城关镇党委", "镇党委", "county", FINGERPRINT),
        Unit("qingxi", "青溪镇党委", "镇党委", "county", ""),
        Unit("jiaoyu", "县教育局党组", "局党组", "county", ""),
        Unit("dongcun", "东村党支部", "村党支部", "chengguan", ""),
        Unit("xicun", "西村党支部", "村党支部", "chengguan", ""),
    )
    assert org.meetings == (
        PlannedMeeting(
            "county-2025", "county", ("chengguan", "qingxi", "jiaoyu"), "2026-01-10", True
        ),
        PlannedMeeting("chengguan-2025", "chengguan", ("dongcun", "xicun"), "2026-01-05", False),
    )


def test_no_hosted_meeting_files_means_every_meeting_is_filed_from_elsewhere() -> None:
    org = parse_organisation_text(TEXT, ())
    assert [m.hosted for m in org.meetings] == [False, False]


def test_a_byte_order_mark_at_the_start_is_accepted() -> None:
    assert parse_organisation_text("\ufeff" + TEXT, ()) == parse_organisation_text(TEXT, ())


def test_the_parsed_data_and_the_text_give_the_same_organisation() -> None:
    text = TEXT.replace("deadline = 2026-02-15", 'deadline = "2026-02-15"')
    assert parse_organisation_text(text, ()) == parse_organisation_text(TEXT, ())


@pytest.mark.parametrize(
    ("line", "days"),
    [("", FILING_DAYS), ("filing_days = 7", 7), ("filing_days = 15", 15), ("filing_days = 1", 1)],
    ids=["default", "explicit-7", "fifteen", "one"],
)
def test_the_filing_days_default_to_seven(line: str, days: int) -> None:
    text = TEXT.replace("deadline = 2026-02-15", f"deadline = 2026-02-15\n{line}")
    assert parse_organisation_text(text, ()).season.filing_days == days
    assert FILING_DAYS == 7


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("ABCDEF0123456789" * 4, "abcdef0123456789" * 4),
        (":".join(["AB"] * 32), "ab" * 32),
        (":".join(["0f"] * 32), "0f" * 32),
        ("", ""),
    ],
    ids=["upper-case", "colons", "colons-lower", "absent"],
)
def test_a_certificate_fingerprint_is_stored_lower_case_without_colons(
    written: str, stored: str
) -> None:
    data = base()
    data["units"][1]["cert_sha256"] = written
    assert parse_organisation(data, ()).unit("chengguan").cert_sha256 == stored


@PROPERTY
@given(st.binary(min_size=32, max_size=32), st.booleans(), st.booleans())
def test_any_sha256_fingerprint_however_written_is_accepted(
    digest: bytes, upper: bool, colons: bool
) -> None:
    written = digest.hex(":") if colons else digest.hex()
    data = base()
    data["units"][0]["cert_sha256"] = written.upper() if upper else written
    assert parse_organisation(data, ()).unit("county").cert_sha256 == digest.hex()


@PROPERTY
@given(st.dates(min_value=datetime.date(1000, 1, 1)), st.booleans())
def test_a_day_is_accepted_quoted_or_as_a_toml_date(day: datetime.date, quoted: bool) -> None:
    data = base()
    data["season"]["deadline"] = day.isoformat() if quoted else day
    data["meetings"][0]["planned_on"] = day.isoformat() if quoted else day
    org = parse_organisation(data, ())
    assert org.season.deadline == day.isoformat()
    assert org.meetings[0].planned_on == day.isoformat()


def test_a_meeting_without_a_planned_day_and_a_unit_with_an_empty_parent() -> None:
    data = base()
    data["units"][0]["parent"] = ""  # "" : the top of the tree, as if not written
    org = parse_organisation(data, ())
    assert org.unit("county").parent is None
    assert org.meetings[0].planned_on is None


def test_names_and_levels_are_stripped() -> None:
    data = base()
    data["units"][0] |= {"name": " 平邑县委 ", "level": "县委\n"}
    unit = parse_organisation(data, ()).unit("county")
    assert (unit.name, unit.level) == ("平邑县委", "县委")


def test_a_file_without_meetings_is_a_season_not_yet_planned() -> None:
    data = base()
    del data["meetings"]
    assert parse_organisation(data, ()).meetings == ()


def test_the_source_names_the_file_in_every_message() -> None:
    with pytest.raises(InputError) as caught:
        parse_organisation_text(TEXT.replace('level = "县委"', 'level = ""'), (), "c/org.toml")
    assert caught.value.where == "c/org.toml units[1].level"


def test_the_organisation_looks_up_units_meetings_and_covered_units() -> None:
    org = parse_organisation_text(TEXT, {"county-2025"})
    assert org.unit("jiaoyu").name == "县教育局党组"
    assert org.meeting("chengguan-2025") is org.meetings[1]
    assert org.meeting("nowhere") is None
    # by name, among the units the meeting covers only
    assert org.covered_unit("county-2025", "青溪镇党委") == org.unit("qingxi")
    assert org.covered_unit("chengguan-2025", "东村党支部") == org.unit("dongcun")
    assert org.covered_unit("county-2025", "东村党支部") is None  # a unit, not covered here
    assert org.covered_unit("chengguan-2025", "城关镇党委") is None  # the one holding it
    assert org.covered_unit("county-2025", "甲镇党委") is None  # no such unit
    assert org.covered_unit("nowhere", "青溪镇党委") is None  # no such meeting


@pytest.mark.parametrize(
    ("text", "where", "fragment"),
    [
        ("[season\n", "organisation.toml:1:8", "TOML语法错误：Expected ']'"),
        (
            '[season]\nid = "2025"\nid = "2026"\n',
            "organisation.toml:3:12",
            "TOML语法错误：Cannot overwrite a value",
        ),
        ('[season]\nname = "', "organisation.toml:2:9", "（文件在此处意外结束）"),
    ],
    ids=["unclosed-table", "duplicate-key", "ends-early"],
)
def test_a_toml_syntax_error_names_the_line_and_column(
    text: str, where: str, fragment: str
) -> None:
    with pytest.raises(InputError) as caught:
        parse_organisation_text(text, ())
    assert caught.value.where == where
    assert fragment in caught.value.message


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Sets a key at a dotted path ("units.1.parent": the second unit's parent)."""

    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        table: Any = data
        for part in parents:
            table = table[int(part)] if part.isdigit() else table[part]
        table[int(last) if last.isdigit() else last] = value

    return change


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        table: Any = data
        for part in parents:
            table = table[int(part)] if part.isdigit() else table[part]
        del table[last]

    return change


def _add_unit(**unit: Any) -> Callable[[dict[str, Any]], None]:
    return lambda data: data["units"].append(unit)


def _add_meeting(**meeting: Any) -> Callable[[dict[str, Any]], None]:
    return lambda data: data["meetings"].append(meeting)


def _parents(*pairs: tuple[int, str]) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        for index, parent in pairs:
            data["units"][index]["parent"] = parent

    return change


@pytest.mark.parametrize(
    ("change", "hosted", "where", "fragment"),
    [
        (_drop("season"), (), "season", "缺少[season]表"),
        (_set("season", "2025"), (), "season", "应是一个表"),
        (_set("rounds", 3), (), "rounds", "未知的键“rounds”"),
        (_set("season.year", 2025), (), "season.year", "未知的键“year”"),
        (_set("units.0.secretary", "王一"), (), "units[1].secretary", "未知的键“secretary”"),
        (_set("meetings.0.date", "2026-01-10"), (), "meetings[1].date", "未知的键“date”"),
        (_drop("season.id"), (), "season.id", "缺少此项"),
        (_set("season.id", "2025年"), (), "season.id", "届次编号只能含小写字母、数字和-"),
        (_set("season.name", " "), (), "season.name", "不能为空"),
        (_drop("season.name"), (), "season.name", "缺少此项"),
        (_set("season.filing_days", 0), (), "season.filing_days", "应是不小于1的整数"),
        (_set("season.filing_days", True), (), "season.filing_days", "应是不小于1的整数"),
        (_set("season.filing_days", "7"), (), "season.filing_days", "应是不小于1的整数"),
        (_drop("season.deadline"), (), "season.deadline", "缺少此项"),
        (
            _set("season.deadline", "2026-2-1"),
            (),
            "season.deadline",
            "YYYY-MM-DD格式的日期，实际为“2026-2-1”",
        ),
        (_set("season.deadline", "2026-02-30"), (), "season.deadline", "实际为“2026-02-30”"),
        (_set("season.deadline", "20260215"), (), "season.deadline", "实际为“20260215”"),
        (_set("season.deadline", "2026-W07-1"), (), "season.deadline", "实际为“2026-W07-1”"),
        (_set("season.deadline", "2026-02-15 "), (), "season.deadline", "实际为“2026-02-15 ”"),
        (
            _set("season.deadline", datetime.datetime(2026, 2, 15, 9, 0)),
            (),
            "season.deadline",
            "应是字符串",
        ),
        (_set("season.deadline", 20260215), (), "season.deadline", "应是字符串"),
        (_drop("units"), (), "units", "至少要有一个单位"),
        (_set("units", []), (), "units", "至少要有一个单位"),
        (_set("units", {"id": "county"}), (), "units", "应是数组"),
        (_set("units.0", "county"), (), "units[1]", "应是一个表"),
        (
            _set("units.1.id", "Chengguan"),
            (),
            "units[2].id",
            "单位编号只能含小写字母、数字和-（用于网址），实际为“Chengguan”",
        ),
        (_set("units.1.id", "c" * 41), (), "units[2].id", "单位编号只能含"),
        (_set("units.1.id", ""), (), "units[2].id", "实际为“”"),
        (_set("units.1.id", "-town"), (), "units[2].id", "实际为“-town”"),
        (_set("units.1.id", "cheng_guan"), (), "units[2].id", "实际为“cheng_guan”"),
        (_drop("units.1.id"), (), "units[2].id", "缺少此项"),
        (_set("units.2.id", "chengguan"), (), "units[3].id", "单位编号“chengguan”重复"),
        (_set("units.2.name", "城关镇党委"), (), "units[3].name", "单位名称“城关镇党委”重复"),
        (_set("units.2.name", " 城关镇党委"), (), "units[3].name", "单位名称“城关镇党委”重复"),
        (_set("units.1.name", ""), (), "units[2].name", "不能为空"),
        (_set("units.1.level", "  "), (), "units[2].level", "不能为空"),
        (_drop("units.1.level"), (), "units[2].level", "缺少此项"),
        (_set("units.2.parent", "xiangzhen"), (), "units[3].parent", "没有编号为“xiangzhen”的单位"),
        (_set("units.2.parent", 1), (), "units[3].parent", "应是字符串"),
        (
            _set("units.0.parent", "chengguan"),
            (),
            "units[1].parent",
            "上级关系成环（“county”最终又隶属于自己）",
        ),
        (
            _set("units.2.parent", "dongcun"),
            (),
            "units[3].parent",
            "上级关系成环（“dongcun”最终又隶属于自己）",
        ),
        (
            _parents((1, "dongcun"), (2, "chengguan")),
            (),
            "units[2].parent",
            "上级关系成环（“chengguan”最终又隶属于自己）",
        ),
        (
            _set("units.0.cert_sha256", "ab" * 31),
            (),
            "units[1].cert_sha256",
            "应是64位十六进制的SHA-256指纹",
        ),
        (_set("units.0.cert_sha256", "g" * 64), (), "units[1].cert_sha256", "64位十六进制"),
        (_set("units.0.cert_sha256", "ab" * 33), (), "units[1].cert_sha256", "64位十六进制"),
        (_set("meetings", "county-2025"), (), "meetings", "应是数组"),
        (_set("meetings.0.id", "County"), (), "meetings[1].id", "会议编号只能含小写字母、数字和-"),
        (_set("meetings.1.id", "county-2025"), (), "meetings[2].id", "会议编号“county-2025”重复"),
        (_drop("meetings.0.unit"), (), "meetings[1].unit", "缺少此项"),
        (_set("meetings.0.unit", "shengwei"), (), "meetings[1].unit", "没有编号为“shengwei”的单位"),
        (_set("meetings.0.covers", []), (), "meetings[1].covers", "至少要写一个述职单位的编号"),
        (_drop("meetings.0.covers"), (), "meetings[1].covers", "至少要写一个述职单位的编号"),
        (_set("meetings.0.covers", "chengguan"), (), "meetings[1].covers", "应是数组"),
        (
            _set("meetings.0.covers", ["chengguan", ""]),
            (),
            "meetings[1].covers[2]",
            "应是非空字符串",
        ),
        (
            _set("meetings.0.covers", ["chengguan", "qingxi"]),
            (),
            "meetings[1].covers[2]",
            "没有编号为“qingxi”的单位",
        ),
        (
            _set("meetings.1.covers", ["dongcun", "chengguan", "dongcun"]),
            (),
            "meetings[2].covers[3]",
            "单位“dongcun”重复",
        ),
        (
            _set("meetings.1.planned_on", "2026-1-5"),
            (),
            "meetings[2].planned_on",
            "实际为“2026-1-5”",
        ),
        (
            _set("meetings.1.planned_on", "2026-02-29"),
            (),
            "meetings[2].planned_on",
            "实际为“2026-02-29”",
        ),
        (
            _set("meetings.1.planned_on", datetime.time(9, 30)),
            (),
            "meetings[2].planned_on",
            "应是字符串",
        ),
        (
            lambda data: None,
            ("county-2025", "xiangzhen-2025"),
            "meetings",
            "会议文件 xiangzhen-2025.toml 不在[[meetings]]中",
        ),
        (
            lambda data: None,
            ("zz-2025", "aa-2025"),
            "meetings",
            "会议文件 aa-2025.toml 不在[[meetings]]中：请写明由哪个单位召开、哪些单位述职",
        ),
        (_drop("meetings"), ("county-2025",), "meetings", "会议文件 county-2025.toml"),
    ],
    ids=[
        "missing-season",
        "season-not-a-table",
        "unknown-top-key",
        "unknown-season-key",
        "unknown-unit-key",
        "unknown-meeting-key",
        "missing-season-id",
        "bad-season-id",
        "blank-season-name",
        "missing-season-name",
        "filing-days-zero",
        "filing-days-boolean",
        "filing-days-string",
        "missing-deadline",
        "deadline-one-digit-month",
        "deadline-no-such-day",
        "deadline-basic-format",
        "deadline-week-date",
        "deadline-trailing-space",
        "deadline-datetime",
        "deadline-number",
        "no-units",
        "empty-units",
        "units-not-an-array",
        "unit-not-a-table",
        "unit-id-upper-case",
        "unit-id-too-long",
        "unit-id-empty",
        "unit-id-leading-dash",
        "unit-id-underscore",
        "unit-id-missing",
        "duplicate-unit-id",
        "duplicate-unit-name",
        "duplicate-unit-name-after-strip",
        "empty-unit-name",
        "blank-unit-level",
        "missing-unit-level",
        "unknown-parent",
        "parent-not-a-string",
        "top-below-its-own-child",
        "self-parent",
        "two-unit-cycle",
        "fingerprint-too-short",
        "fingerprint-not-hex",
        "fingerprint-too-long",
        "meetings-not-an-array",
        "meeting-id-upper-case",
        "duplicate-meeting-id",
        "meeting-unit-missing",
        "meeting-unit-unknown",
        "empty-covers",
        "missing-covers",
        "covers-not-an-array",
        "covers-blank-entry",
        "covers-unknown-unit",
        "covers-duplicate-unit",
        "planned-on-one-digit-month",
        "planned-on-not-a-leap-year",
        "planned-on-a-time",
        "hosted-file-not-listed",
        "first-unlisted-file-named",
        "hosted-file-and-no-meetings",
    ],
)
def test_a_bad_file_is_refused_naming_the_key(
    change: Callable[[dict[str, Any]], None], hosted: tuple[str, ...], where: str, fragment: str
) -> None:
    data = base()
    change(data)
    with pytest.raises(InputError) as caught:
        parse_organisation(data, hosted)
    assert caught.value.where == f"organisation.toml {where}"
    assert fragment in caught.value.message


def test_a_cycle_above_a_unit_is_reported_on_a_unit_in_the_cycle() -> None:
    """东村 hangs below a cycle (城关 ⇄ 青溪) without being in it: the message names a unit of
    the cycle, at its own parent key, not 东村 (whose parent is a unit that exists)."""
    data = base()
    data["units"] = [
        {"id": "dongcun", "name": "东村党支部", "level": "村党支部", "parent": "chengguan"},
        {"id": "chengguan", "name": "城关镇党委", "level": "镇党委", "parent": "qingxi"},
        {"id": "qingxi", "name": "青溪镇党委", "level": "镇党委", "parent": "chengguan"},
    ]
    data["meetings"] = []
    with pytest.raises(InputError) as caught:
        parse_organisation(data, ())
    assert caught.value.where == "organisation.toml units[2].parent"
    assert "“chengguan”最终又隶属于自己" in caught.value.message


def test_a_long_chain_of_units_is_no_cycle() -> None:
    data = base()
    data["units"] = [
        {"id": f"u{i}", "name": f"单位{i}", "level": f"第{i}级"}
        | ({"parent": f"u{i - 1}"} if i else {})
        for i in range(30)
    ]
    data["meetings"] = [{"id": "m", "unit": "u0", "covers": ["u1"]}]
    org = parse_organisation(data, ("m",))
    assert [u.parent for u in org.units][:3] == [None, "u0", "u1"]
    assert org.meetings == (PlannedMeeting("m", "u0", ("u1",), None, True),)

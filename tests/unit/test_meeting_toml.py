"""`tally.meeting_toml.to_toml`: a meeting dict written as TOML reads back as the same meeting,
for the examples and for generated meetings (Chinese, quotes, backslashes, decimals)."""

from __future__ import annotations

import datetime
import tomllib
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tally.meeting_file import parse_meeting, parse_meeting_text
from tally.meeting_toml import decimal_text, to_toml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("name", ["demo-meeting.toml", "sanping-meeting.toml"])
def test_an_example_file_round_trips(name: str) -> None:
    data = tomllib.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    text = to_toml(data)

    def read_items(path: str) -> str:
        return (EXAMPLES / path).read_text(encoding="utf-8")

    assert parse_meeting_text(text, read_items=read_items) == parse_meeting(
        data, read_items=read_items
    )
    assert tomllib.loads(text)["reporters"] == data["reporters"]


def test_the_text_is_what_a_person_would_write() -> None:
    data = {
        "meeting": {"title": "2026年度“述职评议”会", "date": datetime.date(2026, 12, 28)},
        "reporters": [{"id": "r01", "name": "王建国", "org": "城关镇\\党委", "flags": ["问责"]}],
        "groups": [
            {"id": "a", "name": "县级领导", "seats": 15, "weight": 0.3},
            {"id": "b", "name": "基层代表", "seats": 40, "weight": 0.7},
        ],
        "rules": {"poor_share_limit": 0.1, "quota": {"好": 0.3}},
    }
    text = to_toml(data)
    assert 'title = "2026年度\\"述职评议\\"会"' not in text  # Chinese quotes stay as they are
    assert 'title = "2026年度“述职评议”会"' in text
    assert 'date = "2026-12-28"' in text
    assert 'org = "城关镇\\\\党委"' in text
    assert "weight = 0.3" in text and "poor_share_limit = 0.1" in text
    assert "[rules.quota]\n好 = 0.3" in text or '[rules.quota]\n"好" = 0.3' in text
    meeting = parse_meeting_text(text)
    assert meeting == parse_meeting(data)
    assert meeting.groups[0].weight == Fraction(3, 10)
    assert meeting.rules.quota == (("好", Fraction(3, 10)),)


def test_decimal_text_is_exact() -> None:
    assert decimal_text(Fraction(1, 10)) == "0.1"
    assert decimal_text(Fraction(1, 8)) == "0.125"
    assert decimal_text(Fraction(-3, 4)) == "-0.75"
    assert decimal_text(Fraction(7)) == "7"
    with pytest.raises(ValueError):
        decimal_text(Fraction(1, 3))


def test_nested_tables_and_tables_in_arrays() -> None:
    data = {
        "meeting": {"title": "t", "date": "2026-01-02", "seats": 9},
        "reporters": [{"id": "r1", "name": "甲", "org": "乙", "commenters": ["李明（局长）"]}],
        "agenda": {"report_minutes": 7.5, "commenters": ["张三"]},
        "evaluation": {"sources": ["实地调研"]},
    }
    text = to_toml(data)
    assert tomllib.loads(text) == data
    assert parse_meeting_text(text) == parse_meeting(data)


# ---- generated meetings ---------------------------------------------------------------------

TEXT = st.text(
    alphabet=st.sampled_from(list("述职评议好较一般差县级领导“”\"\\'#=[]{} \tabcXYZ019-_,\n")),
    min_size=1,
    max_size=12,
).filter(lambda s: s.strip() != "")
IDS = st.from_regex(r"[A-Za-z0-9_-]{1,8}", fullmatch=True)
PERCENT = st.integers(min_value=0, max_value=100).map(lambda n: n / 100)


@st.composite
def meetings(draw: st.DrawFn) -> dict:
    n_reporters = draw(st.integers(1, 6))
    reporter_ids = draw(st.lists(IDS, min_size=n_reporters, max_size=n_reporters, unique=True))
    reporters = []
    for rid in reporter_ids:
        reporter: dict = {"id": rid, "name": draw(TEXT), "org": draw(TEXT)}
        if draw(st.booleans()):
            reporter["mode"] = draw(st.sampled_from(["onsite", "written"]))
        if draw(st.booleans()):
            reporter["flags"] = draw(st.lists(TEXT, max_size=2))
        reporters.append(reporter)
    n_groups = draw(st.integers(1, 4))
    group_ids = draw(st.lists(IDS, min_size=n_groups, max_size=n_groups, unique=True))
    # weights in hundredths that sum to exactly 100
    cuts = sorted(
        draw(
            st.lists(st.integers(1, 99), min_size=n_groups - 1, max_size=n_groups - 1, unique=True)
        )
    )
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, 100], strict=True)]
    groups = []
    for gid, part in zip(group_ids, parts, strict=True):
        group: dict = {"id": gid, "name": draw(TEXT), "seats": draw(st.integers(1, 500))}
        if n_groups > 1 or draw(st.booleans()):
            group["weight"] = part / 100 if part != 100 else 1
        groups.append(group)
    meeting: dict = {
        "title": draw(TEXT),
        "date": draw(st.dates(datetime.date(2000, 1, 1), datetime.date(2099, 12, 31))),
    }
    if draw(st.booleans()):
        meeting["date"] = meeting["date"].isoformat()
    for key in ("place", "organizer"):
        if draw(st.booleans()):
            meeting[key] = draw(TEXT)
    meeting["join"] = draw(st.sampled_from(["cards", "open"]))
    meeting["voting"] = draw(st.sampled_from(["end", "each"]))
    rules: dict = {}
    if draw(st.booleans()):
        rules["poor_share_limit"] = draw(PERCENT)
    if draw(st.booleans()):
        rules["poor_share_basis"] = draw(st.sampled_from(["valid", "cast"]))
    if draw(st.booleans()):
        rules["quorum"] = draw(PERCENT)
    if draw(st.booleans()):
        rules["override_flags"] = draw(st.lists(TEXT, max_size=3))
    if draw(st.booleans()):
        rules["grades"] = ["优秀", "合格", "基本合格", "不合格"]
        rules["poor_grade"] = "不合格"
        rules["points"] = [100, 85.5, 60, 0]
        rules["score_cutoffs"] = [90, 72.25, 60.5]
    if draw(st.booleans()):
        best, second = rules.get("grades", ["好", "较好"])[:2]
        rules["quota"] = {best: draw(PERCENT), second: draw(PERCENT)}
    if draw(st.booleans()):
        rules["bottom"] = draw(st.one_of(st.integers(1, n_reporters), st.just("12.5%")))
    data = {"meeting": meeting, "reporters": reporters, "groups": groups}
    if rules:
        data["rules"] = rules
    return data


@settings(max_examples=150, deadline=None)
@given(meetings())
def test_every_valid_meeting_round_trips(data: dict) -> None:
    expected = parse_meeting(data)  # the generator makes only valid meetings
    assert parse_meeting_text(to_toml(data)) == expected


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        TEXT,
        st.one_of(
            TEXT, st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.booleans()
        ),
        max_size=5,
    )
)
def test_any_plain_table_reads_back_as_written(table: dict) -> None:
    assert tomllib.loads(to_toml({"meeting": table}, header="")) == {"meeting": table}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "a meeting is a dict"),
        ({1: "x"}, "a TOML key is text, not 1"),
        ({"at": datetime.datetime(2026, 12, 28, 9, 0)}, "a meeting holds dates, not times"),
        ({"x": object}, "cannot write <class 'object'> as TOML"),
    ],
)
def test_what_toml_cannot_hold_is_refused(data: object, message: str) -> None:
    with pytest.raises(TypeError) as refused:
        to_toml(data, header="")  # type: ignore[arg-type]
    assert str(refused.value) == message


def test_every_value_kind_reads_back() -> None:
    data = {
        "plain": "行\x01\x7f尾",
        "table": {
            "n": float("nan"),
            "up": float("inf"),
            "down": float("-inf"),
            "third": Fraction(1, 4),
            "day": datetime.date(2026, 12, 28),
            "empty": {},
            "pair": ("a", 1),
        },
        "rows": [{"a": 1}, {"a": 2}],
    }
    back = tomllib.loads(to_toml(data))
    assert back["plain"] == "行\x01\x7f尾"
    table = back["table"]
    assert (
        table["n"] != table["n"] and table["up"] == float("inf") and table["down"] == -table["up"]
    )
    assert (table["third"], table["day"], table["empty"], table["pair"]) == (
        0.25,
        "2026-12-28",
        {},
        ["a", 1],
    )
    assert back["rows"] == [{"a": 1}, {"a": 2}]

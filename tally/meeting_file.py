"""The meeting file: TOML text or an already-parsed dict in, a validated `Meeting` out.

Every check raises `InputError` naming the key path (``reporters[3].id``, 1-based like the
order of the ``[[reporters]]`` blocks in the file) and the bad value, in Chinese, because the
people who write these files are secretariat staff, not programmers.
"""

from __future__ import annotations

import datetime
import re
import tomllib
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from tally.errors import InputError
from tally.model import (
    ABSTAIN,
    DEFAULT_CUTOFFS,
    DEFAULT_EVALUATION_SOURCES,
    DEFAULT_GRADES,
    DEFAULT_POINTS,
    DEFAULT_SUPERVISION_NAME,
    NOT_ON_BALLOT,
    SPOILED,
    SUPERVISION_GROUP,
    Agenda,
    Appraisal,
    Group,
    Meeting,
    Member,
    Reporter,
    Rules,
    Supervision,
)

DEFAULT_GROUP_ID = "all"
DEFAULT_GROUP_NAME = "全体"

# forms, composite, experts, indicators: read by tally.forms_file (docs/meeting-file.md)
TOP_KEYS = (
    "meeting",
    "reporters",
    "groups",
    "rules",
    "agenda",
    "evaluation",
    "forms",
    "composite",
    "experts",
    "indicators",
    "supervision",
)
# privacy_min_ballots once held the chair's live counts back; those counts are gone (ballots are
# sealed until a round closes), so the key is still accepted for older files but ignored.
MEETING_KEYS = (
    "title",
    "date",
    "place",
    "organizer",
    "join",
    "voting",
    "privacy_min_ballots",
    "seats",
)
REPORTER_KEYS = ("id", "name", "org", "mode", "flags", "commenters", "category")
GROUP_KEYS = ("id", "name", "seats", "weight", "form", "forms", "weights", "named", "members")
MEMBER_KEYS = ("id", "name", "supervises")
SUPERVISION_KEYS = ("name", "weight")
# The keys an unknown key's message lists: those of a meeting without forms (the forms' own
# keys are accepted as well, and documented in docs/meeting-file.md).
_LISTED_TOP, _LISTED_REPORTER, _LISTED_GROUP = TOP_KEYS[:6], REPORTER_KEYS[:6], GROUP_KEYS[:4]
AGENDA_KEYS = ("report_minutes", "comment_minutes", "commenters", "comments", "closing_speech")
EVALUATION_KEYS = ("sources",)
NAME_MAX_CHARS = 40  # a commenter's or speaker's name with their post, as printed
BUDGET_MAX_MINUTES = 600  # a budget over ten hours is a typo (seconds for minutes)
RULE_KEYS = (
    "grades",
    "points",
    "base",
    "score_cutoffs",
    "share_threshold",
    "poor_share_limit",
    "poor_share_basis",
    "override_flags",
    "quorum",
    "quota",
    "poor_grade",
    "bottom",
)

_ID = re.compile(r"[A-Za-z0-9_-]+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SHARE = re.compile(r"(\d+(?:\.\d+)?)%")  # bottom = "10%"
# tomllib ends every message with where it stopped: "(at line 3, column 8)", or "(at end of
# document)" when the text ran out first.
_TOML_POS = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|(end of document))\)$")
# Grade words end up in CSV cells and in the tally sheet; keep them to plain words.
_BAD_GRADE_CHARS = set(',"\n\r\t')


class _Checker:
    """Reads one table with typed getters that know the table's key path for messages."""

    def __init__(
        self,
        table: Any,
        path: str,
        allowed: tuple[str, ...],
        source: str,
        listed: tuple[str, ...] | None = None,
    ) -> None:
        self.source = source
        self.path = path
        if not isinstance(table, dict):
            self.fail(path, f"应是一个表（table），实际为{_show(table)}")
        unknown = [key for key in table if key not in allowed]
        if unknown:
            self.fail(
                _join(path, unknown[0]),
                f"未知的键“{unknown[0]}”；允许的键：{', '.join(listed or allowed)}",
            )
        self.table = table

    def fail(self, where: str, message: str) -> None:
        raise InputError(f"{self.source} {where}" if where else self.source, message)

    def key(self, name: str) -> str:
        return _join(self.path, name)

    def has(self, name: str) -> bool:
        return name in self.table

    def text(self, name: str, default: str | None = None) -> str:
        if name not in self.table:
            if default is None:
                self.fail(self.key(name), "缺少此项（必填，字符串）")
            return default  # type: ignore[return-value]
        value = self.table[name]
        if not isinstance(value, str):
            self.fail(self.key(name), f"应是字符串，实际为{_show(value)}")
        return value

    def choice(self, name: str, options: tuple[str, ...], default: str) -> str:
        value = self.text(name, default)
        if value not in options:
            allowed = " 或 ".join(f"“{o}”" for o in options)
            self.fail(self.key(name), f"应为{allowed}，实际为“{value}”")
        return value

    def integer(self, name: str, minimum: int) -> int:
        if name not in self.table:
            self.fail(self.key(name), f"缺少此项（必填，不小于{minimum}的整数）")
        value = self.table[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(self.key(name), f"应是不小于{minimum}的整数，实际为{_show(value)}")
        return value

    def fraction(self, name: str, default: Fraction, low: Fraction, high: Fraction) -> Fraction:
        if name not in self.table:
            return default
        value = _number(self.table[name])
        if value is None or not low <= value <= high:
            self.fail(
                self.key(name),
                f"应是{_plain(low)}到{_plain(high)}之间的数，实际为{_show(self.table[name])}",
            )
        return value  # type: ignore[return-value]

    def minutes(self, name: str) -> Fraction | None:
        """An optional time budget in minutes: more than 0, at most BUDGET_MAX_MINUTES."""
        if name not in self.table:
            return None
        value = _number(self.table[name])
        if value is None or not 0 < value <= BUDGET_MAX_MINUTES:
            self.fail(
                self.key(name),
                f"应是大于0、不超过{BUDGET_MAX_MINUTES}的分钟数，实际为{_show(self.table[name])}",
            )
        return value

    def array(self, name: str, default: list[Any]) -> list[Any]:
        value = self.table.get(name, default)
        if not isinstance(value, list):
            self.fail(self.key(name), f"应是数组，实际为{_show(value)}")
        return value

    def strings(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        items = self.array(name, list(default))
        for i, item in enumerate(items, 1):
            if not isinstance(item, str) or not item.strip():
                self.fail(f"{self.key(name)}[{i}]", f"应是非空字符串，实际为{_show(item)}")
        return tuple(items)

    def numbers(self, name: str, default: tuple[Fraction, ...]) -> tuple[Fraction, ...]:
        if name not in self.table:
            return default
        out = []
        for i, item in enumerate(self.array(name, []), 1):
            value = _number(item)
            if value is None:
                self.fail(f"{self.key(name)}[{i}]", f"应是数，实际为{_show(item)}")
            out.append(value)
        return tuple(out)  # type: ignore[arg-type]


def parse_meeting_text(
    text: str, source: str = "meeting.toml", read_items: Callable[[str], str] | None = None
) -> Meeting:
    """`read_items` reads a form's items file (`tally.forms_file`): a path as written in the
    meeting file → its text; None: such a path is refused."""
    text = text.removeprefix("\ufeff")  # Windows Notepad saves UTF-8 with a BOM
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _toml_error(str(error), text, source) from None
    return parse_meeting(data, source, read_items)


def _toml_error(message: str, text: str, source: str) -> InputError:
    found = _TOML_POS.search(message)
    if found is None:  # not a message tomllib writes today: pass it on as it is
        return InputError(source, f"TOML语法错误：{message}")
    reason = message[: found.start()]
    line, column, at_end = found.groups()
    if at_end:  # name the place just after the last character
        line, column = text.count("\n") + 1, len(text) - text.rfind("\n")
        reason += "（文件在此处意外结束）"
    return InputError(f"{source}:{line}:{column}", f"TOML语法错误：{reason}")


def parse_meeting(
    data: dict, source: str = "meeting.toml", read_items: Callable[[str], str] | None = None
) -> Meeting:
    from tally.forms_file import parse_forms  # it reads tables with this module's _Checker

    top = _Checker(data, "", TOP_KEYS, source, _LISTED_TOP)
    if not top.has("meeting"):
        top.fail("meeting", "缺少[meeting]表（至少要写title和date）")
    m = _Checker(data["meeting"], "meeting", MEETING_KEYS, source)
    title = m.text("title")
    if not title.strip():
        m.fail("meeting.title", "不能为空")
    date = _date(m)
    reporters = _reporters(top, source)
    groups = _groups(top, m, source, {r.id for r in reporters})
    supervision = _supervision(top, groups, source)
    _check_weights(top, groups, supervision)
    join = m.choice("join", ("cards", "open"), "cards")
    named = next((i for i, g in enumerate(groups, 1) if g.named), None)
    if join == "open" and named is not None:  # an open join has no personal card to sign with
        top.fail(
            f"groups[{named}].named",
            '开放入场（join = "open"）的会议不能设实名分组：实名成员须各用本人的参会卡投票，'
            '请改用 join = "cards"',
        )
    rules = _rules(data.get("rules", {}), source, len(reporters))
    voting = m.choice("voting", ("end", "each"), "end")
    agenda = _agenda(data.get("agenda", {}), source, voting)
    shared = supervision.weight if supervision is not None else Fraction(0)
    appraisal = parse_forms(data, source, reporters, groups, rules, read_items, shared)
    _supervisors_grade(top, groups, appraisal)
    return Meeting(
        title=title,
        date=date,
        reporters=reporters,
        groups=groups,
        rules=rules,
        place=m.text("place", ""),
        organizer=m.text("organizer", ""),
        join=join,  # type: ignore[arg-type]
        voting=voting,  # type: ignore[arg-type]
        agenda=agenda,
        evaluation_sources=_evaluation_sources(data.get("evaluation", {}), source),
        appraisal=appraisal,
        supervision=supervision,
    )


def _supervisors_grade(top: _Checker, groups: tuple[Group, ...], appraisal: Appraisal) -> None:
    """分管 sets the supervisors' grades apart: a supervised reporter must be one their group
    grades (a form with a grade part), or the 分管 constituency could never have a vote."""
    for i, group in enumerate(groups, 1):
        for j, member in enumerate(group.members, 1):
            for k, rid in enumerate(member.supervises, 1):
                form = appraisal.form_for(rid, group.id)
                if not form.has_grade:
                    top.fail(
                        f"groups[{i}].members[{j}].supervises[{k}]",
                        f"“{group.name}”对述职人“{rid}”不作等次测评（用表“{form.name}”）；"
                        "分管领导的评价按等次单列，分管的述职人须是本组评定等次的述职人",
                    )


def _date(m: _Checker) -> str:
    value = m.table.get("date")
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value.isoformat()  # an unquoted TOML date is fine too
    text = m.text("date")
    try:
        if not _DATE.fullmatch(text):
            raise ValueError
        datetime.date.fromisoformat(text)
    except ValueError:
        m.fail("meeting.date", f"应是YYYY-MM-DD格式的日期，实际为“{text}”")
    return text


def _reporters(top: _Checker, source: str) -> tuple[Reporter, ...]:
    items = top.array("reporters", [])
    if not items:
        top.fail("reporters", "至少要有一位述职人（[[reporters]]）")
    seen: set[str] = set()
    out = []
    for i, item in enumerate(items, 1):
        r = _Checker(item, f"reporters[{i}]", REPORTER_KEYS, source, _LISTED_REPORTER)
        rid = _ident(r, seen, "述职人")
        name = r.text("name")
        if not name.strip():
            r.fail(r.key("name"), "不能为空")
        mode = r.choice("mode", ("onsite", "written"), "onsite")
        flags = r.strings("flags", ())
        commenters = _names(r, "commenters")
        out.append(
            Reporter(rid, name, r.text("org"), mode, flags, commenters)  # type: ignore[arg-type]
        )
    return tuple(out)


def _groups(top: _Checker, m: _Checker, source: str, reporter_ids: set[str]) -> tuple[Group, ...]:
    items = top.array("groups", [])
    if not items:
        seats = m.integer("seats", 1)
        return (Group(DEFAULT_GROUP_ID, DEFAULT_GROUP_NAME, seats, Fraction(1)),)
    if m.has("seats"):
        m.fail("meeting.seats", "已用[[groups]]分组时，应到人数写在各组的seats里，这里不要写")
    seen: set[str] = set()
    member_ids: set[str] = set()  # unique across the meeting: a ballot names its voter by id
    out = []
    for i, item in enumerate(items, 1):
        g = _Checker(item, f"groups[{i}]", GROUP_KEYS, source, _LISTED_GROUP)
        gid = _ident(g, seen, "分组")
        if "weight" not in g.table and len(items) > 1:
            g.fail(g.key("weight"), "有多个分组时每组都要写权重weight（各组之和为1）")
        weight = g.fraction("weight", Fraction(1), Fraction(0), Fraction(1))
        if weight <= 0:
            g.fail(g.key("weight"), f"权重应大于0，实际为{_show(g.table['weight'])}")
        named = _flag(g, "named")
        members = _members(g, named, member_ids, reporter_ids)
        if named and not g.has("seats"):
            seats = len(members)  # a named group's seats are its members
        else:
            seats = g.integer("seats", 1)
            if named and seats != len(members):
                g.fail(
                    g.key("seats"),
                    f"实名分组的应到人数即成员人数：seats应为{len(members)}（或不写），实际为{seats}",
                )
        out.append(Group(gid, g.text("name"), seats, weight, named, members))
    return tuple(out)


def _check_weights(
    top: _Checker, groups: tuple[Group, ...], supervision: Supervision | None
) -> None:
    """The groups' weights, and 分管's where `[supervision]` is declared, sum to exactly 1: as
    written they are the shares of a supervised reporter's score (党组成员0.4 + 代表0.4 + 分管
    0.2); where nobody supervises a reporter, 分管's share goes to the groups in proportion."""
    weights = [group.weight for group in groups]
    if supervision is not None:
        weights.append(supervision.weight)
    total = sum(weights, Fraction(0))
    if total != 1:
        shown = " + ".join(_plain(weight) for weight in weights)
        what = (
            "各组权重与分管领导权重（[supervision] weight）之和" if supervision else "各组权重之和"
        )
        top.fail("groups[*].weight", f"{what}应为1，实际为{shown} = {_plain(total)}")


def _flag(c: _Checker, key: str) -> bool:
    value = c.table.get(key, False)
    if not isinstance(value, bool):
        c.fail(c.key(key), f"应为true或false，实际为{_show(value)}")
    return value


def _members(
    g: _Checker, named: bool, seen: set[str], reporter_ids: set[str]
) -> tuple[Member, ...]:
    """部分实名: a named group's members, each with the reporters they supervise (分管)."""
    if not named:
        if g.has("members"):
            g.fail(
                g.key("members"),
                "匿名分组不能列出成员；部分实名（成员各用本人的卡投票、选票记录投票人）请写named = true",
            )
        return ()
    items = g.array("members", [])
    if not items:
        g.fail(g.key("members"), "实名分组（named = true）至少要有一名成员（members）")
    out = []
    for i, item in enumerate(items, 1):
        c = _Checker(item, f"{g.path}.members[{i}]", MEMBER_KEYS, g.source)
        member_id = _ident(c, seen, "成员")
        name = c.text("name").strip()
        if not name:
            c.fail(c.key("name"), "不能为空")
        supervises = c.strings("supervises", ())
        for j, rid in enumerate(supervises, 1):
            where = f"{c.key('supervises')}[{j}]"
            if rid not in reporter_ids:
                c.fail(where, f"述职人“{rid}”不在[[reporters]]中；分管的述职人请写其编号")
            if rid in supervises[: j - 1]:
                c.fail(where, f"述职人“{rid}”重复")
        out.append(Member(member_id, name, supervises))
    return tuple(out)


def _supervision(top: _Checker, groups: tuple[Group, ...], source: str) -> Supervision | None:
    """分管: `[supervision]` and the members' `supervises` come together or not at all."""
    supervisors = [
        (i, j) for i, g in enumerate(groups, 1) for j, m in enumerate(g.members, 1) if m.supervises
    ]
    if not top.has("supervision"):
        if supervisors:
            i, j = supervisors[0]
            top.fail(
                f"groups[{i}].members[{j}].supervises",
                "写了分管的述职人，却没有[supervision]表；请写明分管领导评价的权重："
                "[supervision] weight = 0.3",
            )
        return None
    s = _Checker(top.table["supervision"], "supervision", SUPERVISION_KEYS, source)
    if not supervisors:
        s.fail(
            "supervision", "没有成员写分管的述职人（members的supervises），[supervision]无从适用"
        )
    if not s.has("weight"):
        s.fail("supervision.weight", "缺少此项（必填，大于0、不超过1的数）")
    weight = s.fraction("weight", Fraction(0), Fraction(0), Fraction(1))
    if weight <= 0:
        s.fail("supervision.weight", f"权重应大于0，实际为{_show(s.table['weight'])}")
    name = s.text("name", DEFAULT_SUPERVISION_NAME).strip()
    if not name:
        s.fail("supervision.name", "不能为空")
    for i, group in enumerate(groups, 1):
        if group.id == SUPERVISION_GROUP:
            top.fail(
                f"groups[{i}].id",
                f"分组编号“{SUPERVISION_GROUP}”留作分管领导的评价（[supervision]），请另取编号",
            )
    return Supervision(name, weight)


def _rules(table: Any, source: str, reporters: int) -> Rules:
    r = _Checker(table, "rules", RULE_KEYS, source)
    grades = r.strings("grades", DEFAULT_GRADES)
    if not 2 <= len(grades) <= 10:
        r.fail("rules.grades", f"应有2到10个等次，实际为{len(grades)}个")
    for i, grade in enumerate(grades, 1):
        if (
            grade in (SPOILED, NOT_ON_BALLOT, ABSTAIN)
            or grade != grade.strip()
            or (_BAD_GRADE_CHARS & set(grade))
        ):
            r.fail(f"rules.grades[{i}]", f"“{grade}”不能用作等次（保留字或含逗号、引号、空白）")
        if grades.index(grade) != i - 1:
            r.fail(f"rules.grades[{i}]", f"等次“{grade}”重复")
    points = r.numbers("points", DEFAULT_POINTS)
    if len(points) != len(grades):
        r.fail(
            "rules.points", f"应有{len(grades)}个分值（与grades一一对应），实际为{len(points)}个"
        )
    _descending(r, "rules.points", points)
    cutoffs = r.numbers("score_cutoffs", DEFAULT_CUTOFFS)
    if len(cutoffs) != len(grades) - 1:
        r.fail(
            "rules.score_cutoffs",
            f"应有{len(grades) - 1}个分数线（比grades少一个），实际为{len(cutoffs)}个",
        )
    _descending(r, "rules.score_cutoffs", cutoffs)
    _poor_grade(r, grades)
    bottom_count, bottom_share = _bottom(r, reporters)
    zero, one = Fraction(0), Fraction(1)
    return Rules(
        grades=grades,
        points=points,
        base=r.choice("base", ("score", "share"), "score"),  # type: ignore[arg-type]
        score_cutoffs=cutoffs,
        share_threshold=r.fraction("share_threshold", Fraction(3, 5), zero, one),
        poor_share_limit=r.fraction("poor_share_limit", Fraction(1, 10), zero, one),
        poor_share_basis=r.choice("poor_share_basis", ("valid", "cast"), "valid"),  # type: ignore[arg-type]
        override_flags=r.strings("override_flags", ("重大失误", "问责")),
        quorum=r.fraction("quorum", zero, zero, one),
        quota=_quota(r, grades, source),
        bottom_count=bottom_count,
        bottom_share=bottom_share,
    )


def _poor_grade(r: _Checker, grades: tuple[str, ...]) -> None:
    """The poor-vote rule (差票) and the override flags set the last grade. With the default
    scale that is 差; a meeting with its own scale must name it, so that nobody applies the
    rule to a grade without knowing."""
    listed = "、".join(grades)
    if not r.has("poor_grade"):
        if grades != DEFAULT_GRADES:
            r.fail(
                "rules.poor_grade",
                f"使用自定义等次（{listed}）时必须写明差票规则和标记定为哪个等次，"
                f'应为最后一个等次：poor_grade = "{grades[-1]}"',
            )
        return
    value = r.text("poor_grade")
    if value not in grades:
        r.fail("rules.poor_grade", f"“{value}”不是rules.grades中的等次；等次为：{listed}")
    if value != grades[-1]:
        r.fail(
            "rules.poor_grade",
            f"应为最后（最差）一个等次“{grades[-1]}”，实际为“{value}”："
            "差票规则和标记把等次定为最差一档，等次按从好到差排列",
        )


def _bottom(r: _Checker, reporters: int) -> tuple[int | None, Fraction | None]:
    """倒排: `bottom = 2` (reporters) or `bottom = "10%"` (a share, rounded up)."""
    if not r.has("bottom"):
        return None, None
    value = r.table["bottom"]
    if isinstance(value, str):
        found = _SHARE.fullmatch(value.strip())
        share = Fraction(found.group(1)) / 100 if found else Fraction(0)
        if not 0 < share <= 1:
            r.fail("rules.bottom", f"比例应写成大于0、不超过100的百分数，如“10%”，实际为“{value}”")
        return None, share
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= reporters:
        r.fail(
            "rules.bottom",
            f"应是1到{reporters}（述职人数）之间的整数，或“10%”这样的比例，实际为{_show(value)}",
        )
    return value, None


def _agenda(table: Any, source: str, voting: str) -> Agenda:
    a = _Checker(table, "agenda", AGENDA_KEYS, source)
    comments = a.choice("comments", ("each", "together"), "each")
    if comments == "together" and voting == "each":
        a.fail(
            a.key("comments"),
            '集中点评（together）在全部述职之后进行，不能与逐人测评（voting = "each"）同用',
        )
    speaker = a.text("closing_speech", "").strip()
    if len(speaker) > NAME_MAX_CHARS:
        a.fail(a.key("closing_speech"), f"过长：最多{NAME_MAX_CHARS}字")
    return Agenda(
        a.minutes("report_minutes"),
        a.minutes("comment_minutes"),
        _names(a, "commenters"),
        comments,  # type: ignore[arg-type]
        speaker,
    )


def _names(c: _Checker, key: str) -> tuple[str, ...]:
    """A list of people's names (点评人), each non-empty, short enough to print, once."""
    names = tuple(name.strip() for name in c.strings(key, ()))
    for i, name in enumerate(names, 1):
        if len(name) > NAME_MAX_CHARS:
            c.fail(f"{c.key(key)}[{i}]", f"过长：最多{NAME_MAX_CHARS}字")
        if name in names[: i - 1]:
            c.fail(f"{c.key(key)}[{i}]", f"“{name}”重复")
    return names


def _evaluation_sources(table: Any, source: str) -> tuple[str, ...]:
    v = _Checker(table, "evaluation", EVALUATION_KEYS, source)
    if not v.has("sources"):
        return DEFAULT_EVALUATION_SOURCES
    return _names(v, "sources")


def _quota(r: _Checker, grades: tuple[str, ...], source: str) -> tuple[tuple[str, Fraction], ...]:
    if not r.has("quota"):
        return ()
    q = _Checker(r.table["quota"], "rules.quota", grades[:-1], source)
    zero, one = Fraction(0), Fraction(1)
    # In grade order, because the engine cascades from the best grade down.
    return tuple((g, q.fraction(g, zero, zero, one)) for g in grades[:-1] if q.has(g))


def _ident(
    c: _Checker,
    seen: set[str],
    what: str,
    pattern: re.Pattern[str] = _ID,
    allowed: str = "ASCII字母、数字、_或-",
) -> str:
    value = c.text("id")
    if not pattern.fullmatch(value):
        c.fail(c.key("id"), f"{what}编号只能含{allowed}，实际为“{value}”")
    if value in seen:
        c.fail(c.key("id"), f"{what}编号“{value}”重复")
    seen.add(value)
    return value


def _descending(r: _Checker, key: str, values: tuple[Fraction, ...]) -> None:
    for i in range(1, len(values)):
        if values[i] >= values[i - 1]:
            shown = ", ".join(_plain(v) for v in values)
            r.fail(key, f"应从高到低严格递减，实际为[{shown}]")


def _number(value: Any) -> Fraction | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return Fraction(repr(value))  # the decimal the organiser wrote: 0.1 is exactly 1/10
    return Fraction(value)


def _plain(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    text = f"{float(value):.6f}".rstrip("0").rstrip(".")
    return text if Fraction(text) == value else str(value)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"“{value}”"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "一个表"
    return repr(value)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key

"""The meeting file's forms, categories and composite: `[[forms]]`, reporter `category`,
`[[groups]]` `form` / `forms` / `weights`, `[composite]`, `[experts]` and `[[indicators]]`.

Called by `tally.meeting_file.parse_meeting` once the rest of the file is valid; returns an
`Appraisal` (`tally.model`), empty when the file declares none of these, so that such a
meeting is exactly today's. Every mistake raises `InputError` naming the file and the key
(``forms[2].items[5].id``), in Chinese, like the rest of the meeting file.

A form's items are written inline (``items = [{id = "a01", text = "…"}, …]``) or kept in a
file of their own (``items = "items/村书记28项.toml"``). `tally/` reads no files: the caller
passes `read_items`, which turns that path (as written, relative to the meeting file) into
the file's text, or raises `InputError` naming it; without it such a path is refused.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from tally.composite import Composite, Source
from tally.errors import InputError
from tally.experts import ExpertPanel
from tally.indicators import RULES as INDICATOR_RULES
from tally.indicators import Indicator
from tally.items import YES_NO, Item, ItemForm
from tally.meeting_file import _Checker, _ident, _number, _plain, _show, _toml_error
from tally.model import Appraisal, Form, Group, GroupForms, Reporter, Rules

ReadItems = Callable[[str], str]

# Keys beside those of tally.meeting_file (which lists the top-level and per-block ones).
FORM_KEYS = (
    "id",
    "name",
    "kind",
    "options",
    "positive",
    "negative",
    "scoring",
    "points",
    "decisive_grade",
    "items",
    "grade_weight",
    "items_weight",
)
ITEM_KEYS = ("id", "text", "weight", "decisive")
ITEMS_FILE_KEYS = ("title", "note", "options", "items")
COMPOSITE_KEYS = ("sources", "grades", "cutoffs")
SOURCE_KEYS = ("id", "name", "weight")
SOURCE_IDS = ("vote", "indicators", "experts")  # 群众测评, 项目指标, 专家点评
EXPERTS_KEYS = ("max_score", "trim_from", "members")
MEMBER_KEYS = ("id", "name")
INDICATOR_KEYS = (
    "id",
    "name",
    "rule",
    "target",
    "thresholds",
    "below",
    "lower_is_better",
    "weight",
    "unit",
)
KINDS = ("grade", "items", "both")
ITEM_ONLY_KEYS = ("options", "positive", "negative", "scoring", "points", "decisive_grade")
VOTE_SOURCE = Source("vote", "群众测评", Fraction(1))  # with forms and no [composite]
CATEGORY_MAX_CHARS = 20
_ITEM_ID = re.compile(r"[A-Za-z0-9_-]+")  # no dot: the CSV column is reporter.item


def parse_forms(
    data: dict,
    source: str,
    reporters: tuple[Reporter, ...],
    groups: tuple[Group, ...],
    rules: Rules,
    read_items: ReadItems | None = None,
    supervision_weight: Fraction = Fraction(0),
) -> Appraisal:
    """The appraisal settings of an already-checked meeting file's data (a dict from TOML)."""
    categories = _categories(data, source)
    forms = _forms(data.get("forms", []), source, read_items)
    if "forms" in data and not forms:
        raise InputError(f"{source} forms", "[[forms]]不能为空数组；不用表单时删去此项")
    group_forms = _group_forms(data, source, groups, forms, categories)
    appraisal = Appraisal(forms=forms, categories=categories, group_forms=group_forms)
    _one_checklist_per_reporter(appraisal, source, reporters, groups)
    _weights_sum_to_one(appraisal, source, reporters, groups, supervision_weight)
    experts = _experts(data, source)
    indicators = _indicators(data.get("indicators", []), source)
    declared = "composite" in data
    composite = _composite(data, source, rules, forms) if declared else None
    if composite is None and forms:
        composite = _implicit_composite(source, rules, forms)
    used = {s.id for s in composite.sources} if composite is not None else set()
    if "experts" in data and "experts" not in used:
        raise InputError(
            f"{source} experts", "写了[experts]，但[composite] sources中没有experts来源"
        )
    if indicators and "indicators" not in used:
        raise InputError(
            f"{source} indicators", "写了[[indicators]]，但[composite] sources中没有indicators来源"
        )
    return Appraisal(
        forms=forms,
        categories=categories,
        group_forms=group_forms,
        composite=composite,
        composite_declared=declared,
        experts=experts,
        indicators=indicators,
    )


# -- reporters and groups ----------------------------------------------------------------------


def _categories(data: dict, source: str) -> tuple[tuple[str, str], ...]:
    out = []
    for i, item in enumerate(data.get("reporters", []), 1):
        if "category" not in item:
            continue
        value = item["category"]
        where = f"{source} reporters[{i}].category"
        if not isinstance(value, str) or not value.strip():
            raise InputError(
                where, f"应是非空字符串（述职人类别，如“村党支部书记”），实际为{_show(value)}"
            )
        if value != value.strip() or len(value) > CATEGORY_MAX_CHARS:
            raise InputError(where, f"类别“{value}”首尾不能有空白，最多{CATEGORY_MAX_CHARS}字")
        out.append((item["id"], value))
    return tuple(out)


def _group_forms(
    data: dict,
    source: str,
    groups: tuple[Group, ...],
    forms: tuple[Form, ...],
    categories: tuple[tuple[str, str], ...],
) -> tuple[GroupForms, ...]:
    form_ids = [f.id for f in forms]
    known = sorted({c for _, c in categories})
    out = []
    for i, item in enumerate(data.get("groups", []), 1):
        path = f"groups[{i}]"
        if not any(key in item for key in ("form", "forms", "weights")):
            continue
        form = ""
        if "form" in item:
            form = _form_id(item["form"], f"{source} {path}.form", form_ids)
        by_category = []
        if "forms" in item:
            for category, value in _table(item["forms"], f"{source} {path}.forms").items():
                where = f"{source} {path}.forms.{category}"
                _category(category, where, known)
                by_category.append((category, _form_id(value, where, form_ids)))
        weights = []
        if "weights" in item:
            for category, value in _table(item["weights"], f"{source} {path}.weights").items():
                where = f"{source} {path}.weights.{category}"
                _category(category, where, known)
                number = _number(value)
                if number is None or not 0 < number <= 1:
                    raise InputError(where, f"权重应大于0、不超过1，实际为{_show(value)}")
                weights.append((category, number))
        out.append(GroupForms(groups[i - 1].id, form, tuple(by_category), tuple(weights)))
    return tuple(out)


def _table(value: Any, where: str) -> dict:
    if not isinstance(value, dict) or not value:
        raise InputError(where, f'应是非空的表，如{{"村党支部书记" = …}}，实际为{_show(value)}')
    return value


def _category(category: str, where: str, known: list[str]) -> None:
    if category not in known:
        listed = "、".join(known) if known else "（没有述职人写category）"
        raise InputError(where, f"类别“{category}”没有述职人使用；述职人的类别为：{listed}")


def _form_id(value: Any, where: str, form_ids: list[str]) -> str:
    if not isinstance(value, str) or value not in form_ids:
        listed = "、".join(form_ids) if form_ids else "（没有[[forms]]）"
        raise InputError(where, f"表单“{value}”不存在；[[forms]]的id为：{listed}")
    return value


def _one_checklist_per_reporter(
    appraisal: Appraisal, source: str, reporters: tuple[Reporter, ...], groups: tuple[Group, ...]
) -> None:
    """Every group that answers items on a reporter uses the same checklist, so that the
    groups' answers can be combined item by item."""
    for reporter in reporters:
        used: dict[str, str] = {}
        for group in groups:
            form = appraisal.form_for(reporter.id, group.id)
            if form.has_items:
                used.setdefault(form.id, group.name)
        checklists = {appraisal.form(fid).checklist for fid in used}
        if len(checklists) > 1:
            shown = "、".join(f"{name}用“{fid}”" for fid, name in used.items())
            raise InputError(
                f"{source} groups[*].forms",
                f"述职人{reporter.id}（{reporter.name}）在各组的逐项测评表不同（{shown}）；"
                "同一述职人各组须用同一张逐项测评表",
            )


def _weights_sum_to_one(
    appraisal: Appraisal,
    source: str,
    reporters: tuple[Reporter, ...],
    groups: tuple[Group, ...],
    supervision_weight: Fraction,
) -> None:
    """Each category's weights sum to 1, with 分管's share where `[supervision]` declares one
    (as the groups' own weights do: tally.meeting_file)."""
    seen: set[str] = set()
    for reporter in reporters:
        category = appraisal.category_of(reporter.id)
        if not category or category in seen:
            continue
        seen.add(category)
        weights = [appraisal.weight_for(reporter.id, g) for g in groups]
        if supervision_weight:
            weights.append(supervision_weight)
        total = sum(weights, Fraction(0))
        if total != 1:
            shown = " + ".join(_plain(w) for w in weights)
            raise InputError(
                f"{source} groups[*].weights.{category}",
                f"各组对“{category}”的权重（weights，未写的用weight）"
                f"{'与分管领导权重' if supervision_weight else ''}之和应为1，"
                f"实际为{shown} = {_plain(total)}",
            )


# -- forms and their items ---------------------------------------------------------------------


def _forms(items: Any, source: str, read_items: ReadItems | None) -> tuple[Form, ...]:
    if not isinstance(items, list):
        raise InputError(f"{source} forms", f"应是表的数组（[[forms]]），实际为{_show(items)}")
    seen: set[str] = set()
    return tuple(
        _form(item, f"forms[{i}]", source, seen, read_items) for i, item in enumerate(items, 1)
    )


def _form(item: Any, path: str, source: str, seen: set[str], read_items: ReadItems | None) -> Form:
    f = _Checker(item, path, FORM_KEYS, source)
    form_id = _ident(f, seen, "表单")
    name = f.text("name")
    if not name.strip():
        f.fail(f.key("name"), "不能为空")
    kind = f.text("kind")
    if kind not in KINDS:
        f.fail(
            f.key("kind"), f"应为“grade”（等次）、“items”（逐项）或“both”（两者），实际为“{kind}”"
        )
    if kind == "grade":
        extra = [
            key for key in (*ITEM_ONLY_KEYS, "items", "grade_weight", "items_weight") if f.has(key)
        ]
        if extra:
            f.fail(f.key(extra[0]), '等次表单（kind = "grade"）不用此项')
        return Form(form_id, name, "grade")
    if not f.has("items"):
        f.fail(f.key("items"), "缺少此项：测评项目（内联数组，或项目文件的路径）")
    items, file_options = _items(f, source, read_items)
    options = f.strings("options", file_options or YES_NO)
    grade_weight, items_weight = Fraction(0), Fraction(1)
    if kind == "both":
        grade_weight, items_weight = _part_weights(f)
    else:
        for key in ("grade_weight", "items_weight"):
            if f.has(key):
                f.fail(f.key(key), '只有kind = "both"的表单才写两部分的权重')
    scoring = f.choice("scoring", ("mean_positive", "points"), "mean_positive")
    decisive = f.text("decisive_grade", "") or None
    try:
        checklist = ItemForm(
            items,
            options,
            positive=f.strings("positive", ()),
            negative=f.strings("negative", ()),
            points=f.numbers("points", ()),
            scoring=scoring,  # type: ignore[arg-type]
            decisive_grade=decisive,
        )
    except InputError as error:
        raise _item_key(error, source, path) from None
    return Form(form_id, name, kind, checklist, grade_weight, items_weight)  # type: ignore[arg-type]


def _item_key(error: InputError, source: str, path: str) -> InputError:
    """`items.options` is the form's own `options`; `items[3].id` and `items` its items."""
    where = error.where
    rest = where.removeprefix("items.") if where.startswith("items.") else where
    return InputError(f"{source} {path}.{rest}", error.message)


def _part_weights(f: _Checker) -> tuple[Fraction, Fraction]:
    out: list[Fraction] = []
    for key in ("grade_weight", "items_weight"):
        if not f.has(key):
            f.fail(f.key(key), 'kind = "both"时必填：等次部分和逐项部分在得分中的权重，两者之和为1')
        value = _number(f.table[key])
        if value is None or not 0 < value < 1:
            f.fail(f.key(key), f"应是大于0、小于1的数，实际为{_show(f.table[key])}")
        out.append(value)  # type: ignore[arg-type]
    if sum(out) != 1:
        f.fail(
            f.key("items_weight"),
            f"grade_weight与items_weight之和应为1，实际为{_plain(out[0])} + {_plain(out[1])}",
        )
    return out[0], out[1]


def _items(
    f: _Checker, source: str, read_items: ReadItems | None
) -> tuple[tuple[Item, ...], tuple[str, ...]]:
    """The form's items, inline or from their own file, and that file's `options` (or ())."""
    value = f.table["items"]
    if isinstance(value, list):
        return _item_list(value, source, f.key("items")), ()
    if not isinstance(value, str) or not value.strip():
        f.fail(f.key("items"), f"应是项目数组或项目文件的路径，实际为{_show(value)}")
    if read_items is None:
        f.fail(f.key("items"), f"项目文件“{value}”需由命令行读取（此处只能写内联的项目数组）")
    assert read_items is not None
    text = read_items(value).removeprefix("\ufeff")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _toml_error(str(error), text, value) from None
    file = _Checker(data, "", ITEMS_FILE_KEYS, value)
    if not file.has("items"):
        file.fail("items", "缺少测评项目（[[items]]）")
    options = file.strings("options", ())
    return _item_list(file.array("items", []), value, "items"), options


def _item_list(items: list, source: str, path: str) -> tuple[Item, ...]:
    if not items:
        raise InputError(f"{source} {path}", "至少要有一个测评项目")
    seen: set[str] = set()
    out = []
    for i, item in enumerate(items, 1):
        c = _Checker(item, f"{path}[{i}]", ITEM_KEYS, source)
        item_id = c.text("id")
        if not _ITEM_ID.fullmatch(item_id):
            c.fail(
                c.key("id"), f"项目编号只能含ASCII字母、数字、_或-（不含“.”），实际为“{item_id}”"
            )
        if item_id in seen:
            c.fail(c.key("id"), f"项目编号“{item_id}”重复")
        seen.add(item_id)
        text = c.text("text").strip()
        if not text:
            c.fail(c.key("text"), "不能为空")
        weight = Fraction(1)
        if c.has("weight"):
            number = _number(c.table["weight"])
            if number is None or number <= 0:
                c.fail(c.key("weight"), f"权重应大于0，实际为{_show(c.table['weight'])}")
            weight = number  # type: ignore[assignment]
        out.append(Item(item_id, text, weight, _boolean(c, "decisive")))
    return tuple(out)


def _boolean(c: _Checker, key: str) -> bool:
    value = c.table.get(key, False)
    if not isinstance(value, bool):
        c.fail(c.key(key), f"应是true或false，实际为{_show(value)}")
    return value


# -- the composite and its sources ----------------------------------------------------------


def _composite(data: dict, source: str, rules: Rules, forms: tuple[Form, ...]) -> Composite:
    c = _Checker(data["composite"], "composite", COMPOSITE_KEYS, source)
    if not c.has("sources"):
        c.fail(
            c.key("sources"), '缺少此项：评价来源，如[{id = "vote", name = "群众测评", weight = 1}]'
        )
    sources = []
    for i, item in enumerate(c.array("sources", []), 1):
        s = _Checker(item, f"composite.sources[{i}]", SOURCE_KEYS, source)
        sid = s.text("id")
        if sid not in SOURCE_IDS:
            s.fail(
                s.key("id"),
                f"来源“{sid}”无效；应为vote（群众测评）、indicators（项目指标）或experts（专家点评）",
            )
        if "weight" not in s.table:
            s.fail(s.key("weight"), "缺少此项（权重，各来源之和为1）")
        weight = _number(s.table["weight"])
        if weight is None or weight <= 0:
            s.fail(s.key("weight"), f"权重应大于0，实际为{_show(s.table['weight'])}")
        sources.append(Source(sid, s.text("name"), weight))  # type: ignore[arg-type]
    grades = c.strings("grades", rules.grades)
    cutoffs = c.numbers("cutoffs", _scaled_cutoffs(rules))
    try:
        composite = Composite(tuple(sources), grades, cutoffs)
    except InputError as error:
        raise _rewrap(error, source, "composite", "composite") from None
    if "vote" in {s.id for s in sources}:
        _forced_grades_fit(source, "composite.grades", grades, rules, forms)
    return composite


def _implicit_composite(source: str, rules: Rules, forms: tuple[Form, ...]) -> Composite:
    """With forms and no [composite]: the vote alone, graded by the rules' scale (the score
    cutoffs brought to 0–100 like the grade part's score, points over the best points)."""
    try:
        composite = Composite((VOTE_SOURCE,), rules.grades, _scaled_cutoffs(rules))
    except InputError as error:
        raise InputError(
            f"{source} rules.score_cutoffs",
            f"使用[[forms]]时，分数线按百分制（得分÷最高分值×100）比较：{error.message}",
        ) from None
    _forced_grades_fit(source, "rules.grades", rules.grades, rules, forms)
    return composite


def _scaled_cutoffs(rules: Rules) -> tuple[Fraction, ...]:
    top = max(rules.points)
    if top <= 0:
        return rules.score_cutoffs
    return tuple(c * 100 / top for c in rules.score_cutoffs)


def _forced_grades_fit(
    source: str, key: str, grades: tuple[str, ...], rules: Rules, forms: tuple[Form, ...]
) -> None:
    """The grades other rules force (差票, flags, decisive items) must be on the scale."""
    listed = "、".join(grades)
    if rules.poor_grade not in grades:
        raise InputError(
            f"{source} {key}",
            f"应包含差票等次“{rules.poor_grade}”（差票比例和标记规则强制的等次）；现为：{listed}",
        )
    for i, form in enumerate(forms, 1):
        grade = form.checklist.decisive_grade if form.checklist else None
        if grade is not None and grade not in grades:
            raise InputError(
                f"{source} forms[{i}].decisive_grade",
                f"否决等次“{grade}”不在综合评价的等次中；应为：{listed}",
            )


def _experts(data: dict, source: str) -> ExpertPanel | None:
    if "experts" not in data:
        return None
    e = _Checker(data["experts"], "experts", EXPERTS_KEYS, source)
    top = Fraction(100)
    if e.has("max_score"):
        value = _number(e.table["max_score"])
        if value is None or value <= 0:
            e.fail(e.key("max_score"), f"满分应大于0，实际为{_show(e.table['max_score'])}")
        top = value  # type: ignore[assignment]
    trim = e.integer("trim_from", 3) if e.has("trim_from") else 5
    return ExpertPanel(top, trim, _members(e, source))


def _members(e: _Checker, source: str) -> tuple[tuple[str, str], ...]:
    seen: set[str] = set()
    out = []
    for i, item in enumerate(e.array("members", []), 1):
        m = _Checker(item, f"experts.members[{i}]", MEMBER_KEYS, source)
        expert_id = _ident(m, seen, "专家")
        name = m.text("name")
        if not name.strip():
            m.fail(m.key("name"), "不能为空")
        out.append((expert_id, name.strip()))
    return tuple(out)


def _indicators(items: Any, source: str) -> tuple[Indicator, ...]:
    if not isinstance(items, list):
        raise InputError(
            f"{source} indicators", f"应是表的数组（[[indicators]]），实际为{_show(items)}"
        )
    seen: set[str] = set()
    out = []
    for i, item in enumerate(items, 1):
        path = f"indicators[{i}]"
        c = _Checker(item, path, INDICATOR_KEYS, source)
        ident = _ident(c, seen, "指标")
        rule = c.choice("rule", INDICATOR_RULES, "linear")
        target = None
        if c.has("target"):
            target = _number(c.table["target"])
            if target is None:
                c.fail(c.key("target"), f"应是数，实际为{_show(c.table['target'])}")
        steps = []
        for n, pair in enumerate(c.array("thresholds", []), 1):
            values = [_number(v) for v in pair] if isinstance(pair, list) else []
            if len(values) != 2 or None in values:
                c.fail(f"{c.key('thresholds')}[{n}]", f"应是[数值, 得分]，实际为{_show(pair)}")
            steps.append((values[0], values[1]))
        below = _number(c.table.get("below", 0))
        if below is None:
            c.fail(c.key("below"), f"应是数，实际为{_show(c.table['below'])}")
        weight = _number(c.table.get("weight", 1))
        if weight is None:
            c.fail(c.key("weight"), f"应是数，实际为{_show(c.table['weight'])}")
        name, lower, unit = c.text("name"), _boolean(c, "lower_is_better"), c.text("unit", "")
        try:
            out.append(
                Indicator(
                    ident,
                    name,
                    rule,  # type: ignore[arg-type]
                    target,
                    tuple(steps),  # type: ignore[arg-type]
                    below,  # type: ignore[arg-type]
                    lower,
                    weight,  # type: ignore[arg-type]
                    unit,
                )
            )
        except InputError as error:
            raise _rewrap(error, source, f"indicators.{ident}", path) from None
    return tuple(out)


def _rewrap(error: InputError, source: str, old: str, new: str) -> InputError:
    """An error of the scoring modules (``indicators.income.target``) as a key of the meeting
    file (``indicators[1].target``): `old`, the module's prefix, replaced by `new`. Every
    error `Composite` and `Indicator` raise names a key under their prefix (``composite.…``,
    ``indicators.<id>.…``; an indicator's id is never empty here, `_ident` checked it)."""
    where = error.where
    assert where.startswith((f"{old}.", f"{old}[")), where
    return InputError(f"{source} {new}{where[len(old) :]}", error.message)

"""The meeting file's forms, categories and composite (`tally.forms_file`): parsed exactly,
and every bad value refused with a Chinese message naming the file and the key."""

from __future__ import annotations

import copy
from fractions import Fraction as F
from pathlib import Path

import pytest

from tally.errors import InputError
from tally.meeting_file import parse_meeting, parse_meeting_text
from tally.model import GRADE_FORM, Appraisal

ROOT = Path(__file__).resolve().parents[2]
SANPING = ROOT / "examples" / "sanping-meeting.toml"


def read_example_items(path: str) -> str:
    return (SANPING.parent / path).read_text(encoding="utf-8")


def base() -> dict:
    return {
        "meeting": {"title": "三评述职评议会", "date": "2026-12-29"},
        "reporters": [
            {"id": "z1", "name": "王一", "org": "甲镇党委", "category": "镇党委"},
            {"id": "c1", "name": "李二", "org": "甲村党支部", "category": "村党支部书记"},
            {"id": "c2", "name": "张三", "org": "乙村党支部", "category": "村党支部书记"},
        ],
        "groups": [
            {
                "id": "town",
                "name": "镇机关",
                "seats": 4,
                "weight": 0.5,
                "forms": {"村党支部书记": "cun-both"},
                "weights": {"村党支部书记": 0.4},
            },
            {
                "id": "rural",
                "name": "农村",
                "seats": 5,
                "weight": 0.5,
                "forms": {"村党支部书记": "cun"},
                "weights": {"村党支部书记": 0.6},
            },
        ],
        "forms": [
            {
                "id": "cun",
                "name": "村书记表",
                "kind": "items",
                "items": [
                    {"id": "a1", "text": "能不能开好三会一课"},
                    {"id": "a2", "text": "能不能廉洁自律", "decisive": True},
                ],
                "decisive_grade": "差",
            },
            {
                "id": "cun-both",
                "name": "村书记等次和逐项表",
                "kind": "both",
                "items": [
                    {"id": "a1", "text": "能不能开好三会一课"},
                    {"id": "a2", "text": "能不能廉洁自律", "decisive": True},
                ],
                "decisive_grade": "差",
                "grade_weight": 0.4,
                "items_weight": 0.6,
            },
        ],
        "composite": {
            "sources": [
                {"id": "vote", "name": "群众测评", "weight": 0.5},
                {"id": "indicators", "name": "项目指标", "weight": 0.3},
                {"id": "experts", "name": "专家点评", "weight": 0.2},
            ],
        },
        "experts": {"max_score": 100, "trim_from": 5},
        "indicators": [
            {"id": "income", "name": "村级集体经济收入", "target": 10, "unit": "万元"},
        ],
    }


def test_a_meeting_without_forms_has_an_empty_appraisal() -> None:
    data = base()
    for key in ("forms", "composite", "experts", "indicators"):
        del data[key]
    for reporter in data["reporters"]:
        del reporter["category"]
    for group in data["groups"]:
        del group["forms"], group["weights"]
    appraisal = parse_meeting(data, "m.toml").appraisal
    assert appraisal == Appraisal() and not appraisal.configured


def test_the_forms_and_the_composite_are_parsed_exactly() -> None:
    meeting = parse_meeting(base(), "m.toml")
    a = meeting.appraisal
    assert a.configured and a.composite_declared
    assert a.category_of("c1") == "村党支部书记" and a.category_of("nobody") == ""
    assert a.form_for("c1", "town").id == "cun-both"
    assert a.form_for("c1", "rural").id == "cun"
    assert a.form_for("z1", "town") is GRADE_FORM  # not listed: the grade, as today
    assert a.weight_for("c1", meeting.group("town")) == F(2, 5)
    assert a.weight_for("z1", meeting.group("town")) == F(1, 2)
    both = a.form("cun-both")
    assert (both.has_grade, both.has_items, both.grade_weight, both.items_weight) == (
        True,
        True,
        F(2, 5),
        F(3, 5),
    )
    assert both.checklist == a.form("cun").checklist
    assert both.checklist is not None and both.checklist.options == ("能", "不能")
    assert [i.decisive for i in both.checklist.items] == [False, True]
    assert a.composite is not None
    assert [(s.id, s.weight) for s in a.composite.sources] == [
        ("vote", F(1, 2)),
        ("indicators", F(3, 10)),
        ("experts", F(1, 5)),
    ]
    assert a.composite.grades == ("好", "较好", "一般", "差")
    assert a.composite.cutoffs == (90, 80, 60)
    assert a.experts is not None and a.experts.trim_from == 5
    assert a.indicators[0].target == 10 and a.indicators[0].unit == "万元"


def test_forms_without_a_composite_grade_the_vote_alone_on_the_rules_scale() -> None:
    data = base()
    for key in ("composite", "experts", "indicators"):
        del data[key]
    data["rules"] = {"points": [5, 4, 3, 0], "score_cutoffs": [4.5, 4, 3]}
    a = parse_meeting(data, "m.toml").appraisal
    assert a.configured and not a.composite_declared and a.composite is not None
    assert [s.id for s in a.composite.sources] == ["vote"]
    assert a.composite.cutoffs == (90, 80, 60)  # 4.5 of 5 points is 90 of 100


def test_the_sanping_example_reads_its_items_files() -> None:
    text = SANPING.read_text(encoding="utf-8")
    meeting = parse_meeting_text(text, str(SANPING), read_items=read_example_items)
    a = meeting.appraisal
    cun = a.form("cun-items").checklist
    zhen = a.form("zhen-items").checklist
    assert cun is not None and zhen is not None
    assert (len(cun.items), cun.options) == (28, ("能", "不能"))
    assert (len(zhen.items), zhen.options) == (26, ("是", "不是"))
    assert a.form("cun-both").checklist == cun
    assert {a.category_of(r.id) for r in meeting.reporters} == {"村党支部书记", "镇党委"}


def test_the_example_items_files_say_they_are_examples() -> None:
    for name in ("村书记28项.toml", "镇党委26项.toml"):
        head = (ROOT / "examples" / "items" / name).read_text(encoding="utf-8")[:200]
        assert "示例" in head and "不是" in head and "正式" in head


def test_an_items_path_needs_a_reader() -> None:
    data = base()
    data["forms"][0]["items"] = "items/x.toml"
    with pytest.raises(InputError) as caught:
        parse_meeting(data, "m.toml")
    assert caught.value.where == "m.toml forms[1].items"
    assert "需由命令行读取" in caught.value.message


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("items = [", "items/x.toml:1:10", "TOML语法错误"),
        ('colour = 1\n[[items]]\nid = "a"\ntext = "t"\n', "items/x.toml colour", "未知的键"),
        ("title = 'x'\n", "items/x.toml items", "缺少测评项目"),
        ('[[items]]\nid = "a.b"\ntext = "t"\n', "items/x.toml items[1].id", "不含“.”"),
        ('[[items]]\nid = "a"\ntext = ""\n', "items/x.toml items[1].text", "不能为空"),
        (
            '[[items]]\nid = "a"\ntext = "t"\n[[items]]\nid = "a"\ntext = "u"\n',
            "items/x.toml items[2].id",
            "重复",
        ),
    ],
)
def test_a_bad_items_file_is_named(text: str, where: str, message: str) -> None:
    data = base()
    data["forms"][0]["items"] = "items/x.toml"
    with pytest.raises(InputError) as caught:
        parse_meeting(data, "m.toml", read_items=lambda path: text)
    assert caught.value.where == where and message in caught.value.message


def test_an_unreadable_items_file_is_the_readers_error() -> None:
    def missing(path: str) -> str:
        raise InputError(path, "文件不存在")

    data = base()
    data["forms"][0]["items"] = "items/none.toml"
    with pytest.raises(InputError, match="items/none.toml：文件不存在"):
        parse_meeting(data, "m.toml", read_items=missing)


def put(path: tuple, value: object):  # noqa: ANN201
    def change(data: dict) -> None:
        for key in path[:-1]:
            data = data[key]
        if value is DELETE:
            del data[path[-1]]
        else:
            data[path[-1]] = value

    return change


def both(path: tuple, value: object):  # noqa: ANN201
    """The same change to both forms (one checklist per reporter)."""

    def change(data: dict) -> None:
        put(("forms", 0, *path), value)(data)
        put(("forms", 1, *path), value)(data)

    return change


DELETE = object()

# fmt: off
BAD = [
    (put(("reporters", 0, "category"), ""), "reporters[1].category", "应是非空字符串"),
    (put(("reporters", 0, "category"), " 镇党委"), "reporters[1].category", "首尾不能有空白"),
    (put(("groups", 0, "forms"), {"村党支部书记": "nope"}), "groups[1].forms.村党支部书记", "表单“nope”不存在"),
    (put(("groups", 0, "forms"), {"社区": "cun"}), "groups[1].forms.社区", "类别“社区”没有述职人使用"),
    (put(("groups", 0, "forms"), {}), "groups[1].forms", "应是非空的表"),
    (put(("groups", 0, "form"), "nope"), "groups[1].form", "表单“nope”不存在"),
    (put(("groups", 0, "weights"), {"村党支部书记": 0}), "groups[1].weights.村党支部书记", "权重应大于0"),
    (put(("groups", 0, "weights"), {"村党支部书记": 0.5}), "groups[*].weights.村党支部书记", "之和应为1，实际为0.5 + 0.6 = 1.1"),
    (put(("groups", 0, "weights"), {"社区": 0.5}), "groups[1].weights.社区", "没有述职人使用"),
    (put(("forms", 0, "items", 0, "text"), "另一项"), "groups[*].forms", "逐项测评表不同"),
    (put(("forms",), []), "forms", "不能为空数组"),
    (put(("forms",), {"id": "x"}), "forms", "应是表的数组"),
    (put(("forms", 0, "colour"), 1), "forms[1].colour", "未知的键"),
    (put(("forms", 0, "id"), "a b"), "forms[1].id", "表单编号只能含ASCII字母"),
    (put(("forms", 1, "id"), "cun"), "forms[2].id", "表单编号“cun”重复"),
    (put(("forms", 0, "name"), " "), "forms[1].name", "不能为空"),
    (put(("forms", 0, "kind"), "list"), "forms[1].kind", "实际为“list”"),
    (put(("forms", 0, "kind"), DELETE), "forms[1].kind", "缺少此项"),
    (put(("forms", 0, "items"), DELETE), "forms[1].items", "缺少此项"),
    (put(("forms", 0, "items"), []), "forms[1].items", "至少要有一个测评项目"),
    (put(("forms", 0, "items"), 3), "forms[1].items", "应是项目数组或项目文件的路径"),
    (put(("forms", 0, "items", 0, "id"), "a.1"), "forms[1].items[1].id", "不含“.”"),
    (put(("forms", 0, "items", 1, "id"), "a1"), "forms[1].items[2].id", "项目编号“a1”重复"),
    (put(("forms", 0, "items", 0, "text"), ""), "forms[1].items[1].text", "不能为空"),
    (put(("forms", 0, "items", 0, "weight"), 0), "forms[1].items[1].weight", "权重应大于0"),
    (put(("forms", 0, "items", 0, "decisive"), "yes"), "forms[1].items[1].decisive", "应是true或false"),
    (put(("forms", 0, "items", 0, "note"), "x"), "forms[1].items[1].note", "未知的键"),
    (put(("forms", 0, "options"), ["能"]), "forms[1].options", "选项应为2个以上"),
    (put(("forms", 0, "options"), ["能", "废"]), "forms[1].options", "不能为空白（弃权）或“废”"),
    (put(("forms", 0, "positive"), ["好"]), "forms[1].positive", "“好”不是选项"),
    (put(("forms", 0, "negative"), ["能"]), "forms[1].negative", "既算肯定又算否定"),
    (put(("forms", 0, "scoring"), "sum"), "forms[1].scoring", "实际为“sum”"),
    (put(("forms", 0, "scoring"), "points"), "forms[1].points", "应为每个选项给出分值"),
    (both(("decisive_grade",), "很差"), "forms[1].decisive_grade", "否决等次“很差”不在综合评价的等次中"),
    (put(("forms", 0, "grade_weight"), 0.5), "forms[1].grade_weight", "只有kind = \"both\""),
    (put(("forms", 1, "grade_weight"), DELETE), "forms[2].grade_weight", "kind = \"both\"时必填"),
    (put(("forms", 1, "grade_weight"), 1), "forms[2].grade_weight", "大于0、小于1"),
    (put(("forms", 1, "grade_weight"), 0.5), "forms[2].items_weight", "之和应为1，实际为0.5 + 0.6"),
    (put(("forms", 0, "kind"), "grade"), "forms[1].decisive_grade", "等次表单"),
    (put(("composite", "sources"), DELETE), "composite.sources", "缺少此项"),
    (put(("composite", "colour"), 1), "composite.colour", "未知的键"),
    (put(("composite", "sources", 0, "id"), "votes"), "composite.sources[1].id", "来源“votes”无效"),
    (put(("composite", "sources", 0, "weight"), DELETE), "composite.sources[1].weight", "缺少此项"),
    (put(("composite", "sources", 0, "weight"), -1), "composite.sources[1].weight", "权重应大于0"),
    (put(("composite", "sources", 0, "weight"), 0.6), "composite.sources", "各来源权重之和为1.1；应恰好为1"),
    (put(("composite", "sources", 1, "id"), "vote"), "composite.sources[2].id", "来源编号“vote”重复"),
    (put(("composite", "sources"), []), "composite.sources", "至少需要一个评价来源"),
    (put(("composite", "cutoffs"), [90, 80]), "composite.cutoffs", "分数线应比等次少一个"),
    (put(("composite", "cutoffs"), [90, 95, 60]), "composite.cutoffs", "严格递减"),
    (put(("composite", "cutoffs"), [190, 80, 60]), "composite.cutoffs[1]", "超出范围"),
    (put(("composite", "grades"), ["优", "良", "中", "弱"]), "composite.grades", "应包含差票等次“差”"),
    (put(("experts", "trim_from"), 2), "experts.trim_from", "不小于3"),
    (put(("experts", "max_score"), 0), "experts.max_score", "满分应大于0"),
    (put(("experts", "chair"), 1), "experts.chair", "未知的键"),
    (put(("experts", "members"), [{"id": "e1", "name": " "}]), "experts.members[1].name", "不能为空"),
    (
        put(("experts", "members"), [{"id": "e1", "name": "甲"}, {"id": "e1", "name": "乙"}]),
        "experts.members[2].id",
        "重复",
    ),
    (put(("experts", "members"), [{"id": "e 1", "name": "甲"}]), "experts.members[1].id", "编号"),
    (put(("experts", "members"), ["e1"]), "experts.members[1]", "应是一个表"),
    (put(("indicators", 0, "rule"), "log"), "indicators[1].rule", "实际为“log”"),
    (put(("indicators", 0, "target"), DELETE), "indicators[1].target", "规则需要目标值"),
    (put(("indicators", 0, "target"), -1), "indicators[1].target", "目标值-1无效"),
    (put(("indicators", 0, "target"), "十"), "indicators[1].target", "应是数"),
    (put(("indicators", 0, "weight"), 0), "indicators[1].weight", "应大于0"),
    (put(("indicators", 0, "lower_is_better"), 1), "indicators[1].lower_is_better", "应是true或false"),
    (put(("indicators", 0, "rule"), "thresholds"), "indicators[1].thresholds", "至少需要一档"),
    (put(("indicators", 0, "thresholds"), [[1]]), "indicators[1].thresholds[1]", "应是[数值, 得分]"),
    (put(("indicators", 0, "below"), 120), "indicators[1].below", "超出范围"),
    (put(("indicators", 0, "id"), "in come"), "indicators[1].id", "指标编号只能含ASCII字母"),
    (put(("indicators",), {"id": "x"}), "indicators", "应是表的数组"),
    (put(("composite", "sources"), [{"id": "vote", "name": "群众测评", "weight": 1}]), "experts", "sources中没有experts来源"),
]
# fmt: on


@pytest.mark.parametrize(
    ("change", "key", "message"), BAD, ids=[f"{i:02d}-{b[1]}" for i, b in enumerate(BAD)]
)
def test_every_bad_value_is_named(change, key: str, message: str) -> None:  # noqa: ANN001
    data = copy.deepcopy(base())
    change(data)
    with pytest.raises(InputError) as caught:
        parse_meeting(data, "m.toml")
    assert caught.value.where == f"m.toml {key}", caught.value
    assert message in caught.value.message, caught.value


def test_indicators_without_their_source_are_refused() -> None:
    data = base()
    data["composite"]["sources"] = [
        {"id": "vote", "name": "群众测评", "weight": 0.8},
        {"id": "experts", "name": "专家点评", "weight": 0.2},
    ]
    with pytest.raises(InputError) as caught:
        parse_meeting(data, "m.toml")
    assert caught.value.where == "m.toml indicators"


def test_the_new_keys_are_accepted_but_not_listed_for_older_meetings() -> None:
    """An unknown key's message lists the keys of a meeting without forms, as before."""
    data = base()
    data["colour"] = 1
    with pytest.raises(InputError) as caught:
        parse_meeting(data, "m.toml")
    assert caught.value.message.endswith("meeting, reporters, groups, rules, agenda, evaluation")


def vote_alone(rules: dict):  # noqa: ANN201
    """Forms and no [composite] (the vote alone, on the rules' scale), with these rules."""

    def change(data: dict) -> None:
        for key in ("composite", "experts", "indicators"):
            del data[key]
        data["rules"] = rules

    return change


# Every message whole: the key it names and the words it says.
# fmt: off
BAD_EXACT = [
    (
        vote_alone({"points": [5, 4, 3, 0], "score_cutoffs": [6, 4, 3]}),
        "rules.score_cutoffs",
        "使用[[forms]]时，分数线按百分制（得分÷最高分值×100）比较：120超出范围；应在0到100之间",
    ),
    (
        vote_alone({"points": [5, 4, 3, 0], "score_cutoffs": [4, 3, -1]}),
        "rules.score_cutoffs",
        "使用[[forms]]时，分数线按百分制（得分÷最高分值×100）比较：-20超出范围；应在0到100之间",
    ),
    (put(("indicators", 0, "below"), "零"), "indicators[1].below", "应是数，实际为“零”"),
    (put(("indicators", 0, "weight"), "一"), "indicators[1].weight", "应是数，实际为“一”"),
]
# fmt: on


@pytest.mark.parametrize(("change", "key", "message"), BAD_EXACT)
def test_bad_values_are_named_word_for_word(change, key: str, message: str) -> None:  # noqa: ANN001
    data = copy.deepcopy(base())
    change(data)
    with pytest.raises(InputError) as caught:
        parse_meeting(data, "m.toml")
    assert (caught.value.where, caught.value.message) == (f"m.toml {key}", message)


def test_a_group_without_weights_weighs_every_category_by_its_weight() -> None:
    data = base()
    for group in data["groups"]:
        del group["weights"]  # 0.5 + 0.5: still 1 for the 村党支部书记
    meeting = parse_meeting(data, "m.toml")
    a = meeting.appraisal
    assert [(g.group, g.by_category, g.weights) for g in a.group_forms] == [
        ("town", (("村党支部书记", "cun-both"),), ()),
        ("rural", (("村党支部书记", "cun"),), ()),
    ]
    assert a.weight_for("c1", meeting.group("town")) == F(1, 2)
    assert a.weight_for("c1", meeting.group("rural")) == F(1, 2)


def test_an_items_weight_is_read_exactly() -> None:
    data = base()
    both(("items", 0, "weight"), 2)(data)
    both(("items", 1, "weight"), 0.5)(data)
    checklist = parse_meeting(data, "m.toml").appraisal.form("cun").checklist
    assert checklist is not None
    assert [(i.id, i.weight) for i in checklist.items] == [("a1", F(2)), ("a2", F(1, 2))]


def test_a_composite_without_the_vote_needs_no_poor_grade_on_its_scale() -> None:
    """差票 and decisive items force grades only through the vote: a scale without 差 is fine."""
    data = base()
    data["composite"] = {
        "sources": [{"id": "experts", "name": "专家点评", "weight": 1}],
        "grades": ["优", "良", "中", "弱"],
    }
    del data["indicators"]
    composite = parse_meeting(data, "m.toml").appraisal.composite
    assert composite is not None
    assert [(s.id, s.weight) for s in composite.sources] == [("experts", F(1))]
    assert (composite.grades, composite.cutoffs) == (("优", "良", "中", "弱"), (90, 80, 60))


def test_a_scale_whose_best_points_are_zero_keeps_its_cutoffs_as_written() -> None:
    """Points over the best points cannot be brought to 0–100 when the best is 0."""
    data = base()
    vote_alone({"points": [0, -1, -2, -3], "score_cutoffs": [90, 80, 60]})(data)
    composite = parse_meeting(data, "m.toml").appraisal.composite
    assert composite is not None and composite.cutoffs == (90, 80, 60)


def test_the_panel_s_members_are_read_in_order() -> None:
    data = base()
    data["experts"]["members"] = [
        {"id": "e2", "name": " 李研究员 "},
        {"id": "e1", "name": "张教授"},
    ]
    experts = parse_meeting(data, "m.toml").appraisal.experts
    assert experts is not None and experts.members == (("e2", "李研究员"), ("e1", "张教授"))


def test_experts_without_a_max_score_are_scored_out_of_100() -> None:
    data = base()
    data["experts"] = {"trim_from": 3}
    experts = parse_meeting(data, "m.toml").appraisal.experts
    assert experts is not None and (experts.max_score, experts.trim_from) == (100, 3)


def test_an_unknown_form_id_is_a_key_error() -> None:
    a = parse_meeting(base(), "m.toml").appraisal
    with pytest.raises(KeyError, match="nope"):
        a.form("nope")

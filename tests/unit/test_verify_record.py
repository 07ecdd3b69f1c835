"""The record attached to the tally sheet (`printouts.sheet_record`): it is the tally JSON
with the inputs' digests and the rules, it survives the PDF round trip, and every field that
differs from a recount is named in Chinese: who, which figure, sheet vs recount."""

from __future__ import annotations

import copy
import dataclasses
import io
import json
from fractions import Fraction as F
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from printouts.inputs import digests, parse_ballots, recompute
from printouts.sheet_record import (
    ATTACHMENT,
    differences,
    read_attached,
    tally_record,
)
from printouts.tally_sheet import effective_ballots, render_tally
from tally.meeting_file import parse_meeting_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def demo():
    meeting_bytes = (EXAMPLES / "demo-meeting.toml").read_bytes()
    ballots_bytes = (EXAMPLES / "demo-ballots.csv").read_bytes()
    meeting = parse_meeting_text(meeting_bytes.decode("utf-8"))
    ballots = parse_ballots(ballots_bytes, meeting, "demo-ballots.csv")
    result = recompute(meeting, ballots)
    sums = digests(meeting_bytes, ballots_bytes)
    record = tally_record(meeting, result, sums, effective_ballots(ballots), "ab" * 32)
    return meeting, result, sums, record


def test_the_record_is_attached_and_read_back(demo):
    meeting, result, sums, record = demo
    pdf = render_tally(
        meeting, result, sums, effective=record["effective"], signer_sha256="ab" * 32
    )
    attached = read_attached(PdfFileReader(io.BytesIO(pdf)))
    assert attached == json.loads(json.dumps(record))
    assert attached is not None and attached["result"]["quorum"]["cast"] == 72
    assert attached["inputs"] == sums and attached["format"] == "pingyi-tally"
    assert ATTACHMENT == "pingyi-tally.json"


def test_the_rules_are_exact(demo):
    meeting, *_, record = demo
    rules = record["rules"]
    assert rules["points"] == [str(p) for p in meeting.rules.points]
    assert rules["poor_share_limit"] == str(meeting.rules.poor_share_limit)
    assert [(g["id"], g["seats"]) for g in rules["groups"]] == [
        (g.id, g.seats) for g in meeting.groups
    ]


def test_identical_records_have_no_differences(demo):
    record = demo[3]
    assert differences(record, copy.deepcopy(record)) == []
    as_floats = json.loads(json.dumps(record).replace('"cast": 72', '"cast": 72.0'))
    assert differences(as_floats, record) == []  # 72 and 72.0 are the same figure


def test_each_figure_is_named(demo):
    record = demo[3]
    forged = copy.deepcopy(record)
    result = forged["result"]
    by_id = {r["id"]: r for r in result["reporters"]}
    result["quorum"]["cast"] = 78
    result["quorum"]["seats"] = 81
    result["valid"] = False
    result["groups"][0]["cast"] = 14
    by_id["r01"]["counts"]["好"] = 69
    by_id["r02"]["score"] = 99.5
    by_id["r03"]["rank"] = 1
    by_id["r04"]["final_grade"] = "好"
    by_id["r05"]["abstain"] = 3
    by_id["r09"]["poor_share"] = 0.1
    group = next(iter(by_id["r06"]["counts_by_group"]))
    by_id["r06"]["counts_by_group"][group]["差"] = 5
    forged["effective"] = 70
    forged["rules"]["groups"][0]["weight"] = "1/2"
    found = differences(forged, record)
    group_name = next(g["name"] for g in record["rules"]["groups"] if g["id"] == group)
    first_group = record["rules"]["groups"][0]
    for expected in (
        "实到：汇总表为78，重新计票为72",
        "应到：汇总表为81，重新计票为80",
        "测评有效性：汇总表为否，重新计票为是",
        f"{first_group['name']} 实到：汇总表为14，重新计票为",
        "王建国（r01） “好”票数：汇总表为69，重新计票为59",
        "李秀英（r02） 得分：汇总表为99.5，重新计票为95.91",
        "张志强（r03） 名次：汇总表为1，重新计票为3",
        "刘海燕（r04） 测评等次：汇总表为好，重新计票为较好",
        "陈明（r05） 弃权：汇总表为3，重新计票为",
        "周伟（r09） 差票%：汇总表为0.1，重新计票为0.1286",
        f"杨丽（r06） {group_name}“差”票数：汇总表为5，重新计票为",
        "整张有效的选票：汇总表为70，重新计票为72",
        f"计票规则 {first_group['name']} 权重：汇总表为1/2，重新计票为{first_group['weight']}",
    ):
        assert any(line.startswith(expected) for line in found), (expected, found)


def test_a_missing_reporter_and_a_long_list_are_said_briefly(demo):
    record = demo[3]
    forged = copy.deepcopy(record)
    forged["result"]["reporters"] = forged["result"]["reporters"][1:]
    found = differences(forged, record)
    assert any(line.startswith("述职人 王建国（r01）：汇总表为（无此项）") for line in found)
    many = copy.deepcopy(record)
    for reporter in many["result"]["reporters"]:
        reporter["cast"] += 1
        reporter["abstain"] += 1
        reporter["invalid"] += 1
        reporter["rank"] = 0
    found = differences(many, record, limit=5)
    assert len(found) == 6 and found[-1] == "……另有35处不同"


def test_each_groups_phone_paper_and_spoiled_ballots_are_compared_and_named(demo):
    meeting, _, sums, record = demo
    ballots = parse_ballots((EXAMPLES / "demo-ballots.csv").read_bytes(), meeting, "demo.csv")
    ballots[0] = dataclasses.replace(ballots[0], paper=True)
    paper = tally_record(meeting, recompute(meeting, ballots), sums, effective_ballots(ballots))
    first = paper["result"]["groups"][0]
    assert (first["phone"], first["paper"], first["spoiled"]) == (first["cast"] - 1, 1, 0)
    name = first["name"]
    # The same ballots read from a file without the via column: the split is not known.
    unknown = record["result"]["groups"][0]
    assert unknown["phone"] is None and unknown["paper"] is None
    found = differences(dict(paper, signer_sha256=record["signer_sha256"]), record)
    assert f"{name} 手机票：汇总表为{first['cast'] - 1}，重新计票为空" in found
    assert f"{name} 纸质票：汇总表为1，重新计票为空" in found
    forged = copy.deepcopy(paper)
    forged["result"]["groups"][0]["spoiled"] = 2
    assert differences(forged, paper) == [f"{name} 整张废票：汇总表为2，重新计票为0"]


def test_the_poor_grade_and_the_bottom_are_recorded_and_compared(demo):
    meeting, result, sums, record = demo
    assert record["rules"]["poor_grade"] == "差" and record["rules"]["bottom"] is None
    assert (record["result"]["poor_grade"], record["result"]["bottom"]) == ("差", [])
    bottom = dataclasses.replace(meeting, rules=dataclasses.replace(meeting.rules, bottom_count=2))
    derived = tally_record(bottom, recompute(bottom, _ballots(bottom)), sums, 72, "ab" * 32)
    assert derived["rules"]["bottom"] == {"count": 2} and len(derived["result"]["bottom"]) >= 2
    forged = copy.deepcopy(derived)
    forged["result"]["bottom"] = forged["result"]["bottom"][1:]
    forged["result"]["bottom_size"] = 1
    forged["result"]["poor_grade"] = "一般"
    forged["rules"]["bottom"] = {"share": "1/10"}
    found = differences(forged, derived)
    for expected in ("倒排：汇总表为", "倒排人数：汇总表为1，重新计票为2", "差票规则的等次：汇总表为一般，重新计票为差", "计票规则 倒排规则.share：汇总表为1/10"):  # fmt: skip
        assert any(line.startswith(expected) for line in found), (expected, found)
    share = dataclasses.replace(meeting, rules=dataclasses.replace(meeting.rules, bottom_share=F(1, 10)))  # fmt: skip
    assert tally_record(share, result, sums)["rules"]["bottom"] == {"share": "1/10"}


def _ballots(meeting):
    return parse_ballots((EXAMPLES / "demo-ballots.csv").read_bytes(), meeting, "demo.csv")

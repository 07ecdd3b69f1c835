"""`pingyi status`: the report from folded events (deadline, pauses, voided rounds, the
teller key), and the command on a data directory. The stages of a real meeting are in
tests/integration/test_archive.py (`test_status_at_each_stage`)."""

from __future__ import annotations

import datetime
from dataclasses import replace
from pathlib import Path

from cli import main
from cli.status_cmd import describe
from meeting import agenda
from meeting import commands as c
from tally.model import Agenda
from testkit import stop_embedded_redis, write_meeting

DAY = datetime.date.fromisoformat


def test_the_deadline_counts_down_then_overdue(tmp_path: Path) -> None:
    _, meeting = write_meeting(tmp_path)
    state = agenda.initial_state(meeting)
    lines = {
        today: describe(meeting, state, DAY(today)).splitlines()[-2]
        for today in ("2026-12-28", "2027-01-04", "2027-01-06")
    }
    assert lines["2026-12-28"] == "备案期限：2027-01-04前（会议召开后7日内上报），还有7天"
    assert lines["2027-01-04"].endswith("今天截止")
    assert lines["2027-01-06"].endswith("已逾期2天")
    assert describe(meeting, state, DAY("2026-12-28"), tmp_path / "备案.zip").endswith(
        f"备案包：已生成 {tmp_path / '备案.zip'}"
    )


def test_a_paused_report_and_a_voided_round(tmp_path: Path) -> None:
    _, meeting = write_meeting(tmp_path)
    start = agenda.initial_state(meeting)
    state = start
    for command in (c.Start(), c.Pause()):
        state = agenda.fold(state, agenda.decide(state, command, now=1.0))
    text = describe(meeting, state, DAY("2026-12-28"))
    assert f"议程：进行中，第1项/共{len(state.steps)}项：王建国（城关镇党委）述职，已暂停" in text

    vote = next(i for i, step in enumerate(state.steps) if step.kind == "vote")
    held = agenda.Round(
        id=vote,
        reporters=("r01", "r02", "r03"),
        status="voided",
        cast={"leaders": 2},
        void_reason="误操作",
        step=vote,
    )
    again = agenda.Round(id=99, reporters=held.reporters, cast={"cadres": 1}, seq=1)
    state = replace(state, rounds={vote: held, 99: again})
    text = describe(meeting, state, DAY("2026-12-28"))
    assert "投票第1轮：已作废（重新测评），原因：误操作；已投2张（县级领导 2）" in text
    assert "投票第2轮：投票中；已投1张（基层代表 1）；测评3位述职人；应到40人" in text


def test_a_together_comment_and_the_closing_speech_name_who_speaks(tmp_path: Path) -> None:
    _, meeting = write_meeting(tmp_path)
    agenda_of = Agenda(commenters=("刘洋", "陈静"), comments="together", closing_speech="王强")
    meeting = replace(meeting, agenda=agenda_of)
    state = agenda.initial_state(meeting)
    state = agenda.fold(state, agenda.decide(state, c.Start(), now=1.0))
    for kind, shown in (("comment", "集中点评（刘洋、陈静）"), ("speech", "讲话（王强）")):
        position = next(i for i, step in enumerate(state.steps) if step.kind == kind)
        at = replace(state, position=position)
        assert f"第{position + 1}项/共{len(state.steps)}项：{shown}" in describe(
            meeting, at, DAY("2026-12-28")
        )


def test_the_command_on_a_data_directory(tmp_path: Path, capsys) -> None:
    meeting_path, _ = write_meeting(tmp_path, title="状态测试会议")
    assert main(["status", str(meeting_path), "--data", str(tmp_path / "nowhere")]) == 2
    assert "数据目录不存在" in capsys.readouterr().err
    data = tmp_path / "data"
    data.mkdir()
    try:
        assert main(["status", str(meeting_path), "--data", str(data)]) == 0
    finally:
        stop_embedded_redis(data)
    out = capsys.readouterr().out
    assert out.startswith("会议：状态测试会议（2026-12-28，测试会场）\n议程：尚未开始")
    assert "综合评价：已录入0/3位述职人，尚未经党组研究确定" in out

"""The tellers' file of paper ballots (`POST /api/paper-ballots`): checked whole, then entered
through the one cast path; resent, it counts nothing twice; a card that already voted refuses
the whole file with its line. Real server, real Redis, 127.0.0.1."""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from cli import main
from meeting.join_cards import Card
from server.paper_import import MAX_BYTES
from tally.model import Meeting
from testkit import Peer, ServerProcess, http_json, http_raw, wait_until, write_meeting

HEADER = "ballot,group,card,r01,r02,r03\n"


def post(
    server: ServerProcess, data: bytes | str, key: Any = "", name: str = "", **query: Any
) -> Any:
    if name:
        query["name"] = name
    url = f"{server.base}/api/paper-ballots?" + urllib.parse.urlencode(query)
    body = data.encode("utf-8") if isinstance(data, str) else data
    return http_raw(url, body, server.chair_key if key == "" else key)


def row(number: int, card: Card, marks: str = "好,较好,一般", group: str = "") -> str:
    return f"{number},{group or card.group},{card.code},{marks}\n"


def cast_count(server: ServerProcess) -> int:
    return http_json(f"{server.base}/api/view?role=screen")[1]["view"]["turnout"]["cast"]


def start(
    tmp_path: Path, servers: list[ServerProcess], title: str
) -> tuple[ServerProcess, Meeting]:
    meeting_path, meeting = write_meeting(tmp_path, title=title)
    server = ServerProcess(meeting_path, tmp_path / "data").start()
    servers.append(server)
    return server, meeting


async def test_a_good_file_is_entered_once_however_often_it_is_sent(
    tmp_path: Path,
    servers: list[ServerProcess],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, meeting = start(tmp_path, servers, "纸质选票批量录入")
    cards = server.cards(meeting)
    leader, cadre, other = cards[0], cards[-1], cards[-2]
    round_id = server.vote_step()
    text = "\ufeff" + HEADER.replace("\n", "\r\n")
    text += row(1, leader).replace("\n", "\r\n") + "\r\n"  # a blank line between rows
    text += f"2,基层代表,{cadre.code.lower().replace('-', ' ')},差,,废\r\n"
    text += row(3, other, "一般,一般,一般")

    status, body = post(server, text, round=round_id + 1)  # the wrong round: refused
    assert status == 409 and body["error"]["code"] == "not_open", body
    status, body = post(server, text, round=round_id)
    assert status == 200, body
    assert body["round"] == round_id and "error" not in body
    assert body["counts"] == {"rows": 3, "entered": 3, "again": 0, "refused": 0}
    assert [(n["line"], n["card"], n["again"], n["error"]) for n in body["lines"]] == [
        (2, leader.code, False, None),
        (4, cadre.code, False, None),
        (5, other.code, False, None),
    ]
    receipts = [n["receipt"] for n in body["lines"]]
    assert all(re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", r) for r in receipts)
    wait_until(lambda: cast_count(server) == 3)

    # Sent again (a lost answer, a double click): the same receipts, nothing counted twice.
    status, again = post(server, text)
    assert status == 200, again
    assert [n["receipt"] for n in again["lines"]] == receipts
    assert all(n["again"] for n in again["lines"])
    assert again["counts"] == {"rows": 3, "entered": 0, "again": 3, "refused": 0}
    assert cast_count(server) == 3

    # The same file through `pingyi paper-import`: checked here, then sent; nothing twice.
    csv_path = tmp_path / "第一批.csv"
    csv_path.write_text(text, encoding="utf-8")
    argv = ["paper-import", str(tmp_path / "meeting.toml"), str(csv_path), "--url", server.base]
    # the key from the data directory, the environment or (last) the command line
    monkeypatch.setenv("PINGYI_CHAIR_KEY", server.chair_key)
    for key in (
        ["--data", str(server.data)],
        ["--chair-key-env"],
        [f"--chair-key={server.chair_key}"],
    ):
        assert main([*argv, *key, "--round", str(round_id)]) == 0
        out = capsys.readouterr().out
        assert f"第4行：参会卡 {cadre.code} 回执 {receipts[1]}（此前已录入，未重复计入）" in out
        assert f"第 {round_id} 轮：共3行，新录入0张，此前已录入3张，未录入0张" in out
    assert main([*argv, "--chair-key", "wrong-key"]) == 1
    assert "错误：主持人密钥错误" in capsys.readouterr().out
    assert main([*argv, "--data", str(tmp_path)]) == 2  # no chair.key there: nothing sent
    assert "中没有主持人密钥 chair.key" in capsys.readouterr().err
    monkeypatch.setenv("PINGYI_CHAIR_KEY", " ")
    assert main([*argv, "--chair-key-env"]) == 2
    assert "环境变量 PINGYI_CHAIR_KEY 为空" in capsys.readouterr().err
    csv_path.write_text("ballot,group,r01,r02,r03\n", encoding="utf-8")
    assert main([*argv, f"--chair-key={server.chair_key}"]) == 2  # refused before it is sent
    assert "缺少“card”列" in capsys.readouterr().err
    assert cast_count(server) == 3

    # The cards used on paper cannot vote from their phones any more.
    async with Peer.connect(server.ws_url, role="phone", token=cadre.token) as phone:
        assert phone.welcome["voted"] == [round_id]
        reply = await phone.request({"t": "cast", "round": round_id, "marks": {}, "cid": "p" * 32})
        assert reply["code"] == "already_voted"
    record = server.record(meeting)
    assert sorted(b.id for b in record.ballots) == sorted(receipts)
    assert sorted(b.marks["r03"] for b in record.ballots) == ["一般", "一般", "废"]
    assert sorted(b.group for b in record.ballots) == ["cadres", "cadres", "leaders"]


async def test_a_card_that_already_voted_refuses_the_whole_file_with_its_line(
    tmp_path: Path, servers: list[ServerProcess], capsys: pytest.CaptureFixture[str]
) -> None:
    server, meeting = start(tmp_path, servers, "纸质选票已投卡")
    first, by_phone, by_paper, last = server.cards(meeting)[:4]
    round_id = server.vote_step()
    async with Peer.connect(server.ws_url, role="phone", token=by_phone.token) as phone:
        reply = await phone.request(
            {"t": "cast", "round": round_id, "marks": {"r01": "好"}, "cid": "phone-" + "x" * 20}
        )
        assert reply["t"] == "receipt"
    paper = {"code": by_paper.code, "round": round_id, "marks": {"r01": "差"}}
    assert http_json(f"{server.base}/api/paper", paper, key=server.chair_key)[0] == 200
    wait_until(lambda: cast_count(server) == 2)

    text = HEADER + row(1, first) + row(2, by_phone) + row(3, last) + row(4, by_paper)
    status, body = post(server, text)
    assert status == 409 and body["error"]["code"] == "already_voted", body
    message = body["error"]["msg"]
    assert "整个文件均未录入" in message
    assert f"第3行：参会卡 {by_phone.code} 本轮已投票，此纸质选票不计入" in message
    assert body["counts"] == {"rows": 4, "entered": 0, "again": 0, "refused": 2}
    assert [n["error"] and n["error"]["code"] for n in body["lines"]] == [
        None,
        "already_voted",
        None,
        "already_voted",
    ]
    assert body["lines"][3]["error"]["msg"].startswith(f"第5行：参会卡 {by_paper.code} 本轮已投票")
    assert all(n["receipt"] is None for n in body["lines"])
    assert cast_count(server) == 2  # nothing of the file was entered
    async with Peer.connect(server.ws_url, role="phone", token=first.token) as phone:
        assert phone.welcome["voted"] == []

    # The tellers take the two lines out and send the file again: the rest is entered.
    status, body = post(server, HEADER + row(1, first) + row(3, last))
    assert status == 200 and body["counts"]["entered"] == 2, body
    wait_until(lambda: cast_count(server) == 4)
    # Another ballot on a card already entered from a file is refused too.
    status, body = post(server, HEADER + row(1, first, "差,差,差"))
    assert status == 409 and "第2行：参会卡" in body["error"]["msg"], body

    # Through `pingyi paper-import`: each refused line printed, nothing entered.
    csv_path = tmp_path / "ballots.csv"
    csv_path.write_text(HEADER + row(1, by_phone), encoding="utf-8")
    meeting_path = str(tmp_path / "meeting.toml")
    argv = ["paper-import", meeting_path, str(csv_path), "--url", server.base]
    assert main([*argv, f"--chair-key={server.chair_key}"]) == 1
    out = capsys.readouterr().out
    assert f"  第2行：参会卡 {by_phone.code} 本轮已投票，此纸质选票不计入" in out
    assert "未录入1张" in out and "错误：选票文件有1行不能录入，整个文件均未录入" in out
    url = "http://127.0.0.1:9"  # nothing listens there
    assert (
        main(["paper-import", meeting_path, str(csv_path), "--url", url, "--chair-key", "k"]) == 2
    )
    assert "无法连接服务器" in capsys.readouterr().err
    assert cast_count(server) == 4


async def test_refused_files_name_their_line_and_enter_nothing(
    tmp_path: Path, servers: list[ServerProcess]
) -> None:
    server, meeting = start(tmp_path, servers, "纸质选票错误文件")
    cards = server.cards(meeting)
    leader, cadre = cards[0], cards[-1]
    server.vote_step(open_it=False)
    status, body = post(server, HEADER + row(1, leader))
    assert status == 409 and body["error"]["code"] == "not_open", body
    assert server.chair("open")[0] == 200

    good = HEADER + row(1, leader)
    cases: list[tuple[str, bytes | str, str, int, str, str]] = [
        # (case, file, name, status, code, in the message)
        (
            "a card twice",
            good + row(2, leader),
            "",
            422,
            "bad_field",
            f"纸质选票.csv:3:3：参会卡“{leader.code}”已在第2行投过票",
        ),
        (
            "an unknown card",
            good + "2,cadres,ZZZZ-ZZZZ,好,好,好\n",
            "",
            404,
            "bad_code",
            "第3行：参会卡短码“ZZZZ-ZZZZ”不存在",
        ),
        (
            "a card code mistyped",
            good + "2,cadres,ABC-123,好,好,好\n",
            "",
            422,
            "bad_code",
            "第3行：卡片短码“ABC123”无效",
        ),
        (
            "no card column",
            "ballot,group,r01,r02,r03\n1,leaders,好,好,好\n",
            "",
            422,
            "bad_field",
            "纸质选票.csv:1:6：缺少“card”列",
        ),
        (
            "a row without its card",
            good + "2,cadres,,好,好,好\n",
            "",
            422,
            "bad_field",
            "纸质选票.csv:3:3：参会卡短码为空",
        ),
        (
            "a grade that is none",
            good + row(2, cadre, "优,好,好"),
            "第一批.csv",
            422,
            "bad_field",
            "第一批.csv:3:4：无效的标记“优”",
        ),
        (
            "a reporter of the round left out",
            good + row(2, cadre, "好,-,好"),
            "",
            422,
            "bad_field",
            "纸质选票.csv:3:5：述职人“r02”在本轮测评中",
        ),
        (
            "a row cut short",
            good + f"2,cadres,{cadre.code},好\n",
            "",
            422,
            "bad_field",
            "纸质选票.csv:3:",
        ),
        (
            "the card of another group",
            good + row(2, cadre, group="leaders"),
            "",
            422,
            "bad_group",
            f"第3行：分组“leaders”与参会卡 {cadre.code} 的分组“cadres”不符",
        ),
        (
            "not UTF-8",
            (good + "2,县级领导,,好,好,好\n").encode("gbk"),
            "",
            422,
            "bad_field",
            "UTF-8",
        ),
        ("too large", b"x" * (MAX_BYTES + 1), "", 413, "bad_frame", "选票文件过大"),
    ]
    for case, text, name, want_status, code, fragment in cases:
        status, body = post(server, text, name=name)
        assert (status, body["error"]["code"]) == (want_status, code), (case, body)
        assert fragment in body["error"]["msg"], (case, body)
    for key in (None, "wrong-key"):
        status, body = post(server, good, key=key)
        assert status == 401 and body["error"]["code"] == "bad_key", body
    assert cast_count(server) == 0
    async with Peer.connect(server.ws_url, role="phone", token=leader.token) as phone:
        assert phone.welcome["voted"] == []


async def test_a_file_of_many_ballots_is_entered_in_batches(
    tmp_path: Path, servers: list[ServerProcess]
) -> None:
    meeting_path, meeting = write_meeting(tmp_path, title="纸质选票大批量", cadre_seats=300)
    server = ServerProcess(meeting_path, tmp_path / "data").start()
    servers.append(server)
    cards = server.cards(meeting)
    server.vote_step()
    text = HEADER + "".join(row(n, card) for n, card in enumerate(cards, 1))
    status, body = post(server, text)
    assert status == 200, body["error"] if "error" in body else body["counts"]
    assert body["counts"] == {"rows": 310, "entered": 310, "again": 0, "refused": 0}
    assert len({n["receipt"] for n in body["lines"]}) == 310
    status, body = post(server, text)
    assert status == 200 and body["counts"]["again"] == 310
    wait_until(lambda: cast_count(server) == 310)

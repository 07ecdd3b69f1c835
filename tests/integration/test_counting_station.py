"""The counting station (计票台): its keys, the paper ballots it enters, the 回收 figures and
the reconciliation panel, against a real `pingyi serve` and a real Redis on 127.0.0.1."""

from __future__ import annotations

import json
import secrets
import urllib.request
from pathlib import Path

from meeting import room_code
from testkit import ServerProcess, http_json, http_raw, wait_until, write_meeting

MARKS = {"r01": "好", "r02": "较好", "r03": "一般"}


def count_view(server: ServerProcess, key: str) -> dict:
    status, body = http_json(f"{server.base}/api/count", key=key)
    assert status == 200, body
    return body


def leaders_row(server: ServerProcess, key: str) -> dict:
    return count_view(server, key)["view"]["groups"][0]


async def test_the_station_s_keys_what_each_can_do_and_what_the_panel_shows(
    tmp_path: Path, servers: list[ServerProcess]
) -> None:
    meeting_path, meeting = write_meeting(tmp_path, title="计票台测试")
    server = ServerProcess(meeting_path, tmp_path / "data").start()
    servers.append(server)
    chair = server.chair_key
    count, observer = room_code.count_key(chair), room_code.observer_key(chair)
    base = server.base
    leaders = [card for card in server.cards(meeting) if card.group == "leaders"]

    # The chair console's links carry the derived keys, never the chair's; only for the chair.
    status, links = http_json(f"{base}/api/count-links", key=chair)
    assert status == 200 and links == {
        "count_key": count,
        "count_url": f"/count?key={count}",
        "observer_key": observer,
        "observer_url": f"/count?key={observer}",
    }
    for key in (count, observer, None):
        status, body = http_json(f"{base}/api/count-links", key=key)
        assert status == 401 and body["error"]["code"] == "bad_key", body

    # The page, private like the chair's.
    with urllib.request.urlopen(f"{base}/count", timeout=10) as response:
        assert response.headers["Cache-Control"] == "no-store"
        assert "计票台" in response.read().decode()

    # Reading: any of the three keys, each told its role; no key or another one: 401.
    for key, role in ((count, "count"), (observer, "observer"), (chair, "chair")):
        body = count_view(server, key)
        assert body["role"] == role and body["view"]["round"] is None
    for key in (None, "wrong", room_code.screen_key(chair)):
        status, body = http_json(f"{base}/api/count", key=key)
        assert status == 401 and body["error"]["code"] == "bad_key", (key, body)

    round_id = server.vote_step()
    paper = {"code": leaders[0].code, "round": round_id, "marks": MARKS}

    # Entering: the count key and the chair key; the observer's and none are refused, storing
    # nothing.
    for key in (observer, None, "wrong"):
        status, body = http_json(f"{base}/api/count/paper", {**paper, "cid": "x" * 16}, key)
        assert status == 401 and body["error"]["code"] == "bad_key", body
        returned = {"group": "leaders", "count": 3}
        status, body = http_json(f"{base}/api/count/returned", returned, key)
        assert status == 401 and body["error"]["code"] == "bad_key", body
    assert leaders_row(server, observer)["paper"] == 0
    assert leaders_row(server, observer)["returned"] is None

    cid = secrets.token_hex(16)
    status, first = http_json(f"{base}/api/count/paper", {**paper, "cid": cid}, count)
    assert status == 200 and set(first) == {"receipt", "round", "again"} and not first["again"]
    status, again = http_json(f"{base}/api/count/paper", {**paper, "cid": cid}, count)
    assert status == 200 and again == {**first, "again": True}  # the same ballot sent again
    other = {"code": leaders[1].code, "round": round_id, "marks": dict.fromkeys(MARKS, "废")}
    status, body = http_json(f"{base}/api/count/paper", other, chair)
    assert status == 200 and not body["again"], body
    status, body = http_json(
        f"{base}/api/count/paper", {**paper, "cid": secrets.token_hex(16)}, count
    )
    assert status == 409 and body["error"]["code"] == "already_voted", body
    status, body = http_json(f"{base}/api/count/paper", {**paper, "marks": {"r01": "优"}}, count)
    assert status == 422 and body["error"]["code"] == "bad_grade", body

    # A phone in the same group.
    phone = {"token": leaders[2].token, "round": round_id, "marks": MARKS, "cid": "p" * 16}
    assert http_json(f"{base}/api/cast", phone)[0] == 200

    wait_until(lambda: leaders_row(server, observer)["phone"] == 1)
    row = leaders_row(server, observer)
    assert (row["seats"], row["phone"], row["paper"], row["returned"]) == (10, 1, 2, None)
    assert row["not_returned"] == 7 and row["warnings"] == []

    # 回收: typed by the 计票人, replaced by a later figure; one over the cards issued warns.
    for key, figure in ((count, 2), (chair, 12)):
        body = {"group": "leaders", "count": figure, "by": "张三"}
        status, answer = http_json(f"{base}/api/count/returned", body, key)
        assert status == 200 and answer["v"] > 0, answer
    view = count_view(server, observer)["view"]
    row = view["groups"][0]
    assert (row["returned"], row["returned_by"], row["not_returned"]) == (12, "张三", 0)
    assert row["warnings"] == ["回收票数超过发出票数（手机1张＋回收12张＞应到10张）"]
    assert view["warnings"] == ["县级领导：回收票数超过发出票数（手机1张＋回收12张＞应到10张）"]
    http_json(f"{base}/api/count/returned", {"group": "leaders", "count": 1}, count)
    row = leaders_row(server, observer)
    assert row["warnings"] == ["录入张数超过回收张数（已录入2张＞回收1张）"]
    assert row["returned_by"] == ""

    # Bad 回收 bodies: refused naming the field, nothing changes.
    for body, field in [
        ({"group": "leaders", "count": "3"}, "count"),
        ({"group": "leaders", "count": -1}, "count"),
        ({"group": "nobody", "count": 3}, "group"),
        ({"group": "leaders", "count": 3, "extra": 1}, "extra"),
        ({"group": "leaders", "count": 3, "by": ["x"]}, "by"),
    ]:
        status, answer = http_json(f"{base}/api/count/returned", body, count)
        assert status == 422 and answer["error"]["field"] == field, (body, answer)
    status, answer = http_raw(f"{base}/api/count/returned", b"[1]", count)
    assert status == 400 and answer["error"]["code"] == "bad_frame"
    assert leaders_row(server, observer)["returned"] == 1

    # The panel holds no mark and no count of marks (they are sealed while the round runs):
    # no grade word anywhere but in the scale the entry buttons are drawn from.
    view = count_view(server, count)["view"]
    scale = view.pop("grades")
    text = json.dumps(view, ensure_ascii=False)
    for grade in [*scale, "废"]:
        assert grade not in text, grade
    assert view["totals"]["spoiled"] is None

    # After the close and the count, the spoiled ballot shows.
    assert server.chair("close", force=True)[0] == 200
    wait_until(lambda: count_view(server, observer)["view"]["groups"][0]["spoiled"] is not None)
    view = count_view(server, observer)["view"]
    assert view["round"]["status"] == "closed"
    assert [g["spoiled"] for g in view["groups"]] == [1, 0]
    # 回收 can still be typed after the close (the box is often counted then); paper cannot.
    status, answer = http_json(
        f"{base}/api/count/returned", {"group": "leaders", "count": 2}, count
    )
    assert status == 200, answer
    status, answer = http_json(
        f"{base}/api/count/paper",
        {"code": leaders[3].code, "round": round_id, "marks": MARKS},
        count,
    )
    assert status == 409 and answer["error"]["code"] == "not_open", answer
    row = leaders_row(server, observer)
    assert (row["phone"], row["paper"], row["returned"], row["warnings"]) == (1, 2, 2, [])

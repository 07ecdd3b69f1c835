"""The inputs fixed in front of the room (issue 15): the meeting file's digest when voting
opens and the ballots' digest when it closes are recorded and shown; a meeting file edited
afterwards, or a stored ballot changed after the close, is refused by `export` and `print`."""

from __future__ import annotations

import hashlib
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import redis

from testkit import Peer, ServerProcess, http_json, wait_until, write_meeting
from testkit.dumps import redis_settings
from tests.helpers import ROOT


def pingyi(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], capture_output=True, text=True, timeout=120, cwd=ROOT
    )


def screen_round(server: ServerProcess) -> dict[str, Any]:
    return http_json(f"{server.base}/api/view?role=screen")[1]["view"]["round"]


async def test_the_digests_the_room_saw_bind_every_later_printout(
    tmp_path: Path, servers: list[ServerProcess]
) -> None:
    meeting_path, meeting = write_meeting(tmp_path, title="摘要测试会议")
    server = ServerProcess(meeting_path, tmp_path / "data").start()
    servers.append(server)
    round_id = server.vote_step()
    assert (
        screen_round(server)["meeting_digest"]
        == hashlib.sha256(meeting_path.read_bytes()).hexdigest()
    )
    for number, card in enumerate(server.cards(meeting)[:4]):
        async with Peer.connect(server.ws_url, role="phone", token=card.token) as phone:
            marks = {"r01": ("好", "较好")[number % 2]}
            reply = await phone.request(
                {"t": "cast", "round": round_id, "marks": marks, "cid": secrets.token_hex(16)}
            )
            assert reply["t"] == "receipt"
    assert screen_round(server)["ballots_digest"] == ""  # nothing to show before the close
    assert server.chair("close", force=True)[0] == 200
    wait_until(lambda: screen_round(server)["ballots_digest"] != "", timeout=20)

    exported = tmp_path / "ballots.csv"
    done = pingyi("export", str(meeting_path), str(exported), "--data", str(server.data))
    assert done.returncode == 0, done.stderr
    assert (
        screen_round(server)["ballots_digest"] == hashlib.sha256(exported.read_bytes()).hexdigest()
    )

    # The meeting file edited after the vote: refused, whatever the edit.
    original = meeting_path.read_bytes()
    meeting_path.write_bytes(original + "# 会后补充\n".encode())
    pdf = tmp_path / "sheet.pdf"
    for refused in (
        pingyi("export", str(meeting_path), str(exported), "--data", str(server.data)),
        pingyi("print", "tally", str(meeting_path), "--data", str(server.data), "-o", str(pdf)),
    ):
        assert refused.returncode == 2 and "会后不能修改会议文件" in refused.stderr, refused
    assert not pdf.exists()
    meeting_path.write_bytes(original)

    # A stored ballot changed after the close: refused, naming the ballots.
    client = redis.Redis(unix_socket_path=redis_settings(server.data)["unixsocket"])
    key = next(client.scan_iter(f"*:ballots:{round_id}"))
    member, score = client.zrange(key, 0, 0, withscores=True)[0]
    forged = member[:-1] + bytes([(member[-1] + 1) % 4])  # another grade for the last mark
    client.zrem(key, member)
    client.zadd(key, {forged: score})
    client.close()
    refused = pingyi("export", str(meeting_path), str(exported), "--data", str(server.data))
    assert refused.returncode == 2 and "选票在结束投票后被改动过" in refused.stderr, refused.stderr

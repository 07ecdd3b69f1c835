"""The data directory holds every ballot (the AOF) and the secrets behind the cards: no other
local account may read any of it, while voting runs or after, and files an older version left
readable are closed at start."""

from __future__ import annotations

import stat
from pathlib import Path

from testkit import Peer, ServerProcess, write_meeting


def modes(root: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def assert_private(root: Path) -> None:
    wrong = {
        name: oct(mode)
        for name, mode in modes(root).items()
        if mode != (0o700 if (root / name).is_dir() else 0o600)
    }
    assert not wrong, wrong


async def test_the_data_directory_is_its_owners_alone(tmp_path: Path, servers) -> None:
    meeting_path, meeting = write_meeting(tmp_path, title="数据目录权限")
    data = tmp_path / "data"
    (data / "redis").mkdir(parents=True)
    older = data / "redis" / "left-by-an-older-version.aof"
    older.write_bytes(b"*1\r\n")
    older.chmod(0o644)
    data.chmod(0o755)
    server = ServerProcess(meeting_path, data).start()
    servers.append(server)
    round_id = server.vote_step()
    for card in server.cards(meeting)[:3]:
        async with Peer.connect(server.ws_url, role="phone", token=card.token) as phone:
            cid = f"perm-{card.seat:02d}-" + "p" * 16
            reply = await phone.request(
                {"t": "cast", "round": round_id, "marks": {"r01": "好"}, "cid": cid}
            )
            assert reply["t"] == "receipt"
    assert any(name.endswith(".aof") for name in modes(data) if "older" not in name)
    assert_private(data)  # mid-vote: the AOF holds the ballots
    assert server.chair("close", force=True)[0] == 200
    server.stop()
    assert_private(data)

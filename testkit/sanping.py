"""A 三评 meeting held live and closed, for the tests of what comes after it: the example
(examples/sanping-meeting.toml with its item lists) served as it is, the five experts scoring
on their own keys as examples/sanping-experts.csv says, the indicator values imported from
examples/sanping-indicators.csv, every card cast on its group's form, the vote closed and
counted. Real server, real Redis, 127.0.0.1."""

from __future__ import annotations

import csv
import io
import shutil
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cli.files import read_meeting
from tally.model import Meeting
from testkit.net import http_json, http_raw, wait_until
from testkit.processes import ServerProcess, stop_embedded_redis

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@dataclass
class ClosedSanping:
    server: ServerProcess
    meeting: Meeting
    path: Path  # the meeting file, its items/ beside it
    result: dict  # the server's, counted at close


@contextmanager
def closed_sanping(folder: Path) -> Iterator[ClosedSanping]:
    """The meeting in `folder`, held and closed; the server stopped afterwards."""
    shutil.copy(EXAMPLES / "sanping-meeting.toml", folder / "meeting.toml")
    shutil.copytree(EXAMPLES / "items", folder / "items")
    meeting, _ = read_meeting(folder / "meeting.toml")
    server = ServerProcess(folder / "meeting.toml", folder / "data")
    try:
        server.start()
        _panel(server)
        _vote(server, meeting)
        yield ClosedSanping(server, meeting, folder / "meeting.toml", _counted(server))
    finally:
        server.stop()
        stop_embedded_redis(folder / "data")


def _panel(server: ServerProcess) -> None:
    """The experts' scores, each on their own key, and the indicator values as a CSV."""
    code, links = http_json(f"{server.base}/api/panel", key=server.chair_key)
    assert code == 200, links
    keys = {e["id"]: e["url"].split("key=")[1] for e in links["experts"]}
    for row in csv.DictReader(io.StringIO((EXAMPLES / "sanping-experts.csv").read_text("utf-8"))):
        for expert, key in keys.items():
            if row[expert]:  # r04: e5 did not score
                body = {"reporter": row["reporter"], "score": row[expert]}
                code, reply = http_json(f"{server.base}/api/expert", body, key)
                assert code == 200, reply
    name = urllib.parse.quote("项目指标.csv")
    indicators = (EXAMPLES / "sanping-indicators.csv").read_bytes()
    code, reply = http_raw(
        f"{server.base}/api/indicators?name={name}", indicators, server.chair_key
    )
    assert code == 200, reply


def filled_in(
    info: dict[str, Any], meeting: Meeting, group: str, n: int, every: int = 4
) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """The n-th card's ballot on its group's form (`/api/meeting`'s `forms`): a grade varying
    with the card where the form has one, and every item answered, the negative answer on
    every `every`-th item."""
    forms = info["ballot_forms"][group]
    marks: dict[str, str] = {}
    items: dict[str, dict[str, Any]] = {}
    for k, reporter in enumerate(meeting.reporters):
        form = info["forms"][forms[reporter.id]]
        if form["kind"] != "items":
            marks[reporter.id] = info["grades"][(n + k) % 3]
        if form["kind"] != "grade":
            options = form["options"]
            items[reporter.id] = {
                i["id"]: options[(n + j) % every == 0] for j, i in enumerate(form["items"])
            }
    return marks, items


def _vote(server: ServerProcess, meeting: Meeting) -> None:
    """Every card casts, on its group's form: grades and answers varying with the card."""
    info = http_json(f"{server.base}/api/meeting")[1]
    round_id = server.vote_step()
    for n, card in enumerate(server.cards(meeting)):
        marks, items = filled_in(info, meeting, card.group, n)
        body = {"token": card.token, "round": round_id, "marks": marks, "items": items}
        code, reply = http_json(f"{server.base}/api/cast", body | {"cid": card.token})
        assert code == 200, reply
    code, reply = server.chair("close", force=True)
    assert code == 200, reply


def _counted(server: ServerProcess) -> dict:
    def result() -> dict | None:
        view = http_json(f"{server.base}/api/view?role=chair", key=server.chair_key)
        return view[1]["view"].get("result")

    wait_until(result, timeout=30)
    counted = result()
    assert counted is not None
    return counted

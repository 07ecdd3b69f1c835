"""The meeting service: the imperative shell around the pure agenda and the tally.

It keeps the projection (the fold of the event stream) up to date by following the stream,
turns chair actions into events with `agenda.decide`, casts ballots through the store, tallies
a round when it closes, and hands each role its view to the hub. Every process of a
deployment runs one; Redis is the only thing they share.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

from redis.exceptions import RedisError

from server import agenda, collector, views
from server import events as e
from server.ballots import (
    ballot_member,
    check_cid,
    check_marks,
    cid_hash,
    live_counts,
    read_members,
    receipt_for,
    receipt_score,
)
from server.cards import Card, code_hash, token_hash
from server.commands import Command
from server.errors import UNAVAILABLE_MSG, Conflict, ProtocolError
from server.hub import Hub
from server.store import Store, StoredEvent
from tally.engine import result_to_json, tally
from tally.errors import InputError
from tally.model import Ballot, Meeting

log = logging.getLogger("pingyi")

FLUSH_INTERVAL = 0.1  # screen and chair get at most ~10 turnout updates a second
FOLLOW_BLOCK_MS = 1000
# The close-time rewrite of 5,000 spent tokens and the AOF rewrite's fork kept Redis busy
# right when the chair reveals; a second later the room already has the result (and a crash
# in between is caught by the same work at start-up).
FORGET_AFTER = 1.0

# What a meeting file may no longer change once the meeting has a record: (field, message).
CHANGED_AFTER_START = {
    "reporters": (
        "reporters",
        "该会议已有记录，但会议文件中的述职人名单与记录不一致；会议开始后不能增删或调整述职人",
    ),
    "grades": (
        "rules.grades",
        "该会议已有记录，记录中的等次为“{recorded}”，与会议文件不一致；"
        "会议开始后不能修改等次或其顺序",
    ),
}


def hash_key(key: str) -> str:
    return hashlib.sha256(b"pingyi-chair:" + key.encode()).hexdigest()


class MeetingService:
    def __init__(
        self,
        meeting: Meeting,
        store: Store,
        hub: Hub,
        join_url: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.meeting = meeting
        self.store = store
        self.hub = hub
        self.join_url = join_url
        self.clock = clock
        self.state = agenda.initial_state(meeting)
        self.last_id = b"0-0"
        self.redis_ok = True
        self.receipt_key = b""
        self.chair_key_hash = ""
        self._flush_task: asyncio.Task[None] | None = None
        self._phone_view_due = False
        self._phones_wait = 0  # > 0 while a close is being tallied
        self._last_flush = 0.0
        self._background: set[asyncio.Task[Any]] = set()
        self._live: tuple[tuple[int, int], dict[str, dict[str, int]]] | None = None

    # ---- start-up ----------------------------------------------------------------------

    async def prepare(
        self, cards: list[Card] | None, generation: str, chair_key: str | None
    ) -> None:
        """Loads the scripts, replays the stream and makes sure the meeting's keys are set."""
        await self.store.load_scripts()
        await self.catch_up()
        meta = await self.store.meta()
        fixed = {  # stored rounds and ballots refer to these by position
            "reporters": ",".join(r.id for r in self.meeting.reporters),
            "grades": ",".join(self.meeting.rules.grades),
        }
        for name, value in fixed.items():
            if meta.get(name, value) != value:
                field, message = CHANGED_AFTER_START[name]
                raise InputError(field, message.format(recorded=meta[name]))
        await self.store.set_meta(**fixed)
        self.receipt_key = bytes.fromhex(
            await self.store.set_meta_once("receipt_key", secrets.token_hex(32))
        )
        if chair_key:
            await self.store.set_meta(chair_key_hash=hash_key(chair_key))
        self.chair_key_hash = (await self.store.meta()).get("chair_key_hash", "")
        if cards is not None and meta.get("cards_generation") != generation:
            await self._issue_cards(cards, generation)
        await self._recover_results()
        closed = [r.id for r in self.state.rounds.values() if r.status != "open"]
        if closed:  # a crash between a close and its log rewrite left the cast order behind
            self._in_background(self._forget_cast_order(*closed))

    async def _issue_cards(self, cards: list[Card], generation: str) -> None:
        if self.state.rounds:
            raise InputError("cards", "投票已经开始，不能更换参会卡；请使用原来的参会卡")
        await self.store.replace_cards(
            {token_hash(c.token): c.group for c in cards},
            {code_hash(c.code): token_hash(c.token) for c in cards},
        )
        counts: dict[str, int] = {}
        for card in cards:
            counts[card.group] = counts.get(card.group, 0) + 1
        await self.store.set_meta(cards_generation=generation)
        with contextlib.suppress(Conflict):  # another process issued the same cards
            await self.store.append(
                [e.CardsIssued(generation, counts)], expect=self.state.agenda_version
            )
        await self.catch_up()

    async def _recover_results(self) -> None:
        """A process that died between closing a round and tallying it left no result."""
        for held in list(self.state.rounds.values()):
            if held.status != "open" and held.id not in self.state.results:
                await self._compute_result(held.id)

    # ---- following the stream ----------------------------------------------------------

    async def catch_up(self) -> None:
        self._apply(await self.store.read_events(after=self.last_id))

    async def follow_forever(self) -> None:
        backoff = 0.1
        while True:
            try:
                stored = await self.store.follow(self.last_id, FOLLOW_BLOCK_MS)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as error:
                self._set_redis_ok(False, error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            backoff = 0.1
            self._set_redis_ok(True)
            self._apply(stored)

    def _set_redis_ok(self, ok: bool, error: Exception | None = None) -> None:
        if ok == self.redis_ok:
            return
        self.redis_ok = ok
        if not ok:
            log.warning("Redis unreachable: %s", error)
        self.hub.broadcast_all({"t": "status", "redis": ok})

    def _apply(self, stored: list[StoredEvent]) -> None:
        moved = False
        fresh = [s for s in stored if s.version > self.state.version]
        for item in fresh:
            if item.version != self.state.version + 1:
                log.error("event stream gap: have %s, got %s", self.state.version, item.version)
            if item.event is not None:
                self.state = agenda.evolve(self.state, item.event)
                moved = moved or item.event.MOVES_AGENDA
                if isinstance(item.event, e.VotingOpened):
                    collector.voting_opened()
                elif isinstance(item.event, e.VotingClosed):
                    collector.voting_closed()
                elif isinstance(item.event, e.ResultsRevealed):
                    collector.results_revealed(lambda: self.state.open_round is not None)
            else:
                self.state = dataclasses.replace(self.state, version=item.version)
            self.last_id = item.stream_id
        if not fresh:
            return
        self._request_flush(immediate=moved)
        if moved and not self._phone_view_due:
            self._phone_view_due = True
            if not self._phones_wait:
                # After the projector's and the chair's flush has run: thousands of phone sends
                # queued first would hold up the one screen the room is looking at.
                asyncio.get_running_loop().call_soon(self._send_phone_view)

    def _send_phone_view(self) -> None:
        if self._phone_view_due:
            self._phone_view_due = False
            self.hub.broadcast("phone", self.message(self.phone_view()), True)

    @contextlib.contextmanager
    def _phones_after_tally(self) -> Iterator[None]:
        """At a close the room waits for the result on the projector, and the phones only for
        "voting closed": their views (thousands of socket writes) go out after the tally."""
        self._phones_wait += 1
        try:
            yield
        finally:
            self._phones_wait -= 1
            if not self._phones_wait:
                self._send_phone_view()

    # ---- views -------------------------------------------------------------------------

    def message(self, view: dict[str, Any]) -> dict[str, Any]:
        return {"t": "view", "v": self.state.version, "now": self.clock(), "view": view}

    def phone_view(self) -> dict[str, Any]:
        return views.phone_view(self.meeting, self.state)

    def screen_view(self) -> dict[str, Any]:
        return views.screen_view(self.meeting, self.state, self.join_url)

    async def chair_view(self) -> dict[str, Any]:
        live = None
        held = self.state.current_round or self.state.open_round
        if held is not None and held.total >= self.meeting.privacy_min_ballots:
            live = await self._live_counts(held)
        return views.chair_view(self.meeting, self.state, self.join_url, live, self.clock())

    async def _live_counts(self, held: agenda.Round) -> dict[str, dict[str, int]] | None:
        """Counted from the round's stored ballots (at least as many as the turnout shows),
        read again only once the turnout has moved."""
        if self._live is not None and self._live[0] == (held.id, held.total):
            return self._live[1]
        try:
            members = await self.store.ballot_members(held.id)
        except (RedisError, OSError):
            return None
        counts = live_counts(members, held.reporters, self.meeting.rules.grades)
        self._live = ((held.id, held.total), counts)
        return counts

    def _request_flush(self, immediate: bool) -> None:
        if self._flush_task is not None and not immediate:
            return
        self._flush_task = asyncio.create_task(self._flush(immediate))

    async def _flush(self, immediate: bool) -> None:
        if not immediate:
            await asyncio.sleep(max(0.0, self._last_flush + FLUSH_INTERVAL - self.clock()))
        self._flush_task = None
        self._last_flush = self.clock()
        if self.hub.count("screen"):
            self.hub.broadcast("screen", self.message(self.screen_view()))
        if self.hub.count("chair"):
            self.hub.broadcast("chair", self.message(await self.chair_view()))

    # ---- chair actions -----------------------------------------------------------------

    def check_chair_key(self, key: Any) -> bool:
        if not isinstance(key, str) or not self.chair_key_hash:
            return False
        return hmac.compare_digest(hash_key(key), self.chair_key_hash)

    async def execute(self, command: Command, expect: int | None = None) -> int:
        """Applies a chair action; the new version. Refused or conflicting: nothing changes."""
        for _ in range(5):
            if expect is not None and expect != self.state.agenda_version:
                await self._catch_up_or_unavailable()
                if expect != self.state.agenda_version:
                    raise ProtocolError(
                        "conflict", "议程刚刚发生了变化，请确认后重试", "expect", 409
                    )
            try:
                new_events = agenda.decide(self.state, command, self.clock())
            except agenda.Refused as refused:
                raise ProtocolError("refused", str(refused), "action", 409) from None
            closes = [event.round for event in new_events if isinstance(event, e.VotingClosed)]
            with self._phones_after_tally() if closes else contextlib.nullcontext():
                try:
                    version, _ = await self.store.append(new_events, self.state.agenda_version)
                except Conflict:
                    await self._catch_up_or_unavailable()
                    continue
                except (RedisError, OSError):
                    raise ProtocolError("unavailable", UNAVAILABLE_MSG, None, 503) from None
                await self._catch_up_or_unavailable()
                for round_id in closes:
                    await self._compute_result(round_id)
            return self.state.version if self.state.version >= version else version
        raise ProtocolError("conflict", "议程刚刚发生了变化，请重试", None, 409)

    async def _catch_up_or_unavailable(self) -> None:
        try:
            await self.catch_up()
        except (RedisError, OSError):
            raise ProtocolError("unavailable", UNAVAILABLE_MSG, None, 503) from None

    async def _compute_result(self, round_id: int) -> None:
        """Tallies every round closed so far (with voting = "each" the result is cumulative)."""
        closed = sorted(
            r.id for r in self.state.rounds.values() if r.status != "open" and r.id <= round_id
        )
        ballots: list[Ballot] = []
        for closed_id in closed:
            members = await self.store.ballot_members(closed_id)
            reporters = self.state.rounds[closed_id].reporters
            ballots += read_members(members, reporters, self.meeting.rules.grades)
        on_ballot = {rid for r in closed for rid in self.state.rounds[r].reporters}
        meeting = dataclasses.replace(
            self.meeting, reporters=tuple(r for r in self.meeting.reporters if r.id in on_ballot)
        )
        result = await asyncio.to_thread(lambda: result_to_json(tally(meeting, ballots)))
        await self.store.append([e.ResultComputed(round_id, result)], expect=None)
        await self.catch_up()
        self._in_background(self._forget_cast_order(round_id, after=FORGET_AFTER))

    async def _forget_cast_order(self, *round_ids: int, after: float = 0.0) -> None:
        """At close: no stored order may follow the cast order, then the AOF is rewritten."""
        await asyncio.sleep(after)
        with contextlib.suppress(RedisError, OSError):
            for round_id in round_ids:
                await self.store.forget_cast_order(round_id)
        await self.store.rewrite_log()

    def _in_background(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ---- ballots -----------------------------------------------------------------------

    async def cast(
        self,
        token_hash_: str,
        group: str,
        round_id: Any,
        marks: Any,
        cid: Any,
        allow_spoiled: bool = False,
    ) -> tuple[str, bool]:
        """Stores one ballot; its receipt and whether it had been accepted before."""
        if not isinstance(round_id, int) or isinstance(round_id, bool):
            raise ProtocolError("bad_field", "round 应为整数（本轮投票编号）", "round")
        cid = check_cid(cid)
        held = self.state.rounds.get(round_id)
        if held is None:
            await self._catch_up_or_unavailable()
            held = self.state.rounds.get(round_id)
        if held is None:
            raise ProtocolError("not_open", "该轮投票尚未开启", "round", 409)
        checked = check_marks(marks, self.meeting, held.reporters, allow_spoiled)
        receipt = receipt_for(self.receipt_key, cid)
        try:
            outcome = await self.store.cast(
                token_hash_,
                round_id,
                group,
                cid_hash(cid),
                receipt_score(receipt),
                ballot_member(receipt, group, checked, self.meeting.rules.grades),
                e.BallotCast(round_id, group),
            )
        except (RedisError, OSError):
            raise ProtocolError("unavailable", UNAVAILABLE_MSG, None, 503) from None
        if outcome in ("ok", "again"):
            return receipt, outcome == "again"
        raise {
            "already_voted": ProtocolError(
                "already_voted", "已投票：此参会卡本轮已经投过票", None, 409
            ),
            "not_open": ProtocolError("not_open", "投票未开启或已经结束", "round", 409),
            "bad_token": ProtocolError("bad_token", "参会卡无效", "token", 403),
        }.get(outcome, ProtocolError("unavailable", UNAVAILABLE_MSG, None, 503))

    async def paper(self, code: Any, round_id: Any, marks: Any, cid: Any) -> tuple[str, bool]:
        """A paper ballot entered by the secretariat against the card's short code."""
        if not isinstance(code, str):
            raise ProtocolError("bad_field", "code 应为卡片短码，如 ABCD-EFGH", "code")
        try:
            hashed = code_hash(code)
        except InputError as error:
            raise ProtocolError("bad_code", error.message, "code") from None
        try:
            token = await self.store.token_for_code(hashed)
            group = await self.store.token_group(token) if token else None
        except (RedisError, OSError):
            raise ProtocolError("unavailable", UNAVAILABLE_MSG, None, 503) from None
        if token is None or group is None:
            raise ProtocolError("bad_code", f"卡片短码“{code}”不存在", "code", 404)
        cid = cid if cid is not None else secrets.token_hex(16)
        return await self.cast(token, group, round_id, marks, cid, allow_spoiled=True)

    async def join_open(self, group: Any) -> str:
        """Open join mode: a fresh token bound to a group with seats left."""
        if self.meeting.join != "open":
            raise ProtocolError(
                "not_open_mode", "本次会议使用参会卡入场，请扫描参会卡上的二维码", None, 404
            )
        found = next((g for g in self.meeting.groups if g.id == group), None)
        if found is None:
            raise ProtocolError("bad_group", "请选择有效的参会人员类别", "group")
        token = secrets.token_urlsafe(16)
        try:
            outcome = await self.store.join_open(
                token_hash(token), found.id, found.seats, e.TokenJoined(found.id)
            )
        except (RedisError, OSError):
            raise ProtocolError("unavailable", UNAVAILABLE_MSG, None, 503) from None
        if outcome == "group_full":
            raise ProtocolError(
                "group_full", f"“{found.name}”名额已满（{found.seats}人）", "group", 409
            )
        return token

    async def voted_rounds(self, token_hash_: str) -> list[int]:
        return await self.store.voted_rounds(token_hash_, sorted(self.state.rounds))

"""The meeting service: chair actions, ballots and results, around the pure agenda and tally.

It turns a chair action into events with `agenda.decide` and appends them, casts ballots
through the store, tallies a round when it closes, and answers the endpoints. The state it
decides on is the projection's (`server.projection`); what each role is sent is the view
feed's (`server.view_feed`). Every process of a deployment runs one; Redis is the only
thing they share. Refusals are `meeting.errors` exceptions: the edge gives them their codes.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from redis.exceptions import RedisError

from meeting import agenda, evaluation, panel, views
from meeting import errors as refusal
from meeting import events as e
from meeting.agenda import MeetingState, Round
from meeting.ballot_checks import (
    ballot_fingerprint,
    check_cid,
    check_marks,
    receipt_for,
    receipt_score,
)
from meeting.ballot_layout import Part, answer_codes, ballot_parts, check_items, parts_of
from meeting.commands import Command
from meeting.join_cards import (
    Card,
    card_hash_key,
    code_hash,
    issue_cards,
    looks_like_token,
    token_hash,
)
from server.hub import Hub
from server.projection import Projection
from server.round_keys import RoundKeys
from server.sealing import BallotOpener, is_sealed
from server.store import Store, VersionConflict
from server.stored_ballots import (
    decode_ballots,
    encode_ballot,
    mark_bytes,
    open_members,
    receipt_of,
)
from server.view_feed import ViewFeed
from tally.appraisal import appraise
from tally.ballot_csv import format_ballots_csv
from tally.errors import InputError
from tally.model import Ballot, Meeting

# The close-time rewrite of the spent tokens and the AOF rewrite's fork keep Redis busy;
# waiting a second keeps them out of the chair's reveal (a crash in between is caught by the
# same work at start-up).
FORGET_AFTER = 1.0
APPEND_ATTEMPTS = 5
RECEIPT_ATTEMPTS = 4  # a receipt already taken by another ballot: 1 in 2**50 per pair
# How long the process that closed a round without holding its key waits for the one that
# holds it to count it, before it asks for the 监票人's key.
HOLDER_WAIT = 5.0

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


@contextlib.contextmanager
def _unavailable_on_store_error() -> Iterator[None]:
    try:
        yield
    except (RedisError, OSError):
        raise refusal.Unavailable() from None


class MeetingService:
    def __init__(
        self,
        meeting: Meeting,
        store: Store,
        hub: Hub,
        join_url: str | None = None,
        clock: Callable[[], float] = time.time,
        meeting_digest: str = "",
        card_secret: bytes = b"",
        teller_public: bytes = b"",
        teller_private: bytes | None = None,
        rehearsal: bool = False,
    ) -> None:
        self.meeting = meeting
        self._forms = bool(meeting.appraisal.forms)  # item checklists: meeting.ballot_layout
        self._layouts: dict[tuple[str, tuple[str, ...]], tuple[Part, ...]] = {}
        self.store = store
        self.hub = hub
        self.clock = clock
        self.projection = Projection(store, agenda.initial_state(meeting, meeting_digest))
        self.views = ViewFeed(meeting, self.projection, store, hub, join_url, clock, rehearsal)
        self.receipt_key = b""
        self.chair_key_hash = ""
        self._card_secret = card_secret
        self._hash_key = b""  # keys the stored token and code hashes (empty: an older record)
        self._voters: dict[str, str] = {}  # token hash -> member, for named groups' cards
        self._background: set[asyncio.Task[Any]] = set()
        self.keys = RoundKeys(teller_public, teller_private)  # sealed rounds: docs/security.md
        self._closing: dict[int, asyncio.Lock] = {}
        self.projection.event_observers.append(self._closed_elsewhere)

    @property
    def state(self) -> MeetingState:
        return self.projection.state

    # ---- start-up ----------------------------------------------------------------------

    async def prepare(
        self, cards: list[Card] | None, generation: str, chair_key: str | None
    ) -> None:
        """Loads the scripts, replays the stream and makes sure the meeting's keys are set."""
        await self.store.load_scripts()
        await self.projection.catch_up()
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
        # A record made before the hashes were keyed keeps its plain hashes to its end.
        scheme = await self.store.set_meta_once("hash_scheme", "plain" if meta else "keyed")
        self._hash_key = card_hash_key(self._card_secret) if scheme == "keyed" else b""
        self._voters = self._named_cards()
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

    def _named_cards(self) -> dict[str, str]:
        """The member whose card each token of a named group is (部分实名), by token hash:
        derived from the secret as the cards are, so every process knows them unstored."""
        if not self.meeting.named:
            return {}
        cards = issue_cards(self._card_secret, self.meeting)
        return {self.token_hash(card.token): card.member for card in cards if card.member}

    def voter_of(self, token_hash_: str) -> str:
        """The member a named group's card belongs to; "" for an anonymous card."""
        return self._voters.get(token_hash_, "")

    async def _issue_cards(self, cards: list[Card], generation: str) -> None:
        if self.state.rounds:
            raise InputError("cards", "投票已经开始，不能更换参会卡；请使用原来的参会卡")
        await self.store.replace_cards(
            {self.token_hash(c.token): c.group for c in cards},
            {code_hash(c.code, self._hash_key): self.token_hash(c.token) for c in cards},
        )
        counts: dict[str, int] = {}
        for card in cards:
            counts[card.group] = counts.get(card.group, 0) + 1
        await self.store.set_meta(cards_generation=generation)
        with contextlib.suppress(VersionConflict):  # another process issued the same cards
            await self.store.append(
                [e.CardsIssued(generation, counts)], expect=self.state.agenda_version
            )
        await self.projection.catch_up()

    async def _recover_results(self) -> None:
        """A process that died between closing a round and tallying it left no result."""
        for held in list(self.state.rounds.values()):
            if held.counted and held.id not in self.state.results:
                await self._close_round(held.id)
                if held.id not in self.state.results:
                    await self._ask_for_teller_key(held.id)

    async def follow_forever(self) -> None:
        await self.projection.follow_forever()

    async def _catch_up(self) -> None:
        with _unavailable_on_store_error():
            await self.projection.catch_up()

    # ---- chair actions -----------------------------------------------------------------

    def check_chair_key(self, key: Any) -> bool:
        if not isinstance(key, str) or not self.chair_key_hash:
            return False
        return hmac.compare_digest(hash_key(key), self.chair_key_hash)

    async def execute(self, command: Command, expect: int | None = None) -> int:
        """Applies a chair action; the new version. Refused or conflicting: nothing changes."""
        for _ in range(APPEND_ATTEMPTS):
            if expect is not None and expect != self.state.agenda_version:
                await self._catch_up()
                if expect != self.state.agenda_version:
                    raise refusal.Conflict("议程刚刚发生了变化，请确认后重试", "expect")
            before = self.state
            decided = agenda.decide(before, command, self.clock())
            new_events, round_keys = self.keys.seal_opened(decided)
            after = agenda.fold(before, new_events)
            closes = [event.round for event in new_events if isinstance(event, e.VotingClosed)]
            with self.views.phones_after_tally() if closes else contextlib.nullcontext():
                try:
                    with _unavailable_on_store_error():
                        version, _ = await self.store.append(
                            new_events, before.agenda_version, _open_round_change(before, after)
                        )
                except VersionConflict:
                    await self._catch_up()
                    continue
                self.keys.hold(round_keys)
                await self._catch_up()
                for round_id in closes:
                    await self._close_round(round_id, closed_here=True)
            return max(self.state.version, version)
        raise refusal.Conflict("议程刚刚发生了变化，请重试")

    async def evaluate(self, command: evaluation.Command) -> int:
        """Records a 综合评价 entry, or fixes the record (`meeting.evaluation`), against the
        测评等次 of the latest result; the new version. Appended against the agenda version, so
        an entry decided before a fix that lands first is refused, not recorded after it."""

        def decide(before: MeetingState) -> list[e.Event]:
            votes = views.vote_grades(before)
            return evaluation.decide(before.evaluation, command, self.meeting, votes, self.clock())

        return await self._decided_and_appended(decide, "综合评价刚刚被修改，请重试")

    async def record_panel(self, command: panel.Command) -> int:
        """Records an expert's score or the imported indicator values (`meeting.panel`),
        refused once the vote is counted; the new version. Appended against the agenda
        version, so nothing lands after a close that was decided after it."""

        def decide(before: MeetingState) -> list[e.Event]:
            closed = views.closed_reporters(before)
            return panel.decide(before.panel, command, self.meeting, closed, self.clock())

        return await self._decided_and_appended(decide, "专家评分或项目指标刚刚被修改，请重试")

    async def _decided_and_appended(
        self, decide: Callable[[MeetingState], list[e.Event]], conflict: str
    ) -> int:
        """Decides against the state as it is and appends against its agenda version; decided
        again on a conflict (another process moved the agenda meanwhile); the new version."""
        for _ in range(APPEND_ATTEMPTS):
            before = self.state
            decided = decide(before)
            try:
                with _unavailable_on_store_error():
                    version, _ = await self.store.append(decided, before.agenda_version)
            except VersionConflict:
                await self._catch_up()
                continue
            await self._catch_up()
            return max(self.state.version, version)
        raise refusal.Conflict(conflict)

    def expert_for_key(self, key: str | None) -> str | None:
        return panel.expert_for_key(self._card_secret, self.meeting, key)

    def expert_key(self, expert_id: str) -> str:
        """An expert's personal key (for the chair console's links only)."""
        return panel.expert_key(self._card_secret, expert_id)

    # ---- closing a round: open its ballots, count them -----------------------------------

    async def _close_round(self, round_id: int, closed_here: bool = False) -> None:
        """Opens a closed round's sealed ballots and counts them, once per round and process.

        Without the round's key, the process that closed it waits for the one that holds it,
        then says that the 监票人's key is needed.
        """
        lock = self._closing.setdefault(round_id, asyncio.Lock())
        async with lock:
            await self._catch_up()
            if round_id in self.state.results:
                return
            # With voting = "each" the result counts every round closed so far.
            closed = [r.id for r in self._counted_up_to(round_id)]
            if all([await self._open_ballots(r) for r in closed]):
                await self._compute_result(round_id)
            elif closed_here:
                self._in_background(self._ask_for_teller_key(round_id, after=HOLDER_WAIT))

    def _closed_elsewhere(self, event: e.Event, state: MeetingState) -> None:
        """A round this process holds the key of was closed by another process: count it."""
        if isinstance(event, e.VotingClosed) and self.keys.holds(event.round):
            self._in_background(self._close_round(event.round))

    async def _open_ballots(self, round_id: int) -> bool:
        """Stores a closed round's sealed ballots opened; False if no key here opens them."""
        members = await self.store.ballot_members(round_id)
        if not any(is_sealed(member) for member in members):
            return True
        held = self.state.rounds[round_id]
        round_private = self.keys.private_key(held)
        if round_private is None:
            return False
        # Thousands of decryptions: in a thread, so that the event loop keeps serving the room
        # (it gets the interpreter back every few milliseconds) instead of stalling for them.
        scores = await asyncio.to_thread(
            _opened_scores, members, BallotOpener(round_id, round_private)
        )
        await self.store.replace_ballots(round_id, scores)
        self.keys.forget(round_id)
        return True

    async def _ask_for_teller_key(self, round_id: int, after: float = 0.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + after
        while loop.time() < deadline and round_id not in self.state.results:
            await asyncio.sleep(0.1)
        held = self.state.rounds[round_id]
        if round_id not in self.state.results and not held.awaiting_teller:
            with contextlib.suppress(RedisError, OSError):
                await self.store.append([e.TellerKeyNeeded(round_id)], expect=None)
                await self.projection.catch_up()

    async def unseal(self, teller_key: str) -> list[int]:
        """The 监票人's key, typed in after a crash: the rounds it let this process count."""
        rounds = self.state.rounds.values()
        uncounted = [r for r in rounds if r.key_for_teller and r.id not in self.state.results]
        self.keys.take_teller_key(teller_key, uncounted)
        waiting = [r for r in uncounted if r.counted]
        with _unavailable_on_store_error():
            for held in waiting:
                await self._close_round(held.id)
        return [r.id for r in waiting if r.id in self.state.results]

    def _counted_up_to(self, round_id: int) -> list[Round]:
        """The rounds a result of `round_id` counts: those closed, not voided, and opened no
        later than it (with voting = "each" a result is cumulative)."""
        last = self.state.rounds[round_id].seq
        return [r for r in self.state.held_rounds if r.counted and r.seq <= last]

    async def _compute_result(self, round_id: int) -> None:
        """Tallies every round closed so far (with voting = "each" the result is cumulative)."""
        closed = [r.id for r in self._counted_up_to(round_id)]
        ballots: list[Ballot] = []
        grades = self.meeting.rules.grades
        for closed_id in closed:
            members = await self.store.ballot_members(closed_id)
            reporters = self.state.rounds[closed_id].reporters
            # Decoding and hashing thousands of ballots go to the thread the tally runs in:
            # the event loop keeps serving the room meanwhile.
            layout = parts_of(self.meeting, reporters)
            decode = decode_ballots
            ballots += await asyncio.to_thread(decode, members, reporters, grades, layout)
        on_ballot = {rid for r in closed for rid in self.state.rounds[r].reporters}
        meeting = dataclasses.replace(
            self.meeting, reporters=tuple(r for r in self.meeting.reporters if r.id in on_ballot)
        )
        # appraise(): the grade tally as ever, and a meeting's forms and composite where it has
        # them, with the panel's scores and the indicators of the reporters voted on so far
        experts = panel.experts_table(self.state.panel, meeting)
        indicators = panel.indicators_table(self.state.panel, on_ballot)
        result = await asyncio.to_thread(appraise, meeting, ballots, experts, indicators)
        digest = await asyncio.to_thread(ballots_digest, self.meeting, ballots)
        await self.store.append([e.ResultComputed(round_id, result, digest)], expect=None)
        await self.projection.catch_up()
        self._in_background(self._forget_cast_order(round_id, after=FORGET_AFTER))

    async def _forget_cast_order(self, *round_ids: int, after: float = 0.0) -> None:
        """At close: no stored order may follow the cast order, then the AOF is rewritten."""
        await asyncio.sleep(after)
        with contextlib.suppress(RedisError, OSError):
            for round_id in round_ids:
                await self.store.forget_cast_order(round_id)
        await self.store.rewrite_log()

    def _in_background(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ---- ballots -----------------------------------------------------------------------

    def token_hash(self, token: str) -> str:
        """What the store keeps of a card's (or an open-mode phone's) token."""
        return token_hash(token, self._hash_key)

    async def card_group(self, token: str) -> str | None:
        """The voter group of a card's token; None for a token that is no card of this meeting."""
        if not looks_like_token(token):
            return None
        with _unavailable_on_store_error():
            return await self.store.token_group(self.token_hash(token))

    async def card_for_code(self, code: str) -> tuple[str, str] | None:
        """A card's token hash and voter group from its short code (None: no such card);
        InputError for a code that is not well formed."""
        hashed = code_hash(code, self._hash_key)
        token = await self.store.token_for_code(hashed)
        group = await self.store.token_group(token) if token else None
        return (token, group) if token is not None and group is not None else None

    async def cast(
        self,
        token_hash_: str,
        group: str,
        round_id: Any,
        marks: Any,
        cid: Any,
        allow_spoiled: bool = False,
        paper: bool = False,
        items: Any = None,
    ) -> tuple[str, bool]:
        """Stores one ballot; its receipt and whether it had been accepted before. `paper`: a
        paper ballot typed in by the secretariat, stored as one (`server.stored_ballots`).
        `items`: the answers to the group's item checklists (meeting.ballot_layout), if any."""
        if not isinstance(round_id, int) or isinstance(round_id, bool):
            raise refusal.BadField("round 应为整数（本轮投票编号）", "round")
        cid = check_cid(cid)
        held = self.state.rounds.get(round_id)
        if held is None:
            await self._catch_up()
            held = self.state.rounds.get(round_id)
        if held is None:
            raise refusal.NotOpen("该轮投票尚未开启", "round")
        parts = self._parts(group, held.reporters) if self._forms else ()
        ungraded = {part.reporter for part in parts if not part.graded}
        checked = check_marks(marks, self.meeting, held.reporters, allow_spoiled, ungraded)
        answers = check_items(items, parts, allow_spoiled) if self._forms else _no_items(items)
        codes = answer_codes(answers, parts)
        key = self.receipt_key
        fingerprint = ballot_fingerprint(key, round_id, token_hash_, cid, checked, codes)
        encoded = mark_bytes(checked, self.meeting.rules.grades) + codes
        seal = self.keys.sealer(held)
        voter = self.voter_of(token_hash_)
        for attempt in range(RECEIPT_ATTEMPTS):
            receipt = receipt_for(key, round_id, token_hash_, cid, attempt)
            with _unavailable_on_store_error():
                outcome = await self.store.cast(
                    token_hash_,
                    round_id,
                    group,
                    fingerprint,
                    attempt,
                    receipt_score(receipt),
                    seal.seal(receipt, group, encoded, paper, voter)
                    if seal
                    else encode_ballot(receipt, group, encoded, paper, voter),
                    e.BallotCast(round_id, group, paper),
                )
            if outcome != "receipt_taken":
                break
        if outcome == "ok":
            return receipt, False
        if outcome.startswith("again:"):
            first = int(outcome.removeprefix("again:"))
            return receipt_for(key, round_id, token_hash_, cid, first), True
        if outcome == "already_voted":
            raise refusal.AlreadyVoted("已投票：此参会卡本轮已经投过票")
        if outcome == "not_open":
            raise refusal.NotOpen("投票未开启或已经结束", "round")
        if outcome == "bad_token":
            raise refusal.BadToken("参会卡无效", "token")
        raise refusal.Unavailable()

    def _parts(self, group: str, reporters: tuple[str, ...]) -> tuple[Part, ...]:
        """A group's ballot layout in a round (meeting.ballot_layout), made once per round."""
        key = (group, reporters)
        if key not in self._layouts:
            self._layouts[key] = ballot_parts(self.meeting, group, reporters)
        return self._layouts[key]

    async def paper(
        self, code: Any, round_id: Any, marks: Any, cid: Any, items: Any = None
    ) -> tuple[str, bool]:
        """A paper ballot entered by the secretariat against the card's short code."""
        if not isinstance(code, str):
            raise refusal.BadField("code 应为卡片短码，如 ABCD-EFGH", "code")
        try:
            with _unavailable_on_store_error():
                card = await self.card_for_code(code)
        except InputError as error:
            raise refusal.BadCode(error.message, "code") from None
        if card is None:
            raise refusal.UnknownCode(f"卡片短码“{code}”不存在", "code")
        token, group = card
        cid = cid if cid is not None else secrets.token_hex(16)
        return await self.cast(
            token, group, round_id, marks, cid, allow_spoiled=True, paper=True, items=items
        )

    async def join_open(self, group: Any) -> str:
        """Open join mode: a fresh token bound to a group with seats left."""
        if self.meeting.join != "open":
            raise refusal.NotOpenMode("本次会议使用参会卡入场，请扫描参会卡上的二维码")
        found = next((g for g in self.meeting.groups if g.id == group), None)
        if found is None:
            raise refusal.BadGroup("请选择有效的参会人员类别", "group")
        token = secrets.token_urlsafe(16)
        with _unavailable_on_store_error():
            outcome = await self.store.join_open(
                self.token_hash(token), found.id, found.seats, e.TokenJoined(found.id)
            )
        if outcome == "group_full":
            raise refusal.GroupFull(f"“{found.name}”名额已满（{found.seats}人）", "group")
        return token

    async def receipts(self, round_id: int) -> list[str]:
        """A round's receipts, sorted (their order says nothing of the cast order), and nothing
        else: what `/check` lists once the round is revealed."""
        with _unavailable_on_store_error():
            members = await self.store.ballot_members(round_id)
        return sorted(map(receipt_of, members))

    async def voted_rounds(self, token_hash_: str) -> list[int]:
        return await self.store.voted_rounds(token_hash_, sorted(self.state.rounds))

    async def store_reachable(self) -> bool:
        try:
            await self.store.ping()
        except (RedisError, OSError):
            return False
        return True


def _no_items(items: Any) -> dict[str, dict[str, str]]:
    """A meeting without item forms takes no item answers (an empty map is no answer)."""
    if items not in (None, {}):
        raise refusal.BadField("本次会议没有逐项测评，不接受 items", "items")
    return {}


def ballots_digest(meeting: Meeting, ballots: list[Ballot]) -> str:
    """SHA-256 of the ballots as `pingyi export` writes them (sorted by receipt, UTF-8)."""
    ordered = sorted(ballots, key=lambda ballot: ballot.id)
    return hashlib.sha256(format_ballots_csv(meeting, ordered).encode("utf-8")).hexdigest()


def _opened_scores(members: list[bytes], opener: BallotOpener) -> dict[bytes, int]:
    """A round's ballots opened, each scored by its receipt (the stored order)."""
    return {member: receipt_score(receipt_of(member)) for member in open_members(members, opener)}


def _open_round_change(before: MeetingState, after: MeetingState) -> tuple[str, str]:
    """How the store's open-round key must change for these events: ("open", id), ("close",
    "") or nothing. Cast ballots are checked against that key inside Redis."""
    was, now = before.open_round, after.open_round
    if now is not None and (was is None or was.id != now.id):
        return "open", str(now.id)
    if was is not None and now is None:
        return "close", ""
    return "", ""

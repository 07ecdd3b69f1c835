"""The Redis adapter: the event stream, the ballot box and the meeting's keys.

All keys of a meeting share one hash tag, `{pingyi:<meeting>}`, so the Lua scripts that touch
several of them also run on a Redis Cluster. A rehearsal (演练, `pingyi serve --rehearsal`) has
a hash tag of its own, `{pingyi:<meeting>:rehearsal}`: nothing it stores is in the meeting's
record, and `wipe_namespace` clears it. Ballots cast in the same pass of the event loop
go to Redis in one pipeline: with `appendfsync always` that is one fsync per batch, not one
per ballot.
On a Redis Cluster (`server.redis_cluster`) the batch goes through the cluster client's
pipeline, which follows a slot that moves, and is followed by `WAIT` when receipts wait for
replicas.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from dataclasses import dataclass
from importlib import resources
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.exceptions import NoScriptError, RedisError, ResponseError, WatchError

from meeting.events import Event
from server import redis_cluster
from server.codec import decode_entry, event_fields
from tally.model import Meeting

STREAM_BATCH = 1000


class NotReplicated(RedisError):
    """The replicas a receipt waits for did not confirm the batch in time (`WAIT`)."""


class VersionConflict(Exception):
    """The agenda moved between reading the state and appending a chair action's events."""


REHEARSAL_SUFFIX = ":rehearsal"


def meeting_key(meeting: Meeting, rehearsal: bool = False) -> str:
    """Stable across restarts and edits of names; changes with the meeting's title or date.
    A rehearsal's key differs, so its keys share another hash tag than the meeting's."""
    digest = hashlib.sha256(f"{meeting.title}\n{meeting.date}".encode()).hexdigest()
    return digest[:12] + (REHEARSAL_SUFFIX if rehearsal else "")


@dataclass(frozen=True)
class Keys:
    meeting: str

    def _k(self, name: str) -> str:
        return f"{{pingyi:{self.meeting}}}:{name}"

    @property
    def pattern(self) -> str:
        """A SCAN pattern that matches every key of this namespace and no other."""
        return self._k("*").replace("[", "\\[").replace("?", "\\?")

    @property
    def events(self) -> str:
        return self._k("events")

    @property
    def version(self) -> str:
        return self._k("version")

    @property
    def agenda_version(self) -> str:
        return self._k("agenda_version")

    @property
    def open_round(self) -> str:
        return self._k("open")

    @property
    def meta(self) -> str:
        return self._k("meta")

    @property
    def tokens(self) -> str:
        return self._k("tokens")

    @property
    def codes(self) -> str:
        return self._k("codes")

    @property
    def issued(self) -> str:
        return self._k("issued")

    def spent(self, round_id: int) -> str:
        return self._k(f"spent:{round_id}")

    def ballots(self, round_id: int) -> str:
        return self._k(f"ballots:{round_id}")

    def legacy_counters(self, round_id: int) -> str:
        """Live counters bumped by every ballot, in records from before they were dropped."""
        return self._k(f"counters:{round_id}")


def lua_source(name: str) -> str:
    return resources.files("server").joinpath(f"lua/{name}.lua").read_text()


def resp_command(args: list[Any]) -> bytes:
    """A command in the Redis protocol, arguments encoded as redis-py does (str as UTF-8)."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            arg = arg.encode()
        elif isinstance(arg, int | float):
            arg = repr(arg).encode()
        parts.append(b"$%d\r\n%b\r\n" % (len(arg), arg))
    return b"".join(parts)


@dataclass
class StoredEvent:
    stream_id: bytes
    version: int
    event: Event | None


class Store:
    def __init__(self, redis: aioredis.Redis | AsyncRedisCluster, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys
        self._sha: dict[str, str] = {}
        self._pending: list[tuple[list[Any], asyncio.Future[Any]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def wipe(self) -> int:
        """Deletes every key of this namespace: a rehearsal's reset (never the meeting's own
        namespace: see `cli.serve_cmd`). SCAN by the hash tag's pattern, then UNLINK; on a
        cluster every key of one hash tag is on one node. How many keys went."""
        found = [key async for key in self.redis.scan_iter(match=self.keys.pattern, count=1000)]
        for start in range(0, len(found), 500):
            await self.redis.unlink(*found[start : start + 500])
        return len(found)

    async def load_scripts(self) -> None:
        for name in ("append", "cast", "join"):
            self._sha[name] = await self.redis.script_load(lua_source(name))

    async def _eval(self, name: str, keys: list[str], args: list[Any]) -> Any:
        try:
            return await self.redis.evalsha(self._sha[name], len(keys), *keys, *args)
        except NoScriptError:  # Redis restarted without its script cache
            await self.load_scripts()
            return await self.redis.evalsha(self._sha[name], len(keys), *keys, *args)

    # ---- events ------------------------------------------------------------------------

    async def read_events(self, after: bytes = b"0-0") -> list[StoredEvent]:
        stored: list[StoredEvent] = []
        start = b"(" + after if after != b"0-0" else b"-"
        while True:
            entries = await self.redis.xrange(self.keys.events, start, "+", count=STREAM_BATCH)
            stored += [StoredEvent(sid, *decode_entry(fields)) for sid, fields in entries]
            if len(entries) < STREAM_BATCH:
                return stored
            start = b"(" + entries[-1][0]

    async def follow(self, after: bytes, block_ms: int) -> list[StoredEvent]:
        reply = await self.redis.xread(
            {self.keys.events: after}, count=STREAM_BATCH, block=block_ms
        )
        if not reply:
            return []
        return [StoredEvent(sid, *decode_entry(fields)) for sid, fields in reply[0][1]]

    async def append(
        self, events: list[Event], expect: int | None, open_round: tuple[str, str] = ("", "")
    ) -> tuple[int, int]:
        """Appends events atomically; the new (version, agenda version).

        `expect`: the agenda version they were decided on (None: do not check).
        `open_round`: ("open", round id) or ("close", "") when they open or close a round, so
        that the ballot script sees the change in the same step.
        """
        change, round_id = open_round
        args: list[Any] = ["" if expect is None else expect, change, round_id]
        for event in events:
            args += [*event_fields(event), "1" if event.moves_agenda else "0"]
        k = self.keys
        keys = [k.events, k.version, k.agenda_version, k.open_round]
        reply = await self._eval("append", keys, args)
        if reply[0] == b"conflict":
            raise VersionConflict(int(reply[1]))
        return int(reply[1]), int(reply[2])

    # ---- ballots -----------------------------------------------------------------------

    async def cast(
        self,
        token_hash: str,
        round_id: int,
        group: str,
        fingerprint: str,
        attempt: int,
        score: int,
        member: bytes,
        event: Event,
    ) -> str:
        """The cast script's reply (see server/lua/cast.lua); durable when it returns."""
        k = self.keys
        keys = [
            k.tokens,
            k.spent(round_id),
            k.ballots(round_id),
            k.events,
            k.version,
            k.open_round,
        ]
        args = [token_hash, str(round_id), group, fingerprint, attempt, score, member]
        args += event_fields(event)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append(([len(keys), *keys, *args], future))
        if self._worker is None:
            self._worker = asyncio.create_task(self._send_batches())
        reply = await future
        return reply.decode() if isinstance(reply, bytes) else str(reply)

    async def _send_batches(self) -> None:
        try:
            await asyncio.sleep(0)  # let the rest of this loop pass add its ballots
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    replies = await self._pipeline_cast([args for args, _ in batch])
                except (RedisError, OSError) as error:
                    replies = [error] * len(batch)
                for (_, future), reply in zip(batch, replies, strict=True):
                    if future.done():
                        continue
                    if isinstance(reply, BaseException):
                        future.set_exception(reply)
                    else:
                        future.set_result(reply)
        finally:
            self._worker = None

    async def _pipeline_cast(self, calls: list[list[Any]]) -> list[Any]:
        for attempt in (1, 2):
            if isinstance(self.redis, AsyncRedisCluster):
                replies = await self._send_casts_to_cluster(self.redis, calls)
            else:
                replies = await self._send_casts(self.redis, calls)
            if attempt == 1 and any(isinstance(r, NoScriptError) for r in replies):
                # Scripts that did run are idempotent by ballot id: the retry answers 'again'.
                await self.load_scripts()
                continue
            return replies
        return replies  # pragma: no cover

    async def _send_casts(self, client: aioredis.Redis, calls: list[list[Any]]) -> list[Any]:
        """One write of the batch's EVALSHA commands, then one reply each (errors as values).

        What a non-transactional pipeline does, with the commands built here because
        redis-py's packing is a large share of a ballot's server CPU (docs/benchmarks.md).
        Same connection pool, same retry on a dropped connection.
        """
        head = [b"EVALSHA", self._sha["cast"]]
        data = b"".join(resp_command([*head, *args]) for args in calls)
        pool = client.connection_pool
        connection = await pool.get_connection()

        async def exchange() -> list[Any]:
            await connection.send_packed_command(data)
            replies: list[Any] = []
            for _ in calls:
                try:
                    replies.append(await connection.read_response())
                except ResponseError as error:
                    replies.append(error)
            return replies

        async def dropped(error: Exception) -> None:
            await connection.disconnect()

        try:
            return await connection.retry.call_with_retry(exchange, dropped)
        finally:
            await pool.release(connection)

    async def _send_casts_to_cluster(
        self, client: AsyncRedisCluster, calls: list[list[Any]]
    ) -> list[Any]:
        """The batch through the cluster's pipeline (every key in the meeting's slot: one
        node), then, when receipts wait for replicas, `WAIT` on that slot's primary: a batch
        the replicas did not confirm gets no receipt (`NotReplicated`, heard `unavailable`)."""
        with redis_cluster.unreachable_as_redis_error():
            async with client.pipeline(transaction=False) as pipe:
                for args in calls:
                    pipe.execute_command("EVALSHA", self._sha["cast"], *args)
                replies: list[Any] = await pipe.execute(raise_on_error=False)
            replicas = await redis_cluster.replicas_to_wait_for(client)
        stored = [r for r in replies if not isinstance(r, BaseException)]
        if replicas and stored:
            with redis_cluster.unreachable_as_redis_error():
                confirmed = await redis_cluster.wait_replicated(client, self.keys.events, replicas)
            if confirmed < replicas:
                error = NotReplicated(f"WAIT {replicas}: {confirmed} replicas confirmed")
                return [r if isinstance(r, BaseException) else error for r in replies]
        return replies

    async def ballot_members(self, round_id: int) -> list[bytes]:
        return await self.redis.zrange(self.keys.ballots(round_id), 0, -1)

    async def replace_ballots(self, round_id: int, members: dict[bytes, int]) -> None:
        """Swaps a closed round's members (sealed) for the same ballots opened, in one step.

        Nothing casts into a closed round (cast.lua checks the open-round key first), so a
        change seen by WATCH means another process is opening the same round: its result and
        this one are the same, and this one gives way.
        """
        key = self.keys.ballots(round_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            await pipe.watch(key)
            pipe.multi()
            pipe.delete(key)
            if members:
                pipe.zadd(key, members)
            with contextlib.suppress(WatchError):
                await pipe.execute()

    async def ping(self) -> None:
        await self.redis.ping()

    async def token_group(self, token_hash: str) -> str | None:
        group = await self.redis.hget(self.keys.tokens, token_hash)
        return group.decode() if group else None

    async def token_for_code(self, code_hash: str) -> str | None:
        token = await self.redis.hget(self.keys.codes, code_hash)
        return token.decode() if token else None

    async def spent_fingerprint(self, round_id: int, token_hash: str) -> str | None:
        """The fingerprint of the ballot a card cast in a round (None: it has not voted); the
        spent entry is '<fingerprint>:<attempt>' (server/lua/cast.lua)."""
        spent = await self.redis.hget(self.keys.spent(round_id), token_hash)
        return spent.split(b":")[0].decode() if spent else None

    async def voted_rounds(self, token_hash: str, round_ids: list[int]) -> list[int]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for round_id in round_ids:
                pipe.hexists(self.keys.spent(round_id), token_hash)
            found = await pipe.execute()
        return [r for r, yes in zip(round_ids, found, strict=True) if yes]

    async def join_open(self, token_hash: str, group: str, seats: int, event: Event) -> str:
        k = self.keys
        keys = [k.tokens, k.issued, k.events, k.version]
        reply = await self._eval("join", keys, [token_hash, group, seats, *event_fields(event)])
        return reply.decode()

    # ---- meta --------------------------------------------------------------------------

    async def meta(self) -> dict[str, str]:
        raw = await self.redis.hgetall(self.keys.meta)
        return {k.decode(): v.decode() for k, v in raw.items()}

    async def set_meta(self, **values: str) -> None:
        await self.redis.hset(self.keys.meta, mapping=values)

    async def set_meta_once(self, name: str, value: str) -> str:
        await self.redis.hsetnx(self.keys.meta, name, value)
        stored = await self.redis.hget(self.keys.meta, name)
        return stored.decode()

    async def replace_cards(self, tokens: dict[str, str], codes: dict[str, str]) -> None:
        """Swaps the whole set of card token hashes (and code hashes) in one transaction."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.keys.tokens, self.keys.codes)
            if tokens:
                pipe.hset(self.keys.tokens, mapping=tokens)
            if codes:
                pipe.hset(self.keys.codes, mapping=codes)
            await pipe.execute()

    async def forget_cast_order(self, round_id: int) -> None:
        """Rewrites a closed round's spent tokens with their fields sorted.

        A small Redis hash keeps its fields in insertion order, and that order survives an AOF
        rewrite: the spent hash would list the cards in the order they voted. Sorted, the order
        says nothing. Nothing writes to it once the round is closed, so a change seen by WATCH
        means someone else is doing the same. An older record's live counters (which listed
        the first ballots' marks in the order they came in) are deleted.
        """
        key = self.keys.spent(round_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            await pipe.watch(key)
            fields = await pipe.hgetall(key)
            pipe.multi()
            pipe.delete(key, self.keys.legacy_counters(round_id))
            if fields:
                pipe.hset(key, mapping=dict(sorted(fields.items())))
            with contextlib.suppress(WatchError):
                await pipe.execute()

    async def rewrite_log(self) -> None:
        """Rewrites the append-only file so that it no longer keeps the order of writes.

        During voting the AOF holds each ballot next to the spending of its token; after the
        rewrite only the data set remains (ballots in receipt order). Best effort on an
        external Redis that does not allow it. On a cluster: the AOFs of the meeting's
        slot's primary and its replicas (theirs hold the same order), not every node's.
        """
        if not isinstance(self.redis, AsyncRedisCluster):
            await self._rewrite_log_on({})
            return
        with contextlib.suppress(RedisError, OSError):
            for node in redis_cluster.slot_nodes(self.redis, self.keys.events):
                await self._rewrite_log_on({"target_nodes": node})

    async def _rewrite_log_on(self, target: dict[str, Any]) -> None:
        try:
            if (await self.redis.info("persistence", **target)).get("aof_enabled") != 1:
                return
            for _ in range(600):  # a rewrite started earlier may predate this one's changes
                info = await self.redis.info("persistence", **target)
                if not info.get("aof_rewrite_in_progress"):
                    break
                await asyncio.sleep(0.05)
            await self.redis.bgrewriteaof(**target)
        except RedisError:
            return
        for _ in range(600):
            info = await self.redis.info("persistence", **target)
            if not info.get("aof_rewrite_in_progress") and not info.get("aof_rewrite_scheduled"):
                return
            await asyncio.sleep(0.05)

"""Records from before live counters were dropped: closing a round's cast order deletes them.

Such a record's `counters:<round>` hash listed the first ballots' marks in the order they came
in, next to the spent tokens in the order they voted; nothing writes it any more.
"""

from __future__ import annotations

import redis.asyncio as aioredis

from server.store import Keys, Store
from testkit import RedisServer


async def test_forgetting_the_cast_order_deletes_an_older_records_live_counters(
    redis_server: RedisServer,
) -> None:
    client = aioredis.from_url(redis_server.url)
    store = Store(client, Keys("legacy"))
    try:
        await client.hset(store.keys.legacy_counters(1), mapping={"r01\x1f好": 2, "cast": 2})
        await client.hset(store.keys.spent(1), mapping={"token-b": "x", "token-a": "y"})
        await store.forget_cast_order(1)
        assert not await client.exists(store.keys.legacy_counters(1))
        assert list(await client.hgetall(store.keys.spent(1))) == [b"token-a", b"token-b"]
    finally:
        await client.aclose()

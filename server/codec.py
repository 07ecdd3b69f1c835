"""The one mapper between events and Redis Stream entries, and the wire's msgpack.

A stream entry has the fields `v` (version), `t` (type), `s` (schema) and `p` (the payload
as msgpack). Reading an entry written with an older schema runs it through the upcasters
registered for that type, so history is never rewritten.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import msgpack

from meeting.events import EVENT_TYPES, Event

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
# (type, schema) -> function turning that schema's payload into the next schema's
UPCASTERS: dict[tuple[str, int], Upcaster] = {
    # A round opened before the meeting file's digest was recorded: it is not known.
    ("VotingOpened", 1): lambda payload: {**payload, "meeting_digest": ""},
    # A result counted before the ballot set's digest was recorded: it is not known.
    ("ResultComputed", 1): lambda payload: {**payload, "ballots_digest": ""},
    # A comment recorded when comments still moved the agenda (the store counted it so).
    ("CommentRecorded", 1): lambda payload: {**payload, "moved_agenda": True},
    # A round opened before ballots were sealed: its ballots are stored in the clear.
    ("VotingOpened", 2): lambda payload: {
        **payload,
        "sealing_key": "",
        "key_for_teller": "",
        "teller_key_id": "",
    },
    # A comment from before named commenters: one unnamed 点评 on one report.
    ("CommentRecorded", 2): lambda payload: {**payload, "by": "", "kind": "comment"},
    # A round opened before 重新测评 existed: every round was its step's first, id = step.
    ("VotingOpened", 3): lambda payload: {**payload, "step": payload["round"]},
    # A ballot recorded before paper ballots were told apart in the stream: read as a phone's.
    ("BallotCast", 1): lambda payload: {**payload, "paper": False},
}


def pack(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True)


def unpack(raw: bytes) -> Any:
    return msgpack.unpackb(raw, raw=False, strict_map_key=False)


def event_fields(event: Event) -> tuple[str, int, bytes]:
    payload = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
    return event.TYPE, event.SCHEMA, pack(payload)


def decode_entry(fields: dict[bytes, bytes]) -> tuple[int, Event | None]:
    """The version and the event of one stream entry (None for a type this code does not know)."""
    version = int(fields[b"v"])
    type_name = fields[b"t"].decode()
    schema = int(fields[b"s"])
    cls = EVENT_TYPES.get(type_name)
    if cls is None:
        return version, None
    payload = unpack(fields[b"p"])
    while schema < cls.SCHEMA:
        payload = UPCASTERS[(type_name, schema)](payload)
        schema += 1
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs = {k: v for k, v in payload.items() if k in names}
    if "reporters" in kwargs:
        kwargs["reporters"] = tuple(kwargs["reporters"])
    return version, cls(**kwargs)

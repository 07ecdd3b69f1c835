"""A pass of the event loop hands the app at most so many messages; the rest wait their turn,
connection by connection, in the order they came."""

from __future__ import annotations

import asyncio
import collections

from server.admission import Admission


class Connection:
    def __init__(self, name: str, admission: Admission, handed: list[str]) -> None:
        self.name = name
        self.admission = admission
        self.held: collections.deque[str] = collections.deque()
        self.handed = handed

    def send(self, message: str) -> None:
        if self.held or not self.admission.take():
            if not self.held:
                self.admission.wait(self)
            self.held.append(message)
            return
        self.handed.append(message)

    def release(self, limit: int) -> int:
        n = 0
        while self.held and n < limit:
            self.handed.append(self.held.popleft())
            n += 1
        return n

    def holds(self) -> bool:
        return bool(self.held)


async def next_pass() -> None:
    await asyncio.sleep(0)


async def test_a_pass_hands_over_at_most_its_allowance_and_the_rest_come_in_order() -> None:
    admission = Admission(per_pass=3)
    handed: list[str] = []
    a, b = Connection("a", admission, handed), Connection("b", admission, handed)
    for n in range(4):
        a.send(f"a{n}")
    b.send("b0")
    assert handed == ["a0", "a1", "a2"]  # the pass is full: a3 and b0 wait
    await next_pass()
    assert handed == ["a0", "a1", "a2", "a3", "b0"]  # at the start of the next pass
    b.send("b1")  # room left in this pass
    assert handed[-1] == "b1"


async def test_a_connection_with_messages_held_holds_its_new_ones_behind_them() -> None:
    admission = Admission(per_pass=1)
    handed: list[str] = []
    a = Connection("a", admission, handed)
    a.send("a0")
    a.send("a1")
    await next_pass()
    a.send("a2")  # a1 took this pass's allowance
    await next_pass()
    assert handed == ["a0", "a1", "a2"]


async def test_an_idle_loop_gives_a_full_allowance_again() -> None:
    admission = Admission(per_pass=2)
    handed: list[str] = []
    a = Connection("a", admission, handed)
    a.send("a0")
    a.send("a1")
    await next_pass()
    await next_pass()
    a.send("a2")
    a.send("a3")
    assert handed == ["a0", "a1", "a2", "a3"] and admission.left == 0

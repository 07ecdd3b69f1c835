"""The pure rules engine: meeting, ballots and rules in, grades with their reasons out.

No I/O, no asyncio, no storage: a test checks that nothing here imports redis, starlette,
msgpack or the server.
"""

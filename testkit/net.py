"""Ports, JSON over HTTP, and waiting for a condition (bounded)."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(
    predicate: Callable[[], object], timeout: float = 15.0, interval: float = 0.05
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError("condition not met in time")


def http_json(url: str, body: Any = None, key: str | None = None) -> tuple[int, Any]:
    """GET (no body) or POST a JSON body; the status and the JSON answer."""
    return http_raw(url, json.dumps(body).encode() if body is not None else None, key)


def http_file(url: str, key: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """GET a file (a download): the status, the headers (names lower-cased) and the bytes,
    an error's body included. Signing files takes seconds: the timeout is generous."""
    request = urllib.request.Request(url)
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            headers = {name.lower(): value for name, value in response.headers.items()}
            return response.status, headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            headers = {name.lower(): value for name, value in error.headers.items()}
            return error.code, headers, error.read()


def http_raw(
    url: str,
    data: bytes | None,
    key: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> tuple[int, Any]:
    """GET (data None) or POST these exact bytes, even none; the status and the JSON answer."""
    request = urllib.request.Request(url, data=data, method="GET" if data is None else "POST")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:  # its response is open until read and closed
            return error.code, json.loads(error.read() or b"null")

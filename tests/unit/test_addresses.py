"""The addresses phones can reach (issue 18): which URLs open on this machine only, and the
LAN addresses `pingyi serve --host 0.0.0.0` offers, read from the machine's own interfaces."""

from __future__ import annotations

import ipaddress

import pytest

from cli.addresses import is_loopback, lan_addresses
from cli.serve_cmd import _reach

LOOPBACK = [
    "http://127.0.0.1:8000",
    "http://127.0.0.1",
    "https://127.1.2.3:8443/",
    "http://[::1]:8000",
    "http://localhost:8000",
    "http://LocalHost",
    "http://localhost.:8000",
    "http://pingyi.localhost:8000",
    "http://0.0.0.0:8000",  # no phone opens it either
    "127.0.0.1:8000",  # no scheme: still the host
]
REACHABLE = [
    "http://192.168.1.10:8000",
    "http://10.0.0.5",
    "https://pingyi.example.org",
    "http://[fe80::1]:8000",
    "http://[2001:db8::1]:8000",
    "http://localhost-server.lan:8000",  # a name that only starts like localhost
    "http://127.example.org",
]


@pytest.mark.parametrize("url", LOOPBACK)
def test_loopback_urls_are_named(url: str) -> None:
    assert is_loopback(url)


@pytest.mark.parametrize("url", REACHABLE)
def test_other_urls_are_not(url: str) -> None:
    assert not is_loopback(url)


def test_lan_addresses_are_never_loopback_or_link_local() -> None:
    found = lan_addresses()
    for name, address in found:
        ip = ipaddress.IPv4Address(address)
        assert name and not ip.is_loopback and not ip.is_link_local, (name, address)
        assert not is_loopback(f"http://{address}:8000")
    private = [ipaddress.IPv4Address(a).is_private for _, a in found]
    assert private == sorted(private, reverse=True)  # a private LAN address comes first


def test_every_address_uses_the_first_lan_address() -> None:
    reach = _reach("0.0.0.0", 8123, None)
    lan = [f"http://{address}:8123" for _, address in lan_addresses()]
    assert list(reach.lan) == lan
    if lan:
        assert reach.public == lan[0] and "--url" in reach.notes[0]
        assert all(any(url in note for note in reach.notes) for url in lan)
    else:
        assert reach.public == "http://127.0.0.1:8123" and "--url" in reach.notes[0]


def test_a_loopback_host_says_phones_cannot_reach_it() -> None:
    reach = _reach("127.0.0.1", 8000, None)
    assert reach.public == "http://127.0.0.1:8000" and reach.lan == ()
    assert "手机无法访问" in reach.notes[0] and "--host 0.0.0.0" in reach.notes[0]


def test_a_given_url_is_used_as_it_is() -> None:
    reach = _reach("0.0.0.0", 8000, "https://pingyi.example.org/")
    assert reach.public == "https://pingyi.example.org" and reach.notes == ()
    assert "仅本机可访问" in _reach("0.0.0.0", 8000, "http://localhost:8000").notes[-1]

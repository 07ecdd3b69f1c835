"""The addresses phones in the hall can reach: the machine's LAN IPv4 addresses, read from its
own interfaces (no external service: the hall may have no internet), and whether a URL only
this machine can open (a join card printed with one opens on no phone)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import psutil

# Interfaces that carry no traffic from the hall: containers' and VMs' bridges, tunnels.
VIRTUAL_PREFIXES = ("docker", "br-", "veth", "virbr", "vmnet", "vboxnet", "cni", "flannel", "ifb")


def lan_addresses() -> list[tuple[str, str]]:
    """(interface, IPv4 address) of each interface that is up and not loopback, link-local
    (169.254/16: no DHCP answered) or virtual; ordered so that a private LAN address comes
    first (the hall's Wi-Fi router hands those out)."""
    stats = psutil.net_if_stats()
    found = []
    for name, addresses in psutil.net_if_addrs().items():
        stat = stats.get(name)
        if stat is None or not stat.isup or name.startswith(VIRTUAL_PREFIXES):
            continue
        for address in addresses:
            if address.family != socket.AF_INET:
                continue
            ip = ipaddress.IPv4Address(address.address)
            if ip.is_loopback or ip.is_link_local or ip.is_unspecified:
                continue
            found.append((name, address.address))
    return sorted(found, key=lambda item: not ipaddress.IPv4Address(item[1]).is_private)


def is_loopback(url: str) -> bool:
    """True for a URL whose host is this machine only: 127.0.0.0/8, ::1, localhost (and its
    subdomains, which resolve to it), or 0.0.0.0, which no phone can open either."""
    host = (urlsplit(url if "//" in url else f"//{url}").hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name: whether phones resolve it is the network's business
    return ip.is_loopback or ip.is_unspecified

"""The client's address map: MAPADDRESS, virtual addresses and the rewriting of
stream targets (control-spec 3.8 MAPADDRESS, tor's ``feature/client/addressmap.c``).

A mapping rewrites one address to another, ``*.example.com`` patterns included (a
wildcard target keeps the matched prefix). Mappings a controller makes never expire;
MAPADDRESS from ``.``, ``0.0.0.0`` or ``::`` hands out a fresh virtual address (a
random ``.virtual`` hostname, or an address inside VirtualAddrNetworkIPv4/IPv6) that
maps to the target, reusing the one already handed out for that target. Rewriting
follows at most 16 mappings, as tor does.

Sans-I/O: randomness comes in as ``randbelow``. Not here: DNS caching of exit
answers (tor clients do not cache by default) and torrc ``MapAddress`` lines.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from zwiebel.encoding import ParseError

#: tor's VirtualAddrNetworkIPv4 and VirtualAddrNetworkIPv6 defaults.
DEFAULT_VIRTUAL_V4 = "127.192.0.0/10"
DEFAULT_VIRTUAL_V6 = "[FE80::]/10"
#: How many rewrites tor follows before it stops (addressmap_rewrite).
MAX_REWRITES = 16
#: Random tries for a free virtual address before giving up (tor: 1000).
VIRTUAL_TRIES = 1000
_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._")

RandBelow = Callable[[int], int]


class AddressMapError(ParseError):
    """A mapping tor would refuse; the message is tor's."""


@dataclass(frozen=True)
class Mapping:
    """One entry: ``source`` (without ``*.``) maps to ``target``."""

    source: str
    target: str
    src_wildcard: bool = False
    dst_wildcard: bool = False
    virtual: bool = False

    def line(self) -> str:
        """``from to NEVER`` as GETINFO address-mappings/* lists a never-expiring entry."""
        src = "*." if self.src_wildcard else ""
        dst = "*." if self.dst_wildcard else ""
        return f"{src}{self.source} {dst}{self.target} NEVER"


def is_invalid_destination(address: str) -> bool:
    """tor's address_is_invalid_destination for a client (AllowNonRFC953Hostnames 0)."""
    if _is_ip(address):
        return False
    return not all(ch in _HOST_CHARS for ch in address)


def is_invalid_map_target(address: str) -> bool:
    """address_is_invalid_mapaddress_target: ``*.`` may start the target."""
    return is_invalid_destination(address.removeprefix("*."))


class AddressMap:
    """The mappings, keyed by lower-case source address."""

    def __init__(self, virtual_v4: str = DEFAULT_VIRTUAL_V4,
                 virtual_v6: str = DEFAULT_VIRTUAL_V6) -> None:
        self._entries: dict[str, Mapping] = {}
        self._virtual: dict[tuple[str, str], str] = {}
        self.v4_net = ipaddress.IPv4Network(virtual_v4)
        self.v6_net = ipaddress.IPv6Network(virtual_v6.strip("[]").replace("]", ""))

    def register(self, source: str, target: str) -> Mapping | None:
        """MAPADDRESS source=target (addressmap_register_auto); None if it removed one."""
        if source == "*" or target == "*":
            raise AddressMapError("can't remap from or to *")
        src_wild, dst_wild = source.startswith("*."), target.startswith("*.")
        source, target = source.removeprefix("*."), target.removeprefix("*.")
        if dst_wild and not src_wild:
            raise AddressMapError("can only use wildcard (i.e. '*.') if 'from' address "
                                  "uses wildcard also")
        if is_invalid_destination(target):
            raise AddressMapError("destination is invalid")
        key = _normal(source)
        if key == target.lower() and src_wild == dst_wild:
            self._remove(key)
            return None
        self._remove(key)
        entry = Mapping(source, target, src_wild, dst_wild)
        self._entries[key] = entry
        return entry

    def register_virtual(self, kind: str, target: str, randbelow: RandBelow) -> str | None:
        """MAPADDRESS with ``.``, ``0.0.0.0`` or ``::``: a virtual address for ``target``
        (kind "hostname", "ipv4" or "ipv6"); None when none is free."""
        known = self._virtual.get((kind, target.lower()))
        entry = self._entries.get(known or "")
        if known is not None and entry is not None and entry.target.lower() == target.lower():
            return known
        for _ in range(VIRTUAL_TRIES):
            candidate = self._virtual_candidate(kind, randbelow)
            if candidate is not None and _normal(candidate) not in self._entries:
                self._entries[_normal(candidate)] = Mapping(candidate, target, virtual=True)
                self._virtual[(kind, target.lower())] = candidate
                return candidate
        return None

    def _virtual_candidate(self, kind: str, randbelow: RandBelow) -> str | None:
        if kind == "hostname":
            name = "".join(_BASE32[randbelow(32)] for _ in range(16))
            return f"{name}.virtual"
        net: ipaddress.IPv4Network | ipaddress.IPv6Network
        net = self.v4_net if kind == "ipv4" else self.v6_net
        address = net[randbelow(net.num_addresses)]
        if kind == "ipv4" and int(address) & 0xFF in (0, 0xFF):
            return None
        return f"[{address}]" if kind == "ipv6" else str(address)

    def _remove(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None and entry.virtual:
            self._virtual = {k: v for k, v in self._virtual.items() if v.lower() != key}

    def rewrite(self, address: str) -> str:
        """The address after following the mappings (addressmap_rewrite)."""
        for _ in range(MAX_REWRITES):
            found = self._lookup(address)
            if found is None:
                return address
            address = found
        return address

    def _lookup(self, address: str) -> str | None:
        key = _normal(address)
        entry = self._entries.get(key)
        if entry is not None:
            if entry.src_wildcard and not entry.dst_wildcard and key == entry.target.lower():
                return None
            return entry.target
        labels = key.split(".")
        for i in range(1, len(labels)):
            entry = self._entries.get(".".join(labels[i:]))
            if entry is not None and entry.src_wildcard:
                prefix = ".".join(address.split(".")[:i])
                return f"{prefix}.{entry.target}" if entry.dst_wildcard else entry.target
        return None

    def lines(self) -> list[str]:
        """Every mapping as GETINFO address-mappings/all (and /control) lists it."""
        return [entry.line() for entry in self._entries.values()]

    def clear(self) -> None:
        """Forget every mapping."""
        self._entries.clear()
        self._virtual.clear()


def _is_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address.strip("[]") if address.startswith("[") else address)
    except ValueError:
        return False
    return True


def _normal(address: str) -> str:
    """Lower case; IPv6 addresses compressed and in brackets, as virtual ones are kept."""
    key = address.lower()
    if ":" not in key:
        return key
    try:
        return f"[{ipaddress.IPv6Address(key.strip('[]'))}]"
    except ValueError:
        return key

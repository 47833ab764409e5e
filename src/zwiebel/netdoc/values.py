"""Argument types shared by directory documents (dir-spec 1.2, 2.1.1, 3.4.1).

Each function takes the item it reads (for error messages naming the line) and
returns a typed value or raises ParseError.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from zwiebel.encoding import unb16, unb64
from zwiebel.netdoc.tokenizer import Item

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_TIME = re.compile(r"\d{2}:\d{2}:\d{2}\Z")
_INT = re.compile(r"-?\d+\Z")
_UINT = re.compile(r"\d+\Z")
_NICK = re.compile(r"[A-Za-z0-9]{1,19}\Z")
_HEX40 = re.compile(r"[0-9A-Fa-f]{40}\Z")
_PROTO_NAME = re.compile(r"[A-Za-z0-9-]+\Z")
_B64 = re.compile(r"[A-Za-z0-9+/]+={0,2}\Z")
INT32 = (-(2**31), 2**31 - 1)


def arg(item: Item, index: int) -> str:
    """Argument `index` of an item (the rules guarantee enough were given)."""
    if index >= len(item.args):
        raise item.error(f"missing argument {index + 1}")
    return item.args[index]


def time_at(item: Item, index: int) -> datetime:
    """A "YYYY-MM-DD HH:MM:SS" time from two arguments, as an aware UTC datetime."""
    day, clock = arg(item, index), arg(item, index + 1)
    if not _DATE.match(day) or not _TIME.match(clock):
        raise item.error(f"bad time {day} {clock}")
    try:
        return datetime.strptime(f"{day} {clock}", "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError as exc:
        raise item.error(f"bad time {day} {clock}") from exc


def format_time(when: datetime) -> str:
    """The inverse of `time_at`."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def integer(item: Item, text: str, low: int, high: int) -> int:
    """A decimal integer in [low, high]."""
    if not (_UINT if low >= 0 else _INT).match(text) or len(text) > 20:
        raise item.error(f"bad integer {text[:24]!r}")
    value = int(text)
    if not low <= value <= high:
        raise item.error(f"{value} out of range {low}..{high}")
    return value


def port(item: Item, text: str) -> int:
    """A TCP port, 0 allowed (meaning "none" in router and dir-source lines)."""
    return integer(item, text, 0, 65535)


def ipv4(item: Item, text: str) -> str:
    """A dotted-quad IPv4 address."""
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError as exc:
        raise item.error(f"bad IPv4 address {text[:40]!r}") from exc


def addr_port(item: Item, text: str) -> tuple[str, int]:
    """ "1.2.3.4:5" or "[::1]:5" -> (address without brackets, port)."""
    host, sep, port_text = text.rpartition(":")
    if not sep:
        raise item.error(f"bad address:port {text[:60]!r}")
    if host.startswith("[") and host.endswith("]"):
        try:
            address = str(ipaddress.IPv6Address(host[1:-1]))
        except ValueError as exc:
            raise item.error(f"bad IPv6 address {host[:60]!r}") from exc
    else:
        address = ipv4(item, host)
    return address, port(item, port_text)


def nickname(item: Item, text: str) -> str:
    """A relay nickname: 1-19 alphanumeric characters (dir-spec 2.1.3)."""
    if not _NICK.match(text):
        raise item.error(f"bad nickname {text[:40]!r}")
    return text


def hex_digest(item: Item, text: str) -> bytes:
    """A 40-digit hex digest (fingerprints, signing key digests)."""
    if not _HEX40.match(text):
        raise item.error(f"bad hex digest {text[:60]!r}")
    return unb16(text)


def b64_fixed(item: Item, text: str, length: int) -> bytes:
    """Base64 (padding optional) that must decode to exactly `length` bytes."""
    if not _B64.match(text):
        raise item.error(f"bad base64 {text[:60]!r}")
    data = unb64(text)
    if len(data) != length:
        raise item.error(f"expected {length} bytes, got {len(data)}")
    return data


def _proto_range(item: Item, text: str) -> range:
    """One "N" or "N-M" element of a protocol version list (0..63, as tor's protover)."""
    low_text, dash, high_text = text.partition("-")
    low = integer(item, low_text, 0, 63)
    high = integer(item, high_text, 0, 63) if dash else low
    if high < low:
        raise item.error(f"bad protocol range {text!r}")
    return range(low, high + 1)


def protocols(item: Item, entries: Sequence[str]) -> Mapping[str, frozenset[int]]:
    """ "Link=1-5 Relay=2,4" -> {"Link": {1..5}, "Relay": {2, 4}} (dir-spec 2.1.1 "proto")."""
    out: dict[str, frozenset[int]] = {}
    for entry in entries:
        name, eq, versions = entry.partition("=")
        if not eq or not _PROTO_NAME.match(name) or name in out:
            raise item.error(f"bad protocol entry {entry[:60]!r}")
        numbers: set[int] = set()
        for part in versions.split(",") if versions else ():
            numbers.update(_proto_range(item, part))
        out[name] = frozenset(numbers)
    return out


def int_pairs(item: Item, entries: Sequence[str]) -> Mapping[str, int]:
    """ "k=v" arguments with 32-bit signed values ("params", "bandwidth-weights", "w")."""
    out: dict[str, int] = {}
    for entry in entries:
        key, eq, value = entry.partition("=")
        if not eq or not key:
            raise item.error(f"bad key=value {entry[:60]!r}")
        out[key] = integer(item, value, *INT32)
    return out

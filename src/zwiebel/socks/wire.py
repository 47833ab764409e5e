"""Client-to-server SOCKS messages as they appear on the wire.

Each `parse_*` function reads one message from the front of a buffer and returns it
with the number of bytes it used. It raises `Incomplete` when more bytes could still
make the message valid and `SocksParseError` when no continuation could. Fields are
checked in wire order, so a bad byte is reported as soon as it arrives, as tor's
trunnel parsers (src/trunnel/socks5.c) do.

Formats: SOCKS4 and SOCKS4a (socks4.protocol, socks4A.protocol), SOCKS5 method
selection and request (RFC 1928 sections 3-5), username/password (RFC 1929).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

from zwiebel.socks.constants import Command, SocksParseError


class Incomplete(Exception):
    """The buffer holds a valid prefix of a message; wait for more bytes."""


class _Cursor:
    """Forward reader over a buffer that distinguishes "short" from "wrong"."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self._data):
            raise Incomplete
        out = self._data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "big")

    def u32(self) -> int:
        return int.from_bytes(self.take(4), "big")

    def nul_terminated(self) -> bytes:
        end = self._data.find(b"\x00", self.pos)
        if end < 0:
            raise Incomplete
        out = self._data[self.pos : end]
        self.pos = end + 1
        return out


@dataclass(frozen=True)
class Socks4Request:
    """SOCKS4 or SOCKS4a request; `hostname` is set only for SOCKS4a (IP 0.0.0.x)."""

    command: int
    port: int
    ip: int
    userid: bytes
    hostname: bytes | None


@dataclass(frozen=True)
class MethodOffer:
    """SOCKS5 version identifier/method selection message."""

    methods: bytes


@dataclass(frozen=True)
class UserPassAuth:
    """RFC 1929 username/password sub-negotiation request."""

    username: bytes
    password: bytes


@dataclass(frozen=True)
class Socks5Request:
    """SOCKS5 request; `address` is 4 or 16 raw bytes, or the domain name bytes."""

    command: int
    atyp: int
    address: bytes
    port: int


_SOCKS4_COMMANDS = {Command.CONNECT, Command.BIND, Command.RESOLVE, Command.RESOLVE_PTR}
_SOCKS5_COMMANDS = _SOCKS4_COMMANDS | {Command.UDP_ASSOCIATE}
ATYP_IPV4 = 0x01
ATYP_DOMAINNAME = 0x03
ATYP_IPV6 = 0x04


def parse_socks4(data: bytes) -> tuple[Socks4Request, int]:
    """Parse a SOCKS4/4a request; the hostname follows the userid only for 0.0.0.x."""
    cur = _Cursor(data)
    if cur.u8() != 4 or cur.u8() not in _SOCKS4_COMMANDS:
        raise SocksParseError("socks4: parsing failed - invalid request.")
    command = data[1]
    port = cur.u16()
    ip = cur.u32()
    userid = cur.nul_terminated()
    hostname = cur.nul_terminated() if 1 <= ip <= 255 else None
    return Socks4Request(command, port, ip, userid, hostname), cur.pos


def parse_method_offer(data: bytes) -> tuple[MethodOffer, int]:
    """Parse VER=5, NMETHODS, METHODS."""
    cur = _Cursor(data)
    if cur.u8() != 5:
        raise SocksParseError(
            "socks5: parsing failed - invalid version id/method selection message."
        )
    methods = cur.take(cur.u8())
    return MethodOffer(methods), cur.pos


def parse_userpass(data: bytes) -> tuple[UserPassAuth, int]:
    """Parse VER=1, ULEN, UNAME, PLEN, PASSWD (RFC 1929 section 2)."""
    cur = _Cursor(data)
    if cur.u8() != 1:
        raise SocksParseError("socks5: parsing failed - invalid user/pass authentication message.")
    username = cur.take(cur.u8())
    password = cur.take(cur.u8())
    return UserPassAuth(username, password), cur.pos


def parse_socks5_request(data: bytes) -> tuple[Socks5Request, int]:
    """Parse VER=5, CMD, RSV=0, ATYP, DST.ADDR, DST.PORT (RFC 1928 section 4)."""
    cur = _Cursor(data)
    if cur.u8() != 5 or cur.u8() not in _SOCKS5_COMMANDS or cur.u8() != 0:
        raise SocksParseError("socks5: parsing failed - invalid client request")
    atyp = cur.u8()
    if atyp == ATYP_IPV4:
        address = cur.take(4)
    elif atyp == ATYP_IPV6:
        address = cur.take(16)
    elif atyp == ATYP_DOMAINNAME:
        address = cur.take(cur.u8())
    else:
        raise SocksParseError("socks5: parsing failed - invalid client request")
    port = cur.u16()
    return Socks5Request(data[1], atyp, address, port), cur.pos


_IPV4_RE = re.compile(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})", re.ASCII)
_LABEL_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*", re.ASCII)


def parse_ipv4(text: str) -> IPv4Address | None:
    """tor_inet_aton: four decimal octets, no leading zeros, nothing after."""
    m = _IPV4_RE.fullmatch(text)
    if m is None:
        return None
    octets = m.groups()
    if any(len(o) > 1 and o[0] == "0" for o in octets) or any(int(o) > 255 for o in octets):
        return None
    return IPv4Address(".".join(octets))


def parse_ipv6(text: str) -> IPv6Address | None:
    """tor_inet_pton(AF_INET6) approximated by `ipaddress`, without zone ids."""
    if "%" in text or not text or not all(c in "0123456789abcdefABCDEF:." for c in text):
        return None
    try:
        return IPv6Address(text)
    except ValueError:
        return None


def parse_ip(text: str) -> IPv4Address | IPv6Address | None:
    """tor_addr_parse: an IPv4 address, an IPv6 address, or a bracketed IPv6 address."""
    if len(text) >= 2 and text[0] == "[" and text[-1] == "]":
        return parse_ipv6(text[1:-1])
    return parse_ipv4(text) or parse_ipv6(text)


def is_valid_hostname(text: str) -> bool:
    """string_is_valid_nonrfc_hostname: labels of [A-Za-z0-9_-], not led by - or _."""
    if not text or parse_ipv4(text) is not None:
        return False
    labels = text.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()
    return all(_LABEL_RE.fullmatch(label) for label in labels)


def is_valid_dest(text: str) -> bool:
    """string_is_valid_dest: an IP address (optionally bracketed) or a hostname."""
    if not text:
        return False
    if text[0] == "[" and text[-1] == "]":
        text = text[1:-1]
    return parse_ipv4(text) is not None or parse_ipv6(text) is not None or is_valid_hostname(text)

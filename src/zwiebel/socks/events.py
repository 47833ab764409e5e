"""Events `SocksServerConnection.receive_data` returns (h11 style)."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

from zwiebel.socks.constants import Command


@dataclass(frozen=True)
class NeedMoreData:
    """The buffered bytes are a valid prefix; nothing more can happen until more arrive."""


@dataclass(frozen=True)
class NoAuth:
    """No credentials: SOCKS5 method 0, or SOCKS4 with an empty userid."""


@dataclass(frozen=True)
class Socks4UserId:
    """The SOCKS4/4a USERID field (non-empty); tor uses it for stream isolation."""

    userid: bytes


@dataclass(frozen=True)
class UsernamePassword:
    """RFC 1929 credentials (either may be empty); tor uses them for stream isolation."""

    username: bytes
    password: bytes


Auth = NoAuth | Socks4UserId | UsernamePassword
"""The credentials a request came with."""

Target = str | IPv4Address | IPv6Address
"""A hostname, or an address the client gave in binary form."""


@dataclass(frozen=True)
class Request:
    """A complete, accepted SOCKS request: the caller must now answer it.

    `address` is an `IPv4Address`/`IPv6Address` when the client sent an address
    (SOCKS4, SOCKS5 ATYP 1/4) and for every RESOLVE_PTR; otherwise the hostname.
    `warnings` and `notices` are tor's log lines for this request (SafeSocks and
    TestSocks texts), `client_status` the STATUS_CLIENT event bodies tor would send.
    `unsafe` is true when the client gave only an IP address for CONNECT/RESOLVE,
    i.e. when SafeSocks would have refused the request.
    """

    version: int
    command: Command
    address: Target
    port: int
    auth: Auth
    socks4a: bool = False
    warnings: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()
    client_status: tuple[str, ...] = ()
    unsafe: bool = False


@dataclass(frozen=True)
class SocksError:
    """The handshake failed; `reply` (possibly empty) was queued and the connection closed.

    `message` is tor's log line for the failure.
    """

    message: str
    reply: bytes
    warnings: tuple[str, ...] = ()
    client_status: tuple[str, ...] = ()


@dataclass(frozen=True)
class StreamData:
    """Application bytes the client sent after its request (optimistic data)."""

    data: bytes


Event = NeedMoreData | Request | SocksError | StreamData
"""Anything `receive_data` returns."""

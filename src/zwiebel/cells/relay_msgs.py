"""Stream relay messages: BEGIN, BEGIN_DIR, DATA, END, CONNECTED, RESOLVE, RESOLVED.

Implements the message bodies of tor-spec 6.2 (BEGIN, CONNECTED, DATA), 6.2.1 (BEGIN_DIR),
6.3 (END and its reasons) and 6.4 (RESOLVE, RESOLVED). Each message is a frozen dataclass
with `encode_body()` and `decode_body(data)`; the body is the relay cell's Data field.

Parsing follows tor 0.4.9 where the spec leaves room (`connection_edge.c`, `relay.c`):
BEGIN flags are optional and omitted when zero; an empty END means REASON_MISC; CONNECTED
may be empty (BEGIN_DIR), an IPv4 address with optional TTL, or the zero-prefixed IPv6 form;
RESOLVED answers of unknown type are kept. Hostnames must be ASCII (LDH names, dotted quads
or bracketed IPv6), anything else is a ParseError. Lower-casing a BEGIN address ("SHOULD be
sent in lower case") is the caller's choice, not done here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, IntFlag
from ipaddress import IPv4Address, IPv6Address
from typing import ClassVar

from zwiebel.cells.circuit import enum_or_int
from zwiebel.cells.relay import RELAY_DATA_MAX, RelayCommand
from zwiebel.encoding import ParseError, Reader, Writer

IPAddress = IPv4Address | IPv6Address


def ascii_text(raw: bytes, what: str) -> str:
    """Decode ASCII or raise ParseError."""
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError as exc:
        raise ParseError(f"{what} is not ASCII") from exc


def _check_u32(value: int | None) -> None:
    if value is not None and not 0 <= value <= 0xFFFFFFFF:
        raise ValueError("TTL out of range")


class BeginFlags(IntFlag):
    """BEGIN flags (tor-spec 6.2); bit 1 is the least significant."""

    #: We support learning about and connecting to IPv6 addresses.
    IPV6_OK = 1
    #: We don't want to learn about or connect to IPv4 addresses.
    IPV4_NOT_OK = 2
    #: If there are both IPv4 and IPv6 addresses, connect to the IPv6 one.
    IPV6_PREFERRED = 4


@dataclass(frozen=True)
class Begin:
    """RELAY_BEGIN: ADDRPORT "address:port" NUL, then FLAGS [4] when nonzero.

    `address` is a hostname, a dotted quad, or an IPv6 address *without* the brackets
    (they are added and stripped here).
    """

    command: ClassVar[RelayCommand] = RelayCommand.BEGIN
    address: str
    port: int
    flags: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 0xFFFF or not 0 <= self.flags <= 0xFFFFFFFF:
            raise ValueError("port or flags out of range")
        if "\0" in self.address or not self.address.isascii():
            raise ValueError("address must be ASCII without NUL")

    def encode_body(self) -> bytes:
        """ADDRPORT NUL [FLAGS]."""
        host = f"[{self.address}]" if ":" in self.address else self.address
        w = Writer().raw(f"{host}:{self.port}".encode("ascii")).u8(0)
        if self.flags:
            w.u32(self.flags)
        return w.getvalue()

    @classmethod
    def decode_body(cls, data: bytes) -> Begin:
        """Parse; a missing or trailing-short FLAGS field means no flags."""
        nul = data.find(b"\0")
        if nul < 0:
            raise ParseError("BEGIN has no NUL")
        host, port = _split_addrport(ascii_text(data[:nul], "BEGIN address"))
        rest = data[nul + 1 :]
        flags = int.from_bytes(rest[:4], "big") if len(rest) >= 4 else 0
        return cls(host, port, flags)


def _split_addrport(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) <= 0xFFFF:
        raise ParseError("BEGIN needs address:port with a port in 1..65535")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        raise ParseError("BEGIN address is empty")
    return host, int(port)


@dataclass(frozen=True)
class BeginDir:
    """RELAY_BEGIN_DIR: empty body ("relays MUST ignore the payload")."""

    command: ClassVar[RelayCommand] = RelayCommand.BEGIN_DIR

    def encode_body(self) -> bytes:
        """Always empty."""
        return b""

    @classmethod
    def decode_body(cls, data: bytes) -> BeginDir:
        """Any body is accepted and ignored."""
        return cls()


@dataclass(frozen=True)
class Data:
    """RELAY_DATA: up to 498 bytes of stream data."""

    command: ClassVar[RelayCommand] = RelayCommand.DATA
    data: bytes

    def __post_init__(self) -> None:
        if len(self.data) > RELAY_DATA_MAX:
            raise ValueError("too much data for one relay cell")

    def encode_body(self) -> bytes:
        """The data itself."""
        return self.data

    @classmethod
    def decode_body(cls, data: bytes) -> Data:
        """The data itself."""
        return cls(data)


class EndReason(IntEnum):
    """RELAY_END reasons (tor-spec 6.3)."""

    #: Catch-all for unlisted reasons (the only one a client sends).
    MISC = 1
    #: Couldn't look up hostname.
    RESOLVEFAILED = 2
    #: Remote host refused connection.
    CONNECTREFUSED = 3
    #: OR refuses to connect to host or port (carries address and TTL).
    EXITPOLICY = 4
    #: Circuit is being destroyed.
    DESTROY = 5
    #: Anonymized TCP connection was closed.
    DONE = 6
    #: Connection timed out, or OR timed out while connecting.
    TIMEOUT = 7
    #: Routing error while attempting to contact destination.
    NOROUTE = 8
    #: OR is temporarily hibernating.
    HIBERNATING = 9
    #: Internal error at the OR.
    INTERNAL = 10
    #: OR has no resources to fulfill request.
    RESOURCELIMIT = 11
    #: Connection was unexpectedly reset.
    CONNRESET = 12
    #: Closing because of Tor protocol violations.
    TORPROTOCOL = 13
    #: Client sent RELAY_BEGIN_DIR to a non-directory relay.
    NOTDIRECTORY = 14


@dataclass(frozen=True)
class End:
    """RELAY_END: reason [1]; for EXITPOLICY also address [4 or 16] and TTL [4].

    `ttl` None means absent ("treated as if it were 0xffffffff"); `address` None means absent
    or of a wrong length ("the RELAY_END message should be processed anyway").
    """

    command: ClassVar[RelayCommand] = RelayCommand.END
    reason: EndReason | int = EndReason.MISC
    address: IPAddress | None = None
    ttl: int | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.reason <= 0xFF:
            raise ValueError("reason must fit one octet")
        _check_u32(self.ttl)
        if self.address is None and self.ttl is not None:
            raise ValueError("a TTL needs an address")
        if self.address is not None and self.reason != EndReason.EXITPOLICY:
            raise ValueError("only EXITPOLICY carries an address")

    def encode_body(self) -> bytes:
        """Reason, then address and TTL when present."""
        w = Writer().u8(self.reason)
        if self.address is not None:
            w.raw(self.address.packed)
        if self.ttl is not None:
            w.u32(self.ttl)
        return w.getvalue()

    @classmethod
    def decode_body(cls, data: bytes) -> End:
        """Parse; an empty body is REASON_MISC."""
        if not data:
            return cls()
        reason = enum_or_int(EndReason, data[0])
        if reason != EndReason.EXITPOLICY:
            return cls(reason)
        rest = data[1:]
        for size, kind in ((4, IPv4Address), (16, IPv6Address)):
            if len(rest) in (size, size + 4):
                ttl = int.from_bytes(rest[size:], "big") if len(rest) > size else None
                return cls(reason, kind(rest[:size]), ttl)
        return cls(reason)


@dataclass(frozen=True)
class Connected:
    """RELAY_CONNECTED: empty, or IPv4 [4] + TTL [4], or 0 [4] + 6 [1] + IPv6 [16] + TTL [4].

    A TTL of None (IPv4 form only) means the exit sent just the address.
    """

    command: ClassVar[RelayCommand] = RelayCommand.CONNECTED
    address: IPAddress | None = None
    ttl: int | None = None

    def __post_init__(self) -> None:
        _check_u32(self.ttl)
        if self.address is None and self.ttl is not None:
            raise ValueError("a TTL needs an address")
        if isinstance(self.address, IPv6Address) and self.ttl is None:
            raise ValueError("the IPv6 form always carries a TTL")
        if self.address == IPv4Address(0):
            raise ValueError("0.0.0.0 cannot be encoded: it marks the IPv6 form")

    def encode_body(self) -> bytes:
        """One of the three forms."""
        w = Writer()
        if isinstance(self.address, IPv6Address):
            w.u32(0).u8(6)
        if self.address is not None:
            w.raw(self.address.packed)
        if self.ttl is not None:
            w.u32(self.ttl)
        return w.getvalue()

    @classmethod
    def decode_body(cls, data: bytes) -> Connected:
        """Parse as tor's `connected_cell_parse` does; extra trailing bytes are ignored."""
        if not data:
            return cls()
        r = Reader(data)
        first = r.take(4)
        if first != bytes(4):
            ttl = r.u32() if r.remaining >= 4 else None
            return cls(IPv4Address(first), ttl)
        if r.u8() != 6:
            raise ParseError("CONNECTED: unknown address type")
        address = IPv6Address(r.take(16))
        return cls(address, r.u32())


@dataclass(frozen=True)
class Resolve:
    """RELAY_RESOLVE: a hostname (or in-addr.arpa name), NUL-terminated."""

    command: ClassVar[RelayCommand] = RelayCommand.RESOLVE
    hostname: str

    def __post_init__(self) -> None:
        if "\0" in self.hostname or not self.hostname.isascii():
            raise ValueError("hostname must be ASCII without NUL")

    def encode_body(self) -> bytes:
        """Hostname NUL."""
        return self.hostname.encode("ascii") + b"\0"

    @classmethod
    def decode_body(cls, data: bytes) -> Resolve:
        """Up to the first NUL (or the whole body when there is none)."""
        return cls(ascii_text(data.split(b"\0", 1)[0], "RESOLVE hostname"))


class ResolvedType(IntEnum):
    """Answer types in RELAY_RESOLVED (tor-spec 6.4)."""

    #: A hostname, in DNS order, not NUL-terminated.
    HOSTNAME = 0x00
    #: An IPv4 address.
    IPV4 = 0x04
    #: An IPv6 address.
    IPV6 = 0x06
    #: Error, transient.
    ERROR_TRANSIENT = 0xF0
    #: Error, nontransient.
    ERROR = 0xF1


_ANSWER_LEN: dict[int, int] = {ResolvedType.IPV4: 4, ResolvedType.IPV6: 16}


@dataclass(frozen=True)
class ResolvedAnswer:
    """One answer: TYPE [1], LENGTH [1], VALUE [LENGTH], TTL [4].

    Use the constructors `of_address`, `of_hostname`, `of_error`; `value` holds the raw bytes.
    """

    type: ResolvedType | int
    value: bytes
    ttl: int

    def __post_init__(self) -> None:
        _check_u32(self.ttl)
        if not 0 <= self.type <= 0xFF or len(self.value) > 0xFF:
            raise ValueError("answer type or value out of range")
        expected = _ANSWER_LEN.get(self.type)
        if expected is not None and len(self.value) != expected:
            raise ValueError("address answer of the wrong length")
        if self.type == ResolvedType.HOSTNAME and not self.value:
            raise ValueError("empty hostname answer")

    @classmethod
    def of_address(cls, address: IPAddress, ttl: int) -> ResolvedAnswer:
        """An IPv4 or IPv6 answer."""
        kind = ResolvedType.IPV4 if address.version == 4 else ResolvedType.IPV6
        return cls(kind, address.packed, ttl)

    @classmethod
    def of_hostname(cls, hostname: str, ttl: int) -> ResolvedAnswer:
        """A hostname answer (reverse lookups)."""
        return cls(ResolvedType.HOSTNAME, hostname.encode("ascii"), ttl)

    @classmethod
    def of_error(cls, transient: bool, ttl: int = 0) -> ResolvedAnswer:
        """An error answer with the text tor sends."""
        kind = ResolvedType.ERROR_TRANSIENT if transient else ResolvedType.ERROR
        return cls(kind, b"Error resolving hostname", ttl)

    @property
    def address(self) -> IPAddress | None:
        """The address of an IPv4/IPv6 answer."""
        if self.type == ResolvedType.IPV4:
            return IPv4Address(self.value)
        if self.type == ResolvedType.IPV6:
            return IPv6Address(self.value)
        return None

    @property
    def hostname(self) -> str | None:
        """The name in a hostname answer (non-ASCII bytes replaced)."""
        if self.type == ResolvedType.HOSTNAME:
            return self.value.decode("ascii", "replace")
        return None

    @property
    def is_error(self) -> bool:
        """True for the two error types."""
        return self.type in (ResolvedType.ERROR, ResolvedType.ERROR_TRANSIENT)


@dataclass(frozen=True)
class Resolved:
    """RELAY_RESOLVED: any number of answers."""

    command: ClassVar[RelayCommand] = RelayCommand.RESOLVED
    answers: tuple[ResolvedAnswer, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "answers", tuple(self.answers))

    def encode_body(self) -> bytes:
        """The answers, back to back."""
        w = Writer()
        for a in self.answers:
            w.u8(a.type).nested_u8(a.value).u32(a.ttl)
        return w.getvalue()

    @classmethod
    def decode_body(cls, data: bytes) -> Resolved:
        """Parse every answer; malformed address or hostname answers are a ParseError."""
        r = Reader(data)
        answers = []
        while r.remaining:
            kind = enum_or_int(ResolvedType, r.u8())
            value = r.nested_u8().rest()
            ttl = r.u32()
            try:
                answers.append(ResolvedAnswer(kind, value, ttl))
            except ValueError as exc:
                raise ParseError(f"RESOLVED: {exc}") from exc
        return cls(tuple(answers))

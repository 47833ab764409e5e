"""Circuit-control relay messages: SENDME, EXTEND2, EXTENDED2, TRUNCATE, TRUNCATED, DROP.

Implements the message bodies of tor-spec 7.3.1 (SENDME, with proposal 289's authenticated
version 1), 5.1.2 (EXTEND2/EXTENDED2) and 5.4 (TRUNCATE/TRUNCATED), plus DROP (7.2).

Design notes: like tor's trunnel parsers, EXTEND2 and EXTENDED2 ignore bytes after the
handshake data, and a SENDME body's bytes after DATA are ignored. What a SENDME version
means (which versions are acceptable, whether the digest matches) is flow control's business
(`zwiebel.proto.sendme`); here a SENDME is just (version, data).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from zwiebel.cells.circuit import Create2, Created2, DestroyReason, HandshakeType, enum_or_int
from zwiebel.cells.linkspec import LinkSpecifier, encode_link_specifiers, read_link_specifiers
from zwiebel.cells.relay import RELAY_DATA_MAX, RelayCommand
from zwiebel.encoding import ParseError, Reader, Writer

#: Length of an authenticated SENDME digest with tor1 relay crypto (SHA-1).
SENDME_DIGEST_LEN = 20


@dataclass(frozen=True)
class Sendme:
    """RELAY_SENDME: empty (version 0), or VERSION [1], DATA_LEN [2], DATA [DATA_LEN].

    Version 1 DATA is the 20-byte digest of the cell that triggered it; `Sendme.v1(digest)`
    builds one. Version 0 with no data encodes as an empty body, as tor sends it.
    """

    command: ClassVar[RelayCommand] = RelayCommand.SENDME
    version: int = 0
    data: bytes = b""

    def __post_init__(self) -> None:
        if not 0 <= self.version <= 0xFF or len(self.data) > RELAY_DATA_MAX - 3:
            raise ValueError("SENDME version or data out of range")

    @classmethod
    def v1(cls, digest: bytes) -> Sendme:
        """An authenticated SENDME carrying `digest`."""
        return cls(1, digest)

    @property
    def digest(self) -> bytes | None:
        """The version-1 digest, or None when this is not a well-formed version 1 SENDME."""
        if self.version == 1 and len(self.data) == SENDME_DIGEST_LEN:
            return self.data
        return None

    def encode_body(self) -> bytes:
        """Empty for a bare version 0, else the versioned form."""
        if self.version == 0 and not self.data:
            return b""
        return Writer().u8(self.version).nested_u16(self.data).getvalue()

    @classmethod
    def decode_body(cls, data: bytes) -> Sendme:
        """An empty body is version 0."""
        if not data:
            return cls()
        r = Reader(data)
        version = r.u8()
        return cls(version, r.nested_u16().rest())


@dataclass(frozen=True)
class Extend2:
    """RELAY_EXTEND2: NSPEC, link specifiers, then a CREATE2 body (HTYPE, HLEN, HDATA)."""

    command: ClassVar[RelayCommand] = RelayCommand.EXTEND2
    link_specifiers: tuple[LinkSpecifier, ...]
    htype: HandshakeType | int
    hdata: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "link_specifiers", tuple(self.link_specifiers))

    def encode_body(self) -> bytes:
        """NSPEC | specifiers | HTYPE | HLEN | HDATA; must fit one relay cell."""
        body = encode_link_specifiers(self.link_specifiers) + self.create2().body()
        if len(body) > RELAY_DATA_MAX:
            raise ValueError("EXTEND2 does not fit in one relay cell")
        return body

    def create2(self) -> Create2:
        """The CREATE2 cell the extending relay sends onward."""
        return Create2(self.htype, self.hdata)

    @classmethod
    def decode_body(cls, data: bytes) -> Extend2:
        """Parse; unknown link specifiers are kept."""
        r = Reader(data)
        specs = read_link_specifiers(r)
        create = Create2.read(r)
        return cls(specs, create.htype, create.hdata)


@dataclass(frozen=True)
class Extended2:
    """RELAY_EXTENDED2: the CREATED2 body, HLEN [2] and HDATA [HLEN]."""

    command: ClassVar[RelayCommand] = RelayCommand.EXTENDED2
    hdata: bytes

    def __post_init__(self) -> None:
        if len(self.hdata) > RELAY_DATA_MAX - 2:
            raise ValueError("handshake reply too long for EXTENDED2")

    def encode_body(self) -> bytes:
        """HLEN | HDATA."""
        return Created2(self.hdata).body()

    @classmethod
    def decode_body(cls, data: bytes) -> Extended2:
        """Parse; trailing bytes are ignored."""
        return cls(Created2.read(Reader(data)).hdata)


@dataclass(frozen=True)
class Truncate:
    """RELAY_TRUNCATE: empty body (contents are ignored)."""

    command: ClassVar[RelayCommand] = RelayCommand.TRUNCATE

    def encode_body(self) -> bytes:
        """Always empty."""
        return b""

    @classmethod
    def decode_body(cls, data: bytes) -> Truncate:
        """Any body is accepted and ignored."""
        return cls()


@dataclass(frozen=True)
class Truncated:
    """RELAY_TRUNCATED: one reason octet, from the DESTROY reasons (tor-spec 5.4)."""

    command: ClassVar[RelayCommand] = RelayCommand.TRUNCATED
    reason: DestroyReason | int = DestroyReason.NONE

    def __post_init__(self) -> None:
        if not 0 <= self.reason <= 0xFF:
            raise ValueError("reason must fit one octet")

    def encode_body(self) -> bytes:
        """The reason octet."""
        return bytes([self.reason])

    @classmethod
    def decode_body(cls, data: bytes) -> Truncated:
        """The first octet is the reason."""
        if not data:
            raise ParseError("TRUNCATED without a reason")
        return cls(enum_or_int(DestroyReason, data[0]))


@dataclass(frozen=True)
class Drop:
    """RELAY_DROP: a long-range dummy; its body is kept but means nothing."""

    command: ClassVar[RelayCommand] = RelayCommand.DROP
    data: bytes = b""

    def __post_init__(self) -> None:
        if len(self.data) > RELAY_DATA_MAX:
            raise ValueError("too much data for one relay cell")

    def encode_body(self) -> bytes:
        """The body as given."""
        return self.data

    @classmethod
    def decode_body(cls, data: bytes) -> Drop:
        """The body as received."""
        return cls(data)

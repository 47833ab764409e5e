"""Link specifiers: how EXTEND2 names the next relay (tor-spec 5.1.2).

Each specifier is LSTYPE [1], LSLEN [1], LSPEC [LSLEN]. Known types are parsed into typed
values and must have their exact length (as tor's trunnel parser demands); unknown types are
kept as `LinkSpecUnrecognized` ("Nodes MUST ignore unrecognized specifiers"), so a relay can
pass them on and a re-encoding gives the same bytes.

Not here: the semantic rules for EXTEND2 (exactly one RSA identity, at least one address,
"current OR implementations only consider the first of each type"); those belong to the relay's
extend handling, which can use `check_unique_identities`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from ipaddress import IPv4Address, IPv6Address
from typing import ClassVar

from zwiebel.encoding import ParseError, Reader, Writer


class LinkSpecType(IntEnum):
    """LSTYPE values (tor-spec 5.1.2)."""

    #: TLS-over-TCP, IPv4 address and ORPort.
    IPV4 = 0x00
    #: TLS-over-TCP, IPv6 address and ORPort.
    IPV6 = 0x01
    #: Legacy identity: SHA-1 of the RSA identity key (20 bytes).
    LEGACY_ID = 0x02
    #: Ed25519 identity key (32 bytes).
    ED25519_ID = 0x03


def _check_port(port: int) -> None:
    if not 0 <= port <= 0xFFFF:
        raise ValueError("port out of range")


@dataclass(frozen=True)
class LinkSpecIPv4:
    """[00] an IPv4 address and ORPort."""

    lstype: ClassVar[int] = LinkSpecType.IPV4
    address: IPv4Address
    port: int

    def __post_init__(self) -> None:
        _check_port(self.port)

    def body(self) -> bytes:
        """LSPEC bytes."""
        return self.address.packed + self.port.to_bytes(2, "big")

    @classmethod
    def from_body(cls, body: bytes) -> LinkSpecIPv4:
        """Parse LSPEC bytes."""
        if len(body) != 6:
            raise ParseError("IPv4 link specifier must be 6 bytes")
        return cls(IPv4Address(body[:4]), int.from_bytes(body[4:], "big"))


@dataclass(frozen=True)
class LinkSpecIPv6:
    """[01] an IPv6 address and ORPort."""

    lstype: ClassVar[int] = LinkSpecType.IPV6
    address: IPv6Address
    port: int

    def __post_init__(self) -> None:
        _check_port(self.port)

    def body(self) -> bytes:
        """LSPEC bytes."""
        return self.address.packed + self.port.to_bytes(2, "big")

    @classmethod
    def from_body(cls, body: bytes) -> LinkSpecIPv6:
        """Parse LSPEC bytes."""
        if len(body) != 18:
            raise ParseError("IPv6 link specifier must be 18 bytes")
        return cls(IPv6Address(body[:16]), int.from_bytes(body[16:], "big"))


@dataclass(frozen=True)
class LinkSpecLegacyId:
    """[02] the SHA-1 digest of the relay's RSA identity key."""

    lstype: ClassVar[int] = LinkSpecType.LEGACY_ID
    fingerprint: bytes

    def __post_init__(self) -> None:
        if len(self.fingerprint) != 20:
            raise ValueError("legacy identity must be 20 bytes")

    def body(self) -> bytes:
        """LSPEC bytes."""
        return self.fingerprint

    @classmethod
    def from_body(cls, body: bytes) -> LinkSpecLegacyId:
        """Parse LSPEC bytes."""
        if len(body) != 20:
            raise ParseError("legacy identity link specifier must be 20 bytes")
        return cls(body)


@dataclass(frozen=True)
class LinkSpecEd25519Id:
    """[03] the relay's Ed25519 identity key."""

    lstype: ClassVar[int] = LinkSpecType.ED25519_ID
    key: bytes

    def __post_init__(self) -> None:
        if len(self.key) != 32:
            raise ValueError("Ed25519 identity must be 32 bytes")

    def body(self) -> bytes:
        """LSPEC bytes."""
        return self.key

    @classmethod
    def from_body(cls, body: bytes) -> LinkSpecEd25519Id:
        """Parse LSPEC bytes."""
        if len(body) != 32:
            raise ParseError("Ed25519 identity link specifier must be 32 bytes")
        return cls(body)


@dataclass(frozen=True)
class LinkSpecUnrecognized:
    """A specifier of a type we do not know, kept verbatim."""

    lstype: int
    data: bytes

    def __post_init__(self) -> None:
        if self.lstype in _KNOWN or not 0 <= self.lstype <= 0xFF:
            raise ValueError("not an unrecognized link specifier type")
        if len(self.data) > 0xFF:
            raise ValueError("link specifier too long")

    def body(self) -> bytes:
        """LSPEC bytes."""
        return self.data


LinkSpecifier = (
    LinkSpecIPv4 | LinkSpecIPv6 | LinkSpecLegacyId | LinkSpecEd25519Id | LinkSpecUnrecognized
)

_KNOWN: dict[int, type[LinkSpecIPv4 | LinkSpecIPv6 | LinkSpecLegacyId | LinkSpecEd25519Id]] = {
    LinkSpecType.IPV4: LinkSpecIPv4,
    LinkSpecType.IPV6: LinkSpecIPv6,
    LinkSpecType.LEGACY_ID: LinkSpecLegacyId,
    LinkSpecType.ED25519_ID: LinkSpecEd25519Id,
}

#: "implementations SHOULD send these link specifiers ... in this order: [00], [02], [03], [01]"
_SEND_ORDER = {0x00: 0, 0x02: 1, 0x03: 2, 0x01: 3}


def encode_link_specifier(spec: LinkSpecifier) -> bytes:
    """LSTYPE | LSLEN | LSPEC."""
    return Writer().u8(spec.lstype).nested_u8(spec.body()).getvalue()


def read_link_specifier(r: Reader) -> LinkSpecifier:
    """Read one specifier from `r`."""
    lstype = r.u8()
    body = r.nested_u8().rest()
    known = _KNOWN.get(lstype)
    if known is None:
        return LinkSpecUnrecognized(lstype, body)
    return known.from_body(body)


def encode_link_specifiers(specs: Sequence[LinkSpecifier]) -> bytes:
    """NSPEC followed by each specifier, in the order given."""
    if len(specs) > 0xFF:
        raise ValueError("too many link specifiers")
    w = Writer().u8(len(specs))
    for spec in specs:
        w.raw(encode_link_specifier(spec))
    return w.getvalue()


def read_link_specifiers(r: Reader) -> tuple[LinkSpecifier, ...]:
    """Read NSPEC and that many specifiers from `r`."""
    return tuple(read_link_specifier(r) for _ in range(r.u8()))


def canonical_order(specs: Iterable[LinkSpecifier]) -> tuple[LinkSpecifier, ...]:
    """Sort into the recommended sending order [00], [02], [03], [01], unknown types last."""
    return tuple(sorted(specs, key=lambda s: _SEND_ORDER.get(s.lstype, 4)))


def check_unique_identities(specs: Iterable[LinkSpecifier]) -> None:
    """Raise ParseError if the legacy or the Ed25519 identity appears more than once."""
    seen: set[int] = set()
    for spec in specs:
        if isinstance(spec, LinkSpecLegacyId | LinkSpecEd25519Id):
            if spec.lstype in seen:
                raise ParseError(f"link specifier type {spec.lstype} listed twice")
            seen.add(spec.lstype)

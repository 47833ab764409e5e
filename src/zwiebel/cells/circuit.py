"""Circuit-management cell payloads: CREATE2, CREATED2, CREATE_FAST, CREATED_FAST, DESTROY.

Implements tor-spec.txt section 5.1 (CREATE2/CREATED2), 5.1.5 (CREATE_FAST/CREATED_FAST)
and 5.4 (DESTROY and its reason codes). These codecs deal in the 509-byte cell *payload*;
the channel framing (circuit ID, command byte) lives in `zwiebel.cells.framing`.

Design notes: encoders pad with zero bytes to the full payload; decoders insist on a full
509-byte payload and ignore what follows the message (the padding), as tor does. The legacy
CREATE/CREATED (TAP) cells are deliberately absent: tor 0.4.9 refuses TAP for any reason.
The body of CREATE2 (HTYPE, HLEN, HDATA) is also the tail of an EXTEND2 relay message, so
`Create2.body()` / `Create2.read()` are exposed for `relay_ctrl`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, TypeVar

from zwiebel.cells.framing import PAYLOAD_LEN, ChannelCommand
from zwiebel.encoding import ParseError, Reader, Writer

#: Bytes in the payload of a fixed-length cell (tor-spec 3: PAYLOAD_LEN).
CELL_PAYLOAD_LEN = PAYLOAD_LEN
#: HASH_LEN (tor-spec 0.2): SHA-1 output size, the CREATE_FAST key material size.
HASH_LEN = 20

_E = TypeVar("_E", bound=IntEnum)


def enum_or_int(enum_type: type[_E], value: int) -> _E | int:
    """`enum_type(value)` when the value is known, else the plain integer (kept, not refused)."""
    try:
        return enum_type(value)
    except ValueError:
        return value


class HandshakeType(IntEnum):
    """CREATE2 HTYPE values (tor-spec 5.1; proposals/332 for ntor-v3)."""

    #: The original RSA+DH handshake; refused by tor 0.4.9.
    TAP = 0x0000
    #: Reserved (tor uses it internally for CREATE_FAST; never valid in CREATE2).
    RESERVED_FAST = 0x0001
    #: ntor: curve25519 + SHA-256 (tor-spec 5.1.4).
    NTOR = 0x0002
    #: ntor-v3 with extra encrypted data (proposals/332).
    NTOR_V3 = 0x0003


class DestroyReason(IntEnum):
    """Reasons in DESTROY and RELAY_TRUNCATED (tor-spec 5.4)."""

    #: No reason given (what an OP always sends).
    NONE = 0
    #: Tor protocol violation.
    PROTOCOL = 1
    #: Internal error.
    INTERNAL = 2
    #: A client sent a TRUNCATE command.
    REQUESTED = 3
    #: Not currently operating; trying to save bandwidth.
    HIBERNATING = 4
    #: Out of memory, sockets, or circuit IDs.
    RESOURCELIMIT = 5
    #: Unable to reach relay.
    CONNECTFAILED = 6
    #: Connected to relay, but its OR identity was not as expected.
    OR_IDENTITY = 7
    #: The OR connection that was carrying this circuit died.
    CHANNEL_CLOSED = 8
    #: The circuit has expired for being dirty or old.
    FINISHED = 9
    #: Circuit construction took too long.
    TIMEOUT = 10
    #: The circuit was destroyed without a client TRUNCATE.
    DESTROYED = 11
    #: Request for unknown hidden service.
    NOSUCHSERVICE = 12


def pad_payload(body: bytes) -> bytes:
    """Zero-pad a message body to a full cell payload."""
    if len(body) > CELL_PAYLOAD_LEN:
        raise ValueError(f"cell body of {len(body)} bytes exceeds {CELL_PAYLOAD_LEN}")
    return body + bytes(CELL_PAYLOAD_LEN - len(body))


def payload_reader(payload: bytes) -> Reader:
    """A Reader over a fixed-cell payload, which must be exactly 509 bytes."""
    if len(payload) != CELL_PAYLOAD_LEN:
        raise ParseError(f"cell payload must be {CELL_PAYLOAD_LEN} bytes, got {len(payload)}")
    return Reader(payload)


@dataclass(frozen=True)
class Create2:
    """CREATE2 (tor-spec 5.1): HTYPE [2], HLEN [2], HDATA [HLEN]."""

    command: ClassVar[ChannelCommand] = ChannelCommand.CREATE2
    htype: HandshakeType | int
    hdata: bytes

    def __post_init__(self) -> None:
        if not 0 <= self.htype <= 0xFFFF:
            raise ValueError("htype out of range")
        if len(self.hdata) > CELL_PAYLOAD_LEN - 4:
            raise ValueError("handshake data too long for a CREATE2 cell")

    def body(self) -> bytes:
        """HTYPE | HLEN | HDATA, unpadded (also the tail of EXTEND2)."""
        return Writer().u16(self.htype).nested_u16(self.hdata).getvalue()

    def encode(self) -> bytes:
        """The 509-byte cell payload."""
        return pad_payload(self.body())

    @classmethod
    def read(cls, r: Reader) -> Create2:
        """Read HTYPE, HLEN, HDATA from `r`."""
        htype = enum_or_int(HandshakeType, r.u16())
        return cls(htype, r.nested_u16().rest())

    @classmethod
    def decode(cls, payload: bytes) -> Create2:
        """Parse a 509-byte payload; the bytes after HDATA are padding."""
        r = payload_reader(payload)
        htype = enum_or_int(HandshakeType, r.u16())
        hlen = r.u16()
        if hlen > CELL_PAYLOAD_LEN - 4:
            raise ParseError("CREATE2 HLEN too long")
        return cls(htype, r.take(hlen))


@dataclass(frozen=True)
class Created2:
    """CREATED2 (tor-spec 5.1): HLEN [2], HDATA [HLEN]; also the EXTENDED2 body (5.1.2)."""

    command: ClassVar[ChannelCommand] = ChannelCommand.CREATED2
    hdata: bytes

    def __post_init__(self) -> None:
        if len(self.hdata) > CELL_PAYLOAD_LEN - 2:
            raise ValueError("handshake data too long for a CREATED2 cell")

    def body(self) -> bytes:
        """HLEN | HDATA, unpadded."""
        return Writer().nested_u16(self.hdata).getvalue()

    def encode(self) -> bytes:
        """The 509-byte cell payload."""
        return pad_payload(self.body())

    @classmethod
    def read(cls, r: Reader) -> Created2:
        """Read HLEN, HDATA from `r`."""
        hdata = r.nested_u16().rest()
        if len(hdata) > CELL_PAYLOAD_LEN - 2:
            raise ParseError("CREATED2 HLEN too long")
        return cls(hdata)

    @classmethod
    def decode(cls, payload: bytes) -> Created2:
        """Parse a 509-byte payload."""
        return cls.read(payload_reader(payload))


@dataclass(frozen=True)
class CreateFast:
    """CREATE_FAST (tor-spec 5.1.5): key material X [HASH_LEN]."""

    command: ClassVar[ChannelCommand] = ChannelCommand.CREATE_FAST
    x: bytes

    def __post_init__(self) -> None:
        if len(self.x) != HASH_LEN:
            raise ValueError("CREATE_FAST key material must be 20 bytes")

    def encode(self) -> bytes:
        """The 509-byte cell payload."""
        return pad_payload(self.x)

    @classmethod
    def decode(cls, payload: bytes) -> CreateFast:
        """Parse a 509-byte payload."""
        return cls(payload_reader(payload).take(HASH_LEN))


@dataclass(frozen=True)
class CreatedFast:
    """CREATED_FAST (tor-spec 5.1.5): key material Y [HASH_LEN], derivative key KH [HASH_LEN]."""

    command: ClassVar[ChannelCommand] = ChannelCommand.CREATED_FAST
    y: bytes
    kh: bytes

    def __post_init__(self) -> None:
        if len(self.y) != HASH_LEN or len(self.kh) != HASH_LEN:
            raise ValueError("CREATED_FAST fields must be 20 bytes each")

    def encode(self) -> bytes:
        """The 509-byte cell payload."""
        return pad_payload(self.y + self.kh)

    @classmethod
    def decode(cls, payload: bytes) -> CreatedFast:
        """Parse a 509-byte payload."""
        r = payload_reader(payload)
        return cls(r.take(HASH_LEN), r.take(HASH_LEN))


@dataclass(frozen=True)
class Destroy:
    """DESTROY (tor-spec 5.4): a single reason octet; unknown reasons are kept as ints."""

    command: ClassVar[ChannelCommand] = ChannelCommand.DESTROY
    reason: DestroyReason | int = DestroyReason.NONE

    def __post_init__(self) -> None:
        if not 0 <= self.reason <= 0xFF:
            raise ValueError("reason must fit one octet")

    def encode(self) -> bytes:
        """The 509-byte cell payload."""
        return pad_payload(bytes([self.reason]))

    @classmethod
    def decode(cls, payload: bytes) -> Destroy:
        """Parse a 509-byte payload."""
        return cls(enum_or_int(DestroyReason, payload_reader(payload).u8()))

"""The ntor-v3 client and server message encoding (proposals/332 A.2, proposals/324 10.3).

The messages carried inside ntor-v3 are a list of extensions. tor encodes them with its
trunnel `trn_extension` type, which starts with a one-byte count (the proposal's prose says
"[Any number of times]" and leaves the count out; tor is what we must match):

    N_EXTENSIONS [1], then N times: EXT_FIELD_TYPE [1], EXT_FIELD_LEN [1], EXT_FIELD [LEN]

Known types: congestion-control request (1, empty, client to relay) and response (2, one byte
`sendme_inc`, relay to client) from proposal 324; subprotocol request (3, tor's CGO
negotiation, bytes only here). Parties ignore unknown types and all but the first occurrence
of a type (`find_extension`). What to do with them is the circuit layer's decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from zwiebel.encoding import ParseError, Reader, Writer


class ExtensionType(IntEnum):
    """EXT_FIELD_TYPE values used in ntor-v3 circuit messages."""

    #: Client asks for congestion control (proposal 324 10.3); empty body.
    CC_REQUEST = 0x01
    #: Relay accepts congestion control; body is sendme_inc [1] (proposal 324 10.3).
    CC_RESPONSE = 0x02
    #: Client requests subprotocol capabilities (tor's EXT_TYPE_SUBPROTO, CGO relay crypto).
    SUBPROTO = 0x03


@dataclass(frozen=True)
class Extension:
    """One extension field, kept as bytes."""

    type: int
    data: bytes = b""

    def __post_init__(self) -> None:
        if not 0 <= self.type <= 0xFF or len(self.data) > 0xFF:
            raise ValueError("extension type or length out of range")


def encode_extensions(extensions: Sequence[Extension]) -> bytes:
    """The count, then each extension in the order given."""
    if len(extensions) > 0xFF:
        raise ValueError("too many extensions")
    w = Writer().u8(len(extensions))
    for ext in extensions:
        w.u8(ext.type).nested_u8(ext.data)
    return w.getvalue()


def decode_extensions(data: bytes) -> tuple[Extension, ...]:
    """Parse a message; malformed or trailing bytes are a ParseError."""
    r = Reader(data)
    exts = tuple(Extension(r.u8(), r.nested_u8().rest()) for _ in range(r.u8()))
    r.expect_end()
    return exts


def find_extension(extensions: Sequence[Extension], ext_type: int) -> Extension | None:
    """The first extension of `ext_type` (later ones are ignored), or None."""
    return next((e for e in extensions if e.type == ext_type), None)


def cc_request() -> Extension:
    """The congestion-control request a client sends to a FlowCtrl=2 relay."""
    return Extension(ExtensionType.CC_REQUEST)


def cc_response(sendme_inc: int) -> Extension:
    """The relay's congestion-control acceptance carrying its cc_sendme_inc."""
    if not 1 <= sendme_inc <= 0xFF:
        raise ValueError("sendme_inc must be 1..255")
    return Extension(ExtensionType.CC_RESPONSE, bytes([sendme_inc]))


def parse_cc_response(ext: Extension) -> int:
    """The sendme_inc in a CC_RESPONSE extension."""
    if ext.type != ExtensionType.CC_RESPONSE or len(ext.data) < 1:
        raise ParseError("not a congestion-control response")
    return ext.data[0]

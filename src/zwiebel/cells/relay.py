"""The relay cell body and relay command numbers (tor-spec 6.1, "v0" relay cell format).

A relay cell body is the 509-byte payload of a RELAY or RELAY_EARLY cell, before encryption:

    Relay command [1] | 'Recognized' [2] | StreamID [2] | Digest [4] | Length [2] |
    Data [Length] | Padding [509 - 11 - Length]

Design notes:

* `RelayCell.encode` leaves 'recognized' and the digest zero: setting the digest is the
  relay crypto layer's job (`zwiebel.proto.relaycrypto`), since it hashes the whole body.
* Padding follows current tor (`relay_msg.c`) and proposal 289: four zero bytes after the
  data, then random bytes from the `rng` passed in; when fewer than four bytes are left they
  are all zero. Receivers never look at padding.
* `encode_data_body` is the hot-path encoder of a DATA body (an exit sends one per 498
  bytes of download): the same bytes as `RelayCell(DATA, ...).encode(rng)`, same `rng`
  calls, without building the dataclasses.
* Typed messages live in `relay_msgs` (stream messages) and `relay_ctrl` (circuit control);
  `relay_message` dispatches on the command and turns unknown commands into `Unrecognized`.

Not here: the "v1" relay cell format of proposal 359 (CGO), which tor only uses after a
negotiated subprotocol we do not offer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from zwiebel.cells.circuit import CELL_PAYLOAD_LEN, enum_or_int
from zwiebel.crypto.util import Rng
from zwiebel.encoding import ParseError

#: Bytes of header before the data: command, recognized, stream id, digest, length.
RELAY_HEADER_LEN = 11
#: Most data one relay cell carries (RELAY_PAYLOAD_SIZE in tor).
RELAY_DATA_MAX = CELL_PAYLOAD_LEN - RELAY_HEADER_LEN
#: Offset and length of the 'recognized' field.
RECOGNIZED_OFFSET = 1
#: Offset and length of the integrity digest field.
DIGEST_OFFSET = 5
DIGEST_LEN = 4
#: "fill this field with four zero-valued bytes, followed by as many random bytes as will fit"
_PAD_ZEROS = 4


class RelayCommand(IntEnum):
    """Relay commands (tor-spec 6.1; tor 0.4.9 `or.h`)."""

    #: Open a stream to an address and port [forward].
    BEGIN = 1
    #: Stream data [forward or backward].
    DATA = 2
    #: Close a stream [forward or backward].
    END = 3
    #: Reply to BEGIN or BEGIN_DIR: the stream is open [backward].
    CONNECTED = 4
    #: Flow-control window increment, stream or circuit level [forward or backward].
    SENDME = 5
    #: Extend the circuit with TAP (obsolete; refused by tor 0.4.9) [forward, control].
    EXTEND = 6
    #: Reply to EXTEND (obsolete) [backward, control].
    EXTENDED = 7
    #: Tear down the circuit after this hop [forward, control].
    TRUNCATE = 8
    #: The circuit was truncated at this hop [backward, control].
    TRUNCATED = 9
    #: Long-range dummy, to be dropped [forward or backward, control].
    DROP = 10
    #: Resolve a hostname or reverse-lookup an address [forward].
    RESOLVE = 11
    #: Reply to RESOLVE [backward].
    RESOLVED = 12
    #: Open a stream to the relay's directory service [forward].
    BEGIN_DIR = 13
    #: Extend the circuit by one hop, with link specifiers [forward, control].
    EXTEND2 = 14
    #: Reply to EXTEND2 [backward, control].
    EXTENDED2 = 15
    #: Reserved for UDP (proposal 339), not yet in use.
    CONNECT_UDP = 16
    #: Reserved for UDP (proposal 339), not yet in use.
    CONNECTED_UDP = 17
    #: Reserved for UDP (proposal 339), not yet in use.
    DATAGRAM = 18
    #: Conflux: link a circuit into a set (proposal 329).
    CONFLUX_LINK = 19
    #: Conflux: reply to LINK (proposal 329).
    CONFLUX_LINKED = 20
    #: Conflux: acknowledge LINKED (proposal 329).
    CONFLUX_LINKED_ACK = 21
    #: Conflux: switch the sending leg (proposal 329).
    CONFLUX_SWITCH = 22
    #: Onion services: establish an introduction point (rend-spec-v3).
    ESTABLISH_INTRO = 32
    #: Onion services: establish a rendezvous point (rend-spec-v3).
    ESTABLISH_RENDEZVOUS = 33
    #: Onion services: client to introduction point (rend-spec-v3).
    INTRODUCE1 = 34
    #: Onion services: introduction point to service (rend-spec-v3).
    INTRODUCE2 = 35
    #: Onion services: service to rendezvous point (rend-spec-v3).
    RENDEZVOUS1 = 36
    #: Onion services: rendezvous point to client (rend-spec-v3).
    RENDEZVOUS2 = 37
    #: Onion services: reply to ESTABLISH_INTRO (rend-spec-v3).
    INTRO_ESTABLISHED = 38
    #: Onion services: reply to ESTABLISH_RENDEZVOUS (rend-spec-v3).
    RENDEZVOUS_ESTABLISHED = 39
    #: Onion services: reply to INTRODUCE1 (rend-spec-v3).
    INTRODUCE_ACK = 40
    #: Circuit padding: negotiate a padding machine (padding-spec 3).
    PADDING_NEGOTIATE = 41
    #: Circuit padding: reply to PADDING_NEGOTIATE (padding-spec 3).
    PADDING_NEGOTIATED = 42
    #: Congestion control: stop sending on a stream (proposal 324) [forward or backward].
    XOFF = 43
    #: Congestion control: resume sending on a stream (proposal 324) [forward or backward].
    XON = 44


#: Command DATA and a zero 'recognized' field: how every DATA body starts.
_DATA_PREFIX = bytes((RelayCommand.DATA, 0, 0))
_ZERO_DIGEST = bytes(DIGEST_LEN)
_FULL_LEN = RELAY_DATA_MAX.to_bytes(2, "big")


def relay_padding(used: int, rng: Rng) -> bytes:
    """Padding after `used` bytes of header and data: four zeros, then random bytes."""
    left = CELL_PAYLOAD_LEN - used
    if left <= _PAD_ZEROS:
        return bytes(left)
    return bytes(_PAD_ZEROS) + rng(left - _PAD_ZEROS)


def encode_data_body(stream_id: int, data: bytes, rng: Rng) -> bytes:
    """The 509-byte body of a DATA cell on `stream_id` (recognized and digest zero), padded
    as `RelayCell.encode` pads it (`data`: at most 498 bytes)."""
    n = len(data)
    if n > RELAY_DATA_MAX or not 0 <= stream_id <= 0xFFFF:
        raise ValueError("DATA too long or stream id out of range")
    return b"".join((
        _DATA_PREFIX, stream_id.to_bytes(2, "big"), _ZERO_DIGEST, n.to_bytes(2, "big"),
        data, relay_padding(RELAY_HEADER_LEN + n, rng),
    ))


def encode_data_bodies(stream_id: int, chunks: Sequence[bytes], rng: Rng) -> bytes:
    """`encode_data_body` for each chunk, the bodies joined: every chunk but the last must
    be full (498 bytes), so their headers are all alike and one join lays them out; the
    last is encoded (and padded, with the same RNG call) as `encode_data_body` does."""
    if not chunks:
        return b""
    *full, last = chunks
    if not set(map(len, full)) <= {RELAY_DATA_MAX}:
        raise ValueError("every DATA chunk but the last must be full")
    tail = encode_data_body(stream_id, last, rng)
    if not full:
        return tail
    head = b"".join((_DATA_PREFIX, stream_id.to_bytes(2, "big"), _ZERO_DIGEST, _FULL_LEN))
    return b"".join((head, head.join(full), tail))


@dataclass(frozen=True)
class RelayCell:
    """A decrypted relay cell body; `command` is a RelayCommand when known."""

    command: RelayCommand | int
    stream_id: int
    data: bytes
    recognized: int = 0
    digest: bytes = bytes(DIGEST_LEN)

    def __post_init__(self) -> None:
        if len(self.data) > RELAY_DATA_MAX:
            raise ValueError(f"relay data of {len(self.data)} bytes exceeds {RELAY_DATA_MAX}")
        if not (0 <= self.command <= 0xFF and 0 <= self.stream_id <= 0xFFFF):
            raise ValueError("command or stream id out of range")
        if not 0 <= self.recognized <= 0xFFFF or len(self.digest) != DIGEST_LEN:
            raise ValueError("bad recognized or digest field")

    def encode(self, rng: Rng) -> bytes:
        """The 509-byte body, padded as tor pads it."""
        n = len(self.data)
        header = b"".join(
            (
                bytes((self.command,)),
                self.recognized.to_bytes(2, "big"),
                self.stream_id.to_bytes(2, "big"),
                self.digest,
                n.to_bytes(2, "big"),
            )
        )
        return b"".join((header, self.data, relay_padding(RELAY_HEADER_LEN + n, rng)))

    @classmethod
    def decode(cls, body: bytes) -> RelayCell:
        """Parse a 509-byte decrypted body (padding is ignored)."""
        if len(body) != CELL_PAYLOAD_LEN:
            raise ParseError(f"relay cell body must be {CELL_PAYLOAD_LEN} bytes")
        length = int.from_bytes(body[9:11], "big")
        if length > RELAY_DATA_MAX:
            raise ParseError(f"relay cell length {length} exceeds {RELAY_DATA_MAX}")
        return cls(
            enum_or_int(RelayCommand, body[0]),
            int.from_bytes(body[3:5], "big"),
            bytes(body[RELAY_HEADER_LEN : RELAY_HEADER_LEN + length]),
            int.from_bytes(body[1:3], "big"),
            bytes(body[DIGEST_OFFSET : DIGEST_OFFSET + DIGEST_LEN]),
        )

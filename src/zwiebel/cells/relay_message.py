"""Typed relay messages to and from relay cell bodies (tor-spec 6.1).

`decode_message(command, data)` turns a relay command and its Data field into a typed message;
commands without a typed message here (onion services, conflux, padding machines, the
obsolete EXTEND/EXTENDED) become `Unrecognized`, never an exception, so the caller decides
("If the RELAY cell is recognized but the relay command is not understood, the cell must be
dropped and ignored"). A known command with a malformed body raises ParseError.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from zwiebel.cells.circuit import CELL_PAYLOAD_LEN
from zwiebel.cells.relay import RELAY_DATA_MAX, RELAY_HEADER_LEN, RelayCell, RelayCommand
from zwiebel.cells.relay_ctrl import Drop, Extend2, Extended2, Sendme, Truncate, Truncated
from zwiebel.cells.relay_flow import Xoff, Xon
from zwiebel.cells.relay_msgs import (
    Begin,
    BeginDir,
    Connected,
    Data,
    End,
    Resolve,
    Resolved,
)
from zwiebel.crypto.util import Rng


@dataclass(frozen=True)
class Unrecognized:
    """A relay message whose command has no typed form here; kept verbatim."""

    command: RelayCommand | int
    data: bytes

    def __post_init__(self) -> None:
        if not 0 <= self.command <= 0xFF or len(self.data) > RELAY_DATA_MAX:
            raise ValueError("command or data out of range")

    def encode_body(self) -> bytes:
        """The body as received."""
        return self.data


RelayMessage = (
    Begin
    | BeginDir
    | Data
    | End
    | Connected
    | Sendme
    | Extend2
    | Extended2
    | Truncate
    | Truncated
    | Drop
    | Resolve
    | Resolved
    | Xoff
    | Xon
    | Unrecognized
)

_DECODERS: dict[int, Callable[[bytes], RelayMessage]] = {
    cls.command: cls.decode_body
    for cls in (
        Begin,
        BeginDir,
        Data,
        End,
        Connected,
        Sendme,
        Extend2,
        Extended2,
        Truncate,
        Truncated,
        Drop,
        Resolve,
        Resolved,
        Xoff,
        Xon,
    )
}


_DATA = int(RelayCommand.DATA)


def decode_message(command: int, data: bytes) -> RelayMessage:
    """The typed message for `command` with body `data`; ParseError if malformed."""
    decoder = _DECODERS.get(command)
    if decoder is None:
        return Unrecognized(command, data)
    return decoder(data)


def to_relay_cell(msg: RelayMessage, stream_id: int) -> RelayCell:
    """The relay cell (recognized and digest zero) that carries `msg` on `stream_id`."""
    return RelayCell(msg.command, stream_id, msg.encode_body())


def encode_message(msg: RelayMessage, stream_id: int, rng: Rng) -> bytes:
    """The 509-byte plaintext body carrying `msg`, digest field zero, padded as tor pads."""
    return to_relay_cell(msg, stream_id).encode(rng)


def decode_cell(body: bytes) -> tuple[int, RelayMessage]:
    """Parse a decrypted, recognized 509-byte body into (stream id, message). DATA, the
    bulk of a download, is parsed directly: the same result as the general path."""
    if body[0] == _DATA and len(body) == CELL_PAYLOAD_LEN:
        length = int.from_bytes(body[9:11], "big")
        if length <= RELAY_DATA_MAX:
            data = bytes(body[RELAY_HEADER_LEN:RELAY_HEADER_LEN + length])
            return int.from_bytes(body[3:5], "big"), Data(data)
    cell = RelayCell.decode(body)
    return cell.stream_id, decode_message(cell.command, cell.data)

"""Channel cell framing (tor-spec section 3, "Cell Packet format").

A channel carries two kinds of cells:

* fixed-size cells: ``CircID | Command | Payload[509]``, 514 bytes with the 4-byte
  circuit IDs of link protocol 4 and later, 512 bytes with the 2-byte IDs of earlier
  versions;
* variable-length cells: ``CircID | Command | Length[2] | Payload[Length]``, for
  VERSIONS (7) and every command >= 128.

"The first VERSIONS cell, and any cells sent before the first VERSIONS cell, always
have CIRCID_LEN == 2": the decoder starts with 2-byte circuit IDs and stops right
after the first VERSIONS cell until the caller tells it the negotiated version.

This is the per-cell hot path: the decoder keeps its buffer as immutable bytes (the
caller's bytes when nothing is left over), reads each header with one precompiled
``struct`` call and slices each payload once; no per-cell reader objects.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from enum import IntEnum

#: Payload bytes of a fixed-size cell (tor-spec 0.2, PAYLOAD_LEN).
PAYLOAD_LEN = 509
#: Largest payload a variable-length cell can carry (the Length field is 2 bytes).
MAX_VAR_PAYLOAD = 0xFFFF
#: Link versions that use 4-byte circuit IDs start here (tor-spec 4.1).
MIN_WIDE_CIRCID_VERSION = 4


class ChannelCommand(IntEnum):
    """Cell commands of tor-spec section 3."""

    PADDING = 0
    """Keepalive padding (tor-spec 7.2); fixed-size."""
    CREATE = 1
    """Create a circuit with TAP (tor-spec 5.1); refused by tor 0.4.9."""
    CREATED = 2
    """Acknowledge a CREATE (tor-spec 5.1)."""
    RELAY = 3
    """End-to-end relay data (tor-spec 5.5, 6)."""
    DESTROY = 4
    """Tear down a circuit (tor-spec 5.4)."""
    CREATE_FAST = 5
    """Create a circuit without a public-key handshake (tor-spec 5.1.5)."""
    CREATED_FAST = 6
    """Acknowledge a CREATE_FAST (tor-spec 5.1.5)."""
    VERSIONS = 7
    """Negotiate the link protocol version (tor-spec 4.1); variable-length."""
    NETINFO = 8
    """Time and address information (tor-spec 4.5)."""
    RELAY_EARLY = 9
    """Relay data limited in number per circuit (tor-spec 5.6)."""
    CREATE2 = 10
    """Extended CREATE with a handshake type (tor-spec 5.1)."""
    CREATED2 = 11
    """Extended CREATED (tor-spec 5.1)."""
    PADDING_NEGOTIATE = 12
    """Link padding negotiation (padding-spec)."""
    VPADDING = 128
    """Variable-length padding (tor-spec 7.2)."""
    CERTS = 129
    """Certificates of the sender's keys (tor-spec 4.2)."""
    AUTH_CHALLENGE = 130
    """Challenge the initiator may sign to authenticate (tor-spec 4.3)."""
    AUTHENTICATE = 131
    """The initiator's authentication (tor-spec 4.4)."""
    AUTHORIZE = 132
    """Reserved for scanning resistance; not used."""


def is_var_length(command: int) -> bool:
    """True if `command` uses the variable-length cell format (link version >= 3)."""
    return command == 7 or command >= 128


def circ_id_len(link_version: int | None) -> int:
    """Width of the CircID field: 2 before negotiation and for versions < 4, else 4."""
    if link_version is None or link_version < MIN_WIDE_CIRCID_VERSION:
        return 2
    return 4


def fixed_cell_len(link_version: int | None) -> int:
    """Size on the wire of a fixed-size cell (512 or 514)."""
    return circ_id_len(link_version) + 1 + PAYLOAD_LEN


def encode_cell(circ_id: int, command: int, payload: bytes, link_version: int | None) -> bytes:
    """One cell on the wire; fixed-size payloads are padded with zeros to 509 bytes.

    Pass ``link_version=None`` before the version is negotiated (our VERSIONS cell).
    """
    width = 2 if link_version is None or link_version < MIN_WIDE_CIRCID_VERSION else 4
    header = circ_id.to_bytes(width, "big") + command.to_bytes(1, "big")
    if command == 7 or command >= 128:
        if len(payload) > MAX_VAR_PAYLOAD:
            raise ValueError("variable-length cell payload too long")
        return header + len(payload).to_bytes(2, "big") + payload
    if len(payload) > PAYLOAD_LEN:
        raise ValueError("fixed-size cell payload longer than 509 bytes")
    return header + payload + bytes(PAYLOAD_LEN - len(payload))


#: A decoded cell: (circuit ID, command number, payload bytes).
RawCell = tuple[int, int, bytes]


def iter_cells(decoder: CellDecoder, data: bytes | bytearray | memoryview) -> Iterator[RawCell]:
    """Every complete cell in `data`, lazily: the caller may set the link version while
    handling VERSIONS, and decoding then resumes with the negotiated circuit-ID width."""
    cells = decoder.feed(data)
    while cells:
        yield from cells
        cells = decoder.feed(b"")


class CellDecoder:
    """Incremental splitter of a channel's byte stream into cells.

    ``feed(data)`` buffers bytes and returns every complete cell. Until
    `set_link_version` is called, circuit IDs are 2 bytes wide and decoding pauses
    after the first VERSIONS cell, so that the bytes following it are read with the
    negotiated width; call ``feed(b"")`` after setting the version to resume.
    """

    __slots__ = ("_buf", "_link_version", "_width", "_paused")

    def __init__(self, link_version: int | None = None) -> None:
        self._buf = b""
        self._link_version = link_version
        self._width = circ_id_len(link_version)
        self._paused = False

    @property
    def link_version(self) -> int | None:
        """The version set so far, or None before negotiation."""
        return self._link_version

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete cell."""
        return len(self._buf)

    def set_link_version(self, version: int) -> None:
        """Switch to the negotiated version's circuit-ID width and resume decoding."""
        self._link_version = version
        self._width = circ_id_len(version)
        self._paused = False

    def feed(self, data: bytes | bytearray | memoryview) -> list[RawCell]:
        """Buffer `data` and return all complete cells, in order.

        The buffer is immutable `bytes`: when nothing is left over from the last call the
        caller's bytes are used as they are, and each payload is one slice (one copy).
        """
        buf = self._buf + data if self._buf else bytes(data)
        if self._paused:
            self._buf = buf
            return []
        if self._link_version is None:
            cells, pos = self._split_negotiating(buf)
        else:
            cells, pos = _split(buf, self._width)
        self._buf = buf[pos:] if pos else buf
        return cells

    def _split_negotiating(self, buf: bytes) -> tuple[list[RawCell], int]:
        """Before negotiation: 2-byte circuit IDs, pausing after the first VERSIONS cell."""
        out: list[RawCell] = []
        pos, end = 0, len(buf)
        while end - pos > 2:
            circ_id, cmd = _HEAD2.unpack_from(buf, pos)
            if cmd == 7 or cmd >= 128:
                if pos + 5 > end:
                    break
                start = pos + 5
                stop = start + _LEN.unpack_from(buf, pos + 3)[0]
            else:
                start, stop = pos + 3, pos + 3 + PAYLOAD_LEN
            if stop > end:
                break
            out.append((circ_id, cmd, buf[start:stop]))
            pos = stop
            if cmd == 7:
                self._paused = True
                break
        return out, pos


_HEAD2 = struct.Struct(">HB")
_HEAD4 = struct.Struct(">IB")
_LEN = struct.Struct(">H")


_FIXED4 = struct.Struct(f">IB{PAYLOAD_LEN}s")
_FIXED4_SIZE = _FIXED4.size


def _split(buf: bytes, width: int) -> tuple[list[RawCell], int]:
    """Every complete cell of `buf` after negotiation: (cells, bytes consumed).

    With 4-byte circuit IDs, when every whole 514-byte slot of `buf` holds a fixed-size
    cell (its command byte, read in one slice, is below 128 and not VERSIONS), which is
    nearly always so once a channel is open, one `struct.iter_unpack` call splits them
    all (then the bytes after the last whole slot one by one). Otherwise (a
    variable-length cell among them) cell by cell."""
    if width == 4:
        count = len(buf) // _FIXED4_SIZE
        commands = buf[4:count * _FIXED4_SIZE:_FIXED4_SIZE]
        if count and max(commands) < 128 and 7 not in commands:
            used = count * _FIXED4_SIZE
            cells: list[RawCell] = list(_FIXED4.iter_unpack(memoryview(buf)[:used]))
            if used < len(buf):  # a short variable-length cell may follow
                more, extra = _split_each(buf[used:], width)
                cells += more
                used += extra
            return cells, used
    return _split_each(buf, width)


def _split_each(buf: bytes, width: int) -> tuple[list[RawCell], int]:
    """`_split` one header at a time (variable-length cells, 2-byte circuit IDs)."""
    head = _HEAD4 if width == 4 else _HEAD2
    unpack = head.unpack_from
    fixed_total = width + 1 + PAYLOAD_LEN
    out: list[RawCell] = []
    append = out.append
    pos, end = 0, len(buf)
    while end - pos > width:
        circ_id, cmd = unpack(buf, pos)
        if cmd == 7 or cmd >= 128:
            start = pos + width + 3
            if start > end:
                break
            stop = start + _LEN.unpack_from(buf, start - 2)[0]
        else:
            start = pos + width + 1
            stop = pos + fixed_total
        if stop > end:
            break
        append((circ_id, cmd, buf[start:stop]))
        pos = stop
    return out, pos

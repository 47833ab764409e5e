"""The client side of one circuit, sans I/O (tor-spec 5.1-5.6, 6, 7.3-7.4).

`ClientCircuit` builds a circuit hop by hop (CREATE_FAST or CREATE2/ntor for the first
hop, EXTEND2 in RELAY_EARLY cells for the rest), wraps and unwraps relay cells with the
hops' relay crypto, and keeps the SENDME windows: circuit-level per hop with
authenticated (v1) SENDMEs, stream-level per stream. Cells to write accumulate in
`cells_to_send()`; `handle_cell` returns events for the runtime (`circuit_events`).

A peer that breaks the protocol (an unrecognized relay cell, a SENDME we did not expect,
a window overrun, a handshake that fails) gets a `CircuitFailed` event; the runtime then
sends DESTROY with reason PROTOCOL and tears the circuit down.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from zwiebel.cells.circuit import (
    CELL_PAYLOAD_LEN,
    Create2,
    Created2,
    CreatedFast,
    CreateFast,
    Destroy,
    DestroyReason,
    HandshakeType,
)
from zwiebel.cells.framing import ChannelCommand
from zwiebel.cells.linkspec import LinkSpecifier
from zwiebel.cells.relay import RELAY_DATA_MAX, RELAY_HEADER_LEN, RelayCommand
from zwiebel.cells.relay_ctrl import Extend2, Extended2, Sendme, Truncated
from zwiebel.cells.relay_message import RelayMessage, decode_cell, encode_message
from zwiebel.cells.relay_msgs import Data, End
from zwiebel.crypto import Rng
from zwiebel.encoding import ParseError
from zwiebel.proto.circuit_events import (
    CircuitDestroyed,
    CircuitEvent,
    CircuitFailed,
    CircuitTruncated,
    DataReceived,
    HopAdded,
    StreamMessage,
    WindowOpened,
)
from zwiebel.proto.handshake import fast, ntor
from zwiebel.proto.handshake.keys import KeyMaterial
from zwiebel.proto.relaycrypto import ClientCryptoPath, UniformRun, UnrecognizedCellError
from zwiebel.proto.sendme import (
    CircuitDeliverWindow,
    CircuitPackageWindow,
    FlowControlViolation,
    StreamDeliverWindow,
    StreamPackageWindow,
)

#: tor sends at most this many RELAY_EARLY cells per circuit (tor-spec 5.6).
MAX_RELAY_EARLY = 8
_RELAY = int(ChannelCommand.RELAY)
_DATA = int(RelayCommand.DATA)
#: A relay body's command, stream ID and length (tor-spec 6.1), skipping 'recognized'
#: and the digest.
_HEADER = struct.Struct(">B2xH4xH")
#: The length field of a full DATA cell.
_FULL_LENGTH = RELAY_DATA_MAX.to_bytes(2, "big")


@functools.lru_cache(maxsize=1024)
def _full_data(count: int) -> struct.Struct:
    """Cuts the data out of `count` consecutive full DATA bodies."""
    return struct.Struct(f"{RELAY_HEADER_LEN}x{RELAY_DATA_MAX}s" * count)


class CircuitState(Enum):
    """Where the circuit is."""

    BUILDING = "building"
    OPEN = "open"
    CLOSED = "closed"


@dataclass
class _StreamWindows:
    package: StreamPackageWindow = field(default_factory=StreamPackageWindow)
    deliver: StreamDeliverWindow = field(default_factory=StreamDeliverWindow)


@dataclass
class _HopWindows:
    package: CircuitPackageWindow = field(default_factory=CircuitPackageWindow)
    deliver: CircuitDeliverWindow = field(default_factory=CircuitDeliverWindow)


class ClientCircuit:
    """One circuit as its origin sees it."""

    def __init__(self, rng: Rng) -> None:
        self._rng = rng
        self.state = CircuitState.BUILDING
        self._crypto = ClientCryptoPath()
        self._hops: list[_HopWindows] = []
        self._streams: dict[int, _StreamWindows] = {}
        self._pending: fast.FastClientState | ntor.NtorClientState | None = None
        self._out: list[tuple[int, bytes]] = []
        self._early_left = MAX_RELAY_EARLY
        self._next_stream = 1
        self.bytes_sent = 0
        self.bytes_received = 0

    @property
    def hops(self) -> int:
        """Hops whose handshake completed."""
        return len(self._hops)

    # -- building -------------------------------------------------------------
    def create_fast(self) -> None:
        """Start the first hop with CREATE_FAST (tor-spec 5.1.5)."""
        state, x = fast.client_create(self._rng)
        self._pending = state
        self._out.append((ChannelCommand.CREATE_FAST, CreateFast(x).encode()))

    def create_ntor(self, relay_id: bytes, ntor_key: bytes) -> None:
        """Start the first hop with CREATE2 and the ntor handshake (tor-spec 5.1.4)."""
        state, onionskin = ntor.client_create(self._rng, relay_id, ntor_key)
        self._pending = state
        self._out.append((ChannelCommand.CREATE2, Create2(HandshakeType.NTOR, onionskin).encode()))

    def extend_ntor(
        self, link_specifiers: tuple[LinkSpecifier, ...], relay_id: bytes, ntor_key: bytes
    ) -> None:
        """Ask the last hop to extend to a new relay with EXTEND2 (tor-spec 5.1.2)."""
        state, onionskin = ntor.client_create(self._rng, relay_id, ntor_key)
        self._pending = state
        msg = Extend2(link_specifiers, HandshakeType.NTOR, onionskin)
        self.send_message(msg, 0, self.hops - 1, early=True)

    def _complete(self, reply: bytes) -> HopAdded:
        pending, self._pending = self._pending, None
        if isinstance(pending, fast.FastClientState):
            keys: KeyMaterial = fast.client_complete(pending, reply)
        elif isinstance(pending, ntor.NtorClientState):
            keys = ntor.client_complete(pending, reply)
        else:
            raise ParseError("handshake reply without a pending handshake")
        self._crypto.add_hop(keys)
        self._hops.append(_HopWindows())
        return HopAdded(self.hops - 1)

    def mark_open(self) -> None:
        """The runtime decided the circuit is complete."""
        self.state = CircuitState.OPEN

    # -- sending --------------------------------------------------------------
    def cells_to_send(self) -> list[tuple[int, bytes]]:
        """(channel command, payload) pairs queued for the channel, in order."""
        out, self._out = self._out, []
        return out

    def send_message(
        self, msg: RelayMessage, stream_id: int, hop: int = -1, early: bool = False
    ) -> None:
        """Encrypt a relay message for `hop` (default: the last) and queue it."""
        target = hop if hop >= 0 else self.hops - 1
        body = encode_message(msg, stream_id, self._rng)
        cell = self._crypto.encrypt_outbound(body, target)
        command = ChannelCommand.RELAY
        if early and self._early_left > 0:
            self._early_left -= 1
            command = ChannelCommand.RELAY_EARLY
        self._out.append((command, cell))

    def new_stream_id(self) -> int:
        """A stream ID not in use on this circuit (never 0)."""
        while self._next_stream in self._streams or self._next_stream == 0:
            self._next_stream = (self._next_stream + 1) & 0xFFFF
        stream_id = self._next_stream
        self._next_stream = (self._next_stream + 1) & 0xFFFF
        self._streams[stream_id] = _StreamWindows()
        return stream_id

    def stream_consumed(self, stream_id: int, hop: int = -1) -> None:
        """The application took the stream's buffered data: send the SENDMEs now due.

        tor-spec 7.4: a stream SENDME goes out only once the data has been delivered, so
        a slow application holds the exit to one stream window (500 cells) in flight.
        """
        windows = self._streams.get(stream_id)
        if windows is None or self.state is CircuitState.CLOSED:
            return
        target = hop if hop >= 0 else self.hops - 1
        for _ in range(windows.deliver.sendmes_due()):
            self.send_message(Sendme(), stream_id, target)

    def forget_stream(self, stream_id: int) -> None:
        """Drop a closed stream's windows."""
        self._streams.pop(stream_id, None)

    def can_send_data(self, stream_id: int, hop: int = -1) -> bool:
        """True if both the circuit's and the stream's package windows have room."""
        windows = self._streams.get(stream_id)
        target = self._hops[hop if hop >= 0 else self.hops - 1]
        return windows is not None and windows.package.can_send() and target.package.can_send()

    def send_data(self, stream_id: int, data: bytes, hop: int = -1) -> None:
        """Queue one DATA cell (at most 498 bytes); check `can_send_data` first."""
        if len(data) > RELAY_DATA_MAX:
            raise ValueError("DATA longer than one relay cell")
        target = hop if hop >= 0 else self.hops - 1
        self.send_message(Data(data), stream_id, target)
        self._streams[stream_id].package.on_data_sent()
        self._hops[target].package.on_data_sent(self._crypto.last_forward_digest(target))
        self.bytes_sent += len(data)

    def destroy(self) -> None:
        """Queue a DESTROY (reason NONE, as clients send) and close."""
        self._out.append((ChannelCommand.DESTROY, Destroy(DestroyReason.NONE).encode()))
        self.state = CircuitState.CLOSED

    # -- receiving --------------------------------------------------------------
    def handle_cell(self, command: int, payload: bytes) -> list[CircuitEvent]:
        """Process one cell from the channel."""
        return self.handle_cells([(command, payload)])

    def handle_cells(self, cells: Sequence[tuple[int, bytes]]) -> list[CircuitEvent]:
        """Process the cells of one channel read, in order. A run of RELAY cells is
        deciphered with one AES call per hop, and consecutive DATA for one stream
        becomes one `DataReceived`. A protocol violation ends the list with
        `CircuitFailed`, after the events of the cells before it."""
        events: list[CircuitEvent] = []
        try:
            index, count = 0, len(cells)
            while index < count:
                command, payload = cells[index]
                if command != _RELAY:
                    events += self._handle(command, payload)
                    index += 1
                    continue
                end = index + 1
                while end < count and cells[end][0] == _RELAY:
                    end += 1
                self._on_relay_run([cell[1] for cell in cells[index:end]], events)
                index = end
        except (ParseError, FlowControlViolation) as exc:
            self.state = CircuitState.CLOSED
            events.append(CircuitFailed(str(exc)))
        return events

    def _handle(self, command: int, payload: bytes) -> list[CircuitEvent]:
        if command in (ChannelCommand.RELAY, ChannelCommand.RELAY_EARLY):
            return self._on_relay(payload)
        if command == ChannelCommand.CREATED_FAST:
            reply = CreatedFast.decode(payload)
            return [self._complete(reply.y + reply.kh)]
        if command == ChannelCommand.CREATED2:
            return [self._complete(Created2.decode(payload).hdata)]
        if command == ChannelCommand.DESTROY:
            self.state = CircuitState.CLOSED
            return [CircuitDestroyed(Destroy.decode(payload).reason)]
        raise ParseError(f"unexpected cell command {command} on a client circuit")

    def _on_relay(self, payload: bytes) -> list[CircuitEvent]:
        events: list[CircuitEvent] = []
        self._on_relay_run([payload], events)
        return events

    def _on_relay_run(self, payloads: list[bytes], events: list[CircuitEvent]) -> None:
        """Decipher a run of RELAY cells; DATA (the bulk of a download) is parsed here,
        every other message by `_on_message`."""
        deciphered = self._crypto.decrypt_inbound_run(b"".join(payloads))
        if isinstance(deciphered, UniformRun):
            if self._on_full_data_run(deciphered, events):
                return
            deciphered = deciphered.cells()
        run: DataReceived | None = None
        for hop, plain, at, digest in deciphered:
            if hop < 0 or hop >= len(self._hops):  # none, or truncated earlier in the run
                raise UnrecognizedCellError("inbound relay cell not recognized by any hop")
            command, stream_id, length = _HEADER.unpack_from(plain, at)
            if command != _DATA or length > RELAY_DATA_MAX:
                run = None
                events += self._on_message(hop, plain[at:at + CELL_PAYLOAD_LEN])
                continue
            data = plain[at + RELAY_HEADER_LEN:at + RELAY_HEADER_LEN + length]
            self._count_data(hop, stream_id, length, digest)
            if run is not None and run.stream_id == stream_id and run.hop == hop:
                run.chunks.append(data)
                run.cells += 1
            else:
                run = DataReceived(hop, stream_id, [data])
                events.append(run)

    def _on_full_data_run(self, run: UniformRun, events: list[CircuitEvent]) -> bool:
        """The bulk of a download: a run from one hop of full DATA cells for one open
        stream whose window has room. Its headers are checked in strided slices, its data
        cut out by one struct call and its windows counted once; False (nothing done)
        for any other run, which then goes cell by cell."""
        hop, plain, digests = run
        count = len(digests)
        stream_id = int.from_bytes(plain[3:5], "big")
        windows = self._streams.get(stream_id)
        if (hop >= len(self._hops) or windows is None or windows.deliver.window < count
                or plain[0::CELL_PAYLOAD_LEN].count(_DATA) != count
                or plain[3::CELL_PAYLOAD_LEN].count(plain[3]) != count
                or plain[4::CELL_PAYLOAD_LEN].count(plain[4]) != count
                or plain[9::CELL_PAYLOAD_LEN].count(_FULL_LENGTH[0]) != count
                or plain[10::CELL_PAYLOAD_LEN].count(_FULL_LENGTH[1]) != count):
            return False
        for sendme in self._hops[hop].deliver.on_data_received_many(digests):
            self.send_message(sendme, 0, hop)
        windows.deliver.window -= count
        self.bytes_received += count * RELAY_DATA_MAX
        events.append(DataReceived(hop, stream_id, [b"".join(_full_data(count).unpack(plain))],
                                   count))
        return True

    def _on_message(self, hop: int, body: bytes) -> list[CircuitEvent]:
        stream_id, msg = decode_cell(body)
        if isinstance(msg, Data):
            self._count_data(hop, stream_id, len(msg.data), self._crypto.last_backward_digest(hop))
            return [DataReceived(hop, stream_id, [msg.data])]
        if isinstance(msg, Sendme):
            return self._on_sendme(hop, stream_id, msg)
        if isinstance(msg, Extended2):
            return [self._complete(msg.hdata)]
        if isinstance(msg, Truncated):
            self._crypto.truncate(hop + 1)
            del self._hops[hop + 1 :]
            return [CircuitTruncated(hop + 1, msg.reason)]
        if isinstance(msg, End):
            self._streams.pop(stream_id, None)
        return [StreamMessage(hop, stream_id, msg)]

    def _count_data(self, hop: int, stream_id: int, length: int, digest: bytes) -> None:
        """Account one DATA cell in the deliver windows (`digest`: the running digest
        right after it, for the circuit SENDME v1 it may trigger)."""
        self.bytes_received += length
        circ_sendme = self._hops[hop].deliver.on_data_received(digest)
        if circ_sendme is not None:
            self.send_message(circ_sendme, 0, hop)
        windows = self._streams.get(stream_id)
        if windows is not None:
            windows.deliver.on_data_received(outbuf_full=True)

    def _on_sendme(self, hop: int, stream_id: int, msg: Sendme) -> list[CircuitEvent]:
        if stream_id == 0:
            verdict = self._hops[hop].package.on_sendme(msg)
        else:
            windows = self._streams.get(stream_id)
            if windows is None:
                return []
            verdict = windows.package.on_sendme()
        if verdict.is_violation:
            raise FlowControlViolation(f"bad SENDME from hop {hop}: {verdict.name}")
        return [WindowOpened(stream_id)]


__all__ = [
    "CircuitDestroyed",
    "CircuitEvent",
    "CircuitFailed",
    "CircuitState",
    "CircuitTruncated",
    "ClientCircuit",
    "DataReceived",
    "HopAdded",
    "StreamMessage",
    "WindowOpened",
]

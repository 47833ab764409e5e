"""One circuit as a relay sees it, sans I/O (tor-spec 5.1-5.6, 6.1, 7.3; tor's command.c,
relay.c, circuitbuild_relay.c).

A `RelayCircuit` exists once a CREATE_FAST/CREATE2 was answered (`relay_create`). It sits
between the *previous* side (toward the client, "p_chan") and, after an EXTEND2, the
*next* side ("n_chan"). The runtime feeds it cells with `from_prev` / `from_next`; it
returns events and queues `OutCell`s (direction, command, payload) for `cells_to_send()`.

Rules, as tor 0.4.9 applies them:

* a relay cell from the client is decrypted with our layer; if recognized it is for us
  (stream messages go to `relay_streams`, EXTEND2/TRUNCATE/SENDME/DROP are handled here),
  otherwise it goes on to the next hop unchanged, keeping RELAY_EARLY. An unrecognized
  cell on a circuit that ends here is a protocol violation;
* at most 8 RELAY_EARLY cells from the client; a RELAY_EARLY from the next hop closes the
  circuit (both with reason PROTOCOL); EXTEND2 outside RELAY_EARLY, or on stream != 0, is
  dropped; EXTEND2 when a next hop exists or is pending, with TAP/CREATE_FAST handshakes,
  without an RSA identity, or without an IPv4/IPv6 address closes with PROTOCOL;
* CREATED2 from the next hop becomes EXTENDED2 toward the client; a failed extension
  (`extend_failed`) closes with CONNECTFAILED;
* DESTROY from either side closes the circuit and is passed on to the other side with
  reason DESTROYED, never the original reason ("could be used as a side channel");
* TRUNCATE destroys the next hop and answers TRUNCATED with reason REQUESTED;
* circuit-level SENDMEs are version 1 (proposal 289), verified and emitted with the
  running digests of `relaycrypto`.

Bad input never raises: it becomes a `CircuitClosed` event with the DESTROY reason and a
message for the log, after the DESTROY cells are queued.

With proposal-324 congestion control negotiated in the CREATE2 (`congestion`), the package
side is a `cc_window.CongestionWindow`, the deliver side counts in cc_sendme_inc steps and
streams use XON/XOFF instead of SENDME windows (`relay_streams`).

Byte counters count cells (514 bytes each on a link-v4+ channel) in each direction on each
side, and stream payload bytes at the edge. Not here: conflux, onion-service commands
(dropped as unrecognized), CGO relay crypto.
"""

from __future__ import annotations

from collections.abc import Sequence

from zwiebel.cells.circuit import Created2, Destroy, DestroyReason, HandshakeType
from zwiebel.cells.framing import ChannelCommand
from zwiebel.cells.linkspec import (
    LinkSpecEd25519Id,
    LinkSpecIPv4,
    LinkSpecIPv6,
    LinkSpecLegacyId,
)
from zwiebel.cells.relay import (
    RELAY_DATA_MAX,
    RelayCell,
    RelayCommand,
    encode_data_bodies,
    encode_data_body,
)
from zwiebel.cells.relay_ctrl import Extend2, Extended2, Sendme, Truncate, Truncated
from zwiebel.cells.relay_message import RelayMessage, decode_message, encode_message
from zwiebel.cells.relay_msgs import Begin, BeginDir, Data, End, EndReason, Resolve
from zwiebel.crypto import Rng
from zwiebel.encoding import ParseError
from zwiebel.proto.cc_window import CongestionWindow
from zwiebel.proto.handshake.keys import KeyMaterial
from zwiebel.proto.relay_circuit_events import (
    CircuitClosed,
    ExtendRequested,
    NextHopReleased,
    OutCell,
    RelayCircuitEvent,
    Side,
)
from zwiebel.proto.relay_streams import (
    StreamTable,
    StreamViolation,
    StreamWindowOpened,
)
from zwiebel.proto.relaycrypto import RelayHopCrypto
from zwiebel.proto.sendme import (
    CIRCWINDOW_INCREMENT,
    CircuitDeliverWindow,
    CircuitPackageWindow,
    FlowControlViolation,
)

#: tor's MAX_RELAY_EARLY_CELLS_PER_CIRCUIT.
MAX_RELAY_EARLY = 8
#: Bytes of one cell on a link-v4+ channel (for byte counters).
CELL_WIRE_LEN = 514

C = ChannelCommand
_RELAY = int(C.RELAY)
#: Relay commands whose malformed body tor logs and drops instead of closing the circuit
#: (`circuit_process_stream_xoff` / `_xon` return false).
_IGNORED_IF_MALFORMED = frozenset({RelayCommand.XOFF, RelayCommand.XON})


_PREV = Side.PREV
_NEXT = Side.NEXT


class _Violation(Exception):
    def __init__(self, reason: DestroyReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class RelayCircuit:
    """A circuit at a relay: our relay-crypto layer, the next hop, edge streams."""

    def __init__(self, keys: KeyMaterial, rng: Rng, *, client_channel: bool = False,
                 congestion: CongestionWindow | None = None) -> None:
        self._crypto = RelayHopCrypto(keys)
        self._rng = rng
        self._out: list[OutCell] = []
        self._early_left = MAX_RELAY_EARLY
        self.next_state = "none"
        self.closed = False
        self.streams = StreamTable(client_channel, flow_control=congestion is not None)
        self.package: CircuitPackageWindow | CongestionWindow = \
            congestion if congestion is not None else CircuitPackageWindow()
        self.deliver = CircuitDeliverWindow(
            increment=congestion.cc.sendme_inc if congestion is not None
            else CIRCWINDOW_INCREMENT)
        self.cells = {"prev_in": 0, "prev_out": 0, "next_in": 0, "next_out": 0}

    # -- output ---------------------------------------------------------------------
    def cells_to_send(self) -> list[OutCell]:
        """Cells queued for the channels, in order."""
        out = self._out
        if not out:
            return []
        self._out = []
        if len(out) == 1:
            self.cells["prev_out" if out[0].side is _PREV else "next_out"] += 1
            return out
        prev = sum(1 for cell in out if cell.side is _PREV)
        self.cells["prev_out"] += prev
        self.cells["next_out"] += len(out) - prev
        return out

    @property
    def has_next(self) -> bool:
        """True once the next hop answered CREATED2."""
        return self.next_state == "open"

    # -- cells from the channels -------------------------------------------------------
    def from_prev(self, command: int, payload: bytes) -> list[RelayCircuitEvent]:
        """A cell from the client's side (RELAY, RELAY_EARLY or DESTROY)."""
        if self.closed:
            return []
        self.cells["prev_in"] += 1
        if command == C.DESTROY:
            return self._close(DestroyReason.DESTROYED, "DESTROY from the previous hop",
                               notify_prev=False)
        try:
            return self._from_prev_relay(command, payload)
        except _Violation as exc:
            return self._close(exc.reason, str(exc))

    def from_next(self, command: int, payload: bytes) -> list[RelayCircuitEvent]:
        """A cell from the next hop (CREATED2, RELAY, RELAY_EARLY or DESTROY)."""
        if self.closed:
            return []
        self.cells["next_in"] += 1
        if command == C.DESTROY:
            self.next_state = "none"
            return self._close(DestroyReason.DESTROYED, "DESTROY from the next hop",
                               notify_next=False)
        if command == C.CREATED2 and self.next_state == "pending":
            return self._on_created2(payload)
        if command == _RELAY and self.next_state == "open":
            self._out.append(OutCell(_PREV, _RELAY, self._crypto.relay_backward(payload)))
            return []
        return self._close(DestroyReason.PROTOCOL,
                           f"unexpected {_name(command)} cell from the next hop")

    def relay_backward_run(self, bodies: Sequence[bytes]) -> bytes | None:
        """Consecutive RELAY cells from the next hop, relayed toward the client: the
        encrypted bodies joined, for the caller to write on the previous channel in this
        order. None if the circuit cannot relay them (closed, no open next hop): then
        hand the cells to `from_next` one by one for the usual answer."""
        if self.closed or self.next_state != "open":
            return None
        cells = self.cells
        cells["next_in"] += len(bodies)
        cells["prev_out"] += len(bodies)
        return self._crypto.relay_backward_many(b"".join(bodies))

    def extend_failed(self, message: str) -> list[RelayCircuitEvent]:
        """The runtime could not reach the next hop."""
        if self.closed:
            return []
        self.next_state = "none"
        return self._close(DestroyReason.CONNECTFAILED, message, notify_next=False)

    def channel_closed(self, side: Side) -> list[RelayCircuitEvent]:
        """The previous or next channel died."""
        if self.closed:
            return []
        if side is Side.NEXT:
            self.next_state = "none"
        return self._close(DestroyReason.CHANNEL_CLOSED, f"{side.value} channel closed",
                           notify_prev=side is Side.NEXT, notify_next=side is Side.PREV)

    def destroy(self, reason: DestroyReason, message: str) -> list[RelayCircuitEvent]:
        """Close the circuit on our own initiative (shutdown, resource limits)."""
        return [] if self.closed else self._close(reason, message)

    # -- edge replies (called by the exit) -------------------------------------------------
    def send_to_client(self, msg: RelayMessage, stream_id: int) -> None:
        """Originate a relay message toward the client (CONNECTED, END, RESOLVED...)."""
        if self.closed:
            return
        if isinstance(msg, End) and stream_id:
            self.streams.forget(stream_id)
        body = encode_message(msg, stream_id, self._rng)
        self._out.append(OutCell(_PREV, _RELAY, self._crypto.originate_backward(body)))

    def can_send_data(self, stream_id: int) -> bool:
        """True if the circuit and stream package windows allow one more DATA cell."""
        return not self.closed and self.package.can_send() and self.streams.can_send(stream_id)

    def data_room(self, stream_id: int) -> int:
        """How many DATA cells the circuit and stream package windows allow now."""
        if self.closed:
            return 0
        return max(0, min(self.package.window, self.streams.room(stream_id)))

    def send_data(self, stream_id: int, data: bytes) -> None:
        """Originate one DATA cell (at most 498 bytes); check `can_send_data` first."""
        if self.closed:
            return
        body = encode_data_body(stream_id, data, self._rng)
        self._out.append(OutCell(_PREV, _RELAY, self._crypto.originate_backward(body)))
        self.package.on_data_sent(self._crypto.last_backward_digest)
        self.streams.on_sent(stream_id, len(data))

    def send_data_run(self, stream_id: int, chunks: Sequence[bytes]) -> bytes:
        """Originate one DATA cell per chunk (at most `data_room` chunks of 1..498 bytes),
        sealed with one AES call: the cells' encrypted bodies joined, for the caller to
        write on the previous channel *after* `cells_to_send()`. The same bytes, windows
        and digests as `send_data` chunk by chunk."""
        if self.closed or not chunks:
            return b""
        if len(chunks) > self.data_room(stream_id):
            raise ValueError("more DATA cells than the package windows allow")
        run, digests = self._crypto.originate_backward_many(
            self._data_bodies(stream_id, chunks))
        self.package.on_data_sent_many(digests)
        self.streams.on_sent(stream_id, sum(map(len, chunks)), len(chunks))
        self.cells["prev_out"] += len(chunks)
        return run

    def _data_bodies(self, stream_id: int, chunks: Sequence[bytes]) -> bytes:
        """The DATA bodies joined: laid out in one piece when every chunk but the last is
        full (the exit's pump cuts them so), else one by one."""
        rng = self._rng
        if set(map(len, chunks[:-1])) <= {RELAY_DATA_MAX}:
            return encode_data_bodies(stream_id, chunks, rng)
        return b"".join(encode_data_body(stream_id, chunk, rng) for chunk in chunks)

    def statistics(self) -> dict[str, object]:
        """A snapshot for the control port: cells and bytes per side, streams, windows."""
        c = self.cells
        return {
            "next": self.next_state, "streams": len(self.streams),
            "cells": dict(c),
            "bytes_read": (c["prev_in"] + c["next_in"]) * CELL_WIRE_LEN,
            "bytes_written": (c["prev_out"] + c["next_out"]) * CELL_WIRE_LEN,
            "package_window": self.package.window, "deliver_window": self.deliver.window,
            "relay_early_left": self._early_left,
            "congestion_control": (self.package.statistics()
                                   if isinstance(self.package, CongestionWindow) else None),
        }

    # -- internals ------------------------------------------------------------------------
    def _from_prev_relay(self, command: int, payload: bytes) -> list[RelayCircuitEvent]:
        if command not in (C.RELAY, C.RELAY_EARLY):
            raise _Violation(DestroyReason.PROTOCOL, f"unexpected {_name(command)} cell")
        early = command == C.RELAY_EARLY
        if early:
            if self._early_left == 0:
                raise _Violation(DestroyReason.PROTOCOL, "too many RELAY_EARLY cells")
            self._early_left -= 1
        ours, body = self._crypto.decrypt_forward(payload)
        if not ours:
            if self.next_state != "open":
                raise _Violation(DestroyReason.PROTOCOL,
                                 "unrecognized relay cell, but the circuit stops here")
            self._out.append(OutCell(_NEXT, command, body))
            return []
        try:
            cell = RelayCell.decode(body)
        except ParseError as exc:
            raise _Violation(DestroyReason.PROTOCOL, f"bad relay cell: {exc}") from exc
        return self._on_recognized(cell, early)

    def _on_recognized(self, cell: RelayCell, early: bool) -> list[RelayCircuitEvent]:
        try:
            msg = decode_message(cell.command, cell.data)
        except ParseError as exc:
            if cell.command in _IGNORED_IF_MALFORMED:
                return []
            if cell.stream_id and cell.command in (Begin.command, BeginDir.command,
                                                   Resolve.command):
                self.send_to_client(End(EndReason.TORPROTOCOL), cell.stream_id)
                return []
            raise _Violation(DestroyReason.PROTOCOL, f"malformed relay message: {exc}") from exc
        if isinstance(msg, Data):
            self._count_data(cell.stream_id)
        if cell.stream_id == 0:
            return self._on_control(msg, early)
        if isinstance(msg, (Extend2, Truncate)):
            return []
        try:
            events, replies = self.streams.handle(cell.stream_id, msg)
        except StreamViolation as exc:
            raise _Violation(DestroyReason.PROTOCOL, str(exc)) from exc
        for stream_id, reply in replies:
            self.send_to_client(reply, stream_id)
        for _ in range(self.streams.sendmes_due(cell.stream_id)):
            self.send_to_client(Sendme(), cell.stream_id)
        return list(events)

    def _count_data(self, stream_id: int) -> None:
        if stream_id == 0:
            raise _Violation(DestroyReason.PROTOCOL, "DATA on stream 0")
        try:
            sendme = self.deliver.on_data_received(self._crypto.last_forward_digest)
        except FlowControlViolation as exc:
            raise _Violation(DestroyReason.PROTOCOL, str(exc)) from exc
        if sendme is not None:
            self.send_to_client(sendme, 0)

    def _on_control(self, msg: RelayMessage, early: bool) -> list[RelayCircuitEvent]:
        if isinstance(msg, Sendme):
            verdict = self.package.on_sendme(msg)
            if verdict.is_violation:
                raise _Violation(DestroyReason.PROTOCOL, f"bad circuit SENDME: {verdict.value}")
            return [StreamWindowOpened(0)]
        if isinstance(msg, Extend2):
            return self._on_extend2(msg, early)
        if isinstance(msg, Truncate):
            return self._on_truncate()
        return []

    def _on_extend2(self, msg: Extend2, early: bool) -> list[RelayCircuitEvent]:
        if not early:
            return []
        if self.next_state != "none":
            raise _Violation(DestroyReason.PROTOCOL, "EXTEND2 when a next hop already exists")
        if msg.htype not in (HandshakeType.NTOR, HandshakeType.NTOR_V3):
            raise _Violation(DestroyReason.PROTOCOL, f"EXTEND2 with handshake type {msg.htype}")
        specs = msg.link_specifiers
        rsa = next((s.fingerprint for s in specs if isinstance(s, LinkSpecLegacyId)), None)
        ed = next((s.key for s in specs if isinstance(s, LinkSpecEd25519Id)), None)
        ipv4 = next((s for s in specs if isinstance(s, LinkSpecIPv4)), None)
        ipv6 = next((s for s in specs if isinstance(s, LinkSpecIPv6)), None)
        if rsa is None or rsa == bytes(20):
            raise _Violation(DestroyReason.PROTOCOL, "EXTEND2 without an RSA identity")
        if ipv4 is None and ipv6 is None:
            raise _Violation(DestroyReason.PROTOCOL, "EXTEND2 without an address")
        self.next_state = "pending"
        return [ExtendRequested(rsa, ed, ipv4, ipv6, msg.create2().encode())]

    def _on_created2(self, payload: bytes) -> list[RelayCircuitEvent]:
        try:
            created = Created2.decode(payload)
        except ParseError as exc:
            return self._close(DestroyReason.PROTOCOL, f"bad CREATED2 from the next hop: {exc}")
        self.next_state = "open"
        self.send_to_client(Extended2(created.hdata), 0)
        return []

    def _on_truncate(self) -> list[RelayCircuitEvent]:
        events: list[RelayCircuitEvent] = []
        if self.next_state != "none":
            self._out.append(OutCell(Side.NEXT, C.DESTROY, Destroy(DestroyReason.NONE).encode()))
            self.next_state = "none"
            events.append(NextHopReleased())
        self.send_to_client(Truncated(DestroyReason.REQUESTED), 0)
        return events

    def _close(self, reason: DestroyReason, message: str, *, notify_prev: bool = True,
               notify_next: bool = True) -> list[RelayCircuitEvent]:
        prev_reason = reason
        if notify_next and self.next_state != "none":
            self._out.append(OutCell(Side.NEXT, C.DESTROY, Destroy(reason).encode()))
        if notify_prev:
            self._out.append(OutCell(Side.PREV, C.DESTROY, Destroy(prev_reason).encode()))
        self.closed = True
        self.next_state = "none"
        return [CircuitClosed(int(reason), message)]


def _name(command: int) -> str:
    try:
        return ChannelCommand(command).name
    except ValueError:
        return f"command-{command}"


__all__ = [
    "CircuitClosed",
    "ExtendRequested",
    "NextHopReleased",
    "OutCell",
    "RelayCircuit",
    "RelayCircuitEvent",
    "Side",
]

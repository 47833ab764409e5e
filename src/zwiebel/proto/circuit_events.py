"""What a client circuit reports to the runtime (`zwiebel.proto.circuit.ClientCircuit`):
hops added, relay messages, DATA, opened windows, and the ways a circuit ends
(tor-spec 5.4-5.5, 6, 7.3-7.4)."""

from __future__ import annotations

from dataclasses import dataclass

from zwiebel.cells.relay_message import RelayMessage


@dataclass(frozen=True)
class HopAdded:
    """A CREATED/EXTENDED reply completed the handshake with hop `hop`."""

    hop: int


@dataclass(frozen=True)
class StreamMessage:
    """A relay message for stream `stream_id` arrived from hop `hop`."""

    hop: int
    stream_id: int
    message: RelayMessage


@dataclass(slots=True)
class DataReceived:
    """DATA for stream `stream_id` from hop `hop`: the bodies of `cells` consecutive
    cells of one read, in order, in one or more chunks (one event for a run, not one per
    cell)."""

    hop: int
    stream_id: int
    chunks: list[bytes]
    cells: int = 1


@dataclass(frozen=True)
class WindowOpened:
    """A SENDME made room to send more DATA (stream 0 means the circuit window)."""

    stream_id: int


@dataclass(frozen=True)
class CircuitTruncated:
    """A hop sent TRUNCATED: the circuit now ends at hop `hops - 1`."""

    hops: int
    reason: int


@dataclass(frozen=True)
class CircuitDestroyed:
    """The peer sent DESTROY; the circuit is gone."""

    reason: int


@dataclass(frozen=True)
class CircuitFailed:
    """The peer broke the protocol; the runtime must send DESTROY and close."""

    reason: str


CircuitEvent = (
    HopAdded | StreamMessage | DataReceived | WindowOpened | CircuitTruncated
    | CircuitDestroyed | CircuitFailed
)

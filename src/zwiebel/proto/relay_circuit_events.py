"""What a relay circuit (`zwiebel.proto.relay_circuit.RelayCircuit`) hands the runtime:
cells for its two channels, and events (extend, next hop gone, closed) besides the edge
streams' (tor-spec 5.1-5.5)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

from zwiebel.cells.linkspec import LinkSpecIPv4, LinkSpecIPv6
from zwiebel.proto.relay_streams import StreamEvent


class Side(Enum):
    """Which channel a cell goes to."""

    PREV = "prev"
    NEXT = "next"


class OutCell(NamedTuple):
    """A cell to write on the previous or next channel of this circuit (a named tuple:
    one is made per relayed cell, and tuples are the cheapest immutable record)."""

    side: Side
    command: int
    payload: bytes


@dataclass(frozen=True)
class ExtendRequested:
    """The client asked us to extend: open or reuse a channel and send `create2` on it.

    `ed25519_id` is None when the client gave none (then any Ed25519 identity is fine).
    """

    rsa_id: bytes
    ed25519_id: bytes | None
    ipv4: LinkSpecIPv4 | None
    ipv6: LinkSpecIPv6 | None
    create2_payload: bytes


@dataclass(frozen=True)
class NextHopReleased:
    """The next hop is gone (TRUNCATE, or its DESTROY): release its circuit ID."""


@dataclass(frozen=True)
class CircuitClosed:
    """The circuit is finished; DESTROY cells are queued; release both circuit IDs."""

    reason: int
    message: str


RelayCircuitEvent = StreamEvent | ExtendRequested | NextHopReleased | CircuitClosed

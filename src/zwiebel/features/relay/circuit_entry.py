"""One circuit of the relay's table (`features.relay.circuits.RelayCircuits`): its entry
(channels and circuit IDs on both sides) and the handle the exit gets to send on it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from zwiebel.cells.framing import ChannelCommand
from zwiebel.cells.relay_message import RelayMessage
from zwiebel.proto.relay_circuit import RelayCircuit
from zwiebel.proto.relay_streams import xoff_exit_limit
from zwiebel.runtime.orconn import OrConnection

if TYPE_CHECKING:
    from zwiebel.features.relay.circuits import RelayCircuits

_RELAY = int(ChannelCommand.RELAY)


@dataclass(eq=False)
class CircuitEntry:
    """One circuit in the table: the circuit, its global id, its channels and IDs."""

    circ: RelayCircuit
    gid: int
    prev: OrConnection
    prev_id: int
    created: float
    next: OrConnection | None = None
    next_id: int = 0
    handle: CircuitHandle | None = field(default=None, repr=False)


class CircuitHandle:
    """What the edge (exit) sees of one circuit: send messages and DATA to the client."""

    def __init__(self, table: RelayCircuits, entry: CircuitEntry) -> None:
        self._table = table
        self._entry = entry

    @property
    def gid(self) -> int:
        """The circuit's global id (for logs and the control port)."""
        return self._entry.gid

    @property
    def closed(self) -> bool:
        """True once the circuit is gone."""
        return self._entry.circ.closed

    def send(self, msg: RelayMessage, stream_id: int) -> None:
        """Originate a relay message toward the client."""
        self._entry.circ.send_to_client(msg, stream_id)
        self._table.flush(self._entry)

    def data_room(self, stream_id: int) -> int:
        """How many DATA cells the SENDME windows allow on the stream now."""
        return self._entry.circ.data_room(stream_id)

    def send_data_run(self, stream_id: int, chunks: Sequence[bytes]) -> None:
        """Originate one DATA cell per chunk (at most `data_room` of them, 498 bytes
        each at most): one AES call, one append to the previous channel's output."""
        entry = self._entry
        self._table.flush(entry)
        run = entry.circ.send_data_run(stream_id, chunks)
        if not run:
            return
        entry.prev.send_cell_run(entry.prev_id, _RELAY, run)

    def forget_stream(self, stream_id: int) -> None:
        """The edge is done with a stream it did not END (RESOLVE answered)."""
        self._entry.circ.streams.forget(stream_id)

    @property
    def flow_control(self) -> bool:
        """True when the circuit negotiated congestion control (streams use XON/XOFF)."""
        return self._entry.circ.streams.flow_control

    @property
    def xoff_limit(self) -> int:
        """Bytes buffered toward a destination above which XOFF is due."""
        return xoff_exit_limit(self._table.consensus_params() or {})

    def xon_rate(self, stream_id: int) -> int:
        """The rate the client's last XON advised for the stream (bytes/s; 0: none)."""
        stream = self._entry.circ.streams.streams.get(stream_id)
        return stream.xon_rate if stream is not None else 0

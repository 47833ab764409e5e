"""The client's circuits and streams as the control port reports them: CIRC and STREAM
events for each change (control-spec 4.1.1-4.1.2) and what GETINFO stream-status and
the stream commands need to remember of each stream."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from zwiebel.cells.relay_msgs import EndReason
from zwiebel.managers.events import (
    CircStatus,
    CircuitEvent,
    EventBus,
    Hop,
    StreamEvent,
    StreamStatus,
)
from zwiebel.runtime.circuit import Circuit
from zwiebel.runtime.stream import Stream, StreamClosed


def _end_reason_name(reason: int) -> str:
    try:
        return EndReason(reason).name
    except ValueError:
        return "MISC"


def circuit_close_reason(text: str) -> tuple[str, str | None]:
    """(REASON, REMOTE_REASON) for a runtime close reason (control-spec 4.1.1)."""
    if text.startswith("destroyed by peer: "):
        return "DESTROYED", text.removeprefix("destroyed by peer: ")
    if text.startswith("channel closed"):
        return "CHANNEL_CLOSED", None
    if "timed out" in text:
        return "TIMEOUT", None
    if text.startswith("closed by controller"):
        return "REQUESTED", None
    if text.startswith("truncated"):
        return "DESTROYED", None
    return "FINISHED", None


class CircuitTracker:
    """Emits CIRC events for client circuits and remembers those being built."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self.building: dict[int, Circuit] = {}
        #: Reserved global IDs (EXTENDCIRCUIT) whose circuit has not been launched yet.
        self.unlaunched: set[int] = set()
        self._status: dict[int, CircStatus] = {}

    def status(self, circuit: Circuit) -> CircStatus:
        """The last status reported for ``circuit``."""
        return self._status.get(circuit.global_id, CircStatus.LAUNCHED)

    def launched(self, circuit: Circuit) -> None:
        """A build started; report CLOSED when the circuit goes away."""
        self.building[circuit.global_id] = circuit
        self.unlaunched.discard(circuit.global_id)
        circuit.on_teardown = lambda reason: self._closed(circuit, reason)
        self._emit(circuit, CircStatus.LAUNCHED)

    def extended(self, circuit: Circuit) -> None:
        """One more hop is built."""
        self._emit(circuit, CircStatus.EXTENDED)

    def built(self, circuit: Circuit) -> None:
        """Every hop is built."""
        self.building.pop(circuit.global_id, None)
        self._emit(circuit, CircStatus.BUILT)

    def failed(self, circuit: Circuit, exc: BaseException) -> None:
        """The build failed (a CLOSED event follows from the teardown)."""
        self.building.pop(circuit.global_id, None)
        reason = "TIMEOUT" if "timed out" in str(exc) else "CONNECTFAILED"
        if circuit.closed_reason and circuit.closed_reason.startswith("destroyed by peer"):
            reason = "DESTROYED"
        self._emit(circuit, CircStatus.FAILED, reason)

    def _closed(self, circuit: Circuit, text: str) -> None:
        self.building.pop(circuit.global_id, None)
        reason, remote = circuit_close_reason(text)
        self._emit(circuit, CircStatus.CLOSED, reason, remote)
        self._status.pop(circuit.global_id, None)

    def _emit(self, circuit: Circuit, status: CircStatus, reason: str | None = None,
              remote: str | None = None) -> None:
        self._status[circuit.global_id] = status
        path = tuple(Hop(r.fingerprint, r.nickname) for r in circuit.path)
        self.bus.emit(CircuitEvent(circuit.global_id, status, path, circuit.time_created,
                                   purpose=circuit.purpose, reason=reason,
                                   remote_reason=remote))


@dataclass
class StreamRecord:
    """What GETINFO stream-status shows of one client stream, and what a controller
    changes: its target (REDIRECTSTREAM) and, while it waits in CONTROLLER_WAIT, the
    future ATTACHSTREAM completes with (circuit or None, 0-based hop or -1)."""

    stream_id: int
    address: str
    port: int
    status: StreamStatus = StreamStatus.NEW
    circ_id: int = 0
    stream: Stream | None = None
    waiting: asyncio.Future[tuple[Circuit | None, int]] | None = None

    @property
    def target(self) -> str:
        """``address:port``."""
        return f"{self.address}:{self.port}"


class StreamTracker:
    """Emits STREAM events for client streams and lists the live ones."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self.streams: dict[int, StreamRecord] = {}
        self._next_id = 1

    def new(self, address: str, port: int) -> StreamRecord:
        """A SOCKS request arrived: allocate a global stream ID and report NEW."""
        record = StreamRecord(self._next_id, address, port)
        self._next_id += 1
        self.streams[record.stream_id] = record
        self._emit(record, StreamStatus.NEW, purpose="USER")
        return record

    def new_resolve(self, hostname: str) -> StreamRecord:
        """A resolve request (SOCKS RESOLVE or the RESOLVE command): NEWRESOLVE."""
        record = StreamRecord(self._next_id, hostname, 0)
        self._next_id += 1
        self.streams[record.stream_id] = record
        self._emit(record, StreamStatus.NEWRESOLVE, purpose="DNS_REQUEST")
        return record

    def sent_resolve(self, record: StreamRecord, circuit: Circuit) -> None:
        """RESOLVE went out on ``circuit``."""
        record.circ_id = circuit.global_id
        self._emit(record, StreamStatus.SENTRESOLVE)

    def resolved(self, record: StreamRecord, ok: bool) -> None:
        """The answer (or its failure) is known: SUCCEEDED or FAILED, then CLOSED."""
        self._emit(record, StreamStatus.SUCCEEDED if ok else StreamStatus.FAILED,
                   None if ok else "RESOLVEFAILED")
        self._closed(record, EndReason.DONE if ok else EndReason.RESOLVEFAILED)

    def controller_wait(self, record: StreamRecord) -> asyncio.Future[tuple[Circuit | None, int]]:
        """__LeaveStreamsUnattached: the stream waits for ATTACHSTREAM."""
        record.waiting = asyncio.get_running_loop().create_future()
        record.circ_id = 0
        self._emit(record, StreamStatus.CONTROLLER_WAIT)
        return record.waiting

    def remapped(self, record: StreamRecord, address: str) -> None:
        """The address map rewrote the target: REMAP SOURCE=CACHE."""
        record.address = address
        self.bus.emit(StreamEvent(record.stream_id, StreamStatus.REMAP, record.circ_id,
                                  record.target, source="CACHE"))

    def sent_connect(self, record: StreamRecord, circuit: Circuit) -> None:
        """BEGIN went out on ``circuit``."""
        record.circ_id = circuit.global_id
        self._emit(record, StreamStatus.SENTCONNECT)

    def detached(self, record: StreamRecord, reason: int) -> None:
        """The attempt failed and the stream will be retried on another circuit."""
        self._emit(record, StreamStatus.DETACHED, _end_reason_name(reason))
        record.circ_id = 0

    def succeeded(self, record: StreamRecord, stream: Stream) -> None:
        """CONNECTED arrived; report CLOSED when the stream ends."""
        record.stream = stream
        self._emit(record, StreamStatus.SUCCEEDED)
        stream.on_end = lambda reason: self._closed(record, reason)

    def failed(self, record: StreamRecord, exc: BaseException) -> None:
        """No attempt succeeded: FAILED, then CLOSED."""
        code = exc.reason if isinstance(exc, StreamClosed) else EndReason.NOROUTE
        reason = _end_reason_name(code)
        self._emit(record, StreamStatus.FAILED, reason)
        self._closed(record, code)

    def _closed(self, record: StreamRecord, reason: int) -> None:
        """CLOSED (while the record is still listed, so watchers can read its last
        byte counts), then forget the stream."""
        self._emit(record, StreamStatus.CLOSED, _end_reason_name(reason))
        self.streams.pop(record.stream_id, None)

    def _emit(self, record: StreamRecord, status: StreamStatus, reason: str | None = None,
              purpose: str | None = None) -> None:
        record.status = status
        self.bus.emit(StreamEvent(record.stream_id, status, record.circ_id, record.target,
                                  reason=reason, purpose=purpose))

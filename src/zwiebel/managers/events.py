"""A small typed publish/subscribe bus the managers report what happens into.

The circuit, channel and directory managers and the daemon emit frozen events here;
features that watch the process (the control port now, metrics and the monitor
later) subscribe by event type. Emitting never fails for the emitter: a subscriber
that raises is logged and skipped. Events carry plain values (fingerprints, ids,
reason names) so that formatting them for a controller (control-spec 4.1) needs
nothing from the runtime objects.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from zwiebel.cells.relay_msgs import EndReason
from zwiebel.managers.bootstrap import BootstrapState
from zwiebel.runtime.circuit import Circuit
from zwiebel.runtime.stream import Stream, StreamClosed

log = logging.getLogger("zwiebel")


class CircStatus(enum.Enum):
    """Circuit status values of CIRC events (control-spec 4.1.1)."""

    LAUNCHED = "LAUNCHED"
    EXTENDED = "EXTENDED"
    BUILT = "BUILT"
    FAILED = "FAILED"
    CLOSED = "CLOSED"


class StreamStatus(enum.Enum):
    """Stream status values of STREAM events (control-spec 4.1.2)."""

    NEW = "NEW"
    NEWRESOLVE = "NEWRESOLVE"
    SENTCONNECT = "SENTCONNECT"
    SENTRESOLVE = "SENTRESOLVE"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CLOSED = "CLOSED"
    DETACHED = "DETACHED"
    REMAP = "REMAP"
    CONTROLLER_WAIT = "CONTROLLER_WAIT"


class OrConnStatus(enum.Enum):
    """OR connection status values of ORCONN events (control-spec 4.1.3)."""

    NEW = "NEW"
    LAUNCHED = "LAUNCHED"
    CONNECTED = "CONNECTED"
    FAILED = "FAILED"
    CLOSED = "CLOSED"


@dataclass(frozen=True)
class Hop:
    """One relay of a path: upper-case hex fingerprint and nickname."""

    fingerprint: str
    nickname: str | None = None


@dataclass(frozen=True)
class CircuitEvent:
    """A client circuit changed status."""

    circ_id: int
    status: CircStatus
    path: tuple[Hop, ...]
    time_created: dt.datetime
    purpose: str = "GENERAL"
    build_flags: tuple[str, ...] = ()
    reason: str | None = None
    remote_reason: str | None = None


@dataclass(frozen=True)
class StreamEvent:
    """A client stream changed status; ``target`` is ``host:port``."""

    stream_id: int
    status: StreamStatus
    circ_id: int
    target: str
    reason: str | None = None
    source_addr: str | None = None
    purpose: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class OrConnEvent:
    """A channel to a relay changed status."""

    conn_id: int
    status: OrConnStatus
    fingerprint: str | None
    address: str
    nickname: str | None = None
    reason: str | None = None
    ncircs: int = 0


@dataclass(frozen=True)
class StatusEvent:
    """A STATUS_GENERAL/CLIENT/SERVER event: kind, severity, action and ``K=V`` args."""

    kind: str
    severity: str
    action: str
    arguments: tuple[tuple[str, str], ...] = ()
    quoted: frozenset[str] = field(default=frozenset())


@dataclass(frozen=True)
class ConfChangedEvent:
    """Options changed: (canonical name, value or None for the default) per line."""

    entries: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True)
class SignalEvent:
    """A signal (from the OS or SIGNAL) was acted on."""

    name: str


@dataclass(frozen=True)
class NewConsensusEvent:
    """A new consensus was accepted (the control port formats its entries)."""

    valid_after: dt.datetime


@dataclass(frozen=True)
class NewDescEvent:
    """New server descriptors arrived: (fingerprint, nickname) of each relay."""

    relays: tuple[Hop, ...]


@dataclass(frozen=True)
class AddrMapEvent:
    """An address was mapped or resolved (control-spec 4.1.7).

    ``expires`` is None for a mapping that never expires; ``error`` is tor's
    ``error=...`` word for a failed resolve.
    """

    source: str
    target: str
    expires: dt.datetime | None = None
    error: str | None = None
    cached: bool = False
    stream_id: int = 0


@dataclass(frozen=True)
class GuardEvent:
    """An entry guard was added or changed status (control-spec 4.1.10): NEW, UP,
    DOWN, DROPPED (BAD and GOOD are no longer sent by tor)."""

    fingerprint: str
    nickname: str | None
    status: str


Event = (CircuitEvent | StreamEvent | OrConnEvent | StatusEvent | ConfChangedEvent
         | SignalEvent | NewConsensusEvent | NewDescEvent | AddrMapEvent | GuardEvent)
E = TypeVar("E")


class EventBus:
    """Subscribers keyed by event type; emit calls them in subscription order."""

    def __init__(self) -> None:
        self._subs: dict[type[Any], list[Callable[[Any], None]]] = {}

    def subscribe(self, kind: type[E], callback: Callable[[E], None]) -> Callable[[], None]:
        """Call ``callback`` for every event of ``kind``; returns the unsubscriber."""
        subs = self._subs.setdefault(kind, [])
        subs.append(callback)

        def unsubscribe() -> None:
            if callback in subs:
                subs.remove(callback)

        return unsubscribe

    def emit(self, event: object) -> None:
        """Deliver ``event``; a failing subscriber is logged, never propagated."""
        for callback in list(self._subs.get(type(event), ())):
            try:
                callback(event)
            except Exception:  # a watcher must not break the emitter
                log.exception("Event subscriber failed on %s", type(event).__name__)

    def has_subscribers(self, kind: type[Any]) -> bool:
        """True if anyone listens for ``kind`` (lets emitters skip costly work)."""
        return bool(self._subs.get(kind))


# -- helpers the managers use to emit -------------------------------------------------


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


def orconn_reason(exc: BaseException) -> str:
    """The ORCONN REASON for a failed connection attempt (control-spec 4.1.3)."""
    if isinstance(exc, TimeoutError):
        return "TIMEOUT"
    if isinstance(exc, ConnectionRefusedError):
        return "CONNECTREFUSED"
    if isinstance(exc, ConnectionResetError):
        return "CONNECTRESET"
    if "identity" in str(exc).lower():
        return "IDENTITY"
    return "IOERROR" if isinstance(exc, OSError) else "MISC"


def bootstrap_status(state: BootstrapState) -> StatusEvent:
    """``STATUS_CLIENT NOTICE BOOTSTRAP PROGRESS= TAG= SUMMARY=`` for the current phase."""
    args = (("PROGRESS", str(int(state.phase))), ("TAG", state.tag), ("SUMMARY", state.summary))
    return StatusEvent("CLIENT", "NOTICE", "BOOTSTRAP", args, frozenset({"SUMMARY"}))

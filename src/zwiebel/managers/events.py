"""A small typed publish/subscribe bus the managers report what happens into.

The circuit, channel and directory managers and the daemon emit frozen events here;
features that watch the process (the control port now, metrics and the monitor
later) subscribe by event type. Emitting never fails for the emitter: a subscriber
that raises is logged and skipped. Events carry plain values (fingerprints, ids,
reason names) so that formatting them for a controller (control-spec 4.1) needs
nothing from the runtime objects.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from zwiebel.managers.bootstrap import BootstrapState

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

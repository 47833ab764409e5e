"""Turns what the daemon reports into controller events (control-spec 4.1).

It subscribes to the managers' :class:`~zwiebel.managers.events.EventBus` and formats
CIRC, STREAM, ORCONN, STATUS_* (with CLOCK_SKEW from an authority's NETINFO, see
``clockskew``), CONF_CHANGED and SIGNAL events; a one-second timer
sends BW with the bytes read and written on all channels in that second (the same
counters as GETINFO traffic/read and traffic/written, so the events add up to them);
a logging handler sends ERR/WARN/NOTICE/INFO/DEBUG events. While a controller wants
INFO or DEBUG the ``zwiebel`` logger's level is lowered so those records exist; the
log destinations keep their own severity ranges.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from zwiebel.config.dirservers import trusted_authorities
from zwiebel.control import events as fmt
from zwiebel.features.control.bwevents import BandwidthEvents
from zwiebel.features.control.clockskew import clock_skew_status
from zwiebel.managers.events import (
    AddrMapEvent,
    CircuitEvent,
    ConfChangedEvent,
    GuardEvent,
    NewConsensusEvent,
    NewDescEvent,
    OrConnEvent,
    SignalEvent,
    StatusEvent,
    StreamEvent,
)

if TYPE_CHECKING:
    from zwiebel.features.control.service import ControlService

NOTICE = 25
_SEVERITIES = ((logging.ERROR, "err"), (logging.WARNING, "warn"), (NOTICE, "notice"),
               (logging.INFO, "info"), (0, "debug"))
_LEVEL_OF_EVENT = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "NOTICE": NOTICE,
                   "WARN": logging.WARNING, "ERR": logging.ERROR}


def severity(levelno: int) -> str:
    """tor's severity name for a logging level."""
    return next(name for level, name in _SEVERITIES if levelno >= level)


class ControlLogHandler(logging.Handler):
    """Forwards log records to controllers that asked for their severity."""

    def __init__(self, service: ControlService) -> None:
        super().__init__(logging.DEBUG)
        self.service = service
        self._thread = threading.get_ident()
        self._busy = False

    def emit(self, record: logging.LogRecord) -> None:
        """Queue a log event for the controllers that want this severity."""
        if self._busy or threading.get_ident() != self._thread:
            return
        sev = severity(record.levelno)
        name = fmt.LOG_EVENTS[sev]
        if not self.service.wanted(name):
            return
        self._busy = True
        try:
            data = fmt.event_bytes(fmt.log_event(sev, record.getMessage()))
            asyncio.get_running_loop().call_soon(self.service.broadcast, name, data)
        except RuntimeError:
            return  # no event loop running (start-up or shutdown): nobody to tell
        finally:
            self._busy = False


class EventBridge:
    """Subscriptions to the event bus, the BW timer and the log handler."""

    def __init__(self, service: ControlService) -> None:
        self.service = service
        self._unsubscribe: list[Callable[[], None]] = []
        self._bw_task: asyncio.Task[None] | None = None
        self.bandwidth = BandwidthEvents(service.host)
        self._handler = ControlLogHandler(service)
        self._logger = logging.getLogger("zwiebel")
        self._base_level = self._logger.level

    def start(self) -> None:
        """Subscribe, install the log handler and start the BW timer."""
        bus = self.service.host.events
        self._unsubscribe = [
            bus.subscribe(CircuitEvent, self._circ),
            bus.subscribe(StreamEvent, self._stream),
            bus.subscribe(OrConnEvent, self._orconn),
            bus.subscribe(StatusEvent, self._status),
            bus.subscribe(ConfChangedEvent, self._conf_changed),
            bus.subscribe(SignalEvent, self._signal),
            bus.subscribe(AddrMapEvent, self._addrmap),
            bus.subscribe(GuardEvent, self._guard),
            bus.subscribe(NewConsensusEvent, self._newconsensus),
            bus.subscribe(NewDescEvent, self._newdesc),
        ]
        self._base_level = self._logger.getEffectiveLevel()
        self._logger.addHandler(self._handler)
        self.service.on_events_changed = self.update_log_level
        self._bw_task = asyncio.get_running_loop().create_task(self._bw_loop())

    def stop(self) -> None:
        """Undo :meth:`start`."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        self._logger.removeHandler(self._handler)
        self._logger.setLevel(self._base_level)
        if self._bw_task is not None:
            self._bw_task.cancel()

    def update_log_level(self) -> None:
        """Lower the logger's level while a controller wants more than the logs pass."""
        level = self._base_level or self._logger.getEffectiveLevel()
        for name, wanted_level in _LEVEL_OF_EVENT.items():
            if self.service.wanted(name):
                level = min(level, wanted_level)
        self._logger.setLevel(level)

    async def _bw_loop(self) -> None:
        channels = self.service.host.channels
        last = channels.traffic()
        while True:
            await asyncio.sleep(1.0)
            now = channels.traffic()
            read, written = now[0] - last[0], now[1] - last[1]
            last = now
            self.service.client_info.bw_cache.append((read, written))
            self._send("BW", fmt.bw_event(read, written))
            self._per_second()

    def _per_second(self) -> None:
        bw = self.bandwidth
        for name, lines in (("STREAM_BW", bw.stream_bw), ("CIRC_BW", bw.circ_bw),
                            ("CONN_BW", bw.conn_bw)):
            if self.service.wanted(name):
                for line in lines():
                    self._send(name, line)

    def _send(self, name: str, text: str) -> None:
        """Queue the event: like tor, it goes out after the reply being written."""
        if self.service.wanted(name):
            data = fmt.event_bytes(text)
            asyncio.get_running_loop().call_soon(self.service.broadcast, name, data)

    def _circ(self, event: CircuitEvent) -> None:
        path = [fmt.relay_name(h.fingerprint, h.nickname) for h in event.path]
        desc = fmt.circ_description(path, event.purpose, event.time_created, event.build_flags)
        self._send("CIRC", fmt.circ_event(event.circ_id, event.status.value, desc,
                                          event.reason, event.remote_reason))

    def _stream(self, event: StreamEvent) -> None:
        if event.status.value == "CLOSED" and self.service.wanted("STREAM_BW"):
            for line in self.bandwidth.stream_bw():
                self._send("STREAM_BW", line)
        self._send("STREAM", fmt.stream_event(
            event.stream_id, event.status.value, event.circ_id, event.target, event.reason,
            event.source_addr, event.purpose, event.source))

    def _orconn(self, event: OrConnEvent) -> None:
        target = (fmt.relay_name(event.fingerprint, event.nickname) if event.fingerprint
                  else event.address)
        self._send("ORCONN", fmt.orconn_event(target, event.status.value, event.conn_id,
                                              event.reason, event.ncircs))
        if self.service.wanted("STATUS_GENERAL"):
            host = self.service.host
            authorities = frozenset(a.fingerprint for a in trusted_authorities(host.options))
            skew = clock_skew_status(event, host.channels, authorities)
            if skew is not None:
                host.events.emit(skew)

    def _status(self, event: StatusEvent) -> None:
        words = [f'{k}="{v}"' if k in event.quoted else f"{k}={v}" for k, v in event.arguments]
        self._send(f"STATUS_{event.kind}", fmt.status_event(
            event.kind, event.severity, event.action, " ".join(words)))

    def _conf_changed(self, event: ConfChangedEvent) -> None:
        self._send("CONF_CHANGED", fmt.conf_changed_event(event.entries))

    def _signal(self, event: SignalEvent) -> None:
        self._send("SIGNAL", fmt.signal_event(event.name))

    def _addrmap(self, event: AddrMapEvent) -> None:
        self._send("ADDRMAP", fmt.addrmap_event(event.source, event.target, event.expires,
                                                event.error, event.cached, event.stream_id))

    def _guard(self, event: GuardEvent) -> None:
        name = fmt.relay_name(event.fingerprint, event.nickname)
        self._send("GUARD", fmt.guard_event(name, event.status))

    def _newconsensus(self, event: NewConsensusEvent) -> None:
        if self.service.wanted("NEWCONSENSUS"):
            entries = self.service.registry.lookup("ns/all") or ""
            self._send("NEWCONSENSUS", "NEWCONSENSUS\n" + entries.rstrip("\n"))

    def _newdesc(self, event: NewDescEvent) -> None:
        names = [fmt.relay_name(h.fingerprint, h.nickname) for h in event.relays]
        if names:
            self._send("NEWDESC", fmt.newdesc_event(names))


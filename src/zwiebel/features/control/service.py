"""State shared by every controller connection: the host, the GETINFO registry, the
authentication secrets, the subscribed connections, configuration changes and signals.

The authentication cookie is 32 random bytes written, owner-only (0600), to
CookieAuthFile or ``DataDirectory/control_auth_cookie`` as tor does
(``init_control_cookie_authentication``); it is made at start and again if SETCONF
turns CookieAuthentication on later.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from zwiebel.config import Options
from zwiebel.control.auth import COOKIE_LEN, AuthConfig
from zwiebel.control.reply import ReplyLine, ok, reply
from zwiebel.encoding import b16
from zwiebel.features.control import confcmds
from zwiebel.features.control.circcmds import Resolver
from zwiebel.features.control.getinfo import GetInfoRegistry
from zwiebel.features.control.host import ControlHost, HostInfo
from zwiebel.features.control.info_addr import AddressInfo
from zwiebel.features.control.info_client import ClientInfo
from zwiebel.features.control.signals import NewnymLimiter, set_debug_logging
from zwiebel.managers.events import Hop, NewConsensusEvent, NewDescEvent, SignalEvent

if TYPE_CHECKING:
    from zwiebel.features.control.connection import ControlConnection

log = logging.getLogger("zwiebel")
NOTICE = 25


class ControlService:
    """Everything the control connections share."""

    def __init__(self, host: ControlHost, info: HostInfo) -> None:
        self.host = host
        self.info = info
        self.registry = GetInfoRegistry()
        self.client_info = ClientInfo(host, info)
        self.client_info.register(self.registry)
        AddressInfo(host).register(self.registry)
        self.connections: set[ControlConnection] = set()
        self.on_events_changed: Callable[[], None] = lambda: None
        self.newnym = NewnymLimiter()
        self.resolver = Resolver(host.circuits)
        _watch_directory(host)
        host.circuits.leave_unattached = lambda: bool(
            self.host.options.get("__LeaveStreamsUnattached"))
        self._cookie: bytes | None = None
        self._cookie_path: str | None = None

    # -- authentication ------------------------------------------------------------------
    def cookie_path(self) -> str:
        """CookieAuthFile, or DataDirectory/control_auth_cookie."""
        options = self.host.options
        configured = options.get("CookieAuthFile")
        if configured:
            return os.path.abspath(os.path.expanduser(str(configured)))
        data_dir = os.path.expanduser(str(options.data_directory or "~/.tor"))
        return os.path.abspath(os.path.join(data_dir, "control_auth_cookie"))

    def ensure_cookie(self) -> None:
        """Write a fresh cookie if cookie authentication is on and none was made."""
        if not self.host.options.get("CookieAuthentication"):
            return
        path = self.cookie_path()
        if self._cookie is not None and self._cookie_path == path:
            return
        cookie = os.urandom(COOKIE_LEN)
        write_cookie(path, cookie)
        self._cookie, self._cookie_path = cookie, path

    def auth_config(self) -> AuthConfig:
        """The methods and secrets the current configuration allows."""
        options = self.host.options
        cookie = self._cookie if options.get("CookieAuthentication") else None
        hashes = tuple(str(h) for h in options.get("HashedControlPassword") or ())
        return AuthConfig(cookie, self._cookie_path, hashes)

    # -- subscriptions ---------------------------------------------------------------------
    def set_events(self, conn: ControlConnection, names: set[str]) -> None:
        """SETEVENTS: replace the connection's subscriptions."""
        conn.events = frozenset(names)
        self.on_events_changed()

    def wanted(self, name: str) -> bool:
        """True if some authenticated connection asked for event ``name``."""
        return any(c.authenticated and name in c.events for c in self.connections)

    def broadcast(self, name: str, data: bytes) -> None:
        """Send an event to every connection that asked for it."""
        for conn in list(self.connections):
            conn.send_event(name, data)

    def connection_closed(self, conn: ControlConnection) -> None:
        """Forget ``conn``; if it owned the daemon, stop (TAKEOWNERSHIP)."""
        self.connections.discard(conn)
        self.on_events_changed()
        if conn.owning:
            log.log(NOTICE, "Owning controller connection has closed -- exiting now.")
            self.host.request_stop()

    # -- configuration -----------------------------------------------------------------------
    def change_options(self, change: Callable[[Options], Options]) -> list[ReplyLine]:
        """Apply a configuration change atomically and announce it (CONF_CHANGED)."""
        old = self.host.options
        try:
            new = change(old)
        except confcmds.ConfError as exc:
            return reply(exc.code, str(exc))
        self.host.options = new
        event = confcmds.changed_entries(old, new)
        if event.entries:
            self.host.events.emit(event)
        self.ensure_cookie()
        return ok()

    def reload(self) -> None:
        """SIGHUP/RELOAD: the daemon's reload (the same one SIGHUP runs)."""
        self.host.reload_config()

    # -- signals -------------------------------------------------------------------------------
    def signal(self, name: str) -> None:
        """Act on a SIGNAL (already validated and canonical), then announce it."""
        host = self.host
        if name in ("SHUTDOWN", "HALT"):
            host.events.emit(SignalEvent(name))
            host.request_stop()
            return
        if name == "RELOAD":
            self.reload()
        elif name == "NEWNYM":
            self._newnym()
            return
        elif name in ("DORMANT", "ACTIVE"):
            self.client_info.dormant = name == "DORMANT"
        elif name == "DEBUG":
            set_debug_logging()
        elif name == "HEARTBEAT":
            self._heartbeat()
        elif name == "DUMP":
            self._dump()
        host.events.emit(SignalEvent(name))

    def _newnym(self) -> None:
        """do_signewnym: act now, or once the rate limit allows (tor logs the delay)."""
        wait = self.newnym.delay(time.monotonic())
        if wait <= 0:
            self.host.circuits.new_identity()
            self.host.events.emit(SignalEvent("NEWNYM"))
            return
        if not self.newnym.pending:
            self.newnym.pending = True
            asyncio.get_running_loop().call_later(wait, self._delayed_newnym)
        log.log(NOTICE, "Rate limiting NEWNYM request: delaying by %d second(s)",
                math.ceil(wait))

    def _delayed_newnym(self) -> None:
        """The delayed NEWNYM is due. An event loop's timer may fire a little before the
        monotonic clock reaches the deadline (uvloop counts whole milliseconds): then
        it is scheduled again rather than dropped."""
        self.newnym.pending = False
        self._newnym()

    def _heartbeat(self) -> None:
        read, written = self.host.channels.traffic()
        uptime = int(time.time() - self.info.started_at)
        log.log(NOTICE, "Heartbeat: Tor's uptime is %d seconds, with %d circuits open. "
                        "I've sent %d bytes and received %d bytes.",
                uptime, len(self.host.circuits.circuits), written, read)

    def _dump(self) -> None:
        for channel in self.host.channels.channels():
            log.info("Channel %d to %s: %d bytes read, %d written, %d circuits.",
                     channel.conn_id, channel.describe(), channel.bytes_read,
                     channel.bytes_written, channel.circuit_count)
        for circuit in self.host.circuits.circuits:
            log.info("Circuit %d: %d hops, %d streams.", circuit.global_id,
                     len(circuit.path), circuit.stream_count)


def _watch_directory(host: ControlHost) -> None:
    """NEWCONSENSUS and NEWDESC come from the directory manager's hooks."""
    events = host.events
    host.directory.on_consensus = lambda c: events.emit(NewConsensusEvent(c.valid_after))
    host.directory.on_descriptors = lambda docs: events.emit(NewDescEvent(
        tuple(Hop(b16(d.identity), d.nickname) for d in docs)))


def write_cookie(path: str, cookie: bytes) -> None:
    """Write the cookie atomically with mode 0600, creating the folder (0700)."""
    folder = os.path.dirname(path)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, cookie)
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    os.replace(tmp, path)

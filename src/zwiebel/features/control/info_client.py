r"""GETINFO keys answered from the daemon and the client's managers (control-spec 3.9).

Values follow tor 0.4.9: ``version`` is ``0.4.9.11 (zwiebel-0.1.0)`` so stem and nyx
parse it as the tor release whose behaviour Zwiebel implements (stem's pattern,
``( \(\S*\))*``, refuses a space inside the parentheses); ``fingerprint`` and
``address`` fail with 551 on a client as in tor; lists (circuit-status and friends)
are joined with line breaks and so arrive as data blocks when they hold more than one
entry. The relay role overrides or adds keys by registering its own providers.
"""

from __future__ import annotations

import getpass
import os
import resource
import time
from collections import deque
from collections.abc import Callable, Iterable

from zwiebel import TOR_COMPAT_VERSION, __version__
from zwiebel.config import config_text
from zwiebel.control.events import EVENT_NAMES, circ_description, relay_name
from zwiebel.control.status import (
    StatusEntry,
    circuit_status_line,
    guard_status_line,
    join_lines,
    listener_list,
    ns_entry,
    orconn_status_line,
    stream_status_line,
)
from zwiebel.encoding import b16
from zwiebel.features.control.config_names import config_defaults, config_names
from zwiebel.features.control.getinfo import GetInfoError, GetInfoRegistry
from zwiebel.features.control.host import ControlHost, HostInfo
from zwiebel.features.control.signals import SIGNAL_NAMES
from zwiebel.managers.bootstrap import Phase
from zwiebel.managers.events import CircStatus, Hop
from zwiebel.netdoc.microdesc import Microdescriptor
from zwiebel.netdoc.routerstatus import RouterStatus
from zwiebel.netdoc.serverdesc import ServerDescriptor

#: stem's version pattern allows a parenthesised suffix without spaces only.
VERSION = f"{TOR_COMPAT_VERSION} (zwiebel-{__version__})"
FEATURE_NAMES = ("VERBOSE_NAMES", "EXTENDED_EVENTS")
#: Seconds of BW history kept for ``bw-event-cache`` (tor: N_BW_EVENTS_TO_CACHE).
BW_CACHE_LEN = 300


class ClientInfo:
    """Providers for the client's GETINFO keys, plus state the control port keeps."""

    def __init__(self, host: ControlHost, info: HostInfo) -> None:
        self.host = host
        self.info = info
        self.dormant = False
        self.bw_cache: deque[tuple[int, int]] = deque(maxlen=BW_CACHE_LEN)
        self.control_addresses: list[str] = []

    def register(self, reg: GetInfoRegistry) -> None:
        """Add every key this module answers."""
        for key, provider, doc in self._plain():
            reg.add(key, provider, doc)
        reg.add_prefix("ns/id/", self._ns_id, "Router status by identity digest.")
        reg.add_prefix("ns/name/", self._ns_name, "Router status by nickname.")
        reg.add_prefix("md/id/", self._md_id, "Microdescriptor by identity digest.")
        reg.add_prefix("md/name/", self._md_name, "Microdescriptor by nickname.")
        reg.add_prefix("desc/id/", self._desc_id, "Server descriptor by identity digest.")
        reg.add_prefix("desc/name/", self._desc_name, "Server descriptor by nickname.")
        reg.add("info/names", reg.names, "List of GETINFO options, types, and documentation.")

    def _plain(self) -> list[tuple[str, Callable[[], str | None], str]]:
        opts = self.host
        return [
            ("version", lambda: VERSION, "The current version of tor."),
            ("config-file", self._config_file, "Current location of the torrc."),
            ("config-defaults-file", self._defaults_file, "Current location of defaults."),
            ("config-text", lambda: config_text(opts.options), "Current configuration."),
            ("config/names", lambda: config_names(opts.options), "Configuration options."),
            ("config/defaults", lambda: config_defaults(opts.options), "Option defaults."),
            ("events/names", lambda: " ".join(EVENT_NAMES), "Events the controller can ask for."),
            ("signal/names", lambda: " ".join(SIGNAL_NAMES), "Signal names recognized."),
            ("features/names", lambda: " ".join(FEATURE_NAMES), "Known USEFEATURE names."),
            ("process/pid", lambda: str(os.getpid()), "Process id belonging to the main tor."),
            ("process/uid", lambda: str(os.getuid()), "User id running the tor process."),
            ("process/user", getpass.getuser, "Username under which tor is running."),
            ("process/descriptor-limit", _descriptor_limit, "File descriptor limit."),
            ("uptime", self._uptime, "Uptime of the Tor daemon in seconds."),
            ("traffic/read", lambda: str(opts.channels.traffic()[0]), "Bytes read."),
            ("traffic/written", lambda: str(opts.channels.traffic()[1]), "Bytes written."),
            ("bw-event-cache", self._bw_cache, "Cached BW events for a short interval."),
            ("status/bootstrap-phase", opts.bootstrap.phase_line, "The last bootstrap phase."),
            ("status/circuit-established", self._established, "Whether we think client "
             "functionality is working."),
            ("status/enough-dir-info", self._enough_dir, "Whether we have enough "
             "directory information."),
            ("status/version/current", self._version_status, "Status of the current version."),
            ("circuit-status", self._circuit_status, "List of current circuits."),
            ("stream-status", self._stream_status, "List of current streams."),
            ("orconn-status", self._orconn_status, "A list of current OR connections."),
            ("entry-guards", self._entry_guards, "Which nodes are we using as entry guards?"),
            ("ns/all", self._ns_all, "Brief summary of router status (v2 directory format)."),
            ("net/listeners/socks", self._socks, "Bound addresses by type"),
            ("net/listeners/control", lambda: listener_list(self.control_addresses),
             "Bound addresses by type"),
            ("dormant", lambda: "1" if self.dormant else "0", "Are we dormant?"),
            ("fingerprint", _not_server, "Get hex fingerprint of this relay."),
            ("address", _address_unknown, "IP address of this Tor host, if we can guess it."),
            ("exit-policy/full", _not_server, "The entire exit policy of this relay."),
            ("accounting/enabled", lambda: "0", "Is accounting currently enabled?"),
            ("accounting/hibernating", lambda: "awake", "Are we hibernating or awake?"),
            ("accounting/bytes", lambda: "0 0", "Bytes used in this accounting interval."),
            ("accounting/bytes-left", lambda: "0 0", "Bytes left in this interval."),
        ]

    # -- simple values --------------------------------------------------------------
    def _config_file(self) -> str:
        if self.info.config_file is None:
            raise GetInfoError("No configuration file")
        return self.info.config_file

    def _defaults_file(self) -> str:
        return self.info.defaults_file or ""

    def _uptime(self) -> str:
        return str(int(time.time() - self.info.started_at))

    def _bw_cache(self) -> str:
        return " ".join(f"{r},{w}" for r, w in self.bw_cache)

    def _established(self) -> str:
        return "1" if self.host.bootstrap.phase >= Phase.DONE else "0"

    def _enough_dir(self) -> str:
        return "1" if self.host.directory.netdir is not None else "0"

    def _version_status(self) -> str:
        consensus = self.host.directory.consensus
        if consensus is None or not consensus.client_versions:
            return "unknown"
        return "recommended" if TOR_COMPAT_VERSION in consensus.client_versions else "obsolete"

    def _socks(self) -> str:
        return listener_list(self.host.socks_addresses())

    # -- circuits, streams, connections, guards ---------------------------------------
    def _circuit_status(self) -> str:
        manager = self.host.circuits
        circuits = list(manager.circ_events.building.values()) + manager.circuits
        lines = []
        for circuit in sorted(circuits, key=lambda c: c.global_id):
            status = manager.circ_events.status(circuit)
            if status is CircStatus.LAUNCHED and circuit.path:
                status = CircStatus.BUILT
            path = [relay_name(r.fingerprint, r.nickname) for r in circuit.path]
            desc = circ_description(path, "GENERAL", circuit.time_created)
            lines.append(circuit_status_line(circuit.global_id, status.value, desc))
        return join_lines(lines)

    def _stream_status(self) -> str:
        records = self.host.circuits.stream_events.streams.values()
        return join_lines(stream_status_line(r.stream_id, r.status.value, r.circ_id, r.target)
                          for r in records)

    def _orconn_status(self) -> str:
        lines = []
        for channel in self.host.channels.channels():
            rsa_id = channel.peer_rsa_id or channel.expected_rsa_id
            name = self._long_name(rsa_id) if rsa_id else f"{channel.host}:{channel.port}"
            lines.append(orconn_status_line(name, "CONNECTED" if channel.is_open() else
                                            "LAUNCHED"))
        return join_lines(lines)

    def _entry_guards(self) -> str:
        return join_lines(guard_status_line(name, status)
                          for name, status in self._guards())

    def _guards(self) -> Iterable[tuple[str, str]]:
        for guard in self.host.circuits.guard_list():
            record = guard.record
            name = relay_name(b16(record.rsa_identity), record.nickname)
            if not record.listed:
                yield name, "unlisted"
            elif record.confirmed_on is None:
                yield name, "never-connected"
            elif guard.reachable.value == "no":
                yield name, "down"
            else:
                yield name, "up"

    def _long_name(self, rsa_id: bytes) -> str:
        status = self._status_by_id(rsa_id)
        return relay_name(b16(rsa_id), status.nickname if status else None)

    # -- directory documents ------------------------------------------------------------
    def _routers(self) -> tuple[RouterStatus, ...]:
        consensus = self.host.directory.consensus
        return () if consensus is None else consensus.routers

    def _status_by_id(self, rsa_id: bytes) -> RouterStatus | None:
        consensus = self.host.directory.consensus
        routers = consensus.routers if consensus is not None else ()
        return next((r for r in routers if r.identity == rsa_id), None)

    def _entry(self, status: RouterStatus) -> str:
        doc = self._document(status)
        policy = status.policy_summary.encode() if status.policy_summary else None
        has_desc = isinstance(doc, ServerDescriptor)
        ipv6 = next(((a, p) for a, p in status.or_addresses if ":" in a), None)
        return ns_entry(StatusEntry(
            status.nickname, status.identity, status.descriptor_digest, status.address,
            status.or_port, status.dir_port, status.flags, status.bandwidth, ipv6,
            policy if has_desc else None))

    def _ns_all(self) -> str:
        return "".join(self._entry(r) for r in self._routers())

    def _find(self, key: str, prefix: str) -> RouterStatus | None:
        wanted = key[len(prefix):]
        for status in self._routers():
            if prefix.endswith("name/") and status.nickname.lower() == wanted.lower():
                return status
            if prefix.endswith("id/") and b16(status.identity) == wanted.lstrip("$").upper():
                return status
        return None

    def _ns_id(self, key: str) -> str | None:
        if self.host.directory.consensus is None:
            return ""  # tor answers every ns/ key with "" before it has a consensus
        return self._answer(self._find(key, "ns/id/"), self._entry)

    def _ns_name(self, key: str) -> str | None:
        if self.host.directory.consensus is None:
            return ""
        return self._answer(self._find(key, "ns/name/"), self._entry)

    def _md_id(self, key: str) -> str | None:
        return self._answer(self._find(key, "md/id/"), self._microdesc)

    def _md_name(self, key: str) -> str | None:
        return self._answer(self._find(key, "md/name/"), self._microdesc)

    def _desc_id(self, key: str) -> str | None:
        return self._answer(self._find(key, "desc/id/"), self._server_desc)

    def _desc_name(self, key: str) -> str | None:
        return self._answer(self._find(key, "desc/name/"), self._server_desc)

    @staticmethod
    def _answer(status: RouterStatus | None,
                render: Callable[[RouterStatus], str]) -> str | None:
        return None if status is None else render(status)

    def _document(self, status: RouterStatus) -> Microdescriptor | ServerDescriptor | None:
        docs = self.host.directory.documents()
        digest = status.microdesc_digest or status.descriptor_digest
        return docs.get(digest) if digest else None

    def _microdesc(self, status: RouterStatus) -> str:
        doc = self._document(status)
        if not isinstance(doc, Microdescriptor):
            raise GetInfoError("No such microdescriptor")
        return doc.raw

    def _server_desc(self, status: RouterStatus) -> str:
        doc = self._document(status)
        if not isinstance(doc, ServerDescriptor):
            raise GetInfoError("Not found: this client fetches microdescriptors")
        return doc.raw


def hop_name(hop: Hop) -> str:
    """``$FP~nick`` of an event's hop."""
    return relay_name(hop.fingerprint, hop.nickname)


def _descriptor_limit() -> str:
    return str(resource.getrlimit(resource.RLIMIT_NOFILE)[0])


def _not_server() -> str:
    raise GetInfoError("Not running in server mode")


def _address_unknown() -> str:
    raise GetInfoError("Address unknown")

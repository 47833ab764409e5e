"""GETINFO keys of the relay role (control-spec 3.9) and Zwiebel's connection keys
(proposal 172, "GETINFO controller option for connection information").

:func:`install_connection_info` registers, for every role, ``conn/all`` and
``conn/<circuit id>/<connection id>`` (format and scrubbing:
:mod:`zwiebel.control.conninfo`), ``info/uptime-process``, ``info/descriptor-used``,
``info/descriptor-limit`` and tor's ``exit-policy/default`` and
``exit-policy/reject-private/default``. :func:`install_relay_info`, called once the
relay has started, replaces the client's 551 answers for ``fingerprint``, ``address``
and ``exit-policy/full`` and adds ``exit-policy/ipv4``, ``exit-policy/ipv6``,
``info/relay/bw-limit``, ``info/relay/burst-limit``, ``info/relay/read-total``,
``info/relay/write-total``, ``info/uptime-reset`` and ``ns/authority``, and answers
``accounting/*`` from the relay's accounting (:mod:`.info_accounting`).

Values: ``exit-policy/*`` are tor's ``policy_dump_to_string`` (descriptor form, one rule
a line); ``info/relay/bw-limit`` and ``burst-limit`` are the bytes per second the relay
allows relayed traffic (RelayBandwidthRate/Burst when set, else BandwidthRate/Burst);
``read-total``/``write-total`` count every byte of the relay's OR connections since
start, closed ones included; ``info/uptime-reset`` is the seconds since the relay role
started; ``info/descriptor-used`` the process's open file descriptors;
``ns/authority`` our own entry in the consensus the authorities signed ("" while we
are not listed).
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable
from typing import Protocol

from zwiebel.config import Options
from zwiebel.control.conninfo import conn_all, conn_line, find_conn, parse_conn_key
from zwiebel.encoding import ParseError, b16
from zwiebel.features.control.conn_sources import RelayParts, channel_samples, relay_samples
from zwiebel.features.control.getinfo import GetInfoError, GetInfoRegistry
from zwiebel.features.control.info_accounting import install_accounting_info
from zwiebel.features.relay.accounting import Accounting
from zwiebel.features.relay.service import RelayService
from zwiebel.managers.channels import ChannelManager
from zwiebel.managers.conntrack import ConnTracker
from zwiebel.netdoc.policy import DEFAULT_EXIT_POLICY, PRIVATE_NETWORKS, ExitPolicy
from zwiebel.runtime.clock import monotonic

Key = tuple[str, Callable[[], str], str]


class RelayLike(Protocol):
    """What the relay service exposes to the control port."""

    @property
    def fingerprint(self) -> bytes:
        """Our RSA identity digest."""

    @property
    def address(self) -> str:
        """The address we advertise."""

    @property
    def exit_policy(self) -> ExitPolicy:
        """The current exit policy."""

    @property
    def parts(self) -> RelayParts:
        """Circuits and exit of the running relay."""

    @property
    def started_at(self) -> float:
        """time.time() when the relay role started."""

    def accounting(self) -> Accounting | None:
        """The accounting state (None without AccountingMax)."""


class RelayView:
    """:class:`RelayLike` over the daemon's ``RelayService``."""

    def __init__(self, service: RelayService) -> None:
        self._service = service

    @property
    def fingerprint(self) -> bytes:
        """Our RSA identity digest."""
        return self._service.keys.fingerprint

    @property
    def address(self) -> str:
        """The first advertised address."""
        return str(self._service.feature_settings.addresses[0])

    @property
    def exit_policy(self) -> ExitPolicy:
        """The current exit policy (SIGHUP may replace it)."""
        return self._service.exit_policy

    @property
    def parts(self) -> RelayParts:
        """The relay feature's circuits and exit."""
        return self._service.feature

    @property
    def started_at(self) -> float:
        """When the relay role started."""
        return self._service.started.timestamp()

    def accounting(self) -> Accounting | None:
        """The meter's accounting state (None without AccountingMax)."""
        return self._service.meter.accounting


def install_connection_info(reg: GetInfoRegistry, tracker: ConnTracker,
                            started_at: float, channels: ChannelManager) -> None:
    """Keys every role answers: the connection list and process facts. The client's
    channels join the registry here; SOCKS connections report themselves."""
    tracker.add_source(lambda: channel_samples(channels))
    reg.add("conn/all", lambda: conn_all(tracker.snapshot()),
            "Every connection: ids, address, flags, bytes, uptime (Zwiebel).")
    reg.add_prefix("conn/", lambda key: _one_conn(tracker, key),
                   "conn/<circuit id>/<connection id>: one connection (Zwiebel).")
    for key, provider, doc in [
        ("info/uptime-process", lambda: str(int(time.time() - started_at)),
         "Seconds since the process started (Zwiebel)."),
        ("info/descriptor-used", descriptors_used, "Open file descriptors (Zwiebel)."),
        ("info/descriptor-limit", descriptor_limit, "File descriptor limit (Zwiebel)."),
        ("exit-policy/default", lambda: DEFAULT_EXIT_POLICY,
         "The default exit policy lines tor will use."),
        ("exit-policy/reject-private/default", private_policy,
         "The default rules appended to an exit policy by ExitPolicyRejectPrivate."),
    ]:
        reg.add(key, provider, doc)


def _one_conn(tracker: ConnTracker, key: str) -> str | None:
    try:
        circ_id, conn_id = parse_conn_key(key)
    except ParseError:
        return None
    info = find_conn(tracker.snapshot(), circ_id, conn_id)
    if info is None:
        raise GetInfoError(f"No connection {conn_id} on circuit {circ_id}")
    return conn_line(info)


def install_relay_info(reg: GetInfoRegistry, tracker: ConnTracker, relay: RelayLike,
                       options: Callable[[], Options]) -> None:
    """Keys of a running relay; its connections join ``conn/*``."""
    tracker.add_source(lambda: relay_samples(relay.parts, monotonic()))
    for key, provider, doc in _relay_keys(reg, relay, options):
        reg.add(key, provider, doc)
    install_accounting_info(reg, relay.accounting)


def _relay_keys(reg: GetInfoRegistry, relay: RelayLike,
                options: Callable[[], Options]) -> list[Key]:
    return [
        ("fingerprint", lambda: b16(relay.fingerprint), "Get hex fingerprint of this relay."),
        ("address", lambda: relay.address, "IP address of this Tor host, if we can guess it."),
        ("exit-policy/full", lambda: policy_text(relay.exit_policy),
         "The entire exit policy of onion router"),
        ("exit-policy/ipv4", lambda: policy_text(relay.exit_policy, 4),
         "IPv4 parts of exit policy"),
        ("exit-policy/ipv6", lambda: policy_text(relay.exit_policy, 6),
         "IPv6 parts of exit policy"),
        ("info/relay/bw-limit", lambda: str(bandwidth(options(), "Rate")),
         "Bytes per second allowed for relayed traffic (Zwiebel)."),
        ("info/relay/burst-limit", lambda: str(bandwidth(options(), "Burst")),
         "Burst bytes allowed for relayed traffic (Zwiebel)."),
        ("info/relay/read-total", lambda: str(relay_totals(relay.parts)[0]),
         "Bytes read by the relay's OR connections since start (Zwiebel)."),
        ("info/relay/write-total", lambda: str(relay_totals(relay.parts)[1]),
         "Bytes written by the relay's OR connections since start (Zwiebel)."),
        ("info/uptime-reset", lambda: str(int(time.time() - relay.started_at)),
         "Seconds since the relay role started (Zwiebel)."),
        ("ns/authority", lambda: reg.lookup(f"ns/id/{b16(relay.fingerprint)}") or "",
         "Our own status entry in the consensus (Zwiebel)."),
    ]


def policy_text(policy: ExitPolicy, family: int | None = None) -> str:
    """tor's ``policy_dump_to_string``: descriptor-form rules, one a line."""
    return "\n".join(r.to_line() for r in policy.rules
                     if family is None or r.address.version == family)


def private_policy() -> str:
    """``exit-policy/reject-private/default``: tor's private_nets as reject rules."""
    nets = (f"[{a}]/{bits}" if a.version == 6 else f"{a}/{bits}"
            for a, bits in PRIVATE_NETWORKS)
    return ",".join(f"reject {net}:*" for net in nets)


def bandwidth(options: Options, which: str) -> int:
    """Relay{which} when set (non-zero), else Bandwidth{which}: tor's relay limit."""
    relay = int(options.get(f"RelayBandwidth{which}") or 0)
    return relay if relay else int(options.get(f"Bandwidth{which}") or 0)


def relay_totals(parts: RelayParts) -> tuple[int, int]:
    """Bytes read and written by the relay's OR connections, closed ones included."""
    circuits = parts.circuits
    if circuits is None:
        return 0, 0
    live = list(circuits.connections.values())
    read, written = circuits.closed_bytes
    return (read + sum(c.bytes_read for c in live),
            written + sum(c.bytes_written for c in live))


def descriptors_used() -> str:
    """Open file descriptors of this process (/proc/self/fd, else /dev/fd)."""
    for path in ("/proc/self/fd", "/dev/fd"):
        try:
            return str(len(os.listdir(path)))
        except OSError:
            continue
    raise GetInfoError("Cannot count open file descriptors")


def descriptor_limit() -> str:
    """The soft RLIMIT_NOFILE."""
    return str(resource.getrlimit(resource.RLIMIT_NOFILE)[0])

"""The relay role: ORPort, circuits through this relay, exit streams, keys and descriptors.

`RelayFeature` wires the pieces: the relay's keys (`keys.RelayKeys`, read through the
small `RelayKeysLike` protocol) become link certificates (`proto.relay_linkcerts`) and a
fresh RSA-2048 TLS link key and certificate, as tor makes them (`OrIdentity`); the ORPort
(`runtime.orport`) accepts channels; `circuits.RelayCircuits` answers CREATE_FAST and
CREATE2 (ntor, ntor-v3), forwards cells, extends over authenticated channels and counts
bytes; `exit.ExitHandler` serves BEGIN, RESOLVE and BEGIN_DIR under the exit policy.
Descriptors and their publication are `descriptor` and `publish`; onion keys rotate on
tor's schedule (`keys_schedule` decides, `onion_rotation` acts). Bandwidth: the token
buckets are `proto.tokenbucket` applied by `runtime.ratelimit` to OR connections and,
through `exit_shaping`, to exit connections; the observed bandwidth is `bandwidth`;
AccountingMax periods and hibernation are `accounting` (with `accounting_period` and
`accounting_state`), driven once a second by `accounting_service.BandwidthMeter` and
changed on SIGHUP. `state_io` reads and updates DataDirectory/state.

The ORPort listens on every configured address (`RelaySettings.or_host` and
`extra_listeners`, e.g. an IPv6 ORPort next to the IPv4 one); all share one identity.

Link-key rotation (tor 0.4.9.11 mainloop.c rotate_x509_certificate_callback,
routerkeys.c generate_ed_link_cert): every 2 hours (`keys_schedule.TLS_ROTATION_INTERVAL`,
the first time 2 hours after start), and at once when `request_identity_renewal` is
called (the signing key changed, see `keys_rotation`), the relay makes a fresh RSA TLS
key and X.509 certificate, a new Ed25519 link certificate (CERTS type 5) and
authenticate key and certificate (type 6) from its current keys. Connections accepted
or opened from then on use them; open connections keep what they negotiated.

Design notes: the protocol rules live in the sans-I/O cores (`proto.channel_responder`,
`proto.relay_circuit`, `proto.relay_streams`); this package only decides policy (exit
policy, private-address extension, hibernation) and owns the asyncio objects. The keys
are read through a callable on every CREATE, so onion-key rotation applies at once.
Connections read their TLS context and certificates from the shared `OrIdentity` when
they start, so a rotation replaces that object's contents in place (`_adopt`), and the
listeners and the channel pool see the new keys without being rebuilt.

Deliberately not here (yet): per-IP DoS limits for client channels, per-connection
buckets (PerConnBWRate), congestion control (prop 324), closing connections that have
been open for a week (tor's is_bad_for_new_circs).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from zwiebel.cells.link import NetAddress
from zwiebel.cells.torcert import Ed25519Cert
from zwiebel.crypto import Rng
from zwiebel.crypto.keys import RsaPrivate, X25519Private
from zwiebel.crypto.x509_build import build_x509
from zwiebel.features.relay.circuits import RelayCircuits
from zwiebel.features.relay.edges import DirCache
from zwiebel.features.relay.exit import ExitHandler
from zwiebel.features.relay.keys_schedule import (
    TLS_ROTATION_INTERVAL,
    link_identity_due,
    next_link_identity_check,
)
from zwiebel.netdoc.policy import ExitPolicy
from zwiebel.proto.relay_create import OnionKeys
from zwiebel.proto.relay_linkcerts import Ed25519Signer, RelayLinkIdentity
from zwiebel.runtime.clock import rng as system_rng
from zwiebel.runtime.clock import utcnow
from zwiebel.runtime.listen import Listener
from zwiebel.runtime.orconn import OrIdentity
from zwiebel.runtime.orport import start_orport

__all__ = ["RelayFeature", "RelayKeysLike", "RelaySettings", "make_or_identity"]

log = logging.getLogger("zwiebel")
#: tor's RSA link key size (tortls.c RSA_LINK_KEY_BITS).
LINK_KEY_BITS = 2048
IDENTITY_CERT_LIFETIME = dt.timedelta(days=365)


class RelayKeysLike(Protocol):
    """What the ORPort and circuits need of `features.relay.keys.RelayKeys`."""

    @property
    def identity(self) -> RsaPrivate:
        """RSA-1024 identity key."""

    @property
    def master_id(self) -> bytes:
        """Ed25519 master identity public key."""

    @property
    def signing(self) -> Ed25519Signer:
        """Medium-term Ed25519 signing key."""

    @property
    def signing_cert(self) -> Ed25519Cert:
        """Type-4 certificate of the signing key by the master key."""

    @property
    def ntor(self) -> X25519Private:
        """Current ntor onion key."""

    @property
    def ntor_old(self) -> X25519Private | None:
        """Previous ntor onion key, if still valid."""


@dataclass(frozen=True)
class RelaySettings:
    """The torrc choices the relay runtime needs (parsed by the caller)."""

    or_host: str = "0.0.0.0"
    or_port: int = 9001
    addresses: tuple[NetAddress, ...] = ()
    exit_policy: ExitPolicy = ExitPolicy.from_config(["reject *:*"])
    allow_private_extend: bool = False
    outbound_bind: str | None = None
    dir_cache: DirCache | None = None
    extra_listeners: tuple[tuple[str, int], ...] = ()
    """Further ORPort (host, port) pairs, e.g. ("::1", 9001) for an IPv6 ORPort."""
    tls_rotation_interval: dt.timedelta = TLS_ROTATION_INTERVAL


def _hostname(rng: Rng) -> str:
    """A tor-style random certificate name, "www.<random>.net"."""
    return "www." + base64.b32encode(rng(10)).decode().lower() + ".net"


def make_or_identity(keys: RelayKeysLike, addresses: tuple[NetAddress, ...],
                     now: dt.datetime, rng: Rng) -> OrIdentity:
    """Link certificates from the relay's keys, plus a fresh TLS key and certificate."""
    id_name, link_name = _hostname(rng), _hostname(rng)
    start = now - dt.timedelta(days=1)
    id_cert = build_x509(keys.identity, keys.identity, subject_cn=id_name, issuer_cn=id_name,
                         not_before=start, not_after=now + IDENTITY_CERT_LIFETIME,
                         serial=int.from_bytes(rng(8), "big") >> 1)
    tls_key = RsaPrivate.generate(LINK_KEY_BITS)
    tls_cert = build_x509(tls_key, keys.identity, subject_cn=link_name, issuer_cn=id_name,
                          not_before=start, not_after=now + dt.timedelta(days=2),
                          serial=int.from_bytes(rng(8), "big") >> 1)
    link = RelayLinkIdentity(keys.identity, id_cert, keys.master_id, keys.signing,
                             keys.signing_cert)
    return OrIdentity(link, tls_key, tls_cert, addresses)


def onion_keys_of(keys: RelayKeysLike) -> OnionKeys:
    """The handshake keys: current ntor key first, then the previous one."""
    ntor = (keys.ntor,) if keys.ntor_old is None else (keys.ntor, keys.ntor_old)
    return OnionKeys(keys.identity.public().fingerprint(), keys.master_id, ntor)


def _adopt(identity: OrIdentity, fresh: OrIdentity) -> None:
    """Give the shared `identity` the keys and certificates of `fresh`."""
    vars(identity).update(vars(fresh))


class RelayFeature:
    """ORPort + circuits + exit, started and stopped as one."""

    def __init__(self, keys: Callable[[], RelayKeysLike], settings: RelaySettings,
                 hibernating: Callable[[], bool] = lambda: False,
                 clock: Callable[[], dt.datetime] = utcnow,
                 consensus_params: Callable[[], Mapping[str, int] | None] = lambda: None
                 ) -> None:
        self._keys = keys
        self._consensus_params = consensus_params
        self.settings = settings
        self.exit_policy = settings.exit_policy
        self._hibernating = hibernating
        self._clock = clock
        self.identity: OrIdentity | None = None
        self.identity_made_at: dt.datetime | None = None
        self.rotations = 0
        self.circuits: RelayCircuits | None = None
        self.exit: ExitHandler | None = None
        self._servers: list[Listener] = []
        self._rotation: asyncio.Task[None] | None = None
        self._renew_kick = asyncio.Event()
        self._identity_lock = asyncio.Lock()

    async def start(self) -> None:
        """Make the link identity and open the ORPort on every configured address."""
        s = self.settings
        await self.renew_identity()
        assert self.identity is not None
        self.exit = ExitHandler(lambda: self.exit_policy, s.dir_cache)
        self.circuits = RelayCircuits(
            self.identity, lambda: onion_keys_of(self._keys()), edge=self.exit,
            allow_private_extend=s.allow_private_extend, hibernating=self._hibernating,
            bind_address=s.outbound_bind, consensus_params=self._consensus_params)
        self._servers = []
        for host, port in ((s.or_host, s.or_port),) + s.extra_listeners:
            server = await start_orport(host, port, self.identity, self.circuits)
            self._servers.append(server)
            log.info("Opened OR listener connection (ready) on %s",
                     _host_port(host, _bound_port(server, port)))
        self._renew_kick.clear()
        self._rotation = asyncio.create_task(self._rotation_loop())

    @property
    def or_port(self) -> int:
        """The port the ORPort listens on (useful when configured as 0)."""
        if not self._servers:
            return self.settings.or_port
        return _bound_port(self._servers[0], self.settings.or_port)

    def listening(self) -> list[tuple[str, int]]:
        """(host, port) of every open ORPort listener, ports as bound."""
        wanted = ((self.settings.or_host, self.settings.or_port),) + self.settings.extra_listeners
        return [(host, _bound_port(server, port))
                for (host, port), server in zip(wanted, self._servers, strict=False)
                if server.is_serving()]

    # -- link-key rotation ------------------------------------------------------------
    async def renew_identity(self) -> OrIdentity:
        """A fresh TLS key and certificate and new link certificates from the current
        keys (tor's rotate_x509_certificate); connections from now on use them."""
        async with self._identity_lock:
            now = self._clock()
            fresh = await asyncio.to_thread(make_or_identity, self._keys(),
                                            self.settings.addresses, now, system_rng)
            if self.identity is None:
                self.identity = fresh
            else:
                _adopt(self.identity, fresh)
                self.rotations += 1
                log.info("Rotating tls context.")
            self.identity_made_at = now
            return self.identity

    def request_identity_renewal(self) -> None:
        """Renew the link identity soon (the signing key changed)."""
        self._renew_kick.set()

    def identity_due(self) -> bool:
        """True when the rotation interval is over or the link certificates expire soon."""
        return link_identity_due(self.identity_made_at, self._clock(),
                                 self.settings.tls_rotation_interval)

    def _seconds_to_next_check(self) -> float:
        if self.identity_made_at is None:
            return 0.0
        now = self._clock()
        when = next_link_identity_check(self.identity_made_at, now,
                                        self.settings.tls_rotation_interval)
        return (when - now).total_seconds()

    async def _rotation_loop(self) -> None:
        while True:
            try:
                async with asyncio.timeout(self._seconds_to_next_check()):
                    await self._renew_kick.wait()
            except TimeoutError:
                pass
            forced = self._renew_kick.is_set()
            self._renew_kick.clear()
            if forced or self.identity_due():
                await self.renew_identity()

    def set_exit_policy(self, policy: ExitPolicy) -> None:
        """Apply a new exit policy to new streams (SIGHUP)."""
        self.exit_policy = policy

    def stop_accepting(self) -> None:
        """SIGINT on a relay: close the ORPort listeners and refuse new circuits, while
        open connections and circuits carry on (tor's HIBERNATE_STATE_EXITING)."""
        for server in self._servers:
            server.close()
        if self.circuits is not None:
            self.circuits.hibernating = lambda: True

    async def stop(self) -> None:
        """Close the listeners, destroy every circuit and close every connection."""
        servers, self._servers = self._servers, []
        rotation, self._rotation = self._rotation, None
        if rotation is not None:
            rotation.cancel()
        for server in servers:
            server.close()
        if self.circuits is not None:
            self.circuits.close_all()
            for conn in list(self.circuits.connections.values()):
                conn.close("relay stopping")
        for server in servers:
            await server.wait_closed()

    def statistics(self) -> dict[str, object]:
        """Connections, circuits and exit counters for the control port."""
        out: dict[str, object] = {"or_port": self.or_port}
        if self.circuits is not None:
            out.update(self.circuits.statistics())
        if self.exit is not None:
            out["exit"] = dict(self.exit.counts)
        out["listeners"] = [_host_port(h, p) for h, p in self.listening()]
        out["tls_rotations"] = self.rotations
        return out


def _bound_port(server: Listener, configured: int) -> int:
    """The port a listener is bound to (the configured one until it is open)."""
    if not server.sockets:
        return configured
    return int(server.sockets[0].getsockname()[1])


def _host_port(host: str, port: int) -> str:
    """host:port, IPv6 addresses in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

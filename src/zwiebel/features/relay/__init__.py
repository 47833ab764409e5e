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

Design notes: the protocol rules live in the sans-I/O cores (`proto.channel_responder`,
`proto.relay_circuit`, `proto.relay_streams`); this package only decides policy (exit
policy, private-address extension, hibernation) and owns the asyncio objects. The keys
are read through a callable on every CREATE, so onion-key rotation applies at once.

Deliberately not here (yet): link-certificate rotation while running (the TLS and link
certificates live for two days; restart the feature to renew), per-IP DoS limits for
client channels, per-connection buckets (PerConnBWRate), congestion control (prop 324).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from zwiebel.cells.link import NetAddress
from zwiebel.cells.torcert import Ed25519Cert
from zwiebel.crypto import Rng
from zwiebel.crypto.keys import RsaPrivate, X25519Private
from zwiebel.crypto.x509_build import build_x509
from zwiebel.features.relay.circuits import RelayCircuits
from zwiebel.features.relay.exit import DirCache, ExitHandler
from zwiebel.netdoc.policy import ExitPolicy
from zwiebel.proto.relay_create import OnionKeys
from zwiebel.proto.relay_linkcerts import Ed25519Signer, RelayLinkIdentity
from zwiebel.runtime.clock import rng as system_rng
from zwiebel.runtime.clock import utcnow
from zwiebel.runtime.orport import OrIdentity, start_orport

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


class RelayFeature:
    """ORPort + circuits + exit, started and stopped as one."""

    def __init__(self, keys: Callable[[], RelayKeysLike], settings: RelaySettings,
                 hibernating: Callable[[], bool] = lambda: False) -> None:
        self._keys = keys
        self.settings = settings
        self.exit_policy = settings.exit_policy
        self._hibernating = hibernating
        self.identity: OrIdentity | None = None
        self.circuits: RelayCircuits | None = None
        self.exit: ExitHandler | None = None
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        """Make the link identity and open the ORPort."""
        s = self.settings
        self.identity = make_or_identity(self._keys(), s.addresses, utcnow(), system_rng)
        self.exit = ExitHandler(lambda: self.exit_policy, s.dir_cache)
        self.circuits = RelayCircuits(
            self.identity, lambda: onion_keys_of(self._keys()), edge=self.exit,
            allow_private_extend=s.allow_private_extend, hibernating=self._hibernating,
            bind_address=s.outbound_bind)
        self._server = await start_orport(s.or_host, s.or_port, self.identity, self.circuits)
        log.info("Opened OR listener connection (ready) on %s:%d", s.or_host, self.or_port)

    @property
    def or_port(self) -> int:
        """The port the ORPort listens on (useful when configured as 0)."""
        if self._server is None or not self._server.sockets:
            return self.settings.or_port
        return int(self._server.sockets[0].getsockname()[1])

    def set_exit_policy(self, policy: ExitPolicy) -> None:
        """Apply a new exit policy to new streams (SIGHUP)."""
        self.exit_policy = policy

    def stop_accepting(self) -> None:
        """SIGINT on a relay: close the ORPort listener and refuse new circuits, while
        open connections and circuits carry on (tor's HIBERNATE_STATE_EXITING)."""
        if self._server is not None:
            self._server.close()
        if self.circuits is not None:
            self.circuits.hibernating = lambda: True

    async def stop(self) -> None:
        """Close the listener, destroy every circuit and close every connection."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        if self.circuits is not None:
            self.circuits.close_all()
            for conn in list(self.circuits.connections.values()):
                conn.close("relay stopping")
        if server is not None:
            await server.wait_closed()

    def statistics(self) -> dict[str, object]:
        """Connections, circuits and exit counters for the control port."""
        out: dict[str, object] = {"or_port": self.or_port}
        if self.circuits is not None:
            out.update(self.circuits.statistics())
        if self.exit is not None:
            out["exit"] = dict(self.exit.counts)
        return out

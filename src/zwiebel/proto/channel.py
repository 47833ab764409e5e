"""The initiator's side of the v3 ("in-protocol") link handshake (tor-spec 4), sans I/O.

After TLS, the initiator sends VERSIONS; the responder answers VERSIONS, CERTS,
AUTH_CHALLENGE and NETINFO. A client (no `auth` keys) checks CERTS and sends its
NETINFO at once, as tor does; a relay sends its own CERTS right after VERSIONS and
answers AUTH_CHALLENGE with AUTHENTICATE and NETINFO. The channel is open when the
responder's NETINFO arrives.

Usage: ``initiate()`` gives the VERSIONS bytes to write; ``receive_data(data, now)``
returns events; ``data_to_send()`` drains the bytes to write. Every (state, command)
pair not in `TRANSITIONS` is a `ProtocolViolation`, after which the machine is FAILED.
Cells that follow NETINFO come out as `CellReceived` events; once open the runtime
may take the decoder (`take_decoder`) and read cells directly.

Transcripts for AUTHENTICATE: SLOG is the SHA-256 of every byte received up to and
including AUTH_CHALLENGE (the responder's NETINFO is not in it), CLOG of every byte
sent before AUTHENTICATE.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

from zwiebel.cells.framing import CellDecoder, ChannelCommand, encode_cell, iter_cells
from zwiebel.cells.link import (
    AUTH_METHOD_ED25519_SHA256_RFC5705,
    AuthChallenge,
    Certs,
    NetAddress,
    Netinfo,
    Versions,
)
from zwiebel.crypto import Rng
from zwiebel.crypto.digest import sha256
from zwiebel.encoding import ParseError, b16
from zwiebel.proto.channel_auth import (
    AuthTranscript,
    LinkAuthKeys,
    TlsExporter,
    build_authenticate,
    exporter_value,
)
from zwiebel.proto.channel_certs import PeerIdentity, ProtocolViolation, verify_responder_certs

__all__ = [
    "SUPPORTED_LINK_VERSIONS", "TRANSITIONS", "AuthChallengeReceived", "CellReceived",
    "ChannelEstablished", "ChannelEvent", "ChannelInitiator", "HandshakeState",
    "InitiatorParams", "PeerAuthenticated", "PeerIdentity", "ProtocolViolation",
    "VersionNegotiated",
]

#: Link versions Zwiebel speaks: 4-byte circuit IDs; 5 adds padding negotiation.
SUPPORTED_LINK_VERSIONS = (4, 5)


class HandshakeState(Enum):
    """Where the initiator is in the handshake."""

    START = "start"
    AWAIT_VERSIONS = "await_versions"
    AWAIT_CERTS = "await_certs"
    AWAIT_AUTH_CHALLENGE = "await_auth_challenge"
    AWAIT_NETINFO = "await_netinfo"
    OPEN = "open"
    FAILED = "failed"


@dataclass(frozen=True)
class VersionNegotiated:
    """Both sides' VERSIONS agree on `link_version`."""

    link_version: int


@dataclass(frozen=True)
class PeerAuthenticated:
    """The responder's CERTS cell proved these identities."""

    peer: PeerIdentity


@dataclass(frozen=True)
class AuthChallengeReceived:
    """The responder offered authentication methods (we answered if we authenticate)."""

    challenge: bytes
    methods: tuple[int, ...]
    answered: bool


@dataclass(frozen=True)
class ChannelEstablished:
    """The handshake is complete; the channel is open."""

    link_version: int
    peer_rsa_id: bytes
    peer_ed25519_id: bytes | None
    peer_netinfo: Netinfo
    authenticated: bool
    clock_skew: int | None
    """Our clock minus the peer's NETINFO timestamp, in seconds (None if it sent 0)."""


@dataclass(frozen=True)
class CellReceived:
    """A cell that arrived after the handshake, for the channel layer above."""

    circ_id: int
    command: int
    payload: bytes


ChannelEvent = (VersionNegotiated | PeerAuthenticated | AuthChallengeReceived
                | ChannelEstablished | CellReceived)


@dataclass(frozen=True)
class InitiatorParams:
    """What the runtime tells the machine about the connection.

    `peer_tls_cert` is the DER of the responder's TLS certificate
    (``ssl_object.getpeercert(binary_form=True)``), `peer_address` the address we
    connected to (our NETINFO's OTHERADDR). `auth`, `tls_exporter` and `rng` are only
    for a relay that authenticates; `my_addresses` go in a relay's NETINFO.
    """

    peer_tls_cert: bytes
    peer_address: NetAddress
    expected_rsa_id: bytes | None = None
    expected_ed25519_id: bytes | None = None
    link_versions: tuple[int, ...] = SUPPORTED_LINK_VERSIONS
    auth: LinkAuthKeys | None = None
    tls_exporter: TlsExporter | None = None
    rng: Rng | None = None
    my_addresses: tuple[NetAddress, ...] = ()


S = HandshakeState
C = ChannelCommand
_M = TypeVar("_M", Versions, Certs, AuthChallenge, Netinfo)
_Handler = Callable[["ChannelInitiator", bytes, dt.datetime], None]


class ChannelInitiator:
    """The initiator's handshake state machine (tor-spec 4, 4.1-4.5)."""

    def __init__(self, params: InitiatorParams) -> None:
        if params.auth is not None and (params.tls_exporter is None or params.rng is None):
            raise ValueError("authenticating needs a TLS exporter and an rng")
        self._p = params
        self._state = S.START
        self._decoder = CellDecoder()
        self._link_version: int | None = None
        self._out = bytearray()
        self._events: list[ChannelEvent] = []
        self._recv_log = hashlib.sha256()
        self._sent_log = hashlib.sha256()
        self._slog: bytes | None = None
        self._peer: PeerIdentity | None = None
        self._sent_netinfo = False
        self._authenticated = False
        self._bytes_in = 0
        self._bytes_out = 0

    @property
    def state(self) -> HandshakeState:
        """The current state."""
        return self._state

    @property
    def link_version(self) -> int | None:
        """The negotiated link version, once VERSIONS arrived."""
        return self._link_version

    @property
    def peer(self) -> PeerIdentity | None:
        """The responder's verified identities, once CERTS arrived."""
        return self._peer

    @property
    def slog(self) -> bytes | None:
        """SLOG, once AUTH_CHALLENGE arrived."""
        return self._slog

    def clog(self) -> bytes:
        """The SHA-256 of everything sent so far (CLOG while AUTHENTICATE is unsent)."""
        return self._sent_log.copy().digest()

    def initiate(self) -> bytes:
        """Our VERSIONS cell, the first bytes on the channel."""
        if self._state is not S.START:
            raise RuntimeError("initiate() called twice")
        self._send(C.VERSIONS, Versions(self._p.link_versions).encode())
        self._state = S.AWAIT_VERSIONS
        return self.data_to_send()

    def data_to_send(self) -> bytes:
        """Bytes queued for the peer, removed from the queue."""
        out = bytes(self._out)
        self._out.clear()
        return out

    def receive_data(self, data: bytes, now: dt.datetime) -> list[ChannelEvent]:
        """Process received bytes; `now` is timezone-aware UTC."""
        if self._state in (S.START, S.FAILED):
            raise ProtocolViolation(f"cannot receive in state {self._state.value}")
        self._bytes_in += len(data)
        try:
            for circ_id, command, payload in iter_cells(self._decoder, data):
                self._on_cell(circ_id, command, payload, now)
        except ProtocolViolation:
            self._state = S.FAILED
            raise
        events, self._events = self._events, []
        return events

    def take_decoder(self) -> CellDecoder:
        """Hand the cell decoder (with any buffered bytes) to the open channel."""
        if self._state is not S.OPEN:
            raise RuntimeError("the handshake is not finished")
        return self._decoder

    def statistics(self) -> dict[str, object]:
        """A snapshot for logs and the control port."""
        return {"state": self._state.value, "link_version": self._link_version,
                "bytes_in": self._bytes_in, "bytes_out": self._bytes_out}

    def _on_cell(self, circ_id: int, command: int, payload: bytes, now: dt.datetime) -> None:
        if self._state is S.OPEN:
            self._events.append(CellReceived(circ_id, command, payload))
            return
        if self._slog is None:
            self._recv_log.update(encode_cell(circ_id, command, payload, self._link_version))
        row = TRANSITIONS.get((self._state, command))
        if row is None:
            if command >= 128 and command not in _LINK_COMMANDS:
                return
            raise ProtocolViolation(
                f"unexpected {_name(command)} cell in state {self._state.value}")
        handler, next_state = row
        if circ_id and command in (C.CERTS, C.AUTH_CHALLENGE):
            raise ProtocolViolation(f"{_name(command)} cell with circuit ID {circ_id}")
        handler(self, payload, now)
        self._state = next_state

    def _send(self, command: int, payload: bytes) -> None:
        cell = encode_cell(0, command, payload, self._link_version)
        self._out += cell
        self._bytes_out += len(cell)
        self._sent_log.update(cell)

    def _on_versions(self, payload: bytes, now: dt.datetime) -> None:
        version = _parse(Versions, payload).best_common(self._p.link_versions)
        if version is None:
            raise ProtocolViolation("no link protocol version in common")
        self._link_version = version
        self._decoder.set_link_version(version)
        self._events.append(VersionNegotiated(version))
        if self._p.auth is not None:
            self._send(C.CERTS, self._p.auth.certs.encode())

    def _on_certs(self, payload: bytes, now: dt.datetime) -> None:
        peer = verify_responder_certs(_parse(Certs, payload), self._p.peer_tls_cert, now)
        self._check_expected_identity(peer)
        self._peer = peer
        self._events.append(PeerAuthenticated(peer))
        if self._p.auth is None:
            self._send_netinfo(now)

    def _check_expected_identity(self, peer: PeerIdentity) -> None:
        want_rsa, want_ed = self._p.expected_rsa_id, self._p.expected_ed25519_id
        if want_rsa is not None and want_rsa != peer.rsa_id_digest:
            raise ProtocolViolation(f"identity mismatch: expected RSA identity {b16(want_rsa)}, "
                                    f"got {b16(peer.rsa_id_digest)}")
        if want_ed is not None and want_ed != peer.ed25519_identity:
            got = b16(peer.ed25519_identity) if peer.ed25519_identity else "none"
            raise ProtocolViolation(f"identity mismatch: expected Ed25519 identity "
                                    f"{b16(want_ed)}, got {got}")

    def _on_auth_challenge(self, payload: bytes, now: dt.datetime) -> None:
        challenge = _parse(AuthChallenge, payload)
        self._slog = self._recv_log.digest()
        answer = (self._p.auth is not None
                  and AUTH_METHOD_ED25519_SHA256_RFC5705 in challenge.methods)
        if answer:
            self._send_authenticate()
        self._events.append(AuthChallengeReceived(challenge.challenge, challenge.methods, answer))
        if not self._sent_netinfo:
            self._send_netinfo(now)

    def _send_authenticate(self) -> None:
        keys, exporter, rng, peer = self._p.auth, self._p.tls_exporter, self._p.rng, self._peer
        assert keys is not None and exporter is not None and rng is not None
        assert peer is not None and self._slog is not None
        transcript = AuthTranscript(self._slog, self.clog(), sha256(self._p.peer_tls_cert),
                                    exporter_value(exporter, keys.rsa_identity))
        self._send(C.AUTHENTICATE, build_authenticate(keys, peer, transcript, rng).encode())
        self._authenticated = True

    def _send_netinfo(self, now: dt.datetime) -> None:
        if self._p.auth is None:
            netinfo = Netinfo(0, self._p.peer_address)
        else:
            netinfo = Netinfo(int(now.timestamp()), self._p.peer_address, self._p.my_addresses)
        self._send(C.NETINFO, netinfo.encode())
        self._sent_netinfo = True

    def _on_netinfo(self, payload: bytes, now: dt.datetime) -> None:
        netinfo = _parse(Netinfo, payload)
        if not self._sent_netinfo:
            self._send_netinfo(now)
        assert self._peer is not None and self._link_version is not None
        skew = int(now.timestamp()) - netinfo.timestamp if netinfo.timestamp else None
        self._events.append(ChannelEstablished(
            self._link_version, self._peer.rsa_id_digest, self._peer.ed25519_identity,
            netinfo, self._authenticated, skew))

    def _ignore(self, payload: bytes, now: dt.datetime) -> None:
        """VPADDING, AUTHORIZE and repeated VERSIONS cells are dropped."""


def _name(command: int) -> str:
    try:
        return ChannelCommand(command).name
    except ValueError:
        return f"command-{command}"


def _parse(kind: type[_M], payload: bytes) -> _M:
    try:
        return kind.decode(payload)
    except ParseError as exc:
        raise ProtocolViolation(f"malformed {kind.__name__} cell: {exc}") from exc


_LINK_COMMANDS = frozenset({C.VERSIONS, C.CERTS, C.AUTH_CHALLENGE, C.AUTHENTICATE, C.NETINFO})
#: Variable-length cells tor drops in any handshake state (tor-spec 4: "no other cell type
#: is allowed to intervene besides those specified, except for VPADDING cells").
IGNORED_DURING_HANDSHAKE = frozenset({C.VPADDING, C.AUTHORIZE})

_HANDSHAKING = (S.AWAIT_VERSIONS, S.AWAIT_CERTS, S.AWAIT_AUTH_CHALLENGE, S.AWAIT_NETINFO)

#: (state, received command) -> (handler, next state). Any other pair is a violation,
#: except unknown variable-length commands, which tor's channeltls.c drops.
#: VERSIONS after the first "MUST be ignored".
TRANSITIONS: dict[tuple[HandshakeState, int], tuple[_Handler, HandshakeState]] = {
    **{(state, cmd): (ChannelInitiator._ignore, state)
       for state in _HANDSHAKING for cmd in IGNORED_DURING_HANDSHAKE},
    (S.AWAIT_VERSIONS, C.VERSIONS): (ChannelInitiator._on_versions, S.AWAIT_CERTS),
    (S.AWAIT_CERTS, C.VERSIONS): (ChannelInitiator._ignore, S.AWAIT_CERTS),
    (S.AWAIT_CERTS, C.CERTS): (ChannelInitiator._on_certs, S.AWAIT_AUTH_CHALLENGE),
    (S.AWAIT_AUTH_CHALLENGE, C.VERSIONS): (ChannelInitiator._ignore, S.AWAIT_AUTH_CHALLENGE),
    (S.AWAIT_AUTH_CHALLENGE, C.AUTH_CHALLENGE):
        (ChannelInitiator._on_auth_challenge, S.AWAIT_NETINFO),
    (S.AWAIT_AUTH_CHALLENGE, C.NETINFO): (ChannelInitiator._on_netinfo, S.OPEN),
    (S.AWAIT_NETINFO, C.VERSIONS): (ChannelInitiator._ignore, S.AWAIT_NETINFO),
    (S.AWAIT_NETINFO, C.NETINFO): (ChannelInitiator._on_netinfo, S.OPEN),
}

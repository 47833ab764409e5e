"""The responder's side of the v3 link handshake (tor-spec 4, 4.1-4.5), sans I/O.

A relay accepts a TLS connection and waits for the initiator's VERSIONS. It answers in
one flight, as tor's `connection_or.c` does: VERSIONS, CERTS (types 1, 2, 4, 5, 7:
tor 0.4.9 still includes the X.509 link certificate as type 1), AUTH_CHALLENGE offering
only method 3 (Ed25519-SHA256-RFC5705) and NETINFO. Then the initiator either

* sends NETINFO at once: an unauthenticated initiator, which tor's `channeltls.c` marks
  a *client* channel (never used for EXTEND, subject to per-IP limits); or
* sends CERTS (types 2, 4, 6, 7), AUTHENTICATE and NETINFO: a relay proving both
  identities. CERTS followed by NETINFO without AUTHENTICATE also counts as a client.

Transcripts for checking AUTHENTICATE (spec-pitfalls 2): SLOG is the SHA-256 of every
byte we sent up to and including AUTH_CHALLENGE, CLOG of every byte received before
AUTHENTICATE. The TLS exporter is passed in as a callable; without one an initiator's
AUTHENTICATE cannot be checked and is refused.

Every (state, command) pair not in `TRANSITIONS` is a `ProtocolViolation`; the machine is
then FAILED and the runtime closes the connection.
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
    Authenticate,
    Certs,
    CertType,
    NetAddress,
    Netinfo,
    Versions,
)
from zwiebel.crypto import Rng
from zwiebel.crypto.digest import sha256
from zwiebel.crypto.keys import RsaPublic
from zwiebel.encoding import ParseError
from zwiebel.proto.channel import SUPPORTED_LINK_VERSIONS, CellReceived, VersionNegotiated
from zwiebel.proto.channel_auth import (
    AuthTranscript,
    TlsExporter,
    exporter_value,
    verify_authenticate,
)
from zwiebel.proto.channel_certs import PeerIdentity, ProtocolViolation, verify_initiator_certs

__all__ = [
    "RESPONDER_TRANSITIONS", "ChannelResponder", "InitiatorOpened", "ResponderEvent",
    "ResponderParams", "ResponderState", "responder_certs_with_link",
]


def responder_certs_with_link(certs: Certs, tls_cert_der: bytes) -> Certs:
    """`certs` (types 2, 4, 5, 7) with the X.509 link certificate first, as type 1.

    tor 0.4.9 still sends it; peers that check the Ed25519 chain ignore it, but an
    RSA-only check needs it to be our TLS certificate, signed by the identity key.
    """
    return Certs(((CertType.RSA_LINK, tls_cert_der),) + certs.certs)


class ResponderState(Enum):
    """Where the responder is in the handshake."""

    AWAIT_VERSIONS = "await_versions"
    AWAIT_CERTS_OR_NETINFO = "await_certs_or_netinfo"
    AWAIT_AUTHENTICATE = "await_authenticate"
    AWAIT_NETINFO = "await_netinfo"
    OPEN = "open"
    FAILED = "failed"


@dataclass(frozen=True)
class ResponderParams:
    """What the runtime tells the machine about our keys and the connection.

    `certs` is our responder CERTS cell (see `responder_certs_with_link`),
    `tls_cert_der` the DER of the TLS certificate we presented (SCERT),
    `peer_address` the initiator's address as we see it (our NETINFO's OTHERADDR).
    """

    certs: Certs
    rsa_identity: RsaPublic
    ed25519_identity: bytes
    tls_cert_der: bytes
    peer_address: NetAddress
    rng: Rng
    my_addresses: tuple[NetAddress, ...] = ()
    tls_exporter: TlsExporter | None = None
    link_versions: tuple[int, ...] = SUPPORTED_LINK_VERSIONS


@dataclass(frozen=True)
class InitiatorOpened:
    """The handshake is complete. `peer` is None for an unauthenticated (client) channel."""

    link_version: int
    peer: PeerIdentity | None
    peer_netinfo: Netinfo
    clock_skew: int | None

    @property
    def is_client(self) -> bool:
        """True when the initiator did not authenticate (tor's channel_mark_client)."""
        return self.peer is None


ResponderEvent = VersionNegotiated | InitiatorOpened | CellReceived

S = ResponderState
_M = TypeVar("_M", Versions, Certs, Authenticate, Netinfo)
C = ChannelCommand
_Handler = Callable[["ChannelResponder", bytes, dt.datetime], None]


class ChannelResponder:
    """The responder's handshake state machine."""

    def __init__(self, params: ResponderParams) -> None:
        self._p = params
        self._state = S.AWAIT_VERSIONS
        self._decoder = CellDecoder()
        self._link_version: int | None = None
        self._out = bytearray()
        self._events: list[ResponderEvent] = []
        self._sent_log = hashlib.sha256()
        self._recv_log = hashlib.sha256()
        self._slog = b""
        self._candidate: PeerIdentity | None = None
        self._peer: PeerIdentity | None = None
        self.bytes_in = 0
        self.bytes_out = 0

    @property
    def state(self) -> ResponderState:
        """The current state."""
        return self._state

    @property
    def link_version(self) -> int | None:
        """The negotiated link version."""
        return self._link_version

    def data_to_send(self) -> bytes:
        """Bytes queued for the initiator, removed from the queue."""
        out = bytes(self._out)
        self._out.clear()
        return out

    def receive_data(self, data: bytes, now: dt.datetime) -> list[ResponderEvent]:
        """Process received bytes; `now` is timezone-aware UTC."""
        if self._state is S.FAILED:
            raise ProtocolViolation("the handshake already failed")
        self.bytes_in += len(data)
        try:
            for circ_id, command, payload in iter_cells(self._decoder, data):
                self._on_cell(circ_id, command, payload, now)
        except ProtocolViolation:
            self._state = S.FAILED
            raise
        events, self._events = self._events, []
        return events

    def take_decoder(self) -> CellDecoder:
        """Hand the decoder (with any buffered bytes) to the open channel."""
        if self._state is not S.OPEN:
            raise RuntimeError("the handshake is not finished")
        return self._decoder

    def statistics(self) -> dict[str, object]:
        """A snapshot for logs and the control port."""
        return {"state": self._state.value, "link_version": self._link_version,
                "bytes_in": self.bytes_in, "bytes_out": self.bytes_out,
                "authenticated": self._peer is not None}

    def _on_cell(self, circ_id: int, command: int, payload: bytes, now: dt.datetime) -> None:
        if self._state is S.OPEN:
            self._events.append(CellReceived(circ_id, command, payload))
            return
        row = RESPONDER_TRANSITIONS.get((self._state, command))
        if row is None:
            if command >= 128 and command not in _LINK_COMMANDS:
                return
            raise ProtocolViolation(f"unexpected {_name(command)} cell in state "
                                    f"{self._state.value}")
        if circ_id and command != C.VERSIONS:
            raise ProtocolViolation(f"{_name(command)} cell with circuit ID {circ_id}")
        if command != C.AUTHENTICATE:
            self._recv_log.update(encode_cell(circ_id, command, payload, self._link_version))
        handler, next_state = row
        handler(self, payload, now)
        self._state = next_state

    def _send(self, command: int, payload: bytes) -> None:
        cell = encode_cell(0, command, payload, self._link_version)
        self._out += cell
        self.bytes_out += len(cell)
        self._sent_log.update(cell)

    def _on_versions(self, payload: bytes, now: dt.datetime) -> None:
        theirs = _parse(Versions, payload)
        version = theirs.best_common(self._p.link_versions)
        if version is None:
            raise ProtocolViolation(f"no link protocol version in common (they offer "
                                    f"{list(theirs.versions)})")
        self._send(C.VERSIONS, Versions(self._p.link_versions).encode())
        self._link_version = version
        self._decoder.set_link_version(version)
        self._events.append(VersionNegotiated(version))
        self._send(C.CERTS, self._p.certs.encode())
        challenge = AuthChallenge(self._p.rng(32), (AUTH_METHOD_ED25519_SHA256_RFC5705,))
        self._send(C.AUTH_CHALLENGE, challenge.encode())
        self._slog = self._sent_log.copy().digest()
        netinfo = Netinfo(int(now.timestamp()), self._p.peer_address, self._p.my_addresses)
        self._send(C.NETINFO, netinfo.encode())

    def _on_certs(self, payload: bytes, now: dt.datetime) -> None:
        self._candidate = verify_initiator_certs(_parse(Certs, payload), now)

    def _on_authenticate(self, payload: bytes, now: dt.datetime) -> None:
        candidate = self._candidate
        assert candidate is not None
        exporter = self._p.tls_exporter
        if exporter is None:
            raise ProtocolViolation("cannot check AUTHENTICATE without a TLS exporter")
        me = PeerIdentity(self._p.rsa_identity, self._p.ed25519_identity)
        transcript = AuthTranscript(self._slog, self._recv_log.copy().digest(),
                                    sha256(self._p.tls_cert_der),
                                    exporter_value(exporter, candidate.rsa_identity))
        verify_authenticate(_parse(Authenticate, payload), candidate, me, transcript)
        if candidate.rsa_id_digest == self._p.rsa_identity.fingerprint():
            raise ProtocolViolation("initiator authenticated with our own identity")
        self._peer = candidate

    def _on_netinfo(self, payload: bytes, now: dt.datetime) -> None:
        netinfo = _parse(Netinfo, payload)
        assert self._link_version is not None
        skew = int(now.timestamp()) - netinfo.timestamp if netinfo.timestamp else None
        self._events.append(InitiatorOpened(self._link_version, self._peer, netinfo, skew))

    def _ignore(self, payload: bytes, now: dt.datetime) -> None:
        """VPADDING and AUTHORIZE are dropped during the handshake."""


def _parse(kind: type[_M], payload: bytes) -> _M:
    try:
        return kind.decode(payload)
    except ParseError as exc:
        raise ProtocolViolation(f"malformed {kind.__name__} cell: {exc}") from exc


def _name(command: int) -> str:
    try:
        return ChannelCommand(command).name
    except ValueError:
        return f"command-{command}"


_LINK_COMMANDS = frozenset({C.VERSIONS, C.CERTS, C.AUTH_CHALLENGE, C.AUTHENTICATE, C.NETINFO})
_HANDSHAKING = (S.AWAIT_VERSIONS, S.AWAIT_CERTS_OR_NETINFO, S.AWAIT_AUTHENTICATE,
                S.AWAIT_NETINFO)
R = ChannelResponder

#: (state, received command) -> (handler, next state); any other pair is a violation,
#: except unknown variable-length commands, which tor drops.
RESPONDER_TRANSITIONS: dict[tuple[ResponderState, int], tuple[_Handler, ResponderState]] = {
    **{(state, cmd): (R._ignore, state)
       for state in _HANDSHAKING for cmd in (C.VPADDING, C.AUTHORIZE)},
    (S.AWAIT_VERSIONS, C.VERSIONS): (R._on_versions, S.AWAIT_CERTS_OR_NETINFO),
    (S.AWAIT_CERTS_OR_NETINFO, C.CERTS): (R._on_certs, S.AWAIT_AUTHENTICATE),
    (S.AWAIT_CERTS_OR_NETINFO, C.NETINFO): (R._on_netinfo, S.OPEN),
    (S.AWAIT_AUTHENTICATE, C.AUTHENTICATE): (R._on_authenticate, S.AWAIT_NETINFO),
    (S.AWAIT_AUTHENTICATE, C.NETINFO): (R._on_netinfo, S.OPEN),
    (S.AWAIT_NETINFO, C.NETINFO): (R._on_netinfo, S.OPEN),
}

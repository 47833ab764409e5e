"""Link authentication method 3, Ed25519-SHA256-RFC5705 (tor-spec 4.4.2).

A relay that initiates a channel proves its identity by signing, with the Ed25519
authentication key of its CERTS type-6 certificate, a body that binds both
identities, both transcripts (SLOG, CLOG), the responder's TLS certificate (SCERT) and
the TLS session (TLSSECRETS, an RFC 5705 exporter value).

Spec bug followed the way tor does it (`relay_handshake.c`): the exporter context is
CID, the SHA-256 of the initiator's RSA identity key DER, not its Ed25519 key.
The TLS exporter is passed in as a callable: only the runtime touches TLS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from zwiebel.cells.link import (
    AUTH_METHOD_ED25519_SHA256_RFC5705,
    Auth0003,
    Authenticate,
    Certs,
)
from zwiebel.crypto import Rng, ct_eq
from zwiebel.crypto.digest import sha256
from zwiebel.crypto.keys import Ed25519Private, RsaPublic, ed25519_verify
from zwiebel.encoding import ParseError
from zwiebel.proto.channel_certs import PeerIdentity, ProtocolViolation

AUTH0003_EXPORTER_LABEL = b"EXPORTER FOR TOR TLS CLIENT BINDING AUTH0003"
_ED25519_SIG_LEN = 64

#: RFC 5705 exporter of the TLS session: ``exporter(label, context, length)``.
TlsExporter = Callable[[bytes, bytes, int], bytes]


@dataclass(frozen=True)
class LinkAuthKeys:
    """What an initiator that authenticates sends and signs with.

    `certs` is our CERTS cell (types 2, 4, 6, 7); `auth_key` is the private half of
    the key certified by the type-6 certificate.
    """

    rsa_identity: RsaPublic
    ed25519_identity: bytes
    certs: Certs
    auth_key: Ed25519Private


@dataclass(frozen=True)
class AuthTranscript:
    """The values both ends compute independently for an AUTH0003 body."""

    slog: bytes
    clog: bytes
    scert: bytes
    tlssecrets: bytes


def exporter_value(exporter: TlsExporter, initiator_rsa: RsaPublic) -> bytes:
    """TLSSECRETS: the exporter with tor's label and CID as its context."""
    return exporter(AUTH0003_EXPORTER_LABEL, sha256(initiator_rsa.der()), 32)


def _expected_body(initiator: PeerIdentity | LinkAuthKeys, responder: PeerIdentity,
                   transcript: AuthTranscript, rand: bytes) -> Auth0003:
    return Auth0003(
        cid=sha256(initiator.rsa_identity.der()),
        sid=sha256(responder.rsa_identity.der()),
        cid_ed=initiator.ed25519_identity or bytes(32),
        sid_ed=responder.ed25519_identity or bytes(32),
        slog=transcript.slog,
        clog=transcript.clog,
        scert=transcript.scert,
        tlssecrets=transcript.tlssecrets,
        rand=rand,
    )


def build_authenticate(keys: LinkAuthKeys, responder: PeerIdentity,
                       transcript: AuthTranscript, rng: Rng) -> Authenticate:
    """Our signed AUTHENTICATE cell (method 3)."""
    body = _expected_body(keys, responder, transcript, rng(24))
    signed = body.signed_part()
    return Authenticate(AUTH_METHOD_ED25519_SHA256_RFC5705,
                        signed + keys.auth_key.sign(signed))


def verify_authenticate(cell: Authenticate, initiator: PeerIdentity, responder: PeerIdentity,
                        transcript: AuthTranscript) -> None:
    """A responder's check of the initiator's AUTHENTICATE (as tor's channeltls.c).

    `initiator` is what `verify_initiator_certs` returned; every field from TYPE to
    TLSSECRETS must equal our own computation, then the signature (the last 64 bytes)
    must verify with the certified auth key.
    """
    if cell.auth_type != AUTH_METHOD_ED25519_SHA256_RFC5705:
        raise ProtocolViolation(f"unsupported AUTHENTICATE method {cell.auth_type}")
    if initiator.auth_key is None:
        raise ProtocolViolation("AUTHENTICATE without an Ed25519 authentication key")
    try:
        got = Auth0003.decode(cell.body[:-_ED25519_SIG_LEN])
    except ParseError as exc:
        raise ProtocolViolation("malformed AUTH0003 body") from exc
    expected = _expected_body(initiator, responder, transcript, got.rand)
    if got.sig or not ct_eq(got.signed_part(), expected.signed_part()):
        raise ProtocolViolation("a field of the AUTHENTICATE body is not as expected")
    signed, sig = cell.body[:-_ED25519_SIG_LEN], cell.body[-_ED25519_SIG_LEN:]
    if not ed25519_verify(initiator.auth_key, sig, signed):
        raise ProtocolViolation("AUTHENTICATE signature is not valid")

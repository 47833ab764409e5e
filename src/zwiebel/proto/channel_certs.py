"""Checking a CERTS cell (tor-spec 4.2), as tor's `or_handshake_certs_*_ok` does.

Two chains authenticate a peer:

* Ed25519 + RSA (what every tor >= 0.3 sends): type 2 self-signed RSA-1024 identity,
  type 7 RSA->Ed25519 cross-certificate, type 4 identity->signing certificate carrying
  its signing key, and a leaf signed by the signing key: type 5 (the SHA-256 digest of
  the responder's TLS certificate) when we initiated, type 6 (the initiator's
  AUTHENTICATE key) when we are the responder.
* RSA only (no type 4 present): type 2 identity and type 1 link certificate whose key
  is the TLS key (responder), or type 3 AUTH certificate (initiator).

As in tor, the Ed25519 chain is checked whenever a type-4 certificate is present
("If you provided us Ed25519 certificates, we expect to verify them"), X.509 validity
has tor's slop (2 days past, 30 days future), and only certificate types 1-7 are
considered; others are ignored. A failure raises `ProtocolViolation`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from zwiebel.cells.link import Certs, CertType
from zwiebel.cells.torcert import Ed25519Cert, EdCertType, RsaEdCrossCert
from zwiebel.crypto.digest import sha256
from zwiebel.crypto.keys import RsaPublic
from zwiebel.crypto.x509 import X509Info, parse_x509
from zwiebel.encoding import ParseError

X509_PAST_SLOP = dt.timedelta(days=2)
X509_FUTURE_SLOP = dt.timedelta(days=30)
_MAX_CERT_TYPE = CertType.RSA_ED_CROSSCERT


class ProtocolViolation(Exception):
    """The peer broke the link protocol; the channel must be closed."""


@dataclass(frozen=True)
class PeerIdentity:
    """The identities a CERTS cell proved."""

    rsa_identity: RsaPublic
    ed25519_identity: bytes | None
    ed25519_signing_key: bytes | None = None
    auth_key: bytes | None = None

    @property
    def rsa_id_digest(self) -> bytes:
        """SHA-1 of the RSA identity key (the relay fingerprint)."""
        return self.rsa_identity.fingerprint()

    @property
    def rsa_id_sha256(self) -> bytes:
        """SHA-256 of the RSA identity key DER (AUTHENTICATE's CID/SID)."""
        return sha256(self.rsa_identity.der())


def certs_by_type(cell: Certs) -> dict[int, bytes]:
    """The certificates of types 1-7 by type; a repeated type is a violation."""
    found: dict[int, bytes] = {}
    for cert_type, body in cell.certs:
        if cert_type > _MAX_CERT_TYPE:
            continue
        if cert_type in found:
            raise ProtocolViolation(f"CERTS cell has two certificates of type {cert_type}")
        found[cert_type] = body
    return found


def _x509(found: dict[int, bytes], cert_type: int) -> X509Info:
    body = found.get(cert_type)
    if body is None:
        raise ProtocolViolation(f"CERTS cell lacks a type {cert_type} certificate")
    try:
        return parse_x509(body)
    except ParseError as exc:
        raise ProtocolViolation(f"undecodable X.509 certificate of type {cert_type}") from exc


def _check_x509(cert: X509Info, issuer: RsaPublic, now: dt.datetime, rsa1024: bool,
                what: str) -> None:
    if not cert.signed_by(issuer):
        raise ProtocolViolation(f"{what} certificate is not correctly signed")
    if cert.not_before > now + X509_FUTURE_SLOP or cert.not_after < now - X509_PAST_SLOP:
        raise ProtocolViolation(f"{what} certificate is expired or not yet valid")
    bits = cert.public_key.bits
    if (rsa1024 and bits != 1024) or bits < 1024:
        raise ProtocolViolation(f"{what} certificate key is {bits} bits, not RSA-1024")


def check_rsa_identity(found: dict[int, bytes], now: dt.datetime) -> X509Info:
    """The type 2 certificate: self-signed, in its validity period, RSA-1024."""
    id_cert = _x509(found, CertType.RSA_ID)
    _check_x509(id_cert, id_cert.public_key, now, True, "RSA identity")
    return id_cert


def _ed_cert(found: dict[int, bytes], cert_type: int) -> Ed25519Cert:
    body = found.get(cert_type)
    if body is None:
        raise ProtocolViolation(f"CERTS cell lacks a type {cert_type} certificate")
    try:
        cert = Ed25519Cert.decode(body)
    except ParseError as exc:
        raise ProtocolViolation(f"undecodable Ed25519 certificate of type {cert_type}") from exc
    if cert.cert_type != cert_type:
        raise ProtocolViolation(f"CERTS type {cert_type} holds an Ed25519 cert of type "
                                f"{cert.cert_type}")
    return cert


def _check_ed(cert: Ed25519Cert, signer: bytes | None, now: dt.datetime, what: str) -> None:
    if cert.is_expired(now):
        raise ProtocolViolation(f"{what} certificate expired at {cert.expires.isoformat()}")
    if not cert.verify(signer):
        raise ProtocolViolation(f"{what} certificate is not correctly signed")


def _check_crosscert(found: dict[int, bytes], rsa_id: RsaPublic, ed_id: bytes,
                     now: dt.datetime) -> None:
    body = found.get(CertType.RSA_ED_CROSSCERT)
    if body is None:
        raise ProtocolViolation("CERTS cell lacks the RSA->Ed25519 cross-certificate")
    try:
        cross = RsaEdCrossCert.decode(body)
    except ParseError as exc:
        raise ProtocolViolation("undecodable RSA->Ed25519 cross-certificate") from exc
    if cross.ed25519_key != ed_id:
        raise ProtocolViolation("RSA->Ed25519 cross-certificate names another Ed25519 key")
    if cross.is_expired(now):
        raise ProtocolViolation("RSA->Ed25519 cross-certificate expired")
    if not cross.verify(rsa_id):
        raise ProtocolViolation("RSA->Ed25519 cross-certificate is not correctly signed")


def _check_ed_chain(found: dict[int, bytes], now: dt.datetime,
                    leaf_type: int) -> tuple[X509Info, Ed25519Cert, Ed25519Cert]:
    id_signing = _ed_cert(found, EdCertType.IDENTITY_SIGNING)
    ed_id = id_signing.signing_key
    if ed_id is None:
        raise ProtocolViolation("identity->signing certificate does not include the identity")
    leaf = _ed_cert(found, leaf_type)
    _check_ed(id_signing, ed_id, now, "Ed25519 identity->signing")
    _check_ed(leaf, id_signing.certified_key, now, f"Ed25519 type {leaf_type}")
    id_cert = check_rsa_identity(found, now)
    _check_crosscert(found, id_cert.public_key, ed_id, now)
    return id_cert, id_signing, leaf


def verify_responder_certs(cell: Certs, tls_cert_der: bytes, now: dt.datetime) -> PeerIdentity:
    """An initiator's check of the responder's CERTS (tor-spec 4.2, first two lists)."""
    found = certs_by_type(cell)
    if CertType.ED_ID_SIGNING not in found:
        return _verify_rsa_only_responder(found, tls_cert_der, now)
    id_cert, id_signing, link = _check_ed_chain(found, now, EdCertType.SIGNING_LINK)
    if link.certified_key != sha256(tls_cert_der):
        raise ProtocolViolation("signing->link certificate does not match the TLS certificate")
    return PeerIdentity(id_cert.public_key, id_signing.signing_key, id_signing.certified_key)


def _verify_rsa_only_responder(found: dict[int, bytes], tls_cert_der: bytes,
                               now: dt.datetime) -> PeerIdentity:
    id_cert = check_rsa_identity(found, now)
    link = _x509(found, CertType.RSA_LINK)
    try:
        tls_key = parse_x509(tls_cert_der).public_key
    except ParseError as exc:
        raise ProtocolViolation("the TLS certificate is not an RSA certificate") from exc
    if link.public_key.der() != tls_key.der():
        raise ProtocolViolation("link certificate does not match the TLS key")
    _check_x509(link, id_cert.public_key, now, False, "RSA link")
    return PeerIdentity(id_cert.public_key, None)


def verify_initiator_certs(cell: Certs, now: dt.datetime) -> PeerIdentity:
    """A responder's check of an authenticating initiator's CERTS (tor-spec 4.2).

    This proves nothing until the AUTHENTICATE cell is checked against `auth_key`
    (Ed25519 chain) or the RSA AUTH certificate (RSA-only; not supported here).
    """
    found = certs_by_type(cell)
    if CertType.ED_ID_SIGNING not in found:
        raise ProtocolViolation("initiator sent no Ed25519 certificates (RSA-only "
                                "authentication is not supported)")
    id_cert, id_signing, auth = _check_ed_chain(found, now, EdCertType.SIGNING_AUTH)
    return PeerIdentity(id_cert.public_key, id_signing.signing_key, id_signing.certified_key,
                        auth.certified_key)

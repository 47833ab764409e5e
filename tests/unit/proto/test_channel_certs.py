"""CERTS cell checks (tor-spec 4.2, tor's or_handshake_certs_*_ok) on generated chains."""

from __future__ import annotations

import datetime as dt

import pytest

from zwiebel.cells.link import Certs, CertType
from zwiebel.cells.torcert import Ed25519Cert, EdCertType, RsaEdCrossCert
from zwiebel.crypto.keys import Ed25519Private, RsaPrivate
from zwiebel.crypto.x509_build import build_x509
from zwiebel.proto.channel_certs import (
    ProtocolViolation,
    verify_initiator_certs,
    verify_responder_certs,
)
from zwiebel.proto.channel_keys import RelayLinkKeys

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
EXPIRES = NOW + dt.timedelta(days=2)
RSA_ID = RsaPrivate.generate(1024)
TLS_KEY = RsaPrivate.generate(1024)


def x509(key: RsaPrivate, issuer: RsaPrivate, days_before: int = 1, days_after: int = 300,
         ) -> bytes:
    return build_x509(key, issuer, subject_cn="www.a.com", issuer_cn="www.b.net",
                      not_before=NOW - dt.timedelta(days=days_before),
                      not_after=NOW + dt.timedelta(days=days_after), serial=1)


ID_CERT = x509(RSA_ID, RSA_ID)
TLS_CERT = x509(TLS_KEY, RSA_ID)
KEYS = RelayLinkKeys(RSA_ID, ID_CERT, Ed25519Private(b"I" * 32), Ed25519Private(b"S" * 32))
GOOD = dict(KEYS.responder_certs(TLS_CERT, EXPIRES).certs)


def check(certs: dict[int, bytes], now: dt.datetime = NOW) -> None:
    verify_responder_certs(Certs(tuple(certs.items())), TLS_CERT, now)


def test_good_chain() -> None:
    peer = verify_responder_certs(Certs(tuple(GOOD.items())), TLS_CERT, NOW)
    assert peer.rsa_id_digest == RSA_ID.public().fingerprint()
    assert peer.ed25519_identity == KEYS.ed25519_identity.public_bytes()
    assert peer.ed25519_signing_key == KEYS.ed25519_signing.public_bytes()


@pytest.mark.parametrize("missing", [2, 4, 5, 7])
def test_each_certificate_is_required(missing: int) -> None:
    certs = dict(GOOD)
    del certs[missing]
    with pytest.raises(ProtocolViolation):
        check(certs)


def test_duplicate_type_is_a_violation_and_high_types_are_ignored() -> None:
    items = tuple(GOOD.items())
    with pytest.raises(ProtocolViolation, match="two certificates of type 5"):
        verify_responder_certs(Certs((*items, (5, GOOD[5]))), TLS_CERT, NOW)
    verify_responder_certs(Certs((*items, (8, b"x"), (8, b"y"))), TLS_CERT, NOW)


def test_expired_ed25519_certificates() -> None:
    with pytest.raises(ProtocolViolation, match="expired"):
        check(GOOD, EXPIRES + dt.timedelta(seconds=1))


def test_x509_validity_has_tors_slop() -> None:
    old = dict(GOOD)
    old[2] = x509(RSA_ID, RSA_ID, days_before=100, days_after=-1)
    check(old)  # expired yesterday: within the 2-day slop
    old[2] = x509(RSA_ID, RSA_ID, days_before=100, days_after=-3)
    with pytest.raises(ProtocolViolation, match="RSA identity"):
        check(old)
    future = dict(GOOD)
    future[2] = x509(RSA_ID, RSA_ID, days_before=-31)
    with pytest.raises(ProtocolViolation, match="not yet valid"):
        check(future)


def test_identity_must_be_self_signed_rsa1024() -> None:
    other = dict(GOOD)
    other[2] = x509(RSA_ID, TLS_KEY)
    with pytest.raises(ProtocolViolation, match="not correctly signed"):
        check(other)
    big = RsaPrivate.generate(2048)
    other[2] = x509(big, big)
    with pytest.raises(ProtocolViolation):
        check(other)


def test_certificate_in_the_wrong_slot() -> None:
    swapped = dict(GOOD)
    swapped[4], swapped[5] = GOOD[5], GOOD[4]
    with pytest.raises(ProtocolViolation, match="holds an Ed25519 cert"):
        check(swapped)


def test_crosscert_must_name_the_identity_and_be_signed_by_the_rsa_key() -> None:
    other_key = dict(GOOD)
    other_key[7] = RsaEdCrossCert.sign(RSA_ID, b"x" * 32, EXPIRES).encode()
    with pytest.raises(ProtocolViolation, match="another Ed25519 key"):
        check(other_key)
    other_signer = dict(GOOD)
    other_signer[7] = RsaEdCrossCert.sign(TLS_KEY, KEYS.ed25519_identity.public_bytes(),
                                          EXPIRES).encode()
    with pytest.raises(ProtocolViolation, match="cross-certificate is not correctly signed"):
        check(other_signer)


def test_link_cert_must_be_signed_by_the_signing_key() -> None:
    forged = dict(GOOD)
    forged[5] = Ed25519Cert.sign(KEYS.ed25519_identity, EdCertType.SIGNING_LINK,
                                 Ed25519Cert.decode(GOOD[5]).certified_key, EXPIRES,
                                 include_signing_key=False).encode()
    with pytest.raises(ProtocolViolation, match="type 5"):
        check(forged)


def test_rsa_only_responder() -> None:
    certs = {CertType.RSA_LINK: TLS_CERT, CertType.RSA_ID: ID_CERT}
    peer = verify_responder_certs(Certs(tuple(certs.items())), TLS_CERT, NOW)
    assert peer.ed25519_identity is None
    assert peer.rsa_id_digest == RSA_ID.public().fingerprint()
    with pytest.raises(ProtocolViolation, match="TLS key"):
        verify_responder_certs(Certs(tuple(certs.items())), ID_CERT, NOW)


def test_initiator_certs_with_auth_key() -> None:
    auth = KEYS.initiator_auth(Ed25519Private(b"A" * 32), EXPIRES)
    peer = verify_initiator_certs(auth.certs, NOW)
    assert peer.auth_key == Ed25519Private(b"A" * 32).public_bytes()
    assert [t for t, _ in auth.certs.certs] == [2, 7, 4, 6]
    with pytest.raises(ProtocolViolation):
        verify_initiator_certs(Certs(tuple(GOOD.items())), NOW)

"""Ed25519 certificates and the RSA->Ed25519 cross-certificate (cert-spec 2.1-2.3)."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zwiebel.cells.framing import CellDecoder
from zwiebel.cells.link import Certs
from zwiebel.cells.torcert import (
    CertExtension,
    CertKeyType,
    Ed25519Cert,
    EdCertType,
    RsaEdCrossCert,
    datetime_to_hours,
    hours_to_datetime,
)
from zwiebel.crypto.digest import sha256
from zwiebel.crypto.keys import Ed25519Private, RsaPrivate
from zwiebel.crypto.x509 import parse_x509
from zwiebel.encoding import ParseError

VECTOR = Path(__file__).parents[2] / "vectors" / "link" / "tor-0.4.9.11-responder.json"
UTC = dt.UTC


def real_certs() -> tuple[dict[int, bytes], dict[str, str]]:
    """The CERTS cell captured from tor 0.4.9.11, by type, and the vector file."""
    vector = json.loads(VECTOR.read_text())
    dec = CellDecoder()
    dec.feed(bytes.fromhex(vector["received_hex"]))
    dec.set_link_version(5)
    certs = Certs.decode(dec.feed(b"")[0][2])
    return dict(certs.certs), vector


def test_real_tor_certificate_chain() -> None:
    certs, vector = real_certs()
    id_signing = Ed25519Cert.decode(certs[4])
    link = Ed25519Cert.decode(certs[5])
    cross = RsaEdCrossCert.decode(certs[7])
    ed_identity = base64.b64decode(vector["ed25519_identity_b64"] + "=")
    assert id_signing.signing_key == ed_identity and id_signing.verify()
    assert id_signing.cert_type == EdCertType.IDENTITY_SIGNING
    assert link.key_type == CertKeyType.SHA256_OF_X509 and link.signing_key is None
    assert link.certified_key == sha256(bytes.fromhex(vector["tls_cert_der_hex"]))
    assert link.verify(id_signing.certified_key) and not link.verify(ed_identity)
    rsa_id = parse_x509(certs[2]).public_key
    assert rsa_id.fingerprint().hex().upper() == vector["rsa_fingerprint"]
    assert cross.ed25519_key == ed_identity and cross.verify(rsa_id)
    for body, parse in ((certs[4], Ed25519Cert.decode), (certs[5], Ed25519Cert.decode),
                        (certs[7], RsaEdCrossCert.decode)):
        assert parse(body).encode() == body


@pytest.mark.parametrize("offset", [1, 10, 40, 80, 139])
def test_flipped_byte_breaks_the_real_identity_signing_cert(offset: int) -> None:
    body = bytearray(real_certs()[0][4])
    body[offset] ^= 0x01
    try:
        cert = Ed25519Cert.decode(bytes(body))
    except ParseError:
        return
    assert not cert.verify()


def test_flipped_byte_breaks_the_real_crosscert() -> None:
    certs, _ = real_certs()
    rsa_id = parse_x509(certs[2]).public_key
    for offset in (0, 33, 100):
        body = bytearray(certs[7])
        body[offset] ^= 0x80
        assert not RsaEdCrossCert.decode(bytes(body)).verify(rsa_id)
    body = bytearray(certs[7])
    body[36] ^= 0x80  # SIGLEN
    with pytest.raises(ParseError):
        RsaEdCrossCert.decode(bytes(body))


def test_sign_verify_and_expiry() -> None:
    signer = Ed25519Private(bytes(range(32)))
    expires = dt.datetime(2030, 1, 1, 0, 30, tzinfo=UTC)
    cert = Ed25519Cert.sign(signer, EdCertType.IDENTITY_SIGNING, b"K" * 32, expires)
    assert cert.expires == dt.datetime(2030, 1, 1, 1, tzinfo=UTC)
    assert cert.verify() and cert.verify(signer.public_bytes())
    assert not cert.verify(Ed25519Private(bytes(32)).public_bytes())
    assert not cert.is_expired(cert.expires) and cert.is_expired(cert.expires
                                                                 + dt.timedelta(seconds=1))
    bare = Ed25519Cert.sign(signer, EdCertType.SIGNING_LINK, b"K" * 32, expires,
                            include_signing_key=False)
    assert not bare.verify() and bare.verify(signer.public_bytes())
    assert len(bare.encode()) == 1 + 1 + 4 + 1 + 32 + 1 + 64


def test_extension_rules() -> None:
    signer = Ed25519Private(bytes(range(32)))
    base = Ed25519Cert.sign(signer, 4, b"K" * 32, dt.datetime(2030, 1, 1, tzinfo=UTC))
    unknown_ok = CertExtension(9, 0, b"data")
    unknown_bad = CertExtension(9, 1, b"data")
    ok = Ed25519Cert(4, 1, 1, b"K" * 32, (*base.extensions, unknown_ok), bytes(64))
    assert Ed25519Cert.decode(ok.encode()) == ok
    for exts in ((unknown_bad,), (*base.extensions, *base.extensions),
                 (CertExtension(4, 0, b"short"),)):
        with pytest.raises(ParseError):
            Ed25519Cert.decode(Ed25519Cert(4, 1, 1, b"K" * 32, exts, bytes(64)).encode())
    with pytest.raises(ParseError):
        Ed25519Cert.decode(b"\x02" + base.encode()[1:])
    with pytest.raises(ParseError):
        Ed25519Cert.decode(base.encode() + b"\x00")


def test_crosscert_sign_verify() -> None:
    rsa = RsaPrivate.generate(1024)
    cross = RsaEdCrossCert.sign(rsa, b"E" * 32, dt.datetime(2030, 1, 1, tzinfo=UTC))
    assert cross.expiration_hours == datetime_to_hours(dt.datetime(2030, 1, 1, tzinfo=UTC))
    assert cross.verify(rsa.public()) and len(cross.signature) == 128
    assert not cross.verify(RsaPrivate.generate(1024).public())
    assert RsaEdCrossCert.decode(cross.encode()) == cross


def test_hours_roundtrip() -> None:
    assert hours_to_datetime(0) == dt.datetime(1970, 1, 1, tzinfo=UTC)
    assert datetime_to_hours(dt.datetime(1970, 1, 1, 1, 0, 1, tzinfo=UTC)) == 2


extensions = st.builds(CertExtension, st.integers(5, 255), st.just(0), st.binary(max_size=40))
certs = st.builds(Ed25519Cert, st.integers(0, 255), st.integers(0, 2**32 - 1),
                  st.integers(0, 255), st.binary(min_size=32, max_size=32),
                  st.lists(extensions, max_size=3).map(tuple),
                  st.binary(min_size=64, max_size=64))


@given(certs)
def test_ed_cert_roundtrip(cert: Ed25519Cert) -> None:
    assert Ed25519Cert.decode(cert.encode()) == cert


@given(st.binary(max_size=300))
def test_random_bytes_raise_only_parse_error(data: bytes) -> None:
    for parse in (Ed25519Cert.decode, RsaEdCrossCert.decode):
        with contextlib.suppress(ParseError):
            parse(data)

"""Ed25519 certificates (cert-spec 2.1) and the curve25519-to-ed25519 map (dir-spec 2.1.1)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zwiebel.crypto.keys import Ed25519Private
from zwiebel.encoding import ParseError
from zwiebel.netdoc.edcert import (
    cert_signature_ok,
    ed25519_from_curve25519,
    parse_ed25519_cert,
)

P = 2**255 - 19


def _cert(signer: Ed25519Private, hours: int, ext_flags: int = 0, ext_type: int = 4) -> bytes:
    body = bytes([1, 4]) + hours.to_bytes(4, "big") + bytes([1]) + bytes(range(32))
    ext_data = signer.public_bytes() if ext_type == 4 else b"xy"
    body += bytes([1]) + len(ext_data).to_bytes(2, "big") + bytes([ext_type, ext_flags]) + ext_data
    return body + signer.sign(body)


def test_parse_and_check() -> None:
    signer = Ed25519Private(bytes(32))
    cert = parse_ed25519_cert(_cert(signer, 500_000))
    assert cert.cert_type == 4 and cert.certified_key == bytes(range(32))
    assert cert.signing_key == signer.public_bytes()
    assert cert.expires == datetime(2027, 1, 15, 8, tzinfo=UTC)
    assert cert_signature_ok(cert, signer.public_bytes())
    assert not cert_signature_ok(cert, Ed25519Private(bytes(31) + b"\x01").public_bytes())


def test_far_future_expiry_and_critical_extension() -> None:
    signer = Ed25519Private(bytes(32))
    assert parse_ed25519_cert(_cert(signer, 2**32 - 1)).expires.year == 9999
    with pytest.raises(ParseError, match="critical"):
        parse_ed25519_cert(_cert(signer, 1, ext_flags=1, ext_type=9))
    assert parse_ed25519_cert(_cert(signer, 1, ext_flags=0, ext_type=9)).signing_key is None
    with pytest.raises(ParseError):
        parse_ed25519_cert(_cert(signer, 1)[:-1])


@given(st.binary(min_size=32, max_size=32))
def test_curve25519_to_ed25519_inverts_the_birational_map(seed: bytes) -> None:
    public = Ed25519Private(seed).public_bytes()
    y = int.from_bytes(public, "little") & ((1 << 255) - 1)
    sign = public[31] >> 7
    u = (1 + y) * pow(1 - y, P - 2, P) % P
    assert ed25519_from_curve25519(u.to_bytes(32, "little"), sign) == public

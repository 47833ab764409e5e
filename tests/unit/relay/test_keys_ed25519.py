"""Ed25519 from expanded keys (zwiebel.crypto.ed25519_expanded).

Vectors: RFC 8032 section 7.1 TEST 1 and TEST 2; the curve25519 conversion is checked
against the project's own public-key conversion (netdoc.edcert, the formula tor's
ed25519_donna_pubkey_from_curve25519_pubkey uses) and against `cryptography`.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zwiebel.crypto.ed25519_expanded import (
    ExpandedEd25519Private,
    expand_seed,
    from_curve25519_secret,
)
from zwiebel.crypto.keys import Ed25519Private, X25519Private, ed25519_verify
from zwiebel.features.relay.keys_certs import clamp_curve25519
from zwiebel.netdoc.edcert import ed25519_from_curve25519

RFC8032 = [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
]


@pytest.mark.parametrize(("seed", "public", "msg", "sig"), RFC8032)
def test_rfc8032_vectors(seed: str, public: str, msg: str, sig: str) -> None:
    key = ExpandedEd25519Private.from_seed(bytes.fromhex(seed))
    assert key.public_bytes().hex() == public
    assert key.sign(bytes.fromhex(msg)).hex() == sig
    assert ExpandedEd25519Private(key.expanded()).public_bytes().hex() == public


@settings(max_examples=20, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.binary(max_size=200))
def test_same_signatures_as_cryptography(seed: bytes, msg: bytes) -> None:
    ours = ExpandedEd25519Private.from_seed(seed)
    ref = Ed25519Private(seed)
    assert ours.public_bytes() == ref.public_bytes()
    assert ours.sign(msg) == ref.sign(msg)
    assert len(expand_seed(seed)) == 64


@settings(max_examples=20, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.binary(max_size=64))
def test_curve25519_derived_key_matches_public_conversion(secret: bytes, msg: bytes) -> None:
    x = X25519Private(clamp_curve25519(secret))
    key, sign_bit = from_curve25519_secret(x.secret_bytes())
    assert key.public_bytes() == ed25519_from_curve25519(x.public_bytes(), sign_bit)
    assert ed25519_verify(key.public_bytes(), key.sign(msg), msg)


def test_lengths_are_checked() -> None:
    with pytest.raises(ValueError):
        ExpandedEd25519Private(b"\0" * 63)
    with pytest.raises(ValueError):
        expand_seed(b"\0" * 31)
    with pytest.raises(ValueError):
        from_curve25519_secret(b"\0" * 33)

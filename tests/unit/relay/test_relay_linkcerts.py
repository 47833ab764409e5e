"""CERTS cells made from stored relay keys verify under the initiator's and responder's
checks (tor-spec 4.2), with a plain or an expanded (tor-stored) signing key."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from tests.unit.relay.conftest import NOW, KeySet
from zwiebel.cells.torcert import Ed25519Cert, EdCertType
from zwiebel.crypto.ed25519_expanded import ExpandedEd25519Private
from zwiebel.crypto.keys import Ed25519Private
from zwiebel.proto.channel_certs import verify_initiator_certs, verify_responder_certs
from zwiebel.proto.relay_linkcerts import Ed25519Signer, RelayLinkIdentity

EXPIRES = NOW + dt.timedelta(days=2)


def _identity(keys: KeySet, signing: Ed25519Signer) -> RelayLinkIdentity:
    cert = Ed25519Cert.sign(keys.ed_id, EdCertType.IDENTITY_SIGNING, signing.public_bytes(),
                            NOW + dt.timedelta(days=30))
    return RelayLinkIdentity(keys.rsa, keys.link.rsa_identity_cert, keys.ed_id.public_bytes(),
                             signing, cert)


@pytest.mark.parametrize("expanded", [False, True])
def test_responder_and_initiator_certs_verify(relay_a: KeySet, expanded: bool) -> None:
    seed = os.urandom(32)
    signing: Ed25519Signer = (ExpandedEd25519Private.from_seed(seed) if expanded
                              else Ed25519Private(seed))
    ident = _identity(relay_a, signing)
    certs = ident.responder_certs(relay_a.tls_cert, EXPIRES)
    assert [t for t, _ in certs.certs] == [1, 2, 7, 4, 5]
    peer = verify_responder_certs(certs, relay_a.tls_cert, NOW)
    assert peer.rsa_id_digest == relay_a.rsa.public().fingerprint()
    assert peer.ed25519_identity == relay_a.ed_id.public_bytes()
    auth_key = Ed25519Private(os.urandom(32))
    auth = ident.initiator_auth(auth_key, EXPIRES)
    assert [t for t, _ in auth.certs.certs] == [2, 7, 4, 6]
    assert verify_initiator_certs(auth.certs, NOW).auth_key == auth_key.public_bytes()


def test_link_cert_for_another_tls_cert_fails(relay_a: KeySet, relay_b: KeySet) -> None:
    from zwiebel.proto.channel_certs import ProtocolViolation
    ident = _identity(relay_a, Ed25519Private(os.urandom(32)))
    certs = ident.responder_certs(relay_a.tls_cert, EXPIRES)
    with pytest.raises(ProtocolViolation, match="TLS certificate"):
        verify_responder_certs(certs, relay_b.tls_cert, NOW)

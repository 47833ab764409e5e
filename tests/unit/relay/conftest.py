"""Keys shaped like the relay feature's RelayKeys, generated in memory for the tests."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

import pytest

from zwiebel.crypto.keys import Ed25519Private, RsaPrivate, X25519Private
from zwiebel.crypto.x509_build import build_x509
from zwiebel.proto.channel_keys import RelayLinkKeys
from zwiebel.proto.relay_create import OnionKeys

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class KeySet:
    """One relay's keys and the certificates made from them."""

    rsa: RsaPrivate
    ed_id: Ed25519Private
    ed_signing: Ed25519Private
    ntor: X25519Private
    link: RelayLinkKeys
    tls_key: RsaPrivate
    tls_cert: bytes

    @property
    def onion(self) -> OnionKeys:
        return OnionKeys(self.rsa.public().fingerprint(), self.ed_id.public_bytes(),
                         (self.ntor,))


def make_relay() -> KeySet:
    rsa = RsaPrivate.generate(1024)
    tls_key = RsaPrivate.generate(2048)
    start, end = NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=300)
    id_cert = build_x509(rsa, rsa, subject_cn="www.a.com", issuer_cn="www.a.com",
                         not_before=start, not_after=end, serial=1)
    tls_cert = build_x509(tls_key, rsa, subject_cn="www.b.net", issuer_cn="www.a.com",
                          not_before=start, not_after=end, serial=2)
    ed_id, ed_signing = Ed25519Private(os.urandom(32)), Ed25519Private(os.urandom(32))
    link = RelayLinkKeys(rsa, id_cert, ed_id, ed_signing)
    return KeySet(rsa, ed_id, ed_signing, X25519Private(os.urandom(32)), link, tls_key,
                     tls_cert)


@pytest.fixture(scope="session")
def relay_a() -> KeySet:
    return make_relay()


@pytest.fixture(scope="session")
def relay_b() -> KeySet:
    return make_relay()

"""A relay's CERTS cells from its stored keys (tor-spec 4.2; cert-spec 2.1, 2.3).

Unlike `channel_keys.RelayLinkKeys`, which signs the identity->signing certificate
itself, this works from what a relay keeps in DataDirectory/keys (tor's `routerkeys.c`):
the Ed25519 master identity *public* key (the secret may be offline), the medium-term
signing key and its stored type-4 certificate. From those it makes, like tor:

* as responder: types 1 (X.509 TLS link certificate), 2 (self-signed RSA-1024 identity),
  7 (RSA->Ed25519 cross-certificate), 4 (the stored certificate) and 5 (signing key ->
  SHA-256 of the TLS certificate);
* as initiator: types 2, 7, 4 and 6 (signing key -> our AUTHENTICATE key).

The signing key may be `crypto.keys.Ed25519Private` or the expanded form tor stores;
anything with `public_bytes()` and `sign(msg)` works.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from zwiebel.cells.link import Certs, CertType
from zwiebel.cells.torcert import (
    CertKeyType,
    Ed25519Cert,
    EdCertType,
    RsaEdCrossCert,
    datetime_to_hours,
)
from zwiebel.crypto.digest import sha256
from zwiebel.crypto.keys import Ed25519Private, RsaPrivate
from zwiebel.proto.channel_auth import LinkAuthKeys


class Ed25519Signer(Protocol):
    """An Ed25519 private key of either form."""

    def public_bytes(self) -> bytes:
        """The 32-byte public key."""

    def sign(self, msg: bytes) -> bytes:
        """A 64-byte signature."""


def sign_leaf(signer: Ed25519Signer, cert_type: int, certified: bytes, expires: dt.datetime,
              key_type: int = CertKeyType.ED25519) -> Ed25519Cert:
    """A certificate without extensions (tor's link and auth certificates)."""
    unsigned = Ed25519Cert(cert_type, datetime_to_hours(expires), key_type, certified, (), b"")
    return Ed25519Cert(cert_type, unsigned.expiration_hours, key_type, certified, (),
                       signer.sign(unsigned.signed_part()))


@dataclass(frozen=True)
class RelayLinkIdentity:
    """What a relay proves its identities with on a channel."""

    rsa_identity: RsaPrivate
    rsa_identity_cert: bytes
    master_id: bytes
    signing_key: Ed25519Signer
    signing_cert: Ed25519Cert

    def _common(self, expires: dt.datetime) -> tuple[tuple[int, bytes], ...]:
        cross = RsaEdCrossCert.sign(self.rsa_identity, self.master_id, expires)
        return ((CertType.RSA_ID, self.rsa_identity_cert),
                (CertType.RSA_ED_CROSSCERT, cross.encode()),
                (CertType.ED_ID_SIGNING, self.signing_cert.encode()))

    def responder_certs(self, tls_cert_der: bytes, expires: dt.datetime) -> Certs:
        """Types 1, 2, 7, 4, 5 for the TLS certificate we present."""
        link = sign_leaf(self.signing_key, EdCertType.SIGNING_LINK, sha256(tls_cert_der),
                         expires, CertKeyType.SHA256_OF_X509)
        return Certs(((CertType.RSA_LINK, tls_cert_der),) + self._common(expires)
                     + ((CertType.ED_SIGNING_LINK, link.encode()),))

    def initiator_auth(self, auth_key: Ed25519Private, expires: dt.datetime) -> LinkAuthKeys:
        """What `ChannelInitiator` needs to authenticate with `auth_key` (types 2, 7, 4, 6)."""
        auth = sign_leaf(self.signing_key, EdCertType.SIGNING_AUTH, auth_key.public_bytes(),
                         expires)
        certs = Certs(self._common(expires) + ((CertType.ED_SIGNING_AUTH, auth.encode()),))
        return LinkAuthKeys(self.rsa_identity.public(), self.master_id, certs, auth_key)

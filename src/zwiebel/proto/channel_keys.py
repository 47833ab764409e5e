"""A relay's own CERTS cells (tor-spec 4.2; cert-spec 2.1, 2.3), from its keys.

A responder sends types 2 (self-signed RSA-1024 identity), 7 (RSA->Ed25519
cross-certificate), 4 (identity->signing) and 5 (signing->SHA-256 of its TLS
certificate); an authenticating initiator sends 2, 7, 4 and 6 (signing->AUTHENTICATE
key). As in tor (`routerkeys.c`), only the type-4 certificate embeds its signing key.
The X.509 identity certificate is made once and passed in (it is DER, built with
`zwiebel.crypto.x509_build.build_x509`); the Ed25519 certificates are made here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from zwiebel.cells.link import Certs, CertType
from zwiebel.cells.torcert import CertKeyType, Ed25519Cert, EdCertType, RsaEdCrossCert
from zwiebel.crypto.digest import sha256
from zwiebel.crypto.keys import Ed25519Private, RsaPrivate
from zwiebel.proto.channel_auth import LinkAuthKeys


@dataclass(frozen=True)
class RelayLinkKeys:
    """The long-term keys a relay authenticates channels with."""

    rsa_identity: RsaPrivate
    rsa_identity_cert: bytes
    ed25519_identity: Ed25519Private
    ed25519_signing: Ed25519Private

    def _common(self, expires: dt.datetime) -> list[tuple[int, bytes]]:
        ed_id = self.ed25519_identity.public_bytes()
        id_signing = Ed25519Cert.sign(self.ed25519_identity, EdCertType.IDENTITY_SIGNING,
                                      self.ed25519_signing.public_bytes(), expires)
        cross = RsaEdCrossCert.sign(self.rsa_identity, ed_id, expires)
        return [(CertType.RSA_ID, self.rsa_identity_cert),
                (CertType.RSA_ED_CROSSCERT, cross.encode()),
                (CertType.ED_ID_SIGNING, id_signing.encode())]

    def responder_certs(self, tls_cert_der: bytes, expires: dt.datetime) -> Certs:
        """Our CERTS cell as a responder, binding the TLS certificate we present."""
        link = Ed25519Cert.sign(self.ed25519_signing, EdCertType.SIGNING_LINK,
                                sha256(tls_cert_der), expires,
                                key_type=CertKeyType.SHA256_OF_X509, include_signing_key=False)
        return Certs(tuple(self._common(expires)) + ((CertType.ED_SIGNING_LINK, link.encode()),))

    def initiator_auth(self, auth_key: Ed25519Private, expires: dt.datetime) -> LinkAuthKeys:
        """What `ChannelInitiator` needs to authenticate with `auth_key`."""
        auth = Ed25519Cert.sign(self.ed25519_signing, EdCertType.SIGNING_AUTH,
                                auth_key.public_bytes(), expires, include_signing_key=False)
        certs = Certs(tuple(self._common(expires)) + ((CertType.ED_SIGNING_AUTH, auth.encode()),))
        return LinkAuthKeys(self.rsa_identity.public(), self.ed25519_identity.public_bytes(),
                            certs, auth_key)

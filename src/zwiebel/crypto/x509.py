"""X.509 certificates as the link handshake uses them (tor-spec 4.2, CERTS types 1-3)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from zwiebel.crypto.keys import RsaPublic
from zwiebel.encoding import ParseError


@dataclass(frozen=True)
class X509Info:
    """What tor checks of an X.509 certificate: its key, validity and issuer signature."""

    der: bytes
    public_key: RsaPublic
    not_before: dt.datetime
    not_after: dt.datetime
    _cert: x509.Certificate

    def signed_by(self, issuer: RsaPublic) -> bool:
        """True if `issuer` made this certificate's signature."""
        hash_alg = self._cert.signature_hash_algorithm
        if hash_alg is None:
            return False
        try:
            issuer.native.verify(
                self._cert.signature,
                self._cert.tbs_certificate_bytes,
                padding.PKCS1v15(),
                hash_alg,
            )
        except (InvalidSignature, ValueError):
            return False
        return True

    def valid_at(self, now: dt.datetime) -> bool:
        """True if `now` (timezone-aware UTC) lies within the validity period."""
        return self.not_before <= now <= self.not_after


def parse_x509(der: bytes) -> X509Info:
    """Parse a DER certificate whose key must be RSA."""
    try:
        cert = x509.load_der_x509_certificate(der)
        key = cert.public_key()
    except (ValueError, TypeError) as exc:
        raise ParseError("bad X.509 certificate") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise ParseError("X.509 certificate key is not RSA")
    return X509Info(
        der=der,
        public_key=RsaPublic(key),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        _cert=cert,
    )

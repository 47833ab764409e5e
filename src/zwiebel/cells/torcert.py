"""Tor's own certificate formats (cert-spec sections 2.1-2.3, appendix A).

* `Ed25519Cert`: the compact Ed25519 certificate of cert-spec 2.1 (CERTS types 4-6,
  descriptors' identity and ntor cross-certificates, onion services).
* `RsaEdCrossCert`: the RSA->Ed25519 cross-certificate of cert-spec 2.3 (CERTS type 7),
  signed with tor's raw PKCS#1 v1.5 signature (no DigestInfo) over
  SHA-256("Tor TLS RSA/Ed25519 cross-certificate" | body).

Parsing only checks the format; `verify` and `is_expired` are separate steps
("parse, then check"). Parsing follows tor's `tor_cert_parse`: the whole input must be
one certificate, a signed-with-ed25519-key extension must be 32 bytes and appear at
most once, and an unknown extension with AFFECTS_VALIDATION makes the certificate
unusable (a ParseError here).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum

from zwiebel.crypto.digest import sha256
from zwiebel.crypto.keys import Ed25519Private, RsaPrivate, RsaPublic, ed25519_verify
from zwiebel.encoding import ParseError, Reader, Writer

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_HOUR = 3600


class EdCertType(IntEnum):
    """CERT_TYPE values (cert-spec A.1; tor's torcert.h)."""

    IDENTITY_SIGNING = 0x04
    """Ed25519 signing key certified by the identity key."""
    SIGNING_LINK = 0x05
    """SHA-256 of the TLS link certificate, certified by the signing key."""
    SIGNING_AUTH = 0x06
    """Ed25519 AUTHENTICATE key certified by the signing key."""
    HS_DESC_SIGNING = 0x08
    """Onion service descriptor signing key, certified by the blinded key."""
    HS_INTRO_AUTH = 0x09
    """Onion service intro point authentication key."""
    NTOR_CROSSCERT = 0x0A
    """Ed25519 identity cross-certified by the (converted) ntor onion key."""
    HS_NTOR_ENC = 0x0B
    """Onion service ntor encryption key cross-certifying the descriptor signing key."""
    FAMILY = 0x0C
    """Relay identity certified by a family key (proposal 321)."""


class CertKeyType(IntEnum):
    """CERT_KEY_TYPE values (cert-spec A.4)."""

    ED25519 = 0x01
    SHA256_OF_RSA = 0x02
    SHA256_OF_X509 = 0x03


EXT_SIGNED_WITH_ED25519_KEY = 0x04
FLAG_AFFECTS_VALIDATION = 0x01


def hours_to_datetime(hours: int) -> dt.datetime:
    """An EXPIRATION_DATE field (hours since the epoch) as a UTC datetime."""
    return _EPOCH + dt.timedelta(hours=hours)


def datetime_to_hours(when: dt.datetime) -> int:
    """Hours since the epoch, rounded up so the certificate lives at least until `when`."""
    seconds = int((when - _EPOCH).total_seconds())
    return -(-seconds // _HOUR)


@dataclass(frozen=True)
class CertExtension:
    """One extension (cert-spec 2.1): type, flags and data."""

    ext_type: int
    flags: int
    data: bytes


def _parse_extension(r: Reader) -> CertExtension:
    length = r.u16()
    ext_type = r.u8()
    flags = r.u8()
    data = r.take(length)
    if ext_type == EXT_SIGNED_WITH_ED25519_KEY and length != 32:
        raise ParseError("signed-with-ed25519-key extension is not 32 bytes")
    return CertExtension(ext_type, flags, data)


def _check_extensions(exts: tuple[CertExtension, ...]) -> None:
    signing = [e for e in exts if e.ext_type == EXT_SIGNED_WITH_ED25519_KEY]
    if len(signing) > 1:
        raise ParseError("duplicate signed-with-ed25519-key extension")
    for ext in exts:
        if ext.ext_type != EXT_SIGNED_WITH_ED25519_KEY and ext.flags & FLAG_AFFECTS_VALIDATION:
            raise ParseError(f"unknown extension {ext.ext_type} affects validation")


@dataclass(frozen=True)
class Ed25519Cert:
    """An Ed25519 certificate (cert-spec 2.1), parsed but not yet verified."""

    cert_type: int
    expiration_hours: int
    key_type: int
    certified_key: bytes
    extensions: tuple[CertExtension, ...]
    signature: bytes

    @property
    def signing_key(self) -> bytes | None:
        """The key in the signed-with-ed25519-key extension, if present."""
        for ext in self.extensions:
            if ext.ext_type == EXT_SIGNED_WITH_ED25519_KEY:
                return ext.data
        return None

    @property
    def expires(self) -> dt.datetime:
        """The instant after which the certificate is not valid."""
        return hours_to_datetime(self.expiration_hours)

    def is_expired(self, now: dt.datetime) -> bool:
        """True once `now` is past the expiration date."""
        return now > self.expires

    def signed_part(self) -> bytes:
        """Everything but the signature ("the first N-64 bytes")."""
        w = Writer().u8(1).u8(self.cert_type).u32(self.expiration_hours).u8(self.key_type)
        if len(self.certified_key) != 32:
            raise ValueError("certified key must be 32 bytes")
        w.raw(self.certified_key).u8(len(self.extensions))
        for ext in self.extensions:
            w.u16(len(ext.data)).u8(ext.ext_type).u8(ext.flags).raw(ext.data)
        return w.getvalue()

    def encode(self) -> bytes:
        """The certificate bytes."""
        return self.signed_part() + self.signature

    @classmethod
    def decode(cls, data: bytes) -> Ed25519Cert:
        """Parse exactly one certificate."""
        r = Reader(data)
        if r.u8() != 1:
            raise ParseError("Ed25519 certificate version is not 1")
        cert_type = r.u8()
        expiration = r.u32()
        key_type = r.u8()
        certified_key = r.take(32)
        exts = tuple(_parse_extension(r) for _ in range(r.u8()))
        signature = r.take(64)
        r.expect_end()
        _check_extensions(exts)
        return cls(cert_type, expiration, key_type, certified_key, exts, signature)

    def verify(self, signer: bytes | None = None) -> bool:
        """Check the signature with `signer`, or with the embedded signing key.

        "When this extension is present, it MUST match the key used to sign the
        certificate": an embedded key that differs from `signer` fails.
        """
        embedded = self.signing_key
        key = signer if signer is not None else embedded
        if key is None or (embedded is not None and embedded != key):
            return False
        return ed25519_verify(key, self.signature, self.signed_part())

    @classmethod
    def sign(cls, signer: Ed25519Private, cert_type: int, certified_key: bytes,
             expires: dt.datetime, key_type: int = CertKeyType.ED25519,
             include_signing_key: bool = True) -> Ed25519Cert:
        """Make a certificate of `certified_key` signed by `signer`."""
        exts: tuple[CertExtension, ...] = ()
        if include_signing_key:
            exts = (CertExtension(EXT_SIGNED_WITH_ED25519_KEY, 0, signer.public_bytes()),)
        unsigned = cls(cert_type, datetime_to_hours(expires), key_type, certified_key, exts,
                       b"")
        return cls(cert_type, unsigned.expiration_hours, key_type, certified_key, exts,
                   signer.sign(unsigned.signed_part()))


RSA_ED_CROSSCERT_PREFIX = b"Tor TLS RSA/Ed25519 cross-certificate"


@dataclass(frozen=True)
class RsaEdCrossCert:
    """The RSA->Ed25519 cross-certificate (cert-spec 2.3; CERTS type 7)."""

    ed25519_key: bytes
    expiration_hours: int
    signature: bytes

    @property
    def expires(self) -> dt.datetime:
        """The instant after which the certificate is not valid."""
        return hours_to_datetime(self.expiration_hours)

    def is_expired(self, now: dt.datetime) -> bool:
        """True once `now` is past the expiration date."""
        return now > self.expires

    def signed_part(self) -> bytes:
        """ED25519_KEY and EXPIRATION_DATE."""
        return self.ed25519_key + self.expiration_hours.to_bytes(4, "big")

    def digest(self) -> bytes:
        """SHA-256 of the prefix and the signed part: what the RSA key signs."""
        return sha256(RSA_ED_CROSSCERT_PREFIX + self.signed_part())

    def encode(self) -> bytes:
        """The certificate bytes."""
        return Writer().raw(self.signed_part()).nested_u8(self.signature).getvalue()

    @classmethod
    def decode(cls, data: bytes) -> RsaEdCrossCert:
        """Parse exactly one cross-certificate."""
        r = Reader(data)
        key = r.take(32)
        expiration = r.u32()
        signature = r.take(r.u8())
        r.expect_end()
        return cls(key, expiration, signature)

    def verify(self, rsa_identity: RsaPublic) -> bool:
        """Check the raw PKCS#1 signature: the signed data must start with the digest."""
        recovered = rsa_identity.recover_raw(self.signature)
        return recovered is not None and len(recovered) >= 32 and recovered[:32] == self.digest()

    @classmethod
    def sign(cls, rsa_identity: RsaPrivate, ed25519_key: bytes,
             expires: dt.datetime) -> RsaEdCrossCert:
        """Cross-certify `ed25519_key` with the RSA identity key."""
        unsigned = cls(ed25519_key, datetime_to_hours(expires), b"")
        return cls(ed25519_key, unsigned.expiration_hours,
                   rsa_identity.sign_raw(unsigned.digest()))

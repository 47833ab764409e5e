"""Ed25519 certificates as server descriptors carry them (cert-spec 2.1, 2.2.1).

Only what descriptor checking needs: decoding, the signed-with-ed25519-key
extension (type 4), signature and expiry checks, and the curve25519-to-ed25519
conversion behind "ntor-onion-key-crosscert" (dir-spec 2.1.1, tor:
ed25519_public_key_from_curve25519_public_key). Building certificates and the
link-handshake certificate types belong to zwiebel.cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from zwiebel.crypto.keys import ed25519_verify
from zwiebel.encoding import ParseError, Reader

CERT_TYPE_ID_SIGNING = 0x04
"""Ed25519 identity key certifies the medium-term signing key (cert-spec A.1)."""
CERT_TYPE_ONION_ID = 0x0A
"""ntor onion key (as ed25519) certifies the identity key (cert-spec A.1)."""
EXT_SIGNED_WITH_ED25519_KEY = 0x04
EXT_AFFECTS_VALIDATION = 0x01

_P = 2**255 - 19


@dataclass(frozen=True)
class CertExtension:
    """One extension: type, flags and data."""

    ext_type: int
    flags: int
    data: bytes


@dataclass(frozen=True)
class Ed25519Cert:
    """A decoded (not verified) Ed25519 certificate."""

    cert_type: int
    expires: datetime
    key_type: int
    certified_key: bytes
    extensions: tuple[CertExtension, ...]
    signature: bytes
    signed: bytes
    """The bytes the signature covers: everything but the last 64."""
    raw: bytes

    @property
    def signing_key(self) -> bytes | None:
        """The key in the signed-with-ed25519-key extension, if any."""
        for ext in self.extensions:
            if ext.ext_type == EXT_SIGNED_WITH_ED25519_KEY:
                return ext.data
        return None


def _extension(r: Reader) -> CertExtension:
    length = r.u16()
    ext_type, flags = r.u8(), r.u8()
    data = r.take(length)
    if ext_type == EXT_SIGNED_WITH_ED25519_KEY and length != 32:
        raise ParseError("signed-with-ed25519-key extension must hold 32 bytes")
    return CertExtension(ext_type, flags, data)


def _expiry(hours: int) -> datetime:
    """EXPIRATION_DATE (hours since the epoch); beyond year 9999 is "never"."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    if hours >= (datetime.max.replace(tzinfo=UTC) - epoch) // timedelta(hours=1):
        return datetime.max.replace(tzinfo=UTC)
    return epoch + timedelta(hours=hours)


def parse_ed25519_cert(raw: bytes) -> Ed25519Cert:
    """Decode a certificate; unknown extensions that affect validation are rejected."""
    r = Reader(raw)
    if r.u8() != 1:
        raise ParseError("unknown ed25519 certificate version")
    cert_type = r.u8()
    hours = r.u32()
    key_type = r.u8()
    certified = r.take(32)
    extensions = tuple(_extension(r) for _ in range(r.u8()))
    signature = r.take(64)
    r.expect_end()
    for ext in extensions:
        if ext.ext_type != EXT_SIGNED_WITH_ED25519_KEY and ext.flags & EXT_AFFECTS_VALIDATION:
            raise ParseError(f"unknown critical certificate extension {ext.ext_type}")
    return Ed25519Cert(
        cert_type, _expiry(hours), key_type, certified, extensions, signature, raw[:-64], raw
    )


def cert_signature_ok(cert: Ed25519Cert, key: bytes) -> bool:
    """Whether `key` made the certificate's signature (and matches the extension, if any)."""
    if cert.signing_key is not None and cert.signing_key != key:
        return False
    return ed25519_verify(key, cert.signature, cert.signed)


def ed25519_from_curve25519(u_bytes: bytes, sign_bit: int) -> bytes:
    """The Ed25519 public key birationally equivalent to a curve25519 key.

    y = (u - 1) / (u + 1) mod p, with the sign of x given separately (dir-spec 2.1.1
    "ntor-onion-key-crosscert"; tor: ed25519_donna_pubkey_from_curve25519_pubkey).
    """
    if len(u_bytes) != 32:
        raise ParseError("curve25519 key must be 32 bytes")
    u = int.from_bytes(u_bytes, "little") & ((1 << 255) - 1)
    y = (u - 1) * pow(u + 1, _P - 2, _P) % _P
    out = bytearray(y.to_bytes(32, "little"))
    out[31] |= (sign_bit & 1) << 7
    return bytes(out)

"""Certificates a relay makes with its own keys (cert-spec 2.1, dir-spec 2.1.1).

* `sign_ed25519_cert`: any Ed25519 certificate signed with an expanded key (tor keeps
  its signing keys expanded, see zwiebel.crypto.ed25519_expanded); the result is
  `zwiebel.cells.torcert.Ed25519Cert`, so CERTS cells and descriptors share one type;
* `ntor_crosscert`: type 0x0A, the ntor onion key (as an Ed25519 key) certifying the
  master identity, valid from the descriptor's publication for the onion key lifetime,
  without the signed-with-ed25519-key extension (tor: make_ntor_onion_key_crosscert);
* `tap_crosscert`: the TAP onion key's raw PKCS#1 signature over
  identity digest || master key (tor: make_tap_onion_key_crosscert).
"""

from __future__ import annotations

from datetime import datetime

from zwiebel.cells.torcert import (
    EXT_SIGNED_WITH_ED25519_KEY,
    CertExtension,
    CertKeyType,
    Ed25519Cert,
    EdCertType,
    datetime_to_hours,
)
from zwiebel.crypto.ed25519_expanded import ExpandedEd25519Private, from_curve25519_secret
from zwiebel.crypto.keys import RsaPrivate, X25519Private


def clamp_curve25519(secret: bytes) -> bytes:
    """The clamped form tor stores (curve25519_secret_key_generate)."""
    out = bytearray(secret)
    out[0] &= 248
    out[31] &= 127
    out[31] |= 64
    return bytes(out)


def sign_ed25519_cert(signer: ExpandedEd25519Private, cert_type: int, certified_key: bytes,
                      expires: datetime, include_signing_key: bool = True,
                      key_type: int = CertKeyType.ED25519) -> Ed25519Cert:
    """A certificate of `certified_key`, expiring at `expires` rounded up to the hour."""
    exts: tuple[CertExtension, ...] = ()
    if include_signing_key:
        exts = (CertExtension(EXT_SIGNED_WITH_ED25519_KEY, 0, signer.public_bytes()),)
    hours = datetime_to_hours(expires)
    unsigned = Ed25519Cert(cert_type, hours, key_type, certified_key, exts, b"")
    signature = signer.sign(unsigned.signed_part())
    return Ed25519Cert(cert_type, hours, key_type, certified_key, exts, signature)


def ntor_crosscert(ntor: X25519Private, master_id: bytes,
                   expires: datetime) -> tuple[Ed25519Cert, int]:
    """The "ntor-onion-key-crosscert" certificate and its sign bit."""
    key, sign_bit = from_curve25519_secret(clamp_curve25519(ntor.secret_bytes()))
    cert = sign_ed25519_cert(key, EdCertType.NTOR_CROSSCERT, master_id, expires,
                             include_signing_key=False)
    return cert, sign_bit


def tap_crosscert(tap: RsaPrivate, identity_digest: bytes, master_id: bytes) -> bytes:
    """The "onion-key-crosscert" object: raw RSA signature of digest || master key."""
    return tap.sign_raw(identity_digest + master_id)

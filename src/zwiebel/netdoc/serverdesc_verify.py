"""Checking a server descriptor's signatures and certificates (dir-spec 2.1.1).

Five checks, as tor makes them in router_parse_entry_from_string
(src/feature/dirparse/routerparse.c):

1. "router-signature": the RSA identity key's raw PKCS#1 signature over the SHA-1
   of the text from "router " through the newline after "router-signature";
2. "identity-ed25519": the master key (its signed-with-ed25519-key extension)
   signs the certificate of the medium-term signing key, which has not expired;
3. "router-sig-ed25519": the certified signing key signs
   SHA-256("Tor router descriptor signature v1" + text from "router " through the
   space after "router-sig-ed25519");
4. "ntor-onion-key-crosscert": the ntor key, converted to Ed25519 with the given
   sign bit, certifies the master key (type 0x0A);
5. "onion-key-crosscert" (when the TAP key is present): the TAP key's raw
   signature over the RSA identity digest followed by the master key.
"""

from __future__ import annotations

from datetime import datetime

from zwiebel.crypto import ct_eq
from zwiebel.crypto.digest import sha256
from zwiebel.crypto.keys import RsaPublic, ed25519_verify
from zwiebel.encoding import ParseError
from zwiebel.netdoc.edcert import (
    CERT_TYPE_ONION_ID,
    cert_signature_ok,
    ed25519_from_curve25519,
)
from zwiebel.netdoc.errors import VerifyError
from zwiebel.netdoc.serverdesc import ServerDescriptor
from zwiebel.netdoc.sigs import rsa_signature_ok

ED_DESC_SIGNATURE_PREFIX = b"Tor router descriptor signature v1"
"""tor: ED_DESC_SIGNATURE_PREFIX (src/feature/dirparse/routerparse.h)."""


def _check_identity_cert(desc: ServerDescriptor, now: datetime | None) -> bytes:
    """Check identity-ed25519; return the master key."""
    cert = desc.identity_cert
    master = cert.signing_key
    if master is None or not cert_signature_ok(cert, master):
        raise VerifyError(f"{desc.nickname}: bad identity-ed25519 certificate signature")
    if now is not None and cert.expires < now:
        raise VerifyError(f"{desc.nickname}: identity-ed25519 certificate expired")
    return master


def check_ntor_crosscert(desc: ServerDescriptor, master: bytes, now: datetime | None) -> None:
    """Check 4 alone: the ntor key (as Ed25519) certifies `master`."""
    cert = desc.ntor_crosscert
    if cert.cert_type != CERT_TYPE_ONION_ID or not ct_eq(cert.certified_key, master):
        raise VerifyError(f"{desc.nickname}: ntor-onion-key-crosscert does not name the master key")
    key = ed25519_from_curve25519(desc.ntor_onion_key, desc.ntor_crosscert_sign_bit)
    if not cert_signature_ok(cert, key):
        raise VerifyError(f"{desc.nickname}: bad ntor-onion-key-crosscert signature")
    if now is not None and cert.expires < now:
        raise VerifyError(f"{desc.nickname}: ntor-onion-key-crosscert expired")


def _check_tap_crosscert(desc: ServerDescriptor, master: bytes) -> None:
    if desc.onion_key_tap is None or desc.onion_key_crosscert is None:
        return
    try:
        tap = RsaPublic.from_der(desc.onion_key_tap)
    except ParseError as exc:
        raise VerifyError(f"{desc.nickname}: unusable onion-key") from exc
    if not rsa_signature_ok(tap, desc.onion_key_crosscert, desc.identity + master):
        raise VerifyError(f"{desc.nickname}: bad onion-key-crosscert")


def verify_server_descriptor(desc: ServerDescriptor, now: datetime | None = None) -> None:
    """Run every check (Ed25519 ones first); raise VerifyError naming the first that fails.

    With `now`, expired Ed25519 certificates fail too.
    """
    master = _check_identity_cert(desc, now)
    digest = sha256(ED_DESC_SIGNATURE_PREFIX + desc.ed25519_signed)
    if not ed25519_verify(desc.identity_cert.certified_key, desc.router_sig_ed25519, digest):
        raise VerifyError(f"{desc.nickname}: bad router-sig-ed25519")
    check_ntor_crosscert(desc, master, now)
    _check_tap_crosscert(desc, master)
    if not rsa_signature_ok(desc.signing_key, desc.router_signature, desc.digest):
        raise VerifyError(f"{desc.nickname}: bad router-signature")

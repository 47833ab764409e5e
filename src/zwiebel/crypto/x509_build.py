"""Making X.509 certificates the way tor does for its link handshake (tor-spec 2, 4.2).

tor's certificates are minimal: a random-looking "www.<name>.net/com" common name,
an RSA key, SHA-256 with RSA signature, a validity period, no extensions. A relay
needs two: the self-signed RSA-1024 identity certificate (CERTS type 2) and the TLS
link certificate (signed by the identity key in older designs; only its SHA-256 digest
matters for the Ed25519 handshake, CERTS type 5).
"""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from zwiebel.crypto.keys import RsaPrivate


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def build_x509(subject_key: RsaPrivate, issuer_key: RsaPrivate, *, subject_cn: str,
               issuer_cn: str, not_before: dt.datetime, not_after: dt.datetime,
               serial: int) -> bytes:
    """A DER certificate of `subject_key`, signed by `issuer_key` with SHA-256."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject_cn))
        .issuer_name(_name(issuer_cn))
        .public_key(subject_key.native.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    cert = builder.sign(issuer_key.native, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.DER)


def der_to_pem(der: bytes) -> bytes:
    """PEM text of a DER certificate (for loading into a TLS context)."""
    cert = x509.load_der_x509_certificate(der)
    return cert.public_bytes(serialization.Encoding.PEM)

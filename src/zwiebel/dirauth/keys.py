"""A v3 directory authority's keys and certificate (dir-spec 3.1), in tor's files.

An authority has a long-term RSA-3072 identity key (its "v3ident" is the SHA-1 of
that key's PKCS#1 DER), a medium-term RSA-2048 signing key, and a certificate in which
the identity key certifies the signing key. tor reads only
``DataDirectory/keys/authority_signing_key`` (PKCS#1 "RSA PRIVATE KEY") and
``authority_certificate`` (load_authority_keyset, src/feature/relay/router.c) and
refuses to start when the certificate does not name that signing key; the identity
key stays offline, so here it is optional.

Files as tor-gencert writes them (src/tools/tor-gencert.c): the signing key as an
unencrypted PKCS#1 PEM, the certificate as text. tor-gencert always encrypts
``authority_identity_key`` (PKCS#8 with a passphrase; there is no --no-passphrase
option in 0.4.9.11); we write it unencrypted as PKCS#1 PEM, which tor-gencert reads
back with ``-i`` (PEM_read_PrivateKey takes either format). When loading, an encrypted
identity key is left out (``identity`` None) rather than asking for a passphrase.

File writes here are the one exception to "no I/O below runtime/": key files are
written once by a command-line tool and read once at start-up.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from zwiebel.crypto.keys import RsaPrivate
from zwiebel.encoding import ParseError
from zwiebel.netdoc.authcert import AuthorityCert, check_authority_cert, parse_authority_cert
from zwiebel.netdoc.build.authcert import build_authority_cert, certificate_times
from zwiebel.netdoc.errors import VerifyError

IDENTITY_BITS = 3072
"""tor-gencert IDENTITY_KEY_BITS."""
SIGNING_BITS = 2048
"""tor-gencert SIGNING_KEY_BITS."""
IDENTITY_FILE = "authority_identity_key"
SIGNING_FILE = "authority_signing_key"
CERT_FILE = "authority_certificate"


class AuthorityKeyError(ValueError):
    """The authority's key files are missing, unreadable, mismatched or expired."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class AuthorityKeys:
    """What a running authority signs with."""

    identity: RsaPrivate | None
    """The identity key, when present and unencrypted (tor keeps it offline)."""
    signing_key: RsaPrivate
    cert: AuthorityCert
    cert_text: str
    v3ident: bytes
    """SHA-1 of the identity key's DER (== cert.identity): the DirAuthority "v3ident"."""


def generate_authority_keys(
    now: datetime, months: int = 12, dir_address: tuple[str, int] | None = None
) -> tuple[RsaPrivate, RsaPrivate, str]:
    """New (identity, signing key, certificate text), as tor-gencert --create-identity-key."""
    published, expires = certificate_times(now, months)
    identity = RsaPrivate.generate(IDENTITY_BITS)
    signing = RsaPrivate.generate(SIGNING_BITS)
    return identity, signing, build_authority_cert(
        identity, signing, published, expires, dir_address
    )


def _write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a 0600 temporary file beside `path`, then rename it into place."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_authority_keys(
    keys_dir: Path, identity: RsaPrivate, signing: RsaPrivate, cert_text: str
) -> None:
    """Write the three files into `keys_dir` (created 0700 if missing), each 0600."""
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    _write_atomic(keys_dir / IDENTITY_FILE, identity.pem())
    _write_atomic(keys_dir / SIGNING_FILE, signing.pem())
    _write_atomic(keys_dir / CERT_FILE, cert_text.encode())


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise AuthorityKeyError(f"missing {path}") from exc
    except OSError as exc:
        raise AuthorityKeyError(f"cannot read {path}: {exc.strerror}") from exc


def _private(path: Path, data: bytes) -> RsaPrivate:
    try:
        return RsaPrivate.from_pem(data)
    except ParseError as exc:
        raise AuthorityKeyError(f"unreadable RSA private key in {path}") from exc


def _identity(path: Path) -> RsaPrivate | None:
    """The identity key if the file exists and is not passphrase-protected."""
    if not path.exists():
        return None
    data = _read(path)
    if b"ENCRYPTED" in data:
        return None
    return _private(path, data)


def _certificate(path: Path) -> tuple[AuthorityCert, str]:
    raw = _read(path)
    try:
        text = raw.decode("utf-8")
        return parse_authority_cert(text), text
    except (UnicodeDecodeError, ParseError) as exc:
        raise AuthorityKeyError(f"unable to parse certificate in {path}: {exc}") from exc


def load_authority_keys(keys_dir: Path, now: datetime) -> AuthorityKeys:
    """Read and cross-check the files; AuthorityKeyError says what is wrong."""
    signing = _private(keys_dir / SIGNING_FILE, _read(keys_dir / SIGNING_FILE))
    cert, text = _certificate(keys_dir / CERT_FILE)
    if signing.public().fingerprint() != cert.signing_key_digest:
        raise AuthorityKeyError(
            "stored signing key does not match signing key in certificate"
        )
    try:
        check_authority_cert(cert, now)
    except VerifyError as exc:
        raise AuthorityKeyError(str(exc)) from exc
    identity = _identity(keys_dir / IDENTITY_FILE)
    if identity is not None and identity.public().fingerprint() != cert.identity:
        raise AuthorityKeyError("identity key does not match the certificate's identity")
    return AuthorityKeys(identity, signing, cert, text, cert.identity)

"""A relay's long-term and medium-term keys in DataDirectory/keys, as C tor keeps them.

tor 0.4.9.11 ``init_keys`` (src/feature/relay/router.c) and ``load_ed_keys``
(routerkeys.c, with ``ed_key_init_from_file`` in src/feature/keymgt/loadkey.c):

==============================  ===================================================
secret_id_key                   RSA-1024 identity (PEM); its SHA-1 is the fingerprint
ed25519_master_id_secret_key    Ed25519 master identity, expanded (tag type0)
ed25519_master_id_public_key    its public half (tag type0)
ed25519_signing_secret_key      medium-term signing key, expanded (tag type4)
ed25519_signing_cert            type-4 certificate of it by the master key, 30 days
secret_onion_key(.old)          RSA-1024 TAP onion key (PEM), still published
secret_onion_key_ntor(.old)     curve25519 ntor onion key (type c25519v1, tag onion)
==============================  ===================================================

A DataDirectory made by C tor loads unchanged, so the relay keeps its fingerprint and
Ed25519 identity; what is missing is created as tor creates it. The master secret key
may be absent (kept offline) while the signing key is valid. Loading renews the signing
key when it is due (see keys_schedule); while running, `RelayKeys.renew_signing_key`
does the same (tor's check_ed_keys, driven by `keys_rotation.SigningKeyRenewer`).
RSA keys come from OpenSSL's generator; Ed25519 and curve25519 keys from the `rng`
passed in. Bad key files raise `KeyFileError`.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from zwiebel.cells.torcert import Ed25519Cert, EdCertType
from zwiebel.crypto.ed25519_expanded import ExpandedEd25519Private
from zwiebel.crypto.keys import RsaPrivate, X25519Private, ed25519_verify
from zwiebel.crypto.util import Rng
from zwiebel.encoding import ParseError
from zwiebel.features.relay import keys_files as kf
from zwiebel.features.relay.keys_certs import clamp_curve25519, sign_ed25519_cert
from zwiebel.features.relay.keys_schedule import (
    SIGNING_KEY_LIFETIME,
    signing_key_needed,
    signing_key_wanted,
)

log = logging.getLogger("zwiebel")
NOTICE = 25

ID_KEY = "secret_id_key"
TAP_KEY = "secret_onion_key"
NTOR_KEY = "secret_onion_key_ntor"
MASTER = "ed25519_master_id"
SIGNING = "ed25519_signing"
OLD = ".old"


class KeyFileError(ValueError):
    """A key file exists but cannot be used (malformed, mismatched, wrong tag)."""


@dataclass(frozen=True, eq=False)
class RelayKeys:
    """Every key a relay uses, loaded from (or created in) its keys folder."""

    identity: RsaPrivate
    master_id: bytes
    """The Ed25519 master identity public key (32 bytes)."""
    master_secret: ExpandedEd25519Private | None
    """None when the master secret key is kept offline."""
    signing: ExpandedEd25519Private
    signing_cert: Ed25519Cert
    onion_tap: RsaPrivate
    ntor: X25519Private
    onion_tap_old: RsaPrivate | None = None
    ntor_old: X25519Private | None = None

    @property
    def fingerprint(self) -> bytes:
        """SHA-1 of the RSA identity key's DER: the relay's identity digest."""
        return self.identity.public().fingerprint()

    @property
    def fingerprint_hex(self) -> str:
        """40 upper-case hex digits."""
        return self.fingerprint.hex().upper()

    @property
    def fingerprint_spaced(self) -> str:
        """The fingerprint in groups of four, as tor prints it."""
        hexfp = self.fingerprint_hex
        return " ".join(hexfp[i : i + 4] for i in range(0, 40, 4))

    @property
    def ed25519_b64(self) -> str:
        """The master identity in unpadded base64 (fingerprint-ed25519, descriptors)."""
        return base64.b64encode(self.master_id).decode().rstrip("=")

    @classmethod
    def load_or_create(cls, keys_dir: Path, now: datetime, rng: Rng,
                       signing_lifetime: timedelta = SIGNING_KEY_LIFETIME) -> RelayKeys:
        """Load every key in `keys_dir`, creating the missing ones and renewing the
        signing key when it expires within a day (`signing_lifetime`: SigningKeyLifetime)."""
        kf.make_private_dir(keys_dir)
        identity = _rsa_key(keys_dir / ID_KEY, create=True)
        assert identity is not None
        master_id, master_secret, signing, cert = _ed_keys(keys_dir, now, rng, signing_lifetime)
        tap = _rsa_key(keys_dir / TAP_KEY, create=True)
        ntor = _ntor_key(keys_dir / NTOR_KEY, rng, create=True)
        assert tap is not None and ntor is not None
        return cls(identity, master_id, master_secret, signing, cert, tap, ntor,
                   _rsa_key(keys_dir / (TAP_KEY + OLD), create=False),
                   _ntor_key(keys_dir / (NTOR_KEY + OLD), rng, create=False))

    def renew_signing_key(self, keys_dir: Path, now: datetime, rng: Rng,
                          lifetime: timedelta = SIGNING_KEY_LIFETIME) -> RelayKeys:
        """tor's load_ed_keys while running: once the signing certificate expires within
        TestingSigningKeySlop (a day), a new signing key signed by the master key (or a
        newer one an operator put in `keys_dir`). Returns `self` when the signing key is
        not due or could not be replaced (the master secret key is offline: warned);
        raises `KeyFileError` when the certificate has expired and no master secret key
        is at hand."""
        if not signing_key_wanted(self.signing_cert.expires, now):
            return self
        master_id, master_secret, signing, cert = _ed_keys(keys_dir, now, rng, lifetime)
        if master_id != self.master_id:
            raise KeyFileError("Identity key on disk does not match key we loaded earlier!")
        if signing.public_bytes() == self.signing.public_bytes():
            return self
        return replace(self, master_secret=master_secret, signing=signing, signing_cert=cert)

    def rotate_onion_keys(self, keys_dir: Path, rng: Rng) -> RelayKeys:
        """tor's rotate_onion_key: current keys become ``.old``, fresh ones replace them."""
        for name in (TAP_KEY, NTOR_KEY):
            current = keys_dir / name
            if current.is_file() and current.stat().st_size:
                current.replace(keys_dir / (name + OLD))
        tap = RsaPrivate.generate(1024)
        kf.write_private(keys_dir / TAP_KEY, tap.pem())
        ntor = _new_ntor(keys_dir / NTOR_KEY, rng)
        log.info("Rotating onion key")
        return replace(self, onion_tap=tap, ntor=ntor, onion_tap_old=self.onion_tap,
                       ntor_old=self.ntor)

    def expire_old_onion_keys(self, keys_dir: Path) -> RelayKeys:
        """tor's expire_old_onion_keys: forget and delete the ``.old`` keys."""
        for name in (TAP_KEY, NTOR_KEY):
            (keys_dir / (name + OLD)).unlink(missing_ok=True)
        return replace(self, onion_tap_old=None, ntor_old=None)


def _rsa_key(path: Path, create: bool) -> RsaPrivate | None:
    """tor's init_key_from_file: a PEM RSA key, generated if missing and `create`."""
    data = kf.read_optional(path)
    if data is None:
        if not create:
            return None
        log.info('No key found in "%s"; generating fresh key.', path)
        key = RsaPrivate.generate(1024)
        kf.write_private(path, key.pem())
        return key
    try:
        key = RsaPrivate.from_pem(data)
    except ParseError as exc:
        raise KeyFileError(f'Error loading private key "{path}": {exc}') from exc
    if key.public().bits != 1024 or key.public().exponent != 65537:
        raise KeyFileError(f'"{path}" is not a 1024-bit RSA key with exponent 65537')
    return key


def _new_ntor(path: Path, rng: Rng) -> X25519Private:
    key = X25519Private(clamp_curve25519(rng(32)))
    data = key.secret_bytes() + key.public_bytes()
    kf.write_private(path, kf.encode_tagged(kf.CURVE25519, "onion", data))
    return key


def _ntor_key(path: Path, rng: Rng, create: bool) -> X25519Private | None:
    """tor's init_curve25519_keypair_from_file with tag "onion"."""
    content = kf.read_optional(path)
    if content is None:
        return _new_ntor(path, rng) if create else None
    try:
        tag, data = kf.decode_tagged(content, kf.CURVE25519, 64)
    except ParseError as exc:
        raise KeyFileError(f'Error loading private key "{path}": {exc}') from exc
    if tag != "onion":
        raise KeyFileError(f'Unexpected tag "{tag}" on private key "{path}".')
    key = X25519Private(data[:32])
    if key.public_bytes() != data[32:]:
        raise KeyFileError(f'"{path}": public key does not match the secret key')
    return key


def _read_ed(path: Path, typestring: str, tag: str, length: int) -> bytes | None:
    content = kf.read_optional(path)
    if content is None:
        return None
    try:
        got_tag, data = kf.decode_tagged(content, typestring, length)
    except ParseError as exc:
        raise KeyFileError(f"Unable to read {path}: {exc}") from exc
    if got_tag != tag:
        raise KeyFileError(f"{path} has wrong tag")
    return data


def _load_signing(keys_dir: Path, now: datetime
                  ) -> tuple[ExpandedEd25519Private, Ed25519Cert] | None:
    """The signing key and a certificate that is for it, self-consistent and unexpired."""
    secret = _read_ed(keys_dir / f"{SIGNING}_secret_key", kf.ED_SECRET, "type4", 64)
    content = kf.read_optional(keys_dir / f"{SIGNING}_cert")
    if secret is None or content is None:
        return None
    key = ExpandedEd25519Private(secret)
    try:
        tag, raw = kf.decode_tagged(content, kf.ED_CERT, len(content) - kf.HEADER_LEN)
        cert = Ed25519Cert.decode(raw)
    except ParseError:
        log.info("Cert was unparseable")
        return None
    signer = cert.signing_key
    if (tag != "type4" or cert.cert_type != EdCertType.IDENTITY_SIGNING
            or cert.certified_key != key.public_bytes() or signer is None
            or not ed25519_verify(signer, cert.signature, cert.signed_part())
            or cert.is_expired(now)):
        log.info("Signing key certificate in %s is not usable", keys_dir)
        return None
    return key, cert


def _load_master(keys_dir: Path, may_create: bool, rng: Rng
                 ) -> tuple[bytes, ExpandedEd25519Private | None] | None:
    """(public key, secret key or None) of the master identity; created if allowed."""
    secret_path = keys_dir / f"{MASTER}_secret_key"
    public_path = keys_dir / f"{MASTER}_public_key"
    secret = _read_ed(secret_path, kf.ED_SECRET, "type0", 64)
    public = _read_ed(public_path, kf.ED_PUBLIC, "type0", 32)
    if secret is not None:
        key = ExpandedEd25519Private(secret)
        if public is not None and public != key.public_bytes():
            raise KeyFileError(f"{public_path} does not match {secret_path}!")
        if public is None:
            _write_public(public_path, key.public_bytes())
            log.log(NOTICE, "Found secret key but not %s. Regenerating.", public_path)
        return key.public_bytes(), key
    if public is not None:
        return public, None
    if not may_create:
        return None
    key = ExpandedEd25519Private.from_seed(rng(32))
    kf.write_private(secret_path, kf.encode_tagged(kf.ED_SECRET, "type0", key.expanded()))
    _write_public(public_path, key.public_bytes())
    return key.public_bytes(), key


def _write_public(path: Path, public: bytes) -> None:
    kf.write_private(path, kf.encode_tagged(kf.ED_PUBLIC, "type0", public))


def _new_signing(keys_dir: Path, master: ExpandedEd25519Private, now: datetime,
                 rng: Rng, lifetime: timedelta) -> tuple[ExpandedEd25519Private, Ed25519Cert]:
    key = ExpandedEd25519Private.from_seed(rng(32))
    cert = sign_ed25519_cert(master, EdCertType.IDENTITY_SIGNING, key.public_bytes(),
                             now + lifetime)
    kf.write_private(keys_dir / f"{SIGNING}_secret_key",
                     kf.encode_tagged(kf.ED_SECRET, "type4", key.expanded()))
    kf.write_private(keys_dir / f"{SIGNING}_cert",
                     kf.encode_tagged(kf.ED_CERT, "type4", cert.encode()))
    return key, cert


def _ed_keys(keys_dir: Path, now: datetime, rng: Rng, lifetime: timedelta
             ) -> tuple[bytes, ExpandedEd25519Private | None, ExpandedEd25519Private,
                        Ed25519Cert]:
    """load_ed_keys: master identity, and a signing key renewed when due."""
    signing = _load_signing(keys_dir, now)
    expires = signing[1].expires if signing else None
    need, want = signing_key_needed(expires, now), signing_key_wanted(expires, now)
    if need:
        log.log(NOTICE, "It looks like I need to generate and sign a new medium-term "
                "signing key, because %s.", "I don't have one" if signing is None
                else "the one I have is expired")
    master = _load_master(keys_dir, may_create=signing is None, rng=rng)
    if master is None:
        raise KeyFileError(f"Missing identity key in {keys_dir}")
    master_id, master_secret = master
    if signing is not None and signing[1].signing_key != master_id:
        raise KeyFileError("The signing cert we have was not signed with the master key "
                           "we loaded!")
    if want and master_secret is not None:
        signing = _new_signing(keys_dir, master_secret, now, rng, lifetime)
    elif need or signing is None:
        raise KeyFileError(f"Can't load master key make a new signing key: no "
                           f"{MASTER}_secret_key in {keys_dir}")
    elif want:
        log.warning("Signing key will expire soon, but I can't load the master key to "
                    "sign a new one!")
    return master_id, master_secret, signing[0], signing[1]


def write_fingerprint_files(data_dir: Path, nickname: str, keys: RelayKeys) -> None:
    """DataDirectory/fingerprint and fingerprint-ed25519 ("NICKNAME VALUE\\n"), as
    router_write_fingerprint writes them, with tor's notice lines."""
    for name, value, kind in (("fingerprint", keys.fingerprint_hex, ""),
                              ("fingerprint-ed25519", keys.ed25519_b64, "ed25519 ")):
        kf.write_text_if_changed(data_dir / name, f"{nickname} {value}\n")
        log.log(NOTICE, "Your Tor server's identity key %sfingerprint is '%s %s'",
                kind, nickname, value)

"""Key derivation functions (tor-spec 5.2.1 KDF-TOR, 5.2.2 KDF-RFC5869)."""

from __future__ import annotations

import hashlib
import hmac

from zwiebel.crypto.digest import sha1


def kdf_tor(k0: bytes, length: int) -> bytes:
    """KDF-TOR: SHA1(K0 | [00]) | SHA1(K0 | [01]) | ... truncated (tor-spec 5.2.1)."""
    out = bytearray()
    i = 0
    while len(out) < length:
        out += sha1(k0 + bytes([i]))
        i += 1
    return bytes(out[:length])


def hkdf_sha256_extract(salt: bytes, ikm: bytes) -> bytes:
    """HKDF-Extract with HMAC-SHA256 (RFC 5869 2.2)."""
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def hkdf_sha256_expand(prk: bytes, info: bytes, length: int) -> bytes:
    """HKDF-Expand with HMAC-SHA256 (RFC 5869 2.3)."""
    out = bytearray()
    block = b""
    counter = 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return bytes(out[:length])


def hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    """KDF-RFC5869: extract with `salt`, expand with `info` (tor-spec 5.2.2)."""
    return hkdf_sha256_expand(hkdf_sha256_extract(salt, ikm), info, length)


def hmac_sha256(key: bytes, msg: bytes) -> bytes:
    """HMAC-SHA256, tor's H(x, t) in the ntor handshake (tor-spec 5.1.4)."""
    return hmac.new(key, msg, hashlib.sha256).digest()

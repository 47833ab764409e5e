"""tor's password hashing: OpenPGP iterated and salted S2K (RFC 2440 section 3.6.1.3).

As ``secret_to_key_rfc2440`` (``src/lib/crypt_ops/crypto_s2k.c``) and
``do_hash_password`` (``src/app/main/main.c``): the 9-byte specifier is an 8-byte salt
and a count byte ``c``; SHA-1 is fed ``(16 + (c & 15)) << ((c >> 4) + 6)`` bytes of
``salt || password`` repeated (truncated at the end). ``tor --hash-password`` uses
``c = 0x60`` (65536 bytes) and prints ``16:`` + upper-case hex of
``salt || c || digest``. The salt is an argument: only the CLI draws it from
``os.urandom``.
"""

from __future__ import annotations

import hashlib
import hmac

SALT_LEN = 8
#: The count byte tor writes: hash 64 KiB of data.
DEFAULT_COUNT_BYTE = 0x60
_HASHED_LEN = SALT_LEN + 1 + 20


def s2k_byte_count(count_byte: int) -> int:
    """How many bytes of salt||secret the count byte says to hash."""
    return (16 + (count_byte & 15)) << ((count_byte >> 4) + 6)


def secret_to_key_rfc2440(secret: bytes, specifier: bytes) -> bytes:
    """The 20-byte SHA-1 S2K key for ``secret`` under a 9-byte ``specifier``."""
    if len(specifier) != SALT_LEN + 1:
        raise ValueError("an RFC 2440 S2K specifier is 9 bytes")
    unit = specifier[:SALT_LEN] + secret
    count = s2k_byte_count(specifier[SALT_LEN])
    repeated = unit * (count // len(unit) + 1)
    return hashlib.sha1(repeated[:count]).digest()


def hash_password(password: bytes, salt: bytes, count_byte: int = DEFAULT_COUNT_BYTE) -> str:
    """``tor --hash-password`` output for ``password`` with the given 8-byte salt."""
    if len(salt) != SALT_LEN:
        raise ValueError("the S2K salt is 8 bytes")
    specifier = salt + bytes([count_byte])
    return "16:" + (specifier + secret_to_key_rfc2440(password, specifier)).hex().upper()


def decode_hashed_password(hashed: str) -> bytes | None:
    """The 29 bytes of a ``16:HEX`` HashedControlPassword, or None if malformed."""
    if not hashed.startswith("16:"):
        return None
    try:
        raw = bytes.fromhex(hashed[3:])
    except ValueError:
        return None
    return raw if len(raw) == _HASHED_LEN else None


def verify_hashed_password(password: bytes, hashed: str) -> bool:
    """True if ``password`` matches the ``16:...`` hash (constant-time compare)."""
    raw = decode_hashed_password(hashed)
    if raw is None:
        return False
    specifier, digest = raw[: SALT_LEN + 1], raw[SALT_LEN + 1 :]
    return hmac.compare_digest(secret_to_key_rfc2440(password, specifier), digest)

"""Hash functions and running digests (tor-spec 0.3, 6.1).

A running digest (`running_digest`) is the relay-cell integrity digest: it is seeded
once with Df/Db and updated with every relay cell; tor reads its value at any point
without finalising it, as hashlib's `digest()` does; a trial update runs on a `copy()`.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from hashlib import _Hash as HashObject

DIGEST_LEN = 20


def sha1(data: bytes) -> bytes:
    """SHA-1 digest (tor's H() in many places)."""
    return hashlib.sha1(data).digest()


def sha256(data: bytes) -> bytes:
    """SHA-256 digest."""
    return hashlib.sha256(data).digest()


def sha3_256(data: bytes) -> bytes:
    """SHA3-256 digest."""
    return hashlib.sha3_256(data).digest()


def shake256(data: bytes, length: int) -> bytes:
    """SHAKE-256 output of `length` bytes."""
    return hashlib.shake_256(data).digest(length)


def running_digest(algorithm: Literal["sha1", "sha3_256"], seed: bytes = b"") -> HashObject:
    """A hash updated cell by cell and read without being finalised: hashlib's
    `digest()` leaves the object running, and `copy()` gives a trial state. The hot
    relay-crypto loops use the hashlib object itself (no wrapper calls per cell)."""
    h = hashlib.new(algorithm)
    if seed:
        h.update(seed)
    return h

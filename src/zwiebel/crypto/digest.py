"""Hash functions and running digests (tor-spec 0.3, 6.1).

A `RunningDigest` is the relay-cell integrity digest: it is seeded once with Df/Db
and updated with every relay cell; tor reads its value at any point without finalising
it, which hashlib's `copy()` gives us.
"""

from __future__ import annotations

import hashlib
from typing import Literal

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


class RunningDigest:
    """A hash that is updated cell by cell and read without being finalised."""

    __slots__ = ("_h",)

    def __init__(self, algorithm: Literal["sha1", "sha3_256"], seed: bytes = b"") -> None:
        self._h = hashlib.new(algorithm)
        if seed:
            self._h.update(seed)

    def update(self, data: bytes | bytearray | memoryview) -> None:
        """Feed more bytes."""
        self._h.update(data)

    def digest(self) -> bytes:
        """The digest of everything fed so far; the state keeps running."""
        return self._h.copy().digest()

    def copy(self) -> RunningDigest:
        """An independent copy of the current state."""
        clone = RunningDigest.__new__(RunningDigest)
        clone._h = self._h.copy()
        return clone

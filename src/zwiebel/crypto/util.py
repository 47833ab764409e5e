"""Small helpers: constant-time comparison and the randomness callable type."""

from __future__ import annotations

import hmac
from collections.abc import Callable

#: A source of random bytes: ``rng(n)`` returns `n` bytes. The runtime passes os.urandom.
Rng = Callable[[int], bytes]


def ct_eq(a: bytes, b: bytes) -> bool:
    """Compare two byte strings in time independent of where they differ."""
    return hmac.compare_digest(a, b)

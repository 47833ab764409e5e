"""The clock and randomness handed to the sans-I/O core."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import time


def utcnow() -> dt.datetime:
    """The current time as a timezone-aware UTC datetime."""
    return dt.datetime.now(dt.UTC)


def monotonic() -> float:
    """Seconds on a monotonic clock (for timeouts and uptime)."""
    return time.monotonic()


def rng(n: int) -> bytes:
    """`n` random bytes from the operating system."""
    return os.urandom(n)


def randbelow(n: int) -> int:
    """A uniformly random integer in [0, n)."""
    return secrets.randbelow(n)

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


def monotonic_usec() -> int:
    """Whole microseconds on the same clock (tor's monotime_absolute_usec, for
    congestion control's RTT measurements)."""
    return time.monotonic_ns() // 1000


class _Pool:
    """Bytes from the operating system's CSPRNG, read 64 KiB at a time and handed out
    once each: cell padding asks for a few hundred bytes per SENDME, and a getrandom()
    call for each was a visible share of a busy client (tor pads from its buffered
    crypto_fast_rng for the same reason)."""

    __slots__ = ("_buf", "_at")
    SIZE = 64 * 1024

    def __init__(self) -> None:
        self._buf = b""
        self._at = 0

    def take(self, n: int) -> bytes:
        if n > self.SIZE // 8:
            return os.urandom(n)
        if self._at + n > len(self._buf):
            self._buf, self._at = os.urandom(self.SIZE), 0
        out = self._buf[self._at:self._at + n]
        self._at += n
        return out


_POOL = _Pool()


def rng(n: int) -> bytes:
    """`n` random bytes from the operating system's CSPRNG (buffered, never reused)."""
    return _POOL.take(n)


def randbelow(n: int) -> int:
    """A uniformly random integer in [0, n)."""
    return secrets.randbelow(n)

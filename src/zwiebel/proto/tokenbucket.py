"""tor's read/write token buckets and how connections draw on them (sans-I/O).

Implements tor 0.4.9's ``src/lib/evloop/token_bucket.c`` (``token_bucket_rw_t``) and the
bucket choice of ``src/core/mainloop/connection.c`` (``connection_bucket_init``,
``connection_buckets_decrement``, ``connection_consider_empty_*_buckets``); the torrc
options are BandwidthRate/BandwidthBurst and RelayBandwidthRate/RelayBandwidthBurst
(``doc/man/tor.1.txt``).

tor's arithmetic, kept exactly:

- Time is a coarse monotonic stamp of `STAMP_TICKS_PER_SECOND` ticks a second (Linux's
  ``monotime_coarse_get_stamp``); buckets refill in whole steps of `TICKS_PER_STEP`
  ticks, each step adding ``rate * 16 * 1000 / 953 / 1000`` bytes (at least 1), capped
  at the burst.  A partial step does not advance the refill time, so it is never lost.
  One deliberate difference: tor sets the refill time to *now* after whole steps, dropping
  the ticks of the partial step; with blocked connections woken every 100 msec (95 ticks,
  5 steps of 16) that delivers about 16% less than the configured rate.  Here the refill
  time advances by the whole steps only, so the long-run average is the configured rate.
- Decrementing may drive a bucket below zero (a read or write is never split); the
  debt is repaid by later refills, so the long-run average obeys the rate.
- Blocked connections are woken every TokenBucketRefillInterval (100 msec by default,
  ``reenable_blocked_connections_cb``), not on every step.
- Two global buckets: ``global`` (BandwidthRate/Burst) for all rate-limited traffic and
  ``relayed`` (RelayBandwidthRate/Burst, or BandwidthRate/Burst when RelayBandwidthRate is
  0) for relayed traffic only.  Relayed traffic must find tokens in both; traffic we
  originate as a client only in ``global``.  Connections to internal addresses are not
  rate limited unless CountPrivateBandwidth is set (``connection_is_rate_limited``).

Time is passed in (seconds of a monotonic clock, as a float).  Not here: per-connection
buckets (PerConnBWRate, set by the consensus) and edge-connection XON/XOFF buckets.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

#: Coarse monotonic ticks per second on Linux (tor lib/time/compat_time.c).
STAMP_TICKS_PER_SECOND = 953
#: Ticks per refill step (tor token_bucket.h).
TICKS_PER_STEP = 16
#: tor's largest burst (INT32_MAX).
MAX_BURST = 2**31 - 1
#: Default TokenBucketRefillInterval, in seconds.
REFILL_INTERVAL = 0.1


def to_stamp(now: float) -> int:
    """A monotonic time in seconds as tor's coarse stamp."""
    return int(now * STAMP_TICKS_PER_SECOND)


def rate_per_step(rate: int) -> int:
    """Bytes added per refill step for ``rate`` bytes/second
    (token_bucket.c rate_per_sec_to_rate_per_step)."""
    units = rate * TICKS_PER_STEP
    msec = units * 1000 // STAMP_TICKS_PER_SECOND
    return max(msec // 1000, 1)


class RwBucket:
    """A read and a write bucket sharing one rate and burst (token_bucket_rw_t)."""

    __slots__ = ("rate", "burst", "step_rate", "read", "write", "_last")

    def __init__(self, rate: int, burst: int, now: float) -> None:
        if rate <= 0 or burst <= 0:
            raise ValueError("token bucket rate and burst must be positive")
        self.rate = rate
        self.burst = min(burst, MAX_BURST)
        self.step_rate = rate_per_step(rate)
        self.read = self.burst
        self.write = self.burst
        self._last = to_stamp(now)

    def adjust(self, rate: int, burst: int) -> None:
        """New rate and burst; the levels are capped at the new burst (token_bucket_rw_adjust)."""
        self.rate = rate
        self.burst = min(burst, MAX_BURST)
        self.step_rate = rate_per_step(rate)
        self.read = min(self.read, self.burst)
        self.write = min(self.write, self.burst)

    def refill(self, now: float) -> tuple[bool, bool]:
        """Add the whole steps elapsed since the last refill; returns which buckets went
        from empty to non-empty (TB_READ, TB_WRITE)."""
        stamp = to_stamp(now)
        elapsed = stamp - self._last
        if elapsed < 0 or elapsed > 2**32 // 4:
            self._last = stamp  # a clock jump: skip it, as tor does
            return False, False
        steps = elapsed // TICKS_PER_STEP
        if not steps:
            return False, False
        self._last += steps * TICKS_PER_STEP
        read_woke = self.read <= 0
        write_woke = self.write <= 0
        self.read = self._filled(self.read, steps)
        self.write = self._filled(self.write, steps)
        return read_woke and self.read > 0, write_woke and self.write > 0

    def _filled(self, level: int, steps: int) -> int:
        if steps > (self.burst - level) // self.step_rate:
            return self.burst
        return level + self.step_rate * steps

    def spend(self, n_read: int, n_written: int) -> None:
        """Take tokens for bytes read and written; levels may go negative."""
        self.read -= n_read
        self.write -= n_written


@dataclass(frozen=True)
class BandwidthConfig:
    """The torrc's shaping options, in bytes per second / bytes."""

    rate: int
    burst: int
    relay_rate: int = 0
    relay_burst: int = 0
    count_private: bool = False
    refill_interval: float = REFILL_INTERVAL

    def relayed(self) -> tuple[int, int]:
        """Rate and burst of the relayed bucket (connection_bucket_init)."""
        if self.relay_rate:
            return self.relay_rate, self.relay_burst or self.relay_rate
        return self.rate, self.burst


class GlobalBuckets:
    """The global and relayed-only buckets of one process."""

    def __init__(self, config: BandwidthConfig, now: float) -> None:
        self.config = config
        self.all = RwBucket(config.rate, config.burst, now)
        self.relayed = RwBucket(*config.relayed(), now)

    def reconfigure(self, config: BandwidthConfig) -> None:
        """SIGHUP: apply new rates (connection_bucket_adjust)."""
        self.config = config
        self.all.adjust(config.rate, config.burst)
        self.relayed.adjust(*config.relayed())

    def refill(self, now: float) -> None:
        """Refill both buckets."""
        self.all.refill(now)
        self.relayed.refill(now)

    def spend(self, relayed: bool, n_read: int, n_written: int) -> None:
        """Account bytes moved on a rate-limited connection (connection_buckets_decrement)."""
        self.all.spend(n_read, n_written)
        if relayed:
            self.relayed.spend(n_read, n_written)

    def can_read(self, relayed: bool) -> bool:
        """False when this class of traffic must stop reading."""
        return self.all.read > 0 and (not relayed or self.relayed.read > 0)

    def can_write(self, relayed: bool) -> bool:
        """False when this class of traffic must stop writing."""
        return self.all.write > 0 and (not relayed or self.relayed.write > 0)

    def write_allowance(self, relayed: bool) -> int:
        """How many bytes may be written now (0 when a bucket is empty)."""
        level = self.all.write
        if relayed:
            level = min(level, self.relayed.write)
        return max(level, 0)


def is_rate_limited(peer_host: str, count_private: bool) -> bool:
    """tor's connection_is_rate_limited: internal or unknown peers are exempt unless
    CountPrivateBandwidth is set."""
    if count_private:
        return True
    try:
        address = ipaddress.ip_address(peer_host)
    except ValueError:
        return False
    return not (address.is_private or address.is_loopback or address.is_link_local
                or address.is_unspecified)

"""Bandwidth shaping for OR connections: the asyncio side of tor's token buckets.

The bucket arithmetic is `zwiebel.proto.tokenbucket`; this module applies it to
transports the way tor's connection.c does:

- Reading: after each read the bytes are taken from the buckets (refilled lazily first,
  as ``connection_bucket_refill_single``); when a bucket is empty the connection stops
  reading (``transport.pause_reading()``) and is woken by one shared timer every
  TokenBucketRefillInterval (``reenable_blocked_connections_cb``).
- Writing: bytes go to the transport while the write buckets hold tokens; otherwise they
  wait in the connection's `Shaper` queue and are written, at most the tokens available,
  on the next wake.  A long queue tells the connection to stop producing (its
  ``pause_writing``/``resume_writing``), so SENDME-paced senders back off.

One `BandwidthLimiter` serves the whole process (tor's buckets are global): `install`
it once the options are known; connections ask `shaper_for` and get None when shaping
does not apply to them (no limiter, or a private peer without CountPrivateBandwidth), so
the per-cell path costs one ``is None`` test.

Exit streams (the exit's TCP connections to destinations) draw on the same buckets, as
every connection does in tor (``connection_bucket_read_limit``): they pass a
`ShapedTransport` whose pause and resume combine the buckets with their own SENDME-window
flow control.

Not here: per-connection buckets (PerConnBWRate) and the overload statistics tor keeps
when a bucket empties.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from zwiebel.proto.tokenbucket import BandwidthConfig, GlobalBuckets, is_rate_limited
from zwiebel.runtime.clock import monotonic

#: Queued output above which the connection is told to stop producing, and below which
#: it may resume.
QUEUE_HIGH = 256 * 1024
QUEUE_LOW = 64 * 1024

#: Told True when a shaper's queue is long and False when it has drained.
PressureSink = Callable[[bool], None]


class ShapedTransport(Protocol):
    """What a shaper needs of a connection's transport (an ``asyncio.Transport`` has it)."""

    def pause_reading(self) -> None:
        """Stop delivering received bytes."""

    def resume_reading(self) -> None:
        """Deliver received bytes again."""

    def write(self, data: bytes) -> None:
        """Send bytes."""

    def is_closing(self) -> bool:
        """True once the connection is closing."""


class Shaper:
    """One connection's use of the global buckets."""

    __slots__ = ("_limiter", "_transport", "relayed", "_on_pressure", "_queue",
                 "_read_blocked", "_pressed")

    def __init__(self, limiter: BandwidthLimiter, transport: ShapedTransport,
                 relayed: bool, on_pressure: PressureSink | None) -> None:
        self._limiter = limiter
        self._transport = transport
        self.relayed = relayed
        self._on_pressure = on_pressure
        self._queue = bytearray()
        self._read_blocked = False
        self._pressed = False

    def note_read(self, n: int) -> None:
        """Take ``n`` read tokens; stop reading if a bucket is now empty."""
        self._limiter.read_total += n
        buckets = self._limiter.refreshed()
        buckets.spend(self.relayed, n, 0)
        if not self._read_blocked and not buckets.can_read(self.relayed):
            self._read_blocked = True
            self._transport.pause_reading()
            self._limiter.block(self)

    def write(self, data: bytes) -> None:
        """Write now if the write buckets allow, else queue for the next refill."""
        buckets = self._limiter.refreshed()
        if not self._queue and buckets.can_write(self.relayed):
            buckets.spend(self.relayed, 0, len(data))
            self._limiter.written_total += len(data)
            self._transport.write(data)
            return
        self._queue += data
        self._limiter.block(self)
        if not self._pressed and len(self._queue) > QUEUE_HIGH:
            self._set_pressure(True)

    def drain(self) -> None:
        """Write everything queued now, tokens or not (the connection is about to close:
        tor flushes a marked connection's buffer before closing it); the buckets carry
        the debt."""
        if self._queue and not self._transport.is_closing():
            data = bytes(self._queue)
            self._queue.clear()
            self._limiter.buckets.spend(self.relayed, 0, len(data))
            self._limiter.written_total += len(data)
            self._transport.write(data)

    @property
    def queued(self) -> int:
        """Bytes waiting for write tokens."""
        return len(self._queue)

    def wake(self, buckets: GlobalBuckets) -> bool:
        """The buckets were refilled: resume what can resume; True if still blocked."""
        if self._transport.is_closing():
            self._queue.clear()
            return False
        if self._read_blocked and buckets.can_read(self.relayed):
            self._read_blocked = False
            self._transport.resume_reading()
        if self._queue:
            self._flush(buckets)
        return self._read_blocked or bool(self._queue)

    def _flush(self, buckets: GlobalBuckets) -> None:
        allowance = buckets.write_allowance(self.relayed)
        if allowance <= 0:
            return
        chunk = bytes(self._queue[:allowance])
        del self._queue[:allowance]
        buckets.spend(self.relayed, 0, len(chunk))
        self._limiter.written_total += len(chunk)
        self._transport.write(chunk)
        if self._pressed and len(self._queue) < QUEUE_LOW:
            self._set_pressure(False)

    def _set_pressure(self, full: bool) -> None:
        self._pressed = full
        if self._on_pressure is not None:
            self._on_pressure(full)


class BandwidthLimiter:
    """The process's global and relayed buckets and the timer that wakes blocked shapers."""

    def __init__(self, config: BandwidthConfig, clock: Callable[[], float] = monotonic
                 ) -> None:
        self._clock = clock
        self.buckets = GlobalBuckets(config, clock())
        self._blocked: set[Shaper] = set()
        self._timer: asyncio.TimerHandle | None = None
        #: Bytes read and written on rate-limited connections since start (what tor's
        #: bandwidth history and accounting count).
        self.read_total = 0
        self.written_total = 0

    @property
    def config(self) -> BandwidthConfig:
        """The options in force."""
        return self.buckets.config

    def reconfigure(self, config: BandwidthConfig) -> None:
        """Apply changed BandwidthRate/Burst options (SIGHUP)."""
        self.buckets.reconfigure(config)

    def refreshed(self) -> GlobalBuckets:
        """The buckets, refilled up to now."""
        self.buckets.refill(self._clock())
        return self.buckets

    def shaper(self, transport: ShapedTransport, peer_host: str, relayed: bool,
               on_pressure: PressureSink | None = None) -> Shaper | None:
        """A shaper for a new connection, or None when it is not rate limited."""
        if not is_rate_limited(peer_host, self.config.count_private):
            return None
        return Shaper(self, transport, relayed, on_pressure)

    def block(self, shaper: Shaper) -> None:
        """Wake ``shaper`` at the next refill interval."""
        self._blocked.add(shaper)
        if self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self.config.refill_interval, self._wake)

    def _wake(self) -> None:
        self._timer = None
        buckets = self.refreshed()
        blocked, self._blocked = self._blocked, set()
        for shaper in blocked:
            if shaper.wake(buckets):
                self.block(shaper)

    def close(self) -> None:
        """Stop the timer (at shutdown)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._blocked.clear()


_installed: BandwidthLimiter | None = None


def install(config: BandwidthConfig | None) -> BandwidthLimiter | None:
    """Set (or with None, remove) the process's limiter; later connections use it."""
    global _installed
    if _installed is not None:
        _installed.close()
    _installed = BandwidthLimiter(config) if config is not None else None
    return _installed


def installed() -> BandwidthLimiter | None:
    """The process's limiter, if shaping is configured."""
    return _installed


class FlowControlled(asyncio.Protocol):
    """A protocol whose senders wait on `writable`: cleared while the transport's buffer
    is over its high-water mark, or while output waits for bandwidth tokens (pass
    `bandwidth_pressure` to `shaper_for`)."""

    writable: asyncio.Event

    def pause_writing(self) -> None:
        """The transport buffer is over its high-water mark."""
        self.writable.clear()

    def resume_writing(self) -> None:
        """The transport buffer drained."""
        self.writable.set()

    def bandwidth_pressure(self, full: bool) -> None:
        """Output waits for bandwidth tokens: senders back off until it does not."""
        if full:
            self.writable.clear()
        else:
            self.writable.set()


def shaper_for(transport: ShapedTransport, peer_host: str, relayed: bool,
               on_pressure: PressureSink | None = None) -> Shaper | None:
    """A shaper for a new connection from the installed limiter, or None."""
    if _installed is None:
        return None
    return _installed.shaper(transport, peer_host, relayed, on_pressure)

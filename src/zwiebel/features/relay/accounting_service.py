"""The relay's once-a-second bandwidth bookkeeping: history, accounting, hibernation.

Runtime glue around the sans-I/O cores: every second `BandwidthMeter` takes the bytes the
bandwidth limiter (`zwiebel.runtime.ratelimit`) counted on rate-limited connections,
adds them to the observed-bandwidth history (`bandwidth`) and, with AccountingMax set,
to `accounting.Accounting`; it logs accounting's notices, tells the relay to sleep or
wake (``on_dormant``/``on_wake``), reports each hibernation state change to
``on_hibernation`` (tor's HIBERNATION_STATUS server status: AWAKE, SOFT or HARD), and
saves the Accounting* keys to DataDirectory/state (read, update, write to a temporary
file and rename, as tor's or_state_save does) every minute while they change, on every
hibernation change and at stop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from zwiebel.config import Options
from zwiebel.encoding import ParseError
from zwiebel.features.relay.accounting import (
    Accounting,
    AccountingConfig,
    Counters,
    Hibernation,
)
from zwiebel.features.relay.accounting_period import parse_accounting_start
from zwiebel.features.relay.accounting_state import counters_from_state, counters_to_state
from zwiebel.features.relay.bandwidth import BandwidthHistory
from zwiebel.features.relay.state_io import read_state, write_state
from zwiebel.proto.tokenbucket import BandwidthConfig
from zwiebel.runtime.ratelimit import BandwidthLimiter

log = logging.getLogger("zwiebel")
NOTICE = 25
#: Seconds between state-file saves while counters change (tor marks the state dirty
#: for a write within 60 seconds).
SAVE_INTERVAL = 60


def local_tz() -> dt.tzinfo:
    """The host's current local time zone (a fixed offset)."""
    tz = dt.datetime.now().astimezone().tzinfo
    assert tz is not None
    return tz


class BandwidthMeter:
    """Feeds the history and accounting from the limiter's byte counters."""

    def __init__(self, limiter: BandwidthLimiter, state_path: Path, min_observation: int,
                 accounting: AccountingConfig | None,
                 on_dormant: Callable[[], Awaitable[None]],
                 on_wake: Callable[[], Awaitable[None]]) -> None:
        now = _now()
        self.limiter = limiter
        self.state_path = state_path
        self.history = BandwidthHistory(now, min_observation)
        self.accounting = (Accounting(accounting, self._load(), local_tz())
                           if accounting is not None else None)
        self._on_dormant, self._on_wake = on_dormant, on_wake
        self._seen = (limiter.read_total, limiter.written_total)
        self._last_tick = now
        self._last_save = now
        self._task: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Future[None]] = set()
        #: Told the new state's name (AWAKE, SOFT, HARD) whenever it changes.
        self.on_hibernation: Callable[[str], None] = lambda name: None
        self._reported = Hibernation.INITIAL

    def hibernating(self) -> bool:
        """True while new circuits must be refused (soft limit or dormant)."""
        return self.accounting is not None and self.accounting.state in (
            Hibernation.LOW_BANDWIDTH, Hibernation.DORMANT)

    def dormant(self) -> bool:
        """True while the hard limit keeps the ORPort closed."""
        return self.accounting is not None and self.accounting.state is Hibernation.DORMANT

    def observed(self) -> int:
        """The descriptor's observed bandwidth, bytes per second."""
        return self.history.observed()

    async def start(self) -> None:
        """Configure accounting (maybe going dormant at once) and start ticking."""
        if self.accounting is not None:
            now = _now()
            self._notes(self.accounting.configure(now))
            await self._consider(now)
        self._task = asyncio.create_task(self._run())

    def reconfigure(self, config: AccountingConfig | None) -> None:
        """SIGHUP: apply changed Accounting* options without a restart, as tor does.

        Still on: the new settings apply to the running period (`Accounting.reconfigure`).
        Turned on: the counters are read back from the state file and a period begins.
        Turned off: the counters are saved and hibernation ends; a dormant relay opens
        its ORPort again. State changes the new settings cause (a lower AccountingMax
        already used up) happen at the next once-a-second tick."""
        now = _now()
        old = self.accounting
        if config is None:
            if old is not None:
                self._disable(old)
            return
        if old is None:
            self.accounting = Accounting(config, self._load(), local_tz())
            self._notes(self.accounting.configure(now))
        else:
            self._notes(old.reconfigure(config, now))
        self._save()

    def _disable(self, old: Accounting) -> None:
        self._save()
        self.accounting = None
        if old.state in (Hibernation.LOW_BANDWIDTH, Hibernation.DORMANT):
            self._notes(["Hibernation period ended. Resuming normal activity."])
        self._report_state()
        if old.state is Hibernation.DORMANT:
            task = asyncio.ensure_future(self._on_wake())
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def stop(self) -> None:
        """Stop ticking and save the counters."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.tick_bytes(_now())
        self._save()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            now = _now()
            self.tick_bytes(now)
            if self.accounting is not None:
                self._notes(self.accounting.housekeeping(now))
                await self._consider(now)
                if now - self._last_save >= SAVE_INTERVAL:
                    self._save()

    def tick_bytes(self, now: int) -> None:
        """Move the bytes counted since the last tick into history and accounting."""
        read, written = self.limiter.read_total, self.limiter.written_total
        n_read, n_written = read - self._seen[0], written - self._seen[1]
        self._seen = (read, written)
        self.history.note(now, n_read, n_written)
        if self.accounting is not None:
            self.accounting.add_bytes(n_read, n_written, now - self._last_tick)
        self._last_tick = now

    async def _consider(self, now: int) -> None:
        assert self.accounting is not None
        before = self.accounting.state
        self._notes(self.accounting.consider(now))
        after = self.accounting.state
        self._report_state()
        if after is before:
            return
        self._save()
        if after is Hibernation.DORMANT:
            await self._on_dormant()
        elif before is Hibernation.DORMANT:
            await self._on_wake()

    def _report_state(self) -> None:
        """on_hibernate_state_change: the state's name when it differs from the last
        reported (INITIAL and LIVE are both AWAKE, as in hibernate_state_to_string)."""
        state = self.accounting.state if self.accounting is not None else Hibernation.LIVE
        if state is self._reported:
            return
        self._reported = state
        awake = state in (Hibernation.INITIAL, Hibernation.LIVE)
        self.on_hibernation("AWAKE" if awake else state.value.upper())

    @staticmethod
    def _notes(lines: list[str]) -> None:
        for line in lines:
            log.log(NOTICE, "%s", line)

    def _load(self) -> Counters | None:
        try:
            return counters_from_state(read_state(self.state_path))
        except ParseError as exc:
            log.warning("Ignoring bad accounting data in %s: %s", self.state_path, exc)
            return None

    def _save(self) -> None:
        """Write the Accounting* keys into the state file atomically."""
        if self.accounting is None:
            return
        now = dt.datetime.now(dt.UTC)
        state = counters_to_state(read_state(self.state_path), self.accounting.c)
        if write_state(self.state_path, state, now):
            self._last_save = int(now.timestamp())


def _now() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp())


def bandwidth_config_of(options: Options) -> BandwidthConfig:
    """The token-bucket settings from the torrc."""
    return BandwidthConfig(
        rate=int(options.get("BandwidthRate")), burst=int(options.get("BandwidthBurst")),
        relay_rate=int(options.get("RelayBandwidthRate")),
        relay_burst=int(options.get("RelayBandwidthBurst")),
        count_private=bool(options.get("CountPrivateBandwidth")),
        refill_interval=int(options.get("TokenBucketRefillInterval")) / 1000)


def accounting_config_of(options: Options, identity_digest: bytes) -> AccountingConfig | None:
    """The accounting settings, or None without AccountingMax; raises
    `AccountingConfigError` for a bad AccountingStart."""
    quota = int(options.get("AccountingMax"))
    if not quota:
        return None
    return AccountingConfig(
        max_bytes=quota, start=parse_accounting_start(options.get("AccountingStart")),
        rule=str(options.get("AccountingRule")), rate=int(options.get("BandwidthRate")),
        relay_rate=int(options.get("RelayBandwidthRate")), identity_digest=identity_digest)

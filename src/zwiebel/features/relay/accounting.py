"""Bandwidth accounting and hibernation, sans-I/O (tor feature/hibernate/hibernate.c).

With AccountingMax set, a relay counts the bytes it reads and writes in each accounting
period (`accounting_period`), combined by AccountingRule (sum, max, in, out).  Near the
quota it hibernates: at the *soft limit* it stops accepting new circuits (LOW_BANDWIDTH),
at the *hard limit* it goes DORMANT (closes its ORPort) until the next period.  A relay
that used its quota too fast last period sleeps at the start of the next one and wakes
at a point chosen from a digest of the period start and its identity, so that its
expected usage runs out near the period's end (``accounting_set_wakeup_time``).

Everything here takes ``now`` (POSIX seconds) and returns the operator's log lines; the
runtime glue (`accounting_service`) feeds byte counts once a second, acts on `state`,
and persists `Counters` in DataDirectory/state (`accounting_state`).

Not here: SIGINT's EXITING state (the daemon's signal handling owns shutdown) and the
control port's accounting/* GETINFO keys (`Accounting.statistics` has their data).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import Enum

from zwiebel.crypto.digest import sha1
from zwiebel.features.relay.accounting_period import (
    AccountingConfigError,
    AccountingStart,
    period_after,
    period_start,
)
from zwiebel.state import format_time

RULES = ("sum", "max", "in", "out")
#: hibernate.c: soft limit at 95% used, or 500 MB left, or 3 hours of expected use left.
SOFT_LIMIT_FRACTION = 0.95
SOFT_LIMIT_BYTES = 500 * 1024 * 1024
SOFT_LIMIT_MINUTES = 3 * 60
#: Seconds of activity needed before a period's usage predicts the next one.
MIN_TIME_FOR_MEASUREMENT = 1800


class Hibernation(Enum):
    """tor's hibernate_state_t, without EXITING."""

    INITIAL = "initial"
    LIVE = "awake"
    LOW_BANDWIDTH = "soft"
    DORMANT = "hard"


@dataclass(frozen=True)
class AccountingConfig:
    """The accounting options and what the wake-up computation needs."""

    max_bytes: int
    start: AccountingStart
    rule: str
    rate: int
    relay_rate: int
    identity_digest: bytes

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise AccountingConfigError("AccountingRule must be 'sum', 'max', 'in', or 'out'")


@dataclass(frozen=True)
class Counters:
    """The persistent part of accounting (the Accounting* state-file keys)."""

    interval_start: int = 0
    read: int = 0
    written: int = 0
    seconds_active: int = 0
    expected_usage: int = 0
    soft_limit_hit_at: int = 0
    bytes_at_soft_limit: int = 0
    seconds_to_soft_limit: int = 0


def _local(when: int, tz: dt.tzinfo) -> str:
    return dt.datetime.fromtimestamp(when, tz).strftime("%Y-%m-%d %H:%M:%S")


class Accounting:
    """One relay's accounting period and hibernation state."""

    def __init__(self, config: AccountingConfig, saved: Counters | None, tz: dt.tzinfo
                 ) -> None:
        self.config = config
        self.tz = tz
        self.c = saved if saved is not None else Counters()
        self.interval_end = 0
        self.wakeup = 0
        self.state = Hibernation.INITIAL
        self.hibernate_end = 0

    # -- counting ---------------------------------------------------------------------
    def add_bytes(self, n_read: int, n_written: int, seconds: int) -> None:
        """accounting_add_bytes: a gap of 10 s or more is a clock jump, not activity."""
        self.c = replace(self.c, read=self.c.read + n_read,
                         written=self.c.written + n_written,
                         seconds_active=self.c.seconds_active + (seconds if seconds < 10 else 0))

    def used(self) -> int:
        """Bytes counted against AccountingMax (get_accounting_bytes)."""
        rule = self.config.rule
        if rule == "sum":
            return self.c.read + self.c.written
        if rule == "in":
            return self.c.read
        if rule == "out":
            return self.c.written
        return max(self.c.read, self.c.written)

    def hard_limit_reached(self) -> bool:
        """hibernate_hard_limit_reached."""
        return self.used() >= self.config.max_bytes

    def soft_limit(self) -> int:
        """The byte count at which we stop accepting new circuits."""
        quota = self.config.max_bytes
        soft = int(quota * SOFT_LIMIT_FRACTION)
        if quota > SOFT_LIMIT_BYTES and quota - SOFT_LIMIT_BYTES > soft:
            soft = quota - SOFT_LIMIT_BYTES
        expected = self.c.expected_usage * SOFT_LIMIT_MINUTES
        if self.c.expected_usage and quota > expected and quota - expected > soft:
            soft = quota - expected
        return soft

    def soft_limit_reached(self) -> bool:
        """hibernate_soft_limit_reached."""
        soft = self.soft_limit()
        return bool(soft) and self.used() >= soft

    # -- periods ----------------------------------------------------------------------
    def configure(self, now: int) -> list[str]:
        """configure_accounting: continue, shift or restart the period; set the wake-up."""
        start = self.config.start
        s_now = period_start(now, start, self.tz)
        begun = self.c.interval_start
        if not begun:
            self._reset(now)
        elif s_now == begun:
            self.interval_end = period_after(begun, start, self.tz)
        else:
            length = (period_after(begun, start, self.tz)
                      - period_start(begun, start, self.tz))
            delta = (s_now - begun) / length
            if -0.5 <= delta <= 0.5:
                self.interval_end = period_after(now, start, self.tz)
            else:
                self._reset(now)
        return [self._set_wakeup(now)]

    def reconfigure(self, config: AccountingConfig, now: int) -> list[str]:
        """SIGHUP with accounting still on (tor's options_act_relay_accounting): the new
        AccountingMax, AccountingRule and AccountingStart apply at once; the period is
        kept, shifted or started afresh as at start-up, and the wake-up time recomputed.
        The hibernation state is left for the next `consider` to revise."""
        self.config = config
        return self.configure(now)

    def _reset(self, now: int) -> None:
        expected = self._expected_usage()
        begun = period_start(now, self.config.start, self.tz)
        self.c = Counters(interval_start=begun, expected_usage=expected)
        self.interval_end = period_after(begun, self.config.start, self.tz)

    def _expected_usage(self) -> int:
        """update_expected_bandwidth: bytes per minute the last period suggests."""
        c = self.config
        cap = (c.relay_rate if c.relay_rate > 0 else c.rate) * 60
        if c.rule == "sum":
            cap *= 2
        until_soft = self.c.soft_limit_hit_at - self.c.interval_start
        if self.c.soft_limit_hit_at > self.c.interval_start and self.c.bytes_at_soft_limit \
                and until_soft > MIN_TIME_FOR_MEASUREMENT:
            expected = self.c.bytes_at_soft_limit // until_soft // 60
        elif self.c.seconds_active >= MIN_TIME_FOR_MEASUREMENT:
            expected = self.used() // (self.c.seconds_active // 60)
        else:
            expected = 0
        return min(expected, cap)

    def _set_wakeup(self, now: int) -> str:
        """accounting_set_wakeup_time, returning tor's notice."""
        begun, end = self.c.interval_start, self.interval_end
        if not self.c.expected_usage:
            self.wakeup = begun
            return (f"Configured hibernation. This interval begins at {_local(begun, self.tz)} "
                    f"and ends at {_local(end, self.tz)}. We have no prior estimate for "
                    "bandwidth, so we will start out awake and hibernate when we exhaust "
                    "our quota.")
        to_exhaust = (self.config.max_bytes // self.c.expected_usage) * 60
        to_consider = (end - begun) - to_exhaust
        self.wakeup = begun + (wakeup_offset(begun, self.config.identity_digest) % to_consider
                               if to_consider > 0 else 0)
        down = min(self.wakeup + to_exhaust, end)
        return ("Configured hibernation.  This interval began at "
                f"{_local(begun, self.tz)}; the scheduled wake-up time "
                f"{'is' if now < self.wakeup else 'was'} {_local(self.wakeup, self.tz)}; "
                f"we expect{'' if now < down else 'ed'} to exhaust our quota for this "
                f"interval around {_local(down, self.tz)}; the next interval begins at "
                f"{_local(end, self.tz)} (all times local)")

    def housekeeping(self, now: int) -> list[str]:
        """accounting_run_housekeeping: start the next period when this one is over."""
        return self.configure(now) if now >= self.interval_end else []

    # -- hibernation ------------------------------------------------------------------
    def consider(self, now: int) -> list[str]:
        """consider_hibernation: move between LIVE, LOW_BANDWIDTH and DORMANT."""
        notes: list[str] = []
        if self.state is Hibernation.DORMANT:
            if self.hibernate_end > now:
                return notes
            notes += self._end_time_elapsed(now)
        if self.state in (Hibernation.LIVE, Hibernation.INITIAL):
            notes += self._consider_awake(now)
        if self.state is Hibernation.LOW_BANDWIDTH:
            if self.hard_limit_reached():
                notes += self._go_dormant(now)
            elif self.hibernate_end <= now:
                notes += self._end_time_elapsed(now)
        return notes

    def _consider_awake(self, now: int) -> list[str]:
        if self.soft_limit_reached():
            self._begin_low_bandwidth(now)
            return ["Bandwidth soft limit reached; commencing hibernation. "
                    "No new connections will be accepted"]
        if now < self.wakeup:
            return [f"Commencing hibernation. We will wake up at "
                    f"{_local(self.wakeup, self.tz)} local time.", *self._go_dormant(now)]
        if self.state is Hibernation.INITIAL:
            self.state = Hibernation.LIVE
        return []

    def _begin_low_bandwidth(self, now: int) -> None:
        self.c = replace(self.c, soft_limit_hit_at=now, bytes_at_soft_limit=self.used(),
                         seconds_to_soft_limit=self.c.seconds_active)
        self.state = Hibernation.LOW_BANDWIDTH
        self.hibernate_end = self.interval_end

    def _go_dormant(self, now: int) -> list[str]:
        self.state = Hibernation.DORMANT
        self.hibernate_end = self.wakeup if now < self.wakeup else self.interval_end
        return ["Going dormant. Blowing away remaining connections."]

    def _end_time_elapsed(self, now: int) -> list[str]:
        notes = self.housekeeping(now)
        if self.wakeup <= now:
            if self.state is not Hibernation.INITIAL:
                notes.append("Hibernation period ended. Resuming normal activity.")
            self.state = Hibernation.LIVE
            self.hibernate_end = 0
            return notes
        self.hibernate_end = self.wakeup
        until = format_time(dt.datetime.fromtimestamp(self.wakeup, dt.UTC), sep=" ")
        if self.state is not Hibernation.DORMANT:
            notes.append(f"Accounting period ended. Commencing hibernation until {until} UTC")
            notes += self._go_dormant(now)
        else:
            notes.append("Accounting period ended. This period, we will hibernate until "
                         f"{until} UTC")
        return notes

    def next_event(self, now: int) -> int:
        """When `consider` should run next at the latest (end of sleep or of the period)."""
        if self.state is Hibernation.DORMANT:
            return max(self.hibernate_end, now + 1)
        return self.interval_end

    def statistics(self) -> dict[str, object]:
        """GETINFO accounting/* data: state, bytes used and left, interval bounds."""
        return {"enabled": True, "hibernating": self.state.value, "bytes_read": self.c.read,
                "bytes_written": self.c.written, "max": self.config.max_bytes,
                "used": self.used(), "left": max(self.config.max_bytes - self.used(), 0),
                "interval_start": self.c.interval_start, "interval_end": self.interval_end,
                "interval_wake": self.wakeup}


def wakeup_offset(interval_start: int, identity_digest: bytes) -> int:
    """get_uint32(SHA1(iso_time(interval_start) || identity digest)), little-endian as on
    the x86 hosts tor runs on (the digest picks the wake-up second in the period)."""
    iso = format_time(dt.datetime.fromtimestamp(interval_start, dt.UTC), sep=" ")
    digest = sha1(iso.encode() + identity_digest)
    return int.from_bytes(digest[:4], "little")

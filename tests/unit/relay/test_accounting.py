"""Accounting periods, rules, limits and wake-up (zwiebel.features.relay.accounting against
tor's feature/hibernate/hibernate.c)."""

from __future__ import annotations

import datetime as dt

import pytest

from zwiebel.features.relay.accounting import (
    Accounting,
    AccountingConfig,
    Counters,
    Hibernation,
    wakeup_offset,
)
from zwiebel.features.relay.accounting_period import (
    AccountingConfigError,
    AccountingStart,
    Unit,
    parse_accounting_start,
    period_after,
    period_start,
)

UTC = dt.UTC
MB = 1 << 20
IDENTITY = bytes(range(20))


def ts(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
       tz: dt.tzinfo = UTC) -> int:
    return int(dt.datetime(year, month, day, hour, minute, second, tzinfo=tz).timestamp())


def state(acct: Accounting) -> Hibernation:
    """The state, read through a call so mypy does not narrow it between steps."""
    return acct.state


def config(max_bytes: int = 100 * MB, rule: str = "max", start: str = "day 00:00",
           rate: int = MB) -> AccountingConfig:
    return AccountingConfig(max_bytes, parse_accounting_start(start), rule, rate, 0, IDENTITY)


# -- AccountingStart ---------------------------------------------------------------------
def test_parse_accounting_start() -> None:
    assert parse_accounting_start(None) == AccountingStart(Unit.MONTH, 1, 0, 0)
    assert parse_accounting_start("day 04:30") == AccountingStart(Unit.DAY, 0, 4, 30)
    assert parse_accounting_start("week 7 23:59") == AccountingStart(Unit.WEEK, 7, 23, 59)
    assert parse_accounting_start("MONTH 28 0:00") == AccountingStart(Unit.MONTH, 28, 0, 0)


@pytest.mark.parametrize("text", ["day", "year 1 00:00", "week 8 00:00", "month 29 00:00",
                                  "month 0 00:00", "day 24:00", "day 10:60", "day 1000",
                                  "week 1", "day 1 00:00"])
def test_bad_accounting_start(text: str) -> None:
    with pytest.raises(AccountingConfigError):
        parse_accounting_start(text)


# -- period edges --------------------------------------------------------------------------
def test_day_period() -> None:
    start = parse_accounting_start("day 04:30")
    assert period_start(ts(2026, 11, 22, 10, 0), start, UTC) == ts(2026, 11, 22, 4, 30)
    assert period_after(ts(2026, 11, 22, 10, 0), start, UTC) == ts(2026, 11, 23, 4, 30)
    # Before the changeover time the period began yesterday.
    assert period_start(ts(2026, 11, 22, 4, 29), start, UTC) == ts(2026, 11, 21, 4, 30)
    assert period_start(ts(2026, 11, 22, 4, 30), start, UTC) == ts(2026, 11, 22, 4, 30)


def test_week_period() -> None:
    # 2026-11-22 is a Sunday; AccountingStart week 1 = Monday.
    start = parse_accounting_start("week 1 12:00")
    assert period_start(ts(2026, 11, 22, 10, 0), start, UTC) == ts(2026, 11, 16, 12, 0)
    assert period_after(ts(2026, 11, 22, 10, 0), start, UTC) == ts(2026, 11, 23, 12, 0)
    sunday = parse_accounting_start("week 7 12:00")
    assert period_start(ts(2026, 11, 22, 11, 59), sunday, UTC) == ts(2026, 11, 15, 12, 0)
    assert period_start(ts(2026, 11, 22, 12, 0), sunday, UTC) == ts(2026, 11, 22, 12, 0)


def test_month_period_wraps_years() -> None:
    start = parse_accounting_start("month 3 06:00")
    assert period_start(ts(2027, 1, 2, 0, 0), start, UTC) == ts(2026, 12, 3, 6, 0)
    assert period_after(ts(2027, 1, 2, 0, 0), start, UTC) == ts(2027, 1, 3, 6, 0)
    assert period_start(ts(2026, 12, 3, 6, 0), start, UTC) == ts(2026, 12, 3, 6, 0)
    assert period_after(ts(2026, 12, 20, 0, 0), start, UTC) == ts(2027, 1, 3, 6, 0)


def test_period_in_local_time() -> None:
    tz = dt.timezone(dt.timedelta(hours=2))
    start = parse_accounting_start("day 00:00")
    assert period_start(ts(2026, 11, 22, 23, 0), start, tz) == ts(2026, 11, 23, 0, 0, tz=tz)


# -- rules and limits --------------------------------------------------------------------
@pytest.mark.parametrize(("rule", "used"), [("sum", 30), ("max", 20), ("in", 10), ("out", 20)])
def test_rules(rule: str, used: int) -> None:
    acct = Accounting(config(rule=rule), None, UTC)
    acct.add_bytes(10, 20, 1)
    assert acct.used() == used


def test_seconds_active_ignores_clock_jumps() -> None:
    acct = Accounting(config(), None, UTC)
    acct.add_bytes(0, 0, 1)
    acct.add_bytes(0, 0, 9)
    acct.add_bytes(0, 0, 10)
    assert acct.c.seconds_active == 10


def test_soft_limit_values() -> None:
    assert Accounting(config(max_bytes=100 * MB), None, UTC).soft_limit() == 95 * MB
    big = Accounting(config(max_bytes=100 * 1024 * MB), None, UTC)
    assert big.soft_limit() == 100 * 1024 * MB - 500 * MB
    # Fewer than 3 hours of expected use left moves the soft limit up...
    slow = Accounting(config(max_bytes=100 * MB),
                      Counters(interval_start=1, expected_usage=1024), UTC)
    assert slow.soft_limit() == 100 * MB - 1024 * 180
    # ...but never below the 95% rule.
    fast = Accounting(config(max_bytes=100 * MB),
                      Counters(interval_start=1, expected_usage=MB // 4), UTC)
    assert fast.soft_limit() == 95 * MB


def test_soft_then_hard_limit() -> None:
    now = ts(2026, 11, 22, 10, 0)
    acct = Accounting(config(max_bytes=10 * MB), None, UTC)
    notes = acct.configure(now)
    assert "We have no prior estimate for bandwidth" in notes[0]
    assert acct.consider(now) == [] and state(acct) is Hibernation.LIVE
    acct.add_bytes(0, int(9.5 * MB), 1)
    notes = acct.consider(now + 5)
    assert notes == ["Bandwidth soft limit reached; commencing hibernation. "
                     "No new connections will be accepted"]
    assert state(acct) is Hibernation.LOW_BANDWIDTH
    assert (acct.c.soft_limit_hit_at, acct.c.bytes_at_soft_limit) == (now + 5, int(9.5 * MB))
    acct.add_bytes(0, MB // 2, 1)
    assert acct.consider(now + 6) == ["Going dormant. Blowing away remaining connections."]
    assert state(acct) is Hibernation.DORMANT
    assert acct.next_event(now + 6) == ts(2026, 11, 23, 0, 0)
    assert acct.consider(now + 3600) == []


def test_new_period_wakes_without_estimate() -> None:
    now = ts(2026, 11, 22, 10, 0)
    acct = Accounting(config(max_bytes=10 * MB), None, UTC)
    acct.configure(now)
    acct.consider(now)
    acct.add_bytes(0, 10 * MB, 1)
    acct.consider(now + 1)
    acct.consider(now + 2)
    assert state(acct) is Hibernation.DORMANT
    notes = acct.consider(ts(2026, 11, 23, 0, 0))
    assert notes[-1] == "Hibernation period ended. Resuming normal activity."
    assert state(acct) is Hibernation.LIVE and acct.used() == 0
    assert acct.c.interval_start == ts(2026, 11, 23, 0, 0)


def test_wakeup_window_from_last_periods_speed() -> None:
    """A relay that used 100 MB in 1 hour of activity expects to need 1 hour; it sleeps
    and wakes at start + get_uint32(digest) % (period - 1 hour)."""
    begun = ts(2026, 11, 21, 0, 0)
    saved = Counters(interval_start=begun, written=100 * MB, seconds_active=3600)
    acct = Accounting(config(max_bytes=100 * MB, rate=10 * MB), saved, UTC)
    now = ts(2026, 11, 22, 0, 0, 30)
    notes = acct.configure(now)
    start = ts(2026, 11, 22, 0, 0)
    assert acct.c.expected_usage == 100 * MB // 60
    assert acct.c.interval_start == start and acct.used() == 0
    to_exhaust = (100 * MB // acct.c.expected_usage) * 60
    assert to_exhaust == 3600
    assert acct.wakeup == start + wakeup_offset(start, IDENTITY) % (86400 - 3600)
    assert "the scheduled wake-up time" in notes[0] and "(all times local)" in notes[0]
    if now < acct.wakeup:
        notes = acct.consider(now)
        assert notes[0].startswith("Commencing hibernation. We will wake up at")
        assert state(acct) is Hibernation.DORMANT
        assert acct.consider(acct.wakeup) == [
            "Hibernation period ended. Resuming normal activity."]
    assert state(acct) is not Hibernation.DORMANT or now >= acct.wakeup


def test_expected_usage_capped_by_rate() -> None:
    begun = ts(2026, 11, 21, 0, 0)
    saved = Counters(interval_start=begun, read=10**12, written=10**12, seconds_active=3600)
    acct = Accounting(config(rule="sum", rate=1000), saved, UTC)
    acct.configure(ts(2026, 11, 22, 1, 0))
    assert acct.c.expected_usage == 1000 * 60 * 2


def test_expected_usage_from_soft_limit() -> None:
    begun = ts(2026, 11, 21, 0, 0)
    saved = Counters(interval_start=begun, written=99 * MB, seconds_active=7200,
                     soft_limit_hit_at=begun + 3600, bytes_at_soft_limit=60 * MB)
    acct = Accounting(config(rate=100 * MB), saved, UTC)
    acct.configure(ts(2026, 11, 22, 1, 0))
    assert acct.c.expected_usage == 60 * MB // 3600 // 60


def test_restart_mid_period_keeps_counters() -> None:
    begun = ts(2026, 11, 22, 0, 0)
    saved = Counters(interval_start=begun, read=5 * MB, written=7 * MB, seconds_active=100)
    acct = Accounting(config(), saved, UTC)
    acct.configure(ts(2026, 11, 22, 13, 0))
    assert acct.c == saved and acct.interval_end == ts(2026, 11, 23, 0, 0)


def test_small_shift_of_period_start_keeps_counters() -> None:
    saved = Counters(interval_start=ts(2026, 11, 22, 0, 0), read=5 * MB)
    acct = Accounting(config(start="day 06:00"), saved, UTC)
    acct.configure(ts(2026, 11, 22, 13, 0))
    assert acct.c.read == 5 * MB and acct.interval_end == ts(2026, 11, 23, 6, 0)


def test_wakeup_offset_is_sha1_of_iso_time_and_identity() -> None:
    import hashlib
    digest = hashlib.sha1(b"2026-11-22 00:00:00" + IDENTITY).digest()
    assert wakeup_offset(ts(2026, 11, 22), IDENTITY) == int.from_bytes(digest[:4], "little")


def test_bad_rule() -> None:
    with pytest.raises(AccountingConfigError):
        config(rule="avg")

"""Accounting settings changed on SIGHUP take effect without a restart (tor's
options_act_relay_accounting -> configure_accounting): `Accounting.reconfigure`,
`BandwidthMeter.reconfigure` and the reload plan of `zwiebel.app.reload`."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path

import pytest

from zwiebel.app.reload import Area, apply_reload, plan_reload
from zwiebel.config import Options, build_options, lex
from zwiebel.features.relay.accounting import (
    Accounting,
    AccountingConfig,
    Counters,
    Hibernation,
)
from zwiebel.features.relay.accounting_period import parse_accounting_start
from zwiebel.features.relay.accounting_service import BandwidthMeter
from zwiebel.features.relay.service import RelayConfigError
from zwiebel.managers.events import EventBus
from zwiebel.proto.tokenbucket import BandwidthConfig
from zwiebel.runtime.ratelimit import BandwidthLimiter

UTC = dt.UTC
MB = 1 << 20
IDENTITY = bytes(range(20))


def ts(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return int(dt.datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp())


def config(max_bytes: int = 100 * MB, start: str = "day 00:00",
           rule: str = "max") -> AccountingConfig:
    return AccountingConfig(max_bytes, parse_accounting_start(start), rule, MB, 0, IDENTITY)


def state(acct: Accounting) -> Hibernation:
    return acct.state


# -- Accounting.reconfigure ------------------------------------------------------------
def test_lower_max_below_usage_hibernates_at_the_next_consider() -> None:
    now = ts(2026, 11, 20, 10)
    acct = Accounting(config(), None, UTC)
    acct.configure(now)
    acct.consider(now)
    acct.add_bytes(0, 60 * MB, 1)
    assert acct.consider(now + 1) == [] and state(acct) is Hibernation.LIVE
    notes = acct.reconfigure(config(max_bytes=50 * MB), now + 2)
    assert notes[0].startswith("Configured hibernation.")
    assert acct.used() == 60 * MB  # the running period and its counters are kept
    assert acct.consider(now + 3) == [
        "Bandwidth soft limit reached; commencing hibernation. "
        "No new connections will be accepted",
        "Going dormant. Blowing away remaining connections."]
    assert state(acct) is Hibernation.DORMANT


def test_rule_change_counts_the_same_bytes_differently() -> None:
    now = ts(2026, 11, 20, 10)
    acct = Accounting(config(max_bytes=10 * MB), None, UTC)
    acct.configure(now)
    acct.consider(now)
    acct.add_bytes(6 * MB, 6 * MB, 1)
    assert acct.consider(now + 1) == []
    acct.reconfigure(config(max_bytes=10 * MB, rule="sum"), now + 2)
    assert acct.used() == 12 * MB
    acct.consider(now + 3)
    assert state(acct) is Hibernation.DORMANT


def test_new_start_far_from_the_old_period_starts_a_fresh_one() -> None:
    """day -> month on the 20th: the month's period began 19 days before the day's, far
    more than half a period, so tor's configure_accounting resets the counters."""
    begun = ts(2026, 11, 20)
    acct = Accounting(config(), Counters(interval_start=begun, read=5 * MB), UTC)
    now = ts(2026, 11, 20, 13)
    acct.configure(now)
    acct.reconfigure(config(start="month 1 00:00"), now)
    assert acct.c.interval_start == ts(2026, 11, 1) and acct.used() == 0
    assert acct.interval_end == ts(2026, 12, 1)


def test_new_start_close_to_the_old_period_keeps_counters() -> None:
    begun = ts(2026, 11, 20)
    acct = Accounting(config(), Counters(interval_start=begun, read=5 * MB), UTC)
    now = ts(2026, 11, 20, 13)
    acct.configure(now)
    acct.reconfigure(config(start="day 06:00"), now)
    assert acct.used() == 5 * MB and acct.interval_end == ts(2026, 11, 21, 6)


# -- BandwidthMeter.reconfigure ----------------------------------------------------------
class Calls:
    def __init__(self) -> None:
        self.dormant = 0
        self.woken = 0

    async def on_dormant(self) -> None:
        self.dormant += 1

    async def on_wake(self) -> None:
        self.woken += 1


def _meter(tmp_path: Path, accounting: AccountingConfig | None, calls: Calls
           ) -> BandwidthMeter:
    limiter = BandwidthLimiter(BandwidthConfig(rate=MB, burst=MB))
    return BandwidthMeter(limiter, tmp_path / "state", 0, accounting, calls.on_dormant,
                          calls.on_wake)


def test_meter_turns_accounting_on_and_off(tmp_path: Path) -> None:
    async def run() -> None:
        calls = Calls()
        meter = _meter(tmp_path, None, calls)
        meter.reconfigure(config(max_bytes=MB))
        assert meter.accounting is not None and not meter.hibernating()
        assert "AccountingIntervalStart" in (tmp_path / "state").read_text()
        meter.accounting.add_bytes(0, 2 * MB, 1)
        await meter.start()
        assert meter.hibernating() and meter.dormant() and calls.dormant == 1
        meter.reconfigure(None)
        await asyncio.sleep(0)
        assert meter.accounting is None and not meter.hibernating() and not meter.dormant()
        assert calls.woken == 1
        await meter.stop()

    asyncio.run(run())


def test_meter_keeps_counters_across_a_change(tmp_path: Path) -> None:
    async def run() -> None:
        meter = _meter(tmp_path, config(), Calls())
        await meter.start()
        assert meter.accounting is not None
        meter.accounting.add_bytes(3 * MB, 0, 1)
        meter.reconfigure(config(max_bytes=200 * MB))
        assert meter.accounting.config.max_bytes == 200 * MB
        assert meter.accounting.used() == 3 * MB
        await meter.stop()

    asyncio.run(run())


# -- the reload plan ---------------------------------------------------------------------
def opts(text: str) -> Options:
    return build_options(lex(text))


class FakeRelay:
    def __init__(self, fail: bool = False) -> None:
        self.accounting: list[object] = []
        self.fail = fail

    def set_accounting_from(self, options: Options) -> None:
        if self.fail:
            raise RelayConfigError("AccountingStart is malformed.")
        self.accounting.append(options.get("AccountingMax"))


class FakeDaemon:
    def __init__(self, options: Options, relay: FakeRelay) -> None:
        self.options = options
        self.circuits = None
        self.relay = relay
        self.events = EventBus()


BASE = "SocksPort 0\nAccountingMax 2 MB\nAccountingStart day 00:00\n"


@pytest.fixture(autouse=True)
def _keep_logging() -> object:
    logger = logging.getLogger("zwiebel")
    handlers, level = list(logger.handlers), logger.level
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)


def test_accounting_options_apply_live() -> None:
    new = BASE.replace("2 MB", "5 MB") + "AccountingRule sum\n"
    plan = plan_reload(opts(BASE), opts(new))
    assert set(plan.live) == {"AccountingMax", "AccountingRule"} and plan.restart == ()
    assert plan.touches(Area.ACCOUNTING)
    relay = FakeRelay()
    daemon = FakeDaemon(opts(BASE), relay)
    apply_reload(daemon, opts(new))  # type: ignore[arg-type]
    assert relay.accounting == [5 * MB]
    assert daemon.options.get("AccountingMax") == 5 * MB


def test_bad_accounting_start_keeps_accounting(caplog: pytest.LogCaptureFixture) -> None:
    daemon = FakeDaemon(opts(BASE), FakeRelay(fail=True))
    logging.getLogger("zwiebel").addHandler(caplog.handler)  # kept by reopen_logs
    apply_reload(daemon, opts(BASE.replace("day 00:00", "day 01:00")))  # type: ignore[arg-type]
    assert "Keeping the accounting settings in force." in caplog.text

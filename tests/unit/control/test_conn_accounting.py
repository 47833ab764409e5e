"""GETINFO accounting/* on a relay (zwiebel.features.control.info_accounting; tor's
getinfo_helper_accounting in hibernate.c)."""

from __future__ import annotations

import datetime as dt

import pytest

from zwiebel.features.control.getinfo import GetInfoRegistry
from zwiebel.features.control.info_accounting import (
    bytes_left,
    hibernating,
    install_accounting_info,
    iso_time,
)
from zwiebel.features.relay.accounting import (
    Accounting,
    AccountingConfig,
    Counters,
    Hibernation,
)
from zwiebel.features.relay.accounting_period import AccountingStart

LIMIT = 1000


def accounting(rule: str, read: int, written: int) -> Accounting:
    config = AccountingConfig(LIMIT, AccountingStart(), rule, 0, 0, bytes(20))
    return Accounting(config, Counters(interval_start=86400, read=read, written=written),
                      dt.UTC)


@pytest.mark.parametrize(("rule", "read", "written", "left"), [
    ("sum", 300, 200, "500 500"),
    ("sum", 900, 200, "0 0"),
    ("max", 300, 200, "700 800"),
    ("max", 1200, 200, "0 800"),
    ("in", 300, 200, "700 1000"),
    ("out", 300, 200, "1000 800"),
])
def test_bytes_left_follows_the_rule(rule: str, read: int, written: int, left: str) -> None:
    assert bytes_left(accounting(rule, read, written)) == left


def test_hibernation_strings() -> None:
    acct = accounting("max", 0, 0)
    assert hibernating(None) == "awake"
    assert hibernating(acct) == "awake"  # INITIAL, as tor
    acct.state = Hibernation.LOW_BANDWIDTH
    assert hibernating(acct) == "soft"
    acct.state = Hibernation.DORMANT
    assert hibernating(acct) == "hard"


def test_registered_keys() -> None:
    reg = GetInfoRegistry()
    acct = accounting("sum", 10, 20)
    acct.interval_end = 2 * 86400
    install_accounting_info(reg, lambda: acct)
    assert reg.lookup("accounting/enabled") == "1"
    assert reg.lookup("accounting/bytes") == "10 20"
    assert reg.lookup("accounting/interval-start") == "1970-01-02 00:00:00"
    assert reg.lookup("accounting/interval-end") == "1970-01-03 00:00:00"
    off = GetInfoRegistry()
    install_accounting_info(off, lambda: None)
    assert (off.lookup("accounting/enabled"), off.lookup("accounting/bytes")) == ("0", "0 0")
    assert iso_time(0) == "1970-01-01 00:00:00"

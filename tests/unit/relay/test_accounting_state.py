"""Accounting counters in the state file (zwiebel.features.relay.accounting_state)."""

from __future__ import annotations

import datetime as dt

import pytest

from zwiebel.encoding import ParseError
from zwiebel.features.relay.accounting import Counters
from zwiebel.features.relay.accounting_state import counters_from_state, counters_to_state
from zwiebel.state import StateEntry, StateFile, format_state, parse_state

BEGUN = int(dt.datetime(2026, 11, 22, tzinfo=dt.UTC).timestamp())


def test_round_trip_through_file_text() -> None:
    counters = Counters(interval_start=BEGUN, read=5 * 1024, written=7 * 1024,
                        seconds_active=321, expected_usage=4096, soft_limit_hit_at=BEGUN + 60,
                        bytes_at_soft_limit=9000, seconds_to_soft_limit=50)
    guard = StateEntry("Guard", "in=default rsa_id=AA")
    state = counters_to_state(StateFile((guard,)), counters)
    text = format_state(state, dt.datetime(2026, 11, 22, 1, 0))
    assert "AccountingIntervalStart 2026-11-22 00:00:00\n" in text
    assert "AccountingSoftLimitHitAt 2026-11-22 00:01:00\n" in text
    assert "Guard in=default rsa_id=AA\n" in text
    assert counters_from_state(parse_state(text)) == counters


def test_bytes_rounded_up_as_tor_does() -> None:
    state = counters_to_state(StateFile(), Counters(interval_start=BEGUN, read=1, written=1025))
    assert state.get("AccountingBytesReadInInterval") == "1024"
    assert state.get("AccountingBytesWrittenInInterval") == "2048"


def test_stale_soft_limit_is_ignored() -> None:
    counters = Counters(interval_start=BEGUN, soft_limit_hit_at=BEGUN - 10,
                        bytes_at_soft_limit=5, seconds_to_soft_limit=5)
    loaded = counters_from_state(counters_to_state(StateFile(), counters))
    assert loaded == Counters(interval_start=BEGUN)


def test_missing_and_bad() -> None:
    assert counters_from_state(StateFile()) is None
    bad = parse_state("AccountingIntervalStart 2026-11-22 00:00:00\n"
                      "AccountingBytesReadInInterval lots\n")
    with pytest.raises(ParseError):
        counters_from_state(bad)

"""Accounting counters in DataDirectory/state (tor hibernate.c, app/config/statefile.c).

tor keeps them in the state file under AccountingIntervalStart (an ISO time),
AccountingBytesReadInInterval and AccountingBytesWrittenInInterval (rounded up to a
multiple of 1024, as ``accounting_record_bandwidth_usage`` does), AccountingSecondsActive,
AccountingExpectedUsage (bytes per minute), AccountingSecondsToReachSoftLimit,
AccountingSoftLimitHitAt (an ISO time) and AccountingBytesAtSoftLimit.  Soft-limit values
older than the interval start are ignored on reading (``read_bandwidth_usage``).

Pure functions over `zwiebel.state.StateFile`; the caller reads and writes the file.
"""

from __future__ import annotations

import datetime as dt

from zwiebel.encoding import ParseError
from zwiebel.features.relay.accounting import Counters
from zwiebel.state import StateFile, format_time, parse_time


def _round_up(n: int) -> int:
    """tor's ROUND_UP: up to the next multiple of 1024."""
    return (n + 0x3FF) & ~0x3FF


def _iso(when: int) -> str:
    return format_time(dt.datetime.fromtimestamp(when, dt.UTC), sep=" ")


def counters_to_state(state: StateFile, c: Counters) -> StateFile:
    """``state`` with the Accounting* keys set from ``c``."""
    values = {
        "AccountingIntervalStart": _iso(c.interval_start),
        "AccountingBytesReadInInterval": str(_round_up(c.read)),
        "AccountingBytesWrittenInInterval": str(_round_up(c.written)),
        "AccountingSecondsActive": str(c.seconds_active),
        "AccountingExpectedUsage": str(c.expected_usage),
        "AccountingSecondsToReachSoftLimit": str(c.seconds_to_soft_limit),
        "AccountingSoftLimitHitAt": _iso(c.soft_limit_hit_at),
        "AccountingBytesAtSoftLimit": str(c.bytes_at_soft_limit),
    }
    for key, value in values.items():
        state = state.replace_all(key, [value])
    return state


def counters_from_state(state: StateFile) -> Counters | None:
    """The saved counters, or None if the file has none; raises `ParseError`."""
    start = state.get("AccountingIntervalStart")
    if start is None:
        return None
    begun = _time(start)
    soft_at = _time(state.get("AccountingSoftLimitHitAt") or "")
    fresh = soft_at > begun
    return Counters(
        interval_start=begun,
        read=_int(state, "AccountingBytesReadInInterval"),
        written=_int(state, "AccountingBytesWrittenInInterval"),
        seconds_active=_int(state, "AccountingSecondsActive"),
        expected_usage=_int(state, "AccountingExpectedUsage"),
        soft_limit_hit_at=soft_at if fresh else 0,
        bytes_at_soft_limit=_int(state, "AccountingBytesAtSoftLimit") if fresh else 0,
        seconds_to_soft_limit=_int(state, "AccountingSecondsToReachSoftLimit") if fresh else 0,
    )


def _time(text: str) -> int:
    if not text:
        return 0
    return int(parse_time(text, sep=" ").timestamp())


def _int(state: StateFile, key: str) -> int:
    text = state.get(key) or "0"
    if not text.isdigit():
        raise ParseError(f"state key {key}: not a number: {text!r}")
    return int(text)

"""AccountingStart and the edges of accounting periods (tor feature/hibernate/hibernate.c).

``AccountingStart day|week|month [day] HH:MM`` (tor.1.txt): a period starts every day,
every week on weekday ``day`` (1 = Monday ... 7 = Sunday) or every month on day ``day``
(1-28), at local time HH:MM.  `period_edge` follows ``edge_of_accounting_period_containing``:
find the start day of the period containing ``now`` in local time, step one unit forward
for the end, and set the time of day; month and day overflow are normalised as mktime does.

Times are POSIX seconds; the local time zone is passed in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum


class AccountingConfigError(ValueError):
    """A malformed AccountingStart or AccountingRule value."""


class Unit(Enum):
    """The length of an accounting period."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class AccountingStart:
    """A parsed AccountingStart (tor's default: ``month 1 0:00``)."""

    unit: Unit = Unit.MONTH
    day: int = 1
    hour: int = 0
    minute: int = 0


def parse_accounting_start(text: str | None) -> AccountingStart:
    """Parse an AccountingStart value (hibernate.c accounting_parse_options)."""
    if not text:
        return AccountingStart()
    words = text.split()
    if len(words) < 2:
        raise AccountingConfigError("Too few arguments to AccountingStart")
    try:
        unit = Unit(words[0].lower())
    except ValueError:
        raise AccountingConfigError(
            f"Unrecognized accounting unit '{words[0]}': only 'month', 'week', and 'day' "
            "are supported.") from None
    day = _start_day(unit, words[1])
    wanted = 2 if unit is Unit.DAY else 3
    if len(words) != wanted:
        raise AccountingConfigError(f"Accounting unit '{words[0]}' requires {wanted - 1} "
                                    f"argument{'s' if wanted > 2 else ''}.")
    hour, minute = _hh_mm(words[-1])
    return AccountingStart(unit, day, hour, minute)


def _start_day(unit: Unit, word: str) -> int:
    if unit is Unit.DAY:
        return 0
    low, high = (1, 7) if unit is Unit.WEEK else (1, 28)
    if not word.isdigit() or not low <= int(word) <= high:
        raise AccountingConfigError(
            "Weekly accounting must begin on a day between 1 (Monday) and 7 (Sunday)"
            if unit is Unit.WEEK else "Monthly accounting must begin on a day between 1 and 28")
    return int(word)


def _hh_mm(word: str) -> tuple[int, int]:
    hour, sep, minute = word.partition(":")
    if not sep or not hour.isdigit() or not minute.isdigit():
        raise AccountingConfigError("Accounting start time not parseable: not in HH:MM format")
    if int(hour) > 23 or int(minute) > 59:
        raise AccountingConfigError("Accounting start time not parseable: bad hour or minute")
    return int(hour), int(minute)


def period_edge(now: int, start: AccountingStart, tz: dt.tzinfo, end: bool) -> int:
    """Start (or with ``end``, the end) of the period containing ``now``."""
    local = dt.datetime.fromtimestamp(now, tz)
    before = (local.hour, local.minute) < (start.hour, start.minute)
    day = local.date()
    if start.unit is Unit.MONTH:
        month = local.month - 1 + (1 if end else 0)
        if local.day < start.day or (local.day == start.day and before):
            month -= 1
        day = dt.date(local.year + month // 12, month % 12 + 1, start.day)
    elif start.unit is Unit.WEEK:
        tm_wday = (local.weekday() + 1) % 7
        delta = (7 + tm_wday - start.day % 7) % 7
        if delta == 0 and before:
            delta = 7
        day -= dt.timedelta(days=delta - (7 if end else 0))
    else:
        day += dt.timedelta(days=(1 if end else 0) - (1 if before else 0))
    edge = dt.datetime(day.year, day.month, day.day, start.hour, start.minute, tzinfo=tz)
    return int(edge.timestamp())


def period_start(now: int, start: AccountingStart, tz: dt.tzinfo) -> int:
    """start_of_accounting_period_containing."""
    return period_edge(now, start, tz, False)


def period_after(now: int, start: AccountingStart, tz: dt.tzinfo) -> int:
    """start_of_accounting_period_after (the end of the period containing ``now``)."""
    return period_edge(now, start, tz, True)

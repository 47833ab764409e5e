"""GETINFO ``accounting/*`` on a relay (control-spec 3.9; tor's
``getinfo_helper_accounting`` in hibernate.c), read from
:class:`zwiebel.features.relay.accounting.Accounting`.

Without AccountingMax the relay has no accounting: ``accounting/enabled`` is ``0``,
``hibernating`` is ``awake`` and the byte counts are ``0 0``, as in tor. Times are
tor's ``format_iso_time`` (UTC, ``YYYY-MM-DD HH:MM:SS``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from zwiebel.features.control.getinfo import GetInfoRegistry
from zwiebel.features.relay.accounting import Accounting, Hibernation

AccountingSource = Callable[[], "Accounting | None"]


def iso_time(when: int) -> str:
    """tor's format_iso_time."""
    return dt.datetime.fromtimestamp(when, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def hibernating(acct: Accounting | None) -> str:
    """``awake``, ``soft`` or ``hard`` (INITIAL counts as awake, as in tor)."""
    if acct is None or acct.state in (Hibernation.INITIAL, Hibernation.LIVE):
        return "awake"
    return str(acct.state.value)


def bytes_used(acct: Accounting | None) -> str:
    """Bytes read and written in this interval."""
    return "0 0" if acct is None else f"{acct.c.read} {acct.c.written}"


def bytes_left(acct: Accounting | None) -> str:
    """What is left of AccountingMax for reading and writing, by AccountingRule."""
    if acct is None:
        return "0 0"
    limit, rule, c = acct.config.max_bytes, acct.config.rule, acct.c
    if rule == "sum":
        left = max(0, limit - acct.used())
        return f"{left} {left}"
    read_left, write_left = max(0, limit - c.read), max(0, limit - c.written)
    if rule == "in":
        return f"{read_left} {limit}"
    if rule == "out":
        return f"{limit} {write_left}"
    return f"{read_left} {write_left}"


def install_accounting_info(reg: GetInfoRegistry, source: AccountingSource) -> None:
    """Replace the client's fixed accounting answers with the relay's."""
    keys: list[tuple[str, Callable[[], str], str]] = [
        ("accounting/enabled", lambda: "0" if source() is None else "1",
         "Is accounting currently enabled?"),
        ("accounting/hibernating", lambda: hibernating(source()),
         "Are we hibernating or awake?"),
        ("accounting/bytes", lambda: bytes_used(source()),
         "Number of bytes read/written so far in the accounting interval."),
        ("accounting/bytes-left", lambda: bytes_left(source()),
         "Number of bytes left to write/read so far in the accounting interval."),
        ("accounting/interval-start", lambda: _time(source(), "start"),
         "Time when the accounting period starts."),
        ("accounting/interval-wake", lambda: _time(source(), "wake"),
         "Time to wake up in this accounting period."),
        ("accounting/interval-end", lambda: _time(source(), "end"),
         "Time when the accounting period ends."),
    ]
    for key, provider, doc in keys:
        reg.add(key, provider, doc)


def _time(acct: Accounting | None, which: str) -> str:
    if acct is None:
        return iso_time(0)
    when = {"start": acct.c.interval_start, "wake": acct.wakeup, "end": acct.interval_end}
    return iso_time(when[which])

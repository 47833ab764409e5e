"""The value of a state-file "Guard" line (tor entrynodes.c entry_guard_encode_for_state).

Format: space-separated K=V items whose order does not matter when read; tor writes::

    in=<selection> rsa_id=<40 HEX> [bridge_addr=<addr:port>] [nickname=<nick>]
    sampled_on=<YYYY-MM-DDTHH:MM:SS> sampled_idx=<n> [sampled_by=<version>]
    [unlisted_since=<time>] listed=<0|1> [confirmed_on=<time> confirmed_idx=<n>]
    [pb_use_attempts=.. pb_use_successes=.. pb_circ_attempts=.. pb_circ_successes=..
     pb_successful_circuits_closed=.. pb_collapsed_circuits=.. pb_unusable_circuits=..
     pb_timeouts=..]  <unrecognized items, verbatim>

Reading follows entry_guard_parse_from_state: "in" and a 40-hex "rsa_id" are required (a
line without them is dropped by tor, `ParseError` here); a second occurrence of a known
key, and any item tor does not know, goes to ``extra`` and is written back verbatim; a
missing or unparsable time becomes None (tor substitutes "now" for sampled_on, which the
caller does); path-bias values are kept as the strings read ("%f" when tor writes them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from zwiebel.encoding import ParseError
from zwiebel.state.statefile import format_time, parse_time

#: Path-bias counters in the order tor writes them (guard_pathbias_t).
PATH_BIAS_FIELDS = (
    "use_attempts",
    "use_successes",
    "circ_attempts",
    "circ_successes",
    "successful_circuits_closed",
    "collapsed_circuits",
    "unusable_circuits",
    "timeouts",
)
_KNOWN = frozenset(
    {"in", "rsa_id", "nickname", "sampled_on", "sampled_idx", "sampled_by", "unlisted_since"}
    | {"listed", "confirmed_on", "confirmed_idx", "bridge_addr"}
    | {f"pb_{name}" for name in PATH_BIAS_FIELDS}
)


@dataclass(frozen=True)
class GuardRecord:
    """The persistent part of one sampled guard."""

    selection: str
    rsa_identity: bytes
    nickname: str | None = None
    sampled_on: datetime | None = None
    sampled_idx: int | None = None
    sampled_by: str | None = None
    unlisted_since: datetime | None = None
    listed: bool = False
    confirmed_on: datetime | None = None
    confirmed_idx: int | None = None
    bridge_addr: str | None = None
    path_bias: tuple[tuple[str, str], ...] = ()
    extra: tuple[str, ...] = ()


def parse_guard_line(value: str) -> GuardRecord:
    """Parse the value of one "Guard" line; raises `ParseError` if tor would drop it."""
    fields: dict[str, str] = {}
    extra: list[str] = []
    for item in value.split():
        key, eq, val = item.partition("=")
        if not eq or key not in _KNOWN or key in fields:
            extra.append(item)
        else:
            fields[key] = val
    if "in" not in fields:
        raise ParseError("Guard line without in=")
    identity = _parse_identity(fields.get("rsa_id"))
    return GuardRecord(
        selection=fields["in"],
        rsa_identity=identity,
        nickname=fields.get("nickname"),
        sampled_on=_opt_time(fields.get("sampled_on")),
        sampled_idx=_opt_index(fields.get("sampled_idx")),
        sampled_by=fields.get("sampled_by"),
        unlisted_since=_opt_time(fields.get("unlisted_since")),
        listed=fields.get("listed", "0") != "0",
        confirmed_on=_opt_time(fields.get("confirmed_on")),
        confirmed_idx=_opt_index(fields.get("confirmed_idx")),
        bridge_addr=fields.get("bridge_addr"),
        path_bias=tuple(
            (name, fields[f"pb_{name}"]) for name in PATH_BIAS_FIELDS if f"pb_{name}" in fields
        ),
        extra=tuple(extra),
    )


def format_guard_line(record: GuardRecord, sampled_idx: int) -> str:
    """The "Guard" value tor would write; ``sampled_idx`` is the dense index (tor
    renumbers 0..n-1 in sample order when saving)."""
    items = [f"in={record.selection}", f"rsa_id={record.rsa_identity.hex().upper()}"]
    if record.bridge_addr is not None:
        items.append(f"bridge_addr={record.bridge_addr}")
    if record.nickname:
        items.append(f"nickname={record.nickname}")
    if record.sampled_on is not None:
        items.append(f"sampled_on={format_time(record.sampled_on)}")
    items.append(f"sampled_idx={sampled_idx}")
    if record.sampled_by is not None:
        items.append(f"sampled_by={record.sampled_by}")
    if record.unlisted_since is not None:
        items.append(f"unlisted_since={format_time(record.unlisted_since)}")
    items.append(f"listed={int(record.listed)}")
    if record.confirmed_idx is not None and record.confirmed_on is not None:
        items.append(f"confirmed_on={format_time(record.confirmed_on)}")
        items.append(f"confirmed_idx={record.confirmed_idx}")
    items.extend(f"pb_{name}={val}" for name, val in record.path_bias)
    items.extend(record.extra)
    return " ".join(items)


def _parse_identity(text: str | None) -> bytes:
    if text is None or len(text) != 40:
        raise ParseError("Guard line without a 40-hex rsa_id")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise ParseError("Guard rsa_id is not hex") from None


def _opt_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_time(text)
    except ParseError:
        return None


def _opt_index(text: str | None) -> int | None:
    if text is None or not (text.isascii() and text.isdigit()) or int(text) > 2**31 - 1:
        return None
    return int(text)

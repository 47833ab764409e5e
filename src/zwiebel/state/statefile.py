"""tor's DataDirectory/state file as text (tor app/config/statefile.c, lib/confmgt).

The file is torrc-style "Key value" lines.  tor writes it as::

    # Tor state file last generated on 2026-11-22 05:09:08 local time
    # Other times below are in UTC
    # You *do not* need to edit this file.

    Dormant 0
    Guard in=default rsa_id=... (one line per sampled guard)
    LastWritten 2026-11-22 05:09:08
    TorVersion Tor 0.4.9.11
    SomeUnknownKey value      (lines tor does not know, kept, in their original order)

Known keys come first sorted case-insensitively (``config_dump`` over the sorted variable
table); keys tor does not know are kept verbatim after them.  Two keys are written at
the sort position of their group's name: ``TransportProxy`` (group TransportProxies) and
``CircuitBuildTimeBin`` (group BuildtimeHistogram).  A value that starts with a double
quote or holds '#', CR, LF or a non-printable character is written as a C-style quoted
string, and read back unescaped (``config_value_needs_escape``, ``unescape_string``).

Not supported: backslash line continuations (tor never writes them in this file).
tor omits keys whose value equals the built-in default; `format_state` writes exactly the
entries it is given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from zwiebel.encoding import ParseError

#: Keys tor 0.4.9's or_state_t and the mainloop subsystem define (statefile.c,
#: mainloop_state.inc), mapped to the name they sort under.
_GROUPS = {"TransportProxy": "TransportProxies", "CircuitBuildTimeBin": "BuildtimeHistogram"}
KNOWN_KEYS = frozenset(
    {
        "AccountingBytesReadInInterval", "AccountingBytesWrittenInInterval",
        "AccountingExpectedUsage", "AccountingIntervalStart", "AccountingSecondsActive",
        "AccountingSecondsToReachSoftLimit", "AccountingSoftLimitHitAt",
        "AccountingBytesAtSoftLimit", "TransportProxy",
        "BWHistoryReadEnds", "BWHistoryReadInterval", "BWHistoryReadValues",
        "BWHistoryReadMaxima", "BWHistoryWriteEnds", "BWHistoryWriteInterval",
        "BWHistoryWriteValues", "BWHistoryWriteMaxima", "BWHistoryIPv6ReadEnds",
        "BWHistoryIPv6ReadInterval", "BWHistoryIPv6ReadValues", "BWHistoryIPv6ReadMaxima",
        "BWHistoryIPv6WriteEnds", "BWHistoryIPv6WriteInterval", "BWHistoryIPv6WriteValues",
        "BWHistoryIPv6WriteMaxima", "BWHistoryDirReadEnds", "BWHistoryDirReadInterval",
        "BWHistoryDirReadValues", "BWHistoryDirReadMaxima", "BWHistoryDirWriteEnds",
        "BWHistoryDirWriteInterval", "BWHistoryDirWriteValues", "BWHistoryDirWriteMaxima",
        "Guard", "TorVersion", "LastRotatedOnionKey", "LastWritten", "TotalBuildTimes",
        "CircuitBuildAbandonedCount", "CircuitBuildTimeBin",
        "MinutesSinceUserActivity", "Dormant",
    }
)  # fmt: skip
_KNOWN_FOLDED = {k.lower(): k for k in KNOWN_KEYS}

_HEADER = (
    "# Tor state file last generated on {} local time\n"
    "# Other times below are in UTC\n"
    "# You *do not* need to edit this file.\n\n"
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "'": "'"}


@dataclass(frozen=True)
class StateEntry:
    """One "Key value" line; ``value`` is unescaped and may be empty."""

    key: str
    value: str


@dataclass(frozen=True)
class StateFile:
    """The entries of a state file in file order (comments are not kept)."""

    entries: tuple[StateEntry, ...] = ()

    def get(self, key: str) -> str | None:
        """The last value of ``key`` (keys are case-insensitive, as in tor), or None."""
        values = self.get_all(key)
        return values[-1] if values else None

    def get_all(self, key: str) -> list[str]:
        """Every value of ``key``, in order (e.g. all "Guard" lines)."""
        return [e.value for e in self.entries if e.key.lower() == key.lower()]

    def replace_all(self, key: str, values: Iterable[str]) -> StateFile:
        """A copy with every ``key`` line replaced by ``values`` (at the first old position,
        else at the end)."""
        folded = key.lower()
        new = [StateEntry(key, v) for v in values]
        out: list[StateEntry] = []
        for entry in self.entries:
            if entry.key.lower() == folded:
                out.extend(new)
                new = []
            else:
                out.append(entry)
        return replace(self, entries=tuple(out + new))


def parse_state(text: str) -> StateFile:
    """Parse a state file; raises `ParseError` on a malformed quoted value."""
    entries = []
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = raw.strip(" \t\r\f\v")
        if not line or line.startswith("#"):
            continue
        key, _, rest = _split_key(line)
        try:
            value = _parse_value(rest.lstrip(" \t"))
        except ParseError as exc:
            raise ParseError(f"state line {lineno}: {exc}") from None
        entries.append(StateEntry(key, value))
    return StateFile(tuple(entries))


def format_state(state: StateFile, generated_local: datetime) -> str:
    """The file text tor would write for ``state``; ``generated_local`` is the local time
    for the header comment (tor: format_local_iso_time(now))."""
    known = [e for e in state.entries if e.key.lower() in _KNOWN_FOLDED]
    unknown = [e for e in state.entries if e.key.lower() not in _KNOWN_FOLDED]
    known.sort(key=lambda e: _GROUPS.get(_KNOWN_FOLDED[e.key.lower()], e.key).lower())
    body = "".join(_format_line(e) for e in known + unknown)
    return _HEADER.format(format_time(generated_local, sep=" ")) + body


def with_written(state: StateFile, now_utc: datetime, tor_version: str) -> StateFile:
    """Set LastWritten and TorVersion as or_state_save does ("Tor <version>")."""
    updated = state.replace_all("LastWritten", [format_time(now_utc, sep=" ")])
    return updated.replace_all("TorVersion", [f"Tor {tor_version}"])


def format_time(when: datetime, sep: str = "T") -> str:
    """tor's ISO time: "YYYY-MM-DD HH:MM:SS" (or with "T"); aware times are made UTC."""
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.strftime(f"%Y-%m-%d{sep}%H:%M:%S")


def parse_time(text: str, sep: str = "T") -> datetime:
    """Inverse of `format_time`: an aware UTC datetime; raises `ParseError`."""
    try:
        parsed = datetime.strptime(text, f"%Y-%m-%d{sep}%H:%M:%S")
    except ValueError:
        raise ParseError(f"bad time {text!r}") from None
    return parsed.replace(tzinfo=UTC)


def _split_key(line: str) -> tuple[str, str, str]:
    for i, ch in enumerate(line):
        if ch in " \t#":
            return line[:i], ch, line[i:] if ch == "#" else line[i + 1 :]
    return line, "", ""


def _parse_value(rest: str) -> str:
    if rest.startswith('"'):
        value, end = _unquote(rest)
        tail = rest[end:].strip(" \t")
        if tail and not tail.startswith("#"):
            raise ParseError("excess data after quoted string")
        return value
    return rest.split("#", 1)[0].rstrip(" \t")


def _unquote(text: str) -> tuple[str, int]:
    """Unescape the C-style quoted string at the start of ``text``; return (value, end).

    Escaped bytes (\\xHH, \\ooo) are collected as bytes and decoded as UTF-8 with
    surrogateescape, so any value round-trips through `_quote`."""
    out = bytearray()
    i = 1
    while i < len(text):
        ch = text[i]
        if ch == '"':
            return out.decode("utf-8", "surrogateescape"), i + 1
        if ch != "\\":
            out += ch.encode("utf-8", "surrogateescape")
            i += 1
            continue
        nxt = text[i + 1 : i + 2]
        if nxt in _ESCAPES:
            out += _ESCAPES[nxt].encode()
            i += 2
        elif nxt == "x" and _is_hex(text[i + 2 : i + 4]):
            out.append(int(text[i + 2 : i + 4], 16))
            i += 4
        elif nxt and nxt in "0123" and _is_octal(text[i + 1 : i + 4]):
            out.append(int(text[i + 1 : i + 4], 8))
            i += 4
        else:
            raise ParseError("invalid escape sequence in quoted string")
    raise ParseError("unterminated quoted string")


def _is_hex(s: str) -> bool:
    return len(s) == 2 and all(c in "0123456789abcdefABCDEF" for c in s)


def _is_octal(s: str) -> bool:
    return len(s) == 3 and all(c in "01234567" for c in s)


def _needs_escape(value: str) -> bool:
    """tor's config_value_needs_escape (TOR_ISPRINT is ASCII 32..126)."""
    if value != value.strip(" "):
        return True  # tor would lose the spaces; quoting keeps them
    return value.startswith('"') or any(c in "\r\n#" or not " " <= c <= "~" for c in value)


def _quote(value: str) -> str:
    table = {"\n": "\\n", "\t": "\\t", "\r": "\\r", '"': '\\"', "\\": "\\\\"}
    out = []
    for ch in value:
        if ch in table:
            out.append(table[ch])
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.extend(f"\\{b:03o}" for b in ch.encode("utf-8", "surrogateescape"))
    return '"' + "".join(out) + '"'


def _format_line(entry: StateEntry) -> str:
    value = _quote(entry.value) if _needs_escape(entry.value) else entry.value
    return f"{entry.key} {value}\n" if value else f"{entry.key}\n"

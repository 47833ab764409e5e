"""Numbers with units, as tor's ``src/lib/confmgt/unitparse.c`` reads them.

``Interval`` values are seconds, ``TimeMsecInterval`` values milliseconds and
``DataSize``/``Memunit`` values bytes. Units are case-insensitive; a bare number uses
the base unit. As in tor, KB = 1024 bytes and the *bit* units are eighths of the
byte units ("200 kbits" = 200 * 128 bytes). A fractional number ("1.5 hours") is
accepted and truncated after multiplying.
"""

from __future__ import annotations

import re

from zwiebel.config.errors import ConfigError

_K, _M, _G, _T = 1 << 10, 1 << 20, 1 << 30, 1 << 40


def _table(*groups: tuple[int, tuple[str, ...]]) -> dict[str, int]:
    return {name: mult for mult, names in groups for name in names}


MEMORY_UNITS: dict[str, int] = _table(
    (1, ("", "b", "byte", "bytes")),
    (_K, ("kb", "kbyte", "kbytes", "kilobyte", "kilobytes")),
    (_K // 8, ("kilobits", "kilobit", "kbits", "kbit")),
    (_M, ("m", "mb", "mbyte", "mbytes", "megabyte", "megabytes")),
    (_M // 8, ("megabits", "megabit", "mbits", "mbit")),
    (_G, ("gb", "gbyte", "gbytes", "gigabyte", "gigabytes")),
    (_G // 8, ("gigabits", "gigabit", "gbits", "gbit")),
    (_T, ("tb", "tbyte", "tbytes", "terabyte", "terabytes")),
    (_T // 8, ("terabits", "terabit", "tbits", "tbit")),
)

TIME_UNITS: dict[str, int] = _table(
    (1, ("", "second", "seconds")),
    (60, ("minute", "minutes")),
    (3600, ("hour", "hours")),
    (86400, ("day", "days")),
    (7 * 86400, ("week", "weeks")),
    (2629728, ("month", "months")),  # about 30.437 days, as tor says
)

TIME_MSEC_UNITS: dict[str, int] = _table(
    (1, ("", "msec", "millisecond", "milliseconds")),
    (1000, ("second", "seconds")),
    (60_000, ("minute", "minutes")),
    (3_600_000, ("hour", "hours")),
    (86_400_000, ("day", "days")),
    (7 * 86_400_000, ("week", "weeks")),
)

_NUMBER = re.compile(r"\s*(\+?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?)\s*(.*)\Z", re.S)
_INT64_MAX = (1 << 63) - 1
_INT_MAX = (1 << 31) - 1


def parse_units(text: str, table: dict[str, int]) -> int:
    """``config_parse_units``: a number, optional spaces, an optional unit from ``table``."""
    match = _NUMBER.match(text)
    if match is None:
        raise ConfigError(f"Unable to parse {text} as a number")
    number, unit = match.group(1), match.group(2)
    mult = table.get(unit.lower())
    if mult is None:
        raise ConfigError(f"Unknown unit in {text}")
    is_float = any(c in number for c in ".eE")
    value = int(float(number) * mult) if is_float else int(number) * mult
    if value > _INT64_MAX:
        raise ConfigError(f"Overflow while parsing {text} {unit}")
    return value


def _units_int(text: str, table: dict[str, int]) -> int:
    try:
        value = parse_units(text, table)
    except ConfigError as exc:
        raise ConfigError(f"Provided value is malformed or out of bounds: {exc}") from exc
    if value > _INT_MAX:
        raise ConfigError(f"Provided value {text} is too large")
    return value


def parse_interval(text: str) -> int:
    """An ``Interval`` in seconds ("30 minutes", "2 weeks", "90" = 90 seconds)."""
    return _units_int(text, TIME_UNITS)


def parse_msec_interval(text: str) -> int:
    """A ``TimeMsecInterval`` in milliseconds ("500 msec", "2 seconds")."""
    return _units_int(text, TIME_MSEC_UNITS)


def parse_memunit(text: str) -> int:
    """A ``DataSize`` in bytes ("50 KB" = 51200, "200 kbits" = 25600)."""
    try:
        return parse_units(text, MEMORY_UNITS)
    except ConfigError as exc:
        raise ConfigError(f"Provided value is malformed or out of bounds: {exc}") from exc

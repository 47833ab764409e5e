"""tor's GeoIP databases (GeoIPFile, GeoIPv6File) for GETINFO ip-to-country/*
(control-spec 3.9; tor's ``lib/geoip/geoip.c``).

An IPv4 line is ``LOW,HIGH,CC`` with the bounds as integers (or the same three
fields quoted, as MaxMind's CSV has them); an IPv6 line is ``LOW,HIGH,CC`` with the
bounds written as addresses; ``#`` starts a comment. Country codes are kept lower
case; an address in no range is ``??``. A line that does not parse is skipped and
reported, as tor logs it and goes on.
"""

from __future__ import annotations

import bisect
import ipaddress
from dataclasses import dataclass, field

UNKNOWN = "??"


@dataclass
class GeoIPTable:
    """Sorted, non-overlapping ranges of one address family."""

    lows: list[int] = field(default_factory=list)
    highs: list[int] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    bad_lines: list[str] = field(default_factory=list)

    def country(self, address: int) -> str:
        """The lower-case country code of ``address``, or ``??``."""
        i = bisect.bisect_right(self.lows, address) - 1
        if i >= 0 and address <= self.highs[i]:
            return self.countries[i]
        return UNKNOWN


def parse_geoip(text: str, ipv6: bool) -> GeoIPTable:
    """Parse a GeoIPFile (``ipv6=False``) or GeoIPv6File."""
    ranges: list[tuple[int, int, str]] = []
    bad: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        entry = _parse_line(line, ipv6)
        if entry is None:
            bad.append(line)
        else:
            ranges.append(entry)
    ranges.sort()
    return GeoIPTable([r[0] for r in ranges], [r[1] for r in ranges],
                      [r[2] for r in ranges], bad)


def _parse_line(line: str, ipv6: bool) -> tuple[int, int, str] | None:
    fields = [f.strip().strip('"') for f in line.split(",")]
    if len(fields) < 3 or len(fields[2]) != 2 or (ipv6 and len(fields) != 3):
        return None
    try:
        if ipv6:
            low = int(ipaddress.IPv6Address(fields[0]))
            high = int(ipaddress.IPv6Address(fields[1]))
        else:
            low, high = int(fields[0]), int(fields[1])
    except ValueError:
        return None
    if low > high:
        return None
    return low, high, fields[2].lower()

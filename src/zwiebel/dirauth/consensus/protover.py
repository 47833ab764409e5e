"""Voting on protocol lists (dir-spec 3.8, "recommended-*-protocols"/"required-*-protocols").

tor's protover_compute_vote (src/core/or/protover.c): parse each vote's list into
name -> 64-bit version mask (an unparseable list is skipped whole), count for every
name and version bit how many lists include it, keep the bits reaching the
threshold, and write the result sorted by name with each mask as minimal ranges
("Link=1-3,5").
"""

from __future__ import annotations

from collections.abc import Sequence

_MAX_VERSION = 63
_MAX_NAME = 100


def _range_mask(text: str) -> int | None:
    """ "4" or "1-3" to a bit mask; None if malformed."""
    low_text, dash, high_text = text.partition("-")
    if not low_text.isdigit() or not low_text.isascii():
        return None
    if dash and (not high_text.isdigit() or not high_text.isascii()):
        return None
    low = int(low_text)
    high = int(high_text) if dash else low
    if low > _MAX_VERSION or high > _MAX_VERSION or low > high:
        return None
    return ((1 << (high + 1)) - 1) ^ ((1 << low) - 1)


def _entry(text: str) -> tuple[str, int] | None:
    """ "Name=ranges" to (name, mask); None if malformed (tor: parse_single_entry)."""
    name, eq, ranges = text.partition("=")
    if not eq or not name or len(name.encode()) > _MAX_NAME:
        return None
    if not all(c.isascii() and (c.isalnum() or c == "-") for c in name):
        return None
    mask = 0
    if ranges:
        for part in ranges.split(","):
            bits = _range_mask(part)
            if bits is None:
                return None
            mask |= bits
    return name, mask


def parse_protocols(text: str) -> list[tuple[str, int]] | None:
    """A space-separated protocol list in order, or None if any entry is malformed."""
    if text.startswith(" "):
        return None
    entries: list[tuple[str, int]] = []
    for word in text.split(" "):
        if not word:
            continue
        entry = _entry(word)
        if entry is None:
            return None
        entries.append(entry)
    return entries


def encode_mask(mask: int) -> str:
    """A version mask as comma-separated minimal ranges."""
    parts: list[str] = []
    bit = 0
    while bit < 64:
        if not mask >> bit & 1:
            bit += 1
            continue
        end = bit
        while end + 1 < 64 and mask >> (end + 1) & 1:
            end += 1
        parts.append(str(bit) if end == bit else f"{bit}-{end}")
        bit = end + 1
    return ",".join(parts)


def compute_protocol_vote(lists: Sequence[str], threshold: int) -> str:
    """The consensus protocol list of `lists` (one per vote listing the line)."""
    parsed = [p for p in (parse_protocols(text) for text in lists) if p is not None]
    names = sorted({name for entries in parsed for name, _ in entries})
    out: list[str] = []
    for name in names:
        counts = [0] * 64
        for entries in parsed:
            mask = next((m for n, m in entries if n == name), None)
            for bit in range(64):
                if mask is not None and mask >> bit & 1:
                    counts[bit] += 1
        result = sum(1 << bit for bit in range(64) if counts[bit] >= threshold)
        if result:
            out.append(f"{name}={encode_mask(result)}")
    return " ".join(out)

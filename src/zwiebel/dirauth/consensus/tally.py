"""Counting helpers with tor's exact tie-breaking (dir-spec 3.8).

Consensus text must match tor's byte for byte, so these mirror the small
container routines networkstatus_compute_consensus relies on
(src/lib/container/order.h, smartlist.c, src/feature/dirauth/dirvote.c):

* medians are the *low* median of the sorted values (find_nth at (n-1)/2);
* "most frequent" runs over a sorted list and breaks ties in favour of the
  later run (smartlist_get_most_frequent_);
* "frequent members" keeps every value occurring *more than* `minimum` times
  (get_frequent_members);
* C integer arithmetic: division truncates toward zero, casts wrap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def low_median(values: Sequence[int]) -> int:
    """tor's median_*: element (n-1)/2 of the sorted values; `values` must be non-empty."""
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2]


def most_frequent(
    ordered: Sequence[T], same: Callable[[T, T], bool] = lambda a, b: a == b
) -> T | None:
    """The value of the longest run in a sorted list; a later run wins a tie."""
    best: T | None = None
    best_count = 0
    index = 0
    while index < len(ordered):
        end = index + 1
        while end < len(ordered) and same(ordered[index], ordered[end]):
            end += 1
        if end - index >= best_count:
            best, best_count = ordered[index], end - index
        index = end
    return best


def frequent_members(ordered: Sequence[str], minimum: int) -> list[str]:
    """Each string of a sorted list that occurs more than `minimum` times (in order)."""
    out: list[str] = []
    index = 0
    while index < len(ordered):
        end = index + 1
        while end < len(ordered) and ordered[end] == ordered[index]:
            end += 1
        if end - index > minimum:
            out.append(ordered[index])
        index = end
    return out


def c_div(numerator: int, denominator: int) -> int:
    """C's integer division: the quotient truncated toward zero."""
    quotient = abs(numerator) // abs(denominator)
    return quotient if (numerator >= 0) == (denominator > 0) else -quotient


def int32(value: int) -> int:
    """Wrap to a signed 32-bit integer, as a C cast does."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def uint32(value: int) -> int:
    """Wrap to an unsigned 32-bit integer, as a C cast does."""
    return value & 0xFFFFFFFF


def cmp_bytes(a: str, b: str) -> int:
    """strcmp over the UTF-8 bytes: negative, zero or positive."""
    left, right = a.encode(), b.encode()
    return (left > right) - (left < right)

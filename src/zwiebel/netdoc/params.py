"""Reading one consensus parameter (dir-spec 3.4.1 "params"), as tor's
``networkstatus_get_param`` / ``get_net_param_from_list`` do: a missing value, or one
that is not a 32-bit signed integer, takes its default; one outside the parameter's
[min, max] is clamped to it."""

from __future__ import annotations

from collections.abc import Mapping

_INT32 = range(-(2**31), 2**31)


def consensus_param(params: Mapping[str, int], name: str, default: int, low: int,
                    high: int) -> int:
    """Parameter `name` of a consensus "params" line, clamped to [low, high]."""
    value = params.get(name, default)
    if value not in _INT32:
        value = default
    return max(low, min(high, value))

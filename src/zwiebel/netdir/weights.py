"""Bandwidth-weighted relay choice by position (path-spec 2.2, dir-spec 3.8.3).

A relay's weight for a position is its consensus bandwidth times the consensus weight
for its class (Guard+Exit "d", Guard "g", Exit "e", neither "m"), as tor's
``compute_weighted_bandwidths`` (node_select.c) applies them:

    position  g     m     e     d       (times Wgb/Wmb/Web/Wdb for V2Dir relays)
    GUARD     Wgg   Wgm   0     Wgd
    MIDDLE    Wmg   Wmm   Wme   Wmd
    EXIT      Weg   Wem   Wee   Wed
    DIR       Wbg   Wbm   Wbe   Wbd     (no V2Dir factor)

"Exit" here means the Exit flag without BadExit.  Every weight is divided by the
"bwweightscale" parameter (default 10000); a weight above the scale is capped to it,
and if any weight used is missing, all become the scale (naive bandwidth weighting,
where even exits get the full weight in the guard position), as tor does.  The
arithmetic is exact: weights are integers, and the division by the scale is common to
every relay so it is folded away.

Randomness comes from an injected ``randbelow(n)``; a total weight of zero falls back to
a uniform choice, like tor's ``choose_array_element_by_weight``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Protocol

from zwiebel.netdir.relay import RelayInfo

DEFAULT_WEIGHT_SCALE = 10000
MAX_WEIGHT_SCALE = 2**31 - 1


class Rng(Protocol):
    """``randbelow(n)``: a uniformly random integer in ``range(n)``, ``n >= 1``."""

    def __call__(self, n: int, /) -> int:
        """Return a uniform integer in [0, n)."""
        ...


class Position(enum.Enum):
    """Which weights of the "bandwidth-weights" line apply (dir-spec 3.4.1)."""

    GUARD = "g"
    MIDDLE = "m"
    EXIT = "e"
    DIR = "b"


_CLASS_WEIGHTS: dict[Position, tuple[str, str, str | None, str]] = {
    # (guard-only, neither, exit-only, guard+exit)
    Position.GUARD: ("Wgg", "Wgm", None, "Wgd"),
    Position.MIDDLE: ("Wmg", "Wmm", "Wme", "Wmd"),
    Position.EXIT: ("Weg", "Wem", "Wee", "Wed"),
    Position.DIR: ("Wbg", "Wbm", "Wbe", "Wbd"),
}
_DIR_FACTORS = ("Wgb", "Wmb", "Web", "Wdb")


class PositionWeights:
    """The four class weights and four V2Dir factors for one position, scale applied."""

    def __init__(self, bandwidth_weights: Mapping[str, int], scale: int, position: Position):
        names = _CLASS_WEIGHTS[position]
        wanted = [n for n in names if n is not None]
        if position is not Position.DIR:
            wanted += list(_DIR_FACTORS)
        naive = any(bandwidth_weights.get(n, -1) < 0 for n in wanted)
        weights = {n: scale if naive else min(bandwidth_weights[n], scale) for n in wanted}
        self._class: list[int] = [
            (scale if naive else 0) if n is None else weights[n] for n in names
        ]
        self._dir: list[int] = [weights.get(n, scale) for n in _DIR_FACTORS]
        self.scale = scale

    def weight(self, relay: RelayInfo) -> int:
        """The relay's selection weight, in units of kB/s * scale**2 (exact integer)."""
        guard, exit_ = relay.has_flag("Guard"), relay.is_exit_flagged()
        index = (3 if exit_ else 0) if guard else (2 if exit_ else 1)
        factor = self._dir[index] if relay.has_flag("V2Dir") else self.scale
        return max(relay.bandwidth, 0) * self._class[index] * factor


def weight_scale(params: Mapping[str, int]) -> int:
    """The "bwweightscale" consensus parameter, clamped as tor does (1..INT32_MAX)."""
    value = params.get("bwweightscale", DEFAULT_WEIGHT_SCALE)
    return min(max(value, 1), MAX_WEIGHT_SCALE)


def choose_weighted(items: Sequence[RelayInfo], weights: Sequence[int], rng: Rng) -> RelayInfo:
    """Pick ``items[i]`` with probability ``weights[i] / sum(weights)``.

    Uniform if every weight is zero.  Raises ValueError on an empty sequence.
    """
    if not items:
        raise ValueError("no candidates to choose from")
    total = sum(weights)
    if total <= 0:
        return items[rng(len(items))]
    point = rng(total)
    for item, weight in zip(items, weights, strict=True):
        if point < weight:
            return item
        point -= weight
    raise AssertionError("rng returned a value outside range(total)")

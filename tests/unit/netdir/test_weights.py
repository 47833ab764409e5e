"""Position weights (dir-spec 3.8.3 as tor's compute_weighted_bandwidths applies them) and
weighted choice statistics with a deterministic rng."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from tests.unit.netdir.support import HashRng, relay
from zwiebel.netdir import NetDir, Position, RelayInfo, choose_weighted
from zwiebel.netdir.weights import weight_scale

# A bandwidth-weights line shaped like a live consensus (values chosen to be distinct).
WEIGHTS = {
    "Wbd": 101, "Wbe": 102, "Wbg": 103, "Wbm": 10000,
    "Wdb": 10000, "Web": 10000, "Wgb": 10000, "Wmb": 10000,
    "Wed": 6000, "Wee": 9000, "Weg": 500, "Wem": 8000,
    "Wgd": 3000, "Wgg": 7000, "Wgm": 2000,
    "Wmd": 1000, "Wme": 1500, "Wmg": 2500, "Wmm": 10000,
}  # fmt: skip
SQUARE = 10000 * 10000


def _classes() -> dict[str, RelayInfo]:
    return {
        "g": relay(1, flags={"Guard"}, bw=10),
        "m": relay(2, bw=10),
        "e": relay(3, flags={"Exit"}, bw=10),
        "d": relay(4, flags={"Guard", "Exit"}, bw=10),
        "badexit": relay(5, flags={"Exit", "BadExit"}, bw=10),
    }


@pytest.mark.parametrize(
    ("position", "expected"),
    [
        (Position.GUARD, {"g": 7000, "m": 2000, "e": 0, "d": 3000, "badexit": 2000}),
        (Position.MIDDLE, {"g": 2500, "m": 10000, "e": 1500, "d": 1000, "badexit": 10000}),
        (Position.EXIT, {"g": 500, "m": 8000, "e": 9000, "d": 6000, "badexit": 8000}),
        (Position.DIR, {"g": 103, "m": 10000, "e": 102, "d": 101, "badexit": 10000}),
    ],
)
def test_weight_by_position_and_class(position: Position, expected: dict[str, int]) -> None:
    relays = _classes()
    netdir = NetDir(relays.values(), {}, WEIGHTS)
    got = {name: netdir.weight(r, position) for name, r in relays.items()}
    assert got == {name: 10 * w * 10000 for name, w in expected.items()}


def test_v2dir_factor_applies_outside_dir_position() -> None:
    weights = dict(WEIGHTS, Wgb=5000)
    netdir = NetDir([], {}, weights)
    guard = relay(1, flags={"Guard"}, bw=3)
    no_dir = replace(relay(2, flags={"Guard"}, bw=3), flags=frozenset({"Guard", "Running"}))
    assert netdir.weight(guard, Position.GUARD) == 3 * 7000 * 5000
    assert netdir.weight(no_dir, Position.GUARD) == 3 * 7000 * 10000


def test_missing_weight_means_naive_selection_everywhere() -> None:
    weights = {k: v for k, v in WEIGHTS.items() if k != "Wmd"}
    netdir = NetDir([], {}, weights)
    for r in _classes().values():
        assert netdir.weight(r, Position.MIDDLE) == 10 * SQUARE
    # the guard position is untouched (Wmd is not one of its weights), exit-only stays 0
    assert netdir.weight(relay(3, flags={"Exit"}, bw=10), Position.GUARD) == 0


def test_naive_selection_gives_exits_guard_weight() -> None:
    netdir = NetDir([], {}, {})
    assert netdir.weight(relay(3, flags={"Exit"}, bw=10), Position.GUARD) == 10 * SQUARE


def test_weights_capped_at_scale_and_scale_param() -> None:
    netdir = NetDir([], {"bwweightscale": 1000}, dict(WEIGHTS))
    # every weight above 1000 is capped to 1000, the V2Dir factor too
    assert netdir.weight(relay(2, bw=1), Position.MIDDLE) == 1000 * 1000
    assert netdir.weight(relay(1, flags={"Guard"}, bw=1), Position.EXIT) == 500 * 1000
    assert weight_scale({"bwweightscale": 0}) == 1
    assert weight_scale({}) == 10000


def test_zero_bandwidth_total_is_uniform() -> None:
    relays = [relay(i, bw=0) for i in range(1, 5)]
    rng = HashRng(b"uniform")
    counts = Counter(choose_weighted(relays, [0] * 4, rng).nickname for _ in range(4000))
    assert set(counts) == {r.nickname for r in relays}
    assert all(900 < c < 1100 for c in counts.values())


def test_choose_weighted_rejects_empty() -> None:
    with pytest.raises(ValueError):
        choose_weighted([], [], HashRng())


def test_weighted_choice_chi_square() -> None:
    """10000 draws over weights 1:2:3:4 must fit (chi-square, 3 dof, p=0.001 -> 16.27)."""
    relays = [relay(i, bw=i) for i in range(1, 5)]
    netdir = NetDir(relays, {}, WEIGHTS)
    weights = [netdir.weight(r, Position.MIDDLE) for r in relays]
    rng = HashRng(b"chi-square")
    draws = 10000
    counts = Counter(choose_weighted(relays, weights, rng).bandwidth for _ in range(draws))
    chi2 = sum((counts[i] - draws * i / 10) ** 2 / (draws * i / 10) for i in range(1, 5))
    assert chi2 < 16.27, (chi2, counts)


def test_choice_is_deterministic_for_a_seed() -> None:
    relays = [relay(i, bw=i) for i in range(1, 9)]
    picks_a = [choose_weighted(relays, [r.bandwidth for r in relays], HashRng(b"s")).nickname]
    picks_b = [choose_weighted(relays, [r.bandwidth for r in relays], HashRng(b"s")).nickname]
    assert picks_a == picks_b

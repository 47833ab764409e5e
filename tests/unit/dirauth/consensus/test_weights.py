"""bandwidth-weights (dir-spec 3.8.3; tor: networkstatus_compute_bw_weights_v10).

The numbers below are worked by hand from the spec's formulas (C integer division);
the real lines come from the consensuses in tests/vectors/dirauth/.
"""

from __future__ import annotations

import pytest

from tests.unit.dirauth.consensus.vectors import CAPTURES, text
from zwiebel.dirauth.consensus import Totals, compute_weights
from zwiebel.netdoc.consensus import parse_consensus

KEYS = [
    *("Wbd", "Wbe", "Wbg", "Wbm", "Wdb", "Web", "Wed", "Wee", "Weg", "Wem"),
    *("Wgb", "Wgd", "Wgg", "Wgm", "Wmb", "Wmd", "Wme", "Wmg", "Wmm"),
]


def _line(t: Totals, scale: int = 10000) -> dict[str, int]:
    line = compute_weights(t, scale)
    assert line is not None and line.startswith("bandwidth-weights ") and line.endswith("\n")
    pairs = [kv.split("=") for kv in line.split()[1:]]
    assert [k for k, _ in pairs] == KEYS
    return {k: int(v) for k, v in pairs}


def _totals(g: int, m: int, e: int, d: int) -> Totals:
    return Totals(G=g, M=m, E=e, D=d, T=g + m + e + d)


def _seven(w: dict[str, int]) -> tuple[int, ...]:
    return (w["Wgg"], w["Wgd"], w["Wmg"], w["Wme"], w["Wmd"], w["Wed"], w["Wee"])


def test_case_1_neither_scarce() -> None:
    w = _line(_totals(4000, 1000, 4000, 1000))
    assert _seven(w) == (7500, 3333, 2500, 2500, 3333, 3333, 7500)


def test_case_2a_g_scarce() -> None:
    w = _line(_totals(1000, 10000, 2000, 500))
    assert _seven(w) == (10000, 10000, 0, 0, 0, 0, 10000)


def test_case_2a_e_scarce() -> None:
    w = _line(_totals(2000, 10000, 1000, 500))
    assert _seven(w) == (10000, 0, 0, 0, 0, 10000, 10000)


def test_case_2b1() -> None:
    w = _line(_totals(3000, 1000, 3000, 4000))
    assert _seven(w) == (10000, 1667, 0, 6666, 1667, 6666, 3333)


def test_case_2b3_unbalanced_writes_no_line() -> None:
    # 2b1 fails (Wee > scale), 2b2 gives Wmd < 0, so 2b3; the E/G balance is off: no line.
    assert compute_weights(_totals(2000, 6000, 2000, 3000)) is None


def test_case_3a_e_scarce() -> None:
    w = _line(_totals(10000, 5000, 1000, 100))
    assert _seven(w) == (7500, 0, 2500, 0, 0, 10000, 10000)


def test_case_3a_g_scarce_keeps_e_when_m_larger() -> None:
    w = _line(_totals(1000, 5000, 4000, 100))
    assert _seven(w) == (10000, 10000, 0, 0, 0, 0, 10000)


def test_case_3bg() -> None:
    w = _line(_totals(1000, 3000, 10000, 6000))
    assert _seven(w) == (10000, 9444, 0, 3500, 278, 278, 6500)


def test_derived_weights_and_scale() -> None:
    w = _line(_totals(4000, 1000, 4000, 1000), scale=9000)
    assert w["Wbm"] == w["Wdb"] == w["Web"] == w["Wgb"] == w["Wmb"] == w["Wmm"] == 9000
    assert (w["Wbd"], w["Wbe"], w["Wbg"]) == (w["Wmd"], w["Wme"], w["Wmg"])
    assert (w["Weg"], w["Wem"], w["Wgm"]) == (w["Wed"], w["Wee"], w["Wgg"])


def test_empty_class_writes_no_line() -> None:
    assert compute_weights(Totals(G=0, M=1, E=1, D=1, T=3)) is None


@pytest.mark.parametrize("capture", CAPTURES)
def test_real_lines(capture: str) -> None:
    doc = text(capture, "consensus")
    c = parse_consensus(doc)
    totals = Totals()
    for rs in c.routers:
        totals.add(
            rs.bandwidth, "Exit" in rs.flags and "BadExit" not in rs.flags, "Guard" in rs.flags
        )
    line = next(ln for ln in doc.splitlines(True) if ln.startswith("bandwidth-weights "))
    assert compute_weights(totals, c.params.get("bwweightscale", 10000)) == line

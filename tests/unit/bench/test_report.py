"""bench.report: ratio arithmetic, table layout, JSON writing, the chart fallback."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from bench import report
from bench.networks import impl_for
from zwiebel.testnet.impls import Impl


def _result() -> dict[str, Any]:
    networks = {
        "tor": {"figures": {"bulk_mbps": 7.0, "ttfb_ms": 20.0, "conns_ok": 500,
                            "conns_failed": 0}, "errors": []},
        "zwiebel": {"figures": {"bulk_mbps": 14.0, "ttfb_ms": 10.0, "conns_ok": 450,
                                "conns_failed": 50}, "errors": ["capacity: 50 failed"]},
        "mixed": {"figures": {"bulk_mbps": 3.5, "rss_idle_mib.relay0": 50.0}, "errors": []},
    }
    return {"networks": networks, "ratios": report.ratios(networks), "created": "now"}


def test_ratio_divides_and_refuses_zero_or_missing() -> None:
    assert report.ratio(14.0, 7.0) == 2.0
    assert report.ratio(1.0, 3.0) == 0.333
    assert report.ratio(1.0, 0.0) is None
    assert report.ratio(None, 3.0) is None
    assert report.ratio(1.0, None) is None


def test_ratios_per_network_against_tor() -> None:
    rel = _result()["ratios"]
    assert set(rel) == {"zwiebel", "mixed"}
    assert rel["zwiebel"] == {"bulk_mbps": 2.0, "ttfb_ms": 0.5, "conns_ok": 0.9,
                              "conns_failed": None}
    assert rel["mixed"] == {"bulk_mbps": 0.5, "ttfb_ms": None, "conns_ok": None,
                            "conns_failed": None, "rss_idle_mib.relay0": None}


def test_ratios_without_tor_are_all_undefined() -> None:
    rel = report.ratios({"zwiebel": {"figures": {"bulk_mbps": 3.0}}})
    assert rel == {"zwiebel": {"bulk_mbps": None}}


def test_table_rows_columns_and_errors() -> None:
    lines = report.table(_result()).splitlines()
    assert lines[0].split() == ["figure", "unit", "tor", "zwiebel", "zwiebel/tor", "mixed",
                                "mixed/tor"]
    assert set(lines[1]) == {"-"}
    rows = {line.split()[0]: line.split() for line in lines[2:7]}
    assert list(rows) == ["bulk_mbps", "ttfb_ms", "rss_idle_mib.relay0", "conns_ok",
                          "conns_failed"]
    assert rows["bulk_mbps"] == ["bulk_mbps", "MB/s", "7", "14", "2", "3.5", "0.5"]
    assert rows["ttfb_ms"] == ["ttfb_ms", "ms", "20", "10", "0.5", "-", "-"]
    assert rows["rss_idle_mib.relay0"] == ["rss_idle_mib.relay0", "MiB", "-", "-", "-",
                                           "50", "-"]
    assert "zwiebel: ERROR capacity: 50 failed" in lines


def test_write_json_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "r.json"
    report.write_json(_result(), path)
    assert json.loads(path.read_text())["ratios"]["zwiebel"]["bulk_mbps"] == 2.0
    assert list(path.parent.iterdir()) == [path]


def test_chart_message_without_matplotlib(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    message = report.chart(_result(), tmp_path / "c.png")
    assert message.startswith("no chart: matplotlib is not installed")
    assert not (tmp_path / "c.png").exists()


def test_mixed_network_crosses_implementations() -> None:
    nodes = ("auth0", "relay0", "relay1", "relay2", "exit0", "client0")
    assert {impl_for("tor", n) for n in nodes} == {Impl.TOR}
    assert {impl_for("zwiebel", n) for n in nodes} == {Impl.ZWIEBEL}
    mixed = [impl_for("mixed", n) for n in nodes]
    assert mixed == [Impl.TOR, Impl.ZWIEBEL, Impl.TOR, Impl.ZWIEBEL, Impl.ZWIEBEL, Impl.TOR]

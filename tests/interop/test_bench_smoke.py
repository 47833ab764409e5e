"""The benchmark (bench/, issue 6) runs end to end at a tiny size.

Three networks (tor, zwiebel, mixed) started together, 1 MiB downloads, one
repetition, 20 connections in the capacity test. Asserts that every figure was
measured (positive throughputs, a circuit build and TTFB time, CPU and memory
numbers, all 20 connections held) and that the ratios to tor are the quotients of
the figures; nothing about which implementation is faster.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

import pytest

from bench.cli import main

pytestmark = pytest.mark.interop

BASE_PORT = 25600
CONNS = 20
POSITIVE = ("bulk_mbps", "parallel_mbps", "ttfb_ms", "circuit_build_ms",
            "rss_idle_mib.relay_mean", "rss_after_mib.relay_mean", "rss_idle_mib.client0")
CPU = ("cpu_s_per_mb.bulk_relay", "cpu_s_per_mb.bulk_client", "cpu_s_per_mb.parallel_relay",
       "cpu_s_per_mb.parallel_client")
CAPACITY = ("conns_ok", "conns_failed", "conn_kib_per_circuit", "conn_open_s",
            "conn_rss_before_mib", "conn_rss_held_mib", "conn_rss_closed_mib")


def _run(tmp_path: Path) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "result.json"
    status = main(["--start", "together", "--bulk-mb", "1", "--bulk-reps", "1",
                   "--ttfb-reps", "1", "--circ-reps", "1", "--parallel", "2",
                   "--parallel-reps", "2", "--parallel-mb", "1", "--conns", str(CONNS),
                   "--concurrency", "10", "--rss-samples", "2",
                   "--idle-settle", "0",
                   "--base-port", str(BASE_PORT), "--work-dir", str(tmp_path / "work"),
                   "--out", str(out), "--no-chart"])
    return status, json.loads(out.read_text())


def test_bench_tiny_run_measures_three_networks(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, result = _run(tmp_path)
    networks = result["networks"]
    assert status == 0, {name: data["errors"] for name, data in networks.items()}
    assert list(networks) == ["tor", "zwiebel", "mixed"]
    assert set(networks["tor"]["impls"].values()) == {"tor"}
    assert set(networks["zwiebel"]["impls"].values()) == {"zwiebel"}
    assert set(networks["mixed"]["impls"].values()) == {"tor", "zwiebel"}
    for name, data in networks.items():
        figures = data["figures"]
        assert all(figures[key] > 0 for key in POSITIVE), (name, figures)
        assert all(math.isfinite(figures[key]) and figures[key] >= 0 for key in CPU), name
        assert len(data["samples"]["bulk_mbps"]) == 1
        assert len(data["samples"]["rss_idle_mib"]) == 2
        assert len(data["samples"]["parallel_stream_mbps"]) == 4
        rounds = data["samples"]["parallel_round_mbps"]
        assert len(rounds) == 2
        assert figures["parallel_mbps"] == pytest.approx(statistics.median(rounds), abs=2e-3)
    for name in ("tor", "zwiebel"):
        figures = networks[name]["figures"]
        assert set(CAPACITY) <= set(figures), name
        assert (figures["conns_ok"], figures["conns_failed"]) == (CONNS, 0), name
    assert "conns_ok" not in networks["mixed"]["figures"]
    assert set(result["ratios"]) == {"zwiebel", "mixed"}
    tor = networks["tor"]["figures"]
    for name, rel in result["ratios"].items():
        figures = networks[name]["figures"]
        for key in ("bulk_mbps", "parallel_mbps", "ttfb_ms", "circuit_build_ms"):
            assert rel[key] == pytest.approx(figures[key] / tor[key], abs=1e-3), (name, key)
    table = capsys.readouterr().out
    assert "zwiebel/tor" in table and "mixed/tor" in table and "results: " in table

"""The benchmark (bench/, issue 6) runs end to end at a tiny size.

Only that it completes and writes well-formed JSON with both networks' figures and
the Zwiebel/tor ratios; nothing about speed (timings belong to the bench, not tests).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench.cli import main

pytestmark = pytest.mark.interop

BASE_PORT = 25400
FIGURES = ("bulk_mbps", "ttfb_ms", "circuit_build_ms", "parallel_mbps")
ROLES = ("guard", "middle", "exit", "client")


def test_bench_tiny_run_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "result.json"
    status = main(["--bulk-mb", "1", "--bulk-reps", "2", "--ttfb-reps", "2", "--circ-reps", "2",
                   "--parallel", "1", "--parallel-mb", "1", "--base-port", str(BASE_PORT),
                   "--work-dir", str(tmp_path / "work"), "--out", str(out), "--no-chart"])
    result = json.loads(out.read_text())
    errors = {name: data["errors"] for name, data in result["networks"].items()}
    assert status == 0, errors
    assert set(result["networks"]) == {"tor", "zwiebel"}
    expected = set(FIGURES) | {f"{kind}.{role}" for role in ROLES
                               for kind in ("cpu_s_per_mb", "rss_idle_mib", "rss_after_mib")}
    for name in ("tor", "zwiebel"):
        figures = result["networks"][name]["figures"]
        assert set(figures) == expected, name
        assert all(isinstance(v, int | float) and math.isfinite(v) and v >= 0
                   for v in figures.values()), figures
        assert len(result["networks"][name]["samples"]["bulk_mbps"]) == 2
    assert set(result["ratios"]) == {"zwiebel"}
    assert set(result["ratios"]["zwiebel"]) == expected
    table = capsys.readouterr().out
    assert "zwiebel/tor" in table and str(out) in table

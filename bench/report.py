"""Ratios to tor, the terminal table, the JSON file and the optional PNG chart.

A ratio is a network's figure divided by tor's (``zwiebel/tor``, ``mixed/tor``);
None where tor's figure is missing or zero. Whether a ratio above 1 is good depends
on the figure: ``HIGHER_IS_BETTER`` lists the ones where it is.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

BASELINE = "tor"
HIGHER_IS_BETTER = ("bulk_mbps", "parallel_mbps", "conns_ok")
UNITS = {"bulk_mbps": "MB/s", "parallel_mbps": "MB/s", "ttfb_ms": "ms",
         "circuit_build_ms": "ms", "cpu_s_per_mb": "CPU s/MB", "rss_idle_mib": "MiB",
         "rss_after_mib": "MiB", "conns_ok": "conns", "conns_failed": "conns",
         "conn_kib_per_circuit": "KiB", "conn_open_s": "s", "conn_rss_before_mib": "MiB",
         "conn_rss_held_mib": "MiB", "conn_rss_closed_mib": "MiB"}
CHART_PANELS = (("bulk_mbps", "single-circuit bulk, MB/s"),
                ("parallel_stream_mbps", "parallel downloads, MB/s each"),
                ("ttfb_ms", "time to first byte, ms"),
                ("circuit_build_ms", "circuit build, ms"))


def ratio(value: float | None, base: float | None) -> float | None:
    """``value / base`` rounded to 3 places; None if either is missing or base is 0."""
    if value is None or not base:
        return None
    return round(value / base, 3)


def ratios(networks: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, float | None]]:
    """For every network but tor: figure -> its value / tor's value."""
    base: Mapping[str, float] = networks.get(BASELINE, {}).get("figures", {})
    out: dict[str, dict[str, float | None]] = {}
    for name, data in networks.items():
        if name == BASELINE:
            continue
        figures: Mapping[str, float] = data.get("figures", {})
        out[name] = {key: ratio(figures.get(key), base.get(key))
                     for key in sorted(set(base) | set(figures))}
    return out


def _order(keys: set[str]) -> list[str]:
    prefix = list(UNITS)

    def rank(key: str) -> tuple[int, str]:
        head = key.split(".")[0]
        return (prefix.index(head) if head in prefix else len(prefix), key)

    return sorted(keys, key=rank)


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _rows(result: Mapping[str, Any]) -> list[list[str]]:
    networks: Mapping[str, Mapping[str, Any]] = result["networks"]
    rel: Mapping[str, Mapping[str, float | None]] = result["ratios"]
    names = list(networks)
    header = ["figure", "unit"]
    for name in names:
        header += [name] + ([f"{name}/tor"] if name != BASELINE else [])
    rows = [header]
    for key in _order({k for data in networks.values() for k in data.get("figures", {})}):
        row = [key, UNITS.get(key.split(".")[0], "")]
        for name in names:
            row.append(_cell(networks[name].get("figures", {}).get(key)))
            if name != BASELINE:
                row.append(_cell(rel.get(name, {}).get(key)))
        rows.append(row)
    return rows


def table(result: Mapping[str, Any]) -> str:
    """A fixed-width table: one row per figure, each network's value and ratio to tor."""
    rows = _rows(result)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w)
                       in enumerate(zip(r, widths, strict=True))) for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    lines.append(f"ratio > 1 is better for {', '.join(HIGHER_IS_BETTER)}; "
                 "< 1 is better for the rest")
    for name, data in result["networks"].items():
        for error in data.get("errors", []):
            lines.append(f"{name}: ERROR {error}")
    return "\n".join(lines)


def write_json(result: Mapping[str, Any], path: Path) -> None:
    """Write the result atomically as indented JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    os.replace(tmp, path)


def chart(result: Mapping[str, Any], path: Path) -> str:
    """Box plots of the throughput and latency samples per network, as a PNG; a message."""
    if importlib.util.find_spec("matplotlib") is None:
        return ("no chart: matplotlib is not installed (pip install 'matplotlib>=3.7', "
                "the bench extra)")
    matplotlib: Any = importlib.import_module("matplotlib")
    matplotlib.use("Agg")
    plt: Any = importlib.import_module("matplotlib.pyplot")
    networks: Mapping[str, Mapping[str, Any]] = result["networks"]
    fig, axes = plt.subplots(1, len(CHART_PANELS), figsize=(4.5 * len(CHART_PANELS), 4.5))
    for axis, (key, title) in zip(axes, CHART_PANELS, strict=True):
        names = [n for n in networks if networks[n].get("samples", {}).get(key)]
        if names:
            axis.boxplot([networks[n]["samples"][key] for n in names])
            axis.set_xticks(range(1, len(names) + 1), names)
        if key.endswith("_ms"):
            axis.set_yscale("log")
        axis.set_title(title)
        axis.grid(axis="y", alpha=0.3)
    fig.suptitle(f"Zwiebel and tor on loopback, {result.get('created', '')}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return f"chart: {path}"

"""Ratios to tor, the terminal table, the JSON file and the optional PNG chart."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

BASELINE = "tor"
HIGHER_IS_BETTER = ("bulk_mbps", "parallel_mbps")
UNITS = {"bulk_mbps": "MB/s", "parallel_mbps": "MB/s", "ttfb_ms": "ms",
         "circuit_build_ms": "ms", "cpu_s_per_mb": "CPU s/MB", "rss_idle_mib": "MiB",
         "rss_after_mib": "MiB"}


def ratios(networks: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, float | None]]:
    """For every network but tor: figure -> its value / tor's value (None if undefined)."""
    base: Mapping[str, float] = networks.get(BASELINE, {}).get("figures", {})
    out: dict[str, dict[str, float | None]] = {}
    for name, data in networks.items():
        if name == BASELINE:
            continue
        figures: Mapping[str, float] = data.get("figures", {})
        out[name] = {key: (round(figures[key] / base[key], 3) if base.get(key) else None)
                     for key in base if key in figures}
    return out


def _order(keys: set[str]) -> list[str]:
    prefix = list(UNITS)
    return sorted(keys, key=lambda k: (prefix.index(k.split(".")[0])
                                       if k.split(".")[0] in prefix else len(prefix), k))


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def table(result: Mapping[str, Any]) -> str:
    """A fixed-width table: one row per figure, each network's value and ratio to tor."""
    networks: Mapping[str, Mapping[str, Any]] = result["networks"]
    rel: Mapping[str, Mapping[str, float | None]] = result["ratios"]
    names = list(networks)
    keys = _order({k for data in networks.values() for k in data.get("figures", {})})
    header = ["figure", "unit"]
    for name in names:
        header += [name] + ([f"{name}/tor"] if name != BASELINE else [])
    rows = [header]
    for key in keys:
        row = [key, UNITS.get(key.split(".")[0], "")]
        for name in names:
            row.append(_cell(networks[name].get("figures", {}).get(key)))
            if name != BASELINE:
                row.append(_cell(rel.get(name, {}).get(key)))
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w)
                       in enumerate(zip(r, widths, strict=True))) for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    lines.append(f"ratio > 1 is better for {', '.join(HIGHER_IS_BETTER)}; "
                 "< 1 is better for the rest")
    for name in names:
        for error in networks[name].get("errors", []):
            lines.append(f"{name}: ERROR {error}")
    return "\n".join(lines)


def write_json(result: Mapping[str, Any], path: Path) -> None:
    """Write the result atomically as indented JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    os.replace(tmp, path)


def chart(result: Mapping[str, Any], path: Path) -> str:
    """Draw the throughput and latency samples per network to a PNG; return a message."""
    if importlib.util.find_spec("matplotlib") is None:
        return "matplotlib is not installed: no chart (pip install matplotlib for one)"
    matplotlib: Any = importlib.import_module("matplotlib")
    matplotlib.use("Agg")
    plt: Any = importlib.import_module("matplotlib.pyplot")

    panels = ("bulk_mbps", "parallel_stream_mbps", "ttfb_ms", "circuit_build_ms")
    networks: Mapping[str, Mapping[str, Any]] = result["networks"]
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 4))
    for axis, panel in zip(axes, panels, strict=True):
        names = [n for n in networks if networks[n].get("samples", {}).get(panel)]
        axis.boxplot([networks[n]["samples"][panel] for n in names], labels=names)
        axis.set_title(panel)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return f"chart: {path}"

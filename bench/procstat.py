"""CPU time and resident memory of a process from /proc (proc(5))."""

from __future__ import annotations

import os
from collections.abc import Mapping

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` in seconds (/proc/PID/stat fields 14 and 15)."""
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
        text = handle.read()
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mib(pid: int) -> float:
    """VmRSS of ``pid`` in MiB (/proc/PID/status)."""
    with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / MIB
    raise OSError(f"no VmRSS for pid {pid}")


def cpu_snapshot(pids: Mapping[str, int]) -> dict[str, float]:
    """cpu_seconds of every role -> pid."""
    return {role: cpu_seconds(pid) for role, pid in pids.items()}


def rss_snapshot(pids: Mapping[str, int]) -> dict[str, float]:
    """rss_mib of every role -> pid, rounded to 0.1 MiB."""
    return {role: round(rss_mib(pid), 1) for role, pid in pids.items()}


def cpu_delta(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    """Per-role CPU seconds spent between two snapshots."""
    return {role: after[role] - before[role] for role in before}

"""The figures measured on one relay set through its client's SocksPort.

Every fetch goes through ``zwiebel.testnet.socksfetch`` with a fresh SOCKS username
(socks-extensions.txt, "stream isolation"), so each one gets a circuit of its own
through the pinned path. Sizes: MB = 10^6 bytes.
"""

from __future__ import annotations

import itertools
import statistics
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bench import procstat
from zwiebel.testnet.socksfetch import Fetched, fetch

MB = 1_000_000
_names = itertools.count()


@dataclass(frozen=True)
class Target:
    """One relay set and its client: what to fetch through and whom to watch.

    ``pids`` maps role (guard, middle, exit, client) to the process id;
    ``circuit_build`` times one circuit build through the path (seconds) or is None;
    its argument makes the client use a fresh circuit (a 1 KiB fetch), for timers
    that watch the client build on its own; ``build_method`` says how it times.
    """

    name: str
    socks_port: int
    path: tuple[str, ...]
    pids: Mapping[str, int]
    circuit_build: Callable[[Callable[[], object]], float] | None = None
    build_method: str = ""


@dataclass(frozen=True)
class Served:
    """Where the file server is and which files it has (name -> size in bytes)."""

    host: str
    port: int
    sizes: Mapping[str, int]


@dataclass
class Results:
    """Figures (flat name -> number) and raw samples of one target."""

    figures: dict[str, float] = field(default_factory=dict)
    samples: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def fresh_user(target: Target) -> str:
    """A SOCKS username never used before in this run."""
    return f"bench-{target.name}-{next(_names)}"


def get(target: Target, served: Served, name: str, timeout: float = 600.0) -> Fetched:
    """Fetch ``name`` on a fresh circuit; OSError unless all of it arrived with 200."""
    got = fetch(target.socks_port, served.host, served.port, "/" + name, timeout,
                user=fresh_user(target))
    if got.status != 200 or got.size != served.sizes[name]:
        raise OSError(f"{target.name}: {name} gave HTTP {got.status}, {got.size} bytes")
    return got


def bulk(target: Target, served: Served, name: str, reps: int, out: Results) -> None:
    """Single-circuit throughput ``reps`` times, and CPU s/MB of each process."""
    size = served.sizes[name]
    rates: list[float] = []
    cpu = dict.fromkeys(target.pids, 0.0)
    for _ in range(reps):
        before = procstat.cpu_snapshot(target.pids)
        got = get(target, served, name)
        for role, spent in procstat.cpu_delta(before, procstat.cpu_snapshot(target.pids)).items():
            cpu[role] += spent
        rates.append(size / MB / got.seconds)
    out.samples["bulk_mbps"] = [round(r, 3) for r in rates]
    out.figures["bulk_mbps"] = round(statistics.median(rates), 3)
    for role, spent in cpu.items():
        out.figures[f"cpu_s_per_mb.{role}"] = round(spent / (reps * size / MB), 5)


def ttfb(target: Target, served: Served, name: str, reps: int, out: Results) -> None:
    """Time to first byte (SOCKS connect to first response byte) in ms, fresh circuits."""
    times = [get(target, served, name, 60.0).first_byte * 1000 for _ in range(reps)]
    out.samples["ttfb_ms"] = [round(t, 2) for t in times]
    out.figures["ttfb_ms"] = round(statistics.median(times), 2)


def circuit_builds(target: Target, served: Served, name: str, reps: int, out: Results) -> None:
    """Circuit build time in ms through the pinned path (if the target can time it)."""
    if target.circuit_build is None:
        return
    timer = target.circuit_build
    out.samples["circuit_build_method"] = target.build_method
    times = [timer(lambda: get(target, served, name, 60.0)) * 1000 for _ in range(reps)]
    out.samples["circuit_build_ms"] = [round(t, 2) for t in times]
    out.figures["circuit_build_ms"] = round(statistics.median(times), 2)


def parallel(target: Target, served: Served, name: str, streams: int, out: Results) -> None:
    """Aggregate MB/s of ``streams`` simultaneous downloads, each on its own circuit."""
    failures: list[str] = []
    rates: list[float] = []

    def one() -> None:
        try:
            got = get(target, served, name)
            rates.append(served.sizes[name] / MB / got.seconds)
        except OSError as exc:
            failures.append(str(exc))

    threads = [threading.Thread(target=one, daemon=True) for _ in range(streams)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - start
    if failures:
        raise OSError(f"{len(failures)} of {streams} parallel downloads failed: {failures[0]}")
    out.samples["parallel_stream_mbps"] = sorted(round(r, 3) for r in rates)
    out.figures["parallel_mbps"] = round(streams * served.sizes[name] / MB / wall, 3)

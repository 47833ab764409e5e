"""The figures measured through one network's client SocksPort.

Every fetch goes through ``zwiebel.testnet.socksfetch`` with a SOCKS username
never used before (socks-extensions.txt, "stream isolation"; IsolateSOCKSAuth is
on by default in tor and Zwiebel), so each fetch gets a circuit of its own and the
client chooses its path. Sizes: MB = 10^6 bytes; the served files are MiB.

CPU per MB relayed: every delivered byte crosses three relays, so the relays'
summed CPU time (authority included, as it may be a guard) over 3 x MB delivered
is the CPU cost of one relay moving one MB, whichever path the client chose.
The client's CPU per MB delivered is a separate figure. Per-node CPU seconds go
to the samples.
"""

from __future__ import annotations

import itertools
import statistics
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bench import procstat
from zwiebel.testnet.socksfetch import Fetched, fetch

MB = 1_000_000
HOPS = 3
_names = itertools.count()


@dataclass(frozen=True)
class Target:
    """What to fetch through (the client's SocksPort) and which processes to watch."""

    name: str
    socks_port: int
    relay_pids: Mapping[str, int]
    client_pid: int


@dataclass(frozen=True)
class Served:
    """Where the file server is and which files it has (name -> size in bytes)."""

    host: str
    port: int
    sizes: Mapping[str, int]


@dataclass
class Results:
    """Figures (flat name -> number), raw samples and errors of one network."""

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


class CpuMeter:
    """CPU seconds of the relays and the client between ``__enter__`` and ``__exit__``."""

    def __init__(self, target: Target) -> None:
        self._pids = {**target.relay_pids, "client": target.client_pid}
        self._relays = set(target.relay_pids)
        self._before: dict[str, float] = {}
        self.spent: dict[str, float] = {}

    def __enter__(self) -> CpuMeter:
        self._before = procstat.cpu_snapshot(self._pids)
        return self

    def __exit__(self, *exc: object) -> None:
        delta = procstat.cpu_delta(self._before, procstat.cpu_snapshot(self._pids))
        for node, seconds in delta.items():
            self.spent[node] = self.spent.get(node, 0.0) + seconds

    def record(self, out: Results, label: str, mb: float) -> None:
        """Figures ``cpu_s_per_mb.<label>_relay`` and ``..._client`` for ``mb`` delivered."""
        relays = sum(s for n, s in self.spent.items() if n in self._relays)
        out.figures[f"cpu_s_per_mb.{label}_relay"] = round(relays / (HOPS * mb), 5)
        out.figures[f"cpu_s_per_mb.{label}_client"] = round(self.spent["client"] / mb, 5)
        out.samples[f"cpu_s.{label}"] = {n: round(s, 3) for n, s in self.spent.items()}


def bulk(target: Target, served: Served, name: str, reps: int, out: Results) -> None:
    """Single-circuit throughput ``reps`` times (median) and the CPU it cost."""
    size = served.sizes[name]
    rates: list[float] = []
    meter = CpuMeter(target)
    for _ in range(reps):
        with meter:
            got = get(target, served, name)
        rates.append(size / MB / got.seconds)
    out.samples["bulk_mbps"] = [round(r, 3) for r in rates]
    out.figures["bulk_mbps"] = round(statistics.median(rates), 3)
    meter.record(out, "bulk", reps * size / MB)


def ttfb(target: Target, served: Served, name: str, reps: int, out: Results) -> None:
    """Time to first byte (SOCKS connect to first response byte) in ms, fresh circuits."""
    times = [get(target, served, name, 60.0).first_byte * 1000 for _ in range(reps)]
    out.samples["ttfb_ms"] = [round(t, 2) for t in times]
    out.figures["ttfb_ms"] = round(statistics.median(times), 2)


def parallel(target: Target, served: Served, name: str, streams: int, rounds: int,
             out: Results) -> None:
    """Aggregate MB/s of ``streams`` simultaneous downloads, each on its own circuit:
    the median of ``rounds`` rounds, and the CPU all rounds cost."""
    aggregates: list[float] = []
    rates: list[float] = []
    meter = CpuMeter(target)
    with meter:
        for _ in range(rounds):
            aggregates.append(_parallel_round(target, served, name, streams, rates))
    mb = rounds * streams * served.sizes[name] / MB
    out.samples["parallel_stream_mbps"] = sorted(round(r, 3) for r in rates)
    out.samples["parallel_round_mbps"] = [round(a, 3) for a in aggregates]
    out.figures["parallel_mbps"] = round(statistics.median(aggregates), 3)
    meter.record(out, "parallel", mb)


def _parallel_round(target: Target, served: Served, name: str, streams: int,
                    rates: list[float]) -> float:
    """One round of ``streams`` simultaneous downloads; their aggregate MB/s."""
    failures: list[str] = []

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
    return streams * served.sizes[name] / MB / wall

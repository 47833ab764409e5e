"""Every figure of one running network, step by step; a failing step is recorded
in the network's errors and the remaining steps still run.

Order: a warm-up fetch, resident memory idle, circuit builds, time to first byte,
single-circuit bulk, parallel downloads, resident memory after load, then (tor and
zwiebel only) the connection-capacity test against one middle relay.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench import circuits, loadgen, measure, procstat
from bench.measure import Results, Served, Target
from bench.networks import BUILD_PATH, LOAD_TARGET, Network, Say
from zwiebel.testnet.layout import HOST

KIB = 1024
SETTLE = 2.0
#: Seconds between the RSS snapshots of one measurement.
RSS_GAP = 2.0
#: Networks the connection-capacity test runs on (one relay of each implementation).
CAPACITY_NETWORKS = ("tor", "zwiebel")


@dataclass(frozen=True)
class Plan:
    """Sizes and repetitions of one run (bench.cli fills it from the command line)."""

    bulk_reps: int
    ttfb_reps: int
    circ_reps: int
    parallel: int
    conns: int
    concurrency: int
    parallel_reps: int = 3
    rss_samples: int = 6
    idle_settle: float = 30.0


def target_of(net: Network) -> Target:
    """The measurement target of a network: its client and its relays' PIDs."""
    client_pid = net.client.pid
    assert client_pid is not None, "client not running"
    return Target(net.name, net.client.socks_port, net.relay_pids(), client_pid)


def circuit_builds(net: Network, reps: int, out: Results) -> None:
    """Median LAUNCHED->BUILT time of ``reps`` circuits through BUILD_PATH, in ms."""
    if reps == 0:
        return
    path = net.fingerprints(BUILD_PATH)
    times = circuits.build_times(net.client.control_port, net.client.cookie, path, reps)
    out.samples["circuit_build_ms"] = [round(t * 1000, 2) for t in times]
    out.samples["circuit_build_path"] = list(BUILD_PATH)
    out.figures["circuit_build_ms"] = round(statistics.median(times) * 1000, 2)


def capacity(net: Network, plan: Plan, out: Results) -> None:
    """Hold ``plan.conns`` OR connections with a CREATE_FAST circuit each on LOAD_TARGET."""
    node = net.record.node(LOAD_TARGET)
    assert node.pid is not None
    pid = node.pid
    before = procstat.rss_mib(pid)

    def probe() -> dict[str, float]:
        return {"rss_mib": procstat.rss_mib(pid)}

    result = asyncio.run(loadgen.hold_connections(
        HOST, node.or_port, bytes.fromhex(node.fingerprint), plan.conns, plan.concurrency,
        SETTLE, probe))
    time.sleep(SETTLE)
    held, after = result.probed["rss_mib"], procstat.rss_mib(pid)
    out.figures["conns_ok"] = result.succeeded
    out.figures["conns_failed"] = result.attempted - result.succeeded
    out.figures["conn_open_s"] = result.open_seconds
    out.figures["conn_rss_before_mib"] = round(before, 1)
    out.figures["conn_rss_held_mib"] = round(held, 1)
    out.figures["conn_rss_closed_mib"] = round(after, 1)
    if result.succeeded:
        per = (held - before) * KIB / result.succeeded
        out.figures["conn_kib_per_circuit"] = round(per, 2)
    out.samples["capacity"] = {"relay": LOAD_TARGET, "impl": node.impl,
                               "attempted": result.attempted, "open_s": result.open_seconds,
                               "errors": result.errors}
    if result.succeeded < result.attempted:
        out.errors.append(f"capacity: {result.attempted - result.succeeded} of "
                          f"{result.attempted} connections failed: {result.errors}")


def rss(net: Network, out: Results, label: str, samples: int) -> None:
    """``rss_<label>_mib.<node>`` for every node and the mean over the relays: the median
    of ``samples`` snapshots RSS_GAP seconds apart."""
    snaps = []
    for index in range(samples):
        if index:
            time.sleep(RSS_GAP)
        snaps.append(procstat.rss_snapshot(net.pids()))
    out.samples[f"rss_{label}_mib"] = snaps
    median = {node: statistics.median(s[node] for s in snaps) for node in snaps[0]}
    for node, mib in median.items():
        out.figures[f"rss_{label}_mib.{node}"] = round(mib, 1)
    relays = [median[n] for n in net.relay_pids()]
    out.figures[f"rss_{label}_mib.relay_mean"] = round(sum(relays) / len(relays), 1)


def _steps(net: Network, served: Served, plan: Plan,
           out: Results) -> list[tuple[str, Callable[[], None]]]:
    target = target_of(net)
    up_at = time.monotonic()
    steps: list[tuple[str, Callable[[], None]]] = [
        ("warm-up", lambda: _warm_up(target, served, out)),
        ("rss idle", lambda: _idle_rss(net, out, plan, up_at)),
        ("circuit builds", lambda: circuit_builds(net, plan.circ_reps, out)),
        ("ttfb", lambda: measure.ttfb(target, served, "1k.bin", plan.ttfb_reps, out)),
        ("bulk", lambda: measure.bulk(target, served, "bulk.bin", plan.bulk_reps, out)),
        ("parallel", lambda: measure.parallel(target, served, "par.bin", plan.parallel,
                                                     plan.parallel_reps, out)),
        ("rss after load", lambda: rss(net, out, "after", plan.rss_samples)),
    ]
    if net.name in CAPACITY_NETWORKS and plan.conns > 0:
        steps.append(("capacity", lambda: capacity(net, plan, out)))
    return steps


def _idle_rss(net: Network, out: Results, plan: Plan, up_at: float) -> None:
    """Idle RSS once the network has run ``plan.idle_settle`` seconds: a tor relay of a
    fresh test network grows from about 47 to 105 MiB in its first 20 s (its directory
    caches fill), where a Zwiebel relay stays at 50, so an early snapshot favours tor
    and a late one Zwiebel; settled is what an operator sees."""
    time.sleep(max(0.0, up_at + plan.idle_settle - time.monotonic()))
    rss(net, out, "idle", plan.rss_samples)


def _warm_up(target: Target, served: Served, out: Results) -> None:
    """One 1 KiB fetch (the client's first stream), then SETTLE seconds of quiet."""
    got = measure.get(target, served, "1k.bin", 150.0)
    out.samples["warmup_s"] = round(got.seconds, 2)
    time.sleep(SETTLE)


def measure_network(net: Network, served: Served, plan: Plan, say: Say) -> dict[str, Any]:
    """Every figure of ``net``: {"figures", "samples", "errors", "impls"}."""
    out = Results()
    for label, step in _steps(net, served, plan, out):
        say(f"{net.name}: {label}")
        t0 = time.monotonic()
        try:
            step()
        except Exception as exc:  # noqa: BLE001 (a bench step's failure is a result)
            out.errors.append(f"{label}: {type(exc).__name__}: {exc}")
        out.samples[f"wall_s.{label.replace(' ', '_')}"] = round(time.monotonic() - t0, 2)
    return {"impls": net.impls(), "figures": out.figures, "samples": out.samples,
            "errors": out.errors}

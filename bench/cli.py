"""``python -m bench``: build the three networks, measure each, report.

Default sizes make a quick run (4 MiB bulk x3, 3 rounds of 5 parallel x 5 MiB, 10 builds and
fetches, 500 connections); the issue's full sizes are ``--bulk-mb 100 --parallel
20 --parallel-mb 20 --ttfb-reps 20 --circ-reps 20 --conns 5000`` (``--full``).
Ports: base .. base+299 (one hundred per network), all inside 25000-25999.

``--start sequential`` (the default) brings each network up, measures it and
stops it before the next, so every network is measured alone on the machine;
``--start together`` starts all three at once (a shorter run) and measures them
one after another while the others idle.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import loadgen, report
from bench.measure import Served
from bench.networks import NAMES, PORTS_PER_NETWORK, Network, Networks, Say, log_tails
from bench.runner import Plan, measure_network
from zwiebel.testnet.fileserver import HOST, FileServer

PORT_LOW, PORT_HIGH = 25000, 25999
PORT_SPAN = PORTS_PER_NETWORK * len(NAMES)
RESULTS_DIR = Path(__file__).resolve().parent / "results"
MIB = 1024 * 1024
FULL = {"bulk_mb": 100.0, "parallel": 20, "parallel_mb": 20.0, "ttfb_reps": 20,
        "circ_reps": 20, "conns": 5000}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--full", action="store_true", help="the issue's sizes (overrides the size options)")
    add("--bulk-mb", type=float, default=4, help="MiB per bulk download (default 4)")
    add("--bulk-reps", type=int, default=3, help="bulk downloads per network (median)")
    add("--ttfb-reps", type=int, default=10, help="1 KiB fetches per network (median)")
    add("--circ-reps", type=int, default=10, help="circuit builds per network (median)")
    add("--parallel", type=int, default=5, help="simultaneous downloads (default 5)")
    add("--parallel-mb", type=float, default=5, help="MiB per parallel download")
    add("--parallel-reps", type=int, default=3,
        help="rounds of parallel downloads per network (median)")
    add("--conns", type=int, default=500, help="OR connections for the capacity test")
    add("--rss-samples", type=int, default=6,
        help="RSS snapshots 2 s apart per memory measurement (median)")
    add("--idle-settle", type=float, default=30.0,
        help="seconds a network runs before its idle RSS is taken (default 30)")
    add("--concurrency", type=int, default=100, help="link handshakes in flight at once")
    add("--networks", default=",".join(NAMES), help="which networks (default all three)")
    add("--start", choices=("sequential", "together"), default="sequential")
    add("--base-port", type=int, default=25000, help=f"first of {PORT_SPAN} ports")
    add("--timeout", type=float, default=300.0, help="seconds for a network to come up")
    add("--work-dir", type=Path, help="keep data directories here (default: a temp dir)")
    add("--out", type=Path, help="JSON path (default bench/results/<timestamp>.json)")
    add("--no-chart", action="store_true", help="skip the PNG chart")
    args = parser.parse_args(argv)
    if args.full:
        for key, value in FULL.items():
            setattr(args, key, value)
    _check(parser, args)
    return args


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if not PORT_LOW <= args.base_port <= PORT_HIGH + 1 - PORT_SPAN:
        parser.error(f"--base-port must leave its {PORT_SPAN} ports in {PORT_LOW}-{PORT_HIGH}")
    if min(args.bulk_reps, args.ttfb_reps, args.parallel, args.parallel_reps,
           args.rss_samples, args.concurrency) < 1:
        parser.error("repetition counts must be positive")
    if min(args.circ_reps, args.conns) < 0:
        parser.error("--circ-reps and --conns must not be negative")
    names = tuple(n.strip() for n in args.networks.split(",") if n.strip())
    if not names or any(n not in NAMES for n in names):
        parser.error(f"--networks takes a comma-separated subset of {','.join(NAMES)}")
    args.networks = names


def _plan(args: argparse.Namespace) -> Plan:
    return Plan(args.bulk_reps, args.ttfb_reps, args.circ_reps, args.parallel, args.conns,
                args.concurrency, args.parallel_reps, args.rss_samples, args.idle_settle)


def _failed(exc: BaseException) -> dict[str, Any]:
    return {"impls": {}, "figures": {}, "samples": {},
            "errors": [f"network did not come up: {type(exc).__name__}: {exc}"]}


def _measure(net: Network, served: Served, args: argparse.Namespace, say: Say,
             nets: Networks) -> dict[str, Any]:
    try:
        data = measure_network(net, served, _plan(args), say)
        if data["errors"]:
            data["log_tails"] = dict(log_tails(net))
        return data
    finally:
        nets.stop(net.name)


def _start(nets: Networks, name: str) -> Network | BaseException:
    try:
        return nets.start(name)
    except Exception as exc:  # noqa: BLE001 (recorded; the other networks go on)
        return exc


def run(args: argparse.Namespace, work_dir: Path, say: Say) -> dict[str, Any]:
    """Build, measure and stop every network; return the result dict."""
    files = {"1k.bin": 1024, "bulk.bin": int(args.bulk_mb * MIB),
             "par.bin": int(args.parallel_mb * MIB)}
    result: dict[str, Any] = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "fd_limit": loadgen.raise_fd_limit(),
        "units": {"MB": "10^6 bytes", "MiB": "2^20 bytes", "files": "MiB"}, "networks": {}}
    networks: dict[str, Any] = result["networks"]
    with FileServer(work_dir / "files", files) as server, \
            Networks(work_dir, args.base_port, args.timeout, say) as nets:
        served = Served(HOST, server.port, files)
        started = nets.start_all(args.networks) if args.start == "together" else {}
        for name in args.networks:
            net = started[name] if name in started else _start(nets, name)
            if isinstance(net, BaseException):
                networks[name] = _failed(net)
                continue
            networks[name] = _measure(net, served, args, say, nets)
        result["bootstrap_s"] = nets.timings
    result["ratios"] = report.ratios(networks)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bench; 0 if every figure was measured, 1 if some step failed."""
    args = parse_args(argv)

    def say(line: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or RESULTS_DIR / f"{stamp}.json"
    if args.work_dir is not None:
        args.work_dir.mkdir(parents=True, exist_ok=True)
        result = run(args, args.work_dir.resolve(), say)
    else:
        with tempfile.TemporaryDirectory(prefix="zwiebel-bench-") as tmp:
            result = run(args, Path(tmp), say)
    report.write_json(result, out)
    print(report.table(result))
    print(f"results: {out}")
    if not args.no_chart:
        print(report.chart(result, out.with_suffix(".png")))
    failed = any(data["errors"] for data in result["networks"].values())
    return 1 if failed else 0

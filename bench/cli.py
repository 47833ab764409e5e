"""``python -m bench``: build the network, measure every relay set, report.

Sizes default to a quick run (20 MiB bulk x3, 5 parallel x 5 MiB); issue 6's full
sizes are ``--bulk-mb 100 --parallel 20 --parallel-mb 20``. Ports: base .. base+199,
all inside 25000-25999.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import measure, procstat, report
from bench.measure import Results, Served, Target
from bench.networks import BenchNetwork
from zwiebel.testnet.fileserver import HOST, FileServer

PORT_LOW, PORT_HIGH = 25000, 25999
RESULTS_DIR = Path(__file__).resolve().parent / "results"
MIB = 1024 * 1024


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    add = parser.add_argument
    add("--bulk-mb", type=float, default=20, help="MiB per bulk download (default 20)")
    add("--bulk-reps", type=int, default=3, help="bulk downloads per network (median)")
    add("--ttfb-reps", type=int, default=10, help="1 KiB fetches per network (median)")
    add("--circ-reps", type=int, default=10, help="circuit builds per network (median)")
    add("--parallel", type=int, default=5, help="simultaneous downloads (default 5)")
    add("--parallel-mb", type=float, default=5, help="MiB per parallel download")
    add("--base-port", type=int, default=25000, help="first of 200 ports (25000-25800)")
    add("--work-dir", type=Path, help="keep data directories here (default: a temp dir)")
    add("--out", type=Path, help="JSON path (default bench/results/<timestamp>.json)")
    add("--no-chart", action="store_true", help="skip the PNG chart")
    args = parser.parse_args(argv)
    if not PORT_LOW <= args.base_port <= PORT_HIGH - 199:
        parser.error(f"--base-port must leave its 200 ports in {PORT_LOW}-{PORT_HIGH}")
    if min(args.bulk_reps, args.ttfb_reps, args.parallel) < 1 or args.circ_reps < 0:
        parser.error("repetition counts must be positive")
    return args


def measure_target(target: Target, served: Served, args: argparse.Namespace,
                   say: Callable[[str], None]) -> dict[str, Any]:
    """Every figure of one target; a failing step is recorded and the rest still runs."""
    out = Results()
    out.samples["path"] = list(target.path)
    idle = procstat.rss_snapshot(target.pids)
    steps: list[tuple[str, Callable[[], None]]] = [
        ("circuit builds", lambda: measure.circuit_builds(target, served, "1k.bin", args.circ_reps,
                                                        out)),
        ("ttfb", lambda: measure.ttfb(target, served, "1k.bin", args.ttfb_reps, out)),
        ("bulk", lambda: measure.bulk(target, served, "bulk.bin", args.bulk_reps, out)),
        ("parallel", lambda: measure.parallel(target, served, "par.bin", args.parallel, out)),
    ]
    say(f"{target.name}: warm-up fetch")
    try:
        out.samples["warmup_s"] = round(measure.get(target, served, "1k.bin", 150.0).seconds, 2)
    except OSError as exc:
        out.errors.append(f"warm-up: {exc}")
    for label, step in steps:
        say(f"{target.name}: {label}")
        t0 = time.monotonic()
        try:
            step()
        except (OSError, RuntimeError, AssertionError) as exc:
            out.errors.append(f"{label}: {exc}")
        out.samples[f"{label.replace(' ', '_')}_wall_s"] = round(time.monotonic() - t0, 2)
    after = procstat.rss_snapshot(target.pids)
    for role in target.pids:
        out.figures[f"rss_idle_mib.{role}"] = idle[role]
        out.figures[f"rss_after_mib.{role}"] = after[role]
    return {"figures": out.figures, "samples": out.samples, "errors": out.errors}


def run(args: argparse.Namespace, work_dir: Path, say: Callable[[str], None]) -> dict[str, Any]:
    """Build everything, measure tor then Zwiebel, return the result dict."""
    files = {"1k.bin": 1024, "bulk.bin": int(args.bulk_mb * MIB),
             "par.bin": int(args.parallel_mb * MIB)}
    result: dict[str, Any] = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "units": {"MB": "10^6 bytes", "files": "MiB"}, "networks": {}}
    with FileServer(work_dir / "files", files) as server, \
            BenchNetwork(work_dir, args.base_port, say) as bench:
        served = Served(HOST, server.port, files)
        result["tor_version"] = bench.net.tor_version
        result["bootstrap"] = {**bench.timings, **bench.net.timings}
        result["fingerprints"] = dict(bench.fingerprints)
        with bench.tor_attacher() as attacher:
            result["networks"]["tor"] = measure_target(bench.tor_target(), served, args, say)
        result["networks"]["tor"]["errors"] += attacher.errors
        result["networks"]["tor"]["samples"]["attach_warnings"] = attacher.warnings
        target = bench.zwiebel_target()
        result["networks"]["zwiebel"] = measure_target(target, served, args, say)
    result["ratios"] = report.ratios(result["networks"])
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

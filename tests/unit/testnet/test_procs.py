"""zwiebel.testnet.procs: PID records and stopping only processes that run our torrc."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from zwiebel.testnet.procs import pid_runs_torrc, read_pids, stop_recorded, write_pids

SLEEPER = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"


def test_pid_records_roundtrip(tmp_path: Path) -> None:
    records = {"auth0": (123, tmp_path / "auth0" / "torrc"), "client": (456, Path("/x y/t"))}
    write_pids(tmp_path / "pids", records)
    assert read_pids(tmp_path / "pids") == records
    assert read_pids(tmp_path / "absent") == {}


def _wait_exec(pid: int, torrc: Path) -> None:
    """A fresh child shows its own argv only once it has exec'd: wait (bounded) for it."""
    deadline = time.monotonic() + 10
    while not pid_runs_torrc(pid, torrc):
        assert time.monotonic() < deadline, "the child never exec'd"
        time.sleep(0.01)


def test_stop_recorded_kills_only_matching_processes(tmp_path: Path) -> None:
    torrc = tmp_path / "relay0" / "torrc"
    # Ignores SIGTERM, so stop_recorded must escalate to SIGKILL.
    ours = subprocess.Popen([sys.executable, "-c", SLEEPER, "-f", str(torrc)])
    other = subprocess.Popen([sys.executable, "-c", SLEEPER, "-f", str(tmp_path / "other")])
    try:
        _wait_exec(ours.pid, torrc)
        _wait_exec(other.pid, tmp_path / "other")
        assert pid_runs_torrc(ours.pid, torrc)
        assert not pid_runs_torrc(other.pid, torrc)
        write_pids(tmp_path / "pids", {"relay0": (ours.pid, torrc), "x": (other.pid, torrc)})
        assert stop_recorded(tmp_path / "pids", term_wait=0.5) == ["relay0"]
        assert ours.wait(timeout=5) != 0
        assert other.poll() is None
    finally:
        for proc in (ours, other):
            proc.kill()
            proc.wait(timeout=5)

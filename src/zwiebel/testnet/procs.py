"""Starting and stopping exactly the tor processes of one network.

Each tor runs in its own session (so a terminal's Ctrl-C reaches only the test
runner, which then stops the network) with stdout in ``DATADIR/stdout.log``.
Stopping is SIGTERM, a bounded wait, then SIGKILL: tor exits at once on SIGTERM
with ``ShutdownWaitLength 0``. The PIDs are also written to a ``pids`` file so that a
later run can stop leftovers of a crashed one; a recorded PID is only signalled if
``/proc/PID/cmdline`` still names that node's torrc.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

TERM_WAIT = 15.0
KILL_WAIT = 5.0


class TorProcess:
    """One tor process, started from a torrc file.

    ``tor`` is the tor binary, or a command taking tor's command line such as
    ``[python, "-m", "zwiebel"]``."""

    def __init__(self, tor: str | Sequence[str], torrc: Path, defaults_torrc: Path,
                 log_dir: Path) -> None:
        self.torrc = torrc
        command = [tor] if isinstance(tor, str) else list(tor)
        self.argv = [*command, "-f", str(torrc), "--defaults-torrc", str(defaults_torrc)]
        self._stdout = log_dir / "stdout.log"
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """PID of the current (or last) process, None if never started."""
        return self._popen.pid if self._popen is not None else None

    def start(self) -> int:
        """Start tor; return its PID. Refuses if this one is still running."""
        if self.alive():
            raise RuntimeError(f"tor for {self.torrc} is already running")
        with open(self._stdout, "ab") as out:
            self._popen = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, close_fds=True)
        return self._popen.pid

    def alive(self) -> bool:
        """True while the process runs (it is reaped once it exits)."""
        return self._popen is not None and self._popen.poll() is None

    def exit_code(self) -> int | None:
        """The exit status once it has exited, else None."""
        return self._popen.poll() if self._popen is not None else None

    def stop(self, term_wait: float = TERM_WAIT) -> None:
        """SIGTERM, wait up to ``term_wait`` s, then SIGKILL and wait again."""
        self.terminate()
        self.finish(term_wait)

    def terminate(self) -> None:
        """Send SIGTERM (if running) without waiting; ``finish`` waits."""
        if self.alive():
            self._signal(signal.SIGTERM)

    def finish(self, term_wait: float = TERM_WAIT) -> None:
        """Wait up to ``term_wait`` s for the exit, then SIGKILL."""
        if self.alive() and not self._wait(term_wait):
            self.kill()

    def kill(self) -> None:
        """SIGKILL now (a relay crash, as tests want it), then reap."""
        if not self.alive():
            return
        self._signal(signal.SIGKILL)
        if not self._wait(KILL_WAIT):
            raise RuntimeError(f"pid {self.pid} survived SIGKILL for {KILL_WAIT}s")

    def _signal(self, sig: signal.Signals) -> None:
        assert self._popen is not None
        with contextlib.suppress(ProcessLookupError):
            self._popen.send_signal(sig)

    def _wait(self, timeout: float) -> bool:
        assert self._popen is not None
        try:
            self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True


def write_pids(path: Path, pids: Mapping[str, tuple[int, Path]]) -> None:
    """Record ``name pid torrc`` per line (atomically replaced)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(f"{n} {pid} {torrc}\n" for n, (pid, torrc) in pids.items()))
    os.replace(tmp, path)


def read_pids(path: Path) -> dict[str, tuple[int, Path]]:
    """The records of ``write_pids``; an absent file gives {}."""
    if not path.exists():
        return {}
    out: dict[str, tuple[int, Path]] = {}
    for line in path.read_text().splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[1].isdigit():
            out[parts[0]] = (int(parts[1]), Path(parts[2]))
    return out


def pid_runs_torrc(pid: int, torrc: Path) -> bool:
    """True if ``pid`` is a live (non-zombie) process whose argv names ``torrc``."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[-1].split()[:1]
    if state and state[0] in ("Z", "X"):
        return False
    return str(torrc).encode() in argv


def stop_recorded(path: Path, term_wait: float = TERM_WAIT) -> list[str]:
    """Stop the recorded tor processes that still run their torrc; return their names."""
    return stop_pids(read_pids(path), term_wait)


def stop_pids(records: Mapping[str, tuple[int, Path]], term_wait: float = TERM_WAIT) -> list[str]:
    """Stop those of ``records`` (name -> (pid, torrc)) that still run their torrc:
    SIGTERM, a bounded wait, SIGKILL. Returns the names that were running."""
    live = {n: (pid, t) for n, (pid, t) in records.items() if pid_runs_torrc(pid, t)}
    for pid, _ in live.values():
        _send(pid, signal.SIGTERM)
    _wait_gone(live, term_wait)
    for pid, torrc in live.values():
        if pid_runs_torrc(pid, torrc):
            _send(pid, signal.SIGKILL)
    _wait_gone(live, KILL_WAIT)
    return sorted(live)


def _send(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _wait_gone(procs: Mapping[str, tuple[int, Path]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while any(pid_runs_torrc(pid, t) for pid, t in procs.values()):
        if time.monotonic() > deadline:
            return
        time.sleep(0.1)

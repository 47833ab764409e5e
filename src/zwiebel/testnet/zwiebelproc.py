"""Running a Zwiebel daemon as a subprocess and waiting on its log lines.

Used by `zwiebel testnet` and by the interop tests.

The log goes to stdout at the level asked for; a reader thread keeps every line so a
test can wait, with a bound, for a line matching a pattern (never a fixed sleep).
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType


class ZwiebelProcess:
    """`python -m zwiebel -f TORRC` with the given torrc lines."""

    def __init__(self, data_dir: Path, torrc_lines: Sequence[str], log_level: str = "info",
                 socks_port: int = 0) -> None:
        self.data_dir = data_dir
        self.socks_port = socks_port
        self.torrc = data_dir.parent / f"{data_dir.name}.torrc"
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._proc: subprocess.Popen[str] | None = None
        body = [f"DataDirectory {data_dir}", f"Log {log_level} stdout", *torrc_lines]
        self.torrc.write_text("\n".join(body) + "\n")

    def start(self) -> ZwiebelProcess:
        """Start the process and the log reader."""
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "zwiebel", "-f", str(self.torrc)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_for(self, pattern: str, timeout: float = 90.0, start: int = 0) -> re.Match[str]:
        """The first log line from index `start` on that matches `pattern`."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines[start:]:
                    found = regex.search(line)
                    if found:
                        return found
                left = deadline - time.monotonic()
                if left <= 0 or (self._proc is not None and self._proc.poll() is not None
                                 and not any(regex.search(x) for x in self.lines[start:])):
                    tail = "\n".join(self.lines[-40:])
                    raise AssertionError(f"no log line matching {pattern!r}; log tail:\n{tail}")
                self._cond.wait(min(left, 0.5))

    def matches(self, pattern: str, start: int = 0) -> list[re.Match[str]]:
        """Every log line from `start` on that matches `pattern`."""
        regex = re.compile(pattern)
        with self._cond:
            found = [regex.search(line) for line in self.lines[start:]]
        return [m for m in found if m]

    @property
    def returncode(self) -> int | None:
        """The exit status once the process ended."""
        return None if self._proc is None else self._proc.poll()

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, wait, SIGKILL if needed; returns the exit status."""
        if self._proc is None:
            return 0
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout)
        return self._proc.returncode

    def __enter__(self) -> ZwiebelProcess:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None,
                 exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

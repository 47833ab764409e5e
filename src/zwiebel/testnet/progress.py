"""A one-line progress bar for ``zwiebel testnet up`` and ``demo``.

The start-up has five phases, each owning a slice of the bar: keys (0-10%),
authorities up (10-20%), the consensus listing every relay (20-60%, by the share
of relays listed), every real tor relay holding that directory (60-70%) and every
client bootstrapped (70-100%, by the slowest client's bootstrap progress). On a
terminal the line is redrawn in place; when the output is a file or pipe a new line
is printed only when the phase or the percentage changes, so logs stay short.
"""

from __future__ import annotations

import sys
from typing import TextIO

WIDTH = 30
#: phase -> (first percent, last percent) of the whole bar.
PHASES: dict[str, tuple[int, int]] = {
    "keys": (0, 10),
    "authorities": (10, 20),
    "consensus": (20, 60),
    "directory": (60, 70),
    "clients": (70, 100),
}


def bar(percent: int, width: int = WIDTH) -> str:
    """``[#####.....]  50%``."""
    percent = max(0, min(100, percent))
    filled = width * percent // 100
    return "[" + "#" * filled + "." * (width - filled) + f"] {percent:3d}%"


def overall(phase: str, fraction: float) -> int:
    """Percent of the whole start-up when ``phase`` is ``fraction`` (0..1) done."""
    low, high = PHASES[phase]
    return low + round((high - low) * max(0.0, min(1.0, fraction)))


class ProgressBar:
    """Draws ``PREFIX [###...]  NN% phase: detail`` on ``out``."""

    def __init__(self, out: TextIO | None = None, prefix: str = "  network  ",
                 tty: bool | None = None) -> None:
        self._out = out if out is not None else sys.stdout
        self._prefix = prefix
        self._tty = self._out.isatty() if tty is None else tty
        self._last: tuple[str, int] | None = None
        self._width = 0

    def update(self, phase: str, fraction: float, detail: str) -> None:
        """Show ``phase`` at ``fraction`` (0..1) with a short ``detail`` text."""
        percent = overall(phase, fraction)
        line = f"{self._prefix}{bar(percent)} {phase}: {detail}"
        if self._tty:
            pad = max(0, self._width - len(line))
            self._out.write("\r" + line + " " * pad)
            self._width = len(line)
        elif self._last != (phase, percent):
            self._out.write(line + "\n")
        self._last = (phase, percent)
        self._out.flush()

    def finish(self, text: str) -> None:
        """End the bar (newline on a terminal) and print ``text`` on its own line."""
        if self._tty and self._width:
            self._out.write("\n")
        self._width = 0
        self._out.write(f"{self._prefix}{text}\n")
        self._out.flush()

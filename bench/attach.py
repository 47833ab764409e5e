"""Pinning a real tor client's streams to one path by controller (control-spec.txt 3.10,
3.13 ATTACHSTREAM, 4.1.1 CIRC and 4.1.2 STREAM events; tor.1.txt
__LeaveStreamsUnattached and __DisablePredictedCircuits).

Why: with EntryNodes/MiddleNodes/ExitNodes pins in this small shared network, tor's
own path selection kept failing (internal circuits: "Restricted middle not
available"; after relays joined: "consensus has no exit nodes") and left streams
unattached for seconds. The attacher keeps one spare circuit built through the path
with EXTENDCIRCUIT and gives every new stream a circuit of its own, as tor gives a
fresh SOCKS username a pre-built one.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from zwiebel.testnet.torcontrol import ControlError, TorControl

POLL = 0.1
SPARE = 1


class StreamAttacher:
    """A thread that attaches each new stream of the client to a fresh circuit on ``path``."""

    def __init__(self, port: int, cookie: Path, path: Sequence[str]) -> None:
        self._ctl = TorControl.connect(port, cookie, timeout=30.0)
        self._path = ",".join("$" + fp for fp in path)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stream-attacher", daemon=True)
        self._building: set[str] = set()
        self._ready: deque[str] = deque()
        self._waiting: deque[str] = deque()
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def __enter__(self) -> StreamAttacher:
        self._ctl.setconf([("__LeaveStreamsUnattached", "1"),
                           ("__DisablePredictedCircuits", "1")])
        self._ctl.setevents(["STREAM", "CIRC"])
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None,
                 exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(30.0)
        self._ctl.close()

    def _run(self) -> None:
        try:
            self._launch()
            while not self._stop.is_set():
                event = self._ctl.next_event(POLL)
                if event is not None:
                    self._handle(event.text().split())
                self._attach()
                self._launch()
        except ControlError as exc:
            self.errors.append(str(exc))

    def _handle(self, words: list[str]) -> None:
        if len(words) < 3:
            return
        kind, ident, status = words[0], words[1], words[2]
        if kind == "STREAM" and status in ("NEW", "DETACHED"):
            self._waiting.append(ident)
        elif kind == "CIRC" and ident in self._building:
            if status == "BUILT":
                self._building.discard(ident)
                self._ready.append(ident)
            elif status in ("FAILED", "CLOSED"):
                self._building.discard(ident)

    def _attach(self) -> None:
        while self._waiting and self._ready:
            stream, circuit = self._waiting.popleft(), self._ready.popleft()
            try:
                self._ctl.command(f"ATTACHSTREAM {stream} {circuit}")
            except ControlError as exc:
                # The stream is gone or attached already (the fetch itself reports real
                # failures); a circuit that was not the problem stays available.
                self.warnings.append(f"stream {stream} on circuit {circuit}: {exc}")
                if "not managed by controller" in str(exc):
                    self._ready.appendleft(circuit)

    def _launch(self) -> None:
        while len(self._building) + len(self._ready) < len(self._waiting) + SPARE:
            words = self._ctl.command("EXTENDCIRCUIT 0 " + self._path).text().split()
            if len(words) != 2 or words[0] != "EXTENDED":
                raise ControlError(f"unexpected EXTENDCIRCUIT reply {' '.join(words)!r}")
            self._building.add(words[1])

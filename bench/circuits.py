"""Circuit build time, timed from a client's CIRC events.

control-spec.txt 3.10 (EXTENDCIRCUIT 0 with a path), 4.1.1 (CIRC events), 3.11
(CLOSECIRCUIT). The bench asks the client for a circuit through a fixed path
(guard, middle, exit: the same node names in every network) and takes the time
from receiving the circuit's ``CIRC <id> LAUNCHED`` event to receiving its
``CIRC <id> BUILT`` event, the same way for tor and Zwiebel. The circuit is
closed afterwards so that it serves no later fetch.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from pathlib import Path

from zwiebel.testnet.torcontrol import ControlError, TorControl

BUILD_TIMEOUT = 30.0
DESCRIPTOR_WAIT = 30.0


def _await_built(ctl: TorControl, circ_id: str, deadline: float) -> float:
    """Seconds from the LAUNCHED to the BUILT event of ``circ_id``."""
    launched: float | None = None
    while (left := deadline - time.monotonic()) > 0:
        event = ctl.next_event(left)
        now = time.monotonic()
        if event is None:
            break
        words = event.text().split()
        if len(words) < 3 or words[0] != "CIRC" or words[1] != circ_id:
            continue
        if words[2] == "LAUNCHED":
            launched = now
        elif words[2] == "BUILT":
            if launched is None:
                raise ControlError(f"circuit {circ_id} BUILT without a LAUNCHED event")
            return now - launched
        elif words[2] in ("FAILED", "CLOSED"):
            raise ControlError(f"circuit {circ_id} {words[2]}: {event.text()}")
    raise ControlError(f"circuit {circ_id} not built within {BUILD_TIMEOUT}s")


def _extend(ctl: TorControl, path: Sequence[str]) -> str:
    """EXTENDCIRCUIT 0 through ``path``; the reply text. A client that lacks a path
    relay's descriptor yet (a tor client bootstraps with most, not all, microdescriptors)
    answers "552 No descriptor for ...": the command is repeated until DESCRIPTOR_WAIT
    has passed. The build is timed from its LAUNCHED event, so this wait is not counted."""
    line = "EXTENDCIRCUIT 0 " + ",".join("$" + fp for fp in path)
    deadline = time.monotonic() + DESCRIPTOR_WAIT
    while True:
        try:
            return ctl.command(line).text()
        except ControlError as exc:
            if "No descriptor" not in str(exc) or time.monotonic() > deadline:
                raise
        ctl.next_event(0.5)


def build_once(ctl: TorControl, path: Sequence[str]) -> float:
    """Build one circuit through ``path`` (fingerprints); seconds LAUNCHED->BUILT."""
    text = _extend(ctl, path)
    words = text.split()
    if len(words) != 2 or words[0] != "EXTENDED":
        raise ControlError(f"unexpected EXTENDCIRCUIT reply {text!r}")
    try:
        return _await_built(ctl, words[1], time.monotonic() + BUILD_TIMEOUT)
    finally:
        with contextlib.suppress(ControlError, OSError):
            ctl.command(f"CLOSECIRCUIT {words[1]}")


def build_times(port: int, cookie: Path, path: Sequence[str], reps: int) -> list[float]:
    """``reps`` circuit builds through ``path`` on the client's control port, seconds."""
    with TorControl.connect(port, cookie, timeout=BUILD_TIMEOUT) as ctl:
        ctl.setevents(["CIRC"])
        return [build_once(ctl, path) for _ in range(reps)]

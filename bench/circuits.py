"""Circuit build time through a fixed path, timed on a client's control port.

control-spec.txt 3.10 (EXTENDCIRCUIT 0 with a path), 4.1.1 (CIRC events), 3.11
(CLOSECIRCUIT). ``build_once``: from sending EXTENDCIRCUIT until the circuit's
``CIRC <id> BUILT`` event (real tor). ``observed_build``, for a client without
EXTENDCIRCUIT (Zwiebel so far): a fresh-username fetch makes the client build a
circuit of its own accord; the time runs from receiving its ``LAUNCHED`` event to
receiving its ``BUILT`` event.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from zwiebel.testnet.torcontrol import ControlError, TorControl

BUILD_TIMEOUT = 30.0


def _wait_built(ctl: TorControl, circ_id: str, deadline: float) -> None:
    while (left := deadline - time.monotonic()) > 0:
        event = ctl.next_event(left)
        if event is None:
            break
        words = event.text().split()
        if len(words) < 3 or words[0] != "CIRC" or words[1] != circ_id:
            continue
        if words[2] == "BUILT":
            return
        if words[2] in ("FAILED", "CLOSED"):
            raise ControlError(f"circuit {circ_id} {words[2]}: {event.text()}")
    raise ControlError(f"circuit {circ_id} not built within {BUILD_TIMEOUT}s")


def build_once(port: int, cookie: Path, path: Sequence[str]) -> float:
    """Build one circuit through ``path`` (fingerprints); return seconds; close it."""
    with TorControl.connect(port, cookie) as ctl:
        ctl.setevents(["CIRC"])
        start = time.monotonic()
        reply = ctl.command("EXTENDCIRCUIT 0 " + ",".join("$" + fp for fp in path))
        words = reply.text().split()
        if len(words) != 2 or words[0] != "EXTENDED":
            raise ControlError(f"unexpected EXTENDCIRCUIT reply {reply.text()!r}")
        _wait_built(ctl, words[1], start + BUILD_TIMEOUT)
        elapsed = time.monotonic() - start
        with contextlib.suppress(ControlError):
            ctl.command(f"CLOSECIRCUIT {words[1]}")
    return elapsed


def observed_build(port: int, cookie: Path, trigger: Callable[[], object]) -> float:
    """Run ``trigger`` in a thread; seconds from the first LAUNCHED to its BUILT event."""
    with TorControl.connect(port, cookie) as ctl:
        ctl.setevents(["CIRC"])
        thread = threading.Thread(target=_quietly, args=(trigger,), daemon=True)
        thread.start()
        launched: dict[str, float] = {}
        deadline = time.monotonic() + BUILD_TIMEOUT
        while (left := deadline - time.monotonic()) > 0:
            event = ctl.next_event(left)
            now = time.monotonic()
            if event is None:
                break
            words = event.text().split()
            if len(words) < 3 or words[0] != "CIRC":
                continue
            if words[2] == "LAUNCHED":
                launched[words[1]] = now
            elif words[2] == "BUILT" and words[1] in launched:
                thread.join(BUILD_TIMEOUT)
                return now - launched[words[1]]
    raise ControlError(f"no circuit launched and built within {BUILD_TIMEOUT}s")


def _quietly(trigger: Callable[[], object]) -> None:
    with contextlib.suppress(OSError):
        trigger()


Timer = Callable[[Callable[[], object]], float]


def builder(port: int, cookie: Path, path: Sequence[str]) -> Timer:
    """Timer for ``measure.Target.circuit_build`` by EXTENDCIRCUIT (ignores the trigger)."""
    fixed = tuple(path)
    return lambda trigger: build_once(port, cookie, fixed)


def observer(port: int, cookie: Path) -> Timer:
    """Timer for ``measure.Target.circuit_build`` by watching client-initiated builds."""
    return lambda trigger: observed_build(port, cookie, trigger)

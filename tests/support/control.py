"""Control-port conveniences for tests, on top of zwiebel.testnet.torcontrol."""

from __future__ import annotations

import time
from collections.abc import Callable

from zwiebel.testnet.nodes import TorNode
from zwiebel.testnet.torcontrol import ControlError, Reply, TorControl

__all__ = ["ControlError", "Reply", "TorControl", "open_control", "wait_for_event",
           "circuit_status"]


def open_control(node: TorNode, timeout: float = 10.0) -> TorControl:
    """An authenticated control connection to ``node`` (use it as a context manager)."""
    return TorControl.connect(node.control_port, node.cookie_path, timeout)


def wait_for_event(ctl: TorControl, matches: Callable[[Reply], bool],
                   timeout: float) -> Reply:
    """The first event (after SETEVENTS) for which ``matches`` is true; AssertionError
    if none arrives within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        event = ctl.next_event(left)
        if event is not None and matches(event):
            return event
    raise AssertionError(f"no matching control event within {timeout}s")


def circuit_status(ctl: TorControl) -> list[str]:
    """The lines of GETINFO circuit-status (one circuit per line)."""
    return [line for line in ctl.getinfo_one("circuit-status").splitlines() if line]

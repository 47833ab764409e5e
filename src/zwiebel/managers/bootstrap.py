"""Bootstrap progress as tor reports it (control-spec 5.5 "Bootstrap phases").

The phases, tags and summaries are tor 0.4.9's, so log lines read
``Bootstrapped 100% (done): Done`` exactly as an operator expects, and the control
port can answer ``GETINFO status/bootstrap-phase`` from `BootstrapState.phase_line`.
Progress only moves forward, as in tor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum


class Phase(IntEnum):
    """Bootstrap percentages with tor's names (control_events.h)."""

    STARTING = 0
    CONN = 5
    CONN_DONE = 10
    HANDSHAKE = 14
    HANDSHAKE_DONE = 15
    ONEHOP_CREATE = 20
    REQUESTING_STATUS = 25
    LOADING_STATUS = 30
    LOADING_KEYS = 40
    REQUESTING_DESCRIPTORS = 45
    LOADING_DESCRIPTORS = 50
    ENOUGH_DIRINFO = 75
    AP_CONN = 80
    AP_CONN_DONE = 85
    AP_HANDSHAKE = 89
    AP_HANDSHAKE_DONE = 90
    CIRCUIT_CREATE = 95
    DONE = 100


_TEXT: dict[Phase, tuple[str, str]] = {
    Phase.STARTING: ("starting", "Starting"),
    Phase.CONN: ("conn", "Connecting to a relay"),
    Phase.CONN_DONE: ("conn_done", "Connected to a relay"),
    Phase.HANDSHAKE: ("handshake", "Handshaking with a relay"),
    Phase.HANDSHAKE_DONE: ("handshake_done", "Handshake with a relay done"),
    Phase.ONEHOP_CREATE: ("onehop_create", "Establishing an encrypted directory connection"),
    Phase.REQUESTING_STATUS: ("requesting_status", "Asking for networkstatus consensus"),
    Phase.LOADING_STATUS: ("loading_status", "Loading networkstatus consensus"),
    Phase.LOADING_KEYS: ("loading_keys", "Loading authority key certs"),
    Phase.REQUESTING_DESCRIPTORS: ("requesting_descriptors", "Asking for relay descriptors"),
    Phase.LOADING_DESCRIPTORS: ("loading_descriptors", "Loading relay descriptors"),
    Phase.ENOUGH_DIRINFO: ("enough_dirinfo", "Loaded enough directory info to build circuits"),
    Phase.AP_CONN: ("ap_conn", "Connecting to a relay to build circuits"),
    Phase.AP_CONN_DONE: ("ap_conn_done", "Connected to a relay to build circuits"),
    Phase.AP_HANDSHAKE: ("ap_handshake", "Finishing handshake with a relay to build circuits"),
    Phase.AP_HANDSHAKE_DONE: (
        "ap_handshake_done", "Handshake finished with a relay to build circuits"
    ),
    Phase.CIRCUIT_CREATE: ("circuit_create", "Establishing a Tor circuit"),
    Phase.DONE: ("done", "Done"),
}


@dataclass
class BootstrapState:
    """The furthest phase reached; `on_change` receives each new log line."""

    phase: Phase = Phase.STARTING
    on_change: Callable[[str], None] | None = None

    def reach(self, phase: Phase) -> bool:
        """Advance to `phase` if it is further than the current one; True if it moved."""
        if phase <= self.phase:
            return False
        self.phase = phase
        self.announce()
        return True

    def announce(self) -> None:
        """Report the current phase (the daemon calls this once for 0% at start)."""
        if self.on_change is not None:
            self.on_change(self.log_line())

    @property
    def tag(self) -> str:
        """The phase's tag, e.g. "done"."""
        return _TEXT[self.phase][0]

    @property
    def summary(self) -> str:
        """The phase's summary, e.g. "Done"."""
        return _TEXT[self.phase][1]

    def log_line(self) -> str:
        """``Bootstrapped N% (tag): Summary`` as tor logs it."""
        return f"Bootstrapped {int(self.phase)}% ({self.tag}): {self.summary}"

    def phase_line(self) -> str:
        """The value of ``GETINFO status/bootstrap-phase`` (control-spec 5.5)."""
        progress = f"PROGRESS={int(self.phase)} TAG={self.tag}"
        return f'NOTICE BOOTSTRAP {progress} SUMMARY="{self.summary}"'

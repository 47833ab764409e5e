"""What the control port needs from the running daemon.

The daemon (``zwiebel.app.daemon.Daemon``) satisfies :class:`ControlHost`; tests can
pass a small fake. The control feature reads the managers, replaces ``options`` after
SETCONF/RESETCONF/LOADCONF/RELOAD, and asks the daemon to stop for SHUTDOWN/HALT.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from zwiebel.config import Options
from zwiebel.managers.bootstrap import BootstrapState
from zwiebel.managers.channels import ChannelManager
from zwiebel.managers.circuits import CircuitManager
from zwiebel.managers.directory import DirectoryManager
from zwiebel.managers.events import EventBus


class ControlHost(Protocol):
    """The daemon as the control port sees it."""

    options: Options
    bootstrap: BootstrapState
    directory: DirectoryManager
    circuits: CircuitManager
    channels: ChannelManager
    events: EventBus

    def socks_addresses(self) -> list[str]:
        """``addr:port`` of every open SocksPort."""

    def request_stop(self) -> None:
        """Shut the daemon down (SIGNAL SHUTDOWN/HALT)."""

    def reload_config(self) -> bool:
        """Re-read the torrc as SIGHUP does (SIGNAL RELOAD); False if it was refused."""


@dataclass(frozen=True)
class HostInfo:
    """Facts fixed at start-up: torrc path, start time, the password checker.

    ``verify_password(password, hashed)`` checks a HashedControlPassword value; it is
    passed in because tor's S2K lives in the application layer.
    """

    config_file: str | None
    started_at: float
    verify_password: Callable[[bytes, str], bool]
    defaults_file: str | None = None

"""Bounded waiting for a private network to reach a state.

Everything here polls a condition at a short interval until it holds or an overall
deadline passes; nothing sleeps a fixed time hoping the network is ready. Each
condition returns None when met, otherwise a short text saying what is still
missing, which ends up in the timeout error.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from zwiebel.testnet.dirpoll import (
    count_descriptors,
    fetch_consensus_entries,
    missing_relays,
    parse_status_entries,
)
from zwiebel.testnet.torcontrol import ControlError, TorControl

POLL_INTERVAL = 0.5

Condition = Callable[[], str | None]


class NetworkError(RuntimeError):
    """The network did not come up (or a tor died); the message says why."""


def wait_for(condition: Condition, deadline: float, what: str,
             health: Callable[[], None] = lambda: None,
             interval: float = POLL_INTERVAL) -> float:
    """Poll ``condition`` until it returns None; return the seconds waited.

    ``deadline`` is a time.monotonic() value. ``health`` is called before each
    poll and raises NetworkError when a process the wait depends on has died.
    """
    start = time.monotonic()
    while True:
        health()
        missing = condition()
        if missing is None:
            return time.monotonic() - start
        if time.monotonic() >= deadline:
            raise NetworkError(f"timed out waiting for {what}: {missing}")
        time.sleep(min(interval, max(deadline - time.monotonic(), 0.0)))


def authority_has_consensus(dir_port: int, wanted: Mapping[str, frozenset[str]]) -> str | None:
    """None once the authority's DirPort serves a consensus listing ``wanted``."""
    entries = fetch_consensus_entries(dir_port)
    if entries is None:
        return f"no consensus yet on DirPort {dir_port}"
    missing = missing_relays(entries, wanted)
    return f"DirPort {dir_port} consensus lacks {missing}" if missing else None


def node_directory_complete(port: int, cookie: Path, wanted: Mapping[str, frozenset[str]],
                            need_descs: bool, need_mds: bool) -> str | None:
    """None once a tor's control port shows a consensus listing ``wanted`` and,
    as asked, a server descriptor and/or microdescriptor for each of them."""
    try:
        with TorControl.connect(port, cookie, timeout=5.0) as ctl:
            entries = parse_status_entries(ctl.getinfo_one("ns/all"))
            missing = missing_relays(entries, wanted)
            if missing:
                return f"control port {port}: consensus lacks {missing}"
            keys = ["desc/all-recent"] if need_descs else []
            keys += ["md/all"] if need_mds else []
            values = ctl.getinfo(*keys) if keys else {}
    except (OSError, ControlError) as exc:
        return f"control port {port}: {exc}"
    descs, mds = count_descriptors(values.get("desc/all-recent", ""), values.get("md/all", ""))
    want = len(wanted)
    if (need_descs and descs < want) or (need_mds and mds < want):
        return f"control port {port}: {descs} descriptors, {mds} microdescriptors of {want}"
    return None


def nudge(port: int, cookie: Path) -> None:
    """``SIGNAL RELOAD`` (same as SIGHUP): tor resets its directory download
    back-off and fetches at once (do_hup in tor's main.c). Errors are ignored;
    the next poll reports the state anyway."""
    try:
        with TorControl.connect(port, cookie, timeout=5.0) as ctl:
            ctl.command("SIGNAL RELOAD")
    except (OSError, ControlError):
        return


class Nudger:
    """Rate-limited ``nudge`` of a node that a poll found behind.

    Early 404s and 304s (no consensus yet, or no newer one) push a tor's
    directory fetches onto an exponential back-off, so a relay can lag the
    authority by half a minute. The first nudge comes ``after`` seconds into the
    wait, then at most every ``every`` seconds.
    """

    def __init__(self, port: int, cookie: Path, after: float = 3.0, every: float = 5.0) -> None:
        self._target = (port, cookie)
        self._every = every
        self._next = time.monotonic() + after
        self.count = 0

    def behind(self) -> None:
        """Called when a poll found the node incomplete."""
        now = time.monotonic()
        if now >= self._next:
            nudge(*self._target)
            self.count += 1
            self._next = now + self._every


def bootstrap_progress(port: int, cookie: Path) -> tuple[int, str]:
    """A tor's bootstrap progress (0..100) and phase line (control-spec 4.1.10)."""
    with TorControl.connect(port, cookie, timeout=5.0) as ctl:
        phase = ctl.getinfo_one("status/bootstrap-phase")
    match = re.search(r"PROGRESS=(\d+)", phase)
    return (int(match.group(1)) if match else 0), phase


def client_bootstrapped(port: int, cookie: Path) -> str | None:
    """None once ``GETINFO status/bootstrap-phase`` reports PROGRESS=100."""
    try:
        progress, phase = bootstrap_progress(port, cookie)
    except (OSError, ControlError) as exc:
        return f"control port {port}: {exc}"
    return None if progress >= 100 else f"bootstrap: {phase}"


def all_of(*conditions: Condition) -> Condition:
    """A condition met when every one of ``conditions`` is; each poll checks them
    all (so each can react, e.g. nudge its node) and reports everything missing."""
    def check() -> str | None:
        missing = [m for m in (c() for c in conditions) if m is not None]
        return "; ".join(missing) if missing else None
    return check


def port_free(host: str, port: int) -> bool:
    """True if ``port`` can be bound on ``host`` (with SO_REUSEADDR, as tor does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


#: Seconds to wait for a network's ports to be free (a previous run's sockets closing).
PORT_WAIT = 30.0


def wait_ports_free(host: str, ports: Iterable[int], timeout: float = PORT_WAIT) -> None:
    """Bounded wait until every port can be bound on ``host``; NetworkError if not."""
    wanted = list(ports)

    def free() -> str | None:
        busy = [p for p in wanted if not port_free(host, p)]
        return f"ports in use on {host}: {busy}" if busy else None

    wait_for(free, time.monotonic() + timeout, "the network's ports")

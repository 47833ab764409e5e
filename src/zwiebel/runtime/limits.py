"""File-descriptor limits: raise them at start, and survive running out of them.

tor's ``set_max_file_descriptors`` (``src/lib/process/restrict.c``) raises the soft
RLIMIT_NOFILE to the hard limit before the listeners open, and refuses to start when
the hard limit is below ConnLimit (tor keeps ``ULIMIT_BUFFER`` = 32 descriptors in
reserve, so ConnLimit must be at least 32). :func:`plan_fd_limit` is that decision as
a pure function; :func:`raise_fd_limit` applies it.

When ``accept()`` fails with EMFILE/ENFILE (or ENOBUFS/ENOMEM), asyncio's selector loop
stops reading that listener for one second (``ACCEPT_RETRY_DELAY``) and reports the
error to the loop's exception handler; it neither spins nor closes the listener, and
the connections already open keep being served. :class:`AcceptGuard` is that exception
handler: it turns asyncio's report into ONE warning, naming the limit and the fix,
rate-limited like tor's ``warn_about_resource_exhaution`` (once per six hours), and
counts the refusals for the control port. Every other report goes to the previous
handler. Installing it on the loop covers every listener at once (ORPort, SocksPort,
ControlPort), so the listener code needs no wrapper of its own.

Not here: the connections waiting in the kernel's backlog are neither accepted nor
closed while descriptors are short (tor behaves the same); they are accepted once
descriptors free up, or time out at the client.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("zwiebel")

#: Descriptors tor keeps beyond ConnLimit for files, logs and the like (restrict.c).
ULIMIT_BUFFER = 32
#: tor's WARN_TOO_MANY_CONNS_INTERVAL: at most one resource warning per six hours.
WARN_INTERVAL = 6 * 60 * 60.0
#: accept() errors that mean "out of descriptors or buffers" (tor's ERRNO_IS_RESOURCE_LIMIT,
#: and the set asyncio pauses a listener for).
RESOURCE_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


class LimitError(Exception):
    """The file-descriptor limit cannot satisfy ConnLimit; start-up must stop."""


@dataclass(frozen=True)
class FdLimit:
    """The RLIMIT_NOFILE values before and after start-up raised them."""

    soft_before: int
    soft: int
    hard: int

    @property
    def max_sockets(self) -> int:
        """Descriptors usable for connections (tor's ``ConnLimit_``)."""
        return max(self.soft - ULIMIT_BUFFER, 0)


def _shown(value: int) -> str:
    return "unlimited" if value == resource.RLIM_INFINITY else str(value)


def plan_fd_limit(conn_limit: int, soft: int, hard: int) -> int:
    """The soft limit to set for ``conn_limit`` given the current (soft, hard) limits.

    Raises :class:`LimitError` with tor's message when ConnLimit is below the reserve
    or above the hard limit. An unlimited hard limit keeps the current soft limit if it
    already covers ConnLimit (Linux refuses an unlimited NOFILE), else ConnLimit.
    """
    if conn_limit < ULIMIT_BUFFER:
        raise LimitError(f"ConnLimit must be at least {ULIMIT_BUFFER}. Failing.")
    if hard != resource.RLIM_INFINITY and hard < conn_limit:
        raise LimitError(f"We need {conn_limit} file descriptors available, and we're "
                         f"limited to {hard}. Please change your ulimit -n.")
    if hard == resource.RLIM_INFINITY:
        return soft if soft == hard or soft >= conn_limit else conn_limit
    return hard


def raise_fd_limit(conn_limit: int) -> FdLimit:
    """Raise the soft RLIMIT_NOFILE as tor does at start; raises :class:`LimitError`."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = plan_fd_limit(conn_limit, soft, hard)
    if target != soft:
        log.info("Raising max file descriptors from %s to %s.", _shown(soft), _shown(target))
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (OSError, ValueError) as exc:
            log.warning("Couldn't set maximum number of file descriptors: %s", exc)
            target = soft
    return FdLimit(soft, target, hard)


def current_fd_limit() -> int:
    """The soft RLIMIT_NOFILE now (GETINFO process/descriptor-limit)."""
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def resource_warning(where: str, error: str, limit: int) -> str:
    """The one warning an operator sees when accept() runs out of descriptors."""
    return (f"Failing to accept new connections on {where}: {error}. This process may "
            f"open {limit} file descriptors (RLIMIT_NOFILE). Open connections keep being "
            "served; new ones wait until descriptors free up. To fix it, raise the limit: "
            "'ulimit -n' in the shell that starts Zwiebel, or LimitNOFILE= in its systemd "
            "unit (see tor's doc/TUNING).")


ExceptionHandler = Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object]


class AcceptGuard:
    """The loop's exception handler for accept() running out of descriptors."""

    def __init__(self, previous: ExceptionHandler | None = None,
                 interval: float = WARN_INTERVAL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._previous = previous
        self._interval = interval
        self._clock = clock
        self._warned_at: float | None = None
        self._suppressed = 0
        #: accept() failures seen since start (each pauses one listener for a second).
        self.refusals = 0

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in RESOURCE_ERRNOS \
                and "accept" in str(context.get("message", "")):
            self.note(_where(context.get("socket")), exc.strerror or str(exc))
            return
        if self._previous is not None:
            self._previous(loop, context)
        else:
            loop.default_exception_handler(context)

    def note(self, where: str, error: str) -> bool:
        """Count one refusal; True if the warning was logged now (else rate-limited)."""
        self.refusals += 1
        now = self._clock()
        if self._warned_at is not None and now - self._warned_at < self._interval:
            self._suppressed += 1
            return False
        message = resource_warning(where, error, current_fd_limit())
        if self._suppressed:
            message += f" [{self._suppressed} similar message(s) suppressed]"
        log.warning("%s", message)
        self._warned_at, self._suppressed = now, 0
        return True


def _where(sock: object) -> str:
    """``host:port`` of the listening socket asyncio named, if it can tell."""
    try:
        name = sock.getsockname()  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return "a listener"
    if isinstance(name, tuple) and len(name) >= 2:
        return f"{name[0]}:{name[1]}"
    return str(name) or "a listener"


def install_accept_guard(loop: asyncio.AbstractEventLoop) -> AcceptGuard:
    """Make :class:`AcceptGuard` the loop's exception handler (chaining the old one)."""
    guard = AcceptGuard(loop.get_exception_handler())
    loop.set_exception_handler(guard)
    return guard

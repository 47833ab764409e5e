"""File-descriptor limits (zwiebel.runtime.limits): tor's set_max_file_descriptors
decisions and the rate-limited accept() warning."""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
from typing import Any

import pytest

from zwiebel.runtime.limits import AcceptGuard, LimitError, plan_fd_limit

INF = resource.RLIM_INFINITY


def test_soft_limit_is_raised_to_the_hard_one() -> None:
    assert plan_fd_limit(1000, 1024, 524288) == 524288


def test_conn_limit_below_the_reserve_fails() -> None:
    with pytest.raises(LimitError, match="ConnLimit must be at least 32"):
        plan_fd_limit(31, 1024, 4096)


def test_hard_limit_below_conn_limit_fails_with_tors_message() -> None:
    with pytest.raises(LimitError, match="We need 1000 file descriptors available, and "
                                         "we're limited to 64. Please change your ulimit -n"):
        plan_fd_limit(1000, 64, 64)


def test_unlimited_hard_limit_keeps_a_sufficient_soft_limit() -> None:
    assert plan_fd_limit(1000, 4096, INF) == 4096
    assert plan_fd_limit(1000, 256, INF) == 1000


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _context(code: int) -> dict[str, Any]:
    return {"message": "socket.accept() out of system resource",
            "exception": OSError(code, "Too many open files")}


class _Records(logging.Handler):
    """Collects the records of one logger, independent of other tests' handlers."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_one_warning_per_interval() -> None:
    clock = Clock()
    guard = AcceptGuard(interval=100.0, clock=clock)
    loop = asyncio.new_event_loop()
    records = _Records()
    logger = logging.getLogger("zwiebel")
    logger.addHandler(records)
    try:
        for _ in range(5):
            guard(loop, _context(errno.EMFILE))
        clock.now = 150.0
        guard(loop, _context(errno.ENFILE))
    finally:
        logger.removeHandler(records)
        loop.close()
    warnings = records.messages
    assert len(warnings) == 2 and guard.refusals == 6
    assert "ulimit -n" in warnings[0] and "LimitNOFILE=" in warnings[0]
    assert "[4 similar message(s) suppressed]" in warnings[1]


def test_other_errors_go_to_the_previous_handler() -> None:
    seen: list[dict[str, Any]] = []
    guard = AcceptGuard(lambda loop, ctx: seen.append(ctx))
    loop = asyncio.new_event_loop()
    try:
        guard(loop, {"message": "boom", "exception": ValueError("x")})
        guard(loop, {"message": "socket.accept() failed", "exception": OSError(errno.EBADF, "")})
    finally:
        loop.close()
    assert len(seen) == 2 and guard.refusals == 0

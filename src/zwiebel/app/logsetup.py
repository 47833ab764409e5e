"""tor-style logging on top of Python's :mod:`logging`.

Each ``Log`` line (:class:`zwiebel.config.LogSpec`) becomes a handler on the
``zwiebel`` logger that passes its severity range and writes tor's line format
(``src/lib/log/log.c``, ``log_prefix_``)::

    Nov 22 12:00:00.250 [notice] message

in local time with English month names. tor's severities map onto logging levels;
``notice`` is a level of its own (25) between INFO and WARNING. Repeated identical
warnings are rate-limited like tor's ``ratelim_t`` users: the first is logged, copies
within the interval are counted and reported with the next one let through.
:func:`scrub` is tor's ``safe_str_client``/``safe_str`` for SafeLogging.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import time
from collections.abc import Sequence
from typing import TextIO

from zwiebel.config import LogSpec

LOGGER_NAME = "zwiebel"
NOTICE = 25
logging.addLevelName(NOTICE, "NOTICE")

#: tor severity name -> logging level.
LEVELS: dict[str, int] = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "notice": NOTICE,
    "warn": logging.WARNING,
    "err": logging.ERROR,
}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DEFAULT_SPEC = LogSpec("notice", "err", "stdout")


def tor_severity(levelno: int) -> str:
    """The tor severity name for a logging level (rounding down between levels)."""
    name = "debug"
    for sev, level in LEVELS.items():
        if levelno >= level:
            name = sev
    return name


def format_timestamp(created: float) -> str:
    """``Nov 22 12:00:00.250`` for a POSIX timestamp, in local time."""
    tm = time.localtime(created)
    millis = int((created - int(created)) * 1000)
    return f"{_MONTHS[tm.tm_mon - 1]} {tm.tm_mday:02d} {tm.tm_hour:02d}:{tm.tm_min:02d}:" \
           f"{tm.tm_sec:02d}.{millis:03d}"


class TorFormatter(logging.Formatter):
    """Formats records exactly like tor's log lines."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message = f"{message}\n{self.formatException(record.exc_info)}"
        return f"{format_timestamp(record.created)} [{tor_severity(record.levelno)}] {message}"


class SeverityRange(logging.Filter):
    """Passes records whose severity lies within a LogSpec's range."""

    def __init__(self, spec: LogSpec) -> None:
        super().__init__()
        self.low = LEVELS[spec.min_severity]
        self.high = LEVELS[spec.max_severity]

    def filter(self, record: logging.LogRecord) -> bool:
        return self.low <= record.levelno and (
            record.levelno <= self.high or self.high == logging.ERROR
        )


class RateLimitFilter(logging.Filter):
    """Drops copies of the same warning seen within ``interval`` seconds."""

    def __init__(self, interval: float = 60.0, min_level: int = logging.WARNING) -> None:
        super().__init__()
        self.interval = interval
        self.min_level = min_level
        self._last: dict[tuple[int, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < self.min_level:
            return True
        key = (record.levelno, record.getMessage())
        last = self._last.get(key)
        if last is not None and record.created - last[0] < self.interval:
            self._last[key] = (last[0], last[1] + 1)
            return False
        self._last[key] = (record.created, 0)
        if last is not None and last[1]:
            record.msg = f"{record.getMessage()} [{last[1]} similar message(s) suppressed " \
                         f"in last {int(self.interval)} seconds]"
            record.args = ()
        return True


def _handler(spec: LogSpec, stdout: TextIO, stderr: TextIO) -> logging.Handler:
    handler: logging.Handler
    if spec.kind == "stdout":
        handler = logging.StreamHandler(stdout)
    elif spec.kind == "stderr":
        handler = logging.StreamHandler(stderr)
    elif spec.kind == "syslog":
        address = "/dev/log" if os.path.exists("/dev/log") else ("localhost", 514)
        handler = logging.handlers.SysLogHandler(address=address)
        handler.ident = "Zwiebel: "
    else:
        assert spec.path is not None
        handler = logging.FileHandler(spec.path, encoding="utf-8")
    handler.setFormatter(TorFormatter() if spec.kind != "syslog" else logging.Formatter())
    handler.addFilter(SeverityRange(spec))
    return handler


def setup_logging(
    specs: Sequence[LogSpec] = (),
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    rate_limit: float = 60.0,
) -> logging.Logger:
    """Replace the ``zwiebel`` logger's handlers with one per spec (default notice stdout)."""
    logger = logging.getLogger(LOGGER_NAME)
    for old in list(logger.handlers):
        logger.removeHandler(old)
        old.close()
    for old_filter in list(logger.filters):
        logger.removeFilter(old_filter)
    out, err = stdout or sys.stdout, stderr or sys.stderr
    for spec in specs or (DEFAULT_SPEC,):
        logger.addHandler(_handler(spec, out, err))
    logger.addFilter(RateLimitFilter(rate_limit))
    lowest = min(LEVELS[s.min_severity] for s in specs or (DEFAULT_SPEC,))
    logger.setLevel(lowest)
    logger.propagate = False
    return logger


def notice(message: str, *args: object) -> None:
    """Log at tor's ``notice`` severity on the ``zwiebel`` logger."""
    logging.getLogger(LOGGER_NAME).log(NOTICE, message, *args)


def scrub(address: str, safe_logging: str = "1", relay: bool = False) -> str:
    """``[scrubbed]`` instead of ``address`` when SafeLogging asks for it.

    Client addresses (tor's ``safe_str_client``) are scrubbed when SafeLogging is
    ``1``; with ``relay=True`` (``safe_str``) also when it is ``relay``.
    """
    if safe_logging == "1" or (relay and safe_logging == "relay"):
        return "[scrubbed]"
    return address

"""tor-style log lines, severity ranges, rate limiting, SafeLogging scrubbing."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from zwiebel.app.logsetup import (
    LOGGER_NAME,
    NOTICE,
    RateLimitFilter,
    TorFormatter,
    format_timestamp,
    scrub,
    setup_logging,
    tor_severity,
)
from zwiebel.config import LogSpec


@pytest.fixture(autouse=True)
def _reset_logger() -> Iterator[None]:
    yield
    setup_logging(())


def record(level: int, msg: str, created: float) -> logging.LogRecord:
    rec = logging.LogRecord(LOGGER_NAME, level, __file__, 1, msg, (), None)
    rec.created = created
    return rec


def test_timestamp_format_like_tor() -> None:
    created = time.mktime((2026, 11, 22, 12, 0, 0, 0, 0, -1)) + 0.25
    assert format_timestamp(created) == "Nov 22 12:00:00.250"
    created = time.mktime((2026, 3, 5, 7, 8, 9, 0, 0, -1))
    assert format_timestamp(created) == "Mar 05 07:08:09.000"


def test_formatter_line() -> None:
    created = time.mktime((2026, 11, 22, 12, 0, 0, 0, 0, -1)) + 0.25
    line = TorFormatter().format(record(NOTICE, "Bootstrapped 100% (done): Done", created))
    assert line == "Nov 22 12:00:00.250 [notice] Bootstrapped 100% (done): Done"
    assert tor_severity(logging.WARNING) == "warn" and tor_severity(logging.ERROR) == "err"
    assert tor_severity(logging.DEBUG) == "debug" and tor_severity(logging.INFO) == "info"


def test_default_is_notice_stdout() -> None:
    out = io.StringIO()
    log = setup_logging((), stdout=out)
    log.info("hidden")
    log.log(NOTICE, "shown")
    log.warning("warned")
    lines = out.getvalue().splitlines()
    assert [ln.split(" ", 3)[3] for ln in lines] == ["[notice] shown", "[warn] warned"]


def test_ranges_and_destinations(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    path = tmp_path / "zw.log"
    log = setup_logging(
        (LogSpec("debug", "info", "stdout"), LogSpec("warn", "err", "stderr"),
         LogSpec("info", "err", "file", str(path))),
        stdout=out, stderr=err,
    )
    log.debug("d")
    log.info("i")
    log.warning("w")
    log.error("e")
    assert [ln[20:] for ln in out.getvalue().splitlines()] == ["[debug] d", "[info] i"]
    assert [ln[20:] for ln in err.getvalue().splitlines()] == ["[warn] w", "[err] e"]
    setup_logging(())
    assert [ln[20:] for ln in path.read_text().splitlines()] == ["[info] i", "[warn] w", "[err] e"]


def test_rate_limit_counts_suppressed_copies() -> None:
    flt = RateLimitFilter(interval=60)
    assert flt.filter(record(logging.WARNING, "same", 1000.0))
    assert not flt.filter(record(logging.WARNING, "same", 1010.0))
    assert not flt.filter(record(logging.WARNING, "same", 1020.0))
    assert flt.filter(record(logging.WARNING, "other", 1020.0))
    later = record(logging.WARNING, "same", 1061.0)
    assert flt.filter(later)
    assert later.getMessage() == "same [2 similar message(s) suppressed in last 60 seconds]"
    assert flt.filter(record(logging.INFO, "same", 1062.0))


def test_scrub() -> None:
    assert scrub("1.2.3.4") == "[scrubbed]"
    assert scrub("1.2.3.4", "0") == "1.2.3.4"
    assert scrub("1.2.3.4", "relay") == "1.2.3.4"
    assert scrub("1.2.3.4", "relay", relay=True) == "[scrubbed]"

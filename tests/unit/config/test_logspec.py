"""Log option syntax (config.c options_init_logs)."""

from __future__ import annotations

import pytest

from zwiebel.config import ConfigError, LogSpec, parse_log_line


@pytest.mark.parametrize(
    ("value", "spec"),
    [
        ("notice stdout", LogSpec("notice", "err", "stdout")),
        ("notice", LogSpec("notice", "err", "stdout")),
        ("warn stderr", LogSpec("warn", "err", "stderr")),
        ("info-err file /var/log/zw.log", LogSpec("info", "err", "file", "/var/log/zw.log")),
        ("debug-notice file /tmp/a b.log", LogSpec("debug", "notice", "file", "/tmp/a b.log")),
        ("notice syslog", LogSpec("notice", "err", "syslog")),
        ("NOTICE- STDOUT", LogSpec("notice", "err", "stdout")),
    ],
)
def test_log_lines(value: str, spec: LogSpec) -> None:
    assert parse_log_line(value) == spec


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[handshake]debug [*]notice stderr", "Log domains are not supported by Zwiebel"),
        ("loud stdout", "Couldn't parse log levels"),
        ("err-debug stdout", "Couldn't parse log levels"),
        ("notice file", "Bad syntax"),
        ("notice stdout extra", "Bad syntax"),
    ],
)
def test_bad_log_lines(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_log_line(value)


def test_accepts_range() -> None:
    spec = LogSpec("info", "warn")
    assert spec.accepts("info") and spec.accepts("warn")
    assert not spec.accepts("debug") and not spec.accepts("err")

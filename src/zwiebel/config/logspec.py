"""The ``Log`` option: ``Log minSeverity[-maxSeverity] stdout|stderr|syslog|file PATH``.

As tor's ``options_init_logs`` and ``parse_log_severity_config`` read it
(``src/app/config/config.c``, ``src/lib/log/log.c``). Severities, least to most
severe: debug, info, notice, warn, err. ``info-err`` is a range, ``notice`` alone
means notice and above, ``notice-`` is the same. No destination means stdout.
Per-domain severities (``[handshake]debug``) are parsed far enough to be refused with
a clear error: Zwiebel does not implement log domains.
"""

from __future__ import annotations

from dataclasses import dataclass

from zwiebel.config.errors import ConfigError
from zwiebel.config.values import parse_filename

#: Least to most severe, as tor orders them (LOG_DEBUG=7 ... LOG_ERR=3).
SEVERITIES: tuple[str, ...] = ("debug", "info", "notice", "warn", "err")
_ALIASES = {"warning": "warn", "error": "err"}


@dataclass(frozen=True)
class LogSpec:
    """One ``Log`` line: messages from ``min_severity`` to ``max_severity`` go to ``kind``."""

    min_severity: str = "notice"
    max_severity: str = "err"
    kind: str = "stdout"  #: stdout, stderr, syslog or file
    path: str | None = None

    def accepts(self, severity: str) -> bool:
        """True if a message of ``severity`` falls in this log's range."""
        rank = SEVERITIES.index(severity)
        low = SEVERITIES.index(self.min_severity)
        return low <= rank <= SEVERITIES.index(self.max_severity)


def _severity(word: str) -> str | None:
    word = _ALIASES.get(word.lower(), word.lower())
    return word if word in SEVERITIES else None


def _parse_range(word: str) -> tuple[str, str] | None:
    low_text, dash, high_text = word.partition("-")
    low = _severity(low_text)
    if low is None:
        return None
    if not dash or not high_text:
        return low, "err"
    high = _severity(high_text)
    if high is None:
        return None
    return low, high


def parse_log_line(value: str) -> LogSpec:
    """Parse the value of one ``Log`` line."""
    words = value.split()
    if not words:
        raise ConfigError("Couldn't parse log levels in Log option 'Log '")
    if words[0].startswith("["):
        raise ConfigError(
            f"Log domains are not supported by Zwiebel in 'Log {value}'; "
            "use a plain severity such as 'Log notice stdout'."
        )
    severity = _parse_range(words[0])
    if severity is None:
        raise ConfigError(f"Couldn't parse log levels in Log option 'Log {value}'")
    if len(words) > 1 and words[1].startswith("["):
        raise ConfigError(f"Log domains are not supported by Zwiebel in 'Log {value}'")
    return _destination(value, severity, words[1:])


def _destination(value: str, severity: tuple[str, str], rest: list[str]) -> LogSpec:
    low, high = severity
    if SEVERITIES.index(low) > SEVERITIES.index(high):
        raise ConfigError(f"Couldn't parse log levels in Log option 'Log {value}'")
    if not rest:
        return LogSpec(low, high, "stdout")
    kind = rest[0].lower()
    if len(rest) == 1 and kind in ("stdout", "stderr", "syslog"):
        return LogSpec(low, high, kind)
    if kind == "file" and len(rest) >= 2:
        path = value.split(None, 2)[2]
        return LogSpec(low, high, "file", parse_filename(path.strip()))
    raise ConfigError(f"Bad syntax on file Log option 'Log {value}'")

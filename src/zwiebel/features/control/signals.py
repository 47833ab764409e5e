"""SIGNAL (control-spec 3.7): what each signal does to a running Zwiebel client.

RELOAD/HUP re-reads the torrc (as SIGHUP does), SHUTDOWN/INT and HALT/TERM stop the
daemon (a client has no ShutdownWaitLength), NEWNYM retires every circuit for new
streams, DORMANT/ACTIVE switch the dormant flag, DEBUG lowers every log to debug,
HEARTBEAT and DUMP log the state, CLEARDNSCACHE is accepted (a Zwiebel client keeps
no DNS cache). Every signal acted on is announced as a SIGNAL event.
"""

from __future__ import annotations

import logging

log = logging.getLogger("zwiebel")
NOTICE = 25

#: Names SIGNAL accepts, each mapped to the name the SIGNAL event reports (tor's table).
SIGNALS: dict[str, str] = {
    "RELOAD": "RELOAD", "HUP": "RELOAD",
    "SHUTDOWN": "SHUTDOWN", "INT": "SHUTDOWN",
    "DUMP": "DUMP", "USR1": "DUMP",
    "DEBUG": "DEBUG", "USR2": "DEBUG",
    "HALT": "HALT", "TERM": "HALT",
    "NEWNYM": "NEWNYM", "CLEARDNSCACHE": "CLEARDNSCACHE", "HEARTBEAT": "HEARTBEAT",
    "ACTIVE": "ACTIVE", "DORMANT": "DORMANT",
}
SIGNAL_NAMES = tuple(SIGNALS)


def set_debug_logging() -> None:
    """SIGUSR2/DEBUG: every log destination of ours passes debug messages."""
    logger = logging.getLogger("zwiebel")
    logger.setLevel(logging.DEBUG)
    for handler in logger.handlers:
        for flt in handler.filters:
            if hasattr(flt, "low"):
                flt.low = logging.DEBUG
    log.log(NOTICE, "Caught USR2, going to loglevel debug.")




#: tor's MAX_SIGNEWNYM_RATE: at most one NEWNYM takes effect every this many seconds.
NEWNYM_INTERVAL = 10.0


class NewnymLimiter:
    """tor's do_signewnym rate limit: a NEWNYM within NEWNYM_INTERVAL of the last one
    is delayed until the interval has passed (and several such collapse into one)."""

    def __init__(self) -> None:
        self.last: float | None = None
        self.pending = False

    def delay(self, now: float) -> float:
        """0 to act now (and remember ``now``), else the seconds to wait."""
        if self.last is not None and self.last + NEWNYM_INTERVAL > now:
            return self.last + NEWNYM_INTERVAL - now
        self.last = now
        self.pending = False
        return 0.0

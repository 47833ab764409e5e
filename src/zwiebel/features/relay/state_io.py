"""Reading and updating DataDirectory/state for the relay's keys there (tor's
app/config/statefile.c: or_state_load, or_state_save).

Several parts of the daemon keep keys in the one state file (the guards, accounting, the
onion-key rotation time), so every writer reads the file afresh, replaces only its own
keys and writes it back atomically (temporary file, fsync, rename), as the file is never
held open. A missing file is an empty state; an unreadable one is reported and treated
as empty, as tor starts afresh from a broken state file.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from zwiebel.config.files import atomic_write
from zwiebel.encoding import ParseError
from zwiebel.state import StateFile, format_state, parse_state, with_written

log = logging.getLogger("zwiebel")
#: The TorVersion written to the state file (as the guard state does).
TOR_VERSION = "0.4.9.11"


def read_state(path: Path) -> StateFile:
    """The state file's entries (empty when missing or unreadable)."""
    try:
        return parse_state(path.read_text())
    except FileNotFoundError:
        return StateFile()
    except (OSError, ParseError, UnicodeDecodeError) as exc:
        log.warning("Could not read %s: %s", path, exc)
        return StateFile()


def write_state(path: Path, state: StateFile, now: dt.datetime) -> bool:
    """Write ``state`` with LastWritten and TorVersion; False (and a warning) on failure."""
    text = format_state(with_written(state, now, TOR_VERSION), now.astimezone())
    try:
        atomic_write(str(path), text)
    except OSError as exc:
        log.warning("Unable to write state to file %s: %s", path, exc)
        return False
    return True

"""zwiebel.state: tor's DataDirectory/state file, as pure functions on text.

What it does: `parse_state`/`format_state` read and write the torrc-style "Key value"
file tor keeps in DataDirectory/state (tor app/config/statefile.c), keeping lines it does
not know verbatim and ordering the known ones as tor's ``config_dump`` does, so a file
written by tor and one written by Zwiebel can be read by either.  `parse_guard_line` and
`format_guard_line` handle the value of its "Guard" lines (tor entrynodes.c).

Design notes: no I/O here.  The caller reads the file, and writes it atomically
(temporary file + rename) as tor does; times are passed in (`with_written`,
`format_state`'s header time).  Comments are not preserved: tor regenerates its header.
This package sits with the codecs (it imports only zwiebel.encoding), so both
zwiebel.netdir (guard state) and the runtime may use it.

Deliberately not here: the meaning of the other keys (bandwidth history, accounting,
circuit-build-time histogram) belongs to the features that own them; backslash line
continuations (tor never writes them in this file).
"""

from zwiebel.state.guard_line import (
    PATH_BIAS_FIELDS,
    GuardRecord,
    format_guard_line,
    parse_guard_line,
)
from zwiebel.state.statefile import (
    KNOWN_KEYS,
    StateEntry,
    StateFile,
    format_state,
    format_time,
    parse_state,
    parse_time,
    with_written,
)

__all__ = [
    "KNOWN_KEYS",
    "PATH_BIAS_FIELDS",
    "GuardRecord",
    "StateEntry",
    "StateFile",
    "format_guard_line",
    "format_state",
    "format_time",
    "parse_guard_line",
    "parse_state",
    "parse_time",
    "with_written",
]

"""Asynchronous event lines (control-spec 4.1), formatted as tor 0.4.9 writes them
(``src/feature/control/control_events.c``, ``control_fmt.c``).

Every function takes plain values and returns the event's text without the final
CRLF; :func:`event_bytes` frames it (``650 ...`` or a multi-line ``650-``/``650 OK``
event such as CONF_CHANGED). Time stamps are ISO 8601 with microseconds, as tor's
``format_iso_time_nospace_usec``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from zwiebel.control.grammar import encode
from zwiebel.control.reply import config_value_needs_escape, esc_for_log

#: Event names in tor's ``control_event_table`` order (GETINFO events/names).
EVENT_NAMES: tuple[str, ...] = (
    "CIRC", "CIRC_MINOR", "STREAM", "ORCONN", "BW", "DEBUG", "INFO", "NOTICE", "WARN", "ERR",
    "NEWDESC", "ADDRMAP", "DESCCHANGED", "NS", "STATUS_GENERAL", "STATUS_CLIENT",
    "STATUS_SERVER", "GUARD", "STREAM_BW", "CLIENTS_SEEN", "NEWCONSENSUS", "BUILDTIMEOUT_SET",
    "SIGNAL", "CONF_CHANGED", "CONN_BW", "CELL_STATS", "CIRC_BW", "TRANSPORT_LAUNCHED",
    "HS_DESC", "HS_DESC_CONTENT", "NETWORK_LIVENESS",
)
#: Arguments SETEVENTS ignores with a warning (tor: no longer supported).
OBSOLETE_EVENTS = frozenset({"EXTENDED", "AUTHDIR_NEWDESCS"})
#: Log severities and their event names.
LOG_EVENTS = {"debug": "DEBUG", "info": "INFO", "notice": "NOTICE", "warn": "WARN", "err": "ERR"}


def iso_time_usec(when: dt.datetime) -> str:
    """``2024-01-02T03:04:05.123456`` (UTC, no zone)."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")


def event_bytes(text: str) -> bytes:
    """Frame an event: ``650 text`` or, for several lines, ``650-``... ``650 OK``."""
    lines = text.split("\n")
    if len(lines) == 1:
        return encode(f"650 {text}\r\n")
    return encode("".join(f"650-{line}\r\n" for line in lines) + "650 OK\r\n")


def bw_event(read: int, written: int) -> str:
    """``BW read written`` (bytes in the last second)."""
    return f"BW {read} {written}"


def relay_name(fingerprint: str, nickname: str | None) -> str:
    """``$FINGERPRINT~nickname`` (LongName), or ``$FINGERPRINT`` without a nickname."""
    return f"${fingerprint}~{nickname}" if nickname else f"${fingerprint}"


def circ_description(
    path: Sequence[str], purpose: str, time_created: dt.datetime,
    build_flags: Sequence[str] = (),
) -> str:
    """The part of a CIRC event / circuit-status line after the status."""
    parts = [",".join(path)] if path else []
    if build_flags:
        parts.append("BUILD_FLAGS=" + ",".join(build_flags))
    parts += [f"PURPOSE={purpose}", f"TIME_CREATED={iso_time_usec(time_created)}"]
    return " ".join(parts)


def circ_event(circ_id: int, status: str, description: str, reason: str | None = None,
               remote_reason: str | None = None) -> str:
    """``CIRC id STATUS path ... [REASON=...] [REMOTE_REASON=...]``."""
    text = f"CIRC {circ_id} {status} {description}"
    if remote_reason:
        return f"{text} REASON=DESTROYED REMOTE_REASON={remote_reason}"
    return f"{text} REASON={reason}" if reason else text


def stream_event(stream_id: int, status: str, circ_id: int, target: str,
                 reason: str | None = None, source_addr: str | None = None,
                 purpose: str | None = None, source: str | None = None) -> str:
    """``STREAM id STATUS circ target [REASON=] [SOURCE=] [SOURCE_ADDR=] [PURPOSE=]``."""
    text = f"STREAM {stream_id} {status} {circ_id} {target}"
    if reason:
        text += f" REASON={reason}"
    if source:
        text += f" SOURCE={source}"
    if source_addr:
        text += f" SOURCE_ADDR={source_addr}"
    if purpose:
        text += f" PURPOSE={purpose}"
    return text


def orconn_event(target: str, status: str, conn_id: int, reason: str | None = None,
                 ncircs: int = 0) -> str:
    """``ORCONN target STATUS [REASON=] [NCIRCS=] ID=n``."""
    text = f"ORCONN {target} {status}"
    if reason:
        text += f" REASON={reason}"
    if ncircs and status in ("FAILED", "CLOSED"):
        text += f" NCIRCS={ncircs}"
    return f"{text} ID={conn_id}"


def log_event(severity: str, message: str) -> str:
    """``NOTICE message`` (one line: tor replaces line breaks in log events)."""
    flat = message.replace("\r", " ").replace("\n", " ")
    return f"{LOG_EVENTS[severity]} {flat}"


def status_event(kind: str, severity: str, action: str, arguments: str = "") -> str:
    """``STATUS_CLIENT NOTICE ACTION args`` (kind: GENERAL, CLIENT or SERVER)."""
    text = f"STATUS_{kind} {severity} {action}"
    return f"{text} {arguments}" if arguments else text


def conf_changed_event(entries: Sequence[tuple[str, str | None]]) -> str:
    """``CONF_CHANGED`` followed by one ``Key=Value`` (or ``Key``) line per value."""
    lines = ["CONF_CHANGED"]
    for key, value in entries:
        if value is not None and config_value_needs_escape(value):
            value = esc_for_log(value)
        lines.append(key if value is None else f"{key}={value}")
    return "\n".join(lines)


def signal_event(name: str) -> str:
    """``SIGNAL NAME``."""
    return f"SIGNAL {name}"


def addrmap_event(source: str, target: str, expires: dt.datetime | None,
                  error: str | None = None, cached: bool = False, stream_id: int = 0) -> str:
    """``ADDRMAP from to "local time"|NEVER [error] [EXPIRES="utc"] CACHED= [STREAMID=]``
    (tor's control_event_address_mapped; ``expires`` is UTC, None for never)."""
    err = f"{error} " if error else ""
    tail = f'CACHED="{"YES" if cached else "NO"}"'
    if stream_id:
        tail += f" STREAMID={stream_id}"
    if expires is None:
        return f"ADDRMAP {source} {target} NEVER {err}{tail}"
    local = expires.replace(tzinfo=dt.UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    utc = expires.strftime("%Y-%m-%d %H:%M:%S")
    return f'ADDRMAP {source} {target} "{local}" {err}EXPIRES="{utc}" {tail}'


def guard_event(name: str, status: str) -> str:
    """``GUARD ENTRY $FP~nick STATUS``."""
    return f"GUARD ENTRY {name} {status}"


def stream_bw_event(stream_id: int, written: int, read: int, when: dt.datetime) -> str:
    """``STREAM_BW id BytesWritten BytesRead time``: bytes the application wrote to
    (uploaded) and read from (downloaded) the stream since the last event."""
    return f"STREAM_BW {stream_id} {written} {read} {iso_time_usec(when)}"


def circ_bw_event(circ_id: int, counts: Sequence[int], when: dt.datetime) -> str:
    """``CIRC_BW ID= READ= WRITTEN= TIME= DELIVERED_READ= OVERHEAD_READ=
    DELIVERED_WRITTEN= OVERHEAD_WRITTEN=`` (counts in that order, without TIME)."""
    read, written, d_read, o_read, d_written, o_written = counts
    return (f"CIRC_BW ID={circ_id} READ={read} WRITTEN={written} TIME={iso_time_usec(when)} "
            f"DELIVERED_READ={d_read} OVERHEAD_READ={o_read} "
            f"DELIVERED_WRITTEN={d_written} OVERHEAD_WRITTEN={o_written}")


def conn_bw_event(conn_id: int, kind: str, read: int, written: int) -> str:
    """``CONN_BW ID= TYPE=OR|DIR|EXIT READ= WRITTEN=``."""
    return f"CONN_BW ID={conn_id} TYPE={kind} READ={read} WRITTEN={written}"


def newdesc_event(names: Sequence[str]) -> str:
    """``NEWDESC $FP~nick ...``."""
    return "NEWDESC " + " ".join(names)

"""Formatting replies (control-spec 2.3, 4): status lines, data blocks, quoting.

A reply is a list of :class:`ReplyLine`; all but the last use ``-`` after the status
code, the last uses a space, and a line carrying data uses ``+`` followed by the
dot-escaped data and a line with a single ``.`` (tor's ``write_escaped_data``:
LF becomes CRLF, a leading ``.`` is doubled). GETINFO/GETCONF answers are
``key=value`` lines, switched to a data block when the value has a line break,
as ``control_write_reply_line`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from zwiebel.control.grammar import encode

_LOG_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


@dataclass(frozen=True)
class ReplyLine:
    """One status line; ``data`` (if set) follows it as a data block."""

    code: int
    text: str
    data: str | None = None


def escape_data(data: str) -> str:
    """``write_escaped_data``: CRLF line ends, leading dots doubled, ``.`` terminator."""
    lines = data.split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    out = [("." + line if line.startswith(".") else line).removesuffix("\r") for line in lines]
    return "".join(f"{line}\r\n" for line in out) + ".\r\n"


def format_reply(lines: Sequence[ReplyLine]) -> bytes:
    """The bytes of a whole reply."""
    out: list[str] = []
    for index, line in enumerate(lines):
        if line.data is not None:
            out.append(f"{line.code}+{line.text}\r\n{escape_data(line.data)}")
            continue
        sep = " " if index == len(lines) - 1 else "-"
        out.append(f"{line.code}{sep}{line.text}\r\n")
    return encode("".join(out))


def reply(code: int, text: str) -> list[ReplyLine]:
    """A one-line reply."""
    return [ReplyLine(code, text)]


def ok() -> list[ReplyLine]:
    """``250 OK``."""
    return reply(250, "OK")


def kv_line(key: str, value: str | None, code: int = 250) -> ReplyLine:
    """``key=value`` (raw), a data block for multi-line values, bare ``key`` for None."""
    if value is None:
        return ReplyLine(code, key)
    if "\n" in value or "\r" in value:
        return ReplyLine(code, f"{key}=", value)
    return ReplyLine(code, f"{key}={value}")


def esc_for_log(value: str) -> str:
    """tor's ``esc_for_log``: a double-quoted C string, other bytes in octal."""
    out: list[str] = ['"']
    for byte in encode(value):
        ch = chr(byte)
        if ch in _LOG_ESCAPES:
            out.append(_LOG_ESCAPES[ch])
        elif 32 <= byte < 127:
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    out.append('"')
    return "".join(out)


def config_value_needs_escape(value: str) -> bool:
    """tor's ``config_value_needs_escape``: GETCONF quotes values like these."""
    if value.startswith('"'):
        return True
    return any(c in "\r\n#" or not c.isprintable() for c in value)


def needs_quotes(value: str, keyless: bool = False) -> bool:
    """``needs_escape`` of kvline.c: empty, ``=`` (key-less), space, quotes, non-ASCII."""
    if keyless and (not value or "=" in value):
        return True
    return any(ord(c) >= 127 or not c.isprintable() or c.isspace() or c in "'\"" for c in value)


def kv_encode(pairs: Sequence[tuple[str, str]]) -> str:
    """``K=V`` words joined by spaces, quoting values as ``kvline_encode(KV_QUOTED)``."""
    words = []
    for key, value in pairs:
        shown = esc_for_log(value) if needs_quotes(value, not key) else value
        words.append(f"{key}={shown}" if key else shown)
    return " ".join(words)

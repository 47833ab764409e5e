"""The torrc lexer: text in, :class:`ConfigLine` entries out (sans-I/O).

Implements tor's ``doc/torrc_format.txt`` section 1 as ``parse_config_line_from_str_verbose``
(``src/lib/encoding/confline.c``) does: ``#`` comments, ``\\`` + newline continuations
(comment lines inside a continued value are dropped), C-style quoted values, the ``+``
(append) and ``/`` (clear) magic prefixes, and ``%include``. Reading files is not done
here: ``%include`` calls an :data:`IncludeLoader` that returns the texts to splice in,
so tests need no files (see :mod:`zwiebel.config.files` for the disk loader).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from zwiebel.config.errors import ConfigError

#: tor's MAX_INCLUDE_RECURSION_LEVEL (``confline.h``).
MAX_INCLUDE_DEPTH = 31

#: Given a ``%include`` argument, return ``(source name, text)`` for each file it names,
#: in the order tor reads them.
IncludeLoader = Callable[[str], Sequence[tuple[str, str]]]

_SPACE = " \t\n\r\f\v"
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", "'": "'", '"': '"'}


class LineCommand(enum.Enum):
    """How an entry combines with earlier values (torrc_format.txt "Magic")."""

    NORMAL = "normal"
    APPEND = "append"  #: ``+Key``: append to the list from a lower-priority domain
    CLEAR = "clear"  #: ``/Key``: reset the option to its default


@dataclass(frozen=True)
class ConfigLine:
    """One ``Key Value`` entry with the place it came from."""

    key: str
    value: str
    command: LineCommand = LineCommand.NORMAL
    source: str = "<string>"
    line: int = 0

    @property
    def where(self) -> str:
        """``file:line`` for error messages."""
        return f"{self.source}:{self.line}"


def unescape_quoted(text: str, pos: int) -> tuple[str, int]:
    """Decode the C string starting at ``text[pos] == '"'``; return (value, end index).

    Accepts the escapes of tor's ``unescape_string``: ``\\n \\r \\t \\\\ \\' \\"``,
    ``\\xHH`` and one to three octal digits.
    """
    out: list[str] = []
    i = pos + 1
    while i < len(text):
        ch = text[i]
        if ch == '"':
            return "".join(out), i + 1
        if ch == "\n":
            break
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        decoded, i = _unescape_one(text, i + 1)
        out.append(decoded)
    raise ConfigError("Invalid escape sequence in quoted string")


def _unescape_one(text: str, i: int) -> tuple[str, int]:
    ch = text[i : i + 1]
    if ch in _ESCAPES:
        return _ESCAPES[ch], i + 1
    if ch == "x":
        digits = text[i + 1 : i + 3]
        if len(digits) == 2 and all(c in "0123456789abcdefABCDEF" for c in digits):
            return chr(int(digits, 16)), i + 3
    elif ch and ch in "01234567":
        j = i
        while j < len(text) and j < i + 3 and text[j] in "01234567":
            j += 1
        value = int(text[i:j], 8)
        if value <= 255:
            return chr(value), j
    raise ConfigError("Invalid escape sequence in quoted string")


class _Scanner:
    """A cursor over the text that counts line numbers."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self, offset: int = 0) -> str:
        i = self.pos + offset
        return self.text[i] if i < len(self.text) else ""

    def line_no(self) -> int:
        return self.text.count("\n", 0, self.pos) + 1

    def skip_blank_and_comments(self) -> None:
        while True:
            while self.peek() and self.peek() in _SPACE:
                self.pos += 1
            if self.peek() != "#":
                return
            self.skip_to_eol()

    def skip_to_eol(self) -> None:
        end = self.text.find("\n", self.pos)
        self.pos = len(self.text) if end < 0 else end

    def read_key(self) -> str:
        start = self.pos
        while (ch := self.peek()) and ch not in _SPACE and ch != "#":
            if ch == "\\" and self.peek(1) == "\n":
                break
            self.pos += 1
        return self.text[start : self.pos]

    def skip_inline_space(self) -> None:
        while self.peek() in (" ", "\t") and self.peek():
            self.pos += 1


def _read_plain_value(sc: _Scanner) -> str:
    """The unquoted value: up to end of line, following ``\\``-newline continuations."""
    start = sc.pos
    continued = False
    while (ch := sc.peek()) and ch != "\n" and (ch != "#" or continued):
        if ch == "\\" and sc.peek(1) == "\n":
            continued = True
            sc.pos += 2
        elif ch == "#":
            sc.skip_to_eol()
            if sc.peek() == "\n":
                sc.pos += 1
        else:
            sc.pos += 1
    raw = sc.text[start : sc.pos].rstrip(_SPACE)
    return _join_continuation(raw) if continued else raw


def _join_continuation(raw: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(raw):
        if raw[i] == "#":
            end = raw.find("\n", i)
            i = len(raw) if end < 0 else end + 1
        elif raw.startswith("\\\n", i):
            i += 2
        else:
            out.append(raw[i])
            i += 1
    return "".join(out)


def _read_quoted_value(sc: _Scanner) -> str:
    value, sc.pos = unescape_quoted(sc.text, sc.pos)
    sc.skip_inline_space()
    if sc.peek() == "\r" and sc.peek(1) == "\n":
        sc.pos += 1
    if sc.peek() not in ("", "#", "\n"):
        raise ConfigError("Excess data after quoted string")
    return value


def _read_entry(sc: _Scanner) -> tuple[str, str]:
    key = sc.read_key()
    sc.skip_inline_space()
    value = _read_quoted_value(sc) if sc.peek() == '"' else _read_plain_value(sc)
    if sc.peek() == "#":
        sc.skip_to_eol()
    return key, value


def _split_magic(key: str, value: str) -> tuple[str, str, LineCommand]:
    if key.startswith("+"):
        return key[1:], value, LineCommand.APPEND
    if key.startswith("/"):
        return key[1:], "", LineCommand.CLEAR
    return key, value, LineCommand.NORMAL


def lex(
    text: str,
    source: str = "<string>",
    include: IncludeLoader | None = None,
    depth: int = 0,
) -> list[ConfigLine]:
    """Split torrc ``text`` into entries, splicing in ``%include`` files via ``include``.

    Raises :class:`ConfigError` (naming ``source:line``) on a bad quoted value, a
    ``%include`` without a loader, or includes nested deeper than tor allows.
    """
    if depth > MAX_INCLUDE_DEPTH:
        raise ConfigError(
            f"Error while parsing configuration: more than {MAX_INCLUDE_DEPTH} "
            "nested %includes.",
            source,
        )
    sc = _Scanner(text)
    out: list[ConfigLine] = []
    while True:
        sc.skip_blank_and_comments()
        if not sc.peek():
            return out
        line_no = sc.line_no()
        where = f"{source}:{line_no}"
        try:
            raw_key, raw_value = _read_entry(sc)
        except ConfigError as exc:
            message = f"Error while parsing configuration: {exc.message}"
            raise ConfigError(message, where) from exc
        if raw_key == "%include":
            out.extend(_include(raw_value, where, include, depth))
            continue
        key, value, command = _split_magic(raw_key, raw_value)
        out.append(ConfigLine(key, value, command, source, line_no))


def _include(
    pattern: str, where: str, include: IncludeLoader | None, depth: int
) -> list[ConfigLine]:
    if include is None:
        raise ConfigError("%include is not allowed here", where)
    out: list[ConfigLine] = []
    try:
        texts = include(pattern)
    except OSError as exc:
        raise ConfigError(
            f'Error reading included configuration file or directory: "{pattern}" ({exc})',
            where,
        ) from exc
    for name, text in texts:
        out.extend(lex(text, name, include, depth + 1))
    return out

"""Command arguments: positional words, keyword lines and quoted strings.

tor parses every command's arguments with ``control_cmd_parse_args``
(``src/feature/control/control_cmd.c``) and ``kvline_parse``
(``src/lib/encoding/kvline.c``): up to ``max_args`` space-separated words, then (for
commands that take them) the rest of the line as ``K=V``, ``K="V"``, ``K`` (flags) or
``V``/``"V"`` (key-less values). Quoted values are either C strings (``\\n``, ``\\t``,
octal, ``\\x``; used by SETCONF, ``KV_QUOTED``) or control-spec QuotedStrings where a
backslash simply escapes the next character (AUTHENTICATE, ``KV_QUOTED_QSTRING``).
"""

from __future__ import annotations

from dataclasses import dataclass

from zwiebel.encoding import ParseError

_SPACE = " \t\r\v\n"
_C_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", "'": "'", '"': '"'}
_OCTAL = "01234567"
_HEX = "0123456789abcdefABCDEF"


class ArgumentError(ParseError):
    """Arguments that do not fit the command's syntax (tor answers 512)."""


@dataclass(frozen=True)
class Syntax:
    """How a command's argument line is read (tor's ``control_cmd_syntax_t``)."""

    min_args: int = 0
    max_args: int | None = 0  #: None: unlimited
    keywords: bool = False  #: the words after ``max_args`` form a keyword line
    omit_keys: bool = False  #: key-less values allowed (``V``, ``"V"``)
    omit_vals: bool = False  #: value-less keys allowed (flags)
    c_quoted: bool = True  #: C escapes in quoted values (else QuotedString rules)


@dataclass(frozen=True)
class Arguments:
    """Parsed arguments: positional words, then (key, value) pairs ("" key: key-less)."""

    words: tuple[str, ...]
    pairs: tuple[tuple[str, str | None], ...] = ()
    quoted: bool = False  #: a quoted string appeared in the keyword part


def parse_arguments(text: str, syntax: Syntax) -> Arguments:
    """Parse an argument line under ``syntax`` (ArgumentError with tor's message)."""
    limit = syntax.max_args
    words, rest = _split_words(text, limit)
    if len(words) < syntax.min_args:
        raise ArgumentError(f"Need at least {syntax.min_args} argument(s)")
    if rest and not syntax.keywords:
        raise ArgumentError(f"Cannot accept more than {limit} argument(s)")
    if not rest:
        return Arguments(tuple(words))
    pairs = parse_kvline(rest, syntax)
    return Arguments(tuple(words), tuple(pairs), '"' in rest)


def _split_words(text: str, limit: int | None) -> tuple[list[str], str]:
    """Up to ``limit`` words and the unsplit remainder (smartlist_split_string)."""
    words: list[str] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos] in _SPACE:
            pos += 1
        if pos >= len(text):
            return words, ""
        if limit is not None and len(words) >= limit:
            return words, text[pos:].strip(_SPACE)
        end = pos
        while end < len(text) and text[end] != " ":
            end += 1
        words.append(text[pos:end].strip(_SPACE))
        pos = end


def parse_kvline(text: str, syntax: Syntax) -> list[tuple[str, str | None]]:
    """``kvline_parse``: the (key, value) entries of a keyword line."""
    out: list[tuple[str, str | None]] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos] in _SPACE:
            pos += 1
        if pos >= len(text):
            return out
        key, value, pos = _one_entry(text, pos, syntax)
        if key == "" and not syntax.omit_keys:
            raise ArgumentError("Cannot parse keyword argument(s)")
        out.append((key, value))


def _one_entry(text: str, pos: int, syntax: Syntax) -> tuple[str, str | None, int]:
    key = ""
    if text[pos] != '"':
        end = pos
        while end < len(text) and text[end] not in _SPACE + "=":
            end += 1
        if end < len(text) and text[end] == "=":
            key, pos = text[pos:end], end + 1
            if not key:
                raise ArgumentError("Cannot parse keyword argument(s)")
        elif syntax.omit_vals:
            return text[pos:end], None, end
        elif not syntax.omit_keys:
            raise ArgumentError("Cannot parse keyword argument(s)")
    if pos < len(text) and text[pos] == '"':
        value, pos = (unescape_c_string if syntax.c_quoted else decode_qstring)(text, pos)
        return key, value, pos
    end = pos
    while end < len(text) and text[end] not in _SPACE:
        end += 1
    return key, text[pos:end], end


def decode_qstring(text: str, pos: int) -> tuple[str, int]:
    """A QuotedString at ``text[pos]``: backslash escapes the next character."""
    out: list[str] = []
    i = pos + 1
    while i < len(text):
        ch = text[i]
        if ch == '"':
            return "".join(out), i + 1
        if ch == "\\":
            i += 1
            if i >= len(text):
                break
            ch = text[i]
        out.append(ch)
        i += 1
    raise ArgumentError("Unterminated quoted string")


def unescape_c_string(text: str, pos: int) -> tuple[str, int]:
    """A C string at ``text[pos]`` as tor's ``unescape_string`` reads it."""
    out: list[str] = []
    i = pos + 1
    while i < len(text):
        ch = text[i]
        if ch == '"':
            return "".join(out), i + 1
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        decoded, i = _c_escape(text, i + 1)
        out.append(decoded)
    raise ArgumentError("Unterminated quoted string")


def _c_escape(text: str, i: int) -> tuple[str, int]:
    ch = text[i : i + 1]
    if ch in _C_ESCAPES and ch:
        return _C_ESCAPES[ch], i + 1
    if ch == "x" and len(text) >= i + 3 and all(c in _HEX for c in text[i + 1 : i + 3]):
        return _char(int(text[i + 1 : i + 3], 16)), i + 3
    if ch and ch in _OCTAL:
        end = i
        while end < len(text) and end < i + 3 and text[end] in _OCTAL:
            end += 1
        value = int(text[i:end], 8)
        if value > 255:
            raise ArgumentError("Invalid escape sequence in quoted string")
        return _char(value), end
    raise ArgumentError("Invalid escape sequence in quoted string")


def _char(value: int) -> str:
    """An escaped byte as text: bytes above 127 as surrogate escapes (see grammar)."""
    return chr(value) if value < 128 else chr(0xDC00 + value)


def quote_string(value: str) -> str:
    """A QuotedString for ``value`` (escaping backslash and double quote)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

"""The directory document meta-format: items, arguments and objects (dir-spec 1.2).

A document is a sequence of items; an item is a keyword line ("Keyword args...\\n")
followed by at most one PEM-like object ("-----BEGIN X-----" base64 "-----END X-----").
`tokenize` turns text into `Item`s that remember where they came from (line number
and character offsets), so error messages can point at the line and signed portions
can be cut out of the exact text. `format_item` is the inverse, for documents we build.

Leniency follows tor's tokenizer (src/feature/dirparse/parsecommon.c) where it is
harmless: blank lines are skipped, a legacy "opt " prefix is dropped, arguments are
split on runs of spaces and tabs. Annotations ("@keyword", dir-spec 2.1 cached
descriptors) tokenize like keywords; the per-document rules decide where they may go.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from zwiebel.encoding import ParseError, unb64
from zwiebel.encoding.text import b64_nopad

MAX_LINE = 128 * 1024
"""Longest keyword or object line accepted (tor: MAX_LINE_LENGTH)."""
MAX_OBJECT = 128 * 1024
"""Largest object accepted, in base64 characters (tor: MAX_UNPARSED_OBJECT_SIZE)."""
MAX_ARGS = 512
"""Most arguments on one keyword line (tor: MAX_ARGS)."""

_KEYWORD = re.compile(r"@?[A-Za-z0-9][A-Za-z0-9-]*\Z")
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*( [A-Za-z0-9][A-Za-z0-9-]*)*\Z")
_SPLIT = re.compile(r"[ \t]+")
_BAD_CHARS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_B64_LINE = re.compile(r"[A-Za-z0-9+/=]*\Z")


@dataclass(frozen=True)
class DocObject:
    """An object after a keyword line: its label ("RSA PUBLIC KEY") and decoded bytes."""

    label: str
    data: bytes


@dataclass(frozen=True)
class Item:
    """One keyword line with its arguments and optional object, and where it was."""

    keyword: str
    args: tuple[str, ...]
    obj: DocObject | None
    line: int
    """1-based line number of the keyword line."""
    start: int
    """Offset of the keyword line's first character in the tokenized text."""
    end: int
    """Offset just after the item (after the newline ending its object or line)."""
    rest: str
    """The text after the keyword, as written (for items that take the whole line)."""

    def error(self, message: str) -> ParseError:
        """A ParseError that names this item's keyword and line."""
        return ParseError(f"line {self.line}: {self.keyword}: {message}")


class _Lines:
    """Walks text line by line, tracking offsets and line numbers."""

    def __init__(self, text: str, first_line: int) -> None:
        self.text = text
        self.pos = 0
        self.line = first_line - 1

    def next(self) -> tuple[str, int] | None:
        """The next line (without its newline) and its start offset; None at the end."""
        if self.pos >= len(self.text):
            return None
        start = self.pos
        nl = self.text.find("\n", start)
        end = len(self.text) if nl < 0 else nl
        if end - start > MAX_LINE:
            raise ParseError(f"line {self.line + 1}: line too long")
        self.pos = end + 1 if nl >= 0 else end
        self.line += 1
        return self.text[start:end], start

    def peek_is_object(self) -> bool:
        """Whether the next line begins an object."""
        return self.text.startswith("-----BEGIN ", self.pos)


def _keyword_line(line: str, lineno: int) -> tuple[str, tuple[str, ...], str]:
    """Split a keyword line into keyword, arguments and the raw rest of the line."""
    if _BAD_CHARS.search(line):
        raise ParseError(f"line {lineno}: control character in keyword line")
    if line.startswith("opt ") or line.startswith("opt\t"):
        line = line[4:].lstrip(" \t")
    parts = _SPLIT.split(line, maxsplit=1)
    keyword = parts[0]
    if not _KEYWORD.match(keyword):
        raise ParseError(f"line {lineno}: bad keyword {keyword[:40]!r}")
    rest = parts[1] if len(parts) > 1 else ""
    args = tuple(a for a in _SPLIT.split(rest) if a)
    if len(args) > MAX_ARGS:
        raise ParseError(f"line {lineno}: too many arguments")
    return keyword, args, rest


def _object(lines: _Lines) -> DocObject:
    """Read "-----BEGIN X-----" ... "-----END X-----" and decode the base64 body."""
    got = lines.next()
    assert got is not None
    begin = got[0]
    label = begin[len("-----BEGIN ") : -5] if begin.endswith("-----") else ""
    if not _LABEL.match(label):
        raise ParseError(f"line {lines.line}: malformed object begin line")
    body: list[str] = []
    size = 0
    while True:
        nxt = lines.next()
        if nxt is None:
            raise ParseError(f"line {lines.line}: object {label!r} not terminated")
        text = nxt[0]
        if text.startswith("-----END "):
            break
        if not _B64_LINE.match(text):
            raise ParseError(f"line {lines.line}: bad base64 in object")
        size += len(text)
        if size > MAX_OBJECT:
            raise ParseError(f"line {lines.line}: object too large")
        body.append(text)
    if text != f"-----END {label}-----":
        raise ParseError(f"line {lines.line}: object end line does not match {label!r}")
    return DocObject(label, unb64("".join(body)))


def tokenize(text: str, first_line: int = 1) -> list[Item]:
    """Split a document (or a concatenation of documents) into items.

    Offsets in the returned items are relative to `text`; `first_line` is the line
    number of its first line (useful when `text` is a slice of a larger download).
    """
    lines = _Lines(text, first_line)
    items: list[Item] = []
    while (got := lines.next()) is not None:
        line, start = got
        if not line.strip(" \t"):
            continue
        lineno = lines.line
        if line.startswith("-----"):
            raise ParseError(f"line {lineno}: object without a keyword line")
        keyword, args, rest = _keyword_line(line, lineno)
        obj = _object(lines) if lines.peek_is_object() else None
        items.append(Item(keyword, args, obj, lineno, start, lines.pos, rest))
    return items


def format_object(label: str, data: bytes) -> str:
    """An object as tor writes it: base64 with padding, wrapped at 64 characters."""
    if not _LABEL.match(label):
        raise ValueError(f"bad object label {label!r}")
    b64 = b64_nopad(data)
    b64 += "=" * (-len(b64) % 4)
    body = "".join(b64[i : i + 64] + "\n" for i in range(0, len(b64), 64))
    return f"-----BEGIN {label}-----\n{body}-----END {label}-----\n"


def format_item(keyword: str, args: tuple[str, ...] = (), obj: DocObject | None = None) -> str:
    """One item as text: the keyword line (arguments joined by single spaces) and object."""
    if not _KEYWORD.match(keyword):
        raise ValueError(f"bad keyword {keyword!r}")
    for arg in args:
        if not arg or _SPLIT.search(arg) or _BAD_CHARS.search(arg):
            raise ValueError(f"bad argument {arg!r}")
    line = " ".join((keyword, *args)) + "\n"
    return line + (format_object(obj.label, obj.data) if obj is not None else "")


def signed_span(text: str, start_str: str, end_str: str, end_char: str) -> str:
    """The signed portion of a document, cut the way tor cuts it (dir-spec 1.3).

    From the first occurrence of `start_str` (which must begin a line) through the
    first `end_char` after the first following occurrence of `end_str`
    (tor: router_get_hash_impl_helper in src/feature/dirparse/sigcommon.c).
    """
    start = text.find(start_str)
    if start < 0 or (start > 0 and text[start - 1] != "\n"):
        raise ParseError(f"signed portion: no {start_str!r} at the start of a line")
    end = text.find(end_str, start + len(start_str))
    if end < 0:
        raise ParseError(f"signed portion: no {end_str.strip()!r}")
    stop = text.find(end_char, end + len(end_str))
    if stop < 0:
        raise ParseError(f"signed portion: {end_str.strip()!r} line not terminated")
    return text[start : stop + 1]

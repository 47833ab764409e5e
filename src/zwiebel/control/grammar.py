"""Splitting the controller's byte stream into commands (control-spec 2.2, 2.3).

As tor's ``connection_control_process_inbuf`` (``src/feature/control/control.c``):
a command is one line, or, when its keyword starts with ``+``, a first line followed
by data lines up to a line holding a single ``.``. Lines end in CRLF or a bare LF
(tor accepts both). Data lines are dot-unescaped ("a leading '.' is removed") and
joined with LF, as ``read_escaped_data`` does. A command longer than 1 MiB
(``MAX_COMMAND_LINE_LENGTH``) is refused with :class:`LineTooLong`.

Text is decoded as UTF-8 with ``surrogateescape`` so any byte survives a round trip
(quoted passwords are compared byte for byte).
"""

from __future__ import annotations

from dataclasses import dataclass

from zwiebel.encoding import ParseError

#: tor's MAX_COMMAND_LINE_LENGTH.
MAX_COMMAND_LENGTH = 1024 * 1024


class LineTooLong(ParseError):
    """A command grew beyond the limit; tor answers ``500 Line too long.`` and closes."""


@dataclass(frozen=True)
class Command:
    """One command: keyword (without ``+``), the rest of its first line, data lines."""

    keyword: str
    args: str
    data: str | None = None

    @property
    def name(self) -> str:
        """The keyword in upper case (commands are case-insensitive)."""
        return self.keyword.upper()


def decode(raw: bytes) -> str:
    """Bytes from the controller as text (lossless)."""
    return raw.decode("utf-8", errors="surrogateescape")


def encode(text: str) -> bytes:
    """Text back to the exact bytes it came from."""
    return text.encode("utf-8", errors="surrogateescape")


def split_command(line: str) -> tuple[str, str]:
    """(keyword, arguments) of a first line, as ``control_split_incoming_command``."""
    end = 0
    while end < len(line) and not line[end].isspace():
        end += 1
    return line[:end], line[end:].lstrip(" \t\r\n\v\f")


def unescape_data(lines: list[str]) -> str:
    """The data of a multi-line command: leading dots removed, lines joined by LF."""
    out = [line[1:] if line.startswith(".") else line for line in lines]
    return "".join(f"{line}\n" for line in out)


class CommandReader:
    """Accumulates bytes and returns complete commands."""

    def __init__(self, limit: int = MAX_COMMAND_LENGTH) -> None:
        self._limit = limit
        self._buffer = bytearray()
        self._first: str | None = None
        self._data: list[str] = []
        self._size = 0

    def feed(self, data: bytes) -> list[Command]:
        """Add received bytes; return the commands they complete (LineTooLong if huge)."""
        self._buffer += data
        commands: list[Command] = []
        while True:
            newline = self._buffer.find(b"\n")
            if newline < 0:
                break
            raw = bytes(self._buffer[:newline])
            del self._buffer[: newline + 1]
            self._size += newline + 1
            self._check_size(0)
            command = self._line(decode(raw.removesuffix(b"\r")))
            if command is not None:
                commands.append(command)
        self._check_size(len(self._buffer))
        return commands

    def _check_size(self, pending: int) -> None:
        if self._size + pending > self._limit:
            raise LineTooLong("Line too long.")

    def _line(self, line: str) -> Command | None:
        if self._first is None:
            if not line.startswith("+"):
                self._size = 0
                keyword, args = split_command(line)
                return Command(keyword, args)
            self._first = line
            return None
        if line != ".":
            self._data.append(line)
            return None
        keyword, args = split_command(self._first[1:])
        command = Command(keyword, args.rstrip("\r\n"), unescape_data(self._data))
        self._first, self._data, self._size = None, [], 0
        return command

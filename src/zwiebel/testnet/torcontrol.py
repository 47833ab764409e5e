"""A small blocking control-port client for driving real tor (control-spec.txt).

Implements what the harness and tests need: reply parsing (control-spec 2.3:
``CODE-``, ``CODE+`` data blocks ending in ``.``, ``CODE `` end lines, dot
unstuffing), cookie authentication (3.5, ``AUTHENTICATE`` with the hex cookie),
GETINFO (3.9), SETCONF (3.1) and asynchronous events (3.4, code 650) queued while a
command waits for its reply. Deliberately absent: SAFECOOKIE, password auth,
PROTOCOLINFO parsing, a typed view of each event.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from zwiebel.testnet.layout import HOST


class ControlError(RuntimeError):
    """The control connection failed or tor answered with an error code."""


@dataclass(frozen=True)
class ReplyLine:
    """One reply line: status code, separator ('-', '+' or ' '), text, data block."""

    code: int
    sep: str
    text: str
    data: str | None = None


@dataclass(frozen=True)
class Reply:
    """A complete reply (control-spec 2.3): its lines, the last one has sep ' '."""

    lines: tuple[ReplyLine, ...]

    @property
    def code(self) -> int:
        """Status code of the final line."""
        return self.lines[-1].code

    @property
    def is_event(self) -> bool:
        """True for an asynchronous event (code 650)."""
        return self.code == 650

    def text(self) -> str:
        """All lines (and data blocks) joined with newlines."""
        parts: list[str] = []
        for line in self.lines:
            parts.append(line.text)
            if line.data is not None:
                parts.append(line.data)
        return "\n".join(parts)


def quote(value: str) -> str:
    """A control-spec QuotedString (2.1) for ``value``."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class TorControl:
    """One authenticated control connection to a tor on 127.0.0.1."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._timeout = sock.gettimeout()
        self._buf = bytearray()
        self._events: deque[Reply] = deque()

    @classmethod
    def connect(cls, port: int, cookie_path: Path, timeout: float = 10.0) -> TorControl:
        """Connect to ``port`` and authenticate with the cookie file's contents."""
        try:
            sock = socket.create_connection((HOST, port), timeout=timeout)
        except OSError as exc:
            raise ControlError(f"control port {port}: {exc}") from exc
        ctl = cls(sock)
        try:
            cookie = cookie_path.read_bytes()
            ctl.command("AUTHENTICATE " + cookie.hex())
        except (OSError, ControlError) as exc:
            ctl.close()
            raise ControlError(f"control port {port}: authentication: {exc}") from exc
        return ctl

    def __enter__(self) -> TorControl:
        return self

    def __exit__(self, exc_type: type[BaseException] | None,
                 exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Say QUIT (best effort) and close the socket."""
        with contextlib.suppress(OSError):
            self._sock.sendall(b"QUIT\r\n")
        self._sock.close()

    def command(self, line: str) -> Reply:
        """Send one command line; return its reply, ControlError unless 2xx."""
        try:
            self._sock.sendall(line.encode() + b"\r\n")
        except OSError as exc:
            raise ControlError(f"send failed: {exc}") from exc
        while True:
            try:
                reply = self._read_reply()
            except TimeoutError as exc:
                raise ControlError(f"no reply to {line.split(' ', 1)[0]} in time") from exc
            if reply.is_event:
                self._events.append(reply)
                continue
            if not 200 <= reply.code < 300:
                raise ControlError(f"{line.split(' ', 1)[0]}: {reply.text()}")
            return reply

    def getinfo(self, *keys: str) -> dict[str, str]:
        """GETINFO: a dict key -> value (data blocks without the leading newline)."""
        reply = self.command("GETINFO " + " ".join(keys))
        values: dict[str, str] = {}
        for line in reply.lines:
            key, eq, value = line.text.partition("=")
            if eq:
                values[key] = line.data if line.data is not None else value
        missing = [k for k in keys if k not in values]
        if missing:
            raise ControlError(f"GETINFO gave no value for {missing}")
        return values

    def getinfo_one(self, key: str) -> str:
        """GETINFO of a single key."""
        return self.getinfo(key)[key]

    def setconf(self, assignments: Iterable[tuple[str, str]]) -> None:
        """SETCONF key="value" ... (one command, applied atomically by tor)."""
        parts = [f"{key}={quote(value)}" for key, value in assignments]
        self.command("SETCONF " + " ".join(parts))

    def setevents(self, names: Iterable[str]) -> None:
        """SETEVENTS: subscribe to exactly these event types."""
        self.command("SETEVENTS " + " ".join(names))

    def next_event(self, timeout: float) -> Reply | None:
        """The next queued or arriving 650 event, or None after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not self._events:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._sock.settimeout(left)
            try:
                reply = self._read_reply()
            except TimeoutError:
                return None
            finally:
                self._sock.settimeout(self._timeout)
            if reply.is_event:
                self._events.append(reply)
        return self._events.popleft()

    def _read_reply(self) -> Reply:
        lines: list[ReplyLine] = []
        while True:
            line = self._parse_line(self._readline())
            lines.append(line)
            if line.sep == " ":
                return Reply(tuple(lines))

    def _parse_line(self, raw: str) -> ReplyLine:
        if len(raw) < 4 or not raw[:3].isdigit() or raw[3] not in "-+ ":
            raise ControlError(f"malformed reply line {raw!r}")
        code, sep, text = int(raw[:3]), raw[3], raw[4:]
        if sep != "+":
            return ReplyLine(code, sep, text)
        key, eq, first = text.partition("=")
        if not eq:
            return ReplyLine(code, sep, text, self._read_data(""))
        return ReplyLine(code, sep, key + "=", self._read_data(first))

    def _read_data(self, first: str) -> str:
        data: list[str] = [first] if first else []
        while (line := self._readline()) != ".":
            data.append(line[1:] if line.startswith(".") else line)
        return "\n".join(data)

    def _readline(self) -> str:
        """One CRLF line; a TimeoutError leaves the buffer intact for a retry."""
        while (end := self._buf.find(b"\n")) < 0:
            try:
                chunk = self._sock.recv(65536)
            except TimeoutError:
                raise
            except OSError as exc:
                raise ControlError(f"read failed: {exc}") from exc
            if not chunk:
                raise ControlError("control connection closed by tor")
            self._buf += chunk
        raw = bytes(self._buf[:end])
        del self._buf[:end + 1]
        return raw.decode(errors="replace").rstrip("\r")

"""One controller connection: bytes in, commands dispatched, replies and events out.

As tor's ``connection_control_process_inbuf``: QUIT always works
(``250 closing connection``); before authentication only PROTOCOLINFO (once, and not
after AUTHCHALLENGE), AUTHCHALLENGE, AUTHENTICATE and QUIT are accepted, anything else
gets ``514 Authentication required.`` and the connection is closed; a command over
1 MiB gets ``500 Line too long.`` and the connection is closed. A handler that raises
is a bug: it is logged and answered ``551 Internal error``, and the daemon runs on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from zwiebel.control.grammar import Command, CommandReader, LineTooLong
from zwiebel.control.reply import ReplyLine, format_reply, reply
from zwiebel.features.control.commands import dispatch

if TYPE_CHECKING:
    from zwiebel.features.control.service import ControlService

log = logging.getLogger("zwiebel")
_PRE_AUTH = frozenset({"PROTOCOLINFO", "AUTHCHALLENGE", "AUTHENTICATE", "QUIT"})


class ControlConnection(asyncio.Protocol):
    """asyncio protocol for one ControlPort/ControlSocket connection."""

    def __init__(self, service: ControlService) -> None:
        self.service = service
        self.reader = CommandReader()
        self.authenticated = False
        self.sent_protocolinfo = False
        self.safecookie_client_hash: bytes | None = None
        self.events: frozenset[str] = frozenset()
        self.owning = False
        self.transport: asyncio.Transport | None = None
        self._closing = False
        self._after: list[Callable[[], None]] = []

    # -- asyncio.Protocol ------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Remember the transport and register with the service."""
        self.transport = cast(asyncio.Transport, transport)  # also uvloop's, not a subclass
        self.service.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        """Unregister; an owning controller going away stops the daemon."""
        self._closing = True
        self.service.connection_closed(self)

    def data_received(self, data: bytes) -> None:
        """Run every complete command."""
        if self._closing:
            return
        try:
            commands = self.reader.feed(data)
        except LineTooLong:
            self._send(reply(500, "Line too long."))
            self.close()
            return
        for command in commands:
            if self._closing:
                break
            self._run(command)

    # -- commands ------------------------------------------------------------------------
    def _run(self, command: Command) -> None:
        name = command.name
        if name == "QUIT" and command.data is None:
            self._send(reply(250, "closing connection"))
            self.close()
            return
        if not self.authenticated and not self._allowed_before_auth(name):
            self._send(reply(514, "Authentication required."))
            self.close()
            return
        try:
            lines = dispatch(self, command)
        except Exception:
            log.exception("Control command %s failed", name)
            lines = reply(551, "Internal error")
        self._send(lines)
        self._run_after()

    def _allowed_before_auth(self, name: str) -> bool:
        if name == "PROTOCOLINFO":
            return not self.sent_protocolinfo and self.safecookie_client_hash is None
        if name == "AUTHCHALLENGE":
            return self.safecookie_client_hash is None
        return name in _PRE_AUTH

    def after_reply(self, action: Callable[[], None]) -> None:
        """Run ``action`` once the current reply has been written."""
        self._after.append(action)

    def close_after_reply(self) -> None:
        """Close the connection once the current reply has been written."""
        self._after.append(self.close)

    def _run_after(self) -> None:
        actions, self._after = self._after, []
        for action in actions:
            action()

    # -- output --------------------------------------------------------------------------
    def _send(self, lines: list[ReplyLine]) -> None:
        self.write(format_reply(lines))

    def write(self, data: bytes) -> None:
        """Queue bytes (replies or events) unless the connection is closing."""
        if self.transport is not None and not self._closing:
            self.transport.write(data)

    def send_event(self, name: str, data: bytes) -> None:
        """Write an event if this controller asked for ``name`` and is authenticated."""
        if self.authenticated and name in self.events:
            self.write(data)

    def close(self) -> None:
        """Flush what is queued and close."""
        if self.transport is not None and not self._closing:
            self._closing = True
            self.transport.close()

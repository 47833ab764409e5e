"""The ControlPort feature: listeners (TCP on loopback by default, or ``unix:PATH``),
the shared service and the event bridge, started and stopped by the daemon.

Unix sockets are created owner-only (0600) unless the port line says GroupWritable
or WorldWritable, as tor does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os

from zwiebel.config.ports import ListenPortSpec
from zwiebel.features.control.connection import ControlConnection
from zwiebel.features.control.eventbridge import EventBridge
from zwiebel.features.control.host import ControlHost, HostInfo
from zwiebel.features.control.service import ControlService
from zwiebel.runtime.listen import Listener, create_server

log = logging.getLogger("zwiebel")
NOTICE = 25


class ControlFeature:
    """Serves every configured ControlPort."""

    def __init__(self, host: ControlHost, info: HostInfo) -> None:
        self.service = ControlService(host, info)
        self.bridge = EventBridge(self.service)
        self._servers: list[asyncio.Server | Listener] = []
        self._unix_paths: list[str] = []

    @property
    def addresses(self) -> list[str]:
        """``addr:port`` (or ``unix:PATH``) of every open listener."""
        return list(self.service.client_info.control_addresses)

    async def start(self) -> None:
        """Write the cookie, open the listeners (OSError if one cannot bind), start events."""
        self.service.ensure_cookie()
        for spec in self.service.host.options.control_ports:
            await self._listen(spec)
        self.bridge.start()

    async def _listen(self, spec: ListenPortSpec) -> None:
        loop = asyncio.get_running_loop()
        factory = lambda: ControlConnection(self.service)  # noqa: E731
        server: asyncio.Server | Listener
        if spec.unix_path is not None:
            path = os.path.expanduser(spec.unix_path)
            if os.path.exists(path):
                os.unlink(path)
            server = await loop.create_unix_server(factory, path)
            os.chmod(path, 0o666 if spec.world_writable else
                     0o660 if spec.group_writable else 0o600)
            self._unix_paths.append(path)
            where = f"unix:{path}"
        else:
            host = spec.address or "127.0.0.1"
            server = await create_server(factory, host, spec.port)
            port = server.sockets[0].getsockname()[1]
            where = f"{host}:{port}"
        self._servers.append(server)
        self.service.client_info.control_addresses.append(where)
        log.log(NOTICE, "Opened Control listener connection (ready) on %s", where)

    def close(self) -> None:
        """Stop listening, close every controller connection, stop events."""
        self.bridge.stop()
        for server in self._servers:
            server.close()
        for conn in list(self.service.connections):
            conn.close()
        for path in self._unix_paths:
            with contextlib.suppress(OSError):
                os.unlink(path)
        self._servers, self._unix_paths = [], []

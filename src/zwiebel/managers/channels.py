"""One channel per relay, opened on demand and shared by circuits (tor-spec 2)."""

from __future__ import annotations

import asyncio
import logging

from zwiebel.encoding import b16
from zwiebel.managers.events import EventBus, OrConnEvent, OrConnStatus, orconn_reason
from zwiebel.runtime.channel import Channel, open_channel

log = logging.getLogger("zwiebel")


class ChannelManager:
    """Keeps open channels keyed by the relay's RSA identity."""

    def __init__(self, timeout: float = 20.0, events: EventBus | None = None) -> None:
        self._timeout = timeout
        self._channels: dict[bytes, Channel] = {}
        self._locks: dict[bytes, asyncio.Lock] = {}
        self.events = events if events is not None else EventBus()
        self._next_conn_id = 1
        self._retired = (0, 0)

    async def get(self, host: str, port: int, rsa_id: bytes) -> Channel:
        """An open channel to the relay, reusing one if it exists."""
        lock = self._locks.setdefault(rsa_id, asyncio.Lock())
        async with lock:
            channel = self._channels.get(rsa_id)
            if channel is not None and channel.is_open():
                return channel
            conn_id = self._next_conn_id
            self._next_conn_id += 1
            self._report(conn_id, OrConnStatus.LAUNCHED, rsa_id, host, port)
            try:
                channel = await open_channel(host, port, rsa_id, self._timeout)
            except BaseException as exc:
                self._report(conn_id, OrConnStatus.FAILED, rsa_id, host, port, orconn_reason(exc))
                raise
            self._retire(self._channels.get(rsa_id))
            channel.conn_id = conn_id
            channel.on_close = lambda reason: self._report(
                conn_id, OrConnStatus.CLOSED, rsa_id, host, port, "DONE", channel.circuit_count)
            self._channels[rsa_id] = channel
            self._report(conn_id, OrConnStatus.CONNECTED, rsa_id, host, port)
            return channel

    def _retire(self, channel: Channel | None) -> None:
        if channel is not None:
            read, written = self._retired
            self._retired = (read + channel.bytes_read, written + channel.bytes_written)

    def _report(self, conn_id: int, status: OrConnStatus, rsa_id: bytes, host: str, port: int,
                reason: str | None = None, ncircs: int = 0) -> None:
        self.events.emit(OrConnEvent(conn_id, status, b16(rsa_id), f"{host}:{port}",
                                     reason=reason, ncircs=ncircs))

    def traffic(self) -> tuple[int, int]:
        """(bytes read, bytes written) on every channel this manager ever opened."""
        read, written = self._retired
        for channel in self._channels.values():
            read += channel.bytes_read
            written += channel.bytes_written
        return read, written

    def channels(self) -> list[Channel]:
        """Every channel we hold (open or closing)."""
        return list(self._channels.values())

    def close_all(self) -> None:
        """Close every channel."""
        for channel in self._channels.values():
            channel.close("shutting down")
            self._retire(channel)
        self._channels.clear()

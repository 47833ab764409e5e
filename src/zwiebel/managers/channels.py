"""One channel per relay, opened on demand and shared by circuits (tor-spec 2)."""

from __future__ import annotations

import asyncio
import logging

from zwiebel.runtime.channel import Channel, open_channel

log = logging.getLogger("zwiebel")


class ChannelManager:
    """Keeps open channels keyed by the relay's RSA identity."""

    def __init__(self, timeout: float = 20.0) -> None:
        self._timeout = timeout
        self._channels: dict[bytes, Channel] = {}
        self._locks: dict[bytes, asyncio.Lock] = {}

    async def get(self, host: str, port: int, rsa_id: bytes) -> Channel:
        """An open channel to the relay, reusing one if it exists."""
        lock = self._locks.setdefault(rsa_id, asyncio.Lock())
        async with lock:
            channel = self._channels.get(rsa_id)
            if channel is not None and channel.is_open():
                return channel
            channel = await open_channel(host, port, rsa_id, self._timeout)
            self._channels[rsa_id] = channel
            return channel

    def channels(self) -> list[Channel]:
        """Every channel we hold (open or closing)."""
        return list(self._channels.values())

    def close_all(self) -> None:
        """Close every channel."""
        for channel in self._channels.values():
            channel.close("shutting down")
        self._channels.clear()

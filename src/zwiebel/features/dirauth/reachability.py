"""Testing relays' ORPorts (tor's src/feature/dirauth/reachability.c).

An authority lists a relay as Running only if it completed a link handshake with
the relay's ORPort, with the identity key its descriptor names, in the last 45
minutes. As tor: a relay is tested as soon as a new descriptor of it arrives
(dirserv_single_reachability_test), and every 10 seconds one 128th of all relays,
chosen by the first byte of their identity, so that each is tested about every 21
minutes (dirserv_test_reachability). Results go into the reachability history
(zwiebel.dirauth.history), which also feeds Stable and Guard.
"""

from __future__ import annotations

import asyncio
import logging

from zwiebel.dirauth.history import ReachabilityHistory
from zwiebel.dirauth.store import DescriptorStore
from zwiebel.encoding import b16
from zwiebel.managers.channels import ChannelManager
from zwiebel.netdoc.serverdesc import ServerDescriptor
from zwiebel.runtime.channel import ChannelError
from zwiebel.runtime.clock import utcnow

log = logging.getLogger("zwiebel")
TEST_INTERVAL = 10.0
MODULO = 128
TEST_TIMEOUT = 20.0


class ReachabilityTester:
    """Opens a channel to each relay in turn and records the outcome."""

    def __init__(self, channels: ChannelManager, history: ReachabilityHistory,
                 store: DescriptorStore) -> None:
        self.channels = channels
        self.history = history
        self.store = store
        self._slice = 0
        self._pending: set[asyncio.Task[None]] = set()

    def test_soon(self, desc: ServerDescriptor) -> None:
        """Test a relay whose new descriptor just arrived."""
        task = asyncio.get_running_loop().create_task(self.test(desc))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def run(self) -> None:
        """Forever: every 10 s, test the relays of the next slice."""
        while True:
            await asyncio.sleep(TEST_INTERVAL)
            wanted = [d for d in self.store.servers() if d.identity[0] % MODULO == self._slice]
            self._slice = (self._slice + 1) % MODULO
            await asyncio.gather(*(self.test(d) for d in wanted))

    async def test(self, desc: ServerDescriptor) -> None:
        """One link handshake with the relay's ORPort."""
        try:
            async with asyncio.timeout(TEST_TIMEOUT):
                await self.channels.get(desc.address, desc.or_port, desc.identity)
        except (OSError, TimeoutError, ChannelError) as exc:
            log.info("Reachability test of %s at %s:%d failed: %s", desc.nickname,
                     desc.address, desc.or_port, exc)
            return
        log.info("Found router $%s~%s to be reachable at %s:%d.", b16(desc.identity),
                 desc.nickname, desc.address, desc.or_port)
        self.history.note_reachable(desc.identity, desc.address, desc.or_port, utcnow())

"""Connection capacity: many OR connections, each with one CREATE_FAST circuit.

A load generator on loopback acts as a Tor client towards one relay: it opens
``count`` TLS connections, runs the link handshake on each (VERSIONS, CERTS,
AUTH_CHALLENGE, NETINFO; tor-spec 4) with ``zwiebel.runtime.channel.open_channel``,
then creates one circuit per connection with CREATE_FAST (tor-spec 5.1.5,
``zwiebel.proto.handshake.fast``) and checks the CREATED_FAST reply. All of them
are held open together while the relay's resident memory is read, then closed.

At most ``concurrency`` handshakes are in flight at once (a relay under a burst
of thousands of simultaneous TLS handshakes measures the burst, not how many
connections it holds). The generator's own descriptor limit is raised to the
hard limit first (``raise_fd_limit``).
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from zwiebel.cells.framing import ChannelCommand
from zwiebel.proto.handshake.fast import client_complete, client_create
from zwiebel.runtime.channel import Channel, open_channel
from zwiebel.runtime.clock import rng

HANDSHAKE_TIMEOUT = 60.0


@dataclass(frozen=True)
class LoadResult:
    """What ``hold_connections`` achieved: connections with a working circuit still
    open when ``probe`` ran, failures by reason, how long opening took, and what
    ``probe`` returned while they were held."""

    attempted: int
    succeeded: int
    errors: dict[str, int]
    open_seconds: float
    probed: dict[str, float]


def raise_fd_limit() -> int:
    """Set this process's soft RLIMIT_NOFILE to its hard limit; return the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return int(target)
    return int(soft)


async def _create_fast(channel: Channel) -> None:
    """One CREATE_FAST circuit on ``channel``; raises unless CREATED_FAST checks out."""
    loop = asyncio.get_running_loop()
    reply: asyncio.Future[tuple[int, bytes]] = loop.create_future()

    def on_cell(cells: list[tuple[int, bytes]]) -> None:
        if not reply.done():
            reply.set_result(cells[0])

    def on_close(reason: str) -> None:
        if not reply.done():
            reply.set_exception(ConnectionError(f"closed: {reason}"))

    state, x = client_create(rng)
    circ_id = channel.allocate_circuit(on_cell, on_close)
    channel.send_cell(circ_id, ChannelCommand.CREATE_FAST, x)
    command, payload = await reply
    if command != ChannelCommand.CREATED_FAST:
        raise ConnectionError(f"cell {command} instead of CREATED_FAST")
    client_complete(state, payload)


async def _one(host: str, port: int, rsa_id: bytes, gate: asyncio.Semaphore,
               held: list[Channel]) -> Channel:
    async with gate:
        channel = await open_channel(host, port, rsa_id, timeout=HANDSHAKE_TIMEOUT)
        held.append(channel)
        async with asyncio.timeout(HANDSHAKE_TIMEOUT):
            await _create_fast(channel)
        return channel


def _reason(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text if len(text) <= 100 else text[:97] + "..."


async def hold_connections(host: str, port: int, rsa_id: bytes, count: int,
                           concurrency: int, settle: float,
                           probe: Callable[[], dict[str, float]]) -> LoadResult:
    """Open ``count`` connections with a circuit each, wait ``settle`` seconds, run
    ``probe`` (e.g. read the relay's memory) while all are held, then close them."""
    logging.getLogger("zwiebel").setLevel(logging.ERROR)
    held: list[Channel] = []
    gate = asyncio.Semaphore(concurrency)
    start = time.monotonic()
    try:
        outcomes = await asyncio.gather(*(_one(host, port, rsa_id, gate, held)
                                          for _ in range(count)), return_exceptions=True)
        opened = round(time.monotonic() - start, 2)
        await asyncio.sleep(settle)
        errors = Counter(_reason(o) for o in outcomes if isinstance(o, BaseException))
        ok = [o for o in outcomes if isinstance(o, Channel)]
        alive = sum(1 for c in ok if c.is_open())
        if alive < len(ok):
            errors["closed by the relay after its circuit was created"] += len(ok) - alive
        return LoadResult(count, alive, dict(errors.most_common()), opened, probe())
    finally:
        for channel in held:
            channel.close("load test done")
        await asyncio.sleep(0.5)

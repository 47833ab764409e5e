"""Circuits and streams a controller steers (control-spec 3.10 EXTENDCIRCUIT, 3.13
ATTACHSTREAM; tor's ``handle_control_extendcircuit`` and
``connection_ap_handshake_rewrite_and_attach``).

EXTENDCIRCUIT answers at once with the circuit's global ID and builds in the
background, as tor does: ``0`` with a path builds exactly that path, ``0`` without
one builds a circuit with a path the manager chooses, a known open circuit is
extended hop by hop. Progress shows in CIRC events (LAUNCHED, EXTENDED, BUILT or
FAILED and CLOSED). With __LeaveStreamsUnattached set, a new stream waits in
CONTROLLER_WAIT until ATTACHSTREAM names a circuit (0: let Zwiebel choose) and
optionally the hop its BEGIN goes to.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Hashable
from typing import TYPE_CHECKING

from zwiebel.cells.relay_msgs import EndReason
from zwiebel.managers.events import CircStatus, CircuitEvent, Hop
from zwiebel.managers.trackers import StreamRecord
from zwiebel.netdir.relay import RelayInfo
from zwiebel.runtime.channel import ChannelError
from zwiebel.runtime.circuit import Circuit, CircuitError
from zwiebel.runtime.clock import utcnow
from zwiebel.runtime.stream import Stream, StreamClosed

if TYPE_CHECKING:
    from zwiebel.managers.circuits import CircuitManager

log = logging.getLogger("zwiebel")
#: Seconds to wait for CONNECTED: tor waits 10 s on the first try, then 15 s.
BEGIN_TIMEOUTS = (10.0, 15.0, 15.0, 15.0)
#: END reasons after which tor retries a stream on another circuit.
RETRY_REASONS = frozenset({EndReason.EXITPOLICY, EndReason.TIMEOUT, EndReason.DESTROY,
                           EndReason.RESOURCELIMIT, EndReason.HIBERNATING})
_BUILD_ERRORS = (CircuitError, ChannelError, OSError, TimeoutError)


class ControlledCircuits:
    """EXTENDCIRCUIT for one circuit manager; keeps the build tasks alive."""

    def __init__(self, manager: CircuitManager) -> None:
        self.manager = manager
        self._tasks: set[asyncio.Task[None]] = set()

    def find(self, global_id: str) -> Circuit | None:
        """An open or building client circuit by its decimal global ID."""
        manager = self.manager
        for circuit in [*manager.circuits, *manager.circ_events.building.values()]:
            if str(circuit.global_id) == global_id and circuit.is_open:
                return circuit
        return None

    def is_built(self, circuit: Circuit) -> bool:
        """True once every hop answered (CIRC BUILT was sent) and no extension runs."""
        return circuit.global_id not in self.manager.circ_events.building

    def launch(self, path: list[RelayInfo] | None, purpose: str) -> int:
        """EXTENDCIRCUIT 0: start building; returns the new circuit's global ID."""
        global_id = self.manager.reserve_id()
        self._spawn(self._build(global_id, path, purpose))
        return global_id

    def extend(self, circuit: Circuit, path: list[RelayInfo]) -> None:
        """EXTENDCIRCUIT <id> path: add the relays to an open circuit, in order."""
        self.manager.circ_events.building[circuit.global_id] = circuit
        self._spawn(self._extend(circuit, path))

    def _spawn(self, coro: Coroutine[object, object, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _build(self, global_id: int, path: list[RelayInfo] | None, purpose: str
                     ) -> None:
        manager = self.manager
        tracker = manager.circ_events
        tracker.unlaunched.add(global_id)
        try:
            if path is None:
                await manager.build_chosen(global_id, purpose)
            else:
                await manager.build_path(path, global_id, purpose)
        except _BUILD_ERRORS as exc:
            log.info("Controller circuit %d failed: %s", global_id, exc)
            if global_id in tracker.unlaunched:
                self._never_launched(global_id, purpose)
        finally:
            tracker.unlaunched.discard(global_id)

    def _never_launched(self, global_id: int, purpose: str) -> None:
        """The first hop failed before a circuit existed: FAILED and CLOSED, as tor
        reports a circuit whose channel could not be opened."""
        bus = self.manager.events
        for status in (CircStatus.FAILED, CircStatus.CLOSED):
            bus.emit(CircuitEvent(global_id, status, (), utcnow(), purpose=purpose,
                                  reason="CONNECTFAILED" if status == CircStatus.FAILED
                                  else "FINISHED"))

    async def _extend(self, circuit: Circuit, path: list[RelayInfo]) -> None:
        tracker = self.manager.circ_events
        try:
            for relay in path:
                await circuit.extend(relay, self.manager.build_timeout)
                tracker.extended(circuit)
        except _BUILD_ERRORS as exc:
            tracker.failed(circuit, exc)
            circuit.close("extend failed")
            return
        tracker.built(circuit)


async def controller_attached(
    manager: CircuitManager, record: StreamRecord, isolation: Hashable
) -> tuple[Stream, Circuit]:
    """__LeaveStreamsUnattached: wait for ATTACHSTREAM, then BEGIN where it says;
    after a failure that tor retries, wait for the controller again."""
    while True:
        waiting = manager.stream_events.controller_wait(record)
        try:
            async with asyncio.timeout(manager.controller_wait_timeout):
                chosen, hop = await waiting
        except TimeoutError:
            raise StreamClosed(EndReason.TIMEOUT, "no controller attached the stream"
                               ) from None
        finally:
            record.waiting = None
        manager.remap(record)
        if chosen is not None and chosen.isolation is None:
            # connection_edge_update_circuit_isolation: the first stream a circuit
            # carries fixes its isolation, whoever attached it
            chosen.isolation = isolation
        circuit = chosen or await manager.circuit_for(record.address, record.port,
                                                   isolation, set())
        manager.stream_events.sent_connect(record, circuit)
        try:
            stream = await circuit.open_stream(record.address, record.port,
                                               BEGIN_TIMEOUTS[0], hop)
        except StreamClosed as exc:
            if exc.reason not in RETRY_REASONS:
                raise
            manager.stream_events.detached(record, exc.reason)
            continue
        return stream, circuit


def hops_of(path: list[RelayInfo]) -> tuple[Hop, ...]:
    """The CIRC event path of ``path``."""
    return tuple(Hop(r.fingerprint, r.nickname) for r in path)

"""The relay's cell forwarding (features.relay.circuits): a run of RELAY cells from the next
hop, relayed in one piece, gives the previous channel the same cells as one at a time."""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import itertools
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, cast

import pytest

from tests.unit.relay.conftest import KeySet
from zwiebel.cells.circuit import Destroy, DestroyReason
from zwiebel.cells.framing import PAYLOAD_LEN, RawCell
from zwiebel.cells.framing import ChannelCommand as C
from zwiebel.cells.linkspec import LinkSpecIPv4, LinkSpecLegacyId
from zwiebel.features.relay import circuits as circuits_module
from zwiebel.features.relay.circuits import RelayCircuits
from zwiebel.proto.circuit import ClientCircuit
from zwiebel.proto.relay_create import answer_create
from zwiebel.runtime.orconn import OrConnection, OrIdentity

NEXT_CIRC_ID = 0x80000007
PREV_CIRC_ID = 0x80000005  # a client opened `prev`: its circuit IDs have the high bit


class FakeConn:
    """The parts of an `OrConnection` the circuit table uses; records what it is sent."""

    def __init__(self, conn_id: int, peer_rsa_id: bytes) -> None:
        self.conn_id = conn_id
        self.peer_rsa_id = peer_rsa_id
        self.is_client = False
        self.outbound = False
        self.link_version = 5
        self.circ_ids: set[int] = set()
        self.sent: list[RawCell] = []
        self.runs = 0

    def send_cell(self, circ_id: int, command: int, payload: bytes) -> None:
        self.sent.append((circ_id, command, payload))

    def send_cell_run(self, circ_id: int, command: int, bodies: bytes) -> None:
        self.runs += 1
        for start in range(0, len(bodies), PAYLOAD_LEN):
            self.sent.append((circ_id, command, bodies[start:start + PAYLOAD_LEN]))

    def allocate_circ_id(self) -> int:
        return NEXT_CIRC_ID

    def is_open(self) -> bool:
        return True

    def describe(self) -> str:
        return f"fake connection {self.conn_id}"


def _counter_rng() -> Callable[[int], bytes]:
    counter = itertools.count()
    return lambda n: hashlib.shake_256(next(counter).to_bytes(8, "big")).digest(n)


async def _extended_table(relay_a: KeySet, relay_b: KeySet, monkeypatch: pytest.MonkeyPatch
                          ) -> tuple[RelayCircuits, FakeConn, FakeConn]:
    """A table with one circuit from `prev` extended to `next`, built with a fixed RNG."""
    monkeypatch.setattr(circuits_module, "rng", _counter_rng())
    identity = cast(OrIdentity, SimpleNamespace(rsa_id=relay_a.onion.rsa_id_digest))
    table = RelayCircuits(identity, lambda: relay_a.onion, allow_private_extend=True)
    prev, nxt = FakeConn(1, bytes(20)), FakeConn(2, relay_b.onion.rsa_id_digest)

    async def get(*_: Any) -> FakeConn:
        return nxt
    monkeypatch.setattr(table.pool, "get", get)
    client = ClientCircuit(_counter_rng())
    client.create_fast()
    [(command, payload)] = client.cells_to_send()
    table.cells_received(cast(OrConnection, prev), [(PREV_CIRC_ID, command, payload)])
    client.handle_cell(prev.sent[0][1], prev.sent[0][2])
    specs = (LinkSpecIPv4(ipaddress.IPv4Address("127.0.0.1"), 9001),
             LinkSpecLegacyId(relay_b.onion.rsa_id_digest))
    client.extend_ntor(specs, relay_b.onion.rsa_id_digest, relay_b.ntor.public_bytes())
    extend = [(PREV_CIRC_ID, c, p) for c, p in client.cells_to_send()]
    table.cells_received(cast(OrConnection, prev), extend)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    [(circ_id, command, payload)] = nxt.sent
    assert (circ_id, command) == (NEXT_CIRC_ID, C.CREATE2)
    created = answer_create(command, payload, relay_b.onion, _counter_rng())
    table.cells_received(cast(OrConnection, nxt), [(circ_id, created.command, created.payload)])
    assert [cell[1] for cell in prev.sent] == [C.CREATED_FAST, C.RELAY]
    prev.sent.clear()
    return table, prev, nxt


def _backward_traffic() -> list[RawCell]:
    bodies = [hashlib.shake_256(bytes([i])).digest(PAYLOAD_LEN) for i in range(9)]
    cells: list[RawCell] = [(NEXT_CIRC_ID, C.RELAY, body) for body in bodies[:4]]
    cells.append((0x80000099, C.RELAY, bodies[4]))  # unknown circuit: ignored
    cells += [(NEXT_CIRC_ID, C.RELAY, body) for body in bodies[5:8]]
    cells.append((0, C.PADDING, bytes(PAYLOAD_LEN)))
    cells.append((NEXT_CIRC_ID, C.RELAY, bodies[8]))
    cells.append((NEXT_CIRC_ID, C.DESTROY, Destroy(DestroyReason.FINISHED).encode()))
    cells.append((NEXT_CIRC_ID, C.RELAY, bodies[0]))  # after DESTROY: circuit is gone
    return cells


def test_relayed_runs_equal_cell_by_cell(relay_a: KeySet, relay_b: KeySet,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    async def run() -> tuple[list[RawCell], list[RawCell], int]:
        batched, prev_b, next_b = await _extended_table(relay_a, relay_b, monkeypatch)
        single, prev_s, next_s = await _extended_table(relay_a, relay_b, monkeypatch)
        traffic = _backward_traffic()
        batched.cells_received(cast(OrConnection, next_b), traffic)
        for cell in traffic:
            single.cell_received(cast(OrConnection, next_s), *cell)
        assert prev_s.runs == 0
        return prev_b.sent, prev_s.sent, prev_b.runs

    batched, single, runs = asyncio.run(run())
    assert runs == 3
    assert len(batched) == 9 and batched == single
    assert [cell[1] for cell in batched] == [C.RELAY] * 8 + [C.DESTROY]
    assert all(cell[0] == PREV_CIRC_ID for cell in batched)


@pytest.mark.parametrize(("outbound", "circ_id", "answer"), [
    (False, 0x80000001, C.CREATED_FAST),   # a client or relay opened the channel to us
    (True, 0x00000001, C.CREATED_FAST),    # we opened it: the peer extends over it
    (False, 0x00000001, C.DESTROY),        # the peer opened it but sent a responder's ID
    (True, 0x80000001, C.DESTROY),         # we opened it and the peer used our high bit
])
def test_create_cells_on_either_direction_of_a_channel(
        relay_a: KeySet, outbound: bool, circ_id: int, answer: int) -> None:
    """tor's command_process_create_cell: a public relay answers creates on channels it
    opened as well; only the circuit ID's high bit must fit the channel's direction."""
    identity = cast(OrIdentity, SimpleNamespace(rsa_id=relay_a.onion.rsa_id_digest))
    table = RelayCircuits(identity, lambda: relay_a.onion)
    conn = FakeConn(1, bytes(20))
    conn.outbound = outbound
    client = ClientCircuit(_counter_rng())
    client.create_fast()
    [(command, payload)] = client.cells_to_send()
    table.cells_received(cast(OrConnection, conn), [(circ_id, command, payload)])
    assert [(cell[0], cell[1]) for cell in conn.sent] == [(circ_id, answer)]
    if answer == C.DESTROY:
        assert Destroy.decode(conn.sent[0][2]).reason == DestroyReason.PROTOCOL
        assert table.refused_total == 1
    else:
        assert table.created_total == 1

"""Random and mutated cells never crash a relay circuit: they close it with a reason."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.relay.conftest import make_relay
from zwiebel.cells.circuit import DestroyReason
from zwiebel.cells.framing import ChannelCommand as C
from zwiebel.cells.relay_msgs import Begin
from zwiebel.proto.circuit import ClientCircuit
from zwiebel.proto.relay_circuit import CircuitClosed, RelayCircuit
from zwiebel.proto.relay_create import CreateRefused, answer_create

KEYS = make_relay()
COMMANDS = st.sampled_from([C.RELAY, C.RELAY_EARLY, C.DESTROY, C.CREATED2, C.CREATE2,
                            C.PADDING, 200])


def _pair() -> tuple[ClientCircuit, RelayCircuit]:
    client = ClientCircuit(os.urandom)
    client.create_fast()
    [(command, payload)] = client.cells_to_send()
    answer = answer_create(command, payload, KEYS.onion, os.urandom)
    client.handle_cell(answer.command, answer.payload)
    return client, RelayCircuit(answer.keys, os.urandom)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(COMMANDS, st.binary(min_size=509, max_size=509)), max_size=6),
       st.booleans())
def test_random_cells_from_either_side(cells: list[tuple[int, bytes]], from_next: bool) -> None:
    _, circ = _pair()
    for command, payload in cells:
        events = (circ.from_next if from_next else circ.from_prev)(command, payload)
        for event in events:
            if isinstance(event, CircuitClosed):
                assert event.reason in {r.value for r in DestroyReason}
                assert circ.closed
        circ.cells_to_send()


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 508), st.integers(0, 255))
def test_flipped_byte_in_a_valid_cell(position: int, value: int) -> None:
    client, circ = _pair()
    client.send_message(Begin("example.com", 80), client.new_stream_id())
    [(command, payload)] = client.cells_to_send()
    mutated = payload[:position] + bytes([value]) + payload[position + 1:]
    events = circ.from_prev(command, mutated)
    if mutated != payload:
        assert all(isinstance(e, CircuitClosed) for e in events)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([C.CREATE, C.CREATE_FAST, C.CREATE2]), st.binary(max_size=600))
def test_random_create_cells_only_refuse(command: int, payload: bytes) -> None:
    try:
        answer_create(command, payload, KEYS.onion, os.urandom)
    except CreateRefused as exc:
        assert exc.reason == DestroyReason.PROTOCOL

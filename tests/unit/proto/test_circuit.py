"""The client circuit core against simulated relays built from the relay-side primitives.

Three hops: CREATE_FAST to the first, EXTEND2/ntor to the next two; then DATA and
authenticated SENDMEs end to end, and the protocol violations that tear a circuit down.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Sequence
from unittest import mock

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from zwiebel.cells.circuit import CreatedFast, CreateFast, Destroy, DestroyReason
from zwiebel.cells.framing import ChannelCommand
from zwiebel.cells.linkspec import LinkSpecIPv4, LinkSpecLegacyId
from zwiebel.cells.relay_ctrl import Drop, Extend2, Extended2, Sendme
from zwiebel.cells.relay_message import decode_cell, encode_message
from zwiebel.cells.relay_msgs import Begin, Data
from zwiebel.crypto import Rng
from zwiebel.crypto.keys import X25519Private
from zwiebel.proto.circuit import (
    CircuitDestroyed,
    CircuitFailed,
    CircuitState,
    ClientCircuit,
    DataReceived,
    HopAdded,
    StreamMessage,
    WindowOpened,
)
from zwiebel.proto.handshake import fast, ntor
from zwiebel.proto.relaycrypto import RelayHopCrypto


def counter_rng(seed: bytes = b"seed") -> Rng:
    """Deterministic bytes: SHA-256 in counter mode."""
    state = {"n": 0}

    def rng(n: int) -> bytes:
        out = b""
        while len(out) < n:
            state["n"] += 1
            out += hashlib.sha256(seed + state["n"].to_bytes(8, "big")).digest()
        return out[:n]

    return rng


class FakeRelay:
    """A relay's identity, ntor key and (once created) its layer of the circuit."""

    def __init__(self, index: int) -> None:
        self.rsa_id = bytes([index]) * 20
        self.onion = X25519Private(bytes([index + 1]) * 32)
        self.crypto: RelayHopCrypto | None = None


class Network:
    """The client plus three fake relays, moving cells both ways."""

    def __init__(self) -> None:
        self.rng = counter_rng()
        self.client = ClientCircuit(self.rng)
        self.relays = [FakeRelay(i) for i in range(3)]
        self.client.create_fast()
        [(command, payload)] = self.client.cells_to_send()
        assert command == ChannelCommand.CREATE_FAST
        reply, keys = fast.server_handshake(self.rng, CreateFast.decode(payload).x)
        self.relays[0].crypto = RelayHopCrypto(keys)
        events = self.client.handle_cell(
            ChannelCommand.CREATED_FAST, CreatedFast(reply[:20], reply[20:]).encode())
        assert events == [HopAdded(0)]
        for index in (1, 2):
            self.extend_to(index)

    def extend_to(self, index: int) -> None:
        relay = self.relays[index]
        spec = (LinkSpecIPv4(ipaddress.IPv4Address("127.0.0.1"), 9000 + index),
                LinkSpecLegacyId(relay.rsa_id))
        self.client.extend_ntor(spec, relay.rsa_id, relay.onion.public_bytes())
        [(command, cell)] = self.client.cells_to_send()
        assert command == ChannelCommand.RELAY_EARLY
        hop, body = self.forward(cell)
        assert hop == index - 1
        _, msg = decode_cell(body)
        assert isinstance(msg, Extend2)
        reply, keys = ntor.server_handshake(self.rng, msg.hdata, relay.rsa_id, [relay.onion])
        relay.crypto = RelayHopCrypto(keys)
        events = self.backward(index - 1, Extended2(reply), 0)
        assert events == [HopAdded(index)]

    def forward(self, cell: bytes) -> tuple[int, bytes]:
        """Pass a client cell along the relays; (hop that recognized it, body)."""
        for index, relay in enumerate(self.relays):
            assert relay.crypto is not None
            ours, cell = relay.crypto.decrypt_forward(cell)
            if ours:
                return index, cell
        raise AssertionError("no relay recognized the cell")

    def backward(self, hop: int, msg: object, stream_id: int) -> list[object]:
        """Originate `msg` at relay `hop` and deliver it to the client."""
        cell = self.backward_cell(hop, msg, stream_id)
        return list(self.client.handle_cell(ChannelCommand.RELAY, cell))

    def backward_cell(self, hop: int, msg: object, stream_id: int) -> bytes:
        """Originate `msg` at relay `hop`: the cell as it reaches the client."""
        body = encode_message(msg, stream_id, self.rng)  # type: ignore[arg-type]
        crypto = self.relays[hop].crypto
        assert crypto is not None
        cell = crypto.originate_backward(body)
        for index in range(hop - 1, -1, -1):
            inner = self.relays[index].crypto
            assert inner is not None
            cell = inner.relay_backward(cell)
        return cell


def test_three_hop_build_and_begin_reaches_the_exit() -> None:
    net = Network()
    assert net.client.hops == 3
    stream = net.client.new_stream_id()
    net.client.send_message(Begin("127.0.0.1", 80), stream)
    [(command, cell)] = net.client.cells_to_send()
    assert command == ChannelCommand.RELAY
    hop, body = net.forward(cell)
    assert hop == 2
    assert decode_cell(body) == (stream, Begin("127.0.0.1", 80))


def test_hundred_data_cells_yield_an_authenticated_sendme() -> None:
    """The circuit SENDME goes at once; stream SENDMEs wait until the reader consumed."""
    net = Network()
    stream = net.client.new_stream_id()
    exit_crypto = net.relays[2].crypto
    assert exit_crypto is not None
    digests = []
    for _ in range(100):
        events = net.backward(2, Data(b"x" * 498), stream)
        assert events == [DataReceived(2, stream, [b"x" * 498])]
        digests.append(exit_crypto.last_backward_digest)
    sendmes = [(hop, *decode_cell(body))
               for hop, body in (net.forward(cell) for _, cell in net.client.cells_to_send())]
    assert sendmes == [(2, 0, Sendme.v1(digests[99]))]
    net.client.stream_consumed(stream)
    consumed = [(hop, *decode_cell(body))
                for hop, body in (net.forward(cell) for _, cell in net.client.cells_to_send())]
    assert consumed == [(2, stream, Sendme())] * 2
    net.client.stream_consumed(stream)
    assert net.client.cells_to_send() == []
    assert net.client.bytes_received == 100 * 498


def test_a_run_of_cells_in_one_call_gives_the_same_results() -> None:
    """handle_cells: one DataReceived per stream run, cells of another hop in between,
    and the circuit SENDME v1 carries the digest right after the 100th DATA cell."""
    net = Network()
    first, second = net.client.new_stream_id(), net.client.new_stream_id()
    exit_crypto = net.relays[2].crypto
    assert exit_crypto is not None
    cells, digests = [], []
    for i in range(120):
        stream = first if i < 60 or i >= 70 else second
        cells.append(net.backward_cell(2, Data(bytes([i]) * 100), stream))
        digests.append(exit_crypto.last_backward_digest)
        if i == 64:
            cells.append(net.backward_cell(1, Drop(), 0))
    events = net.client.handle_cells([(ChannelCommand.RELAY, cell) for cell in cells])
    assert [type(e).__name__ for e in events] == [
        "DataReceived", "DataReceived", "StreamMessage", "DataReceived", "DataReceived"]
    assert events[2] == StreamMessage(1, 0, Drop())
    chunks = [(e.stream_id, c) for e in events if isinstance(e, DataReceived) for c in e.chunks]
    assert chunks == [(first if i < 60 or i >= 70 else second, bytes([i]) * 100)
                      for i in range(120)]
    sendmes = [(hop, *decode_cell(body))
               for hop, body in (net.forward(cell) for _, cell in net.client.cells_to_send())]
    assert sendmes == [(2, 0, Sendme.v1(digests[99]))]
    assert net.client.bytes_received == 120 * 100


def test_an_unrecognized_cell_in_a_run_fails_after_the_cells_before_it() -> None:
    net = Network()
    stream = net.client.new_stream_id()
    good = [net.backward_cell(2, Data(b"ok"), stream) for _ in range(3)]
    cells = [(ChannelCommand.RELAY, cell) for cell in [*good[:2], bytes(509), good[2]]]
    events = net.client.handle_cells(cells)
    assert events[0] == DataReceived(2, stream, [b"ok", b"ok"], 2)
    assert isinstance(events[1], CircuitFailed)
    assert len(events) == 2


def test_package_window_and_sendme_from_the_exit() -> None:
    net = Network()
    stream = net.client.new_stream_id()
    sent = 0
    while net.client.can_send_data(stream):
        net.client.send_data(stream, b"y" * 498)
        sent += 1
    assert sent == 500  # the stream window (500) closes before the circuit's (1000)
    exit_crypto = net.relays[2].crypto
    assert exit_crypto is not None
    digest_after_100 = b""
    for index, (_, cell) in enumerate(net.client.cells_to_send()):
        net.forward(cell)
        if index == 99:
            digest_after_100 = exit_crypto.last_forward_digest
    assert net.backward(2, Sendme(), stream) == [WindowOpened(stream)]
    assert net.backward(2, Sendme.v1(digest_after_100), 0) == [WindowOpened(0)]
    assert net.client.can_send_data(stream)


def test_wrong_sendme_digest_fails_the_circuit() -> None:
    net = Network()
    stream = net.client.new_stream_id()
    for _ in range(100):
        net.client.send_data(stream, b"z")
    events = net.backward(2, Sendme.v1(b"\x00" * 20), 0)
    assert len(events) == 1 and isinstance(events[0], CircuitFailed)
    assert net.client.state is CircuitState.CLOSED


def test_unexpected_sendme_fails_the_circuit() -> None:
    net = Network()
    events = net.backward(2, Sendme.v1(b"\x01" * 20), 0)
    assert isinstance(events[0], CircuitFailed)


def test_garbage_relay_cell_fails_the_circuit() -> None:
    net = Network()
    events = net.client.handle_cell(ChannelCommand.RELAY, bytes(509))
    assert len(events) == 1 and isinstance(events[0], CircuitFailed)


def test_destroy_from_the_guard() -> None:
    net = Network()
    payload = Destroy(DestroyReason.CHANNEL_CLOSED).encode()
    events = net.client.handle_cell(ChannelCommand.DESTROY, payload)
    assert events == [CircuitDestroyed(DestroyReason.CHANNEL_CLOSED)]
    assert net.client.state is CircuitState.CLOSED


def test_client_destroy_is_queued() -> None:
    net = Network()
    net.client.destroy()
    assert net.client.cells_to_send() == [
        (ChannelCommand.DESTROY, Destroy(DestroyReason.NONE).encode())]


@pytest.mark.parametrize("count", [8, 9])
def test_relay_early_budget(count: int) -> None:
    net = Network()  # two EXTEND2 cells used two RELAY_EARLY cells
    commands = []
    for _ in range(count):
        net.client.send_message(Begin("127.0.0.1", 80), 1, early=True)
        commands += [c for c, _ in net.client.cells_to_send()]
    early = commands.count(ChannelCommand.RELAY_EARLY)
    assert early == 6
    assert commands.count(ChannelCommand.RELAY) == count - 6


def _merged(events: Sequence[object]) -> list[object]:
    """Events with consecutive DataReceived of one hop and stream merged into one event
    with one chunk and their cells counted together (runs may cut a download's data into
    chunks differently, but never its cell count)."""
    out: list[object] = []
    for event in events:
        last = out[-1] if out else None
        if (isinstance(event, DataReceived) and isinstance(last, DataReceived)
                and (last.hop, last.stream_id) == (event.hop, event.stream_id)):
            out[-1] = DataReceived(last.hop, last.stream_id, [b"".join(last.chunks + event.chunks)],
                                   last.cells + event.cells)
        elif isinstance(event, DataReceived):
            out.append(DataReceived(event.hop, event.stream_id, [b"".join(event.chunks)],
                                    event.cells))
        else:
            out.append(event)
    return out


@settings(max_examples=25, deadline=None)
@example([(2, 498, True)] * 250 + [(1, 3, True)] * 120 + [(0, 0, False)], [7, 64, 1])
@given(st.lists(st.tuples(st.sampled_from([0, 1, 2]), st.integers(0, 498), st.booleans()),
                min_size=1, max_size=260),
       st.lists(st.integers(1, 40), min_size=1, max_size=8))
def test_runs_and_single_cells_agree(cells: list[tuple[int, int, bool]],
                                     cuts: list[int]) -> None:
    """Any mix of DATA and DROP from any hop, handed over in runs of any length, gives
    the events and the SENDMEs (bytes) that one cell at a time gives without the bulk
    paths (a whole run recognized at once, a run of full DATA cells counted at once)."""
    one, many = Network(), Network()
    one.client._on_full_data_run = lambda run, events: False  # type: ignore[method-assign]
    stream = one.client.new_stream_id()
    assert many.client.new_stream_id() == stream
    wire = []
    for hop, size, is_data in cells:
        msg = Data(bytes([size % 256]) * size) if is_data else Drop()
        sid = stream if is_data else 0
        cell = one.backward_cell(hop, msg, sid)
        assert many.backward_cell(hop, msg, sid) == cell  # the networks are twins
        wire.append((int(ChannelCommand.RELAY), cell))
    with mock.patch("zwiebel.proto.relaycrypto._recognize_all", return_value=None):
        singles = [e for command, cell in wire for e in one.client.handle_cell(command, cell)]
    batched: list[object] = []
    at, turn = 0, 0
    while at < len(wire):
        size = cuts[turn % len(cuts)]
        batched += many.client.handle_cells(wire[at:at + size])
        at, turn = at + size, turn + 1
    assert _merged(batched) == _merged(singles)
    sent = one.client.cells_to_send()
    assert many.client.cells_to_send() == sent
    assert len(sent) >= sum(1 for hop, _, data in cells if data and hop == 2) // 100
    assert many.client.bytes_received == one.client.bytes_received

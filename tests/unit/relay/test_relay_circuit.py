"""The relay side of a circuit against Zwiebel's own client core, cell by cell."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable

import pytest

from tests.unit.relay.conftest import KeySet
from zwiebel.cells.circuit import Create2, Created2, Destroy, DestroyReason, HandshakeType
from zwiebel.cells.framing import ChannelCommand as C
from zwiebel.cells.linkspec import LinkSpecIPv4, LinkSpecLegacyId
from zwiebel.cells.relay_msgs import Begin, BeginDir, Connected, End, EndReason
from zwiebel.proto.circuit import (
    CircuitDestroyed,
    CircuitEvent,
    ClientCircuit,
    DataReceived,
    HopAdded,
    StreamMessage,
)
from zwiebel.proto.handshake import ntor_v3
from zwiebel.proto.handshake.extensions import cc_request, encode_extensions
from zwiebel.proto.relay_circuit import (
    CircuitClosed,
    ExtendRequested,
    RelayCircuit,
    RelayCircuitEvent,
    Side,
)
from zwiebel.proto.relay_create import CreateRefused, answer_create
from zwiebel.proto.relay_streams import (
    BeginDirRequested,
    BeginRequested,
    StreamData,
    StreamWindowOpened,
)


def _open(relay: KeySet, client: ClientCircuit, client_channel: bool = False) -> RelayCircuit:
    [(command, payload)] = client.cells_to_send()
    answer = answer_create(command, payload, relay.onion, os.urandom)
    events = client.handle_cell(answer.command, answer.payload)
    assert events == [HopAdded(0)]
    return RelayCircuit(answer.keys, os.urandom, client_channel=client_channel)


def _to_relay(client: ClientCircuit, circ: RelayCircuit) -> list[RelayCircuitEvent]:
    events: list[RelayCircuitEvent] = []
    for command, payload in client.cells_to_send():
        events += circ.from_prev(command, payload)
    return events


def _to_client(circ: RelayCircuit, client: ClientCircuit) -> list[CircuitEvent]:
    events: list[CircuitEvent] = []
    for cell in circ.cells_to_send():
        assert cell.side is Side.PREV
        events += client.handle_cell(cell.command, cell.payload)
    return events


@pytest.mark.parametrize("how", ["fast", "ntor"])
def test_create_then_begin_and_data_both_ways(relay_a: KeySet, how: str) -> None:
    client = ClientCircuit(os.urandom)
    if how == "fast":
        client.create_fast()
    else:
        client.create_ntor(relay_a.onion.rsa_id_digest, relay_a.ntor.public_bytes())
    circ = _open(relay_a, client)
    sid = client.new_stream_id()
    client.send_message(Begin("Example.COM", 80), sid)
    assert _to_relay(client, circ) == [BeginRequested(sid, "example.com", 80, 0)]
    circ.send_to_client(Connected(None), sid)
    assert [type(e.message) for e in _to_client(circ, client)
            if isinstance(e, StreamMessage)] == [Connected]
    client.send_data(sid, b"GET /")
    assert _to_relay(client, circ) == [StreamData(sid, b"GET /")]
    assert circ.can_send_data(sid)
    circ.send_data(sid, b"HTTP/1.0 200")
    assert _to_client(circ, client) == [DataReceived(0, sid, [b"HTTP/1.0 200"])]
    stats = circ.statistics()
    assert stats["cells"] == {"prev_in": 2, "prev_out": 2, "next_in": 0, "next_out": 0}
    assert stats["bytes_read"] == 2 * 514


def test_ntor_v3_create2(relay_a: KeySet) -> None:
    state, onionskin = ntor_v3.client_create(os.urandom, relay_a.ed_id.public_bytes(),
                                             relay_a.ntor.public_bytes(), b"\x00")
    answer = answer_create(C.CREATE2, Create2(HandshakeType.NTOR_V3, onionskin).encode(),
                           relay_a.onion, os.urandom, 31)
    assert answer.command == C.CREATED2 and answer.handshake == "ntor-v3"
    sm, keys = ntor_v3.client_complete(state, Created2.decode(answer.payload).hdata)
    assert sm == b"\x00" and keys == answer.keys  # an extension list with no extensions
    assert answer.sendme_inc is None  # nothing asked, nothing granted


@pytest.mark.parametrize("offer,granted,server_message", [
    (31, 31, b"\x01\x02\x01\x1f"),  # one extension: CC_RESPONSE, length 1, sendme_inc 31
    (25, 25, b"\x01\x02\x01\x19"),
    (None, None, b"\x00"),  # congestion control disabled in the consensus
])
def test_ntor_v3_congestion_control_request(relay_a: KeySet, offer: int | None,
                                            granted: int | None, server_message: bytes) -> None:
    """tor's client asks with the extension list [CC_REQUEST] (01 01 00); the relay
    grants the consensus's cc_sendme_inc when congestion control is enabled."""
    request = encode_extensions((cc_request(),))
    assert request == b"\x01\x01\x00"
    state, onionskin = ntor_v3.client_create(os.urandom, relay_a.ed_id.public_bytes(),
                                             relay_a.ntor.public_bytes(), request)
    answer = answer_create(C.CREATE2, Create2(HandshakeType.NTOR_V3, onionskin).encode(),
                           relay_a.onion, os.urandom, offer)
    sm, _ = ntor_v3.client_complete(state, Created2.decode(answer.payload).hdata)
    assert (answer.sendme_inc, sm) == (granted, server_message)


@pytest.mark.parametrize("client_message", [b"", b"\x01", b"\x01\x01\x05"])
def test_ntor_v3_malformed_client_message_is_refused(relay_a: KeySet,
                                                      client_message: bytes) -> None:
    """tor fails the handshake when the client's extension list does not parse
    (congestion_control_parse_ext_request)."""
    _, onionskin = ntor_v3.client_create(os.urandom, relay_a.ed_id.public_bytes(),
                                         relay_a.ntor.public_bytes(), client_message)
    with pytest.raises(CreateRefused) as info:
        answer_create(C.CREATE2, Create2(HandshakeType.NTOR_V3, onionskin).encode(),
                      relay_a.onion, os.urandom, 31)
    assert info.value.reason == DestroyReason.PROTOCOL


@pytest.mark.parametrize("command,payload", [
    (C.CREATE, bytes(509)),
    (C.CREATE2, Create2(HandshakeType.TAP, bytes(100)).encode()),
    (C.CREATE2, Create2(7, bytes(10)).encode()),
    (C.CREATE2, Create2(HandshakeType.NTOR, bytes(84)).encode()),
    (C.CREATE2, b"\x00\x02\x01\xff" + bytes(505)),
])
def test_refused_creates_are_protocol(relay_a: KeySet, command: int, payload: bytes) -> None:
    with pytest.raises(CreateRefused) as info:
        answer_create(command, payload, relay_a.onion, os.urandom)
    assert info.value.reason == DestroyReason.PROTOCOL


def test_begin_on_client_channel_is_refused_but_begin_dir_allowed(relay_a: KeySet) -> None:
    client = ClientCircuit(os.urandom)
    client.create_fast()
    circ = _open(relay_a, client, client_channel=True)
    sid = client.new_stream_id()
    client.send_message(Begin("10.0.0.1", 80), sid)
    assert _to_relay(client, circ) == []
    [event] = _to_client(circ, client)
    assert isinstance(event, StreamMessage) and event.message == End(EndReason.TORPROTOCOL)
    sid2 = client.new_stream_id()
    client.send_message(BeginDir(), sid2)
    assert _to_relay(client, circ) == [BeginDirRequested(sid2)]


def test_extend2_forward_and_back(relay_a: KeySet, relay_b: KeySet) -> None:
    client = ClientCircuit(os.urandom)
    client.create_fast()
    circ = _open(relay_a, client)
    import ipaddress
    specs = (LinkSpecIPv4(ipaddress.IPv4Address("127.0.0.1"), 9001),
             LinkSpecLegacyId(relay_b.onion.rsa_id_digest))
    client.extend_ntor(specs, relay_b.onion.rsa_id_digest, relay_b.ntor.public_bytes())
    [req] = _to_relay(client, circ)
    assert isinstance(req, ExtendRequested) and req.rsa_id == relay_b.onion.rsa_id_digest
    answer = answer_create(C.CREATE2, req.create2_payload, relay_b.onion, os.urandom)
    circ_b = RelayCircuit(answer.keys, os.urandom)
    assert circ.from_next(answer.command, answer.payload) == []
    assert _to_client(circ, client) == [HopAdded(1)]
    sid = client.new_stream_id()
    client.send_message(Begin("127.0.0.1", 80), sid)
    [(command, payload)] = client.cells_to_send()
    assert circ.from_prev(command, payload) == []
    [fwd] = circ.cells_to_send()
    assert fwd.side is Side.NEXT and fwd.command == C.RELAY
    assert circ_b.from_prev(fwd.command, fwd.payload) == [BeginRequested(sid, "127.0.0.1", 80, 0)]
    circ_b.send_to_client(Connected(None), sid)
    [back] = circ_b.cells_to_send()
    circ.from_next(back.command, back.payload)
    [event] = _to_client(circ, client)
    assert isinstance(event, StreamMessage) and event.hop == 1
    # DESTROY from the client goes on with reason DESTROYED.
    events = circ.from_prev(C.DESTROY, Destroy(DestroyReason.REQUESTED).encode())
    assert events == [CircuitClosed(DestroyReason.DESTROYED, "DESTROY from the previous hop")]
    [cell] = circ.cells_to_send()
    assert cell.side is Side.NEXT and Destroy.decode(cell.payload).reason == 11


def test_extend2_outside_relay_early_is_dropped(relay_a: KeySet, relay_b: KeySet) -> None:
    client = ClientCircuit(os.urandom)
    client.create_fast()
    circ = _open(relay_a, client)
    from zwiebel.cells.relay_ctrl import Extend2
    specs = (LinkSpecLegacyId(relay_b.onion.rsa_id_digest),)
    client.send_message(Extend2(specs, HandshakeType.NTOR, bytes(84)), 0)
    assert _to_relay(client, circ) == [] and circ.cells_to_send() == []


def test_too_many_relay_early_cells_close_with_protocol(relay_a: KeySet) -> None:
    client = ClientCircuit(os.urandom)
    client.create_fast()
    circ = _open(relay_a, client)
    from zwiebel.cells.relay_ctrl import Drop
    for _ in range(9):
        client.send_message(Drop(), 0, early=True)
    out = client.cells_to_send()
    for _, payload in out[:8]:
        assert circ.from_prev(C.RELAY_EARLY, payload) == []
    [closed] = circ.from_prev(C.RELAY_EARLY, out[8][1])
    assert isinstance(closed, CircuitClosed) and closed.reason == DestroyReason.PROTOCOL
    assert [type(e) for e in _to_client(circ, client)] == [CircuitDestroyed]


def test_garbage_relay_cell_closes_with_protocol(relay_a: KeySet) -> None:
    client = ClientCircuit(os.urandom)
    client.create_fast()
    circ = _open(relay_a, client)
    [closed] = circ.from_prev(C.RELAY, os.urandom(509))
    assert isinstance(closed, CircuitClosed) and closed.reason == DestroyReason.PROTOCOL
    [cell] = circ.cells_to_send()
    assert cell.command == C.DESTROY and Destroy.decode(cell.payload).reason == 1
    assert circ.from_prev(C.RELAY, os.urandom(509)) == []


def test_circuit_sendme_cycle(relay_a: KeySet) -> None:
    """1200 DATA cells to the client: its v1 circuit SENDMEs and stream SENDMEs must verify
    at the relay and keep both windows open."""
    client = ClientCircuit(os.urandom)
    client.create_fast()
    circ = _open(relay_a, client)
    sid = client.new_stream_id()
    client.send_message(Begin("1.2.3.4", 80), sid)
    _to_relay(client, circ)
    sent = 0
    while circ.can_send_data(sid) and sent < 1200:
        circ.send_data(sid, b"x" * 498)
        sent += 1
        _to_client(circ, client)
        if sent <= 600:
            client.stream_consumed(sid)
        for event in _to_relay(client, circ):
            assert not isinstance(event, CircuitClosed)
    # The client consumed the first 600 cells: 12 stream SENDMEs (x 50 cells), so the
    # stream window stops the relay after 500 + 600 cells; a circuit SENDME for every
    # 100 cells delivered (11) keeps the circuit window open.
    assert sent == 1100
    assert circ.package.window == 1000 - 1100 + 11 * 100
    assert circ.streams.streams[sid].package.window == 0


def test_backward_run_matches_from_next(relay_a: KeySet, relay_b: KeySet) -> None:
    """`relay_backward_run` gives the bytes and counters of `from_next` cell by cell."""
    import ipaddress
    client = ClientCircuit(os.urandom)
    client.create_fast()
    [(command, payload)] = client.cells_to_send()
    answer = answer_create(command, payload, relay_a.onion, os.urandom)
    client.handle_cell(answer.command, answer.payload)
    circs = [RelayCircuit(answer.keys, os.urandom) for _ in range(2)]
    assert circs[1].relay_backward_run([bytes(509)]) is None
    specs = (LinkSpecIPv4(ipaddress.IPv4Address("127.0.0.1"), 9001),
             LinkSpecLegacyId(relay_b.onion.rsa_id_digest))
    client.extend_ntor(specs, relay_b.onion.rsa_id_digest, relay_b.ntor.public_bytes())
    [(command, payload)] = client.cells_to_send()
    requests = [circ.from_prev(command, payload) for circ in circs]
    assert requests[0] == requests[1] and isinstance(requests[0][0], ExtendRequested)
    created = answer_create(C.CREATE2, requests[0][0].create2_payload, relay_b.onion,
                            os.urandom)
    for circ in circs:
        assert circ.from_next(created.command, created.payload) == []
        circ.cells_to_send()
    bodies = [os.urandom(509) for _ in range(5)]
    singles = []
    for body in bodies:
        assert circs[0].from_next(C.RELAY, body) == []
        [cell] = circs[0].cells_to_send()
        singles.append(cell.payload)
    assert circs[1].relay_backward_run(bodies) == b"".join(singles)
    assert circs[1].cells_to_send() == []
    assert circs[1].statistics()["cells"] == circs[0].statistics()["cells"]
    circs[1].destroy(DestroyReason.FINISHED, "done")
    assert circs[1].relay_backward_run(bodies) is None


def _counting_rng() -> Callable[[int], bytes]:
    calls = [0]

    def rng(n: int) -> bytes:
        calls[0] += 1
        return hashlib.shake_256(calls[0].to_bytes(4, "big")).digest(n)
    return rng


@pytest.mark.parametrize("full", [False, True])
def test_send_data_run_equals_send_data_one_by_one(relay_a: KeySet, full: bool) -> None:
    """The exit's batched DATA path gives the bytes, windows, SENDME digests and counters
    of `send_data` chunk by chunk (150 cells: past the first circuit SENDME point), both
    for chunks of any size and for full chunks with a short last one (the exit's pump
    cuts them so: one join lays out the bodies)."""
    client = ClientCircuit(os.urandom)
    client.create_fast()
    [(command, payload)] = client.cells_to_send()
    answer = answer_create(command, payload, relay_a.onion, os.urandom)
    client.handle_cell(answer.command, answer.payload)
    circs = [RelayCircuit(answer.keys, _counting_rng()) for _ in range(2)]
    sid = client.new_stream_id()
    client.send_message(Begin("1.2.3.4", 80), sid)
    [(command, payload)] = client.cells_to_send()
    for circ in circs:
        assert circ.from_prev(command, payload) == [BeginRequested(sid, "1.2.3.4", 80, 0)]
    assert circs[1].data_room(sid) == 500 and circs[1].data_room(sid + 1) == 0
    chunks = [bytes([i % 256]) * (498 if i % 7 or full else i % 499) for i in range(150)]
    if full:
        chunks[-1] = b"tail"
    for chunk in chunks:
        circs[0].send_data(sid, chunk)
    singles = [cell.payload for cell in circs[0].cells_to_send()]
    run = circs[1].send_data_run(sid, chunks)
    assert run == b"".join(singles) and circs[1].cells_to_send() == []
    assert circs[1].package.statistics() == circs[0].package.statistics()
    assert circs[1].data_room(sid) == circs[0].data_room(sid) == 350
    assert circs[1].statistics() == circs[0].statistics()
    cells = [(C.RELAY, run[start:start + 509]) for start in range(0, len(run), 509)]
    [received] = client.handle_cells(cells)
    assert isinstance(received, DataReceived) and (received.hop, received.stream_id) == (0, sid)
    assert b"".join(received.chunks) == b"".join(chunks) and received.cells == len(chunks)
    [(command, payload)] = client.cells_to_send()  # the circuit SENDME after 100 cells
    for circ in circs:
        assert circ.from_prev(command, payload) == [StreamWindowOpened(0)]
    with pytest.raises(ValueError):
        circs[1].send_data_run(sid, [b"x"] * 351)

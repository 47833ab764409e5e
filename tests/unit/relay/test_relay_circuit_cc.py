"""A relay circuit that negotiated proposal-324 congestion control (the exit's side):
the package side follows cwnd - inflight and takes a SENDME v1 every cc_sendme_inc cells,
the deliver side sends one every cc_sendme_inc cells, and streams use XON/XOFF."""

from __future__ import annotations

import os
from itertools import count

import pytest

from tests.unit.relay.conftest import KeySet
from tests.unit.relay.test_relay_circuit import _to_client, _to_relay
from zwiebel.cells.framing import ChannelCommand as C
from zwiebel.cells.relay import RelayCommand
from zwiebel.cells.relay_ctrl import Sendme
from zwiebel.cells.relay_flow import Xoff, Xon
from zwiebel.cells.relay_message import Unrecognized
from zwiebel.cells.relay_msgs import Begin, Connected
from zwiebel.proto.cc_window import CongestionWindow
from zwiebel.proto.circuit import ClientCircuit, DataReceived
from zwiebel.proto.congestion import CcParams, CongestionControl
from zwiebel.proto.relay_circuit import CircuitClosed, RelayCircuit
from zwiebel.proto.relay_create import answer_create
from zwiebel.proto.relay_streams import StreamData, StreamWindowOpened
from zwiebel.proto.sendme import CircuitDeliverWindow

SENDME_INC = 31
CWND_INIT = 4 * SENDME_INC  # tor's cc_cwnd_init default


def _open(relay: KeySet, congestion: bool) -> tuple[ClientCircuit, RelayCircuit, int]:
    """A one-hop circuit with one open stream; the client's deliver window counts in
    cc_sendme_inc steps, as tor's client does once congestion control is negotiated."""
    client = ClientCircuit(os.urandom)
    client.create_fast()
    [(command, payload)] = client.cells_to_send()
    answer = answer_create(command, payload, relay.onion, os.urandom)
    client.handle_cell(answer.command, answer.payload)
    ticks = count(1_000_000, 2_000)
    window = (CongestionWindow(CongestionControl(CcParams.from_consensus({}), SENDME_INC),
                               lambda: next(ticks)) if congestion else None)
    circ = RelayCircuit(answer.keys, os.urandom, congestion=window)
    if congestion:
        client._hops[0].deliver = CircuitDeliverWindow(increment=SENDME_INC)
    sid = client.new_stream_id()
    client.send_message(Begin("127.0.0.1", 80), sid)
    _to_relay(client, circ)
    circ.send_to_client(Connected(None), sid)
    _to_client(circ, client)
    return client, circ, sid


def test_download_is_paced_by_cwnd_and_sendmes_every_31_cells(relay_a: KeySet) -> None:
    client, circ, sid = _open(relay_a, congestion=True)
    assert circ.data_room(sid) == CWND_INIT  # no stream window of 500 any more
    run = circ.send_data_run(sid, [bytes([i % 256]) * 498 for i in range(CWND_INIT)])
    assert len(run) == CWND_INIT * 509 and circ.data_room(sid) == 0
    events = []
    for start in range(0, len(run), 509):
        events += client.handle_cell(C.RELAY, run[start:start + 509])
    assert sum(len(e.chunks) for e in events if isinstance(e, DataReceived)) == CWND_INIT
    sendmes = client.cells_to_send()
    assert len(sendmes) == CWND_INIT // SENDME_INC  # v1, carrying cells 31, 62, 93, 124
    opened = []
    for command, payload in sendmes:
        opened += circ.from_prev(command, payload)
    assert opened == [StreamWindowOpened(0)] * 4
    assert isinstance(circ.package, CongestionWindow)
    assert circ.package.cc.inflight == 0 and circ.data_room(sid) == circ.package.cc.cwnd > 0


def test_a_sendme_with_the_wrong_digest_closes_the_circuit(relay_a: KeySet) -> None:
    client, circ, sid = _open(relay_a, congestion=True)
    circ.send_data_run(sid, [b"x" * 498] * SENDME_INC)
    client.send_message(Sendme.v1(bytes(20)), 0)
    [closed] = _to_relay(client, circ)
    assert isinstance(closed, CircuitClosed) and "bad circuit SENDME" in closed.message


def test_stream_sendme_closes_a_congestion_controlled_circuit(relay_a: KeySet) -> None:
    client, circ, sid = _open(relay_a, congestion=True)
    client.send_message(Sendme(), sid)
    [closed] = _to_relay(client, circ)
    assert isinstance(closed, CircuitClosed) and "congestion control" in closed.message


def test_upload_gets_a_circuit_sendme_every_31_cells(relay_a: KeySet) -> None:
    client, circ, sid = _open(relay_a, congestion=True)
    for _ in range(2 * SENDME_INC + 5):
        client.send_data(sid, b"u" * 498)
    events = _to_relay(client, circ)
    assert events.count(StreamData(sid, b"u" * 498)) == 2 * SENDME_INC + 5
    replies = circ.cells_to_send()
    assert len(replies) == 2  # two circuit SENDMEs, no stream SENDME ever
    assert circ.deliver.window == 1000 - 5


@pytest.mark.parametrize("congestion", [True, False])
def test_xoff_and_xon(relay_a: KeySet, congestion: bool) -> None:
    client, circ, sid = _open(relay_a, congestion)
    room = circ.data_room(sid)
    client.send_message(Xoff(), sid)
    assert _to_relay(client, circ) == []
    assert circ.data_room(sid) == (0 if congestion else room)
    client.send_message(Xoff(), sid)  # a second XOFF: ignored
    client.send_message(Unrecognized(RelayCommand.XON, b"\x01\x00\x00\x00\x01"), sid)
    assert _to_relay(client, circ) == []  # a malformed XON is dropped, not fatal
    client.send_message(Xon(100), sid)
    assert _to_relay(client, circ) == ([StreamWindowOpened(sid)] if congestion else [])
    assert circ.data_room(sid) == room
    stream = circ.streams.streams[sid]
    assert stream.xon_rate == (100_000 if congestion else 0)
    assert not circ.closed

"""The responder link handshake against Zwiebel's initiator, in memory, byte for byte."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os

import pytest

from tests.unit.relay.conftest import NOW, KeySet
from zwiebel.cells.framing import CellDecoder, ChannelCommand, encode_cell
from zwiebel.cells.link import AuthChallenge, Certs, Netinfo, Versions
from zwiebel.crypto.keys import Ed25519Private
from zwiebel.proto.channel import ChannelEstablished, ChannelInitiator, InitiatorParams
from zwiebel.proto.channel_certs import ProtocolViolation
from zwiebel.proto.channel_responder import (
    ChannelResponder,
    InitiatorOpened,
    ResponderParams,
    ResponderState,
    responder_certs_with_link,
)

EXPIRES = NOW + dt.timedelta(days=30)
ME = ipaddress.IPv4Address("127.0.0.1")
PEER = ipaddress.IPv4Address("127.0.0.2")


def _exporter(secret: bytes):  # type: ignore[no-untyped-def]
    def export(label: bytes, context: bytes, length: int) -> bytes:
        return hashlib.sha256(secret + label + context).digest()[:length]
    return export


def _responder(relay: KeySet, exporter_secret: bytes = b"s") -> ChannelResponder:
    certs = responder_certs_with_link(relay.link.responder_certs(relay.tls_cert, EXPIRES),
                                      relay.tls_cert)
    return ChannelResponder(ResponderParams(
        certs, relay.rsa.public(), relay.ed_id.public_bytes(), relay.tls_cert, PEER,
        os.urandom, (ME,), _exporter(exporter_secret)))


def _pump(init: ChannelInitiator, resp: ChannelResponder, first: bytes
          ) -> tuple[list[object], list[object]]:
    i_events: list[object] = []
    r_events: list[object] = []
    to_resp = first
    for _ in range(5):
        if to_resp:
            r_events += resp.receive_data(to_resp, NOW)
        to_init = resp.data_to_send()
        if to_init:
            i_events += init.receive_data(to_init, NOW)
        to_resp = init.data_to_send()
    return i_events, r_events


def test_client_initiator_is_marked_client(relay_a: KeySet) -> None:
    resp = _responder(relay_a)
    init = ChannelInitiator(InitiatorParams(relay_a.tls_cert, ME))
    i_events, r_events = _pump(init, resp, init.initiate())
    [opened] = [e for e in r_events if isinstance(e, InitiatorOpened)]
    assert opened.is_client and opened.link_version == 5
    assert opened.peer_netinfo.other_address == ME
    [est] = [e for e in i_events if isinstance(e, ChannelEstablished)]
    assert est.peer_rsa_id == relay_a.rsa.public().fingerprint()
    assert est.peer_netinfo.other_address == PEER and est.peer_netinfo.my_addresses == (ME,)
    assert resp.state is ResponderState.OPEN


def test_responder_flight_is_versions_certs_challenge_netinfo(relay_a: KeySet) -> None:
    resp = _responder(relay_a)
    resp.receive_data(encode_cell(0, ChannelCommand.VERSIONS, Versions((3, 4)).encode(), None),
                      NOW)
    out = resp.data_to_send()
    dec = CellDecoder()
    cells = dec.feed(out)
    dec.set_link_version(4)
    cells += dec.feed(b"")
    assert [c[1] for c in cells] == [7, 129, 130, 8]
    assert Versions.decode(cells[0][2]).versions == (4, 5)
    assert [t for t, _ in Certs.decode(cells[1][2]).certs] == [1, 2, 7, 4, 5]
    assert AuthChallenge.decode(cells[2][2]).methods == (3,)
    assert Netinfo.decode(cells[3][2]).other_address == PEER
    assert out[:9] == b"\x00\x00\x07\x00\x04\x00\x04\x00\x05"  # 2-byte CircID VERSIONS
    assert out[9:14] == b"\x00\x00\x00\x00\x81"  # then 4-byte CircIDs


def test_authenticating_relay_initiator(relay_a: KeySet, relay_b: KeySet) -> None:
    resp = _responder(relay_a)
    auth = relay_b.link.initiator_auth(Ed25519Private(os.urandom(32)), EXPIRES)
    init = ChannelInitiator(InitiatorParams(relay_a.tls_cert, ME, auth=auth,
                                            tls_exporter=_exporter(b"s"), rng=os.urandom,
                                            my_addresses=(PEER,)))
    i_events, r_events = _pump(init, resp, init.initiate())
    [opened] = [e for e in r_events if isinstance(e, InitiatorOpened)]
    assert not opened.is_client and opened.peer is not None
    assert opened.peer.rsa_id_digest == relay_b.rsa.public().fingerprint()
    assert opened.peer.ed25519_identity == relay_b.ed_id.public_bytes()
    [est] = [e for e in i_events if isinstance(e, ChannelEstablished)]
    assert est.authenticated


def test_wrong_tls_binding_fails_authenticate(relay_a: KeySet, relay_b: KeySet) -> None:
    resp = _responder(relay_a, exporter_secret=b"other session")
    auth = relay_b.link.initiator_auth(Ed25519Private(os.urandom(32)), EXPIRES)
    init = ChannelInitiator(InitiatorParams(relay_a.tls_cert, ME, auth=auth,
                                            tls_exporter=_exporter(b"s"), rng=os.urandom))
    with pytest.raises(ProtocolViolation, match="AUTHENTICATE"):
        _pump(init, resp, init.initiate())
    assert resp.state is ResponderState.FAILED


@pytest.mark.parametrize("cells", [
    [(ChannelCommand.NETINFO, b"")],
    [(ChannelCommand.VERSIONS, Versions((1, 2, 3)).encode())],
    [(ChannelCommand.VERSIONS, b"\x00")],
])
def test_bad_openings_are_violations(relay_a: KeySet, cells: list[tuple[int, bytes]]) -> None:
    resp = _responder(relay_a)
    with pytest.raises(ProtocolViolation):
        for command, payload in cells:
            resp.receive_data(encode_cell(0, command, payload, None), NOW)


def test_create_before_netinfo_is_violation(relay_a: KeySet) -> None:
    resp = _responder(relay_a)
    resp.receive_data(encode_cell(0, 7, Versions((4,)).encode(), None), NOW)
    with pytest.raises(ProtocolViolation, match="CREATE_FAST"):
        resp.receive_data(encode_cell(5, ChannelCommand.CREATE_FAST, bytes(20), 4), NOW)


def test_vpadding_ignored_and_cells_after_netinfo_pass_through(relay_a: KeySet) -> None:
    resp = _responder(relay_a)
    data = (encode_cell(0, 7, Versions((4,)).encode(), None)
            + encode_cell(0, ChannelCommand.VPADDING, bytes(7), 4)
            + encode_cell(0, ChannelCommand.NETINFO, Netinfo(0, ME).encode(), 4)
            + encode_cell(0x80000001, ChannelCommand.CREATE_FAST, bytes(20), 4))
    events = resp.receive_data(data, NOW)
    assert [type(e).__name__ for e in events] == ["VersionNegotiated", "InitiatorOpened",
                                                  "CellReceived"]

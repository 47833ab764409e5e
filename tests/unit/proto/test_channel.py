"""The initiator's link handshake (tor-spec 4), replaying real tor bytes and generated ones."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import json
from dataclasses import replace
from pathlib import Path

import pytest

from zwiebel.cells.framing import CellDecoder, ChannelCommand, encode_cell
from zwiebel.cells.link import AuthChallenge, Authenticate, Certs, Netinfo, Versions
from zwiebel.crypto.digest import sha256
from zwiebel.crypto.keys import Ed25519Private, RsaPrivate
from zwiebel.crypto.x509_build import build_x509
from zwiebel.proto.channel import (
    TRANSITIONS,
    AuthChallengeReceived,
    CellReceived,
    ChannelEstablished,
    ChannelInitiator,
    HandshakeState,
    InitiatorParams,
    PeerAuthenticated,
    ProtocolViolation,
    VersionNegotiated,
)
from zwiebel.proto.channel_auth import AuthTranscript, exporter_value, verify_authenticate
from zwiebel.proto.channel_certs import verify_initiator_certs
from zwiebel.proto.channel_keys import RelayLinkKeys

VECTOR = json.loads((Path(__file__).parents[2] / "vectors" / "link"
                     / "tor-0.4.9.11-responder.json").read_text())
LOCALHOST = ipaddress.IPv4Address("127.0.0.1")
C = ChannelCommand
NOW = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)


# -- the real tor relay captured in the vector file ---------------------------------------

def real_params(**kw: object) -> InitiatorParams:
    params = InitiatorParams(peer_tls_cert=bytes.fromhex(VECTOR["tls_cert_der_hex"]),
                             peer_address=LOCALHOST)
    return replace(params, **kw)  # type: ignore[arg-type]


REAL_NOW = dt.datetime.fromisoformat(VECTOR["captured_at"])
REAL_RSA_ID = bytes.fromhex(VECTOR["rsa_fingerprint"])
REAL_ED_ID = base64.b64decode(VECTOR["ed25519_identity_b64"] + "=")


def real_cells() -> list[tuple[int, int, bytes]]:
    dec = CellDecoder()
    cells = dec.feed(bytes.fromhex(VECTOR["received_hex"]))
    dec.set_link_version(5)
    return cells + dec.feed(b"")


def stream(cells: list[tuple[int, int, bytes]], version: int = 5) -> bytes:
    """Cells on the wire: 2-byte circuit IDs up to and including the first VERSIONS."""
    out, negotiated = b"", False
    for circ_id, command, payload in cells:
        out += encode_cell(circ_id, command, payload, version if negotiated else None)
        negotiated = negotiated or command == C.VERSIONS
    return out


def run(params: InitiatorParams, data: bytes, now: dt.datetime = REAL_NOW) -> tuple[
        ChannelInitiator, list[object]]:
    machine = ChannelInitiator(params)
    machine.initiate()
    return machine, list(machine.receive_data(data, now))


def test_real_tor_handshake_verifies_and_names_the_relay() -> None:
    params = real_params(expected_rsa_id=REAL_RSA_ID, expected_ed25519_id=REAL_ED_ID)
    machine = ChannelInitiator(params)
    assert machine.initiate() == bytes.fromhex(VECTOR["sent_hex"])
    events = machine.receive_data(bytes.fromhex(VECTOR["received_hex"]), REAL_NOW)
    assert [type(e) for e in events] == [VersionNegotiated, PeerAuthenticated,
                                         AuthChallengeReceived, ChannelEstablished]
    done = events[-1]
    assert isinstance(done, ChannelEstablished)
    assert (done.link_version, done.peer_rsa_id, done.peer_ed25519_id) == (5, REAL_RSA_ID,
                                                                          REAL_ED_ID)
    assert done.peer_netinfo.my_addresses == (LOCALHOST,) and not done.authenticated
    assert machine.state is HandshakeState.OPEN
    # our NETINFO, as a tor client sends it: timestamp 0, the relay's address, no own address
    assert machine.data_to_send() == encode_cell(0, C.NETINFO, bytes.fromhex(
        "00000000" "04047f000001" "00"), 5)
    assert machine.slog == hashlib.sha256(stream(real_cells()[:3])).digest()


def test_real_tor_handshake_byte_by_byte() -> None:
    machine = ChannelInitiator(real_params())
    machine.initiate()
    events = []
    for byte in bytes.fromhex(VECTOR["received_hex"]):
        events += machine.receive_data(bytes([byte]), REAL_NOW)
    assert [type(e) for e in events][-1] is ChannelEstablished
    assert machine.state is HandshakeState.OPEN


def test_wrong_expected_fingerprint_names_both() -> None:
    wrong = bytes(20)
    machine = ChannelInitiator(real_params(expected_rsa_id=wrong))
    machine.initiate()
    with pytest.raises(ProtocolViolation) as err:
        machine.receive_data(bytes.fromhex(VECTOR["received_hex"]), REAL_NOW)
    assert "0" * 40 in str(err.value) and VECTOR["rsa_fingerprint"] in str(err.value)
    assert machine.state is HandshakeState.FAILED
    assert machine.data_to_send() == b""
    with pytest.raises(ProtocolViolation):
        machine.receive_data(b"", REAL_NOW)


def test_wrong_expected_ed25519_identity() -> None:
    with pytest.raises(ProtocolViolation, match="Ed25519 identity"):
        run(real_params(expected_ed25519_id=b"\x01" * 32), bytes.fromhex(VECTOR["received_hex"]))


@pytest.mark.parametrize(("cert_type", "offset"), [(2, 300), (2, -5), (4, 50), (4, -1),
                                                   (5, 20), (5, -10), (7, 5), (7, -3)])
def test_one_flipped_byte_in_a_real_cert_fails(cert_type: int, offset: int) -> None:
    cells = real_cells()
    certs = dict(Certs.decode(cells[1][2]).certs)
    body = bytearray(certs[cert_type])
    body[offset] ^= 0x04
    certs[cert_type] = bytes(body)
    cells[1] = (0, C.CERTS, Certs(tuple(certs.items())).encode())
    with pytest.raises(ProtocolViolation):
        run(real_params(), stream(cells))


def test_real_certs_fail_after_the_link_cert_expired() -> None:
    later = REAL_NOW + dt.timedelta(days=40)
    with pytest.raises(ProtocolViolation, match="expired"):
        run(real_params(), bytes.fromhex(VECTOR["received_hex"]), later)


def test_real_certs_fail_with_another_tls_certificate() -> None:
    with pytest.raises(ProtocolViolation, match="TLS certificate"):
        run(real_params(peer_tls_cert=b"not the cert"), bytes.fromhex(VECTOR["received_hex"]))


# -- a generated relay ------------------------------------------------------------------

def make_relay(seed: int) -> tuple[RelayLinkKeys, bytes]:
    """Relay keys and a TLS certificate, as tor makes them (identity signs the TLS cert)."""
    rsa_id, tls_key = RsaPrivate.generate(1024), RsaPrivate.generate(1024)
    validity = {"not_before": NOW - dt.timedelta(days=1),
                "not_after": NOW + dt.timedelta(days=300), "serial": seed}
    id_cert = build_x509(rsa_id, rsa_id, subject_cn="www.id.com", issuer_cn="www.id.com",
                         **validity)  # type: ignore[arg-type]
    tls_cert = build_x509(tls_key, rsa_id, subject_cn="www.tls.net", issuer_cn="www.id.com",
                          **validity)  # type: ignore[arg-type]
    keys = RelayLinkKeys(rsa_id, id_cert, Ed25519Private(bytes([seed]) * 32),
                         Ed25519Private(bytes([seed + 1]) * 32))
    return keys, tls_cert


RELAY, RELAY_TLS = make_relay(1)
CLIENT_RELAY, _ = make_relay(7)
EXPIRES = NOW + dt.timedelta(days=2)


def responder_cells(certs: Certs | None = None) -> list[tuple[int, int, bytes]]:
    certs = certs or RELAY.responder_certs(RELAY_TLS, EXPIRES)
    return [(0, C.VERSIONS, Versions((3, 4, 5)).encode()),
            (0, C.CERTS, certs.encode()),
            (0, C.AUTH_CHALLENGE, AuthChallenge(b"c" * 32, (1, 3)).encode()),
            (0, C.NETINFO, Netinfo(int(NOW.timestamp()), LOCALHOST, (LOCALHOST,)).encode())]


def gen_params(**kw: object) -> InitiatorParams:
    return replace(InitiatorParams(RELAY_TLS, LOCALHOST), **kw)  # type: ignore[arg-type]


def test_generated_relay_handshake_and_following_cells() -> None:
    destroy = (0x80000001, C.DESTROY, b"\x05")
    data = stream([*responder_cells(), destroy])
    machine, events = run(gen_params(expected_rsa_id=RELAY.rsa_identity.public().fingerprint()),
                          data, NOW)
    assert events[-1] == CellReceived(0x80000001, C.DESTROY, b"\x05".ljust(509, b"\0"))
    done = events[-2]
    assert isinstance(done, ChannelEstablished) and done.clock_skew == 0
    assert done.peer_ed25519_id == RELAY.ed25519_identity.public_bytes()
    tail = encode_cell(1, C.PADDING, b"", 5)
    assert machine.take_decoder().feed(tail) == [(1, 0, bytes(509))]


def test_versions_without_a_common_version() -> None:
    with pytest.raises(ProtocolViolation, match="no link protocol"):
        run(gen_params(), encode_cell(0, C.VERSIONS, Versions((2, 3)).encode(), None), NOW)


def test_padding_and_unknown_var_cells_are_ignored_during_the_handshake() -> None:
    cells = responder_cells()
    noise = [(0, C.VPADDING, b"pad"), (0, 200, b"?"), (0, C.AUTHORIZE, b"")]
    cells = [noise[0], cells[0], *noise, cells[1], *noise, cells[2], *noise, cells[0], cells[3]]
    _, events = run(gen_params(), stream(cells), NOW)
    assert isinstance(events[-1], ChannelEstablished)


def _machine_in(state: HandshakeState) -> tuple[ChannelInitiator, int]:
    prefix = {HandshakeState.AWAIT_VERSIONS: 0, HandshakeState.AWAIT_CERTS: 1,
              HandshakeState.AWAIT_AUTH_CHALLENGE: 2, HandshakeState.AWAIT_NETINFO: 3}[state]
    machine, _ = run(gen_params(), stream(responder_cells()[:prefix]), NOW)
    assert machine.state is state
    return machine, 5 if prefix else 0


@pytest.mark.parametrize("state", [HandshakeState.AWAIT_VERSIONS, HandshakeState.AWAIT_CERTS,
                                   HandshakeState.AWAIT_AUTH_CHALLENGE,
                                   HandshakeState.AWAIT_NETINFO])
def test_every_cell_outside_the_table_is_a_violation(state: HandshakeState) -> None:
    for command in [*range(0, 13), 128, 129, 130, 131, 132, 140]:
        if (state, command) in TRANSITIONS:
            continue
        machine, version = _machine_in(state)
        cell = encode_cell(0, command, b"", version or None)
        if command >= 128 and command not in (129, 130, 131):
            assert machine.receive_data(cell, NOW) == []
            continue
        with pytest.raises(ProtocolViolation, match="unexpected"):
            machine.receive_data(cell, NOW)
        assert machine.state is HandshakeState.FAILED


def test_certs_with_a_circuit_id_is_a_violation() -> None:
    cells = responder_cells()
    cells[1] = (7, C.CERTS, cells[1][2])
    with pytest.raises(ProtocolViolation, match="circuit ID"):
        run(gen_params(), stream(cells), NOW)


def test_netinfo_without_auth_challenge_opens_the_channel() -> None:
    cells = responder_cells()
    _, events = run(gen_params(), stream([cells[0], cells[1], cells[3]]), NOW)
    assert isinstance(events[-1], ChannelEstablished)


def test_relay_initiator_authenticates() -> None:
    """CERTS after VERSIONS, AUTHENTICATE + NETINFO after AUTH_CHALLENGE; a responder
    computing SLOG/CLOG/SCERT/TLSSECRETS on its own accepts the signature."""
    auth_key = Ed25519Private(b"A" * 32)
    keys = CLIENT_RELAY.initiator_auth(auth_key, EXPIRES)

    def exporter(label: bytes, context: bytes, length: int) -> bytes:
        return sha256(b"master" + label + context)[:length]

    params = gen_params(auth=keys, tls_exporter=exporter, rng=lambda n: b"r" * n,
                        my_addresses=(ipaddress.IPv4Address("192.0.2.9"),))
    machine = ChannelInitiator(params)
    sent = machine.initiate()
    cells = responder_cells()
    machine.receive_data(stream(cells[:1]), NOW)
    sent += machine.data_to_send()
    events = machine.receive_data(stream(cells[:3])[len(stream(cells[:1])):], NOW)
    assert isinstance(events[-1], AuthChallengeReceived) and events[-1].answered
    out = CellDecoder(5).feed(machine.data_to_send())
    assert [c[1] for c in out] == [C.AUTHENTICATE, C.NETINFO]
    assert Netinfo.decode(out[1][2]).timestamp == int(NOW.timestamp())
    initiator = verify_initiator_certs(keys.certs, NOW)
    responder = machine.peer
    assert responder is not None
    transcript = AuthTranscript(
        slog=hashlib.sha256(stream(cells[:3])).digest(),
        clog=hashlib.sha256(sent).digest(),
        scert=sha256(RELAY_TLS),
        tlssecrets=exporter_value(exporter, CLIENT_RELAY.rsa_identity.public()))
    verify_authenticate(Authenticate.decode(out[0][2]), initiator, responder, transcript)
    bad = replace(transcript, clog=bytes(32))
    with pytest.raises(ProtocolViolation, match="not as expected"):
        verify_authenticate(Authenticate.decode(out[0][2]), initiator, responder, bad)
    events = machine.receive_data(stream(cells)[len(stream(cells[:3])):], NOW)
    assert isinstance(events[-1], ChannelEstablished) and events[-1].authenticated

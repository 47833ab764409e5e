"""Live link handshake against a real tor 0.4.9 relay on 127.0.0.1:23160.

Starts /usr/bin/tor as a non-publishing relay, runs `ChannelInitiator` over a real TLS
socket, and proves that tor considers the channel open by creating a circuit with
CREATE_FAST (tor answers CREATED_FAST only on an open channel).
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import os
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from zwiebel.cells.framing import ChannelCommand, encode_cell
from zwiebel.proto.channel import (
    ChannelEstablished,
    ChannelEvent,
    ChannelInitiator,
    HandshakeState,
    InitiatorParams,
    ProtocolViolation,
)

pytestmark = pytest.mark.interop

OR_PORT = 23160
HOST = "127.0.0.1"


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A running tor relay; yields its DataDirectory."""
    data = tmp_path_factory.mktemp("tor-relay")
    data.chmod(0o700)
    torrc = data / "torrc"
    torrc.write_text(f"DataDirectory {data}\nORPort {HOST}:{OR_PORT}\nSocksPort 0\n"
                     f"Address {HOST}\nAssumeReachable 1\nPublishServerDescriptor 0\n"
                     f"ExitRelay 0\nLog notice file {data / 'log'}\n__OwningControllerProcess "
                     f"{os.getpid()}\n")
    proc = subprocess.Popen(["tor", "-f", str(torrc)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(data)
        yield data
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_for_port(data: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if (data / "fingerprint").exists():
            try:
                socket.create_connection((HOST, OR_PORT), timeout=1).close()
                return
            except OSError:
                pass
        time.sleep(0.2)
    raise RuntimeError("tor did not open its ORPort")


def _handshake(tls: ssl.SSLSocket, machine: ChannelInitiator) -> list[ChannelEvent]:
    tls.sendall(machine.initiate())
    events: list[ChannelEvent] = []
    while machine.state is not HandshakeState.OPEN:
        data = tls.recv(65536)
        assert data, "tor closed the connection"
        events += machine.receive_data(data, dt.datetime.now(dt.UTC))
        tls.sendall(machine.data_to_send())
    return events


def _connect() -> ssl.SSLSocket:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx.wrap_socket(socket.create_connection((HOST, OR_PORT), timeout=10))


def test_handshake_with_real_tor_and_create_fast(relay: Path) -> None:
    rsa_id = bytes.fromhex((relay / "fingerprint").read_text().split()[1])
    ed_id = base64.b64decode((relay / "fingerprint-ed25519").read_text().split()[1] + "=")
    with _connect() as tls:
        der = tls.getpeercert(binary_form=True)
        assert der is not None
        machine = ChannelInitiator(InitiatorParams(
            der, ipaddress.IPv4Address(HOST), expected_rsa_id=rsa_id, expected_ed25519_id=ed_id))
        events = _handshake(tls, machine)
        done = events[-1]
        assert isinstance(done, ChannelEstablished)
        assert (done.link_version, done.peer_rsa_id, done.peer_ed25519_id) == (5, rsa_id, ed_id)
        tls.sendall(encode_cell(0x80000001, ChannelCommand.CREATE_FAST, os.urandom(20), 5))
        decoder = machine.take_decoder()
        cells: list[tuple[int, int, bytes]] = []
        while not any(c[1] == ChannelCommand.CREATED_FAST for c in cells):
            data = tls.recv(65536)
            assert data, "tor closed the channel"
            cells += decoder.feed(data)
        assert (0x80000001, ChannelCommand.CREATED_FAST) in [(c[0], c[1]) for c in cells]


def test_wrong_expected_identity_against_real_tor(relay: Path) -> None:
    with _connect() as tls:
        der = tls.getpeercert(binary_form=True)
        assert der is not None
        machine = ChannelInitiator(InitiatorParams(der, ipaddress.IPv4Address(HOST),
                                                   expected_rsa_id=b"\x11" * 20))
        with pytest.raises(ProtocolViolation, match="11111111"):
            _handshake(tls, machine)

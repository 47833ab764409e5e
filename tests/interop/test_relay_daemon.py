"""`zwiebel -f torrc` as a relay and exit in a network of real tor (issue: relay).

The relay tests its own ORPort through a real relay, publishes to the real authority,
is listed Running and Valid, and a real tor client that may only exit through it
downloads 10 MiB byte for byte and uploads 16 MiB, under proposal-324 congestion control.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fetch import curl_via_socks, upload_via_socks
from zwiebel.testnet.fileserver import FileServer
from zwiebel.testnet.realtor import RealTorNetwork
from zwiebel.testnet.torcontrol import ControlError
from zwiebel.testnet.zwiebelproc import ZwiebelProcess

pytestmark = pytest.mark.interop


BASE_PORT = 22700
REJECTED_PORT = 9
#: Served away from 127.0.0.1: tor uses a relay as the exit for streams to that relay's
#: own address (router_find_exact_exit_enclave), and every relay here is on 127.0.0.1.
FILE_HOST = "127.0.0.2"


@pytest.fixture(scope="module")
def far_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FileServer]:
    """The test files on 127.0.0.2."""
    with FileServer(tmp_path_factory.mktemp("far_files"), {"10m.bin": 10 << 20},
                    host=FILE_HOST) as server:
        yield server


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealTorNetwork]:
    """1 authority, 2 middles, 1 exit and a tor client (full descriptors), all real tor."""
    net = RealTorNetwork(tmp_path_factory.mktemp("relay-daemon-net"), BASE_PORT, middles=2)
    with net:
        yield net


@pytest.fixture(scope="module")
def relay(network: RealTorNetwork,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZwiebelProcess]:
    """A Zwiebel exit relay started from a torrc, reachable and published.

    Its policy accepts everything but one port. tor 0.4.9's client judges a stream's
    exit without its target address (connection_ap_can_use_exit compares
    tor_addr_parse's result, the address family, with 0), so a policy that accepts
    only private addresses "probably rejects" every stream and a client with
    StrictNodes finds no exit for it."""
    slot = network.external_slot(0, "zwiebelexit")
    torrc = ["TestingTorNetwork 1", "Nickname zwiebelexit", "Address 127.0.0.1",
             f"ORPort 127.0.0.1:{slot.or_port}", "SocksPort 0", "UseMicrodescriptors 0",
             "ContactInfo Zwiebel tests <nobody@example.invalid>",
             "ExitRelay 1", "ExitPolicyRejectPrivate 0",
             f"ExitPolicy reject {FILE_HOST}:{REJECTED_PORT}", "ExitPolicy accept *:*",
             *network.dir_authority_lines]
    data = tmp_path_factory.mktemp("zwiebel-relay") / "data"
    with ZwiebelProcess(data, torrc) as proc:
        proc.wait_for(r"Self-testing indicates your ORPort is reachable from the outside\. "
                      r"Excellent\. Publishing server descriptor\.", 90)
        proc.wait_for(r"status 200\) after uploading server descriptor", 30)
        yield proc


def _fingerprint(relay: ZwiebelProcess) -> str:
    return (relay.data_dir / "fingerprint").read_text().split()[1]


def _wait_for_weight(network: RealTorNetwork, fingerprint: str, timeout: float) -> None:
    """Until the real client's consensus gives the relay Exit and a non-zero weight
    (tor never picks a zero-weight exit): the relay's bandwidth self-test must show up
    in its published observed bandwidth and then in a vote."""
    deadline = time.monotonic() + timeout
    while True:
        with network.control("client") as ctl:
            try:
                entry = ctl.getinfo_one(f"ns/id/{fingerprint}")
            except ControlError:
                entry = ""
        weight = re.search(r"w Bandwidth=(\d+)", entry)
        if weight and int(weight.group(1)) > 0 and " Exit " in f" {entry} ":
            return
        assert time.monotonic() < deadline, f"relay not usable as an exit: {entry!r}"
        time.sleep(0.5)


def test_keys_and_fingerprint_files(relay: ZwiebelProcess) -> None:
    nickname, fingerprint = (relay.data_dir / "fingerprint").read_text().split()
    assert nickname == "zwiebelexit" and len(fingerprint) == 40
    for name in ("secret_id_key", "ed25519_master_id_secret_key", "ed25519_signing_cert",
                 "secret_onion_key_ntor", "secret_onion_key"):
        path = relay.data_dir / "keys" / name
        assert path.stat().st_mode & 0o077 == 0, name
    assert relay.matches(f"identity key fingerprint is 'zwiebelexit {fingerprint}'")


def test_listed_running_and_valid(network: RealTorNetwork, relay: ZwiebelProcess) -> None:
    network.wait_for_relay(_fingerprint(relay), ("Running", "Valid"), timeout=90)


def test_real_tor_client_exits_through_zwiebel(network: RealTorNetwork,
                                               relay: ZwiebelProcess,
                                               far_server: FileServer,
                                               tmp_path: Path) -> None:
    fingerprint = _fingerprint(relay)
    network.vote_exit(fingerprint)
    network.wait_for_relay(fingerprint, ("Running", "Valid", "Exit"), timeout=90)
    _wait_for_weight(network, fingerprint, 120)
    client = network.client
    assert client is not None and client.socks_port is not None
    with network.control("client") as ctl:
        ctl.setconf([("ExitNodes", "$" + fingerprint), ("StrictNodes", "1")])
    served = far_server.files["10m.bin"]
    start = len(relay.lines)
    result = curl_via_socks(client.socks_port, served.url, tmp_path / "got", 120,
                            isolation="via-zwiebel-exit")
    assert result.ok, result.stderr
    assert (result.size, result.sha256) == (served.size, served.sha256)
    relay.wait_for(rf"Exit connection to port {far_server.port} established", 10, start)
    relay.wait_for(r"negotiated congestion control \(cc_sendme_inc 31\)", 10, start)
    _uploads_under_congestion_control(relay, client.socks_port, far_server, tmp_path)
    # Last: once an exit whose exact policy it knows refuses a request for an IP address,
    # tor's client treats it as rejecting everything (adjust_exit_policy_from_
    # exitpolicy_failure).
    refused = curl_via_socks(client.socks_port, f"http://{FILE_HOST}:{REJECTED_PORT}/",
                             tmp_path / "refused", 60, isolation="rejected-port")
    assert not refused.ok


def _uploads_under_congestion_control(relay: ZwiebelProcess, socks_port: int,
                                      far_server: FileServer, tmp_path: Path) -> None:
    """The real tor client negotiated proposal-324 congestion control with the Zwiebel
    exit (tor 0.4.9's default cc_alg is Vegas). It uploads 4 MiB to a server that reads
    at once, then 12 MiB to one that reads at about 3 MB/s (more than the exit's socket
    buffer takes): the exit holds the client back with XOFF and lets it go on with XON,
    and every byte arrives."""
    start = len(relay.lines)
    for path, size in (("/fast", 4 << 20), ("/slow", 12 << 20)):
        body = tmp_path / f"upload-{size}.bin"
        data = os.urandom(size)
        body.write_bytes(data)
        result, answer = upload_via_socks(socks_port,
                                          f"http://{FILE_HOST}:{far_server.port}{path}", body,
                                          120, isolation=f"upload{path}")
        assert result.ok, result.stderr
        assert answer == hashlib.sha256(data).hexdigest()
    relay.wait_for(r"Sending XOFF on stream \d+ of circuit \d+", 10, start)
    relay.wait_for(r"Sending XON on stream \d+ of circuit \d+: drained at \d+ kB/s", 10, start)

"""Signals and descriptor limits of a running Zwiebel (issue: relay, "Signals" and
"Resources"), against a private network of real tor.

A Zwiebel relay started from a torrc: SIGHUP after editing its ExitPolicy applies the
policy live and the next descriptor the authority serves carries it; a broken torrc is
reported with tor's line and the relay keeps running; SIGINT logs tor's shutdown line
and exits 0 after ShutdownWaitLength. A Zwiebel client: SIGTERM exits 0 at once with the
state file written; with RLIMIT_NOFILE lowered to 64, a flood of SOCKS connections gives
ONE warning naming the limit and the fix, and a connection opened before still works.
"""

from __future__ import annotations

import contextlib
import resource
import signal
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from zwiebel.testnet.dirpoll import fetch_dir_document
from zwiebel.testnet.fileserver import FileServer
from zwiebel.testnet.realtor import RealTorNetwork
from zwiebel.testnet.zwiebelproc import ZwiebelProcess

pytestmark = pytest.mark.interop

BASE_PORT = 23700
SHUTDOWN_WAIT = 2


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealTorNetwork]:
    net = RealTorNetwork(tmp_path_factory.mktemp("signals-net"), BASE_PORT, middles=2)
    with net:
        yield net


def _relay_torrc(network: RealTorNetwork, or_port: int, policy: str) -> list[str]:
    return ["TestingTorNetwork 1", "Nickname zwiebelsig", "Address 127.0.0.1",
            f"ORPort 127.0.0.1:{or_port}", "SocksPort 0", "UseMicrodescriptors 0",
            "ExitRelay 1", "ExitPolicyRejectPrivate 0", f"ExitPolicy {policy}",
            "ExitPolicy reject *:*", f"ShutdownWaitLength {SHUTDOWN_WAIT}",
            "AssumeReachable 1", *network.dir_authority_lines]


def _signal(proc: ZwiebelProcess, sig: signal.Signals) -> None:
    assert proc._proc is not None
    proc._proc.send_signal(sig)


def _wait_exit(proc: ZwiebelProcess, timeout: float) -> int:
    assert proc._proc is not None
    return proc._proc.wait(timeout)


@pytest.fixture(scope="module")
def relay(network: RealTorNetwork,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZwiebelProcess]:
    slot = network.external_slot(1, "zwiebelsig")
    data = tmp_path_factory.mktemp("zwiebel-sig-relay") / "data"
    proc = ZwiebelProcess(data, _relay_torrc(network, slot.or_port, "accept 127.0.0.1:80"))
    with proc:
        proc.wait_for(r"status 200\) after uploading server descriptor", 90)
        yield proc


def _served_descriptor(network: RealTorNetwork, relay: ZwiebelProcess) -> str:
    fingerprint = (relay.data_dir / "fingerprint").read_text().split()[1]
    doc = fetch_dir_document(network.authorities[0].dir_port, f"/tor/server/fp/{fingerprint}")
    return doc or ""


def test_sighup_applies_a_new_exit_policy(network: RealTorNetwork,
                                          relay: ZwiebelProcess) -> None:
    assert "accept 127.0.0.1:80" in _served_descriptor(network, relay)
    built = relay.wait_for(r"Circuit (\d+) built:", 90).group(1)
    text = relay.torrc.read_text().replace("accept 127.0.0.1:80", "accept 127.0.0.1:8080")
    relay.torrc.write_text(text)
    start = len(relay.lines)
    _signal(relay, signal.SIGHUP)
    relay.wait_for(r"Received reload signal \(hup\)", 10, start)
    relay.wait_for(r"Applied the new exit policy", 10, start)
    relay.wait_for(r"Reloaded options: .*ExitPolicy", 10, start)
    relay.wait_for(r"status 200\) after uploading server descriptor", 90, start)
    deadline = time.monotonic() + 30
    while "accept 127.0.0.1:8080" not in _served_descriptor(network, relay):
        assert time.monotonic() < deadline, "authority never served the new policy"
        time.sleep(0.5)
    assert not relay.matches(r"relay stopping|Opened OR listener", start)
    assert relay.returncode is None
    assert not relay.matches(rf"Circuit {built} closed", start), "SIGHUP closed a circuit"


def test_sighup_with_a_broken_torrc_keeps_running(relay: ZwiebelProcess) -> None:
    good = relay.torrc.read_text()
    relay.torrc.write_text(good + "ExitPolicy accept nonsense:::\nNoSuchOption 1\n")
    start = len(relay.lines)
    try:
        _signal(relay, signal.SIGHUP)
        relay.wait_for(r"\[err\] Reading config failed--see warnings above\. "
                       r"For usage, try -h\.", 10, start)
        relay.wait_for(r"Keeping the previous configuration", 10, start)
    finally:
        relay.torrc.write_text(good)
    assert relay.returncode is None


def test_sigint_on_a_relay_waits_shutdown_wait_length(relay: ZwiebelProcess) -> None:
    start = len(relay.lines)
    began = time.monotonic()
    _signal(relay, signal.SIGINT)
    relay.wait_for(r"Interrupt: we have stopped accepting new connections, and will shut "
                   rf"down in {SHUTDOWN_WAIT} seconds\. Interrupt again to exit now\.", 10, start)
    assert _wait_exit(relay, SHUTDOWN_WAIT + 10) == 0
    took = time.monotonic() - began
    assert SHUTDOWN_WAIT - 0.5 <= took <= SHUTDOWN_WAIT + 8
    assert (relay.data_dir / "state").exists()


def _client(network: RealTorNetwork, data: Path) -> ZwiebelProcess:
    return ZwiebelProcess(data, ["TestingTorNetwork 1", "SocksPort auto", "ConnLimit 32",
                                 "UseMicrodescriptors 0",
                                 *network.dir_authority_lines], log_level="notice")


def _socks_port(proc: ZwiebelProcess) -> int:
    return int(proc.wait_for(r"Opened Socks listener connection \(ready\) on [\d.]+:(\d+)",
                             30).group(1))


def test_sigterm_exits_at_once_with_state(network: RealTorNetwork, tmp_path: Path) -> None:
    proc = _client(network, tmp_path / "data")
    with proc:
        proc.wait_for(r"Bootstrapped 100%", 90)
        began = time.monotonic()
        _signal(proc, signal.SIGTERM)
        assert _wait_exit(proc, 10) == 0
        assert time.monotonic() - began < 5
        proc.wait_for(r"Catching signal TERM, exiting cleanly\.", 5)
    assert (tmp_path / "data" / "state").exists()


def _socks_connect(port: int, target_port: int, sock: socket.socket) -> bytes:
    sock.sendall(b"\x05\x01\x00")
    assert sock.recv(2) == b"\x05\x00"
    sock.sendall(b"\x05\x01\x00\x01" + socket.inet_aton("127.0.0.1")
                 + struct.pack(">H", target_port))
    return sock.recv(10)


def test_descriptor_exhaustion_warns_once_and_keeps_serving(network: RealTorNetwork,
                                                            http_server: FileServer,
                                                            tmp_path: Path) -> None:
    proc = _client(network, tmp_path / "data")
    with proc, contextlib.ExitStack() as stack:
        port = _socks_port(proc)
        proc.wait_for(r"Bootstrapped 100%", 90)
        assert proc._proc is not None
        resource.prlimit(proc._proc.pid, resource.RLIMIT_NOFILE, (64, 64))
        existing = stack.enter_context(socket.create_connection(("127.0.0.1", port), 10))
        start = len(proc.lines)
        for _ in range(120):
            conn = socket.socket()
            stack.enter_context(conn)
            conn.setblocking(False)
            conn.connect_ex(("127.0.0.1", port))
        proc.wait_for(r"\[warn\] Failing to accept new connections on 127\.0\.0\.1:\d+: "
                      r".*ulimit -n.*LimitNOFILE=", 20, start)
        existing.settimeout(60)
        reply = _socks_connect(port, http_server.port, existing)
        assert reply[:2] == b"\x05\x00", reply
        existing.sendall(b"GET /1k.bin HTTP/1.0\r\n\r\n")
        assert existing.recv(12) in (b"HTTP/1.0 200", b"HTTP/1.1 200")
        assert len(proc.matches(r"Failing to accept new connections", start)) == 1
        assert proc.returncode is None

"""Zwiebel relays on 127.0.0.1, used by Zwiebel's client code and by real tor 0.4.9.

Ports: a private network of real tor at base 22500 (layout: 22500-22699); the standalone
relays use its spare ports 22502-22506, the Zwiebel bridge its external slot 0 (22650).

* two Zwiebel relays, A (middle) and B (exit, policy "accept 127.0.0.1:<http>"): our
  client builds A with CREATE_FAST, reads A's directory stream (BEGIN_DIR), is refused
  BEGIN on the one-hop circuit (END TORPROTOCOL, as tor), extends to B with ntor over
  an authenticated A->B channel and downloads 1 MiB byte for byte; a rejected port gives
  END EXITPOLICY; DESTROY from the client reaches B;
* A extends to a real tor relay (A authenticates with AUTHENTICATE; tor's log shows the
  channel open with A's RSA identity), and tor's directory server answers our client's
  HTTP request on a BEGIN_DIR stream through A;
* a real tor client (UseBridges) in a private network of real tor uses a Zwiebel relay as
  its bridge: it fetches the bridge's descriptor and directory documents over BEGIN_DIR,
  builds CREATE2 circuits through it (the Zwiebel relay extends to real tor relays) and
  downloads 1 MiB through them byte for byte.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import ipaddress
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from tests.support.fetch import curl_via_socks
from tests.support.relaynet import http_fetch, small_open_network
from zwiebel.cells.relay_msgs import EndReason
from zwiebel.crypto.keys import X25519Private
from zwiebel.features.relay import RelayFeature, RelaySettings
from zwiebel.features.relay.descriptor import DescriptorInputs, build_descriptors
from zwiebel.features.relay.edges import DirCache
from zwiebel.features.relay.keys import RelayKeys
from zwiebel.netdir.relay import RelayInfo
from zwiebel.netdoc.policy import ExitPolicy
from zwiebel.runtime.channel import open_channel
from zwiebel.runtime.circuit import Circuit
from zwiebel.runtime.dirpost import post_dirport
from zwiebel.runtime.stream import Stream, StreamClosed
from zwiebel.testnet.fileserver import FileServer
from zwiebel.testnet.realtor import RealTorNetwork

pytestmark = [pytest.mark.interop]

HOST = "127.0.0.1"
BASE_PORT = 22500
PORT_A, PORT_B, PORT_TOR, PORT_SOCKS = 22502, 22503, 22504, 22505


def _keys(path: Path) -> RelayKeys:
    return RelayKeys.load_or_create(path, dt.datetime.now(dt.UTC), os.urandom)


def _info(nickname: str, keys: RelayKeys, port: int) -> RelayInfo:
    return RelayInfo(nickname=nickname, rsa_identity=keys.fingerprint,
                     ed25519_identity=keys.master_id, address=HOST, or_port=port,
                     ntor_onion_key=keys.ntor.public_bytes())


def _stats(relay: RelayFeature) -> dict[str, Any]:
    return cast(dict[str, Any], relay.statistics())


async def _dir_doc(path: str) -> bytes | None:
    return b"zwiebel directory test\n" if path == "/tor/zwiebel-test" else None


async def _read_all(stream: Stream, limit: int = 64 * 1024 * 1024) -> bytes:
    out = bytearray()
    while len(out) < limit:
        chunk = await stream.read()
        if not chunk:
            break
        out += chunk
    return bytes(out)


async def _http_get(stream: Stream, path: str) -> bytes:
    stream.write(f"GET {path} HTTP/1.0\r\nHost: {HOST}\r\n\r\n".encode())
    raw = await asyncio.wait_for(_read_all(stream), 120)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200") or head.startswith(b"HTTP/1.1 200"), head[:80]
    return body


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FileServer]:
    with FileServer(tmp_path_factory.mktemp("relay_files"), {"1m.bin": 1024 * 1024}) as srv:
        yield srv


class Relays:
    """Relay A (middle, directory test document) and B (exit to the file server only)."""

    def __init__(self, base: Path, http_port: int) -> None:
        self.keys_a, self.keys_b = _keys(base / "a"), _keys(base / "b")
        self.a = RelayFeature(lambda: self.keys_a, RelaySettings(
            HOST, PORT_A, (ipaddress.IPv4Address(HOST),), allow_private_extend=True,
            dir_cache=_dir_doc))
        policy = ExitPolicy.from_config([f"accept {HOST}:{http_port}", "reject *:*"])
        self.b = RelayFeature(lambda: self.keys_b, RelaySettings(
            HOST, PORT_B, (ipaddress.IPv4Address(HOST),), exit_policy=policy))

    async def __aenter__(self) -> Relays:
        await self.a.start()
        await self.b.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.a.stop()
        await self.b.stop()


async def _circuit_to_a(relays: Relays) -> Circuit:
    channel = await open_channel(HOST, PORT_A, relays.keys_a.fingerprint)
    circ = Circuit(channel, 1)
    await circ.create(None, 10)
    return circ


def test_zwiebel_client_through_two_zwiebel_relays(tmp_path: Path, files: FileServer) -> None:
    async def run() -> None:
        async with Relays(tmp_path, files.port) as relays:
            circ = await _circuit_to_a(relays)
            dir_stream = await circ.open_dir_stream(10)
            assert await _http_get(dir_stream, "/tor/zwiebel-test") == b"zwiebel directory test\n"
            with pytest.raises(StreamClosed) as refused:
                await circ.open_stream(HOST, files.port, 10)
            assert refused.value.reason == EndReason.TORPROTOCOL
            await circ.extend(_info("B", relays.keys_b, PORT_B), 20)
            stream = await circ.open_stream(HOST, files.port, 20)
            body = await _http_get(stream, "/1m.bin")
            assert hashlib.sha256(body).hexdigest() == files.files["1m.bin"].sha256
            with pytest.raises(StreamClosed) as rejected:
                await circ.open_stream(HOST, 9, 10)
            assert rejected.value.reason == EndReason.EXITPOLICY
            stats_a = _stats(relays.a)
            [conn_ab] = [c for c in stats_a["connections"]
                         if c["direction"] == "outbound"]
            assert conn_ab["peer_fingerprint"] == relays.keys_b.fingerprint_hex
            [conn_in] = [c for c in _stats(relays.b)["connections"]
                         if c["direction"] == "inbound"]
            assert conn_in["client"] is False  # A authenticated to B
            assert conn_in["bytes_written"] > 1024 * 1024
            [circ_b] = _stats(relays.b)["circuits"]
            assert circ_b["cells"]["prev_out"] > 2048
            circ.close("done")
            for _ in range(50):
                if not _stats(relays.b)["circuits"]:
                    break
                await asyncio.sleep(0.1)
            assert _stats(relays.b)["circuits"] == []
            assert _stats(relays.a)["circuits"] == []
            circ.channel.close()

    asyncio.run(run())


# -- a real tor relay as the next hop -----------------------------------------------------

def _wait_port(port: int, data: Path, deadline: float) -> None:
    while time.monotonic() < deadline:
        if (data / "fingerprint").exists():
            try:
                socket.create_connection((HOST, port), timeout=1).close()
                return
            except OSError:
                pass
        time.sleep(0.2)
    raise RuntimeError("tor did not open its ORPort")


@pytest.fixture(scope="module")
def tor_relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if shutil.which("tor") is None:
        pytest.fail("real tor is required for interop tests", pytrace=False)
    data = tmp_path_factory.mktemp("tor-next-hop")
    data.chmod(0o700)
    torrc = data / "torrc"
    torrc.write_text(f"DataDirectory {data}\nORPort {HOST}:{PORT_TOR}\nSocksPort 0\n"
                     f"Address {HOST}\nAssumeReachable 1\nPublishServerDescriptor 0\n"
                     f"ExitRelay 0\nExtendAllowPrivateAddresses 1\nLog info file {data / 'log'}\n"
                     f"__OwningControllerProcess {os.getpid()}\n")
    proc = subprocess.Popen(["tor", "-f", str(torrc)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        _wait_port(PORT_TOR, data, time.monotonic() + 60)
        yield data
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _tor_relay_info(data: Path) -> RelayInfo:
    fingerprint = bytes.fromhex((data / "fingerprint").read_text().split()[1])
    raw = (data / "keys" / "secret_onion_key_ntor").read_bytes()
    ntor = X25519Private(raw[32:64]).public_bytes()  # 32-byte tag, then the secret
    return RelayInfo(nickname="tor", rsa_identity=fingerprint, ed25519_identity=None,
                     address=HOST, or_port=PORT_TOR, ntor_onion_key=ntor)


def test_zwiebel_relay_extends_to_real_tor(tmp_path: Path, files: FileServer,
                                           tor_relay: Path) -> None:
    async def run() -> None:
        async with Relays(tmp_path, files.port) as relays:
            circ = await _circuit_to_a(relays)
            info = _tor_relay_info(tor_relay)
            await circ.extend(info, 30)
            stream = await circ.open_dir_stream(20)
            stream.write(f"GET /tor/server/authority HTTP/1.0\r\nHost: {HOST}\r\n\r\n".encode())
            raw = await asyncio.wait_for(_read_all(stream), 60)
            assert raw.startswith(b"HTTP/1.0 ") and b"\r\nDate: " in raw  # tor's dirserver
            [conn] = [c for c in _stats(relays.a)["connections"]
                      if c["direction"] == "outbound"]
            assert conn["peer_fingerprint"] == info.fingerprint
            circ.close("done")
            circ.channel.close()
        log = (tor_relay / "log").read_text()
        assert "Got some good RSA and Ed25519 certificates" in log
        assert f"RSA_ID={relays.keys_a.fingerprint_hex}; OR connection is now open" in log

    asyncio.run(run())


def test_real_tor_extends_to_zwiebel_over_the_channel_zwiebel_opened(
        tmp_path: Path, files: FileServer, tor_relay: Path) -> None:
    """A opens an authenticated channel to tor (first circuit: client -> A -> tor); then
    tor, asked to extend to A (second circuit: client -> tor -> A), sends its CREATE2
    over that same channel, and A answers it as tor's command_process_create_cell does
    for a public relay. (A used to refuse creates on channels it had opened.)"""
    async def run() -> None:
        async with Relays(tmp_path, files.port) as relays:
            tor_info = _tor_relay_info(tor_relay)
            first = await _circuit_to_a(relays)
            await first.extend(tor_info, 30)
            [opened] = [c for c in _stats(relays.a)["connections"]
                        if c["peer_fingerprint"] == tor_info.fingerprint]
            assert opened["direction"] == "outbound"
            second = Circuit(await open_channel(HOST, PORT_TOR, tor_info.rsa_identity), 2)
            await second.create(tor_info, 10)
            await second.extend(_info("A", relays.keys_a, PORT_A), 30)
            stream = await second.open_dir_stream(20)
            assert await _http_get(stream, "/tor/zwiebel-test") == b"zwiebel directory test\n"
            with_tor = [c for c in _stats(relays.a)["connections"]
                        if c["peer_fingerprint"] == tor_info.fingerprint]
            assert [(c["id"], c["direction"]) for c in with_tor] == [(opened["id"], "outbound")]
            [from_tor] = [c for c in _stats(relays.a)["circuits"]
                          if c["prev_conn"] == opened["id"]]
            assert from_tor["prev_circ_id"] < 0x80000000  # tor is the responder there
            for circ in (first, second):
                circ.close("done")
                circ.channel.close()

    asyncio.run(run())


# -- a real tor client uses a Zwiebel relay as its bridge --------------------------------

def _authority_proxy(dir_port: int, descriptor: bytes) -> DirCache:
    """A directory cache for the test: our own descriptor, everything else from the
    authority's DirPort (the relay's real cache is another feature's business)."""
    async def lookup(path: str) -> bytes | None:
        if path == "/tor/server/authority":
            return descriptor
        return await asyncio.to_thread(http_fetch, dir_port, path)
    return lookup



@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealTorNetwork]:
    with small_open_network(tmp_path_factory.mktemp("relay_net"), BASE_PORT) as net:
        yield net


def _bridge_client_torrc(data: Path, net: RealTorNetwork, bridge_port: int,
                         fingerprint: str) -> Path:
    lines = ["TestingTorNetwork 1", f"DataDirectory {data}", f"SocksPort {HOST}:{PORT_SOCKS}",
             "UseBridges 1", f"Bridge {HOST}:{bridge_port} {fingerprint}",
             "ClientUseIPv6 0", "LearnCircuitBuildTimeout 0", "CircuitBuildTimeout 30",
             f"Log info file {data / 'log'}", f"__OwningControllerProcess {os.getpid()}",
             *net.dir_authority_lines]
    torrc = data / "torrc"
    torrc.write_text("\n".join(lines) + "\n")
    return torrc


def _wait_bootstrapped(log: Path, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"tor client exited with {proc.returncode}")
        if log.exists() and "Bootstrapped 100%" in log.read_text(errors="replace"):
            return
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    raise RuntimeError(f"tor client did not bootstrap through the bridge:\n{tail}")


def test_real_tor_client_uses_zwiebel_bridge(tmp_path: Path, files: FileServer,
                                             network: RealTorNetwork) -> None:
    slot = network.external_slot(0, "zwiebelbridge")
    keys = _keys(tmp_path / "bridge")
    inputs = DescriptorInputs("zwiebelbridge", HOST, slot.or_port,
                              ExitPolicy.from_config(["reject *:*"]))
    descriptor = build_descriptors(keys, inputs, dt.datetime.now(dt.UTC)).server.encode()
    cache = _authority_proxy(network.authorities[0].dir_port, descriptor)
    settings = RelaySettings(HOST, slot.or_port, (ipaddress.IPv4Address(HOST),),
                             allow_private_extend=True, dir_cache=cache)
    client_dir = tmp_path / "client"
    client_dir.mkdir(mode=0o700)
    torrc = _bridge_client_torrc(client_dir, network, slot.or_port, keys.fingerprint_hex)

    async def run() -> None:
        bridge = RelayFeature(lambda: keys, settings)
        await bridge.start()
        proc = subprocess.Popen(["tor", "-f", str(torrc)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            await asyncio.to_thread(_wait_bootstrapped, client_dir / "log", proc, 120)
            out = tmp_path / "1m.bin"
            result = await asyncio.to_thread(curl_via_socks, PORT_SOCKS,
                                             files.url("1m.bin"), out, 120.0)
            assert result.ok, result.stderr
            assert result.sha256 == files.files["1m.bin"].sha256
            stats = _stats(bridge)
            inbound = [c for c in stats["connections"]
                       if c["direction"] == "inbound"]
            outbound = [c for c in stats["connections"]
                        if c["direction"] == "outbound"]
            assert inbound and all(c["client"] for c in inbound)
            assert outbound and all(not c["client"] for c in outbound)
            assert sum(c["bytes_written"] for c in inbound) > 1024 * 1024
            handshakes = stats["handshakes"]
            assert handshakes.get("ntor", 0) + handshakes.get("ntor-v3", 0) > 0, handshakes
        finally:
            proc.terminate()
            try:
                await asyncio.to_thread(proc.wait, 10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            await bridge.stop()

    asyncio.run(run())


# -- a real tor relay extends to a Zwiebel relay listed in the consensus -----------------

def test_real_tor_uses_zwiebel_middle(tmp_path: Path, files: FileServer,
                                      network: RealTorNetwork) -> None:
    slot = network.external_slot(1, "zwiebelmiddle")
    keys = _keys(tmp_path / "middle")
    inputs = DescriptorInputs("zwiebelmiddle", HOST, slot.or_port,
                              ExitPolicy.from_config(["reject *:*"]))
    upload = build_descriptors(keys, inputs, dt.datetime.now(dt.UTC)).upload_body()
    settings = RelaySettings(HOST, slot.or_port, (ipaddress.IPv4Address(HOST),),
                             allow_private_extend=True)
    client_dir = tmp_path / "client"
    client_dir.mkdir(mode=0o700)
    torrc = client_dir / "torrc"
    torrc.write_text("\n".join([
        "TestingTorNetwork 1", f"DataDirectory {client_dir}", f"SocksPort {HOST}:{PORT_SOCKS}",
        f"MiddleNodes {keys.fingerprint_hex}", "ClientUseIPv6 0",
        "LearnCircuitBuildTimeout 0", "CircuitBuildTimeout 30",
        f"Log info file {client_dir / 'log'}", f"__OwningControllerProcess {os.getpid()}",
        *network.dir_authority_lines]) + "\n")

    async def run() -> None:
        middle = RelayFeature(lambda: keys, settings)
        await middle.start()
        proc: subprocess.Popen[bytes] | None = None
        try:
            reply = await post_dirport(HOST, network.authorities[0].dir_port, "/tor/", upload)
            assert reply.status == 200, reply.reason
            await asyncio.to_thread(network.wait_for_relay, keys.fingerprint_hex,
                                    ("Running", "Valid"), 120)
            proc = subprocess.Popen(["tor", "-f", str(torrc)], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            await asyncio.to_thread(_wait_bootstrapped, client_dir / "log", proc, 120)
            result = await asyncio.to_thread(curl_via_socks, PORT_SOCKS, files.url("1m.bin"),
                                             tmp_path / "1m.bin", 120.0)
            assert result.ok, result.stderr
            assert result.sha256 == files.files["1m.bin"].sha256
            stats = _stats(middle)
            inbound = [c for c in stats["connections"]
                       if c["direction"] == "inbound" and not c["client"]]
            assert inbound, "no authenticated channel from a real tor relay"
            assert sum(c["bytes_written"] for c in inbound) > 1024 * 1024
        finally:
            if proc is not None:
                proc.terminate()
                try:
                    await asyncio.to_thread(proc.wait, 10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            await middle.stop()

    asyncio.run(run())

"""Key rotation while running, against real tor 0.4.9 (features.relay RelayFeature,
keys_rotation.SigningKeyRenewer).

Ports: a private network of real tor at base 31000 (layout: 31000-31199), SOCKS ports of
the real tor clients 31210 and 31211.

A real tor client bootstraps through a Zwiebel bridge and downloads 1 MiB. Then the
bridge renews its Ed25519 signing key (its certificate pretends to expire within the
day) and rotates its TLS key and link certificates, as tor does every two hours. The
first client, on its open channel, downloads again; the bridge drops its channels to
the real tor relays, and a second real tor client bootstraps through the bridge: its
TLS handshake sees the new certificate with the new CERTS types 4/5, the bridge
authenticates to real tor relays with the new signing key, and 1 MiB arrives byte for
byte.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from tests.support.fetch import curl_via_socks
from tests.support.relaynet import http_fetch, small_open_network
from zwiebel.features.relay import RelayFeature, RelaySettings
from zwiebel.features.relay.descriptor import DescriptorInputs, build_descriptors
from zwiebel.features.relay.edges import DirCache
from zwiebel.features.relay.keys import RelayKeys
from zwiebel.features.relay.keys_rotation import SigningKeyRenewer
from zwiebel.netdoc.policy import ExitPolicy
from zwiebel.testnet.fileserver import FileServer
from zwiebel.testnet.realtor import RealTorNetwork

pytestmark = [pytest.mark.interop]

HOST = "127.0.0.1"
BASE_PORT = 31000
SOCKS_1, SOCKS_2 = 31210, 31211


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FileServer]:
    with FileServer(tmp_path_factory.mktemp("rot_files"), {"1m.bin": 1024 * 1024}) as srv:
        yield srv


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealTorNetwork]:
    with small_open_network(tmp_path_factory.mktemp("rot_net"), BASE_PORT) as net:
        yield net



class Bridge:
    """A Zwiebel relay used as a bridge, serving a descriptor made from its current keys."""

    def __init__(self, base: Path, net: RealTorNetwork) -> None:
        self.slot = net.external_slot(0, "zwrotate")
        self.keys_dir = base / "keys"
        self.keys = RelayKeys.load_or_create(self.keys_dir, dt.datetime.now(dt.UTC),
                                             os.urandom)
        self.dir_port = net.authorities[0].dir_port
        self.feature = RelayFeature(lambda: self.keys, RelaySettings(
            HOST, self.slot.or_port, (ipaddress.IPv4Address(HOST),),
            allow_private_extend=True, dir_cache=self._cache()))

    def _cache(self) -> DirCache:
        async def lookup(path: str) -> bytes | None:
            if path == "/tor/server/authority":
                inputs = DescriptorInputs("zwrotate", HOST, self.slot.or_port,
                                          ExitPolicy.from_config(["reject *:*"]))
                now = dt.datetime.now(dt.UTC)
                return build_descriptors(self.keys, inputs, now).server.encode()
            return await asyncio.to_thread(http_fetch, self.dir_port, path)
        return lookup

    def renew_signing_key(self) -> None:
        """Pretend the signing certificate expires in an hour: the renewer replaces it."""
        soon = self.keys.signing_cert.expires - dt.timedelta(hours=1)
        renewer = SigningKeyRenewer(self.keys_dir, lambda: self.keys, self._set,
                                    lambda: soon, os.urandom,
                                    on_renewed=self.feature.request_identity_renewal)
        assert renewer.check()

    def _set(self, keys: RelayKeys) -> None:
        self.keys = keys

    def stats(self) -> dict[str, Any]:
        return cast(dict[str, Any], self.feature.statistics())


def _start_client(data: Path, net: RealTorNetwork, socks: int, bridge: Bridge
                  ) -> subprocess.Popen[bytes]:
    data.mkdir(mode=0o700)
    lines = ["TestingTorNetwork 1", f"DataDirectory {data}", f"SocksPort {HOST}:{socks}",
             "UseBridges 1", f"Bridge {HOST}:{bridge.slot.or_port} {bridge.keys.fingerprint_hex}",
             "ClientUseIPv6 0", "LearnCircuitBuildTimeout 0", "CircuitBuildTimeout 30",
             f"Log info file {data / 'log'}", f"__OwningControllerProcess {os.getpid()}",
             *net.dir_authority_lines]
    (data / "torrc").write_text("\n".join(lines) + "\n")
    return subprocess.Popen(["tor", "-f", str(data / "torrc")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


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


async def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        await asyncio.to_thread(proc.wait, 10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def _download(socks: int, files: FileServer, out: Path) -> None:
    result = await asyncio.to_thread(curl_via_socks, socks, files.url("1m.bin"), out, 120.0,
                                     out.name)
    assert result.ok, result.stderr
    assert result.sha256 == files.files["1m.bin"].sha256


def test_real_tor_after_signing_key_and_tls_rotation(tmp_path: Path, files: FileServer,
                                                     network: RealTorNetwork) -> None:
    bridge = Bridge(tmp_path / "bridge", network)

    async def run() -> None:
        await bridge.feature.start()
        procs: list[subprocess.Popen[bytes]] = []
        try:
            procs.append(_start_client(tmp_path / "c1", network, SOCKS_1, bridge))
            await asyncio.to_thread(_wait_bootstrapped, tmp_path / "c1" / "log", procs[0], 120)
            await _download(SOCKS_1, files, tmp_path / "a.bin")
            identity = bridge.feature.identity
            assert identity is not None
            old_tls, old_signing = identity.tls_cert, bridge.keys.signing.public_bytes()
            bridge.renew_signing_key()
            for _ in range(200):
                if bridge.feature.rotations:
                    break
                await asyncio.sleep(0.05)
            assert bridge.feature.rotations == 1
            assert identity.tls_cert != old_tls
            assert bridge.keys.signing.public_bytes() != old_signing
            assert identity.link.signing_cert == bridge.keys.signing_cert
            await _download(SOCKS_1, files, tmp_path / "b.bin")  # open channel untouched
            for conn in list(bridge.feature.circuits.connections.values()):  # type: ignore[union-attr]
                if conn.outbound:
                    conn.close("test: make the bridge authenticate again")
            procs.append(_start_client(tmp_path / "c2", network, SOCKS_2, bridge))
            await asyncio.to_thread(_wait_bootstrapped, tmp_path / "c2" / "log", procs[1], 120)
            await _download(SOCKS_2, files, tmp_path / "c.bin")
            outbound = [c for c in bridge.stats()["connections"] if c["direction"] == "outbound"]
            assert outbound and all(c["open"] and not c["client"] for c in outbound)
        finally:
            for proc in procs:
                await _stop(proc)
            await bridge.feature.stop()

    asyncio.run(run())

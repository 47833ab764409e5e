"""An IPv6 ORPort on a Zwiebel relay, against real tor 0.4.9 (RelaySettings.extra_listeners,
the descriptor's "or-address" line, dir-spec 2.1.1).

Ports: a private network of real tor at base 31300 (layout: 31300-31499); the Zwiebel
relay's IPv4 ORPort is the network's external slot 0, its IPv6 ORPort [::1]:31600; the
real tor client's SOCKS port 31610.

* the relay's descriptor, with "or-address [::1]:31600", is accepted by a real tor
  authority (HTTP 200), which lists the relay Running and Valid and serves the
  descriptor with that line;
* a real tor client with ``Bridge [::1]:31600`` (ClientUseIPv6, ClientPreferIPv6ORPort)
  connects to the relay over IPv6 only, bootstraps through it and downloads 1 MiB byte
  for byte.
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
from zwiebel.netdoc.policy import ExitPolicy
from zwiebel.runtime.dirpost import post_dirport
from zwiebel.testnet.fileserver import FileServer
from zwiebel.testnet.realtor import RealTorNetwork

pytestmark = [pytest.mark.interop]

HOST, HOST6 = "127.0.0.1", "::1"
BASE_PORT = 31300
PORT6, SOCKS = 31600, 31610


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FileServer]:
    with FileServer(tmp_path_factory.mktemp("v6_files"), {"1m.bin": 1024 * 1024}) as srv:
        yield srv


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealTorNetwork]:
    with small_open_network(tmp_path_factory.mktemp("v6_net"), BASE_PORT) as net:
        yield net



def _cache(descriptor: bytes, dir_port: int) -> DirCache:
    async def lookup(path: str) -> bytes | None:
        if path == "/tor/server/authority":
            return descriptor
        return await asyncio.to_thread(http_fetch, dir_port, path)
    return lookup


def _client_torrc(data: Path, net: RealTorNetwork, fingerprint: str) -> Path:
    data.mkdir(mode=0o700)
    lines = ["TestingTorNetwork 1", f"DataDirectory {data}", f"SocksPort {HOST}:{SOCKS}",
             "UseBridges 1", f"Bridge [{HOST6}]:{PORT6} {fingerprint}",
             "ClientUseIPv4 1", "ClientUseIPv6 1", "ClientPreferIPv6ORPort 1",
             "LearnCircuitBuildTimeout 0", "CircuitBuildTimeout 30",
             f"Log info file {data / 'log'}", f"__OwningControllerProcess {os.getpid()}",
             *net.dir_authority_lines]
    (data / "torrc").write_text("\n".join(lines) + "\n")
    return data / "torrc"


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


def test_ipv6_orport_with_real_tor(tmp_path: Path, files: FileServer,
                                   network: RealTorNetwork) -> None:
    slot = network.external_slot(0, "zwsix")
    keys = RelayKeys.load_or_create(tmp_path / "keys", dt.datetime.now(dt.UTC), os.urandom)
    inputs = DescriptorInputs("zwsix", HOST, slot.or_port,
                              ExitPolicy.from_config(["reject *:*"]),
                              or_address_v6=(HOST6, PORT6))
    descs = build_descriptors(keys, inputs, dt.datetime.now(dt.UTC))
    assert f"\nor-address [{HOST6}]:{PORT6}\n" in descs.server
    auth_port = network.authorities[0].dir_port
    settings = RelaySettings(HOST, slot.or_port, (ipaddress.IPv4Address(HOST),
                                                  ipaddress.IPv6Address(HOST6)),
                             allow_private_extend=True, extra_listeners=((HOST6, PORT6),),
                             dir_cache=_cache(descs.server.encode(), auth_port))
    torrc = _client_torrc(tmp_path / "client", network, keys.fingerprint_hex)

    async def run() -> None:
        relay = RelayFeature(lambda: keys, settings)
        await relay.start()
        proc: subprocess.Popen[bytes] | None = None
        try:
            reply = await post_dirport(HOST, auth_port, "/tor/", descs.upload_body())
            assert reply.status == 200, reply.reason
            await asyncio.to_thread(network.wait_for_relay, keys.fingerprint_hex,
                                    ("Running", "Valid"), 120)
            served = await asyncio.to_thread(
                http_fetch, auth_port, f"/tor/server/fp/{keys.fingerprint_hex}")
            assert served is not None and f"\nor-address [{HOST6}]:{PORT6}\n".encode() in served
            proc = subprocess.Popen(["tor", "-f", str(torrc)], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            await asyncio.to_thread(_wait_bootstrapped, tmp_path / "client" / "log", proc, 120)
            result = await asyncio.to_thread(curl_via_socks, SOCKS, files.url("1m.bin"),
                                             tmp_path / "1m.bin", 120.0)
            assert result.ok, result.stderr
            assert result.sha256 == files.files["1m.bin"].sha256
            stats = cast(dict[str, Any], relay.statistics())
            inbound = [c for c in stats["connections"]
                       if c["direction"] == "inbound" and c["client"]]  # the tor client's
            assert inbound and all(c["peer"].startswith(HOST6 + ":") for c in inbound), inbound
            assert sum(c["bytes_written"] for c in inbound) > 1024 * 1024
        finally:
            if proc is not None:
                proc.terminate()
                try:
                    await asyncio.to_thread(proc.wait, 10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            await relay.stop()

    asyncio.run(run())

"""Zwiebel's client in a private network of real tor 0.4.9 (issue: client).

A Zwiebel daemon configured only through a torrc with the network's DirAuthority line
bootstraps, and curl downloads through its SocksPort arrive byte for byte.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.interop.conftest import DNS_NAMES
from tests.support.fetch import curl_via_socks
from zwiebel.testnet.fileserver import FileServer
from zwiebel.testnet.realtor import RealTorNetwork
from zwiebel.testnet.zwiebelproc import ZwiebelProcess

pytestmark = pytest.mark.interop

BOOTSTRAP_TIMEOUT = 90.0
CIRCUIT_BUILT = r"Circuit (\d+) built: (\S+)"
ATTACHED = r"Stream \d+ to port \d+ attached to circuit (\d+)"


def client_torrc(net: RealTorNetwork, socks_port: int, *extra: str) -> list[str]:
    """A client torrc: only the network's DirAuthority lines and the test-network switch."""
    return ["TestingTorNetwork 1", f"SocksPort 127.0.0.1:{socks_port}",
            *net.dir_authority_lines, *extra]


@pytest.fixture(scope="module")
def zwiebel_client(real_network: RealTorNetwork,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZwiebelProcess]:
    """A bootstrapped Zwiebel client on full descriptors (the exits accept 127/8 only)."""
    port = real_network.spare_port(0)
    data = tmp_path_factory.mktemp("zwiebel-client") / "data"
    proc = ZwiebelProcess(data, client_torrc(real_network, port, "UseMicrodescriptors 0"),
                          socks_port=port)
    with proc:
        proc.wait_for(r"Bootstrapped 100% \(done\): Done", BOOTSTRAP_TIMEOUT)
        yield proc


def _socks(proc: ZwiebelProcess) -> int:
    return proc.socks_port


def test_bootstrap_log_and_caches(zwiebel_client: ZwiebelProcess) -> None:
    phases = [int(m.group(1)) for m in zwiebel_client.matches(r"Bootstrapped (\d+)%")]
    assert phases[0] == 0 and phases[-1] == 100
    assert phases == sorted(phases)
    for name in ("cached-certs", "cached-consensus", "cached-descriptors", "state"):
        assert (zwiebel_client.data_dir / name).stat().st_size > 0, name
    assert "Guard in=default rsa_id=" in (zwiebel_client.data_dir / "state").read_text()


def test_consensus_refreshed_within_its_lifetime(zwiebel_client: ZwiebelProcess) -> None:
    """The network votes every 10 s; a running client keeps fetching new consensuses."""
    pattern = r"Received a new ns consensus, valid-after (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)"
    deadline = time.monotonic() + 60
    seen: set[str] = set()
    while len(seen) < 2:
        assert time.monotonic() < deadline, f"only saw consensuses {seen}"
        start = len(zwiebel_client.lines)
        seen |= {m.group(1) for m in zwiebel_client.matches(pattern)}
        if len(seen) < 2:
            zwiebel_client.wait_for(pattern, 60, start)


def test_socks5_hostname_download_10mb(zwiebel_client: ZwiebelProcess, http_server: FileServer,
                                       tmp_path: Path) -> None:
    served = http_server.files["10m.bin"]
    result = curl_via_socks(_socks(zwiebel_client), served.url, tmp_path / "got", 120)
    assert result.ok, result.stderr
    assert (result.size, result.sha256) == (served.size, served.sha256)


def test_socks4a_download_10mb(zwiebel_client: ZwiebelProcess, http_server: FileServer,
                               tmp_path: Path) -> None:
    served = http_server.files["10m.bin"]
    out = tmp_path / "got4a"
    proc = subprocess.run(
        ["curl", "--silent", "--show-error", "--fail", "--max-time", "120",
         "--socks4a", f"127.0.0.1:{_socks(zwiebel_client)}", "--output", str(out), served.url],
        capture_output=True, timeout=150, check=False)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == served.path.read_bytes()


@pytest.mark.parametrize("version", ["-4", "-5"])
def test_resolve_through_exit(zwiebel_client: ZwiebelProcess, version: str) -> None:
    """tor-resolve (SOCKS4a/5 RESOLVE extension) gets the exit resolver's answer."""
    proc = subprocess.run(
        ["tor-resolve", version, "www.zwiebel.test", f"127.0.0.1:{_socks(zwiebel_client)}"],
        capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == DNS_NAMES["www.zwiebel.test"]


def test_resolve_of_unknown_name_fails(zwiebel_client: ZwiebelProcess) -> None:
    proc = subprocess.run(
        ["tor-resolve", "-5", "nosuchname.zwiebel.test", f"127.0.0.1:{_socks(zwiebel_client)}"],
        capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode != 0
    assert proc.stdout.strip() == ""


def _fetch_circuit(proc: ZwiebelProcess, server: FileServer, user: str, out: Path) -> int:
    start = len(proc.lines)
    result = curl_via_socks(_socks(proc), server.files["1k.bin"].url, out, 60, isolation=user)
    assert result.ok, result.stderr
    return int(proc.wait_for(ATTACHED, 30, start).group(1))


def test_socks_usernames_isolate_circuits(zwiebel_client: ZwiebelProcess,
                                          http_server: FileServer, tmp_path: Path) -> None:
    first = _fetch_circuit(zwiebel_client, http_server, "alice", tmp_path / "a1")
    other = _fetch_circuit(zwiebel_client, http_server, "bob", tmp_path / "b1")
    again = _fetch_circuit(zwiebel_client, http_server, "alice", tmp_path / "a2")
    assert first != other
    assert again == first


def test_killed_middle_relay_then_new_circuit(zwiebel_client: ZwiebelProcess,
                                              real_network: RealTorNetwork,
                                              http_server: FileServer, tmp_path: Path) -> None:
    served = http_server.files["10m.bin"]
    out = tmp_path / "cut"
    start = len(zwiebel_client.lines)
    argv = ["curl", "--silent", "--show-error", "--fail", "--max-time", "120",
            "--limit-rate", "500K", "--socks5-hostname", f"127.0.0.1:{_socks(zwiebel_client)}",
            "--proxy-user", "killtest:x", "--output", str(out), served.url]
    curl = subprocess.Popen(argv, stderr=subprocess.PIPE)
    circuit = int(zwiebel_client.wait_for(ATTACHED, 60, start).group(1))
    path = next(m.group(2) for m in zwiebel_client.matches(CIRCUIT_BUILT)
                if int(m.group(1)) == circuit)
    middle = path.split(",")[1].split("~")[1]
    _wait_for_bytes(out, 30.0)
    real_network.kill_node(middle)
    try:
        assert curl.wait(timeout=120) != 0
        assert out.stat().st_size < served.size
        after = len(zwiebel_client.lines)
        result = curl_via_socks(_socks(zwiebel_client), served.url, tmp_path / "after", 120,
                                isolation="killtest")
        assert result.ok, result.stderr + "\n".join(zwiebel_client.lines[start:])
        assert result.sha256 == served.sha256
        new_circuit = int(zwiebel_client.wait_for(ATTACHED, 30, after).group(1))
        assert new_circuit != circuit
    finally:
        real_network.start_node(middle)
        real_network.wait_for_relay(real_network.nodes[middle].fingerprint)


def _first_line(proc: ZwiebelProcess, pattern: str) -> int | None:
    """Index of the first log line matching `pattern`, or None."""
    regex = re.compile(pattern)
    return next((i for i, line in enumerate(proc.lines) if regex.search(line)), None)


def _wait_for_bytes(path: Path, timeout: float) -> None:
    """Poll (bounded) until the download has started writing `path`."""
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.stat().st_size > 0):
        assert time.monotonic() < deadline, "the download never started"
        time.sleep(0.05)


def test_restart_reuses_cached_directory(real_network: RealTorNetwork, http_server: FileServer,
                                         tmp_path: Path) -> None:
    port = real_network.spare_port(1)
    data = tmp_path / "data"
    torrc = client_torrc(real_network, port, "UseMicrodescriptors 0")
    with ZwiebelProcess(data, torrc) as first:
        first.wait_for(r"Bootstrapped 100%", BOOTSTRAP_TIMEOUT)
        guards = (data / "state").read_text()
    assert first.returncode == 0
    with ZwiebelProcess(data, torrc) as second:
        second.wait_for(r"Bootstrapped 100%", BOOTSTRAP_TIMEOUT)
        loaded = _first_line(second, r"Loaded a usable consensus and descriptors from the cache")
        asked = _first_line(second, r"Asking for networkstatus consensus")
        assert loaded is not None
        assert asked is None or asked > loaded
        result = curl_via_socks(port, http_server.files["1m.bin"].url, tmp_path / "got", 60)
        assert result.ok and result.sha256 == http_server.files["1m.bin"].sha256
    guard_lines = [x for x in guards.splitlines() if x.startswith("Guard ")]
    assert guard_lines
    assert all(x in (data / "state").read_text() for x in guard_lines[:1])


def test_microdescriptor_client_with_open_exits(real_network_open: RealTorNetwork,
                                                http_server: FileServer,
                                                tmp_path: Path) -> None:
    """UseMicrodescriptors auto: the microdesc consensus and microdescriptors."""
    port = real_network_open.spare_port(0)
    data = tmp_path / "data"
    with ZwiebelProcess(data, client_torrc(real_network_open, port)) as proc:
        proc.wait_for(r"Bootstrapped 100% \(done\): Done", BOOTSTRAP_TIMEOUT)
        served = http_server.files["10m.bin"]
        result = curl_via_socks(port, served.url, tmp_path / "got", 120)
        assert result.ok, result.stderr
        assert result.sha256 == served.sha256
    assert (data / "cached-microdesc-consensus").exists()
    assert (data / "cached-microdescs").stat().st_size > 0

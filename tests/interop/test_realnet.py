"""The real-tor harness itself: networks come up, and real tor carries data through them.

These tests prove the fixtures that Zwiebel's own interop tests build on
(zwiebel.testnet.realtor, tests/interop/conftest.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.control import open_control
from tests.support.fetch import curl_via_socks
from zwiebel.testnet.dirpoll import fetch_dir_document, parse_status_entries
from zwiebel.testnet.fileserver import FileServer
from zwiebel.testnet.realtor import RealTorNetwork

pytestmark = pytest.mark.interop


def test_network_comes_up(real_network: RealTorNetwork, tmp_path: Path) -> None:
    net = real_network
    entries = net.consensus_entries()
    assert entries is not None
    by_fp = {e.fingerprint: e for e in entries}
    assert set(by_fp) == {n.fingerprint for n in net.relays}
    assert {by_fp[n.fingerprint].nickname for n in net.relays} == {
        "auth0", "relay0", "relay1", "relay2", "exit0"}
    assert {"Running", "Valid", "Exit"} <= by_fp[net.exits[0].fingerprint].flags
    assert all("Running" in by_fp[n.fingerprint].flags for n in net.relays)
    assert net.dir_authority_lines == (
        f"DirAuthority auth0 orport=21010 v3ident={net.v3ident} 127.0.0.1:21011 "
        f"{net.authorities[0].fingerprint}",)
    assert f"fingerprint {net.v3ident}\n" in net.authority_certificate.read_text()
    assert all(n.running and n.pid for n in net.nodes.values())
    summary = tmp_path / "net.json"
    net.write_json(summary)
    data = json.loads(summary.read_text())
    assert data["client"]["socks_port"] == 21000
    assert [n["or_port"] for n in data["nodes"][:5]] == [21010, 21020, 21030, 21040, 21050]
    assert 0 < net.bootstrap_seconds < net.timeout


def test_client_bootstrapped_with_every_relay(real_network: RealTorNetwork) -> None:
    client = real_network.client
    assert client is not None
    with open_control(client) as ctl:
        phase = ctl.getinfo_one("status/bootstrap-phase")
        relays = parse_status_entries(ctl.getinfo_one("ns/all"))
    assert "PROGRESS=100" in phase
    assert len(relays) == len(real_network.relays)


def test_download_10mib_through_real_tor(real_network: RealTorNetwork, http_server: FileServer,
                                         tmp_path: Path) -> None:
    client = real_network.client
    assert client is not None
    served = http_server.files["10m.bin"]
    result = curl_via_socks(client.socks_port, served.url, tmp_path / "10m.bin",
                            max_time=120, isolation="realnet-10m")
    assert result.ok, result.stderr
    assert result.size == served.size == 10 * 1024 * 1024
    assert result.sha256 == served.sha256
    print(f"10 MiB through real tor in {result.seconds}s")


def test_small_files_arrive(real_network: RealTorNetwork, http_server: FileServer,
                            tmp_path: Path) -> None:
    client = real_network.client
    assert client is not None
    for name in ("1k.bin", "1m.bin"):
        served = http_server.files[name]
        result = curl_via_socks(client.socks_port, served.url, tmp_path / name, max_time=60)
        assert result.ok, result.stderr
        assert (result.size, result.sha256) == (served.size, served.sha256)


def test_open_network_exit_summary(real_network_open: RealTorNetwork) -> None:
    net = real_network_open
    assert net.client is None
    exit_fp = net.exits[0].fingerprint
    text = fetch_dir_document(net.authorities[0].dir_port,
                              "/tor/status-vote/current/consensus-microdesc")
    assert text is not None
    flags = {e.fingerprint: e.flags for e in parse_status_entries(text)}
    assert "Exit" in flags[exit_fp]
    descriptor = fetch_dir_document(net.authorities[0].dir_port, f"/tor/server/fp/{exit_fp}")
    assert descriptor is not None
    assert "\naccept *:*\n" in descriptor


def test_kill_and_restart_one_relay(real_network_open: RealTorNetwork) -> None:
    net = real_network_open
    relay = net.node("relay1")
    old_pid = relay.pid
    net.kill_node("relay1")
    assert not relay.running
    seconds = net.start_node("relay1")
    assert relay.running and relay.pid != old_pid
    with open_control(relay) as ctl:
        assert "PROGRESS=100" in ctl.getinfo_one("status/bootstrap-phase")
    net.wait_for_relay(relay.fingerprint, timeout=60)
    print(f"relay1 restarted and bootstrapped in {seconds:.1f}s")


def test_vote_exit_reaches_authority(real_network_open: RealTorNetwork) -> None:
    net = real_network_open
    fake = "AB" * 20
    voted = net.vote_exit(fake)
    assert voted == [net.exits[0].fingerprint, fake]
    with open_control(net.authorities[0]) as ctl:
        value = ctl.command("GETCONF TestingDirAuthVoteExit").text()
    assert f"${net.exits[0].fingerprint},${fake}" in value
    assert f"TestingDirAuthVoteExit ${net.exits[0].fingerprint},${fake}\n" in (
        net.authorities[0].torrc_path.read_text())
    slot = net.external_slot(0, "zwiebel0", exit_relay=True)
    assert slot.or_port == 21450
    assert f"ORPort 127.0.0.1:{slot.or_port}" in slot.torrc_lines
    assert net.dir_authority_lines[0] in slot.torrc_lines

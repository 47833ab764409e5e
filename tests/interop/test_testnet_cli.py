"""`zwiebel testnet up / status / down` end to end, with real tor authorities and
with real tor in every role (tests/interop/test_dirauth.py runs Zwiebel authorities).

Each test runs the CLI as a user would: ``up`` returns with the network running
detached, ``status`` reports on it, a file served from 127.0.0.2 is downloaded
through the client's SocksPort, and ``down`` stops every recorded process. The
``finally`` blocks stop whatever is still running even when an assertion fails.
Ports: 27800-27999, 28000-28199 and 28200-28399.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.support.testnet_cli import cli, download, running_network
from zwiebel.testnet.impls import parse_roles
from zwiebel.testnet.launcher import Launcher, LaunchOptions
from zwiebel.testnet.netfile import PIDS_FILE, NetworkRecord
from zwiebel.testnet.procs import pid_runs_torrc
from zwiebel.testnet.progress import ProgressBar

pytestmark = pytest.mark.interop

SIZE = 3 * 2**20
SHAPE = ("--relays", "3", "--exits", "1", "--clients", "1")


def _check_status(base: Path, record: NetworkRecord) -> None:
    status = cli("status", str(base), timeout=60)
    assert status.returncode == 0, status.stdout + status.stderr
    lines = status.stdout.splitlines()
    ours = len([n for n in record.nodes if n.fingerprint])
    for node in record.nodes:
        line = next(x for x in lines if x.split()[:1] == [node.name])
        assert " alive" in line, status.stdout
    assert "bootstrap 100% Done" in status.stdout
    consensus = [x for x in lines if "consensus from" in x]
    assert len(consensus) == len(record.with_role("authority"))
    assert all(f"{ours}/{ours} of ours Running" in x for x in consensus), status.stdout


def _check_down(base: Path, record: NetworkRecord) -> None:
    down = cli("down", str(base), timeout=120)
    assert down.returncode == 0, down.stdout + down.stderr
    assert f"stopped {len(record.nodes)} processes" in down.stdout
    assert not (base / PIDS_FILE).exists()
    for node in record.nodes:
        assert node.pid is not None and not pid_runs_torrc(node.pid, Path(node.torrc))
        assert Path(node.log).exists()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", record.node("auth0").dir_port), timeout=5)


def test_zwiebel_relays_and_client_with_real_tor_authorities(tmp_path: Path) -> None:
    base = tmp_path / "net"
    with running_network(base, 27800, "--real-tor", "authority", *SHAPE) as record:
        impls = {n.name: n.impl for n in record.nodes}
        assert [impls[f"auth{i}"] for i in range(3)] == ["tor"] * 3
        assert {impls[n] for n in ("relay0", "relay1", "relay2", "exit0", "client0")} == \
            {"zwiebel"}
        assert all(n.alive() for n in record.nodes)
        _check_status(base, record)
        download(base, record, SIZE)
        _check_down(base, record)


def test_all_real_tor(tmp_path: Path) -> None:
    base = tmp_path / "net"
    with running_network(base, 28000, "--real-tor", "all", *SHAPE) as record:
        assert {n.impl for n in record.nodes} == {"tor"}
        assert {n.keys_by for n in record.with_role("authority")} == {"tor-gencert"}
        _check_status(base, record)
        download(base, record, SIZE)
        _check_down(base, record)


def test_real_tor_authority_runs_on_zwiebel_made_keys(tmp_path: Path) -> None:
    """Without tor-gencert the launcher makes a real tor authority's v3 keys with
    zwiebel.dirauth.keys; tor loads them, votes and signs a consensus with them."""
    opts = LaunchOptions(tmp_path / "net", 28200, 1, 2, 1, 0, parse_roles("all"),
                         gencert="no-such-tor-gencert", timeout=200)
    launcher = Launcher(opts, ProgressBar(tty=False))
    try:
        record = launcher.up()
        assert record.node("auth0").keys_by == "zwiebel.dirauth.keys"
        assert record.node("auth0").impl == "tor"
    finally:
        launcher.stop()

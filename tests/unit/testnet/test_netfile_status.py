"""network.json / pids.json, `down` (stop_network), `status` and the node table."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.unit.testnet.support import fake_launcher
from zwiebel.testnet import netfile
from zwiebel.testnet.launcher import stop_network
from zwiebel.testnet.netfile import NetworkRecord
from zwiebel.testnet.procs import pid_runs_torrc
from zwiebel.testnet.status import (
    ConsensusStatus,
    NetworkStatus,
    NodeStatus,
    client_bootstrap,
    consensus_status,
    format_status,
    node_table,
)

DATA = Path(__file__).parent / "data"
SLEEPER = "import time; time.sleep(60)"
#: From data/README.md: that real tor run's relay0 and exit0.
RELAY0 = "3FC953CA6D91A34EE417FA6E29B5416C03DC3901"
EXIT0 = "1ACB60646F165171910C2D29DDFBB60E985000C5"


def _record(tmp_path: Path) -> NetworkRecord:
    return fake_launcher(tmp_path, real_tor="authority").record()


def test_network_json_roundtrip(tmp_path: Path) -> None:
    record = _record(tmp_path).with_pids({"auth0": 4242, "client0": 4343})
    record = replace(record, timings={"keys": 1.5})
    netfile.write_network(tmp_path, record)
    again = netfile.read_network(tmp_path)
    assert again == record
    assert again.node("auth0").pid == 4242 and again.node("relay0").pid is None


def test_pids_json_roundtrip(tmp_path: Path) -> None:
    pids = {"auth0": (11, tmp_path / "auth0" / "torrc"), "client0": (12, Path("/a b/torrc"))}
    netfile.write_pids(tmp_path, pids)
    assert netfile.read_pids(tmp_path) == pids
    assert netfile.read_pids(tmp_path / "absent") == {}


def _wait(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_down_stops_exactly_the_recorded_pids(tmp_path: Path) -> None:
    torrc, other_torrc = tmp_path / "relay0" / "torrc", tmp_path / "other" / "torrc"
    ours = subprocess.Popen([sys.executable, "-c", SLEEPER, "-f", str(torrc)])
    other = subprocess.Popen([sys.executable, "-c", SLEEPER, "-f", str(other_torrc)])
    try:
        _wait(lambda: pid_runs_torrc(ours.pid, torrc) and
              pid_runs_torrc(other.pid, other_torrc), "children exec")
        record = _record(tmp_path)
        netfile.write_network(tmp_path, record)
        # "x" names a live PID that does not run its recorded torrc: left alone.
        netfile.write_pids(tmp_path, {"relay0": (ours.pid, torrc), "x": (other.pid, torrc)})
        assert stop_network(tmp_path) == ["relay0"]
        assert ours.wait(timeout=5) is not None
        assert other.poll() is None
        assert not (tmp_path / netfile.PIDS_FILE).exists()
        assert (tmp_path / netfile.NETWORK_FILE).exists()
        assert stop_network(tmp_path) == []
    finally:
        for proc in (ours, other):
            proc.kill()
            proc.wait()


def test_node_table(tmp_path: Path) -> None:
    record = _record(tmp_path).with_pids({"auth0": 77})
    lines = node_table(record)
    assert lines[0].split() == ["name", "impl", "role", "ORPort", "DirPort", "SocksPort",
                                "ControlPort", "pid", "fingerprint"]
    assert lines[1].split() == ["auth0", "tor", "authority", "27810", "27811", "-", "27812",
                                "77", record.node("auth0").fingerprint]
    assert lines[-1].split() == ["client0", "zwiebel", "client", "-", "-", "27870", "27872",
                                 "-", "-"]
    assert len({len(line) for line in lines[1:-1]}) == 1  # columns aligned


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        body = (DATA / "realtor-consensus-ns.txt").read_bytes()
        self.send_response(200 if self.path.endswith("/consensus") else 404)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


@pytest.fixture
def dirport() -> Iterator[int]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def test_consensus_status_from_a_real_tor_consensus(tmp_path: Path, dirport: int) -> None:
    record = _record(tmp_path)
    real = {"relay0": RELAY0, "exit0": EXIT0}
    nodes = tuple(replace(n, fingerprint=real.get(n.name, n.fingerprint))
                  for n in record.nodes)
    record = replace(record, nodes=nodes)
    auth = replace(record.node("auth0"), dir_port=dirport)
    assert consensus_status(record, auth) == ConsensusStatus("auth0", "2026-11-22 05:17:10",
                                                             5, 2)


def test_consensus_status_without_consensus(tmp_path: Path) -> None:
    record = _record(tmp_path)
    auth = record.node("auth0")  # nothing listens on its DirPort
    assert consensus_status(record, auth) == ConsensusStatus("auth0", None, 0, 0)


def test_client_bootstrap_falls_back_to_the_log(tmp_path: Path) -> None:
    client = _record(tmp_path).node("client0")
    Path(client.log).write_text(
        "Nov 22 08:15:40.000 [notice] Bootstrapped 45% (requesting_descriptors): Asking\n"
        "Nov 22 08:15:41.000 [notice] Bootstrapped 100% (done): Done\n")
    assert client_bootstrap(client) == "100% Done (from log)"
    Path(client.log).unlink()
    assert client_bootstrap(client).startswith("unknown")


def test_format_status(tmp_path: Path) -> None:
    record = _record(tmp_path)
    status = NetworkStatus(
        (NodeStatus("auth0", "tor", "authority", 5, True, None),
         NodeStatus("client0", "zwiebel", "client", None, False, "100% Done")),
        (ConsensusStatus("auth0", "2026-11-22 05:17:10", 5, 5),
         ConsensusStatus("auth1", None, 0, 0)))
    lines = format_status(record, status)
    assert not status.all_alive
    assert lines[1].split() == ["auth0", "tor", "authority", "pid", "5", "alive"]
    assert lines[2].endswith("pid - dead, bootstrap 100% Done")
    assert lines[3].endswith("valid-after 2026-11-22 05:17:10, 5 relays, 5/6 of ours Running")
    assert lines[4].endswith("auth1: none served")

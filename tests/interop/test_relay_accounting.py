"""AccountingMax of a few MB: the relay hibernates after that many bytes, logs it, and
survives a restart with its counters (issue: relay, "Must show").

A Zwiebel exit with AccountingMax 4 MB and AccountingStart day 00:00 (and
CountPrivateBandwidth 1, since on loopback every connection is otherwise exempt from
counting, as in tor) joins a real-tor network; a real tor client downloads 16 MiB through
it. The relay logs the soft limit (no new circuits) and then the hard limit (dormant: the
ORPort closes and the download is cut), with tor's wording. After a restart from the same
DataDirectory the state file still holds the period and its byte counts, and the relay
goes straight back to sleep.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.interop.test_relay_bandwidth import (
    FILE_HOST,
    exit_through,
    fingerprint_of,
    relay_torrc,
    timed_download,
    wait_published,
    wait_usable_exit,
)
from zwiebel.state import StateFile, parse_state
from zwiebel.testnet.fileserver import FileServer
from zwiebel.testnet.layout import ExitPolicyMode
from zwiebel.testnet.realtor import RealTorNetwork
from zwiebel.testnet.zwiebelproc import ZwiebelProcess

pytestmark = pytest.mark.interop

BASE_PORT = 28600
MIB = 1 << 20
QUOTA = 4 * MIB
FILE_SIZE = 16 * MIB
#: What the client must have received when the relay goes dormant. The relay counts 514
#: wire bytes (and TLS framing) per 498 of payload; the cells in flight on the circuit
#: when it blows its connections away are lost, up to a circuit window of 1,000 cells
#: (498,000 bytes); and 64 KiB are left for its own directory traffic. One run delivered
#: 88% of the quota, so the 90% this test asked before was too tight. The relay's own
#: count (`_used`) is checked to reach the quota, below.
DELIVERED_AT_LEAST = QUOTA * 498 // 514 - 1000 * 498 - 64 * 1024
SOFT = r"Bandwidth soft limit reached; commencing hibernation\. No new connections will be accepted"
DORMANT = r"Going dormant\. Blowing away remaining connections\."


@pytest.fixture(scope="module")
def far_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FileServer]:
    """The download, served on 127.0.0.2."""
    with FileServer(tmp_path_factory.mktemp("acct_files"), {"big.bin": FILE_SIZE},
                    host=FILE_HOST) as server:
        yield server


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealTorNetwork]:
    """1 authority, 2 middles, 1 exit and a client, all real tor."""
    net = RealTorNetwork(tmp_path_factory.mktemp("relay-acct-net"), BASE_PORT, middles=2,
                         exit_policy=ExitPolicyMode.OPEN)
    with net:
        yield net


def _state(data: Path) -> StateFile:
    return parse_state((data / "state").read_text())


def _used(state: StateFile) -> int:
    """Bytes counted under AccountingRule max."""
    return max(int(state.get("AccountingBytesReadInInterval") or 0),
               int(state.get("AccountingBytesWrittenInInterval") or 0))


def _or_port_refuses(port: int, within: float = 5.0) -> bool:
    """True once connections to the ORPort are refused (the dormant log line comes just
    before the listener closes)."""
    deadline = time.monotonic() + within
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                pass
        except ConnectionRefusedError:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)


def test_hibernates_at_quota_and_stays_asleep_after_restart(
        network: RealTorNetwork, far_server: FileServer,
        tmp_path_factory: pytest.TempPathFactory) -> None:
    slot = network.external_slot(0, "zwiebelacct")
    torrc = relay_torrc(network, "zwiebelacct", slot.or_port, "AccountingMax 4 MB",
                        "AccountingStart day 00:00", "CountPrivateBandwidth 1")
    data = tmp_path_factory.mktemp("zwiebel-acct") / "data"
    with ZwiebelProcess(data, torrc) as relay:
        relay.wait_for(r"Configured hibernation\. This interval begins at", 30)
        wait_published(relay)
        assert not relay.matches(SOFT), "hibernated before any traffic"
        fingerprint = fingerprint_of(relay)
        wait_usable_exit(network, fingerprint, 120)
        got = timed_download(exit_through(network, fingerprint),
                             far_server.files["big.bin"], "accounting", timeout=90)
        relay.wait_for(SOFT, 30)
        relay.wait_for(DORMANT, 30)
        assert DELIVERED_AT_LEAST <= got.size < FILE_SIZE, got.size
        assert _or_port_refuses(slot.or_port)
    saved = _state(data)
    begun = saved.get("AccountingIntervalStart")
    assert begun is not None and _used(saved) >= QUOTA
    time.sleep(1)
    with ZwiebelProcess(data, torrc) as again:
        again.wait_for(r"Configured hibernation\. This interval begins at", 30)
        again.wait_for(SOFT, 30)
        again.wait_for(DORMANT, 30)
        assert _or_port_refuses(slot.or_port)
        time.sleep(2)
        assert not again.matches(r"Hibernation period ended")
    kept = _state(data)
    assert kept.get("AccountingIntervalStart") == begun
    assert _used(kept) >= _used(saved)

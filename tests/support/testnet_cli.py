"""Driving `zwiebel testnet` from interop tests as a user would: `up` a network
detached, download through its client, and always `down` it again (then SIGKILL
whatever is left), so a failing assertion never leaves processes behind."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from zwiebel.testnet.fileserver import FileServer
from zwiebel.testnet.netfile import NETWORK_FILE, NetworkRecord, NodeRecord, read_network
from zwiebel.testnet.procs import stop_pids
from zwiebel.testnet.socksfetch import fetch

#: Destinations are served from 127.0.0.2: tor uses a relay as the exit for streams to
#: that relay's own address, and every relay is on 127.0.0.1.
FILE_HOST = "127.0.0.2"


def cli(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """`python -m zwiebel testnet ARGS`, bounded in time."""
    return subprocess.run([sys.executable, "-m", "zwiebel", "testnet", *args],
                          capture_output=True, text=True, timeout=timeout, check=False)


def recorded(base: Path) -> dict[str, tuple[int, Path]]:
    """Name -> (pid, torrc) of every process network.json records."""
    if not (base / NETWORK_FILE).exists():
        return {}
    return {n.name: (n.pid, Path(n.torrc)) for n in read_network(base).nodes
            if n.pid is not None}


@contextmanager
def running_network(base: Path, base_port: int, *args: str) -> Iterator[NetworkRecord]:
    """`up` with `args` (bounded), yield network.json; always `down`, then kill leftovers."""
    try:
        up = cli("up", str(base), *args, "--base-port", str(base_port), "--timeout", "240",
                 timeout=300)
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        assert "100% clients:" in up.stdout and "fingerprint" in up.stdout
        yield read_network(base)
    finally:
        cli("down", str(base), timeout=120)
        stop_pids(recorded(base), term_wait=2.0)


@contextmanager
def restarted(node: NodeRecord) -> Iterator[int]:
    """Stop `node` (SIGTERM, bounded) and start it again with its recorded command;
    yield the size its log had before the restart (where the new process's lines
    begin). The new process is stopped on exit: network.json does not know it."""
    assert node.pid is not None
    torrc = Path(node.torrc)
    stop_pids({node.name: (node.pid, torrc)}, term_wait=30.0)
    log = Path(node.log)
    start = log.stat().st_size if log.exists() else 0
    proc = subprocess.Popen(list(node.command), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        yield start
    finally:
        stop_pids({node.name: (proc.pid, torrc)}, term_wait=10.0)
        proc.wait(timeout=30)


def download(base: Path, record: NetworkRecord, size: int) -> None:
    """Fetch `size` bytes from a file server on 127.0.0.2 through the first client;
    assert the bytes are exactly the served ones."""
    client = record.with_role("client")[0]
    with FileServer(base / "www", {"f.bin": size}, FILE_HOST) as www:
        got = fetch(client.socks_port, FILE_HOST, www.port, "/f.bin", timeout=120)
        served = www.files["f.bin"]
    assert (got.status, got.size, got.sha256) == (200, served.size, served.sha256)

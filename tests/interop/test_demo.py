"""The README's main job, `zwiebel testnet demo`, end to end at a small size: an
all-Zwiebel network (authority, relays, exit, client) carries a download, and every
port it printed is closed after the teardown."""

from __future__ import annotations

import re
import socket
import subprocess
import sys

import pytest

pytestmark = pytest.mark.interop

DEMO_BASE_PORT = 24000


def test_demo_downloads_and_tears_down() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "zwiebel", "testnet", "demo", "--base-port",
         str(DEMO_BASE_PORT), "--size-mb", "2"],
        capture_output=True, text=True, timeout=300, check=False)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert "1 authority (zwiebel)" in out and "1 client (zwiebel)" in out
    assert "100% clients: client0 100% Done" in out
    assert "download 2.0 MiB" in out and "sha256 matches" in out
    assert "(guard) ->" in out and "(exit)" in out
    assert "teardown all processes stopped" in out
    rows = [line.split() for line in out.splitlines()
            if re.match(r"\s+(auth|relay|exit|client)\d+\s+zwiebel\s", line)]
    assert len(rows) == 6
    ports = [int(p) for row in rows for p in row[3:7] if p.isdigit()]
    assert len(ports) >= 12
    for port in ports:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()

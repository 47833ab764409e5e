"""The README's main job, `zwiebel testnet demo`, end to end at a small size."""

from __future__ import annotations

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
    assert "100% Done" in out
    assert "download 2.0 MiB" in out and "sha256 matches" in out
    assert "(guard) ->" in out and "(exit)" in out
    assert "teardown all processes stopped" in out
    for port in (DEMO_BASE_PORT + 10, DEMO_BASE_PORT + 2):  # the authority, the client
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()

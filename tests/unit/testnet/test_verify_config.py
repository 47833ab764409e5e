"""Every torrc `zwiebel testnet up` writes for a Zwiebel node passes Zwiebel's own
``--verify-config`` (the same text a real tor node of that role gets).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.unit.testnet.support import fake_launcher

CASES = ["auth0", "relay0", "exit0", "client0"]


@pytest.mark.parametrize("name", CASES)
def test_zwiebel_accepts_generated_torrc(tmp_path: Path, name: str) -> None:
    launcher = fake_launcher(tmp_path)
    node = launcher.nodes[name]
    assert node.process is not None
    argv = [*node.process.argv, "--verify-config"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Configuration was valid" in proc.stdout

"""Helpers shared by the testnet unit tests."""

from __future__ import annotations

from pathlib import Path

from zwiebel.testnet.impls import parse_roles
from zwiebel.testnet.launcher import Launcher, LaunchOptions
from zwiebel.testnet.layout import Role

BASE = 27800


def fake_launcher(tmp_path: Path, real_tor: str = "", mixed: bool = False,
                  clients: int = 1) -> Launcher:
    """A launcher with made-up identities and its torrc files written."""
    opts = LaunchOptions(tmp_path / "net", BASE, authorities=3, relays=2, exits=1,
                         clients=clients, real_tor=parse_roles(real_tor), mixed=mixed,
                         tor="/usr/bin/tor")
    launcher = Launcher(opts)
    for i, node in enumerate(launcher.nodes.values()):
        if node.spec.is_relay:
            node.fingerprint = f"{i:040X}"
        if node.role is Role.AUTHORITY:
            node.v3ident = f"{i + 100:040X}"
    launcher.write_torrcs()
    return launcher

"""The small real-tor network the relay interop tests run Zwiebel relays against:
one authority, two middles and one exit with an open policy, no client."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from zwiebel.testnet.keys import TorToolError
from zwiebel.testnet.layout import ExitPolicyMode
from zwiebel.testnet.ready import NetworkError
from zwiebel.testnet.realtor import RealTorNetwork


@contextmanager
def small_open_network(base_dir: Path, base_port: int) -> Iterator[RealTorNetwork]:
    """Start the network (failing the test with the reason if it does not come up)
    and always stop it."""
    net = RealTorNetwork(base_dir, base_port, authorities=1, middles=2, exits=1,
                         exit_policy=ExitPolicyMode.OPEN, with_client=False)
    try:
        net.start()
    except (TorToolError, NetworkError) as exc:
        pytest.fail(f"the private tor network did not come up: {exc}", pytrace=False)
    try:
        yield net
    finally:
        net.stop()


def http_fetch(port: int, path: str, host: str = "127.0.0.1") -> bytes | None:
    """GET `path` from a DirPort; None on any error."""
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=20) as reply:
            return bytes(reply.read())
    except OSError:
        return None

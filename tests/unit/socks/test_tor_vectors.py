"""Replay bytes captured from real tor 0.4.9.11 (tor_vectors.json) against our server.

A case where tor left the connection open without answering is one where the
handshake completed and tor waited for a circuit: we must have delivered a Request.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from zwiebel.socks import Event, Request, SocksError, SocksOptions, SocksServerConnection, State

_DATA = json.loads((Path(__file__).parent / "tor_vectors.json").read_text())
_CASES: list[dict[str, Any]] = _DATA["cases"]


def _options(kind: str) -> SocksOptions:
    return SocksOptions(test_socks=kind == "test_socks", safe_socks=kind == "safe_socks")


def _replay(
    case: dict[str, Any], *, bytewise: bool
) -> tuple[SocksServerConnection, bytes, list[Event]]:
    conn = SocksServerConnection(_options(case["options"]))
    events: list[Event] = []
    out = b""
    for chunk_hex in case["send"]:
        chunk = bytes.fromhex(chunk_hex)
        pieces = [chunk[i : i + 1] for i in range(len(chunk))] if bytewise else [chunk]
        for piece in pieces:
            events += conn.receive_data(piece)
            out += conn.data_to_send()
    return conn, out, events


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
@pytest.mark.parametrize("case", _CASES, ids=[c["name"] for c in _CASES])
def test_replies_match_tor(case: dict[str, Any], bytewise: bool) -> None:
    conn, out, events = _replay(case, bytewise=bytewise)
    assert out.hex() == case["reply_bytewise" if bytewise else "reply"]
    assert (conn.state is State.CLOSED) == case["closed"]
    if case["closed"]:
        assert isinstance(events[-1], SocksError)
    elif conn.state is State.AWAITING_REPLY:
        assert any(isinstance(e, Request) for e in events)


def test_open_cases_are_requests_or_handshake_steps() -> None:
    states = {c["name"]: _replay(c, bytewise=False)[0].state for c in _CASES if not c["closed"]}
    assert states == {
        "s5_noauth": State.SOCKS5_REQUEST,
        "s5_userpass_sel": State.SOCKS5_AUTH,
        "s5_userpass": State.SOCKS5_REQUEST_AUTHED,
        "s5_ip_connect": State.AWAITING_REPLY,
        "s4_ip_connect": State.AWAITING_REPLY,
    }

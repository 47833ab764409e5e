"""zwiebel.testnet.torcontrol against scripted replies (control-spec 2.3 and 3.x)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from zwiebel.testnet.torcontrol import ControlError, TorControl, quote


class FakeTor:
    """Answers each command line received with the next scripted reply bytes."""

    def __init__(self, replies: list[bytes]) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.received: list[str] = []
        self._replies = replies
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            buf = b""
            for reply in self._replies:
                while b"\r\n" not in buf:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    buf += chunk
                line, buf = buf.split(b"\r\n", 1)
                self.received.append(line.decode())
                conn.sendall(reply)
            conn.recv(4096)  # QUIT

    def close(self) -> None:
        self.listener.close()
        self._thread.join(timeout=5)


@pytest.fixture
def cookie(tmp_path: Path) -> Path:
    path = tmp_path / "control_auth_cookie"
    path.write_bytes(bytes(range(32)))
    return path


@contextmanager
def connect(replies: list[bytes], cookie: Path) -> Iterator[tuple[TorControl, FakeTor]]:
    fake = FakeTor([b"250 OK\r\n", *replies])
    ctl = TorControl.connect(fake.port, cookie, timeout=5)
    try:
        yield ctl, fake
    finally:
        ctl.close()
        fake.close()


def test_authenticate_sends_hex_cookie(cookie: Path) -> None:
    with connect([], cookie) as (_ctl, fake):
        pass
    assert fake.received == ["AUTHENTICATE " + bytes(range(32)).hex()]


def test_getinfo_single_lines_and_data_block(cookie: Path) -> None:
    reply = (b"250-version=0.4.9.11\r\n"
             b"250+ns/all=\r\nr a AAAA\r\n..dotted\r\ns Running\r\n.\r\n"
             b"250 OK\r\n")
    with connect([reply], cookie) as (ctl, fake):
        values = ctl.getinfo("version", "ns/all")
        assert values == {"version": "0.4.9.11", "ns/all": "r a AAAA\n.dotted\ns Running"}
        assert fake.received[1] == "GETINFO version ns/all"


def test_events_are_queued_while_a_command_waits(cookie: Path) -> None:
    reply = (b"650 CIRC 1 BUILT\r\n650+NS\r\nr x\r\n.\r\n650 OK\r\n"
             b"250-status/bootstrap-phase=NOTICE BOOTSTRAP PROGRESS=100\r\n250 OK\r\n")
    with connect([reply], cookie) as (ctl, _fake):
        assert "PROGRESS=100" in ctl.getinfo_one("status/bootstrap-phase")
        first = ctl.next_event(0.1)
        assert first is not None and first.text() == "CIRC 1 BUILT"
        second = ctl.next_event(0.1)
        assert second is not None and second.lines[0].data == "r x"
        assert ctl.next_event(0.2) is None


def test_error_reply_raises(cookie: Path) -> None:
    with (connect([b'552 Unrecognized key "nope"\r\n'], cookie) as (ctl, _fake),
          pytest.raises(ControlError, match="Unrecognized key")):
        ctl.getinfo("nope")


def test_setconf_quotes_values(cookie: Path) -> None:
    with connect([b"250 OK\r\n"], cookie) as (ctl, fake):
        ctl.setconf([("TestingDirAuthVoteExit", "$AA,$BB"), ("Nickname", 'a"b\\c')])
        assert fake.received[1] == ('SETCONF TestingDirAuthVoteExit="$AA,$BB" '
                                    'Nickname="a\\"b\\\\c"')
    assert quote("x y") == '"x y"'


def test_malformed_line_and_closed_connection(cookie: Path) -> None:
    with (connect([b"hello\r\n"], cookie) as (ctl, _fake),
          pytest.raises(ControlError, match="malformed")):
        ctl.command("GETINFO version")
    fake = FakeTor([])
    with pytest.raises(ControlError, match="authentication"):
        TorControl.connect(fake.port, cookie, timeout=5)
    fake.close()

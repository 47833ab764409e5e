"""The control port driven by stem (from PyPI) against a Zwiebel client in a private
network of real tor 0.4.9 (issue 4).

One Zwiebel client (spare ports 4 and 5) with CookieAuthentication and a
HashedControlPassword; stem authenticates with every method, reads the GETINFO keys
controllers use, changes and saves the configuration, watches BW, CIRC and STREAM
events around real downloads, and checks that NEWNYM moves new streams to a new
circuit. Waits are bounded polls on events or log lines, never fixed sleeps.
"""

from __future__ import annotations

import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import stem  # type: ignore[import-untyped]
import stem.connection  # type: ignore[import-untyped]
import stem.response.events  # type: ignore[import-untyped]
from stem.control import Controller, EventType  # type: ignore[import-untyped]

from tests.support.fetch import curl_via_socks
from zwiebel.app.s2k import hash_password
from zwiebel.testnet.fileserver import FileServer
from zwiebel.testnet.realtor import RealTorNetwork
from zwiebel.testnet.zwiebelproc import ZwiebelProcess

pytestmark = pytest.mark.interop

PASSWORD = "open sesame"
BOOTSTRAP_TIMEOUT = 90.0
EVENT_TIMEOUT = 60.0


class Controlled:
    """The running client, its ports and its torrc."""

    def __init__(self, proc: ZwiebelProcess, socks_port: int, control_port: int) -> None:
        self.proc = proc
        self.socks_port = socks_port
        self.control_port = control_port

    def controller(self) -> Controller:
        ctl = Controller.from_port(port=self.control_port)
        ctl.authenticate(password=PASSWORD)
        return ctl


@pytest.fixture(scope="module")
def client(real_network: RealTorNetwork,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Controlled]:
    socks, control = real_network.spare_port(4), real_network.spare_port(5)
    data = tmp_path_factory.mktemp("zwiebel-control") / "data"
    lines = ["TestingTorNetwork 1", f"SocksPort 127.0.0.1:{socks}",
             f"ControlPort 127.0.0.1:{control}", "CookieAuthentication 1",
             f"HashedControlPassword {hash_password(PASSWORD.encode(), b'saltsalt')}",
             "UseMicrodescriptors 0", *real_network.dir_authority_lines]
    proc = ZwiebelProcess(data, lines, log_level="notice", socks_port=socks)
    with proc:
        proc.wait_for(r"Bootstrapped 100% \(done\): Done", BOOTSTRAP_TIMEOUT)
        yield Controlled(proc, socks, control)
    assert proc.returncode is not None


class EventLog:
    """Events from a stem listener: in arrival order (``items``) and all kept (``seen``)."""

    def __init__(self) -> None:
        self.items: queue.Queue[tuple[float, Any]] = queue.Queue()
        self.seen: list[Any] = []
        self._cond = threading.Condition()

    def __call__(self, event: Any) -> None:
        self.items.put((time.monotonic(), event))
        with self._cond:
            self.seen.append(event)
            self._cond.notify_all()

    def wait(self, matches: Callable[[Any], bool], timeout: float = EVENT_TIMEOUT,
             start: int = 0) -> Any:
        """The first event from ``seen[start]`` on (or to come within ``timeout``) that
        ``matches``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = next((e for e in self.seen[start:] if matches(e)), None)
                left = deadline - time.monotonic()
                if found is not None or left <= 0:
                    break
                self._cond.wait(left)
        if found is None:
            raise AssertionError(f"no matching event within {timeout}s: {self.seen[-20:]}")
        return found


def _download(client: Controlled, server: FileServer, tmp: Path, name: str,
              isolation: str | None = None) -> None:
    served = server.files[name]
    result = curl_via_socks(client.socks_port, served.url, tmp / name, max_time=60,
                            isolation=isolation)
    assert result.ok, result.stderr
    assert result.sha256 == served.sha256


def test_authentication_methods(client: Controlled) -> None:
    cookie = str(client.proc.data_dir / "control_auth_cookie")
    with Controller.from_port(port=client.control_port) as ctl:
        info = stem.connection.get_protocolinfo(ctl)
        assert set(info.auth_methods) == {stem.connection.AuthMethod.COOKIE,
                                          stem.connection.AuthMethod.SAFECOOKIE,
                                          stem.connection.AuthMethod.PASSWORD}
        assert info.cookie_path == cookie
        stem.connection.authenticate_password(ctl, PASSWORD, info)
        assert ctl.get_info("version") == "0.4.9.11 (zwiebel-0.1.0)"
    with Controller.from_port(port=client.control_port) as ctl:
        stem.connection.authenticate_cookie(ctl, cookie)
        assert ctl.get_version() >= stem.version.Version("0.4.9.11")
    with Controller.from_port(port=client.control_port) as ctl:
        stem.connection.authenticate_safecookie(ctl, cookie)
        assert ctl.get_info("dormant") == "0"
    with Controller.from_port(port=client.control_port) as ctl, \
            pytest.raises(stem.connection.AuthenticationFailure):
        stem.connection.authenticate_password(ctl, "wrong")
    with client.controller() as ctl:
        hashed = ctl.get_conf("HashedControlPassword")
        ctl.reset_conf("CookieAuthentication", "HashedControlPassword")
        try:
            with Controller.from_port(port=client.control_port) as null:
                assert stem.connection.get_protocolinfo(null).auth_methods == (
                    stem.connection.AuthMethod.NONE,)
                stem.connection.authenticate_none(null)
                assert null.get_info("status/circuit-established") == "1"
        finally:
            ctl.set_options({"CookieAuthentication": "1", "HashedControlPassword": hashed})
    with client.controller() as ctl:
        assert ctl.get_conf("CookieAuthentication") == "1"
        assert len(stem.connection.get_protocolinfo(ctl).auth_methods) == 3


def test_getinfo_keys(client: Controlled, real_network: RealTorNetwork) -> None:
    exit_fp = real_network.exits[0].fingerprint
    with client.controller() as ctl:
        assert ctl.get_info("config-file") == str(client.proc.torrc)
        assert "ControlPort" in ctl.get_info("config-text")
        assert int(ctl.get_info("process/pid")) > 0
        assert ctl.get_info("process/user")
        assert int(ctl.get_info("process/descriptor-limit")) > 0
        assert int(ctl.get_info("uptime")) >= 0
        assert int(ctl.get_info("traffic/read")) > 0
        assert int(ctl.get_info("traffic/written")) > 0
        assert "PROGRESS=100 TAG=done" in ctl.get_info("status/bootstrap-phase")
        assert ctl.get_info("status/circuit-established") == "1"
        assert ctl.get_info("net/listeners/socks") == f'"127.0.0.1:{client.socks_port}"'
        assert ctl.get_info("dormant") == "0"
        assert "BW" in ctl.get_info("events/names").split()
        assert "NEWNYM" in ctl.get_info("signal/names").split()
        assert "ns/id/* --" in ctl.get_info("info/names")
        assert "SocksPort LineList" in ctl.get_info("config/names")
        assert "MaxCircuitDirtiness 600" in ctl.get_info("config/defaults")
        assert ctl.get_info("features/names") == "VERBOSE_NAMES EXTENDED_EVENTS"
        with pytest.raises(stem.OperationFailed):
            ctl.get_info("fingerprint")
        with pytest.raises(stem.InvalidArguments):
            ctl.get_info("no-such-key")
        statuses = list(ctl.get_network_statuses())
        assert {s.fingerprint for s in statuses} == {n.fingerprint for n in real_network.relays}
        assert ctl.get_network_status(exit_fp).nickname == real_network.exits[0].nickname
        assert ctl.get_info(f"ns/name/{real_network.exits[0].nickname}").startswith("r ")
        assert ctl.get_server_descriptor(exit_fp).fingerprint == exit_fp
        guards = ctl.get_info("entry-guards").splitlines()
        assert guards and all(line.startswith("$") for line in guards)
        orconns = ctl.get_info("orconn-status").splitlines()
        assert any(line.endswith(" CONNECTED") for line in orconns)
        circuits = ctl.get_circuits()
        assert any(c.status == "BUILT" and len(c.path) == 3 for c in circuits)
        assert ctl.get_streams() == []


def test_conf_round_trips_and_saveconf(client: Controlled) -> None:
    torrc = client.proc.torrc
    original = torrc.read_text()
    with client.controller() as ctl:
        assert ctl.get_conf("MaxCircuitDirtiness") == "600"
        ctl.set_conf("ContactInfo", "zwiebel control test")
        assert ctl.get_conf("ContactInfo") == "zwiebel control test"
        ctl.set_conf("MaxCircuitDirtiness", "15 minutes")
        assert ctl.get_conf("MaxCircuitDirtiness") == "900"
        with pytest.raises(stem.InvalidArguments):
            ctl.set_conf("NoSuchOption", "1")
        with pytest.raises(stem.InvalidRequest):
            ctl.set_conf("MaxCircuitDirtiness", "soon")
        assert ctl.get_conf("MaxCircuitDirtiness") == "900"
        ctl.reset_conf("MaxCircuitDirtiness")
        assert ctl.get_conf("MaxCircuitDirtiness") == "600"
        ctl.save_conf()
        saved = torrc.read_text()
        assert "ContactInfo \"zwiebel control test\"\n" in saved or \
            "ContactInfo zwiebel control test\n" in saved
        assert "MaxCircuitDirtiness" not in saved
        assert Path(f"{torrc}.orig.1").read_text() == original
        ctl.reset_conf("ContactInfo")
        ctl.save_conf()
        assert "ContactInfo" not in torrc.read_text()


def test_circ_and_stream_events_follow_a_download(client: Controlled, http_server: FileServer,
                                                  tmp_path: Path) -> None:
    events = EventLog()
    with client.controller() as ctl:
        ctl.add_event_listener(events, EventType.CIRC, EventType.STREAM)
        ctl.signal(stem.Signal.NEWNYM)  # so that the download needs a circuit of its own
        port = http_server.port
        thread = threading.Thread(target=_download, args=(
            client, http_server, tmp_path, "1m.bin", "control-events"))
        thread.start()
        launched = events.wait(lambda e: isinstance(e, stem.response.events.CircuitEvent)
                               and e.status == "LAUNCHED")
        built = events.wait(lambda e: isinstance(e, stem.response.events.CircuitEvent)
                            and e.id == launched.id and e.status == "BUILT")
        assert len(built.path) == 3
        new = events.wait(lambda e: isinstance(e, stem.response.events.StreamEvent)
                          and e.status == "NEW" and e.target_port == port)
        ok = events.wait(lambda e: isinstance(e, stem.response.events.StreamEvent)
                         and e.id == new.id and e.status == "SUCCEEDED")
        assert ok.circ_id == launched.id
        assert ok.target == f"127.0.0.1:{port}"
        closed = events.wait(lambda e: isinstance(e, stem.response.events.StreamEvent)
                             and e.id == new.id and e.status == "CLOSED")
        assert closed.reason == "DONE"
        thread.join(90)


def _stream_circuit(events: EventLog, port: int, start: int) -> str:
    ok = events.wait(lambda e: e.status == "SUCCEEDED" and e.target_port == port, start=start)
    return str(ok.circ_id)


def test_newnym_moves_new_streams_to_a_new_circuit(client: Controlled,
                                                   http_server: FileServer,
                                                   tmp_path: Path) -> None:
    events = EventLog()
    with client.controller() as ctl:
        ctl.add_event_listener(events, EventType.STREAM)
        start = len(events.seen)
        _download(client, http_server, tmp_path, "1k.bin")
        first = _stream_circuit(events, http_server.port, start)
        start = len(events.seen)
        _download(client, http_server, tmp_path, "1k.bin")
        assert _stream_circuit(events, http_server.port, start) == first
        signals = EventLog()
        ctl.add_event_listener(signals, EventType.SIGNAL)
        ctl.signal(stem.Signal.NEWNYM)
        # tor delays a NEWNYM that comes within 10 s of the last one; it has taken
        # effect once the SIGNAL NEWNYM event arrives.
        signals.wait(lambda e: e.signal == stem.Signal.NEWNYM, timeout=15)
        start = len(events.seen)
        _download(client, http_server, tmp_path, "1k.bin")
        assert _stream_circuit(events, http_server.port, start) != first


def test_bw_events_every_second_add_up_to_traffic(client: Controlled, http_server: FileServer,
                                                  tmp_path: Path) -> None:
    events = EventLog()
    with client.controller() as ctl:
        ctl.add_event_listener(events, EventType.BW)
        events.wait(lambda e: e.read == 0 and e.written == 0)
        while not events.items.empty():  # what came before the idle second is not counted
            events.items.get()
        read0 = int(ctl.get_info("traffic/read"))
        written0 = int(ctl.get_info("traffic/written"))
        seen: list[tuple[float, Any]] = []
        _download(client, http_server, tmp_path, "1m.bin", "bw-test")
        while True:
            stamp, event = events.items.get(timeout=10)
            seen.append((stamp, event))
            if event.read == 0 and event.written == 0 and len(seen) > 2:
                break
        read1 = int(ctl.get_info("traffic/read"))
        written1 = int(ctl.get_info("traffic/written"))
    assert sum(e.read for _, e in seen) == read1 - read0 > 1024 * 1024
    assert sum(e.written for _, e in seen) == written1 - written0 > 0
    gaps = [b[0] - a[0] for a, b in zip(seen, seen[1:], strict=False)]
    assert all(0.5 < gap < 1.5 for gap in gaps), gaps


def _raw(port: int, *lines: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for line in lines:
            sock.sendall(line)
        sock.shutdown(socket.SHUT_WR)
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
        return out


def test_bad_input_gets_error_codes_and_the_daemon_runs_on(client: Controlled) -> None:
    port = client.control_port
    assert _raw(port, b"GETINFO version\r\n") == b"514 Authentication required.\r\n"
    assert _raw(port, b"GETINFO " + b"v" * (1024 * 1024 + 1)) == b"500 Line too long.\r\n"
    auth = f'AUTHENTICATE "{PASSWORD}"\r\n'.encode()
    out = _raw(port, auth, b'SETCONF ContactInfo="unbalanced\r\n', b"GETINFO nope\r\n",
               b"NOSUCHCOMMAND\r\n", b"SETEVENTS NOPE\r\n", b"QUIT\r\n")
    assert out == (b"250 OK\r\n"
                   b"512 Bad arguments to SETCONF: Unterminated quoted string\r\n"
                   b'552 Unrecognized key "nope"\r\n'
                   b'510 Unrecognized command "NOSUCHCOMMAND"\r\n'
                   b'552 Unrecognized event "NOPE"\r\n'
                   b"250 closing connection\r\n")
    assert _raw(port, b'AUTHENTICATE "wrong"\r\nGETINFO version\r\n').startswith(b"515 ")
    assert client.proc.returncode is None
    with client.controller() as ctl:
        assert ctl.get_info("status/circuit-established") == "1"


TXTORCON_SCRIPT = """
import sys
from twisted.internet.defer import ensureDeferred
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.task import react
import txtorcon

async def main(reactor):
    endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", int(sys.argv[1]))
    tor = await txtorcon.connect(reactor, endpoint, password_function=lambda: sys.argv[2])
    state = await tor.create_state()
    print("VERSION", tor.version)
    for circ in state.circuits.values():
        print("CIRC", circ.id, circ.state, ",".join(r.id_hex[1:] for r in circ.path))

react(lambda reactor: ensureDeferred(main(reactor)))
"""


def test_txtorcon_reads_the_circuit_list(client: Controlled) -> None:
    with client.controller() as ctl:
        built = {str(c.id): [fp for fp, _ in c.path] for c in ctl.get_circuits()
                 if c.status == "BUILT"}
    assert built
    proc = subprocess.run([sys.executable, "-c", TXTORCON_SCRIPT, str(client.control_port),
                           PASSWORD], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "VERSION 0.4.9.11 (zwiebel-0.1.0)" in lines
    seen = {words[1]: words[3].split(",") for words in (line.split() for line in lines)
            if words[0] == "CIRC" and words[2] == "BUILT"}
    assert set(built) <= set(seen)
    assert all(seen[cid] == path for cid, path in built.items())


class Tmux:
    """One detached tmux session running a command, read by capturing its pane."""

    def __init__(self, name: str, command: str) -> None:
        self.name = name
        subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "200", "-y", "60",
                        command], check=True, timeout=10)

    def screen(self) -> str:
        proc = subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name],
                              capture_output=True, text=True, timeout=10, check=False)
        return proc.stdout

    def wait_for(self, pattern: str, timeout: float = 60.0) -> str:
        """The screen once ``pattern`` appears on it (bounded poll)."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.screen()
            if regex.search(text):
                return text
            time.sleep(0.5)
        raise AssertionError(f"{pattern!r} not on screen:\n{self.screen()}")

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True, timeout=10)

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], check=False, timeout=10)


def test_nyx_shows_bandwidth_connections_and_log(client: Controlled, http_server: FileServer,
                                                 real_network: RealTorNetwork,
                                                 tmp_path: Path) -> None:
    """Debian's nyx 2.1.0 under tmux: header, bandwidth graph, log, connection list."""
    session = Tmux(f"zwiebel-nyx-{client.control_port}",
                   f"nyx -i 127.0.0.1:{client.control_port} -c {tmp_path / 'nyxrc'}")
    try:
        screen = session.wait_for(r"Bandwidth", 30)
        assert "Tor 0.4.9.11" in screen
        assert re.search(rf"Control Port \((password|cookie)\): {client.control_port}", screen)
        _download(client, http_server, tmp_path, "1m.bin", "nyx")
        # the graph's top label is the largest second seen: a 1 MiB download is in it
        screen = session.wait_for(r"Download \([^\n]*\n[1-9][0-9.]* [KM]B ", 30)
        with client.controller() as ctl:
            pid = ctl.get_info("process/pid")
            ctl.signal(stem.Signal.HEARTBEAT)
        assert f"pid: {pid}" in screen
        screen = session.wait_for(r"\[NOTICE\] Heartbeat: Tor's uptime is", 30)
        session.keys("Right")
        or_ports = "|".join(str(n.or_port) for n in real_network.relays)
        screen = session.wait_for(rf"Connections \(.*\n(.*\n)*.*127\.0\.0\.1:({or_ports})", 30)
        assert "page 2 / " in screen
        session.keys("q")
    finally:
        session.close()

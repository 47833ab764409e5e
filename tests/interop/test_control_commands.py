"""Control commands that steer circuits, streams and names, driven by stem against a
Zwiebel client in the shared network of real tor 0.4.9 (issue 4).

One Zwiebel client (spare ports 6 and 7, NULL authentication). Asserted end to end:
EXTENDCIRCUIT 0 builds a circuit (of the client's choice, or of the path given, which
EXTENDCIRCUIT <id> then lengthens) whose ID a stream held by __LeaveStreamsUnattached is
ATTACHSTREAMed to (also naming the exit hop), and a real download goes through it;
MAPADDRESS sends a SOCKS request for a made-up name to the mapped address; RESOLVE
answers with an ADDRMAP event carrying what the exit's resolver said; STREAM_BW events
of a download add up to the bytes the application received and sent (the last ones in
the event before CLOSED), and CIRC_BW events arrive for the circuit that carried it.

The file server listens on 127.0.0.2, away from the relays' own address (127.0.0.1),
whose destinations a client sends to that relay as the exit (tor's exit enclave).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stem.response.events  # type: ignore[import-untyped]
from stem.control import Controller, EventType  # type: ignore[import-untyped]

from tests.interop.conftest import DNS_NAMES
from tests.interop.test_control import EventLog
from tests.support.fetch import curl_via_socks
from zwiebel.testnet.fileserver import FileServer
from zwiebel.testnet.realtor import RealTorNetwork
from zwiebel.testnet.zwiebelproc import ZwiebelProcess

pytestmark = pytest.mark.interop

BOOTSTRAP_TIMEOUT = 90.0
FILE_HOST = "127.0.0.2"
FILES = {"1k.bin": 1024, "1m.bin": 1 << 20}


class Client:
    """The running Zwiebel client and its ports."""

    def __init__(self, proc: ZwiebelProcess, socks_port: int, control_port: int) -> None:
        self.proc = proc
        self.socks_port = socks_port
        self.control_port = control_port

    def controller(self) -> Controller:
        ctl = Controller.from_port(port=self.control_port)
        ctl.authenticate()
        return ctl


@pytest.fixture(scope="module")
def client(real_network: RealTorNetwork,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    socks, control = real_network.spare_port(6), real_network.spare_port(7)
    data = tmp_path_factory.mktemp("zwiebel-control-commands") / "data"
    lines = ["TestingTorNetwork 1", f"SocksPort 127.0.0.1:{socks}",
             f"ControlPort 127.0.0.1:{control}", "UseMicrodescriptors 0",
             *real_network.dir_authority_lines]
    proc = ZwiebelProcess(data, lines, log_level="notice", socks_port=socks)
    with proc:
        proc.wait_for(r"Bootstrapped 100% \(done\): Done", BOOTSTRAP_TIMEOUT)
        yield Client(proc, socks, control)
    assert proc.returncode is not None


@pytest.fixture(scope="module")
def far_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FileServer]:
    """The test files on 127.0.0.2."""
    with FileServer(tmp_path_factory.mktemp("far_files"), FILES, host=FILE_HOST) as server:
        yield server


def _curl(client: Client, url: str, served_sha: str, out: Path, isolation: str) -> None:
    result = curl_via_socks(client.socks_port, url, out, max_time=60, isolation=isolation)
    assert result.ok, result.stderr
    assert result.sha256 == served_sha


def _is_stream(status: str, port: int | None = None, stream_id: str | None = None) -> Any:
    def matches(e: Any) -> bool:
        return (isinstance(e, stem.response.events.StreamEvent) and e.status == status
                and (port is None or e.target_port == port)
                and (stream_id is None or e.id == stream_id))
    return matches


def test_extendcircuit_and_attachstream_carry_a_download(
        client: Client, far_server: FileServer, tmp_path: Path) -> None:
    served = far_server.files["1m.bin"]
    events = EventLog()
    with client.controller() as ctl:
        ctl.add_event_listener(events, EventType.STREAM)
        circ_id = ctl.new_circuit(await_build=True)  # EXTENDCIRCUIT 0 purpose=general
        circuit = ctl.get_circuit(circ_id)
        assert circuit.status == "BUILT" and len(circuit.path) == 3
        ctl.set_conf("__LeaveStreamsUnattached", "1")
        try:
            thread = threading.Thread(target=_curl, args=(
                client, served.url, served.sha256, tmp_path / "got", "attach"))
            thread.start()
            waiting = events.wait(_is_stream("CONTROLLER_WAIT", far_server.port))
            assert waiting.circ_id is None
            ctl.attach_stream(waiting.id, circ_id)
            ok = events.wait(_is_stream("SUCCEEDED", stream_id=waiting.id))
            assert ok.circ_id == circ_id
            assert ok.target == f"{FILE_HOST}:{far_server.port}"
            closed = events.wait(_is_stream("CLOSED", stream_id=waiting.id))
            assert closed.reason == "DONE"
            thread.join(90)
        finally:
            ctl.reset_conf("__LeaveStreamsUnattached")
        sent = [e for e in events.seen if e.id == waiting.id and e.status == "SENTCONNECT"]
        assert [e.circ_id for e in sent] == [circ_id]
        with pytest.raises(stem.InvalidRequest):  # 552 Unknown circuit
            ctl.attach_stream(waiting.id, "999999")
    assert (tmp_path / "got").stat().st_size == served.size


def test_extendcircuit_extends_a_chosen_path_and_attachstream_names_the_hop(
        client: Client, real_network: RealTorNetwork, far_server: FileServer,
        tmp_path: Path) -> None:
    """EXTENDCIRCUIT 0 with two middles, EXTENDCIRCUIT <id> with the exit, then
    ATTACHSTREAM ... HOP=3."""
    served = far_server.files["1k.bin"]
    middles = [n.fingerprint for n in real_network.middles[:2]]
    exit_fp = real_network.exits[0].fingerprint
    events = EventLog()
    with client.controller() as ctl:
        ctl.add_event_listener(events, EventType.STREAM)
        circ_id = ctl.extend_circuit("0", middles, await_build=True)
        assert [fp for fp, _ in ctl.get_circuit(circ_id).path] == middles
        assert ctl.extend_circuit(circ_id, [exit_fp], await_build=True) == circ_id
        assert [fp for fp, _ in ctl.get_circuit(circ_id).path] == [*middles, exit_fp]
        ctl.set_conf("__LeaveStreamsUnattached", "1")
        try:
            thread = threading.Thread(target=_curl, args=(
                client, served.url, served.sha256, tmp_path / "got", "hop"))
            thread.start()
            waiting = events.wait(_is_stream("CONTROLLER_WAIT", far_server.port))
            ctl.attach_stream(waiting.id, circ_id, exiting_hop=3)
            ok = events.wait(_is_stream("SUCCEEDED", stream_id=waiting.id))
            assert ok.circ_id == circ_id
            thread.join(90)
        finally:
            ctl.reset_conf("__LeaveStreamsUnattached")
    assert (tmp_path / "got").stat().st_size == served.size


def test_mapaddress_sends_a_name_to_the_mapped_address(
        client: Client, far_server: FileServer, tmp_path: Path) -> None:
    served = far_server.files["1k.bin"]
    events = EventLog()
    with client.controller() as ctl:
        ctl.add_event_listener(events, EventType.ADDRMAP, EventType.STREAM)
        assert ctl.map_address({"far.zwiebel.test": FILE_HOST}) == {
            "far.zwiebel.test": FILE_HOST}
        mapped = events.wait(lambda e: isinstance(e, stem.response.events.AddrMapEvent)
                             and e.hostname == "far.zwiebel.test")
        assert mapped.destination == FILE_HOST and mapped.expiry is None
        url = f"http://far.zwiebel.test:{far_server.port}/1k.bin"
        _curl(client, url, served.sha256, tmp_path / "got", "mapaddress")
        remap = events.wait(_is_stream("REMAP", far_server.port))
        assert remap.target_address == FILE_HOST
        ok = events.wait(_is_stream("SUCCEEDED", stream_id=remap.id))
        assert ok.target == f"{FILE_HOST}:{far_server.port}"
        assert ctl.get_info("address-mappings/control") == f"far.zwiebel.test {FILE_HOST} NEVER"
        ctl.map_address({"far.zwiebel.test": "far.zwiebel.test"})  # removes the mapping
        assert ctl.get_info("address-mappings/control") == ""


def test_resolve_answers_with_an_addrmap_event(client: Client) -> None:
    events = EventLog()
    name = "www.zwiebel.test"
    with client.controller() as ctl:
        ctl.add_event_listener(events, EventType.ADDRMAP)
        reply = ctl.msg(f"RESOLVE {name}")
        assert str(reply) == "OK"
        answer = events.wait(lambda e: e.hostname == name)
        assert answer.destination == DNS_NAMES[name]
        assert answer.error is None and answer.expiry is not None
        reply = ctl.msg("RESOLVE no-such-name.zwiebel.test")
        assert str(reply) == "OK"
        failed = events.wait(lambda e: e.hostname == "no-such-name.zwiebel.test")
        assert failed.destination is None and failed.error == "yes"


def _socks_fetch(socks_port: int, host: str, port: int, request: bytes, user: bytes
                 ) -> int:
    """SOCKS5 CONNECT (username ``user`` for a circuit of its own), send ``request``,
    read to the end; returns how many bytes came back."""
    with socket.create_connection(("127.0.0.1", socks_port), timeout=60) as sock:
        sock.sendall(b"\x05\x01\x02")
        assert sock.recv(2) == b"\x05\x02"
        sock.sendall(b"\x01" + bytes([len(user)]) + user + b"\x01x")
        assert sock.recv(2) == b"\x01\x00"
        name = host.encode()
        sock.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + port.to_bytes(2, "big"))
        reply = b""
        while len(reply) < 10:
            chunk = sock.recv(10 - len(reply))
            assert chunk, "SOCKS connection closed early"
            reply += chunk
        assert reply[1] == 0, f"SOCKS reply {reply[1]}"
        sock.sendall(request)
        total = 0
        while chunk := sock.recv(65536):
            total += len(chunk)
        return total


def test_stream_bw_adds_up_and_circ_bw_arrives(client: Client, far_server: FileServer) -> None:
    events = EventLog()
    request = f"GET /1m.bin HTTP/1.0\r\nHost: {FILE_HOST}\r\n\r\n".encode()
    with client.controller() as ctl:
        ctl.add_event_listener(events, EventType.STREAM, EventType.STREAM_BW,
                               EventType.CIRC_BW, EventType.BW)
        # Like tor, a circuit's CIRC_BW counts what it carried since its last CIRC_BW, also
        # from before anyone listened: count only the events after a whole second passed.
        first = events.wait(lambda e: isinstance(e, stem.response.events.BandwidthEvent))
        second = events.wait(lambda e: isinstance(e, stem.response.events.BandwidthEvent),
                             start=events.seen.index(first) + 1)
        mark = events.seen.index(second)
        received = _socks_fetch(client.socks_port, FILE_HOST, far_server.port, request,
                                b"stream-bw")
        assert received > 1 << 20
        ok = events.wait(_is_stream("SUCCEEDED", far_server.port))
        closed = events.wait(_is_stream("CLOSED", stream_id=ok.id))
        at_close = events.seen.index(closed)
        bw = [e for e in events.seen[:at_close]
              if isinstance(e, stem.response.events.StreamBwEvent) and e.id == ok.id]
        assert sum(e.read for e in bw) == received
        assert sum(e.written for e in bw) == len(request)
        assert not [e for e in events.seen[at_close:]
                    if isinstance(e, stem.response.events.StreamBwEvent) and e.id == ok.id]
        circ = events.wait(lambda e: isinstance(e, stem.response.events.CircuitBandwidthEvent)
                           and e.id == ok.circ_id)
        assert circ.read > 0 and circ.written > 0
        assert circ.delivered_read <= circ.read and circ.delivered_written <= circ.written
        deadline = time.monotonic() + 5
        while _delivered(events, ok.circ_id, mark) < received and time.monotonic() < deadline:
            time.sleep(0.2)
        # DATA payloads of the download, plus the CONNECTED and END bodies
        assert received <= _delivered(events, ok.circ_id, mark) <= received + 100


def _delivered(events: EventLog, circ_id: str, start: int) -> int:
    return sum(e.delivered_read for e in list(events.seen)[start:]
               if isinstance(e, stem.response.events.CircuitBandwidthEvent) and e.id == circ_id)

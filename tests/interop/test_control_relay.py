"""The control port of a Zwiebel relay, read by stem (issue 4, relay side).

A Zwiebel exit relay (started from a torrc with ControlPort and CookieAuthentication)
joins a network of real tor 0.4.9 (base port 23900); a real tor client downloads
through it with ExitNodes set to it, holding the stream open part-way, while stem
reads ``conn/all`` (proposal 172's connection information, Zwiebel extension).
Asserted: the relay's inbound OR connections with their flags and growing byte counts,
the exit connection scrubbed to ``IP=0:0`` and ``L_PORT=0`` with non-zero READ/WRITE,
``conn/<circuit>/<connection>``, stem's ``get_info`` on fingerprint, address and
exit-policy/full, and the STATUS_SERVER events of a descriptor upload after SIGNAL RELOAD.
The relay's exit policy accepts the download's port for every address: see ``_policy``
for why a real tor client would not otherwise choose it.
"""

from __future__ import annotations

import contextlib
import http.server
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import stem  # type: ignore[import-untyped]
from stem.control import Controller, EventType  # type: ignore[import-untyped]

from zwiebel.testnet import ready
from zwiebel.testnet.nodes import TorNode
from zwiebel.testnet.realtor import ExternalRelaySlot, RealTorNetwork
from zwiebel.testnet.torcontrol import ControlError, TorControl
from zwiebel.testnet.zwiebelproc import ZwiebelProcess

pytestmark = pytest.mark.interop


BASE_PORT = 23900
REJECTED_PORT = 9
#: The spare port of the network the HTTP server below listens on.
ZEROS_SPARE = 0
Conn = dict[str, str]


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealTorNetwork]:
    """1 authority, 2 middles, 1 exit and a tor client, all real tor."""
    net = RealTorNetwork(tmp_path_factory.mktemp("control-relay-net"), BASE_PORT, middles=2)
    with net:
        yield net


@pytest.fixture(scope="module")
def slot(network: RealTorNetwork) -> ExternalRelaySlot:
    return network.external_slot(0, "zwiebelctl")


@pytest.fixture(scope="module")
def relay(network: RealTorNetwork, slot: ExternalRelaySlot,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZwiebelProcess]:
    """A Zwiebel exit relay with a ControlPort, reachable and published."""
    torrc = ["TestingTorNetwork 1", "Nickname zwiebelctl", "Address 127.0.0.1",
             f"ORPort 127.0.0.1:{slot.or_port}", "SocksPort 0", "UseMicrodescriptors 0",
             f"ControlPort 127.0.0.1:{slot.control_port}", "CookieAuthentication 1",
             "ExitRelay 1", "ExitPolicyRejectPrivate 0",
             *(f"ExitPolicy {line}" for line in _policy(network)),
             *network.dir_authority_lines]
    data = tmp_path_factory.mktemp("zwiebel-control-relay") / "data"
    with ZwiebelProcess(data, torrc) as proc:
        proc.wait_for(r"Self-testing indicates your ORPort is reachable from the outside\. "
                      r"Excellent\. Publishing server descriptor\.", 90)
        proc.wait_for(r"status 200\) after uploading server descriptor", 30)
        yield proc


def _policy(network: RealTorNetwork) -> list[str]:
    """The relay's IPv4 exit policy: loopback, and the download's port anywhere.

    ``accept *:<port>`` is what lets a real tor client pick us for the download:
    tor 0.4.9 judges an exit for a stream as if the target address were unknown
    (connection_ap_can_use_exit compares tor_addr_parse's result, an address family,
    with 0, so the parsed address is never used; for an IPv4 literal it compares the
    null address 0.0.0.0, which policies treat as unknown). For an unknown address,
    ``accept 127.0.0.0/8:*`` followed by ``reject *:*`` is PROBABLY_REJECTED, which
    tor refuses unless the exit was chosen for the stream (an exit enclave: only for
    targets on a relay's own address, 127.0.0.1 here). Without this line no exit
    qualifies and the stream waits in CIRCUIT_WAIT until the SOCKS timeout."""
    return [f"reject 127.0.0.1:{REJECTED_PORT}", "accept 127.0.0.0/8:*",
            f"accept *:{network.spare_port(ZEROS_SPARE)}", "reject *:*"]


@pytest.fixture
def ctl(relay: ZwiebelProcess, slot: ExternalRelaySlot) -> Iterator[Controller]:
    controller = Controller.from_port(port=slot.control_port)
    controller.authenticate()  # cookie, found through PROTOCOLINFO
    try:
        yield controller
    finally:
        controller.close()


def _fingerprint(relay: ZwiebelProcess) -> str:
    return (relay.data_dir / "fingerprint").read_text().split()[1]


def _conns(ctl: Controller) -> list[Conn]:
    text = ctl.get_info("conn/all")
    return [dict(f.split("=", 1) for f in line.split(" ")) for line in text.splitlines()]


def test_relay_identity_keys(ctl: Controller, relay: ZwiebelProcess,
                             network: RealTorNetwork) -> None:
    assert ctl.get_info("fingerprint") == _fingerprint(relay)
    assert ctl.get_info("address") == "127.0.0.1"
    ipv4 = _policy(network)
    assert ctl.get_info("exit-policy/ipv4").splitlines() == ipv4
    # IPv6Exit 0: tor puts "reject *6:*" first, written "reject6 *:*" in descriptor form
    assert ctl.get_info("exit-policy/ipv6") == "reject6 *:*"
    assert ctl.get_info("exit-policy/full").splitlines() == ["reject6 *:*", *ipv4]
    policy = ctl.get_exit_policy()  # stem reads exit-policy/full
    assert policy.can_exit_to("127.0.0.1", 80)
    assert not policy.can_exit_to("127.0.0.1", REJECTED_PORT)
    assert not policy.can_exit_to("192.0.2.1", 80)
    names = ctl.get_info("info/names")
    for key in ("conn/all", "conn/*", "info/relay/bw-limit", "info/relay/read-total",
                "info/uptime-process", "info/descriptor-used", "ns/authority",
                "exit-policy/full"):
        assert f"\n{key} -- " in "\n" + names, key
    assert int(ctl.get_info("info/relay/bw-limit")) == 1 << 30  # BandwidthRate default
    assert int(ctl.get_info("info/descriptor-used")) > 3
    assert int(ctl.get_info("info/uptime-process")) >= int(ctl.get_info("info/uptime-reset"))


def _client_lacks_weight(client: TorNode, fingerprint: str) -> str | None:
    """Why the client would not pick us yet: no descriptor, or a zero weight."""
    try:
        with TorControl.connect(client.control_port, client.cookie_path, 5.0) as tc:
            tc.getinfo_one(f"desc/id/{fingerprint}")
            entry = tc.getinfo_one(f"ns/id/{fingerprint}")
    except (OSError, ControlError) as exc:
        return f"the client has no descriptor of ours: {exc}"
    if "Bandwidth=0" in entry.split() or "Bandwidth=" not in entry:
        return "our weight in the client's consensus is zero"
    return None


def _wait_until_client_can_exit(client: TorNode, fingerprint: str, timeout: float) -> None:
    """The client must list us Running, Valid and Exit with a weight and our descriptor,
    or tor builds no circuit ending with us and the download takes another exit."""
    wanted = {fingerprint: frozenset({"Running", "Valid", "Exit"})}
    nudger = ready.Nudger(client.control_port, client.cookie_path)

    def missing() -> str | None:
        why = ready.node_directory_complete(client.control_port, client.cookie_path,
                                            wanted, False, False)
        why = why or _client_lacks_weight(client, fingerprint)
        if why is not None:
            nudger.behind()
        return why

    ready.wait_for(missing, time.monotonic() + timeout, "the client to know our exit")


#: The download's size; the server listens on 127.0.0.2 because for a target at a
#: relay's own address (127.0.0.1 here) tor prefers that relay as the exit ("exit
#: enclave", router_find_exact_exit_enclave), whatever ExitNodes says.
BODY_SIZE = 10 * 2**20


class _Zeros(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.send_header("Content-Length", str(BODY_SIZE))
        self.end_headers()
        block = bytes(65536)
        with contextlib.suppress(OSError):
            for _ in range(BODY_SIZE // len(block)):
                self.wfile.write(block)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


@pytest.fixture(scope="module")
def zeros_server(network: RealTorNetwork) -> Iterator[int]:
    """HTTP on 127.0.0.2 (at the network's spare port ZEROS_SPARE): any GET answers
    BODY_SIZE zero bytes."""
    server = http.server.ThreadingHTTPServer(("127.0.0.2", network.spare_port(ZEROS_SPARE)),
                                             _Zeros)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def _socks_get(socks_port: int, host: str, port: int, path: str) -> socket.socket:
    """A SOCKS5 connection through the tor client (its own circuit: a fresh username)
    with an HTTP GET sent; the caller reads the answer at its own pace."""
    sock = socket.create_connection(("127.0.0.1", socks_port), timeout=60)
    user = f"conn-all-{time.monotonic_ns()}".encode()
    sock.sendall(b"\x05\x01\x02")
    assert sock.recv(2) == b"\x05\x02"
    sock.sendall(b"\x01" + bytes([len(user)]) + user + b"\x01x")
    assert sock.recv(2) == b"\x01\x00"
    name = host.encode()
    sock.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + port.to_bytes(2, "big"))
    reply = _read_exactly(sock, 10)
    assert reply[1] == 0, f"SOCKS reply {reply[1]}"
    sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
    return sock


def _read_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, "connection closed early"
        data += chunk
    return data


def _drain(sock: socket.socket) -> int:
    total = 0
    while chunk := sock.recv(65536):
        total += len(chunk)
    return total


def _poll(ctl: Controller, found: Callable[[list[Conn]], bool], timeout: float = 60.0
          ) -> list[Conn]:
    deadline = time.monotonic() + timeout
    while True:
        conns = _conns(ctl)
        if found(conns) or time.monotonic() > deadline:
            return conns
        time.sleep(0.2)


def _exits(conns: list[Conn]) -> list[Conn]:
    return [c for c in conns if c["TYPE_FLAGS"][1] == "X"]


def test_conn_all_while_a_real_client_exits_through_zwiebel(
        network: RealTorNetwork, relay: ZwiebelProcess, slot: ExternalRelaySlot,
        ctl: Controller, zeros_server: int) -> None:
    fingerprint = _fingerprint(relay)
    network.vote_exit(fingerprint)
    network.wait_for_relay(fingerprint, ("Running", "Valid", "Exit"), timeout=90)
    client = network.client
    assert client is not None and client.socks_port is not None
    _wait_until_client_can_exit(client, fingerprint, 120)
    with network.control("client") as client_ctl:
        client_ctl.setconf([("ExitNodes", "$" + fingerprint), ("StrictNodes", "1")])
    written_before = int(ctl.get_info("info/relay/write-total"))
    sock, held = _stream_held_at_zwiebel(
        ctl, client.socks_port, zeros_server,
        lambda: _wait_until_client_can_exit(client, fingerprint, 120))
    with sock:
        exit_conn = _check_exit_connection(held)
        carrier = _check_or_connections(held, exit_conn, slot.or_port)
        _check_single_keys(ctl, exit_conn, carrier)
        received = 4096 + _drain(sock)
    assert received > BODY_SIZE
    after = {c["CONN_ID"]: c for c in _conns(ctl)}
    grown = after[carrier["CONN_ID"]]
    assert int(grown["WRITE"]) >= int(carrier["WRITE"]) + BODY_SIZE - 2**20
    assert int(grown["READ"]) > int(carrier["READ"])  # SENDMEs from the client
    assert int(ctl.get_info("info/relay/write-total")) >= written_before + BODY_SIZE


def _stream_held_at_zwiebel(ctl: Controller, socks_port: int, http_port: int,
                            client_ready: Callable[[], None], attempts: int = 8
                            ) -> tuple[socket.socket, list[Conn]]:
    """A download of BODY_SIZE zeros through the client, held after 4 KiB (windows close and
    the exit stops reading), once conn/all shows its exit connection with bytes both
    ways. While the client's consensus still lacks our descriptor, tor takes another
    exit; such a stream is closed and a new one (a new circuit) tried."""
    for _ in range(attempts):
        client_ready()
        sock = _socks_get(socks_port, "127.0.0.2", http_port, "/zeros")
        _read_exactly(sock, 4096)
        held = _poll(ctl, lambda cs: any(int(c["READ"]) > 0 and int(c["WRITE"]) > 0
                                         for c in _exits(cs)), timeout=10)
        if _exits(held):
            return sock, held
        sock.close()
        time.sleep(5)
    raise AssertionError("no stream of the client reached the Zwiebel exit")


def _check_exit_connection(conns: list[Conn]) -> Conn:
    """The exit connection: listed, scrubbed (no destination address or ports),
    with its byte counts, circuit and OR connection."""
    exits = _exits(conns)
    assert exits, "no exit connection listed while the stream was open"
    for conn in exits:
        assert (conn["IP"], conn["L_PORT"]) == ("0:0", "0")
        assert conn["TYPE_FLAGS"] in ("OXt", "oXt")
    busy = [c for c in exits if int(c["READ"]) > 0 and int(c["WRITE"]) > 0]
    assert busy, exits
    conn = busy[0]
    assert conn["TYPE_FLAGS"] == "OXt"
    assert int(conn["WRITE"]) >= len("GET /zeros HTTP/1.0\r\n\r\n")
    assert conn["OR_ID"] != "0" and conn["CIRC_ID"] != "0"
    return conn


def _check_or_connections(conns: list[Conn], exit_conn: Conn, or_port: int) -> Conn:
    """Inbound relay connections keep their addresses; the one carrying the exit's
    circuit is listed with that circuit; our own client channels are scrubbed."""
    inbound = [c for c in conns if c["TYPE_FLAGS"] == "IRT"]
    assert inbound, "no inbound relay connection listed"
    for conn in inbound:
        assert conn["IP"].startswith("127.0.0.1:") and conn["IP"] != "127.0.0.1:0"
        assert conn["L_PORT"] == str(or_port)
        assert conn["OR_ID"] == conn["CONN_ID"]
    client_side = [c for c in conns if c["TYPE_FLAGS"][1] == "C"]
    assert client_side and all(c["IP"] == "0:0" and c["L_PORT"] == "0" for c in client_side)
    (carrier,) = [c for c in conns if c["CONN_ID"] == exit_conn["OR_ID"]]
    assert carrier["TYPE_FLAGS"] == "IRT"
    assert exit_conn["CIRC_ID"] in carrier["CIRC_ID"].split(",")
    assert int(carrier["WRITE"]) > 0 and int(carrier["READ"]) > 0
    return carrier


def _check_single_keys(ctl: Controller, exit_conn: Conn, carrier: Conn) -> None:
    circ = exit_conn["CIRC_ID"]
    for conn in (exit_conn, carrier):
        line = ctl.get_info(f"conn/{circ}/{conn['CONN_ID']}")
        assert line.startswith(f"CONN_ID={conn['CONN_ID']} CIRC_ID=")
        assert f"TYPE_FLAGS={conn['TYPE_FLAGS']} " in line
    with pytest.raises(stem.OperationFailed):
        ctl.get_info(f"conn/{int(circ) + 100000}/{carrier['CONN_ID']}")


def test_status_server_events_for_a_new_descriptor(network: RealTorNetwork,
                                                   relay: ZwiebelProcess,
                                                   ctl: Controller) -> None:
    """A changed ContactInfo, read on SIGNAL RELOAD, makes the relay publish again: the
    authority's 200 comes as ACCEPTED_SERVER_DESCRIPTOR, then GOOD_SERVER_DESCRIPTOR
    (every authority has it), as tor's dirclient.c sends them."""
    seen: queue.Queue[Any] = queue.Queue()
    ctl.add_event_listener(seen.put, EventType.STATUS_SERVER)
    original = relay.torrc.read_text()
    relay.torrc.write_text(original + "ContactInfo Zwiebel tests, changed\n")
    try:
        ctl.signal(stem.Signal.RELOAD)
        dirauth = f"127.0.0.1:{network.authorities[0].dir_port}"
        actions = []
        deadline = time.monotonic() + 60
        while "GOOD_SERVER_DESCRIPTOR" not in actions and time.monotonic() < deadline:
            event = seen.get(timeout=max(0.1, deadline - time.monotonic()))
            actions.append(event.action)
            if event.action == "ACCEPTED_SERVER_DESCRIPTOR":
                assert event.runlevel == "NOTICE"
                assert event.arguments == {"DIRAUTH": dirauth}
        assert actions[-2:] == ["ACCEPTED_SERVER_DESCRIPTOR", "GOOD_SERVER_DESCRIPTOR"]
    finally:
        relay.torrc.write_text(original)

"""BandwidthRate 1 MB with BandwidthBurst 1 MB: a long download through a Zwiebel exit
stays within 10% of the limit (issue: relay, "Must show").

A Zwiebel exit started from a torrc with those options (and CountPrivateBandwidth 1: on
loopback every connection is "internal", which tor exempts from rate limiting otherwise)
joins a real-tor network; a real tor client may only exit through it and downloads a
24 MiB file. The rate is measured at the client over the steady part (after the first
4 MiB: the 1 MB burst and the circuit window fill-up are over). tor's "MB" is 2^20 bytes
(lib/confmgt/unitparse.c), so the limit is 1 MiB/s of bytes on the relay's connections;
the payload is a little less: a cell carries at most 498 bytes of data in 514, and each
cell is its own TLS record (22 more bytes), so 1 MiB/s on the wire is 0.93 MiB/s of
download. The 10% covers that.

The client's first and middle hops are real tor relays, so the Zwiebel relay carries only
this download (and its own directory traffic). So that the limit measured is the relay's
and not the test's, the same file is then fetched through the real tor exit, avoiding
the Zwiebel relay, which must be much faster than 1 MiB/s.
"""

from __future__ import annotations

import hashlib
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from zwiebel.testnet.fileserver import FileServer, ServedFile
from zwiebel.testnet.layout import ExitPolicyMode
from zwiebel.testnet.realtor import RealTorNetwork
from zwiebel.testnet.torcontrol import ControlError
from zwiebel.testnet.zwiebelproc import ZwiebelProcess

pytestmark = pytest.mark.interop

BASE_PORT = 28400
#: Not 127.0.0.1: tor exits a stream to a relay's own address through that relay.
FILE_HOST = "127.0.0.2"
MIB = 1 << 20
FILE_SIZE = 24 * MIB
STEADY_AFTER = 4 * MIB
LIMIT = 1 * MIB
DOWNLOAD_TIMEOUT = 120.0


@dataclass(frozen=True)
class Download:
    """A timed download: (seconds since start, bytes of body so far) samples and the
    SHA-256 of the whole body."""

    samples: list[tuple[float, int]]
    sha256: str

    @property
    def size(self) -> int:
        """Body bytes received."""
        return self.samples[-1][1] if self.samples else 0

    def rate_after(self, skip: int) -> float:
        """Bytes per second from the first sample past ``skip`` bytes to the last one."""
        start = next(s for s in self.samples if s[1] >= skip)
        end = self.samples[-1]
        return (end[1] - start[1]) / (end[0] - start[0])


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, "SOCKS proxy closed the connection"
        data += chunk
    return data


def _socks5_connect(sock: socket.socket, host: str, port: int, isolation: str) -> None:
    """SOCKS5 with username/password (the username isolates the stream, as tor does)."""
    sock.sendall(b"\x05\x01\x02")
    assert _recv_exact(sock, 2) == b"\x05\x02"
    user = isolation.encode()
    sock.sendall(b"\x01" + bytes([len(user)]) + user + b"\x01x")
    assert _recv_exact(sock, 2)[1] == 0
    sock.sendall(b"\x05\x01\x00\x03" + bytes([len(host)]) + host.encode()
                 + port.to_bytes(2, "big"))
    reply = _recv_exact(sock, 10)
    assert reply[1] == 0, f"SOCKS reply {reply[1]}"


def timed_download(socks_port: int, served: ServedFile, isolation: str,
                   timeout: float = DOWNLOAD_TIMEOUT) -> Download:
    """GET ``served`` through tor's SOCKS port, noting when each chunk arrives."""
    host, port = re.match(r"http://([^:/]+):(\d+)", served.url).groups()  # type: ignore[union-attr]
    path = served.url.split(host + ":" + port, 1)[1]
    digest = hashlib.sha256()
    samples: list[tuple[float, int]] = []
    with socket.create_connection(("127.0.0.1", socks_port), timeout=60) as sock:
        _socks5_connect(sock, host, int(port), isolation)
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        start = time.monotonic()
        head, body_len, in_body = b"", 0, False
        while time.monotonic() - start < timeout:
            chunk = sock.recv(256 * 1024)
            if not chunk:
                break
            if not in_body:
                head += chunk
                if b"\r\n\r\n" not in head:
                    continue
                head, chunk = head.split(b"\r\n\r\n", 1)
                assert b" 200 " in head.split(b"\r\n", 1)[0], head[:40]
                in_body = True
            digest.update(chunk)
            body_len += len(chunk)
            samples.append((time.monotonic() - start, body_len))
    return Download(samples, digest.hexdigest())


@pytest.fixture(scope="module")
def far_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FileServer]:
    """The long download, served on 127.0.0.2."""
    with FileServer(tmp_path_factory.mktemp("bw_files"), {"long.bin": FILE_SIZE},
                    host=FILE_HOST) as server:
        yield server


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealTorNetwork]:
    """1 authority, 2 middles, 1 exit and a client, all real tor; the exit accepts
    everything (a policy that accepts only loopback counts as "reject all" for clients)."""
    net = RealTorNetwork(tmp_path_factory.mktemp("relay-bw-net"), BASE_PORT, middles=2,
                         exit_policy=ExitPolicyMode.OPEN)
    with net:
        yield net


def relay_torrc(network: RealTorNetwork, nickname: str, or_port: int,
                *extra: str) -> list[str]:
    """An exit accepting everything, on loopback, publishing to the network."""
    return ["TestingTorNetwork 1", f"Nickname {nickname}", "Address 127.0.0.1",
            f"ORPort 127.0.0.1:{or_port}", "SocksPort 0", "UseMicrodescriptors 0",
            "ContactInfo Zwiebel tests <nobody@example.invalid>", "ExitRelay 1",
            "ExitPolicyRejectPrivate 0", "ExitPolicy accept *:*", *extra,
            *network.dir_authority_lines]


def wait_published(proc: ZwiebelProcess) -> None:
    """Until the relay found its ORPort reachable and uploaded its descriptor."""
    proc.wait_for(r"Self-testing indicates your ORPort is reachable from the outside\. "
                  r"Excellent\. Publishing server descriptor\.", 90)
    proc.wait_for(r"status 200\) after uploading server descriptor", 30)


def fingerprint_of(proc: ZwiebelProcess) -> str:
    """The relay's RSA fingerprint from DataDirectory/fingerprint."""
    return (proc.data_dir / "fingerprint").read_text().split()[1]


def wait_usable_exit(network: RealTorNetwork, fingerprint: str, timeout: float) -> None:
    """Until the client's consensus lists the relay as an Exit with a non-zero weight."""
    network.vote_exit(fingerprint)
    network.wait_for_relay(fingerprint, ("Running", "Valid", "Exit"), timeout=90)
    deadline = time.monotonic() + timeout
    while True:
        with network.control("client") as ctl:
            try:
                entry = ctl.getinfo_one(f"ns/id/{fingerprint}")
            except ControlError:
                entry = ""
        weight = re.search(r"w Bandwidth=(\d+)", entry)
        if weight and int(weight.group(1)) > 0 and " Exit " in f" {entry} ":
            return
        assert time.monotonic() < deadline, f"relay not usable as an exit: {entry!r}"
        time.sleep(0.5)


def exit_through(network: RealTorNetwork, fingerprint: str, avoid: str | None = None) -> int:
    """Make the client exit only through ``fingerprint``, with the real tor relays as
    first and middle hops (so ``avoid``, if given, carries none of its circuits);
    returns the client's SOCKS port."""
    client = network.client
    assert client is not None and client.socks_port is not None
    hops = ",".join("$" + n.fingerprint for n in (*network.authorities, *network.middles))
    settings = [("ExitNodes", "$" + fingerprint), ("StrictNodes", "1"),
                ("EntryNodes", hops), ("MiddleNodes", hops)]
    if avoid is not None:
        settings.append(("ExcludeNodes", "$" + avoid))
    with network.control("client") as ctl:
        ctl.setconf(settings)
    return client.socks_port


@pytest.fixture(scope="module")
def limited_relay(network: RealTorNetwork,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZwiebelProcess]:
    """A Zwiebel exit with BandwidthRate 1 MB and BandwidthBurst 1 MB."""
    slot = network.external_slot(0, "zwiebelbw")
    torrc = relay_torrc(network, "zwiebelbw", slot.or_port, "BandwidthRate 1 MB",
                        "BandwidthBurst 1 MB", "CountPrivateBandwidth 1")
    data = tmp_path_factory.mktemp("zwiebel-bw") / "data"
    torrc.append(f"Log notice file {data.parent / 'notice.log'}")
    with ZwiebelProcess(data, torrc) as proc:
        wait_published(proc)
        yield proc


def test_download_through_limited_exit_stays_within_ten_percent(
        network: RealTorNetwork, limited_relay: ZwiebelProcess,
        far_server: FileServer) -> None:
    served = far_server.files["long.bin"]
    fingerprint = fingerprint_of(limited_relay)
    wait_usable_exit(network, fingerprint, 120)
    shaped = timed_download(exit_through(network, fingerprint), served, "bw-shaped")
    assert (shaped.size, shaped.sha256) == (served.size, served.sha256)
    rate = shaped.rate_after(STEADY_AFTER)
    print(f"through the limited Zwiebel exit: {rate / MIB:.3f} MiB/s")
    real_exit = network.exits[0].fingerprint
    reference = timed_download(exit_through(network, real_exit, avoid=fingerprint), served,
                               "bw-reference")
    assert (reference.size, reference.sha256) == (served.size, served.sha256)
    print(f"through the real tor exit: {reference.rate_after(STEADY_AFTER) / MIB:.2f} MiB/s")
    assert reference.rate_after(STEADY_AFTER) > 1.5 * LIMIT, "the test path itself is slow"
    assert 0.9 * LIMIT <= rate <= 1.1 * LIMIT, f"{rate / MIB:.3f} MiB/s"

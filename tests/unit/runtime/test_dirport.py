"""The DirPort server (runtime/dirport.py) on real loopback sockets (ports chosen by the
kernel), fetched with curl and with Zwiebel's own clients (proto/dirhttp.py DirExchange,
runtime/dirpost.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import subprocess
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from zwiebel.proto.dircompress import Compression, decompress
from zwiebel.proto.dirserver import DirReply, DirRequest, PeerInfo, UrlRouter
from zwiebel.runtime.dirfetch import fetch_dirport
from zwiebel.runtime.dirport import DirPortLimits, DirPortServer, DirSession, ReplyContext
from zwiebel.runtime.dirpost import post_dirport

NOW = dt.datetime(2026, 11, 22, 8, 10, 19, tzinfo=dt.UTC)
CONSENSUS = b"network-status-version 3 microdesc\n" + b"r relay AAAA\n" * 5000
Handler = Callable[[DirRequest, PeerInfo], Awaitable[DirReply]]


class Authority:
    """A toy directory feature: a router of handlers, recording what it saw."""

    def __init__(self) -> None:
        self.seen: list[tuple[DirRequest, PeerInfo]] = []
        self.router: UrlRouter[Handler] = UrlRouter()
        self.router.prefix("GET", "/tor/status-vote/current/consensus", self.consensus)
        self.router.exact("GET", "/tor/server/authority", self.descriptor)
        self.router.exact("POST", "/tor/", self.upload)
        self.router.exact("GET", "/tor/crash", self.crash)

    async def handle(self, request: DirRequest, peer: PeerInfo) -> DirReply:
        self.seen.append((request, peer))
        handler = self.router.match(request.method, request.path)
        if handler is None:
            return DirReply.short(404, "Not found")
        return await handler(request, peer)

    async def consensus(self, request: DirRequest, peer: PeerInfo) -> DirReply:
        return DirReply.document(CONSENSUS, cache_lifetime=5 * 60, content_length=False)

    async def descriptor(self, request: DirRequest, peer: PeerInfo) -> DirReply:
        return DirReply.document(b"router test 127.0.0.1 1 0 0\n", cache_lifetime=0)

    async def upload(self, request: DirRequest, peer: PeerInfo) -> DirReply:
        if request.body == b"old":
            return DirReply.headers_only((("X-Descriptor-Not-New", "Yes"),))
        return DirReply.short(200, "Descriptor accepted")

    async def crash(self, request: DirRequest, peer: PeerInfo) -> DirReply:
        raise RuntimeError("boom")


def serve(scenario: Callable[[int, Authority, DirPortServer], Awaitable[Any]],
          limits: DirPortLimits | None = None) -> Any:
    async def main() -> Any:
        auth = Authority()
        server = DirPortServer(auth.handle, limits or DirPortLimits(),
                               ReplyContext(now=lambda: NOW))
        _, port = await server.listen("127.0.0.1", 0)
        try:
            return await scenario(port, auth, server)
        finally:
            await server.close()
    return asyncio.run(main())


async def raw_exchange(port: int, data: bytes, *, close_write: bool = False) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    if close_write:
        writer.write_eof()
    try:
        out = await asyncio.wait_for(reader.read(), 10)
    except ConnectionResetError:
        out = b""
    writer.close()
    return out


async def curl(*args: str) -> tuple[bytes, bytes]:
    proc = await asyncio.create_subprocess_exec(
        "curl", "-sS", "--max-time", "10", *args,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode == 0, err
    return out, err


needs_curl = pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")


@needs_curl
def test_curl_get_identity_headers_and_body() -> None:
    async def scenario(port: int, auth: Authority, server: DirPortServer) -> None:
        out, _ = await curl("-i", f"http://127.0.0.1:{port}/tor/server/authority")
        assert out == (b"HTTP/1.0 200 OK\r\nDate: Sun, 22 Nov 2026 08:10:19 GMT\r\n"
                       b"Content-Type: text/plain\r\nContent-Encoding: identity\r\n"
                       b"Content-Length: 28\r\nPragma: no-cache\r\n\r\n"
                       b"router test 127.0.0.1 1 0 0\n")
        request, peer = auth.seen[0]
        assert request.http_version == "1.1" and peer.address == "127.0.0.1"
        assert server.statistics()["answered"] == 1
    serve(scenario)


@needs_curl
def test_curl_compressed_and_dot_z() -> None:
    async def scenario(port: int, auth: Authority, server: DirPortServer) -> None:
        url = f"http://127.0.0.1:{port}/tor/status-vote/current/consensus-microdesc"
        out, _ = await curl("--compressed", url)
        assert out == CONSENSUS
        raw, _ = await curl(url + ".z")
        assert zlib.decompress(raw) == CONSENSUS
        head, _ = await curl("-s", "-D", "-", "-o", "/dev/null", "-H",
                             "Accept-Encoding: deflate", url)
        assert b"Content-Encoding: deflate\r\n" in head
        assert b"Expires: Sun, 22 Nov 2026 08:15:19 GMT\r\n" in head
        assert b"Content-Length" not in head
    serve(scenario)


@needs_curl
def test_curl_unknown_path_is_404() -> None:
    async def scenario(port: int, auth: Authority, server: DirPortServer) -> None:
        out, _ = await curl("-i", f"http://127.0.0.1:{port}/tor/nothing/here")
        assert out == b"HTTP/1.0 404 Not found\r\nDate: Sun, 22 Nov 2026 08:10:19 GMT\r\n\r\n"
    serve(scenario)


def test_direxchange_plain_and_dot_z() -> None:
    async def scenario(port: int, auth: Authority, server: DirPortServer) -> None:
        plain = await fetch_dirport("127.0.0.1", port, "/tor/server/authority")
        assert (plain.status, plain.body) == (200, b"router test 127.0.0.1 1 0 0\n")
        # DirExchange sends "Accept-Encoding: deflate, identity": the body comes deflated.
        compressed = await fetch_dirport("127.0.0.1", port,
                                         "/tor/status-vote/current/consensus")
        assert (compressed.status, compressed.body) == (200, CONSENSUS)
        dotz = await fetch_dirport("127.0.0.1", port,
                                   "/tor/status-vote/current/consensus-microdesc.z")
        assert dotz.body == CONSENSUS
        paths = [r.path for r, _ in auth.seen]
        assert paths[2] == "/tor/status-vote/current/consensus-microdesc"
        assert auth.seen[1][0].best_compression().value == "deflate"
        missing = await fetch_dirport("127.0.0.1", port, "/tor/keys/all")
        assert (missing.status, missing.reason) == (404, "Not found")
    serve(scenario)


def test_post_upload_answers() -> None:
    async def scenario(port: int, auth: Authority, server: DirPortServer) -> None:
        accepted = await post_dirport("127.0.0.1", port, "/tor/", b"router new\n",
                                      extra_headers=[("X-Desc-Gen-Reason", "test")])
        assert (accepted.status, accepted.reason) == (200, "Descriptor accepted")
        request = auth.seen[0][0]
        assert request.body == b"router new\n"
        assert request.header("X-Desc-Gen-Reason") == "test"
        old = await post_dirport("127.0.0.1", port, "/tor/", b"old")
        assert old.status == 200 and old.headers["x-descriptor-not-new"] == "Yes"
    serve(scenario)


def test_tor_style_raw_request_bytes() -> None:
    async def scenario(port: int, auth: Authority, server: DirPortServer) -> None:
        out = await raw_exchange(port, b"GET /tor/server/authority HTTP/1.0\r\n"
                                       b"Host: 127.0.0.1\r\n\r\n")
        assert out.startswith(b"HTTP/1.0 200 OK\r\n")
        assert out.endswith(b"\r\n\r\nrouter test 127.0.0.1 1 0 0\n")
    serve(scenario)


def test_garbage_and_bad_requests() -> None:
    async def scenario(port: int, auth: Authority, server: DirPortServer) -> None:
        assert await raw_exchange(port, b"\x16\x03\x01garbage\r\n\r\n") == b""
        assert await raw_exchange(port, b"DELETE /tor/ HTTP/1.0\r\n\r\n") == b""
        bad = await raw_exchange(port, b"GET /tor/ HTTP/9.9\r\n\r\n")
        assert bad == b"HTTP/1.0 400 Bad request\r\nDate: Sun, 22 Nov 2026 08:10:19 GMT\r\n\r\n"
        assert await raw_exchange(port, b"GET /tor/cr", close_write=True) == b""
        assert await raw_exchange(port, b"GET /tor/crash HTTP/1.0\r\n\r\n") == b""
        assert auth.seen[-1][0].path == "/tor/crash"
        assert server.statistics()["dropped"] == 4
        ok = await fetch_dirport("127.0.0.1", port, "/tor/server/authority")
        assert ok.status == 200
    serve(scenario)


def test_request_timeout_closes() -> None:
    async def scenario(port: int, auth: Authority, server: DirPortServer) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /tor/server/auth")
        assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
        assert server.statistics()["timeouts"] == 1 and not auth.seen
    serve(scenario, DirPortLimits(request_timeout=0.2))


def test_max_connections() -> None:
    async def scenario(port: int, auth: Authority, server: DirPortServer) -> None:
        idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.sleep(0.1)
        assert await raw_exchange(port, b"GET /tor/server/authority HTTP/1.0\r\n\r\n") == b""
        assert server.statistics()["refused_busy"] == 1
        idle_writer.write(b"GET /tor/server/authority HTTP/1.0\r\n\r\n")
        assert (await asyncio.wait_for(idle_reader.read(), 5)).startswith(b"HTTP/1.0 200 OK")
        idle_writer.close()
    serve(scenario, DirPortLimits(max_connections=1))


def test_session_bytes_in_bytes_out_for_begin_dir() -> None:
    async def scenario() -> None:
        auth = Authority()
        ctx = ReplyContext(own_addresses=lambda: ["203.0.113.5"], now=lambda: NOW)
        peer = PeerInfo("198.51.100.9", 0, begin_dir=True)
        session = DirSession(auth.handle, peer, context=ctx)
        request = (b"GET /tor/server/authority HTTP/1.0\r\nHost: 203.0.113.5\r\n"
                   b"Accept-Encoding: deflate, identity, x-zstd, x-tor-lzma\r\n\r\n")
        assert not session.feed(request[:10])
        assert session.feed(request[10:])
        answer = await session.respond()
        head, payload = answer.split(b"\r\n\r\n", 1)
        assert b"\r\nX-Your-Address-Is: 198.51.100.9\r\n" in head
        assert auth.seen[0][1].begin_dir
        encoding = head.split(b"Content-Encoding: ")[1].split(b"\r\n")[0].decode()
        assert decompress(payload, Compression(encoding), 1000) == b"router test 127.0.0.1 1 0 0\n"
        local = DirSession(auth.handle, PeerInfo("203.0.113.77", 0, True), context=ctx)
        local.feed(b"GET /tor/nothing HTTP/1.0\r\n\r\n")
        assert await local.respond() == (b"HTTP/1.0 404 Not found\r\n"
                                         b"Date: Sun, 22 Nov 2026 08:10:19 GMT\r\n\r\n")
        closed = DirSession(auth.handle, peer, context=ctx)
        assert not closed.feed(b"GET /tor/")
        assert closed.feed(b"")
        assert await closed.respond() == b""
    asyncio.run(scenario())


REALNET = Path(__file__).resolve().parents[2] / "vectors" / "dirauth" / "realnet"
#: Ports from this test file's range (27600-27699): our DirPort, the fake authority's
#: ORPort (nothing listens), the real tor relay's ORPort.
DIRPORT, AUTH_ORPORT, RELAY_ORPORT = 27601, 27602, 27603


def _relay_torrc(data_dir: Path) -> str:
    return "\n".join([
        f"DataDirectory {data_dir}", "SocksPort 0", f"ORPort 127.0.0.1:{RELAY_ORPORT}",
        "Address 127.0.0.1", "TestingTorNetwork 1", "AssumeReachable 1", "ContactInfo x",
        "Nickname helperDrelay", "ExitRelay 0", "Log notice stdout",
        f"DirAuthority zauth orport={AUTH_ORPORT} v3ident={'01' * 20} "
        f"127.0.0.1:{DIRPORT} {'FE' * 20}", ""])


@pytest.mark.interop
@pytest.mark.skipif(shutil.which("tor") is None, reason="tor not installed")
def test_real_tor_relay_fetches_and_uploads(tmp_path: Path) -> None:
    """A real tor 0.4.9.11 relay that takes us for its authority fetches the microdesc
    consensus (captured from real tor authorities) from our DirPort, decompresses and
    parses it (it then refuses the signatures, which is expected), and POSTs its
    descriptor; the 400 reason phrase we send shows up in its log."""
    consensus = (REALNET / "consensus-microdesc").read_bytes()
    seen: list[DirRequest] = []

    async def handler(request: DirRequest, peer: PeerInfo) -> DirReply:
        seen.append(request)
        if request.method == "POST":
            return DirReply.short(400, "Zwiebel test refusal")
        if request.path.startswith("/tor/status-vote/current/consensus-microdesc"):
            return DirReply.document(consensus, cache_lifetime=300, content_length=False)
        return DirReply.short(404, "Not found")

    async def scenario() -> str:
        server = DirPortServer(handler)
        await server.listen("127.0.0.1", DIRPORT)
        data_dir = tmp_path / "data"
        data_dir.mkdir(mode=0o700)
        (tmp_path / "torrc").write_text(_relay_torrc(data_dir))
        log_path = tmp_path / "tor.log"
        with log_path.open("w") as log_file:
            proc = await asyncio.create_subprocess_exec(
                "tor", "-f", str(tmp_path / "torrc"), stdout=log_file,
                stderr=subprocess.STDOUT)
            try:
                for _ in range(120):
                    await asyncio.sleep(0.5)
                    log = log_path.read_text()
                    if "Zwiebel test refusal" in log and "good signatures" in log:
                        break
            finally:
                proc.terminate()
                await proc.wait()
                await server.close()
        return log_path.read_text()

    log = asyncio.run(scenario())
    assert 'http status 400 ("Zwiebel test refusal") response from dirserver' in log
    assert "This microdesc one has 0 (). It has 3 signatures from authorities we don't " \
           "recognize." in log
    assert "decompress" not in log.lower()
    post = next(r for r in seen if r.method == "POST")
    assert post.path == "/tor/" and post.body.startswith(b"router helperDrelay 127.0.0.1 ")
    assert post.header("X-Desc-Gen-Reason") == "Tor just started"
    fetch = next(r for r in seen if r.path.startswith("/tor/status-vote/current/consensus-m"))
    assert fetch.header("Accept-Encoding") == "x-tor-lzma, x-zstd, deflate, gzip, identity"

"""The ControlPort end to end over a real loopback socket, with a fake daemon.

Authentication (NULL, password, cookie, SAFECOOKIE), the pre-authentication rules,
error codes, GETINFO/GETCONF/SETCONF/SAVECONF, events, and that the service survives
bad input. Password hashes come from zwiebel.app.s2k (checked against tor elsewhere).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import pytest

from zwiebel.app.s2k import hash_password, verify_hashed_password
from zwiebel.config import build_options, lex
from zwiebel.features.control import ControlFeature, ControlHost, HostInfo
from zwiebel.managers.bootstrap import BootstrapState
from zwiebel.managers.channels import ChannelManager
from zwiebel.managers.events import EventBus, StatusEvent
from zwiebel.managers.trackers import CircuitTracker, StreamTracker

PASSWORD_HASH = hash_password(b"sesame", b"12345678")


class FakeCircuits:
    def __init__(self, bus: EventBus) -> None:
        self.circuits: list[Any] = []
        self.circ_events = CircuitTracker(bus)
        self.stream_events = StreamTracker(bus)
        self.newnym = 0

    def new_identity(self) -> None:
        self.newnym += 1

    def guard_list(self) -> list[Any]:
        return []


class FakeDirectory:
    consensus = None
    netdir = None

    def documents(self) -> dict[bytes, Any]:
        return {}


class FakeHost:
    def __init__(self, torrc: Path, lines: list[str]) -> None:
        torrc.write_text("\n".join(lines) + "\n")
        self.options = build_options(lex(torrc.read_text(), str(torrc)))
        self.events = EventBus()
        self.bootstrap = BootstrapState()
        self.channels = ChannelManager(events=self.events)
        self.circuits = FakeCircuits(self.events)
        self.directory = FakeDirectory()
        self.stopped = False

    def socks_addresses(self) -> list[str]:
        return ["127.0.0.1:9050"]

    def request_stop(self) -> None:
        self.stopped = True


class Client:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.events: list[list[str]] = []

    async def send(self, raw: bytes) -> None:
        self.writer.write(raw)
        await self.writer.drain()

    async def reply(self) -> list[str]:
        """The next command reply; events read meanwhile are kept for :meth:`event`."""
        while True:
            lines = await self._read()
            if not lines[0].startswith("650"):
                return lines
            self.events.append(lines)

    async def event(self) -> list[str]:
        """The next asynchronous event."""
        if self.events:
            return self.events.pop(0)
        lines = await self._read()
        assert lines[0].startswith("650"), lines
        return lines

    async def _read(self) -> list[str]:
        lines: list[str] = []
        while True:
            line = (await asyncio.wait_for(self.reader.readline(), 5)).decode()
            assert line.endswith("\r\n"), f"connection closed after {lines}"
            lines.append(line[:-2])
            if line[3] == "+":
                while (data := (await self.reader.readline()).decode()) != ".\r\n":
                    lines.append(data[:-2])
            elif line[3] == " ":
                return lines

    async def cmd(self, text: str) -> list[str]:
        await self.send(text.encode() + b"\r\n")
        return await self.reply()

    async def closed(self) -> bool:
        return await asyncio.wait_for(self.reader.read(), 5) == b""


Scenario = Callable[[FakeHost, ControlFeature, Callable[[], Awaitable[Client]]], Awaitable[None]]


def run(tmp_path: Path, extra: list[str], scenario: Scenario) -> FakeHost:
    lines = [f"DataDirectory {tmp_path / 'data'}", "ControlPort 127.0.0.1:auto", *extra]
    host = FakeHost(tmp_path / "torrc", lines)
    info = HostInfo(str(tmp_path / "torrc"), time.time() - 5, verify_hashed_password)

    async def main() -> None:
        feature = ControlFeature(cast(ControlHost, host), info)
        await feature.start()
        port = int(feature.addresses[0].rsplit(":", 1)[1])

        async def connect() -> Client:
            return Client(*await asyncio.open_connection("127.0.0.1", port))

        try:
            await scenario(host, feature, connect)
        finally:
            feature.close()

    asyncio.run(main())
    return host


def test_null_auth_and_basic_getinfo(tmp_path: Path) -> None:
    async def scenario(host: FakeHost, feature: ControlFeature,
                       connect: Callable[[], Awaitable[Client]]) -> None:
        c = await connect()
        assert await c.cmd("PROTOCOLINFO 1") == [
            "250-PROTOCOLINFO 1", "250-AUTH METHODS=NULL", '250-VERSION Tor="0.4.9.11"',
            "250 OK"]
        assert await c.cmd("AUTHENTICATE") == ["250 OK"]
        assert await c.cmd("GETINFO version process/pid uptime") == [
            "250-version=0.4.9.11 (zwiebel-0.1.0)", f"250-process/pid={os.getpid()}",
            "250-uptime=5", "250 OK"]
        assert await c.cmd("getinfo net/listeners/socks dormant") == [
            '250-net/listeners/socks="127.0.0.1:9050"', "250-dormant=0", "250 OK"]
        assert await c.cmd("GETINFO nope version") == ['552 Unrecognized key "nope"']
        assert await c.cmd("GETINFO fingerprint") == ["551 Not running in server mode"]
        text = await c.cmd("GETINFO config-text")
        assert text[0] == "250+config-text=" and "ControlPort 127.0.0.1:auto" in text
        assert await c.cmd("QUIT") == ["250 closing connection"]
        assert await c.closed()

    run(tmp_path, [], scenario)


def test_password_auth(tmp_path: Path) -> None:
    async def scenario(host: FakeHost, feature: ControlFeature,
                       connect: Callable[[], Awaitable[Client]]) -> None:
        c = await connect()
        assert (await c.cmd("PROTOCOLINFO"))[1] == "250-AUTH METHODS=HASHEDPASSWORD"
        assert await c.cmd('AUTHENTICATE "sesame"') == ["250 OK"]
        hexed = await connect()
        assert await hexed.cmd("AUTHENTICATE " + b"sesame".hex()) == ["250 OK"]
        bad = await connect()
        assert await bad.cmd('AUTHENTICATE "wrong"') == [
            "515 Authentication failed: Password did not match HashedControlPassword value "
            "from configuration"]
        assert await bad.closed()
        unquoted = await connect()
        reply = await unquoted.cmd("AUTHENTICATE sesame")
        assert reply[0].startswith("551 Invalid hexadecimal encoding.")
        assert await unquoted.closed()

    run(tmp_path, [f"HashedControlPassword {PASSWORD_HASH}"], scenario)


def test_cookie_and_safecookie(tmp_path: Path) -> None:
    async def scenario(host: FakeHost, feature: ControlFeature,
                       connect: Callable[[], Awaitable[Client]]) -> None:
        cookie_file = tmp_path / "data" / "control_auth_cookie"
        cookie = cookie_file.read_bytes()
        assert len(cookie) == 32 and cookie_file.stat().st_mode & 0o777 == 0o600
        c = await connect()
        info = await c.cmd("PROTOCOLINFO 1")
        assert info[1] == (f'250-AUTH METHODS=COOKIE,SAFECOOKIE COOKIEFILE="{cookie_file}"')
        assert await c.cmd("AUTHENTICATE " + cookie.hex()) == ["250 OK"]
        s = await connect()
        nonce = os.urandom(32)
        words = (await s.cmd("AUTHCHALLENGE SAFECOOKIE " + nonce.hex()))[0].split()
        server_hash = bytes.fromhex(words[2].split("=")[1])
        server_nonce = bytes.fromhex(words[3].split("=")[1])
        msg = cookie + nonce + server_nonce
        key = b"Tor safe cookie authentication server-to-controller hash"
        assert hmac.new(key, msg, hashlib.sha256).digest() == server_hash
        key = b"Tor safe cookie authentication controller-to-server hash"
        client_hash = hmac.new(key, msg, hashlib.sha256).hexdigest()
        assert await s.cmd("PROTOCOLINFO") == ["514 Authentication required."]
        s2 = await connect()
        await s2.cmd("AUTHCHALLENGE SAFECOOKIE " + nonce.hex())
        assert await s2.cmd("AUTHENTICATE " + cookie.hex()) == [
            "515 Authentication failed: Safe cookie response did not match expected value."]
        s3 = await connect()
        words = (await s3.cmd(f'AUTHCHALLENGE SAFECOOKIE "{"n" * 8}"'))[0].split()
        server_nonce = bytes.fromhex(words[3].split("=")[1])
        good = hmac.new(key, cookie + b"n" * 8 + server_nonce, hashlib.sha256).hexdigest()
        assert await s3.cmd("AUTHENTICATE " + good) == ["250 OK"]
        assert client_hash

    run(tmp_path, ["CookieAuthentication 1"], scenario)


def test_pre_auth_rules_and_bad_input(tmp_path: Path) -> None:
    async def scenario(host: FakeHost, feature: ControlFeature,
                       connect: Callable[[], Awaitable[Client]]) -> None:
        c = await connect()
        assert await c.cmd("GETINFO version") == ["514 Authentication required."]
        assert await c.closed()
        c = await connect()
        await c.send(b"GETINFO " + b"x" * (1024 * 1024 + 10))
        assert await c.reply() == ["500 Line too long."]
        assert await c.closed()
        c = await connect()
        assert await c.cmd("AUTHENTICATE") == ["250 OK"]
        assert await c.cmd("FOO bar") == ['510 Unrecognized command "FOO"']
        assert await c.cmd("SIGNAL") == ["512 Bad arguments to SIGNAL: Need at least 1 "
                                         "argument(s)"]
        assert await c.cmd("SIGNAL FOO") == ['552 Unrecognized signal code "FOO"']
        assert await c.cmd("SETEVENTS BW NOPE") == ['552 Unrecognized event "NOPE"']
        assert await c.cmd('SETCONF ContactInfo="abc') == [
            "512 Bad arguments to SETCONF: Unterminated quoted string"]
        assert await c.cmd("USEFEATURE FOO") == ['552 Unrecognized feature "FOO"']
        assert await c.cmd("DROPTIMEOUTS") == [
            "551 DROPTIMEOUTS is not implemented by Zwiebel yet"]
        assert await c.cmd("GETINFO version") == ["250-version=0.4.9.11 (zwiebel-0.1.0)",
                                                  "250 OK"]

    run(tmp_path, [], scenario)


def test_conf_round_trip_and_saveconf(tmp_path: Path) -> None:
    async def scenario(host: FakeHost, feature: ControlFeature,
                       connect: Callable[[], Awaitable[Client]]) -> None:
        c = await connect()
        await c.cmd("AUTHENTICATE")
        assert await c.cmd("SETEVENTS CONF_CHANGED") == ["250 OK"]
        assert await c.cmd("GETCONF MaxCircuitDirtiness ContactInfo Nope") == [
            '552 Unrecognized configuration key "Nope"']
        assert await c.cmd("GETCONF MaxCircuitDirtiness ContactInfo") == [
            "250-MaxCircuitDirtiness=600", "250 ContactInfo"]
        assert await c.cmd('SETCONF ContactInfo="a b\\n c" MaxCircuitDirtiness=20') == ["250 OK"]
        assert await c.event() == ["650-CONF_CHANGED", "650-ContactInfo=\"a b\\n c\"",
                                   "650-MaxCircuitDirtiness=20", "650 OK"]
        assert await c.cmd("GETCONF ContactInfo MaxCircuitDirtiness") == [
            '250-ContactInfo="a b\\n c"', "250 MaxCircuitDirtiness=20"]
        refused = await c.cmd("SETCONF MaxCircuitDirtiness=abc")
        assert refused[0].startswith("513 Unacceptable option value: Could not parse "
                                     "MaxCircuitDirtiness")
        assert await c.cmd("GETCONF MaxCircuitDirtiness") == ["250 MaxCircuitDirtiness=20"]
        assert (await c.cmd("SETCONF SocksPort=9999"))[0].startswith("553 Transition not")
        assert (await c.cmd("SETCONF Nope=1")) == [
            "552 Unrecognized option: Unknown option 'Nope'.  Failing."]
        assert await c.cmd("RESETCONF ContactInfo") == ["250 OK"]
        assert await c.event() == ["650-CONF_CHANGED", "650-ContactInfo", "650 OK"]
        assert await c.cmd("GETCONF ContactInfo") == ["250 ContactInfo"]
        assert await c.cmd("SAVECONF") == ["250 OK"]
        saved = (tmp_path / "torrc").read_text()
        assert "MaxCircuitDirtiness 20\n" in saved and saved.startswith("# This file was")
        assert (tmp_path / "torrc.orig.1").exists()

    host = run(tmp_path, [], scenario)
    assert host.options.get("MaxCircuitDirtiness") == 20


def test_events_and_signals(tmp_path: Path) -> None:
    async def scenario(host: FakeHost, feature: ControlFeature,
                       connect: Callable[[], Awaitable[Client]]) -> None:
        c = await connect()
        await c.cmd("AUTHENTICATE")
        assert await c.cmd("SETEVENTS BW SIGNAL STATUS_CLIENT NOTICE") == ["250 OK"]
        bw = [await _next_event(c, "BW"), await _next_event(c, "BW")]
        assert all(line == ["650 BW 0 0"] for line in bw)
        host.events.emit(StatusEvent("CLIENT", "NOTICE", "CIRCUIT_ESTABLISHED"))
        assert await _next_event(c, "STATUS_CLIENT") == [
            "650 STATUS_CLIENT NOTICE CIRCUIT_ESTABLISHED"]
        assert await c.cmd("SIGNAL NEWNYM") == ["250 OK"]
        assert await _next_event(c, "SIGNAL") == ["650 SIGNAL NEWNYM"]
        assert host.circuits.newnym == 1
        assert await c.cmd("SIGNAL HEARTBEAT") == ["250 OK"]
        notice = await _next_event(c, "NOTICE")
        assert notice[0].startswith("650 NOTICE Heartbeat: Tor's uptime is")
        assert await c.cmd("SIGNAL DORMANT") == ["250 OK"]
        assert await c.cmd("GETINFO dormant") == ["250-dormant=1", "250 OK"]
        assert await c.cmd("SIGNAL SHUTDOWN") == ["250 OK"]
        assert host.stopped

    run(tmp_path, [], scenario)


async def _next_event(c: Client, name: str) -> list[str]:
    while True:
        event = await c.event()
        if event[0].startswith(f"650 {name}") or event[0].startswith(f"650-{name}"):
            return event


@pytest.mark.parametrize("extra", [["ControlPort unix:{dir}/ctl"]])
def test_unix_socket(tmp_path: Path, extra: list[str]) -> None:
    lines = [line.format(dir=tmp_path) for line in extra]

    async def scenario(host: FakeHost, feature: ControlFeature,
                       connect: Callable[[], Awaitable[Client]]) -> None:
        path = tmp_path / "ctl"
        assert path.stat().st_mode & 0o777 == 0o600
        c = Client(*await asyncio.open_unix_connection(str(path)))
        assert await c.cmd("AUTHENTICATE") == ["250 OK"]
        assert await c.cmd("GETINFO net/listeners/control") == [
            f'250-net/listeners/control="127.0.0.1:{feature.addresses[0].split(":")[1]}" '
            f'"unix:{path}"', "250 OK"]

    run(tmp_path, lines, scenario)

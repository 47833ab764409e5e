"""MAPADDRESS, ATTACHSTREAM, REDIRECTSTREAM, EXTENDCIRCUIT, SETCIRCUITPURPOSE,
DROPGUARDS, GETINFO address-mappings/* and ip-to-country/*, NEWNYM rate limiting and
the new events, over a real control connection to a real CircuitManager whose
circuits are stand-ins (no network). Replies as tor's control_cmd.c words them."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast

from tests.unit.features.test_control_port import Client, FakeHost
from zwiebel.app.s2k import verify_hashed_password
from zwiebel.features.control import ControlFeature, ControlHost, HostInfo
from zwiebel.features.control.signals import NEWNYM_INTERVAL, NewnymLimiter
from zwiebel.managers.bootstrap import BootstrapState
from zwiebel.managers.circuits import CircuitManager
from zwiebel.netdir.restrict import PathRestrictions


class StandInStream:
    def __init__(self) -> None:
        self.bytes_read = 0
        self.bytes_written = 0
        self.on_end: Any = None


class StandInCircuit:
    """Looks like an open three-hop runtime Circuit to the manager."""

    def __init__(self, global_id: int) -> None:
        self.global_id = global_id
        self.path = [object(), object(), object()]
        self.is_open = True
        self.purpose = "GENERAL"
        self.isolation: object = None
        self.begins: list[tuple[str, int, int]] = []

    async def open_stream(self, address: str, port: int, timeout: float,
                          hop: int = -1) -> StandInStream:
        self.begins.append((address, port, hop))
        return StandInStream()


Connect = Callable[[], Awaitable[Client]]


def run(tmp_path: Path, extra: list[str],
        scenario: Callable[[FakeHost, CircuitManager, Connect], Awaitable[None]]) -> None:
    lines = [f"DataDirectory {tmp_path / 'data'}", "ControlPort 127.0.0.1:auto", *extra]
    host = FakeHost(tmp_path / "torrc", lines)
    info = HostInfo(str(tmp_path / "torrc"), time.time(), verify_hashed_password)

    async def main() -> None:
        manager = CircuitManager(cast(Any, host.directory), cast(Any, None),
                                 PathRestrictions(), tmp_path / "state", BootstrapState(),
                                 10.0, 600.0, True, events=host.events)
        host.circuits = cast(Any, manager)
        feature = ControlFeature(cast(ControlHost, host), info)
        await feature.start()
        port = int(feature.addresses[0].rsplit(":", 1)[1])

        async def connect() -> Client:
            client = Client(*await asyncio.open_connection("127.0.0.1", port))
            assert await client.cmd("AUTHENTICATE") == ["250 OK"]
            return client

        try:
            await scenario(host, manager, connect)
        finally:
            feature.close()

    asyncio.run(main())


def test_mapaddress_replies_events_and_getinfo(tmp_path: Path) -> None:
    async def scenario(host: FakeHost, manager: CircuitManager, connect: Connect) -> None:
        c = await connect()
        assert await c.cmd("SETEVENTS ADDRMAP") == ["250 OK"]
        got = await c.cmd("MAPADDRESS a.example=b.example 0.0.0.0=c.example "
                          "bad=x!y *.w.example=*.v.example")
        assert got[0] == "250-a.example=b.example"
        assert re.fullmatch(r"250-127\.\d+\.\d+\.\d+=c\.example", got[1])
        assert got[2] == "512-syntax error: invalid address 'x!y'"
        assert got[3] == "250 *.w.example=*.v.example"
        virtual = got[1][4:].split("=")[0]
        assert await c.event() == ['650 ADDRMAP a.example b.example NEVER CACHED="YES"']
        assert await c.event() == [f'650 ADDRMAP {virtual} c.example NEVER CACHED="YES"']
        assert await c.cmd("MAPADDRESS") == [
            "512 syntax error: not enough arguments to mapaddress."]
        assert await c.cmd("MAPADDRESS *=a.example") == [
            "512 syntax error: invalid address mapping  '*=a.example': can't remap "
            "from or to *"]
        assert await c.cmd("GETINFO address-mappings/control") == [
            "250+address-mappings/control=", "a.example b.example NEVER",
            f"{virtual} c.example NEVER", "*.w.example *.v.example NEVER", "250 OK"]
        assert manager.addressmap.rewrite(virtual) == "c.example"

    run(tmp_path, [], scenario)


def test_leave_streams_unattached_and_attachstream(tmp_path: Path) -> None:
    async def scenario(host: FakeHost, manager: CircuitManager, connect: Connect) -> None:
        c = await connect()
        assert await c.cmd("SETCONF __LeaveStreamsUnattached=1") == ["250 OK"]
        assert await c.cmd("SETEVENTS STREAM") == ["250 OK"]
        circuit = StandInCircuit(manager.reserve_id())
        manager._circuits.append(cast(Any, circuit))
        manager.addressmap.register("old.example", "mapped.example")
        task = asyncio.create_task(manager.open_stream("old.example", 80, "socks-key"))
        assert await c.event() == ["650 STREAM 1 NEW 0 old.example:80 PURPOSE=USER"]
        assert await c.event() == ["650 STREAM 1 CONTROLLER_WAIT 0 old.example:80"]
        assert await c.cmd("ATTACHSTREAM 9 1") == ['552 Unknown stream "9"']
        assert await c.cmd("ATTACHSTREAM 1 77") == ['552 Unknown circuit "77"']
        assert await c.cmd("ATTACHSTREAM 1 1 FOO=2") == [
            "512 Bad arguments to ATTACHSTREAM: Unrecognized keyword argument FOO"]
        assert await c.cmd("ATTACHSTREAM 1 1 HOP=x") == ["552 Bad value hop=x"]
        assert await c.cmd("ATTACHSTREAM 1 1 HOP=1") == [
            "551 Can't attach stream to this one-hop circuit."]
        assert await c.cmd("ATTACHSTREAM 1 1 HOP=4") == ["551 Circuit doesn't have 4 hops."]
        assert await c.cmd("REDIRECTSTREAM 1 old.example 99999") == [
            '512 Cannot parse port "99999"']
        assert await c.cmd("REDIRECTSTREAM 1 old.example 8080") == ["250 OK"]
        assert await c.cmd("ATTACHSTREAM 1 1 HOP=2") == ["250 OK"]
        assert await c.event() == [
            "650 STREAM 1 REMAP 0 mapped.example:8080 SOURCE=CACHE"]
        assert await c.event() == ["650 STREAM 1 SENTCONNECT 1 mapped.example:8080"]
        assert await c.event() == ["650 STREAM 1 SUCCEEDED 1 mapped.example:8080"]
        await task
        assert circuit.begins == [("mapped.example", 8080, 1)]
        assert circuit.isolation == "socks-key"  # the attached stream isolates it
        assert await c.cmd("ATTACHSTREAM 1 1") == [
            "555 Connection is not managed by controller."]

    run(tmp_path, [], scenario)


def test_circuit_commands(tmp_path: Path) -> None:
    async def scenario(host: FakeHost, manager: CircuitManager, connect: Connect) -> None:
        c = await connect()
        circuit = StandInCircuit(manager.reserve_id())
        manager._circuits.append(cast(Any, circuit))
        assert await c.cmd("EXTENDCIRCUIT 5 $AA") == ['552 Unknown circuit "5"']
        assert await c.cmd("EXTENDCIRCUIT 1") == ["512 syntax error: path required."]
        assert await c.cmd("EXTENDCIRCUIT 0 purpose=weird") == ['552 Unknown purpose "weird"']
        assert await c.cmd("EXTENDCIRCUIT 0 $" + "AB" * 20) == [
            f'552 No such router "${"AB" * 20}"']
        assert await c.cmd("SETEVENTS CIRC") == ["250 OK"]
        assert await c.cmd("EXTENDCIRCUIT 0") == ["250 EXTENDED 2"]
        failed = await c.event()
        assert failed[0].startswith("650 CIRC 2 FAILED PURPOSE=GENERAL TIME_CREATED=")
        assert failed[0].endswith("REASON=CONNECTFAILED")
        assert await c.cmd("SETCIRCUITPURPOSE 1") == ["552 No purpose given"]
        assert await c.cmd("SETCIRCUITPURPOSE 1 purpose=odd") == ['552 Unknown purpose "odd"']
        assert await c.cmd("SETCIRCUITPURPOSE 1 purpose=controller") == ["250 OK"]
        assert circuit.purpose == "CONTROLLER"
        assert await c.cmd("DROPGUARDS") == ["250 OK"]
        assert await c.cmd("DROPGUARDS now") == [
            "512 Bad arguments to DROPGUARDS: Cannot accept more than 0 argument(s)"]
        assert (tmp_path / "state").exists()

    run(tmp_path, [], scenario)


def test_ip_to_country(tmp_path: Path) -> None:
    geo = tmp_path / "geoip"
    geo.write_text("# test\n16777216,16777471,AU\n")

    async def scenario(host: FakeHost, manager: CircuitManager, connect: Connect) -> None:
        c = await connect()
        assert await c.cmd("GETINFO ip-to-country/1.0.0.7 ip-to-country/2.0.0.1 "
                           "ip-to-country/ipv4-available ip-to-country/ipv6-available") == [
            "250-ip-to-country/1.0.0.7=au", "250-ip-to-country/2.0.0.1=??",
            "250-ip-to-country/ipv4-available=1", "250-ip-to-country/ipv6-available=0",
            "250 OK"]
        assert await c.cmd("GETINFO ip-to-country/::1") == ["551 GeoIP data not loaded"]
        assert await c.cmd("GETINFO ip-to-country/nope") == ["551 Invalid address family"]

    run(tmp_path, [f"GeoIPFile {geo}"], scenario)


def test_newnym_rate_limit() -> None:
    limiter = NewnymLimiter()
    assert limiter.delay(100.0) == 0
    assert limiter.delay(103.0) == NEWNYM_INTERVAL - 3
    assert limiter.delay(100.0 + NEWNYM_INTERVAL) == 0

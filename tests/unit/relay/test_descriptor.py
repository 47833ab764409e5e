"""The relay's descriptors from its torrc and keys, and their publication
(features.relay.descriptor, features.relay.publish, runtime.dirpost).

Uploads go to a small asyncio HTTP server on 127.0.0.1 (port chosen by the OS) that
answers as tor's dircache.c does; the real authority is tested in
tests/interop/test_relay_publish.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import os
from pathlib import Path

import pytest

from zwiebel.config import BUILTIN_OPTIONS, Options, Registry, build_options, lex
from zwiebel.config.authorities import DirAuthoritySpec
from zwiebel.features.relay.descriptor import (
    PLATFORM,
    RELAY_PROTOCOLS,
    build_descriptors,
    effective_bandwidth,
    inputs_from_options,
)
from zwiebel.features.relay.keys import RelayKeys
from zwiebel.features.relay.publish import (
    DescriptorPublisher,
    publish,
    rebuild_reason,
    upload_targets,
)
from zwiebel.netdoc.microdesc import parse_microdesc
from zwiebel.netdoc.policy import ExitPolicy
from zwiebel.netdoc.serverdesc_verify import verify_server_descriptor
from zwiebel.runtime.dirpost import post_request

NOW = dt.datetime(2026, 11, 22, 12, 0, 0, 250000, tzinfo=dt.UTC)
TORRC = """Nickname zwtest
ORPort 127.0.0.1:9001
ORPort [::1]:9002
Address 127.0.0.1
ContactInfo op <op@example.invalid>
MyFamily $AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA, zwtest
BandwidthRate 2 MB
BandwidthBurst 4 MB
RelayBandwidthRate 1 MB
"""
REJECT_ALL = ExitPolicy.from_config(["reject *:*"])


def options(text: str = TORRC) -> Options:
    return build_options(lex(text, "torrc"), registry=Registry(BUILTIN_OPTIONS))


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> RelayKeys:
    return RelayKeys.load_or_create(tmp_path_factory.mktemp("k") / "keys", NOW, os.urandom)


def test_inputs_from_options() -> None:
    inputs = inputs_from_options(options(), REJECT_ALL, observed_bandwidth=5000, uptime=7)
    assert (inputs.nickname, inputs.address, inputs.or_port) == ("zwtest", "127.0.0.1", 9001)
    assert inputs.or_address_v6 == ("::1", 9002) and inputs.dir_port == 0
    assert (inputs.bandwidth_rate, inputs.bandwidth_burst) == (1 << 20, 4 << 20)
    assert inputs.family == ("$" + "A" * 40, "zwtest")
    assert inputs.contact == "op <op@example.invalid>" and not inputs.ipv6_exit
    with pytest.raises(ValueError, match="Address"):
        inputs_from_options(options("ORPort 9001\n"), REJECT_ALL)
    bound = inputs_from_options(options("ORPort 10.0.0.1:9001\nDirPort 9030\n"), REJECT_ALL)
    assert (bound.address, bound.or_port, bound.dir_port) == ("10.0.0.1", 9001, 9030)


def test_effective_bandwidth() -> None:
    assert effective_bandwidth(100, 200, 1 << 30, 0, 0) == (100, 200)
    assert effective_bandwidth(100, 200, 50, 0, 0) == (50, 200)
    assert effective_bandwidth(100, 200, 1 << 30, 70, 150) == (70, 150)
    assert effective_bandwidth(1 << 40, 1 << 40, 1 << 40, 0, 0) == (2**31 - 1, 2**31 - 1)


def test_build_descriptors(keys: RelayKeys) -> None:
    policy = ExitPolicy.from_config(["accept *:80", "reject *:*"])
    inputs = inputs_from_options(options(), policy, observed_bandwidth=5000, uptime=7)
    descs = build_descriptors(keys, inputs, NOW)
    desc = descs.parsed
    verify_server_descriptor(desc, NOW)
    assert descs.published == NOW.replace(microsecond=0)
    assert desc.platform == PLATFORM == "Tor 0.4.9.11 on Linux"
    assert f"\nproto {RELAY_PROTOCOLS}\n" in descs.server
    assert desc.bandwidth == (1 << 20, 4 << 20, 5000) and desc.uptime == 7
    assert desc.family == frozenset({"$" + "A" * 40, "$" + keys.fingerprint_hex})
    assert desc.exit_policy_lines == ("accept *:80", "reject *:*")
    assert desc.extra_info_digest == descs.extra_info.sha1_digest
    assert desc.onion_key_crosscert is not None and desc.onion_key_tap is not None
    assert desc.ntor_crosscert.expires == dt.datetime(2026, 12, 20, 12, tzinfo=dt.UTC)
    assert "overload" not in descs.server
    assert descs.upload_body() == (descs.server + descs.extra_info.text).encode()
    md = parse_microdesc(descs.microdesc)
    assert md.ed25519_id == keys.master_id and md.onion_key_ntor == keys.ntor.public_bytes()
    short = build_descriptors(keys, inputs, NOW, {"onion-key-rotation-days": 2})
    assert short.parsed.ntor_crosscert.expires == dt.datetime(2026, 11, 24, 12, tzinfo=dt.UTC)


def test_rebuild_reasons(keys: RelayKeys, tmp_path: Path) -> None:
    inputs = inputs_from_options(options(), REJECT_ALL, observed_bandwidth=1000)
    assert rebuild_reason(None, keys, inputs, NOW) == "uninitialized descriptor"
    descs = build_descriptors(keys, inputs, NOW)
    later = NOW + dt.timedelta(hours=1)
    assert rebuild_reason(descs, keys, dataclasses.replace(inputs, uptime=3600), later) is None
    assert rebuild_reason(descs, keys, inputs, NOW + dt.timedelta(hours=18)) == \
        "time for new descriptor"
    assert rebuild_reason(descs, keys, dataclasses.replace(inputs, contact="x"), later) == \
        "config change"
    assert rebuild_reason(descs, keys, dataclasses.replace(inputs, hibernating=True),
                          later) == "hibernating status changed"
    assert rebuild_reason(descs, keys, dataclasses.replace(inputs, observed_bandwidth=1900),
                          later) is None
    assert rebuild_reason(descs, keys, dataclasses.replace(inputs, observed_bandwidth=2001),
                          later) == "bandwidth has changed"
    rotated = RelayKeys.load_or_create(tmp_path / "keys", NOW, os.urandom)
    assert rebuild_reason(descs, rotated, inputs, later) == "rotated onion key"


def authority(port: int, nickname: str = "auth", v3: bool = True,
              bridge: bool = False) -> DirAuthoritySpec:
    return DirAuthoritySpec(nickname, "127.0.0.1", port, 1, "A" * 40,
                            "B" * 40 if v3 else None, is_bridge_authority=bridge)


def test_upload_targets() -> None:
    auths = [authority(1, "v3"), authority(2, "bridge", v3=False, bridge=True),
             authority(0, "nodir")]
    assert [a.nickname for a in upload_targets(auths)] == ["v3"]
    assert [a.nickname for a in upload_targets(auths, ("bridge",))] == ["bridge"]
    assert upload_targets(auths, ("0",)) == []


def test_post_request_bytes() -> None:
    _, data = post_request("/tor/", "127.0.0.1:7000", b"router x\n",
                           [("X-Desc-Gen-Reason", "config change")])
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /tor/ HTTP/1.1" and body == b"router x\n"
    assert b"content-length: 9" in [h.lower() for h in lines]
    assert b"X-Desc-Gen-Reason: config change" in lines


class FakeAuthority:
    """Answers every POST with a fixed status line, as tor's dircache does, and closes."""

    def __init__(self, status: str, headers: str = "") -> None:
        self.status, self.headers = status, headers
        self.bodies: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(int(h.split(b":")[1]) for h in head.split(b"\r\n")
                      if h.lower().startswith(b"content-length"))
        self.bodies.append(await reader.readexactly(length))
        writer.write(f"HTTP/1.0 {self.status}\r\n{self.headers}\r\n".encode())
        await writer.drain()
        writer.close()


async def _serve_and_publish(fake: FakeAuthority, keys: RelayKeys) -> tuple[list[bool],
                                                                          list[str], bytes]:
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        inputs = inputs_from_options(options(), REJECT_ALL)
        descs = build_descriptors(keys, inputs, NOW)
        results = await publish(descs, [authority(port), authority(port)], timeout=10)
        publisher = DescriptorPublisher([authority(port)])
        first = await publisher.tick(keys, inputs, NOW)
        second = await publisher.tick(keys, inputs, NOW + dt.timedelta(minutes=1))
        assert len(first) == 1 and second == []
        return [r.accepted for r in results], [r.reason for r in results], descs.upload_body()
    finally:
        server.close()
        await server.wait_closed()


def test_publish_accepted(keys: RelayKeys) -> None:
    fake = FakeAuthority("200 OK")
    accepted, _, body = asyncio.run(_serve_and_publish(fake, keys))
    assert accepted == [True, True] and fake.bodies[0] == body and len(fake.bodies) == 3


class Lines(logging.Handler):
    """Collects the messages of the "zwiebel" logger (which may not propagate)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_publish_rejected_is_logged_with_reason(keys: RelayKeys) -> None:
    fake = FakeAuthority("400 Missing TAP key in descriptor.")
    logger, handler = logging.getLogger("zwiebel"), Lines()
    logger.addHandler(handler)
    try:
        accepted, reasons, _ = asyncio.run(_serve_and_publish(fake, keys))
    finally:
        logger.removeHandler(handler)
    assert accepted == [False, False]
    assert reasons == ["Missing TAP key in descriptor."] * 2
    rejected = [line for line in handler.lines if line.startswith("http status 400")]
    assert rejected  # identical lines may be rate-limited by the daemon's log filter
    assert rejected[0].startswith(
        'http status 400 ("Missing TAP key in descriptor.") response from dirserver 127.0.0.1:')
    assert rejected[0].endswith(". Please correct.")


def test_publish_unreachable_authority(keys: RelayKeys) -> None:
    inputs = inputs_from_options(options(), REJECT_ALL)
    descs = build_descriptors(keys, inputs, NOW)
    results = asyncio.run(publish(descs, [authority(1)], timeout=5))
    assert results[0].status == 0 and results[0].error and not results[0].accepted

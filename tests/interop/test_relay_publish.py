"""A Zwiebel relay's descriptors published to a real tor 0.4.9.11 authority.

Own network at base port 22000 (1 authority, 1 middle, 1 exit, no client). The
authority tests reachability as usual, so the relay runs its ORPort
(zwiebel.features.relay.RelayFeature) with the same keys; the authority then lists it
Running and Valid, and serves our server descriptor, extra-info and the microdescriptor
it derived byte for byte as we built them.

Rejections, as tor's dirserv_add_multiple_descriptors answers them: a correctly signed
descriptor that breaks a rule gets 400 with the reason; a descriptor altered after
signing does not parse and is dropped without a reason (tor answers 200 "[None]" and
stores nothing).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from zwiebel.config import BUILTIN_OPTIONS, Options, Registry, build_options, lex
from zwiebel.config.dirservers import trusted_authorities
from zwiebel.crypto.digest import sha256
from zwiebel.encoding import b64_nopad
from zwiebel.features.relay import RelayFeature, RelaySettings
from zwiebel.features.relay.descriptor import (
    DescriptorSet,
    build_descriptors,
    inputs_from_options,
    server_fields,
)
from zwiebel.features.relay.keys import RelayKeys
from zwiebel.features.relay.publish import UploadResult, publish, upload_one, upload_targets
from zwiebel.netdoc.build.serverdesc import build_server_descriptor
from zwiebel.netdoc.policy import ExitPolicy
from zwiebel.testnet.dirpoll import fetch_dir_document
from zwiebel.testnet.keys import TorToolError
from zwiebel.testnet.ready import NetworkError
from zwiebel.testnet.realtor import RealTorNetwork

pytestmark = pytest.mark.interop

BASE_PORT = 22000
REJECT_ALL = ExitPolicy.from_config(["reject *:*"])


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealTorNetwork]:
    net = RealTorNetwork(tmp_path_factory.mktemp("relay_publish"), BASE_PORT, authorities=1,
                         middles=1, exits=1, with_client=False)
    try:
        net.start()
    except TorToolError as exc:
        pytest.fail(f"real tor is required for interop tests: {exc}", pytrace=False)
    except NetworkError as exc:
        pytest.fail(f"network did not come up: {exc}", pytrace=False)
    try:
        yield net
    finally:
        net.stop()


def slot_options(net: RealTorNetwork, index: int, nickname: str) -> Options:
    lines = net.external_slot(index, nickname).torrc_lines
    return build_options(lex("\n".join(lines) + "\nContactInfo zw@example.invalid\n", "torrc"),
                         registry=Registry(BUILTIN_OPTIONS))


def upload(options: Options, body: bytes) -> UploadResult:
    targets = upload_targets(trusted_authorities(options))
    assert len(targets) == 1
    return asyncio.run(upload_one(targets[0], body, timeout=30))


async def _run_relay(net: RealTorNetwork, keys: RelayKeys, options: Options,
                     descs: DescriptorSet) -> tuple[list[UploadResult], float]:
    slot = net.external_slot(0, "zwpub")
    relay = RelayFeature(lambda: keys, RelaySettings(or_host="127.0.0.1", or_port=slot.or_port))
    await relay.start()
    try:
        results = await publish(descs, upload_targets(trusted_authorities(options)))
        waited = await asyncio.to_thread(net.wait_for_relay, keys.fingerprint_hex,
                                         ("Running", "Valid"), 120)
    finally:
        await relay.stop()
    return results, waited


def test_published_relay_is_listed(network: RealTorNetwork, tmp_path: Path) -> None:
    options = slot_options(network, 0, "zwpub")
    now = dt.datetime.now(dt.UTC)
    keys = RelayKeys.load_or_create(tmp_path / "keys", now, os.urandom)
    descs = build_descriptors(keys, inputs_from_options(options, REJECT_ALL), now)
    results, waited = asyncio.run(_run_relay(network, keys, options, descs))
    assert [r.status for r in results] == [200] and waited < 120
    dir_port = network.authorities[0].dir_port
    fp = keys.fingerprint_hex
    assert fetch_dir_document(dir_port, f"/tor/server/fp/{fp}") == descs.server
    assert fetch_dir_document(dir_port, f"/tor/extra/fp/{fp}") == descs.extra_info.text
    md_digest = b64_nopad(sha256(descs.microdesc.encode()))
    assert fetch_dir_document(dir_port, f"/tor/micro/d/{md_digest}") == descs.microdesc
    again = upload(options, descs.upload_body())
    assert again.accepted and again.not_new


@pytest.mark.parametrize(("change", "reason"), [
    ({"onion_key_tap": None, "onion_key_crosscert": None}, "Missing TAP key in descriptor."),
    ({"platform": "Tor 0.4.7.16 on Linux"},
     "Tor version is insecure or unsupported. Please upgrade!"),
    ({"platform": "Tor zwiebel on Linux"}, "Malformed platform string."),
])
def test_rule_breaking_descriptor_is_rejected_with_reason(
        network: RealTorNetwork, tmp_path: Path, change: dict[str, object],
        reason: str) -> None:
    options = slot_options(network, 1, "zwbad")
    now = dt.datetime.now(dt.UTC)
    keys = RelayKeys.load_or_create(tmp_path / "keys", now, os.urandom)
    descs = build_descriptors(keys, inputs_from_options(options, REJECT_ALL), now)
    fields = server_fields(keys, descs.inputs, descs.published, descs.extra_info, None)
    bad = build_server_descriptor(dataclasses.replace(fields, **change),  # type: ignore[arg-type]
                                  keys.identity, keys.signing)
    result = upload(options, bad.encode())
    assert (result.status, result.reason) == (400, reason)


def test_descriptor_altered_after_signing_is_dropped(network: RealTorNetwork,
                                                     tmp_path: Path) -> None:
    options = slot_options(network, 2, "zwtamper")
    now = dt.datetime.now(dt.UTC)
    keys = RelayKeys.load_or_create(tmp_path / "keys", now, os.urandom)
    descs = build_descriptors(keys, inputs_from_options(options, REJECT_ALL), now)
    tampered = descs.server.replace("\nuptime 0\n", "\nuptime 1\n")
    assert tampered != descs.server
    result = upload(options, tampered.encode())
    assert (result.status, result.reason) == (200, "[None]")
    dir_port = network.authorities[0].dir_port
    assert fetch_dir_document(dir_port, f"/tor/server/fp/{keys.fingerprint_hex}") is None

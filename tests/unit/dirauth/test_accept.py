"""What an authority refuses, with tor's reasons (zwiebel.dirauth.accept).

Descriptors are built with zwiebel.netdoc.build.serverdesc (whose output real tor
accepts; see tests/unit/netdoc/test_build_serverdesc.py) and altered one field at a
time; the reason texts are tor 0.4.9.11's (process_descs.c, routerlist.c).
Real descriptors: tests/vectors/dirauth/realnet/server-all.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from zwiebel.cells.torcert import EdCertType
from zwiebel.crypto.ed25519_expanded import ExpandedEd25519Private
from zwiebel.crypto.keys import RsaPrivate, X25519Private
from zwiebel.dirauth import accept
from zwiebel.dirauth.accept import (
    AcceptOptions,
    DescriptorRejected,
    check_server_descriptor,
    parse_tor_version,
    version_as_new_as,
)
from zwiebel.features.relay.keys_certs import ntor_crosscert, sign_ed25519_cert, tap_crosscert
from zwiebel.netdoc.build.serverdesc import (
    ServerDescriptorFields,
    build_server_descriptor,
    sign_document,
)
from zwiebel.netdoc.serverdesc import parse_server_descriptors

REALNET = Path(__file__).parents[2] / "vectors" / "dirauth" / "realnet"
NOW = dt.datetime(2026, 11, 22, 5, 14, 24, tzinfo=dt.UTC)
IDENTITY = RsaPrivate.generate(1024)
TAP = RsaPrivate.generate(1024)
MASTER = ExpandedEd25519Private.from_seed(b"m" * 32)
SIGNING = ExpandedEd25519Private.from_seed(b"s" * 32)
NTOR = X25519Private(bytes(range(32)))
FP = IDENTITY.public().fingerprint()
OPEN = AcceptOptions(dir_allow_private=True)


def fields(**changes: object) -> ServerDescriptorFields:
    """A valid relay descriptor's fields, with `changes`."""
    id_cert = sign_ed25519_cert(MASTER, EdCertType.IDENTITY_SIGNING, SIGNING.public_bytes(),
                                NOW + dt.timedelta(days=30))
    cc, bit = ntor_crosscert(NTOR, MASTER.public_bytes(), NOW + dt.timedelta(days=28))
    base = ServerDescriptorFields(
        nickname="zw0", address="198.51.100.7", or_port=9001, identity_cert=id_cert.encode(),
        master_id=MASTER.public_bytes(), ntor_onion_key=NTOR.public_bytes(),
        ntor_crosscert=cc.encode(), ntor_crosscert_sign_bit=bit,
        platform="Tor 0.4.9.11 on Linux", protocols="Cons=2 Desc=2 Link=4-5 Relay=2-4",
        published=NOW, bandwidth=(100000, 200000, 50000), exit_policy_lines=("reject *:*",),
        onion_key_tap=TAP.public(),
        onion_key_crosscert=tap_crosscert(TAP, FP, MASTER.public_bytes()))
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def build(**changes: object) -> str:
    return build_server_descriptor(fields(**changes), IDENTITY, SIGNING)


def reason(raw: str, now: dt.datetime = NOW, opts: AcceptOptions = OPEN) -> str:
    with pytest.raises(DescriptorRejected) as info:
        check_server_descriptor(raw, now, opts)
    return info.value.reason


def test_good_descriptor_accepted() -> None:
    desc = check_server_descriptor(build(), NOW, AcceptOptions())
    assert desc.identity == FP


def test_real_descriptors_accepted() -> None:
    text = (REALNET / "server-all").read_text()
    for desc in parse_server_descriptors(text):
        assert check_server_descriptor(desc.raw, desc.published, OPEN).digest == desc.digest


def test_bad_signature() -> None:
    raw = build().replace("zw0", "zw1", 1)
    with pytest.raises(DescriptorRejected) as info:
        check_server_descriptor(raw, NOW, OPEN)
    assert info.value.reason == "No descriptors found in your POST."
    assert info.value.outdated and "router-s" in info.value.detail


def test_missing_tap_key() -> None:
    raw = build(onion_key_tap=None, onion_key_crosscert=None)
    assert reason(raw) == "Missing TAP key in descriptor."


def test_missing_ntor_key_is_unparseable() -> None:
    lines = [ln for ln in build().splitlines(keepends=True) if not ln.startswith("ntor-onion-key ")]
    assert reason("".join(lines)) == "No descriptors found in your POST."


def test_published_too_far_in_future() -> None:
    raw = build(published=NOW + dt.timedelta(hours=12, seconds=1))
    assert reason(raw) == ("Rejected: Your clock is set too far in the future, or your "
                           "timezone is not correct.")
    check_server_descriptor(build(published=NOW + dt.timedelta(hours=12)), NOW, OPEN)


def test_published_too_far_in_past() -> None:
    raw = build(published=NOW - dt.timedelta(hours=24, seconds=1))
    assert reason(raw) == ("Rejected: Server is expired, or your clock is too far in the "
                           "past, or your timezone is not correct.")


def test_old_platform() -> None:
    raw = build(platform="Tor 0.4.7.16 on Linux")
    assert reason(raw) == "Tor version is insecure or unsupported. Please upgrade!"


def test_malformed_platform() -> None:
    assert reason(build(platform="Tor 0.x on Linux")) == "Malformed platform string."


def test_nonstandard_platform_passes() -> None:
    check_server_descriptor(build(platform="Zwiebel 0.1"), NOW, OPEN)


def test_private_address() -> None:
    raw = build(address="10.1.2.3")
    assert reason(raw, opts=AcceptOptions()) == "Rejected: Address is a private address."
    check_server_descriptor(raw, NOW, OPEN)


def test_rejected_fingerprint() -> None:
    msg = reason(build(), opts=AcceptOptions(rejected=frozenset({FP})))
    assert msg.startswith("Fingerprint and/or ed25519 identity is marked rejected")


def test_too_large() -> None:
    text = build()
    body = text[:text.index("router-sig-ed25519 ")] + "contact " + "x" * 20000 + "\n"
    assert reason(sign_document(body, IDENTITY, SIGNING)) == "Router descriptor was too large."


def test_expired_certificates() -> None:
    later = NOW + dt.timedelta(days=29)
    raw = build(published=later)
    assert reason(raw, now=later) == "Some certs on this router are expired."


@pytest.mark.parametrize(("text", "parsed"), [
    ("0.4.9.11", (0, 4, 9, 2, 11, "", 0)),
    ("0.4.8.0-alpha-dev", (0, 4, 8, 2, 0, "alpha-dev", 0)),
    ("0.2.4.18-rc", (0, 2, 4, 2, 18, "rc", 0)),
    ("0.1.2.3pre4", (0, 1, 2, 2, 3, "pre4", 0)),
    ("0.1.2pre4", (0, 1, 2, 0, 4, "", 0)),
    ("0.1.2rc4-x", (0, 1, 2, 1, 4, "x", 0)),
    ("0.4", (0, 4, 0, 2, 0, "", 0)),
    ("0.4.x", None),
    ("1.2.3.4 (git-abc)", None),
])
def test_parse_tor_version(text: str, parsed: accept.Version | None) -> None:
    assert parse_tor_version(text) == parsed


def test_version_ordering_like_tor() -> None:
    cutoff = accept.AcceptOptions().min_version
    assert version_as_new_as("Tor 0.4.8.1 on Linux", cutoff)
    assert not version_as_new_as("Tor 0.4.7.99 on Linux", cutoff)
    # tor compares the status tag as a string: "" sorts before "alpha-dev"
    assert not version_as_new_as("Tor 0.4.8.0 on Linux", cutoff)
    assert version_as_new_as("Something else", cutoff)

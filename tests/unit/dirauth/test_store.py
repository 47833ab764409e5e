"""The authority's descriptor store (zwiebel.dirauth.store).

Vectors: tests/vectors/dirauth/realnet/server-all and extra-all (real tor 0.4.9.11);
new descriptors are built as in test_accept.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.unit.dirauth.test_accept import FP, NOW, OPEN, build
from zwiebel.dirauth.accept import AcceptOptions, DescriptorRejected
from zwiebel.dirauth.store import DescriptorStore, differences_are_cosmetic
from zwiebel.netdoc.serverdesc import parse_server_descriptor, parse_server_descriptors

REALNET = Path(__file__).parents[2] / "vectors" / "dirauth" / "realnet"
REAL_NOW = dt.datetime(2026, 11, 22, 8, 8, 17, tzinfo=dt.UTC)


def _reason(store: DescriptorStore, raw: str, now: dt.datetime = NOW) -> DescriptorRejected:
    with pytest.raises(DescriptorRejected) as info:
        store.add_server(raw, now)
    return info.value


def _real_store() -> DescriptorStore:
    store = DescriptorStore(OPEN)
    for desc in parse_server_descriptors((REALNET / "server-all").read_text()):
        assert store.add_server_verbose(desc.raw, REAL_NOW).message == "Descriptor accepted"
    return store


def test_accepted_descriptors_are_stored() -> None:
    store = _real_store()
    descs = store.servers()
    assert len(descs) == 6
    assert [d.identity for d in descs] == sorted(d.identity for d in descs)
    for d in descs:
        assert store.server(d.identity) is d and store.by_digest(d.digest) is d


def test_identical_descriptor_is_not_new() -> None:
    store = DescriptorStore(OPEN)
    raw = build()
    store.add_server(raw, NOW)
    err = _reason(store, raw)
    assert err.reason == "Router descriptor was not new." and err.outdated
    assert len(store.servers()) == 1


def test_newer_descriptor_replaces_older() -> None:
    store = DescriptorStore(OPEN)
    old = store.add_server(build(), NOW)
    later = NOW + dt.timedelta(hours=3)
    result = store.add_server_verbose(build(published=later, uptime=3 * 3600), later)
    assert result.message == "Valid server updated" and result.replaced == old
    assert store.server(FP) is result.descriptor
    assert store.by_digest(old.digest) == old
    store.prune(later + dt.timedelta(hours=49))
    assert store.by_digest(old.digest) is None
    assert store.by_digest(result.descriptor.digest) is result.descriptor


def test_cosmetic_change_does_not_replace() -> None:
    store = DescriptorStore(OPEN)
    store.add_server(build(), NOW)
    later = NOW + dt.timedelta(minutes=30)
    err = _reason(store, build(published=later, uptime=1800), later)
    assert err.reason.startswith("Not replacing router descriptor; no information has")
    # ... unless it is our own descriptor
    own = DescriptorStore(OPEN, own_identity=FP)
    own.add_server(build(), NOW)
    own.add_server(build(published=later, uptime=1800), later)


def test_real_change_replaces_within_two_hours() -> None:
    store = DescriptorStore(OPEN)
    store.add_server(build(), NOW)
    later = NOW + dt.timedelta(minutes=30)
    desc = store.add_server(build(published=later, uptime=1800, or_port=9011), later)
    assert store.server(FP) is desc


def test_older_descriptor_is_not_new() -> None:
    store = DescriptorStore(OPEN)
    store.add_server(build(published=NOW, or_port=9011), NOW)
    err = _reason(store, build(published=NOW - dt.timedelta(hours=3)))
    assert err.reason == "Router descriptor was not new."


def test_cosmetic_rules() -> None:
    a = parse_server_descriptor(build())
    b = parse_server_descriptor(build(published=NOW + dt.timedelta(hours=1), uptime=3600))
    assert differences_are_cosmetic(a, b) and differences_are_cosmetic(b, a)
    c = parse_server_descriptor(build(published=NOW + dt.timedelta(hours=2, seconds=1),
                                      uptime=7201))
    assert not differences_are_cosmetic(a, c)
    d = parse_server_descriptor(build(published=NOW + dt.timedelta(hours=1), uptime=0))
    assert differences_are_cosmetic(a, d)  # a 1 h drift is within ROUTER_ALLOW_UPTIME_DRIFT
    e = parse_server_descriptor(build(published=NOW + dt.timedelta(hours=1), uptime=3600,
                                      bandwidth=(100000, 200000, 10000)))
    assert not differences_are_cosmetic(a, e)


def test_key_pinning() -> None:
    from tests.unit.dirauth import test_accept as t
    from zwiebel.cells.torcert import EdCertType
    from zwiebel.crypto.ed25519_expanded import ExpandedEd25519Private
    from zwiebel.features.relay.keys_certs import ntor_crosscert, sign_ed25519_cert, tap_crosscert

    store = DescriptorStore(OPEN)
    store.add_server(build(), NOW)
    master = ExpandedEd25519Private.from_seed(b"n" * 32)
    cert = sign_ed25519_cert(master, EdCertType.IDENTITY_SIGNING, t.SIGNING.public_bytes(),
                             NOW + dt.timedelta(days=30))
    cc, bit = ntor_crosscert(t.NTOR, master.public_bytes(), NOW + dt.timedelta(days=28))
    later = NOW + dt.timedelta(hours=3)
    raw = build(published=later, identity_cert=cert.encode(), master_id=master.public_bytes(),
                ntor_crosscert=cc.encode(), ntor_crosscert_sign_bit=bit,
                onion_key_crosscert=tap_crosscert(t.TAP, FP, master.public_bytes()))
    assert _reason(store, raw, later).reason.startswith("Looks like your keypair has changed?")
    DescriptorStore(AcceptOptions(dir_allow_private=True, pin_keys=False)).add_server(raw, later)


def test_extrainfo_and_persistence() -> None:
    store = _real_store()
    text = (REALNET / "extra-all").read_text()
    chunks = ["extra-info " + c for c in text.split("extra-info ")[1:]]
    for chunk in chunks:
        ei = store.add_extrainfo(chunk, REAL_NOW)
        desc = store.server(ei.identity)
        assert desc is not None and desc.extra_info_digest == ei.digest
        assert store.extrainfo(ei.digest) is ei
    again = DescriptorStore(OPEN)
    assert again.load(store.serialize(), REAL_NOW) == []
    assert [d.digest for d in again.servers()] == [d.digest for d in store.servers()]
    assert sorted(e.digest for e in again.extrainfos()) == sorted(
        e.digest for e in store.extrainfos())


def test_extrainfo_rejections() -> None:
    store = DescriptorStore(OPEN)
    text = (REALNET / "extra-all").read_text()
    chunk = "extra-info " + text.split("extra-info ")[1]
    with pytest.raises(DescriptorRejected) as info:
        store.add_extrainfo(chunk, REAL_NOW)
    assert info.value.reason == ("No corresponding router descriptor for extra-info "
                                 "descriptor")
    store = _real_store()
    forged = chunk.replace("published 2026", "published 2025")
    with pytest.raises(DescriptorRejected) as info:
        store.add_extrainfo(forged, REAL_NOW)
    assert info.value.reason == "Extrainfo signature bad, or signed with wrong key"

"""Server descriptors (dir-spec 2.1.1) and their signatures, against real tor 0.4.9.11."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.netdoc.vectors import flip, load
from zwiebel.crypto.digest import sha1
from zwiebel.encoding import ParseError
from zwiebel.netdoc.consensus import parse_consensus
from zwiebel.netdoc.errors import VerifyError
from zwiebel.netdoc.serverdesc import parse_server_descriptor, parse_server_descriptors
from zwiebel.netdoc.serverdesc_verify import check_ntor_crosscert, verify_server_descriptor


def _by_name() -> dict[str, str]:
    return {d.nickname: d.raw for d in parse_server_descriptors(load("server-all"))}


def test_digests_match_the_ns_consensus() -> None:
    descs = parse_server_descriptors(load("server-all"))
    text = load("server-all")
    assert [text.index(d.raw) for d in descs] == sorted(text.index(d.raw) for d in descs)
    routers = {r.identity: r for r in parse_consensus(load("consensus")).routers}
    for d in descs:
        end = d.raw.index("\nrouter-signature\n") + len("\nrouter-signature\n")
        assert d.digest == sha1(d.raw[:end].encode())
        assert routers[d.identity].descriptor_digest == d.digest
        assert routers[d.identity].published == d.published


def test_fields() -> None:
    descs = {d.nickname: d for d in parse_server_descriptors(load("server-all"))}
    exit0, relay0, auth0 = descs["exit0"], descs["relay0"], descs["auth0"]
    assert (exit0.address, exit0.or_port, exit0.dir_port) == ("127.0.0.1", 23030, 0)
    assert auth0.dir_port == 23011 and auth0.caches_extra_info
    assert relay0.or_addresses == (("::1", 23021),)
    assert exit0.exit_policy_lines == (
        "accept *:80",
        "accept *:443",
        "accept 127.0.0.0/8:1-1024",
        "reject *:*",
    )
    assert exit0.exit_policy.allows("1.2.3.4", 443).allowed
    assert not exit0.exit_policy.allows("1.2.3.4", 22).allowed
    assert relay0.exit_policy_lines == ("reject *:*",)
    assert exit0.ipv6_policy is not None and exit0.ipv6_policy.allows_port(80)
    assert exit0.platform == "Tor 0.4.9.11 on Linux"
    assert exit0.protocols["Relay"] == frozenset(range(2, 7))
    assert exit0.bandwidth == (1073741824, 1073741824, 0)
    assert (
        exit0.family
        == relay0.family
        == {f"${exit0.identity.hex().upper()}", f"${relay0.identity.hex().upper()}"}
    )
    assert exit0.contact == "exit0 <exit0@example.invalid>"
    assert exit0.hidden_service_dir and exit0.tunnelled_dir_server
    assert exit0.ed25519_id == exit0.identity_cert.signing_key
    assert exit0.identity_cert.raw[0] == 1 and exit0.identity_cert.cert_type == 4
    assert len(exit0.ntor_onion_key) == 32 and exit0.onion_key_tap is not None


def test_real_signatures_verify() -> None:
    for desc in parse_server_descriptors(load("server-all")):
        verify_server_descriptor(desc, desc.published)


def test_expired_identity_cert() -> None:
    desc = parse_server_descriptors(load("server-all"))[0]
    with pytest.raises(VerifyError, match="expired"):
        verify_server_descriptor(desc, desc.identity_cert.expires + timedelta(hours=1))


@pytest.mark.parametrize(
    ("needle", "offset", "message"),
    [
        ("\nplatform Tor", 12, "router-sig-ed25519"),
        ("-----END SIGNATURE-----", -8, "router-signature"),
    ],
)
def test_flipped_byte_breaks_rsa_signature(needle: str, offset: int, message: str) -> None:
    desc = parse_server_descriptor(flip(_by_name()["relay0"], needle, offset))
    with pytest.raises(VerifyError, match=message):
        verify_server_descriptor(desc)


def test_flipped_ed25519_signature() -> None:
    raw = _by_name()["relay0"]
    desc = parse_server_descriptor(flip(raw, "router-sig-ed25519 ", 25))
    with pytest.raises(VerifyError, match="router-sig-ed25519"):
        verify_server_descriptor(desc)


def test_flipped_ntor_key_breaks_crosscert() -> None:
    raw = _by_name()["relay0"]
    desc = parse_server_descriptor(raw)
    ntor = desc.raw.split("ntor-onion-key ")[1].split("\n")[0]
    other = ntor[:5] + ("A" if ntor[5] != "A" else "B") + ntor[6:]
    # router-signature covers the key, so check the crosscert on its own
    bad = parse_server_descriptor(raw.replace(ntor, other))
    with pytest.raises(VerifyError):
        verify_server_descriptor(bad)
    master = desc.ed25519_id
    assert master is not None
    check_ntor_crosscert(desc, master, None)
    with pytest.raises(VerifyError, match="ntor-onion-key-crosscert"):
        check_ntor_crosscert(bad, master, None)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("master-key-ed25519 ", "master-key-ed25519 A", "master-key-ed25519"),
        ("\nfingerprint ", "\nfingerprint 0000 ", "fingerprint"),
        ("\nproto ", "\nprotx ", "missing proto"),
        ("bandwidth 1073741824", "bandwidth x", "bad integer"),
        ("router relay0 127.0.0.1", "router relay0 127.0.0.300", "bad IPv4"),
        ("\nonion-key-crosscert", "\nonion-key-crosscerx", "come together"),
    ],
)
def test_format_violations(old: str, new: str, message: str) -> None:
    raw = _by_name()["relay0"]
    assert old in raw
    with pytest.raises(ParseError, match=message):
        parse_server_descriptor(raw.replace(old, new, 1))


def test_annotations_before_router() -> None:
    raw = _by_name()["relay0"]
    descs = parse_server_descriptors("@purpose general\n" + raw + "@purpose general\n" + raw)
    assert [d.raw for d in descs] == [raw, raw]

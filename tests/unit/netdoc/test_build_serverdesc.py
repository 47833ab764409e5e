"""Building server descriptors, extra-info and microdescriptors (zwiebel.netdoc.build).

Vectors: tests/vectors/netdoc/server-all and micro-all (real tor 0.4.9.11): the item
order of our descriptors is compared with tor's, and the microdescriptors we derive from
tor's server descriptors must equal, byte for byte, the ones tor's authority made.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.netdoc.vectors import load
from zwiebel.cells.torcert import CertKeyType, EdCertType
from zwiebel.crypto.digest import sha1, sha256
from zwiebel.crypto.ed25519_expanded import ExpandedEd25519Private
from zwiebel.crypto.keys import RsaPrivate, X25519Private, ed25519_verify
from zwiebel.encoding import unb64
from zwiebel.features.relay.keys_certs import ntor_crosscert, sign_ed25519_cert, tap_crosscert
from zwiebel.netdoc.build.extrainfo import HistoryLine, build_extrainfo
from zwiebel.netdoc.build.family import canonical_family, declared_family
from zwiebel.netdoc.build.microdesc import build_microdesc
from zwiebel.netdoc.build.serverdesc import (
    ED_DESC_SIGNATURE_PREFIX,
    ServerDescriptorFields,
    build_server_descriptor,
)
from zwiebel.netdoc.errors import VerifyError
from zwiebel.netdoc.microdesc import parse_microdescs
from zwiebel.netdoc.serverdesc import parse_server_descriptor, parse_server_descriptors
from zwiebel.netdoc.serverdesc_verify import verify_server_descriptor
from zwiebel.netdoc.sigs import rsa_signature_ok
from zwiebel.netdoc.tokenizer import signed_span, tokenize

NOW = dt.datetime(2026, 11, 22, 5, 14, 24, tzinfo=dt.UTC)
IDENTITY = RsaPrivate.generate(1024)
TAP = RsaPrivate.generate(1024)
MASTER = ExpandedEd25519Private.from_seed(b"m" * 32)
SIGNING = ExpandedEd25519Private.from_seed(b"s" * 32)
NTOR = X25519Private(bytes(range(32)))
FP = IDENTITY.public().fingerprint()
ID_CERT = sign_ed25519_cert(MASTER, EdCertType.IDENTITY_SIGNING, SIGNING.public_bytes(),
                            NOW + dt.timedelta(days=30))


def fields(**changes: object) -> ServerDescriptorFields:
    cc, bit = ntor_crosscert(NTOR, MASTER.public_bytes(), NOW + dt.timedelta(days=28))
    base = ServerDescriptorFields(
        nickname="zw0", address="127.0.0.1", or_port=9001, identity_cert=ID_CERT.encode(),
        master_id=MASTER.public_bytes(), ntor_onion_key=NTOR.public_bytes(),
        ntor_crosscert=cc.encode(), ntor_crosscert_sign_bit=bit,
        platform="Tor 0.4.9.11 on Linux", protocols="Cons=2 Desc=2 Link=4-5 Relay=2-4",
        published=NOW, bandwidth=(1000, 2000, 300),
        exit_policy_lines=("accept *:80", "accept *:443", "reject *:*"),
        or_address_v6=("::1", 9002), extra_info_digests=(b"\1" * 20, b"\2" * 32),
        onion_key_tap=TAP.public(), onion_key_crosscert=tap_crosscert(
            TAP, FP, MASTER.public_bytes()),
        family=("$" + "A" * 40, "$" + FP.hex().upper()), contact="zw <zw@example.invalid>",
        ipv6_policy="accept 80,443")
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def build(**changes: object) -> str:
    return build_server_descriptor(fields(**changes), IDENTITY, SIGNING)


def keywords(text: str) -> list[str]:
    return [i.keyword for i in tokenize(text)]


def test_descriptor_parses_and_verifies() -> None:
    text = build()
    desc = parse_server_descriptor(text)
    verify_server_descriptor(desc, NOW)
    assert (desc.nickname, desc.address, desc.or_port, desc.dir_port) == ("zw0", "127.0.0.1",
                                                                          9001, 0)
    assert desc.identity == FP and desc.ed25519_id == MASTER.public_bytes()
    assert desc.or_addresses == (("::1", 9002),)
    assert desc.bandwidth == (1000, 2000, 300) and desc.published == NOW
    assert desc.onion_key_tap == TAP.public().der()
    assert desc.ntor_onion_key == NTOR.public_bytes()
    assert desc.exit_policy_lines == ("accept *:80", "accept *:443", "reject *:*")
    assert desc.ipv6_policy is not None and desc.ipv6_policy.encode() == "accept 80,443"
    assert desc.platform == "Tor 0.4.9.11 on Linux" and desc.contact == "zw <zw@example.invalid>"
    assert desc.extra_info_digest == b"\1" * 20
    assert desc.hidden_service_dir and desc.tunnelled_dir_server and not desc.hibernating
    assert text == build()


def test_item_order_is_tors() -> None:
    tor = list(dict.fromkeys(keywords(parse_server_descriptors(load("server-all"))[0].raw)))
    ours = list(dict.fromkeys(k for k in keywords(build()) if k != "or-address"))
    assert ours == tor


def test_signatures_cover_what_tor_covers() -> None:
    text = build()
    rsa_part = signed_span(text, "router ", "\nrouter-signature", "\n")
    desc = parse_server_descriptor(text)
    assert rsa_signature_ok(IDENTITY.public(), desc.router_signature,
                            sha1(rsa_part.encode()))
    ed_part = text[: text.index("router-sig-ed25519 ") + len("router-sig-ed25519 ")]
    assert ed25519_verify(SIGNING.public_bytes(), desc.router_sig_ed25519,
                          sha256(ED_DESC_SIGNATURE_PREFIX + ed_part.encode()))
    with pytest.raises(VerifyError):
        verify_server_descriptor(parse_server_descriptor(text.replace("uptime 0", "uptime 1")), NOW)


def test_ntor_crosscert_as_tor_makes_it() -> None:
    desc = parse_server_descriptor(build())
    cert = desc.ntor_crosscert
    assert cert.cert_type == EdCertType.NTOR_CROSSCERT and cert.key_type == CertKeyType.ED25519
    assert cert.extensions == () and cert.certified_key == MASTER.public_bytes()
    assert cert.expires == dt.datetime(2026, 12, 20, 6, 0, tzinfo=dt.UTC)  # rounded up


def test_optional_items_and_limits() -> None:
    text = build(onion_key_tap=None, onion_key_crosscert=None, family=(), contact=None,
                 or_address_v6=None, ipv6_policy="reject 1-65535", tunnelled_dir_server=False,
                 hibernating=True, extra_info_digests=None, exit_policy_lines=())
    words = keywords(text)
    for absent in ("onion-key", "onion-key-crosscert", "family", "contact", "or-address",
                   "ipv6-policy", "tunnelled-dir-server", "extra-info-digest"):
        assert absent not in words
    desc = parse_server_descriptor(text)
    assert desc.hibernating and desc.exit_policy_lines == ("reject *:*",)
    with pytest.raises(ValueError):
        build(exit_policy_lines=tuple(f"reject 10.0.{i // 250}.{i % 250}:*"
                                      for i in range(1500)))
    with pytest.raises(ValueError):
        build(contact="two\nlines")


def test_extrainfo_digests_and_signatures() -> None:
    history = (HistoryLine("write-history", NOW, 86400, (10, 20)),
               HistoryLine("read-history", NOW, 86400, ()))
    extra = build_extrainfo("zw0", NOW, ID_CERT.encode(), IDENTITY, SIGNING, history)
    text = extra.text
    assert text.startswith(f"extra-info zw0 {FP.hex().upper()}\nidentity-ed25519\n")
    assert "published 2026-11-22 05:14:24\nwrite-history 2026-11-22 05:14:24 (86400 s) 10,20\n" \
           "read-history 2026-11-22 05:14:24 (86400 s)\nrouter-sig-ed25519 " in text
    signed = signed_span(text, "extra-info ", "\nrouter-signature", "\n").encode()
    assert extra.sha1_digest == sha1(signed)
    assert extra.sha256_digest == sha256(text.encode())
    sig_obj = tokenize(text)[-1].obj
    assert sig_obj is not None and rsa_signature_ok(IDENTITY.public(), sig_obj.data,
                                                    extra.sha1_digest)
    ed_part = text[: text.index("router-sig-ed25519 ") + len("router-sig-ed25519 ")]
    ed_sig = tokenize(text)[-2].args[0]
    assert ed25519_verify(SIGNING.public_bytes(), unb64(ed_sig),
                          sha256(ED_DESC_SIGNATURE_PREFIX + ed_part.encode()))


def test_microdescs_equal_the_authoritys() -> None:
    made = {build_microdesc(d) for d in parse_server_descriptors(load("server-all"))}
    assert made == {m.raw for m in parse_microdescs(load("micro-all"))}


def test_microdesc_of_our_descriptor() -> None:
    md = parse_microdescs(build_microdesc(parse_server_descriptor(build())))[0]
    assert md.onion_key_ntor == NTOR.public_bytes() and md.ed25519_id == MASTER.public_bytes()
    assert md.policy_summary is not None and md.policy_summary.encode() == "accept 80,443"
    assert md.family == frozenset({"$" + "A" * 40, "$" + FP.hex().upper()})
    with pytest.raises(ValueError):
        build_microdesc(parse_server_descriptor(build(onion_key_tap=None,
                                                      onion_key_crosscert=None)))


def test_family_canonical_form() -> None:
    me = bytes.fromhex("6C468FFF6BCD7AE3821761CCC1DD9AE4DDD35B3C")
    other = "$06594dd7602ceab1457144c258d3d702d135e459=Relay0"
    assert canonical_family([other, "Zed", "alpha", "bad name!"], me) == (
        "$06594DD7602CEAB1457144C258D3D702D135E459", "$6C468FFF6BCD7AE3821761CCC1DD9AE4DDD35B3C",
        "alpha", "bad name!", "zed")
    assert declared_family(["exit0", other, "bad name!"], me, "Exit0") == (
        "$06594DD7602CEAB1457144C258D3D702D135E459", "$6C468FFF6BCD7AE3821761CCC1DD9AE4DDD35B3C")
    assert declared_family(["me", "$" + me.hex()], me, "me") == ()


@settings(max_examples=25, deadline=None)
@given(st.from_regex(r"[A-Za-z0-9]{1,19}", fullmatch=True), st.integers(1, 65535),
       st.integers(0, 65535), st.tuples(*[st.integers(0, 2**31 - 1)] * 3),
       st.integers(0, 2**40), st.from_regex(r"[ -~]{1,60}", fullmatch=True),
       st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1)))
def test_parse_of_build_gives_the_fields(nickname: str, or_port: int, dir_port: int,
                                         bandwidth: tuple[int, int, int], uptime: int,
                                         contact: str, published: dt.datetime) -> None:
    when = published.replace(microsecond=0, tzinfo=dt.UTC)
    desc = parse_server_descriptor(build(nickname=nickname, or_port=or_port, dir_port=dir_port,
                                         bandwidth=bandwidth, uptime=uptime,
                                         contact=contact.strip() or "x", published=when))
    assert (desc.nickname, desc.or_port, desc.dir_port) == (nickname, or_port, dir_port)
    assert (desc.bandwidth, desc.uptime, desc.published) == (bandwidth, uptime, when)
    assert desc.contact == (contact.strip() or "x")
    verify_server_descriptor(desc)

"""DirAuthority / FallbackDir lines (config.c) and the built-in public network lists."""

from __future__ import annotations

import pytest

from zwiebel.config import (
    ConfigError,
    DirAuthoritySpec,
    default_authorities,
    default_fallbacks,
    parse_dir_authority_line,
    parse_fallback_dir_line,
)
from zwiebel.config.default_dirs import DEFAULT_AUTHORITY_LINES, DEFAULT_FALLBACK_LINES

# A line as chutney/tor write them for a private network (fingerprint in groups of 4).
PRIVATE = (
    "auth0 orport=15010 no-v2 v3ident=0123456789ABCDEF0123456789ABCDEF01234567 "
    "127.0.0.1:15011 ABCD EF01 2345 6789 ABCD EF01 2345 6789 ABCD EF01"
)
EXPECTED = DirAuthoritySpec(
    nickname="auth0", address="127.0.0.1", dir_port=15011, or_port=15010,
    fingerprint="ABCDEF0123456789ABCDEF0123456789ABCDEF01",
    v3ident="0123456789ABCDEF0123456789ABCDEF01234567",
)


def test_private_network_line_with_spaced_fingerprint() -> None:
    spec = parse_dir_authority_line(PRIVATE)
    assert spec == EXPECTED
    assert spec.is_v3 and not spec.is_bridge_authority


def test_fingerprint_without_spaces_parses_the_same() -> None:
    compact = PRIVATE.replace("ABCD EF01 2345 6789 ABCD EF01 2345 6789 ABCD EF01",
                              "abcdef0123456789abcdef0123456789abcdef01")
    assert parse_dir_authority_line(compact) == EXPECTED


def test_flags_ipv6_bridge_weight_and_warnings() -> None:
    warnings: list[str] = []
    spec = parse_dir_authority_line(
        "bridge hs weight=2.5 ipv6=[2001:db8::1]:443 upload=http://1.2.3.4:80 bogus "
        "1.2.3.4:80 " + "AB" * 20,
        warnings.append,
    )
    assert spec.nickname == "bridge"  # a legal nickname comes first, as in tor
    assert spec.ipv6 == ("2001:db8::1", 443) and spec.weight == 2.5
    assert spec.extra_dirports == ("upload=http://1.2.3.4:80",)
    assert any("obsolete" in w for w in warnings)
    assert any("Unrecognized flag 'bogus'" in w for w in warnings)


def test_bridge_flag_without_nickname() -> None:
    spec = parse_dir_authority_line("orport=9001 bridge 66.111.2.131:9030 " + "BA" * 20)
    assert spec.nickname is None and spec.is_bridge_authority and spec.or_port == 9001


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("", "No arguments"),
        ("auth0 127.0.0.1:15011", "Too few arguments"),
        ("auth0 127.0.0.1 " + "AB" * 20, "Missing port"),
        ("auth0 1.2.3.999:80 " + "AB" * 20, "invalid IPv4 address"),
        ("auth0 1.2.3.4:80 ABCD", "wrong length 4"),
        ("auth0 1.2.3.4:80 " + "ZZ" * 20, "Unable to decode"),
        ("auth0 ipv6=[::1] 1.2.3.4:80 " + "AB" * 20, "Bad ipv6"),
    ],
)
def test_authority_errors(line: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_dir_authority_line(line)


def test_bad_orport_is_only_a_warning() -> None:
    warnings: list[str] = []
    spec = parse_dir_authority_line("a orport=x 1.2.3.4:80 " + "AB" * 20, warnings.append)
    assert spec.or_port == 0 and warnings == ["Invalid orport 'x' on DirAuthority line."]


def test_default_authorities_match_tor_0_4_9_11() -> None:
    auths = default_authorities()
    assert len(auths) == len(DEFAULT_AUTHORITY_LINES) == 10
    by_name = {a.nickname: a for a in auths}
    moria1 = by_name["moria1"]
    assert (moria1.address, moria1.dir_port, moria1.or_port) == ("128.31.0.39", 9231, 9201)
    assert moria1.fingerprint == "1A25C6358DB91342AA51720A5038B72742732498"
    assert moria1.v3ident == "F533C81CEF0BC0267857C99B2F471ADF249FA232"
    tor26 = by_name["tor26"]
    assert tor26.ipv6 == ("2a02:16a8:662:2203::1", 443)
    assert tor26.fingerprint == "FAA4BCA4A6AC0FB4CA2F8AD5A11D9E122BA894F6"
    serge = by_name["Serge"]
    assert serge.is_bridge_authority and not serge.is_v3
    assert sum(a.is_v3 for a in auths) == 9


def test_default_fallbacks_match_tor_0_4_9_11() -> None:
    fallbacks = default_fallbacks()
    assert len(fallbacks) == len(DEFAULT_FALLBACK_LINES) == 200
    first = fallbacks[0]
    assert (first.address, first.or_port, first.dir_port) == ("64.65.62.122", 443, 0)
    assert first.fingerprint == "4F067C5C488173987B568CD7245F1CA71DEE996B"
    third = fallbacks[2]
    assert third.ipv6 == ("2a03:4000:1d:b7a:782f:17ff:fef0:a708", 9100)
    assert len({f.fingerprint for f in fallbacks}) == 200


def test_fallback_line_variants_and_errors() -> None:
    spec = parse_fallback_dir_line("1.2.3.4:80 orport=9001 id=" + "ab" * 20 + " weight=3")
    assert (spec.dir_port, spec.or_port, spec.weight) == (80, 9001, 3.0)
    assert spec.fingerprint == "AB" * 20
    with pytest.raises(ConfigError, match="Missing identity"):
        parse_fallback_dir_line("1.2.3.4:80 orport=9001")
    with pytest.raises(ConfigError, match="Missing orport"):
        parse_fallback_dir_line("1.2.3.4:80 id=" + "AB" * 20)
    with pytest.raises(ConfigError, match="Bad FallbackDir option"):
        parse_fallback_dir_line("1.2.3.4:80 orport=0 id=" + "AB" * 20)
    with pytest.raises(ConfigError, match="Couldn't parse FallbackDir line"):
        parse_fallback_dir_line("1.2.3.4:80 5.6.7.8 orport=1 id=" + "AB" * 20)

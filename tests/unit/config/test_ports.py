"""*Port lines as tor's port_parse_config reads them."""

from __future__ import annotations

import pytest

from zwiebel.config import ConfigError, ConfigLine, SocksPortSpec
from zwiebel.config.ports import (
    listen_port_resolver,
    parse_listen_port,
    parse_socks_port,
    resolve_socks_ports,
)


def socks(value: str, warnings: list[str] | None = None) -> SocksPortSpec | None:
    return parse_socks_port(value, (warnings if warnings is not None else []).append)


def lines(*values: str) -> list[ConfigLine]:
    return [ConfigLine("SocksPort", v, source="torrc", line=i + 1) for i, v in enumerate(values)]


def test_default_is_localhost_9050_with_tors_isolation_defaults() -> None:
    (spec,) = resolve_socks_ports([], lambda _m: None)
    assert (spec.address, spec.port, spec.auto) == ("127.0.0.1", 9050, False)
    assert spec.isolate_socks_auth and spec.isolate_client_addr
    assert not (spec.isolate_dest_addr or spec.isolate_dest_port)


def test_port_forms() -> None:
    assert socks("9150") == SocksPortSpec(port=9150)
    assert socks("0.0.0.0:9150") == SocksPortSpec(address="0.0.0.0", port=9150)
    assert socks("[::1]:9150") == SocksPortSpec(address="::1", port=9150)
    assert socks("auto") == SocksPortSpec(port=0, auto=True)
    assert socks("127.0.0.2:auto") == SocksPortSpec(address="127.0.0.2", port=0, auto=True)
    assert socks("0") is None


def test_isolation_flags_plural_and_negation() -> None:
    spec = socks("9150 IsolateDestAddrs IsolateDestPort NoIsolateSOCKSAuth "
                 "NoIsolateClientAddr IsolateClientProtocol SessionGroup=3")
    assert spec is not None
    assert spec.isolate_dest_addr and spec.isolate_dest_port and spec.isolate_client_protocol
    assert not spec.isolate_socks_auth and not spec.isolate_client_addr
    assert spec.prefer_socks_no_auth  # implied by NoIsolateSOCKSAuth, as in tor
    assert spec.session_group == 3


def test_traffic_flags() -> None:
    spec = socks("9150 OnionTrafficOnly")
    assert spec is not None and not (spec.ipv4_traffic or spec.ipv6_traffic or spec.dns_request)
    spec = socks("9150 NoIPv6Traffic PreferIPv6 ExtendedErrors KeepAliveIsolateSOCKSAuth")
    assert spec is not None and not spec.ipv6_traffic and spec.prefer_ipv6
    assert spec.extended_errors and spec.keepalive_isolate_socks_auth


def test_unix_socket() -> None:
    spec = socks('unix:"/run/zw sock" GroupWritable')
    assert spec is not None and spec.unix_path == "/run/zw sock" and spec.address is None
    assert spec.group_writable and not spec.isolate_client_addr


def test_unknown_flag_is_a_warning() -> None:
    warnings: list[str] = []
    assert socks("9150 Bogus", warnings) == SocksPortSpec(port=9150)
    assert warnings == ["Unrecognized SocksPort option 'Bogus'"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("nonsense", "Couldn't parse address"),
        ("127.0.0.1:", "has address but no port"),
        ("70000", "Couldn't parse address"),
        ("9150 NoIPv4Traffic NoIPv6Traffic NoOnionTraffic", "that won't work"),
        ("9150 NoIPv4Traffic NoIPv6Traffic", "DNS-based sites won't work"),
        ("9150 GroupWritable", "not a unix socket"),
        ("9150 NoIsolateSOCKSAuth KeepAliveIsolateSOCKSAuth", "both NoIsolateSOCKSAuth"),
        ("9150 SessionGroup=1 SessionGroup=2", "Multiple SessionGroup"),
    ],
)
def test_errors(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        socks(value)


def test_resolver_names_line_and_rejects_zero_mix() -> None:
    assert resolve_socks_ports(lines("0"), lambda _m: None) == ()
    with pytest.raises(ConfigError) as info:
        resolve_socks_ports(lines("9050", "bogus"), lambda _m: None)
    assert info.value.where == "torrc:2"
    with pytest.raises(ConfigError, match="along with 'SocksPort 0'"):
        resolve_socks_ports(lines("9050", "0"), lambda _m: None)


def test_listen_ports() -> None:
    spec = parse_listen_port("9051", "Control", "127.0.0.1", lambda _m: None)
    assert spec is not None and (spec.address, spec.port) == ("127.0.0.1", 9051)
    spec = parse_listen_port("9001 NoAdvertise IPv4Only", "OR", "0.0.0.0", lambda _m: None)
    assert spec is not None and spec.no_advertise and spec.ipv4_only
    with pytest.raises(ConfigError, match="both NoListen and NoAdvertise"):
        parse_listen_port("9001 NoListen NoAdvertise", "OR", "0.0.0.0", lambda _m: None)
    resolve = listen_port_resolver("Control", "127.0.0.1")
    assert resolve([ConfigLine("ControlPort", "0")], lambda _m: None) == ()

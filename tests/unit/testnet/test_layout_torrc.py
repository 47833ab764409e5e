"""zwiebel.testnet.layout and zwiebel.testnet.torrc: ports and option choices."""

from __future__ import annotations

from pathlib import Path

import pytest

from zwiebel.testnet.layout import (
    ExitPolicyMode,
    Role,
    external_slot,
    plan_nodes,
    spare_port,
)
from zwiebel.testnet.torrc import (
    TorrcContext,
    dir_authority_line,
    external_relay_lines,
    render_torrc,
)


def test_default_layout_ports() -> None:
    nodes = plan_nodes(21000, 1, 3, 1, with_client=True)
    assert [(n.name, n.role, n.or_port, n.dir_port, n.control_port, n.socks_port)
            for n in nodes] == [
        ("auth0", Role.AUTHORITY, 21010, 21011, 21012, 0),
        ("relay0", Role.MIDDLE, 21020, 0, 21022, 0),
        ("relay1", Role.MIDDLE, 21030, 0, 21032, 0),
        ("relay2", Role.MIDDLE, 21040, 0, 21042, 0),
        ("exit0", Role.EXIT, 21050, 0, 21052, 0),
        ("client", Role.CLIENT, 0, 0, 21001, 21000),
    ]


def test_largest_layout_stays_in_range() -> None:
    nodes = plan_nodes(21000, 3, 10, 1, with_client=True)
    ports = [p for n in nodes for p in n.ports()]
    assert len(ports) == len(set(ports))
    assert max(ports) < 21000 + 150 <= external_slot(21000, 0).or_port
    assert external_slot(21000, 4).control_port == 21192 < 21200
    assert spare_port(21000, 0) == 21002 and spare_port(21000, 7) == 21009


@pytest.mark.parametrize(("auths", "middles", "exits"), [(2, 3, 1), (1, 0, 0), (1, 1, 0),
                                                         (1, 0, 1), (3, 11, 1)])
def test_bad_shapes_rejected(auths: int, middles: int, exits: int) -> None:
    with pytest.raises(ValueError):
        plan_nodes(21000, auths, middles, exits, with_client=False)


def _ctx(mode: ExitPolicyMode) -> TorrcContext:
    line = dir_authority_line("auth0", 21010, "AA" * 20, 21011, "BB" * 20)
    return TorrcContext((line,), mode, Path("/n/resolv.conf"), owner_pid=4242)


def _torrc(name: str, mode: ExitPolicyMode) -> list[str]:
    node = {n.name: n for n in plan_nodes(21000, 1, 3, 1, True)}[name]
    return render_torrc(node, Path("/n") / name, _ctx(mode), ["CC" * 20]).splitlines()


def test_dir_authority_line() -> None:
    assert dir_authority_line("auth0", 21010, "AA" * 20, 21011, "BB" * 20) == (
        f"DirAuthority auth0 orport=21010 v3ident={'AA' * 20} 127.0.0.1:21011 {'BB' * 20}")


def test_authority_torrc() -> None:
    lines = _torrc("auth0", ExitPolicyMode.LOOPBACK)
    for want in ("TestingTorNetwork 1", "DirPort 127.0.0.1:21011", "ORPort 127.0.0.1:21010",
                 "V3AuthVotingInterval 10", "V3AuthVoteDelay 2", "V3AuthDistDelay 2",
                 "AssumeReachable 1", "LearnCircuitBuildTimeout 0", "CircuitBuildTimeout 20",
                 "DirAllowPrivateAddresses 1", "EnforceDistinctSubnets 0",
                 f"TestingDirAuthVoteExit ${'CC' * 20}", "ControlPort 127.0.0.1:21012",
                 "CookieAuthentication 1", "__OwningControllerProcess 4242",
                 "ExitPolicy reject *:*", "DataDirectory /n/auth0"):
        assert want in lines
    assert lines[1] == "TestingTorNetwork 1"


def test_exit_policy_modes() -> None:
    loopback = _torrc("exit0", ExitPolicyMode.LOOPBACK)
    assert loopback[-2:] == ["ExitPolicy accept 127.0.0.0/8:*", "ExitPolicy reject *:*"]
    assert "ExitPolicyRejectPrivate 0" in loopback
    assert "ExitPolicyRejectLocalInterfaces 0" in loopback
    assert "ServerDNSResolvConfFile /n/resolv.conf" in loopback
    opened = _torrc("exit0", ExitPolicyMode.OPEN)
    assert opened[-1] == "ExitPolicy accept *:*"
    assert "ExitPolicy reject *:*" not in opened


def test_client_uses_full_descriptors_only_with_loopback_exits() -> None:
    assert "UseMicrodescriptors 0" in _torrc("client", ExitPolicyMode.LOOPBACK)
    assert "UseMicrodescriptors 0" not in _torrc("client", ExitPolicyMode.OPEN)
    assert "SocksPort 127.0.0.1:21000" in _torrc("client", ExitPolicyMode.OPEN)
    assert not any(line.startswith("ORPort") for line in _torrc("client", ExitPolicyMode.OPEN))


def test_external_relay_lines() -> None:
    ctx = _ctx(ExitPolicyMode.LOOPBACK)
    lines = external_relay_lines(ctx, "zw0", 21150, exit_relay=True)
    assert ctx.dir_authority_lines[0] in lines
    assert "ORPort 127.0.0.1:21150" in lines and "Nickname zw0" in lines
    assert "ExitPolicy accept 127.0.0.0/8:*" in lines
    assert "ExitPolicy reject *:*" in external_relay_lines(ctx, "zw1", 21160, False)

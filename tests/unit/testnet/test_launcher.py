"""zwiebel.testnet launcher planning: ports, implementations, torrc text, defaults files.

Nothing here starts a network; identities are filled in by hand where the launcher
would make keys.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.testnet.support import fake_launcher
from zwiebel.testnet.impls import Impl, base_command, choose_impls, parse_roles
from zwiebel.testnet.launcher import TOR_DEFAULTS, ZWIEBEL_DEFAULTS
from zwiebel.testnet.layout import MAX_NODES, Role, plan_launch
from zwiebel.testnet.torrc import tor_only_lines

BASE = 27800


def test_plan_launch_numbers_clients_after_relays() -> None:
    nodes = plan_launch(BASE, 3, 3, 1, 2)
    assert [n.name for n in nodes] == ["auth0", "auth1", "auth2", "relay0", "relay1",
                                       "relay2", "exit0", "client0", "client1"]
    auth0, client1 = nodes[0], nodes[-1]
    assert (auth0.or_port, auth0.dir_port, auth0.control_port) == (27810, 27811, 27812)
    assert (client1.socks_port, client1.control_port, client1.or_port) == (27890, 27892, 0)
    ports = [p for n in nodes for p in n.ports()]
    assert len(ports) == len(set(ports)) and max(ports) < BASE + 200


def test_plan_launch_limits() -> None:
    with pytest.raises(ValueError):
        plan_launch(BASE, 1, 3, 1, MAX_NODES)
    with pytest.raises(ValueError):
        plan_launch(BASE, 2, 3, 1, 1)
    with pytest.raises(ValueError):
        plan_launch(BASE, 1, 3, 1, -1)


@pytest.mark.parametrize(("text", "roles"), [
    ("", set()),
    ("authority", {Role.AUTHORITY}),
    ("authority, relay,exit", {Role.AUTHORITY, Role.MIDDLE, Role.EXIT}),
    ("all", {Role.AUTHORITY, Role.MIDDLE, Role.EXIT, Role.CLIENT}),
    ("CLIENT", {Role.CLIENT}),
])
def test_parse_roles(text: str, roles: set[Role]) -> None:
    assert parse_roles(text) == roles


@pytest.mark.parametrize("text", ["middle", "authority,bogus", "all,client"])
def test_parse_roles_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_roles(text)


def _impls(real_tor: str, mixed: bool) -> dict[str, str]:
    specs = plan_launch(BASE, 3, 3, 1, 2)
    return {name: impl.value for name, impl in
            choose_impls(specs, parse_roles(real_tor), mixed).items()}


def test_default_is_all_zwiebel() -> None:
    assert set(_impls("", False).values()) == {"zwiebel"}


def test_real_tor_roles() -> None:
    impls = _impls("authority,exit", False)
    assert [impls[n] for n in ("auth0", "auth1", "auth2", "exit0")] == ["tor"] * 4
    assert [impls[n] for n in ("relay0", "client0")] == ["zwiebel"] * 2
    assert set(_impls("all", False).values()) == {"tor"}


def test_mixed_alternates_within_each_role() -> None:
    impls = _impls("", True)
    assert [impls[f"auth{i}"] for i in range(3)] == ["tor", "zwiebel", "tor"]
    assert [impls[f"relay{i}"] for i in range(3)] == ["tor", "zwiebel", "tor"]
    assert impls["exit0"] == "tor"
    assert [impls["client0"], impls["client1"]] == ["tor", "zwiebel"]
    assert _impls("relay", True)["relay1"] == "tor"


def test_commands_differ_only_in_the_program() -> None:
    assert base_command(Impl.TOR, "/usr/bin/tor") == ["/usr/bin/tor"]
    assert base_command(Impl.ZWIEBEL, "/usr/bin/tor")[1:] == ["-m", "zwiebel"]


def _body(path: Path) -> str:
    return path.read_text()


def test_torrc_text_does_not_depend_on_the_implementation(tmp_path: Path) -> None:
    zwiebel = fake_launcher(tmp_path / "a")
    tor = fake_launcher(tmp_path / "b", real_tor="all")
    for name, node in zwiebel.nodes.items():
        other = tor.nodes[name]
        assert _body(node.torrc_path).replace(str(tmp_path / "a"), "X") == \
            _body(other.torrc_path).replace(str(tmp_path / "b"), "X")


def test_processes_use_their_implementation_and_defaults(tmp_path: Path) -> None:
    launcher = fake_launcher(tmp_path, mixed=True)
    base = launcher.base_dir
    auth0, auth1 = launcher.nodes["auth0"], launcher.nodes["auth1"]
    assert auth0.process is not None and auth1.process is not None
    assert auth0.process.argv == ["/usr/bin/tor", "-f", str(auth0.torrc_path),
                                  "--defaults-torrc", str(base / TOR_DEFAULTS)]
    assert auth1.process.argv[1:] == ["-m", "zwiebel", "-f", str(auth1.torrc_path),
                                      "--defaults-torrc", str(base / ZWIEBEL_DEFAULTS)]
    assert (base / ZWIEBEL_DEFAULTS).read_text() == ""
    assert (base / TOR_DEFAULTS).read_text().splitlines() == \
        tor_only_lines(base / "resolv.conf")


def test_torrc_contents(tmp_path: Path) -> None:
    launcher = fake_launcher(tmp_path)
    text = {name: _body(node.torrc_path) for name, node in launcher.nodes.items()}
    assert len(launcher.dir_authority_lines) == 3
    for body in text.values():
        assert all(line in body for line in launcher.dir_authority_lines)
        assert "__OwningControllerProcess" not in body  # detached: outlives `up`
        assert "ProtocolWarnings" not in body and "ServerDNS" not in body
    exit_fp = launcher.nodes["exit0"].fingerprint
    assert f"TestingDirAuthVoteExit ${exit_fp}\n" in text["auth1"]
    assert "ExitPolicy accept *:*\n" in text["exit0"]
    assert "SocksPort 127.0.0.1:27870\n" in text["client0"]
    assert "UseMicrodescriptors" not in text["client0"]  # an open exit works with mds


def test_wanted_flags(tmp_path: Path) -> None:
    launcher = fake_launcher(tmp_path)
    wanted = launcher.wanted_flags()
    assert len(wanted) == 6
    assert wanted[launcher.nodes["exit0"].fingerprint] == {"Running", "Valid", "Exit"}
    assert wanted[launcher.nodes["relay0"].fingerprint] == {"Running", "Valid"}


def test_record_lists_every_node(tmp_path: Path) -> None:
    launcher = fake_launcher(tmp_path, real_tor="authority")
    record = launcher.record()
    assert [n.name for n in record.nodes] == list(launcher.nodes)
    auth0 = record.node("auth0")
    assert (auth0.impl, auth0.role, auth0.dir_port, auth0.pid) == ("tor", "authority", 27811,
                                                                   None)
    assert record.node("client0").command[1:3] == ("-m", "zwiebel")
    assert record.dir_authority_lines == launcher.dir_authority_lines

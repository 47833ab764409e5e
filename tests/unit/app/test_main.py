"""The zwiebel entry point (main.c / config.c command dispatch)."""

from __future__ import annotations

import logging
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from zwiebel.app.logsetup import LOGGER_NAME
from zwiebel.app.main import VERSION_LINE, main
from zwiebel.app.s2k import verify_hashed_password
from zwiebel.config import Options

NO_DEFAULTS = ["--defaults-torrc", "/nonexistent/zwiebel-defaults"]


@pytest.fixture(autouse=True)
def _drop_log_handlers() -> Iterator[None]:
    """main() binds handlers to the captured stdout; detach them afterwards."""
    yield
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "torrc"
    path.write_text(text)
    return str(path)


def test_version_is_parseable_by_stem(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    out = capsys.readouterr().out
    assert out == "Tor version 0.4.9.11 (zwiebel-0.1.0).\n" == VERSION_LINE + "\n"


def test_help_and_list_torrc_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "--hash-password" in capsys.readouterr().out
    assert main(["--list-torrc-options"]) == 0
    names = capsys.readouterr().out.split()
    assert "SocksPort" in names and "DirAuthority" in names


def test_hash_password_output_verifies(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--hash-password", "s3cret"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("16:") and len(out) == 3 + 58
    assert verify_hashed_password(b"s3cret", out)


def test_verify_config_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torrc = write(tmp_path, f"SocksPort 9150\nDataDirectory {tmp_path}\n")
    assert main(["-f", torrc, "--verify-config", *NO_DEFAULTS]) == 0
    out = capsys.readouterr().out
    assert out.endswith("Configuration was valid\n")
    assert "[notice] Zwiebel 0.1.0 (implementing Tor 0.4.9.11)" in out
    assert f'[notice] Read configuration file "{torrc}".' in out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SocksPort 9150\nFooBar 1\n", ":2: Unknown option 'FooBar'."),
        ("ControlSocket /x\n", ":1: Option 'ControlSocket' is not supported by Zwiebel."),
        ("MaxCircuitDirtiness soon\n", ":1: Could not parse MaxCircuitDirtiness"),
        ("RunAsDaemon 1\n", "RunAsDaemon 1 is not supported by Zwiebel"),
    ],
)
def test_verify_config_invalid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    torrc = write(tmp_path, text)
    assert main(["-f", torrc, "--verify-config", *NO_DEFAULTS]) == 1
    out = capsys.readouterr().out
    assert "[warn] Failed to parse/validate config: " in out and expected in out
    assert "[err] Reading config failed--see warnings above." in out
    assert "Configuration was valid" not in out


def test_missing_torrc_fails(tmp_path: Path) -> None:
    assert main(["-f", str(tmp_path / "nope"), "--verify-config", *NO_DEFAULTS]) == 1


def test_command_line_overrides_reach_the_daemon(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Options] = []
    fake = types.ModuleType("zwiebel.app.daemon")

    def run(options: Options) -> int:
        seen.append(options)
        return 7

    fake.run = run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "zwiebel.app.daemon", fake)
    torrc = write(tmp_path, "SocksPort 9150\nLog notice stderr\n")
    assert main(["-f", torrc, "--SocksPort", "9250", *NO_DEFAULTS]) == 7
    assert [p.port for p in seen[0].socks_ports] == [9250]


def test_testnet_subcommand_is_dispatched(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    fake = types.ModuleType("zwiebel.testnet.cli")

    def testnet_main(argv: list[str]) -> int:
        calls.append(list(argv))
        return 3

    fake.main = testnet_main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "zwiebel.testnet.cli", fake)
    assert main(["testnet", "start", "--relays", "3"]) == 3
    assert calls == [["start", "--relays", "3"]]


def test_list_fingerprint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    client = write(tmp_path, f"DataDirectory {tmp_path}\n")
    assert main(["-f", client, "--list-fingerprint", *NO_DEFAULTS]) == 1
    assert "Clients don't have long-term identity keys" in capsys.readouterr().out
    relay = write(tmp_path, f"DataDirectory {tmp_path}\nORPort 9001\nNickname r1\n")
    assert main(["-f", relay, "--list-fingerprint", *NO_DEFAULTS]) == 0
    first = capsys.readouterr().out.strip().splitlines()[-1]
    name, *groups = first.split(" ")
    assert name == "r1" and len(groups) == 10 and all(len(g) == 4 for g in groups)
    assert (tmp_path / "keys" / "secret_id_key").exists()
    assert (tmp_path / "fingerprint").read_text() == "r1 " + "".join(groups) + "\n"
    assert main(["-f", relay, "--list-fingerprint", *NO_DEFAULTS]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == first


def test_dump_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torrc = write(tmp_path, "socksport 9150\n")
    assert main(["-f", torrc, "--dump-config", *NO_DEFAULTS]) == 0
    assert capsys.readouterr().out == "SocksPort 9150\n"


def test_bad_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--SocksPort"]) == 1
    assert "with no value" in capsys.readouterr().out


def test_list_fingerprint_on_an_authority_also_logs_the_v3ident(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keygen", "authority", str(tmp_path / "keys")]) == 0
    v3ident = capsys.readouterr().out.split("v3ident=")[1].split()[0]
    torrc = write(tmp_path, f"DataDirectory {tmp_path}\nORPort 9001\nNickname a1\n"
                            "DirPort 9030\nAuthoritativeDirectory 1\n"
                            "V3AuthoritativeDirectory 1\nContactInfo a1@example.org\n")
    assert main(["-f", torrc, "--list-fingerprint", *NO_DEFAULTS]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert f"(v3ident) is {v3ident}" in lines[-2]
    assert lines[-1].startswith("a1 ") and len(lines[-1].split()) == 11

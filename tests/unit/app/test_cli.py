"""tor's command line (config.c config_parse_commandline)."""

from __future__ import annotations

from pathlib import Path

import pytest

from zwiebel.app.cli import Command, find_torrc, parse_command_line, torrc_domains
from zwiebel.config import ConfigError, LineCommand


def test_torrc_and_option_overrides() -> None:
    cmd = parse_command_line(["-f", "/tmp/torrc", "--SocksPort", "9150", "+Log",
                              "info stdout", "/ExitPolicy", "Nickname", "relay1"])
    assert cmd.command is Command.RUN and cmd.torrc == "/tmp/torrc"
    assert [(ln.key, ln.value, ln.command) for ln in cmd.option_lines] == [
        ("SocksPort", "9150", LineCommand.NORMAL),
        ("Log", "info stdout", LineCommand.APPEND),
        ("ExitPolicy", "", LineCommand.CLEAR),
        ("Nickname", "relay1", LineCommand.NORMAL),
    ]
    assert cmd.option_lines[0].where == "command line:3"


@pytest.mark.parametrize(
    ("argv", "command", "arg", "quiet"),
    [
        (["--version"], Command.VERSION, "", 1),
        (["-h"], Command.HELP, "", 1),
        (["--hash-password", "secret"], Command.HASH_PASSWORD, "secret", 1),
        (["-f", "x", "--verify-config"], Command.VERIFY_CONFIG, "", 0),
        (["--dump-config", "short"], Command.DUMP_CONFIG, "short", 2),
        (["--dump-config", "--quiet"], Command.DUMP_CONFIG, "", 2),
        (["--list-fingerprint"], Command.LIST_FINGERPRINT, "", 0),
        (["--list-torrc-options"], Command.LIST_TORRC_OPTIONS, "", 1),
    ],
)
def test_commands(argv: list[str], command: Command, arg: str, quiet: int) -> None:
    cmd = parse_command_line(argv)
    assert (cmd.command, cmd.command_arg, cmd.quiet) == (command, arg, quiet)


def test_missing_value_and_unsupported_flags() -> None:
    with pytest.raises(ConfigError, match="'--SocksPort' with no value"):
        parse_command_line(["--SocksPort"])
    with pytest.raises(ConfigError, match="'--keygen' is not supported by Zwiebel"):
        parse_command_line(["--keygen"])


def test_find_torrc_rules(tmp_path: Path) -> None:
    explicit = parse_command_line(["-f", str(tmp_path / "t")])
    assert find_torrc(explicit) == (str(tmp_path / "t"), False)
    allowed = parse_command_line(["-f", "t", "--allow-missing-torrc"])
    assert find_torrc(allowed)[1] is True
    default = tmp_path / "torrc"
    default.write_text("SocksPort 1\n")
    assert find_torrc(parse_command_line([]), str(default)) == (str(default), True)


def test_torrc_domains(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    torrc, defaults = tmp_path / "torrc", tmp_path / "defaults"
    torrc.write_text("SocksPort 1\n")
    defaults.write_text("SocksPort 2\n")
    cmd = parse_command_line(["-f", str(torrc), "--defaults-torrc", str(defaults)])
    domains, path = torrc_domains(cmd)
    assert path == str(torrc) and [d[0].value for d in domains] == ["2", "1"]
    with pytest.raises(ConfigError, match="Unable to open configuration file"):
        torrc_domains(parse_command_line(["-f", str(tmp_path / "missing")]),
                      defaults=str(tmp_path / "none"))
    empty, none = torrc_domains(parse_command_line([]), str(tmp_path / "no"), str(tmp_path / "n"))
    assert (empty, none) == ([], None)

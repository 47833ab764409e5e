"""tor's command line: ``zwiebel [-f TORRC] [--Option value ...] [command]``.

As ``config_parse_commandline`` and ``options_init_from_torrc``
(``src/app/config/config.c``): command-line-only flags (``-f``, ``--verify-config``,
``--hash-password PASSWORD``, ...) are picked out; every other argument is an option
line with one or two leading dashes optional, ``+Option value`` appending to the
torrc's list, and ``/Option`` (no argument) resetting it. The torrc is ``-f``'s file,
else the default path if it exists, else ``~/.torrc``, else an empty configuration.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from zwiebel.config import ConfigError, ConfigLine, LineCommand, read_torrc

DEFAULT_TORRC = "/etc/tor/torrc"
DEFAULT_TORRC_DEFAULTS = "/etc/tor/torrc-defaults"
CMDLINE_SOURCE = "command line"


class Command(enum.Enum):
    """What the process does once the command line is read."""

    RUN = "run"
    HELP = "help"
    VERSION = "version"
    LIST_TORRC_OPTIONS = "list-torrc-options"
    HASH_PASSWORD = "hash-password"
    VERIFY_CONFIG = "verify-config"
    DUMP_CONFIG = "dump-config"
    LIST_FINGERPRINT = "list-fingerprint"


_NONE, _NEEDED, _OPTIONAL = 0, 1, 2
#: flag -> (canonical flag, argument, command, quiet level)
_FLAGS: dict[str, tuple[str, int, Command | None, int]] = {
    "-f": ("--torrc-file", _NEEDED, None, 0),
    "--torrc-file": ("--torrc-file", _NEEDED, None, 0),
    "--allow-missing-torrc": ("--allow-missing-torrc", _NONE, None, 0),
    "--defaults-torrc": ("--defaults-torrc", _NEEDED, None, 0),
    "--ignore-missing-torrc": ("--ignore-missing-torrc", _NONE, None, 0),
    "--hash-password": ("--hash-password", _NEEDED, Command.HASH_PASSWORD, 1),
    "--dump-config": ("--dump-config", _OPTIONAL, Command.DUMP_CONFIG, 2),
    "--list-fingerprint": ("--list-fingerprint", _OPTIONAL, Command.LIST_FINGERPRINT, 0),
    "--verify-config": ("--verify-config", _NONE, Command.VERIFY_CONFIG, 0),
    "--quiet": ("--quiet", _NONE, None, 2),
    "--hush": ("--hush", _NONE, None, 1),
    "--version": ("--version", _NONE, Command.VERSION, 1),
    "--help": ("--help", _NONE, Command.HELP, 1),
    "-h": ("--help", _NONE, Command.HELP, 1),
    "--list-torrc-options": ("--list-torrc-options", _NONE, Command.LIST_TORRC_OPTIONS, 1),
}
#: tor command-line flags that Zwiebel does not implement, with their argument kind.
_UNSUPPORTED: dict[str, int] = {
    "--keygen": _NONE, "--keygen-family": _NEEDED, "--key-expiration": _OPTIONAL,
    "--format": _NEEDED, "--newpass": _NONE, "--no-passphrase": _NONE,
    "--passphrase-fd": _NEEDED, "--list-modules": _NONE, "--library-versions": _NONE,
    "--list-deprecated-options": _NONE, "--nt-service": _NONE, "-nt-service": _NONE,
    "--dbg-dump-subsystem-list": _NONE,
}


@dataclass(frozen=True)
class CommandLine:
    """A parsed command line."""

    command: Command = Command.RUN
    command_arg: str = ""
    torrc: str | None = None
    defaults_torrc: str | None = None
    allow_missing_torrc: bool = False
    ignore_missing_torrc: bool = False
    quiet: int = 0  #: 0 normal, 1 ``--hush``, 2 ``--quiet``
    option_lines: tuple[ConfigLine, ...] = field(default=())


def _take_arg(argv: Sequence[str], i: int, want: int) -> tuple[str, int]:
    """(argument, index of the next flag) for the flag at ``argv[i]``."""
    is_last = i == len(argv) - 1
    if want == _NEEDED:
        if is_last:
            raise ConfigError(f"Command-line option '{argv[i]}' with no value. Failing.")
        return argv[i + 1], i + 2
    if want == _OPTIONAL and not is_last and not argv[i + 1].startswith("-"):
        return argv[i + 1], i + 2
    return "", i + 1


def _option_line(argv: Sequence[str], i: int) -> tuple[ConfigLine, int]:
    key = argv[i]
    key = key[1:] if key.startswith("-") else key
    key = key[1:] if key.startswith("-") else key
    command = LineCommand.NORMAL
    if key.startswith("+"):
        key, command = key[1:], LineCommand.APPEND
    elif key.startswith("/"):
        return ConfigLine(key[1:], "", LineCommand.CLEAR, CMDLINE_SOURCE, i + 1), i + 1
    value, nxt = _take_arg(argv, i, _NEEDED)
    return ConfigLine(key, value, command, CMDLINE_SOURCE, i + 1), nxt


def parse_command_line(argv: Sequence[str]) -> CommandLine:
    """Split ``argv`` (without the program name) into flags and option lines."""
    state: dict[str, object] = {"command": Command.RUN, "command_arg": "", "quiet": 0}
    flags: dict[str, str] = {}
    lines: list[ConfigLine] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in _UNSUPPORTED:
            raise ConfigError(f"Command-line option '{arg}' is not supported by Zwiebel.")
        if arg not in _FLAGS:
            line, i = _option_line(argv, i)
            lines.append(line)
            continue
        name, want, command, quiet = _FLAGS[arg]
        value, i = _take_arg(argv, i, want)
        flags[name] = value
        if command is not None:
            state["command"], state["command_arg"] = command, value
        state["quiet"] = max(quiet, int(str(state["quiet"])))
    return _build(state, flags, lines)


def _build(state: dict[str, object], flags: dict[str, str], lines: list[ConfigLine]) -> CommandLine:
    command = state["command"]
    assert isinstance(command, Command)
    return CommandLine(
        command=command,
        command_arg=str(state["command_arg"]),
        torrc=flags.get("--torrc-file"),
        defaults_torrc=flags.get("--defaults-torrc"),
        allow_missing_torrc="--allow-missing-torrc" in flags,
        ignore_missing_torrc="--ignore-missing-torrc" in flags,
        quiet=int(str(state["quiet"])),
        option_lines=tuple(lines),
    )


def find_torrc(cmd: CommandLine, default: str = DEFAULT_TORRC) -> tuple[str | None, bool]:
    """(path to read, whether it may be missing), following tor's rules."""
    if cmd.torrc is not None:
        path = os.path.abspath(os.path.expanduser(cmd.torrc))
        return path, cmd.ignore_missing_torrc or cmd.allow_missing_torrc
    if os.path.isfile(default):
        return default, True
    home = os.path.expanduser("~/.torrc")
    return (home if os.path.isfile(home) else default), True


def torrc_domains(
    cmd: CommandLine, default: str = DEFAULT_TORRC, defaults: str = DEFAULT_TORRC_DEFAULTS
) -> tuple[list[list[ConfigLine]], str | None]:
    """The torrc-defaults and torrc domains, and the torrc path actually read."""
    domains: list[list[ConfigLine]] = []
    defaults_path = cmd.defaults_torrc or defaults
    if os.path.isfile(defaults_path):
        domains.append(read_torrc(defaults_path))
    path, may_be_missing = find_torrc(cmd, default)
    if path is not None and os.path.isfile(path):
        domains.append(read_torrc(path))
        return domains, path
    if not may_be_missing:
        raise ConfigError(f'Unable to open configuration file "{path}".')
    return domains, None

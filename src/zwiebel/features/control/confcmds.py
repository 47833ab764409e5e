"""GETCONF, SETCONF, RESETCONF, SAVECONF and LOADCONF (control-spec 3.1-3.6, 3.27).

Changes are atomic, as tor's ``options_trial_assign``: the new configuration is built
from the current lines with the named options replaced, parsed and validated as a
whole, and only then swapped in; any error leaves the running options untouched.
Error codes are tor's: 552 unknown option, 513 unparseable value, 553 a value the
rules (or a running daemon) refuse. A successful change is announced with a
CONF_CHANGED event.

Deliberately simple: SETCONF ``Key`` without a value resets the option to its default
(tor clears it to 0/NULL, which for most options is the same). Options the daemon
reads only at start-up (ports, DataDirectory, PidFile, RunAsDaemon) cannot change
while it runs (553, "Transition not allowed"); the others change the stored
configuration, which GETCONF, config-text, SAVECONF and the control port's own
authentication use at once, and the managers at their next start.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from zwiebel.config import ConfigError, ConfigLine, Options, build_options, lex, validate
from zwiebel.config.dump import SAVECONF_HEADER, save_config
from zwiebel.config.files import load_include
from zwiebel.control.reply import ReplyLine, kv_line, ok, reply
from zwiebel.features.control.config_names import conf_values
from zwiebel.managers.events import ConfChangedEvent

#: Options a running Zwiebel cannot change (tor allows some of these; we reopen nothing).
FIXED_WHILE_RUNNING = frozenset({"DataDirectory", "RunAsDaemon", "PidFile", "SocksPort",
                                 "ControlPort", "ORPort", "DirPort", "UseMicrodescriptors"})
SOURCE = "control port"


class ConfError(Exception):
    """A refused change: the status code and tor's message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def getconf(options: Options, keys: Sequence[str]) -> list[ReplyLine]:
    """The GETCONF reply: ``Key=Value`` lines, or 552 for every unknown key."""
    unknown = [k for k in keys if options.registry.lookup(k) is None]
    if unknown:
        return [ReplyLine(552, f'Unrecognized configuration key "{k}"') for k in unknown]
    lines: list[ReplyLine] = []
    for key in keys:
        opt = options.registry.lookup(key)
        assert opt is not None
        lines += [kv_line(opt.name, value) for value in conf_values(options, opt)]
    return lines or ok()


def assign(options: Options, pairs: Sequence[tuple[str, str | None]]) -> Options:
    """The options with ``pairs`` applied (ConfError if refused)."""
    changes: dict[str, list[str]] = {}
    for key, value in pairs:
        opt = options.registry.lookup(key)
        if opt is None:
            raise ConfError(552, f"Unrecognized option: Unknown option '{key}'.  Failing.")
        values = changes.setdefault(opt.name, [])
        if value is not None:
            values.append(value)
    _check_transitions(options, changes)
    lines = [line for opt, olines in options.set_lines() if opt.name not in changes
             for line in olines]
    lines += [ConfigLine(name, value, source=SOURCE) for name, values in changes.items()
              for value in values]
    return _build(options, lines)


def _check_transitions(options: Options, changes: dict[str, list[str]]) -> None:
    for name, values in changes.items():
        current = [line.value for line in options.lines(name)]
        if name in FIXED_WHILE_RUNNING and current != values:
            raise ConfError(553, f"Transition not allowed: While Zwiebel is running, "
                                 f"changing {name} is not allowed")


def _build(options: Options, lines: Sequence[ConfigLine]) -> Options:
    try:
        built = build_options(lines, registry=options.registry)
    except ConfigError as exc:
        raise ConfError(513, f"Unacceptable option value: {exc.message}") from exc
    try:
        new, _warnings = validate(built)
    except ConfigError as exc:
        raise ConfError(553, f"Unable to set option: {exc.message}") from exc
    return new


def changed_entries(old: Options, new: Options) -> ConfChangedEvent:
    """CONF_CHANGED for every option whose lines differ."""
    entries: list[tuple[str, str | None]] = []
    for opt in new.registry:
        before = [line.value for line in old.lines(opt.name)]
        after = [line.value for line in new.lines(opt.name)]
        if before == after:
            continue
        entries += [(opt.name, value) for value in after] or [(opt.name, None)]
    return ConfChangedEvent(tuple(entries))


def load_text(options: Options, text: str) -> Options:
    """LOADCONF: the configuration in ``text`` replaces the current one."""
    try:
        lines = lex(text, "LOADCONF", load_include)
    except (ConfigError, OSError) as exc:
        raise ConfError(552, f"Invalid config file: {exc}") from exc
    fixed = {name: [line.value for line in options.lines(name)] for name in FIXED_WHILE_RUNNING
             if name in options.registry}
    new = _build(options, lines)
    for name, values in fixed.items():
        if [line.value for line in new.lines(name)] != values:
            raise ConfError(553, f"Transition not allowed: While Zwiebel is running, "
                                 f"changing {name} is not allowed")
    return new


def uses_include(options: Options, config_file: str) -> bool:
    """True if some option came from a file other than the torrc (``%include``)."""
    own = {config_file, SOURCE, "LOADCONF", "command line", "default"}
    return any(line.source not in own and os.path.isabs(line.source)
               for _, lines in options.set_lines() for line in lines)


def saveconf(options: Options, config_file: str | None, force: bool) -> list[ReplyLine]:
    """SAVECONF: keep the first hand-written torrc as ``torrc.orig.1``, then write."""
    if config_file is None or (uses_include(options, config_file) and not force):
        return reply(551, "Unable to write configuration to disk.")
    try:
        _keep_original(config_file)
        save_config(options, config_file)
    except OSError:
        return reply(551, "Unable to write configuration to disk.")
    return ok()


def _keep_original(path: str) -> None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            head = handle.read(len(SAVECONF_HEADER))
    except FileNotFoundError:
        return
    if head.startswith(SAVECONF_HEADER.split("\n", 1)[0]):
        return
    index = 1
    while os.path.exists(f"{path}.orig.{index}"):
        index += 1
    os.replace(path, f"{path}.orig.{index}")

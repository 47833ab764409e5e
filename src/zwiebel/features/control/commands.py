"""The command table and the handlers of commands that are not about configuration
(control-spec 3): authentication, GETINFO, SETEVENTS, SIGNAL, USEFEATURE, ownership,
CLOSECIRCUIT/CLOSESTREAM; the circuit, stream and address commands are in
:mod:`.circcmds`.

Each entry names the argument syntax (``zwiebel.control.args.Syntax``, tor's
``control_cmd_syntax_t``); bad arguments get ``512 Bad arguments to CMD: ...`` before
the handler runs, unknown commands ``510 Unrecognized command "X"``. Commands tor
knows that Zwiebel does not implement yet are answered ``551`` with that fact.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from zwiebel.control.args import ArgumentError, Arguments, Syntax, parse_arguments
from zwiebel.control.events import EVENT_NAMES, OBSOLETE_EVENTS
from zwiebel.control.grammar import Command
from zwiebel.control.reply import ReplyLine, kv_line, ok, reply
from zwiebel.features.control import authcmds, circcmds, confcmds
from zwiebel.features.control.getinfo import GetInfoError
from zwiebel.features.control.signals import SIGNALS

if TYPE_CHECKING:
    from zwiebel.features.control.connection import ControlConnection

log = logging.getLogger("zwiebel")
Handler = Callable[["ControlConnection", Command, Arguments], list[ReplyLine]]

#: tor's commands that Zwiebel answers with 551 for now.
NOT_IMPLEMENTED = ("POSTDESCRIPTOR", "DROPTIMEOUTS", "HSFETCH", "HSPOST", "ADD_ONION", "DEL_ONION",
                   "ONION_CLIENT_AUTH_ADD", "ONION_CLIENT_AUTH_REMOVE",
                   "ONION_CLIENT_AUTH_VIEW")
ANY = Syntax(max_args=None)


@dataclass(frozen=True)
class CommandDef:
    """A command: its syntax and handler."""

    syntax: Syntax
    handler: Handler
    multiline: bool = False


def _getinfo(conn: ControlConnection, cmd: Command, args: Arguments) -> list[ReplyLine]:
    answers: list[ReplyLine] = []
    unknown: list[ReplyLine] = []
    for key in args.words:
        try:
            value = conn.service.registry.lookup(key)
        except GetInfoError as exc:
            return reply(551, str(exc))
        except Exception:
            log.exception("GETINFO %s failed", key)
            return reply(551, "Internal error")
        if value is None:
            unknown.append(ReplyLine(552, f'Unrecognized key "{key}"'))
        else:
            answers.append(kv_line(key, value))
    return unknown or answers + ok()


def _setevents(conn: ControlConnection, cmd: Command, args: Arguments) -> list[ReplyLine]:
    wanted: set[str] = set()
    known = {name.upper() for name in EVENT_NAMES}
    for name in args.words:
        upper = name.upper()
        if upper in OBSOLETE_EVENTS:
            log.warning('The "%s" SETEVENTS argument is no longer supported.', name)
            continue
        if upper not in known:
            return reply(552, f'Unrecognized event "{name}"')
        wanted.add(upper)
    conn.service.set_events(conn, wanted)
    return ok()


def _signal(conn: ControlConnection, cmd: Command, args: Arguments) -> list[ReplyLine]:
    name = args.words[0].upper()
    if name not in SIGNALS:
        return reply(552, f'Unrecognized signal code "{args.words[0]}"')
    conn.after_reply(lambda: conn.service.signal(SIGNALS[name]))
    return ok()


def _usefeature(conn: ControlConnection, cmd: Command, args: Arguments) -> list[ReplyLine]:
    for name in args.words:
        if name.upper() not in ("VERBOSE_NAMES", "EXTENDED_EVENTS"):
            return reply(552, f'Unrecognized feature "{name}"')
    return ok()


def _takeownership(conn: ControlConnection, cmd: Command, args: Arguments) -> list[ReplyLine]:
    conn.owning = True
    return ok()


def _dropownership(conn: ControlConnection, cmd: Command, args: Arguments) -> list[ReplyLine]:
    conn.owning = False
    return ok()


def _closecircuit(conn: ControlConnection, cmd: Command, args: Arguments) -> list[ReplyLine]:
    circuits = conn.service.host.circuits.circuits
    circuit = next((c for c in circuits if str(c.global_id) == args.words[0]), None)
    if circuit is None:
        return reply(552, f'Unknown circuit "{args.words[0]}"')
    circuit.close("closed by controller")
    return ok()


def _closestream(conn: ControlConnection, cmd: Command, args: Arguments) -> list[ReplyLine]:
    streams = conn.service.host.circuits.stream_events.streams
    record = streams.get(int(args.words[0])) if args.words[0].isdigit() else None
    if record is None or record.stream is None:
        return reply(552, f'Unknown stream "{args.words[0]}"')
    if not args.words[1].isdigit():
        return reply(552, f'Unrecognized reason "{args.words[1]}"')
    record.stream.close(int(args.words[1]))
    return ok()


def _not_implemented(conn: ControlConnection, cmd: Command, args: Arguments) -> list[ReplyLine]:
    return reply(551, f"{cmd.name} is not implemented by Zwiebel yet")


def _getconf(conn: ControlConnection, cmd: Command, args: Arguments) -> list[ReplyLine]:
    return confcmds.getconf(conn.service.host.options, args.words)


def _setconf(conn: ControlConnection, cmd: Command, args: Arguments) -> list[ReplyLine]:
    return conn.service.change_options(lambda o: confcmds.assign(o, args.pairs))


def _loadconf(conn: ControlConnection, cmd: Command, args: Arguments) -> list[ReplyLine]:
    return conn.service.change_options(lambda o: confcmds.load_text(o, cmd.data or ""))


def _saveconf(conn: ControlConnection, cmd: Command, args: Arguments) -> list[ReplyLine]:
    force = any(k.upper() == "FORCE" and v is None for k, v in args.pairs)
    service = conn.service
    return confcmds.saveconf(service.host.options, service.info.config_file, force)


_KEYWORDS = Syntax(max_args=0, keywords=True, omit_vals=True)
COMMANDS: dict[str, CommandDef] = {
    "SETCONF": CommandDef(_KEYWORDS, _setconf),
    "RESETCONF": CommandDef(_KEYWORDS, _setconf),
    "GETCONF": CommandDef(ANY, _getconf),
    "LOADCONF": CommandDef(Syntax(), _loadconf, multiline=True),
    "SETEVENTS": CommandDef(ANY, _setevents),
    "AUTHENTICATE": CommandDef(authcmds.AUTHENTICATE_SYNTAX, authcmds.authenticate),
    "SAVECONF": CommandDef(_KEYWORDS, _saveconf),
    "SIGNAL": CommandDef(Syntax(min_args=1, max_args=1), _signal),
    "TAKEOWNERSHIP": CommandDef(ANY, _takeownership),
    "DROPOWNERSHIP": CommandDef(ANY, _dropownership),
    "GETINFO": CommandDef(ANY, _getinfo),
    "CLOSESTREAM": CommandDef(Syntax(min_args=2, max_args=2, keywords=True,
                                     omit_vals=True), _closestream),
    "CLOSECIRCUIT": CommandDef(Syntax(min_args=1, max_args=1, keywords=True,
                                      omit_vals=True), _closecircuit),
    "USEFEATURE": CommandDef(ANY, _usefeature),
    "PROTOCOLINFO": CommandDef(ANY, authcmds.protocolinfo),
    "AUTHCHALLENGE": CommandDef(authcmds.AUTHCHALLENGE_SYNTAX, authcmds.authchallenge),
    "MAPADDRESS": CommandDef(circcmds.MAPADDRESS_SYNTAX, circcmds.mapaddress),
    "EXTENDCIRCUIT": CommandDef(circcmds.EXTENDCIRCUIT_SYNTAX, circcmds.extendcircuit),
    "SETCIRCUITPURPOSE": CommandDef(circcmds.SETCIRCUITPURPOSE_SYNTAX,
                                    circcmds.setcircuitpurpose),
    "ATTACHSTREAM": CommandDef(circcmds.ATTACHSTREAM_SYNTAX, circcmds.attachstream),
    "REDIRECTSTREAM": CommandDef(circcmds.REDIRECTSTREAM_SYNTAX, circcmds.redirectstream),
    "RESOLVE": CommandDef(circcmds.RESOLVE_SYNTAX, circcmds.resolve),
    "DROPGUARDS": CommandDef(circcmds.DROPGUARDS_SYNTAX, circcmds.dropguards),
}
for _name in NOT_IMPLEMENTED:
    COMMANDS[_name] = CommandDef(ANY, _not_implemented,
                                 multiline=_name in ("POSTDESCRIPTOR", "HSPOST"))


def dispatch(conn: ControlConnection, cmd: Command) -> list[ReplyLine]:
    """Run one command (authentication state already checked)."""
    definition = COMMANDS.get(cmd.name)
    if definition is None or definition.multiline != (cmd.data is not None):
        shown = f"+{cmd.keyword}" if cmd.data is not None else cmd.keyword
        return reply(510, f'Unrecognized command "{shown}"')
    try:
        args = parse_arguments(cmd.args, definition.syntax)
    except ArgumentError as exc:
        return reply(512, f"Bad arguments to {cmd.keyword}: {exc}")
    return definition.handler(conn, cmd, args)

"""Generic daemon options: data directory, logging, control port, relay identity.

Defaults as in tor 0.4.9.11 ``src/app/config/config.c`` (``option_vars_``) and the manual.
The relay and control options at the end are parsed and stored here so that a torrc
written for tor loads; the features that act on them read them from
:class:`~zwiebel.config.options.Options`.
"""

from __future__ import annotations

from collections.abc import Sequence

from zwiebel.config.errors import ConfigError
from zwiebel.config.lexer import ConfigLine
from zwiebel.config.logspec import LogSpec, parse_log_line
from zwiebel.config.ports import listen_port_resolver
from zwiebel.config.registry import Kind, OptionDef, WarnFn, lines_of


def parse_safe_logging(text: str) -> str:
    """SafeLogging: ``0``, ``1`` or ``relay`` (normalised to lower case)."""
    if text.lower() in ("0", "1", "relay"):
        return text.lower()
    raise ConfigError(f"Unrecognized value '{text}' in SafeLogging")


def resolve_logs(lines: Sequence[ConfigLine], warn: WarnFn) -> tuple[LogSpec, ...]:
    """All Log lines as :class:`LogSpec` (empty: the daemon picks ``notice stdout``)."""
    return tuple(lines_of(parse_log_line)(lines, warn))


DAEMON_OPTIONS: tuple[OptionDef, ...] = (
    OptionDef("DataDirectory", Kind.FILENAME, "~/.tor", "Where tor keeps its state."),
    OptionDef("Log", Kind.LINELIST, None, "Log destinations.", attr="logs",
              resolve=resolve_logs, aliases=("l",)),
    OptionDef("RunAsDaemon", Kind.BOOLEAN, "0", "Detach (only 0 is supported)."),
    OptionDef("PidFile", Kind.FILENAME, None, "Write our process id here."),
    OptionDef("SafeLogging", Kind.STRING, "1", "Scrub addresses in logs.",
              parse=parse_safe_logging),
    OptionDef("Nickname", Kind.STRING, None, "Relay nickname."),
    OptionDef("ControlPort", Kind.PORT, None, "Controller listeners.", attr="control_ports",
              resolve=listen_port_resolver("Control", "127.0.0.1")),
    OptionDef("CookieAuthentication", Kind.BOOLEAN, "0", "Controller cookie auth."),
    OptionDef("CookieAuthFile", Kind.FILENAME, None, "Where to write the cookie."),
    OptionDef("HashedControlPassword", Kind.LINELIST, None, "S2K controller passwords.",
              attr="hashed_control_passwords"),
    OptionDef("ORPort", Kind.PORT, None, "Relay OR listeners.", attr="or_ports",
              resolve=listen_port_resolver("OR", "0.0.0.0")),
    OptionDef("DirPort", Kind.PORT, None, "Directory listeners.", attr="dir_ports",
              resolve=listen_port_resolver("Dir", "0.0.0.0")),
    OptionDef("ContactInfo", Kind.STRING, None, "Relay operator contact."),
    OptionDef("Address", Kind.LINELIST, None, "Our public address.", attr="addresses"),
    OptionDef("ExitPolicy", Kind.LINELIST, None, "Exit policy lines.", attr="exit_policy"),
    OptionDef("ExitRelay", Kind.AUTOBOOL, "auto", "Act as an exit."),
    OptionDef("AssumeReachable", Kind.BOOLEAN, "0", "Skip reachability self-tests."),
    OptionDef("ShutdownWaitLength", Kind.INTERVAL, "30 seconds",
              "A relay's wait between SIGINT and exit."),
    OptionDef("ConnLimit", Kind.POSINT, "1000",
              "File descriptors the process must be allowed at least.", aliases=("MaxConn",)),
)

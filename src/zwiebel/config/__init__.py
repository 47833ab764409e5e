"""zwiebel.config: the torrc format and the typed option table.

What it does
    Lexes torrc text (comments, ``\\`` continuations, quoted values, ``+``/``/`` magic,
    ``%include`` of files, folders and globs) into :class:`ConfigLine` entries; assigns
    them domain by domain (torrc-defaults, torrc, command line) as tor does; parses each
    option with its type (Boolean, auto-Boolean, Integer, Interval, TimeMsecInterval,
    DataSize, Filename, RouterSet, Port lines, DirAuthority/FallbackDir lines, Log lines)
    into an immutable :class:`Options`; validates tor's cross-option rules; and writes
    the configuration back as text (GETINFO config-text, SAVECONF).

Design notes
    The lexer is sans-I/O: ``%include`` calls a loader, and :mod:`.files` is the thin
    disk layer on top. Features own their options: they build :class:`OptionDef` rows
    and call :func:`register_options`; this package registers the daemon, client and
    TestingTorNetwork options into :data:`DEFAULT_REGISTRY` on import. A real tor option
    that no feature registered is refused as "not supported by Zwiebel" (with its
    file:line); a name tor does not know is tor's "Unknown option". All errors are
    :class:`ConfigError`, a ValueError defined here (no shared ParseError existed).

Deliberately not here
    Applying options to a running daemon (SETCONF transitions), torrc-defaults search
    beyond tor's paths, deprecated prefix abbreviations of option names, log domains,
    host names in ``*Port`` lines (IP literals only), and the many tor options no
    Zwiebel feature implements yet.
"""

from zwiebel.config.authorities import (
    DirAuthoritySpec,
    FallbackDirSpec,
    default_authorities,
    default_fallbacks,
    parse_dir_authority_line,
    parse_fallback_dir_line,
)
from zwiebel.config.client_options import CLIENT_OPTIONS
from zwiebel.config.daemon_options import DAEMON_OPTIONS
from zwiebel.config.dirauth_options import DIRAUTH_OPTIONS
from zwiebel.config.dirservers import fallback_directories, trusted_authorities
from zwiebel.config.dump import config_text, save_config
from zwiebel.config.errors import ConfigError
from zwiebel.config.files import atomic_write, load_include, read_torrc
from zwiebel.config.lexer import ConfigLine, LineCommand, lex
from zwiebel.config.logspec import LogSpec, parse_log_line
from zwiebel.config.options import ConfigBuilder, Options, build_options
from zwiebel.config.ports import ListenPortSpec, SocksPortSpec
from zwiebel.config.registry import (
    DEFAULT_REGISTRY,
    Kind,
    OptionDef,
    Registry,
    register_options,
)
from zwiebel.config.relay_options import RELAY_OPTIONS
from zwiebel.config.testnet import TESTNET_OPTIONS
from zwiebel.config.validate import validate
from zwiebel.config.values import RouterSet

BUILTIN_OPTIONS: tuple[OptionDef, ...] = (
    DAEMON_OPTIONS + CLIENT_OPTIONS + TESTNET_OPTIONS + RELAY_OPTIONS + DIRAUTH_OPTIONS
)


def builtin_registry() -> Registry:
    """A fresh registry holding only this package's options (for tests and tools)."""
    return Registry(BUILTIN_OPTIONS)


register_options(*BUILTIN_OPTIONS)

__all__ = [
    "BUILTIN_OPTIONS",
    "DIRAUTH_OPTIONS",
    "DEFAULT_REGISTRY",
    "ConfigBuilder",
    "ConfigError",
    "ConfigLine",
    "DirAuthoritySpec",
    "FallbackDirSpec",
    "Kind",
    "LineCommand",
    "ListenPortSpec",
    "LogSpec",
    "OptionDef",
    "Options",
    "Registry",
    "RouterSet",
    "SocksPortSpec",
    "atomic_write",
    "build_options",
    "builtin_registry",
    "config_text",
    "default_authorities",
    "default_fallbacks",
    "fallback_directories",
    "lex",
    "load_include",
    "parse_dir_authority_line",
    "parse_fallback_dir_line",
    "parse_log_line",
    "read_torrc",
    "register_options",
    "save_config",
    "trusted_authorities",
    "validate",
]

"""The typed option table: each option's name, type, default and parser.

Features register the options they own with :func:`register_options` (the daemon and
client options are registered by :mod:`zwiebel.config`'s ``__init__``; relay, control
and directory features add theirs). Names are case-insensitive as in tor
(``confmgt.c``: ``config_mgr_find_var``); a few historical aliases from tor's
``option_abbrevs_`` table map onto their canonical names. tor's deprecated
abbreviation-by-prefix matching is deliberately not supported.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from zwiebel.config import units, values
from zwiebel.config.errors import ConfigError
from zwiebel.config.lexer import ConfigLine

#: Receives a warning tor would log at [warn] while reading the configuration.
WarnFn = Callable[[str], None]
#: Turns all the lines of a LINELIST option into its resolved value.
ListResolver = Callable[[Sequence[ConfigLine], WarnFn], Any]


class Kind(enum.Enum):
    """Option types named as in tor's manual; the value is the Python parser."""

    BOOLEAN = "Boolean"
    AUTOBOOL = "auto-Boolean"
    INTEGER = "Integer"
    POSINT = "Num"
    STRING = "String"
    FILENAME = "Filename"
    INTERVAL = "Interval"
    MSEC_INTERVAL = "TimeMsecInterval"
    MEMUNIT = "DataSize"
    CSV = "CSV"
    CSV_INTERVAL = "CSV_INTERVAL"
    ROUTERSET = "RouterSet"
    LINELIST = "LineList"
    PORT = "Port"

    @property
    def is_list(self) -> bool:
        """LINELIST semantics: repeated lines accumulate."""
        return self in (Kind.LINELIST, Kind.PORT)


_PARSERS: dict[Kind, Callable[[str], Any]] = {
    Kind.BOOLEAN: values.parse_bool,
    Kind.AUTOBOOL: values.parse_autobool,
    Kind.INTEGER: values.parse_int,
    Kind.POSINT: values.parse_posint,
    Kind.STRING: values.parse_string,
    Kind.FILENAME: values.parse_filename,
    Kind.INTERVAL: units.parse_interval,
    Kind.MSEC_INTERVAL: units.parse_msec_interval,
    Kind.MEMUNIT: units.parse_memunit,
    Kind.CSV: values.parse_csv,
    Kind.CSV_INTERVAL: values.parse_csv_interval,
    Kind.ROUTERSET: values.parse_routerset,
    Kind.LINELIST: values.parse_string,
    Kind.PORT: values.parse_string,
}


def snake_case(name: str) -> str:
    """``SocksPort`` -> ``socks_port``, ``ClientUseIPv6`` -> ``client_use_ipv6``."""
    name = name.lstrip("_").replace("IPv", "Ipv")
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


@dataclass(frozen=True)
class OptionDef:
    """One torrc option.

    ``default`` is tor's textual default (None: unset). ``parse`` overrides the
    kind's parser for each value; ``resolve`` (list kinds only) turns all lines into
    the option's value (e.g. SocksPort's default port). ``attr`` is the attribute
    name on :class:`~zwiebel.config.options.Options` (default: snake case).
    ``testnet_default`` replaces ``default`` when TestingTorNetwork is set.
    """

    name: str
    kind: Kind
    default: str | None = None
    doc: str = ""
    attr: str = ""
    parse: Callable[[str], Any] | None = None
    resolve: ListResolver | None = None
    testnet_default: str | None = None
    aliases: tuple[str, ...] = field(default=())

    @property
    def attribute(self) -> str:
        """The Options attribute this option is read through."""
        return self.attr or snake_case(self.name)

    def parse_value(self, text: str) -> Any:
        """Parse one value with the option's parser (raises ConfigError)."""
        return (self.parse or _PARSERS[self.kind])(text)


class Registry:
    """A case-insensitive table of :class:`OptionDef` keyed by option name."""

    def __init__(self, defs: Iterable[OptionDef] = ()) -> None:
        self._by_name: dict[str, OptionDef] = {}
        self._by_attr: dict[str, OptionDef] = {}
        self._order: list[OptionDef] = []
        self.register(*defs)

    def register(self, *defs: OptionDef) -> None:
        """Add options; a name, alias or attribute registered twice is a bug."""
        for opt in defs:
            for key in (opt.name, *opt.aliases):
                if key.lower() in self._by_name:
                    raise ValueError(f"option {key} registered twice")
                self._by_name[key.lower()] = opt
            if opt.attribute in self._by_attr:
                raise ValueError(f"option attribute {opt.attribute} registered twice")
            self._by_attr[opt.attribute] = opt
            self._order.append(opt)

    def lookup(self, name: str) -> OptionDef | None:
        """The option called ``name`` (any case, or an alias), if registered."""
        return self._by_name.get(name.lower())

    def by_attribute(self, attr: str) -> OptionDef | None:
        """The option read through the Options attribute ``attr``."""
        return self._by_attr.get(attr)

    def __iter__(self) -> Any:
        return iter(self._order)

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._by_name


#: The process-wide registry that ``zwiebel.config`` fills and features extend.
DEFAULT_REGISTRY = Registry()


def register_options(*defs: OptionDef, registry: Registry | None = None) -> None:
    """Register a feature's options (into :data:`DEFAULT_REGISTRY` unless given)."""
    (registry if registry is not None else DEFAULT_REGISTRY).register(*defs)


def lines_of(
    parse: Callable[[str], Any],
) -> ListResolver:
    """A resolver that parses every line of a list option with ``parse``."""

    def resolve(lines: Sequence[ConfigLine], warn: WarnFn) -> tuple[Any, ...]:
        out = []
        for line in lines:
            try:
                out.append(parse(line.value))
            except ConfigError as exc:
                raise ConfigError(exc.message, exc.where or line.where) from exc
        return tuple(out)

    return resolve

"""Options as the control port shows them: GETCONF values, config/names, config/defaults.

tor answers GETCONF with the option's current value in canonical form
(``config_get_assigned_option``): booleans ``0``/``1``, intervals in seconds, data
sizes in bytes, list options one line per value; an option that has neither value nor
default is answered with its bare name. ``config/names`` lists ``Name Type`` with
tor's type names, ``config/defaults`` ``Name Default``.
"""

from __future__ import annotations

from zwiebel.config import Kind, OptionDef, Options
from zwiebel.config.units import parse_interval, parse_memunit, parse_msec_interval
from zwiebel.config.values import parse_bool
from zwiebel.control.reply import config_value_needs_escape, esc_for_log

_TYPE_NAMES = {
    Kind.AUTOBOOL: "Boolean+Auto",
    Kind.POSINT: "Integer",
    Kind.CSV: "CommaList",
    Kind.CSV_INTERVAL: "TimeInterval",
    Kind.ROUTERSET: "RouterList",
    Kind.PORT: "LineList",
    Kind.INTERVAL: "TimeInterval",
    Kind.MEMUNIT: "DataSize",
}


def canonical(opt: OptionDef, text: str) -> str:
    """One value in tor's canonical encoding."""
    try:
        if opt.kind is Kind.BOOLEAN:
            return "1" if parse_bool(text) else "0"
        if opt.kind is Kind.INTERVAL:
            return str(parse_interval(text))
        if opt.kind is Kind.MSEC_INTERVAL:
            return str(parse_msec_interval(text))
        if opt.kind is Kind.MEMUNIT:
            return str(parse_memunit(text))
    except ValueError:
        return text
    return text


def conf_values(options: Options, opt: OptionDef) -> list[str | None]:
    """The GETCONF answers for ``opt``: its values, the default, or [None]."""
    lines = options.lines(opt.name)
    if lines:
        return [_escaped(canonical(opt, line.value)) for line in lines]
    if opt.default is None or opt.kind.is_list:
        return [None]
    return [canonical(opt, opt.default)]


def _escaped(value: str) -> str:
    return esc_for_log(value) if config_value_needs_escape(value) else value


def _public(options: Options) -> list[OptionDef]:
    return [opt for opt in options.registry if not opt.name.startswith("_")]


def config_names(options: Options) -> str:
    """``config/names``: ``Name Type`` per option."""
    return "\n".join(f"{opt.name} {_TYPE_NAMES.get(opt.kind, opt.kind.value)}"
                     for opt in _public(options))


def config_defaults(options: Options) -> str:
    """``config/defaults``: ``Name Default`` per option that has a default."""
    return "\n".join(f"{opt.name} {canonical(opt, opt.default)}"
                     for opt in _public(options) if opt.default is not None)

"""From lexed lines to a resolved, typed :class:`Options` object.

Assignment follows tor's ``config_assign`` (``src/lib/confmgt/confmgt.c``) and the
domains of ``doc/torrc_format.txt`` section 2: lines are applied domain by domain
(torrc-defaults, torrc, command line). Within a domain LINELIST options accumulate and
single-valued options keep the last value (with tor's warning). A later domain's
plain line replaces a list from an earlier domain, ``+Key`` appends to it and
``/Key`` resets the option to its default. An empty value resets a single-valued
option and is skipped (with a warning) for a list.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from zwiebel.config.errors import ConfigError
from zwiebel.config.lexer import ConfigLine, LineCommand
from zwiebel.config.registry import DEFAULT_REGISTRY, OptionDef, Registry
from zwiebel.config.tor_option_names import TOR_OPTION_NAMES

_TOR_NAMES = {name.lower(): name for name in TOR_OPTION_NAMES}


class Options:
    """Resolved option values, read by attribute (``options.socks_ports``) or name."""

    def __init__(
        self,
        registry: Registry,
        values: dict[str, Any],
        lines: dict[str, tuple[ConfigLine, ...]],
        warnings: Sequence[str] = (),
    ) -> None:
        object.__setattr__(self, "registry", registry)
        object.__setattr__(self, "_values", dict(values))
        object.__setattr__(self, "_lines", dict(lines))
        object.__setattr__(self, "warnings", tuple(warnings))

    registry: Registry
    warnings: tuple[str, ...]
    _values: dict[str, Any]
    _lines: dict[str, tuple[ConfigLine, ...]]

    def __getattr__(self, attr: str) -> Any:
        opt = self.registry.by_attribute(attr)
        if opt is None:
            raise AttributeError(f"no option is read as {attr!r}")
        return self._values[opt.name]

    def __setattr__(self, attr: str, value: object) -> None:
        raise AttributeError("Options is immutable; use with_values()")

    def _opt(self, name: str) -> OptionDef:
        opt = self.registry.lookup(name)
        if opt is None:
            raise KeyError(name)
        return opt

    def get(self, name: str) -> Any:
        """The value of the option called ``name`` (any case)."""
        return self._values[self._opt(name).name]

    def is_set(self, name: str) -> bool:
        """True if the configuration set ``name`` explicitly."""
        return self._opt(name).name in self._lines

    def lines(self, name: str) -> tuple[ConfigLine, ...]:
        """The configured lines of ``name`` (empty when it has its default)."""
        return self._lines.get(self._opt(name).name, ())

    def set_lines(self) -> list[tuple[OptionDef, tuple[ConfigLine, ...]]]:
        """Every explicitly set option with its lines, in registry order."""
        return [(opt, self._lines[opt.name]) for opt in self.registry if opt.name in self._lines]

    def with_values(self, **by_name: Any) -> Options:
        """A copy with some resolved values replaced (used by validation clamps)."""
        values = dict(self._values)
        for name, value in by_name.items():
            values[self._opt(name).name] = value
        return Options(self.registry, values, self._lines, self.warnings)


class ConfigBuilder:
    """Accumulates configuration domains, then resolves them into :class:`Options`."""

    def __init__(self, registry: Registry | None = None) -> None:
        self.registry = registry if registry is not None else DEFAULT_REGISTRY
        self.slots: dict[str, list[ConfigLine]] = {}
        self.warnings: list[str] = []
        self._fragile: set[str] = set()

    def add_domain(self, lines: Iterable[ConfigLine]) -> None:
        """Apply one domain's lines (a torrc file, or the command line)."""
        self._fragile = set(self.slots)
        seen: set[str] = set()
        for line in lines:
            self._assign(line, seen)

    def _find(self, line: ConfigLine) -> OptionDef:
        opt = self.registry.lookup(line.key)
        if opt is not None:
            return opt
        tor_name = _TOR_NAMES.get(line.key.lower())
        if tor_name is not None:
            raise ConfigError(f"Option '{tor_name}' is not supported by Zwiebel.", line.where)
        raise ConfigError(f"Unknown option '{line.key}'.  Failing.", line.where)

    def _assign(self, line: ConfigLine, seen: set[str]) -> None:
        opt = self._find(line)
        if line.command is LineCommand.CLEAR or not line.value:
            if opt.kind.is_list and line.command is not LineCommand.CLEAR:
                self.warnings.append(f"Linelist option '{opt.name}' has no value. Skipping.")
            else:
                self.slots.pop(opt.name, None)
            return
        if not opt.kind.is_list:
            if opt.name in seen:
                self.warnings.append(f"Option '{opt.name}' used more than once; all but "
                                     "the last value will be ignored.")
            seen.add(opt.name)
            self.slots[opt.name] = [line]
            return
        if opt.name in self._fragile and line.command is LineCommand.NORMAL:
            self.slots[opt.name] = []
        self._fragile.discard(opt.name)
        self.slots.setdefault(opt.name, []).append(line)

    def build(self) -> Options:
        """Parse every option's lines (or default) into typed values."""
        testnet = self._testnet()
        values = {opt.name: self._resolve(opt, testnet) for opt in self.registry}
        lines = {name: tuple(ls) for name, ls in self.slots.items()}
        return Options(self.registry, values, lines, self.warnings)

    def _testnet(self) -> bool:
        opt = self.registry.lookup("TestingTorNetwork")
        return opt is not None and bool(self._resolve(opt, False))

    def _resolve(self, opt: OptionDef, testnet: bool) -> Any:
        lines = self.slots.get(opt.name, [])
        if opt.kind.is_list:
            return self._resolve_list(opt, lines)
        if lines:
            return _parse_scalar(opt, lines[-1].value, lines[-1].where)
        default = opt.testnet_default if testnet and opt.testnet_default else opt.default
        return None if default is None else _parse_scalar(opt, default, "default")

    def _resolve_list(self, opt: OptionDef, lines: list[ConfigLine]) -> Any:
        if opt.resolve is not None:
            return opt.resolve(lines, self.warnings.append)
        return tuple(_parse_scalar(opt, line.value, line.where) for line in lines)


def _parse_scalar(opt: OptionDef, text: str, where: str) -> Any:
    try:
        return opt.parse_value(text)
    except ConfigError as exc:
        raise ConfigError(f"Could not parse {opt.name}: {exc.message}", where) from exc


def build_options(
    *domains: Iterable[ConfigLine], registry: Registry | None = None
) -> Options:
    """Resolve the given domains (lowest priority first) into :class:`Options`."""
    builder = ConfigBuilder(registry)
    for domain in domains:
        builder.add_domain(domain)
    return builder.build()

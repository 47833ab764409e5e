"""Scalar option types of tor's manual (``doc/man/tor.1.txt``, "THE CONFIGURATION FILE
FORMAT") and ``src/lib/confmgt/type_defs.c``: Boolean, auto-Boolean, Integer, String,
Filename, Port, CSV, and the ``RouterSet`` of ``src/feature/nodelist/routerset.c``.

Every parser takes the option's text and returns a Python value or raises
:class:`~zwiebel.config.errors.ConfigError` with tor's wording of the complaint.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass

from zwiebel.config.errors import ConfigError

_INT_MIN, _INT_MAX = -(1 << 31), (1 << 31) - 1
_NICKNAME = re.compile(r"[A-Za-z0-9]{1,19}\Z")
_HEXDIGEST = re.compile(r"\$?([0-9A-Fa-f]{40})(?:[=~][A-Za-z0-9]{1,19})?\Z")
_COUNTRY = re.compile(r"\{([A-Za-z0-9?]{2})\}\Z")


def parse_bool(text: str) -> bool:
    """Boolean: exactly ``0`` or ``1``."""
    if text in ("0", "1"):
        return text == "1"
    raise ConfigError(f"Unrecognized value {text}. Allowed values are 0 and 1.")


def parse_autobool(text: str) -> bool | None:
    """auto-Boolean: ``0``, ``1`` or ``auto`` (returned as None)."""
    if text.lower() == "auto":
        return None
    if text in ("0", "1"):
        return text == "1"
    raise ConfigError(f"Unrecognized value {text}. Allowed values are 0, 1, and auto.")


def parse_int(text: str, minval: int = _INT_MIN, maxval: int = _INT_MAX) -> int:
    """Integer in ``[minval, maxval]`` (tor's INT and, with ``minval=0``, POSINT)."""
    if re.fullmatch(r"\s*[-+]?[0-9]+", text):
        value = int(text)
        if minval <= value <= maxval:
            return value
    raise ConfigError(
        f"Integer {text} is malformed or out of bounds. "
        f"Allowed values are between {minval} and {maxval}."
    )


def parse_posint(text: str) -> int:
    """POSINT: a non-negative integer."""
    return parse_int(text, 0, _INT_MAX)


def parse_string(text: str) -> str:
    """String: taken verbatim."""
    return text


def parse_filename(text: str) -> str:
    """Filename: ``~`` expanded like tor's ``expand_filename``."""
    return os.path.expanduser(text) if text.startswith("~") else text


def parse_csv(text: str) -> tuple[str, ...]:
    """CSV: comma separated, blanks skipped."""
    return tuple(item.strip() for item in text.split(",") if item.strip())


def parse_csv_interval(text: str) -> int:
    """CSV_INTERVAL: only the part before the first comma counts (tor >= 0.3.4)."""
    from zwiebel.config.units import parse_interval

    return parse_interval(text.split(",", 1)[0])


def is_legal_nickname(text: str) -> bool:
    """tor's ``is_legal_nickname``: 1 to 19 ASCII letters and digits."""
    return bool(_NICKNAME.match(text))


def parse_port_number(text: str, allow_zero: bool = False) -> int:
    """A TCP port, 1..65535 (or 0 if ``allow_zero``)."""
    if text.isdigit() and (allow_zero or int(text) > 0) and int(text) <= 65535:
        return int(text)
    raise ConfigError(f"Invalid port '{text}'")


def split_addr_port(text: str) -> tuple[str, int | None]:
    """Split ``1.2.3.4:80``, ``[::1]:80``, ``host`` or ``[::1]`` into (address, port)."""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ConfigError(f"Unable to parse address '{text}'")
        addr, rest = text[1:end], text[end + 1 :]
        if rest and not rest.startswith(":"):
            raise ConfigError(f"Unable to parse address '{text}'")
        return addr, parse_port_number(rest[1:], True) if rest else None
    if text.count(":") == 1:
        addr, port = text.split(":")
        return addr, parse_port_number(port, True)
    return text, None


@dataclass(frozen=True)
class RouterSet:
    """A set of relays named by fingerprint, nickname, ``{cc}`` country or address.

    ``routerset.c``: entries are comma separated; a 40-hex digest (``$`` optional,
    ``=nick``/``~nick`` suffix ignored), a legal nickname, a two-letter country code in
    braces, or an address pattern (``1.2.3.0/24``, ``1.2.3.*``, ``[::1]/64``).
    """

    fingerprints: frozenset[str] = frozenset()
    nicknames: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    addresses: tuple[str, ...] = ()
    text: str = ""

    def __bool__(self) -> bool:
        return bool(self.fingerprints or self.nicknames or self.countries or self.addresses)


def _classify(entry: str, parts: dict[str, list[str]]) -> None:
    if m := _HEXDIGEST.match(entry):
        parts["fp"].append(m.group(1).upper())
    elif is_legal_nickname(entry):
        parts["nick"].append(entry.lower())
    elif m := _COUNTRY.match(entry):
        parts["cc"].append(m.group(1).lower())
    elif any(c in entry for c in ".:*") and _is_address_pattern(entry):
        parts["addr"].append(entry)
    else:
        raise ConfigError(f"Entry '{entry}' is malformed. Discarding entire list.")


def _is_address_pattern(entry: str) -> bool:
    host = entry
    if entry.count(":") == 1 or "]:" in entry:  # strip a port or port range
        host = entry.rsplit(":", 1)[0]
    host = host.strip("[]") if "/" not in host else host.replace("[", "").replace("]", "")
    if host == "*" or re.fullmatch(r"(\d{1,3}|\*)(\.(\d{1,3}|\*)){3}", host):
        return True
    try:
        ipaddress.ip_network(host, strict=False)
    except ValueError:
        return False
    return True


def parse_routerset(text: str) -> RouterSet:
    """Parse a ``RouterSet`` option value (``EntryNodes``, ``ExcludeNodes``, ...)."""
    parts: dict[str, list[str]] = {"fp": [], "nick": [], "cc": [], "addr": []}
    for entry in (e.strip() for e in text.split(",")):
        if entry:
            _classify(entry, parts)
    return RouterSet(
        frozenset(parts["fp"]),
        frozenset(parts["nick"]),
        frozenset(parts["cc"]),
        tuple(parts["addr"]),
        text,
    )

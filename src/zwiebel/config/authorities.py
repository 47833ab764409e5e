"""DirAuthority, AlternateDirAuthority, AlternateBridgeAuthority and FallbackDir lines.

Line syntax exactly as tor's ``parse_dir_authority_line`` and ``parse_dir_fallback_line``
(``src/app/config/config.c``) read it:

    DirAuthority [nickname] [flags] ipv4address:dirport fingerprint
    FallbackDir ipv4address[:dirport] orport=N id=HEX [ipv6=[addr]:port] [weight=N]

Authority flags: ``orport=N``, ``v3ident=HEX``, ``ipv6=[addr]:port``, ``bridge``,
``weight=N``, ``upload=``/``download=``/``vote=`` dirports, and the obsolete
``no-v2``/``hs``/``no-hs``. The fingerprint may contain spaces ("ABCD EF01 ...").
Bad ``orport``/``weight`` values and unknown flags are only warnings, as in tor.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from zwiebel.config.default_dirs import DEFAULT_AUTHORITY_LINES, DEFAULT_FALLBACK_LINES
from zwiebel.config.errors import ConfigError
from zwiebel.config.lexer import ConfigLine
from zwiebel.config.registry import WarnFn
from zwiebel.config.values import is_legal_nickname, split_addr_port

_HEX = set("0123456789abcdefABCDEF")


@dataclass(frozen=True)
class DirAuthoritySpec:
    """One directory authority (``trusted_dir_server_new`` arguments)."""

    nickname: str | None
    address: str
    dir_port: int
    or_port: int
    fingerprint: str  #: RSA identity digest, 40 upper-case hex digits
    v3ident: str | None = None  #: authority identity key digest, if a v3 authority
    ipv6: tuple[str, int] | None = None
    is_bridge_authority: bool = False
    weight: float = 1.0
    extra_dirports: tuple[str, ...] = ()  #: raw ``upload=``/``download=``/``vote=`` flags

    @property
    def is_v3(self) -> bool:
        """True if the line carried ``v3ident`` (a consensus-voting authority)."""
        return self.v3ident is not None


@dataclass(frozen=True)
class FallbackDirSpec:
    """One fallback directory mirror."""

    address: str
    dir_port: int
    or_port: int
    fingerprint: str
    ipv6: tuple[str, int] | None = None
    weight: float = 1.0


def _is_hex_digest(text: str) -> bool:
    return len(text) == 40 and set(text) <= _HEX


def _parse_ipv6(flag: str, what: str) -> tuple[str, int]:
    try:
        addr, port = split_addr_port(flag[len("ipv6=") :])
        ipaddress.IPv6Address(addr)
    except (ConfigError, ValueError):
        raise ConfigError(f'Bad ipv6 addr/port "{flag}" on {what} line') from None
    if not port:
        raise ConfigError(f'Bad ipv6 addr/port "{flag}" on {what} line')
    return addr, port


def _parse_weight(text: str, what: str, warn: WarnFn) -> float:
    try:
        weight = float(text)
    except ValueError:
        weight = -1.0
    if weight < 0:
        warn(f"Invalid weight '{text}' on {what} line.")
        return 1.0
    return weight


class _AuthorityFlags:
    def __init__(self) -> None:
        self.or_port = 0
        self.v3ident: str | None = None
        self.ipv6: tuple[str, int] | None = None
        self.bridge = False
        self.weight = 1.0
        self.extra: list[str] = []

    def apply(self, flag: str, warn: WarnFn) -> None:
        low = flag.lower()
        if low in ("hs", "no-hs"):
            warn("The DirAuthority options 'hs' and 'no-hs' are obsolete; "
                 "you don't need them any more.")
        elif low == "bridge":
            self.bridge = True
        elif low == "no-v2":
            pass  # obsolete; still written by tools such as chutney
        elif low.startswith("orport="):
            self._or_port(flag[7:], warn)
        elif flag.startswith("weight="):
            self.weight = _parse_weight(flag[7:], "DirAuthority", warn)
        elif low.startswith("v3ident="):
            self._v3ident(flag, warn)
        elif low.startswith("ipv6="):
            self._ipv6(flag, warn)
        elif low.startswith(("upload=", "download=", "vote=")):
            self.extra.append(flag)
        else:
            warn(f"Unrecognized flag '{flag}' on DirAuthority line")

    def _or_port(self, text: str, warn: WarnFn) -> None:
        if text.isdigit() and 1 <= int(text) <= 65535:
            self.or_port = int(text)
        else:
            warn(f"Invalid orport '{text}' on DirAuthority line.")

    def _v3ident(self, flag: str, warn: WarnFn) -> None:
        ident = flag[len("v3ident=") :]
        if _is_hex_digest(ident):
            self.v3ident = ident.upper()
        else:
            warn(f"Bad v3 identity digest '{flag}' on DirAuthority line")

    def _ipv6(self, flag: str, warn: WarnFn) -> None:
        if self.ipv6 is not None:
            warn("Redundant ipv6 addr/port on DirAuthority line")
        else:
            self.ipv6 = _parse_ipv6(flag, "DirAuthority")


def _authority_address(addrport: str) -> tuple[str, int]:
    try:
        address, port = split_addr_port(addrport)
    except ConfigError:
        raise ConfigError(f"Error parsing DirAuthority address '{addrport}'.") from None
    try:
        ipaddress.IPv4Address(address)
    except ValueError:
        raise ConfigError(
            f"Error parsing DirAuthority address '{address}' (invalid IPv4 address)"
        ) from None
    if not port:
        raise ConfigError(f"Missing port in DirAuthority address '{addrport}'")
    return address, port


def parse_dir_authority_line(line: str, warn: WarnFn = lambda _m: None) -> DirAuthoritySpec:
    """Parse the value of a DirAuthority (or Alternate*Authority) line."""
    items = line.split()
    if not items:
        raise ConfigError("No arguments on DirAuthority line.")
    nickname = items.pop(0) if is_legal_nickname(items[0]) else None
    flags = _AuthorityFlags()
    while items and not items[0][:1].isdigit():
        flags.apply(items.pop(0), warn)
    if len(items) < 2:
        raise ConfigError("Too few arguments to DirAuthority line.")
    address, dir_port = _authority_address(items[0])
    fingerprint = "".join(items[1:])
    if len(fingerprint) != 40:
        raise ConfigError(
            f"Key digest '{fingerprint}' for DirAuthority is wrong length {len(fingerprint)}."
        )
    if not _is_hex_digest(fingerprint):
        raise ConfigError("Unable to decode DirAuthority key digest.")
    return DirAuthoritySpec(
        nickname, address, dir_port, flags.or_port, fingerprint.upper(), flags.v3ident,
        flags.ipv6, flags.bridge, flags.weight, tuple(flags.extra),
    )


def _fallback_keyword(item: str, fields: dict[str, object], warn: WarnFn) -> None:
    if item.startswith("orport="):
        text = item[7:]
        if not (text.isdigit() and 1 <= int(text) <= 65535):
            raise ConfigError(f'Bad FallbackDir option "{item}"')
        fields["orport"] = int(text)
    elif item.startswith("id="):
        if not _is_hex_digest(item[3:]):
            raise ConfigError(f'Bad FallbackDir option "{item}"')
        fields["id"] = item[3:].upper()
    elif item.lower().startswith("ipv6="):
        if "ipv6" in fields:
            warn("Redundant ipv6 addr/port on FallbackDir line")
        else:
            fields["ipv6"] = _parse_ipv6(item, "FallbackDir")
    elif item.startswith("weight="):
        fields["weight"] = _parse_weight(item[7:], "FallbackDir", warn)


def parse_fallback_dir_line(line: str, warn: WarnFn = lambda _m: None) -> FallbackDirSpec:
    """Parse the value of a FallbackDir line."""
    fields: dict[str, object] = {}
    positional = []
    for item in line.split():
        if "=" in item:
            _fallback_keyword(item, fields, warn)
        else:
            positional.append(item)
    if len(positional) != 1:
        raise ConfigError(f'Couldn\'t parse FallbackDir line "{line}"')
    if "id" not in fields:
        raise ConfigError("Missing identity on FallbackDir line")
    if "orport" not in fields:
        raise ConfigError("Missing orport on FallbackDir line")
    address, dir_port = _fallback_address(positional[0])
    ipv6 = fields.get("ipv6")
    weight = fields.get("weight", 1.0)
    assert isinstance(weight, float) and (ipv6 is None or isinstance(ipv6, tuple))
    return FallbackDirSpec(
        address, dir_port or 0, int(str(fields["orport"])), str(fields["id"]), ipv6, weight
    )


def _fallback_address(text: str) -> tuple[str, int | None]:
    try:
        address, port = split_addr_port(text)
        ipaddress.ip_address(address)
    except (ConfigError, ValueError):
        raise ConfigError(f"Couldn't parse address:port {text} on FallbackDir line") from None
    return address, port


def resolve_authorities(lines: Sequence[ConfigLine], warn: WarnFn) -> tuple[DirAuthoritySpec, ...]:
    """All DirAuthority-style lines of one option, errors naming file:line."""
    out = []
    for line in lines:
        try:
            out.append(parse_dir_authority_line(line.value, warn))
        except ConfigError as exc:
            raise ConfigError(exc.message, line.where) from exc
    return tuple(out)


def resolve_fallbacks(lines: Sequence[ConfigLine], warn: WarnFn) -> tuple[FallbackDirSpec, ...]:
    """All FallbackDir lines, errors naming file:line."""
    out = []
    for line in lines:
        try:
            out.append(parse_fallback_dir_line(line.value, warn))
        except ConfigError as exc:
            raise ConfigError(exc.message, line.where) from exc
    return tuple(out)


def default_authorities() -> tuple[DirAuthoritySpec, ...]:
    """The public network's authorities (tor 0.4.9.11 ``auth_dirs.inc``)."""
    return tuple(parse_dir_authority_line(line) for line in DEFAULT_AUTHORITY_LINES)


def default_fallbacks() -> tuple[FallbackDirSpec, ...]:
    """The public network's fallback directories (tor 0.4.9.11 ``fallback_dirs.inc``)."""
    return tuple(parse_fallback_dir_line(line) for line in DEFAULT_FALLBACK_LINES)

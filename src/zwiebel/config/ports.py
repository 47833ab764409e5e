"""``*Port`` lines: SocksPort with its isolation flags, and listener ports.

tor's ``port_parse_config`` (``src/app/config/config.c``): each line is
``[Address:]Port|auto|unix:PATH [Flags]``; ``0`` disables the port; without any line a
default port may apply (SocksPort: 127.0.0.1:9050). A ``No`` prefix negates a flag and a
trailing ``s`` is dropped from isolation flags (``IsolateDestAddrs``). Unknown flags are
warnings, as in tor. Addresses must be IP literals here (tor would also resolve host
names, which this layer does not do).
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from zwiebel.config.errors import ConfigError
from zwiebel.config.lexer import ConfigLine, unescape_quoted
from zwiebel.config.registry import ListResolver, WarnFn

_ISOLATION = {
    "isolatedestport": "isolate_dest_port",
    "isolatedestaddr": "isolate_dest_addr",
    "isolatesocksauth": "isolate_socks_auth",
    "isolateclientprotocol": "isolate_client_protocol",
    "isolateclientaddr": "isolate_client_addr",
}
_HOSTNAME_FLAGS = {
    "ipv4traffic": ("ipv4_traffic",),
    "ipv6traffic": ("ipv6_traffic",),
    "preferipv6": ("prefer_ipv6",),
    "dnsrequest": ("dns_request",),
    "oniontraffic": ("onion_traffic",),
}
_STREAM_FLAGS = {
    "cacheipv4dns": ("cache_ipv4_dns",),
    "cacheipv6dns": ("cache_ipv6_dns",),
    "cachedns": ("cache_ipv4_dns", "cache_ipv6_dns"),
    "useipv4cache": ("use_ipv4_cache",),
    "useipv6cache": ("use_ipv6_cache",),
    "usednscache": ("use_ipv4_cache", "use_ipv6_cache"),
    "preferipv6automap": ("prefer_ipv6_automap",),
    "prefersocksnoauth": ("prefer_socks_no_auth",),
    "keepaliveisolatesocksauth": ("keepalive_isolate_socks_auth",),
    "extendederrors": ("extended_errors",),
}
_UNIX_FLAGS = {
    "groupwritable": "group_writable",
    "worldwritable": "world_writable",
    "relaxdirmodecheck": "relax_dirmode_check",
}


@dataclass(frozen=True)
class SocksPortSpec:
    """One SocksPort listener and its stream options (tor's ``entry_port_cfg_t``)."""

    address: str | None = "127.0.0.1"  #: None for a unix socket
    port: int = 9050  #: 0 when ``auto``
    auto: bool = False
    unix_path: str | None = None
    isolate_client_addr: bool = True
    isolate_socks_auth: bool = True
    isolate_client_protocol: bool = False
    isolate_dest_port: bool = False
    isolate_dest_addr: bool = False
    session_group: int | None = None
    ipv4_traffic: bool = True
    ipv6_traffic: bool = True
    prefer_ipv6: bool = False
    dns_request: bool = True
    onion_traffic: bool = True
    cache_ipv4_dns: bool = False
    cache_ipv6_dns: bool = False
    use_ipv4_cache: bool = False
    use_ipv6_cache: bool = False
    prefer_ipv6_automap: bool = True
    prefer_socks_no_auth: bool = False
    keepalive_isolate_socks_auth: bool = False
    extended_errors: bool = False
    group_writable: bool = False
    world_writable: bool = False
    relax_dirmode_check: bool = False


@dataclass(frozen=True)
class ListenPortSpec:
    """A ControlPort, ORPort or DirPort listener (server options of ``port_cfg_t``)."""

    address: str | None
    port: int
    auto: bool = False
    unix_path: str | None = None
    no_advertise: bool = False
    no_listen: bool = False
    ipv4_only: bool = False
    ipv6_only: bool = False
    group_writable: bool = False
    world_writable: bool = False
    relax_dirmode_check: bool = False


def _split_addrport(value: str) -> tuple[str, bool, list[str]]:
    """(address-port text, is unix, remaining flag words)."""
    value = value.strip()
    if value.startswith('unix:"'):
        try:
            path, end = unescape_quoted(value, len("unix:"))
        except ConfigError:
            raise ConfigError("line with unparsable address") from None
        return path, True, value[end:].split()
    words = value.split()
    head = words[0] if words else ""
    if head.startswith("unix:"):
        return head[5:], True, words[1:]
    return head, False, words[1:]


def _ip(text: str) -> str:
    host = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    return str(ipaddress.ip_address(host))


def _parse_addrport(text: str, default_addr: str, name: str) -> tuple[str, int, bool]:
    """(address, port, auto) for ``PORT``, ``auto``, ``ADDR:PORT`` or ``ADDR:auto``."""
    if text.lower() == "auto":
        return default_addr, 0, True
    if text.isdigit():
        if int(text) > 65535:
            raise ConfigError(f'Couldn\'t parse address "{text}" for {name}Port')
        return default_addr, int(text), False
    host, sep, port = text.rpartition(":")
    try:
        address = _ip(host)
    except ValueError:
        raise ConfigError(f'Couldn\'t parse address "{text}" for {name}Port') from None
    if not sep or not port:
        raise ConfigError(f"{name}Port line has address but no port")
    if port.lower() == "auto":
        return address, 0, True
    if not port.isdigit() or not 0 < int(port) <= 65535:
        raise ConfigError(f'Couldn\'t parse address "{text}" for {name}Port')
    return address, int(port), False


def _apply_socks_flag(flags: dict[str, Any], word: str, name: str, warn: WarnFn) -> None:
    low = word.lower()
    if low.startswith("sessiongroup="):
        number = word.split("=", 1)[1]
        if not number.isdigit():
            raise ConfigError(f"Invalid {name}Port option '{word}'")
        if flags.get("session_group") is not None:
            raise ConfigError(f"Multiple SessionGroup options on {name}Port")
        flags["session_group"] = int(number)
        return
    negate = low.startswith("no")
    bare = low[2:] if negate else low
    if bare in _UNIX_FLAGS:
        flags[_UNIX_FLAGS[bare]] = not negate
        flags["_unix_only"] = True
    elif bare == "oniontrafficonly":
        _onion_only(flags, negate, word, name, warn)
    elif bare in _HOSTNAME_FLAGS or bare in _STREAM_FLAGS:
        for field in {**_HOSTNAME_FLAGS, **_STREAM_FLAGS}[bare]:
            flags[field] = not negate
    elif bare.removesuffix("s") in _ISOLATION:
        flags[_ISOLATION[bare.removesuffix("s")]] = not negate
    else:
        warn(f"Unrecognized {name}Port option '{word}'")


def _onion_only(flags: dict[str, Any], negate: bool, word: str, name: str, warn: WarnFn) -> None:
    if negate:
        warn(f"Unsupported {name}Port option '{word}'. Use DNSRequest, IPv4Traffic, "
             "and/or IPv6Traffic instead.")
        return
    flags.update(ipv4_traffic=False, ipv6_traffic=False, dns_request=False)


def _check_socks(spec: SocksPortSpec, unix_only: bool, name: str) -> SocksPortSpec:
    if not (spec.ipv4_traffic or spec.ipv6_traffic or spec.onion_traffic):
        raise ConfigError(f"You have a {name}Port entry with all of IPv4 and IPv6 and "
                          ".onion disabled; that won't work.")
    if spec.dns_request and not (spec.ipv4_traffic or spec.ipv6_traffic):
        raise ConfigError(f"You have a {name}Port entry with DNSRequest enabled, but IPv4 "
                          "and IPv6 disabled; DNS-based sites won't work.")
    if unix_only and spec.unix_path is None:
        raise ConfigError(f"You have a {name}Port entry with GroupWritable, WorldWritable, "
                          "or RelaxDirModeCheck, but it is not a unix socket.")
    if spec.keepalive_isolate_socks_auth and not spec.isolate_socks_auth:
        raise ConfigError(f"You have a {name}Port entry with both NoIsolateSOCKSAuth and "
                          "KeepAliveIsolateSOCKSAuth set.")
    if spec.unix_path is not None:
        spec = dataclasses.replace(spec, isolate_client_addr=False)
    if not spec.isolate_socks_auth:
        spec = dataclasses.replace(spec, prefer_socks_no_auth=True)
    return spec


def parse_socks_port(value: str, warn: WarnFn, name: str = "Socks") -> SocksPortSpec | None:
    """One SocksPort line; None for ``0`` (disabled)."""
    head, is_unix, words = _split_addrport(value)
    if not head:
        raise ConfigError(f"Invalid {name}Port line with no address")
    flags: dict[str, Any] = {}
    for word in words:
        _apply_socks_flag(flags, word, name, warn)
    unix_only = bool(flags.pop("_unix_only", False))
    if is_unix:
        spec = dataclasses.replace(SocksPortSpec(None, 0, False, head), **flags)
        return _check_socks(spec, unix_only, name)
    address, port, auto = _parse_addrport(head, "127.0.0.1", name)
    spec = dataclasses.replace(SocksPortSpec(address, port, auto), **flags)
    spec = _check_socks(spec, unix_only, name)
    return spec if port or auto else None


def _zero_mix(lines: Sequence[ConfigLine], disabled: int, name: str) -> None:
    if 0 < disabled < len(lines):
        raise ConfigError(
            f"You specified a nonzero {name}Port along with '{name}Port 0' in the same "
            f"configuration. Did you mean to disable {name}Port or not?",
            lines[-1].where,
        )


def resolve_socks_ports(lines: Sequence[ConfigLine], warn: WarnFn) -> tuple[SocksPortSpec, ...]:
    """All SocksPort lines; with none, tor's default 127.0.0.1:9050."""
    if not lines:
        return (SocksPortSpec(),)
    specs = []
    for line in lines:
        try:
            spec = parse_socks_port(line.value, warn)
        except ConfigError as exc:
            raise ConfigError(exc.message, line.where) from exc
        if spec is not None:
            specs.append(spec)
    _zero_mix(lines, len(lines) - len(specs), "Socks")
    return tuple(specs)


def _apply_server_flag(flags: dict[str, Any], word: str, name: str, warn: WarnFn) -> None:
    table = {"noadvertise": "no_advertise", "nolisten": "no_listen",
             "ipv4only": "ipv4_only", "ipv6only": "ipv6_only"}
    low = word.lower()
    bare = low[2:] if low.startswith("no") and low[2:] in _UNIX_FLAGS else low
    if bare in _UNIX_FLAGS:
        flags[_UNIX_FLAGS[bare]] = bare == low
    elif low in table:
        flags[table[low]] = True
    else:
        warn(f"Unrecognized {name}Port option '{word}'")


def parse_listen_port(
    value: str, name: str, default_addr: str, warn: WarnFn
) -> ListenPortSpec | None:
    """One ControlPort/ORPort/DirPort line; None for ``0``."""
    head, is_unix, words = _split_addrport(value)
    if not head:
        raise ConfigError(f"Invalid {name}Port line with no address")
    flags: dict[str, Any] = {}
    for word in words:
        _apply_server_flag(flags, word, name, warn)
    if flags.get("no_advertise") and flags.get("no_listen"):
        raise ConfigError(f"Tried to set both NoListen and NoAdvertise on {name}Port line")
    if flags.get("ipv4_only") and flags.get("ipv6_only"):
        raise ConfigError(f"Tried to set both IPv4Only and IPv6Only on {name}Port line")
    if is_unix:
        return dataclasses.replace(ListenPortSpec(None, 0, False, head), **flags)
    address, port, auto = _parse_addrport(head, default_addr, name)
    spec = dataclasses.replace(ListenPortSpec(address, port, auto), **flags)
    return spec if port or auto else None


def listen_port_resolver(name: str, default_addr: str) -> ListResolver:
    """A resolver for the ``{name}Port`` option (no default port)."""

    def resolve(lines: Sequence[ConfigLine], warn: WarnFn) -> tuple[ListenPortSpec, ...]:
        specs = []
        for line in lines:
            try:
                spec = parse_listen_port(line.value, name, default_addr, warn)
            except ConfigError as exc:
                raise ConfigError(exc.message, line.where) from exc
            if spec is not None:
                specs.append(spec)
        _zero_mix(lines, len(lines) - len(specs), name)
        return tuple(specs)

    return resolve

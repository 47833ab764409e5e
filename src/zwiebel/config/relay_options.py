"""Relay options for keys, descriptors, their publication, bandwidth and accounting.

Types and defaults from tor 0.4.9.11 (``src/app/config/config.c`` option_vars_ and
``doc/man/tor.1.txt``). The bandwidth and accounting options are used by
``zwiebel.features.relay.service`` (shaping, observed bandwidth, hibernation); the
AccountingStart syntax is checked there at start-up. Nickname, ORPort, DirPort,
ContactInfo, Address, ExitPolicy, ExitRelay and AssumeReachable are registered with the
daemon options; the exit-policy modifiers (ReducedExitPolicy, IPv6Exit,
ExitPolicyRejectLocalInterfaces) belong to the exit feature. `RELAY_OPTIONS` is
registered by ``zwiebel.config`` with the other built-in tables.
"""

from __future__ import annotations

from collections.abc import Sequence

from zwiebel.config.errors import ConfigError
from zwiebel.config.lexer import ConfigLine
from zwiebel.config.registry import Kind, OptionDef, WarnFn
from zwiebel.config.units import parse_msec_interval

_PUBLISH_WORDS = frozenset({"0", "1", "v3", "bridge"})


def resolve_my_family(lines: Sequence[ConfigLine], warn: WarnFn) -> tuple[str, ...]:
    """All MyFamily lines as one list of members (commas and spaces separate them)."""
    return tuple(m for line in lines for m in line.value.replace(",", " ").split())


def parse_accounting_rule(text: str) -> str:
    """AccountingRule: sum, max, in or out (tor options_validate_accounting)."""
    rule = text.strip().lower()
    if rule not in ("sum", "max", "in", "out"):
        raise ConfigError("AccountingRule must be 'sum', 'max', 'in', or 'out'")
    return rule


def parse_refill_interval(text: str) -> int:
    """TokenBucketRefillInterval in milliseconds, 1 to 1000 as tor requires."""
    msec = parse_msec_interval(text)
    if not 1 <= msec <= 1000:
        raise ConfigError("TokenBucketRefillInterval must be between 1 and 1000 inclusive.")
    return msec


def parse_publish(text: str) -> tuple[str, ...]:
    """PublishServerDescriptor: 0, 1, v3 or bridge, comma separated (tor also takes
    the obsolete v1/v2/hidserv, ignored)."""
    words = tuple(w.strip().lower() for w in text.split(",") if w.strip())
    for word in words:
        if word not in _PUBLISH_WORDS | {"v1", "v2", "hidserv"}:
            raise ConfigError(f"Unrecognized value in PublishServerDescriptor: '{word}'")
    return tuple(w for w in words if w in _PUBLISH_WORDS)


RELAY_OPTIONS: tuple[OptionDef, ...] = (
    OptionDef("MyFamily", Kind.LINELIST, None, "Relays run by the same operator.",
              resolve=resolve_my_family),
    OptionDef("BandwidthRate", Kind.MEMUNIT, "1 GB", "Average bandwidth for all traffic.",
              aliases=("BandwidthRateBytes",)),
    OptionDef("BandwidthBurst", Kind.MEMUNIT, "1 GB", "Burst bandwidth for all traffic.",
              aliases=("BandwidthBurstBytes",)),
    OptionDef("RelayBandwidthRate", Kind.MEMUNIT, "0", "Average for relayed traffic."),
    OptionDef("RelayBandwidthBurst", Kind.MEMUNIT, "0", "Burst for relayed traffic."),
    OptionDef("MaxAdvertisedBandwidth", Kind.MEMUNIT, "1 GB", "Cap on advertised rate."),
    OptionDef("PublishServerDescriptor", Kind.CSV, "1", "Where to publish descriptors.",
              parse=parse_publish),
    OptionDef("SigningKeyLifetime", Kind.INTERVAL, "30 days", "Ed25519 signing key life."),
    OptionDef("DirCache", Kind.BOOLEAN, "1", "Serve directory information (BEGIN_DIR)."),
    OptionDef("ExitPolicyRejectLocalInterfaces", Kind.BOOLEAN, "0",
              "Reject this host's interface addresses in the exit policy."),
    OptionDef("IPv6Exit", Kind.BOOLEAN, "0", "Allow exiting to IPv6 addresses."),
    OptionDef("ReducedExitPolicy", Kind.BOOLEAN, "0", "Use tor's reduced exit policy."),
    OptionDef("OutboundBindAddress", Kind.LINELIST, None,
              "Source address for outgoing connections."),
    OptionDef("AccountingMax", Kind.MEMUNIT, "0",
              "Bytes per accounting period before hibernating (0: no accounting)."),
    OptionDef("AccountingStart", Kind.STRING, None,
              "When accounting periods begin: day|week|month [day] HH:MM."),
    OptionDef("AccountingRule", Kind.STRING, "max",
              "How read and written bytes count: sum, max, in or out.",
              parse=parse_accounting_rule),
    OptionDef("TokenBucketRefillInterval", Kind.MSEC_INTERVAL, "100 msec",
              "How often blocked connections are woken to use refilled buckets.",
              parse=parse_refill_interval),
)

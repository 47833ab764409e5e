"""The exit policy a relay publishes (tor's policies_parse_exit_policy_from_options).

Builds the effective policy from ExitPolicy, ExitRelay, ReducedExitPolicy, IPv6Exit,
ExitPolicyRejectPrivate, ExitPolicyRejectLocalInterfaces and BridgeRelay, and removes
redundant rules with tor's three passes (exit_policy_remove_redundancies, policies.c).
Parsing, matching and summaries are in `zwiebel.netdoc.policy`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from zwiebel.netdoc.policy import (
    DEFAULT_EXIT_POLICY,
    REDUCED_EXIT_POLICY,
    Address,
    ExitPolicy,
    PolicyRule,
    is_internal,
    masked_equal,
    parse_config_policy,
)


def _public_for_reject(addr: Address) -> bool:
    return int(addr) != 0 and not is_internal(addr) and not addr.is_multicast


def _covers(a: PolicyRule, b: PolicyRule) -> bool:
    """addr_policy_covers: every address and port of `b` is also in `a`."""
    return (
        a.maskbits <= b.maskbits
        and masked_equal(a.address, b.address, a.maskbits)
        and a.min_port <= b.min_port
        and a.max_port >= b.max_port
    )


def _intersects(a: PolicyRule, b: PolicyRule) -> bool:
    """addr_policy_intersects: some address and port is in both."""
    bits = min(a.maskbits, b.maskbits)
    if not masked_equal(a.address, b.address, bits):
        return False
    return not (a.max_port < b.min_port or b.max_port < a.min_port)


def remove_redundancies(rules: Sequence[PolicyRule]) -> list[PolicyRule]:
    """exit_policy_remove_redundancies: tor's three passes, in its order."""
    out: list[PolicyRule] = []
    dead: set[int] = set()
    for rule in rules:  # 1: nothing of a family survives its catch-all
        if rule.address.version in dead:
            continue
        out.append(rule)
        if rule.maskbits == 0 and rule.all_ports:
            dead.add(rule.address.version)
    i = 0
    while i < len(out) - 1:  # 2: drop later rules an earlier one covers
        out[i + 1 :] = [r for r in out[i + 1 :] if not _covers(out[i], r)]
        i += 1
    i = 0
    while i < len(out) - 1:  # 3: drop a rule a later same-action rule covers
        if _covered_later(out, i):
            del out[i]
        else:
            i += 1
    return out


def _covered_later(rules: Sequence[PolicyRule], i: int) -> bool:
    for later in rules[i + 1 :]:
        if later.accept != rules[i].accept:
            if _intersects(rules[i], later):
                return False
        elif _covers(later, rules[i]):
            return True
    return False





@dataclass(frozen=True)
class ExitPolicyOptions:
    """The torrc options (and addresses) the effective exit policy depends on.

    `exit_relay` None is ExitRelay auto. `interface_addresses` are this host's
    addresses, looked up by the caller (tor's get_interface_address6_list).
    """

    exit_policy: tuple[str, ...] | None = None
    exit_relay: bool | None = None
    reduced_exit_policy: bool = False
    ipv6_exit: bool = False
    reject_private: bool = True
    reject_local_interfaces: bool = False
    bridge_relay: bool = False
    relay_addresses: tuple[Address, ...] = ()
    outbound_addresses: tuple[Address, ...] = ()
    port_addresses: tuple[Address, ...] = ()
    interface_addresses: tuple[Address, ...] = ()


_REJECT_ALL = "reject *4:*,reject *6:*"


def build_exit_policy(opts: ExitPolicyOptions) -> ExitPolicy:
    """The policy tor derives from ExitPolicy, ExitRelay, ReducedExitPolicy, IPv6Exit,
    ExitPolicyRejectPrivate, ExitPolicyRejectLocalInterfaces and BridgeRelay."""
    auto = opts.exit_policy is None and not opts.reduced_exit_policy and not opts.ipv6_exit
    if opts.exit_relay is False or (opts.exit_relay is None and auto):
        return ExitPolicy.from_config([_REJECT_ALL])
    rules: list[PolicyRule] = []
    if not opts.ipv6_exit:
        rules += parse_config_policy(["reject *6:*"])
    if opts.reject_private:
        rules += parse_config_policy(["reject private:*"])
    rules = remove_redundancies(rules + _local_rejects(opts))
    rules += parse_config_policy(opts.exit_policy or ())
    if opts.bridge_relay:
        tail = _REJECT_ALL
    else:
        tail = REDUCED_EXIT_POLICY if opts.reduced_exit_policy else DEFAULT_EXIT_POLICY
    return ExitPolicy(tuple(remove_redundancies(rules + parse_config_policy([tail]))))


def _local_rejects(opts: ExitPolicyOptions) -> list[PolicyRule]:
    """policies_parse_exit_policy_reject_private: "reject ADDR:*" for public addresses."""
    configured = list(opts.relay_addresses) if opts.reject_private else []
    candidates: list[Address] = []
    if opts.reject_local_interfaces:
        configured += opts.outbound_addresses
        candidates += opts.port_addresses
        candidates += opts.interface_addresses
    out = []
    for addr in configured + candidates:
        if _public_for_reject(addr) and (addr.version == 4 or opts.ipv6_exit):
            out.append(PolicyRule(False, addr, addr.max_prefixlen))
    return out

"""Assembling an authority's vote from what it knows (dir-spec 3.4.1).

tor 0.4.9.11 dirserv_generate_networkstatus_vote_obj (src/feature/dirauth/dirvote.c):
decide which relays are Running (dirserv_set_router_is_running, which also tells the
history about relays that stopped answering), drop duplicate Ed25519 keys
(routers_make_ed_keys_unique), mark Sybils (get_all_possible_sybil) and make their
history pessimal, compute the flag thresholds, then one VoteRouter per fresh
descriptor sorted by identity, with flags, "v", "pr", "w", "p", "id", "stats" and "m".
The preamble carries tor's protocol lists, the known flags, the thresholds and the
"params" (ConsensusParams plus AuthDirMaxServersPerAddr, sorted as strings).

`build_vote_body` mutates `history` as tor does (note_unreachable, make_pessimal).
The shared-random parts are passed in; measured bandwidths are not supported.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from zwiebel.dirauth.flags import (
    HIBERNATION_PUBLICATION_SKEW,
    REACHABILITY_TEST_CYCLE_PERIOD,
    REACHABLE_TIMEOUT,
    ROUTER_MAX_AGE_TO_PUBLISH,
    FlagOptions,
    RelayFacts,
    Thresholds,
    assign_flags,
    bandwidth_kb,
    compute_thresholds,
)
from zwiebel.dirauth.history import ReachabilityHistory
from zwiebel.dirauth.microdescs import vote_microdescs
from zwiebel.dirauth.schedule import VoteTimes
from zwiebel.netdoc.serverdesc import ServerDescriptor
from zwiebel.netdoc.vote import SharedRandValue, VoteAuthority, VoteBody
from zwiebel.netdoc.vote_router import VoteRouter

CONSENSUS_METHODS = (32, 33, 34, 35)
RECOMMENDED_RELAY_PROTOCOLS = ("Cons=2 Desc=2 DirCache=2 FlowCtrl=1-2 HSDir=2 HSIntro=4-5 "
                               "HSRend=2 Link=4-5 LinkAuth=3 Microdesc=2 Relay=2-4")
REQUIRED_RELAY_PROTOCOLS = RECOMMENDED_RELAY_PROTOCOLS
RECOMMENDED_CLIENT_PROTOCOLS = ("Cons=2 Desc=2 DirCache=2 FlowCtrl=1-2 HSDir=2 HSIntro=4 "
                                "HSRend=2 Link=4-5 Microdesc=2 Relay=2-4")
REQUIRED_CLIENT_PROTOCOLS = "Cons=2 Desc=2 FlowCtrl=1 Link=4 Microdesc=2 Relay=2"
"""tor: protover_get_{recommended,required}_{relay,client}_protocols (protover.c)."""
UNIVERSAL_FLAGS = ("Authority", "Exit", "Fast", "Guard", "HSDir", "Stable", "StaleDesc",
                   "Sybil", "V2Dir", "Valid")


class DescriptorSource(Protocol):
    """What a vote needs of the store (DescriptorStore is one)."""

    def servers(self) -> list[ServerDescriptor]:
        """Current descriptors, sorted by identity digest."""
        ...


@dataclass(frozen=True)
class VoteOptions:
    """What shapes a vote besides the relays (tor.1.txt option names)."""

    flags: FlagOptions = FlagOptions()
    consensus_params: tuple[str, ...] | None = None
    """ConsensusParams "K=V" words; None: not set (then the vote's "params" is empty)."""
    client_versions: tuple[str, ...] | None = None
    """RecommendedClientVersions when VersioningAuthoritativeDirectory, else None."""
    server_versions: tuple[str, ...] | None = None
    started: datetime | None = None
    """When this authority started (for TestingAuthDirTimeToLearnReachability)."""


@dataclass(frozen=True)
class SharedRandom:
    """The shared-random part of a vote (computed elsewhere)."""

    participate: bool = True
    commits: tuple[str, ...] = ()
    previous: SharedRandValue | None = None
    current: SharedRandValue | None = None


@dataclass
class _Relay:
    desc: ServerDescriptor
    running: bool
    sybil: bool = False
    facts: RelayFacts | None = field(default=None)


def is_running(desc: ServerDescriptor, history: ReachabilityHistory, now: datetime,
               opts: FlagOptions) -> bool:
    """dirserv_set_router_is_running's answer (without its history side effect)."""
    if desc.identity == opts.own_identity:
        return True
    last = history.last_reachable(desc.identity)
    last_ts = int(last.timestamp()) if last else 0
    if desc.hibernating and int(desc.published.timestamp()) + HIBERNATION_PUBLICATION_SKEW \
            > last_ts:
        return False
    if not opts.test_reachability:
        return True
    return int(now.timestamp()) < last_ts + REACHABLE_TIMEOUT


def _learned(now: datetime, opts: VoteOptions) -> bool:
    """running_long_enough_to_decide_unreachable."""
    started = opts.started or now - timedelta(days=365)
    return started + timedelta(seconds=opts.flags.time_to_learn_reachability) < now


def _note_down(desc: ServerDescriptor, history: ReachabilityHistory, now: datetime) -> None:
    last = history.last_reachable(desc.identity)
    when = now
    cycle = timedelta(seconds=REACHABILITY_TEST_CYCLE_PERIOD)
    if last is not None and last + cycle < now:
        when = last + cycle
    history.note_unreachable(desc.identity, when)


def _unique_ed_keys(descs: list[ServerDescriptor]) -> list[ServerDescriptor]:
    """routers_make_ed_keys_unique: per Ed25519 key keep the newest (then lowest digest)."""
    best: dict[bytes, ServerDescriptor] = {}
    for d in descs:
        if d.ed25519_id is None:
            continue
        other = best.get(d.ed25519_id)
        if other is None or (other.published, d.digest) < (d.published, other.digest):
            best[d.ed25519_id] = d
    return [d for d in descs if d.ed25519_id is None or best[d.ed25519_id] is d]


def _sybils(relays: list[_Relay], opts: FlagOptions) -> set[bytes]:
    """get_all_possible_sybil: past AuthDirMaxServersPerAddr per IPv4 / IPv6 address."""
    limit = opts.max_per_address if opts.max_per_address > 0 else None
    out: set[bytes] = set()
    if limit is None:
        return out

    def useful(r: _Relay) -> tuple[bool, bool, int, bytes]:
        d = r.desc
        return (d.identity not in opts.authorities, not r.running, -bandwidth_kb(d),
                d.identity)

    for family in (4, 6):
        groups: dict[str, list[_Relay]] = {}
        for r in relays:
            addrs = [r.desc.address] if family == 4 else [
                a for a, _ in r.desc.or_addresses[:1] if ipaddress.ip_address(a).version == 6]
            for a in addrs:
                groups.setdefault(ipaddress.ip_address(a).exploded, []).append(r)
        for group in groups.values():
            out.update(r.desc.identity for r in sorted(group, key=useful)[limit:])
    return out


def _relays(store: DescriptorSource, history: ReachabilityHistory, now: datetime,
            opts: VoteOptions) -> list[_Relay]:
    learned = _learned(now, opts)
    relays = []
    for desc in store.servers():
        running = is_running(desc, history, now, opts.flags)
        if not running and learned:
            _note_down(desc, history, now)
        relays.append(_Relay(desc, running))
    keep = {d.digest for d in _unique_ed_keys([r.desc for r in relays])}
    relays = [r for r in relays if r.desc.digest in keep]
    sybils = _sybils(relays, opts.flags)
    for r in relays:
        r.sybil = r.desc.identity in sybils
        if r.sybil:
            history.make_pessimal(r.desc.identity, now)
        ident = r.desc.identity
        r.facts = RelayFacts(r.desc, r.running, r.sybil, history.uptime(ident, now),
                             history.mtbf(ident, now), history.wfu(ident, now),
                             history.time_known(ident, now))
    return relays


def version_from_platform(platform: str | None) -> str | None:
    """The "v" line: "Tor X" from the platform, "(r...)" kept (dirvote.c)."""
    if platform is None or not platform.startswith("Tor "):
        return None
    words = platform.split(" ")
    if len(words) > 2 and words[2].startswith("(r"):
        return " ".join(words[:3])
    return " ".join(words[:2])


def vote_router(f: RelayFacts, flags: frozenset[str], history: ReachabilityHistory,
                now: datetime, opts: FlagOptions) -> VoteRouter:
    """One relay's vote entry."""
    d = f.desc
    v6 = [(a, p) for a, p in d.or_addresses[:1] if ":" in a]
    show_v6 = opts.has_ipv6_connectivity and (f.running or d.identity == opts.own_identity)
    return VoteRouter(
        nickname=d.nickname, identity=d.identity, descriptor_digest=d.digest,
        published=d.published, address=d.address, or_port=d.or_port, dir_port=d.dir_port,
        or_addresses=tuple(v6) if show_v6 else (), flags=flags,
        version=version_from_platform(d.platform),
        protocols=_protocols_text(d), bandwidth=bandwidth_kb(d), measured=None,
        policy_summary=d.exit_policy.summarize(4).encode(), ed25519_id=d.ed25519_id,
        stats=history.stats_line(d.identity, now), microdescs=vote_microdescs(d))


def _protocols_text(desc: ServerDescriptor) -> str:
    """The descriptor's "proto" line verbatim."""
    for line in desc.raw.splitlines():
        if line.startswith("proto "):
            return line[6:].strip(" \t")
    return ""


def _params(opts: VoteOptions) -> tuple[tuple[str, int], ...]:
    if opts.consensus_params is None:
        return ()
    words = list(opts.consensus_params)
    words.append(f"AuthDirMaxServersPerAddr={opts.flags.max_per_address}")
    out = []
    for word in sorted(words):
        key, _, value = word.partition("=")
        out.append((key, int(value)))
    return tuple(out)


def known_flags(vote_on_reachability: bool, opts: FlagOptions) -> tuple[str, ...]:
    """The vote's "known-flags"."""
    flags = list(UNIVERSAL_FLAGS)
    for name, on in (("Running", vote_on_reachability), ("BadExit", opts.list_bad_exits),
                     ("MiddleOnly", opts.list_middle_only)):
        if on:
            flags.append(name)
    return tuple(sorted(flags))


def vote_routers(relays: Sequence[RelayFacts], thresholds: Thresholds,
                 history: ReachabilityHistory, now: datetime, opts: VoteOptions
                 ) -> tuple[VoteRouter, ...]:
    """The vote's entries for fresh descriptors, in identity order."""
    authority_uptime = int((now - (opts.started or now - timedelta(days=365))).total_seconds())
    learned = _learned(now, opts)
    out = []
    for f in relays:
        if f.desc.published < now - ROUTER_MAX_AGE_TO_PUBLISH:
            continue
        flags = assign_flags(f, thresholds, opts.flags, now,
                             authority_uptime=authority_uptime, vote_on_reachability=learned)
        out.append(vote_router(f, flags, history, now, opts.flags))
    return tuple(out)


def build_vote_body(store: DescriptorSource, history: ReachabilityHistory, now: datetime,
                    times: VoteTimes, authority: VoteAuthority,
                    opts: VoteOptions = VoteOptions(),
                    shared_random: SharedRandom = SharedRandom()) -> VoteBody:
    """Everything this authority votes at `now` for the period `times` describes."""
    relays = _relays(store, history, now, opts)
    facts = [r.facts for r in relays if r.facts is not None]
    thresholds = compute_thresholds(facts, opts.flags, now, history.have_enough_stability(now))
    return VoteBody(
        consensus_methods=CONSENSUS_METHODS, published=now,
        valid_after=times.valid_after, fresh_until=times.fresh_until,
        valid_until=times.valid_until, voting_delay=(times.vote_delay, times.dist_delay),
        client_versions=opts.client_versions, server_versions=opts.server_versions,
        known_flags=known_flags(_learned(now, opts), opts.flags),
        flag_thresholds=thresholds.line(),
        recommended_client_protocols=RECOMMENDED_CLIENT_PROTOCOLS,
        recommended_relay_protocols=RECOMMENDED_RELAY_PROTOCOLS,
        required_client_protocols=REQUIRED_CLIENT_PROTOCOLS,
        required_relay_protocols=REQUIRED_RELAY_PROTOCOLS,
        params=_params(opts), authority=authority,
        sr_participate=shared_random.participate, sr_commits=shared_random.commits,
        sr_previous=shared_random.previous, sr_current=shared_random.current,
        routers=vote_routers(facts, thresholds, history, now, opts))

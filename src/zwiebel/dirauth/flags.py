"""Which flags an authority votes for each relay (dir-spec 3.4.2).

tor 0.4.9.11 src/feature/dirauth/voteflags.c: performance thresholds over the
"active" relays (dirserv_compute_performance_thresholds) and the per-relay decision
(dirauth_set_routerstatus_from_routerinfo), with the TestingTorNetwork overrides
(TestingDirAuthVote{Exit,Guard,HSDir}[IsStrict], TestingMinExitFlagThreshold,
TestingMinFastFlagThreshold) and Sybil clearing (dirvote.c, AuthDirMaxServersPerAddr).

Deliberately not here: measured bandwidths (V3BandwidthsFile; without it tor uses the
advertised bandwidth, as here), GuardFraction, country codes in router sets.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from zwiebel.netdoc.serverdesc import ServerDescriptor

DAY = 86400
ROUTER_MAX_AGE_TO_PUBLISH = timedelta(hours=24)
DESC_IS_STALE_INTERVAL = timedelta(hours=18)
REACHABLE_TIMEOUT = 45 * 60
HIBERNATION_PUBLICATION_SKEW = 60 * 60
REACHABILITY_TEST_CYCLE_PERIOD = 10 * 128
RELAY_REQUIRED_MIN_BANDWIDTH = 75 * 1024
DEFAULT_MAX_BELIEVABLE_BANDWIDTH = 10_000_000
ABSOLUTE_MIN_BW_VALUE_TO_CONSIDER_KB = 4
INT32_MAX = 2**31 - 1


@dataclass(frozen=True)
class RouterSet:
    """A torrc router set: "*", "$FINGERPRINT[=~nick]", "FINGERPRINT", nicknames, IPs/masks."""

    entries: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> RouterSet:
        """From a comma-separated torrc value (None: the empty set)."""
        if not text:
            return cls()
        return cls(tuple(e.strip() for e in text.split(",") if e.strip()))

    def contains(self, desc: ServerDescriptor) -> bool:
        """routerset_contains_routerstatus for identity, nickname and IPv4 address."""
        return any(_entry_matches(e, desc) for e in self.entries)


def _entry_matches(entry: str, desc: ServerDescriptor) -> bool:
    if entry == "*":
        return True
    hexid = entry.lstrip("$").split("=")[0].split("~")[0]
    if len(hexid) == 40 and all(c in "0123456789abcdefABCDEF" for c in hexid):
        return bytes.fromhex(hexid) == desc.identity
    if entry.isalnum():
        return entry.lower() == desc.nickname.lower()
    try:
        net = ipaddress.ip_network(entry.split(":")[0].replace("*", "0.0.0.0/0"),
                                   strict=False)
    except ValueError:
        return False
    return ipaddress.ip_address(desc.address) in net


@dataclass(frozen=True)
class FlagOptions:
    """Authority options that decide flags (tor.1.txt names; defaults are tor's)."""

    testing: bool = False
    """TestingTorNetwork."""
    authorities: frozenset[bytes] = field(default_factory=frozenset)
    """RSA identity digests of the DirAuthority lines (Authority flag)."""
    own_identity: bytes | None = None
    dir_allow_private: bool = False
    test_reachability: bool = True
    """AuthDirTestReachability."""
    has_ipv6_connectivity: bool = False
    """AuthDirHasIPv6Connectivity."""
    vote_exit: RouterSet = RouterSet()
    vote_exit_strict: bool = False
    vote_guard: RouterSet = RouterSet()
    vote_guard_strict: bool = False
    vote_hsdir: RouterSet = RouterSet()
    vote_hsdir_strict: bool = False
    auth_vote_guard: RouterSet = RouterSet()
    """AuthDirVoteGuard (outside testing networks)."""
    min_exit_threshold: int = 0
    """TestingMinExitFlagThreshold, bytes/s."""
    min_fast_threshold: int = 0
    """TestingMinFastFlagThreshold, bytes/s."""
    fast_flag_min: int = 4
    """Consensus param FastFlagMinThreshold."""
    fast_flag_max: int = INT32_MAX
    """Consensus param FastFlagMaxThreshold."""
    fast_guarantee: int = 100 * 1024
    guard_bw_guarantee: int = 2 * 1024 * 1024
    stable_guarantee_uptime: int = 30 * DAY
    stable_guarantee_mtbf: int = 5 * DAY
    guard_guarantee_tk: int = 8 * DAY
    guard_guarantee_wfu: float = 0.98
    guard_bw_fraction: float = 0.75
    min_uptime_hsdir: int = 96 * 3600
    """MinUptimeHidServDirectoryV2 (0 on testing networks)."""
    time_to_learn_reachability: int = 30 * 60
    """TestingAuthDirTimeToLearnReachability (0 on testing networks)."""
    max_per_address: int = 2
    """AuthDirMaxServersPerAddr (0, unlimited, on testing networks)."""
    list_bad_exits: bool = False
    list_middle_only: bool = False
    bad_exits: frozenset[bytes] = field(default_factory=frozenset)
    middle_only: frozenset[bytes] = field(default_factory=frozenset)
    invalid: frozenset[bytes] = field(default_factory=frozenset)


@dataclass(frozen=True)
class RelayFacts:
    """What the flag rules need of one relay besides its descriptor."""

    desc: ServerDescriptor
    running: bool
    sybil: bool
    uptime: int
    """rep_hist_get_uptime: seconds in the current reachable run."""
    mtbf: float
    wfu: float
    tk: int


@dataclass(frozen=True)
class Thresholds:
    """The cutoffs of one vote; `line()` is the vote's "flag-thresholds" text."""

    stable_uptime: int = 0
    stable_mtbf: float = 0.0
    fast_kb: int = 0
    guard_wfu: float = 0.0
    guard_tk: int = 0
    guard_bw_inc_exits_kb: int = 0
    guard_bw_exc_exits_kb: int = 0
    enough_mtbf: bool = False

    def line(self) -> str:
        """dirserv_get_flag_thresholds_line."""
        return (f"stable-uptime={self.stable_uptime} stable-mtbf={int(self.stable_mtbf)} "
                f"fast-speed={self.fast_kb * 1000} guard-wfu={self.guard_wfu * 100:.3f}% "
                f"guard-tk={self.guard_tk} guard-bw-inc-exits={self.guard_bw_inc_exits_kb * 1000} "
                f"guard-bw-exc-exits={self.guard_bw_exc_exits_kb * 1000} "
                f"enough-mtbf={int(self.enough_mtbf)} ignoring-advertised-bws=0")


def bandwidth_kb(desc: ServerDescriptor) -> int:
    """router_get_advertised_bandwidth_capped / 1000: the vote's "w Bandwidth=" value."""
    rate, _burst, observed = desc.bandwidth
    return min(rate, observed, DEFAULT_MAX_BELIEVABLE_BANDWIDTH) // 1000


def real_uptime(desc: ServerDescriptor, now: datetime) -> int:
    """The descriptor's uptime plus the time since it was published."""
    ahead = int((now - desc.published).total_seconds())
    return (desc.uptime or 0) + max(ahead, 0)


def is_exit(desc: ServerDescriptor, opts: FlagOptions) -> bool:
    """Not reject-star and exit_policy_is_general_exit."""
    reject_star = desc.exit_policy.is_reject_star(4) and (
        desc.ipv6_policy is None or desc.ipv6_policy.is_reject_star)
    return not reject_star and desc.exit_policy.is_general_exit(opts.dir_allow_private)


def is_valid(desc: ServerDescriptor, opts: FlagOptions) -> bool:
    """Not marked invalid by the operator."""
    return desc.identity not in opts.invalid and desc.ed25519_id not in opts.invalid


def is_active(f: RelayFacts, opts: FlagOptions, now: datetime) -> bool:
    """router_is_active: fresh, running, valid, not hibernating."""
    return (f.desc.published >= now - ROUTER_MAX_AGE_TO_PUBLISH and f.running
            and is_valid(f.desc, opts) and not f.desc.hibernating)


def _nth(values: list[int], n: int) -> int:
    return sorted(values)[n]


def _counts(f: RelayFacts, opts: FlagOptions, now: datetime) -> bool:
    min_kb = opts.min_exit_threshold // 1000 if opts.testing \
        else ABSOLUTE_MIN_BW_VALUE_TO_CONSIDER_KB
    return is_active(f, opts, now) and not f.sybil and bandwidth_kb(f.desc) >= min_kb


def _fast_kb(bws: list[int], opts: FlagOptions) -> int:
    n = len(bws)
    fast = _nth(bws, n // 8) if n else 0
    if n and fast < RELAY_REQUIRED_MIN_BANDWIDTH // 2000:
        fast = sorted(bws)[n // 4]
    low = (opts.min_fast_threshold if opts.testing else opts.fast_flag_min) // 1000
    fast = min(max(fast, low), opts.fast_flag_max // 1000)
    if opts.fast_guarantee and fast > opts.fast_guarantee // 1000:
        fast = opts.fast_guarantee // 1000
    return fast


def compute_thresholds(facts: list[RelayFacts], opts: FlagOptions, now: datetime,
                       enough_mtbf: bool) -> Thresholds:
    """dirserv_compute_performance_thresholds."""
    active = [f for f in facts if _counts(f, opts, now)]
    bws = [bandwidth_kb(f.desc) for f in active]
    nonexit = [bandwidth_kb(f.desc) for f in active
               if not is_exit(f.desc, opts) or f.desc.identity in opts.bad_exits]
    n = len(active)
    guard_tk = min(_nth([f.tk for f in active], n // 8) if n else 0, opts.guard_guarantee_tk)
    familiar = sorted(f.wfu for f in active if f.tk >= guard_tk)
    guard_wfu = familiar[(len(familiar) - 1) // 2] if familiar else 0.0
    return Thresholds(
        stable_uptime=_nth([min(real_uptime(f.desc, now), 2**32 - 1) for f in active],
                           (n - 1) // 2) if n else 0,
        stable_mtbf=sorted(f.mtbf for f in active)[(n - 1) // 2] if n else 0.0,
        fast_kb=_fast_kb(bws, opts),
        guard_wfu=min(guard_wfu, opts.guard_guarantee_wfu),
        guard_tk=guard_tk,
        guard_bw_inc_exits_kb=_nth(bws, int(n * opts.guard_bw_fraction)) if n else 0,
        guard_bw_exc_exits_kb=_nth(nonexit, int(len(nonexit) * opts.guard_bw_fraction))
        if nonexit else 0,
        enough_mtbf=enough_mtbf,
    )


def _stable(f: RelayFacts, t: Thresholds, opts: FlagOptions, now: datetime) -> bool:
    if not t.enough_mtbf:
        up = real_uptime(f.desc, now)
        return not (up < t.stable_uptime and up < opts.stable_guarantee_uptime)
    return not (f.mtbf < t.stable_mtbf and f.mtbf < opts.stable_guarantee_mtbf)


def _hsdir(f: RelayFacts, stable: bool, fast: bool, opts: FlagOptions, now: datetime,
           authority_uptime: int) -> bool:
    up = real_uptime(f.desc, now)
    if authority_uptime > opts.min_uptime_hsdir * 1.1:
        up = min(up, f.uptime)
    return (f.desc.hidden_service_dir and f.desc.tunnelled_dir_server and stable and fast
            and up >= opts.min_uptime_hsdir and is_active(f, opts, now))


def _guard(f: RelayFacts, stable: bool, fast: bool, t: Thresholds, opts: FlagOptions) -> bool:
    bw = bandwidth_kb(f.desc)
    big = (opts.guard_bw_guarantee and bw >= opts.guard_bw_guarantee // 1000) or bw >= min(
        t.guard_bw_inc_exits_kb, t.guard_bw_exc_exits_kb)
    if not (fast and stable and f.desc.tunnelled_dir_server and big):
        return False
    return f.wfu >= t.guard_wfu and f.tk >= t.guard_tk


def _override(flags: set[str], name: str, rset: RouterSet, strict: bool,
              desc: ServerDescriptor) -> None:
    if rset.contains(desc):
        flags.add(name)
    elif strict:
        flags.discard(name)


def _policy_flags(flags: set[str], f: RelayFacts, opts: FlagOptions) -> None:
    """Bad exits, middle-only relays, testing overrides and Sybils."""
    desc = f.desc
    if opts.list_bad_exits and desc.identity in opts.bad_exits:
        flags.add("BadExit")
    if opts.list_middle_only and desc.identity in opts.middle_only:
        flags.add("MiddleOnly")
        if opts.list_bad_exits:
            flags.add("BadExit")
        flags -= {"Exit", "Guard", "HSDir", "V2Dir"}
    if opts.testing:
        _override(flags, "Exit", opts.vote_exit, opts.vote_exit_strict, desc)
        _override(flags, "Guard", opts.vote_guard, opts.vote_guard_strict, desc)
        _override(flags, "HSDir", opts.vote_hsdir, opts.vote_hsdir_strict, desc)
    elif opts.auth_vote_guard.contains(desc):
        flags.add("Guard")
    if f.sybil:
        flags &= {"BadExit", "StaleDesc", "MiddleOnly"}
        flags.add("Sybil")


def assign_flags(f: RelayFacts, t: Thresholds, opts: FlagOptions, now: datetime, *,
                 authority_uptime: int, vote_on_reachability: bool) -> frozenset[str]:
    """The "s" line of one relay (dirauth_set_routerstatus_from_routerinfo)."""
    desc = f.desc
    stable = _stable(f, t, opts, now)
    fast = bandwidth_kb(desc) >= t.fast_kb
    flags = {name for name, on in (
        ("Authority", desc.identity in opts.authorities),
        ("Exit", is_exit(desc, opts)),
        ("Fast", fast),
        ("Guard", _guard(f, stable, fast, t, opts)),
        ("HSDir", _hsdir(f, stable, fast, opts, now, authority_uptime)),
        ("Running", f.running and vote_on_reachability),
        ("Stable", stable),
        ("StaleDesc", desc.published + DESC_IS_STALE_INTERVAL < now),
        ("V2Dir", desc.tunnelled_dir_server),
        ("Valid", is_valid(desc, opts)),
    ) if on}
    _policy_flags(flags, f, opts)
    return frozenset(flags)

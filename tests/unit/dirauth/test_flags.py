"""Flag thresholds and flag assignment (zwiebel.dirauth.flags), tor 0.4.9.11 voteflags.c.

Relays are the real descriptors of tests/vectors/dirauth/realnet/server-all with the
bandwidth, uptime or policy changed per case; the vote-level comparison with real tor's
"s" lines is in test_votebuild.py.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

from zwiebel.dirauth.flags import (
    FlagOptions,
    RelayFacts,
    RouterSet,
    Thresholds,
    assign_flags,
    bandwidth_kb,
    compute_thresholds,
    is_exit,
)
from zwiebel.netdoc.policy import ExitPolicy
from zwiebel.netdoc.serverdesc import ServerDescriptor, parse_server_descriptors

REALNET = Path(__file__).parents[2] / "vectors" / "dirauth" / "realnet"
DESCS = parse_server_descriptors((REALNET / "server-all").read_text())
NOW = max(d.published for d in DESCS)
RELAY1 = next(d for d in DESCS if d.nickname == "relay1")


def facts(desc: ServerDescriptor, **kw: object) -> RelayFacts:
    base = RelayFacts(desc, running=True, sybil=False, uptime=100, mtbf=100.0, wfu=1.0,
                      tk=100)
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def with_bw(desc: ServerDescriptor, kb: int) -> ServerDescriptor:
    return dataclasses.replace(desc, bandwidth=(2**30, 2**30, kb * 1000))


def test_bandwidth_kb_is_capped_minimum() -> None:
    d = dataclasses.replace(DESCS[0], bandwidth=(50_000_000, 60_000_000, 40_000_000))
    assert bandwidth_kb(d) == 10_000
    assert bandwidth_kb(with_bw(DESCS[0], 24)) == 24


def test_thresholds_like_real_vote1() -> None:
    """auth0's vote: bandwidths 24 5 61 39 18 36 kB/s give fast 18, guard 39."""
    bws = [24, 5, 61, 39, 18, 36]
    fs = [facts(with_bw(d, bw), mtbf=17.0) for d, bw in zip(DESCS, bws, strict=True)]
    opts = FlagOptions(testing=True, dir_allow_private=True)
    t = compute_thresholds(fs, opts, NOW, enough_mtbf=False)
    assert t.fast_kb == 18 and t.guard_bw_inc_exits_kb == 39
    assert t.line().startswith("stable-uptime=")
    assert "fast-speed=18000 guard-wfu=98.000% guard-tk=100 guard-bw-inc-exits=39000" in t.line()


def test_public_minimum_bandwidth_and_fast_guarantee() -> None:
    fs = [facts(with_bw(d, 3000 + i)) for i, d in enumerate(DESCS)]
    t = compute_thresholds(fs, FlagOptions(), NOW, enough_mtbf=True)
    assert t.fast_kb == 102  # AuthDirFastGuarantee 100 KB
    tiny = compute_thresholds([facts(with_bw(d, 3)) for d in DESCS], FlagOptions(), NOW, True)
    assert tiny == Thresholds(enough_mtbf=True)  # FastFlagMinThreshold 4 is bytes: 0 kB


def test_inactive_relays_do_not_count() -> None:
    fs = [facts(with_bw(d, 10 * (i + 1)), running=i > 0) for i, d in enumerate(DESCS)]
    t = compute_thresholds(fs, FlagOptions(testing=True), NOW, enough_mtbf=False)
    assert t.fast_kb == 30  # [20..60], n=5: sorted[n//4]


def test_flags_of_an_ordinary_relay() -> None:
    d = dataclasses.replace(with_bw(RELAY1, 50), uptime=1000)
    t = Thresholds(stable_uptime=10, fast_kb=20, guard_wfu=0.98, guard_tk=10,
                   guard_bw_inc_exits_kb=40, guard_bw_exc_exits_kb=40)
    opts = FlagOptions(dir_allow_private=True, min_uptime_hsdir=0)
    flags = assign_flags(facts(d), t, opts, NOW, authority_uptime=10**6,
                         vote_on_reachability=True)
    assert flags == {"Fast", "Guard", "HSDir", "Running", "Stable", "V2Dir", "Valid"}
    slow_desc = dataclasses.replace(with_bw(RELAY1, 5), uptime=1000)
    slow = assign_flags(facts(slow_desc, wfu=0.5), t, opts, NOW, authority_uptime=10**6,
                        vote_on_reachability=False)
    assert slow == {"Stable", "V2Dir", "Valid"}


def test_testing_overrides_and_strictness() -> None:
    d = DESCS[0]
    t = Thresholds(fast_kb=10**6)
    opts = FlagOptions(testing=True, vote_guard=RouterSet.parse("*"),
                       vote_exit=RouterSet.parse("$" + d.identity.hex()),
                       vote_hsdir=RouterSet.parse("nobody"), vote_hsdir_strict=True)
    flags = assign_flags(facts(d), t, opts, NOW, authority_uptime=0,
                         vote_on_reachability=True)
    assert {"Guard", "Exit"} <= flags and "HSDir" not in flags and "Fast" not in flags
    other = assign_flags(facts(DESCS[1]), t, opts, NOW, authority_uptime=0,
                         vote_on_reachability=True)
    assert "Exit" not in other and "Guard" in other


def test_sybil_stale_and_middle_only() -> None:
    d = DESCS[0]
    t = Thresholds()
    syb = assign_flags(facts(d, sybil=True), t, FlagOptions(authorities=frozenset({d.identity})),
                       NOW, authority_uptime=0, vote_on_reachability=True)
    assert syb == {"Sybil"}
    stale = assign_flags(facts(d), t, FlagOptions(), NOW + timedelta(hours=18, seconds=1),
                         authority_uptime=0, vote_on_reachability=True)
    assert "StaleDesc" in stale
    mo = FlagOptions(list_middle_only=True, list_bad_exits=True, middle_only=frozenset(
        {d.identity}))
    flags = assign_flags(facts(d), t, mo, NOW, authority_uptime=0, vote_on_reachability=True)
    assert {"MiddleOnly", "BadExit"} <= flags and not {"Guard", "V2Dir", "Exit"} & flags


def test_exit_needs_a_general_policy() -> None:
    d = DESCS[0]
    web = dataclasses.replace(d, exit_policy=ExitPolicy.from_descriptor_lines(
        ["accept *:80", "accept *:443", "reject *:*"]))
    assert is_exit(web, FlagOptions())
    loop = dataclasses.replace(d, exit_policy=ExitPolicy.from_descriptor_lines(
        ["accept 127.0.0.0/8:*", "reject *:*"]))
    assert is_exit(loop, FlagOptions(dir_allow_private=True))
    assert not is_exit(loop, FlagOptions())
    assert not is_exit(d, FlagOptions(dir_allow_private=True))


def test_router_set() -> None:
    d = DESCS[0]
    assert RouterSet.parse("*").contains(d)
    assert RouterSet.parse(f"foo, ${d.identity.hex().upper()}~x").contains(d)
    assert RouterSet.parse(d.nickname.upper()).contains(d)
    assert RouterSet.parse("127.0.0.0/8").contains(d)
    assert not RouterSet.parse("10.0.0.0/8,bar").contains(d)
    assert not RouterSet.parse(None).contains(d)

"""Path selection (path-spec 2.2): constraints, exit by port, torrc node sets, weights."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from tests.unit.netdir.support import Full, HashRng, Ports, fp, relay
from zwiebel.netdir import (
    NameSet,
    NetDir,
    NoPathError,
    PathRestrictions,
    Purpose,
    RelayInfo,
    choose_exit,
    choose_middle,
    choose_path,
)

WEB = frozenset({80, 443})
DEFAULT = PathRestrictions()


def _network() -> list[RelayInfo]:
    guards = [relay(i, flags={"Guard"}) for i in range(1, 6)]
    middles = [relay(i) for i in range(10, 16)]
    exits = [relay(i, flags={"Exit"}, policy=Ports(WEB)) for i in range(20, 25)]
    return guards + middles + exits


def _assert_valid(path: tuple[RelayInfo, ...], rules: PathRestrictions = DEFAULT) -> None:
    assert len({r.rsa_identity for r in path}) == 3
    for i, a in enumerate(path):
        for b in path[i + 1 :]:
            assert not rules.conflicts(a, b)


def test_choose_path_many_times_obeys_constraints() -> None:
    netdir = NetDir(_network())
    rng = HashRng(b"paths")
    for _ in range(300):
        path = choose_path(netdir, Purpose.EXIT, 443, None, rng, DEFAULT)
        _assert_valid(path)
        assert path[0].has_flag("Guard")
        assert path[2].exit_allows(None, 443)


def test_given_guard_is_first_and_never_repeated() -> None:
    relays = _network()
    netdir = NetDir(relays)
    rng = HashRng(b"guard")
    for _ in range(100):
        path = choose_path(netdir, Purpose.EXIT, 80, relays[0], rng, DEFAULT)
        assert path[0] is relays[0]
        _assert_valid(path)


def test_same_16_excluded_unless_disabled() -> None:
    guard = relay(1, flags={"Guard"}, address="10.1.0.1")
    twin_exit = relay(2, flags={"Exit"}, policy=Ports(WEB), address="10.1.9.9")
    far_exit = relay(3, flags={"Exit"}, policy=Ports(WEB), address="10.7.0.1")
    netdir = NetDir([guard, twin_exit, far_exit, relay(4)])
    rng = HashRng(b"subnet")
    chosen = {choose_exit(netdir, DEFAULT, rng, 443, None, [guard]).nickname for _ in range(50)}
    assert chosen == {"relay3"}
    lax = PathRestrictions(enforce_distinct_subnets=False)
    chosen = {choose_exit(netdir, lax, rng, 443, None, [guard]).nickname for _ in range(50)}
    assert chosen == {"relay2", "relay3"}


def test_mutual_family_excluded_one_sided_allowed() -> None:
    guard = relay(1, flags={"Guard"}, family={fp(2), fp(3)})
    fam_exit = relay(2, flags={"Exit"}, policy=Ports(WEB), family={fp(1)})
    one_sided = relay(3, flags={"Exit"}, policy=Ports(WEB))
    netdir = NetDir([guard, fam_exit, one_sided, relay(4)])
    rng = HashRng(b"family")
    chosen = {choose_exit(netdir, DEFAULT, rng, 80, None, [guard]).nickname for _ in range(50)}
    assert chosen == {"relay3"}


def test_exit_by_port_uses_policy_and_might_support() -> None:
    web_only = relay(20, flags={"Exit"}, policy=Ports(WEB))
    ssh = relay(21, flags={"Exit"}, policy=Ports(frozenset({22})))
    blocks_addr = relay(22, flags={"Exit"}, policy=Full(WEB, frozenset({"192.0.2.7"})))
    netdir = NetDir([web_only, ssh, blocks_addr])
    rng = HashRng(b"ports")
    assert choose_exit(netdir, DEFAULT, rng, 22).nickname == "relay21"
    for_addr = {choose_exit(netdir, DEFAULT, rng, 80, "192.0.2.7").nickname for _ in range(40)}
    assert for_addr == {"relay20"}
    unknown = {choose_exit(netdir, DEFAULT, rng, 80).nickname for _ in range(60)}
    assert unknown == {"relay20", "relay22"}
    with pytest.raises(NoPathError):
        choose_exit(netdir, DEFAULT, rng, 25)


def test_exit_skips_badexit_rejectall_and_unusable() -> None:
    good = relay(20, flags={"Exit"}, policy=Ports(WEB))
    bad = relay(21, flags={"Exit", "BadExit"}, policy=Ports(WEB))
    reject_all = relay(22, flags={"Exit"})
    no_key = relay(23, flags={"Exit"}, policy=Ports(WEB), ntor=False)
    netdir = NetDir([good, bad, reject_all, no_key])
    rng = HashRng(b"bad")
    assert {choose_exit(netdir, DEFAULT, rng, 443).nickname for _ in range(40)} == {"relay20"}


def test_non_exit_flagged_relay_may_exit_but_weights_prefer_exit_flag() -> None:
    flagged = relay(20, flags={"Exit"}, policy=Ports(WEB), bw=100)
    unflagged = relay(21, policy=Ports(WEB), bw=100)
    weights = {"Wee": 10000, "Wem": 2500, "Wed": 10000, "Weg": 10000}
    weights |= {"Wgb": 10000, "Wmb": 10000, "Web": 10000, "Wdb": 10000}
    netdir = NetDir([flagged, unflagged], {}, weights)
    rng = HashRng(b"prefer")
    counts = Counter(choose_exit(netdir, DEFAULT, rng, 80).nickname for _ in range(5000))
    assert 3800 < counts["relay20"] < 4200  # expected 4000 (4:1)
    assert counts["relay21"] > 0


def test_exclude_exit_and_entry_and_middle_sets() -> None:
    relays = _network()
    netdir = NetDir(relays)
    rules = PathRestrictions(
        exclude_nodes=NameSet(frozenset({"relay20", fp(10)})),
        exit_nodes=NameSet(frozenset({"relay20", "relay21", fp(22)})),
        exclude_exit_nodes=NameSet(frozenset({"relay21"})),
        entry_nodes=NameSet(frozenset({"relay3"})),
        middle_nodes=NameSet(frozenset({"relay10", "relay11", "relay12"})),
    )
    rng = HashRng(b"sets")
    for _ in range(100):
        entry, middle, last = choose_path(netdir, Purpose.EXIT, 443, None, rng, rules)
        assert entry.nickname == "relay3"
        assert middle.nickname in {"relay11", "relay12"}
        assert last.nickname == "relay22"


def test_long_lived_port_wants_stable_with_fallback() -> None:
    stable = relay(20, flags={"Exit"}, policy=Ports(frozenset({22})))
    unstable = relay(21, flags={"Exit"}, policy=Ports(frozenset({22})))
    unstable = replace(unstable, flags=unstable.flags - {"Stable"})
    netdir = NetDir([stable, unstable, relay(1, flags={"Guard"}), relay(10)])
    rng = HashRng(b"stable")
    for _ in range(30):
        assert choose_path(netdir, Purpose.EXIT, 22, None, rng, DEFAULT)[2] is stable
    only_unstable = NetDir([unstable, relay(1, flags={"Guard"}), relay(10)])
    assert choose_path(only_unstable, Purpose.EXIT, 22, None, rng, DEFAULT)[2] is unstable


def test_internal_circuit_any_relay_last() -> None:
    netdir = NetDir(_network())
    rng = HashRng(b"internal")
    paths = [choose_path(netdir, Purpose.INTERNAL, None, None, rng, DEFAULT) for _ in range(300)]
    lasts = {path[2].nickname for path in paths}
    assert any(n in lasts for n in ("relay10", "relay11"))  # non-exits can end it


def test_no_middle_raises() -> None:
    netdir = NetDir([relay(1, flags={"Guard"})])
    with pytest.raises(NoPathError):
        choose_middle(netdir, DEFAULT, HashRng(), [netdir.relays[0]])

"""Building a vote body from descriptors and history (zwiebel.dirauth.votebuild).

Vectors: tests/vectors/dirauth/realnet/vote0..2 and server-all from three real tor
0.4.9.11 authorities (TestingTorNetwork, TestingDirAuthVoteGuard/HSDir "*",
TestingDirAuthVoteExit naming exit0, V3AuthNIntervalsValid 2; see
zwiebel.testnet.torrc). Each vote names some descriptors older than those in
server-all; for those the test stands in a copy of the newer descriptor with the
vote's published time and bandwidth (what the vote's "r" and "w" lines say), so the
thresholds see what tor saw. The history is rebuilt from each entry's "stats" line.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from zwiebel.dirauth.accept import AcceptOptions
from zwiebel.dirauth.flags import FlagOptions, RouterSet
from zwiebel.dirauth.history import ReachabilityHistory
from zwiebel.dirauth.schedule import ScheduleConfig, VotingSchedule
from zwiebel.dirauth.store import DescriptorStore
from zwiebel.dirauth.votebuild import (
    SharedRandom,
    VoteOptions,
    build_vote_body,
    version_from_platform,
)
from zwiebel.netdoc.serverdesc import ServerDescriptor, parse_server_descriptors
from zwiebel.netdoc.vote import VoteBody, parse_vote

REALNET = Path(__file__).parents[2] / "vectors" / "dirauth" / "realnet"
SUMMARY = json.loads((REALNET / "summary.json").read_text())
FPS = {n["nickname"]: bytes.fromhex(n["fingerprint"]) for n in SUMMARY["nodes"]
       if "fingerprint" in n}
AUTHS = frozenset(FPS[n["nickname"]] for n in SUMMARY["nodes"] if n["role"] == "authority")
DESCS = {d.identity: d for d in parse_server_descriptors((REALNET / "server-all").read_text())}


class Source:
    """The descriptors a vote saw."""

    def __init__(self, descs: list[ServerDescriptor]) -> None:
        self.descs = sorted(descs, key=lambda d: d.identity)

    def servers(self) -> list[ServerDescriptor]:
        return self.descs


def _stand_ins(body: VoteBody) -> tuple[Source, set[bytes]]:
    descs, stood_in = [], set()
    for r in body.routers:
        desc = DESCS[r.identity]
        if desc.digest != r.descriptor_digest:
            assert r.bandwidth is not None
            desc = dataclasses.replace(desc, published=r.published, uptime=0,
                                       bandwidth=(2**30, 2**30, r.bandwidth * 1000))
            stood_in.add(r.identity)
        descs.append(desc)
    return Source(descs), stood_in


def _history(body: VoteBody) -> ReachabilityHistory:
    hist = ReachabilityHistory()
    now = body.published
    for r in body.routers:
        assert r.stats is not None
        stats = dict(kv.split("=") for kv in r.stats.split())
        tk, up = int(stats["tk"]), round(float(stats["wfu"]) * int(stats["tk"]))
        if tk == 0:
            continue
        if tk > up:
            hist.note_unreachable(r.identity, now - timedelta(seconds=tk))
        hist.note_reachable(r.identity, r.address, r.or_port, now - timedelta(seconds=up))
    return hist


def _build(body: VoteBody, source: Source) -> VoteBody:
    me = [n for n in SUMMARY["nodes"]
          if n.get("v3ident") == body.authority.identity.hex().upper()][0]
    flags = FlagOptions(
        testing=True, authorities=AUTHS, own_identity=FPS[me["nickname"]],
        dir_allow_private=True, vote_guard=RouterSet.parse("*"),
        vote_hsdir=RouterSet.parse("*"), vote_exit=RouterSet.parse("$" + FPS["exit0"].hex()),
        min_uptime_hsdir=0, time_to_learn_reachability=0, max_per_address=0)
    now = body.published
    times = VotingSchedule(ScheduleConfig(10, 2, 2, 2, 10, 2, 2)).vote_times(now)
    opts = VoteOptions(flags=flags, started=now - timedelta(minutes=1))
    sr = SharedRandom(body.sr_participate, body.sr_commits, body.sr_previous, body.sr_current)
    return build_vote_body(source, _history(body), now, times, body.authority, opts, sr)


def _real(name: str) -> VoteBody:
    return parse_vote((REALNET / name).read_text()).body


@pytest.mark.parametrize("name", ["vote0", "vote1", "vote2"])
def test_preamble_equals_real_vote(name: str) -> None:
    real = _real(name)
    ours = _build(real, _stand_ins(real)[0])
    if name == "vote2":
        # vote2 names no descriptor of server-all: the uptimes its median came from
        # are unknown, so "stable-uptime" is left out of the comparison.
        ours, real = (dataclasses.replace(b, flag_thresholds=re.sub(
            r"stable-uptime=\d+", "", b.flag_thresholds or "")) for b in (ours, real))
    assert dataclasses.replace(ours, routers=()) == dataclasses.replace(real, routers=())


@pytest.mark.parametrize("name", ["vote0", "vote1"])
def test_entries_equal_real_vote(name: str) -> None:
    real = _real(name)
    source, stood_in = _stand_ins(real)
    ours = _build(real, source)
    assert [r.identity for r in ours.routers] == [r.identity for r in real.routers]
    for mine, theirs in zip(ours.routers, real.routers, strict=True):
        if mine.identity in stood_in:
            mine = dataclasses.replace(mine, descriptor_digest=theirs.descriptor_digest)
        assert mine == theirs


def test_vote1_needs_no_stand_in_but_its_own() -> None:
    """auth0's vote names server-all's descriptors except its own older one."""
    real = _real("vote1")
    _, stood_in = _stand_ins(real)
    assert stood_in == {FPS["auth0"]}


def test_entries_from_a_store_fed_real_descriptors() -> None:
    real = _real("vote1")
    store = DescriptorStore(AcceptOptions(dir_allow_private=True))
    for desc in DESCS.values():
        store.add_server(desc.raw, real.published)
    ours = _build(real, Source(store.servers()))
    assert {r.nickname for r in ours.routers} == {r.nickname for r in real.routers}
    by_id = {r.identity: r for r in real.routers}
    for r in ours.routers:
        if r.identity != FPS["auth0"]:
            assert r.descriptor_digest == by_id[r.identity].descriptor_digest
            assert r.protocols == by_id[r.identity].protocols


def test_old_descriptors_are_left_out() -> None:
    real = _real("vote1")
    old = [dataclasses.replace(d, published=real.published - timedelta(hours=25))
           for d in DESCS.values()]
    assert _build(real, Source(old)).routers == ()


def test_params_with_consensus_params() -> None:
    real = _real("vote1")
    flags = FlagOptions(max_per_address=2)
    opts = VoteOptions(flags=flags, consensus_params=("usecreatefast=0", "cbttestfreq=10"))
    times = VotingSchedule(ScheduleConfig()).vote_times(real.published)
    body = build_vote_body(Source([]), ReachabilityHistory(), real.published, times,
                           real.authority, opts)
    assert body.params == (("AuthDirMaxServersPerAddr", 2), ("cbttestfreq", 10),
                           ("usecreatefast", 0))
    assert "Running" in body.known_flags


def test_version_from_platform() -> None:
    assert version_from_platform("Tor 0.4.9.11 on Linux") == "Tor 0.4.9.11"
    assert version_from_platform("Tor 0.2.1.5 (r1234) on X") == "Tor 0.2.1.5 (r1234)"
    assert version_from_platform("Zwiebel 1") is None
    assert version_from_platform(None) is None


def test_sybils_past_max_servers_per_address() -> None:
    """All six relays share 127.0.0.1: with 2 per address the two most useful keep flags
    (authorities first, then running ones, then by bandwidth: auth2 36, auth1 24 kB/s)."""
    real = _real("vote1")
    source, _ = _stand_ins(real)
    me = FPS["auth0"]
    flags = FlagOptions(testing=True, authorities=AUTHS, own_identity=me,
                        dir_allow_private=True, time_to_learn_reachability=0,
                        max_per_address=2)
    now = real.published
    hist = _history(real)
    times = VotingSchedule(ScheduleConfig(10, 2, 2, 2, 10, 2, 2)).vote_times(now)
    body = build_vote_body(source, hist, now, times, real.authority, VoteOptions(flags=flags))
    sybils = {r.nickname for r in body.routers if "Sybil" in r.flags}
    assert sybils == {"auth0", "relay0", "relay1", "exit0"}
    assert all(r.flags == {"Sybil"} for r in body.routers if r.nickname in sybils)
    assert hist.wfu(FPS["relay1"], now) == 0.0

"""The connection registry (zwiebel.managers.conntrack) and the relay GETINFO helpers
(zwiebel.features.control.info_relay)."""

from __future__ import annotations

import pytest

from zwiebel.control.conninfo import Usage
from zwiebel.features.control.getinfo import GetInfoError, GetInfoRegistry
from zwiebel.features.control.info_relay import (
    _one_conn,
    bandwidth,
    policy_text,
    private_policy,
)
from zwiebel.managers.conntrack import ConnSample, ConnTracker
from zwiebel.netdoc.policy import ExitPolicy


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def or_sample(n: int, **kw: object) -> ConnSample:
    base: dict[str, object] = dict(key=("or", n), usage=Usage.RELAY, inbound=True,
                                   address="10.0.0.1", port=9001, opened_at=990.0,
                                   in_tor=True, or_key=("or", n), read=10, written=20)
    base.update(kw)
    return ConnSample(**base)  # type: ignore[arg-type]


def test_ids_are_process_wide_and_stable() -> None:
    clock = Clock()
    tracker = ConnTracker(clock)
    live = [or_sample(1), or_sample(2)]
    tracker.add_source(lambda: list(live))
    first = tracker.snapshot()
    assert [i.conn_id for i in first] == [1, 2]
    assert [i.or_id for i in first] == [1, 2]
    assert first[0].uptime == 10
    live.pop(0)
    live.append(or_sample(3))
    second = tracker.snapshot()
    assert [i.conn_id for i in second] == [2, 3]


def test_stream_or_id_points_at_its_or_connection() -> None:
    tracker = ConnTracker(Clock())
    exit_conn = ConnSample(("edge", 5, 1), Usage.EXIT, False, "93.184.216.34", 443, 995.0,
                           circ_ids=(5,), or_key=("or", 7), read=3, written=4)
    tracker.add_source(lambda: [exit_conn, or_sample(7)])
    infos = {i.usage: i for i in tracker.snapshot()}
    assert infos[Usage.EXIT].or_id == infos[Usage.RELAY].conn_id == 2
    assert infos[Usage.EXIT].conn_id == 1


def test_pushed_records_count_and_close() -> None:
    clock = Clock()
    tracker = ConnTracker(clock)
    record = tracker.open(Usage.CLIENT, True, "127.0.0.1", 50000, local_port=9050,
                          circ_ids=(4,))
    record.read += 100
    record.written += 5000
    clock.now += 3
    (only,) = tracker.snapshot()
    assert (only.read, only.written, only.uptime, only.inbound) == (100, 5000, 3, True)
    assert only.type_flags() == "ICt"
    tracker.close(record)
    assert tracker.snapshot() == []


def test_getinfo_conn_key() -> None:
    tracker = ConnTracker(Clock())
    tracker.add_source(lambda: [or_sample(1, circ_ids=(8,))])
    assert _one_conn(tracker, "conn/8/1") == (
        "CONN_ID=1 CIRC_ID=8 OR_ID=1 IP=10.0.0.1:9001 L_PORT=0 TYPE_FLAGS=IRT READ=10 "
        "WRITE=20 UPTIME=10")
    assert _one_conn(tracker, "conn/x/1") is None
    with pytest.raises(GetInfoError):
        _one_conn(tracker, "conn/9/1")


def test_registry_lists_conn_keys() -> None:
    from zwiebel.features.control.info_relay import install_connection_info
    from zwiebel.managers.channels import ChannelManager

    reg = GetInfoRegistry()
    tracker = ConnTracker(Clock())
    install_connection_info(reg, tracker, 0.0, ChannelManager())
    reg.add("info/names", reg.names, "names")
    names = reg.lookup("info/names") or ""
    assert "conn/all -- " in names and "conn/* -- " in names
    assert reg.lookup("conn/all") == ""
    assert int(reg.lookup("info/descriptor-used") or "0") > 0


def test_policy_text_families() -> None:
    policy = ExitPolicy.from_config(["accept 10.0.0.0/8:80", "accept6 [2001:db8::]/32:443",
                                     "reject *:*"])
    full = policy_text(policy).split("\n")
    assert full[0] == "accept 10.0.0.0/8:80"
    assert "accept6 [2001:db8::]/32:443" in full
    assert "[" not in policy_text(policy, 4)
    assert policy_text(policy, 6).split("\n")[0] == "accept6 [2001:db8::]/32:443"


def test_private_policy_matches_tor() -> None:
    # tor 0.4.9.11 policies.c private_nets, as GETINFO exit-policy/reject-private/default
    # joins them.
    assert private_policy() == (
        "reject 0.0.0.0/8:*,reject 169.254.0.0/16:*,reject 127.0.0.0/8:*,"
        "reject 192.168.0.0/16:*,reject 10.0.0.0/8:*,reject 172.16.0.0/12:*,"
        "reject [::]/8:*,reject [fc00::]/7:*,reject [fe80::]/10:*,reject [fec0::]/10:*,"
        "reject [ff00::]/8:*,reject [::]/127:*")


class FakeOptions:
    def __init__(self, values: dict[str, int]) -> None:
        self.values = values

    def get(self, name: str) -> int:
        return self.values.get(name, 0)


def test_bandwidth_prefers_relay_limits() -> None:
    opts = FakeOptions({"BandwidthRate": 1 << 30, "BandwidthBurst": 2 << 30})
    assert bandwidth(opts, "Rate") == 1 << 30  # type: ignore[arg-type]
    opts.values["RelayBandwidthRate"] = 100_000
    assert bandwidth(opts, "Rate") == 100_000  # type: ignore[arg-type]
    assert bandwidth(opts, "Burst") == 2 << 30  # type: ignore[arg-type]

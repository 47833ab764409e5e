"""Exit policies: parsing, encoding, matching, the effective policy and summaries.

Vector sources:
- REAL_TOR_*: `GETINFO exit-policy/full` from tor 0.4.9.11 (/usr/bin/tor) run here as a
  non-publishing relay (Address 203.0.113.5) with the torrc lines given next to them.
- TOR_SUITE_SUMMARIES: input/expected pairs of `test_policy_summary_helper` calls in
  tor 0.4.9.11 src/test/test_policy.c.
"""

from __future__ import annotations

import contextlib
from ipaddress import IPv4Address, IPv6Address, ip_address

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zwiebel.netdoc.policy import (
    DEFAULT_EXIT_POLICY,
    REDUCED_EXIT_POLICY,
    ExitPolicy,
    PolicyParseError,
    PolicyRule,
    PolicySummary,
    Verdict,
    parse_policy_item,
    summarize_rules,
)
from zwiebel.netdoc.policy_build import ExitPolicyOptions, build_exit_policy

_DEFAULT_REJECTS = [
    "25",
    "119",
    "135-139",
    "445",
    "563",
    "1214",
    "4661-4666",
    "6346-6429",
    "6699",
    "6881-6999",
]
_PRIVATE4 = "0.0.0.0/8 169.254.0.0/16 127.0.0.0/8 192.168.0.0/16 10.0.0.0/8 172.16.0.0/12"
_PRIVATE6 = "[::]/8 [fc00::]/7 [fe80::]/10 [fec0::]/10 [ff00::]/8"

# ExitRelay 1, IPv6Exit 1, Address 203.0.113.5, ExitPolicy accept
# 198.51.100.0/255.255.255.0:80-81, reject 1.2.3.4/8:443, accept6 [2001:db8::]/32:22
REAL_TOR_FULL_1 = (
    [f"reject {n}:*" for n in _PRIVATE4.split()]
    + [f"reject6 {n}:*" for n in _PRIVATE6.split()]
    + ["reject 203.0.113.5:*", "reject 1.2.3.4/8:443"]
    + [line for p in _DEFAULT_REJECTS for line in (f"reject *:{p}", f"reject6 *:{p}")]
    + ["accept *:*", "accept6 *:*"]
)
# ExitRelay 1, ReducedExitPolicy 1, ExitPolicyRejectPrivate 0,
# ExitPolicy reject 5.6.7.8:*, accept *4:8000-9000, reject6 *:*
_REDUCED_KEPT = (
    "20-23 43 53 79-81 88 110 143 194 220 389 443 464 465 531 543-544 554 563 587 636 706 "
    "749 873 902-904 981 989-995 1194 1220 1293 1500 1533 1677 1723 1755 1863 2082-2083 "
    "2086-2087 2095-2096 2102-2104 3128 3389 3690 4321 4643 5050 5190 5222-5223 5228 5900 "
    "6660-6669 6679 6697 9418 9999 10000 11371 18080-18081 18089 19294 19638 50002 64738"
)
REAL_TOR_FULL_2 = (
    ["reject6 *:*", "reject 5.6.7.8:*", "accept *:8000-9000"]
    + [f"accept *:{p}" for p in _REDUCED_KEPT.split()]
    + ["reject *:*"]
)


def test_real_tor_effective_policy_with_user_rules() -> None:
    opts = ExitPolicyOptions(
        exit_policy=(
            "accept 198.51.100.0/255.255.255.0:80-81, reject 1.2.3.4/8:443, "
            "accept6 [2001:db8::]/32:22",
        ),
        exit_relay=True,
        ipv6_exit=True,
        relay_addresses=(IPv4Address("203.0.113.5"),),
    )
    policy = build_exit_policy(opts)
    assert [r.to_line() for r in policy.rules] == REAL_TOR_FULL_1
    assert policy.to_descriptor_lines() == [x for x in REAL_TOR_FULL_1 if "6 " not in x]


def test_real_tor_reduced_policy() -> None:
    opts = ExitPolicyOptions(
        exit_policy=("reject 5.6.7.8:*, accept *4:8000-9000, reject6 *:*",),
        exit_relay=True,
        reduced_exit_policy=True,
        reject_private=False,
    )
    assert [r.to_line() for r in build_exit_policy(opts).rules] == REAL_TOR_FULL_2


def test_default_policy_summary_is_what_relays_publish() -> None:
    opts = ExitPolicyOptions(exit_relay=True, relay_addresses=(IPv4Address("198.51.100.9"),))
    policy = build_exit_policy(opts)
    assert str(policy.summarize()) == "reject " + ",".join(_DEFAULT_REJECTS)
    assert policy.summarize(6).is_reject_star
    assert policy.to_descriptor_lines()[-1] == "accept *:*"


def test_non_exit_and_auto() -> None:
    for opts in (ExitPolicyOptions(), ExitPolicyOptions(exit_relay=False, ipv6_exit=True)):
        policy = build_exit_policy(opts)
        assert [r.to_line(False) for r in policy.rules] == ["reject *4:*", "reject *6:*"]
        assert policy.to_descriptor_lines() == ["reject *:*"]
        assert str(policy.summarize()) == "reject 1-65535"


def test_local_interface_addresses_are_rejected_when_public() -> None:
    opts = ExitPolicyOptions(
        exit_relay=True,
        reject_local_interfaces=True,
        interface_addresses=(ip_address("10.1.1.1"), ip_address("192.0.2.77")),
        outbound_addresses=(ip_address("2001:db8::9"),),
    )
    lines = [r.to_line() for r in build_exit_policy(opts).rules]
    assert "reject 192.0.2.77:*" in lines
    assert not any("10.1.1.1" in x or "2001:db8::9" in x for x in lines)


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("accept 127.0.0.0/8:*, reject *:*", "reject 1-65535"),
        ("accept *:*", "accept 1-65535"),
        (DEFAULT_EXIT_POLICY, "reject " + ",".join(_DEFAULT_REJECTS)),
    ],
)
def test_brief_summaries(policy: str, expected: str) -> None:
    assert str(ExitPolicy.from_config([policy]).summarize()) == expected


TOR_SUITE_SUMMARIES = [
    (
        "reject 192.168.0.0/16:*,reject 0.0.0.0/8:*,reject 10.0.0.0/8:*,accept *:10-30,"
        "accept *:90,reject *:*",
        "accept 10-30,90",
        "accept 10-30,90",
    ),
    (
        "reject 11.0.0.0/9:80,reject 12.0.0.0/9:80,reject 13.0.0.0/9:80,"
        "reject 14.0.0.0/9:80,accept *:*",
        "accept 1-65535",
        "accept 1-65535",
    ),
    (
        "reject 11.0.0.0/9:80,reject 12.0.0.0/9:80,reject 13.0.0.0/9:80,"
        "reject 14.0.0.0/9:80,reject 15.0.0.0:80,accept *:*",
        "reject 80",
        "accept 1-65535",
    ),
    ("accept 11.0.0.0/9:80,reject *:*", "reject 1-65535", "reject 1-65535"),
    (
        "accept *:80,accept *:81,accept *:100-110,accept *:111,reject *:*",
        "accept 80-81,100-111",
        "accept 80-81,100-111",
    ),
    ("accept *:1,accept *:3,accept *:65535,reject *:*", "accept 1,3,65535", "accept 1,3,65535"),
    ("reject *:1,reject *:3,reject *:5,reject *:7,accept *:*", "reject 1,3,5,7", "reject 1,3,5,7"),
    (
        "reject 149.56.1.1:*,reject [2607:5300:1:1::1:0]:*,accept *:80,accept *:443,reject *:*",
        "accept 80,443",
        "accept 80,443",
    ),
    (
        "reject 149.56.0.0/16,reject6 2607:5300::/32,reject6 2608:5300::/64,"
        "reject6 2609:5300::/96,accept *:80,accept *:443,reject *:*",
        "accept 80,443",
        "accept 80,443",
    ),
    (
        "reject 148.0.0.0/7,reject6 2600::/16,accept *:80,accept *:443,reject *:*",
        "accept 80,443",
        "accept 80,443",
    ),
    (
        "reject 148.0.0.0/6,reject6 2600::/15,accept *:80,accept *:443,reject *:*",
        "reject 1-65535",
        "reject 1-65535",
    ),
    (
        "reject 0.0.0.0/0,reject6 ::/0,accept *:80,accept *:443,reject *:*",
        "reject 1-65535",
        "reject 1-65535",
    ),
]


@pytest.mark.parametrize(("policy", "summary4", "summary6"), TOR_SUITE_SUMMARIES)
@pytest.mark.parametrize("reject_private", [False, True])
@pytest.mark.parametrize("tail", ["default", "reduced", "none"])
def test_tor_suite_summaries(
    policy: str, summary4: str, summary6: str, reject_private: bool, tail: str
) -> None:
    opts = ExitPolicyOptions(
        exit_policy=(policy,),
        exit_relay=True,
        ipv6_exit=True,
        reject_private=reject_private,
        reduced_exit_policy=tail == "reduced",
        bridge_relay=tail == "none",
    )
    policy_obj = build_exit_policy(opts)
    assert str(policy_obj.summarize(4)) == summary4
    assert str(policy_obj.summarize(6)) == summary6
    assert PolicySummary.parse(summary4).encode() == summary4


def test_over_long_summary_is_cut_at_a_comma() -> None:
    policy = ExitPolicy.from_config([",".join(f"accept *:{p}" for p in range(1, 800, 2))])
    text = str(policy.summarize())
    assert text.startswith("accept 1,3,5,") and len(text) <= 1000
    assert not text.endswith(",") and len(text) > 990


def test_reduced_policy_summary() -> None:
    summary = ExitPolicy.from_config([REDUCED_EXIT_POLICY]).summarize()
    assert summary.accept and summary.allows_port(443) and not summary.allows_port(25)
    assert (464, 465) in summary.ranges and (9999, 10000) in summary.ranges


@pytest.mark.parametrize(
    ("item", "lines"),
    [
        ("accept 1.2.3.4/255.0.0.0:80-90", ["accept 1.2.3.4/8:80-90"]),
        ("reject 10.0.0.0/8:*", ["reject 10.0.0.0/8:*"]),
        ("accept [2001:db8::1]/64:443", ["accept6 [2001:db8::1]/64:443"]),
        ("accept *:22", ["accept *:22", "accept6 *:22"]),
        ("reject *4:*", ["reject *:*"]),
        ("accept6 *:80", ["accept6 *:80"]),
        ("accept 192.0.2.1", ["accept 192.0.2.1:*"]),
        ("accept 192.0.2.1/32:1-65535", ["accept 192.0.2.1:*"]),
        ("accept6 192.0.2.1:80", []),
    ],
)
def test_parse_torrc_items(item: str, lines: list[str]) -> None:
    assert [r.to_line() for r in parse_policy_item(item)] == lines


def test_private_expands_to_tors_list() -> None:
    rules = parse_policy_item("reject private:80")
    assert [r.to_line(False) for r in rules][:2] == [
        "reject 0.0.0.0/8:80",
        "reject 169.254.0.0/16:80",
    ]
    assert len(rules) == 12 and rules[-1].to_line() == "reject6 [::]/127:80"


@pytest.mark.parametrize(
    "item",
    [
        "accept",
        "allow *:80",
        "accept *:0",
        "accept *:90-80",
        "accept *:65536",
        "accept 1.2.3.4/33:*",
        "accept 1.2.3.4/255.0.255.0:*",
        "accept */8:*",
        "accept [::1:*",
        "accept 1.2.3:80",
        "accept 01.2.3.4:80",
        "accept *:80x",
        "accept 1.2.3.4:80 extra",
    ],
)
def test_malformed_items(item: str) -> None:
    with pytest.raises(PolicyParseError):
        parse_policy_item(item)


def test_descriptor_rules() -> None:
    policy = ExitPolicy.from_descriptor_lines(["accept *:80", "accept6 [::]/0:443", "reject *:*"])
    assert [r.to_line() for r in policy.rules] == ["accept *:80", "accept6 *:443", "reject *:*"]
    for bad in ("accept [::1]:80", "accept6 1.2.3.4:80", "accept *4:80"):
        with pytest.raises(PolicyParseError):
            ExitPolicy.from_descriptor_lines([bad])


def test_allows_known_and_unknown() -> None:
    policy = ExitPolicy.from_config(
        ["reject 192.0.2.0/24:*, accept 198.51.100.0/24:80, reject *:80, accept *:*"]
    )
    assert policy.allows("192.0.2.5", 443) is Verdict.REJECTED
    assert policy.allows(IPv4Address("198.51.100.1"), 80) is Verdict.ACCEPTED
    assert policy.allows("203.0.113.1", 80) is Verdict.REJECTED
    assert policy.allows("203.0.113.1", 22) is Verdict.ACCEPTED
    assert policy.allows(IPv6Address("2001:db8::1"), 80) is Verdict.REJECTED
    assert policy.allows(None, 80) is Verdict.PROBABLY_REJECTED
    assert policy.allows(None, 22) is Verdict.PROBABLY_ACCEPTED
    assert policy.allows("0.0.0.0", 22) is Verdict.PROBABLY_ACCEPTED
    assert policy.allows("192.0.2.9", None) is Verdict.REJECTED
    assert policy.allows("198.51.100.1", 0) is Verdict.PROBABLY_ACCEPTED
    assert policy.allows(None, None) is Verdict.REJECTED
    assert policy.allows("www.example.com", 22) is Verdict.PROBABLY_ACCEPTED
    assert ExitPolicy(()).allows("1.2.3.4", 1) is Verdict.ACCEPTED


def test_general_exit() -> None:
    assert build_exit_policy(ExitPolicyOptions(exit_relay=True)).is_general_exit()
    assert not ExitPolicy.from_config(["accept 10.0.0.0/8:*, reject *:*"]).is_general_exit()
    assert not ExitPolicy.from_config(["accept 1.0.0.0/9:*, reject *:*"]).is_general_exit()
    assert ExitPolicy.from_config(["accept 1.0.0.0/8:80,accept 2.0.0.0/7:443"]).is_general_exit()


@pytest.mark.parametrize(
    ("text", "ranges"),
    [
        ("accept 80,443", ((80, 80), (443, 443))),
        ("reject 1-65535", ((1, 65535),)),
        ("accept 80,foo,443", ((80, 80), (443, 443))),
        ("accept 22,", ((22, 22),)),
    ],
)
def test_summary_parse(text: str, ranges: tuple[tuple[int, int], ...]) -> None:
    assert PolicySummary.parse(text).ranges == ranges


@pytest.mark.parametrize(
    "text", ["accept", "allow 80", "accept 0", "accept 80-70", "accept 8x", "accept x"]
)
def test_summary_parse_errors(text: str) -> None:
    with pytest.raises(PolicyParseError):
        PolicySummary.parse(text)


def test_summary_matching() -> None:
    summary = PolicySummary.parse("reject 25,119")
    assert summary.allows_port(80) and not summary.allows_port(25)
    assert summary.verdict(80) is Verdict.PROBABLY_ACCEPTED
    assert summary.verdict(25) is Verdict.REJECTED
    assert summary.verdict(80, "127.0.0.1") is Verdict.REJECTED
    assert summary.verdict(80, "10.0.0.1", reject_internal=False) is Verdict.PROBABLY_ACCEPTED


_ranges = st.lists(st.tuples(st.integers(1, 65535), st.integers(0, 200)), min_size=1, max_size=20)


@given(st.booleans(), _ranges)
def test_summary_round_trip(accept: bool, raw: list[tuple[int, int]]) -> None:
    ranges = tuple((low, min(65535, low + span)) for low, span in raw)
    summary = PolicySummary(accept, ranges)
    assert PolicySummary.parse(summary.encode()) == summary


@given(st.text(max_size=60))
def test_random_items_raise_only_parse_error(text: str) -> None:
    for candidate in (text, "accept " + text, "reject6 " + text):
        with contextlib.suppress(PolicyParseError):
            parse_policy_item(candidate)
        with contextlib.suppress(PolicyParseError):
            PolicySummary.parse(candidate)


@given(st.lists(st.sampled_from(REAL_TOR_FULL_1 + REAL_TOR_FULL_2 + ["accept *:*"]), max_size=12))
def test_descriptor_lines_round_trip(lines: list[str]) -> None:
    v4 = [x for x in lines if "6 " not in x]
    policy = ExitPolicy.from_descriptor_lines(v4)
    assert [r.to_line() for r in policy.rules] == v4
    assert summarize_rules(policy.rules) == policy.summarize()
    assert all(isinstance(r, PolicyRule) for r in policy.rules)

"""Directory authority options (config/dirauth_options.py): defaults and TestingTorNetwork
defaults from tor 0.4.9.11's dirauth_options.inc, config.c and testnet.inc; rejections and
warnings worded as dirauth_config.c, relay_config.c and policies.c word them."""

from __future__ import annotations

from ipaddress import ip_address
from typing import Any

import pytest

from zwiebel.config import ConfigError, build_options, lex, validate
from zwiebel.config.dirauth_options import recommended_versions, vote_params
from zwiebel.netdoc.policy import PolicyRule

AUTH = "DirAuthority auth0 orport=1 v3ident=" + "01" * 20 + " 127.0.0.1:2 " + "AB" * 20 + "\n"
#: What testnet/torrc.py gives an authority of the test network, minus the schedule.
AUTHORITY = ("TestingTorNetwork 1\n" + AUTH + "Nickname auth0\nORPort 127.0.0.1:27610\n"
             "DirPort 127.0.0.1:27611\nAuthoritativeDirectory 1\nV3AuthoritativeDirectory 1\n")
PUBLIC_AUTHORITY = ("ORPort 9001\nDirPort 9030\nContactInfo a@b\nAuthoritativeDirectory 1\n"
                    "V3AuthoritativeDirectory 1\n")


def opts(text: str) -> Any:
    return build_options(lex(text))


def check(text: str) -> tuple[Any, list[str]]:
    return validate(opts(text))


def test_defaults() -> None:
    o = opts("")
    assert (o.authoritative_dir, o.v3_authoritative_dir) == (False, False)
    assert o.get("V3AuthNIntervalsValid") == 3
    assert o.get("V3AuthVotingInterval") == 3600
    assert (o.get("V3AuthVoteDelay"), o.get("V3AuthDistDelay")) == (300, 300)
    assert o.get("TestingV3AuthInitialVotingInterval") == 1800
    assert o.get("TestingV3AuthVotingStartOffset") == 0
    assert o.get("AuthDirTestReachability") is True
    assert o.get("AuthDirListBadExits") is False
    assert o.get("AuthDirMaxServersPerAddr") == 2
    assert o.get("MinUptimeHidServDirectoryV2") == 96 * 3600
    assert o.get("TestingMinExitFlagThreshold") == 0
    assert o.get("TestingDirAuthVoteGuard") is None
    assert o.get("AuthDirReject") == ()
    assert o.get("ConsensusParams") == ()


def test_testing_tor_network_defaults() -> None:
    o = opts(AUTHORITY)
    assert o.get("V3AuthVotingInterval") == 300
    assert (o.get("V3AuthVoteDelay"), o.get("V3AuthDistDelay")) == (20, 20)
    assert o.get("TestingV3AuthInitialVotingInterval") == 150
    assert o.get("AuthDirMaxServersPerAddr") == 0
    assert o.get("MinUptimeHidServDirectoryV2") == 0
    assert o.get("TestingAuthDirTimeToLearnReachability") == 0


def test_testnet_authority_config_is_valid() -> None:
    text = AUTHORITY + ("TestingV3AuthInitialVotingInterval 20\nTestingV3AuthInitialVoteDelay 4\n"
                        "TestingV3AuthInitialDistDelay 4\nV3AuthVotingInterval 20\n"
                        "V3AuthVoteDelay 4\nV3AuthDistDelay 4\nTestingMinExitFlagThreshold 0\n"
                        "TestingDirAuthVoteGuard *\nTestingDirAuthVoteHSDir *\n")
    o, warnings = check(text)
    assert o.get("TestingDirAuthVoteGuard").addresses == ("*",)
    assert o.get("UseEntryGuards") is False
    assert ("V3AuthVotingInterval is very low. This may lead to failure to synchronise "
            "for a consensus.") in warnings


def test_public_authority_is_valid() -> None:
    o, warnings = check(PUBLIC_AUTHORITY)
    assert o.authoritative_dir and not any("V3Auth" in w for w in warnings)


@pytest.mark.parametrize(("extra", "message"), [
    ("V3AuthVoteDelay 15 minutes\nV3AuthDistDelay 15 minutes\n",
     "V3AuthVoteDelay plus V3AuthDistDelay must be less than half V3AuthVotingInterval"),
    ("V3AuthVoteDelay 1\n", "V3AuthVoteDelay is way too low."),
    ("V3AuthDistDelay 1\n", "V3AuthDistDelay is way too low."),
    ("V3AuthNIntervalsValid 1\n", "V3AuthNIntervalsValid must be at least 2."),
    ("V3AuthVotingInterval 240\nV3AuthVoteDelay 10\nV3AuthDistDelay 10\n",
     "V3AuthVotingInterval is insanely low."),
    ("V3AuthVotingInterval 2 days\n", "V3AuthVotingInterval is insanely high."),
])
def test_public_schedule_rejections(extra: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check(PUBLIC_AUTHORITY + extra)


def test_interval_not_dividing_a_day_only_warns() -> None:
    _, warnings = check(PUBLIC_AUTHORITY + "V3AuthVotingInterval 7 minutes\n"
                        "V3AuthVoteDelay 60\nV3AuthDistDelay 60\n")
    assert "V3AuthVotingInterval does not divide evenly into 24 hours." in warnings


@pytest.mark.parametrize(("extra", "message"), [
    ("V3AuthVotingInterval 9\nV3AuthVoteDelay 2\nV3AuthDistDelay 2\n",
     "V3AuthVoteDelay plus V3AuthDistDelay must be less than half"),
    ("TestingV3AuthInitialVotingInterval 4\n",
     "TestingV3AuthInitialVotingInterval is insanely low."),
    ("TestingV3AuthInitialVotingInterval 7\n", "does not divide evenly into 30 minutes."),
    ("TestingV3AuthInitialVoteDelay 1\n", "TestingV3AuthInitialVoteDelay is way too low."),
    ("TestingV3AuthInitialDistDelay 1\n", "TestingV3AuthInitialDistDelay is way too low."),
    ("TestingV3AuthInitialVotingInterval 40\n",
     "TestingV3AuthInitialVoteDelay plus TestingV3AuthInitialDistDelay must be less than"),
    ("TestingV3AuthVotingStartOffset 200\n",
     "TestingV3AuthVotingStartOffset is higher than the voting interval."),
])
def test_testing_schedule_rejections(extra: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check(AUTHORITY + extra)


def test_start_offset_only_in_testing_networks() -> None:
    with pytest.raises(ConfigError, match="TestingV3AuthVotingStartOffset may only be changed"):
        check(PUBLIC_AUTHORITY + "TestingV3AuthVotingStartOffset 10\n")


@pytest.mark.parametrize(("text", "message"), [
    ("ORPort 9001\nDirPort 9030\nAuthoritativeDirectory 1\nV3AuthoritativeDirectory 1\n",
     "Authoritative directory servers must set ContactInfo"),
    ("ORPort 9001\nDirPort 9030\nContactInfo a\nAuthoritativeDirectory 1\n",
     r"AuthoritativeDir is set, but none of \(Bridge/V3\)AuthoritativeDir is set."),
    (PUBLIC_AUTHORITY.replace("DirPort 9030\n", ""),
     "Running as authoritative directory, but no DirPort set."),
    (PUBLIC_AUTHORITY.replace("ORPort 9001\n", ""),
     "Running as authoritative directory, but no ORPort set."),
    (PUBLIC_AUTHORITY + "ClientOnly 1\n",
     "Running as authoritative directory, but ClientOnly also set."),
    (PUBLIC_AUTHORITY + "BridgeAuthoritativeDirectory 1\n",
     "BridgeAuthoritativeDir 1 is not supported by Zwiebel"),
    (PUBLIC_AUTHORITY + "V3AuthUseLegacyKey 1\n", "V3AuthUseLegacyKey 1 is not supported"),
    (PUBLIC_AUTHORITY + "AuthDirHasIPv6Connectivity 1\n",
     "AuthDirHasIPv6Connectivity 1 is not supported"),
    (PUBLIC_AUTHORITY + "VersioningAuthoritativeDirectory 1\n",
     "Versioning authoritative dir servers must set Recommended\\*Versions."),
])
def test_authority_mode_rejections(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check(text)


@pytest.mark.parametrize(("text", "message"), [
    ("ORPort 9001\nDirPort 9030\nDirCache 0\n", "DirPort requires DirCache."),
    ("ORPort 9001\nDirPort 9030 NoListen\n", "advertising a DirPort, but not actually listening"),
    ("ORPort 9001\nDirPort 9030\nDirPort 9031\n", "Can't advertise more than one DirPort."),
    ("ORPort 9001\nDirPort [::1]:9030\n", "listening on a non-IPv4 DirPort"),
])
def test_dirport_rules(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check(text)


def test_dirport_address_forms_accepted() -> None:
    for line in ("DirPort 9030", "DirPort 127.0.0.1:9030", "DirPort 0.0.0.0:9030 NoAdvertise\n"
                 "DirPort 9031 NoListen", "DirPort auto"):
        o, _ = check("ORPort 9001\n" + line + "\n")
        assert o.dir_ports


def test_authority_options_on_a_relay_warn() -> None:
    _, warnings = check("ORPort 9001\nV3AuthNIntervalsValid 4\nConsensusParams a=1\n")
    assert "V3AuthNIntervalsValid has no effect unless AuthoritativeDirectory is set." in warnings
    assert "ConsensusParams has no effect unless AuthoritativeDirectory is set." in warnings


def test_unregistered_authority_option_refused() -> None:
    with pytest.raises(ConfigError, match="'AuthDirFastGuarantee' is not supported by Zwiebel"):
        opts("AuthDirFastGuarantee 100 KB\n")


def test_address_policies() -> None:
    o = opts("AuthDirReject 192.0.2.0/24, [2001:db8::]/32\nAuthDirReject accept 198.51.100.1\n"
             "AuthDirBadExit 203.0.113.7\n")
    assert o.get("AuthDirReject") == (
        PolicyRule(False, ip_address("192.0.2.0"), 24),
        PolicyRule(False, ip_address("2001:db8::"), 32),
        PolicyRule(True, ip_address("198.51.100.1"), 32),
    )
    assert o.get("AuthDirBadExit") == (PolicyRule(False, ip_address("203.0.113.7"), 32),)
    ports = build_options(lex("AuthDirInvalid 192.0.2.1:80\n"))
    assert ports.get("AuthDirInvalid") == (PolicyRule(False, ip_address("192.0.2.1"), 32),)
    assert "Ignoring ports in AuthDirInvalid option." in ports.warnings
    with pytest.raises(ConfigError, match="Error in AuthDirReject entry."):
        opts("AuthDirReject 300.1.2.3\n")
    with pytest.raises(ConfigError, match="Error in AuthDirBadExit entry."):
        opts("AuthDirBadExit foo\n")


def test_recommended_versions_fall_back() -> None:
    o = opts("RecommendedVersions 0.4.8.1, 0.4.9.11\nRecommendedVersions 0.4.9.12 0.4.9.13\n"
             "RecommendedServerVersions 0.4.9.11\n")
    assert recommended_versions(o, "client") == ("0.4.8.1", "0.4.9.11", "0.4.9.12", "0.4.9.13")
    assert recommended_versions(o, "server") == ("0.4.9.11",)
    assert any("Unexpected space in versions list" in w for w in o.warnings)
    _, warnings = check(PUBLIC_AUTHORITY + "VersioningAuthoritativeDirectory 1\n"
                        "RecommendedVersions 0.4.9.11\n")
    assert not any("Versioning" in w for w in warnings)


def test_consensus_params() -> None:
    o = opts("ConsensusParams cc_alg=2 bwweightscale=10000\nConsensusParams a=-5\n")
    assert o.get("ConsensusParams") == ("cc_alg=2", "bwweightscale=10000", "a=-5")
    assert vote_params(o) == ("AuthDirMaxServersPerAddr=2", "a=-5", "bwweightscale=10000",
                              "cc_alg=2")
    assert vote_params(opts("")) == ()
    for bad in ("x", "x=y", "=3", "a=99999999999"):
        with pytest.raises(ConfigError, match="Bad ConsensusParams item"):
            opts(f"ConsensusParams {bad}\n")

"""An authority's torrc options turned into the dirauth core's option records.

Names and defaults are tor.1.txt's; TestingTorNetwork's overrides arrive already
applied by the configuration layer (zwiebel.config), except those that only
concern an authority's flag rules, which tor sets in its dirauth testing
defaults and which are applied here (MinUptimeHidServDirectoryV2 0,
TestingAuthDirTimeToLearnReachability 0, AuthDirMaxServersPerAddr 0).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from zwiebel.config import Options
from zwiebel.config.dirservers import trusted_authorities
from zwiebel.dirauth.accept import AcceptOptions
from zwiebel.dirauth.flags import FlagOptions, RouterSet
from zwiebel.dirauth.schedule import ScheduleConfig
from zwiebel.dirauth.votebuild import VoteOptions


def _opt(options: Options, name: str, default: Any = None) -> Any:
    try:
        value = options.get(name)
    except KeyError:
        return default
    return default if value is None else value


def _text(value: Any) -> str | None:
    """An option's value as torrc text: router sets (zwiebel.config.values.RouterSet)
    keep theirs in `text`; lists are joined with commas."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(getattr(value, "text", None), str):
        return str(value.text)
    if isinstance(value, Iterable):
        return ",".join(str(v) for v in value)
    return str(value)


def _words(value: Any) -> tuple[str, ...] | None:
    words = tuple(w for w in (_text(value) or "").replace(",", " ").split() if w)
    return words or None


def is_authority(options: Options) -> bool:
    """AuthoritativeDirectory 1 with V3AuthoritativeDirectory 1."""
    return bool(_opt(options, "AuthoritativeDirectory", False)) and bool(
        _opt(options, "V3AuthoritativeDirectory", False))


def testing(options: Options) -> bool:
    """TestingTorNetwork."""
    return bool(_opt(options, "TestingTorNetwork", False))


def schedule_config(options: Options) -> ScheduleConfig:
    """The voting schedule options."""
    return ScheduleConfig(
        voting_interval=int(_opt(options, "V3AuthVotingInterval", 3600)),
        vote_delay=int(_opt(options, "V3AuthVoteDelay", 300)),
        dist_delay=int(_opt(options, "V3AuthDistDelay", 300)),
        n_intervals_valid=int(_opt(options, "V3AuthNIntervalsValid", 3)),
        initial_voting_interval=int(_opt(options, "TestingV3AuthInitialVotingInterval", 1800)),
        initial_vote_delay=int(_opt(options, "TestingV3AuthInitialVoteDelay", 300)),
        initial_dist_delay=int(_opt(options, "TestingV3AuthInitialDistDelay", 300)),
        start_offset=int(_opt(options, "TestingV3AuthVotingStartOffset", 0)),
    )


def accept_options(options: Options) -> AcceptOptions:
    """What descriptor uploads are checked against."""
    return AcceptOptions(
        dir_allow_private=bool(_opt(options, "DirAllowPrivateAddresses", False))
        or testing(options))


def flag_options(options: Options, own_identity: bytes) -> FlagOptions:
    """The flag rules' inputs (voteflags.c)."""
    test = testing(options)
    authorities = frozenset(bytes.fromhex(a.fingerprint) for a in trusted_authorities(options))
    return FlagOptions(
        testing=test,
        authorities=authorities,
        own_identity=own_identity,
        dir_allow_private=accept_options(options).dir_allow_private,
        test_reachability=bool(_opt(options, "AuthDirTestReachability", True)),
        has_ipv6_connectivity=bool(_opt(options, "AuthDirHasIPv6Connectivity", False)),
        vote_exit=RouterSet.parse(_text(_opt(options, "TestingDirAuthVoteExit"))),
        vote_exit_strict=bool(_opt(options, "TestingDirAuthVoteExitIsStrict", False)),
        vote_guard=RouterSet.parse(_text(_opt(options, "TestingDirAuthVoteGuard"))),
        vote_guard_strict=bool(_opt(options, "TestingDirAuthVoteGuardIsStrict", False)),
        vote_hsdir=RouterSet.parse(_text(_opt(options, "TestingDirAuthVoteHSDir"))),
        vote_hsdir_strict=bool(_opt(options, "TestingDirAuthVoteHSDirIsStrict", False)),
        min_exit_threshold=int(_opt(options, "TestingMinExitFlagThreshold", 0)),
        min_fast_threshold=int(_opt(options, "TestingMinFastFlagThreshold", 0)),
        min_uptime_hsdir=0 if test else int(_opt(options, "MinUptimeHidServDirectoryV2",
                                                 96 * 3600)),
        time_to_learn_reachability=0 if test else 30 * 60,
        max_per_address=0 if test else int(_opt(options, "AuthDirMaxServersPerAddr", 2)),
    )


def vote_options(options: Options, own_identity: bytes, started: datetime) -> VoteOptions:
    """Everything a vote states besides the relays' facts."""
    both = _words(_opt(options, "RecommendedVersions"))
    client = _words(_opt(options, "RecommendedClientVersions")) or both
    server = _words(_opt(options, "RecommendedServerVersions")) or both
    return VoteOptions(
        flags=flag_options(options, own_identity),
        consensus_params=_words(_opt(options, "ConsensusParams")),
        client_versions=client,
        server_versions=server,
        started=started,
    )

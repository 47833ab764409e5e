"""An authority's torrc becomes the dirauth core's option records."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from zwiebel.app.cli import parse_command_line
from zwiebel.app.main import load_options
from zwiebel.features.dirauth import settings

TORRC = """TestingTorNetwork 1
DataDirectory {dir}
Nickname auth0
ORPort 127.0.0.1:9001
DirPort 127.0.0.1:9030
ContactInfo auth0@example.invalid
AuthoritativeDirectory 1
V3AuthoritativeDirectory 1
V3AuthVotingInterval 10
V3AuthVoteDelay 2
V3AuthDistDelay 2
TestingV3AuthInitialVotingInterval 10
TestingV3AuthInitialVoteDelay 2
TestingV3AuthInitialDistDelay 2
TestingDirAuthVoteGuard *
TestingDirAuthVoteExit $0123456789ABCDEF0123456789ABCDEF01234567
ConsensusParams sendme_accept_min_version=1
DirAuthority auth0 orport=9001 v3ident={v3} 127.0.0.1:9030 {fp}
"""


def test_testing_network_options(tmp_path: Path) -> None:
    torrc = tmp_path / "torrc"
    torrc.write_text(TORRC.format(dir=tmp_path, v3="A" * 40, fp="B" * 40))
    options, _ = load_options(parse_command_line(
        ["-f", str(torrc), "--defaults-torrc", str(tmp_path / "none")]))
    assert settings.is_authority(options) and settings.testing(options)
    flags = settings.flag_options(options, b"\1" * 20)
    assert flags.vote_guard.entries == ("*",)
    assert flags.vote_exit.entries == ("$0123456789ABCDEF0123456789ABCDEF01234567",)
    assert flags.authorities == frozenset({b"\xbb" * 20})
    assert (flags.max_per_address, flags.min_uptime_hsdir) == (0, 0)
    schedule = settings.schedule_config(options)
    assert (schedule.voting_interval, schedule.vote_delay, schedule.dist_delay,
            schedule.initial_voting_interval) == (10, 2, 2, 10)
    vote = settings.vote_options(options, b"\1" * 20, datetime.now(UTC))
    assert vote.consensus_params == ("sendme_accept_min_version=1",)
    assert vote.client_versions is None

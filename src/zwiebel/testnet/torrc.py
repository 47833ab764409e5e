"""torrc files for a private network on 127.0.0.1 (option reference: tor's tor.1.txt).

Why the less obvious lines are there (loopback surprises):

* ``TestingTorNetwork 1`` unlocks the short voting schedule and the Testing* votes.
  It already implies DirAllowPrivateAddresses, EnforceDistinctSubnets 0 and
  ExitPolicyRejectPrivate 0; they are written out anyway so that the torrc reads
  on its own.
* ``LearnCircuitBuildTimeout 0`` with ``CircuitBuildTimeout 20``: on loopback tor
  would learn a timeout of tens of ms and then fail circuits whenever the machine
  is busy.
* Exits: ``ExitPolicyRejectLocalInterfaces 0`` (127.0.0.1 is a local interface) and
  DNS kept on 127.0.0.1 with hijack detection off (there is no resolver; use IP
  literals).
* A loopback-only exit policy summarises to ``reject 1-65535`` in
  microdescriptors, so the real tor client uses full descriptors
  (``UseMicrodescriptors 0``) in LOOPBACK mode, and the authorities vote Exit
  for the exits by fingerprint (``TestingDirAuthVoteExit``).
* ``ShutdownWaitLength 0`` so that a relay stops at once when asked.
* Authorities vote ``ConsensusParams sendme_accept_min_version=1``, as the public
  network's consensus has it: relays and clients must send authenticated SENDMEs.

Lines only real tor accepts (``tor_only_lines``: protocol warnings, the circuit
path threshold, the exits' DNS set-up) are kept apart. RealTorNetwork writes them
into each torrc (``TorrcContext.portable`` False); ``zwiebel testnet up`` writes the
same torrc text for a Zwiebel and a real tor node of a role (``portable`` True) and
gives real tor these lines in its ``--defaults-torrc`` file instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from zwiebel.testnet.layout import HOST, ExitPolicyMode, NodeSpec, Role


@dataclass(frozen=True)
class Timing:
    """Consensus schedule in seconds (V3AuthVotingInterval, VoteDelay, DistDelay)."""

    voting_interval: int = 10
    vote_delay: int = 2
    dist_delay: int = 2


@dataclass(frozen=True)
class TorrcContext:
    """What every torrc of one network shares."""

    dir_authority_lines: tuple[str, ...]
    exit_policy: ExitPolicyMode
    resolv_conf: Path
    log_level: str = "notice"
    timing: Timing = Timing()
    owner_pid: int | None = None
    extra_lines: tuple[str, ...] = ()
    portable: bool = False


def dir_authority_line(nickname: str, or_port: int, v3ident: str, dir_port: int,
                       fingerprint: str) -> str:
    """The ``DirAuthority`` torrc line naming one authority."""
    return (f"DirAuthority {nickname} orport={or_port} v3ident={v3ident} "
            f"{HOST}:{dir_port} {fingerprint}")


def exit_vote_line(fingerprints: Iterable[str]) -> str:
    """Value of TestingDirAuthVoteExit for these RSA fingerprints."""
    return ",".join("$" + fp for fp in fingerprints)


def common_lines(node: NodeSpec, data_dir: Path, ctx: TorrcContext) -> list[str]:
    """Lines every node gets: data dir, logs, control port, testing-network basics."""
    lines = [
        "TestingTorNetwork 1",
        f"DataDirectory {data_dir}",
        f"PidFile {data_dir / 'pid'}",
        f"Nickname {node.name}",
        "RunAsDaemon 0",
        f"Log {ctx.log_level} file {data_dir / 'tor.log'}",
        "SafeLogging 0",
        f"ControlPort {HOST}:{node.control_port}",
        "CookieAuthentication 1",
        "ShutdownWaitLength 0",
        "AssumeReachable 1",
        "DirAllowPrivateAddresses 1",
        "EnforceDistinctSubnets 0",
        "ClientUseIPv6 0",
        "LearnCircuitBuildTimeout 0",
        "CircuitBuildTimeout 20",
    ]
    if not ctx.portable:
        lines += ["ProtocolWarnings 1", "PathsNeededToBuildCircuits 0.67",
                  "V3AuthNIntervalsValid 2"]
    if ctx.owner_pid is not None:
        lines.append(f"__OwningControllerProcess {ctx.owner_pid}")
    return lines + list(ctx.dir_authority_lines)


def tor_only_lines(resolv_conf: Path) -> list[str]:
    """Lines for real tor that Zwiebel does not accept (yet): protocol warnings in
    the log, tor's circuit path threshold and an exit's DNS set-up (a resolv.conf
    of our own, no hijack probes). Harmless on roles they do not concern."""
    return ["ProtocolWarnings 1", "PathsNeededToBuildCircuits 0.67", *dns_lines(resolv_conf)]


def dns_lines(resolv_conf: Path) -> list[str]:
    """An exit's resolver: only the given resolv.conf, hijack detection off."""
    return [f"ServerDNSResolvConfFile {resolv_conf}", "ServerDNSDetectHijacking 0",
            "ServerDNSAllowBrokenConfig 1"]


def relay_lines(node: NodeSpec, ctx: TorrcContext) -> list[str]:
    """ORPort and policy lines for an authority, middle or exit."""
    lines = ["SocksPort 0", f"Address {HOST}", f"ORPort {HOST}:{node.or_port}",
             f"ContactInfo {node.name}@zwiebel-testnet.invalid"]
    if node.role is Role.EXIT:
        return lines + exit_policy_lines(ctx)
    return lines + ["ExitRelay 0", "ExitPolicy reject *:*"]


def exit_policy_lines(ctx: TorrcContext) -> list[str]:
    """Exit policy and DNS lines of an exit in the given mode."""
    lines = ["ExitRelay 1", "IPv6Exit 0", "ExitPolicyRejectPrivate 0",
             "ExitPolicyRejectLocalInterfaces 0"]
    if not ctx.portable:
        lines += dns_lines(ctx.resolv_conf)
    if ctx.exit_policy is ExitPolicyMode.OPEN:
        return lines + ["ExitPolicy accept *:*"]
    return lines + ["ExitPolicy accept 127.0.0.0/8:*", "ExitPolicy reject *:*"]


def authority_lines(node: NodeSpec, ctx: TorrcContext, exit_fps: Sequence[str]) -> list[str]:
    """DirPort, voting schedule and flag votes of a directory authority."""
    t = ctx.timing
    lines = [
        f"DirPort {HOST}:{node.dir_port}",
        "AuthoritativeDirectory 1",
        "V3AuthoritativeDirectory 1",
        f"TestingV3AuthInitialVotingInterval {t.voting_interval}",
        f"TestingV3AuthInitialVoteDelay {t.vote_delay}",
        f"TestingV3AuthInitialDistDelay {t.dist_delay}",
        f"V3AuthVotingInterval {t.voting_interval}",
        f"V3AuthVoteDelay {t.vote_delay}",
        f"V3AuthDistDelay {t.dist_delay}",
        "TestingMinExitFlagThreshold 0",
        "TestingMinFastFlagThreshold 0",
        "TestingDirAuthVoteGuard *",
        "TestingDirAuthVoteHSDir *",
        "ConsensusParams sendme_accept_min_version=1",
    ]
    if exit_fps:
        lines.append(f"TestingDirAuthVoteExit {exit_vote_line(exit_fps)}")
    return lines


def client_lines(node: NodeSpec, ctx: TorrcContext) -> list[str]:
    """SocksPort and directory behaviour of the real tor client."""
    lines = [f"SocksPort {HOST}:{node.socks_port}",
             "TestingClientMaxIntervalWithoutRequest 1 seconds"]
    if ctx.exit_policy is ExitPolicyMode.LOOPBACK:
        lines.append("UseMicrodescriptors 0")
    return lines


def render_torrc(node: NodeSpec, data_dir: Path, ctx: TorrcContext,
                 exit_fps: Sequence[str]) -> str:
    """The complete torrc text of ``node``."""
    lines = ["# written by zwiebel.testnet; regenerated at every start"]
    lines += common_lines(node, data_dir, ctx)
    if node.role is Role.CLIENT:
        lines += client_lines(node, ctx)
    else:
        lines += relay_lines(node, ctx)
    if node.role is Role.AUTHORITY:
        lines += authority_lines(node, ctx, exit_fps)
    lines += ctx.extra_lines
    return "\n".join(lines) + "\n"


def external_relay_lines(ctx: TorrcContext, nickname: str, or_port: int,
                         exit_relay: bool) -> list[str]:
    """torrc-style lines a relay of our own needs to join this network.

    Exit policy lines follow the network's mode; Zwiebel reads the same option
    names as tor. Keys, DataDirectory and ControlPort are the caller's business.
    """
    lines = ["TestingTorNetwork 1", f"Nickname {nickname}", f"Address {HOST}",
             f"ORPort {HOST}:{or_port}", "AssumeReachable 1", "DirAllowPrivateAddresses 1",
             "EnforceDistinctSubnets 0", "LearnCircuitBuildTimeout 0",
             "CircuitBuildTimeout 20", "SocksPort 0"]
    lines += list(ctx.dir_authority_lines)
    if exit_relay:
        return lines + exit_policy_lines(ctx)
    return lines + ["ExitRelay 0", "ExitPolicy reject *:*"]

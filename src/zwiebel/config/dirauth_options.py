"""Directory authority options and their checks (tor 0.4.9.11).

Types and defaults from ``src/feature/dirauth/dirauth_options.inc`` and ``option_vars_``
in ``src/app/config/config.c``, documented in ``doc/man/tor.1.txt``. The voting schedule
options that TestingTorNetwork changes (V3AuthVotingInterval, V3AuthVoteDelay,
V3AuthDistDelay, TestingV3AuthInitial*, MinUptimeHidServDirectoryV2,
AuthDirMaxServersPerAddr, TestingAuthDirTimeToLearnReachability) are registered by
:mod:`.testnet` with both defaults; AssumeReachable, DirPort and DirCache by the daemon and
relay tables. :func:`check_dirauth` applies tor's rules: ``options_validate_dirauth_mode``,
``..._schedule`` and ``..._testing`` (``dirauth_config.c``), ``dirauth_options_validate``,
the address-policy checks of ``policies_parse_from_options`` and the DirPort rules of
``relay_config.c``.

Refused rather than ignored: BridgeAuthoritativeDir 1 (bridge authorities are not built),
V3AuthUseLegacyKey 1 (no legacy-key signing) and AuthDirHasIPv6Connectivity 1 (no IPv6
reachability tests). Other tor authority options (AuthDirFastGuarantee,
AuthDirGuardBWGuarantee, AuthDirVoteGuard*, V3BandwidthsFile, GuardfractionFile,
MinimalAcceptedServerVersion, AuthDir*CCs, AuthDirMiddleOnly, ...) are not registered,
so the config layer refuses them as "not supported by Zwiebel".
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from zwiebel.config.errors import ConfigError
from zwiebel.config.lexer import ConfigLine
from zwiebel.config.options import Options
from zwiebel.config.registry import Kind, ListResolver, OptionDef, WarnFn
from zwiebel.encoding import ParseError
from zwiebel.netdoc.policy import PolicyRule, parse_policy_item

#: dirvote.h: lowest vote and dist delays (equal with and without TestingTorNetwork).
MIN_VOTE_SECONDS = MIN_VOTE_SECONDS_TESTING = 2
MIN_DIST_SECONDS = MIN_DIST_SECONDS_TESTING = 2
#: dirvote.h MIN_VOTE_INTERVAL, MIN_VOTE_INTERVAL_TESTING, ..._TESTING_INITIAL.
MIN_VOTE_INTERVAL = 300
MIN_VOTE_INTERVAL_TESTING = (MIN_VOTE_SECONDS_TESTING + MIN_DIST_SECONDS_TESTING + 1) * 2
MIN_VOTE_INTERVAL_TESTING_INITIAL = MIN_VOTE_SECONDS_TESTING + MIN_DIST_SECONDS_TESTING + 1
DAY = 24 * 60 * 60
_PARAM = re.compile(r"[^=\s]+=-?[0-9]+\Z")
_INT32 = 2**31


def _policy_resolver(name: str) -> ListResolver:
    def resolve(lines: Sequence[ConfigLine], warn: WarnFn) -> tuple[PolicyRule, ...]:
        return parse_authdir_policy([line.value for line in lines], name, warn)
    return resolve


def parse_authdir_policy(values: Sequence[str], name: str, warn: WarnFn) -> tuple[PolicyRule, ...]:
    """AuthDirReject/AuthDirInvalid/AuthDirBadExit: comma-separated address patterns.

    tor's ``load_policy_from_option`` with ADDR_POLICY_REJECT: an entry starting with
    ``*``, ``[`` or a digit gets "reject " put in front; ports are dropped with
    "Ignoring ports in NAME option."; a malformed entry is "Error in NAME entry.".
    """
    rules: list[PolicyRule] = []
    for value in values:
        for entry in (e.strip() for e in value.split(",")):
            if not entry:
                continue
            text = f"reject {entry}" if entry[0] in "*[0123456789" else entry
            try:
                rules += parse_policy_item(text)
            except (ParseError, ValueError) as exc:
                raise ConfigError(f"Error in {name} entry.") from exc
    if any(not r.all_ports for r in rules):
        warn(f"Ignoring ports in {name} option.")
        rules = [PolicyRule(r.accept, r.address, r.maskbits) for r in rules]
    return tuple(rules)


def resolve_versions(lines: Sequence[ConfigLine], warn: WarnFn) -> tuple[str, ...]:
    """Recommended*Versions: every line's comma-separated items, in order.

    As ``format_recommended_version_list``, an item holding spaces is split on them;
    sorting and de-duplication (``sort_version_list``) belong to the vote builder.
    """
    out: list[str] = []
    for line in lines:
        for item in (i.strip() for i in line.value.split(",")):
            if " " in item:
                warn(f"Unexpected space in versions list member \"{item}\". (These are "
                     "supposed to be comma-separated; I'll pretend you used commas instead.)")
            out += item.split()
    return tuple(out)


def resolve_params(lines: Sequence[ConfigLine], warn: WarnFn) -> tuple[str, ...]:
    """ConsensusParams: the space-separated ``key=value`` items of every line.

    tor copies them into its vote unchecked; a malformed item makes the other
    authorities reject the vote, so Zwiebel refuses it here (value must be an int32).
    """
    items = tuple(word for line in lines for word in line.value.split())
    for item in items:
        value = item.partition("=")[2]
        if not _PARAM.match(item) or not -_INT32 <= int(value) < _INT32:
            raise ConfigError(f"Bad ConsensusParams item '{item}': expected key=integer")
    return items


def _b(name: str, default: str, doc: str, attr: str = "",
       aliases: tuple[str, ...] = ()) -> OptionDef:
    return OptionDef(name, Kind.BOOLEAN, default, doc, attr=attr, aliases=aliases)


DIRAUTH_OPTIONS: tuple[OptionDef, ...] = (
    _b("AuthoritativeDirectory", "0", "Act as a directory authority.",
       attr="authoritative_dir"),
    _b("V3AuthoritativeDirectory", "0", "Generate v3 votes and consensuses.",
       attr="v3_authoritative_dir"),
    _b("BridgeAuthoritativeDir", "0", "Act as a bridge authority (not supported).",
       aliases=("BridgeAuthoritativeDirectory",)),
    _b("VersioningAuthoritativeDirectory", "0", "Vote recommended versions."),
    OptionDef("V3AuthNIntervalsValid", Kind.POSINT, "3", "Intervals a consensus is valid."),
    _b("V3AuthUseLegacyKey", "0", "Also sign with a legacy key (not supported)."),
    OptionDef("TestingV3AuthVotingStartOffset", Kind.INTERVAL, "0",
              "Offset of the voting start (testing networks only)."),
    OptionDef("TestingDirAuthVoteExit", Kind.ROUTERSET, None, "Always vote Exit for these."),
    _b("TestingDirAuthVoteExitIsStrict", "0", "Vote Exit only for TestingDirAuthVoteExit."),
    OptionDef("TestingDirAuthVoteGuard", Kind.ROUTERSET, None, "Always vote Guard for these."),
    _b("TestingDirAuthVoteGuardIsStrict", "0", "Vote Guard only for TestingDirAuthVoteGuard."),
    OptionDef("TestingDirAuthVoteHSDir", Kind.ROUTERSET, None, "Always vote HSDir for these."),
    _b("TestingDirAuthVoteHSDirIsStrict", "0", "Vote HSDir only for TestingDirAuthVoteHSDir."),
    OptionDef("TestingMinExitFlagThreshold", Kind.MEMUNIT, "0", "Lowest Exit bandwidth."),
    OptionDef("TestingMinFastFlagThreshold", Kind.MEMUNIT, "0", "Lowest Fast bandwidth."),
    _b("AuthDirHasIPv6Connectivity", "0", "Test IPv6 ORPorts (only 0 is supported)."),
    _b("AuthDirTestReachability", "1", "Test relays' ORPorts to vote Running."),
    _b("AuthDirListBadExits", "0", "Vote on BadExit."),
    OptionDef("AuthDirReject", Kind.LINELIST, None, "Addresses never listed.",
              resolve=_policy_resolver("AuthDirReject")),
    OptionDef("AuthDirInvalid", Kind.LINELIST, None, "Addresses listed without Valid.",
              resolve=_policy_resolver("AuthDirInvalid")),
    OptionDef("AuthDirBadExit", Kind.LINELIST, None, "Addresses voted BadExit.",
              resolve=_policy_resolver("AuthDirBadExit")),
    OptionDef("RecommendedVersions", Kind.LINELIST, None, "Recommended tor versions.",
              resolve=resolve_versions),
    OptionDef("RecommendedClientVersions", Kind.LINELIST, None, "Recommended client versions.",
              resolve=resolve_versions),
    OptionDef("RecommendedServerVersions", Kind.LINELIST, None, "Recommended relay versions.",
              resolve=resolve_versions),
    OptionDef("ConsensusParams", Kind.LINELIST, None, "Our vote's params line.",
              resolve=resolve_params),
)

#: Authority options with no effect unless AuthoritativeDirectory is set.
AUTHORITY_ONLY: tuple[str, ...] = tuple(
    o.name for o in DIRAUTH_OPTIONS if o.name != "AuthoritativeDirectory"
) + ("V3AuthVotingInterval", "V3AuthVoteDelay", "V3AuthDistDelay",
     "TestingV3AuthInitialVotingInterval", "TestingV3AuthInitialVoteDelay",
     "TestingV3AuthInitialDistDelay", "MinUptimeHidServDirectoryV2",
     "AuthDirMaxServersPerAddr", "TestingAuthDirTimeToLearnReachability")


def recommended_versions(options: Options, which: str) -> tuple[str, ...]:
    """RecommendedClientVersions or ...ServerVersions (`which` "client"/"server"), falling
    back to RecommendedVersions as ``dirauth_options_pre_normalize`` does."""
    own = "RecommendedClientVersions" if which == "client" else "RecommendedServerVersions"
    versions: tuple[str, ...] = options.get(own)
    return versions if options.is_set(own) else options.get("RecommendedVersions")


def vote_params(options: Options) -> tuple[str, ...]:
    """The params of our vote (dirvote.c): ConsensusParams plus
    ``AuthDirMaxServersPerAddr=N``, sorted as strings; () when ConsensusParams is unset."""
    params: tuple[str, ...] = options.get("ConsensusParams")
    if not options.is_set("ConsensusParams"):
        return ()
    extra = f"AuthDirMaxServersPerAddr={options.get('AuthDirMaxServersPerAddr')}"
    return tuple(sorted((*params, extra)))


def check_dirauth(options: Options, warnings: list[str]) -> Options:
    """tor's authority and DirPort rules; the options to use (UseEntryGuards cleared on
    an authority). Raises ConfigError with tor's message; appends tor's warnings."""
    _check_refused(options)
    _check_dirport(options)
    _check_versioning(options)
    if options.get("TestingAuthDirTimeToLearnReachability") > 2 * 60 * 60:
        warnings.append("TestingAuthDirTimeToLearnReachability is insanely high.")
    if not options.authoritative_dir:
        _warn_authority_only(options, warnings)
        return options
    _check_mode(options)
    if options.v3_authoritative_dir:
        _check_schedule(options, warnings)
        _check_initial_schedule(options)
    if options.get("UseEntryGuards"):
        options = options.with_values(UseEntryGuards=False)
    return options


def _check_refused(options: Options) -> None:
    for name, why in (
        ("BridgeAuthoritativeDir", "bridge authorities are not implemented"),
        ("V3AuthUseLegacyKey", "signing with a legacy key is not implemented"),
        ("AuthDirHasIPv6Connectivity", "IPv6 ORPort reachability tests are not implemented"),
    ):
        if options.get(name):
            raise ConfigError(f"{name} 1 is not supported by Zwiebel: {why}.")


def _check_dirport(options: Options) -> None:
    """relay_config.c: check_and_prune_server_ports and the DirCache rule."""
    ports = options.dir_ports
    if ports and not options.get("DirCache"):
        raise ConfigError("DirPort configured but DirCache disabled. DirPort requires DirCache.")
    advertised = [p for p in ports if not p.no_advertise]
    listening = [p for p in ports if not p.no_listen]
    problem = None
    if advertised and not listening:
        problem = "We are advertising a DirPort, but not actually listening on one."
    elif len(advertised) > 1:
        problem = "Can't advertise more than one DirPort."
    elif advertised and not any(_binds_ipv4(p.address, p.ipv6_only) for p in listening):
        problem = ("We are listening on a non-IPv4 DirPort. This is not allowed. Consider "
                   "either setting an IPv4 address or simply removing it because it is not "
                   "used anymore.")
    if problem is not None:
        raise ConfigError(f"Misconfigured server ports: {problem}")


def _binds_ipv4(address: str | None, ipv6_only: bool) -> bool:
    return address is not None and ":" not in address and not ipv6_only


def _check_versioning(options: Options) -> None:
    if options.get("VersioningAuthoritativeDirectory") and not (
        recommended_versions(options, "client") and recommended_versions(options, "server")
    ):
        raise ConfigError("Versioning authoritative dir servers must set "
                          "Recommended*Versions.")


def _warn_authority_only(options: Options, warnings: list[str]) -> None:
    for name in AUTHORITY_ONLY:
        if options.is_set(name):
            warnings.append(f"{name} has no effect unless AuthoritativeDirectory is set.")


def _check_mode(options: Options) -> None:
    """options_validate_dirauth_mode."""
    if not options.contact_info and not options.testing_tor_network:
        raise ConfigError("Authoritative directory servers must set ContactInfo")
    if not (options.get("BridgeAuthoritativeDir") or options.v3_authoritative_dir):
        raise ConfigError("AuthoritativeDir is set, but none of "
                          "(Bridge/V3)AuthoritativeDir is set.")
    if not options.dir_ports:
        raise ConfigError("Running as authoritative directory, but no DirPort set.")
    if not options.or_ports:
        raise ConfigError("Running as authoritative directory, but no ORPort set.")
    if options.get("ClientOnly"):
        raise ConfigError("Running as authoritative directory, but ClientOnly also set.")


def _check_schedule(options: Options, warnings: list[str]) -> None:
    """options_validate_dirauth_schedule."""
    testing = bool(options.testing_tor_network)
    interval = options.get("V3AuthVotingInterval")
    vote, dist = options.get("V3AuthVoteDelay"), options.get("V3AuthDistDelay")
    if vote + dist >= interval // 2:
        raise ConfigError("V3AuthVoteDelay plus V3AuthDistDelay must be less than half "
                          "V3AuthVotingInterval")
    _check_delay("V3AuthVoteDelay", vote, MIN_VOTE_SECONDS, MIN_VOTE_SECONDS_TESTING, testing,
                 "This may lead to failure to vote for a consensus.", warnings)
    _check_delay("V3AuthDistDelay", dist, MIN_DIST_SECONDS, MIN_DIST_SECONDS_TESTING, testing,
                 "This may lead to missing votes in a consensus.", warnings)
    if options.get("V3AuthNIntervalsValid") < 2:
        raise ConfigError("V3AuthNIntervalsValid must be at least 2.")
    if interval < MIN_VOTE_INTERVAL:
        if not testing or interval < MIN_VOTE_INTERVAL_TESTING:
            raise ConfigError("V3AuthVotingInterval is insanely low.")
        warnings.append("V3AuthVotingInterval is very low. This may lead to failure to "
                        "synchronise for a consensus.")
    elif interval > DAY:
        raise ConfigError("V3AuthVotingInterval is insanely high.")
    elif DAY % interval:
        warnings.append("V3AuthVotingInterval does not divide evenly into 24 hours.")


def _check_delay(name: str, value: int, minimum: int, testing_minimum: int, testing: bool,
                 consequence: str, warnings: list[str]) -> None:
    if value >= minimum:
        return
    if not testing or value < testing_minimum:
        raise ConfigError(f"{name} is way too low.")
    warnings.append(f"{name} is very low. {consequence}")


def _check_initial_schedule(options: Options) -> None:
    """options_validate_dirauth_testing."""
    initial = options.get("TestingV3AuthInitialVotingInterval")
    vote = options.get("TestingV3AuthInitialVoteDelay")
    dist = options.get("TestingV3AuthInitialDistDelay")
    if initial < MIN_VOTE_INTERVAL_TESTING_INITIAL:
        raise ConfigError("TestingV3AuthInitialVotingInterval is insanely low.")
    if (30 * 60) % initial:
        raise ConfigError("TestingV3AuthInitialVotingInterval does not divide evenly into "
                          "30 minutes.")
    if vote < MIN_VOTE_SECONDS_TESTING:
        raise ConfigError("TestingV3AuthInitialVoteDelay is way too low.")
    if dist < MIN_DIST_SECONDS_TESTING:
        raise ConfigError("TestingV3AuthInitialDistDelay is way too low.")
    if vote + dist >= initial:
        raise ConfigError("TestingV3AuthInitialVoteDelay plus TestingV3AuthInitialDistDelay "
                          "must be less than TestingV3AuthInitialVotingInterval")
    offset = options.get("TestingV3AuthVotingStartOffset")
    if offset > min(initial, options.get("V3AuthVotingInterval")):
        raise ConfigError("TestingV3AuthVotingStartOffset is higher than the voting interval.")

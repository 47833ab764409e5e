"""Cross-option rules from tor's ``options_validate_cb`` (``src/app/config/config.c``)
and ``options_validate_relay_info`` (``src/feature/relay/relay_config.c``) that matter
for the options Zwiebel supports.

:func:`validate` returns the (possibly clamped) options plus tor's warnings, or raises
:class:`~zwiebel.config.errors.ConfigError` with tor's rejection message.
"""

from __future__ import annotations

import re

from zwiebel.config.dirauth_options import check_dirauth
from zwiebel.config.errors import ConfigError
from zwiebel.config.options import Options
from zwiebel.config.testnet import TESTING_ONLY
from zwiebel.config.values import is_legal_nickname

#: ``MIN_MAX_CIRCUIT_DIRTINESS`` and ``MAX_MAX_CIRCUIT_DIRTINESS``.
MIN_DIRTINESS, MAX_DIRTINESS = 10, 30 * 24 * 60 * 60
#: ``RECOMMENDED_MIN_CIRCUIT_BUILD_TIMEOUT``.
MIN_BUILD_TIMEOUT = 10
_HASHED_PASSWORD = re.compile(r"16:[0-9A-Fa-f]{58}\Z")

ALTERNATE_AUTHORITY_WARNING = (
    "You have used DirAuthority or AlternateDirAuthority to specify alternate directory "
    "authorities in your configuration. This is potentially dangerous: it can make you "
    "look different from all other Tor users, and hurt your anonymity. Even if you've "
    "specified the same authorities as Tor uses by default, the defaults could change "
    "in the future. Be sure you know what you're doing."
)
TESTNET_WARNING = (
    "TestingTorNetwork is set. This will make your node almost unusable in the public "
    "Tor network, and is therefore only advised if you are building a testing Tor network!"
)


def _has_custom_authorities(options: Options) -> bool:
    return bool(options.dir_authorities) or bool(
        options.alternate_dir_authorities and options.alternate_bridge_authorities
    )


def _check_daemon(options: Options) -> None:
    if options.run_as_daemon:
        raise ConfigError(
            "RunAsDaemon 1 is not supported by Zwiebel; run it in the foreground "
            "(e.g. under a service manager) with RunAsDaemon 0."
        )
    nick = options.nickname
    if nick is not None and not is_legal_nickname(nick):
        raise ConfigError(
            f"Nickname '{nick}', nicknames must be between 1 and 19 characters "
            "inclusive, and must contain only the characters [a-zA-Z0-9]."
        )
    for line in options.hashed_control_passwords:
        if not all(_HASHED_PASSWORD.match(p) for p in line.split()):
            raise ConfigError("Bad HashedControlPassword: wrong length or bad encoding")


def _check_authorities(options: Options, warnings: list[str]) -> None:
    if options.dir_authorities and (
        options.alternate_dir_authorities or options.alternate_bridge_authorities
    ):
        raise ConfigError("You cannot set both DirAuthority and Alternate*Authority.")
    if options.dir_authorities or options.alternate_dir_authorities:
        warnings.append(ALTERNATE_AUTHORITY_WARNING)
    custom = _has_custom_authorities(options)
    if options.testing_tor_network and not custom:
        raise ConfigError(
            "TestingTorNetwork may only be configured in combination with a non-default "
            "set of DirAuthority or both of AlternateDirAuthority and "
            "AlternateBridgeAuthority configured."
        )
    if not options.client_dns_reject_internal_addresses and not custom:
        raise ConfigError("ClientDNSRejectInternalAddresses used for default network.")


def _check_testing(options: Options, warnings: list[str]) -> None:
    testing = options.testing_tor_network or options.using_test_network_defaults
    if not testing:
        for name in TESTING_ONLY:
            if options.is_set(name) and options.registry.lookup(name) is not None:
                raise ConfigError(f"{name} may only be changed in testing Tor networks!")
        for name in ("TestingEnableConnBwEvent", "TestingEnableCellStatsEvent"):
            if options.get(name):
                raise ConfigError(f"{name} may only be changed in testing Tor networks!")
    if options.testing_client_max_interval_without_request < 1:
        raise ConfigError("TestingClientMaxIntervalWithoutRequest is way too low.")
    if options.testing_dir_connection_max_stall < 5:
        raise ConfigError("TestingDirConnectionMaxStall is way too low.")
    if options.testing_tor_network:
        warnings.append(TESTNET_WARNING)


def _check_guards(options: Options) -> None:
    if options.entry_nodes and not options.use_entry_guards:
        raise ConfigError("If EntryNodes is set, UseEntryGuards must be enabled.")
    primary, total = options.num_primary_guards, options.num_entry_guards
    if primary and total and total > primary:
        raise ConfigError("NumEntryGuards must not be greater than NumPrimaryGuards.")


def _clamp_circuits(options: Options, warnings: list[str]) -> Options:
    dirtiness = options.max_circuit_dirtiness
    if dirtiness < MIN_DIRTINESS:
        warnings.append(f"MaxCircuitDirtiness option is too short; raising to {MIN_DIRTINESS}.")
        options = options.with_values(MaxCircuitDirtiness=MIN_DIRTINESS)
    elif dirtiness > MAX_DIRTINESS:
        warnings.append(f"MaxCircuitDirtiness option is too high; setting to {MAX_DIRTINESS}.")
        options = options.with_values(MaxCircuitDirtiness=MAX_DIRTINESS)
    timeout = options.circuit_build_timeout
    if not options.learn_circuit_build_timeout and 0 < timeout < MIN_BUILD_TIMEOUT:
        warnings.append(
            f"CircuitBuildTimeout is shorter ({timeout} seconds) than the recommended "
            f"minimum ({MIN_BUILD_TIMEOUT} seconds), and LearnCircuitBuildTimeout is "
            "disabled.  If tor isn't working, raise this value or enable "
            "LearnCircuitBuildTimeout."
        )
    return options


def _check_listeners(options: Options, warnings: list[str]) -> None:
    if not options.socks_ports and not options.or_ports:
        warnings.append(
            "SocksPort, TransPort, NATDPort, DNSPort, and ORPort are all undefined, and "
            "there aren't any hidden services configured.  Tor will still run, but "
            "probably won't do anything."
        )


#: Options accepted so tor torrc files load, but not acted upon yet: setting one
#: explicitly gives a start-up warning saying so (never silently ignored). The
#: authority's options are checked by :func:`.dirauth_options.check_dirauth`.
NO_EFFECT_YET = (
    "ConnectionPadding", "NewCircuitPeriod", "ClientUseIPv4", "ClientUseIPv6", "ClientOnly",
    "ClientBootstrapConsensusAuthorityDownloadInitialDelay",
    "ClientBootstrapConsensusFallbackDownloadInitialDelay",
    "ClientBootstrapConsensusAuthorityOnlyDownloadInitialDelay",
    "ClientDNSRejectInternalAddresses", "CountPrivateBandwidth", "DirAllowPrivateAddresses",
    "TestingServerDownloadInitialDelay", "TestingClientDownloadInitialDelay",
    "TestingServerConsensusDownloadInitialDelay", "TestingClientConsensusDownloadInitialDelay",
    "TestingBridgeDownloadInitialDelay", "TestingBridgeBootstrapDownloadInitialDelay",
    "TestingClientMaxIntervalWithoutRequest", "TestingDirConnectionMaxStall",
    "TestingEnableConnBwEvent", "TestingEnableCellStatsEvent",
)


def _check_no_effect(options: Options, warnings: list[str]) -> None:
    for name in NO_EFFECT_YET:
        if options.is_set(name):
            where = options.lines(name)[0].where if options.lines(name) else "command line"
            warnings.append(f"{name} ({where}) is accepted for compatibility with tor but has "
                            "no effect in Zwiebel yet.")


def validate(options: Options) -> tuple[Options, list[str]]:
    """Apply the cross-option rules; return the options to use and the warnings."""
    warnings = list(options.warnings)
    _check_daemon(options)
    _check_authorities(options, warnings)
    _check_testing(options, warnings)
    _check_guards(options)
    _check_listeners(options, warnings)
    _check_no_effect(options, warnings)
    options = check_dirauth(options, warnings)
    options = _clamp_circuits(options, warnings)
    return options, warnings

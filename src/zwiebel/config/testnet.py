"""TestingTorNetwork and the defaults it changes.

When ``TestingTorNetwork 1`` is set, tor reloads its configuration with the defaults of
``src/app/config/testnet.inc`` replacing the normal ones (``options_init_from_string``);
values the torrc sets explicitly still win. The options of that table are registered
here with both defaults; most belong to relays and authorities and are only stored.
"""

from __future__ import annotations

from zwiebel.config.registry import Kind, OptionDef

_B, _N, _I, _C = Kind.BOOLEAN, Kind.POSINT, Kind.INTERVAL, Kind.CSV_INTERVAL


def _t(name: str, kind: Kind, default: str, testnet: str) -> OptionDef:
    return OptionDef(name, kind, default, "Changed by TestingTorNetwork.",
                     testnet_default=testnet)


TESTNET_OPTIONS: tuple[OptionDef, ...] = (
    _t("DirAllowPrivateAddresses", _B, "0", "1"),
    _t("EnforceDistinctSubnets", _B, "1", "0"),
    _t("AuthDirMaxServersPerAddr", _N, "2", "0"),
    _t("ClientBootstrapConsensusAuthorityDownloadInitialDelay", _C, "6", "0"),
    _t("ClientBootstrapConsensusFallbackDownloadInitialDelay", _C, "0", "0"),
    _t("ClientBootstrapConsensusAuthorityOnlyDownloadInitialDelay", _C, "0", "0"),
    _t("ClientDNSRejectInternalAddresses", _B, "1", "0"),
    _t("ClientRejectInternalAddresses", _B, "1", "0"),
    _t("CountPrivateBandwidth", _B, "0", "1"),
    _t("ExitPolicyRejectPrivate", _B, "1", "0"),
    _t("ExtendAllowPrivateAddresses", _B, "0", "1"),
    _t("V3AuthVotingInterval", _I, "1 hour", "5 minutes"),
    _t("V3AuthVoteDelay", _I, "5 minutes", "20 seconds"),
    _t("V3AuthDistDelay", _I, "5 minutes", "20 seconds"),
    _t("TestingV3AuthInitialVotingInterval", _I, "30 minutes", "150 seconds"),
    _t("TestingV3AuthInitialVoteDelay", _I, "5 minutes", "20 seconds"),
    _t("TestingV3AuthInitialDistDelay", _I, "5 minutes", "20 seconds"),
    _t("TestingAuthDirTimeToLearnReachability", _I, "30 minutes", "0 minutes"),
    _t("MinUptimeHidServDirectoryV2", _I, "96 hours", "0 minutes"),
    _t("TestingMinTimeToReportBandwidth", _I, "1 day", "0 seconds"),
    _t("TestingServerDownloadInitialDelay", _C, "0", "0"),
    _t("TestingClientDownloadInitialDelay", _C, "0", "0"),
    _t("TestingServerConsensusDownloadInitialDelay", _C, "0", "0"),
    _t("TestingClientConsensusDownloadInitialDelay", _C, "0", "0"),
    _t("TestingBridgeDownloadInitialDelay", _C, "10800", "10"),
    _t("TestingBridgeBootstrapDownloadInitialDelay", _C, "0", "0"),
    _t("TestingClientMaxIntervalWithoutRequest", _I, "10 minutes", "5 seconds"),
    _t("TestingDirConnectionMaxStall", _I, "5 minutes", "30 seconds"),
    _t("TestingEnableConnBwEvent", _B, "0", "1"),
    _t("TestingEnableCellStatsEvent", _B, "0", "1"),
    OptionDef("___UsingTestNetworkDefaults", _B, "0", "Set by TestingTorNetwork.",
              attr="using_test_network_defaults", testnet_default="1"),
)

#: Options tor refuses to change from their defaults outside a testing network
#: (``options_validate_cb``'s CHECK_DEFAULT list, restricted to registered options;
#: TestingV3AuthVotingStartOffset is registered by :mod:`.dirauth_options`).
TESTING_ONLY: tuple[str, ...] = (
    "TestingV3AuthInitialVotingInterval",
    "TestingV3AuthInitialVoteDelay",
    "TestingV3AuthInitialDistDelay",
    "TestingV3AuthVotingStartOffset",
    "TestingAuthDirTimeToLearnReachability",
    "TestingServerDownloadInitialDelay",
    "TestingClientDownloadInitialDelay",
    "TestingServerConsensusDownloadInitialDelay",
    "TestingClientConsensusDownloadInitialDelay",
    "TestingBridgeDownloadInitialDelay",
    "TestingBridgeBootstrapDownloadInitialDelay",
    "TestingClientMaxIntervalWithoutRequest",
    "TestingDirConnectionMaxStall",
    "TestingMinTimeToReportBandwidth",
)

"""Assignment (confmgt.c config_assign, torrc_format.txt section 2) and Options."""

from __future__ import annotations

import pytest

from zwiebel.config import (
    BUILTIN_OPTIONS,
    ConfigError,
    ConfigLine,
    Kind,
    LineCommand,
    OptionDef,
    Registry,
    build_options,
    builtin_registry,
    lex,
    register_options,
)
from zwiebel.config.options import ConfigBuilder

AUTH = (
    "DirAuthority auth0 orport=15010 no-v2 v3ident=0123456789ABCDEF0123456789ABCDEF01234567 "
    "127.0.0.1:15011 ABCD EF01 2345 6789 ABCD EF01 2345 6789 ABCD EF01\n"
)


def cmdline(*pairs: tuple[str, str, LineCommand]) -> list[ConfigLine]:
    return [ConfigLine(k, v, c, "command line", i) for i, (k, v, c) in enumerate(pairs)]


def test_defaults_and_attribute_access() -> None:
    opts = build_options([])
    assert opts.socks_ports[0].port == 9050
    assert opts.max_circuit_dirtiness == 600
    assert opts.new_circuit_period == 30
    assert opts.use_microdescriptors is None  # auto
    assert opts.connection_padding is None
    assert opts.use_entry_guards is True and opts.num_entry_guards == 0
    assert opts.dir_authorities == () and opts.logs == ()
    assert opts.safe_logging == "1" and opts.nickname is None
    assert opts.get("maxcircuitdirtiness") == 600
    with pytest.raises(AttributeError):
        _ = opts.not_an_option


def test_names_are_case_insensitive_and_aliases_map() -> None:
    opts = build_options(lex("socksport 9150\nNUMENTRYGUARDS 2\nDirServer " + AUTH[13:]))
    assert opts.socks_ports[0].port == 9150 and opts.num_entry_guards == 2
    assert opts.dir_authorities[0].nickname == "auth0"
    assert opts.is_set("SocksPort") and not opts.is_set("ExitNodes")


def test_linelists_accumulate_and_singles_take_the_last_value() -> None:
    builder = ConfigBuilder()
    builder.add_domain(lex("SocksPort 1\nSocksPort 2\nNickname a\nNickname b\n"))
    opts = builder.build()
    assert [p.port for p in opts.socks_ports] == [1, 2]
    assert opts.nickname == "b"
    assert "Option 'Nickname' used more than once" in opts.warnings[0]


def test_command_line_replaces_appends_and_clears() -> None:
    torrc = lex("SocksPort 1\nSocksPort 2\nExitPolicy accept *:80\n")
    normal = build_options(torrc, cmdline(("SocksPort", "3", LineCommand.NORMAL)))
    assert [p.port for p in normal.socks_ports] == [3]
    append = build_options(torrc, cmdline(("SocksPort", "3", LineCommand.APPEND)))
    assert [p.port for p in append.socks_ports] == [1, 2, 3]
    clear = build_options(torrc, cmdline(("SocksPort", "", LineCommand.CLEAR),
                                         ("ExitPolicy", "", LineCommand.CLEAR)))
    assert [p.port for p in clear.socks_ports] == [9050] and clear.exit_policy == ()


def test_empty_value_resets_single_and_skips_list() -> None:
    opts = build_options(lex("Nickname a\nNickname\nSocksPort\n"))
    assert opts.nickname is None
    assert "Linelist option 'SocksPort' has no value. Skipping." in opts.warnings


def test_unknown_option_like_tor_with_location() -> None:
    with pytest.raises(ConfigError) as info:
        build_options(lex("SocksPort 9050\nFooBar 1\n", "/etc/torrc"))
    assert str(info.value) == "/etc/torrc:2: Unknown option 'FooBar'.  Failing."


def test_unsupported_tor_option_names_file_and_line() -> None:
    with pytest.raises(ConfigError) as info:
        build_options(lex("\n\nhiddenservicedir /x\n", "torrc"))
    assert info.value.where == "torrc:3"
    assert "Option 'HiddenServiceDir' is not supported by Zwiebel." in str(info.value)


def test_malformed_value_names_option_line_and_expectation() -> None:
    with pytest.raises(ConfigError) as info:
        build_options(lex("CircuitBuildTimeout 10 blorps\n", "t"))
    assert str(info.value) == (
        "t:1: Could not parse CircuitBuildTimeout: Provided value is malformed or out "
        "of bounds: Unknown unit in 10 blorps"
    )
    with pytest.raises(ConfigError, match="t:2: Could not parse SafeSocks: .*0 and 1"):
        build_options(lex("SafeSocks 0\nSafeSocks yes\n", "t"))
    with pytest.raises(ConfigError, match="t:1: Key digest"):
        build_options(lex("DirAuthority a 1.2.3.4:80 ABCD\n", "t"))


def test_typed_values() -> None:
    opts = build_options(lex(
        "CircuitBuildTimeout 1 minute\nLearnCircuitBuildTimeout 0\nUseMicrodescriptors 0\n"
        "ExcludeNodes {cc},$" + "AB" * 20 + "\nStrictNodes 1\nClientUseIPv6 0\n"
        "Log info-err file /tmp/x.log\nLog notice stdout\nDataDirectory /var/lib/zw\n"
    ))
    assert opts.circuit_build_timeout == 60 and opts.learn_circuit_build_timeout is False
    assert opts.use_microdescriptors is False and opts.strict_nodes is True
    assert opts.exclude_nodes.countries == {"cc"} and opts.client_use_ipv6 is False
    assert [(s.min_severity, s.kind) for s in opts.logs] == [("info", "file"), ("notice", "stdout")]
    assert opts.data_directory == "/var/lib/zw"


def test_testing_tor_network_applies_testnet_defaults_but_explicit_values_win() -> None:
    opts = build_options(lex("TestingTorNetwork 1\nV3AuthVoteDelay 30 seconds\n" + AUTH))
    assert opts.v3_auth_voting_interval == 300
    assert opts.v3_auth_vote_delay == 30
    assert opts.testing_v3_auth_initial_voting_interval == 150
    assert opts.dir_allow_private_addresses is True
    assert opts.enforce_distinct_subnets is False
    assert opts.client_reject_internal_addresses is False
    assert opts.testing_client_max_interval_without_request == 5
    assert opts.testing_bridge_download_initial_delay == 10
    assert opts.using_test_network_defaults is True
    plain = build_options([])
    assert plain.v3_auth_voting_interval == 3600 and plain.dir_allow_private_addresses is False


def test_features_register_their_own_options() -> None:
    registry = builtin_registry()
    register_options(OptionDef("MaxMemInQueues", Kind.MEMUNIT, "1 GB"), registry=registry)
    opts = build_options(lex("MaxMemInQueues 200 kbits\n"), registry=registry)
    assert opts.max_mem_in_queues == 25600
    assert build_options([], registry=registry).max_mem_in_queues == 1 << 30
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(OptionDef("accountingmax", Kind.MEMUNIT))


def test_with_values_and_immutability() -> None:
    opts = build_options([])
    changed = opts.with_values(MaxCircuitDirtiness=10)
    assert changed.max_circuit_dirtiness == 10 and opts.max_circuit_dirtiness == 600
    with pytest.raises(AttributeError):
        opts.max_circuit_dirtiness = 5


def test_registry_contents() -> None:
    registry = Registry(BUILTIN_OPTIONS)
    assert len(registry) == len(BUILTIN_OPTIONS)
    assert "socksport" in registry and "FooBar" not in registry
    opt = registry.lookup("SocksPort")
    assert opt is not None and opt.kind.is_list and opt.attribute == "socks_ports"


def test_empty_key_is_an_unknown_option() -> None:
    with pytest.raises(ConfigError, match="Unknown option ''"):
        build_options(lex("/\n"))

"""Cross-option rules (config.c options_validate_cb and friends)."""

from __future__ import annotations

import pytest

from zwiebel.config import (
    ConfigError,
    build_options,
    fallback_directories,
    lex,
    trusted_authorities,
    validate,
)
from zwiebel.config.validate import ALTERNATE_AUTHORITY_WARNING, TESTNET_WARNING

AUTH = "DirAuthority auth0 orport=1 v3ident=" + "01" * 20 + " 127.0.0.1:2 " + "AB" * 20 + "\n"


def check(text: str) -> tuple[object, list[str]]:
    return validate(build_options(lex(text)))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("RunAsDaemon 1\n", "RunAsDaemon 1 is not supported by Zwiebel"),
        ("TestingTorNetwork 1\n", "TestingTorNetwork may only be configured"),
        ("Nickname bad-name\n", "nicknames must be between 1 and 19"),
        ("EntryNodes moria1\nUseEntryGuards 0\n", "UseEntryGuards must be enabled"),
        ("NumEntryGuards 3\nNumPrimaryGuards 2\n", "must not be greater than NumPrimaryGuards"),
        ("TestingV3AuthInitialVoteDelay 1 minute\n", "may only be changed in testing Tor"),
        ("TestingEnableCellStatsEvent 1\n", "may only be changed in testing Tor"),
        ("ClientDNSRejectInternalAddresses 0\n", "used for default network"),
        ("HashedControlPassword 16:abc\n", "Bad HashedControlPassword"),
        (AUTH + AUTH.replace("DirAuthority", "AlternateDirAuthority"), "cannot set both"),
    ],
)
def test_rejections(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check(text)


def test_testnet_with_authorities_is_valid_and_warns() -> None:
    _, warnings = check("TestingTorNetwork 1\n" + AUTH)
    assert ALTERNATE_AUTHORITY_WARNING in warnings and TESTNET_WARNING in warnings


def test_clamps_and_warnings() -> None:
    opts, warnings = validate(build_options(lex(
        "MaxCircuitDirtiness 5\nLearnCircuitBuildTimeout 0\nCircuitBuildTimeout 3\nSocksPort 0\n"
    )))
    assert opts.max_circuit_dirtiness == 10
    assert any("MaxCircuitDirtiness option is too short" in w for w in warnings)
    assert any("CircuitBuildTimeout is shorter (3 seconds)" in w for w in warnings)
    assert any("are all undefined" in w for w in warnings)


def test_effective_directory_servers() -> None:
    public = build_options([])
    assert len(trusted_authorities(public)) == 10
    assert len(fallback_directories(public)) == 200
    private = build_options(lex(AUTH))
    assert [a.nickname for a in trusted_authorities(private)] == ["auth0"]
    assert fallback_directories(private) == ()
    no_fallbacks = build_options(lex("UseDefaultFallbackDirs 0\n"))
    assert fallback_directories(no_fallbacks) == ()
    alt = build_options(lex(AUTH.replace("DirAuthority", "AlternateDirAuthority")))
    names = [a.nickname for a in trusted_authorities(alt)]
    assert names == ["Serge", "auth0"]

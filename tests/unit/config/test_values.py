"""Scalar types (type_defs.c) and RouterSet (routerset.c)."""

from __future__ import annotations

import pytest

from zwiebel.config import ConfigError
from zwiebel.config.values import (
    is_legal_nickname,
    parse_autobool,
    parse_bool,
    parse_csv,
    parse_csv_interval,
    parse_int,
    parse_posint,
    parse_routerset,
)

FP = "ABCDEF0123456789ABCDEF0123456789ABCDEF01"


def test_bool_accepts_only_0_and_1() -> None:
    assert parse_bool("1") is True and parse_bool("0") is False
    with pytest.raises(ConfigError, match="Allowed values are 0 and 1."):
        parse_bool("true")


def test_autobool() -> None:
    assert parse_autobool("auto") is None and parse_autobool("AUTO") is None
    assert parse_autobool("1") is True
    with pytest.raises(ConfigError, match="Allowed values are 0, 1, and auto."):
        parse_autobool("yes")


def test_integers() -> None:
    assert parse_int("-3") == -3
    assert parse_posint("7") == 7
    with pytest.raises(ConfigError, match="Allowed values are between 0 and 2147483647"):
        parse_posint("-1")
    with pytest.raises(ConfigError, match="malformed"):
        parse_int("3x")


def test_csv_and_csv_interval() -> None:
    assert parse_csv("a, b,,c ") == ("a", "b", "c")
    assert parse_csv_interval("10 minutes, 20") == 600


def test_nickname_rules() -> None:
    assert is_legal_nickname("auth0")
    assert not is_legal_nickname("a" * 20)
    assert not is_legal_nickname("bad-name")


def test_routerset_kinds() -> None:
    rs = parse_routerset(f"${FP}, {FP.lower()}~nick, Moria1, {{de}}, {{US}}, 10.0.0.0/8, "
                         "192.168.1.*, [::1]/64, 1.2.3.4:80")
    assert rs.fingerprints == {FP}
    assert rs.nicknames == {"moria1"}
    assert rs.countries == {"de", "us"}
    assert rs.addresses == ("10.0.0.0/8", "192.168.1.*", "[::1]/64", "1.2.3.4:80")
    assert rs


def test_routerset_empty_and_malformed() -> None:
    assert not parse_routerset("")
    with pytest.raises(ConfigError, match="Entry 'not-a-name' is malformed"):
        parse_routerset("moria1,not-a-name")

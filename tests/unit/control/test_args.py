"""Argument parsing: positional words and kvlines (tor's control_cmd_parse_args and
kvline_parse, src/lib/encoding/kvline.c)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zwiebel.control.args import (
    ArgumentError,
    Syntax,
    decode_qstring,
    parse_arguments,
    quote_string,
    unescape_c_string,
)
from zwiebel.encoding import ParseError

SETCONF = Syntax(max_args=0, keywords=True, omit_vals=True)
AUTH = Syntax(max_args=0, keywords=True, omit_keys=True, c_quoted=False)


def test_positional_words() -> None:
    args = parse_arguments("  version  uptime ", Syntax(max_args=None))
    assert args.words == ("version", "uptime")


def test_minimum_and_maximum() -> None:
    with pytest.raises(ArgumentError, match="Need at least 1 argument"):
        parse_arguments("", Syntax(min_args=1, max_args=1))
    with pytest.raises(ArgumentError, match="Cannot accept more than 1 argument"):
        parse_arguments("NEWNYM extra", Syntax(min_args=1, max_args=1))


def test_setconf_keywords_values_and_flags() -> None:
    args = parse_arguments('A=1 B="x y\\n" C D=""', SETCONF)
    assert args.pairs == (("A", "1"), ("B", "x y\n"), ("C", None), ("D", ""))
    assert args.quoted


def test_setconf_needs_keys() -> None:
    with pytest.raises(ArgumentError):
        parse_arguments('"value"', SETCONF)
    with pytest.raises(ArgumentError):
        parse_arguments("=1", SETCONF)


def test_authenticate_accepts_keyless_values() -> None:
    args = parse_arguments('"pass\\"word"', AUTH)
    assert args.pairs == (("", 'pass"word'),)
    assert parse_arguments("0A0B", AUTH).pairs == (("", "0A0B"),)


def test_c_escapes() -> None:
    assert unescape_c_string(r'"a\tb\x41\101\\"', 0) == ("a\tbAA\\", 16)
    with pytest.raises(ArgumentError):
        unescape_c_string(r'"\q"', 0)
    with pytest.raises(ArgumentError):
        unescape_c_string('"unbalanced', 0)


def test_unbalanced_quote_is_an_argument_error() -> None:
    with pytest.raises(ArgumentError):
        parse_arguments('ContactInfo="abc', SETCONF)


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=50))
def test_qstring_round_trip(value: str) -> None:
    quoted = quote_string(value)
    assert decode_qstring(quoted, 0) == (value, len(quoted))


@given(st.text(max_size=80))
def test_random_argument_lines_raise_only_parse_error(text: str) -> None:
    for syntax in (SETCONF, AUTH, Syntax(max_args=2, keywords=True, omit_vals=True)):
        with contextlib.suppress(ParseError):
            parse_arguments(text, syntax)

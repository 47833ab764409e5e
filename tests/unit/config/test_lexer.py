"""torrc lexer: tor's doc/torrc_format.txt section 1 and confline.c behaviour."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zwiebel.config import ConfigError, ConfigLine, LineCommand, lex
from zwiebel.config.lexer import MAX_INCLUDE_DEPTH


def pairs(text: str) -> list[tuple[str, str]]:
    return [(line.key, line.value) for line in lex(text)]


def test_comments_blank_lines_and_trailing_space() -> None:
    text = "# header\n\n   Foo   Bar   Baz   # comment\nNick x#y\n"
    assert pairs(text) == [("Foo", "Bar   Baz"), ("Nick", "x")]


def test_continuation_joins_lines_and_drops_comment_lines() -> None:
    text = (
        "SocksPort 9050 \\\n  IsolateDestAddr \\\n# a comment inside\n"
        "  IsolateDestPort\nNext 1\n"
    )
    lines = lex(text)
    assert lines[0].value == "9050   IsolateDestAddr   IsolateDestPort"
    assert (lines[1].key, lines[1].value, lines[1].line) == ("Next", "1", 5)


def test_key_may_be_followed_by_continuation() -> None:
    # confline.c keeps the space after the joined newline: the value is " value".
    assert pairs("Key\\\n value\n") == [("Key", " value")]


def test_quoted_values_use_c_escapes() -> None:
    text = 'A "x\\ty\\n\\"q\\"\\\\" # c\nB "\\x41\\101"\n'
    assert pairs(text) == [("A", 'x\ty\n"q"\\'), ("B", "AA")]


def test_excess_data_after_quoted_string_names_the_line() -> None:
    with pytest.raises(ConfigError) as info:
        lex('A 1\nB "x" y\n', "torrc")
    assert info.value.where == "torrc:2"
    assert "Excess data after quoted string" in str(info.value)


def test_bad_escape_is_an_error() -> None:
    with pytest.raises(ConfigError, match="Invalid escape sequence"):
        lex('A "\\q"\n')


def test_magic_prefixes() -> None:
    lines = lex("+Log notice stdout\n/ExitPolicy\n/SocksPort ignored\n")
    assert [(ln.key, ln.value, ln.command) for ln in lines] == [
        ("Log", "notice stdout", LineCommand.APPEND),
        ("ExitPolicy", "", LineCommand.CLEAR),
        ("SocksPort", "", LineCommand.CLEAR),
    ]


def test_line_numbers_and_source() -> None:
    lines = lex("\n# c\nA 1\n\nB 2\n", "x.torrc")
    assert [ln.where for ln in lines] == ["x.torrc:3", "x.torrc:5"]


def test_crlf_and_missing_final_newline() -> None:
    assert pairs("A 1\r\nB 2") == [("A", "1"), ("B", "2")]


def test_include_splices_loader_texts_in_place() -> None:
    files = {"dir": [("dir/a", "B 2\n"), ("dir/b", "C 3\n%include sub\n")], "sub": [("sub", "D 4")]}
    lines = lex("A 1\n%include dir\nE 5\n", "main", lambda p: files[p])
    assert [(ln.key, ln.where) for ln in lines] == [
        ("A", "main:1"), ("B", "dir/a:1"), ("C", "dir/b:1"), ("D", "sub:1"), ("E", "main:3"),
    ]


def test_include_without_loader_is_refused() -> None:
    with pytest.raises(ConfigError, match="%include"):
        lex("%include /etc/x\n")


def test_include_recursion_is_bounded() -> None:
    with pytest.raises(ConfigError, match="nested"):
        lex("%include self\n", "self", lambda p: [("self", "%include self\n")])
    assert MAX_INCLUDE_DEPTH == 31


def test_include_loader_oserror_becomes_config_error() -> None:
    def loader(pattern: str) -> list[tuple[str, str]]:
        raise OSError("gone")

    with pytest.raises(ConfigError) as info:
        lex("\n%include missing\n", "t", loader)
    assert info.value.where == "t:2"


def test_config_line_where() -> None:
    assert ConfigLine("A", "1", source="f", line=7).where == "f:7"


@given(st.text(max_size=200))
def test_random_text_raises_only_config_error(text: str) -> None:
    with contextlib.suppress(ConfigError):
        for line in lex(text):
            # An empty key ("/" alone) is possible, as in tor; assignment then
            # reports "Unknown option ''".
            assert "\n" not in line.key and "#" not in line.key


_VALUE = r"[!$-\[\]-~]([ !$-\[\]-~]{0,20}[!$-\[\]-~])?"  # no quote, hash or backslash


@given(st.lists(st.tuples(st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,15}", fullmatch=True),
                          st.from_regex(_VALUE, fullmatch=True)), max_size=8))
def test_plain_entries_round_trip(entries: list[tuple[str, str]]) -> None:
    text = "".join(f"{key} {value}\n" for key, value in entries)
    assert pairs(text) == entries

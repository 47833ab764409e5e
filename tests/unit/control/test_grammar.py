"""Command framing (control-spec 2.2-2.3; tor's connection_control_process_inbuf)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zwiebel.control.grammar import Command, CommandReader, LineTooLong, split_command
from zwiebel.encoding import ParseError


def test_one_line_commands_with_crlf_and_lf() -> None:
    reader = CommandReader()
    out = reader.feed(b"GETINFO version\r\nquit\n")
    assert out == [Command("GETINFO", "version"), Command("quit", "")]
    assert out[1].name == "QUIT"


def test_command_split_over_many_reads() -> None:
    reader = CommandReader()
    data = b"SETCONF ContactInfo=\"a b\"\r\n"
    got: list[Command] = []
    for i in range(len(data)):
        got += reader.feed(data[i : i + 1])
    assert got == [Command("SETCONF", 'ContactInfo="a b"')]


def test_multiline_command_is_dot_unescaped() -> None:
    reader = CommandReader()
    out = reader.feed(b"+LOADCONF\r\nSocksPort 9050\r\n..hidden\r\n.\r\nGETINFO x\r\n")
    assert out == [Command("LOADCONF", "", "SocksPort 9050\n.hidden\n"),
                   Command("GETINFO", "x")]


def test_multiline_keeps_first_line_arguments() -> None:
    out = CommandReader().feed(b"+POSTDESCRIPTOR purpose=general\nrouter x\n.\n")
    assert out == [Command("POSTDESCRIPTOR", "purpose=general", "router x\n")]


def test_split_command_strips_leading_space() -> None:
    assert split_command("GETINFO   a b") == ("GETINFO", "a b")
    assert split_command("") == ("", "")


def test_oversized_line_is_refused() -> None:
    reader = CommandReader(limit=100)
    with pytest.raises(LineTooLong):
        reader.feed(b"GETINFO " + b"x" * 200)


def test_oversized_multiline_body_is_refused() -> None:
    reader = CommandReader(limit=100)
    reader.feed(b"+LOADCONF\r\n")
    with pytest.raises(LineTooLong):
        for _ in range(20):
            reader.feed(b"SocksPort 9050\r\n")


def test_non_utf8_bytes_survive() -> None:
    (cmd,) = CommandReader().feed(b'AUTHENTICATE "\xff\xfe"\r\n')
    assert cmd.args.encode("utf-8", "surrogateescape") == b'"\xff\xfe"'


@given(st.lists(st.binary(max_size=300), max_size=10))
def test_random_bytes_raise_only_parse_error(chunks: list[bytes]) -> None:
    reader = CommandReader(limit=1000)
    try:
        for chunk in chunks:
            for command in reader.feed(chunk):
                assert isinstance(command.keyword, str)
    except ParseError:
        pass

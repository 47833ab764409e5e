"""Reply framing and quoting (control-spec 2.3; tor's control_proto.c, kvline.c)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from zwiebel.control.grammar import CommandReader
from zwiebel.control.reply import (
    ReplyLine,
    config_value_needs_escape,
    esc_for_log,
    escape_data,
    format_reply,
    kv_encode,
    kv_line,
    ok,
)


def test_multi_line_reply_separators() -> None:
    lines = [ReplyLine(250, "version=0.4.9.11"), ReplyLine(250, "OK")]
    assert format_reply(lines) == b"250-version=0.4.9.11\r\n250 OK\r\n"
    assert format_reply(ok()) == b"250 OK\r\n"


def test_data_block_reply() -> None:
    lines = [kv_line("config-text", "SocksPort 9050\n.dot\n"), ReplyLine(250, "OK")]
    assert format_reply(lines) == (
        b"250+config-text=\r\nSocksPort 9050\r\n..dot\r\n.\r\n250 OK\r\n")


def test_escape_data_like_write_escaped_data() -> None:
    assert escape_data("a\nb") == "a\r\nb\r\n.\r\n"
    assert escape_data("a\r\n") == "a\r\n.\r\n"
    assert escape_data("") == "\r\n.\r\n"


def test_esc_for_log() -> None:
    assert esc_for_log('/tmp/a "b"\n') == '"/tmp/a \\"b\\"\\n"'
    assert esc_for_log("\x01\u00e9") == '"\\001\\303\\251"'


def test_getconf_escaping_rule() -> None:
    # Bytes real tor 0.4.9.11 sent: SETCONF ContactInfo="a b\n c" then GETCONF gives
    # 250 ContactInfo="a b\n c"; a plain value with spaces stays raw.
    assert config_value_needs_escape("a b\n c")
    assert esc_for_log("a b\n c") == '"a b\\n c"'
    assert not config_value_needs_escape("notice file /tmp/zt/log")
    assert config_value_needs_escape("#x")


def test_kv_encode_quotes_when_needed() -> None:
    assert kv_encode([("SUMMARY", "Done"), ("X", "a b")]) == 'SUMMARY=Done X="a b"'


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\r"),
               max_size=200))
def test_data_block_round_trips_through_the_command_reader(value: str) -> None:
    """What we escape, a reader of multi-line data gets back (LF line ends)."""
    wire = b"+X\r\n" + format_reply([ReplyLine(250, "", value + "\n")])[6:]
    (cmd,) = CommandReader().feed(wire)
    assert cmd.data == value + "\n"

"""config-text and SAVECONF."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from zwiebel.config import build_options, config_text, lex, read_torrc, save_config
from zwiebel.config.dump import SAVECONF_HEADER, quote_value

TORRC = (
    "socksport 9150 IsolateDestAddr\nSocksPort 9151\nnickname relay1\n"
    "ContactInfo a # b\nContactInfo \"x # y\"\n"
)


def test_config_text_is_canonical_and_minimal() -> None:
    text = config_text(build_options(lex(TORRC)))
    assert text == (
        'Nickname relay1\nContactInfo "x # y"\n'
        "SocksPort 9150 IsolateDestAddr\nSocksPort 9151\n"
    )


def test_save_config_round_trips(tmp_path: Path) -> None:
    opts = build_options(lex(TORRC))
    path = tmp_path / "torrc"
    save_config(opts, str(path))
    assert path.read_text().startswith(SAVECONF_HEADER)
    again = build_options(read_torrc(str(path)))
    assert config_text(again) == config_text(opts)


@given(st.text(alphabet=st.characters(codec="utf-8", blacklist_characters="\0"),
               min_size=1, max_size=30))
def test_quote_value_round_trips_through_the_lexer(value: str) -> None:
    (line,) = lex(f"ContactInfo {quote_value(value)}\n")
    assert line.value == value

"""The dir-spec 1.2 tokenizer and writer, and tor's signed-portion rule (dir-spec 1.3)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zwiebel.encoding import ParseError
from zwiebel.netdoc.tokenizer import DocObject, format_item, signed_span, tokenize

DOC = (
    "first 1 2\n"
    "\n"
    "opt second\tx  y\n"
    "key\n"
    "-----BEGIN RSA PUBLIC KEY-----\n"
    "AAEC\n"
    "AwQ=\n"
    "-----END RSA PUBLIC KEY-----\n"
    "last\n"
)


def test_items_args_objects_positions() -> None:
    items = tokenize(DOC)
    assert [i.keyword for i in items] == ["first", "second", "key", "last"]
    assert items[0].args == ("1", "2")
    assert items[1].args == ("x", "y")
    assert items[1].rest == "x  y"
    assert items[2].obj == DocObject("RSA PUBLIC KEY", bytes([0, 1, 2, 3, 4]))
    assert [i.line for i in items] == [1, 3, 4, 9]
    assert DOC[items[2].start : items[2].end].startswith("key\n-----BEGIN")
    assert DOC[items[2].end :] == "last\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ok\n-bad\n", "line 2: bad keyword"),
        ("ok\n-----BEGIN X-----\nAAAA\n", "line 3: object 'X' not terminated"),
        ("k\n-----BEGIN X-----\nAAAA\n-----END Y-----\n", "line 4: object end"),
        ("k\n-----BEGIN X-----\nAA!A\n-----END X-----\n", "line 3: bad base64"),
        ("-----BEGIN X-----\n", "line 1: object without a keyword"),
        ("k a\x00b\n", "line 1: control character"),
        ("k\r\n", "line 1: control character"),
    ],
)
def test_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        tokenize(text)


def test_format_item_wraps_objects_at_64() -> None:
    out = format_item("dir-signing-key", (), DocObject("RSA PUBLIC KEY", bytes(100)))
    lines = out.splitlines()
    assert lines[0] == "dir-signing-key"
    assert lines[1] == "-----BEGIN RSA PUBLIC KEY-----"
    assert [len(x) for x in lines[2:-1]] == [64, 64, 8]
    assert lines[-1] == "-----END RSA PUBLIC KEY-----"
    assert tokenize(out)[0].obj == DocObject("RSA PUBLIC KEY", bytes(100))


_WORD = st.text(st.sampled_from("abcXYZ019-+/=:[].,$"), min_size=1, max_size=12)
_KEYWORD = st.from_regex(r"[a-z0-9][a-z0-9-]{0,15}", fullmatch=True).filter(lambda k: k != "opt")


@given(
    st.lists(
        st.tuples(
            _KEYWORD,
            st.lists(_WORD, max_size=5),
            st.none() | st.tuples(st.sampled_from(["SIGNATURE", "ED25519 CERT"]), st.binary()),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_format_then_tokenize_round_trips(spec: list[tuple[str, list[str], object]]) -> None:
    text = ""
    for keyword, args, obj in spec:
        doc_obj = DocObject(*obj) if isinstance(obj, tuple) else None
        text += format_item(keyword, tuple(args), doc_obj)
    items = tokenize(text)
    assert [(i.keyword, list(i.args)) for i in items] == [(k, a) for k, a, _ in spec]
    for item, (_, _, obj) in zip(items, spec, strict=True):
        assert item.obj == (DocObject(*obj) if isinstance(obj, tuple) else None)


@given(st.text(max_size=300))
def test_random_text_raises_only_parse_error(text: str) -> None:
    with contextlib.suppress(ParseError):
        tokenize(text)


def test_signed_span_runs_through_the_end_character() -> None:
    text = "junk\nstart x\nbody\nsig-item a b\n-----BEGIN SIGNATURE-----\n"
    assert signed_span(text, "start", "\nsig-item", " ") == "start x\nbody\nsig-item "
    assert signed_span(text, "start", "\nsig-item", "\n") == "start x\nbody\nsig-item a b\n"
    with pytest.raises(ParseError):
        signed_span("xstart\n", "start", "\nsig", " ")
    with pytest.raises(ParseError):
        signed_span("start\nbody\n", "start", "\nsig", " ")

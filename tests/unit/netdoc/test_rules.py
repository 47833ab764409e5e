"""Table-driven item rules (dir-spec 1.2 multiplicity tags)."""

from __future__ import annotations

import pytest

from zwiebel.encoding import ParseError
from zwiebel.netdoc import rules
from zwiebel.netdoc.rules import Obj
from zwiebel.netdoc.tokenizer import tokenize

TABLE = (
    rules.start("head", 1),
    rules.once("must"),
    rules.opt("maybe"),
    rules.many("any", 2),
    rules.opt("keyed", obj=Obj.REQUIRED),
    rules.end("tail"),
)


def check(text: str, annotations: bool = False) -> rules.Items:
    return rules.check(tokenize(text), TABLE, "test doc", annotations)


def test_valid_document_and_lookups() -> None:
    doc = check("head 1\nmust\nany a b\nx-unknown\nany c d\ntail\n")
    assert doc.one("head").args == ("1",)
    assert doc.opt("maybe") is None
    assert [i.args for i in doc.all("any")] == [("a", "b"), ("c", "d")]
    assert [i.keyword for i in doc.items][3] == "x-unknown"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("must\nhead 1\ntail\n", "must start with head"),
        ("head 1\ntail\nmust\n", "must end with tail"),
        ("head 1\ntail\n", "missing must"),
        ("head 1\nmust\nmust\ntail\n", "too many must"),
        ("head\nmust\ntail\n", "line 1: head: needs at least 1"),
        ("head 1\nmust\nany a\ntail\n", "line 3: any: needs at least 2"),
        ("head 1\nmust\nkeyed\ntail\n", "missing object"),
        ("head 1\nmust\n-----BEGIN A-----\n-----END A-----\ntail\n", "unexpected object"),
        ("@note x\nhead 1\nmust\ntail\n", "annotation not allowed"),
        ("", "empty document"),
    ],
)
def test_violations(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        check(text)


def test_annotations_only_at_the_start() -> None:
    assert check("@note x\nhead 1\nmust\ntail\n", annotations=True).opt("@note") is not None
    with pytest.raises(ParseError, match="annotation"):
        check("head 1\n@note x\nmust\ntail\n", annotations=True)

"""Per-document item rules: which keywords, how often, where, with what (dir-spec 1.2).

Each document type declares a table of `Rule`s (the multiplicity tags of dir-spec:
"At start, exactly once", "At most once", "Any number", ...). `check` applies a table
to tokenized items and returns an `Items` view with typed look-ups. Keywords that are
not in the table are kept but never required: "software MUST ignore any KeywordLine
that starts with a keyword it doesn't recognize" (dir-spec 1.2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from zwiebel.encoding import ParseError
from zwiebel.netdoc.tokenizer import Item


class Obj(Enum):
    """Whether an item carries an object."""

    NONE = "none"
    REQUIRED = "required"
    OPTIONAL = "optional"


@dataclass(frozen=True)
class Rule:
    """How one keyword may appear in one document type."""

    keyword: str
    min_count: int = 0
    max_count: int | None = 1
    min_args: int = 0
    max_args: int | None = None
    obj: Obj = Obj.NONE
    at_start: bool = False
    at_end: bool = False


def start(keyword: str, min_args: int = 0, obj: Obj = Obj.NONE) -> Rule:
    """ "At start, exactly once"."""
    return Rule(keyword, 1, 1, min_args, None, obj, at_start=True)


def end(keyword: str, min_args: int = 0, obj: Obj = Obj.NONE) -> Rule:
    """ "At end, exactly once"."""
    return Rule(keyword, 1, 1, min_args, None, obj, at_end=True)


def once(keyword: str, min_args: int = 0, obj: Obj = Obj.NONE) -> Rule:
    """ "Exactly once"."""
    return Rule(keyword, 1, 1, min_args, None, obj)


def opt(keyword: str, min_args: int = 0, obj: Obj = Obj.NONE) -> Rule:
    """ "At most once"."""
    return Rule(keyword, 0, 1, min_args, None, obj)


def many(keyword: str, min_args: int = 0, obj: Obj = Obj.NONE) -> Rule:
    """ "Any number"."""
    return Rule(keyword, 0, None, min_args, None, obj)


def some(keyword: str, min_args: int = 0, obj: Obj = Obj.NONE) -> Rule:
    """ "Once or more"."""
    return Rule(keyword, 1, None, min_args, None, obj)


class Items:
    """Items of one document, grouped by keyword, in document order."""

    def __init__(self, items: Sequence[Item], what: str) -> None:
        self.items = tuple(items)
        self.what = what
        self._by_kw: dict[str, list[Item]] = {}
        for item in items:
            self._by_kw.setdefault(item.keyword, []).append(item)

    def all(self, keyword: str) -> list[Item]:
        """Every item with this keyword (possibly none)."""
        return self._by_kw.get(keyword, [])

    def opt(self, keyword: str) -> Item | None:
        """The item with this keyword, or None (the rules allow at most one)."""
        found = self._by_kw.get(keyword)
        return found[0] if found else None

    def one(self, keyword: str) -> Item:
        """The item with this keyword (the rules require exactly one)."""
        found = self._by_kw.get(keyword)
        if not found:
            raise ParseError(f"{self.what}: missing {keyword}")
        return found[0]


def _check_item(rule: Rule, item: Item) -> None:
    """Argument count and object presence of one item."""
    if len(item.args) < rule.min_args:
        raise item.error(f"needs at least {rule.min_args} arguments")
    if rule.max_args is not None and len(item.args) > rule.max_args:
        raise item.error(f"takes at most {rule.max_args} arguments")
    if rule.obj is Obj.NONE and item.obj is not None:
        raise item.error("unexpected object")
    if rule.obj is Obj.REQUIRED and item.obj is None:
        raise item.error("missing object")


def _check_annotations(items: Sequence[Item], allow: bool, what: str) -> list[Item]:
    """Annotations only before the first keyword, and only where allowed."""
    body = [i for i in items if not i.keyword.startswith("@")]
    n_annot = len(items) - len(body)
    if n_annot and (not allow or any(i.keyword.startswith("@") for i in items[n_annot:])):
        raise ParseError(f"{what}: annotation not allowed here")
    if not body:
        raise ParseError(f"{what}: empty document")
    return body


def check(
    items: Sequence[Item], rules: Sequence[Rule], what: str, annotations: bool = False
) -> Items:
    """Apply a rule table; raise ParseError naming the document type on violation."""
    body = _check_annotations(items, annotations, what)
    table = {r.keyword: r for r in rules}
    counts: dict[str, int] = {}
    for item in body:
        rule = table.get(item.keyword)
        if rule is not None:
            _check_item(rule, item)
            counts[item.keyword] = counts.get(item.keyword, 0) + 1
    for rule in rules:
        n = counts.get(rule.keyword, 0)
        if n < rule.min_count:
            raise ParseError(f"{what}: missing {rule.keyword}")
        if rule.max_count is not None and n > rule.max_count:
            raise ParseError(f"{what}: too many {rule.keyword} items")
        if rule.at_start and body[0].keyword != rule.keyword:
            raise ParseError(f"{what}: must start with {rule.keyword}")
        if rule.at_end and body[-1].keyword != rule.keyword:
            raise ParseError(f"{what}: must end with {rule.keyword}")
    return Items(items, what)

"""Microdescriptors (dir-spec 3.3) and how a concatenation of them is split.

A microdescriptor's digest (the "m" line of a microdesc consensus) is the SHA-256
of its exact text from the "onion-key" line up to the start of the next
microdescriptor (or the end of the input): annotations before it are not included,
blank lines after it are (tor: microdesc_extract_body and
find_start_of_next_microdesc, src/feature/dirparse/microdesc_parse.c).

A new microdescriptor begins at an annotation or an "onion-key" line. tor 0.4.9
still writes "onion-key" (with its TAP key; the parser already allows the line
without its object). For documents after TAP removal (proposal 350) that omit the
line entirely, the first item is taken as the start, and a second "ntor-onion-key"
begins the next microdescriptor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from zwiebel.crypto.digest import sha256
from zwiebel.encoding import ParseError
from zwiebel.netdoc import rules, values
from zwiebel.netdoc.policy import PolicySummary
from zwiebel.netdoc.rules import Obj
from zwiebel.netdoc.tokenizer import Item, tokenize

_RULES = (
    rules.opt("onion-key", obj=Obj.OPTIONAL),
    rules.once("ntor-onion-key", 1),
    rules.many("id", 2),
    rules.many("a", 1),
    rules.opt("family"),
    rules.opt("family-ids"),
    rules.opt("p", 2),
    rules.opt("p6", 2),
    rules.opt("@last-listed", 2),
)


@dataclass(frozen=True)
class Microdescriptor:
    """One microdescriptor."""

    onion_key_ntor: bytes
    """32-byte curve25519 key for ntor handshakes."""
    ed25519_id: bytes | None
    """The "id ed25519" key: the relay's Ed25519 identity."""
    family: frozenset[str]
    policy_summary: PolicySummary | None
    policy6_summary: PolicySummary | None
    digest: bytes
    """SHA-256 of `raw`: what a microdesc consensus "m" line names."""
    raw: str
    onion_key_tap: bytes | None = None
    """DER of the legacy RSA-1024 TAP key, when present."""
    family_ids: frozenset[str] = frozenset()
    """"family-ids" (happy families, proposal 321)."""
    or_addresses: tuple[tuple[str, int], ...] = ()
    """"a" lines (not produced by current consensus methods)."""
    last_listed: datetime | None = None
    """The "@last-listed" annotation of a cached microdescriptor."""


def _starts_new(item: Item, current: list[Item]) -> bool:
    """Whether `item` begins a microdescriptor after the items in `current`."""
    body = [i for i in current if not i.keyword.startswith("@")]
    if not body:
        return False
    if item.keyword.startswith("@") or item.keyword == "onion-key":
        return True
    return item.keyword == "ntor-onion-key" and any(i.keyword == item.keyword for i in body)


def _group(items: list[Item]) -> list[list[Item]]:
    """Items grouped into microdescriptors."""
    groups: list[list[Item]] = []
    for item in items:
        if not groups or _starts_new(item, groups[-1]):
            groups.append([])
        groups[-1].append(item)
    return groups


def _ed25519(doc: rules.Items) -> bytes | None:
    """The "id ed25519" key; a second one is an error."""
    keys = [i for i in doc.all("id") if i.args[0] == "ed25519"]
    if len(keys) > 1:
        raise keys[1].error("duplicate id ed25519")
    return values.b64_fixed(keys[0], keys[0].args[1], 32) if keys else None


def _summary(item: Item | None) -> PolicySummary | None:
    return PolicySummary.parse(item.rest.strip(" \t")) if item else None


def _tap_key(item: Item | None) -> bytes | None:
    if item is None or item.obj is None:
        return None
    if item.obj.label != "RSA PUBLIC KEY":
        raise item.error("expected an RSA PUBLIC KEY object")
    return item.obj.data


def _build(group: list[Item], raw: str) -> Microdescriptor:
    """One microdescriptor from its items and exact text."""
    doc = rules.check(group, _RULES, "microdescriptor", annotations=True)
    body = [i for i in group if not i.keyword.startswith("@")]
    onion = doc.opt("onion-key")
    if onion is not None and body[0] is not onion:
        raise onion.error("must be the first item")
    ntor = doc.one("ntor-onion-key")
    family, fids, listed = doc.opt("family"), doc.opt("family-ids"), doc.opt("@last-listed")
    return Microdescriptor(
        onion_key_ntor=values.b64_fixed(ntor, ntor.args[0], 32),
        ed25519_id=_ed25519(doc),
        family=frozenset(family.args) if family else frozenset(),
        policy_summary=_summary(doc.opt("p")),
        policy6_summary=_summary(doc.opt("p6")),
        digest=sha256(raw.encode()),
        raw=raw,
        onion_key_tap=_tap_key(onion),
        family_ids=frozenset(fids.args) if fids else frozenset(),
        or_addresses=tuple(values.addr_port(a, a.args[0]) for a in doc.all("a")),
        last_listed=values.time_at(listed, 0) if listed else None,
    )


def parse_microdescs(text: str) -> list[Microdescriptor]:
    """Parse a concatenation of microdescriptors (as /tor/micro/d/... serves them)."""
    groups = _group(tokenize(text))
    out = []
    for n, group in enumerate(groups):
        first = next((i for i in group if not i.keyword.startswith("@")), None)
        if first is None:
            raise group[-1].error("annotations without a microdescriptor")
        stop = groups[n + 1][0].start if n + 1 < len(groups) else len(text)
        out.append(_build(group, text[first.start : stop]))
    return out


def parse_microdesc(text: str) -> Microdescriptor:
    """Parse exactly one microdescriptor."""
    mds = parse_microdescs(text)
    if len(mds) != 1:
        raise ParseError(f"expected one microdescriptor, got {len(mds)}")
    return mds[0]

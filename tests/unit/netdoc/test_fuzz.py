"""Property tests: random and mutated documents raise only ParseError (or VerifyError)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.netdoc.vectors import load, v3ident
from zwiebel.encoding import ParseError
from zwiebel.netdoc.authcert import parse_authority_certs
from zwiebel.netdoc.consensus import parse_consensus
from zwiebel.netdoc.consensus_verify import verify_consensus
from zwiebel.netdoc.errors import VerifyError
from zwiebel.netdoc.microdesc import parse_microdescs
from zwiebel.netdoc.serverdesc import parse_server_descriptors
from zwiebel.netdoc.serverdesc_verify import verify_server_descriptor

PARSERS: dict[str, Callable[[str], object]] = {
    "consensus": parse_consensus,
    "consensus-microdesc": parse_consensus,
    "keys-all": parse_authority_certs,
    "micro-all": parse_microdescs,
    "server-all": parse_server_descriptors,
}
_CHARS = st.sampled_from(list(" \n\t-=:$@,.0123456789abcxyzABCXYZ+/") + ["\x00", "\u00e9"])


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str]:
    """A real document with a few characters replaced, inserted, deleted or lines swapped."""
    name = draw(st.sampled_from(sorted(PARSERS)))
    text = load(name)
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, max(len(text) - 1, 0)))
        op = draw(st.sampled_from(["replace", "insert", "delete", "swap"]))
        if op == "replace":
            text = text[:pos] + draw(_CHARS) + text[pos + 1 :]
        elif op == "insert":
            text = text[:pos] + draw(st.text(_CHARS, max_size=8)) + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 40)) :]
        else:
            lines = text.split("\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
    return name, text


def _check_parsed(parsed: object) -> None:
    """Verification of anything that parsed raises only VerifyError."""
    now = datetime(2026, 11, 22, 5, 14, 45, tzinfo=UTC)
    certs = parse_authority_certs(load("keys-all"))
    items = parsed if isinstance(parsed, list) else [parsed]
    for item in items:
        try:
            if hasattr(item, "signed_digests"):
                verify_consensus(item, certs, [v3ident()], now)  # type: ignore[arg-type]
            elif hasattr(item, "router_signature"):
                verify_server_descriptor(item)  # type: ignore[arg-type]
        except VerifyError:
            pass


@settings(max_examples=300, deadline=None)
@given(mutated())
def test_mutated_documents(case: tuple[str, str]) -> None:
    name, text = case
    try:
        parsed = PARSERS[name](text)
    except ParseError:
        return
    _check_parsed(parsed)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(PARSERS)), st.text(max_size=400))
def test_random_text(name: str, text: str) -> None:
    with contextlib.suppress(ParseError):
        PARSERS[name](text)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(PARSERS)), st.integers(0, 10_000))
def test_truncated_documents(name: str, cut: int) -> None:
    text = load(name)
    with contextlib.suppress(ParseError):
        PARSERS[name](text[: cut % (len(text) + 1)])

"""Detached signatures: how authorities exchange consensus signatures (dir-spec 3.10).

    consensus-digest <SHA-1 of the ns consensus's signed portion, hex>
    valid-after / fresh-until / valid-until <time>
    additional-digest <flavor> sha256 <hex>                 (each other flavor)
    additional-signature <flavor> sha256 <id> <skd> + object (each other flavor)
    directory-signature <id> <skd> + object                 (ns flavor)

Built as tor's networkstatus_get_detached_signatures (src/feature/dirauth/dirvote.c)
writes it; parsed with the checks of networkstatus_parse_detached_signatures
(src/feature/dirauth/dsigs_parse.c): a repeated digest for the same flavor and
algorithm is ignored, as is a repeated signature (same flavor, algorithm, identity
and signing key); unknown digest algorithms are skipped; a signature object must be
a SIGNATURE of 128 to 512 bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from zwiebel.crypto.digest import sha1, sha256
from zwiebel.dirauth.consensus.preamble import iso_time
from zwiebel.dirauth.consensus.sign import SIGNATURE_KEYWORD, flavor_of, format_signature
from zwiebel.netdoc import rules, values
from zwiebel.netdoc.consensus import DirSignature
from zwiebel.netdoc.rules import Obj
from zwiebel.netdoc.tokenizer import Item, tokenize

_RULES = (
    rules.start("consensus-digest", 1),
    rules.many("additional-digest", 3),
    rules.once("valid-after", 2),
    rules.once("fresh-until", 2),
    rules.once("valid-until", 2),
    rules.many("additional-signature", 4, Obj.REQUIRED),
    rules.some("directory-signature", 2, Obj.REQUIRED),
)
_DIGEST_LEN = {"sha1": 20, "sha256": 32}


@dataclass(frozen=True)
class DetachedSignatures:
    """A detached-signatures document."""

    consensus_digest: bytes
    """SHA-1 of the ns consensus's signed portion."""
    valid_after: datetime
    fresh_until: datetime
    valid_until: datetime
    signatures: Mapping[str, tuple[DirSignature, ...]]
    """Flavor ("ns", "microdesc") -> signatures, in document order."""
    digests: Mapping[str, Mapping[str, bytes]]
    """Flavor -> {algorithm: digest} from "additional-digest" lines."""


def detached_for(
    consensuses: Sequence[str], signatures: Mapping[str, Sequence[DirSignature]]
) -> DetachedSignatures:
    """The document for these consensus texts (signed or not), ns first.

    The times come from the ns consensus; other flavors get an additional-digest.
    """
    by_flavor = {flavor_of(text): _signed_part(text) for text in consensuses}
    if "ns" not in by_flavor:
        raise ValueError("no ns consensus")
    ns_text = by_flavor["ns"].decode()
    return DetachedSignatures(
        consensus_digest=sha1(by_flavor["ns"]),
        valid_after=_time(ns_text, "valid-after"),
        fresh_until=_time(ns_text, "fresh-until"),
        valid_until=_time(ns_text, "valid-until"),
        signatures=MappingProxyType({f: tuple(signatures.get(f, ())) for f in by_flavor}),
        digests=MappingProxyType(
            {f: MappingProxyType({"sha256": sha256(d)}) for f, d in by_flavor.items() if f != "ns"}
        ),
    )


def _signed_part(text: str) -> bytes:
    """Through "directory-signature " (appended if `text` is unsigned)."""
    at = text.find("\n" + SIGNATURE_KEYWORD)
    return (text[: at + 1] if at >= 0 else text).encode() + SIGNATURE_KEYWORD.encode()


def _time(text: str, keyword: str) -> datetime:
    for line in text.split("\n"):
        if line.startswith(keyword + " "):
            return datetime.strptime(line[len(keyword) + 1 :] + "+0000", "%Y-%m-%d %H:%M:%S%z")
    raise ValueError(f"consensus has no {keyword}")


def build_detached(d: DetachedSignatures) -> str:
    """The document text, in tor's order."""
    out = [
        f"consensus-digest {d.consensus_digest.hex().upper()}\n"
        f"valid-after {iso_time(d.valid_after)}\n"
        f"fresh-until {iso_time(d.fresh_until)}\n"
        f"valid-until {iso_time(d.valid_until)}\n"
    ]
    for flavor, digests in d.digests.items():
        for algorithm, digest in digests.items():
            out.append(f"additional-digest {flavor} {algorithm} {digest.hex().upper()}\n")
    for flavor, sigs in d.signatures.items():
        if flavor != "ns":
            for sig in sigs:
                out.append(format_signature(sig, "microdesc", f"additional-signature {flavor}"))
    out += [format_signature(sig, "ns") for sig in d.signatures.get("ns", ())]
    return "".join(out)


def _digest(item: Item, digests: dict[str, dict[str, bytes]]) -> None:
    """Record an additional-digest line (first one per flavor and algorithm wins)."""
    flavor, algorithm, text = item.args[:3]
    if algorithm not in _DIGEST_LEN:
        return
    if len(text) != 2 * _DIGEST_LEN[algorithm]:
        raise item.error("digest of the wrong length")
    table = digests.setdefault(flavor, {})
    if algorithm not in table:
        table[algorithm] = _hex(item, text)


def _hex(item: Item, text: str) -> bytes:
    try:
        return bytes.fromhex(text)
    except ValueError as exc:
        raise item.error("bad hex digest") from exc


def _signature(item: Item) -> tuple[str, DirSignature] | None:
    """(flavor, signature) of a signature item; None for an unknown algorithm."""
    if item.keyword == "directory-signature":
        flavor, algorithm, ident, skd = "ns", "sha1", item.args[0], item.args[1]
    else:
        flavor, algorithm, ident, skd = item.args[:4]
    if algorithm not in _DIGEST_LEN:
        return None
    obj = item.obj
    if obj is None or obj.label != "SIGNATURE" or not 128 <= len(obj.data) <= 512:
        raise item.error("bad object type or length on signature")
    for text in (ident, skd):
        if len(text) != 40:
            raise item.error("bad identity or signing key digest")
    sig = DirSignature(algorithm, _hex(item, ident), _hex(item, skd), obj.data)
    return flavor, sig


def _signatures(items: Sequence[Item]) -> dict[str, tuple[DirSignature, ...]]:
    found: dict[str, list[DirSignature]] = {}
    for item in items:
        if item.keyword not in ("directory-signature", "additional-signature"):
            continue
        parsed = _signature(item)
        if parsed is None:
            continue
        flavor, sig = parsed
        same = found.setdefault(flavor, [])
        key = (sig.algorithm, sig.identity, sig.signing_key_digest)
        if all((s.algorithm, s.identity, s.signing_key_digest) != key for s in same):
            same.append(sig)
    return {flavor: tuple(sigs) for flavor, sigs in found.items()}


def parse_detached(text: str) -> DetachedSignatures:
    """Parse a detached-signatures document; ParseError on a format violation."""
    doc = rules.check(tokenize(text), _RULES, "detached signatures")
    head = doc.one("consensus-digest")
    if len(head.args[0]) != 40:
        raise head.error("consensus-digest of the wrong length")
    consensus_digest = _hex(head, head.args[0])
    # consensus-digest is the ns flavor's sha1 digest: a later one for it is ignored.
    digests: dict[str, dict[str, bytes]] = {"ns": {"sha1": consensus_digest}}
    for item in doc.all("additional-digest"):
        _digest(item, digests)
    del digests["ns"]["sha1"]
    return DetachedSignatures(
        consensus_digest=consensus_digest,
        valid_after=values.time_at(doc.one("valid-after"), 0),
        fresh_until=values.time_at(doc.one("fresh-until"), 0),
        valid_until=values.time_at(doc.one("valid-until"), 0),
        signatures=MappingProxyType(_signatures(doc.items)),
        digests=MappingProxyType({f: MappingProxyType(d) for f, d in digests.items() if d}),
    )

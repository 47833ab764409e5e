"""Relay families in canonical form (dir-spec 2.1.1 "family", tor's nodefamily.c).

tor 0.4.9.11 lists a family as: members given by identity as "$" + 40 upper-case hex
digits (a "$HEX=name" or "$HEX~name" suffix dropped), nicknames in lower case, the
declaring relay itself added, duplicates removed, sorted as strings (so every $ID comes
before every nickname). A relay that declares only itself declares no family
(get_my_declared_family). Malformed entries are dropped by a relay declaring its own
family; an authority keeps them verbatim in microdescriptors (nodefamily_canonicalize).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_NICKNAME = re.compile(r"[A-Za-z0-9]{1,19}\Z")
_HEXID = re.compile(r"\$?([0-9A-Fa-f]{40})(?:[=~][A-Za-z0-9]{1,19})?\Z")


def member_form(member: str) -> str | None:
    """The canonical form of one member, or None if it is neither ID nor nickname."""
    if _NICKNAME.match(member):
        return member.lower()
    match = _HEXID.match(member)
    return "$" + match.group(1).upper() if match else None


def canonical_family(members: Iterable[str], self_id: bytes,
                     keep_unrecognized: bool = True) -> tuple[str, ...]:
    """The family line's members for a relay with identity digest `self_id`."""
    out = {"$" + self_id.hex().upper()}
    for member in members:
        form = member_form(member)
        if form is not None:
            out.add(form)
        elif keep_unrecognized:
            out.add(member)
    return tuple(sorted(out))


def declared_family(members: Iterable[str], self_id: bytes, nickname: str
                    ) -> tuple[str, ...]:
    """What a relay puts on its own "family" line: () when it is alone."""
    others = [m for m in members if m.lower() != nickname.lower()]
    family = canonical_family(others, self_id, keep_unrecognized=False)
    return () if len(family) == 1 else family

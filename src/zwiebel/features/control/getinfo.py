"""The GETINFO key registry (control-spec 3.9) that features plug their answers into.

A provider is registered for an exact key (``version``) or for a prefix
(``ns/id/``, which then receives the whole key). It returns the value, None for
"no such key" (552 ``Unrecognized key``), or raises :class:`GetInfoError` for a
known key that cannot be answered now (551 with the message, as tor's
``handle_getinfo_helper`` failing). ``info/names`` is generated from the docs given
at registration, so the relay role's ``conn/*`` and ``info/relay/*`` keys appear
there as soon as that feature registers them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

#: Given the full key, the answer (or None if the key is not known).
Provider = Callable[[str], "str | None"]


class GetInfoError(Exception):
    """A recognised key whose answer is unavailable (tor: 551 with this message)."""


@dataclass(frozen=True)
class InfoKey:
    """One registered key or prefix with its documentation line."""

    key: str
    provider: Provider
    doc: str
    prefix: bool = False


class GetInfoRegistry:
    """Keys and prefixes with their providers; later registrations override earlier."""

    def __init__(self) -> None:
        self._exact: dict[str, InfoKey] = {}
        self._prefixes: dict[str, InfoKey] = {}

    def add(self, key: str, provider: Callable[[], str | None], doc: str) -> None:
        """Register an exact key whose provider takes no argument."""
        self._exact[key.lower()] = InfoKey(key, lambda _k: provider(), doc)

    def add_prefix(self, prefix: str, provider: Provider, doc: str) -> None:
        """Register every key starting with ``prefix`` (the provider gets the key)."""
        self._prefixes[prefix.lower()] = InfoKey(prefix, provider, doc, prefix=True)

    def lookup(self, key: str) -> str | None:
        """The answer for ``key``; None if unknown; GetInfoError if unavailable."""
        entry = self._exact.get(key.lower())
        if entry is not None:
            return entry.provider(key)
        for prefix in sorted(self._prefixes, key=len, reverse=True):
            if key.lower().startswith(prefix):
                return self._prefixes[prefix].provider(key)
        return None

    def names(self) -> str:
        """``info/names``: ``key -- doc`` lines, prefixes written as ``prefix*``."""
        entries = list(self._exact.values()) + list(self._prefixes.values())
        lines = [f"{e.key}{'*' if e.prefix else ''} -- {e.doc}" for e in entries]
        return "\n".join(sorted(lines, key=str.lower)) + "\n"

"""Readiness checks for a private network: what the directory says about it.

Reads only the router status lines of a consensus (dir-spec 3.4.1: ``r`` gives the
nickname and base64 RSA identity, ``s`` the flags), enough to decide whether every
relay of the network is listed Running (and Exit where expected). This is a test
tool's view, not a consensus parser: signatures and everything else are ignored
(zwiebel.netdoc does the real thing).
"""

from __future__ import annotations

import http.client
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from zwiebel.encoding import ParseError, b16, unb64
from zwiebel.testnet.layout import HOST

CONSENSUS_PATHS = {
    "ns": "/tor/status-vote/current/consensus",
    "microdesc": "/tor/status-vote/current/consensus-microdesc",
}


@dataclass(frozen=True)
class StatusEntry:
    """One relay in a consensus: nickname, RSA fingerprint (hex) and flags."""

    nickname: str
    fingerprint: str
    flags: frozenset[str]


def parse_status_entries(text: str) -> list[StatusEntry]:
    """The ``r``/``s`` pairs of a consensus or of GETINFO ns/all output."""
    entries: list[StatusEntry] = []
    current: tuple[str, str] | None = None
    for line in text.splitlines():
        if line.startswith("r "):
            if current is not None:
                entries.append(StatusEntry(current[0], current[1], frozenset()))
            current = _parse_r_line(line)
        elif line.startswith("s ") and current is not None:
            entries.append(StatusEntry(current[0], current[1], frozenset(line.split()[1:])))
            current = None
    if current is not None:
        entries.append(StatusEntry(current[0], current[1], frozenset()))
    return entries


def _parse_r_line(line: str) -> tuple[str, str]:
    parts = line.split()
    if len(parts) < 3:
        raise ParseError(f"short r line: {line!r}")
    identity = unb64(parts[2])
    if len(identity) != 20:
        raise ParseError(f"identity of {len(identity)} bytes in r line")
    return parts[1], b16(identity)


def missing_relays(entries: Iterable[StatusEntry],
                   wanted: Mapping[str, frozenset[str]]) -> list[str]:
    """Fingerprints in ``wanted`` that are absent or lack one of their wanted flags."""
    have = {e.fingerprint: e.flags for e in entries}
    return [fp for fp, flags in wanted.items() if fp not in have or not flags <= have[fp]]


def fetch_dir_document(dir_port: int, path: str, timeout: float = 5.0) -> str | None:
    """GET ``path`` from a DirPort on 127.0.0.1; None on 404 or a connection error."""
    conn = http.client.HTTPConnection(HOST, dir_port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()
    if resp.status != 200:
        return None
    return body.decode(errors="replace")


def fetch_consensus_entries(dir_port: int, flavor: str = "ns",
                            timeout: float = 5.0) -> list[StatusEntry] | None:
    """The status entries of an authority's current consensus, None if it has none yet."""
    text = fetch_dir_document(dir_port, CONSENSUS_PATHS[flavor], timeout)
    if text is None:
        return None
    try:
        return parse_status_entries(text)
    except ParseError:
        return None


def count_descriptors(desc_all_recent: str, md_all: str) -> tuple[int, int]:
    """How many server descriptors and microdescriptors GETINFO returned."""
    descs = ("\n" + desc_all_recent).count("\nrouter ")
    mds = ("\n" + md_all).count("\nntor-onion-key ")
    return descs, mds

"""Tor version strings as authorities order them (dir-spec 3.8, version voting).

The consensus "client-versions"/"server-versions" lists and each router's "v"
line are chosen over lists sorted with tor's version order
(tor_version_parse, tor_version_compare and compare_tor_version_str_ptr_ in
src/core/or/versions.c): strings that parse as versions come first, in version
order; the rest follow in byte order.

    "Tor " ? NUM dot NUM [ dot NUM [ ( pre | rc | dot ) NUM ] ] [ - tag ]
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from zwiebel.dirauth.consensus.tally import cmp_bytes

_NUM = re.compile(r"[0-9]+")
_INT32_MAX = 2**31 - 1
_STATUS_TAG_LEN = 32
_VER_PRE, _VER_RC, _VER_RELEASE = 0, 1, 2
_WHITESPACE = "\0# \r\n\t"

VersionKey = tuple[int, int, int, int, int, bytes, int, int, bytes]


class _Cursor:
    """A position in the version text with tor's NUMBER/DOT steps."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self, n: int = 1) -> str:
        return self.text[self.pos : self.pos + n]

    def number(self) -> int | None:
        match = _NUM.match(self.text, self.pos)
        if match is None or int(match.group()) > _INT32_MAX:
            return None
        self.pos = match.end()
        return int(match.group())

    def dot(self) -> bool:
        if self.peek() != ".":
            return False
        self.pos += 1
        return True


def _find_whitespace(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] not in _WHITESPACE:
        pos += 1
    return pos


def _eat_whitespace(text: str, pos: int) -> int:
    while pos < len(text):
        if text[pos] in " \t\n\r":
            pos += 1
        elif text[pos] == "#":
            while pos < len(text) and text[pos] != "\n":
                pos += 1
        else:
            break
    return pos


def _strtol_prefix(text: str) -> int:
    """strtol(text, 10) truncated to a C int: leading blanks, a sign, then digits."""
    match = re.match(r"[ \t\n\r\f\v]*([+-]?[0-9]+)", text)
    if match is None:
        return 0
    value = max(min(int(match.group(1)), 2**63 - 1), -(2**63))
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def _tail(text: str, pos: int) -> tuple[bytes, int, bytes] | None:
    """(status tag, svn revision, git tag) from the rest of the string."""
    if text[pos : pos + 1] in ("-", "."):
        pos += 1
    end = _find_whitespace(text, pos)
    tag = text[pos:] if end - pos >= _STATUS_TAG_LEN else text[pos:end]
    tag_bytes = tag.encode()[: _STATUS_TAG_LEN - 1]
    pos = _eat_whitespace(text, end)
    rest = text[pos:]
    if rest.startswith("(r"):
        return tag_bytes, _strtol_prefix(rest[2:]), b""
    if rest.startswith("(git-"):
        close = rest.find(")")
        hexpart = rest[5:close] if close >= 0 else ""
        if close < 0 or not hexpart or len(hexpart) > 40 or len(hexpart) % 2:
            return None
        if not re.fullmatch(r"[0-9a-fA-F]+", hexpart):
            return None
        return tag_bytes, 0, bytes.fromhex(hexpart)
    return tag_bytes, 0, b""


def parse_version(text: str) -> VersionKey | None:
    """tor_version_parse: a comparable key, or None if `text` is no tor version."""
    cur = _Cursor(text[4:] if text[:4].lower() == "tor " else text)
    major = cur.number()
    if major is None or not cur.dot():
        return None
    minor = cur.number()
    if minor is None:
        return None
    micro, status, patch = 0, _VER_RELEASE, 0
    if cur.peek() == "":
        return (major, minor, 0, _VER_RELEASE, 0, b"", 0, 0, b"")
    if cur.peek() != "-":
        parsed = _micro_and_patch(cur)
        if parsed is None:
            return None
        micro, status, patch = parsed
        if cur.pos >= len(cur.text) and status == -1:
            return (major, minor, micro, _VER_RELEASE, 0, b"", 0, 0, b"")
        status = _VER_RELEASE if status == -1 else status
    tail = _tail(cur.text, cur.pos)
    if tail is None:
        return None
    tag, svn, git = tail
    return (major, minor, micro, status, patch, tag, svn, len(git), git)


def _micro_and_patch(cur: _Cursor) -> tuple[int, int, int] | None:
    """DOT NUM(micro) then the status and patch level; status -1 means "ends here" or "-"."""
    if not cur.dot():
        return None
    micro = cur.number()
    if micro is None:
        return None
    nxt = cur.peek()
    if nxt in ("", "-"):
        return micro, -1, 0
    if nxt == ".":
        cur.pos += 1
        status = _VER_RELEASE
    elif cur.peek(3) == "pre":
        cur.pos += 3
        status = _VER_PRE
    elif cur.peek(2) == "rc":
        cur.pos += 2
        status = _VER_RC
    else:
        return None
    patch = cur.number()
    if patch is None:
        return None
    return micro, status, patch


def compare_versions(a: str, b: str) -> int:
    """compare_tor_version_str_ptr_: parsed versions first, in order; then strcmp."""
    ka, kb = parse_version(a), parse_version(b)
    if ka is not None and kb is not None:
        return (ka > kb) - (ka < kb)
    if ka is not None:
        return -1
    if kb is not None:
        return 1
    return cmp_bytes(a, b)


def sort_versions(versions: Sequence[str], remove_duplicates: bool = False) -> list[str]:
    """sort_version_list: version order; duplicates (comparing equal) dropped if asked."""
    ordered = sorted(versions, key=functools.cmp_to_key(compare_versions))
    if not remove_duplicates:
        return ordered
    out: list[str] = []
    for version in ordered:
        if not out or compare_versions(out[-1], version) != 0:
            out.append(version)
    return out

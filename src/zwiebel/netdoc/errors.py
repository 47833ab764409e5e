"""Errors for documents that parse but do not check out (signatures, validity times).

Malformed input is `zwiebel.encoding.ParseError`; a well-formed document whose
signatures or times are wrong is a `VerifyError`, so callers can tell "garbage" from
"forged or stale" (architecture habit 8: parse, then check).
"""

from __future__ import annotations


class VerifyError(Exception):
    """A parsed document failed a signature or validity check."""

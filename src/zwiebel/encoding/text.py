"""Text encodings used in directory documents and the control port (dir-spec 1.2)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from zwiebel.encoding.bytes import ParseError


def b16(data: bytes) -> str:
    """Upper-case hex, as tor prints fingerprints."""
    return data.hex().upper()


def unb16(text: str) -> bytes:
    """Decode hex (either case); a bad digit is a ParseError."""
    try:
        return bytes.fromhex(text)
    except ValueError as exc:
        raise ParseError(f"bad hex: {text[:40]!r}") from exc


def b64_nopad(data: bytes) -> str:
    """Base64 without trailing '=' (how tor writes digests and keys in documents)."""
    return base64.b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    """Decode base64 with or without padding, ignoring whitespace."""
    clean = "".join(text.split())
    clean += "=" * (-len(clean) % 4)
    try:
        return base64.b64decode(clean, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ParseError("bad base64") from exc


def decode_list(text: str, sep: str, decode: Callable[[str], bytes]) -> list[bytes]:
    """The well-formed keys of a list such as a directory URL's "D1+D2" or "D1-D2":
    empty and malformed parts are skipped, as tor's dir_split_resource_into_fingerprints
    drops what it cannot decode."""
    out = []
    for part in text.split(sep):
        if not part:
            continue
        try:
            out.append(decode(part))
        except ParseError:
            continue
    return out


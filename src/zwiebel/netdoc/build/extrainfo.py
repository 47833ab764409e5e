"""Building and signing an extra-info document (dir-spec 2.1.2) as tor 0.4.9.11 does.

``extrainfo_dump_to_string`` (src/feature/relay/router.c): "extra-info NICKNAME
FINGERPRINT", the signing-key certificate, "published", optional statistics lines, then
the same two signatures as a server descriptor (the Ed25519 one over SHA-256 of the
prefix and the text through "router-sig-ed25519 ", the RSA one over SHA-1 of the text
from "extra-info " through "router-signature\\n").

The server descriptor names this document in "extra-info-digest" by the SHA-1 of that
signed part and the SHA-256 of the whole text; `ExtraInfo` carries both. Statistics are
passed in as `HistoryLine`s ("write-history", "read-history", ...); an authority
refuses an upload over 50000 bytes (MAX_EXTRAINFO_UPLOAD_SIZE).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from zwiebel.crypto.digest import sha1, sha256
from zwiebel.crypto.keys import RsaPrivate
from zwiebel.netdoc.build.serverdesc import Ed25519Signer, format_time, sign_document
from zwiebel.netdoc.tokenizer import DocObject, format_item, signed_span

MAX_EXTRAINFO_UPLOAD_SIZE = 50000


@dataclass(frozen=True)
class HistoryLine:
    """One bandwidth-history item: "KEYWORD YYYY-MM-DD HH:MM:SS (NSEC s) V,V,...".

    dir-spec 2.1.2 "write-history"/"read-history" (and the dirreq and ipv6
    variants): bytes per interval, oldest first, the interval ending at `end`.
    """

    keyword: str
    end: datetime
    interval: int
    values: tuple[int, ...]

    def format(self) -> str:
        """The item's line."""
        counts = ",".join(str(v) for v in self.values)
        line = f"{self.keyword} {format_time(self.end)} ({self.interval} s)"
        return f"{line} {counts}\n" if counts else f"{line}\n"


@dataclass(frozen=True)
class ExtraInfo:
    """A signed extra-info document and the digests a server descriptor names it by."""

    text: str
    sha1_digest: bytes
    sha256_digest: bytes


def build_extrainfo(nickname: str, published: datetime, identity_cert: bytes,
                    identity: RsaPrivate, signing: Ed25519Signer,
                    history: tuple[HistoryLine, ...] = ()) -> ExtraInfo:
    """Build and sign the extra-info document."""
    fingerprint = identity.public().fingerprint().hex().upper()
    body = format_item("extra-info", (nickname, fingerprint))
    body += format_item("identity-ed25519", (), DocObject("ED25519 CERT", identity_cert))
    body += format_item("published", tuple(format_time(published).split()))
    body += "".join(h.format() for h in history)
    text = sign_document(body, identity, signing)
    if len(text.encode()) > MAX_EXTRAINFO_UPLOAD_SIZE:
        raise ValueError(f"extra-info is {len(text.encode())} bytes, over "
                         f"{MAX_EXTRAINFO_UPLOAD_SIZE}")
    signed = signed_span(text, "extra-info ", "\nrouter-signature", "\n")
    return ExtraInfo(text, sha1(signed.encode()), sha256(text.encode()))

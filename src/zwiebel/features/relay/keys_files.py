"""tor's key file formats in DataDirectory/keys, and owner-only atomic writes.

Two formats (tor 0.4.9.11):

* tagged data (``crypto_write_tagged_contents_to_file``, src/lib/crypt_ops/crypto_format.c):
  a 32-byte header, the NUL-padded text ``"== TYPE: TAG =="``, then the raw bytes.
  Ed25519 keys use type ``ed25519v1-secret`` (64-byte *expanded* key),
  ``ed25519v1-public`` (32 bytes) and ``ed25519v1-cert``, with tag ``type0`` for the
  master identity and ``type4`` for the signing key and its certificate; the ntor key is
  type ``c25519v1`` tag ``onion`` holding secret || public (``crypto_curve25519.c``);
* PEM "RSA PRIVATE KEY" (PKCS#1) for secret_id_key and secret_onion_key.

Files are written as tor writes them: to a temporary file in the same folder, mode
0600, then renamed over the target; the keys folder is 0700 (``create_keys_directory``).
"""

from __future__ import annotations

import os
from pathlib import Path

from zwiebel.encoding import ParseError

HEADER_LEN = 32

ED_SECRET = "ed25519v1-secret"
ED_PUBLIC = "ed25519v1-public"
ED_CERT = "ed25519v1-cert"
CURVE25519 = "c25519v1"


def encode_tagged(typestring: str, tag: str, data: bytes) -> bytes:
    """Header ``"== TYPE: TAG =="`` padded with NULs to 32 bytes, then `data`."""
    header = f"== {typestring}: {tag} ==".encode("ascii")
    if len(header) > HEADER_LEN - 1:
        raise ValueError("tagged-file header too long")
    return header.ljust(HEADER_LEN, b"\0") + data


def decode_tagged(content: bytes, typestring: str, length: int) -> tuple[str, bytes]:
    """(tag, data) of a tagged file of `typestring` whose data is exactly `length` bytes.

    Checks what ``crypto_read_tagged_contents_from_file`` checks: the "== " and " =="
    framing, NUL padding, the type and the ": " before the tag.
    """
    if len(content) != HEADER_LEN + length:
        raise ParseError(f"{typestring} file is {len(content)} bytes, not {HEADER_LEN + length}")
    text, _, padding = content[:HEADER_LEN].partition(b"\0")
    if padding.strip(b"\0") or not text.startswith(b"== ") or not text.endswith(b" =="):
        raise ParseError("malformed tagged-file header")
    prefix = f"== {typestring}: ".encode("ascii")
    if not text.startswith(prefix) or len(text) < len(prefix) + 3:
        raise ParseError(f"tagged file is not of type {typestring}")
    return text[len(prefix) : -3].decode("ascii", "replace"), content[HEADER_LEN:]


def make_private_dir(path: Path) -> None:
    """Create `path` (and parents) and make it 0700, as tor's check_private_dir does."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def write_private(path: Path, data: bytes) -> None:
    """Replace `path` with `data` atomically: 0600 temporary file, fsync, rename."""
    tmp = path.with_name(f"{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_optional(path: Path) -> bytes | None:
    """The file's bytes; None if it is missing or empty (tor treats both as absent)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    return data or None


def write_text_if_changed(path: Path, text: str) -> None:
    """tor's write_str_to_file_if_not_equal, with an owner-only atomic write."""
    try:
        if path.read_text(encoding="ascii") == text:
            return
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    write_private(path, text.encode("ascii"))

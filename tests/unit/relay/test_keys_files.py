"""tor's tagged key-file format (features.relay.keys_files; tor crypto_format.c).

The expected header bytes are those of files real tor 0.4.9.11 wrote
(`tor --list-fingerprint` in a fresh DataDirectory, see test_keys.py).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zwiebel.encoding import ParseError
from zwiebel.features.relay import keys_files as kf

HEADERS = {
    (kf.ED_SECRET, "type0"): b"== ed25519v1-secret: type0 ==\0\0\0",
    (kf.ED_PUBLIC, "type0"): b"== ed25519v1-public: type0 ==\0\0\0",
    (kf.ED_CERT, "type4"): b"== ed25519v1-cert: type4 ==\0\0\0\0\0",
    (kf.CURVE25519, "onion"): b"== c25519v1: onion ==" + b"\0" * 11,
}


@pytest.mark.parametrize(("kind", "header"), list(HEADERS.items()))
def test_headers_are_tors(kind: tuple[str, str], header: bytes) -> None:
    data = bytes(range(40))
    encoded = kf.encode_tagged(kind[0], kind[1], data)
    assert encoded == header + data
    assert kf.decode_tagged(encoded, kind[0], 40) == (kind[1], data)


def test_decode_rejects_wrong_type_length_and_framing() -> None:
    good = kf.encode_tagged(kf.ED_SECRET, "type0", b"k" * 64)
    with pytest.raises(ParseError):
        kf.decode_tagged(good, kf.ED_PUBLIC, 64)
    with pytest.raises(ParseError):
        kf.decode_tagged(good[:-1], kf.ED_SECRET, 64)
    with pytest.raises(ParseError):
        kf.decode_tagged(b"=! " + good[3:], kf.ED_SECRET, 64)
    with pytest.raises(ParseError):
        kf.decode_tagged(good[:31] + b"x" + good[32:], kf.ED_SECRET, 64)


@given(st.binary(max_size=120))
def test_random_bytes_raise_only_parse_error(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        kf.decode_tagged(data, kf.ED_SECRET, 64)


def test_write_private_is_owner_only_and_atomic(tmp_path: Path) -> None:
    target = tmp_path / "keys"
    kf.make_private_dir(target)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o700
    path = target / "secret"
    kf.write_private(path, b"one")
    kf.write_private(path, b"two")
    assert path.read_bytes() == b"two"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert sorted(p.name for p in target.iterdir()) == ["secret"]
    assert kf.read_optional(target / "missing") is None
    (target / "empty").write_bytes(b"")
    assert kf.read_optional(target / "empty") is None

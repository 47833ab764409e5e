"""tor's S2K password hash (crypto_s2k.c secret_to_key_rfc2440, main.c do_hash_password)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from zwiebel.app.s2k import (
    decode_hashed_password,
    hash_password,
    s2k_byte_count,
    secret_to_key_rfc2440,
    verify_hashed_password,
)

# Produced by `/usr/bin/tor --hash-password ...` (tor 0.4.9.11) on the build machine.
REAL_TOR_HASHES = [
    ("foo", "16:FA17726296B1F3E360C9F6E88349856F7FB305FDB2074B46825D41D663"),
    ("pw", "16:DB87C554C520703160F777C3C6127F69361E8984B130943E83F70FAEE2"),
    ("correct horse", "16:CF08604AFE6BC64660AA1D922D6C68106534B60D244706AAA0CD2C3305"),
]
TOR = shutil.which("tor") or "tor"


@pytest.mark.parametrize(("password", "hashed"), REAL_TOR_HASHES)
def test_hashes_made_by_real_tor_verify(password: str, hashed: str) -> None:
    assert verify_hashed_password(password.encode(), hashed)
    assert not verify_hashed_password(password.encode() + b"x", hashed)


@pytest.mark.parametrize(("password", "hashed"), REAL_TOR_HASHES)
def test_same_salt_reproduces_real_tor_hash(password: str, hashed: str) -> None:
    raw = decode_hashed_password(hashed)
    assert raw is not None and raw[8] == 0x60
    assert hash_password(password.encode(), raw[:8]) == hashed


def test_count_byte() -> None:
    assert s2k_byte_count(0x60) == 65536
    assert s2k_byte_count(0x00) == 1024
    assert s2k_byte_count(0xFF) == 31 << 21


def test_short_count_truncates_the_last_repetition() -> None:
    import hashlib

    spec = b"saltsalt" + bytes([0x00])
    unit = b"saltsalt" + b"p" * 1000
    assert secret_to_key_rfc2440(b"p" * 1000, spec) == hashlib.sha1((unit * 2)[:1024]).digest()


def test_malformed_hashes_do_not_verify() -> None:
    for bad in ("", "16:", "16:zz", "17:" + "00" * 29, "16:" + "00" * 28):
        assert not verify_hashed_password(b"foo", bad)
    with pytest.raises(ValueError):
        hash_password(b"x", b"short")


def test_fresh_hash_from_real_tor_verifies() -> None:
    out = subprocess.run([TOR, "--hash-password", "fresh one", "--quiet"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    assert verify_hashed_password(b"fresh one", out.strip().splitlines()[-1])


def _control_exchange(port: int, password: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(f'AUTHENTICATE "{password}"\r\nQUIT\r\n'.encode())
        data = b""
        while chunk := conn.recv(4096):
            data += chunk
    return data


def _wait_for_port_file(path: Path, deadline: float) -> int:
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return int(path.read_text().split(":")[-1])
        time.sleep(0.1)
    raise TimeoutError("tor did not write its control port file")


@pytest.mark.interop
def test_real_tor_accepts_our_hash(tmp_path: Path) -> None:
    hashed = hash_password(b"zwiebel secret", bytes(range(8)))
    port_file = tmp_path / "control.port"
    proc = subprocess.Popen(
        [TOR, "--DataDirectory", str(tmp_path / "data"), "--SocksPort", "0",
         "--DisableNetwork", "1", "--ControlPort", "127.0.0.1:auto",
         "--ControlPortWriteToFile", str(port_file), "--HashedControlPassword", hashed,
         "--Log", "err stderr", "--defaults-torrc", "/nonexistent", "-f", "/nonexistent",
         "--ignore-missing-torrc"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        port = _wait_for_port_file(port_file, time.monotonic() + 60)
        assert _control_exchange(port, "zwiebel secret").startswith(b"250 OK\r\n")
        assert _control_exchange(port, "wrong").startswith(b"515 ")
    finally:
        proc.terminate()
        proc.wait(timeout=30)

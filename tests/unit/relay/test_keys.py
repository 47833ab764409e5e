"""Relay keys in DataDirectory/keys (features.relay.keys), checked against real tor.

Vectors: a DataDirectory made by real tor 0.4.9.11 (`tor --list-fingerprint` in a
temporary folder, ORPort 127.0.0.1:23300, nothing listens); and the reverse, real tor
reading a keys folder Zwiebel made. Without /usr/bin/tor those tests are skipped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from zwiebel.app.main import list_fingerprint
from zwiebel.config import BUILTIN_OPTIONS, Registry, build_options, lex
from zwiebel.features.relay import keys_files as kf
from zwiebel.features.relay.keys import KeyFileError, RelayKeys, write_fingerprint_files

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
TOR = shutil.which("tor")
needs_tor = pytest.mark.skipif(TOR is None, reason="real tor is not installed")
KEY_FILES = ["ed25519_master_id_public_key", "ed25519_master_id_secret_key",
             "ed25519_signing_cert", "ed25519_signing_secret_key", "secret_id_key",
             "secret_onion_key", "secret_onion_key_ntor"]


def run_tor_list_fingerprint(data_dir: Path, nickname: str) -> str:
    """`tor --list-fingerprint` on `data_dir`: creates missing keys, prints the line."""
    assert TOR is not None
    data_dir.mkdir(mode=0o700, exist_ok=True)
    defaults = data_dir.parent / "defaults"
    defaults.touch()
    out = subprocess.run(
        [TOR, "-f", str(data_dir / "none"), "--ignore-missing-torrc", "--defaults-torrc",
         str(defaults), "--DataDirectory", str(data_dir), "--ORPort", "127.0.0.1:23300",
         "--Nickname", nickname, "--list-fingerprint", "--quiet"],
        capture_output=True, timeout=60, check=True)
    return out.stdout.decode().strip()


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def fresh(tmp_path: Path, now: dt.datetime = NOW) -> RelayKeys:
    return RelayKeys.load_or_create(tmp_path / "keys", now, os.urandom)


@pytest.fixture(scope="module")
def tor_datadir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    if TOR is None:
        pytest.skip("real tor is not installed")
    data_dir = tmp_path_factory.mktemp("tor") / "data"
    return data_dir, run_tor_list_fingerprint(data_dir, "TorMade")


@needs_tor
def test_keys_made_by_tor_keep_their_identities(tor_datadir: tuple[Path, str],
                                                tmp_path: Path) -> None:
    source, printed = tor_datadir
    copy = tmp_path / "data"
    shutil.copytree(source, copy)
    before = digests(copy / "keys")
    keys = RelayKeys.load_or_create(copy / "keys", dt.datetime.now(dt.UTC), os.urandom)
    assert printed == f"TorMade {keys.fingerprint_spaced}"
    assert (source / "fingerprint").read_text() == f"TorMade {keys.fingerprint_hex}\n"
    assert (source / "fingerprint-ed25519").read_text() == f"TorMade {keys.ed25519_b64}\n"
    assert digests(copy / "keys") == before
    assert keys.master_secret is not None
    assert keys.master_secret.public_bytes() == keys.master_id
    assert keys.signing_cert.signing_key == keys.master_id


@needs_tor
def test_tor_reads_keys_zwiebel_made(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    keys = RelayKeys.load_or_create(data_dir / "keys", dt.datetime.now(dt.UTC), os.urandom)
    before = digests(data_dir / "keys")
    assert run_tor_list_fingerprint(data_dir, "ZwMade") == f"ZwMade {keys.fingerprint_spaced}"
    assert (data_dir / "fingerprint-ed25519").read_text() == f"ZwMade {keys.ed25519_b64}\n"
    assert digests(data_dir / "keys") == before


def test_creates_every_file_owner_only(tmp_path: Path) -> None:
    keys = fresh(tmp_path)
    folder = tmp_path / "keys"
    assert sorted(p.name for p in folder.iterdir()) == KEY_FILES
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in folder.iterdir())
    assert (folder / "secret_id_key").read_bytes().startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    assert keys.signing_cert.expires == NOW + dt.timedelta(days=30)
    again = fresh(tmp_path, NOW + dt.timedelta(days=1))
    assert again.fingerprint == keys.fingerprint and again.master_id == keys.master_id
    assert again.signing.public_bytes() == keys.signing.public_bytes()
    assert again.ntor.public_bytes() == keys.ntor.public_bytes()
    assert again.onion_tap.public().der() == keys.onion_tap.public().der()


def test_signing_key_renewed_a_day_before_expiry(tmp_path: Path) -> None:
    keys = fresh(tmp_path)
    kept = fresh(tmp_path, NOW + dt.timedelta(days=28, hours=23))
    assert kept.signing.public_bytes() == keys.signing.public_bytes()
    renewed = fresh(tmp_path, NOW + dt.timedelta(days=29, hours=1))
    assert renewed.signing.public_bytes() != keys.signing.public_bytes()
    assert renewed.master_id == keys.master_id
    assert renewed.signing_cert.expires == NOW + dt.timedelta(days=59, hours=1)
    assert fresh(tmp_path, NOW + dt.timedelta(days=30)).signing_cert == renewed.signing_cert


def test_offline_master_key(tmp_path: Path) -> None:
    keys = fresh(tmp_path)
    (tmp_path / "keys" / "ed25519_master_id_secret_key").unlink()
    offline = fresh(tmp_path, NOW + dt.timedelta(days=2))
    assert offline.master_secret is None and offline.master_id == keys.master_id
    assert offline.signing_cert == keys.signing_cert
    with pytest.raises(KeyFileError):
        fresh(tmp_path, NOW + dt.timedelta(days=31))


def test_mismatched_or_wrong_files_are_errors(tmp_path: Path) -> None:
    fresh(tmp_path)
    folder = tmp_path / "keys"
    pub = folder / "ed25519_master_id_public_key"
    pub.write_bytes(kf.encode_tagged(kf.ED_PUBLIC, "type0", b"\1" * 32))
    with pytest.raises(KeyFileError, match="does not match"):
        fresh(tmp_path)
    pub.unlink()
    fresh(tmp_path)
    assert pub.exists()
    ntor = folder / "secret_onion_key_ntor"
    ntor.write_bytes(kf.encode_tagged(kf.CURVE25519, "other", ntor.read_bytes()[32:]))
    with pytest.raises(KeyFileError, match="Unexpected tag"):
        fresh(tmp_path)
    (folder / "secret_id_key").write_bytes(b"junk")
    with pytest.raises(KeyFileError):
        fresh(tmp_path)


def test_onion_key_rotation_and_expiry(tmp_path: Path) -> None:
    keys = fresh(tmp_path)
    folder = tmp_path / "keys"
    rotated = keys.rotate_onion_keys(folder, os.urandom)
    assert rotated.ntor_old is keys.ntor and rotated.onion_tap_old is keys.onion_tap
    assert rotated.ntor.public_bytes() != keys.ntor.public_bytes()
    reloaded = fresh(tmp_path)
    assert reloaded.ntor.public_bytes() == rotated.ntor.public_bytes()
    assert reloaded.ntor_old is not None and reloaded.onion_tap_old is not None
    assert reloaded.ntor_old.public_bytes() == keys.ntor.public_bytes()
    expired = reloaded.expire_old_onion_keys(folder)
    assert expired.ntor_old is None and expired.onion_tap_old is None
    assert not (folder / "secret_onion_key_ntor.old").exists()
    assert not (folder / "secret_onion_key.old").exists()


def test_fingerprint_files_and_list_fingerprint(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    keys = fresh(tmp_path)
    write_fingerprint_files(tmp_path, "Relay1", keys)
    assert (tmp_path / "fingerprint").read_text() == f"Relay1 {keys.fingerprint_hex}\n"
    assert stat.S_IMODE(os.stat(tmp_path / "fingerprint").st_mode) == 0o600
    registry = Registry(BUILTIN_OPTIONS)
    text = f"DataDirectory {tmp_path}\nORPort 9001\nNickname Relay1\n"
    assert list_fingerprint(build_options(lex(text, "t"), registry=registry)) == 0
    assert list_fingerprint(build_options(lex(text, "t"), registry=registry), "ed25519") == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"Relay1 {keys.fingerprint_spaced}", f"Relay1 {keys.ed25519_b64}"]
    client = build_options(lex(f"DataDirectory {tmp_path}\n", "t"), registry=registry)
    assert list_fingerprint(client) == 1

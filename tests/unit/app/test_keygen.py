"""``zwiebel keygen authority`` (zwiebel.app.keygen) and its dispatch from ``zwiebel``."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from zwiebel.app import keygen
from zwiebel.app.main import main
from zwiebel.dirauth.keys import CERT_FILE, IDENTITY_FILE, SIGNING_FILE, load_authority_keys


def test_keygen_authority_writes_keys_and_prints_v3ident(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys_dir = tmp_path / "data" / "keys"
    before = datetime.now(UTC).replace(microsecond=0)
    assert main(["keygen", "authority", "--months", "3", "--address", "127.0.0.1:27003",
                 str(keys_dir)]) == 0
    out = capsys.readouterr().out
    keys = load_authority_keys(keys_dir, datetime.now(UTC))
    assert out == f"v3ident={keys.v3ident.hex().upper()}\n"
    assert keys.identity is not None
    assert keys.cert.dir_address == ("127.0.0.1", 27003)
    assert before <= keys.cert.published <= datetime.now(UTC)
    months = (keys.cert.expires.year - keys.cert.published.year) * 12 + (
        keys.cert.expires.month - keys.cert.published.month)
    assert months in (3, 4)  # 4 only when the day overflowed into the next month
    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700
    for name in (IDENTITY_FILE, SIGNING_FILE, CERT_FILE):
        assert stat.S_IMODE((keys_dir / name).stat().st_mode) == 0o600


def test_keygen_refuses_to_overwrite_identity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / IDENTITY_FILE).write_text("keep me")
    assert main(["keygen", "authority", str(tmp_path)]) == 1
    assert (tmp_path / IDENTITY_FILE).read_text() == "keep me"
    assert "already exists" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [["authority", "--months", "25", "d"], ["authority", "--address", "nohost", "d"],
     ["authority", "--address", "1.2.3.4:99999", "d"], ["authority"]],
)
def test_keygen_bad_arguments(argv: list[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as info:
        keygen.main(argv)
    assert info.value.code == 2


def test_keygen_unknown_kind(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keygen", "relay", "x"]) == 2
    assert "usage: zwiebel keygen authority" in capsys.readouterr().err


def test_gencert_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.argv", ["zwiebel-gencert", "-m", "1", str(tmp_path)])
    assert keygen.gencert_main() == 0
    assert capsys.readouterr().out.startswith("v3ident=")
    assert (tmp_path / CERT_FILE).exists()

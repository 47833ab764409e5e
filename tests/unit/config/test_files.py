"""Disk layer: %include of files, folders (lexical order, no dotfiles) and globs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from zwiebel.config import ConfigError, atomic_write, read_torrc
from zwiebel.config.files import include_targets


def test_include_folder_in_lexical_order_skipping_dotfiles(tmp_path: Path) -> None:
    conf = tmp_path / "torrc.d"
    conf.mkdir()
    (conf / "20-b").write_text("B 2\n")
    (conf / "10-a").write_text("A 1\n")
    (conf / ".hidden").write_text("Hidden 1\n")
    (conf / "sub").mkdir()
    (conf / "sub" / "x").write_text("X 1\n")
    torrc = tmp_path / "torrc"
    torrc.write_text(f"First 0\n%include {conf}\nLast 9\n")
    assert [ln.key for ln in read_torrc(str(torrc))] == ["First", "A", "B", "Last"]


def test_include_glob_is_sorted(tmp_path: Path) -> None:
    for name in ("b.conf", "a.conf", "c.txt"):
        (tmp_path / name).write_text(f"K{name[0]} 1\n")
    assert include_targets(str(tmp_path / "*.conf")) == [
        str(tmp_path / "a.conf"), str(tmp_path / "b.conf"),
    ]


def test_include_of_missing_file_names_the_line(tmp_path: Path) -> None:
    torrc = tmp_path / "torrc"
    torrc.write_text("A 1\n%include /nonexistent/zwiebel\n")
    with pytest.raises(ConfigError) as info:
        read_torrc(str(torrc))
    assert info.value.where == f"{torrc}:2"


def test_unreadable_torrc(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Unable to open configuration file"):
        read_torrc(str(tmp_path / "missing"))


def test_atomic_write_replaces_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "torrc"
    target.write_text("old\n")
    atomic_write(str(target), "new\n")
    assert target.read_text() == "new\n"
    assert os.listdir(tmp_path) == ["torrc"]
    assert target.stat().st_mode & 0o777 == 0o600

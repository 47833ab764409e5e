"""The thin disk layer under the torrc lexer: reading files and ``%include`` targets,
and SAVECONF-style atomic writes.

``%include`` follows tor's ``config_get_file_list`` (``src/lib/fs/conffile.c``): a glob
pattern is expanded and sorted; a file is read; a directory contributes its regular
files in lexical order, skipping names that begin with a dot (no recursion).
Relative include paths are taken relative to the working directory, as in tor.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

from zwiebel.config.errors import ConfigError
from zwiebel.config.lexer import ConfigLine, lex


def _read_text(path: str) -> str:
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        return handle.read()


def include_targets(pattern: str) -> list[str]:
    """The files a ``%include`` of ``pattern`` reads, in tor's order."""
    paths = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
    files: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            for name in sorted(os.listdir(path)):
                full = os.path.join(path, name)
                if not name.startswith(".") and os.path.isfile(full):
                    files.append(full)
        elif os.path.isfile(path):
            files.append(path)
        else:
            raise OSError(f"No such file or directory: {path}")
    return files


def load_include(pattern: str) -> list[tuple[str, str]]:
    """The :data:`~zwiebel.config.lexer.IncludeLoader` that reads from disk."""
    return [(path, _read_text(path)) for path in include_targets(pattern)]


def read_torrc(path: str) -> list[ConfigLine]:
    """Lex the torrc at ``path`` (with its includes); ConfigError if unreadable."""
    try:
        text = _read_text(path)
    except OSError as exc:
        raise ConfigError(f'Unable to open configuration file "{path}".') from exc
    return lex(text, path, load_include)


def atomic_write(path: str, text: str) -> None:
    """Replace ``path`` with ``text``: temp file in the same folder, fsync, rename."""
    target = Path(path)
    tmp = target.with_name(f"{target.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)

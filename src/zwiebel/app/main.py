"""The ``zwiebel`` entry point: argv -> torrc -> validated options -> daemon.

Mirrors tor's ``tor_run_main``/``tor_init`` order (``src/app/main/main.c``): the
immediate commands (``--help``, ``--version``, ``--list-torrc-options``,
``--hash-password``) run before any torrc is read; otherwise the first notice lines
go to stdout, the configuration is read and validated, ``--verify-config``,
``--dump-config`` and ``--list-fingerprint`` answer and exit, and a normal start sets
up the configured logs and hands over to :func:`zwiebel.app.daemon.run` (imported
lazily so tests can replace it). ``zwiebel testnet ...`` is dispatched to
:mod:`zwiebel.testnet.cli`, ``zwiebel keygen ...`` to :mod:`zwiebel.app.keygen`.
"""

from __future__ import annotations

import importlib
import logging
import os
import platform
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from zwiebel import TOR_COMPAT_VERSION, __version__
from zwiebel.app.cli import Command, CommandLine, parse_command_line, torrc_domains
from zwiebel.app.logsetup import LOGGER_NAME, notice, setup_logging
from zwiebel.app.s2k import SALT_LEN, hash_password
from zwiebel.config import (
    DEFAULT_REGISTRY,
    ConfigError,
    Options,
    build_options,
    config_text,
    validate,
)

VERSION_LINE = f"Tor version {TOR_COMPAT_VERSION} (zwiebel-{__version__})."
USAGE = f"""Copyright (c) the Zwiebel authors; implements Tor {TOR_COMPAT_VERSION}.

zwiebel -f <torrc> [args]
See tor's manual page (man tor) for the options; Zwiebel supports a subset.
  -f, --torrc-file FILE       read the configuration from FILE
  --defaults-torrc FILE       read default option values from FILE
  --allow-missing-torrc       start even if the torrc is missing
  --verify-config             check the configuration and exit
  --dump-config [short|full]  print the configuration and exit
  --hash-password PASSWORD    print the S2K hash of PASSWORD for HashedControlPassword
  --list-fingerprint          print this relay's identity fingerprint
  --list-torrc-options        list the options Zwiebel accepts
  --version                   print the version and exit
  --quiet, --hush             log less at start-up
  zwiebel testnet ...         start a private test network
  zwiebel keygen authority [--months N] [--address IP:PORT] KEYS_DIR
                              make directory authority keys and certificate
"""


def _immediate(cmd: CommandLine) -> int | None:
    """Run a command that needs no torrc; None if ``cmd`` is not one."""
    if cmd.command is Command.HELP:
        print(USAGE, end="")
    elif cmd.command is Command.VERSION:
        print(VERSION_LINE)
    elif cmd.command is Command.LIST_TORRC_OPTIONS:
        for opt in DEFAULT_REGISTRY:
            if not opt.name.startswith("_"):
                print(opt.name)
    elif cmd.command is Command.HASH_PASSWORD:
        print(hash_password(cmd.command_arg.encode("utf-8"), os.urandom(SALT_LEN)))
    else:
        return None
    return 0


def load_options(cmd: CommandLine) -> tuple[Options, list[str]]:
    """Read torrc-defaults, torrc and the command line; validate; (options, warnings)."""
    domains, path = torrc_domains(cmd)
    if path is not None:
        notice('Read configuration file "%s".', path)
    else:
        notice("Configuration file not present, using reasonable defaults.")
    options = build_options(*domains, cmd.option_lines)
    return validate(options)


def list_fingerprint(options: Options, key_type: str = "") -> int:
    """``--list-fingerprint [rsa|ed25519]``: load (or create) the relay keys as tor's
    ``do_list_fingerprint`` does, write ``DataDirectory/fingerprint`` and
    ``fingerprint-ed25519``, and print ``Nickname FINGERPRINT`` (RSA in groups of four,
    or the base64 Ed25519 identity)."""
    from pathlib import Path

    from zwiebel.features.relay.keys import KeyFileError, RelayKeys, write_fingerprint_files

    log = logging.getLogger(LOGGER_NAME)
    if key_type not in ("", "rsa", "ed25519"):
        log.error("If you give a key type, you must specify 'rsa' or 'ed25519'. Exiting.")
        return 1
    if not options.or_ports:
        log.error("Clients don't have long-term identity keys. Exiting.")
        return 1
    data_dir = Path(str(options.data_directory)).expanduser()
    nickname = options.nickname or "Unnamed"
    try:
        keys = RelayKeys.load_or_create(data_dir / "keys", datetime.now(UTC), os.urandom)
        write_fingerprint_files(data_dir, nickname, keys)
    except (OSError, KeyFileError) as exc:
        log.error("Error initializing keys; exiting. (%s)", exc)
        return 1
    _note_v3ident(options, str(data_dir / "keys"))
    print(f"{nickname} {keys.ed25519_b64 if key_type == 'ed25519' else keys.fingerprint_spaced}")
    return 0


def _note_v3ident(options: Options, keys_dir: str) -> None:
    """On a directory authority with its certificate in place, log the v3ident a
    DirAuthority line needs (tor prints only the relay fingerprint; the standard
    output's last line stays exactly tor's)."""
    from pathlib import Path

    from zwiebel.features.dirauth.settings import is_authority
    from zwiebel.netdoc.authcert import parse_authority_cert

    cert = Path(keys_dir) / "authority_certificate"
    if not is_authority(options) or not cert.exists():
        return
    try:
        ident = parse_authority_cert(cert.read_text()).identity
    except (OSError, ValueError) as exc:
        logging.getLogger(LOGGER_NAME).warning("Cannot read %s: %s", cert, exc)
        return
    notice("Your directory authority's v3 identity (v3ident) is %s", ident.hex().upper())


def _after_config(cmd: CommandLine, options: Options) -> int:
    if cmd.command is Command.VERIFY_CONFIG:
        if cmd.quiet == 0:
            print("Configuration was valid")
        return 0
    if cmd.command is Command.DUMP_CONFIG:
        print(config_text(options), end="")
        return 0
    if cmd.command is Command.LIST_FINGERPRINT:
        return list_fingerprint(options)
    setup_logging(options.logs)
    daemon = importlib.import_module("zwiebel.app.daemon")
    result: int = daemon.run(options)
    return result


def _start_banner(cmd: CommandLine) -> None:
    setup_logging(())
    if cmd.quiet:
        logging.getLogger(LOGGER_NAME).setLevel(logging.WARNING if cmd.quiet == 1 else 100)
    notice(
        "Zwiebel %s (implementing Tor %s) running on %s with Python %s.",
        __version__, TOR_COMPAT_VERSION, platform.system(), platform.python_version(),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``zwiebel`` command; returns the process exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "testnet":
        testnet = importlib.import_module("zwiebel.testnet.cli")
        status: int = testnet.main(args[1:])
        return status
    if args and args[0] == "keygen":
        keygen = importlib.import_module("zwiebel.app.keygen")
        keygen_status: int = keygen.main(args[1:])
        return keygen_status
    log = logging.getLogger(LOGGER_NAME)
    try:
        cmd = parse_command_line(args)
    except ConfigError as exc:
        setup_logging(())
        log.warning("%s", exc)
        return 1
    immediate = _immediate(cmd)
    if immediate is not None:
        return immediate
    _start_banner(cmd)
    try:
        options, warnings = load_options(cmd)
    except ConfigError as exc:
        log.warning("Failed to parse/validate config: %s", exc)
        log.error("Reading config failed--see warnings above.")
        return 1
    for warning in warnings:
        log.warning("%s", warning)
    return _after_config(cmd, options)

"""The daemon: starts the configured roles in order and runs until a signal stops it.

Order, as tor: DataDirectory, bootstrap reporting, SocksPort listeners, directory
bootstrap (cache first), a first circuit (tor reports 100% once it can build one), then
the consensus refresh loop. Before the listeners open, the soft file-descriptor limit
is raised to the hard one (:mod:`zwiebel.runtime.limits`). Signals as tor's
``process_signal``: SIGTERM, and SIGINT on a client, exit at once; SIGINT on a relay
stops accepting and exits after ShutdownWaitLength (a second SIGINT exits at once);
SIGHUP reloads the torrc (:mod:`zwiebel.app.reload`); SIGUSR1 dumps statistics;
SIGUSR2 switches the logs to debug. Every exit saves the state file and returns 0.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from pathlib import Path

from zwiebel.app.cli import find_torrc, parse_command_line
from zwiebel.app.reload import build_timeout, path_restrictions, reload_daemon
from zwiebel.app.s2k import verify_hashed_password
from zwiebel.config import ConfigError, Options
from zwiebel.config.dirservers import fallback_directories, trusted_authorities
from zwiebel.features.client.socks_listener import SocksListener
from zwiebel.features.control import ControlFeature, HostInfo
from zwiebel.features.control.info_relay import (
    RelayView,
    install_connection_info,
    install_relay_info,
)
from zwiebel.features.control.signals import set_debug_logging
from zwiebel.features.dirauth import settings as dirauth_settings
from zwiebel.features.dirauth.service import AuthorityConfigError, AuthorityService
from zwiebel.features.relay.dirport import RelayDirPort
from zwiebel.features.relay.service import RelayConfigError, RelayService
from zwiebel.managers.bootstrap import BootstrapState, Phase
from zwiebel.managers.channels import ChannelManager
from zwiebel.managers.circuits import CircuitManager
from zwiebel.managers.conntrack import ConnTracker
from zwiebel.managers.directory import DirectoryError, DirectoryManager
from zwiebel.managers.events import EventBus, SignalEvent, StatusEvent, bootstrap_status
from zwiebel.runtime.circuit import CircuitError
from zwiebel.runtime.clock import monotonic
from zwiebel.runtime.eventloop import loop_factory
from zwiebel.runtime.limits import LimitError, install_accept_guard, raise_fd_limit
from zwiebel.socks import SocksOptions

log = logging.getLogger("zwiebel")
NOTICE = 25


class StartupError(Exception):
    """Something the operator must fix stops start-up (a port in use, a bad directory)."""


def run(options: Options) -> int:
    """Run until stopped; returns the exit status."""
    try:
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            return runner.run(_main(options))
    except KeyboardInterrupt:
        return 0
    except StartupError as exc:
        log.error("%s", exc)
        return 1


async def _main(options: Options) -> int:
    return await Daemon(options).run()


def config_file_from_argv() -> str | None:
    """The torrc this process was started with (GETINFO config-file, SAVECONF)."""
    try:
        path, _ = find_torrc(parse_command_line(sys.argv[1:]))
    except ConfigError:
        return None
    return path if path is not None and os.path.isfile(path) else None


def data_directory(options: Options) -> Path:
    """DataDirectory, or tor's default ~/.tor, created with mode 0700."""
    path = Path(options.data_directory or Path.home() / ".tor")
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise StartupError(f"Couldn't create DataDirectory {path}: {exc.strerror}") from exc
    return path


class Daemon:
    """The running Zwiebel process."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.data_dir = data_directory(options)
        self.events = EventBus()
        self.bootstrap = BootstrapState(on_change=self._bootstrap_changed)
        self.channels = ChannelManager(events=self.events)
        use_md = options.get("UseMicrodescriptors")
        self.directory = DirectoryManager(
            trusted_authorities(options), fallback_directories(options), self.data_dir,
            use_md is not False,
            self.channels, self.bootstrap,
        )
        self.circuits = CircuitManager(
            self.directory, self.channels, path_restrictions(options),
            self.data_dir / "state", self.bootstrap, build_timeout(options),
            float(options.get("MaxCircuitDirtiness")), bool(options.get("UseEntryGuards")),
            events=self.events,
        )
        self.circuits.guard_counts = (int(options.get("NumPrimaryGuards")),
                                      int(options.get("NumEntryGuards")))
        self.listeners: list[SocksListener] = []
        self.relay: RelayService | None = None
        self.authority: AuthorityService | None = None
        self.relay_dirport: RelayDirPort | None = None
        self.control: ControlFeature | None = None
        self.started_at = time.time()
        self.conntrack = ConnTracker(monotonic)
        self._stop = asyncio.Event()
        self._shutting_down = False

    async def run(self) -> int:
        """Start everything, wait for a signal, shut down."""
        self._install_signals()
        self._raise_limits()
        self._write_pid_file()
        self.bootstrap.announce()
        await self._start_listeners()
        await self._start_control()
        await self._start_relay()
        tasks = [asyncio.create_task(self._bootstrap_and_refresh())]
        await self._stop.wait()
        for task in tasks:
            task.cancel()
        if self.authority is not None:
            await self.authority.stop()
        if self.relay_dirport is not None:
            await self.relay_dirport.close()
        if self.relay is not None:
            await self.relay.stop()
        self.shutdown()
        return 0

    def _write_pid_file(self) -> None:
        """PidFile: our process id, removed again at exit (tor's write_pidfile)."""
        path = self.options.get("PidFile")
        if not path:
            return
        try:
            Path(path).write_text(f"{os.getpid()}\n")
        except OSError as exc:
            raise StartupError(f"Unable to write PidFile {path}: {exc.strerror}") from exc

    def _remove_pid_file(self) -> None:
        path = self.options.get("PidFile")
        if path:
            Path(path).unlink(missing_ok=True)

    async def _start_relay(self) -> None:
        """With an ORPort configured, run the relay role too."""
        if not self.options.or_ports:
            return
        try:
            self.relay = RelayService(self.options, self.data_dir, self.directory,
                                      self.channels)
            await self.relay.start()
            if self.control is not None:
                install_relay_info(self.control.service.registry, self.conntrack,
                                   RelayView(self.relay), lambda: self.options)
        except RelayConfigError as exc:
            raise StartupError(str(exc)) from exc
        except OSError as exc:
            raise StartupError(f"Could not open the ORPort: {exc.strerror}") from exc
        await self._start_directory_role(self.relay)

    async def _start_directory_role(self, relay: RelayService) -> None:
        """A directory authority, or a relay's DirPort if one is configured."""
        try:
            if dirauth_settings.is_authority(self.options):
                self.authority = AuthorityService(self.options, self.data_dir, relay,
                                                  self.channels)
                await self.authority.start()
                return
            spec = next((p for p in self.options.dir_ports if p.port and not p.no_listen),
                        None)
            if spec is not None:
                self.relay_dirport = RelayDirPort(relay.cache)
                await self.relay_dirport.start(spec.address or "127.0.0.1", spec.port)
        except AuthorityConfigError as exc:
            raise StartupError(str(exc)) from exc
        except OSError as exc:
            raise StartupError(f"Could not open the DirPort: {exc.strerror}") from exc

    def _raise_limits(self) -> None:
        """tor's set_max_file_descriptors, and one warning when accept() runs out."""
        try:
            raise_fd_limit(int(self.options.get("ConnLimit")))
        except LimitError as exc:
            raise StartupError(f"{exc} Problem with ConnLimit value.") from exc
        install_accept_guard(asyncio.get_running_loop())

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self._on_sigterm)
        loop.add_signal_handler(signal.SIGINT, self._on_sigint)
        for sig in (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
            loop.add_signal_handler(sig, self._on_info_signal, sig)

    def _on_sigterm(self) -> None:
        log.log(NOTICE, "Catching signal TERM, exiting cleanly.")
        self._stop.set()

    def _on_sigint(self) -> None:
        """A client exits now; a relay stops accepting and exits after
        ShutdownWaitLength (tor's hibernate_begin_shutdown)."""
        if self.relay is None:
            log.log(NOTICE, "Interrupt: exiting cleanly.")
            self._stop.set()
            return
        if self._shutting_down:
            log.log(NOTICE, "SIGINT received a second time; exiting now.")
            self._stop.set()
            return
        self._shutting_down = True
        wait = int(self.options.get("ShutdownWaitLength"))
        for listener in self.listeners:
            listener.close()
        self.relay.feature.stop_accepting()
        log.log(NOTICE, "Interrupt: we have stopped accepting new connections, and will "
                        "shut down in %d seconds. Interrupt again to exit now.", wait)
        asyncio.get_running_loop().call_later(wait, self._stop.set)

    def _on_info_signal(self, sig: int) -> None:
        """SIGHUP, SIGUSR1, SIGUSR2 as tor; each announced as a SIGNAL event."""
        if sig == signal.SIGHUP:
            self.reload_config()
            self.events.emit(SignalEvent("RELOAD"))
        elif sig == signal.SIGUSR1:
            self._dump_stats()
            self.events.emit(SignalEvent("DUMP"))
        else:
            set_debug_logging()
            self.events.emit(SignalEvent("DEBUG"))

    def _dump_stats(self) -> None:
        """SIGUSR1: tor's dumpstats, at info."""
        log.info("Dumping stats:")
        for channel in self.channels.channels():
            log.info("Channel %d to %s: %d bytes read, %d written, %d circuits.",
                     channel.conn_id, channel.describe(), channel.bytes_read,
                     channel.bytes_written, channel.circuit_count)
        log.info("%d client circuits open.", len(self.circuits.circuits))

    def reload_config(self) -> bool:
        """SIGHUP and SIGNAL RELOAD: re-read the torrc with the start-up command line."""
        return reload_daemon(self, sys.argv[1:])

    async def _start_listeners(self) -> None:
        socks = SocksOptions(
            safe_socks=bool(self.options.get("SafeSocks")),
            test_socks=bool(self.options.get("TestSocks")),
            safe_logging=str(self.options.get("SafeLogging")) != "0",
        )
        for spec in self.options.socks_ports:
            if spec.port == 0 and not spec.auto:
                continue
            listener = SocksListener(spec, self.circuits, socks,
                                     bool(self.options.get("ClientRejectInternalAddresses")))
            listener.tracker = self.conntrack
            try:
                await listener.start()
            except OSError as exc:
                where = f"{spec.address}:{spec.port}"
                raise StartupError(f"Could not bind to {where}: {exc.strerror}. "
                                   "Is Tor (or another Zwiebel) already running?") from exc
            self.listeners.append(listener)

    async def _start_control(self) -> None:
        if not self.options.control_ports:
            return
        info = HostInfo(config_file_from_argv(), self.started_at, verify_hashed_password)
        self.control = ControlFeature(self, info)
        try:
            await self.control.start()
            install_connection_info(self.control.service.registry, self.conntrack,
                                    self.started_at, self.channels)
        except OSError as exc:
            raise StartupError(f"Could not open the ControlPort: {exc.strerror}.") from exc

    def _bootstrap_changed(self, line: str) -> None:
        log.log(NOTICE, "%s", line)
        self.events.emit(bootstrap_status(self.bootstrap))
        if self.bootstrap.phase == Phase.DONE:
            self.events.emit(StatusEvent("CLIENT", "NOTICE", "CIRCUIT_ESTABLISHED"))

    def socks_addresses(self) -> list[str]:
        """``addr:port`` of every open SocksPort (GETINFO net/listeners/socks)."""
        return [f"{lst.spec.address or '127.0.0.1'}:{lst.port}" for lst in self.listeners]

    def request_stop(self) -> None:
        """Stop the daemon (SIGNAL SHUTDOWN/HALT, or the owning controller left)."""
        self._stop.set()

    async def _bootstrap_and_refresh(self) -> None:
        delay = 1.0
        while True:
            try:
                await self.directory.bootstrap()
                break
            except (DirectoryError, CircuitError, OSError, TimeoutError, ValueError) as exc:
                log.warning("Problem bootstrapping: %s. Retrying in %.0f s.", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        refresh = asyncio.create_task(self.directory.run_refresh_loop())
        try:
            await self._first_circuit()
            await refresh
        finally:
            refresh.cancel()

    async def _first_circuit(self) -> None:
        delay = 1.0
        while True:
            try:
                await self.circuits.build_exit_circuit(None, None, set())
                return
            except (CircuitError, OSError, TimeoutError) as exc:
                log.warning("Failed to build a first circuit: %s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    def shutdown(self) -> None:
        """Close listeners, circuits and channels; save state."""
        if self.control is not None:
            self.control.close()
        for listener in self.listeners:
            listener.close()
        self.circuits.close_all()
        self.channels.close_all()
        self.circuits.save_state()
        self._remove_pid_file()
        log.log(NOTICE, "Zwiebel %d exiting.", os.getpid())

"""Fixtures that run real tor (tests marked ``interop``).

* ``real_network``: 1 authority, 3 middles, 1 exit with the LOOPBACK exit policy,
  plus a real tor client (SocksPort 21000, ControlPort 21001). Base port 21000.
* ``real_network_open``: the same shape with the OPEN exit policy (``accept *:*``,
  so microdescriptor summaries show an exit) and no real tor client. Base port 21300.
  A separate network, because which exits exist and what their policies are is
  exactly what tests of the two modes assert; it starts only if a test asks.
* Each network's exits use a test nameserver (UDP 127.0.0.1, base port + 199) as their
  only resolver; it answers A queries for the names in ``DNS_NAMES``.
* ``http_server``: random files 1k.bin (1 KiB), 1m.bin (1 MiB), 10m.bin (10 MiB)
  on 127.0.0.1 with their SHA-256.

If tor is not installed, or the network does not come up, the fixtures FAIL with
the reason (and the tor logs); they never skip. A test that kills or stops a
node must start it again before it ends: the authority (AssumeReachable 1) keeps
listing a dead relay as Running, which would hurt later tests of the session.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.dns import DnsServer
from zwiebel.testnet.fileserver import FileServer
from zwiebel.testnet.keys import TorToolError
from zwiebel.testnet.layout import ExitPolicyMode
from zwiebel.testnet.ready import NetworkError
from zwiebel.testnet.realtor import RealTorNetwork

REAL_NETWORK_BASE_PORT = 21000
REAL_NETWORK_OPEN_BASE_PORT = 21300
#: Names the exits can resolve, and the addresses the test nameserver gives them.
DNS_NAMES = {"zwiebel.test": "127.0.0.1", "www.zwiebel.test": "127.0.0.42"}


def _report(config: pytest.Config, text: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(text)


def _run_network(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                 name: str, base_port: int, exit_policy: ExitPolicyMode,
                 with_client: bool) -> Iterator[RealTorNetwork]:
    dns = DnsServer(base_port + 199, DNS_NAMES)
    dns.start()
    request.addfinalizer(dns.stop)
    net = RealTorNetwork(tmp_path_factory.mktemp(name), base_port, authorities=1, middles=3,
                         exits=1, exit_policy=exit_policy, with_client=with_client,
                         dns_port=dns.port)
    try:
        net.start()
    except TorToolError as exc:
        pytest.fail(f"real tor is required for interop tests: {exc}", pytrace=False)
    except NetworkError as exc:
        pytest.fail(f"{name} did not come up: {exc}", pytrace=False)
    _report(request.config, f"\n{name}: bootstrap {net.bootstrap_seconds}s {net.timings} "
                            f"in {net.base_dir}")
    try:
        yield net
    finally:
        net.stop()


@pytest.fixture(scope="session")
def real_network(request: pytest.FixtureRequest,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealTorNetwork]:
    """Loopback-exit network with a real tor client, base port 21000."""
    yield from _run_network(request, tmp_path_factory, "real_network",
                            REAL_NETWORK_BASE_PORT, ExitPolicyMode.LOOPBACK, with_client=True)


@pytest.fixture(scope="session")
def real_network_open(request: pytest.FixtureRequest,
                      tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealTorNetwork]:
    """Open-exit network without a tor client, base port 21300."""
    yield from _run_network(request, tmp_path_factory, "real_network_open",
                            REAL_NETWORK_OPEN_BASE_PORT, ExitPolicyMode.OPEN, with_client=False)


@pytest.fixture(scope="session")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FileServer]:
    """Threaded HTTP server on 127.0.0.1 with random 1 KiB, 1 MiB and 10 MiB files."""
    with FileServer(tmp_path_factory.mktemp("http_files")) as server:
        yield server

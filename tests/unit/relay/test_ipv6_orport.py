"""An IPv6 ORPort next to the IPv4 one (tor.1 ORPort; dir-spec 2.1.1 "or-address"):
which ORPort lines a relay accepts, the descriptor's or-address line, and a Zwiebel
client channel and circuit over [::1] to a relay listening on both families."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import os
from pathlib import Path

import pytest

from zwiebel.config import BUILTIN_OPTIONS, Options, Registry, build_options, lex
from zwiebel.features.relay import RelayFeature, RelaySettings
from zwiebel.features.relay.descriptor import build_descriptors, inputs_from_options
from zwiebel.features.relay.keys import RelayKeys
from zwiebel.features.relay.service import RelayConfigError, listening_or_ports
from zwiebel.netdoc.policy import ExitPolicy
from zwiebel.runtime.channel import open_channel
from zwiebel.runtime.circuit import Circuit

REJECT_ALL = ExitPolicy.from_config(["reject *:*"])


def options(text: str) -> Options:
    return build_options(lex(text, "torrc"), registry=Registry(BUILTIN_OPTIONS))


def test_one_ipv4_and_one_ipv6_orport() -> None:
    v4, v6 = listening_or_ports(options("ORPort 127.0.0.1:9001\nORPort [::1]:9002\n"))
    assert (v4.address, v4.port) == ("127.0.0.1", 9001)
    assert v6 is not None and (v6.address, v6.port) == ("::1", 9002)
    v4, v6 = listening_or_ports(options("ORPort 9001\n"))
    assert (v4.address, v4.port, v6) == ("0.0.0.0", 9001, None)


@pytest.mark.parametrize("torrc", [
    "ORPort [::1]:9002\n",  # tor requires an IPv4 ORPort on a relay
    "ORPort 127.0.0.1:9001\nORPort 127.0.0.2:9003\n",
    "ORPort 127.0.0.1:9001\nORPort [::1]:9002\nORPort [::2]:9004\n",
])
def test_unsupported_orport_sets(torrc: str) -> None:
    with pytest.raises(RelayConfigError):
        listening_or_ports(options(torrc))


def test_or_address_line(tmp_path: Path) -> None:
    opts = options("Nickname zw6\nAddress 127.0.0.1\nORPort 127.0.0.1:9001\n"
                   "ORPort [::1]:9002\n")
    inputs = inputs_from_options(opts, REJECT_ALL)
    assert inputs.or_address_v6 == ("::1", 9002)
    keys = RelayKeys.load_or_create(tmp_path / "keys", dt.datetime.now(dt.UTC), os.urandom)
    descs = build_descriptors(keys, inputs, dt.datetime.now(dt.UTC))
    assert "\nor-address [::1]:9002\n" in descs.server
    assert descs.parsed.or_addresses == (("::1", 9002),)


def test_or_address_from_an_ipv6_address_option() -> None:
    """ORPort [::]:PORT listens everywhere; the advertised address is the IPv6 Address."""
    opts = options("Address 127.0.0.1\nAddress [2001:db8::5]\nORPort 127.0.0.1:9001\n"
                   "ORPort [::]:9002\n")
    assert inputs_from_options(opts, REJECT_ALL).or_address_v6 == ("2001:db8::5", 9002)
    assert inputs_from_options(options("ORPort 127.0.0.1:9001\nORPort [::]:9002\n"),
                               REJECT_ALL).or_address_v6 is None
    assert inputs_from_options(options("ORPort 127.0.0.1:9001\n"
                                       "ORPort [::1]:9002 NoAdvertise\n"),
                               REJECT_ALL).or_address_v6 is None


def test_channel_and_circuit_over_ipv6(tmp_path: Path) -> None:
    keys = RelayKeys.load_or_create(tmp_path / "keys", dt.datetime.now(dt.UTC), os.urandom)
    settings = RelaySettings("127.0.0.1", 0, (ipaddress.IPv4Address("127.0.0.1"),
                                              ipaddress.IPv6Address("::1")),
                             extra_listeners=(("::1", 0),))
    relay = RelayFeature(lambda: keys, settings)

    async def run() -> None:
        await relay.start()
        try:
            (host4, port4), (host6, port6) = relay.listening()
            assert (host4, host6) == ("127.0.0.1", "::1") and port4 == relay.or_port
            assert relay.statistics()["listeners"] == [f"127.0.0.1:{port4}", f"[::1]:{port6}"]
            channels = [await open_channel(host, port, keys.fingerprint)
                        for host, port in ((host6, port6), (host4, port4))]
            for channel in channels:
                circuit = Circuit(channel, 1)
                await circuit.create(None, 10)
                circuit.close("done")
            stats = relay.statistics()["connections"]
            assert isinstance(stats, list)
            peers = sorted(c["peer"].rsplit(":", 1)[0] for c in stats)
            assert peers == ["127.0.0.1", "::1"]
            for channel in channels:
                channel.close()
        finally:
            await relay.stop()
        assert relay.listening() == []

    asyncio.run(run())

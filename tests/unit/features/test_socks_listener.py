"""ClientRejectInternalAddresses: which SOCKS targets tor refuses by default."""

import pytest

from zwiebel.features.client.socks_listener import is_internal_target


@pytest.mark.parametrize("target", ["127.0.0.1", "10.1.2.3", "192.168.0.1", "172.16.5.4",
                                    "169.254.1.1", "0.0.0.0", "::1", "fe80::1", "localhost",
                                    "printer.local"])
def test_internal_targets(target: str) -> None:
    assert is_internal_target(target)


@pytest.mark.parametrize("target", ["93.184.216.34", "2a00:1450::1",
                                    "example.com", "localhost.example.com"])
def test_public_targets(target: str) -> None:
    assert not is_internal_target(target)

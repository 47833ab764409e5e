"""GETINFO keys about addresses (control-spec 3.9): ``address-mappings/*`` from the
client's address map and ``ip-to-country/*`` from the configured GeoIP files.

tor's categories: ``all`` lists every mapping, ``control`` those a controller made
(including virtual addresses), ``config`` those from MapAddress lines and ``cache``
cached DNS answers; Zwiebel has neither of the last two, so they are empty.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from pathlib import Path

from zwiebel.control.geoip import GeoIPTable, parse_geoip
from zwiebel.features.control.getinfo import GetInfoError, GetInfoRegistry
from zwiebel.features.control.host import ControlHost

log = logging.getLogger("zwiebel")


class AddressInfo:
    """Answers address-mappings/* and ip-to-country/*."""

    def __init__(self, host: ControlHost) -> None:
        self.host = host
        self._loaded: dict[str, tuple[str, GeoIPTable]] = {}

    def register(self, reg: GetInfoRegistry) -> None:
        """Add the keys."""
        for kind, doc in (("all", "Current address mappings."),
                          ("cache", "Current cached DNS replies."),
                          ("config", "Current address mappings from configuration."),
                          ("control", "Current address mappings from controller.")):
            reg.add(f"address-mappings/{kind}", self._mappings(kind), doc)
        reg.add_prefix("ip-to-country/", self.country, "Perform a GEOIP lookup")

    def _mappings(self, kind: str) -> Callable[[], str]:
        def answer() -> str:
            if kind in ("cache", "config"):
                return ""
            return "\r\n".join(self.host.circuits.addressmap.lines())
        return answer

    def country(self, key: str) -> str:
        """ip-to-country/ADDR, ip-to-country/ipv4-available, .../ipv6-available."""
        question = key[len("ip-to-country/"):]
        if question in ("ipv4-available", "ipv6-available"):
            return "1" if self._table(question == "ipv6-available") else "0"
        try:
            address = ipaddress.ip_address(question.strip("[]"))
        except ValueError:
            raise GetInfoError("Invalid address family") from None
        table = self._table(address.version == 6)
        if table is None:
            raise GetInfoError("GeoIP data not loaded")
        return table.country(int(address))

    def _table(self, ipv6: bool) -> GeoIPTable | None:
        option = "GeoIPv6File" if ipv6 else "GeoIPFile"
        path = self.host.options.get(option)
        if not path:
            return None
        cached = self._loaded.get(option)
        if cached is not None and cached[0] == str(path):
            return cached[1]
        try:
            text = Path(str(path)).expanduser().read_text(encoding="ascii", errors="replace")
        except OSError as exc:
            log.warning("Failed to open GEOIP file %s: %s", path, exc)
            return None
        table = parse_geoip(text, ipv6)
        for line in table.bad_lines[:5]:
            log.warning("Unable to parse line from GEOIP %s file: %s",
                        "IPv6" if ipv6 else "IPv4", line)
        self._loaded[option] = (str(path), table)
        return table

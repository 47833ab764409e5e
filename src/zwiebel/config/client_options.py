"""Client options: SOCKS, directory servers, path restrictions, circuit timing.

Types and defaults from tor 0.4.9.11 (``doc/man/tor.1.txt``, ``config.c``).
ConnectionPadding is accepted and stored; Zwiebel's channels do not send padding
cells yet, so only its value is honoured by whoever reads it.
"""

from __future__ import annotations

from zwiebel.config.authorities import resolve_authorities, resolve_fallbacks
from zwiebel.config.ports import resolve_socks_ports
from zwiebel.config.registry import Kind, OptionDef

CLIENT_OPTIONS: tuple[OptionDef, ...] = (
    OptionDef("SocksPort", Kind.PORT, None, "SOCKS listeners (default 127.0.0.1:9050).",
              attr="socks_ports", resolve=resolve_socks_ports),
    OptionDef("DirAuthority", Kind.LINELIST, None, "Directory authorities.",
              attr="dir_authorities", resolve=resolve_authorities, aliases=("DirServer",)),
    OptionDef("AlternateDirAuthority", Kind.LINELIST, None, "Extra v3 authorities.",
              attr="alternate_dir_authorities", resolve=resolve_authorities),
    OptionDef("AlternateBridgeAuthority", Kind.LINELIST, None, "Bridge authorities.",
              attr="alternate_bridge_authorities", resolve=resolve_authorities),
    OptionDef("FallbackDir", Kind.LINELIST, None, "Fallback directory mirrors.",
              attr="fallback_dirs", resolve=resolve_fallbacks),
    OptionDef("UseDefaultFallbackDirs", Kind.BOOLEAN, "1", "Use the built-in fallbacks."),
    OptionDef("TestingTorNetwork", Kind.BOOLEAN, "0", "Private test network defaults."),
    OptionDef("EntryNodes", Kind.ROUTERSET, None, "Allowed first hops.",
              aliases=("EntryNode",)),
    OptionDef("ExitNodes", Kind.ROUTERSET, None, "Allowed last hops."),
    OptionDef("MiddleNodes", Kind.ROUTERSET, None, "Allowed middle hops."),
    OptionDef("ExcludeNodes", Kind.ROUTERSET, None, "Never use these relays.",
              aliases=("ExcludeNode",)),
    OptionDef("ExcludeExitNodes", Kind.ROUTERSET, None, "Never exit through these."),
    OptionDef("StrictNodes", Kind.BOOLEAN, "0", "Treat ExcludeNodes as a requirement.",
              aliases=("StrictNode",)),
    OptionDef("UseEntryGuards", Kind.BOOLEAN, "1", "Use entry guards.",
              aliases=("UseHelperNodes", "UseEntryNodes")),
    OptionDef("NumEntryGuards", Kind.POSINT, "0", "Guards to use (0: consensus).",
              aliases=("NumHelperNodes", "NumEntryNodes")),
    OptionDef("NumPrimaryGuards", Kind.POSINT, "0", "Primary guards (0: consensus)."),
    OptionDef("SafeSocks", Kind.BOOLEAN, "0", "Refuse SOCKS requests with IP addresses."),
    OptionDef("TestSocks", Kind.BOOLEAN, "0", "Log whether SOCKS requests were safe."),
    OptionDef("CircuitBuildTimeout", Kind.INTERVAL, "0", "Fixed build timeout."),
    OptionDef("LearnCircuitBuildTimeout", Kind.BOOLEAN, "1", "Adaptive build timeout."),
    OptionDef("MaxCircuitDirtiness", Kind.INTERVAL, "10 minutes", "Reuse circuits this long."),
    OptionDef("NewCircuitPeriod", Kind.INTERVAL, "30 seconds", "Consider new circuits."),
    OptionDef("UseMicrodescriptors", Kind.AUTOBOOL, "auto", "Fetch microdescriptors."),
    OptionDef("ClientUseIPv4", Kind.BOOLEAN, "1", "Connect to relays over IPv4."),
    OptionDef("ClientUseIPv6", Kind.BOOLEAN, "1", "Connect to relays over IPv6."),
    OptionDef("ConnectionPadding", Kind.AUTOBOOL, "auto", "Channel padding (stored only)."),
    OptionDef("ClientOnly", Kind.BOOLEAN, "0", "Never become a relay."),
    OptionDef("__LeaveStreamsUnattached", Kind.BOOLEAN, "0",
              "New streams wait for a controller's ATTACHSTREAM."),
    OptionDef("GeoIPFile", Kind.FILENAME, None, "IPv4 GeoIP database (GETINFO ip-to-country)."),
    OptionDef("GeoIPv6File", Kind.FILENAME, None, "IPv6 GeoIP database."),
)

"""tor's SOCKS log and controller-status texts, worded as in tor 0.4.9.11.

Source: `log_unsafe_socks_warning`, `process_socks4_request`,
`process_socks5_client_request` and `parse_socks` in src/core/proto/proto_socks.c;
`esc_for_log` in src/lib/log/escape.c. tor rate-limits the unsafe warning to once per
5 seconds unless SafeSocks or TestSocks is set; rate limiting is left to the logger.
"""

from __future__ import annotations

FAQ_URL = (
    "https://2019.www.torproject.org/docs/faq.html.en#WarningsAboutSOCKSandDNSInformationLeaks."
)


def unsafe_socks_warning(version: int, port: int, safe_socks: bool) -> str:
    """The "giving Tor only an IP address" warning (SafeSocks adds " Rejecting.")."""
    return (
        f"Your application (using socks{version} to port {port}) is giving "
        "Tor only an IP address. Applications that do DNS resolves "
        "themselves may leak information. Consider using Socks4A "
        "(e.g. via privoxy or socat) instead. For more information, "
        f"please see {FAQ_URL}" + (" Rejecting." if safe_socks else "")
    )


def dangerous_socks_status(version: int, address: str, port: int) -> str:
    """Body of the STATUS_CLIENT DANGEROUS_SOCKS event."""
    return f"DANGEROUS_SOCKS PROTOCOL=SOCKS{version} ADDRESS={address}:{port}"


def good_socks_notice(protocol: str, port: int) -> str:
    """TestSocks notice for requests that let tor resolve the name."""
    return (
        f"Your application (using {protocol} to port {port}) instructed "
        "Tor to take care of the DNS resolution itself if "
        "necessary. This is good."
    )


def malformed_hostname_warning(version: int, port: int, shown_address: str) -> str:
    """Warning for a hostname that fails tor's destination syntax check."""
    return (
        f"Your application (using socks{version} to port {port}) gave Tor "
        f"a malformed hostname: {shown_address}. Rejecting the connection."
    )


def unknown_version_warning(first_byte: int) -> str:
    """Warning for a first byte that is neither 4, 5 nor 1."""
    return (
        f"Socks version {first_byte} not recognized. (This port is not an "
        "HTTP proxy; did you want to use HTTPTunnelPort?)"
    )


def unknown_protocol_status(data: bytes) -> str:
    """STATUS_CLIENT SOCKS_UNKNOWN_PROTOCOL: first 8 bytes, up to a NUL, escaped.

    tor puts the already-quoted escaped string inside another pair of quotes.
    """
    head = data[:8].split(b"\x00", 1)[0]
    return f'SOCKS_UNKNOWN_PROTOCOL DATA="{esc_for_log(head)}"'


_ESCAPES = {0x5C: "\\\\", 0x22: '\\"', 0x27: "\\'", 0x0A: "\\n", 0x09: "\\t", 0x0D: "\\r"}


def esc_for_log(data: bytes) -> str:
    """tor's esc_for_log: quoted, C escapes, octal for non-printable bytes."""
    parts = []
    for byte in data:
        if byte in _ESCAPES:
            parts.append(_ESCAPES[byte])
        elif 0x20 <= byte < 0x7F:
            parts.append(chr(byte))
        else:
            parts.append(f"\\{byte:03o}")
    return '"' + "".join(parts) + '"'

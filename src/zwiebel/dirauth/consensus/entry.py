"""Writing one consensus router entry (dir-spec 3.4.1 and 3.9).

The text tor writes for a router in networkstatus_compute_consensus
(src/feature/dirauth/dirvote.c) with routerstatus_format_entry
(src/feature/nodelist/fmt_routerstatus.c):

    r <nickname> <identity> [<descriptor digest>] <published> <IPv4> <ORPort> <DirPort>
    a [<IPv6>]:<port>                 (if agreed)
    m <microdesc digest>              (microdesc flavor)
    s <flags>
    v <version>                       (if any)
    pr <protocols>                    (if any)
    w Bandwidth=<kB/s>[ Unmeasured=1]
    p <policy summary>                (ns flavor)

The microdesc flavor omits the descriptor digest, and from consensus method 33
writes "2038-01-01 00:00:00" as published; a router with no agreed microdescriptor
is left out of it.
"""

from __future__ import annotations

import base64
import ipaddress
from typing import Literal

from zwiebel.dirauth.consensus.method import MIN_METHOD_TO_SUPPRESS_MD_PUBLISHED
from zwiebel.dirauth.consensus.routers import RouterOutcome
from zwiebel.dirauth.consensus.tally import int32

Flavor = Literal["ns", "microdesc"]
SUPPRESSED_PUBLISHED = "2038-01-01 00:00:00"


def b64_digest(data: bytes) -> str:
    """Base64 without padding, as tor writes digests."""
    return base64.b64encode(data).decode().rstrip("=")


def ipv6_text(packed: bytes) -> str:
    """tor_inet_ntop for IPv6 (src/lib/net/inaddr.c), including its IPv4 forms."""
    words = [int.from_bytes(packed[i : i + 2], "big") for i in range(0, 16, 2)]
    dotted = ".".join(str(b) for b in packed[12:])
    if words[:5] == [0] * 5 and ((words[5] == 0 and words[6] and words[7]) or words[5] == 0xFFFF):
        return f"::{dotted}" if words[5] == 0 else f"::{words[5]:x}:{dotted}"
    gap_pos, gap_len, i = -1, 0, 0
    while i < 8:
        if words[i] == 0:
            start = i
            while i < 8 and words[i] == 0:
                i += 1
            if i - start > gap_len:
                gap_pos, gap_len = start, i - start
        else:
            i += 1
    if gap_len <= 1:
        gap_pos = -1
    out, i = "", 0
    while i < 8:
        if i == gap_pos:
            out += "::" if i == 0 else ":"
            i += gap_len
            continue
        out += f"{words[i]:x}" + (":" if i != 7 else "")
        i += 1
    return out


def _r_line(o: RouterOutcome, flavor: Flavor, method: int) -> str:
    rs = o.winner.status
    if flavor == "microdesc" and method >= MIN_METHOD_TO_SUPPRESS_MD_PUBLISHED:
        published = SUPPRESSED_PUBLISHED
    else:
        published = rs.published.strftime("%Y-%m-%d %H:%M:%S")
    digest = "" if flavor == "microdesc" else b64_digest(rs.descriptor_digest) + " "
    address = str(ipaddress.IPv4Address(rs.address))
    return (
        f"r {o.nickname} {b64_digest(rs.identity)} {digest}{published} {address} "
        f"{rs.or_port} {rs.dir_port}\n"
    )


def format_entry(o: RouterOutcome, flavor: Flavor, method: int) -> str | None:
    """The entry's text, or None if the microdesc flavor leaves the router out."""
    microdesc = o.winner.microdesc
    if flavor == "microdesc" and (microdesc is None or not any(microdesc)):
        return None
    out = [_r_line(o, flavor, method)]
    if o.winner.ipv6_orport is not None:
        packed, port = o.winner.ipv6_orport
        out.append(f"a [{ipv6_text(packed)}]:{port}\n")
    if flavor == "microdesc" and microdesc is not None:
        out.append(f"m {b64_digest(microdesc)}\n")
    out.append("s" + (" " if o.flags else "") + " ".join(o.flags))
    if o.version is not None:
        out.append(f"\nv {o.version}")
    out.append("\n")
    if o.protocols is not None:
        out.append(f"pr {o.protocols}\n")
    if o.bandwidth is not None:
        unmeasured = " Unmeasured=1" if o.unmeasured else ""
        out.append(f"w Bandwidth={int32(o.bandwidth)}{unmeasured}\n")
    if flavor == "ns" and o.policy_summary is not None:
        out.append(f"p {o.policy_summary}\n")
    return "".join(out)
